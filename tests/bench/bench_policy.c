/*
 * bench_policy.c -- policy replay: a tracegen page-reference trace replayed
 * through the public API as one process writing pages of one anonymous
 * region (page p at base + p * 4096) under resident_limit, profile
 * TEXTBOOK (no zero page, no TLB, no readahead), with swap large enough for
 * the working set and RAM (8 GiB) large enough that only resident_limit
 * reclaims.
 *
 *   bench_policy TRACE_PREFIX NAME POLICY PERCENT
 *
 * TRACE_PREFIX names tracegen's output (PREFIX.oracleGeneral.bin); NAME is
 * the trace's label in the table; POLICY is fifo, lru, clock or opt;
 * PERCENT the resident limit in percent of the working set (frames =
 * floor(working set * PERCENT / 100), tracegen's rounding).
 *
 * One run = create the machine, spawn, mmap, (opt: compute next_use[] and
 * vmsim_set_future), one vmsim_access per reference, read the counters,
 * destroy: all of it timed. A batch run is the same with the references
 * handed over 4 096 at a time with vmsim_access_batch() (the addresses
 * computed in the timed loop). refs/s is the median over BENCH_RUNS runs
 * (3) of each kind, the two kinds alternating. The trace is decoded into
 * memory once, before the runs, untimed.
 *
 * Checks (exit 1 on any failure): minflt + majflt equals the exact miss
 * count of refmodel.c in every run; minflt equals the working set (first
 * touches are minor, re-faults major); every API call succeeds.
 *
 * Prints one table row: trace policy limit frames refs faults check
 * Mrefs/s [min-max] batch-Mrefs/s [min-max] refmodel-Mrefs/s peakRSS
 * machineRSS target verdict (of the batch figure, the better one).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsim/vmsim.h>

#include "bench_util.h"
#include "refmodel.h"

#define MiB (1024.0 * 1024.0)

struct run_result {
    double seconds;
    uint64_t minflt, majflt;
    uint64_t machine_rss; /* current RSS growth, just before destroy */
    int ok;
};

/* Addresses per vmsim_access_batch() call in batch mode. */
#define BATCH 4096

static int replay_once(const bench_trace_t *t, const char *policy, uint64_t frames,
                       uint64_t *next, bool batch, struct run_result *r)
{
    vmsim_vaddr_t va[BATCH];
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_mmap_req_t req = {
        .len = ((uint64_t)t->max_page + 1) * VMSIM_PAGE_SIZE,
        .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS,
    };
    vmsim_vaddr_t base = 0;
    vmsim_proc_info_t info;
    uint64_t rss0 = bench_cur_rss();
    double t0;
    int rc;

    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.memory = (uint64_t)8 << 30;
    /* the whole working set fits in swap: round up to 1 MiB */
    cfg.swap = ((t->working_set * VMSIM_PAGE_SIZE + (1 << 20) - 1) >> 20) << 20;
    cfg.policy = policy;
    cfg.resident_limit = frames * VMSIM_PAGE_SIZE;

    memset(r, 0, sizeof(*r));
    t0 = bench_now();
    if ((rc = vmsim_create(&cfg, &sim)) != 0) {
        fprintf(stderr, "bench_policy: vmsim_create: %s\n", vmsim_strerror(rc));
        return -1;
    }
    if ((rc = vmsim_spawn(sim, 1, "bench", 0)) != 0 ||
        (rc = vmsim_mmap(sim, 1, &req, &base)) != 0) {
        fprintf(stderr, "bench_policy: spawn/mmap: %d (%s)\n", rc,
                rc < 0 ? vmsim_strerror(rc) : "simulated errno");
        vmsim_destroy(sim);
        return -1;
    }
    if (next != NULL) {
        /* OPT's pre-pass: the future of the trace, in the timing */
        if (ref_next_use(t->pages, t->n, t->max_page, next) != 0 ||
            (rc = vmsim_set_future(sim, next, t->n)) != 0) {
            fprintf(stderr, "bench_policy: cannot give OPT its future\n");
            vmsim_destroy(sim);
            return -1;
        }
    }
    for (uint64_t i = 0; batch && i < t->n; i += BATCH) {
        size_t n = t->n - i < BATCH ? (size_t)(t->n - i) : BATCH, done = 0;

        for (size_t j = 0; j < n; j++)
            va[j] = base + (uint64_t)t->pages[i + j] * VMSIM_PAGE_SIZE;
        rc = vmsim_access_batch(sim, 1, va, n, 1, VMSIM_WRITE, &done, NULL);
        if (rc != 0 || done != n) {
            fprintf(stderr, "bench_policy: batch at %" PRIu64 ": %zu of %zu made: %s\n", i,
                    done, n, rc != 0 ? vmsim_strerror(rc) : "the process died");
            vmsim_destroy(sim);
            return -1;
        }
    }
    for (uint64_t i = 0; !batch && i < t->n; i++) {
        rc = vmsim_access(sim, 1, base + (uint64_t)t->pages[i] * VMSIM_PAGE_SIZE, 1,
                          VMSIM_WRITE, NULL);
        if (rc != 0) {
            fprintf(stderr, "bench_policy: access %" PRIu64 " (page %" PRIu32 "): %s\n", i,
                    t->pages[i], vmsim_strerror(rc));
            vmsim_destroy(sim);
            return -1;
        }
    }
    if ((rc = vmsim_proc_info(sim, 1, &info)) != 0 || !info.alive) {
        fprintf(stderr, "bench_policy: the process died or vanished\n");
        vmsim_destroy(sim);
        return -1;
    }
    r->machine_rss = bench_cur_rss() - rss0;
    vmsim_destroy(sim);
    r->seconds = bench_now() - t0;
    r->minflt = info.minflt;
    r->majflt = info.majflt;
    r->ok = 1;
    return 0;
}

