/*
 * fifo.c -- first in, first out: evict the frame admitted longest ago.
 *
 * Accesses never reorder the queue (touch is NULL), so FIFO shows Belady's
 * anomaly. A queue threaded through the per-pfn links of pfnlist.h: admit
 * and forget are O(1); select_victim is O(1) plus one step per pinned frame at the
 * old end of the queue, which it skips (they keep their place).
 */
#include <stdlib.h>

#include "policy/pfnlist.h"
#include "policy/policy_internal.h"
#include "vmsim/error.h"

struct fifo {
    struct pfn_list q; /* head = admitted longest ago, tail = newest */
};

static void fifo_destroy(void *state)
{
    struct fifo *q = state;

    if (q == NULL)
        return;
    pfn_list_free(&q->q);
    free(q);
}

static int fifo_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct fifo *q;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* fifo takes no parameters */
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return VMSIM_ENOMEM;
    if (pfn_list_init(&q->q, (uint32_t)n) < 0) {
        fifo_destroy(q);
        return VMSIM_ENOMEM;
    }
    *state = q;
    return 0;
}

static void fifo_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct fifo *q = state;

    (void)ctx;
    pfn_list_append(&q->q, (uint32_t)pfn);
}

static void fifo_forget(void *state, vmsim_pfn_t pfn)
{
    struct fifo *q = state;

    pfn_list_unlink(&q->q, (uint32_t)pfn);
}

static int fifo_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    const struct fifo *q = state;

    for (uint32_t f = q->q.head; f != PFN_NIL; f = q->q.link[f].next) {
        if (!vmsim_frame_is_pinned(ctx, f)) {
            *victim = f;
            return 0;
        }
    }
    return VMSIM_EOOM;
}

unsigned vmsim__fifo_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later)
{
    const struct fifo *q = state;

    return pfn_list_peek(&q->q, look, later);
}

const vmsim_policy_ops_t vmsim__policy_fifo = {
    .abi = VMSIM_POLICY_ABI,
    .name = "fifo",
    .create = fifo_create,
    .destroy = fifo_destroy,
    .admit = fifo_admit,
    .touch = NULL, /* hits do not reorder a FIFO */
    .forget = fifo_forget,
    .select_victim = fifo_select_victim,
};
