/*
 * madvise.c -- madvise(2) and msync(2), VMA by VMA as mm/madvise.c and
 * mm/msync.c walk them: unmapped holes in the range do not stop the walk
 * but make the call fail with ENOMEM at the end.
 */
#include "internal.h"

typedef int (*range_fn)(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                        vmsim_vaddr_t start, vmsim_vaddr_t end, int arg);

/*
 * Apply fn to the part of every VMA inside [start, end). fn gets the VMA's
 * index (valid until fn changes the VMA list) and the clipped range, and
 * returns 0, a positive simulated errno, or VMSIM_E*. Returns the first
 * error, else ENOMEM if part of the range is unmapped, else 0.
 */
static int walk_vmas(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t start,
                     vmsim_vaddr_t end, range_fn fn, int arg)
{
    int unmapped = 0;

    while (start < end) {
        size_t i = vmsim__vma_index(p->mm, start);
        const struct vmsim__vma *v;
        vmsim_vaddr_t s, e;
        int rc;

        if (i == p->mm->nr_vmas || p->mm->vmas[i].start >= end)
            return VMSIM_SYS_ENOMEM;
        v = &p->mm->vmas[i];
        if (v->start > start)
            unmapped = VMSIM_SYS_ENOMEM;
        s = v->start > start ? v->start : start;
        e = v->end < end ? v->end : end;
        rc = fn(sim, p, i, s, e, arg);
        if (rc != 0)
            return rc;
        if (!p->alive)
            return 0;
        start = e;
    }
    return unmapped;
}

/* Set and clear VMA flags over [start, end) of VMA idx, splitting and
 * merging as madvise_update_vma() does. */
static int modify_flags(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                        vmsim_vaddr_t start, vmsim_vaddr_t end, unsigned set, unsigned clear)
{
    struct vmsim__mm *mm = p->mm;
    unsigned nflags = (mm->vmas[idx].flags | set) & ~clear;
    int err;

    if (nflags == mm->vmas[idx].flags)
        return 0;
    if (mm->vmas[idx].flags & VMSIM_VMA_HUGETLB) {
        /* hugetlb_vm_op_split(): only at huge page boundaries */
        uint64_t hs = LEVEL_SIZE(hugetlb_level(&mm->vmas[idx]));

        if ((start & (hs - 1)) || (end & (hs - 1)))
            return VMSIM_SYS_EINVAL;
    }
    err = vmsim__vma_split_at(sim, mm, start);
    if (err == 0)
        err = vmsim__vma_split_at(sim, mm, end);
    if (err < 0)
        return err;
    idx = vmsim__vma_index(mm, start);
    mm->vmas[idx].flags = nflags;
    vmsim__vma_merge_around(mm, idx);
    return 0;
}

/* madvise_cold_or_pageout_pte_range(): reclaim the pages only this
 * process maps, now, whatever the policy would choose. */
static int pageout_range(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                         vmsim_vaddr_t start, vmsim_vaddr_t end)
{
    (void)idx;
    for (vmsim_vaddr_t va = start; va < end && p->alive; va += PAGE_SIZE) {
        int level, err;
        pte_t *e = vmsim__pt_walk(sim, p->mm, va, 0, false, &level, &err);
        struct vmsim__frame *f;

        if (e == NULL) {
            va = round_down(va, PMD_SIZE) + PMD_SIZE - PAGE_SIZE;
            continue;
        }
        if (level == 1 && pte_present(*e) && !pte_special(*e)) {
            /* a THP goes to swap as 4 KiB pages: split it, then revisit */
            vmsim_pfn_t head = pte_pfn(*e);

            if (pfn_frame(sim, head)->refcount != 1)
                continue;
            err = vmsim__split_folio(sim, head);
            if (err < 0)
                return err;
            count_vm_event(sim, VMSIM_VMSTAT_THP_SWPOUT_FALLBACK);
            va -= PAGE_SIZE;
            continue;
        }
        if (level != 0)
            continue;
        if (!pte_present(*e) || pte_special(*e))
            continue;
        f = pfn_frame(sim, pte_pfn(*e));
        if (f->mapcount != 1 || !(f->flags & PG_LRU))
            continue;
        if ((f->flags & (PG_ANON | PG_SHMEM)) && !(f->flags & PG_SWAPCACHE) &&
            !vmsim__swap_available(sim))
            continue;
        err = vmsim__evict(sim, pte_pfn(*e), true);
        if (err < 0 && err != VMSIM_ENOSPC)
            return err;
    }
    return 0;
}

