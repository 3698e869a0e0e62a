/*
 * bench_util.h -- what every benchmark of tests/bench shares: a monotonic
 * clock, medians, host memory (peak and current RSS), environment knobs,
 * tracegen's binary traces, and the one-line verdict against a target.
 *
 * Benchmarks print rows for run_bench.sh to gather into one table, and exit
 * non-zero when a count they check is wrong (a fast wrong answer fails).
 */
#ifndef VMSIM_BENCH_UTIL_H
#define VMSIM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_RUNS 31

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* The median of n values (sorts v in place). */
double bench_median(double *v, size_t n);
/* Smallest and largest of n values. */
void bench_minmax(const double *v, size_t n, double *lo, double *hi);

/* Peak resident set of this process so far (getrusage ru_maxrss), bytes. */
uint64_t bench_peak_rss(void);
/* Current resident set (/proc/self/statm), bytes; 0 if unknown. */
uint64_t bench_cur_rss(void);
/* Current virtual size (/proc/self/statm), bytes; 0 if unknown. */
uint64_t bench_cur_vsize(void);

/* An unsigned environment knob: its value, or dflt when unset or bad. */
uint64_t bench_env_u64(const char *name, uint64_t dflt);
/* Runs to take the median of: BENCH_RUNS (1 .. BENCH_MAX_RUNS), else dflt. */
unsigned bench_runs(unsigned dflt);
/* Whether BENCH_QUICK is set to something other than "" or "0". */
int bench_quick(void);

/* A page-reference trace from tracegen (/work/shared/bench/tracegen.c):
 * PREFIX.oracleGeneral.bin, 24-byte little-endian records (u32 time, u64
 * page, u32 size, i64 1-based index of the next reference or -1). */
typedef struct bench_trace {
    uint32_t *pages;      /* page numbers, in order */
    uint64_t n;           /* references */
    uint32_t max_page;    /* largest page number */
    uint64_t working_set; /* distinct pages */
    int64_t *next_vtime;  /* tracegen's next-reference column (1-based, -1) */
} bench_trace_t;

/* Load PREFIX.oracleGeneral.bin; with keep_next also keep tracegen's
 * next-reference column. Returns 0, or -1 after printing why. */
int bench_trace_load(const char *prefix, int keep_next, bench_trace_t *t);
void bench_trace_free(bench_trace_t *t);
/* Keep only the first n (< t->n) references; recount max_page and the
 * working set. */
void bench_trace_truncate(bench_trace_t *t, uint64_t n);

/* "met" or "MISSED by N% (x.xx of target)" for a figure that should be at
 * least (higher_better) or at most the target. Writes into buf. */
const char *bench_verdict(double value, double target, int higher_better, char *buf,
                          size_t len);

#endif /* VMSIM_BENCH_UTIL_H */
