/*
 * curve.h -- fault curves in one pass: the misses of LRU or OPT at every
 * memory size, from one run of a trace (Mattson, Gecsei, Slutz and Traiger,
 * "Evaluation techniques for storage hierarchies", 1970).
 *
 * LRU and OPT are stack algorithms: at every moment the pages a memory of
 * k frames holds are the top k of one priority stack, whatever k. So one
 * pass over the page references finds, for each reference, its stack
 * distance d (the smallest memory that holds the page at that moment), and
 * the reference misses in every memory smaller than d; a first reference
 * (d = infinity) misses in every memory.
 *
 *   LRU  the stack orders pages by last use. The distance of a reference
 *        is 1 + the number of distinct pages used since the page's last
 *        use, counted in a Fenwick tree over last-use times: O(log n) per
 *        reference, n the distinct pages, in O(n) memory (about 16 bytes
 *        a page), streaming.
 *   OPT  the stack orders pages by next use (Belady's MIN for every size at
 *        once). The referenced page goes to the top and the page it
 *        displaced sinks, changing places with every page below it that is
 *        needed later than itself, until it reaches the referenced page's
 *        old place (Mattson's update). The places where it changes are
 *        found in a max segment tree over stack positions: O((1 + s) log n)
 *        per reference, s the changes (often hundreds or more on large
 *        working sets: give a largest size, vmsim_curve_set_max, to bound
 *        it). OPT needs the future, so it keeps the reference string (4
 *        bytes a reference) and runs when it ends (8 bytes a reference
 *        then).
 *
 * A page is (pid, virtual page number), as the OPT policy's pre-pass
 * counts them (vmsim_curve refuses traces that fork).
 *
 * The streaming builder (vmsim_curve_create ... vmsim_curve_finish) takes
 * any reference string. vmsim_curve() takes a trace: it replays it once
 * with the access hook and checks that the trace is a reference string,
 * that is that a replay with a resident limit of k pages (profile
 * textbook, policy lru or opt, memory large enough that only the limit
 * reclaims, swap for every anonymous and shmem page, which textbook does
 * not give by default) faults exactly curve[k - 1] times (minflt + majflt):
 * the replay `vmsim replay TRACE --profile textbook --resident-limit kp
 * --policy lru|opt` with the same other overrides.
 *
 * Threads: a builder is used by one thread at a time; distinct builders
 * and calls are independent (no global state).
 */
#ifndef VMSIM_CURVE_H
#define VMSIM_CURVE_H

#include "vmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vmsim_replay_options_t and vmsim_trace_error_t (vmsim/trace.h) */
struct vmsim_replay_options;
struct vmsim_trace_error;

typedef enum vmsim_curve_kind {
    VMSIM_CURVE_LRU = 0,
    VMSIM_CURVE_OPT = 1,
} vmsim_curve_kind;

/* ---- the streaming builder ------------------------------------------------ */

typedef struct vmsim_curve vmsim_curve_t;

/* A new, empty builder (vmsim_curve_destroy frees it). Returns 0,
 * VMSIM_EINVAL (unknown kind) or VMSIM_ENOMEM. */
VMSIM_API int vmsim_curve_create(vmsim_curve_kind kind, vmsim_curve_t **out);

/* Free a builder. NULL is a no-op. */
VMSIM_API void vmsim_curve_destroy(vmsim_curve_t *c);

/* Compute only the sizes 1 .. max_pages (0, the default: every size up to
 * the distinct pages). OPT then keeps a stack of max_pages pages, which
 * bounds its work per reference. Only before the first reference: returns
 * 0 or VMSIM_EINVAL. */
VMSIM_API int vmsim_curve_set_max(vmsim_curve_t *c, uint64_t max_pages);

/* One reference to page (pid, vpn). References are applied in batches, so
 * an error may surface at a later call: returns 0, or the builder's error,
 * which sticks (every later call returns it too): VMSIM_ENOMEM, or
 * VMSIM_ERANGE past 2^30 distinct pages (OPT: or 2^32 - 2 references);
 * VMSIM_EINVAL after vmsim_curve_finish. */
VMSIM_API int vmsim_curve_ref(vmsim_curve_t *c, vmsim_pid_t pid, uint64_t vpn);

/*
 * End the reference string and compute the curve: *misses (borrowed from
 * the builder, valid until it is destroyed) gets n entries, misses[k - 1]
 * being the misses of a memory of k pages, k = 1 .. n, where n is the
 * distinct pages referenced (a memory of n pages or more misses only the
 * first references, misses[n - 1]), or max_pages if smaller. With no
 * reference, n is 0. Calling it again returns the same curve. Returns 0
 * or the builder's error.
 */
VMSIM_API int vmsim_curve_finish(vmsim_curve_t *c, const uint64_t **misses, size_t *n);

/* References, and distinct pages, seen so far (after an error, the pages
 * up to the batch that failed). */
VMSIM_API uint64_t vmsim_curve_refs(const vmsim_curve_t *c);
VMSIM_API uint64_t vmsim_curve_pages(vmsim_curve_t *c);

/* ---- from a trace ----------------------------------------------------------- */

/* What the one pass saw, besides the curve. */
typedef struct vmsim_curve_info {
    uint64_t refs;       /* page references (accesses, per page) */
    uint64_t pages;      /* distinct (pid, page): the curve's length */
    uint64_t cold_minor; /* first references that are minor faults (zero-fill) */
    uint64_t cold_major; /* first references that are major faults (file reads) */
} vmsim_curve_info_t;

/*
 * The fault curve of the trace at path under LRU or OPT, from one replay.
 * opt (may be NULL) is as for vmsim_replay: the pass runs with "profile"
 * "textbook" (first, so opt's overrides may set another), opt's overrides,
 * then "resident_limit" 0 and "policy" "lru" (no pressure: every page
 * stays); its on_fail is not called (the trace's expects were written for
 * its own settings); on_access, if set, is called too; max_events and
 * the rest apply as they are.
 * On VMSIM_REPLAY_OK, *misses_out gets a new array (release it with
 * free()) of *n_out entries, (*misses_out)[k - 1] being the faults
 * (minflt + majflt) of the trace with a resident limit of k pages, and
 * *info (may be NULL) the pass's counts; on a replay with that limit,
 * minflt is cold_minor and majflt the rest.
 *
 * Returns a vmsim_replay_status: OK; BAD_TRACE for a trace that does not
 * replay, or whose faults are not those of its page references alone, so
 * that no curve would match its replays (err says why: reclaim during the
 * pass (memory too small), a fork or COW fault, a fault count that differs
 * from the distinct pages (munmap, exit, MAP_POPULATE, fault-around, the
 * zero page, THP, SIGSEGV), resident pages at the end that differ from
 * the pages touched (pages freed or shared, read(), readahead), or swap
 * readahead (page_cluster > 0)); PANIC; INTERNAL (ENOMEM, ...). Unless OK,
 * *err (if not NULL) says what went wrong and nothing is allocated.
 */
VMSIM_API int vmsim_curve(const char *path, const struct vmsim_replay_options *opt,
                          vmsim_curve_kind kind, uint64_t **misses_out, size_t *n_out,
                          struct vmsim_trace_error *err);

/* The same for the sizes 1 .. max_pages only (0: every size; see
 * vmsim_curve_set_max), with the pass's counts in *info (may be NULL). */
VMSIM_API int vmsim_curve_ex(const char *path, const struct vmsim_replay_options *opt,
                             vmsim_curve_kind kind, uint64_t max_pages, uint64_t **misses_out,
                             size_t *n_out, vmsim_curve_info_t *info,
                             struct vmsim_trace_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_CURVE_H */
