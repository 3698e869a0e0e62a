/*
 * reclaim.c -- memory pressure: the replacement policy seam, watermarks,
 * resident_limit, eviction through the reverse map, and the allocator
 * that ties them to the OOM killer (mm/vmscan.c, mm/page_alloc.c,
 * mm/memcontrol.c in spirit).
 *
 * Every user page (anonymous, page cache, shmem, swap cache) is admitted
 * to the policy while it is on an LRU list. An allocation first keeps the
 * machine within its limits: while free memory is at or below the min
 * watermark, background reclaim ("kswapd") takes pages until free memory
 * reaches the high watermark; while resident user pages are at
 * resident_limit, the limit's reclaim (a memory cgroup's) takes one page.
 * When nothing can be taken, the OOM killer runs.
 */
#include "internal.h"
#include "policy/policy_internal.h"
#include "vmsim/policy.h"

struct vmsim_policy_ctx {
    struct vmsim *sim;
};

/* ---- the context the policies query ------------------------------------- */

static struct vmsim__frame *ctx_frame(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    return pfn_frame(ctx->sim, pfn);
}

bool vmsim_frame_is_pinned(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct vmsim *sim = ctx->sim;
    const struct vmsim__frame *f = ctx_frame(ctx, pfn);

    if (pfn == sim->fault_pin[0] || pfn == sim->fault_pin[1])
        return true;
    /* swap-backed pages need a slot, unless they already have one */
    if ((f->flags & PG_SHMEM) || ((f->flags & PG_ANON) && !(f->flags & PG_SWAPCACHE)))
        return !vmsim__swap_available(sim);
    return false;
}

static int clear_young(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                       vmsim_vaddr_t va, pte_t *pte, void *arg)
{
    (void)sim, (void)p, (void)vma, (void)va;
    if (*pte & PTE_A) {
        *pte &= ~PTE_A;
        *(bool *)arg = true;
    }
    return 0;
}

/*
 * The one entry that maps pfn, an anonymous 4 KiB page mapped once, and
 * its process: the rmap walk's only visit, without the walk (reclaim's
 * walk cache, then the tables). NULL when it is not found there, or the
 * page is not such a page; the caller then walks.
 */
static inline __attribute__((always_inline)) pte_t *
anon_single_pte(struct vmsim *sim, vmsim_pfn_t pfn, struct vmsim__proc **owner)
{
    const struct vmsim__frame *f = pfn_frame(sim, pfn);
    vmsim_vaddr_t va = f->index << PAGE_SHIFT;

    if ((f->flags & (PG_ANON | PG_HEAD | PG_TAIL)) != PG_ANON || f->mapcount != 1 ||
        sim->slow_paths)
        return NULL;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        struct vmsim__proc *p = sim->procs[i];
        pte_t *e;
        int level;

        if (p->mm == NULL)
            continue;
        e = pt_lookup_cached(sim, p->mm, &p->mm->wc_reclaim, va, &level);
        if (e != NULL && level == 0 && pte_present(*e) && !pte_special(*e) &&
            pte_pfn(*e) == pfn) {
            *owner = p;
            return e;
        }
    }
    return NULL;
}

/* The rmap walk of vmsim_frame_test_and_clear_accessed(), out of line:
 * the common case then needs no stack frame. */
__attribute__((noinline)) static bool test_and_clear_young_walk(struct vmsim *sim,
                                                               vmsim_pfn_t pfn)
{
    bool young = false;

    vmsim__rmap_walk(sim, pfn, clear_young, &young);
    return young;
}

bool vmsim_frame_test_and_clear_accessed(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct vmsim__proc *p;
    pte_t *e = anon_single_pte(ctx->sim, pfn, &p);
    bool young;

    if (e == NULL)
        return test_and_clear_young_walk(ctx->sim, pfn);
    young = (*e & PTE_A) != 0;
    *e &= ~PTE_A;
    return young;
}

static int test_dirty(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                      vmsim_vaddr_t va, pte_t *pte, void *arg)
{
    (void)sim, (void)p, (void)vma, (void)va;
    if (*pte & PTE_D) {
        *(bool *)arg = true;
        return 1;
    }
    return 0;
}

