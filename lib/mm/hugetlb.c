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
 *
 * A private mapping's reservations are its own: a fork child gets none,
 * and munmap gives back those of pages never faulted. A shared mapping is
 * backed by an object (struct vmsim__hobj, Linux's anonymous hugetlbfs
 * inode) that holds its pages and reservations: every process and every
 * part of a split VMA that maps an index maps the same page, and a page
 * stays in the object, mapped or not, until no VMA maps the object.
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

/* The pool page to its free list, its contents gone: the next fault on
 * it sees zeros. */
static void pool_put(struct vmsim *sim, unsigned level, vmsim_pfn_t pfn)
{
    struct vmsim__hpool *hp = &sim->hpool[level - 1];

    for (uint64_t i = 0; i < ((uint64_t)1 << pool_order[level - 1]); i++)
        vmsim__frame_data_free(sim, pfn + i);
    hp->free_list[hp->free++] = pfn;
}

static void hobj_free(struct vmsim *sim, uint32_t id)
{
    struct vmsim__hobj *o = sim->hobjs[id];

    for (uint64_t c = 0; c < o->pages.nr_chunks; c++) {
        for (uint64_t k = 0; o->pages.chunks[c] != NULL && k < SPARSE_SIZE; k++) {
            uint64_t v = o->pages.chunks[c][k];
            struct vmsim__frame *f;

            if (v == 0)
                continue;
            f = pfn_frame(sim, v - 1);
            VMSIM_ASSERT(f->refcount == 1 && f->mapcount == 0);
            f->refcount = 0;
            pool_put(sim, o->level, v - 1);
        }
    }
    vmsim__hugetlb_unreserve(sim, o->level, o->resv);
    vmsim__sparse_free(sim, &o->pages);
    vmsim__free(sim, o);
    sim->hobjs[id] = NULL;
}

int vmsim__hobj_create(struct vmsim *sim, unsigned level, uint64_t nr, bool noreserve,
                       uint32_t *id)
{
    struct vmsim__hobj *o;
    size_t slot = 1;
    int err;

    while (slot < sim->nr_hobjs && sim->hobjs[slot] != NULL)
        slot++;
    if (slot >= sim->nr_hobjs) {
        err = vmsim__grow(sim, (void **)&sim->hobjs, &sim->cap_hobjs, slot + 1,
                          sizeof(sim->hobjs[0]));
        if (err < 0)
            return err;
        while (sim->nr_hobjs <= slot)
            sim->hobjs[sim->nr_hobjs++] = NULL;
    }
    o = vmsim__calloc(sim, 1, sizeof(*o));
    if (o == NULL)
        return VMSIM_ENOMEM;
    if (!noreserve) {
        err = vmsim__hugetlb_reserve(sim, level, nr);
        if (err != 0) {
            vmsim__free(sim, o);
            return err;
        }
        o->resv = nr;
    }
    o->level = level;
    o->nr = nr;
    o->creating = true;
    sim->hobjs[slot] = o;
    *id = (uint32_t)slot;
    return 0;
}

void vmsim__hobj_release_if_unused(struct vmsim *sim, uint32_t id)
{
    if (hobj_of(sim, id) == NULL || sim->hobjs[id]->creating)
        return;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        const struct vmsim__mm *mm = sim->procs[i]->mm;

        for (size_t j = 0; mm != NULL && j < mm->nr_vmas; j++)
            if (mm->vmas[j].hobj == id)
                return;
    }
    hobj_free(sim, id);
}

void vmsim__hugetlb_destroy(struct vmsim *sim)
{
    for (size_t id = 1; id < sim->nr_hobjs; id++)
        if (sim->hobjs[id] != NULL)
            hobj_free(sim, (uint32_t)id);
    vmsim__free(sim, sim->hobjs);
    sim->hobjs = NULL;
    sim->nr_hobjs = sim->cap_hobjs = 0;
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

    if (vma->flags & (VMSIM_VMA_NORESERVE | VMSIM_VMA_SHARED))
        return 0;
    for (vmsim_vaddr_t va = start; va < end; va += LEVEL_SIZE(level)) {
        int l, err;
        pte_t *e = vmsim__pt_walk(sim, mm, va, (int)level, false, &l, &err);

        if (e == NULL || pte_none(*e))
            n++;
    }
    return n;
}

/* A fault in a shared mapping: the object's page at that index, or a new
 * one for the object (hugetlb_no_page() finds it in, or adds it to, the
 * page cache), taken from the object's reservation while it has one. */
