/*
 * bench_json.c -- the JSON trace reader and replay (vmsim_replay) on a
 * generated trace of N one-access events (BENCH_JSON_EVENTS, default 1 M;
 * 100 k with BENCH_QUICK), one event per line:
 *
 *   {"op": "w", "addr": "a+123p"}
 *
 * over 16 384 pages of one anonymous region (three quarters of the
 * accesses on the first 4 096 pages, the rest anywhere; splitmix64, seed
 * 42), profile textbook, policy lru, resident_limit 2 048 pages, ending in
 * an `expect` of the exact minor and major faults from refmodel.c. This
 * stands in for JSON Lines until lib/trace reads it (issue 8 asks for
 * JSON Lines >= 2 M events/s; this is the JSON document reader).
 *
 *   bench_json PATH      (writes the trace to PATH, then replays it)
 *
 * Timed: vmsim_replay() (parse + replay + checks). events/s is the median
 * over BENCH_RUNS (3). Checks: status OK, every expect held, and the
 * process's minflt and majflt equal the reference.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmsim/trace.h>
#include <vmsim/vmsim.h>

#include "bench_util.h"
#include "refmodel.h"

#define NR_PAGES 16384
#define HOT_PAGES 4096
#define FRAMES 2048

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int write_trace(const char *path, uint64_t n, uint64_t *minflt, uint64_t *majflt)
{
    uint32_t *pages = malloc(n * sizeof(*pages));
    uint64_t seed = 42, misses, distinct = 0;
    uint8_t seen[NR_PAGES] = {0};
    FILE *fp;

    if (pages == NULL)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = splitmix64(&seed);

        pages[i] = (uint32_t)((x & 3) != 0 ? (x >> 8) % HOT_PAGES : (x >> 8) % NR_PAGES);
        distinct += !seen[pages[i]];
        seen[pages[i]] = 1;
    }
    misses = ref_misses(REF_LRU, pages, n, NR_PAGES - 1, FRAMES, NULL);
    fp = fopen(path, "w");
    if (fp == NULL || misses == UINT64_MAX) {
        perror(path);
        free(pages);
        return -1;
    }
    fprintf(fp, "{\"vmsim\": 1,\n \"name\": \"bench_json: %" PRIu64 " writes, lru\",\n"
                " \"system\": {\"profile\": \"textbook\", \"memory\": \"256MiB\","
                " \"swap\": \"128MiB\", \"policy\": \"lru\", \"resident_limit\": \"%dp\"},\n"
                " \"events\": [\n"
                "  {\"op\": \"mmap\", \"len\": \"%dp\", \"prot\": \"rw\","
                " \"flags\": \"private|anonymous\", \"as\": \"a\"},\n",
            n, FRAMES, NR_PAGES);
    for (uint64_t i = 0; i < n; i++)
        fprintf(fp, "  {\"op\": \"w\", \"addr\": \"a+%" PRIu32 "p\"},\n", pages[i]);
    *minflt = distinct;
    *majflt = misses - distinct;
    fprintf(fp, "  {\"op\": \"expect\", \"minflt\": %" PRIu64 ", \"majflt\": %" PRIu64 "}\n"
                " ]}\n",
            *minflt, *majflt);
    free(pages);
    return fclose(fp) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint64_t n = bench_env_u64("BENCH_JSON_EVENTS", bench_quick() ? 100000 : 1000000);
    unsigned runs = bench_runs(3);
    double rate[BENCH_MAX_RUNS], med, lo, hi;
    uint64_t minflt, majflt, events = 0;
    char verdict[64];
    int ok = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    if (write_trace(argv[1], n, &minflt, &majflt) != 0)
        return 1;
    for (unsigned i = 0; i < runs; i++) {
        vmsim_replay_options_t opt;
        vmsim_replay_result_t res = {0};
        vmsim_trace_error_t err;
        vmsim_proc_info_t info = {0};
        vmsim_t *sim = NULL;
        double t0;
        int st;

        vmsim_replay_options_init(&opt);
        t0 = bench_now();
        st = vmsim_replay(argv[1], &opt, &sim, &res, &err);
        rate[i] = (double)res.nr_events / (bench_now() - t0);
        events = res.nr_events;
        if (st != VMSIM_REPLAY_OK) {
            char line[1024];

            vmsim_trace_error_format(&err, line, sizeof(line));
            fprintf(stderr, "bench_json: replay status %d: %s\n", st, line);
            ok = 0;
        }
        if (sim == NULL || vmsim_proc_info(sim, 1, &info) != 0 || info.minflt != minflt ||
            info.majflt != majflt || res.nr_failed_checks != 0 || res.nr_checks != 2) {
            fprintf(stderr, "bench_json: minflt %" PRIu64 " majflt %" PRIu64
                            ", reference %" PRIu64 " %" PRIu64 "\n",
                    info.minflt, info.majflt, minflt, majflt);
            ok = 0;
        }
        vmsim_destroy(sim);
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    printf("%-22s %11" PRIu64 " events %-4s %8.2f [%7.2f-%7.2f] M events/s  peak %4.0f MiB"
           "  target (JSON Lines) %.0f M/s  %s\n",
           "JSON replay", events, ok ? "ok" : "FAIL", med / 1e6, lo / 1e6, hi / 1e6,
           (double)bench_peak_rss() / (1024.0 * 1024.0), 2.0,
           bench_verdict(med, 2e6, 1, verdict, sizeof(verdict)));
    return ok ? 0 : 1;
}
