/*
 * huge.c -- transparent huge pages (mm/huge_memory.c, mm/khugepaged.c).
 *
 * A THP is an order-9 block of frames (a folio): the head frame carries
 * the folio's refcount, flags and LRU membership, every frame its own PTE
 * mapcount, and the second frame's refcount field the number of PMDs that
 * map the whole folio (_entire_mapcount). Rules, as Linux 6.x:
 *
 *  - an anonymous fault uses a THP when the VMA allows it (THP "always",
 *    or "madvise" and MADV_HUGEPAGE; never with MADV_NOHUGEPAGE), the
 *    aligned 2 MiB around the fault lies inside the VMA, the PMD is empty,
 *    and an order-9 block is free; otherwise it falls back to 4 KiB pages
 *    (thp_fault_fallback). No reclaim or compaction is tried for it.
 *  - a read maps the huge zero page; a write to it allocates a THP
 *    (Linux >= 6.12), or splits the zero PMD when none can be had.
 *  - every huge PMD deposits a page table, so VmPTE equals the 4 KiB case.
 *  - fork shares a THP write-protected; a write to a shared one splits
 *    that PMD (thp_split_pmd) and copies 4 KiB; an exclusive one is reused.
 *  - a partial munmap/mprotect/MADV_DONTNEED splits the PMD; a folio left
 *    partly mapped by PTEs only is split at once (Linux defers that to a
 *    shrinker), freeing its unmapped pages; reclaim splits before swap-out.
 *  - khugepaged and MADV_COLLAPSE copy a 2 MiB range into a new THP under
 *    max_ptes_none 511, max_ptes_swap 64, max_ptes_shared 256 and at least
 *    one young page, half of them with swapped-out pages (khugepaged only;
 *    MADV_COLLAPSE ignores them); some present page must be writable.
 *    MADV_COLLAPSE fails as madvise_collapse() does when a range stays
 *    small: ENOMEM without a free 2 MiB block, EINVAL otherwise (nothing
 *    mapped, read-only, MADV_NOHUGEPAGE).
 */
#include "internal.h"

#define MAX_PTES_NONE   511
#define MAX_PTES_SWAP   64
#define MAX_PTES_SHARED 256

bool vmsim__thp_vma_allowed(const struct vmsim *sim, const struct vmsim__vma *vma)
{
    if (vma->file != 0 || (vma->flags & (VMSIM_VMA_SHARED | VMSIM_VMA_HUGETLB)))
        return false;
    if (vma->flags & VMSIM_VMA_NOHUGEPAGE)
        return false;
    switch (sim->cfg.thp) {
    case VMSIM_THP_ALWAYS:
        return true;
    case VMSIM_THP_MADVISE:
        return (vma->flags & VMSIM_VMA_HUGEPAGE) != 0;
    default:
        return false;
    }
}

/* ---- deposited page tables ---------------------------------------------- */

int vmsim__pgtable_deposit(struct vmsim *sim, struct vmsim__mm *mm)
{
    vmsim_pfn_t pfn;
    int err = vmsim__table_alloc(sim, mm, 0, 0, &pfn);

    if (err < 0)
        return err;
    pfn_frame(sim, pfn)->mapcount = (uint32_t)mm->deposit; /* next link */
    mm->deposit = pfn + 1;
    mm->nr_deposits++;
    return 0;
}

static vmsim_pfn_t pgtable_withdraw(struct vmsim *sim, struct vmsim__mm *mm)
{
    vmsim_pfn_t pfn;

    VMSIM_ASSERT(mm->deposit != 0);
    pfn = mm->deposit - 1;
    mm->deposit = pfn_frame(sim, pfn)->mapcount;
    pfn_frame(sim, pfn)->mapcount = 0;
    mm->nr_deposits--;
    return pfn;
}

void vmsim__pgtable_free_deposit(struct vmsim *sim, struct vmsim__mm *mm)
{
    vmsim__table_free(sim, mm, pgtable_withdraw(sim, mm));
}

