/*
 * fault.c -- the access path and the page-fault handler, shaped like
 * Linux's do_user_addr_fault() -> handle_mm_fault() -> handle_pte_fault().
 *
 * An access first walks the tables as the MMU would; when the leaf entry
 * is present and allows the access, the hardware sets the accessed (and,
 * for a write, dirty) bit and nothing else happens. Otherwise the fault
 * handler finds the VMA, turns a missing or forbidding VMA into SIGSEGV,
 * and dispatches to exactly one do_* helper:
 *
 *   entry none, anonymous VMA     do_anonymous_page  (zero page or zero-fill)
 *   entry none, file, read/exec   do_read_fault      (fault-around, page cache)
 *   entry none, file, private wr  do_cow_fault       (copy the cache page)
 *   entry none, file, shared wr   do_shared_fault    (dirty the cache page)
 *   present, write-protected      do_wp_page         (reuse, copy, or dirty)
 *
 * Faults are counted as Linux counts them (mm_account_fault): pgfault for
 * every fault handled, SIGBUS included; min_flt/maj_flt for the successful
 * ones; pgmajfault where a fault waited for I/O.
 */
#include "internal.h"
#include "mm/tlb.h"

/* ---- user frames and their accounting ---------------------------------- */

int vmsim__alloc_user_page(struct vmsim *sim, vmsim_pfn_t *pfn)
{
    int err = vmsim__alloc_frame(sim, 0, true, pfn);

    if (err < 0)
        return err;
    sim->nr_user_pages++;
    return 0;
}

void vmsim__put_page_slow(struct vmsim *sim, vmsim_pfn_t pfn)
{
    vmsim_pfn_t head = folio_head(sim, pfn);
    struct vmsim__frame *f = pfn_frame(sim, head);
    unsigned nr = folio_large(sim, head) ? HPAGE_NR : 1;

    VMSIM_ASSERT(f->refcount > 0);
    if (--f->refcount > 0)
        return;
    vmsim__lru_del(sim, head);
    for (unsigned i = 0; i < nr; i++) {
        VMSIM_ASSERT(pfn_frame(sim, head + i)->mapcount == 0);
        vmsim__frame_data_free(sim, head + i);
    }
    sim->nr_user_pages -= nr;
    vmsim__phys_free(sim, head, nr == 1 ? 0 : HPAGE_ORDER);
}

static int mm_counter(const struct vmsim__frame *f)
{
    if (f->flags & PG_SHMEM)
        return MM_SHMEMPAGES;
    if (f->flags & PG_ANON)
        return MM_ANONPAGES;
    return MM_FILEPAGES;
}

/* Map a new exclusive anonymous page at va (folio_add_new_anon_rmap). */
static void page_add_new_anon_rmap(struct vmsim *sim, struct vmsim__mm *mm,
                                   struct vmsim__vma *vma, vmsim_pfn_t pfn, vmsim_vaddr_t va)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);

    if (vma->anon_id == 0) /* anon_vma_prepare() */
        vma->anon_id = sim->next_anon_id++;
    f->flags |= PG_ANON | PG_ANON_EXCLUSIVE;
    f->mapping = vma->anon_id;
    f->index = va >> PAGE_SHIFT;
    f->mapcount = 1;
    f->refcount = 1;
    mm->rss[MM_ANONPAGES]++;
    mm_update_hiwater_rss(mm);
    count_vm_event(sim, VMSIM_VMSTAT_NR_ANON_PAGES);
    vmsim__lru_add(sim, pfn);
}

void vmsim__page_add_file_rmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);

    f->refcount++;
    if (f->mapcount++ == 0)
        count_vm_event(sim, VMSIM_VMSTAT_NR_MAPPED);
    mm->rss[mm_counter(f)]++;
    mm_update_hiwater_rss(mm);
}

void vmsim__page_remove_rmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    vmsim_pfn_t head = folio_head(sim, pfn);
    bool large = folio_large(sim, head);

    VMSIM_ASSERT(f->mapcount > 0 && pfn_frame(sim, head)->refcount > 0);
    mm->rss[mm_counter(f)]--;
    if (--f->mapcount == 0 && (!large || *entire_mapcount(sim, head) == 0)) {
        if (f->flags & PG_ANON)
            sim->vmstat[VMSIM_VMSTAT_NR_ANON_PAGES]--;
        else
            sim->vmstat[VMSIM_VMSTAT_NR_MAPPED]--;
    }
    if (large && pfn_frame(sim, head)->refcount > 1 && f->mapcount == 0 &&
        *entire_mapcount(sim, head) == 0) {
        /* A THP only partly mapped by PTEs: split it now, freeing the
         * unmapped pages (Linux queues it for a deferred split). */
        vmsim__put_page(sim, head);
        vmsim__split_folio(sim, head);
        return;
    }
    vmsim__put_page(sim, pfn);
}

/* ---- the fault handlers ------------------------------------------------ */


