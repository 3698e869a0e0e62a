/*
 * lru.c -- exact least-recently-used: evict the frame whose last access is
 * the oldest.
 *
 * Every access reaches the policy through touch(), which moves the frame to
 * the most-recently-used end of a doubly-linked list threaded through the
 * per-pfn links of pfnlist.h; an admitted frame starts there too (the faulting access
 * is its latest use). admit, touch and forget are O(1); select_victim is
 * O(1) plus one step per pinned frame at the LRU end, which it skips
 * (they keep their place).
 */
#include <stdlib.h>

#include "policy/pfnlist.h"
#include "policy/policy_internal.h"
#include "vmsim/error.h"

struct lru {
    struct pfn_list order; /* head = least recently used, tail = most */
};

static void lru_destroy(void *state)
{
    struct lru *l = state;

    if (l == NULL)
        return;
    pfn_list_free(&l->order);
    free(l);
}

static int lru_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct lru *l;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* lru takes no parameters */
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return VMSIM_ENOMEM;
    if (pfn_list_init(&l->order, (uint32_t)n) < 0) {
        lru_destroy(l);
        return VMSIM_ENOMEM;
    }
    *state = l;
    return 0;
}

static void lru_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct lru *l = state;

    (void)ctx;
    pfn_list_append(&l->order, (uint32_t)pfn);
}

static void lru_touch(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn,
                      vmsim_access_kind kind)
{
    struct lru *l = state;
    uint32_t f = (uint32_t)pfn;

    (void)ctx, (void)kind;
    if (l->order.tail == f)
        return; /* already the most recent: the common case of a hot page */
    pfn_list_unlink(&l->order, f);
    pfn_list_append(&l->order, f);
}

static void lru_forget(void *state, vmsim_pfn_t pfn)
{
    struct lru *l = state;

    pfn_list_unlink(&l->order, (uint32_t)pfn);
}

static int lru_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    const struct lru *l = state;

    for (uint32_t f = l->order.head; f != PFN_NIL; f = l->order.link[f].next) {
        if (!vmsim_frame_is_pinned(ctx, f)) {
            *victim = f;
            return 0;
        }
    }
    return VMSIM_EOOM;
}

unsigned vmsim__lru_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later)
{
    const struct lru *l = state;

    return pfn_list_peek(&l->order, look, later);
}

void vmsim__lru_prefetch(const void *state, vmsim_pfn_t pfn, int stage)
{
    const struct lru *l = state;

    pfn_list_prefetch(&l->order, (uint32_t)pfn, stage);
}

const vmsim_policy_ops_t vmsim__policy_lru = {
    .abi = VMSIM_POLICY_ABI,
    .name = "lru",
    .create = lru_create,
    .destroy = lru_destroy,
    .admit = lru_admit,
    .touch = lru_touch,
    .forget = lru_forget,
    .select_victim = lru_select_victim,
};
