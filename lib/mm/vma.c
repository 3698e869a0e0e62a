/*
 * vma.c -- a process's VMAs: a sorted array of non-overlapping ranges.
 *
 * Linux keeps VMAs in a maple tree; a sorted array with binary search has
 * the same observable behaviour (find, split, merge) and is compact. VMA
 * lookups happen only on faults and syscalls, never on a hit.
 */
#include "internal.h"

size_t vmsim__vma_index(const struct vmsim__mm *mm, vmsim_vaddr_t va)
{
    size_t lo = 0, hi = mm->nr_vmas;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (mm->vmas[mid].end > va)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

struct vmsim__vma *vmsim__vma_find(const struct vmsim__mm *mm, vmsim_vaddr_t va)
{
    size_t i = vmsim__vma_index(mm, va);

    return i < mm->nr_vmas ? &mm->vmas[i] : NULL;
}

bool vmsim__vma_range_free(const struct vmsim__mm *mm, vmsim_vaddr_t addr, uint64_t len)
{
    const struct vmsim__vma *v = vmsim__vma_find(mm, addr);

    return v == NULL || v->start >= addr + len;
}

/*
 * Whether a (below) and b (above) may become one VMA, as Linux's
 * is_mergeable_vma() and is_mergeable_anon_vma(): adjacent, same flags and
 * protection, same file at contiguous offsets, compatible anon_vma.
 */
static bool can_merge(const struct vmsim__vma *a, const struct vmsim__vma *b)
{
    if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
        a->file != b->file || a->hobj != b->hobj)
        return false;
    if (a->file != 0 && a->pgoff + (a->end - a->start) / PAGE_SIZE != b->pgoff)
        return false;
    if ((a->flags & VMSIM_VMA_SHARED) && a->file == 0)
        return false; /* each shared anonymous mapping is its own shmem object */
    return a->anon_id == 0 || b->anon_id == 0 || a->anon_id == b->anon_id;
}

void vmsim__vma_remove(struct vmsim__mm *mm, size_t idx, size_t n)
{
    VMSIM_ASSERT(idx + n <= mm->nr_vmas);
    memmove(&mm->vmas[idx], &mm->vmas[idx + n],
            (mm->nr_vmas - idx - n) * sizeof(mm->vmas[0]));
    mm->nr_vmas -= n;
}

void vmsim__vma_merge_around(struct vmsim__mm *mm, size_t i)
{
    if (i + 1 < mm->nr_vmas && can_merge(&mm->vmas[i], &mm->vmas[i + 1])) {
        if (mm->vmas[i].anon_id == 0)
            mm->vmas[i].anon_id = mm->vmas[i + 1].anon_id;
        mm->vmas[i].end = mm->vmas[i + 1].end;
        vmsim__vma_remove(mm, i + 1, 1);
    }
    if (i > 0 && can_merge(&mm->vmas[i - 1], &mm->vmas[i])) {
        if (mm->vmas[i - 1].anon_id == 0)
            mm->vmas[i - 1].anon_id = mm->vmas[i].anon_id;
        mm->vmas[i - 1].end = mm->vmas[i].end;
        vmsim__vma_remove(mm, i, 1);
    }
}

int vmsim__vma_insert(struct vmsim *sim, struct vmsim__mm *mm, const struct vmsim__vma *v)
{
    size_t i = vmsim__vma_index(mm, v->start);
    int err;

    VMSIM_ASSERT(v->start < v->end);
    VMSIM_ASSERT(i == mm->nr_vmas || mm->vmas[i].start >= v->end);
    err = vmsim__grow(sim, (void **)&mm->vmas, &mm->cap_vmas, mm->nr_vmas + 1,
                      sizeof(mm->vmas[0]));
    if (err < 0)
        return err;
    memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(mm->vmas[0]));
    mm->vmas[i] = *v;
    mm->nr_vmas++;
    vmsim__vma_merge_around(mm, i);
    return 0;
}

int vmsim__vma_split_at(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t addr)
{
    size_t i = vmsim__vma_index(mm, addr);
    struct vmsim__vma *v;
    int err;

    if (i == mm->nr_vmas || mm->vmas[i].start >= addr)
        return 0; /* nothing straddles addr */
    err = vmsim__grow(sim, (void **)&mm->vmas, &mm->cap_vmas, mm->nr_vmas + 1,
                      sizeof(mm->vmas[0]));
    if (err < 0)
        return err;
    if ((addr & ~PMD_MASK) != 0 && !(mm->vmas[i].flags & VMSIM_VMA_HUGETLB)) {
        /* vma_adjust_trans_huge(): no THP may straddle a VMA boundary */
        int level;
        pte_t *pmd = vmsim__pt_walk(sim, mm, addr, 1, false, &level, &err);

        if (pmd != NULL && level == 1 && pte_huge(*pmd))
            vmsim__split_huge_pmd(sim, mm, pmd);
    }
    memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(mm->vmas[0]));
    mm->nr_vmas++;
    v = &mm->vmas[i];
    v[1].start = addr;
    v[1].pgoff = v->pgoff + (addr - v->start) / PAGE_SIZE;
    v->end = addr;
    return 0;
}

vmsim_vaddr_t vmsim__vma_gap_topdown(const struct vmsim__mm *mm, uint64_t len,
                                     vmsim_vaddr_t low, vmsim_vaddr_t high)
{
    size_t i = vmsim__vma_index(mm, high);

    /* Gaps from the one below `high` downwards: [prev end, next start). */
    for (;;) {
        vmsim_vaddr_t gap_end = i < mm->nr_vmas ? mm->vmas[i].start : TASK_SIZE;
        vmsim_vaddr_t gap_start = i > 0 ? mm->vmas[i - 1].end : 0;

        if (gap_end > high)
            gap_end = high;
        if (gap_start < low)
            gap_start = low;
        if (gap_end >= gap_start && gap_end - gap_start >= len)
            return gap_end - len;
        if (i == 0 || gap_start <= low)
            return 0;
        i--;
    }
}
