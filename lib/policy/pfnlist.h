/*
 * pfnlist.h -- a doubly-linked list of frames threaded through one per-pfn
 * array of links: FIFO's queue and LRU's recency order (CLOCK's ring uses
 * the links alone). A frame's two links share one 8-byte slot, so an
 * unlink touches three cache lines where two per-pfn arrays took six.
 */
#ifndef VMSIM_POLICY_PFNLIST_H
#define VMSIM_POLICY_PFNLIST_H

#include <stdint.h>
#include <stdlib.h>

#define PFN_NIL UINT32_MAX

struct pfn_link {
    uint32_t next, prev; /* towards the tail, towards the head */
};

struct pfn_list {
    struct pfn_link *link; /* per pfn */
    uint32_t head, tail;   /* PFN_NIL when empty */
};

/* Room for frames 0 .. nr_frames - 1; 0, or -1 when out of memory. */
static inline int pfn_list_init(struct pfn_list *pl, uint32_t nr_frames)
{
    pl->link = calloc(nr_frames != 0 ? nr_frames : 1, sizeof(*pl->link));
    pl->head = pl->tail = PFN_NIL;
    return pl->link != NULL ? 0 : -1;
}

static inline void pfn_list_free(struct pfn_list *pl)
{
    free(pl->link);
    pl->link = NULL;
}

static inline void pfn_list_append(struct pfn_list *pl, uint32_t f)
{
    pl->link[f].next = PFN_NIL;
    pl->link[f].prev = pl->tail;
    if (pl->tail != PFN_NIL)
        pl->link[pl->tail].next = f;
    else
        pl->head = f;
    pl->tail = f;
}

static inline void pfn_list_unlink(struct pfn_list *pl, uint32_t f)
{
    uint32_t n = pl->link[f].next, p = pl->link[f].prev;

    if (p != PFN_NIL)
        pl->link[p].next = n;
    else
        pl->head = n;
    if (n != PFN_NIL)
        pl->link[n].prev = p;
    else
        pl->tail = p;
}

/* Start loading frame f's links (stage 0), or, once they are in the
 * cache, its neighbours' (stage 1), which unlinking f will write. */
static inline void pfn_list_prefetch(const struct pfn_list *pl, uint32_t f, int stage)
{
    const struct pfn_link *k = &pl->link[f];

    if (stage == 0) {
        __builtin_prefetch(k, 1);
        return;
    }
    if (k->next != PFN_NIL)
        __builtin_prefetch(&pl->link[k->next], 1);
    if (k->prev != PFN_NIL)
        __builtin_prefetch(&pl->link[k->prev], 1);
}

/* A policy's peek (policy_internal.h) at a list's head: look[0] the head,
 * *later the frame after it, whose links are prefetched (the head's own
 * are in the cache: the last peek prefetched them, when it was *later). */
static inline unsigned pfn_list_peek(const struct pfn_list *pl, uint64_t look[2], uint64_t *later)
{
    uint32_t h = pl->head, n;

    *later = UINT64_MAX;
    if (h == PFN_NIL)
        return 0;
    look[0] = h;
    n = pl->link[h].next;
    if (n != PFN_NIL) {
        __builtin_prefetch(&pl->link[n], 1);
        *later = n;
    }
    return 1;
}

#endif /* VMSIM_POLICY_PFNLIST_H */
