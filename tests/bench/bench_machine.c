/*
 * bench_machine.c -- what a big simulated machine costs the host.
 *
 * 1. Create and destroy a 64 GiB machine (profile LINUX): the time of
 *    vmsim_create + vmsim_destroy (median of BENCH_RUNS, default 5), and
 *    the host memory right after creation, before any access: the growth
 *    of this process's resident set (RSS, /proc/self/statm) and of its
 *    virtual size. Target: <= 1 GiB.
 * 2. Host bytes per resident simulated page: on a 64 GiB machine, one
 *    process writes N pages of one anonymous region (BENCH_RESIDENT_PAGES,
 *    default 1 M = 4 GiB; 256 Ki with BENCH_QUICK); RSS growth / N, with
 *    and without the simulated page-table pages (PageTables of meminfo, held
 *    by the host as 4 KiB each). Target: <= 64 bytes plus page tables.
 *    Checks: N minor faults, no major fault, VmRSS = N pages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmsim/vmsim.h>

#include "bench_util.h"

#define MiB (1024.0 * 1024.0)
#define MEMORY ((uint64_t)64 << 30)

static int create_64g(vmsim_t **sim)
{
    vmsim_config_t cfg;
    int rc;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = MEMORY;
    rc = vmsim_create(&cfg, sim);
    if (rc != 0)
        fprintf(stderr, "bench_machine: vmsim_create(64 GiB): %s\n", vmsim_strerror(rc));
    return rc;
}

static int bench_create(void)
{
    unsigned runs = bench_runs(5);
    double ms[BENCH_MAX_RUNS], create_ms[BENCH_MAX_RUNS], med, lo, hi;
    uint64_t rss_growth = 0, vsz_growth = 0;
    char verdict[64];

    for (unsigned i = 0; i < runs; i++) {
        vmsim_t *sim = NULL;
        uint64_t rss0 = bench_cur_rss(), vsz0 = bench_cur_vsize();
        double t0 = bench_now(), t1;

        if (create_64g(&sim) != 0)
            return -1;
        t1 = bench_now();
        if (bench_cur_rss() - rss0 > rss_growth)
            rss_growth = bench_cur_rss() - rss0;
        if (bench_cur_vsize() - vsz0 > vsz_growth)
            vsz_growth = bench_cur_vsize() - vsz0;
        vmsim_destroy(sim);
        ms[i] = (bench_now() - t0) * 1e3;
        create_ms[i] = (t1 - t0) * 1e3;
    }
    bench_minmax(ms, runs, &lo, &hi);
    med = bench_median(ms, runs);
    printf("%-30s %8.2f ms [%.2f-%.2f] (create alone %.2f ms)\n",
           "64 GiB create+destroy", med, lo, hi, bench_median(create_ms, runs));
    printf("%-30s %8.1f MiB RSS, %.1f MiB virtual  target <= 1024 MiB  %s\n",
           "64 GiB host memory at creation", (double)rss_growth / MiB, (double)vsz_growth / MiB,
           bench_verdict((double)rss_growth / MiB, 1024.0, 0, verdict, sizeof(verdict)));
    return 0;
}

static int bench_resident(void)
{
    uint64_t n = bench_env_u64("BENCH_RESIDENT_PAGES", bench_quick() ? 262144 : 1048576);
    vmsim_mmap_req_t req = {
        .len = n * VMSIM_PAGE_SIZE,
        .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS,
    };
    vmsim_vaddr_t base = 0;
    vmsim_proc_info_t info;
    vmsim_t *sim = NULL;
    uint64_t rss0, growth, pt = 0;
    double per_page, per_page_no_pt, t0, secs;
    char verdict[64];
    int rc, ok;

    if (create_64g(&sim) != 0)
        return -1;
    if ((rc = vmsim_spawn(sim, 1, "touch", 0)) != 0 ||
        (rc = vmsim_mmap(sim, 1, &req, &base)) != 0) {
        fprintf(stderr, "bench_machine: spawn/mmap: %d\n", rc);
        vmsim_destroy(sim);
        return -1;
    }
    rss0 = bench_cur_rss();
    t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = vmsim_access(sim, 1, base + i * VMSIM_PAGE_SIZE, 1, VMSIM_WRITE, NULL)) != 0) {
            fprintf(stderr, "bench_machine: access: %s\n", vmsim_strerror(rc));
            vmsim_destroy(sim);
            return -1;
        }
    }
    secs = bench_now() - t0;
    growth = bench_cur_rss() - rss0;
    vmsim_meminfo_get(sim, "PageTables", &pt);
    ok = vmsim_proc_info(sim, 1, &info) == 0 && info.minflt == n && info.majflt == 0 &&
         info.vmrss == n * VMSIM_PAGE_SIZE;
    if (!ok)
        fprintf(stderr, "bench_machine: minflt %" PRIu64 " majflt %" PRIu64 " VmRSS %" PRIu64
                        " (want %" PRIu64 ", 0, %" PRIu64 ")\n",
                info.minflt, info.majflt, info.vmrss, n, n * VMSIM_PAGE_SIZE);
    vmsim_destroy(sim);
    per_page = (double)growth / (double)n;
    per_page_no_pt = ((double)growth - (double)pt) / (double)n;
    printf("%-30s %8.1f B/page (%" PRIu64 " pages, RSS +%.1f MiB; page tables %.1f MiB ="
           " %.1f B/page; without them %.1f B/page)  target <= 64 B + tables  %-4s %s\n",
           "host bytes per resident page", per_page, n, (double)growth / MiB, (double)pt / MiB,
           (double)pt / (double)n, per_page_no_pt, ok ? "ok" : "FAIL",
           bench_verdict(per_page_no_pt, 64.0, 0, verdict, sizeof(verdict)));
    printf("%-30s %8.2f M faults/s (first-touch write faults on the 64 GiB machine)\n",
           "first-touch faults", (double)n / secs / 1e6);
    printf("%-30s %8.0f MiB\n", "peak RSS of bench_machine", (double)bench_peak_rss() / MiB);
    return ok ? 0 : 1;
}

int main(void)
{
    int rc = bench_create();

    if (rc == 0)
        rc = bench_resident();
    return rc == 0 ? 0 : 1;
}