/* ---- folios -------------------------------------------------------------- */

/* Subpages of a folio that count as mapped (AnonPages): those a PTE maps,
 * or all of them while a PMD maps the folio. */
static void anon_mapped_delta(struct vmsim *sim, vmsim_pfn_t head, int64_t delta_all)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < HPAGE_NR; i++)
        if (pfn_frame(sim, head + i)->mapcount == 0)
            n++;
    mod_vm_stat(sim, VMSIM_VMSTAT_NR_ANON_PAGES, delta_all * (int64_t)n);
}

/* A new exclusive THP for the aligned range at haddr of vma. */
static int alloc_thp(struct vmsim *sim, struct vmsim__mm *mm, struct vmsim__vma *vma,
                     vmsim_vaddr_t haddr, vmsim_pfn_t *out)
{
    vmsim_pfn_t head;

    if (sim->cfg.resident_limit != 0 &&
        sim->nr_user_pages + HPAGE_NR > sim->cfg.resident_limit / PAGE_SIZE)
        return VMSIM__FALLBACK;
    if (sim->nr_free < sim->wmark_low + HPAGE_NR || vmsim__phys_alloc(sim, HPAGE_ORDER, &head) < 0)
        return VMSIM__FALLBACK;
    if (vma->anon_id == 0)
        vma->anon_id = sim->next_anon_id++;
    for (unsigned i = 0; i < HPAGE_NR; i++) {
        struct vmsim__frame *f = pfn_frame(sim, head + i);

        f->flags |= PG_ANON | PG_ANON_EXCLUSIVE | (i == 0 ? PG_HEAD : PG_TAIL);
        f->mapping = vma->anon_id;
        f->index = (haddr >> PAGE_SHIFT) + i;
    }
    pfn_frame(sim, head)->refcount = 1;
    *entire_mapcount(sim, head) = 1;
    sim->nr_user_pages += HPAGE_NR;
    mm->rss[MM_ANONPAGES] += HPAGE_NR;
    mm_update_hiwater_rss(mm);
    mod_vm_stat(sim, VMSIM_VMSTAT_NR_ANON_PAGES, HPAGE_NR);
    count_vm_event(sim, VMSIM_VMSTAT_NR_ANON_THPS);
    vmsim__lru_add(sim, head);
    vmsim__charge(sim, VMSIM_COST_zero_page, HPAGE_NR);
    *out = head;
    return 0;
}

static pte_t huge_prot(const struct vmsim__vma *vma)
{
    return vma_page_prot(vma) | PTE_PS | PTE_A;
}

static int huge_anonymous_page(struct fault *vf, pte_t *pmd)
{
    struct vmsim *sim = vf->sim;
    vmsim_vaddr_t haddr = vf->va & PMD_MASK;
    vmsim_pfn_t head;
    int err;

    if (vf->kind != VMSIM_WRITE && sim->cfg.zero_page) {
        err = vmsim__pgtable_deposit(sim, vf->mm);
        if (err < 0)
            return err;
        if (!sim->huge_zero_used) {
            sim->huge_zero_used = true;
            count_vm_event(sim, VMSIM_VMSTAT_THP_ZERO_PAGE_ALLOC);
        }
        *pmd = pfn_pte(sim->huge_zero_pfn) | (huge_prot(vf->vma) & ~PTE_RW) | PTE_SPECIAL;
        vf->cause = "huge-zero-page";
        return VMSIM_OUT_MINOR | VMSIM_OUT_ZERO | VMSIM_OUT_HUGE;
    }
    err = alloc_thp(sim, vf->mm, vf->vma, haddr, &head);
    if (err == VMSIM__FALLBACK) {
        count_vm_event(sim, VMSIM_VMSTAT_THP_FAULT_FALLBACK);
        return VMSIM__FALLBACK;
    }
    err = vmsim__pgtable_deposit(sim, vf->mm);
    if (err < 0) {
        /* undo the folio: nothing maps it yet */
        *entire_mapcount(sim, head) = 0;
        vf->mm->rss[MM_ANONPAGES] -= HPAGE_NR;
        mod_vm_stat(sim, VMSIM_VMSTAT_NR_ANON_PAGES, -(int64_t)HPAGE_NR);
        sim->vmstat[VMSIM_VMSTAT_NR_ANON_THPS]--;
        vmsim__put_page(sim, head);
        return err;
    }
    *pmd = pfn_pte(head) | huge_prot(vf->vma) | PTE_D |
           ((vf->vma->prot & VMSIM_PROT_WRITE) ? PTE_RW : 0);
    count_vm_event(sim, VMSIM_VMSTAT_THP_FAULT_ALLOC);
    vmsim__emit(sim, VMSIM_EV_THP_ALLOC, vf->proc->pid, haddr, head, VMSIM_OUT_HUGE, "thp");
    vf->cause = "thp";
    return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;
}