/*
 * MADV_DONTNEED on hugetlb memory (madvise_dontneed_free_valid_vma(),
 * Linux >= 6.1; 5.18 - 6.0 rounded the end up): the start must be
 * huge-page aligned and the end is rounded down to a huge page, so no
 * partial page goes;
 * the huge pages in between are unmapped. A shared mapping's pages stay
 * with its object (the next fault finds them, contents kept). A private
 * page that the owner of the reservations drops is freed with its
 * reservation restored (__unmap_hugepage_range(), Linux >= 6.7): the next
 * fault there takes it again, a zeroed page.
 *
 * Linux restores the reservation of a page still shared with a fork child
 * only when the child lets go of it, and its HugePages_Rsvd can underflow
 * in between; libvmsim refuses that case with EINVAL, before unmapping
 * anything (docs/fidelity.md).
 */
static int dontneed_hugetlb(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                            vmsim_vaddr_t start, vmsim_vaddr_t end)
{
    const struct vmsim__vma *v = &p->mm->vmas[idx];
    unsigned level = hugetlb_level(v);
    uint64_t hs = LEVEL_SIZE(level);
    bool restore = !(v->flags & (VMSIM_VMA_NORESERVE | VMSIM_VMA_SHARED));

    if (start & (hs - 1))
        return VMSIM_SYS_EINVAL;
    end = round_down(end, hs);
    if (start == end)
        return 0;
    for (int pass = restore ? 0 : 1; pass < 2; pass++) {
        if (pass == 1) /* one shootdown for the range, as zap_page_range_single() */
            vmsim__flush_tlb_range(sim, p->mm, start, end);
        for (vmsim_vaddr_t va = start; va < end; va += hs) {
            int l, err;
            pte_t *e = vmsim__pt_walk(sim, p->mm, va, (int)level, false, &l, &err);

            if (e == NULL || pte_none(*e))
                continue;
            if (pass == 0) {
                if (pfn_frame(sim, pte_pfn(*e))->refcount > 1)
                    return VMSIM_SYS_EINVAL;
                continue;
            }
            vmsim__hugetlb_zap(sim, p->mm, e, level);
            if (restore)
                sim->hpool[level - 1].rsvd++; /* the page just went back */
        }
    }
    return 0;
}

static int advise_one(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                      vmsim_vaddr_t start, vmsim_vaddr_t end, int advice)
{
    struct vmsim__vma *v = &p->mm->vmas[idx];

    /* hugetlb pages are never reclaimed or collapsed (can_madv_lru_vma(),
     * thp_vma_allowable_order()) */
    if ((v->flags & VMSIM_VMA_HUGETLB) &&
        (advice == VMSIM_MADV_PAGEOUT || advice == VMSIM_MADV_COLLAPSE))
        return VMSIM_SYS_EINVAL;
    if ((v->flags & VMSIM_VMA_HUGETLB) && advice == VMSIM_MADV_DONTNEED)
        return dontneed_hugetlb(sim, p, idx, start, end);
    switch (advice) {
    case VMSIM_MADV_NORMAL:
        return modify_flags(sim, p, idx, start, end, 0, VMA_RAND_READ | VMA_SEQ_READ);
    case VMSIM_MADV_RANDOM:
        return modify_flags(sim, p, idx, start, end, VMA_RAND_READ, VMA_SEQ_READ);
    case VMSIM_MADV_SEQUENTIAL:
        return modify_flags(sim, p, idx, start, end, VMA_SEQ_READ, VMA_RAND_READ);
    case VMSIM_MADV_HUGEPAGE:
        return modify_flags(sim, p, idx, start, end, VMSIM_VMA_HUGEPAGE,
                            VMSIM_VMA_NOHUGEPAGE);
    case VMSIM_MADV_NOHUGEPAGE:
        return modify_flags(sim, p, idx, start, end, VMSIM_VMA_NOHUGEPAGE,
                            VMSIM_VMA_HUGEPAGE);
    case VMSIM_MADV_DONTNEED:
        /* zap: anonymous pages go, file pages stay cached; the next
         * access faults again (zero-fill for anonymous memory) */
        vmsim__zap_range(sim, p->mm, v, start, end);
        return 0;
    case VMSIM_MADV_WILLNEED: {
        struct vmsim__file *f = file_of(sim, v->file);

        if (f == NULL)
            return 0; /* anonymous: would prefetch swap; nothing swapped yet */
        return vmsim__file_readahead(sim, f, v->pgoff + (start - v->start) / PAGE_SIZE,
                                     (end - start) / PAGE_SIZE);
    }
    case VMSIM_MADV_PAGEOUT:
        return pageout_range(sim, p, idx, start, end);
    case VMSIM_MADV_COLLAPSE:
        return vmsim__collapse_range(sim, p, idx, start, end, false);
    default:
        return VMSIM_ENOTSUP;
    }
}

