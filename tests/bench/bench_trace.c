/*
 * bench_trace.c -- the trace readers: vmsim_replay() of a generated trace
 * in one of the text containers, end to end (read, parse, replay, checks).
 *
 *   bench_trace json|jsonl|lackey|lackey-hits PATH [N]
 *
 * writes a trace of N one-access records (default: json and jsonl 1 M,
 * lackey 10 M; a tenth with BENCH_QUICK) to PATH, then replays it
 * BENCH_RUNS (3) times and prints the median rate:
 *
 *   json    a JSON document: {"vmsim": 1, "system": {...}, "events": [
 *           {"op": "mmap", ...}, {"op": "w", "addr": "a+123p"}, ...,
 *           {"op": "expect", "minflt": ..., "majflt": ...}]}, one event a line
 *   jsonl   the same events as JSON Lines: the header line, then one event
 *           per line
 *   lackey  valgrind lackey records ("I  ADDR,SIZE", " L ", " S ", " M "),
 *           after two lines of valgrind's banner; settings as overrides
 *   lackey-hits  the same trace with no resident limit: after the first
 *           touches every access hits, so this is the reader plus the hit
 *           path, the nearest the public API comes to the reader alone
 *
 * The accesses: 16 384 pages of one region, three quarters of them on the
 * first 4 096 (splitmix64, seed 42); lackey mixes I (1/8), L (1/2), S (1/4)
 * and M (1/8) records at random offsets inside the page. Profile textbook,
 * policy lru, resident_limit 2 048 pages, 256 MiB of RAM and 128 MiB of
 * swap, so only the limit reclaims (lackey-hits: no limit).
 *
 * The trace is written by a child process, so the peak RSS printed is the
 * reader's and the replay's alone (plus this small program).
 *
 * Checks: replay status OK; JSON and JSON Lines end with an `expect` of the
 * exact minflt and majflt (refmodel.c's LRU misses: first touches minor,
 * re-faults major) and every check must hold; for all three the process's
 * minflt and majflt must equal them.
 *
 * Prints one row: format, records, check, M records/s (median [min-max]),
 * peak RSS (memory must stay flat in trace length for the streaming
 * readers), and the issue 8 target where there is one (JSON Lines 2 M
 * events/s, lackey 30 M lines/s).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmsim/trace.h>
#include <vmsim/vmsim.h>

#include "bench_util.h"
#include "refmodel.h"

#define NR_PAGES 16384
#define HOT_PAGES 4096
#define FRAMES 2048
#define LACKEY_BASE 0x10000000ull

enum fmt { FMT_JSON, FMT_JSONL, FMT_LACKEY, FMT_LACKEY_HITS };

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Write the trace; *minflt and *majflt get the exact fault counts. */
static int write_trace(enum fmt fmt, const char *path, uint64_t n, uint64_t *minflt,
                       uint64_t *majflt)
{
    /* a lackey M record references its page twice (a load, then a store) */
    uint32_t *pages = malloc(2 * n * sizeof(*pages));
    uint64_t seed = 42, nref = 0, misses, distinct = 0;
    static uint8_t seen[NR_PAGES];
    char buf[1 << 16];
    FILE *fp;

    if (pages == NULL)
        return -1;
    fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        free(pages);
        return -1;
    }
    setvbuf(fp, buf, _IOFBF, sizeof(buf));
    memset(seen, 0, sizeof(seen));
    if (fmt == FMT_JSON)
        fprintf(fp, "{\"vmsim\": 1,\n \"name\": \"bench_trace: %" PRIu64 " writes, lru\",\n"
                    " \"system\": {\"profile\": \"textbook\", \"memory\": \"256MiB\","
                    " \"swap\": \"128MiB\", \"policy\": \"lru\", \"resident_limit\": \"%dp\"},\n"
                    " \"events\": [\n"
                    "  {\"op\": \"mmap\", \"len\": \"%dp\", \"prot\": \"rw\","
                    " \"flags\": \"private|anonymous\", \"as\": \"a\"},\n",
                n, FRAMES, NR_PAGES);
    else if (fmt == FMT_JSONL)
        fprintf(fp, "{\"vmsim\": 1, \"name\": \"bench_trace: %" PRIu64 " writes, lru\","
                    " \"system\": {\"profile\": \"textbook\", \"memory\": \"256MiB\","
                    " \"swap\": \"128MiB\", \"policy\": \"lru\", \"resident_limit\": \"%dp\"}}\n"
                    "{\"op\": \"mmap\", \"len\": \"%dp\", \"prot\": \"rw\","
                    " \"flags\": \"private|anonymous\", \"as\": \"a\"}\n",
                n, FRAMES, NR_PAGES);
    else
        fprintf(fp, "==4242== Lackey, an example Valgrind tool\n==4242== Command: bench\n");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = splitmix64(&seed);
        uint32_t p = (uint32_t)((x & 3) != 0 ? (x >> 8) % HOT_PAGES : (x >> 8) % NR_PAGES);

        pages[nref++] = p;
        distinct += !seen[p];
        seen[p] = 1;
        if (fmt == FMT_JSON)
            fprintf(fp, "  {\"op\": \"w\", \"addr\": \"a+%" PRIu32 "p\"},\n", p);
        else if (fmt == FMT_JSONL)
            fprintf(fp, "{\"op\": \"w\", \"addr\": \"a+%" PRIu32 "p\"}\n", p);
        else {
            unsigned kind = (unsigned)(x >> 40) & 7; /* 0: I, 1-4: L, 5-6: S, 7: M */
            uint64_t va = LACKEY_BASE + (uint64_t)p * 4096 + (x >> 44) % 4089;

            if (kind == 0)
                fprintf(fp, "I  %08" PRIx64 ",%u\n", va, 1 + (unsigned)(x >> 60) % 8);
            else
                fprintf(fp, " %c %08" PRIx64 ",8\n", kind <= 4 ? 'L' : kind <= 6 ? 'S' : 'M',
                        va);
            if (kind == 7)
                pages[nref++] = p;
        }
    }
    misses = ref_misses(REF_LRU, pages, nref, NR_PAGES - 1, FRAMES, NULL);
    free(pages);
    if (misses == UINT64_MAX) {
        fclose(fp);
        return -1;
    }
    *minflt = distinct;
    *majflt = misses - distinct;
    if (fmt == FMT_JSON)
        fprintf(fp, "  {\"op\": \"expect\", \"minflt\": %" PRIu64 ", \"majflt\": %" PRIu64 "}\n"
                    " ]}\n",
                *minflt, *majflt);
    else if (fmt == FMT_JSONL)
        fprintf(fp, "{\"op\": \"expect\", \"minflt\": %" PRIu64 ", \"majflt\": %" PRIu64 "}\n",
                *minflt, *majflt);
    if (fclose(fp) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* write_trace in a child process, so that its page array does not count in
 * this process's peak RSS (the readers' memory must be seen alone). */