int vmsim__split_huge_pmd(struct vmsim *sim, struct vmsim__mm *mm, pte_t *pmd)
{
    pte_t e = *pmd, bits = e & ~(PTE_PFN_MASK | PTE_PS);
    vmsim_pfn_t table = pgtable_withdraw(sim, mm), head = pte_pfn(e);
    pte_t *ptes = pt_table(sim, table);

    if (pte_special(e))
        vmsim__flush_tlb_mm(sim, mm); /* the huge zero page does not know its address */
    else
        vmsim__flush_tlb_range(sim, mm, pfn_frame(sim, head)->index << PAGE_SHIFT,
                               (pfn_frame(sim, head)->index << PAGE_SHIFT) + PMD_SIZE);
    if (pte_special(e)) {
        for (unsigned i = 0; i < HPAGE_NR; i++)
            ptes[i] = pfn_pte(sim->zero_pfn) | bits;
    } else {
        struct vmsim__frame *h = pfn_frame(sim, head);

        for (unsigned i = 0; i < HPAGE_NR; i++) {
            ptes[i] = pfn_pte(head + i) | bits;
            pfn_frame(sim, head + i)->mapcount++;
        }
        h->refcount += HPAGE_NR - 1;
        if (--*entire_mapcount(sim, head) == 0)
            sim->vmstat[VMSIM_VMSTAT_NR_ANON_THPS]--;
    }
    *pmd = pfn_pte(table) | PTE_TABLE;
    count_vm_event(sim, VMSIM_VMSTAT_THP_SPLIT_PMD);
    vmsim__emit(sim, VMSIM_EV_THP_SPLIT, mm->owner, pfn_frame(sim, table)->index, head, 0,
                "split-pmd");
    return 0;
}

void vmsim__zap_huge_pmd(struct vmsim *sim, struct vmsim__mm *mm, pte_t *pmd)
{
    pte_t e = *pmd;
    vmsim_pfn_t head = pte_pfn(e);

    *pmd = 0;
    vmsim__pgtable_free_deposit(sim, mm);
    if (pte_special(e))
        return;
    mm->rss[MM_ANONPAGES] -= HPAGE_NR;
    if (--*entire_mapcount(sim, head) == 0) {
        sim->vmstat[VMSIM_VMSTAT_NR_ANON_THPS]--;
        anon_mapped_delta(sim, head, -1);
    }
    vmsim__put_page(sim, head);
}

int vmsim__copy_huge_pmd(struct vmsim *sim, struct vmsim__mm *dst, pte_t *spmd, pte_t *dpmd)
{
    int err = vmsim__pgtable_deposit(sim, dst);
    pte_t e;

    if (err < 0)
        return err;
    /* The deposit's allocation may reclaim, and reclaim may split this
     * very THP: read the entry only now (Linux allocates first too). */
    e = *spmd;
    if (!pte_huge(e)) {
        vmsim__pgtable_free_deposit(sim, dst);
        return VMSIM__FALLBACK; /* copy it as a page table */
    }
    if (!pte_special(e)) {
        vmsim_pfn_t head = pte_pfn(e);

        for (unsigned i = 0; i < HPAGE_NR; i++)
            pfn_frame(sim, head + i)->flags &= (uint16_t)~PG_ANON_EXCLUSIVE;
        pfn_frame(sim, head)->refcount++;
        ++*entire_mapcount(sim, head);
        dst->rss[MM_ANONPAGES] += HPAGE_NR;
        *spmd = e = e & ~PTE_RW;
    }
    *dpmd = e & ~PTE_A;
    return 0;
}

