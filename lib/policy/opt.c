/*
 * opt.c -- Belady's optimal replacement (MIN): evict the frame whose next
 * use lies farthest in the future.
 *
 * OPT is offline: it needs the future of the trace, which the core knows
 * only when the caller supplied it (vmsim_replay does, in a pre-pass);
 * vmsim_policy_next_use(ctx, pfn) answers the logical time of the frame's
 * next access, UINT64_MAX for "never again" or "unknown". Without a future
 * every key is UINT64_MAX and OPT degenerates to "lowest pfn first".
 *
 * A frame's next use changes at every access to it, so OPT sets touch:
 * admit and touch re-read the frame's next use and re-key the frame in an
 * indexed binary max-heap (per-pfn heap positions), O(log n). The heap
 * orders frames by next use, latest first; UINT64_MAX (never used again)
 * is the latest of all, so such frames go first. Ties -- in practice only
 * among never-used-again frames, since two frames cannot share a next
 * access -- go to the LOWEST pfn, so runs are deterministic. Which of two
 * never-used-again frames goes first does not change the number of misses.
 *
 * select_victim returns the top of the heap. Before trusting it, it
 * re-reads the top's next use; a stale key (an access the core did not
 * report through touch) is corrected and the heap re-settled. The contract
 * is still that touch sees every access: only the top is re-checked.
 * Pinned frames are rare: a pinned top is popped into a side stack and the
 * search goes on; every popped frame is pushed back before returning, so
 * the heap holds the same frames and keys as before. Cost O(log n) plus
 * O(log n) per pinned frame that outranks the victim. VMSIM_EOOM when the
 * heap empties, that is when every admitted frame is pinned.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"

/* A heap slot holds the frame and its key side by side, so that sifting
 * compares slots without a trip through a per-pfn array. */
struct slot {
    uint64_t key; /* the frame's next use, as last read */
    uint32_t pfn;
};

struct opt {
    struct slot *heap; /* heap[0] has the farthest next use */
    uint32_t *pos;     /* per pfn: its index in heap[] */
    uint32_t *stash;   /* pinned tops set aside during select_victim */
    uint32_t nr;       /* frames in the heap (all admitted frames) */
};

static void opt_destroy(void *state)
{
    struct opt *o = state;

    if (o == NULL)
        return;
    free(o->heap);
    free(o->pos);
    free(o->stash);
    free(o);
}

static int opt_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct opt *o;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* opt takes no parameters */
    o = calloc(1, sizeof(*o));
    if (o == NULL)
        return VMSIM_ENOMEM;
    o->heap = calloc(n, sizeof(*o->heap));
    o->pos = calloc(n, sizeof(*o->pos));
    o->stash = calloc(n, sizeof(*o->stash));
    if (o->heap == NULL || o->pos == NULL || o->stash == NULL) {
        opt_destroy(o);
        return VMSIM_ENOMEM;
    }
    *state = o;
    return 0;
}

/* Whether slot a ranks above slot b: later next use, then lower pfn. */
static inline bool above(const struct slot *a, const struct slot *b)
{
    return a->key > b->key || (a->key == b->key && a->pfn < b->pfn);
}

static inline void place(struct opt *o, uint32_t i, struct slot s)
{
    o->heap[i] = s;
    o->pos[s.pfn] = i;
}

static void sift_up(struct opt *o, uint32_t i)
{
    struct slot s = o->heap[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;

        if (!above(&s, &o->heap[parent]))
            break;
        place(o, i, o->heap[parent]);
        i = parent;
    }
    place(o, i, s);
}

static void sift_down(struct opt *o, uint32_t i)
{
    struct slot s = o->heap[i];

    for (;;) {
        uint64_t l = 2 * (uint64_t)i + 1, c = l;

        if (l >= o->nr)
            break;
        if (l + 1 < o->nr && above(&o->heap[l + 1], &o->heap[l]))
            c = l + 1;
        if (!above(&o->heap[c], &s))
            break;
        place(o, i, o->heap[c]);
        i = (uint32_t)c;
    }
    place(o, i, s);
}