bool vmsim_frame_is_dirty(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    const struct vmsim__frame *f = ctx_frame(ctx, pfn);
    bool dirty = (f->flags & PG_DIRTY) != 0;

    /* an anonymous page not yet in swap has never been written out */
    if ((f->flags & PG_ANON) && !(f->flags & PG_SWAPCACHE))
        return true;
    if (!dirty)
        vmsim__rmap_walk(ctx->sim, pfn, test_dirty, &dirty);
    return dirty;
}

bool vmsim_frame_is_anon(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    return (ctx_frame(ctx, pfn)->flags & (PG_ANON | PG_SHMEM)) != 0;
}

uint32_t vmsim_frame_mapcount(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    return ctx_frame(ctx, pfn)->mapcount;
}

bool vmsim_frame_is_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    return (ctx_frame(ctx, pfn)->flags & PG_ACTIVE) != 0;
}

void vmsim_frame_set_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn, bool active)
{
    struct vmsim *sim = ctx->sim;
    struct vmsim__frame *f = ctx_frame(ctx, pfn);
    bool anon = (f->flags & (PG_ANON | PG_SHMEM)) != 0;

    if (!(f->flags & PG_LRU) || ((f->flags & PG_ACTIVE) != 0) == active)
        return;
    if (active) {
        sim->vmstat[anon ? VMSIM_VMSTAT_NR_INACTIVE_ANON : VMSIM_VMSTAT_NR_INACTIVE_FILE]--;
        sim->vmstat[anon ? VMSIM_VMSTAT_NR_ACTIVE_ANON : VMSIM_VMSTAT_NR_ACTIVE_FILE]++;
        f->flags |= PG_ACTIVE;
        count_vm_event(sim, VMSIM_VMSTAT_PGACTIVATE);
    } else {
        sim->vmstat[anon ? VMSIM_VMSTAT_NR_ACTIVE_ANON : VMSIM_VMSTAT_NR_ACTIVE_FILE]--;
        sim->vmstat[anon ? VMSIM_VMSTAT_NR_INACTIVE_ANON : VMSIM_VMSTAT_NR_INACTIVE_FILE]++;
        f->flags &= (uint16_t)~PG_ACTIVE;
        count_vm_event(sim, VMSIM_VMSTAT_PGDEACTIVATE);
    }
}

uint64_t vmsim_policy_now(vmsim_policy_ctx_t *ctx)
{
    return ctx->sim->now;
}

uint64_t vmsim_policy_next_use(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    const struct vmsim *sim = ctx->sim;
    uint64_t t;

    if (sim->future == NULL || sim->last_access == NULL)
        return UINT64_MAX;
    t = sim->last_access[pfn];
    if (t == UINT64_MAX || t >= sim->nr_future)
        return UINT64_MAX;
    return sim->future[t];
}

