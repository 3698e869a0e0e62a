/*
 * bench_tlb.c -- the TLB-hit path: a working set of 16 pages, well inside
 * the TLB (profile LINUX: TLB on, 64 L1 4K entries), written once and then
 * read N times round-robin (BENCH_TLB_ACCESSES, default 100 M; 10 M with
 * BENCH_QUICK). Without a TLB model in the library this measures the page
 * walk's hit path, which is what the TLB-hit path costs then.
 *
 * Timed: the N reads only. accesses/s is the median over BENCH_RUNS (3).
 * Checks: 16 minor faults and no major fault at the end of every run, and,
 * when the library counts TLB hits, at least N - 16 of them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmsim/vmsim.h>

#include "bench_util.h"

#define NR_PAGES 16

static int run(uint64_t n, double *seconds, vmsim_tlb_stats_t *tlb, int *ok)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_mmap_req_t req = {
        .len = NR_PAGES * VMSIM_PAGE_SIZE,
        .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS,
    };
    vmsim_vaddr_t base = 0;
    vmsim_proc_info_t info;
    unsigned out, any = 0;
    double t0;
    int rc;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.tlb.enabled = true;
    if ((rc = vmsim_create(&cfg, &sim)) != 0 || (rc = vmsim_spawn(sim, 1, "tlb", 0)) != 0 ||
        (rc = vmsim_mmap(sim, 1, &req, &base)) != 0) {
        fprintf(stderr, "bench_tlb: setup failed: %d\n", rc);
        vmsim_destroy(sim);
        return -1;
    }
    for (unsigned p = 0; p < NR_PAGES; p++)
        if (vmsim_access(sim, 1, base + p * VMSIM_PAGE_SIZE, 1, VMSIM_WRITE, NULL) != 0)
            return -1;
    t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        rc = vmsim_access(sim, 1, base + (i % NR_PAGES) * VMSIM_PAGE_SIZE, 8, VMSIM_READ, &out);
        any |= out | (unsigned)rc;
    }
    *seconds = bench_now() - t0;
    vmsim_tlb_stats(sim, tlb);
    *ok = vmsim_proc_info(sim, 1, &info) == 0 && info.alive && info.minflt == NR_PAGES &&
          info.majflt == 0 && (any & ~(unsigned)VMSIM_OUT_TLB_MISS) == 0 &&
          (tlb->hits + tlb->misses == 0 || tlb->hits >= n - NR_PAGES);
    if (!*ok)
        fprintf(stderr,
                "bench_tlb: minflt %" PRIu64 " majflt %" PRIu64 " outcomes 0x%x tlb hits %" PRIu64
                " misses %" PRIu64 " (want 16, 0, no fault, >= %" PRIu64 " hits)\n",
                info.minflt, info.majflt, any, tlb->hits, tlb->misses, n - NR_PAGES);
    vmsim_destroy(sim);
    return 0;
}

int main(void)
{
    uint64_t n = bench_env_u64("BENCH_TLB_ACCESSES", bench_quick() ? 10000000 : 100000000);
    unsigned runs = bench_runs(3);
    double rate[BENCH_MAX_RUNS], med, lo, hi, s;
    vmsim_tlb_stats_t tlb = {0};
    char verdict[64];
    int ok = 1, ok1;

    for (unsigned i = 0; i < runs; i++) {
        if (run(n, &s, &tlb, &ok1) != 0)
            return 1;
        ok &= ok1;
        rate[i] = (double)n / s;
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    printf("%-22s %6d pages %11" PRIu64 " accesses %-4s %8.2f [%7.2f-%7.2f] M/s  peak %4.0f MiB"
           "  tlb hits %" PRIu64 " misses %" PRIu64 "  target %.0f M/s  %s\n",
           "tlb-hit loop", NR_PAGES, n, ok ? "ok" : "FAIL", med / 1e6, lo / 1e6, hi / 1e6,
           (double)bench_peak_rss() / (1024.0 * 1024.0), tlb.hits, tlb.misses, 200.0,
           bench_verdict(med, 200e6, 1, verdict, sizeof(verdict)));
    return ok ? 0 : 1;
}
