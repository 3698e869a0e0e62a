/*
 * policy.h -- the page-replacement policy seam.
 *
 * A policy ranks the frames that hold resident user pages (anonymous,
 * page cache and shmem; never page tables) and chooses which one reclaim
 * takes next. It sees only frame numbers and a narrow context of O(1)
 * queries, never page tables or VMAs. The core owns everything else:
 * unmapping through the reverse map, writing to swap or back to the file,
 * and counting.
 *
 * Life of a frame, as the policy sees it:
 *
 *   admit(pfn)          the frame now holds a resident user page
 *   touch(pfn, kind)    it was accessed (only if the hook is not NULL;
 *                       otherwise the policy sees accesses only through the
 *                       accessed bits the simulated MMU sets)
 *   select_victim()     choose, but do not remove, a victim; the core then
 *                       evicts it and calls forget() only if that worked
 *   forget(pfn)         the frame stopped being resident (evicted,
 *                       unmapped and freed, COW-replaced, process exit)
 *
 * The ops table is const, is never copied or freed by the library, and
 * must outlive every simulator that uses it. New hooks are only appended;
 * `abi` tells which exist.
 */
#ifndef VMSIM_POLICY_H
#define VMSIM_POLICY_H

#include "vmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMSIM_POLICY_ABI 1

/* The context a policy may query: valid only during the hook's call. */
typedef struct vmsim_policy_ctx vmsim_policy_ctx_t;

typedef struct vmsim_policy_ops {
    int abi;          /* VMSIM_POLICY_ABI */
    const char *name; /* lower-case, unique: "fifo", "clock", ... */

    /* Allocate state for frames 0 .. nr_frames - 1 into *state. params is
     * the text after ':' in "name:params" (NULL if none). Return 0 or a
     * negative VMSIM_E* (VMSIM_ENOMEM, VMSIM_EINVAL for bad params). */
    int (*create)(uint32_t nr_frames, const char *params, void **state);
    /* Free the state. */
    void (*destroy)(void *state);
    /* pfn now holds a resident user page (zero-fill, COW copy, swap-in,
     * page-cache read). */
    void (*admit)(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
    /* A resident frame was accessed. May be NULL. */
    void (*touch)(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn,
                  vmsim_access_kind kind);
    /* pfn stopped being resident. */
    void (*forget)(void *state, vmsim_pfn_t pfn);
    /* Choose a victim among admitted frames that are not pinned. Return 0
     * and set *victim, or VMSIM_EOOM when there is none. May reorder the
     * policy's own state (move a clock hand, age lists). */
    int (*select_victim)(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim);
} vmsim_policy_ops_t;

/* ---- context queries (O(1) unless stated) ------------------------------ */

/* Whether reclaim may not take pfn now (mlocked, or anonymous with no swap
 * slot to go to). select_victim must not return a pinned frame. */
VMSIM_API bool vmsim_frame_is_pinned(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* Test and clear the accessed bits of every entry that maps pfn (the
 * MMU's referenced information, as Linux's folio_referenced()). O(number
 * of mappings). */
VMSIM_API bool vmsim_frame_test_and_clear_accessed(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* Whether the page is dirty (would need writing before it can go). */
VMSIM_API bool vmsim_frame_is_dirty(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* Whether the page is anonymous or shmem (swap-backed), not file cache. */
VMSIM_API bool vmsim_frame_is_anon(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* How many entries map the page. */
VMSIM_API uint32_t vmsim_frame_mapcount(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* The active/inactive state /proc/meminfo shows for the page. The core
 * activates page-cache pages that read()/write() touch twice
 * (mark_page_accessed); a policy that keeps two lists (as "linux" does)
 * reports its moves with vmsim_frame_set_active(). */
VMSIM_API bool vmsim_frame_is_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
VMSIM_API void vmsim_frame_set_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn, bool active);
/* The logical clock: accesses simulated so far. */
VMSIM_API uint64_t vmsim_policy_now(vmsim_policy_ctx_t *ctx);
/* For offline policies (OPT): the logical time of the page's next access,
 * UINT64_MAX if never again or unknown. Known only when the caller
 * supplied the future (vmsim_replay does, in a pre-pass). */
VMSIM_API uint64_t vmsim_policy_next_use(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn);
/* A deterministic pseudo-random number from the machine's seed. */
VMSIM_API uint64_t vmsim_policy_random(vmsim_policy_ctx_t *ctx);
/* Swappiness (0..200) for policies that balance anon and file. */
VMSIM_API int vmsim_policy_swappiness(vmsim_policy_ctx_t *ctx);

/* What a policy plug-in (a shared object loaded by `vmsim replay --plugin`)
 * exports: its ops table, which must outlive the process. */
VMSIM_API const vmsim_policy_ops_t *vmsim_plugin_policy(void);

/* The built-in policy with this name, or NULL. Built-ins: "fifo", "lru",
 * "clock", "linux", "opt", "random". */
VMSIM_API const vmsim_policy_ops_t *vmsim_policy_builtin(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_POLICY_H */
