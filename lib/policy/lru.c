/*
 * lru.c -- exact least-recently-used: evict the frame whose last access is
 * the oldest.
 *
 * Every access reaches the policy through touch(), which moves the frame to
 * the most-recently-used end of a doubly-linked list threaded through two
 * per-pfn arrays; an admitted frame starts there too (the faulting access
 * is its latest use). admit, touch and forget are O(1); select_victim is
 * O(1) plus one step per pinned frame at the LRU end, which it skips
 * (they keep their place).
 */
#include <stdlib.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"

#define NIL UINT32_MAX

struct lru {
    uint32_t *next, *prev; /* per-pfn links, towards more / less recent */
    uint32_t head, tail;   /* head = least recently used, tail = most */
};

static void lru_destroy(void *state)
{
    struct lru *l = state;

    if (l == NULL)
        return;
    free(l->next);
    free(l->prev);
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
    l->next = calloc(n, sizeof(*l->next));
    l->prev = calloc(n, sizeof(*l->prev));
    if (l->next == NULL || l->prev == NULL) {
        lru_destroy(l);
        return VMSIM_ENOMEM;
    }
    l->head = l->tail = NIL;
    *state = l;
    return 0;
}

static void unlink_frame(struct lru *l, uint32_t f)
{
    uint32_t n = l->next[f], p = l->prev[f];

    if (p != NIL)
        l->next[p] = n;
    else
        l->head = n;
    if (n != NIL)
        l->prev[n] = p;
    else
        l->tail = p;
}

static void append_mru(struct lru *l, uint32_t f)
{
    l->next[f] = NIL;
    l->prev[f] = l->tail;
    if (l->tail != NIL)
        l->next[l->tail] = f;
    else
        l->head = f;
    l->tail = f;
}

static void lru_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    (void)ctx;
    append_mru(state, (uint32_t)pfn);
}

static void lru_touch(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn,
                      vmsim_access_kind kind)
{
    struct lru *l = state;
    uint32_t f = (uint32_t)pfn;

    (void)ctx, (void)kind;
    if (l->tail == f)
        return; /* already the most recent: the common case of a hot page */
    unlink_frame(l, f);
    append_mru(l, f);
}

static void lru_forget(void *state, vmsim_pfn_t pfn)
{
    unlink_frame(state, (uint32_t)pfn);
}

static int lru_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    const struct lru *l = state;

    for (uint32_t f = l->head; f != NIL; f = l->next[f]) {
        if (!vmsim_frame_is_pinned(ctx, f)) {
            *victim = f;
            return 0;
        }
    }
    return VMSIM_EOOM;
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
