/*
 * bench_machine.c -- what a big simulated machine costs the host.
 *
 *   bench_machine create GIB | resident | spread
 *
 * 1. create GIB: create and destroy a GIB GiB machine (profile LINUX): the
 *    time of vmsim_create + vmsim_destroy (median of BENCH_RUNS, default
 *    5), and the host memory right after the first creation in this fresh
 *    process, before any access: the growth of the resident set (RSS,
 *    /proc/self/statm), the bytes the machine allocated (a counting
 *    cfg.alloc) and the growth of the virtual size. Target for 64 GiB:
 *    <= 1 GiB. run_bench.sh runs 1, 8, 64 and 256 GiB: the cost against
 *    the simulated memory size.
 * 2. resident: host bytes per resident simulated page: on a 64 GiB machine, one
 *    process writes N pages of one anonymous region (BENCH_RESIDENT_PAGES,
 *    default 1 M = 4 GiB; 256 Ki with BENCH_QUICK); RSS growth / N, with
 *    and without the simulated page-table pages (PageTables of meminfo, held
 *    by the host as 4 KiB each). Target: <= 64 bytes plus page tables.
 *    Checks: N minor faults, no major fault, VmRSS = N pages.
 * 3. spread: how the cost grows with the spread of the resident pages over
 *    the address space (see bench_spread).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsim/vmsim.h>

#include "bench_util.h"

#define MiB (1024.0 * 1024.0)
#define MEMORY ((uint64_t)64 << 30)

/* A counting allocator (vmsim_config_t.alloc): the host bytes the machine
 * asked for, live and peak, whether or not the pages were touched. */
struct counter {
    uint64_t live, peak;
};

#define HDR 16 /* keeps malloc's 16-byte alignment */

static void *count_malloc(void *ctx, size_t size)
{
    struct counter *c = ctx;
    unsigned char *p = malloc(size + HDR);

    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof(size));
    c->live += size;
    if (c->live > c->peak)
        c->peak = c->live;
    return p + HDR;
}

static void *count_calloc(void *ctx, size_t n, size_t size)
{
    struct counter *c = ctx;
    unsigned char *p;
    size_t total;

    if (size != 0 && n > (SIZE_MAX - HDR) / size)
        return NULL;
    total = n * size;
    p = calloc(1, total + HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &total, sizeof(total));
    c->live += total;
    if (c->live > c->peak)
        c->peak = c->live;
    return p + HDR;
}

static void count_free(void *ctx, void *ptr)
{
    struct counter *c = ctx;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t size;

    if (ptr == NULL)
        return;
    memcpy(&size, p, sizeof(size));
    c->live -= size;
    free(p);
}

static void *count_realloc(void *ctx, void *ptr, size_t size)
{
    struct counter *c = ctx;
    unsigned char *p;
    size_t old = 0;

    if (ptr == NULL)
        return count_malloc(ctx, size);
    p = (unsigned char *)ptr - HDR;
    memcpy(&old, p, sizeof(old));
    p = realloc(p, size + HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof(size));
    c->live = c->live - old + size;
    if (c->live > c->peak)
        c->peak = c->live;
    return p + HDR;
}

static int create_machine(uint64_t memory, struct counter *c, vmsim_t **sim)
{
    vmsim_config_t cfg;
    int rc;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = memory;
    if (c != NULL) {
        cfg.alloc.malloc = count_malloc;
        cfg.alloc.calloc = count_calloc;
        cfg.alloc.realloc = count_realloc;
        cfg.alloc.free = count_free;
        cfg.alloc.ctx = c;
    }
    rc = vmsim_create(&cfg, sim);
    if (rc != 0)
        fprintf(stderr, "bench_machine: vmsim_create(%" PRIu64 " GiB): %s\n", memory >> 30,
                vmsim_strerror(rc));
    return rc;
}

static int create_64g(vmsim_t **sim)
{
    return create_machine(MEMORY, NULL, sim);
}

/* 1. Create and destroy a machine of `gib` GiB. Run it first in a
 * fresh process: the RSS growth of the first creation is the honest one
 * (later ones reuse what malloc kept). */