static int do_anonymous_page(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    pte_t prot = vma_page_prot(vf->vma);
    vmsim_pfn_t pfn;
    int err;

    /* A read of untouched memory maps the shared zero page (if enabled) */
    if (vf->kind != VMSIM_WRITE && sim->cfg.zero_page) {
        *vf->pte = pfn_pte(sim->zero_pfn) | (prot & ~PTE_RW) | PTE_SPECIAL | PTE_A;
        vf->cause = "zero-page";
        return VMSIM_OUT_MINOR | VMSIM_OUT_ZERO;
    }
    /* anything else gets a zeroed frame, writable and dirty when the VMA
     * is writable */
    err = vmsim__alloc_user_page(sim, &pfn);
    if (err < 0)
        return err;
    page_add_new_anon_rmap(sim, vf->mm, vf->vma, pfn, vf->va);
    prot |= PTE_A;
    if (vf->vma->prot & VMSIM_PROT_WRITE)
        prot |= PTE_RW | PTE_D;
    *vf->pte = pfn_pte(pfn) | prot;
    vmsim__charge(sim, VMSIM_COST_zero_page, 1);
    vf->cause = "zero-fill";
    return VMSIM_OUT_MINOR;
}

/* The cache page for the fault, or SIGBUS past end of file. */
static int fault_get_page(struct fault *vf, vmsim_pfn_t *pfn, bool *major)
{
    struct vmsim__file *f = file_of(vf->sim, vf->vma->file);
    int err;

    if (vf->pgoff >= file_pages(f))
        return VMSIM__SIGBUS;
    err = vmsim__filemap_get(vf->sim, f, vf->pgoff, vf->vma, pfn, major);
    if (err < 0)
        return err;
    if (*major) {
        count_vm_event(vf->sim, VMSIM_VMSTAT_PGMAJFAULT);
        vmsim__charge(vf->sim, VMSIM_COST_file_read, 1);
    }
    return 0;
}

/*
 * do_fault_around(): map the already-cached pages of the fault_around
 * window (aligned, within the VMA, the page table and the file) without
 * further faults. Returns whether the faulting page itself got mapped.
 */
static bool do_fault_around(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    const struct vmsim__vma *vma = vf->vma;
    struct vmsim__file *f = file_of(sim, vma->file);
    uint64_t nr = sim->cfg.fault_around_bytes / PAGE_SIZE;
    uint64_t pte_off = PT_INDEX(vf->va, 0), vma_off = vf->pgoff - vma->pgoff;
    uint64_t vma_pages = (vma->end - vma->start) / PAGE_SIZE;
    uint64_t from, to, last = file_pages(f) - 1;
    pte_t *table = vf->pte - pte_off;
    pte_t prot = vma_page_prot(vma) | PTE_A;

    if (nr <= 1)
        return false;
    from = round_down(pte_off, nr);
    if (pte_off - (pte_off < vma_off ? pte_off : vma_off) > from)
        from = pte_off - (pte_off < vma_off ? pte_off : vma_off);
    to = from + nr;
    if (to > PT_ENTRIES)
        to = PT_ENTRIES;
    if (to > pte_off + vma_pages - vma_off)
        to = pte_off + vma_pages - vma_off;
    for (uint64_t i = from; i < to; i++) {
        uint64_t idx = vf->pgoff + i - pte_off;
        vmsim_pfn_t pfn;

        if (idx > last)
            break;
        if (!pte_none(table[i]))
            continue;
        pfn = vmsim__pagecache_find(f, idx);
        if (pfn == PFN_NONE)
            continue;
        vmsim__page_add_file_rmap(sim, vf->mm, pfn);
        table[i] = pfn_pte(pfn) | prot;
    }
    return !pte_none(*vf->pte);
}

static int do_read_fault(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    vmsim_pfn_t pfn;
    bool major;
    int ret;

    if (vf->pgoff >= file_pages(file_of(sim, vf->vma->file)))
        return VMSIM__SIGBUS;
    if (do_fault_around(vf)) {
        vf->cause = "fault-around";
        return VMSIM_OUT_MINOR;
    }
    ret = fault_get_page(vf, &pfn, &major);
    if (ret != 0)
        return ret;
    vmsim__page_add_file_rmap(sim, vf->mm, pfn);
    *vf->pte = pfn_pte(pfn) | vma_page_prot(vf->vma) | PTE_A;
    vf->cause = major ? "file-read" : "page-cache";
    return major ? VMSIM_OUT_MAJOR : VMSIM_OUT_MINOR;
}

/* Copy src (a cache page or a shared anonymous page) into a new
 * exclusive anonymous page mapped writable at the fault address. */
static int copy_to_new_anon(struct fault *vf, vmsim_pfn_t src, bool src_mapped)
{
    struct vmsim *sim = vf->sim;
    vmsim_pfn_t pfn;
    int err = vmsim__alloc_user_page(sim, &pfn);

    if (err < 0)
        return err;
    vmsim__frame_data_copy(sim, pfn, src);
    *vf->pte = 0;
    if (src_mapped)
        vmsim__page_remove_rmap(sim, vf->mm, src);
    page_add_new_anon_rmap(sim, vf->mm, vf->vma, pfn, vf->va);
    *vf->pte = pfn_pte(pfn) | vma_page_prot(vf->vma) | PTE_A | PTE_D | PTE_RW;
    vmsim__charge(sim, VMSIM_COST_copy_page, 1);
    vf->proc->cow++;
    vmsim__emit(sim, VMSIM_EV_COW, vf->proc->pid, vf->va, pfn, VMSIM_OUT_COW, "cow");
    return VMSIM_OUT_MINOR | VMSIM_OUT_COW;
}