uint64_t vmsim__random(struct vmsim *sim)
{
    /* xorshift64*, seeded from cfg.seed */
    uint64_t x = sim->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sim->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t vmsim_policy_random(vmsim_policy_ctx_t *ctx)
{
    return vmsim__random(ctx->sim);
}

int vmsim_policy_swappiness(vmsim_policy_ctx_t *ctx)
{
    return ctx->sim->cfg.swappiness;
}

/* ---- policy life ------------------------------------------------------- */

int vmsim__policy_init(struct vmsim *sim)
{
    const vmsim_policy_ops_t *ops = sim->cfg.policy_ops;
    const char *params = NULL;
    int err;

    sim->rng = sim->cfg.seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    if (sim->rng == 0)
        sim->rng = 1;
    sim->fault_pin[0] = sim->fault_pin[1] = PFN_NONE;
    if (ops == NULL) {
        err = vmsim__policy_parse(sim->cfg.policy, &ops, &params);
        if (err < 0)
            return err;
    }
    if (ops->abi < 1 || ops->create == NULL || ops->admit == NULL || ops->forget == NULL ||
        ops->select_victim == NULL)
        return VMSIM_EINVAL;
    sim->pctx = vmsim__calloc(sim, 1, sizeof(*sim->pctx));
    if (sim->pctx == NULL)
        return VMSIM_ENOMEM;
    sim->pctx->sim = sim;
    err = ops->create((uint32_t)sim->nr_frames, params, &sim->policy_state);
    if (err < 0) {
        vmsim__free(sim, sim->pctx);
        sim->pctx = NULL;
        return err;
    }
    sim->policy = ops;
    sim->peek = vmsim__policy_peek_fn(ops);
    sim->prefetch = vmsim__policy_prefetch_fn(ops);
    return 0;
}

void vmsim__policy_destroy(struct vmsim *sim)
{
    if (sim->policy != NULL && sim->policy->destroy != NULL)
        sim->policy->destroy(sim->policy_state);
    sim->policy = NULL;
    sim->peek = NULL;
    sim->prefetch = NULL;
    vmsim__free(sim, sim->pctx);
    sim->pctx = NULL;
    vmsim__free(sim, sim->last_access);
    sim->last_access = NULL;
    sim->wants_touch = false;
}

void vmsim__policy_touch(struct vmsim *sim, vmsim_pfn_t pfn, vmsim_access_kind kind)
{
    /* the policy knows a THP by its head, whichever page was touched;
     * hugetlb pages are not on the LRU at all */
    pfn = folio_head(sim, pfn);
    if (!(pfn_frame(sim, pfn)->flags & PG_LRU))
        return;
    if (sim->last_access != NULL)
        sim->last_access[pfn] = sim->now - 1;
    if (sim->touch != NULL)
        sim->touch(sim->policy_state, sim->pctx, pfn, kind);
}

int vmsim_set_future(vmsim_t *sim, const uint64_t *next_use, uint64_t n)
{
    if (sim->last_access == NULL) {
        sim->last_access = vmsim__malloc(sim, sim->nr_frames * sizeof(*sim->last_access));
        if (sim->last_access == NULL)
            return VMSIM_ENOMEM;
        memset(sim->last_access, 0xff, sim->nr_frames * sizeof(*sim->last_access));
    }
    sim->future = next_use;
    sim->nr_future = n;
    sim->wants_touch = true;
    return 0;
}

/* ---- eviction ---------------------------------------------------------- */

struct unmap_state {
    pte_t swp;   /* the swap entry to leave, 0 to clear */
    bool dirty;
    vmsim_pid_t pid; /* the first mapping found, for the events */
    vmsim_vaddr_t va;
    struct vmsim__proc *proc; /* its process, charged with a swap-out */
};

/* try_to_unmap_one() */
static int unmap_one(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                     vmsim_vaddr_t va, pte_t *pte, void *arg)
{
    struct unmap_state *st = arg;
    vmsim_pfn_t pfn = pte_pfn(*pte);

    (void)vma;
    if (st->pid == 0) {
        st->pid = p->pid;
        st->va = va;
        st->proc = p;
    }
    vmsim__flush_tlb_page(sim, p->mm, va);
    if (*pte & PTE_D)
        st->dirty = true;
    *pte = st->swp;
    if (st->swp != 0) {
        sim->swap_map[swp_offset(st->swp)]++;
        p->mm->rss[MM_SWAPENTS]++;
    }
    vmsim__page_remove_rmap(sim, p->mm, pfn);
    return 0;
}

static void write_slot(struct vmsim *sim, vmsim_pfn_t pfn, uint64_t slot)
{
    if (sim->slot_data != NULL) {
        const uint8_t *d = vmsim__frame_data(sim, pfn, false);

        if (d == NULL) {
            vmsim__free(sim, sim->slot_data[slot]);
            sim->slot_data[slot] = NULL;
        } else {
            if (sim->slot_data[slot] == NULL)
                sim->slot_data[slot] = vmsim__malloc(sim, PAGE_SIZE);
            if (sim->slot_data[slot] != NULL)
                memcpy(sim->slot_data[slot], d, PAGE_SIZE);
        }
    }
    count_vm_event(sim, VMSIM_VMSTAT_PSWPOUT);
    sim->vmstat[VMSIM_VMSTAT_PGPGOUT] += PAGE_SIZE / 1024;
    vmsim__charge(sim, VMSIM_COST_swap_out, 1);
}

/*
 * vmsim__evict() of the common case of reclaim under a resident limit,
 * with the general path's effect and without its detours: an anonymous
 * 4 KiB page on the LRU, mapped by one entry, held by nothing else, not in
 * the swap cache yet, and a swap slot free. The general path would add it
 * to the swap cache, walk the rmap, write it, delete it from the cache
 * again and free it through put_page(), which comes to this: a new slot,
 * the entry becomes a swap entry, the page is written and freed, counted
 * and reported in the same order. Returns 1, having changed nothing, when
 * the page is not such a page or its mapping is not found: the caller
 * takes the general path.
 */
static int evict_anon_fast(struct vmsim *sim, vmsim_pfn_t pfn, bool direct)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    vmsim_vaddr_t va = f->index << PAGE_SHIFT;
    struct vmsim__proc *p;
    uint64_t slot;
    pte_t *e;

    if ((f->flags & (PG_ANON | PG_FILE | PG_SWAPCACHE | PG_SHMEM | PG_HEAD | PG_TAIL | PG_LRU)) !=
            (PG_ANON | PG_LRU) ||
        f->refcount != 1 || sim->slot_data != NULL || !vmsim__swap_available(sim))
        return 1;
    e = anon_single_pte(sim, pfn, &p);
    if (e == NULL)
        return 1;
    count_vm_event(sim, direct ? VMSIM_VMSTAT_PGSCAN_DIRECT : VMSIM_VMSTAT_PGSCAN_KSWAPD);
    count_vm_event(sim, VMSIM_VMSTAT_PGSCAN_ANON);
    sim->evict_pid = 0;
    sim->evict_va = 0;
    if (vmsim__swap_alloc(sim, &slot) < 0)
        return VMSIM_ENOSPC; /* not reached: a slot is available */
    /* try_to_unmap_one(): the entry becomes the swap entry */
    vmsim__flush_tlb_page(sim, p->mm, va);
    *e = swp_entry(0, slot);
    sim->swap_map[slot] = 1 | SWP_EVICTED;
    p->mm->rss[MM_SWAPENTS]++;
    p->mm->rss[MM_ANONPAGES]--;
    f->mapcount = 0;
    sim->vmstat[VMSIM_VMSTAT_NR_ANON_PAGES]--;
    /* pageout() */
    count_vm_event(sim, VMSIM_VMSTAT_PSWPOUT);
    p->swapout++;
    sim->vmstat[VMSIM_VMSTAT_PGPGOUT] += PAGE_SIZE / 1024;
    vmsim__charge(sim, VMSIM_COST_swap_out, 1);
    vmsim__emit(sim, VMSIM_EV_SWAP_OUT, p->pid, va, pfn, 0, "swap-out");
    sim->evict_pid = p->pid;
    sim->evict_va = va;
    /* the last reference goes: off the LRU, back to the allocator */
    f->refcount = 0;
    vmsim__lru_del(sim, pfn);
    vmsim__frame_data_free(sim, pfn);
    sim->nr_user_pages--;
    vmsim__phys_free(sim, pfn, 0);
    count_vm_event(sim, direct ? VMSIM_VMSTAT_PGSTEAL_DIRECT : VMSIM_VMSTAT_PGSTEAL_KSWAPD);
    count_vm_event(sim, VMSIM_VMSTAT_PGSTEAL_ANON);
    vmsim__emit(sim, VMSIM_EV_EVICT, p->pid, va, pfn, 0, "anon");
    return 0;
}

