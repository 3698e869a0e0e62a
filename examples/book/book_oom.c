/*
 * book_oom.c -- chapter 5, the OOM killer and vm.panic_on_oom.
 *
 * When memory runs out and nothing can be reclaimed (no swap, no page
 * cache), the kernel's OOM killer picks a process by its badness (about
 * its RSS, moved by oom_score_adj) and kills it with SIGKILL; the kernel
 * log says which. With vm.panic_on_oom = 1 the kernel panics instead and
 * the whole machine stops.
 */
#include <string.h>

#include "book.h"

static void dmesg(const vmsim_t *sim, uint64_t from)
{
    printf("\nsim$ dmesg | tail\n");
    for (uint64_t i = from; i < vmsim_kmsg_seq(sim); i++) {
        const char *line = vmsim_kmsg(sim, i);

        if (line != NULL)
            printf("%s\n", line);
    }
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t a, b;
    vmsim_proc_info_t victim, hog;
    unsigned out;
    int err;

    /* 1. the OOM killer: 64 MiB of RAM, no swap */
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 100, "bystander", 0));
    TRY(vmsim_spawn(sim, 200, "hog", 0));
    a = book_mmap_anon(sim, 100, 16 * MiB);
    book_touch(sim, 100, a, 16 * MiB, VMSIM_WRITE);
    /* the hog asks for more than there is, and mmap() lets it (overcommit) */
    b = book_mmap_anon(sim, 200, 60 * MiB);
    printf("sim$ ./hog &     # writes 60 MiB into a 64 MiB machine beside a 16 MiB process\n");
    out = book_touch(sim, 200, b, 60 * MiB, VMSIM_WRITE);
    printf("\nsim$ ps -o pid,comm,vsz,rss,min_flt,maj_flt\n");
    book_ps_header();
    book_ps(sim, 100);
    book_ps(sim, 200);
    dmesg(sim, 0);

    hog = book_info(sim, 200);
    victim = book_info(sim, 100);
    CHECK(out & VMSIM_OUT_OOM, "the hog's writes did not run the OOM killer");
    CHECK(!hog.alive && hog.oom_killed && hog.signal == VMSIM_SIGKILL,
          "the hog should die of SIGKILL from the OOM killer (alive %d, signal %s)", hog.alive,
          vmsim_signal_name(hog.signal));
    CHECK(victim.alive, "the bystander (smaller RSS) should live");
    CHECK(book_vmstat(sim, "oom_kill") == 1, "oom_kill is %" PRIu64,
          book_vmstat(sim, "oom_kill"));
    CHECK(vmsim_kmsg_seq(sim) >= 1 && strstr(vmsim_kmsg(sim, vmsim_kmsg_seq(sim) - 1),
                                             "Killed process 200 (hog)") != NULL,
          "the kernel log should name the victim");
    book_check(sim);
    vmsim_destroy(sim);

    /* 2. the same with vm.panic_on_oom = 1: no process is killed, the
     *    kernel panics and the machine stops */
    cfg.panic_on_oom = 1;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 200, "hog", 0));
    /* two mappings of 40 MiB: each alone passes the heuristic overcommit
     * check (at most RAM + swap per call) */
    a = book_mmap_anon(sim, 200, 40 * MiB);
    b = book_mmap_anon(sim, 200, 40 * MiB);
    printf("\nsim$ sysctl vm.panic_on_oom=1\nsim$ ./hog &     # writes 80 MiB into 64 MiB\n");
    err = 0;
    for (uint64_t off = 0; off < 80 * MiB && err == 0; off += VMSIM_PAGE_SIZE)
        err = vmsim_access(sim, 200, (off < 40 * MiB ? a : b - 40 * MiB) + off, 1,
                           VMSIM_WRITE, NULL);
    dmesg(sim, 0);
    CHECK(err == VMSIM_EPANIC, "the access should end in a panic, got %s", vmsim_err_name(err));
    CHECK(vmsim_panicked(sim), "the machine should have panicked");
    CHECK(book_vmstat(sim, "oom_kill") == 0, "nothing should have been killed");
    /* a panicked machine refuses everything that would change it */
    CHECK(vmsim_spawn(sim, 300, "late", 0) == VMSIM_EPANIC, "spawn after a panic");
    book_check(sim);
    vmsim_destroy(sim);
    return book_done(NULL);
}
