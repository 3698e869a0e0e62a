/*
 * rmap.c -- the reverse map: from a frame to every entry that maps it.
 *
 * Linux reaches the mappings of an anonymous page through its anon_vma
 * and of a file page through the file's i_mmap tree, then computes the
 * address in each VMA and checks the entry. Anonymous pages here keep
 * their virtual page number (fork keeps addresses), so the walk checks
 * that address in every process; file pages keep their file offset, so
 * the walk checks every VMA of that file. The entry must map this very
 * frame, exactly the check Linux's page_vma_mapped_walk() makes.
 */
#include "internal.h"

static int visit(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                 vmsim_vaddr_t va, vmsim_pfn_t pfn, vmsim__rmap_fn fn, void *arg,
                 uint32_t *left)
{
    int level;
    /* reclaim's walk cache: a policy's scan (clock's hand, the aging of
     * the linux lists) and eviction go through neighbouring pages */
    pte_t *e = sim->slow_paths ? pt_lookup(sim, p->mm, va, &level)
                               : pt_lookup_cached(sim, p->mm, &p->mm->wc_reclaim, va, &level);

    if (e == NULL || !pte_present(*e) || pte_special(*e) || pte_pfn(*e) != pfn)
        return 0;
    (*left)--;
    return fn(sim, p, vma, va, e, arg);
}

int vmsim__rmap_walk(struct vmsim *sim, vmsim_pfn_t pfn, vmsim__rmap_fn fn, void *arg)
{
    const struct vmsim__frame *f = pfn_frame(sim, pfn);
    /* a THP's head is also found where a PMD maps the whole folio */
    uint32_t left = f->mapcount + (folio_large(sim, pfn) ? *entire_mapcount(sim, pfn) : 0);
    int rc = 0;

    for (size_t i = 0; i < sim->nr_procs && left > 0 && rc == 0; i++) {
        struct vmsim__proc *p = sim->procs[i];
        struct vmsim__mm *mm = p->mm;

        if (mm == NULL)
            continue;
        if (f->flags & PG_ANON) {
            vmsim_vaddr_t va = f->index << PAGE_SHIFT;
            struct vmsim__vma *vma = vma_find_cached(mm, va);

            if (vma != NULL && vma->start <= va)
                rc = visit(sim, p, vma, va, pfn, fn, arg, &left);
            continue;
        }
        for (size_t j = 0; j < mm->nr_vmas && left > 0 && rc == 0; j++) {
            struct vmsim__vma *vma = &mm->vmas[j];
            uint64_t pages = (vma->end - vma->start) / PAGE_SIZE;

            if (vma->file != f->mapping || f->index < vma->pgoff ||
                f->index >= vma->pgoff + pages)
                continue;
            rc = visit(sim, p, vma, vma->start + (f->index - vma->pgoff) * PAGE_SIZE, pfn, fn,
                       arg, &left);
        }
    }
    return rc;
}
