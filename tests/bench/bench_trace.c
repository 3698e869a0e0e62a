/*
 * bench_trace.c -- the trace readers: vmsim_replay() of a generated trace
 * in one of the text containers, end to end (read, parse, replay, checks).
 *
 *   bench_trace json|jsonl|lackey|lackey-hits PATH [N]
 *   bench_trace parse json|jsonl|lackey PATH [N]
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
 * `parse` reads the same trace with the internal reader alone
 * (vmsim__reader_open and next(), lib/trace/trace.h: no machine, no
 * replay), so the reader's speed is seen apart from the simulation. It
 * checks the number of events of each op the reader hands out (lackey: the
 * accesses, M records counting twice, and one implicit mapping per 2 MiB
 * chunk touched) and the sum of their addresses, and prints M records/s
 * (records: the N access lines) and the peak RSS. This is why the program
 * links the internal static library (vmsim_internal: the same objects as
 * libvmsim, internals reachable) rather than libvmsim itself.
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
#include <stdbool.h>
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
#include "trace/trace.h"

#define NR_PAGES 16384
#define HOT_PAGES 4096
#define FRAMES 2048
#define LACKEY_BASE 0x10000000ull

enum fmt { FMT_JSON, FMT_JSONL, FMT_LACKEY, FMT_LACKEY_HITS };

/* What a trace holds, for the checks: the fault counts of its replay, and
 * the events a reader must hand out (parse). */
struct trace_facts {
    uint64_t minflt, majflt;
    uint64_t nr_access; /* r, w and x events */
    uint64_t nr_mmap;   /* mmap events (lackey: implicit mappings) */
    uint64_t nr_other;  /* any other op (the final expect) */
    uint64_t addr_sum;  /* sum of the access events' addresses, mod 2^64 */
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Write the trace; *facts gets the exact fault counts and events. */
static int write_trace(enum fmt fmt, const char *path, uint64_t n, struct trace_facts *facts)
{
    /* a lackey M record references its page twice (a load, then a store) */
    uint32_t *pages = malloc(2 * n * sizeof(*pages));
    uint64_t seed = 42, nref = 0, misses, distinct = 0;
    static uint8_t seen[NR_PAGES], chunk_seen[NR_PAGES / 512 + 2];
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
    memset(chunk_seen, 0, sizeof(chunk_seen));
    memset(facts, 0, sizeof(*facts));
    facts->nr_mmap = fmt == FMT_LACKEY ? 0 : 1;
    facts->nr_other = fmt == FMT_LACKEY ? 0 : 1;
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
        facts->nr_access++;
        if (fmt != FMT_LACKEY)
            facts->addr_sum += (uint64_t)p * 4096; /* "a+Pp": region a, offset P pages */
        if (fmt == FMT_JSON)
            fprintf(fp, "  {\"op\": \"w\", \"addr\": \"a+%" PRIu32 "p\"},\n", p);
        else if (fmt == FMT_JSONL)
            fprintf(fp, "{\"op\": \"w\", \"addr\": \"a+%" PRIu32 "p\"}\n", p);
        else {
            unsigned kind = (unsigned)(x >> 40) & 7; /* 0: I, 1-4: L, 5-6: S, 7: M */
            uint64_t va = LACKEY_BASE + (uint64_t)p * 4096 + (x >> 44) % 4089;
            unsigned size = kind == 0 ? 1 + (unsigned)(x >> 60) % 8 : 8;

            if (kind == 0)
                fprintf(fp, "I  %08" PRIx64 ",%u\n", va, size);
            else
                fprintf(fp, " %c %08" PRIx64 ",8\n", kind <= 4 ? 'L' : kind <= 6 ? 'S' : 'M',
                        va);
            facts->addr_sum += va;
            if (kind == 7) {
                pages[nref++] = p;
                facts->nr_access++;
                facts->addr_sum += va;
            }
            /* implicit mappings: one per 2 MiB chunk (LACKEY_BASE is aligned) */
            for (uint64_t c = (va - LACKEY_BASE) >> 21; c <= (va + size - 1 - LACKEY_BASE) >> 21;
                 c++) {
                facts->nr_mmap += !chunk_seen[c];
                chunk_seen[c] = 1;
            }
        }
    }
    misses = ref_misses(REF_LRU, pages, nref, NR_PAGES - 1, FRAMES, NULL);
    free(pages);
    if (misses == UINT64_MAX) {
        fclose(fp);
        return -1;
    }
    facts->minflt = distinct;
    facts->majflt = misses - distinct;
    if (fmt == FMT_JSON)
        fprintf(fp, "  {\"op\": \"expect\", \"minflt\": %" PRIu64 ", \"majflt\": %" PRIu64 "}\n"
                    " ]}\n",
                facts->minflt, facts->majflt);
    else if (fmt == FMT_JSONL)
        fprintf(fp, "{\"op\": \"expect\", \"minflt\": %" PRIu64 ", \"majflt\": %" PRIu64 "}\n",
                facts->minflt, facts->majflt);
    /* on disk before the parent times the reader: no writeback of this
     * trace competes with it for the CPU */
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* write_trace in a child process, so that its page array does not count in
 * this process's peak RSS (the readers' memory must be seen alone). */