static int shared_fault(struct fault *vf, pte_t *e, pte_t prot)
{
    struct vmsim *sim = vf->sim;
    const struct vmsim__vma *vma = vf->vma;
    struct vmsim__hobj *o = hobj_of(sim, vma->hobj);
    unsigned level = hugetlb_level(vma);
    struct vmsim__hpool *hp = &sim->hpool[level - 1];
    uint64_t hs = LEVEL_SIZE(level);
    uint64_t idx = (vma->pgoff * PAGE_SIZE + (vf->va - vma->start)) / hs;
    uint64_t v;
    vmsim_pfn_t pfn;
    int out = VMSIM_OUT_MINOR | VMSIM_OUT_HUGE;

    VMSIM_ASSERT(o != NULL && idx < o->nr);
    v = vmsim__sparse_get(&o->pages, idx);
    if (v != 0) {
        pfn = v - 1;
    } else {
        if (o->resv == 0 && hp->free <= hp->rsvd)
            return VMSIM__SIGBUS; /* MAP_NORESERVE and the pool is empty */
        pfn = hp->free_list[hp->free - 1];
        if (vmsim__sparse_set(sim, &o->pages, idx, pfn + 1) < 0)
            return VMSIM_ENOMEM;
        hp->free--;
        if (o->resv > 0) {
            o->resv--;
            hp->rsvd--;
        }
        o->nr_pages++;
        pfn_frame(sim, pfn)->refcount = 1; /* the object's */
        vmsim__charge(sim, VMSIM_COST_zero_page, (uint64_t)1 << pool_order[level - 1]);
        vf->cause = "hugetlb";
    }
    pfn_frame(sim, pfn)->mapcount++;
    pfn_frame(sim, pfn)->refcount++;
    if (vma->prot & VMSIM_PROT_WRITE)
        prot |= PTE_RW | (vf->kind == VMSIM_WRITE ? PTE_D : 0);
    *e = pfn_pte(pfn) | prot;
    vf->mm->hugetlb_pages += (uint64_t)1 << pool_order[level - 1];
    return out;
}

/* unmap_ref_private(): the owner of a private mapping keeps page pfn at
 * haddr; every other process that maps it there (its fork children) loses
 * it, and its VMA is marked so that its next fault is a SIGBUS. */
static void unmap_ref_private(struct vmsim *sim, const struct vmsim__proc *owner,
                              vmsim_vaddr_t haddr, unsigned level, vmsim_pfn_t pfn)
{
    for (size_t i = 0; i < sim->nr_procs; i++) {
        struct vmsim__proc *p = sim->procs[i];
        struct vmsim__vma *v;
        pte_t *e;
        int l, err;

        if (p == owner || p->mm == NULL)
            continue;
        v = vmsim__vma_find(p->mm, haddr);
        if (v == NULL || v->start > haddr || !(v->flags & VMSIM_VMA_HUGETLB) ||
            (v->flags & VMSIM_VMA_SHARED))
            continue;
        e = vmsim__pt_walk(sim, p->mm, haddr, (int)level, false, &l, &err);
        if (e == NULL || l != (int)level || pte_none(*e) || pte_pfn(*e) != pfn)
            continue;
        vmsim__flush_tlb_range(sim, p->mm, haddr, haddr + LEVEL_SIZE(level));
        vmsim__hugetlb_zap(sim, p->mm, e, level);
        v->flags |= VMA_HUGE_UNMAPPED;
    }
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
        if (f->mapcount == 1 || (vf->vma->flags & VMSIM_VMA_SHARED)) {
            /* hugetlb_wp(): the only mapping, or a shared one */
            *e |= PTE_RW | PTE_D | PTE_A;
            return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE | VMSIM_OUT_REUSE;
        }
        /* copy-on-write of a private huge page shared by fork; with no
         * page to spare, the owner of the reservations takes the page from
         * the children (hugetlb_wp(), unmap_ref_private()); a child or a
         * MAP_NORESERVE mapping gets SIGBUS */
        if (hp->free <= hp->rsvd) {
            if (vf->vma->flags & VMSIM_VMA_NORESERVE)
                return VMSIM__SIGBUS;
            unmap_ref_private(sim, vf->proc, vf->va & ~(LEVEL_SIZE(level) - 1), level,
                              pte_pfn(*e));
            if (f->mapcount != 1)
                return VMSIM__SIGBUS;
            *e |= PTE_RW | PTE_D | PTE_A;
            return VMSIM_OUT_MINOR | VMSIM_OUT_HUGE | VMSIM_OUT_REUSE;
        }
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
    if (vf->vma->flags & VMSIM_VMA_SHARED)
        return shared_fault(vf, e, prot);
    /* "PID killed due to inadequate hugepage pool" (hugetlb_no_page()) */
    if (vf->vma->flags & VMA_HUGE_UNMAPPED)
        return VMSIM__SIGBUS;
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

    *e = 0;
    mm->hugetlb_pages -= (uint64_t)1 << pool_order[level - 1];
    f->mapcount--;
    if (--f->refcount == 0)
        pool_put(sim, level, pfn);
}
