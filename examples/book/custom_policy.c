/*
 * custom_policy.c -- second-chance FIFO, a user replacement policy.
 *
 * Resident frames wait in a queue in the order they were admitted. The
 * victim is the oldest frame whose accessed bit (set by the simulated MMU
 * on every access, the faulting one included) is clear; an older frame
 * with the bit set loses the bit and goes to the back of the queue: its
 * second chance. The policy sees only frame numbers and asks the context
 * for the accessed bits; it never needs a touch hook.
 */
#include <stdlib.h>

#include <vmsim/error.h>

#include "custom_policy.h"

#define NIL UINT32_MAX

struct queue {
    uint32_t *next, *prev; /* per-pfn links; head = oldest, tail = newest */
    uint32_t head, tail, nr;
};

static void mine_destroy(void *state)
{
    struct queue *q = state;

    if (q != NULL) {
        free(q->next);
        free(q->prev);
        free(q);
    }
}

static int mine_create(uint32_t nr_frames, const char *params, void **state)
{
    struct queue *q;

    if (params != NULL)
        return VMSIM_EINVAL; /* "mine" takes no parameters */
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return VMSIM_ENOMEM;
    q->next = malloc(nr_frames * sizeof(uint32_t));
    q->prev = malloc(nr_frames * sizeof(uint32_t));
    if (q->next == NULL || q->prev == NULL) {
        mine_destroy(q);
        return VMSIM_ENOMEM;
    }
    q->head = q->tail = NIL;
    *state = q;
    return 0;
}

static void unlink_frame(struct queue *q, uint32_t f)
{
    if (q->prev[f] != NIL) q->next[q->prev[f]] = q->next[f]; else q->head = q->next[f];
    if (q->next[f] != NIL) q->prev[q->next[f]] = q->prev[f]; else q->tail = q->prev[f];
    q->nr--;
}

static void push_tail(struct queue *q, uint32_t f)
{
    q->next[f] = NIL;
    q->prev[f] = q->tail;
    if (q->tail != NIL) q->next[q->tail] = f; else q->head = f;
    q->tail = f;
    q->nr++;
}

static void mine_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    (void)ctx;
    push_tail(state, (uint32_t)pfn);
}

static void mine_forget(void *state, vmsim_pfn_t pfn)
{
    unlink_frame(state, (uint32_t)pfn);
}

static int mine_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    struct queue *q = state;

    /* Two laps at most: the first may clear every accessed bit. */
    for (uint64_t n = 2 * (uint64_t)q->nr; n > 0; n--) {
        uint32_t f = q->head;

        if (!vmsim_frame_is_pinned(ctx, f) && !vmsim_frame_test_and_clear_accessed(ctx, f)) {
            *victim = f; /* choose only: the core evicts it, then calls forget() */
            return 0;
        }
        unlink_frame(q, f); /* referenced (now cleared) or pinned: to the back */
        push_tail(q, f);
    }
    return VMSIM_EOOM; /* every frame is pinned, or none is admitted */
}

const vmsim_policy_ops_t mine_policy = {
    .abi = VMSIM_POLICY_ABI,
    .name = "mine",
    .create = mine_create,
    .destroy = mine_destroy,
    .admit = mine_admit,
    .touch = NULL, /* the accessed bits are enough */
    .forget = mine_forget,
    .select_victim = mine_select_victim,
};

const vmsim_policy_ops_t *vmsim_plugin_policy(void)
{
    return &mine_policy;
}