/* A write fault, or an access, on a present huge PMD (do_huge_pmd_wp_page). */
static int huge_pmd_present(struct fault *vf, pte_t *pmd)
{
    struct vmsim *sim = vf->sim;
    pte_t e = *pmd;
    vmsim_pfn_t head = pte_pfn(e), new_head;
    int err;

    if (vf->kind != VMSIM_WRITE || pte_write(e)) {
        *pmd = e | PTE_A; /* spurious */
        vf->cause = "spurious";
        return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;
    }
    if (pte_special(e)) {
        /* a write to the huge zero page: a THP if one can be had */
        err = alloc_thp(sim, vf->mm, vf->vma, vf->va & PMD_MASK, &new_head);
        if (err == 0) {
            *pmd = pfn_pte(new_head) | huge_prot(vf->vma) | PTE_D | PTE_RW;
            count_vm_event(sim, VMSIM_VMSTAT_THP_FAULT_ALLOC);
            vf->cause = "thp";
            return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;
        }
        count_vm_event(sim, VMSIM_VMSTAT_THP_FAULT_FALLBACK);
    } else if (pfn_frame(sim, head)->refcount == 1) {
        /* only this PMD holds the folio: reuse it */
        for (unsigned i = 0; i < HPAGE_NR; i++)
            pfn_frame(sim, head + i)->flags |= PG_ANON_EXCLUSIVE;
        *pmd = e | PTE_RW | PTE_D | PTE_A;
        vf->cause = "reuse";
        return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE | VMSIM_OUT_REUSE;
    }
    err = vmsim__split_huge_pmd(sim, vf->mm, pmd);
    if (err < 0)
        return err;
    return VMSIM__FALLBACK;
}

int vmsim__do_huge_pmd_fault(struct fault *vf, pte_t *pmd)
{
    vmsim_vaddr_t haddr = vf->va & PMD_MASK;

    if (pte_none(*pmd)) {
        if (!vmsim__thp_vma_allowed(vf->sim, vf->vma) || haddr < vf->vma->start ||
            haddr + PMD_SIZE > vf->vma->end)
            return VMSIM__FALLBACK;
        return huge_anonymous_page(vf, pmd);
    }
    if (pte_huge(*pmd))
        return huge_pmd_present(vf, pmd);
    return VMSIM__FALLBACK;
}

/* ---- splitting folios ---------------------------------------------------- */

static int split_pmd_one(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                         vmsim_vaddr_t va, pte_t *pte, void *arg)
{
    (void)vma, (void)va, (void)arg;
    if (!pte_huge(*pte))
        return 0;
    return vmsim__split_huge_pmd(sim, p->mm, pte);
}

int vmsim__split_folio(struct vmsim *sim, vmsim_pfn_t head)
{
    uint32_t entire;
    int err;

    VMSIM_ASSERT(folio_large(sim, head));
    /* the rmap walk finds PMD mappings as entries of the head */
    entire = *entire_mapcount(sim, head);
    if (entire != 0) {
        err = vmsim__rmap_walk(sim, head, split_pmd_one, NULL);
        if (err < 0)
            return err;
    }
    VMSIM_ASSERT(*entire_mapcount(sim, head) == 0);
    vmsim__lru_del(sim, head);
    for (unsigned i = 0; i < HPAGE_NR; i++) {
        struct vmsim__frame *f = pfn_frame(sim, head + i);

        f->flags = (uint16_t)((f->flags & ~(PG_HEAD | PG_TAIL)) | PG_ALLOCATED);
        f->order = 0;
        f->refcount = f->mapcount;
    }
    count_vm_event(sim, VMSIM_VMSTAT_THP_SPLIT_PAGE);
    for (unsigned i = 0; i < HPAGE_NR; i++) {
        struct vmsim__frame *f = pfn_frame(sim, head + i);

        if (f->refcount == 0) {
            vmsim__frame_data_free(sim, head + i);
            sim->nr_user_pages--;
            vmsim__phys_free(sim, head + i, 0);
        } else {
            vmsim__lru_add(sim, head + i);
        }
    }
    return 0;
}

