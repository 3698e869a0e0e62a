/*
 * proc.c -- processes: spawn, exit, fatal signals, and their figures.
 *
 * Processes live in an array sorted by pid. A dead process stays listed
 * (as a zombie would) with its final figures, so a trace can still check
 * how it died; spawning its pid again starts a new process.
 */
#include <stdio.h>

#include "internal.h"

static size_t proc_index(const struct vmsim *sim, vmsim_pid_t pid)
{
    size_t lo = 0, hi = sim->nr_procs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sim->procs[mid]->pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct vmsim__proc *vmsim__proc_find(const struct vmsim *sim, vmsim_pid_t pid)
{
    size_t i = proc_index(sim, pid);

    return (i < sim->nr_procs && sim->procs[i]->pid == pid) ? sim->procs[i] : NULL;
}

static void set_name(struct vmsim__proc *p, const char *name)
{
    /* TASK_COMM_LEN: 15 characters and a NUL */
    snprintf(p->name, sizeof(p->name), "%s", name != NULL ? name : "");
}

int vmsim_spawn(vmsim_t *sim, vmsim_pid_t pid, const char *name, int oom_score_adj)
{
    struct vmsim__proc *p;
    struct vmsim__mm *mm;
    size_t i;
    int err;

    if (sim->panicked)
        return VMSIM_EPANIC;
    if (pid < 1 || oom_score_adj < -1000 || oom_score_adj > 1000)
        return VMSIM_EINVAL;
    p = vmsim__proc_find(sim, pid);
    if (p != NULL && p->alive)
        return VMSIM_EEXIST;
    if (p == NULL && sim->nr_procs >= VMSIM_MAX_PROCS)
        return VMSIM_ERANGE;
    mm = vmsim__mm_create(sim, pid, &err);
    if (mm == NULL)
        return err;
    if (p == NULL) {
        p = vmsim__calloc(sim, 1, sizeof(*p));
        if (p == NULL ||
            vmsim__grow(sim, (void **)&sim->procs, &sim->cap_procs, sim->nr_procs + 1,
                        sizeof(sim->procs[0])) < 0) {
            vmsim__free(sim, p);
            vmsim__mm_destroy(sim, mm);
            return VMSIM_ENOMEM;
        }
        i = proc_index(sim, pid);
        memmove(&sim->procs[i + 1], &sim->procs[i],
                (sim->nr_procs - i) * sizeof(sim->procs[0]));
        sim->procs[i] = p;
        sim->nr_procs++;
    } else {
        memset(p, 0, sizeof(*p));
    }
    p->pid = pid;
    set_name(p, name != NULL ? name : "");
    p->alive = true;
    p->oom_score_adj = oom_score_adj;
    p->mm = mm;
    vmsim__emit(sim, VMSIM_EV_SPAWN, pid, 0, UINT64_MAX, 0, "spawn");
    return 0;
}

/* Release the address space, keeping the figures a dead process shows. */
static void proc_release(struct vmsim *sim, struct vmsim__proc *p)
{
    vmsim__heap_destroy(sim, p);
    if (p->mm == NULL)
        return;
    p->final_hiwater_rss = p->mm->hiwater_rss;
    p->final_hiwater_vm = p->mm->hiwater_vm;
    vmsim__mm_destroy(sim, p->mm);
    p->mm = NULL;
    p->alive = false;
    if (sim->last_proc == p)
        sim->last_proc = NULL;
}

/* ---- fork --------------------------------------------------------------- */

/*
 * copy_present_pte() for one leaf: a private page becomes shared between
 * parent and child, write-protected in both (and no longer exclusive); the
 * child's entry is old. Shared mappings are not copied at all (see
 * vma_needs_copy), so every page here belongs to a private VMA.
 */
static int copy_pte_range(struct vmsim *sim, struct vmsim__proc *parent,
                          struct vmsim__mm *dst, struct vmsim__vma *vma, uint64_t *copied)
{
    struct vmsim__mm *src = parent->mm;

    for (vmsim_vaddr_t va = vma->start; va < vma->end;) {
        int level, err;
        pte_t *s = vmsim__pt_walk(sim, src, va, 0, false, &level, &err);
        vmsim_vaddr_t next = round_down(va, PMD_SIZE) + PMD_SIZE;
        pte_t *table;
        uint64_t first, last;

        if (s == NULL) {
            va = next; /* no page table here */
            continue;
        }
        if (next > vma->end)
            next = vma->end;
        if (level == 1) {
            /* copy_huge_pmd(): the THP is shared, write-protected */
            pte_t *d = vmsim__pt_walk(sim, dst, va, 1, true, &level, &err);

            if (d == NULL)
                return err;
            err = vmsim__copy_huge_pmd(sim, dst, s, d);
            if (err == VMSIM__FALLBACK)
                continue; /* split meanwhile: this range again, as PTEs */
            if (err < 0)
                return err;
            (*copied)++;
            va = next;
            continue;
        }
        table = s - PT_INDEX(va, 0);
        first = PT_INDEX(va, 0);
        last = PT_INDEX(next - 1, 0);
        for (uint64_t i = first; i <= last; i++) {
            vmsim_vaddr_t a = round_down(va, PMD_SIZE) + i * PAGE_SIZE;
            pte_t e = table[i], *d;

            if (pte_none(e))
                continue;
            d = vmsim__pt_walk(sim, dst, a, 0, true, &level, &err);
            if (d == NULL)
                return err;
            /* The child's table may have been allocated by reclaiming,
             * and reclaim may have swapped out or dropped the very page
             * e maps: read the entry again (Linux allocates the child's
             * table before it reads the parent's entries). */
            e = table[i];
            if (pte_none(e))
                continue;
            if (pte_is_swap(e)) {
                sim->swap_map[swp_offset(e)]++;
                dst->rss[MM_SWAPENTS]++;
            } else if (pte_present(e) && !pte_special(e)) {
                vmsim_pfn_t pfn = pte_pfn(e);
                struct vmsim__frame *f = pfn_frame(sim, pfn);

                table[i] = e = e & ~PTE_RW;
                f->flags &= (uint16_t)~PG_ANON_EXCLUSIVE;
                /* the folio holds the reference, the page the mapping */
                pfn_frame(sim, folio_head(sim, pfn))->refcount++;
                f->mapcount++;
                dst->rss[(f->flags & PG_SHMEM)  ? MM_SHMEMPAGES
                         : (f->flags & PG_ANON) ? MM_ANONPAGES
                                                : MM_FILEPAGES]++;
            }
            *d = e & ~PTE_A;
            (*copied)++;
        }
        va = next;
    }
    return 0;
}

/* copy_hugetlb_page_range() of a private mapping: huge pages are shared,
 * write-protected; the child holds no reservation for what is not faulted
 * yet. */
static int copy_hugetlb_range(struct vmsim *sim, struct vmsim__proc *parent,
                              struct vmsim__mm *dst, struct vmsim__vma *v, uint64_t *copied)
{
    int hl = (int)hugetlb_level(v);

    for (vmsim_vaddr_t va = v->start; va < v->end; va += LEVEL_SIZE(hl)) {
        int level, err;
        pte_t *s = vmsim__pt_walk(sim, parent->mm, va, hl, false, &level, &err), *d;
        struct vmsim__frame *f;

        if (s == NULL || pte_none(*s))
            continue;
        d = vmsim__pt_walk(sim, dst, va, hl, true, &level, &err);
        if (d == NULL)
            return err;
        *s &= ~PTE_RW;
        *d = *s & ~PTE_A;
        f = pfn_frame(sim, pte_pfn(*s));
        f->mapcount++;
        f->refcount++;
        dst->hugetlb_pages += LEVEL_SIZE(hl) / PAGE_SIZE;
        (*copied)++;
    }
    return 0;
}

int vmsim_fork(vmsim_t *sim, vmsim_pid_t pid, vmsim_pid_t child)
{
    struct vmsim__proc *p, *c, *saved;
    struct vmsim__mm *src, *dst;
    uint64_t copied = 0, charge = 0;
    int err;

    if (sim->panicked)
        return VMSIM_EPANIC;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    if (child == pid)
        return VMSIM_EEXIST;
    src = p->mm;
    /* dup_mmap(): accountable VMAs are charged again for the child */
    for (size_t i = 0; i < src->nr_vmas; i++)
        if (src->vmas[i].flags & VMSIM_VMA_ACCOUNT)
            charge += (src->vmas[i].end - src->vmas[i].start) / PAGE_SIZE;
    if (charge != 0 && !vmsim__vm_enough_memory(sim, charge)) {
        p->last_errno = VMSIM_SYS_ENOMEM;
        return VMSIM_SYS_ENOMEM;
    }
    saved = vmsim__api_begin(sim, p);
    err = vmsim_spawn(sim, child, p->name, p->oom_score_adj);
    if (err < 0) {
        sim->committed_pages -= charge;
        return vmsim__api_end(sim, p, saved, err);
    }
    c = vmsim__proc_find(sim, child);
    dst = c->mm;
    c->ppid = pid;
    c->forking = true;
    if (src->nr_vmas > 0 &&
        vmsim__grow(sim, (void **)&dst->vmas, &dst->cap_vmas, src->nr_vmas,
                    sizeof(dst->vmas[0])) < 0) {
        sim->committed_pages -= charge;
        err = VMSIM_ENOMEM;
        goto fail;
    }
    if (src->nr_vmas > 0)
        memcpy(dst->vmas, src->vmas, src->nr_vmas * sizeof(dst->vmas[0]));
    dst->nr_vmas = src->nr_vmas;
    /* a private hugetlb mapping's reservations stay the parent's: the
     * child's VMAs hold none, even if the fork fails before their pages
     * are copied; a shared one's belong to its object, which the child's
     * VMAs now map too */
    for (size_t i = 0; i < dst->nr_vmas; i++) {
        if ((dst->vmas[i].flags & (VMSIM_VMA_HUGETLB | VMSIM_VMA_SHARED)) == VMSIM_VMA_HUGETLB)
            dst->vmas[i].flags |= VMSIM_VMA_NORESERVE;
        dst->vmas[i].flags &= ~VMA_HUGE_UNMAPPED; /* hugetlb_dup_vma_private() */
    }
    dst->total_vm = dst->hiwater_vm = src->total_vm;
    dst->data_vm = src->data_vm;
    dst->exec_vm = src->exec_vm;
    dst->stack_vm = src->stack_vm;
    dst->start_brk = src->start_brk;
    dst->brk = src->brk;
    dst->mmap_base = src->mmap_base;
    for (size_t i = 0; i < dst->nr_vmas; i++) {
        struct vmsim__vma *v = &dst->vmas[i];

        if (v->flags & VMSIM_VMA_HUGETLB) {
            /* vma_needs_copy(): a shared mapping has no anon_vma; the
             * child faults its pages in from the object */
            if (v->flags & VMSIM_VMA_SHARED)
                continue;
            err = copy_hugetlb_range(sim, p, dst, v, &copied);
            if (err < 0)
                goto fail;
            continue;
        }
        /* vma_needs_copy(): only VMAs with anonymous pages are copied;
         * shared and untouched file mappings fault in again */
        if (v->anon_id == 0)
            continue;
        v->anon_id = sim->next_anon_id++; /* anon_vma_fork() */
        err = copy_pte_range(sim, p, dst, &src->vmas[i], &copied);
        if (err < 0)
            goto fail;
    }
    mm_update_hiwater_rss(dst);
    vmsim__flush_tlb_mm(sim, src); /* the parent's entries were write-protected */
    p->nr_ptes_copied_fork += copied;
    vmsim__charge(sim, VMSIM_COST_fork_pte, copied);
    err = vmsim__heap_fork(sim, p, c);
    if (err < 0)
        goto fail;
    c->forking = false;
    p->last_errno = 0;
    return vmsim__api_end(sim, p, saved, 0);
fail:
    /* Undo: the child's address space goes as an exit would take it; an
     * OOM kill of the parent happens once nothing points into it. */
    c->forking = false;
    proc_release(sim, c);
    c->alive = false;
    if (err == VMSIM_EOOM || err == VMSIM__EKILLED) {
        p->last_errno = VMSIM_SYS_ENOMEM;
        vmsim__api_end(sim, p, saved, err);
        return VMSIM_SYS_ENOMEM;
    }
    return vmsim__api_end(sim, p, saved, err);
}

int vmsim_exec(vmsim_t *sim, vmsim_pid_t pid, const char *name)
{
    struct vmsim__proc *p = vmsim__proc_find(sim, pid);
    struct vmsim__mm *mm;
    int err;

    if (sim->panicked)
        return VMSIM_EPANIC;
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    {
        struct vmsim__proc *saved = vmsim__api_begin(sim, p);

        mm = vmsim__mm_create(sim, pid, &err);
        if (mm == NULL)
            return vmsim__api_end(sim, p, saved, err);
        vmsim__api_end(sim, p, saved, 0);
    }
    vmsim__heap_destroy(sim, p);
    vmsim__mm_destroy(sim, p->mm);
    p->mm = mm;
    if (name != NULL)
        set_name(p, name);
    p->last_errno = 0;
    return 0;
}

int vmsim_exit(vmsim_t *sim, vmsim_pid_t pid)
{
    struct vmsim__proc *p = vmsim__proc_find(sim, pid);

    if (sim->panicked)
        return VMSIM_EPANIC;
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    proc_release(sim, p);
    vmsim__emit(sim, VMSIM_EV_EXIT, pid, 0, UINT64_MAX, 0, "exit");
    return 0;
}

int vmsim__api_end(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__proc *saved, int rc)
{
    sim->current = saved;
    if (rc == VMSIM__EKILLED) {
        if (p->alive)
            vmsim__proc_kill(sim, p, VMSIM_SIGKILL, VMSIM_SI_KERNEL, 0);
        rc = 0;
    }
    return rc;
}

void vmsim__proc_kill(struct vmsim *sim, struct vmsim__proc *p, int sig, int si_code,
                      vmsim_vaddr_t addr)
{
    unsigned out = sig == VMSIM_SIGBUS    ? VMSIM_OUT_BUS
                   : sig == VMSIM_SIGSEGV ? VMSIM_OUT_SEGV
                                          : 0;

    p->signal = sig;
    p->si_code = si_code;
    p->fault_addr = addr;
    proc_release(sim, p);
    vmsim__emit(sim, VMSIM_EV_SIGNAL, p->pid, addr, UINT64_MAX, out,
                vmsim_signal_name(sig));
}

void vmsim__procs_destroy(struct vmsim *sim)
{
    /* release every address space first: a release looks at the others */
    for (size_t i = 0; i < sim->nr_procs; i++)
        proc_release(sim, sim->procs[i]);
    for (size_t i = 0; i < sim->nr_procs; i++)
        vmsim__free(sim, sim->procs[i]);
    vmsim__free(sim, sim->procs);
    sim->procs = NULL;
    sim->nr_procs = sim->cap_procs = 0;
    sim->last_proc = NULL;
}

const char *vmsim_signal_name(int sig)
{
    switch (sig) {
    case 0:
        return "";
    case VMSIM_SIGABRT:
        return "SIGABRT";
    case VMSIM_SIGBUS:
        return "SIGBUS";
    case VMSIM_SIGKILL:
        return "SIGKILL";
    case VMSIM_SIGSEGV:
        return "SIGSEGV";
    default:
        return "SIG?";
    }
}

const char *vmsim_si_code_name(int sig, int si_code)
{
    if (sig == 0)
        return "";
    if (si_code == VMSIM_SI_KERNEL)
        return "SI_KERNEL";
    if (si_code == VMSIM_SI_TKILL)
        return "SI_TKILL";
    if (sig == VMSIM_SIGSEGV && si_code == VMSIM_SEGV_MAPERR)
        return "SEGV_MAPERR";
    if (sig == VMSIM_SIGSEGV && si_code == VMSIM_SEGV_ACCERR)
        return "SEGV_ACCERR";
    if (sig == VMSIM_SIGBUS && si_code == VMSIM_BUS_ADRERR)
        return "BUS_ADRERR";
    if (si_code == 0)
        return "SI_USER";
    return "?";
}

size_t vmsim_pids(const vmsim_t *sim, vmsim_pid_t *out, size_t n)
{
    for (size_t i = 0; i < sim->nr_procs && i < n; i++)
        out[i] = sim->procs[i]->pid;
    return sim->nr_procs;
}

int vmsim_proc_alive(const vmsim_t *sim, vmsim_pid_t pid)
{
    /* last_proc is cleared when its process dies */
    const struct vmsim__proc *p = sim->last_proc;

    if (p != NULL && p->pid == pid)
        return 1;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL)
        return VMSIM_ESRCH;
    return p->alive ? 1 : 0;
}