/* The targets of issue 8, refs/s. */
static double target_for(const char *trace, const char *policy)
{
    if (strcmp(policy, "opt") == 0)
        return 15e6;
    return strcmp(trace, "zipf") == 0 ? 40e6 : 20e6;
}

int main(int argc, char **argv)
{
    bench_trace_t t;
    const char *prefix, *name, *policy;
    int pol, failed = 0;
    unsigned runs = bench_runs(3);
    uint64_t pct, frames, expect, maj_expect, *next = NULL, machine_rss = 0;
    double rate[BENCH_MAX_RUNS], brate[BENCH_MAX_RUNS], t0, ref_secs, med, lo, hi, bmed, blo,
        bhi;
    char verdict[64], faults[64];
    struct run_result r = {0};

    if (argc != 5 || (pol = ref_policy_from_name(argv[3])) < 0 ||
        strcmp(argv[3], "clock1") == 0 || (pct = strtoull(argv[4], NULL, 10)) == 0 ||
        pct > 100) {
        fprintf(stderr, "usage: %s TRACE_PREFIX NAME fifo|lru|clock|opt PERCENT\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    name = argv[2];
    policy = argv[3];
    if (bench_trace_load(prefix, pol == REF_OPT, &t) != 0)
        return 1;
    frames = t.working_set * pct / 100;
    if (frames == 0) {
        fprintf(stderr, "bench_policy: %" PRIu64 "%% of %" PRIu64 " pages is no frame\n", pct,
                t.working_set);
        return 1;
    }

    /* The exact answer, from the reference model (timed once, for scale). */
    if (pol == REF_OPT) {
        next = malloc(t.n * sizeof(*next));
        if (next == NULL || ref_next_use(t.pages, t.n, t.max_page, next) != 0) {
            fprintf(stderr, "bench_policy: out of memory\n");
            return 1;
        }
        /* our next-use table agrees with tracegen's own column */
        for (uint64_t i = 0; i < t.n; i++) {
            uint64_t want = t.next_vtime[i] < 0 ? UINT64_MAX : (uint64_t)t.next_vtime[i] - 1;

            if (next[i] != want) {
                fprintf(stderr, "bench_policy: next use of reference %" PRIu64
                                " is %" PRIu64 ", tracegen says %" PRIu64 "\n",
                        i, next[i], want);
                return 1;
            }
        }
        free(t.next_vtime);
        t.next_vtime = NULL;
    }
    t0 = bench_now();
    expect = ref_misses((ref_policy)pol, t.pages, t.n, t.max_page, frames, next);
    ref_secs = bench_now() - t0;
    if (expect == UINT64_MAX) {
        fprintf(stderr, "bench_policy: reference model out of memory\n");
        return 1;
    }
    maj_expect = expect - t.working_set;

    for (unsigned k = 0; k < 2 * runs; k++) {
        unsigned i = k / 2;

        if (replay_once(&t, policy, frames, next, k % 2 == 1, &r) != 0)
            return 1;
        (k % 2 == 1 ? brate : rate)[i] = (double)t.n / r.seconds;
        if (r.machine_rss > machine_rss)
            machine_rss = r.machine_rss;
        if (r.minflt + r.majflt != expect || r.minflt != t.working_set) {
            fprintf(stderr,
                    "bench_policy: %s %s %" PRIu64 "%%: run %u%s: minflt %" PRIu64
                    " + majflt %" PRIu64 " = %" PRIu64 ", reference %" PRIu64
                    " (= %" PRIu64 " minor + %" PRIu64 " major)\n",
                    name, policy, pct, i + 1, k % 2 == 1 ? " (batch)" : "", r.minflt, r.majflt,
                    r.minflt + r.majflt, expect,
                    t.working_set, maj_expect);
            failed = 1;
        }
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    bench_minmax(brate, runs, &blo, &bhi);
    bmed = bench_median(brate, runs);
    snprintf(faults, sizeof(faults), "%" PRIu64, r.minflt + r.majflt);
    printf("%-7s %-6s %3" PRIu64 "%% %7" PRIu64 " %9" PRIu64 " %9s %-5s %6.2f [%5.2f-%5.2f]"
           " %6.2f [%5.2f-%5.2f] %7.2f %5.0f %5.0f %4.0f  %s\n",
           name, policy, pct, frames, t.n, faults, failed ? "FAIL" : "ok", med / 1e6,
           lo / 1e6, hi / 1e6, bmed / 1e6, blo / 1e6, bhi / 1e6, (double)t.n / ref_secs / 1e6,
           (double)bench_peak_rss() / MiB, (double)machine_rss / MiB,
           target_for(name, policy) / 1e6,
           bench_verdict(bmed > med ? bmed : med, target_for(name, policy), 1, verdict,
                         sizeof(verdict)));
    fflush(stdout);
    free(next);
    bench_trace_free(&t);
    return failed;
}