/* ---- khugepaged and MADV_COLLAPSE ----------------------------------------- */

/* What one 2 MiB range gave, as mm/khugepaged.c's enum scan_result (the
 * cases libvmsim meets). */
enum scan_result {
    SCAN_SUCCEED,              /* collapsed, or already mapped by a PMD */
    SCAN_PMD_NULL,             /* no page directory for the range */
    SCAN_PMD_NONE,             /* an empty PMD: no page table */
    SCAN_EXCEED_NONE_PTE,      /* khugepaged's max_ptes_none */
    SCAN_EXCEED_SWAP_PTE,      /* khugepaged's max_ptes_swap */
    SCAN_EXCEED_SHARED_PTE,    /* khugepaged's max_ptes_shared */
    SCAN_PAGE_RO,              /* no present entry is writable */
    SCAN_LACK_REFERENCED_PAGE, /* khugepaged: too few young pages */
    SCAN_PAGE_ANON,            /* a page that is not anonymous */
    SCAN_PTE_NON_PRESENT,      /* a page went out again while others came in */
    SCAN_ALLOC_HUGE_PAGE_FAIL, /* no free 2 MiB block */
};

struct scan {
    unsigned none, swap, shared, present, referenced;
    bool writable;
};

/* hpage_collapse_scan_pmd()'s walk of the PTEs under one PMD. */
static enum scan_result scan_pmd(struct vmsim *sim, pte_t *ptes, bool khugepaged,
                                 struct scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    for (unsigned i = 0; i < HPAGE_NR; i++) {
        pte_t e = ptes[i];

        if (pte_is_swap(e)) {
            if (++sc->swap > MAX_PTES_SWAP && khugepaged)
                return SCAN_EXCEED_SWAP_PTE;
        } else if (pte_none(e) || (pte_present(e) && pte_special(e))) {
            if (++sc->none > MAX_PTES_NONE && khugepaged)
                return SCAN_EXCEED_NONE_PTE;
        } else {
            const struct vmsim__frame *f = pfn_frame(sim, pte_pfn(e));

            if (e & PTE_RW)
                sc->writable = true;
            if (!(f->flags & PG_ANON) || (f->flags & PG_FILE))
                return SCAN_PAGE_ANON;
            if (f->mapcount > 1 && ++sc->shared > MAX_PTES_SHARED && khugepaged)
                return SCAN_EXCEED_SHARED_PTE;
            if ((e & PTE_A) || (f->flags & PG_REFERENCED))
                sc->referenced++;
            sc->present++;
        }
    }
    if (!sc->writable)
        return SCAN_PAGE_RO;
    if (khugepaged && (sc->referenced == 0 || (sc->swap > 0 && sc->referenced < HPAGE_NR / 2)))
        return SCAN_LACK_REFERENCED_PAGE;
    return SCAN_SUCCEED;
}

