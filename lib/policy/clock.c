/*
 * clock.c -- second chance (CLOCK) on the accessed bits the simulated MMU
 * sets, as hardware-assisted page replacement does.
 *
 * Admitted frames sit on a circular list in admission order, and a hand
 * points at the next frame to examine. To choose a victim the hand
 * advances: a frame whose accessed bit is set loses it (the bit is tested
 * and cleared in every page-table entry that maps the frame) and is passed
 * over; the first frame found with the bit clear is the victim, and the
 * hand stays on it. When the core forgets the victim the hand moves to the
 * frame after it. A new frame is inserted just behind the hand, so it is
 * the last one the hand reaches: this is FIFO-order second chance.
 *
 * A newly faulted page starts with its accessed bit SET, because the MMU
 * sets it on the faulting access itself; there is no separate "loaded with
 * R = 0" state. This is exactly /work/shared/bench/refsim.py's "clock1"
 * (second-chance FIFO, page loaded with the referenced bit set), and the
 * unit tests check the miss counts against it. (libCacheSim's "clock" is
 * refsim's "clock0", where a page starts unreferenced; it is not this.)
 *
 * Pinned frames are skipped and keep their accessed bit, so their history
 * is intact when they become evictable again. touch is NULL: accesses are
 * seen only through the accessed bits.
 *
 * admit and forget are O(1). select_victim is O(1) amortized: each step
 * past a referenced frame clears a bit that an access must set again. It
 * takes at most two laps of the ring (one to clear every bit, one to find
 * a clear one) and one lap to see that every frame is pinned (VMSIM_EOOM).
 */
#include <stdlib.h>

#include "policy/pfnlist.h"
#include "policy/policy_internal.h"
#include "vmsim/error.h"

#define NIL PFN_NIL

struct clock {
    struct pfn_link *link; /* per pfn: the ring, in admission order */
    uint32_t hand;         /* the next frame to examine; NIL when empty */
    uint32_t nr;           /* admitted frames */
};

static void clock_destroy(void *state)
{
    struct clock *c = state;

    if (c == NULL)
        return;
    free(c->link);
    free(c);
}

static int clock_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct clock *c;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* clock takes no parameters */
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VMSIM_ENOMEM;
    c->link = calloc(n, sizeof(*c->link));
    if (c->link == NULL) {
        clock_destroy(c);
        return VMSIM_ENOMEM;
    }
    c->hand = NIL;
    *state = c;
    return 0;
}

/* Insert just behind the hand: the hand reaches the new frame last. */
static void clock_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct clock *c = state;
    uint32_t f = (uint32_t)pfn;

    (void)ctx;
    if (c->hand == NIL) {
        c->link[f].next = c->link[f].prev = f;
        c->hand = f;
    } else {
        uint32_t behind = c->link[c->hand].prev;

        c->link[behind].next = f;
        c->link[f].prev = behind;
        c->link[f].next = c->hand;
        c->link[c->hand].prev = f;
    }
    c->nr++;
}

static void clock_forget(void *state, vmsim_pfn_t pfn)
{
    struct clock *c = state;
    uint32_t f = (uint32_t)pfn;

    c->nr--;
    if (c->nr == 0) {
        c->hand = NIL;
        return;
    }
    if (c->hand == f)
        c->hand = c->link[f].next;
    c->link[c->link[f].prev].next = c->link[f].next;
    c->link[c->link[f].next].prev = c->link[f].prev;
}

static int clock_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    struct clock *c = state;
    uint32_t first_unpinned = NIL;
    uint64_t steps = 2 * (uint64_t)c->nr + 1;

    for (uint64_t step = 0; step < steps; step++) {
        uint32_t f = c->hand;

        if (f == NIL)
            break;
        if (vmsim_frame_is_pinned(ctx, f)) {
            c->hand = c->link[f].next;
            if (step + 1 >= c->nr && first_unpinned == NIL)
                return VMSIM_EOOM; /* a whole lap and every frame pinned */
            continue;
        }
        if (first_unpinned == NIL)
            first_unpinned = f;
        if (vmsim_frame_test_and_clear_accessed(ctx, f)) {
            c->hand = c->link[f].next; /* second chance */
            continue;
        }
        *victim = f;
        return 0;
    }
    if (first_unpinned == NIL)
        return VMSIM_EOOM;
    /* Only if accessed bits came back while we swept (the core never does
     * that): settle for the first evictable frame the hand passed. */
    c->hand = first_unpinned;
    *victim = first_unpinned;
    return 0;
}

unsigned vmsim__clock_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later)
{
    const struct clock *c = state;
    uint32_t n;

    *later = UINT64_MAX;
    if (c->hand == NIL)
        return 0;
    /* The hand's links are in the cache (the last eviction's forget and
     * the admission behind the hand wrote them). An evicted frame takes
     * the new page in its place in the ring, so the ring keeps the order
     * of the first faults, mostly consecutive frames: the next frame's
     * links and frame are in the cache too, or soon. */
    look[0] = c->hand;
    n = c->link[c->hand].next;
    if (n == c->hand)
        return 1;
    look[1] = n;
    return 2;
}

const vmsim_policy_ops_t vmsim__policy_clock = {
    .abi = VMSIM_POLICY_ABI,
    .name = "clock",
    .create = clock_create,
    .destroy = clock_destroy,
    .admit = clock_admit,
    .touch = NULL, /* the accessed bits are the only input, as in hardware */
    .forget = clock_forget,
    .select_victim = clock_select_victim,
};