int vmsim_madvise(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len,
                  vmsim_advice advice)
{
    struct vmsim__proc *p;
    vmsim_vaddr_t end;
    int rc;

    if (sim->panicked)
        return VMSIM_EPANIC;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    switch (advice) {
    case VMSIM_MADV_NORMAL:
    case VMSIM_MADV_RANDOM:
    case VMSIM_MADV_SEQUENTIAL:
    case VMSIM_MADV_WILLNEED:
    case VMSIM_MADV_DONTNEED:
    case VMSIM_MADV_HUGEPAGE:
    case VMSIM_MADV_NOHUGEPAGE:
        break;
    case VMSIM_MADV_PAGEOUT:
        break;
    case VMSIM_MADV_COLLAPSE:
        break;
    default:
        p->last_errno = VMSIM_SYS_EINVAL;
        return VMSIM_SYS_EINVAL;
    }
    rc = 0;
    if ((addr & ~PAGE_MASK) != 0)
        rc = VMSIM_SYS_EINVAL;
    else if (round_up(len, PAGE_SIZE) < len)
        rc = VMSIM_SYS_EINVAL;
    else if (len != 0) {
        end = addr + round_up(len, PAGE_SIZE);
        if (end < addr)
            rc = VMSIM_SYS_EINVAL;
        else {
            struct vmsim__proc *saved = vmsim__api_begin(sim, p);

            rc = vmsim__api_end(sim, p, saved,
                                walk_vmas(sim, p, addr, end, advise_one, (int)advice));
        }
    }
    if (rc >= 0)
        p->last_errno = rc;
    return rc;
}

static int msync_one(struct vmsim *sim, struct vmsim__proc *p, size_t idx,
                     vmsim_vaddr_t start, vmsim_vaddr_t end, int arg)
{
    const struct vmsim__vma *v = &p->mm->vmas[idx];
    struct vmsim__file *f = file_of(sim, v->file);
    uint64_t first, last;

    (void)arg;
    if (f == NULL || !(v->flags & VMSIM_VMA_SHARED))
        return 0;
    first = v->pgoff + (start - v->start) / PAGE_SIZE;
    last = v->pgoff + (end - v->start) / PAGE_SIZE - 1;
    /* entries dirtied by the hardware dirty their cache page first */
    for (vmsim_vaddr_t va = start; va < end; va += PAGE_SIZE) {
        int level, err;
        pte_t *e = vmsim__pt_walk(sim, p->mm, va, 0, false, &level, &err);

        if (e != NULL && pte_present(*e) && (*e & PTE_D) && !pte_special(*e))
            vmsim__page_mark_dirty(sim, pte_pfn(*e));
    }
    vmsim__file_writeback(sim, f, first, last);
    return 0;
}

int vmsim_msync(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len)
{
    struct vmsim__proc *p;
    vmsim_vaddr_t end;
    int rc = 0;

    if (sim->panicked)
        return VMSIM_EPANIC;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    if ((addr & ~PAGE_MASK) != 0) {
        rc = VMSIM_SYS_EINVAL;
    } else if (len != 0) {
        end = addr + round_up(len, PAGE_SIZE);
        if (end < addr || round_up(len, PAGE_SIZE) < len)
            rc = VMSIM_SYS_ENOMEM;
        else
            rc = walk_vmas(sim, p, addr, end, msync_one, 0);
    }
    if (rc >= 0)
        p->last_errno = rc;
    return rc;
}
