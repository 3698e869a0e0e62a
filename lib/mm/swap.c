/*
 * swap.c -- one swap device: slots, the swap cache, swap-in with cluster
 * readahead, and swapoff (mm/swapfile.c, mm/swap_state.c, and
 * do_swap_page() of mm/memory.c).
 *
 * A slot's swap_map word counts the entries that refer to it (swap PTEs,
 * and for shmem the page-cache entry), plus SWP_HAS_CACHE while a page of
 * the swap cache holds its contents. A slot is free when the word is 0.
 * Every slot is usable: unlike a real swap area, no page is taken by a
 * header, so SwapTotal is the configured size.
 */
#include "internal.h"

int vmsim__swap_init(struct vmsim *sim)
{
    sim->nr_swap_slots = sim->cfg.swap / PAGE_SIZE;
    if (sim->nr_swap_slots == 0)
        return 0;
    sim->swap_map = vmsim__calloc(sim, sim->nr_swap_slots, sizeof(*sim->swap_map));
    sim->swap_cache = vmsim__calloc(sim, sim->nr_swap_slots, sizeof(*sim->swap_cache));
    sim->swap_free = vmsim__malloc(sim, sim->nr_swap_slots * sizeof(*sim->swap_free));
    if (sim->cfg.track_data)
        sim->slot_data = vmsim__calloc(sim, sim->nr_swap_slots, sizeof(*sim->slot_data));
    if (sim->swap_map == NULL || sim->swap_cache == NULL || sim->swap_free == NULL ||
        (sim->cfg.track_data && sim->slot_data == NULL)) {
        vmsim__swap_destroy(sim);
        return VMSIM_ENOMEM;
    }
    /* read at random by every swap-out and swap-in */
    vmsim__advise_huge(sim, sim->swap_map, sim->nr_swap_slots * sizeof(*sim->swap_map));
    vmsim__advise_huge(sim, sim->swap_cache, sim->nr_swap_slots * sizeof(*sim->swap_cache));
    return 0;
}

void vmsim__swap_destroy(struct vmsim *sim)
{
    if (sim->slot_data != NULL) {
        for (uint64_t i = 0; i < sim->nr_swap_slots; i++)
            vmsim__free(sim, sim->slot_data[i]);
    }
    vmsim__free(sim, sim->slot_data);
    vmsim__free(sim, sim->swap_map);
    vmsim__free(sim, sim->swap_cache);
    vmsim__free(sim, sim->swap_free);
    sim->swap_free = NULL;
    sim->nr_swap_free = 0;
    sim->swap_fresh = 0;
    sim->slot_data = NULL;
    sim->swap_map = NULL;
    sim->swap_cache = NULL;
    sim->nr_swap_slots = 0;
}

static void slot_release(struct vmsim *sim, uint64_t slot)
{
    sim->swap_map[slot] = 0;
    sim->nr_swap_used--;
    sim->swap_free[sim->nr_swap_free++] = (uint32_t)slot;
    if (sim->slot_data != NULL) {
        vmsim__free(sim, sim->slot_data[slot]);
        sim->slot_data[slot] = NULL;
    }
}

void vmsim__swapcache_del(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    uint64_t slot = f->u.slot;

    VMSIM_ASSERT(f->flags & PG_SWAPCACHE);
    f->flags &= (uint16_t)~(PG_SWAPCACHE | PG_READAHEAD);
    f->u.slot = 0;
    sim->swap_cache[slot] = 0;
    sim->swap_map[slot] &= ~SWP_HAS_CACHE;
    sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED]--;
    sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES]--;
    if ((sim->swap_map[slot] & SWP_COUNT) == 0)
        slot_release(sim, slot);
    vmsim__put_page(sim, pfn);
}

void vmsim__swap_free_entry(struct vmsim *sim, uint64_t slot)
{
    uint32_t *m = &sim->swap_map[slot];

    VMSIM_ASSERT((*m & SWP_COUNT) > 0);
    (*m)--;
    if ((*m & SWP_COUNT) != 0)
        return;
    if (*m & SWP_HAS_CACHE) {
        vmsim_pfn_t pfn = sim->swap_cache[slot] - 1;

        /* free_swap_and_cache(): an unmapped swap-cache page goes too */
        if (pfn_frame(sim, pfn)->mapcount == 0)
            vmsim__swapcache_del(sim, pfn);
        return;
    }
    slot_release(sim, slot);
}