static int do_cow_fault(struct fault *vf)
{
    vmsim_pfn_t pfn;
    bool major;
    int ret = fault_get_page(vf, &pfn, &major);

    if (ret != 0)
        return ret;
    vf->sim->fault_pin[1] = pfn;
    ret = copy_to_new_anon(vf, pfn, false);
    vf->sim->fault_pin[1] = PFN_NONE;
    vf->cause = "cow";
    if (ret >= 0 && major)
        ret = (ret & ~VMSIM_OUT_MINOR) | VMSIM_OUT_MAJOR;
    return ret;
}

static int do_shared_fault(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    vmsim_pfn_t pfn;
    bool major;
    int ret = fault_get_page(vf, &pfn, &major);

    if (ret != 0)
        return ret;
    vmsim__page_add_file_rmap(sim, vf->mm, pfn);
    vmsim__page_mark_dirty(sim, pfn);
    *vf->pte = pfn_pte(pfn) | vma_page_prot(vf->vma) | PTE_A | PTE_D | PTE_RW;
    vf->cause = major ? "file-read" : "page-cache";
    return major ? VMSIM_OUT_MAJOR : VMSIM_OUT_MINOR;
}

/* A write to a present, write-protected entry of a writable VMA (do_wp_page). */
int vmsim__do_wp_page(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    pte_t old = *vf->pte;
    struct vmsim__frame *f;
    vmsim_pfn_t pfn;
    int err;

    if (pte_special(old)) {
        /* the zero page: "copying" it is zeroing a new frame */
        err = vmsim__alloc_user_page(sim, &pfn);
        if (err < 0)
            return err;
        page_add_new_anon_rmap(sim, vf->mm, vf->vma, pfn, vf->va);
        *vf->pte = pfn_pte(pfn) | vma_page_prot(vf->vma) | PTE_A | PTE_D | PTE_RW;
        vmsim__charge(sim, VMSIM_COST_zero_page, 1);
        vf->cause = "zero-page-cow";
        return VMSIM_OUT_MINOR;
    }
    pfn = pte_pfn(old);
    f = pfn_frame(sim, pfn);
    if (folio_large(sim, folio_head(sim, pfn))) {
        /* a PTE-mapped THP page: reused only if nothing else holds the folio */
        if (pfn_frame(sim, folio_head(sim, pfn))->refcount == 1) {
            *vf->pte = old | PTE_RW | PTE_D | PTE_A;
            vf->cause = "reuse";
            return VMSIM_OUT_MINOR | VMSIM_OUT_REUSE;
        }
        vf->cause = "cow";
        sim->fault_pin[1] = folio_head(sim, pfn);
        err = copy_to_new_anon(vf, pfn, true);
        sim->fault_pin[1] = PFN_NONE;
        return err;
    }
    if ((f->flags & PG_SWAPCACHE) && f->mapcount == 1 &&
        (sim->swap_map[f->u.slot] & SWP_COUNT) == 0)
        vmsim__swapcache_del(sim, pfn); /* folio_free_swap(): the slot is ours alone */
    if (vf->vma->flags & VMSIM_VMA_SHARED) {
        /* wp_page_shared(): the write is noted, the page dirtied */
        vmsim__page_mark_dirty(sim, pfn);
        *vf->pte = old | PTE_RW | PTE_D | PTE_A;
        vf->cause = "write-notify";
        return VMSIM_OUT_MINOR;
    }
    if ((f->flags & PG_ANON) && f->refcount == 1) {
        /* wp_can_reuse_anon_folio(): we hold the only reference */
        f->flags |= PG_ANON_EXCLUSIVE;
        *vf->pte = old | PTE_RW | PTE_D | PTE_A;
        count_vm_event(sim, VMSIM_VMSTAT_PGREUSE);
        vf->cause = "reuse";
        return VMSIM_OUT_MINOR | VMSIM_OUT_REUSE;
    }
    vf->cause = "cow";
    sim->fault_pin[1] = pfn;
    err = copy_to_new_anon(vf, pfn, true);
    sim->fault_pin[1] = PFN_NONE;
    return err;
}

static int handle_pte_fault(struct fault *vf)
{
    pte_t e = *vf->pte;

    if (pte_none(e)) {
        if (vf->vma->file == 0)
            return do_anonymous_page(vf);
        if (vf->kind != VMSIM_WRITE)
            return do_read_fault(vf);
        if (!(vf->vma->flags & VMSIM_VMA_SHARED))
            return do_cow_fault(vf);
        return do_shared_fault(vf);
    }
    if (!pte_present(e))
        return vmsim__do_swap_page(vf);
    if (vf->kind == VMSIM_WRITE && !pte_write(e))
        return vmsim__do_wp_page(vf);
    /* A spurious fault (the entry already allows it): mark it young. */
    *vf->pte = e | PTE_A;
    vf->cause = "spurious";
    return VMSIM_OUT_MINOR;
}

/* Linux's access_error(): may this VMA be accessed this way? On x86 a
 * readable page is any accessible one (write and exec imply read). */
