/*
 * bench_curve.c -- one-pass fault curves (include/vmsim/curve.h): the
 * misses of LRU (or OPT) at every memory size from one pass over a
 * tracegen trace, with the streaming builder (vmsim_curve_create,
 * vmsim_curve_ref per reference, vmsim_curve_finish).
 *
 *   bench_curve TRACE_PREFIX NAME lru|opt [MAX_REFS]
 *
 * MAX_REFS replays only the trace's first references (run_bench.sh does
 * for OPT, whose one pass is much slower on uniform traces).
 *
 * Timed: create + every reference + finish + destroy; refs/s is the
 * median over BENCH_RUNS (3). The trace is decoded into memory once,
 * untimed. Checks (exit 1 on failure): the curve has one entry per
 * distinct page, and at 1 frame and at 1, 10 and 50 % of the working set
 * it equals refmodel.c's misses, in every run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsim/vmsim.h>

#include "bench_util.h"
#include "refmodel.h"

#define MiB (1024.0 * 1024.0)

int main(int argc, char **argv)
{
    static const unsigned pcts[] = {0, 1, 10, 50}; /* 0: one frame */
    uint64_t frames[4], expect[4], *next = NULL;
    unsigned runs = bench_runs(3);
    double rate[BENCH_MAX_RUNS], med, lo, hi;
    vmsim_curve_kind kind;
    ref_policy pol;
    bench_trace_t t;
    char verdict[64];
    int failed = 0;

    if (argc < 4 || argc > 5 || (strcmp(argv[3], "lru") != 0 && strcmp(argv[3], "opt") != 0)) {
        fprintf(stderr, "usage: %s TRACE_PREFIX NAME lru|opt [MAX_REFS]\n", argv[0]);
        return 2;
    }
    kind = strcmp(argv[3], "lru") == 0 ? VMSIM_CURVE_LRU : VMSIM_CURVE_OPT;
    pol = kind == VMSIM_CURVE_LRU ? REF_LRU : REF_OPT;
    if (bench_trace_load(argv[1], 0, &t) != 0)
        return 1;
    if (argc == 5 && strtoull(argv[4], NULL, 10) != 0 && strtoull(argv[4], NULL, 10) < t.n)
        bench_trace_truncate(&t, strtoull(argv[4], NULL, 10));
    if (pol == REF_OPT) {
        next = malloc(t.n * sizeof(*next));
        if (next == NULL || ref_next_use(t.pages, t.n, t.max_page, next) != 0)
            return 1;
    }
    for (int i = 0; i < 4; i++) {
        frames[i] = pcts[i] == 0 ? 1 : t.working_set * pcts[i] / 100;
        expect[i] = ref_misses(pol, t.pages, t.n, t.max_page, frames[i], next);
        if (expect[i] == UINT64_MAX)
            return 1;
    }
    free(next);

    for (unsigned r = 0; r < runs; r++) {
        vmsim_curve_t *c = NULL;
        const uint64_t *misses;
        size_t n = 0;
        double t0 = bench_now();
        int rc = vmsim_curve_create(kind, &c);

        for (uint64_t i = 0; rc == 0 && i < t.n; i++)
            rc = vmsim_curve_ref(c, 1, t.pages[i]);
        if (rc == 0)
            rc = vmsim_curve_finish(c, &misses, &n);
        if (rc != 0) {
            fprintf(stderr, "bench_curve: %s\n", vmsim_strerror(rc));
            vmsim_curve_destroy(c);
            return 1;
        }
        if (n != t.working_set) {
            fprintf(stderr, "bench_curve: %zu entries, working set %" PRIu64 "\n", n,
                    t.working_set);
            failed = 1;
        }
        for (int i = 0; i < 4 && n == t.working_set; i++) {
            if (misses[frames[i] - 1] != expect[i]) {
                fprintf(stderr, "bench_curve: %s %s: %" PRIu64 " frames: curve %" PRIu64
                                ", reference %" PRIu64 "\n",
                        argv[2], argv[3], frames[i], misses[frames[i] - 1], expect[i]);
                failed = 1;
            }
        }
        vmsim_curve_destroy(c);
        rate[r] = (double)t.n / (bench_now() - t0);
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    printf("%-7s %-4s curve %9" PRIu64 " refs %8" PRIu64 " sizes  %-4s %7.2f [%6.2f-%6.2f]"
           " Mrefs/s  peak %4.0f MiB  faults at 1/10/50%%: %" PRIu64 " %" PRIu64 " %" PRIu64,
           argv[2], argv[3], t.n, t.working_set, failed ? "FAIL" : "ok", med / 1e6, lo / 1e6,
           hi / 1e6, (double)bench_peak_rss() / MiB, expect[1], expect[2], expect[3]);
    if (kind == VMSIM_CURVE_LRU)
        printf("  target 10 M/s  %s", bench_verdict(med, 10e6, 1, verdict, sizeof(verdict)));
    printf("\n");
    bench_trace_free(&t);
    return failed;
}