static int bench_create(unsigned gib)
{
    unsigned runs = bench_runs(5);
    double ms[BENCH_MAX_RUNS], create_ms[BENCH_MAX_RUNS], med, lo, hi;
    uint64_t rss_growth = 0, vsz_growth = 0;
    struct counter c = {0, 0};
    char verdict[64], label[64];

    for (unsigned i = 0; i < runs; i++) {
        vmsim_t *sim = NULL;
        uint64_t rss0 = bench_cur_rss(), vsz0 = bench_cur_vsize();
        double t0 = bench_now(), t1;

        /* the first run counts the allocations (outside of any timing that
         * matters: the median ignores one run) */
        if (create_machine((uint64_t)gib << 30, i == 0 ? &c : NULL, &sim) != 0)
            return -1;
        t1 = bench_now();
        if (i == 0) {
            rss_growth = bench_cur_rss() - rss0;
            vsz_growth = bench_cur_vsize() - vsz0;
        }
        create_ms[i] = (t1 - t0) * 1e3;
        t0 = bench_now(); /* the RSS reading above is left out */
        vmsim_destroy(sim);
        ms[i] = create_ms[i] + (bench_now() - t0) * 1e3;
    }
    bench_minmax(ms, runs, &lo, &hi);
    med = bench_median(ms, runs);
    snprintf(label, sizeof(label), "%u GiB create+destroy", gib);
    printf("%-30s %8.2f ms [%.2f-%.2f] (create alone %.2f ms)\n", label, med, lo, hi,
           bench_median(create_ms, runs));
    snprintf(label, sizeof(label), "%u GiB host memory at create", gib);
    printf("%-30s %8.1f MiB RSS; %.1f MiB allocated (malloc/calloc, mostly untouched), "
           "%.1f MiB virtual",
           label, (double)rss_growth / MiB, (double)c.peak / MiB, (double)vsz_growth / MiB);
    if (gib == 64)
        printf("  target <= 1024 MiB  %s",
               bench_verdict((double)rss_growth / MiB, 1024.0, 0, verdict, sizeof(verdict)));
    printf("\n");
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

/* 3. Cost against address-space spread: the same 16 384 pages written once
 * (first-touch faults) and then read 2^24 times round-robin (hits), placed
 * 4 KiB apart (dense: 32 page tables), 2 MiB apart (one page per page
 * table) and 1 GiB apart (one page per page table and per PMD table; a
 * 16 TiB region), on a 64 GiB machine with overcommit 1. */
static int bench_spread(void)
{
    static const uint64_t strides[] = {(uint64_t)1 << 12, (uint64_t)1 << 21, (uint64_t)1 << 30};
    static const char *const names[] = {"4 KiB", "2 MiB", "1 GiB"};
    const uint64_t n = 16384, hits = bench_quick() ? (uint64_t)1 << 22 : (uint64_t)1 << 24;

    for (size_t k = 0; k < 3; k++) {
        vmsim_config_t cfg;
        vmsim_t *sim = NULL;
        vmsim_mmap_req_t req = {
            .len = n * strides[k],
            .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
            .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_NORESERVE,
        };
        vmsim_vaddr_t base = 0;
        vmsim_proc_info_t info;
        uint64_t rss0, pt = 0, fail = 0;
        double t0, t_fault, t_hit;
        int rc;

        vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
        cfg.memory = MEMORY;
        cfg.overcommit_memory = 1;
        cfg.thp = VMSIM_THP_NEVER;
        if ((rc = vmsim_create(&cfg, &sim)) != 0 || (rc = vmsim_spawn(sim, 1, "spread", 0)) != 0 ||
            (rc = vmsim_mmap(sim, 1, &req, &base)) != 0) {
            fprintf(stderr, "bench_machine: spread %s: setup: %d\n", names[k], rc);
            vmsim_destroy(sim);
            return -1;
        }
        rss0 = bench_cur_rss();
        t0 = bench_now();
        for (uint64_t i = 0; i < n; i++)
            fail |= (uint64_t)vmsim_access(sim, 1, base + i * strides[k], 1, VMSIM_WRITE, NULL);
        t_fault = bench_now() - t0;
        t0 = bench_now();
        for (uint64_t i = 0; i < hits; i++)
            fail |= (uint64_t)vmsim_access(sim, 1, base + (i % n) * strides[k], 1, VMSIM_READ,
                                           NULL);
        t_hit = bench_now() - t0;
        vmsim_meminfo_get(sim, "PageTables", &pt);
        if (fail != 0 || vmsim_proc_info(sim, 1, &info) != 0 || info.minflt != n ||
            info.majflt != 0) {
            fprintf(stderr, "bench_machine: spread %s: wrong fault counts\n", names[k]);
            vmsim_destroy(sim);
            return 1;
        }
        printf("  pages %s apart: %6.2f M first-touch faults/s, %7.2f M hits/s, page tables "
               "%6.1f MiB, host RSS +%.1f MiB = %.0f B/page\n",
               names[k], (double)n / t_fault / 1e6, (double)hits / t_hit / 1e6,
               (double)pt / MiB, (double)(bench_cur_rss() - rss0) / MiB,
               (double)(bench_cur_rss() - rss0) / (double)n);
        vmsim_destroy(sim);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;

    if (argc == 3 && strcmp(argv[1], "create") == 0)
        rc = bench_create((unsigned)strtoul(argv[2], NULL, 10));
    else if (argc == 2 && strcmp(argv[1], "resident") == 0)
        rc = bench_resident();
    else if (argc == 2 && strcmp(argv[1], "spread") == 0)
        rc = bench_spread();
    else
        fprintf(stderr, "usage: %s create GIB | resident | spread\n", argv[0]);
    return rc == 0 ? 0 : rc < 0 ? 1 : rc;
}