/* An anonymous page goes to swap: a slot (kept if it has one and is
 * clean), every mapping becomes a swap entry, the page is written if
 * dirty, then freed. */
static int evict_anon(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    struct unmap_state st = { 0, false, 0, 0, NULL };
    uint64_t slot;
    int err;

    if (!(f->flags & PG_SWAPCACHE)) {
        err = vmsim__swap_alloc(sim, &slot);
        if (err < 0)
            return err;
        /* add_to_swap() */
        f->flags |= PG_SWAPCACHE;
        f->u.slot = slot;
        f->refcount++;
        sim->swap_cache[slot] = (uint32_t)pfn + 1;
        sim->swap_map[slot] = SWP_HAS_CACHE;
        count_vm_event(sim, VMSIM_VMSTAT_NR_SWAPCACHED);
        count_vm_event(sim, VMSIM_VMSTAT_NR_FILE_PAGES);
        st.dirty = true;
    }
    slot = f->u.slot;
    st.swp = swp_entry(0, slot);
    vmsim__rmap_walk(sim, pfn, unmap_one, &st);
    VMSIM_ASSERT(f->mapcount == 0);
    if (st.dirty) {
        write_slot(sim, pfn, slot);
        if (st.proc != NULL)
            st.proc->swapout++;
    }
    vmsim__emit(sim, VMSIM_EV_SWAP_OUT, st.pid, st.pid ? st.va : f->index << PAGE_SHIFT, pfn,
                0, st.dirty ? "swap-out" : "clean");
    sim->evict_pid = st.pid;
    sim->evict_va = st.va;
    sim->swap_map[slot] |= SWP_EVICTED;
    vmsim__swapcache_del(sim, pfn);
    return 0;
}