static int collapse_pmd(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                        vmsim_vaddr_t haddr, bool khugepaged, enum scan_result *result)
{
    struct vmsim__mm *mm = p->mm;
    int level, err;
    pte_t *pmd = vmsim__pt_walk(sim, mm, haddr, 1, false, &level, &err);
    pte_t *ptes;
    struct scan sc;
    vmsim_pfn_t head, table;

    if (pmd == NULL || level != 1) {
        *result = SCAN_PMD_NULL;
        return 0;
    }
    if (pte_none(*pmd) || pte_huge(*pmd)) {
        *result = pte_none(*pmd) ? SCAN_PMD_NONE : SCAN_SUCCEED;
        return 0;
    }
    table = pte_pfn(*pmd);
    ptes = pt_table(sim, table);
    *result = scan_pmd(sim, ptes, khugepaged, &sc);
    if (*result != SCAN_SUCCEED)
        return 0;
    /* swap the missing pages in first (__collapse_huge_page_swapin) */
    for (unsigned i = 0; i < HPAGE_NR && sc.swap > 0; i++) {
        if (pte_is_swap(ptes[i])) {
            struct fault vf = { .sim = sim, .proc = p, .mm = mm, .vma = vma,
                                .va = haddr + (uint64_t)i * PAGE_SIZE, .kind = VMSIM_READ,
                                .pte = &ptes[i] };

            err = vmsim__do_swap_page(&vf);
            if (err < 0)
                return err;
        }
    }
    /* Each swap-in may have reclaimed, and reclaim may have taken pages
     * of this very range again: look again, and give up while a page is
     * not present (__collapse_huge_page_isolate's SCAN_PTE_NON_PRESENT). */
    if (sc.swap > 0) {
        *result = scan_pmd(sim, ptes, khugepaged, &sc);
        if (*result == SCAN_SUCCEED && sc.swap > 0)
            *result = SCAN_PTE_NON_PRESENT;
        if (*result != SCAN_SUCCEED)
            return 0;
    }
    if (sim->nr_free < sim->wmark_low + HPAGE_NR || vmsim__phys_alloc(sim, HPAGE_ORDER, &head) < 0) {
        count_vm_event(sim, VMSIM_VMSTAT_THP_COLLAPSE_ALLOC_FAILED);
        *result = SCAN_ALLOC_HUGE_PAGE_FAIL;
        return 0;
    }
    vmsim__flush_tlb_range(sim, mm, haddr, haddr + PMD_SIZE);
    /* the new folio, filled from the small pages; they are unmapped */
    if (vma->anon_id == 0)
        vma->anon_id = sim->next_anon_id++;
    for (unsigned i = 0; i < HPAGE_NR; i++) {
        struct vmsim__frame *f = pfn_frame(sim, head + i);
        pte_t e = ptes[i];

        f->flags |= PG_ANON | PG_ANON_EXCLUSIVE | (i == 0 ? PG_HEAD : PG_TAIL);
        f->mapping = vma->anon_id;
        f->index = (haddr >> PAGE_SHIFT) + i;
        ptes[i] = 0;
        if (pte_present(e) && !pte_special(e)) {
            vmsim__frame_data_copy(sim, head + i, pte_pfn(e));
            vmsim__page_remove_rmap(sim, mm, pte_pfn(e));
        }
    }
    pfn_frame(sim, head)->refcount = 1;
    *entire_mapcount(sim, head) = 1;
    sim->nr_user_pages += HPAGE_NR;
    mm->rss[MM_ANONPAGES] += HPAGE_NR;
    mm_update_hiwater_rss(mm);
    mod_vm_stat(sim, VMSIM_VMSTAT_NR_ANON_PAGES, HPAGE_NR);
    count_vm_event(sim, VMSIM_VMSTAT_NR_ANON_THPS);
    vmsim__lru_add(sim, head);
    /* the page table becomes the THP's deposit */
    pfn_frame(sim, table)->mapcount = (uint32_t)mm->deposit;
    mm->deposit = table + 1;
    mm->nr_deposits++;
    *pmd = pfn_pte(head) | huge_prot(vma) | PTE_D |
           ((vma->prot & VMSIM_PROT_WRITE) ? PTE_RW : 0);
    count_vm_event(sim, VMSIM_VMSTAT_THP_COLLAPSE_ALLOC);
    vmsim__charge(sim, VMSIM_COST_copy_page, HPAGE_NR);
    vmsim__emit(sim, VMSIM_EV_THP_COLLAPSE, p->pid, haddr, head, VMSIM_OUT_HUGE, "collapse");
    return 0;
}