static int generate(enum fmt fmt, const char *path, uint64_t n, uint64_t *minflt,
                    uint64_t *majflt)
{
    uint64_t counts[2];
    int fd[2], status;
    pid_t child;

    if (pipe(fd) != 0)
        return -1;
    child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        int rc = write_trace(fmt, path, n, &counts[0], &counts[1]);

        close(fd[0]);
        if (rc == 0 && write(fd[1], counts, sizeof(counts)) != (ssize_t)sizeof(counts))
            rc = -1;
        _exit(rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    if (read(fd[0], counts, sizeof(counts)) != (ssize_t)sizeof(counts)) {
        close(fd[0]);
        waitpid(child, &status, 0);
        return -1;
    }
    close(fd[0]);
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *minflt = counts[0];
    *majflt = counts[1];
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"json", "jsonl", "lackey", "lackey-hits"};
    static const vmsim_trace_override_t lackey_settings[] = {
        {"profile", "textbook"}, {"memory", "256MiB"}, {"swap", "128MiB"},
        {"policy", "lru"},       {"resident_limit", "2048p"}, /* last: not for -hits */
    };
    unsigned runs = bench_runs(3);
    double rate[BENCH_MAX_RUNS], med, lo, hi, target;
    uint64_t n, minflt, majflt;
    char verdict[64];
    enum fmt fmt = FMT_JSON;
    int ok = 1, f;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s json|jsonl|lackey|lackey-hits PATH [N]\n", argv[0]);
        return 2;
    }
    for (f = 0; f < 4 && strcmp(argv[1], names[f]) != 0; f++)
        continue;
    fmt = (enum fmt)f;
    if (f == 4) {
        fprintf(stderr, "bench_trace: unknown format %s\n", argv[1]);
        return 2;
    }
    n = fmt >= FMT_LACKEY ? 10000000 : 1000000;
    if (bench_quick())
        n /= 10;
    if (argc == 4)
        n = strtoull(argv[3], NULL, 10);
    if (n == 0 || generate(fmt >= FMT_LACKEY ? FMT_LACKEY : fmt, argv[2], n, &minflt,
                           &majflt) != 0)
        return 1;
    if (fmt == FMT_LACKEY_HITS)
        majflt = 0; /* every page stays */
    for (unsigned i = 0; i < runs; i++) {
        vmsim_replay_options_t opt;
        vmsim_replay_result_t res = {0};
        vmsim_trace_error_t err;
        vmsim_proc_info_t info = {0};
        vmsim_t *sim = NULL;
        double t0;
        int st;

        vmsim_replay_options_init(&opt);
        opt.format = fmt >= FMT_LACKEY ? "lackey" : names[fmt];
        if (fmt >= FMT_LACKEY) {
            opt.overrides = lackey_settings;
            opt.nr_overrides = sizeof(lackey_settings) / sizeof(lackey_settings[0]) -
                               (fmt == FMT_LACKEY_HITS);
        }
        t0 = bench_now();
        st = vmsim_replay(argv[2], &opt, &sim, &res, &err);
        rate[i] = (double)n / (bench_now() - t0);
        if (st != VMSIM_REPLAY_OK) {
            char line[1024];

            vmsim_trace_error_format(&err, line, sizeof(line));
            fprintf(stderr, "bench_trace: replay status %d: %s\n", st, line);
            ok = 0;
        }
        if (sim == NULL || vmsim_proc_info(sim, 1, &info) != 0 || info.minflt != minflt ||
            info.majflt != majflt || res.nr_failed_checks != 0 ||
            res.nr_checks != (fmt >= FMT_LACKEY ? 0u : 2u)) {
            fprintf(stderr, "bench_trace: %s: minflt %" PRIu64 " majflt %" PRIu64
                            ", reference %" PRIu64 " %" PRIu64 "; %" PRIu64 " checks, %" PRIu64
                            " failed\n",
                    names[fmt], info.minflt, info.majflt, minflt, majflt, res.nr_checks,
                    res.nr_failed_checks);
            ok = 0;
        }
        vmsim_destroy(sim);
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    printf("%-11s replay %9" PRIu64 " %-6s %-4s %8.2f [%6.2f-%6.2f] M/s  peak RSS %4.0f MiB",
           names[fmt], n, fmt >= FMT_LACKEY ? "lines" : "events", ok ? "ok" : "FAIL", med / 1e6,
           lo / 1e6, hi / 1e6, (double)bench_peak_rss() / (1024.0 * 1024.0));
    target = fmt >= FMT_LACKEY ? 30e6 : 2e6;
    printf("  target %.0f M/s%s  %s\n", target / 1e6,
           fmt == FMT_JSON ? " (JSON Lines')" : "",
           bench_verdict(med, target, 1, verdict, sizeof(verdict)));
    return ok ? 0 : 1;
}