static bool access_error(const struct vmsim__vma *vma, vmsim_access_kind kind)
{
    switch (kind) {
    case VMSIM_WRITE:
        return !(vma->prot & VMSIM_PROT_WRITE);
    case VMSIM_EXEC:
        return !(vma->prot & VMSIM_PROT_EXEC);
    default:
        return (vma->prot & (VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC)) == 0;
    }
}

static int segv(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va, int si_code)
{
    vmsim__proc_kill(sim, p, VMSIM_SIGSEGV, si_code, va);
    return VMSIM_OUT_SEGV;
}

/* The end of do_fault(): the fault's result ret (of vf, at va) counted,
 * reported and turned into the access's outcome. */
static inline int fault_account(struct fault *vf, vmsim_vaddr_t va, bool gup, int ret)
{
    struct vmsim *sim = vf->sim;
    struct vmsim__proc *p = vf->proc;

    if (ret == VMSIM__EKILLED) {
        /* the OOM killer chose this process: it dies as the fault unwinds */
        count_vm_event(sim, VMSIM_VMSTAT_PGFAULT);
        vmsim__proc_kill(sim, p, VMSIM_SIGKILL, VMSIM_SI_KERNEL, 0);
        return VMSIM_OUT_OOM;
    }
    if (ret < 0)
        return ret;
    /* mm_account_fault(): pgfault counts failed faults too */
    count_vm_event(sim, VMSIM_VMSTAT_PGFAULT);
    vmsim__charge(sim, VMSIM_COST_minor_fault, 1);
    if (ret == VMSIM__SIGBUS) {
        if (gup)
            return 0;
        vmsim__proc_kill(sim, p, VMSIM_SIGBUS, VMSIM_BUS_ADRERR, va);
        return VMSIM_OUT_BUS;
    }
    if (ret & VMSIM_OUT_MAJOR)
        p->majflt++;
    else
        p->minflt++;
    vmsim__emit(sim, VMSIM_EV_FAULT, p->pid, vf->va,
                pte_present(*vf->pte) ? pte_pfn(*vf->pte) : UINT64_MAX, (unsigned)ret, vf->cause);
    return ret;
}

/* The fault proper, for a canonical user address. A get_user_pages()
 * fault (gup) raises no signal: the caller just stops. */
static int do_fault(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                    vmsim_access_kind kind, bool gup, pte_t *leaf)
{
    struct fault vf = { .sim = sim, .proc = p, .mm = p->mm, .kind = kind };
    int level, err, ret;

    vf.va = va & PAGE_MASK;
    vf.vma = vma_find_cached(p->mm, va);
    if (vf.vma == NULL || vf.vma->start > va)
        return gup ? 0 : segv(sim, p, va, VMSIM_SEGV_MAPERR);
    if (access_error(vf.vma, kind))
        return gup ? 0 : segv(sim, p, va, VMSIM_SEGV_ACCERR);
    vf.pgoff = vf.vma->pgoff + (vf.va - vf.vma->start) / PAGE_SIZE;

    ret = VMSIM__FALLBACK;
    if (leaf != NULL && !(vf.vma->flags & VMSIM_VMA_HUGETLB)) {
        /* The caller's walk reached a PTE table, so the PMD is neither
         * empty nor huge: no THP fault, and no walk to repeat. */
        vf.pte = leaf;
        ret = handle_pte_fault(&vf);
    } else if (vf.vma->flags & VMSIM_VMA_HUGETLB) {
        ret = vmsim__hugetlb_fault(&vf);
    } else if (vf.vma->file == 0 && !(vf.vma->flags & VMSIM_VMA_SHARED) &&
               (p->mm->nr_deposits != 0 || vmsim__thp_vma_allowed(sim, vf.vma))) {
        /* __handle_mm_fault(): a huge PMD (every one has a deposit), or a
         * THP for an empty one */
        pte_t *pmd = vmsim__pt_walk(sim, p->mm, vf.va, 1, true, &level, &err);

        if (pmd == NULL)
            ret = err;
        else if (level == 1)
            ret = vmsim__do_huge_pmd_fault(&vf, pmd);
    }
    if (ret == VMSIM__FALLBACK) {
        vf.pte = vmsim__pt_walk(sim, p->mm, vf.va, 0, true, &level, &err);
        ret = vf.pte == NULL ? err : handle_pte_fault(&vf);
    } else if (ret >= 0 && leaf == NULL && !(vf.vma->flags & VMSIM_VMA_HUGETLB)) {
        vf.pte = vmsim__pt_walk(sim, p->mm, vf.va, 1, false, &level, &err);
    }
    return fault_account(&vf, va, gup, ret);
}

int vmsim__handle_fault(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                        vmsim_access_kind kind)
{
    return do_fault(sim, p, va, kind, false, NULL);
}

/* ---- the access path --------------------------------------------------- */

/* The leaf entry for va if every level is present, else NULL, and its
 * level: the MMU's walk, with no side effects. */