/* madvise_collapse_errno(): what MADV_COLLAPSE says when a range stayed
 * small. */
static int collapse_errno(enum scan_result r)
{
    switch (r) {
    case SCAN_ALLOC_HUGE_PAGE_FAIL:
        return VMSIM_SYS_ENOMEM;
    case SCAN_EXCEED_NONE_PTE:
        return VMSIM_SYS_EBUSY;
    default:
        return VMSIM_SYS_EINVAL;
    }
}

int vmsim__collapse_range(struct vmsim *sim, struct vmsim__proc *p, size_t vma_idx,
                          vmsim_vaddr_t start, vmsim_vaddr_t end, bool khugepaged)
{
    struct vmsim__vma *vma = &p->mm->vmas[vma_idx];
    vmsim_vaddr_t hstart = round_up(start, PMD_SIZE), hend = end & ~(PMD_SIZE - 1);
    enum scan_result last_fail = SCAN_SUCCEED;
    uint64_t thps = 0;

    /* thp_vma_allowable_order(): MADV_COLLAPSE ignores the "enabled"
     * setting but not MADV_NOHUGEPAGE; anonymous private memory only
     * (no shmem or file THPs here) */
    if (vma->file != 0 || (vma->flags & (VMSIM_VMA_SHARED | VMSIM_VMA_HUGETLB)) ||
        (khugepaged ? !vmsim__thp_vma_allowed(sim, vma) : (vma->flags & VMSIM_VMA_NOHUGEPAGE)))
        return khugepaged ? 0 : VMSIM_SYS_EINVAL;
    if (hstart < vma->start)
        hstart = round_up(vma->start, PMD_SIZE);
    if (hend > (vma->end & ~(PMD_SIZE - 1)))
        hend = vma->end & ~(PMD_SIZE - 1);
    if (hstart >= hend)
        return 0;
    for (vmsim_vaddr_t haddr = hstart; haddr < hend && p->alive; haddr += PMD_SIZE) {
        enum scan_result result;
        int err = collapse_pmd(sim, p, vma, haddr, khugepaged, &result);

        if (err < 0)
            return err;
        vma = &p->mm->vmas[vma_idx];
        if (result == SCAN_SUCCEED) {
            thps++;
            continue;
        }
        last_fail = result;
        if (khugepaged)
            continue; /* khugepaged just moves on */
        /* madvise_collapse(): these let it go on to the next range, any
         * other failure ends the call */
        if (result != SCAN_PMD_NULL && result != SCAN_PTE_NON_PRESENT &&
            result != SCAN_PAGE_RO && result != SCAN_LACK_REFERENCED_PAGE)
            break;
    }
    if (khugepaged || !p->alive || thps == (hend - hstart) / PMD_SIZE)
        return 0;
    return collapse_errno(last_fail);
}

int vmsim_khugepaged(vmsim_t *sim, vmsim_pid_t pid)
{
    if (sim->panicked)
        return VMSIM_EPANIC;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        struct vmsim__proc *p = sim->procs[i];

        if (p->mm == NULL || (pid != 0 && p->pid != pid))
            continue;
        /* a collapse's swap-in may have the OOM killer take p, which
         * then has no address space: look at alive first */
        for (size_t j = 0; p->alive && j < p->mm->nr_vmas; j++) {
            struct vmsim__proc *saved = vmsim__api_begin(sim, p);
            int err = vmsim__collapse_range(sim, p, j, p->mm->vmas[j].start,
                                            p->mm->vmas[j].end, true);

            err = vmsim__api_end(sim, p, saved, err);
            if (err < 0)
                return err;
        }
    }
    if (pid != 0 && vmsim__proc_find(sim, pid) == NULL)
        return VMSIM_ESRCH;
    return 0;
}