/* A page-cache page: unmapped, written back if dirty, dropped. shmem has
 * no file to go back to, so it goes to swap and the cache keeps the slot. */
static int evict_file(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    struct vmsim__file *file = file_of(sim, f->mapping);
    struct unmap_state st = { 0, false, 0, 0, NULL };
    uint64_t idx = f->index, slot = 0;
    int err;

    if (f->flags & PG_SHMEM) {
        err = vmsim__swap_alloc(sim, &slot);
        if (err < 0)
            return err;
    }
    vmsim__rmap_walk(sim, pfn, unmap_one, &st);
    sim->evict_pid = st.pid;
    sim->evict_va = st.va;
    if (st.dirty)
        vmsim__page_mark_dirty(sim, pfn);
    if (f->flags & PG_SHMEM) {
        write_slot(sim, pfn, slot);
        if (st.proc != NULL)
            st.proc->swapout++;
        sim->swap_map[slot] = 1 | SWP_EVICTED;
        vmsim__sparse_set(sim, &file->cache, idx, PC_SWAP | slot);
        sim->vmstat[VMSIM_VMSTAT_NR_SHMEM]--;
    } else {
        if (f->flags & PG_DIRTY)
            vmsim__file_writeback(sim, file, idx, idx);
        if (f->flags & PG_DIRTY)
            return VMSIM_ENOMEM; /* could not write it back */
        vmsim__sparse_set(sim, &file->cache, idx, PC_SHADOW);
    }
    file->nr_cached--;
    sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES]--;
    vmsim__put_page(sim, pfn);
    return 0;
}

/* vmsim__evict() of every page evict_anon_fast() does not take: out of
 * line, so that the common case needs no stack frame of this size. */
__attribute__((noinline)) static int evict_slow(struct vmsim *sim, vmsim_pfn_t pfn, bool direct)
{
    const struct vmsim__frame *f = pfn_frame(sim, pfn);
    bool anon = (f->flags & (PG_ANON | PG_SHMEM)) != 0;
    int err;

    if (folio_large(sim, pfn)) {
        /* swap has no room for whole THPs here: split first */
        err = vmsim__split_folio(sim, pfn);
        if (err < 0)
            return err;
        count_vm_event(sim, VMSIM_VMSTAT_THP_SWPOUT_FALLBACK);
        if (!(f->flags & PG_LRU))
            return 0; /* the head page was unmapped and freed */
    }

    VMSIM_ASSERT(f->flags & PG_LRU);
    count_vm_event(sim, direct ? VMSIM_VMSTAT_PGSCAN_DIRECT : VMSIM_VMSTAT_PGSCAN_KSWAPD);
    count_vm_event(sim, anon ? VMSIM_VMSTAT_PGSCAN_ANON : VMSIM_VMSTAT_PGSCAN_FILE);
    sim->evict_pid = 0;
    sim->evict_va = 0;
    if (f->flags & PG_FILE)
        err = evict_file(sim, pfn);
    else
        err = evict_anon(sim, pfn);
    if (err < 0)
        return err;
    count_vm_event(sim, direct ? VMSIM_VMSTAT_PGSTEAL_DIRECT : VMSIM_VMSTAT_PGSTEAL_KSWAPD);
    count_vm_event(sim, anon ? VMSIM_VMSTAT_PGSTEAL_ANON : VMSIM_VMSTAT_PGSTEAL_FILE);
    vmsim__emit(sim, VMSIM_EV_EVICT, sim->evict_pid, sim->evict_va, pfn, 0,
                anon ? "anon" : "file");
    return 0;
}

int vmsim__evict(struct vmsim *sim, vmsim_pfn_t pfn, bool direct)
{
    int err = evict_anon_fast(sim, pfn, direct);

    return err <= 0 ? err : evict_slow(sim, pfn, direct);
}

/*
 * Start loading the page-table entries of the pages the policy will most
 * likely examine next (sim->peek), anonymous pages of the process that
 * ran last: when that eviction comes, they are in the host's cache
 * instead of misses the whole miss path waits for; and the frame of the
 * one after them, whose entry the next call prefetches. A hint: a wrong
 * guess costs a walk of cached upper levels, and a victim in the same
 * 2 MiB as the last one (a sequential sweep) not even that.
 */