static inline pte_t *mmu_walk_level(const struct vmsim *sim, const struct vmsim__mm *mm,
                                    vmsim_vaddr_t va, int *level)
{
    pte_t *table = pt_table(sim, mm->pgd);

    *level = PT_LEVELS - 1;

    for (int l = PT_LEVELS - 1; l > 0; l--) {
        pte_t e = table[PT_INDEX(va, l)];

        if (!pte_hw_present(e))
            return NULL;
        if (pte_huge(e)) {
            *level = l;
            return &table[PT_INDEX(va, l)];
        }
        table = pt_table(sim, pte_pfn(e));
    }
    *level = 0;
    return &table[PT_INDEX(va, 0)];
}

static inline pte_t *mmu_walk(const struct vmsim *sim, const struct vmsim__mm *mm,
                              vmsim_vaddr_t va)
{
    int level;

    return mmu_walk_level(sim, mm, va, &level);
}

/* The translation of va: the TLB, or a page walk that fills it (counting
 * the walk's memory references in the cost model). With the TLB off, the
 * walk is shortcut by the mm's private cache of 4 KiB leaf pointers, and
 * `walked`, when not NULL, is the 4 KiB leaf of va that the caller's walk
 * found after the cache missed. */
static inline pte_t *translate(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                               vmsim_access_kind kind, pte_t *walked, pte_t **leaf)
{
    pte_t *e;
    int level = 0;

    if (sim->tlb == NULL) {
        struct vmsim__ucache *uc = &p->mm->uc[(va >> PAGE_SHIFT) & (UCACHE_SIZE - 1)];

        if (walked != NULL)
            e = walked;
        else if (uc->vpn == va >> PAGE_SHIFT)
            return uc->pte;
        else
            e = mmu_walk_level(sim, p->mm, va, &level);
        if (e != NULL && level == 0) {
            if (pte_hw_present(*e)) {
                uc->vpn = va >> PAGE_SHIFT;
                uc->pte = e;
            }
            *leaf = e;
        }
        return e;
    }
    e = vmsim__tlb_lookup(sim->tlb, (uint32_t)p->pid, va, kind);
    if (e != NULL)
        return e;
    e = mmu_walk_level(sim, p->mm, va, &level);
    vmsim__charge(sim, VMSIM_COST_walk_level, (uint64_t)(PT_LEVELS - level));
    if (e != NULL && pte_hw_present(*e))
        vmsim__tlb_fill(sim->tlb, (uint32_t)p->pid, va, level, e, kind);
    if (e != NULL && level == 0)
        *leaf = e;
    return e;
}

static inline bool pte_allows(pte_t e, vmsim_access_kind kind)
{
    if (!(e & PTE_P))
        return false;
    if (kind == VMSIM_WRITE)
        return (e & PTE_RW) != 0;
    if (kind == VMSIM_EXEC)
        return (e & PTE_NX) == 0;
    return true;
}

/* The access a fault made possible (the process lives), at va, whose
 * 4 KiB leaf the walk before the fault found (or NULL). No flush is
 * needed: a fault only fills or changes an entry in place, and every path
 * that moves a leaf (split, collapse, unmap) shoots its range down. */
static inline void access_after_fault(struct vmsim *sim, struct vmsim__proc *p,
                                      vmsim_vaddr_t va, vmsim_access_kind kind, pte_t *leaf)
{
    pte_t *e;

    if (sim->tlb == NULL && leaf != NULL) {
        /* The fault filled the entry the walk found, in place; no fault
         * frees a table of its own process. Cache it as the walk would. */
        e = leaf;
        if (pte_hw_present(*e)) {
            struct vmsim__ucache *uc = &p->mm->uc[(va >> PAGE_SHIFT) & (UCACHE_SIZE - 1)];

            uc->vpn = va >> PAGE_SHIFT;
            uc->pte = e;
        }
    } else {
        e = translate(sim, p, va, kind, NULL, &leaf);
    }
    if (e != NULL && pte_allows(*e, kind)) {
        *e |= (kind == VMSIM_WRITE) ? (PTE_A | PTE_D) : PTE_A;
        if ((sim->touch != NULL || sim->last_access != NULL) && !pte_special(*e))
            vmsim__policy_touch(sim, pte_pfn(*e), kind);
    }
}

static int access_page(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                       vmsim_access_kind kind, pte_t *walked)
{
    pte_t *e, *leaf = NULL;
    int ret;

    vmsim__charge(sim, VMSIM_COST_tlb_hit, 1);
    if (va >= ((uint64_t)1 << 47)) {
        /* A kernel address faults with the PTE's U/S bit: SEGV_MAPERR from
         * bad_area_nosemaphore(). A non-canonical one raises #GP, which
         * Linux turns into SIGSEGV with si_code SI_KERNEL. */
        if (va >= 0xffff800000000000ull)
            return segv(sim, p, va, VMSIM_SEGV_MAPERR);
        return segv(sim, p, 0, VMSIM_SI_KERNEL);
    }
    if (sim->access_hook != NULL)
        sim->access_hook(sim->access_hook_ctx, p->pid, va, kind);
    sim->now++;
    e = translate(sim, p, va, kind, walked, &leaf);
    if (e != NULL && pte_allows(*e, kind)) {
        *e |= (kind == VMSIM_WRITE) ? (PTE_A | PTE_D) : PTE_A;
        if ((sim->touch != NULL || sim->last_access != NULL) && !pte_special(*e))
            vmsim__policy_touch(sim, pte_pfn(*e), kind);
        return 0;
    }
    ret = do_fault(sim, p, va, kind, false, leaf);
    if (ret >= 0 && p->alive)
        access_after_fault(sim, p, va, kind, leaf);
    return ret;
}