/* Read slot into pfn, a new page, which joins the swap cache. */
static void swap_read_into(struct vmsim *sim, uint64_t slot, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f;

    sim->nr_user_pages++;
    f = pfn_frame(sim, pfn);
    f->flags |= PG_ANON | PG_SWAPCACHE;
    f->u.slot = slot;
    sim->swap_cache[slot] = (uint32_t)pfn + 1;
    sim->swap_map[slot] |= SWP_HAS_CACHE;
    count_vm_event(sim, VMSIM_VMSTAT_NR_SWAPCACHED);
    count_vm_event(sim, VMSIM_VMSTAT_NR_FILE_PAGES);
    if (sim->slot_data != NULL && sim->slot_data[slot] != NULL) {
        uint8_t *d = vmsim__frame_data(sim, pfn, true);

        if (d != NULL)
            memcpy(d, sim->slot_data[slot], PAGE_SIZE);
    }
    count_vm_event(sim, VMSIM_VMSTAT_PSWPIN);
    sim->vmstat[VMSIM_VMSTAT_PGPGIN] += PAGE_SIZE / 1024;
    if (sim->current != NULL)
        sim->current->swapin++;
    if (sim->swap_map[slot] & SWP_EVICTED) {
        count_vm_event(sim, VMSIM_VMSTAT_WORKINGSET_REFAULT_ANON);
        sim->swap_map[slot] &= ~SWP_EVICTED;
    }
    vmsim__lru_add(sim, pfn);
}

/* Read slot into a new swap-cache page. `reclaim`: the allocation may
 * reclaim (the faulting page); readahead pages take only free memory. */
static int swap_read(struct vmsim *sim, uint64_t slot, bool reclaim, vmsim_pfn_t *out)
{
    vmsim_pfn_t pfn;
    int err;

    /* readahead may reclaim too (Linux allocates it with the VMA's gfp
     * mask), but never invokes the OOM killer: it just stops */
    if (reclaim)
        err = vmsim__alloc_frame(sim, 0, true, &pfn);
    else
        err = vmsim__alloc_frame_try(sim, 0, true, &pfn);
    if (err < 0)
        return err;
    swap_read_into(sim, slot, pfn);
    *out = pfn;
    return 0;
}

/* swap_cluster_readahead(): the aligned block of 2^page_cluster slots
 * around the fault, those in use and not cached, from free memory only. */
static void swap_readahead(struct vmsim *sim, uint64_t slot)
{
    uint64_t mask = ((uint64_t)1 << sim->cfg.page_cluster) - 1;
    uint64_t first = slot & ~mask, last = slot | mask;

    if (mask == 0)
        return;
    if (last >= sim->nr_swap_slots)
        last = sim->nr_swap_slots - 1;
    for (uint64_t s = first; s <= last; s++) {
        vmsim_pfn_t pfn;

        if (s == slot || (sim->swap_map[s] & SWP_COUNT) == 0 || (sim->swap_map[s] & SWP_HAS_CACHE))
            continue;
        if (swap_read(sim, s, false, &pfn) < 0)
            return;
        pfn_frame(sim, pfn)->flags |= PG_READAHEAD;
        count_vm_event(sim, VMSIM_VMSTAT_SWAP_RA);
    }
}

static bool swap_full(const struct vmsim *sim)
{
    /* vm_swap_full(): more than half the swap is in use */
    return sim->nr_swap_used * 2 > sim->nr_swap_slots;
}

/*
 * The rest of vmsim__do_swap_page() after its allocation of pfn, in the
 * common case of a thrashing process: the faulting entry is the slot's
 * only reference and no page caches it. The general path would read the
 * slot into the swap cache (swap_read), map the page exclusively and, for
 * a write (or a full device), take it out of the cache again and free the
 * slot; this does the same, in the same order where anyone can look (the
 * policy's admit, readahead, the events), with the slot's word read once.
 * (Calling swap_read_into() for the first half cost 3.5 % more
 * instructions on a sequential sweep at 1 %: callgrind, session 6.)
 */
