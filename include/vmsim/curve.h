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
 *        reference, n the distinct pages, in O(n) memory.
 *   OPT  the stack orders pages by next use (Belady's MIN for every size at
 *        once). The referenced page goes to the top and the page it
 *        displaced sinks, changing places with every page below it that is
 *        needed later than itself, until it reaches the referenced page's
 *        old place (Mattson's update). The places where it changes are
 *        found in a max segment tree over stack positions: O((1 + s) log n)
 *        per reference, s the changes. OPT needs the future, so it keeps
 *        the reference string (4 bytes a reference) and runs when it ends
 *        (12 bytes a reference then).
 *
 * A page is (pid, virtual page number): pages shared after fork count as
 * each process's own, as the OPT policy's pre-pass counts them.
 *
 * The streaming builder (vmsim_curve_create ... vmsim_curve_finish) takes
 * any reference string. vmsim_curve() takes a trace: it replays it once
 * with the access hook and checks that the trace is a reference string,
 * that is that a replay with a resident limit of k pages (profile
 * textbook, policy lru or opt, memory and swap large enough that only the
 * limit reclaims) faults exactly curve[k - 1] times (minflt + majflt).
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

/* A new, empty builder. Returns 0, VMSIM_EINVAL (unknown kind) or
 * VMSIM_ENOMEM. */
VMSIM_API int vmsim_curve_create(vmsim_curve_kind kind, vmsim_curve_t **out);

/* Free a builder. NULL is a no-op. */
VMSIM_API void vmsim_curve_destroy(vmsim_curve_t *c);

/* One reference to page (pid, vpn). Returns 0, VMSIM_ENOMEM (the builder
 * is then unusable: every later call returns it too), or VMSIM_EINVAL after
 * vmsim_curve_finish. */
VMSIM_API int vmsim_curve_ref(vmsim_curve_t *c, vmsim_pid_t pid, uint64_t vpn);

/*
 * End the reference string and compute the curve: *misses (borrowed from
 * the builder, valid until it is destroyed) gets n = the distinct pages
 * referenced entries, misses[k - 1] being the misses of a memory of k
 * pages, k = 1 .. n (a memory of n pages or more misses only the first
 * references, misses[n - 1]). With no reference, n is 0. Calling it again
 * returns the same curve. Returns 0 or VMSIM_ENOMEM.
 */
VMSIM_API int vmsim_curve_finish(vmsim_curve_t *c, const uint64_t **misses, size_t *n);

/* References, and distinct pages, seen so far (after an error: up to
 * the batch that failed). */
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
 * opt (may be NULL) is as for vmsim_replay: its overrides apply, then
 * "resident_limit" 0 and "policy" "lru" for the pass (no pressure: every
 * page stays); its on_fail is not called (the trace's expects were written
 * for its own settings), on_access and max_events are the pass's own.
 * On VMSIM_REPLAY_OK, *misses_out gets a new array (release it with
 * free()) of *n_out entries, (*misses_out)[k - 1] being the faults
 * (minflt + majflt) of the trace with a resident limit of k pages, and
 * *info (may be NULL) the pass's counts; on a replay with that limit,
 * minflt is cold_minor and majflt the rest.
 *
 * Returns a vmsim_replay_status: OK; BAD_TRACE for a trace that does not
 * replay, or whose faults are not those of its page references alone, so
 * that no curve would match its replays (err says why: reclaim during the
 * pass (memory too small), a fault count that differs from the distinct
 * pages (fork, munmap, exit, MAP_POPULATE, fault-around, the zero page,
 * THP), resident pages no access explains (read(), readahead), or swap
 * readahead (page_cluster > 0)); PANIC; INTERNAL (ENOMEM, ...). Unless OK,
 * *err (if not NULL) says what went wrong and nothing is allocated.
 */
VMSIM_API int vmsim_curve(const char *path, const struct vmsim_replay_options *opt,
                          vmsim_curve_kind kind, uint64_t **misses_out, size_t *n_out,
                          struct vmsim_trace_error *err);

/* The same, with the pass's counts in *info (may be NULL). */
VMSIM_API int vmsim_curve_ex(const char *path, const struct vmsim_replay_options *opt,
                             vmsim_curve_kind kind, uint64_t **misses_out, size_t *n_out,
                             vmsim_curve_info_t *info, struct vmsim_trace_error *err);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_CURVE_H */