static int generate(enum fmt fmt, const char *path, uint64_t n, struct trace_facts *facts)
{
    int fd[2], status;
    pid_t child;

    if (pipe(fd) != 0)
        return -1;
    child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        int rc = write_trace(fmt, path, n, facts);

        close(fd[0]);
        if (rc == 0 && write(fd[1], facts, sizeof(*facts)) != (ssize_t)sizeof(*facts))
            rc = -1;
        _exit(rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    if (read(fd[0], facts, sizeof(*facts)) != (ssize_t)sizeof(*facts)) {
        close(fd[0]);
        waitpid(child, &status, 0);
        return -1;
    }
    close(fd[0]);
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

/* One replay of the trace; 0 if its status and counts are right. */
static int replay_once(enum fmt fmt, const char *path, const struct trace_facts *facts,
                       double *seconds)
{
    static const char *const names[] = {"json", "jsonl", "lackey", "lackey-hits"};
    static const vmsim_trace_override_t lackey_settings[] = {
        {"profile", "textbook"}, {"memory", "256MiB"}, {"swap", "128MiB"},
        {"policy", "lru"},       {"resident_limit", "2048p"}, /* last: not for -hits */
    };
    vmsim_replay_options_t opt;
    vmsim_replay_result_t res = {0};
    vmsim_trace_error_t err;
    vmsim_proc_info_t info = {0};
    vmsim_t *sim = NULL;
    uint64_t majflt = fmt == FMT_LACKEY_HITS ? 0 : facts->majflt; /* -hits: every page stays */
    double t0;
    int st, ok = 1;

    vmsim_replay_options_init(&opt);
    opt.format = fmt >= FMT_LACKEY ? "lackey" : names[fmt];
    if (fmt >= FMT_LACKEY) {
        opt.overrides = lackey_settings;
        opt.nr_overrides = sizeof(lackey_settings) / sizeof(lackey_settings[0]) -
                           (fmt == FMT_LACKEY_HITS);
    }
    t0 = bench_now();
    st = vmsim_replay(path, &opt, &sim, &res, &err);
    *seconds = bench_now() - t0;
    if (st != VMSIM_REPLAY_OK) {
        char line[1024];

        vmsim_trace_error_format(&err, line, sizeof(line));
        fprintf(stderr, "bench_trace: replay status %d: %s\n", st, line);
        ok = 0;
    }
    if (sim == NULL || vmsim_proc_info(sim, 1, &info) != 0 || info.minflt != facts->minflt ||
        info.majflt != majflt || res.nr_failed_checks != 0 ||
        res.nr_checks != (fmt >= FMT_LACKEY ? 0u : 2u)) {
        fprintf(stderr, "bench_trace: %s: minflt %" PRIu64 " majflt %" PRIu64
                        ", reference %" PRIu64 " %" PRIu64 "; %" PRIu64 " checks, %" PRIu64
                        " failed\n",
                names[fmt], info.minflt, info.majflt, facts->minflt, majflt, res.nr_checks,
                res.nr_failed_checks);
        ok = 0;
    }
    vmsim_destroy(sim);
    return ok ? 0 : -1;
}

/* One pass of the internal reader over the trace, events counted by op;
 * 0 if they are the trace's. */
static int parse_once(enum fmt fmt, const char *path, const struct trace_facts *facts,
                      double *seconds)
{
    static const char *const formats[] = {"json", "jsonl", "lackey"};
    struct trace_facts got = {0};
    struct vmsim__reader *r = NULL;
    const struct vmsim__event *ev;
    vmsim_trace_error_t err;
    double t0 = bench_now();
    int rc = vmsim__reader_open(path, formats[fmt], &r, &err);

    while (rc == 0 && (rc = vmsim__reader_next(r, &ev, &err)) == 1) {
        rc = 0;
        switch (ev->op) {
        case VMSIM__OP_R:
        case VMSIM__OP_W:
        case VMSIM__OP_X:
            got.nr_access++;
            got.addr_sum += ev->addr.value;
            break;
        case VMSIM__OP_MMAP:
            got.nr_mmap++;
            break;
        default:
            got.nr_other++;
            break;
        }
    }
    vmsim__reader_close(r);
    *seconds = bench_now() - t0;
    if (rc < 0) {
        char line[1024];

        vmsim_trace_error_format(&err, line, sizeof(line));
        fprintf(stderr, "bench_trace: parse: %s\n", line);
        return -1;
    }
    if (got.nr_access != facts->nr_access || got.nr_mmap != facts->nr_mmap ||
        got.nr_other != facts->nr_other || got.addr_sum != facts->addr_sum) {
        fprintf(stderr, "bench_trace: parse %s: %" PRIu64 " accesses, %" PRIu64 " mmaps, %" PRIu64
                        " others, address sum %" PRIx64 "; want %" PRIu64 ", %" PRIu64
                        ", %" PRIu64 ", %" PRIx64 "\n",
                formats[fmt], got.nr_access, got.nr_mmap, got.nr_other, got.addr_sum,
                facts->nr_access, facts->nr_mmap, facts->nr_other, facts->addr_sum);
        return -1;
    }
    return 0;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s json|jsonl|lackey|lackey-hits PATH [N]\n"
            "       %s parse json|jsonl|lackey PATH [N]\n",
            argv0, argv0);
    return 2;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"json", "jsonl", "lackey", "lackey-hits"};
    unsigned runs = bench_runs(3);
    double rate[BENCH_MAX_RUNS], med, lo, hi, target;
    struct trace_facts facts;
    uint64_t n;
    char verdict[64];
    enum fmt fmt = FMT_JSON;
    bool parse = argc > 1 && strcmp(argv[1], "parse") == 0;
    int ok = 1, f;

    if (parse) {
        argc--;
        argv++;
    }
    if (argc < 3 || argc > 4)
        return usage(argv[0] - parse);
    for (f = 0; f < 4 && strcmp(argv[1], names[f]) != 0; f++)
        continue;
    fmt = (enum fmt)f;
    if (f == 4 || (parse && fmt == FMT_LACKEY_HITS)) {
        fprintf(stderr, "bench_trace: unknown format %s\n", argv[1]);
        return 2;
    }
    n = fmt >= FMT_LACKEY ? 10000000 : 1000000;
    if (bench_quick())
        n /= 10;
    if (argc == 4)
        n = strtoull(argv[3], NULL, 10);
    if (n == 0 || generate(fmt >= FMT_LACKEY ? FMT_LACKEY : fmt, argv[2], n, &facts) != 0)
        return 1;
    for (unsigned i = 0; i < runs; i++) {
        double seconds = 0;

        if ((parse ? parse_once(fmt, argv[2], &facts, &seconds)
                   : replay_once(fmt, argv[2], &facts, &seconds)) != 0)
            ok = 0;
        rate[i] = (double)n / seconds;
    }
    bench_minmax(rate, runs, &lo, &hi);
    med = bench_median(rate, runs);
    printf("%-11s %-6s %9" PRIu64 " %-6s %-4s %8.2f [%6.2f-%6.2f] M/s  peak RSS %4.0f MiB",
           names[fmt], parse ? "parse" : "replay", n, fmt >= FMT_LACKEY ? "lines" : "events",
           ok ? "ok" : "FAIL", med / 1e6, lo / 1e6, hi / 1e6,
           (double)bench_peak_rss() / (1024.0 * 1024.0));
    target = fmt >= FMT_LACKEY ? 30e6 : 2e6;
    printf("  target %.0f M/s%s  %s\n", target / 1e6,
           fmt == FMT_JSON ? " (JSON Lines')" : "",
           bench_verdict(med, target, 1, verdict, sizeof(verdict)));
    return ok ? 0 : 1;
}
