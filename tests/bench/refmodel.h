/*
 * refmodel.h -- exact miss counts of fifo, lru, clock and opt on a page
 * reference string: the reference the benchmarks check libvmsim against.
 *
 * Demand paging, empty start, every miss loads the page, cold misses
 * counted: the model of /work/shared/bench/refsim.py, in plain C so it
 * keeps up with 10 M-reference traces. "clock" is refsim's clock1 (second
 * chance in FIFO order, a page loaded with its referenced bit SET), which
 * is what libvmsim's clock does: the faulting access sets the accessed bit.
 */
#ifndef VMSIM_BENCH_REFMODEL_H
#define VMSIM_BENCH_REFMODEL_H

#include <stdint.h>

typedef enum ref_policy {
    REF_FIFO,
    REF_LRU,
    REF_CLOCK, /* refsim.py's clock1 */
    REF_OPT,
} ref_policy;

/* The policy for a libvmsim name ("fifo", "lru", "clock", "opt"; refsim's
 * "clock1" too); -1 if none. */
int ref_policy_from_name(const char *name);

/* next[t] = the index of the next reference to pages[t]'s page after t,
 * UINT64_MAX if none. Page numbers are 0 .. max_page. Returns 0 or -1 (out
 * of memory). */
int ref_next_use(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t *next);

/* Misses of `policy` with `frames` page frames (>= 1) on pages[0..n-1]
 * (page numbers 0 .. max_page). OPT needs next (ref_next_use), the others
 * ignore it. Returns the count, or UINT64_MAX when out of memory. */
uint64_t ref_misses(ref_policy policy, const uint32_t *pages, uint64_t n, uint32_t max_page,
                    uint64_t frames, const uint64_t *next);

#endif /* VMSIM_BENCH_REFMODEL_H */