static int swap_in_only_user(struct fault *vf, uint64_t slot, vmsim_pfn_t pfn)
{
    struct vmsim *sim = vf->sim;
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    uint32_t *m = &sim->swap_map[slot];
    bool write = vf->kind == VMSIM_WRITE;
    pte_t prot = vma_page_prot(vf->vma) | PTE_A;
    /* The slot's cache word is a host cache miss of its own on a large
     * swap area, and only vmsim_check() reads it. When the page gives the
     * slot up below (a write, a full device) and no readahead or event
     * callback runs in between, from which vmsim_check() could be called,
     * it would be set and cleared unseen: leave it 0. */
    bool unseen = (write || swap_full(sim)) && sim->cfg.page_cluster == 0 &&
                  sim->cfg.on_event == NULL;

    /* swap_read(): into the swap cache, counted, on the LRU */
    sim->nr_user_pages++;
    f->flags |= PG_ANON | PG_SWAPCACHE;
    f->u.slot = slot;
    if (!unseen)
        sim->swap_cache[slot] = (uint32_t)pfn + 1;
    count_vm_event(sim, VMSIM_VMSTAT_NR_SWAPCACHED);
    count_vm_event(sim, VMSIM_VMSTAT_NR_FILE_PAGES);
    count_vm_event(sim, VMSIM_VMSTAT_PSWPIN);
    sim->vmstat[VMSIM_VMSTAT_PGPGIN] += PAGE_SIZE / 1024;
    if (sim->current != NULL)
        sim->current->swapin++;
    if (*m & SWP_EVICTED)
        count_vm_event(sim, VMSIM_VMSTAT_WORKINGSET_REFAULT_ANON);
    *m = SWP_HAS_CACHE | 1;
    vmsim__lru_add(sim, pfn);
    count_vm_event(sim, VMSIM_VMSTAT_PGMAJFAULT);
    vmsim__charge(sim, VMSIM_COST_major_fault, 1);
    if (sim->cfg.page_cluster != 0) {
        sim->fault_pin[0] = pfn;
        swap_readahead(sim, slot);
        sim->fault_pin[0] = PFN_NONE;
    }
    vf->cause = "swap-in";
    vmsim__emit(sim, VMSIM_EV_SWAP_IN, vf->proc->pid, vf->va, pfn, VMSIM_OUT_MAJOR, "swap-in");
    /* mapped, exclusively: the entry's reference is the map's now */
    *m = SWP_HAS_CACHE;
    vf->mm->rss[MM_SWAPENTS]--;
    f->flags |= PG_ANON_EXCLUSIVE;
    if (vf->vma->prot & VMSIM_PROT_WRITE)
        prot |= write ? PTE_RW | PTE_D : PTE_RW;
    count_vm_event(sim, VMSIM_VMSTAT_NR_ANON_PAGES);
    f->index = vf->va >> PAGE_SHIFT;
    f->mapping = vf->vma->anon_id;
    f->mapcount = 1;
    vf->mm->rss[MM_ANONPAGES]++;
    mm_update_hiwater_rss(vf->mm);
    *vf->pte = pfn_pte(pfn) | prot;
    if (write || swap_full(sim)) {
        /* vmsim__swapcache_del(), and the slot goes with it */
        f->flags &= (uint16_t)~(PG_SWAPCACHE | PG_READAHEAD);
        f->u.slot = 0;
        if (!unseen)
            sim->swap_cache[slot] = 0;
        sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED]--;
        sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES]--;
        slot_release(sim, slot);
    } else {
        f->refcount++; /* the swap cache's reference */
    }
    return VMSIM_OUT_MAJOR;
}