int vmsim__populate_page(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                         vmsim_access_kind kind)
{
    pte_t *e = mmu_walk(sim, p->mm, va);

    if (e != NULL && pte_allows(*e, kind))
        return 0;
    return do_fault(sim, p, va, kind, true, NULL);
}

static struct vmsim__proc *access_proc(struct vmsim *sim, vmsim_pid_t pid)
{
    struct vmsim__proc *p = sim->last_proc;

    if (p == NULL || p->pid != pid) {
        p = vmsim__proc_find(sim, pid);
        /* only a live process is cached: the hit path trusts it */
        if (p != NULL && p->alive)
            sim->last_proc = p;
    }
    return p;
}

/* Out of line, so that the hit path below needs no stack frame. */
__attribute__((noinline)) static int access_slow(vmsim_t *sim, vmsim_pid_t pid,
                                                 vmsim_vaddr_t va, uint64_t size,
                                                 vmsim_access_kind kind, unsigned *outcome);
__attribute__((noinline)) static int access_walk(vmsim_t *sim, vmsim_pid_t pid,
                                                 vmsim_vaddr_t va, uint64_t size,
                                                 vmsim_access_kind kind, unsigned *outcome);

/* A hit the policy sees: out of line, called last, so the hit path
 * itself needs no stack frame. */
__attribute__((noinline)) static int access_hit_touch(struct vmsim *sim, pte_t e,
                                                      vmsim_access_kind kind)
{
    vmsim__policy_touch(sim, pte_pfn(e), kind);
    return 0;
}

/* What the hardware does on a hit, and the hit's accounting. */
static inline int access_hit(struct vmsim *sim, pte_t *e, vmsim_access_kind kind,
                             unsigned *outcome)
{
    *e |= (kind == VMSIM_WRITE) ? (PTE_A | PTE_D) : PTE_A;
    sim->now++;
    vmsim__charge(sim, VMSIM_COST_tlb_hit, 1);
    if (outcome != NULL)
        *outcome = 0;
    if (sim->wants_touch)
        return access_hit_touch(sim, *e, kind);
    return 0;
}

/*
 * The hit path, kept small and free of calls but the last: the same
 * process as the last call, one page, no observer, and a translation that
 * allows the access: with the TLB off, the ucache's (a miss there walks,
 * in access_walk()); with it on, the MRU entry of the 4K L1 set.
 * Everything else (and every fault) takes access_slow(), which looks the
 * access up afresh, so a TLB hit is counted once, here or there.
 * last_proc is cleared when its process dies or the system panics, so a
 * cached process is alive.
 */
int vmsim_access(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t size,
                 vmsim_access_kind kind, unsigned *outcome)
{
    struct vmsim__proc *p = sim->last_proc;
    pte_t *e;

    if (p == NULL || p->pid != pid || size > PAGE_SIZE - (va & (PAGE_SIZE - 1)) ||
        (unsigned)kind > VMSIM_EXEC || sim->access_hook != NULL)
        return access_slow(sim, pid, va, size, kind, outcome);
    if (sim->tlb == NULL) {
        const struct vmsim__ucache *uc = &p->mm->uc[(va >> PAGE_SHIFT) & (UCACHE_SIZE - 1)];

        if (uc->vpn != va >> PAGE_SHIFT)
            return access_walk(sim, pid, va, size, kind, outcome);
        if (!pte_allows(*uc->pte, kind))
            return access_slow(sim, pid, va, size, kind, outcome);
        e = uc->pte;
    } else {
        if (sim->tlb_asid != pid)
            return access_slow(sim, pid, va, size, kind, outcome);
        e = vmsim__tlb_lookup_mru(sim->tlb, (uint32_t)pid, va, kind);
        if (!pte_allows(*e, kind))
            return access_slow(sim, pid, va, size, kind, outcome);
        sim->tlb->stats.hits++;
    }
    return access_hit(sim, e, kind, outcome);
}