/* Restore the heap order around index i after its key changed. */
static void fix(struct opt *o, uint32_t i)
{
    if (i > 0 && above(&o->heap[i], &o->heap[(i - 1) / 2]))
        sift_up(o, i);
    else
        sift_down(o, i);
}

static void push(struct opt *o, uint32_t f, uint64_t key)
{
    struct slot s = { key, f };

    place(o, o->nr++, s);
    sift_up(o, o->nr - 1);
}

/* Take out the top: its hole sinks along the higher child to a leaf (one
 * comparison a level), the last slot fills it there and rises as far as
 * it must -- not far, as it came from the bottom (Floyd's trick, as
 * bottom-up heapsort). The resulting heap is the same set of slots in a
 * valid order; which valid order does not matter, as ties break by pfn. */
static void remove_top(struct opt *o)
{
    struct slot last = o->heap[--o->nr];
    uint32_t i = 0;

    if (o->nr == 0)
        return;
    for (;;) {
        uint64_t c = 2 * (uint64_t)i + 1;

        if (c >= o->nr)
            break;
        if (c + 1 < o->nr && above(&o->heap[c + 1], &o->heap[c]))
            c++;
        place(o, i, o->heap[c]);
        i = (uint32_t)c;
    }
    place(o, i, last);
    sift_up(o, i);
}

static void remove_at(struct opt *o, uint32_t i)
{
    struct slot last;

    if (i == 0) {
        remove_top(o);
        return;
    }
    last = o->heap[--o->nr];
    if (i == o->nr)
        return;
    place(o, i, last);
    fix(o, i);
}

static void opt_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct opt *o = state;

    push(o, (uint32_t)pfn, vmsim_policy_next_use(ctx, pfn));
}

static void opt_touch(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn,
                      vmsim_access_kind kind)
{
    struct opt *o = state;
    uint32_t i = o->pos[pfn];
    uint64_t k = vmsim_policy_next_use(ctx, pfn);

    (void)kind;
    if (k == o->heap[i].key)
        return;
    o->heap[i].key = k;
    fix(o, i);
}

static void opt_forget(void *state, vmsim_pfn_t pfn)
{
    struct opt *o = state;

    remove_at(o, o->pos[pfn]);
}

/* The best unpinned frame by a linear scan; for a pathological context
 * whose next-use answers keep changing during one call. */
static int scan_all(struct opt *o, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    const struct slot *best = NULL;

    for (uint32_t i = 0; i < o->nr; i++) {
        const struct slot *s = &o->heap[i];

        if (!vmsim_frame_is_pinned(ctx, s->pfn) && (best == NULL || above(s, best)))
            best = s;
    }
    if (best == NULL)
        return VMSIM_EOOM;
    *victim = best->pfn;
    return 0;
}

static int opt_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    struct opt *o = state;
    uint64_t budget = 2 * (uint64_t)o->nr + 1;
    uint32_t nr_stashed = 0;
    int rc = VMSIM_EOOM;

    while (o->nr > 0) {
        uint32_t top = o->heap[0].pfn;
        uint64_t k = vmsim_policy_next_use(ctx, top);

        if (budget-- == 0) {
            rc = scan_all(o, ctx, victim);
            break;
        }
        if (k != o->heap[0].key) {
            o->heap[0].key = k; /* stale: re-rank it and look again */
            sift_down(o, 0);
            continue;
        }
        if (vmsim_frame_is_pinned(ctx, top)) {
            o->stash[nr_stashed++] = top;
            remove_at(o, 0);
            continue;
        }
        *victim = top;
        rc = 0;
        break;
    }
    /* pushed back with their keys re-read: the same keys, as nothing ran */
    while (nr_stashed > 0) {
        uint32_t f = o->stash[--nr_stashed];

        push(o, f, vmsim_policy_next_use(ctx, f));
    }
    return rc;
}

const vmsim_policy_ops_t vmsim__policy_opt = {
    .abi = VMSIM_POLICY_ABI,
    .name = "opt",
    .create = opt_create,
    .destroy = opt_destroy,
    .admit = opt_admit,
    .touch = opt_touch,
    .forget = opt_forget,
    .select_victim = opt_select_victim,
};
