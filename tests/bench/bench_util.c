/*
 * bench_util.c -- shared helpers of the benchmarks (see bench_util.h).
 */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void bench_minmax(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = n ? v[0] : 0.0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

uint64_t bench_peak_rss(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

/* Field `which` (0: size, 1: resident) of /proc/self/statm, in bytes. */
static uint64_t statm(int which)
{
    unsigned long long f[2] = {0, 0};
    FILE *fp = fopen("/proc/self/statm", "r");
    long page = sysconf(_SC_PAGESIZE);

    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%llu %llu", &f[0], &f[1]) != 2)
        f[0] = f[1] = 0;
    fclose(fp);
    return (uint64_t)f[which] * (uint64_t)(page > 0 ? page : 4096);
}

uint64_t bench_cur_rss(void)
{
    return statm(1);
}

uint64_t bench_cur_vsize(void)
{
    return statm(0);
}

uint64_t bench_env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0')
        return dflt;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return dflt;
    return v;
}

unsigned bench_runs(unsigned dflt)
{
    uint64_t r = bench_env_u64("BENCH_RUNS", dflt);

    if (r < 1 || r > BENCH_MAX_RUNS)
        r = dflt;
    return (unsigned)r;
}

int bench_quick(void)
{
    const char *s = getenv("BENCH_QUICK");

    return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

/* Little-endian loads from a packed record. */
static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define REC_SIZE 24

/* The working set: distinct pages among the references. */
static int count(bench_trace_t *t)
{
    uint8_t *seen = calloc((size_t)t->max_page + 1, 1);

    if (seen == NULL)
        return -1;
    t->working_set = 0;
    for (uint64_t i = 0; i < t->n; i++) {
        t->working_set += !seen[t->pages[i]];
        seen[t->pages[i]] = 1;
    }
    free(seen);
    return 0;
}

int bench_trace_load(const char *prefix, int keep_next, bench_trace_t *t)
{
    char path[4096];
    FILE *fp;
    long size;
    unsigned char *buf;
    size_t chunk = 1 << 16;

    memset(t, 0, sizeof(*t));
    snprintf(path, sizeof(path), "%s.oracleGeneral.bin", prefix);
    fp = fopen(path, "rb");
    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        fprintf(stderr, "bench: cannot read %s: %s\n", path, strerror(errno));
        if (fp != NULL)
            fclose(fp);
        return -1;
    }
    if (size == 0 || size % REC_SIZE != 0) {
        fprintf(stderr, "bench: %s: %ld bytes is not a whole number of %d-byte records\n",
                path, size, REC_SIZE);
        fclose(fp);
        return -1;
    }
    t->n = (uint64_t)size / REC_SIZE;
    t->pages = malloc(t->n * sizeof(*t->pages));
    t->next_vtime = keep_next ? malloc(t->n * sizeof(*t->next_vtime)) : NULL;
    buf = malloc(chunk * REC_SIZE);
    if (t->pages == NULL || (keep_next && t->next_vtime == NULL) || buf == NULL) {
        fprintf(stderr, "bench: out of memory loading %s\n", path);
        free(buf);
        fclose(fp);
        bench_trace_free(t);
        return -1;
    }
    for (uint64_t i = 0; i < t->n;) {
        size_t want = t->n - i < chunk ? (size_t)(t->n - i) : chunk;

        if (fread(buf, REC_SIZE, want, fp) != want) {
            fprintf(stderr, "bench: short read on %s\n", path);
            free(buf);
            fclose(fp);
            bench_trace_free(t);
            return -1;
        }
        for (size_t j = 0; j < want; j++, i++) {
            uint64_t page = le64(buf + j * REC_SIZE + 4);

            if (page == 0 || page > UINT32_MAX / 2) {
                fprintf(stderr, "bench: %s: record %llu: page %llu out of range\n", path,
                        (unsigned long long)i, (unsigned long long)page);
                free(buf);
                fclose(fp);
                bench_trace_free(t);
                return -1;
            }
            t->pages[i] = (uint32_t)page;
            if (t->pages[i] > t->max_page)
                t->max_page = t->pages[i];
            if (keep_next)
                t->next_vtime[i] = (int64_t)le64(buf + j * REC_SIZE + 16);
        }
    }
    free(buf);
    fclose(fp);
    if (count(t) != 0) {
        bench_trace_free(t);
        return -1;
    }
    return 0;
}

void bench_trace_truncate(bench_trace_t *t, uint64_t n)
{
    if (n >= t->n)
        return;
    t->n = n;
    t->max_page = 0;
    for (uint64_t i = 0; i < n; i++)
        if (t->pages[i] > t->max_page)
            t->max_page = t->pages[i];
    if (count(t) != 0)
        t->working_set = 0;
}

void bench_trace_free(bench_trace_t *t)
{
    free(t->pages);
    free(t->next_vtime);
    memset(t, 0, sizeof(*t));
}

const char *bench_verdict(double value, double target, int higher_better, char *buf,
                          size_t len)
{
    if (higher_better ? value >= target : value <= target)
        snprintf(buf, len, "met (%.2fx)", higher_better ? value / target : target / value);
    else if (higher_better)
        snprintf(buf, len, "MISSED by %.0f%% (%.2fx)", 100.0 * (target - value) / target,
                 value / target);
    else
        snprintf(buf, len, "MISSED by %.0f%% over (%.2fx)", 100.0 * (value - target) / target,
                 value / target);
    return buf;
}