__attribute__((noinline)) static int access_slow(vmsim_t *sim, vmsim_pid_t pid,
                                                 vmsim_vaddr_t va, uint64_t size,
                                                 vmsim_access_kind kind, unsigned *outcome)
{
    struct vmsim__proc *p, *saved;
    vmsim_vaddr_t page, last;
    unsigned out = 0;

    if (sim->panicked)
        return VMSIM_EPANIC;
    if ((unsigned)kind > VMSIM_EXEC)
        return VMSIM_EINVAL;
    p = access_proc(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    saved = vmsim__api_begin(sim, p);
    if (sim->tlb != NULL && sim->tlb_asid != pid) {
        vmsim__tlb_switch(sim->tlb, (uint32_t)pid);
        sim->tlb_asid = pid;
    }
    if (size == 0)
        size = 1;
    page = va & PAGE_MASK;
    last = (va + (size - 1) < va) ? (UINT64_MAX & PAGE_MASK) : ((va + size - 1) & PAGE_MASK);
    for (;;) {
        int ret = access_page(sim, p, page > va ? page : va, kind, NULL);

        if (ret < 0) {
            sim->current = saved;
            return ret;
        }
        out |= (unsigned)ret;
        if (!p->alive || page == last)
            break;
        page += PAGE_SIZE;
    }
    sim->current = saved;
    if (outcome != NULL)
        *outcome = out;
    return 0;
}

/*
 * access_walk()'s fault on a swap entry e (the 4 KiB leaf of va, a user
 * address): a thrashing process's miss. access_page(), do_fault() and
 * handle_pte_fault() come to this when the VMA allows the access and is
 * not hugetlb: the same steps, without the layers. Anything else returns
 * VMSIM__FALLBACK having changed nothing but the VMA hint (which
 * do_fault() sets the same way) and the general path takes it.
 */
static int access_swapin(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                         vmsim_access_kind kind, pte_t *e)
{
    struct vmsim__vma *vma = vma_find_cached(p->mm, va);
    struct fault vf;
    int ret;

    if (vma == NULL || vma->start > va || access_error(vma, kind) ||
        (vma->flags & VMSIM_VMA_HUGETLB))
        return VMSIM__FALLBACK;
    /* access_page() up to do_fault(): no hook (vmsim_access() checked) */
    vmsim__charge(sim, VMSIM_COST_tlb_hit, 1);
    sim->now++;
    vf = (struct fault){ .sim = sim, .proc = p, .mm = p->mm, .vma = vma, .va = va & PAGE_MASK,
                         .kind = kind, .pte = e };
    vf.pgoff = vma->pgoff + (vf.va - vma->start) / PAGE_SIZE;
    ret = fault_account(&vf, va, false, vmsim__do_swap_page(&vf));
    if (ret >= 0 && p->alive)
        access_after_fault(sim, p, va, kind, e);
    return ret;
}

/*
 * The hit path's ucache missed (TLB off; the last process, alive; one
 * page; no observer): translate()'s walk, here, for a working set larger
 * than the ucache, which hits in the tables. A 4 KiB leaf that allows the
 * access is filled in as translate() would and is a hit; anything else is
 * access_slow()'s one page, with the walk's leaf.
 */
__attribute__((noinline)) static int access_walk(vmsim_t *sim, vmsim_pid_t pid,
                                                 vmsim_vaddr_t va, uint64_t size,
                                                 vmsim_access_kind kind, unsigned *outcome)
{
    struct vmsim__proc *p = sim->last_proc, *saved;
    struct vmsim__ucache *uc = &p->mm->uc[(va >> PAGE_SHIFT) & (UCACHE_SIZE - 1)];
    pte_t *e = NULL;
    int level = 0, ret;

    if (sim->slow_paths)
        return access_slow(sim, pid, va, size, kind, outcome);
    if (va < ((uint64_t)1 << 47)) {
        /* mmu_walk_level()'s 4 KiB leaf (every upper entry is a table
         * or none, or a huge leaf: level > 0), through the walk cache */
        e = pt_lookup_cached_inline(sim, p->mm, &p->mm->wc_access, va, &level);
        if (e != NULL && level == 0 && pte_allows(*e, kind)) {
            uc->vpn = va >> PAGE_SHIFT;
            uc->pte = e;
            return access_hit(sim, e, kind, outcome);
        }
    }
    saved = vmsim__api_begin(sim, p);
    ret = VMSIM__FALLBACK;
    if (e != NULL && level == 0 && !pte_none(*e) && !pte_present(*e))
        ret = access_swapin(sim, p, va, kind, e);
    if (ret == VMSIM__FALLBACK)
        ret = access_page(sim, p, va, kind, level == 0 ? e : NULL);
    sim->current = saved;
    if (ret < 0)
        return ret;
    if (outcome != NULL)
        *outcome = (unsigned)ret;
    return 0;
}

/* How many accesses ahead vmsim_access_batch() prefetches the leaf entry:
 * 8 to 32 did about as well on the benchmarks' traces. TOUCH_AHEAD
 * accesses ahead it reads that entry, already coming, and prefetches what
 * it leads to: a swap entry's swap-map word, which do_swap_page() reads
 * first; when the policy sees hits (lru, opt), a present page's frame
 * and the entries its touch writes (lru's neighbours half as far ahead,
 * from the links loaded then). A second walk 6 ahead for this, for
 * every access, did worse; figures in docs/performance.md, session 8. */
#define BATCH_AHEAD 16
#define TOUCH_AHEAD 8

int vmsim_access_batch(vmsim_t *sim, vmsim_pid_t pid, const vmsim_vaddr_t *va, size_t n,
                       uint64_t size, vmsim_access_kind kind, size_t *done, unsigned *outcome)
{
    const struct vmsim__proc *p = vmsim__proc_find(sim, pid);
    vmsim_vaddr_t region = UINT64_MAX; /* no canonical va >> PMD_SHIFT */
    const pte_t *table = NULL;
    const pte_t *leaf[BATCH_AHEAD] = {0};  /* the entries prefetched, by i % BATCH_AHEAD */
    vmsim_pfn_t frame[BATCH_AHEAD];        /* their frames, read TOUCH_AHEAD before */
    bool touch = sim->wants_touch;
    unsigned all = 0;
    size_t i;
    int rc = 0;

    if (va == NULL && n > 0)
        n = 0, rc = VMSIM_EINVAL;
    for (i = 0; i < BATCH_AHEAD; i++)
        frame[i] = UINT64_MAX;
    for (i = 0; i < n; i++) {
        unsigned out = 0;

        if (i + BATCH_AHEAD < n && p != NULL && p->alive && p->mm != NULL &&
            va[i + BATCH_AHEAD] < ((uint64_t)1 << 47)) {
            /* what the access will read first: its ucache slot (TLB
             * off) and its leaf entry; no access frees a table of its
             * own process, so the table pt_prefetch() keeps stays */
            vmsim_vaddr_t a = va[i + BATCH_AHEAD];

            if (sim->tlb == NULL)
                __builtin_prefetch(&p->mm->uc[(a >> PAGE_SHIFT) & (UCACHE_SIZE - 1)], 1);
            pt_prefetch(sim, p->mm, a, &region, &table);
            leaf[(i + BATCH_AHEAD) % BATCH_AHEAD] =
                a >> PMD_SHIFT == region ? &table[PT_INDEX(a, 0)] : NULL;
        } else {
            leaf[(i + BATCH_AHEAD) % BATCH_AHEAD] = NULL;
        }
        {
            /* a swap-in ahead: its map word; a hit ahead: what the
             * policy's touch will write */
            size_t k = (i + TOUCH_AHEAD) % BATCH_AHEAD;
            const pte_t *e = i + TOUCH_AHEAD < n ? leaf[k] : NULL;

            frame[k] = UINT64_MAX;
            if (e != NULL && pte_is_swap(*e) && swp_offset(*e) < sim->nr_swap_slots) {
                __builtin_prefetch(&sim->swap_map[swp_offset(*e)], 1);
            } else if (touch && e != NULL && pte_present(*e) && pte_pfn(*e) < sim->nr_frames) {
                frame[k] = pte_pfn(*e);
                __builtin_prefetch(&sim->frames[frame[k]]);
                if (sim->last_access != NULL)
                    __builtin_prefetch(&sim->last_access[frame[k]], 1);
                if (sim->prefetch != NULL)
                    sim->prefetch(sim->policy_state, frame[k], 0);
            }
            k = (i + TOUCH_AHEAD / 2) % BATCH_AHEAD;
            if (sim->prefetch != NULL && i + TOUCH_AHEAD / 2 < n && frame[k] != UINT64_MAX)
                sim->prefetch(sim->policy_state, frame[k], 1);
        }
        rc = vmsim_access(sim, pid, va[i], size, kind, &out);
        if (rc < 0)
            break;
        all |= out;
        if (p == NULL || !p->alive) {
            i++; /* it died in this one */
            break;
        }
    }
    if (done != NULL)
        *done = i;
    if (outcome != NULL)
        *outcome = all;
    return rc;
}

/* ---- page contents ----------------------------------------------------- */

/* Access each page of [va, va+len) and copy bytes to or from its frame. */
static int data_copy(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint8_t *buf,
                     uint64_t len, bool write, unsigned *outcome)
{
    unsigned out = 0;

    if (sim->frame_data == NULL)
        return VMSIM_ENOTSUP;
    while (len > 0) {
        uint64_t in = va % PAGE_SIZE, n = PAGE_SIZE - in < len ? PAGE_SIZE - in : len;
        struct vmsim__proc *p;
        unsigned o = 0;
        vmsim_pfn_t pfn;
        int level;
        pte_t *e;
        int err = vmsim_access(sim, pid, va, 1, write ? VMSIM_WRITE : VMSIM_READ, &o);

        if (err < 0)
            return err;
        out |= o;
        p = vmsim__proc_find(sim, pid);
        if (!p->alive)
            break;
        e = mmu_walk_level(sim, p->mm, va, &level);
        VMSIM_ASSERT(e != NULL && pte_present(*e));
        /* the 4 KiB frame inside a huge page */
        pfn = pte_pfn(*e) + ((va & (LEVEL_SIZE(level) - 1)) >> PAGE_SHIFT);
        if (write) {
            uint8_t *d = vmsim__frame_data(sim, pfn, true);

            if (d == NULL)
                return VMSIM_ENOMEM;
            memcpy(d + in, buf, n);
        } else {
            const uint8_t *d = pte_special(*e) ? NULL : vmsim__frame_data(sim, pfn, false);

            if (d != NULL)
                memcpy(buf, d + in, n);
            else
                memset(buf, 0, n);
        }
        buf += n;
        va += n;
        len -= n;
    }
    if (outcome != NULL)
        *outcome = out;
    return 0;
}

int vmsim_write_data(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, const void *buf,
                     uint64_t len, unsigned *outcome)
{
    return data_copy(sim, pid, va, (uint8_t *)(uintptr_t)buf, len, true, outcome);
}

int vmsim_read_data(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, void *buf, uint64_t len,
                    unsigned *outcome)
{
    return data_copy(sim, pid, va, buf, len, false, outcome);
}
