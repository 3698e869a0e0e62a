/*
 * fault.c -- the access path and the page-fault handler, shaped like
 * Linux's do_user_addr_fault() -> handle_mm_fault() -> handle_pte_fault().
 *
 * An access first walks the tables as the MMU would; when the leaf entry
 * is present and allows the access, the hardware sets the accessed (and,
 * for a write, dirty) bit and nothing else happens. Otherwise the fault
 * handler finds the VMA, turns a missing or forbidding VMA into SIGSEGV,
 * and dispatches to exactly one do_* helper. Faults are counted as Linux
 * counts them (mm_account_fault): pgfault for every handled fault,
 * min_flt/maj_flt for the successful ones.
 */
#include "internal.h"

/* ---- user frames and their accounting ---------------------------------- */

static void lru_add(struct vmsim *sim, struct vmsim__frame *f)
{
    /* New anonymous pages start on the inactive list (Linux >= 5.9). */
    f->flags |= PG_LRU;
    count_vm_event(sim, (f->flags & PG_ANON) ? VMSIM_VMSTAT_NR_INACTIVE_ANON
                                             : VMSIM_VMSTAT_NR_INACTIVE_FILE);
}

static void lru_del(struct vmsim *sim, struct vmsim__frame *f)
{
    bool anon = (f->flags & (PG_ANON | PG_SHMEM)) != 0;
    vmsim_vmstat_item item;

    if (!(f->flags & PG_LRU))
        return;
    if (f->flags & PG_ACTIVE)
        item = anon ? VMSIM_VMSTAT_NR_ACTIVE_ANON : VMSIM_VMSTAT_NR_ACTIVE_FILE;
    else
        item = anon ? VMSIM_VMSTAT_NR_INACTIVE_ANON : VMSIM_VMSTAT_NR_INACTIVE_FILE;
    sim->vmstat[item]--;
    f->flags &= (uint16_t)~(PG_LRU | PG_ACTIVE);
}

/* A frame for a user page. Returns 0 or VMSIM_EOOM. */
static int alloc_user_page(struct vmsim *sim, vmsim_pfn_t *pfn)
{
    int err = vmsim__phys_alloc(sim, 0, pfn);

    if (err < 0)
        return err;
    sim->nr_user_pages++;
    return 0;
}

static void free_user_page(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);

    VMSIM_ASSERT(f->refcount == 0 && f->mapcount == 0);
    lru_del(sim, f);
    sim->nr_user_pages--;
    vmsim__phys_free(sim, pfn, 0);
}

static int mm_counter(const struct vmsim__frame *f)
{
    if (f->flags & PG_SHMEM)
        return MM_SHMEMPAGES;
    if (f->flags & PG_ANON)
        return MM_ANONPAGES;
    return MM_FILEPAGES;
}

/* Map a new exclusive anonymous page at va (page_add_new_anon_rmap). */
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
    lru_add(sim, f);
}

void vmsim__page_remove_rmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);

    VMSIM_ASSERT(f->mapcount > 0 && f->refcount > 0);
    mm->rss[mm_counter(f)]--;
    f->mapcount--;
    f->refcount--;
    if (f->mapcount == 0) {
        if (f->flags & PG_ANON)
            sim->vmstat[VMSIM_VMSTAT_NR_ANON_PAGES]--;
        else
            sim->vmstat[VMSIM_VMSTAT_NR_MAPPED]--;
    }
    if (f->refcount == 0)
        free_user_page(sim, pfn);
}

/* ---- the fault handlers ------------------------------------------------ */

struct fault {
    struct vmsim *sim;
    struct vmsim__proc *proc;
    struct vmsim__mm *mm;
    struct vmsim__vma *vma;
    vmsim_vaddr_t va;        /* page-aligned */
    vmsim_access_kind kind;
    pte_t *pte;              /* the leaf entry */
    const char *cause;       /* for the event */
};

/* A read of untouched anonymous memory maps the shared zero page (if
 * enabled); anything else gets a zeroed frame, writable and dirty when
 * the VMA is writable (do_anonymous_page). */