int vmsim__do_swap_page(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    uint64_t slot = swp_offset(*vf->pte);
    vmsim_pfn_t pfn;
    struct vmsim__frame *f;
    bool major = false, exclusive;
    pte_t prot;
    int ret;

    /* The slot's words sit at random in arrays of their own, each a host
     * cache miss on a large swap area and most of the cost of a swap-in.
     * Start loading the map word now, so that it arrives while the
     * allocation below evicts; and look at the cache word only when some
     * page is in the swap cache at all (NR_SWAPCACHED counts them, and
     * vmsim_check() that it does). */
    __builtin_prefetch(&sim->swap_map[slot], 1);
    if (sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED] != 0 && sim->swap_cache[slot] != 0) {
        pfn = sim->swap_cache[slot] - 1;
        if (pfn_frame(sim, pfn)->flags & PG_READAHEAD) {
            pfn_frame(sim, pfn)->flags &= (uint16_t)~PG_READAHEAD;
            count_vm_event(sim, VMSIM_VMSTAT_SWAP_RA_HIT);
        }
        vf->cause = "swap-cache";
    } else {
        int err = vmsim__alloc_frame(sim, 0, true, &pfn);

        if (err < 0)
            return err;
        /* the allocation may have reclaimed, and reclaim may have killed
         * a process that shared the slot: look at it now */
        if ((sim->swap_map[slot] & (SWP_HAS_CACHE | SWP_COUNT)) == 1 &&
            sim->slot_data == NULL && !sim->slow_paths &&
            (vf->kind != VMSIM_WRITE || (vf->vma->prot & VMSIM_PROT_WRITE)))
            return swap_in_only_user(vf, slot, pfn);
        swap_read_into(sim, slot, pfn);
        count_vm_event(sim, VMSIM_VMSTAT_PGMAJFAULT);
        vmsim__charge(sim, VMSIM_COST_major_fault, 1);
        sim->fault_pin[0] = pfn;
        swap_readahead(sim, slot);
        sim->fault_pin[0] = PFN_NONE;
        major = true;
        vf->cause = "swap-in";
        vmsim__emit(sim, VMSIM_EV_SWAP_IN, vf->proc->pid, vf->va, pfn, VMSIM_OUT_MAJOR,
                    "swap-in");
    }
    f = pfn_frame(sim, pfn);
    /* this entry now maps the page instead of referring to the slot */
    sim->swap_map[slot]--;
    vf->mm->rss[MM_SWAPENTS]--;
    exclusive = (sim->swap_map[slot] & SWP_COUNT) == 0 && f->mapcount == 0;
    prot = vma_page_prot(vf->vma) | PTE_A;
    if (exclusive) {
        f->flags |= PG_ANON_EXCLUSIVE;
        if (vf->vma->prot & VMSIM_PROT_WRITE) {
            prot |= PTE_RW;
            if (vf->kind == VMSIM_WRITE)
                prot |= PTE_D;
        }
    }
    if (f->mapcount++ == 0) {
        count_vm_event(sim, VMSIM_VMSTAT_NR_ANON_PAGES);
        f->index = vf->va >> PAGE_SHIFT;
        f->mapping = vf->vma->anon_id;
    }
    f->refcount++;
    vf->mm->rss[MM_ANONPAGES]++;
    mm_update_hiwater_rss(vf->mm);
    *vf->pte = pfn_pte(pfn) | prot;
    /* should_try_to_free_swap(): a written exclusive page, or a full
     * device, gives the slot up; the page is then plain anonymous memory */
    if ((exclusive && vf->kind == VMSIM_WRITE) || swap_full(sim)) {
        if ((sim->swap_map[slot] & SWP_COUNT) == 0)
            vmsim__swapcache_del(sim, pfn);
    }
    ret = major ? VMSIM_OUT_MAJOR : VMSIM_OUT_MINOR;
    if (vf->kind == VMSIM_WRITE && !(*vf->pte & PTE_RW)) {
        /* shared with another process: the write copies (do_wp_page) */
        int wp = vmsim__do_wp_page(vf);

        if (wp < 0)
            return wp;
        ret |= wp & ~(VMSIM_OUT_MINOR | VMSIM_OUT_MAJOR);
    }
    return ret;
}

int vmsim__shmem_swapin(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                        vmsim_pfn_t *pfn, bool *major)
{
    uint64_t v = vmsim__sparse_get(&f->cache, idx);
    uint64_t slot = v & ~(PC_SWAP | PC_SHADOW);
    struct vmsim__frame *fr;
    int err;

    VMSIM_ASSERT(v & PC_SWAP);
    *major = false;
    if (sim->swap_cache[slot] != 0) {
        /* readahead (of a neighbouring anonymous slot) brought it in */
        *pfn = sim->swap_cache[slot] - 1;
        if (pfn_frame(sim, *pfn)->flags & PG_READAHEAD)
            count_vm_event(sim, VMSIM_VMSTAT_SWAP_RA_HIT);
    } else {
        err = swap_read(sim, slot, true, pfn);
        if (err < 0)
            return err;
        *major = true;
    }
    /* the page leaves the swap cache for the shmem cache */
    fr = pfn_frame(sim, *pfn);
    fr->flags = (uint16_t)((fr->flags & ~(PG_ANON | PG_SWAPCACHE | PG_READAHEAD)) | PG_FILE |
                           PG_SHMEM);
    sim->swap_cache[slot] = 0;
    sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED]--;
    sim->swap_map[slot] = 1;
    slot_release(sim, slot);
    fr->mapping = f->id;
    fr->index = idx;
    fr->u.slot = 0;
    vmsim__sparse_set(sim, &f->cache, idx, *pfn + 1); /* the chunk exists */
    f->nr_cached++;
    count_vm_event(sim, VMSIM_VMSTAT_NR_SHMEM);
    if (*major) {
        count_vm_event(sim, VMSIM_VMSTAT_PGMAJFAULT);
        vmsim__charge(sim, VMSIM_COST_major_fault, 1);
    }
    return 0;
}

