/*
 * oom.c -- the OOM killer (mm/oom_kill.c) and the kernel log.
 *
 * oom_badness() scores a process by what killing it would free: its RSS,
 * its swap entries and its page tables, in pages; oom_score_adj moves that
 * by adj * totalpages / 1000, and -1000 exempts the process. The highest
 * score dies (ties go to the later process, as the task-list walk finds
 * it). With vm.panic_on_oom the system panics instead: 1 for a
 * system-wide OOM, 2 for any (resident_limit's, like a memory cgroup's,
 * included). With no process left to kill, the system panics too.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define KMSG_LINES 256

void vmsim__kmsg(struct vmsim *sim, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    char *copy;
    uint64_t slot;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (sim->kmsg == NULL) {
        sim->kmsg = vmsim__calloc(sim, KMSG_LINES, sizeof(*sim->kmsg));
        if (sim->kmsg == NULL)
            return;
    }
    copy = vmsim__malloc(sim, strlen(line) + 1);
    if (copy == NULL)
        return;
    strcpy(copy, line);
    slot = (sim->kmsg_head + sim->kmsg_count) % KMSG_LINES;
    if (sim->kmsg_count == KMSG_LINES) {
        vmsim__free(sim, sim->kmsg[sim->kmsg_head]);
        sim->kmsg_head = (sim->kmsg_head + 1) % KMSG_LINES;
        slot = (sim->kmsg_head + KMSG_LINES - 1) % KMSG_LINES;
    } else {
        sim->kmsg_count++;
    }
    sim->kmsg[slot] = copy;
    sim->kmsg_seq++;
}

void vmsim__kmsg_destroy(struct vmsim *sim)
{
    if (sim->kmsg == NULL)
        return;
    for (uint64_t i = 0; i < KMSG_LINES; i++)
        vmsim__free(sim, sim->kmsg[i]);
    vmsim__free(sim, sim->kmsg);
    sim->kmsg = NULL;
}

const char *vmsim_kmsg(const vmsim_t *sim, uint64_t seq)
{
    uint64_t first = sim->kmsg_seq - sim->kmsg_count;

    if (sim->kmsg == NULL || seq < first || seq >= sim->kmsg_seq)
        return NULL;
    return sim->kmsg[(sim->kmsg_head + (seq - first)) % KMSG_LINES];
}

uint64_t vmsim_kmsg_seq(const vmsim_t *sim)
{
    return sim->kmsg_seq;
}

static int64_t oom_badness(const struct vmsim__proc *p, uint64_t totalpages)
{
    const struct vmsim__mm *mm = p->mm;
    int64_t points;

    if (mm == NULL || p->oom_score_adj == -1000)
        return INT64_MIN;
    points = (int64_t)(mm_rss(mm) + mm->rss[MM_SWAPENTS] + mm->nr_pt_pages);
    points += (int64_t)p->oom_score_adj * (int64_t)(totalpages / 1000);
    return points;
}

static void panic(struct vmsim *sim, const char *why)
{
    vmsim__kmsg(sim, "Kernel panic - not syncing: %s", why);
    sim->panicked = true;
    sim->last_proc = NULL; /* every access now fails: no hit path */
    vmsim__emit(sim, VMSIM_EV_PANIC, 0, 0, UINT64_MAX, VMSIM_OUT_PANIC, why);
}

int vmsim__out_of_memory(struct vmsim *sim, bool memcg)
{
    uint64_t totalpages;
    struct vmsim__proc *victim = NULL;
    int64_t best = INT64_MIN;
    const struct vmsim__mm *mm;

    if (sim->cfg.panic_on_oom == 2 || (sim->cfg.panic_on_oom == 1 && !memcg)) {
        /* check_panic_on_oom(): the word follows the sysctl's value */
        panic(sim, sim->cfg.panic_on_oom == 2
                       ? "Out of memory: compulsory panic_on_oom is enabled"
                       : "Out of memory: system-wide panic_on_oom is enabled");
        return VMSIM_EPANIC;
    }
    /* the totalpages of oom_badness: RAM + swap, or the limit */
    totalpages = memcg ? sim->cfg.resident_limit / PAGE_SIZE
                       : sim->nr_frames + sim->nr_swap_slots;
    if (totalpages == 0)
        totalpages = 1;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        struct vmsim__proc *p = sim->procs[i];
        int64_t points = p->forking ? INT64_MIN : oom_badness(p, totalpages);

        if (points == INT64_MIN || points < best)
            continue;
        best = points;
        victim = p;
    }
    if (victim == NULL) {
        vmsim__kmsg(sim, "Out of memory and no killable processes...");
        if (memcg && sim->swap_draining)
            /* out_of_memory() panics only outside a memcg: a limit's
             * charge just fails, and swapoff gives up with ENOMEM (a
             * fault would retry forever on Linux: here that is the panic) */
            return VMSIM_EOOM;
        panic(sim, "System is deadlocked on memory");
        return VMSIM_EPANIC;
    }
    mm = victim->mm;
    vmsim__kmsg(sim, "%s invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
                "oom_score_adj=%d",
                sim->current != NULL ? sim->current->name : "kswapd0",
                sim->current != NULL ? sim->current->oom_score_adj : 0);
    vmsim__kmsg(sim, "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
                "file-rss:%llukB, shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d",
                victim->pid, victim->name, (unsigned long long)mm->total_vm * 4,
                (unsigned long long)mm->rss[MM_ANONPAGES] * 4,
                (unsigned long long)mm->rss[MM_FILEPAGES] * 4,
                (unsigned long long)mm->rss[MM_SHMEMPAGES] * 4,
                (unsigned long long)mm->nr_pt_pages * 4, victim->oom_score_adj);
    count_vm_event(sim, VMSIM_VMSTAT_OOM_KILL);
    victim->oom_killed = true;
    vmsim__emit(sim, VMSIM_EV_OOM_KILL, victim->pid, 0, UINT64_MAX, VMSIM_OUT_OOM, "oom-kill");
    if (victim == sim->current)
        return VMSIM__EKILLED; /* dies when the fault unwinds */
    vmsim__proc_kill(sim, victim, VMSIM_SIGKILL, VMSIM_SI_KERNEL, 0);
    return 0;
}