static int do_anonymous_page(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    pte_t prot = vma_page_prot(vf->vma);
    vmsim_pfn_t pfn;
    int err;

    if (vf->kind != VMSIM_WRITE && sim->cfg.zero_page) {
        *vf->pte = pfn_pte(sim->zero_pfn) | (prot & ~PTE_RW) | PTE_SPECIAL | PTE_A;
        vf->cause = "zero-page";
        return VMSIM_OUT_MINOR | VMSIM_OUT_ZERO;
    }
    err = alloc_user_page(sim, &pfn);
    if (err < 0)
        return err;
    page_add_new_anon_rmap(sim, vf->mm, vf->vma, pfn, vf->va);
    prot |= PTE_A;
    if (vf->vma->prot & VMSIM_PROT_WRITE)
        prot |= PTE_RW | PTE_D;
    *vf->pte = pfn_pte(pfn) | prot;
    sim->time_ns += sim->cfg.latency.zero_page;
    vf->cause = "zero-fill";
    return VMSIM_OUT_MINOR;
}

/* A write to a present, write-protected page of a writable private VMA
 * (do_wp_page): reuse an exclusive anonymous page, else copy it (the zero
 * page is "copied" by zeroing a new frame). */
static int do_wp_page(struct fault *vf)
{
    struct vmsim *sim = vf->sim;
    pte_t old = *vf->pte;
    pte_t prot = vma_page_prot(vf->vma) | PTE_A | PTE_D | PTE_RW;
    vmsim_pfn_t pfn;
    struct vmsim__frame *f = NULL;
    int err;

    if (!pte_special(old)) {
        f = pfn_frame(sim, pte_pfn(old));
        if ((f->flags & PG_ANON) && f->refcount == 1) {
            /* wp_can_reuse_anon_folio(): we hold the only reference */
            f->flags |= PG_ANON_EXCLUSIVE;
            *vf->pte = old | PTE_RW | PTE_D | PTE_A;
            count_vm_event(sim, VMSIM_VMSTAT_PGREUSE);
            vf->cause = "reuse";
            return VMSIM_OUT_MINOR | VMSIM_OUT_REUSE;
        }
    }
    err = alloc_user_page(sim, &pfn);
    if (err < 0)
        return err;
    *vf->pte = 0;
    if (f != NULL)
        vmsim__page_remove_rmap(sim, vf->mm, pte_pfn(old));
    page_add_new_anon_rmap(sim, vf->mm, vf->vma, pfn, vf->va);
    *vf->pte = pfn_pte(pfn) | prot;
    if (f == NULL) {
        sim->time_ns += sim->cfg.latency.zero_page;
        vf->cause = "zero-page-cow";
        return VMSIM_OUT_MINOR;
    }
    sim->time_ns += sim->cfg.latency.copy_page;
    vf->proc->cow++;
    vmsim__emit(sim, VMSIM_EV_COW, vf->proc->pid, vf->va, pfn, VMSIM_OUT_COW, "cow");
    vf->cause = "cow";
    return VMSIM_OUT_MINOR | VMSIM_OUT_COW;
}