/* unuse_pte(): bring every swap entry of one process back in. */
static int unuse_mm(struct vmsim *sim, struct vmsim__proc *p)
{
    struct vmsim__mm *mm = p->mm;

    for (size_t i = 0; p->alive && i < mm->nr_vmas; i++) {
        struct vmsim__vma *v = &mm->vmas[i];

        for (vmsim_vaddr_t va = v->start; va < v->end && p->alive; va += PAGE_SIZE) {
            struct fault vf = { .sim = sim, .proc = p, .mm = mm, .vma = v, .va = va,
                                .kind = VMSIM_READ };
            int level, err;

            vf.pte = vmsim__pt_walk(sim, mm, va, 0, false, &level, &err);
            if (vf.pte == NULL) {
                va = round_down(va, PMD_SIZE) + PMD_SIZE - PAGE_SIZE;
                continue;
            }
            if (!pte_is_swap(*vf.pte))
                continue;
            err = vmsim__do_swap_page(&vf);
            if (err == VMSIM__EKILLED) {
                vmsim__proc_kill(sim, p, VMSIM_SIGKILL, VMSIM_SI_KERNEL, 0);
                p->oom_killed = true;
                return 0;
            }
            if (err < 0)
                return err; /* VMSIM_EOOM: the limit's OOM found no one */
            v = &mm->vmas[i];
        }
    }
    return 0;
}

static int swapoff_drain(struct vmsim *sim);

int vmsim__swapoff(struct vmsim *sim)
{
    int err = swapoff_drain(sim);

    sim->swap_draining = false;
    if (err < 0)
        return err;
    if (sim->nr_swap_used != 0)
        return VMSIM_SYS_ENOMEM; /* not everything fits back: the device stays */
    vmsim__swap_destroy(sim);
    sim->cfg.swap = 0;
    return 0;
}

/* try_to_unuse(): with the device closed to new pages, bring every page
 * back: processes first, then shmem, then what only the cache holds. */
static int swapoff_drain(struct vmsim *sim)
{
    sim->swap_draining = true;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        struct vmsim__proc *p = sim->procs[i];
        int err;

        if (p->mm == NULL)
            continue;
        sim->current = p;
        err = unuse_mm(sim, p);
        sim->current = NULL;
        if (err == VMSIM_EOOM)
            return 0; /* try_to_unuse() stops at the first failure: swapoff fails */
        if (err < 0)
            return err;
    }
    for (size_t id = 1; id < sim->nr_files; id++) {
        struct vmsim__file *f = sim->files[id];

        if (f == NULL || !f->shmem)
            continue;
        for (uint64_t idx = 0; idx < file_pages(f); idx++) {
            vmsim_pfn_t pfn;
            bool major;
            int err;

            if (!(vmsim__sparse_get(&f->cache, idx) & PC_SWAP))
                continue;
            /* The allocation may call the OOM killer, and a shared
             * anonymous object goes with its last process: hold it, as
             * shmem_unuse() holds the inode, and let it go after. */
            f->pins++;
            err = vmsim__shmem_swapin(sim, f, idx, &pfn, &major);
            f->pins--;
            if (err == 0 && major)
                sim->vmstat[VMSIM_VMSTAT_PGMAJFAULT]--; /* not a fault */
            vmsim__file_release_if_unused(sim, (uint32_t)id);
            if (err == VMSIM_EOOM)
                return 0; /* the limit's OOM found no one: swapoff fails */
            if (err < 0)
                return err;
            if (sim->files[id] == NULL)
                break; /* it went, pages and swap entries with it */
        }
    }
    for (uint64_t s = 0; s < sim->nr_swap_slots; s++) {
        if ((sim->swap_map[s] & SWP_HAS_CACHE) && (sim->swap_map[s] & SWP_COUNT) == 0) {
            /* a mapped page keeps its contents, the slot goes */
            vmsim__swapcache_del(sim, sim->swap_cache[s] - 1);
        }
    }
    return 0;
}