static void prefetch_next_victim(struct vmsim *sim)
{
    const struct vmsim__proc *p = sim->last_proc;
    vmsim_pfn_t look[2], later;
    unsigned n;

    if (sim->peek == NULL || p == NULL || p->mm == NULL)
        return;
    n = sim->peek(sim->policy_state, look, &later);
    if (later < sim->nr_frames)
        __builtin_prefetch(pfn_frame(sim, later)); /* read here after the next eviction */
    for (unsigned i = 0; i < n; i++) {
        const struct vmsim__frame *f;

        if (look[i] >= sim->nr_frames)
            return;
        f = pfn_frame(sim, look[i]);
        if ((f->flags & (PG_ANON | PG_SHMEM)) != PG_ANON)
            continue;
        if (sim->pf_mm != p->mm) {
            sim->pf_mm = p->mm;
            sim->pf_region = UINT64_MAX; /* no canonical va >> PMD_SHIFT */
        }
        pt_prefetch(sim, p->mm, f->index << PAGE_SHIFT, &sim->pf_region, &sim->pf_table);
    }
}

/* Reclaim up to nr pages. Returns how many went. */
static uint64_t reclaim(struct vmsim *sim, uint64_t nr, bool direct)
{
    uint64_t done = 0;

    if (sim->in_reclaim)
        return 0;
    sim->in_reclaim = true;
    while (done < nr) {
        vmsim_pfn_t victim;

        if (sim->policy->select_victim(sim->policy_state, sim->pctx, &victim) < 0)
            break;
        /* A policy cannot learn that an eviction failed and would offer the
         * same frame again: stop here. */
        if (vmsim__evict(sim, victim, direct) < 0)
            break;
        done++;
    }
    if (done > 0)
        prefetch_next_victim(sim);
    sim->in_reclaim = false;
    return done;
}

static bool over_limit(const struct vmsim *sim)
{
    return sim->cfg.resident_limit != 0 &&
           sim->nr_user_pages >= sim->cfg.resident_limit / PAGE_SIZE;
}

static int alloc_frame(struct vmsim *sim, unsigned order, bool user, bool may_oom,
                       vmsim_pfn_t *pfn)
{
    uint64_t need = (uint64_t)1 << order;

    for (;;) {
        int err;

        if (user && over_limit(sim)) {
            uint64_t done;

            /* the limit's own reclaim, then its OOM (a memcg's); a 4 KiB
             * page it frees may be held for this allocation (phys.c) */
            sim->recycle_ok = order == 0 && !sim->in_reclaim && !sim->slow_paths;
            done = reclaim(sim, 1, true);
            sim->recycle_ok = false;
            if (done == 0) {
                if (sim->in_reclaim || !may_oom)
                    return VMSIM_EOOM;
                err = vmsim__out_of_memory(sim, true);
                if (err < 0)
                    return err;
            }
            continue;
        }
        if (sim->nr_free < sim->wmark_min + need && !sim->in_reclaim) {
            /* kswapd: back up to the high watermark */
            uint64_t want = sim->wmark_high + need - sim->nr_free;

            reclaim(sim, want, false);
        }
        if (sim->nr_free >= sim->wmark_min + need || sim->in_reclaim) {
            if (order == 0 && phys_take_recycled(sim, pfn))
                return 0;
            err = vmsim__phys_alloc(sim, order, pfn);
            if (err == 0)
                return 0;
        }
        /* direct reclaim found nothing either: out of memory */
        if (sim->in_reclaim)
            return VMSIM_EOOM;
        if (reclaim(sim, need, true) > 0)
            continue;
        if (!may_oom)
            return VMSIM_EOOM;
        err = vmsim__out_of_memory(sim, false);
        if (err < 0)
            return err;
    }
}

int vmsim__alloc_frame(struct vmsim *sim, unsigned order, bool user, vmsim_pfn_t *pfn)
{
    int err = alloc_frame(sim, order, user, true, pfn);

    vmsim__phys_recycle_flush(sim); /* a failed allocation leaves none held */
    return err;
}

int vmsim__alloc_frame_try(struct vmsim *sim, unsigned order, bool user, vmsim_pfn_t *pfn)
{
    int err = alloc_frame(sim, order, user, false, pfn);

    vmsim__phys_recycle_flush(sim);
    return err;
}