static int handle_pte_fault(struct fault *vf)
{
    pte_t e = *vf->pte;

    if (pte_none(e)) {
        if (vf->vma->file == 0)
            return do_anonymous_page(vf);
        return VMSIM_ENOTSUP;
    }
    if (!pte_present(e))
        return VMSIM_ENOTSUP; /* swap entries: not yet */
    if (vf->kind == VMSIM_WRITE && !pte_write(e))
        return do_wp_page(vf);
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

/* The fault proper, for a canonical user address. */
static int do_fault(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                    vmsim_access_kind kind, bool gup)
{
    struct fault vf = { .sim = sim, .proc = p, .mm = p->mm, .kind = kind };
    int level, err, ret;

    vf.va = va & PAGE_MASK;
    vf.vma = vmsim__vma_find(p->mm, va);
    if (vf.vma == NULL || vf.vma->start > va)
        return gup ? 0 : segv(sim, p, va, VMSIM_SEGV_MAPERR);
    if (access_error(vf.vma, kind))
        return gup ? 0 : segv(sim, p, va, VMSIM_SEGV_ACCERR);

    vf.pte = vmsim__pt_walk(sim, p->mm, vf.va, 0, true, &level, &err);
    if (vf.pte == NULL)
        return err;
    ret = handle_pte_fault(&vf);
    if (ret < 0)
        return ret;
    /* mm_account_fault() */
    count_vm_event(sim, VMSIM_VMSTAT_PGFAULT);
    if (ret & VMSIM_OUT_MAJOR) {
        p->majflt++;
    } else {
        p->minflt++;
    }
    sim->time_ns += sim->cfg.latency.minor_fault;
    vmsim__emit(sim, VMSIM_EV_FAULT, p->pid, vf.va,
                pte_present(*vf.pte) ? pte_pfn(*vf.pte) : UINT64_MAX, (unsigned)ret, vf.cause);
    return ret;
}

int vmsim__handle_fault(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                        vmsim_access_kind kind)
{
    return do_fault(sim, p, va, kind, false);
}

/* ---- the access path --------------------------------------------------- */

/* The leaf entry for va if every level is present, else NULL: the MMU's
 * walk, with no side effects. */
static inline pte_t *mmu_walk(const struct vmsim *sim, const struct vmsim__mm *mm,
                              vmsim_vaddr_t va)
{
    const pte_t *table = pt_table(sim, mm->pgd);

    for (int l = PT_LEVELS - 1; l > 0; l--) {
        pte_t e = table[PT_INDEX(va, l)];

        if (!pte_hw_present(e))
            return NULL;
        if (pte_huge(e))
            return (pte_t *)&table[PT_INDEX(va, l)];
        table = pt_table(sim, pte_pfn(e));
    }
    return (pte_t *)&table[PT_INDEX(va, 0)];
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

static int access_page(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                       vmsim_access_kind kind)
{
    pte_t *e;

    sim->time_ns += sim->cfg.latency.tlb_hit;
    if (va >= ((uint64_t)1 << 47)) {
        /* A kernel address faults with the PTE's U/S bit: SEGV_MAPERR from
         * bad_area_nosemaphore(). A non-canonical one raises #GP, which
         * Linux turns into SIGSEGV with si_code SI_KERNEL. */
        if (va >= 0xffff800000000000ull)
            return segv(sim, p, va, VMSIM_SEGV_MAPERR);
        return segv(sim, p, 0, VMSIM_SI_KERNEL);
    }
    e = mmu_walk(sim, p->mm, va);
    if (e != NULL && pte_allows(*e, kind)) {
        *e |= (kind == VMSIM_WRITE) ? (PTE_A | PTE_D) : PTE_A;
        return 0;
    }
    return do_fault(sim, p, va, kind, false);
}

int vmsim__populate_page(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                         vmsim_access_kind kind)
{
    pte_t *e = mmu_walk(sim, p->mm, va);

    if (e != NULL && pte_allows(*e, kind))
        return 0;
    return do_fault(sim, p, va, kind, true);
}

static struct vmsim__proc *access_proc(struct vmsim *sim, vmsim_pid_t pid)
{
    struct vmsim__proc *p = sim->last_proc;

    if (p == NULL || p->pid != pid) {
        p = vmsim__proc_find(sim, pid);
        sim->last_proc = p;
    }
    return p;
}

int vmsim_access(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t size,
                 vmsim_access_kind kind, unsigned *outcome)
{
    struct vmsim__proc *p;
    vmsim_vaddr_t page, last;
    unsigned out = 0;

    if (sim->panicked)
        return VMSIM_EPANIC;
    if ((unsigned)kind > VMSIM_EXEC)
        return VMSIM_EINVAL;
    p = access_proc(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    if (size == 0)
        size = 1;
    page = va & PAGE_MASK;
    last = (va + (size - 1) < va) ? (UINT64_MAX & PAGE_MASK) : ((va + size - 1) & PAGE_MASK);
    for (;;) {
        int ret = access_page(sim, p, page > va ? page : va, kind);

        if (ret < 0)
            return ret;
        out |= (unsigned)ret;
        if (!p->alive || page == last)
            break;
        page += PAGE_SIZE;
    }
    if (outcome != NULL)
        *outcome = out;
    return 0;
}
