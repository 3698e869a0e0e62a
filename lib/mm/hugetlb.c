/*
 * hugetlb.c -- hugetlb pools of 2 MiB and 1 GiB pages (mm/hugetlb.c).
 *
 * The pools are taken from the buddy allocator when the machine is made
 * (as hugepages= at boot: as many as fit), so they count in MemTotal and
 * not in MemFree. A mapping reserves its pages at mmap time (HugePages_Rsvd;
 * ENOMEM when the pool cannot cover it, unless MAP_NORESERVE); a fault
 * takes a reserved page and maps it with a PMD (2 MiB) or PDPT (1 GiB)
 * leaf. hugetlb pages are never on the LRU, never swapped, and not in
 * VmRSS (they show as HugetlbPages).
 */
#include "internal.h"

static const unsigned pool_order[2] = { 9, 18 };

int vmsim__hugetlb_init(struct vmsim *sim)
{
    const uint64_t want[2] = { sim->cfg.hugepages_2m, sim->cfg.hugepages_1g };

    /* 1 GiB pages first, while large blocks are still whole */
    for (int k = 1; k >= 0; k--) {
        struct vmsim__hpool *hp = &sim->hpool[k];

        if (want[k] == 0)
            continue;
        if (want[k] > sim->nr_frames >> pool_order[k])
            return VMSIM_ERANGE;
        hp->free_list = vmsim__calloc(sim, want[k], sizeof(*hp->free_list));
        if (hp->free_list == NULL)
            return VMSIM_ENOMEM;
        while (hp->total < want[k]) {
            vmsim_pfn_t pfn;

            if (vmsim__phys_alloc(sim, pool_order[k], &pfn) < 0)
                break; /* as many as fit, as at boot */
            pfn_frame(sim, pfn)->flags |= PG_HUGETLB | PG_HEAD;
            pfn_frame(sim, pfn)->refcount = 0;
            hp->free_list[hp->free++] = pfn;
            hp->total++;
        }
    }
    return 0;
}

void vmsim__hugetlb_destroy(struct vmsim *sim)
{
    for (int k = 0; k < 2; k++) {
        vmsim__free(sim, sim->hpool[k].free_list);
        sim->hpool[k].free_list = NULL;
    }
}

int vmsim__hugetlb_reserve(struct vmsim *sim, unsigned level, uint64_t pages)
{
    struct vmsim__hpool *hp = &sim->hpool[level - 1];

    if (hp->free - hp->rsvd < pages)
        return VMSIM_SYS_ENOMEM;
    hp->rsvd += pages;
    return 0;
}

void vmsim__hugetlb_unreserve(struct vmsim *sim, unsigned level, uint64_t pages)
{
    VMSIM_ASSERT(sim->hpool[level - 1].rsvd >= pages);
    sim->hpool[level - 1].rsvd -= pages;
}

uint64_t vmsim__hugetlb_unfaulted(struct vmsim *sim, struct vmsim__mm *mm,
                                  const struct vmsim__vma *vma, vmsim_vaddr_t start,
                                  vmsim_vaddr_t end)
{
    unsigned level = hugetlb_level(vma);
    uint64_t n = 0;

    if (vma->flags & VMSIM_VMA_NORESERVE)
        return 0;
    for (vmsim_vaddr_t va = start; va < end; va += LEVEL_SIZE(level)) {
        int l, err;
        pte_t *e = vmsim__pt_walk(sim, mm, va, (int)level, false, &l, &err);

        if (e == NULL || pte_none(*e))
            n++;
    }
    return n;
}

int vmsim__hugetlb_fault(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    unsigned level = hugetlb_level(vf->vma);
    struct vmsim__hpool *hp = &sim->hpool[level - 1];
    bool reserved = !(vf->vma->flags & VMSIM_VMA_NORESERVE);
    int l, err;
    pte_t *e = vmsim__pt_walk(sim, vf->mm, vf->va, (int)level, true, &l, &err);
    pte_t prot;
    vmsim_pfn_t pfn;

    if (e == NULL)
        return err;
    vf->pte = e;
    prot = vma_page_prot(vf->vma) | PTE_PS | PTE_A;
    if (!pte_none(*e)) {
        struct vmsim__frame *f = pfn_frame(sim, pte_pfn(*e));

        if (vf->kind != VMSIM_WRITE || pte_write(*e)) {
            *e |= PTE_A;
            return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;
        }
        if (f->mapcount == 1) { /* hugetlb_wp(): the only mapping */
            *e |= PTE_RW | PTE_D | PTE_A;
            return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE | VMSIM_OUT_REUSE;
        }
        /* copy-on-write of a private huge page shared by fork */
        if (hp->free <= hp->rsvd)
            return VMSIM__SIGBUS;
        pfn = hp->free_list[--hp->free];
        for (uint64_t i = 0; i < ((uint64_t)1 << pool_order[level - 1]); i++)
            vmsim__frame_data_copy(sim, pfn + i, pte_pfn(*e) + i);
        f->mapcount--;
        f->refcount--;
        pfn_frame(sim, pfn)->mapcount = pfn_frame(sim, pfn)->refcount = 1;
        *e = pfn_pte(pfn) | prot | PTE_D | PTE_RW;
        vmsim__charge(sim, VMSIM_COST_copy_page, (uint64_t)1 << pool_order[level - 1]);
        vf->proc->cow++;
        return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE | VMSIM_OUT_COW;
    }
    /* take a page: the mapping's reservation, or a free unreserved one */
    if (reserved) {
        VMSIM_ASSERT(hp->rsvd > 0);
        hp->rsvd--;
    } else if (hp->free <= hp->rsvd) {
        return VMSIM__SIGBUS; /* MAP_NORESERVE and the pool is empty */
    }
    pfn = hp->free_list[--hp->free];
    pfn_frame(sim, pfn)->mapcount = pfn_frame(sim, pfn)->refcount = 1;
    if (vf->vma->prot & VMSIM_PROT_WRITE)
        prot |= PTE_RW | (vf->kind == VMSIM_WRITE ? PTE_D : 0);
    *e = pfn_pte(pfn) | prot;
    vf->mm->hugetlb_pages += (uint64_t)1 << pool_order[level - 1];
    vmsim__charge(sim, VMSIM_COST_zero_page, (uint64_t)1 << pool_order[level - 1]);
    vf->cause = "hugetlb";
    return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;
}

void vmsim__hugetlb_zap(struct vmsim *sim, struct vmsim__mm *mm, pte_t *e, unsigned level)
{
    vmsim_pfn_t pfn = pte_pfn(*e);
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    struct vmsim__hpool *hp = &sim->hpool[level - 1];

    *e = 0;
    mm->hugetlb_pages -= (uint64_t)1 << pool_order[level - 1];
    f->mapcount--;
    if (--f->refcount == 0) {
        /* back to the pool, its contents gone: the next fault sees zeros */
        for (uint64_t i = 0; i < ((uint64_t)1 << pool_order[level - 1]); i++)
            vmsim__frame_data_free(sim, pfn + i);
        hp->free_list[hp->free++] = pfn;
    }
}