int vmsim_proc_info(const vmsim_t *sim, vmsim_pid_t pid, vmsim_proc_info_t *out)
{
    const struct vmsim__proc *p = vmsim__proc_find(sim, pid);
    const struct vmsim__mm *mm;

    if (p == NULL)
        return VMSIM_ESRCH;
    memset(out, 0, sizeof(*out));
    out->pid = p->pid;
    out->ppid = p->ppid;
    memcpy(out->name, p->name, sizeof(out->name));
    out->alive = p->alive;
    out->oom_killed = p->oom_killed;
    out->signal = p->signal;
    out->si_code = p->si_code;
    out->fault_addr = p->fault_addr;
    out->last_errno = p->last_errno;
    out->oom_score_adj = p->oom_score_adj;
    out->minflt = p->minflt;
    out->majflt = p->majflt;
    out->cow = p->cow;
    out->swapin = p->swapin;
    out->swapout = p->swapout;
    out->nr_ptes_copied_fork = p->nr_ptes_copied_fork;
    mm = p->mm;
    if (mm == NULL) {
        out->vmhwm = p->final_hiwater_rss * PAGE_SIZE;
        out->vmpeak = p->final_hiwater_vm * PAGE_SIZE;
        return 0;
    }
    out->vmsize = mm->total_vm * PAGE_SIZE;
    out->vmpeak = (mm->hiwater_vm > mm->total_vm ? mm->hiwater_vm : mm->total_vm) * PAGE_SIZE;
    out->vmrss = mm_rss(mm) * PAGE_SIZE;
    out->vmhwm = (mm->hiwater_rss > mm_rss(mm) ? mm->hiwater_rss : mm_rss(mm)) * PAGE_SIZE;
    out->rss_anon = mm->rss[MM_ANONPAGES] * PAGE_SIZE;
    out->rss_file = mm->rss[MM_FILEPAGES] * PAGE_SIZE;
    out->rss_shmem = mm->rss[MM_SHMEMPAGES] * PAGE_SIZE;
    out->vmswap = mm->rss[MM_SWAPENTS] * PAGE_SIZE;
    out->vmdata = mm->data_vm * PAGE_SIZE;
    out->vmstk = mm->stack_vm * PAGE_SIZE;
    out->vmexe = 0;
    out->vmlib = mm->exec_vm * PAGE_SIZE; /* no program text: all exec is library */
    out->vmpte = mm->nr_pt_pages * PAGE_SIZE;
    out->hugetlb = mm->hugetlb_pages * PAGE_SIZE;
    out->start_brk = mm->start_brk;
    out->brk = mm->brk;
    return 0;
}
