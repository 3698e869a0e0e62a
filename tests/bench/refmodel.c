/*
 * refmodel.c -- the exact reference: one small function per policy, each a
 * direct transcription of the textbook definition (and of the matching
 * function of /work/shared/bench/refsim.py), with arrays indexed by page
 * number instead of Python dicts. Nothing here is tuned; it only has to be
 * obviously right, and fast enough for 10 M references.
 *
 * Validated against refsim.py: run_bench.sh repeats the check below on
 * every `make bench` (unless BENCH_VALIDATE=0). Done by hand on 2026-11-22
 * in build-bench/bench-data, with the standard 10 M-reference traces, as
 *
 *   n=200000 (seq: 600000, three laps of its 200 k pages)
 *   sizes="1,$((ws/100)),$((ws/10)),$((ws/2))"  (ws: distinct pages of the prefix)
 *   python3 refsim.py $kind-10000000.txt $pol $sizes $n  > a.out
 *   refcheck          $kind-10000000.txt $pol $sizes $n  > b.out;  cmp a.out b.out
 *
 * for kind in zipf seq uniform and pol in lru fifo opt clock1: all 12 pairs
 * identical. refsim.py's output (policy size n_req n_miss ratio), e.g.:
 *
 *   $ python3 refsim.py zipf-10000000.txt lru 1,680,6801,34006 200000
 *   lru 1 200000 198631 0.993155        lru 680 200000 129252 0.646260
 *   lru 6801 200000 93828 0.469140      lru 34006 200000 72146 0.360730
 *   $ ... fifo: 198631 136334 100466 76405    opt: 198631 97640 71129 68013
 *   $ ... clock1: 198631 131173 95794 74000
 *   $ python3 refsim.py seq-10000000.txt opt 1,2000,20000,100000 600000
 *   opt: 600000 596000 560000 400000 (lru, fifo, clock1: 600000 at every size)
 *   $ python3 refsim.py uniform-10000000.txt lru 1,1812,18123,90619 200000
 *   lru: 200000 199648 196602 186120    fifo: 200000 199648 196598 186117
 *   opt: 200000 189919 181238 181238    clock1: 200000 199648 196605 186098
 *
 * and on the whole zipf trace (10 M references, the sizes of
 * /work/shared/bench/README.md), refsim.py's LRU agrees with the table of
 * `make bench`:
 *
 *   $ python3 refsim.py zipf-10000000.txt lru 7804,78040,390203
 *   lru 7804 10000000 4540919 0.454092
 *   lru 78040 10000000 2581043 0.258104
 *   lru 390203 10000000 1155746 0.115575
 */
#include "refmodel.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

int ref_policy_from_name(const char *name)
{
    if (strcmp(name, "fifo") == 0)
        return REF_FIFO;
    if (strcmp(name, "lru") == 0)
        return REF_LRU;
    if (strcmp(name, "clock") == 0 || strcmp(name, "clock1") == 0)
        return REF_CLOCK;
    if (strcmp(name, "opt") == 0)
        return REF_OPT;
    return -1;
}

int ref_next_use(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t *next)
{
    uint64_t *last = malloc(((size_t)max_page + 1) * sizeof(*last));

    if (last == NULL)
        return -1;
    for (size_t p = 0; p <= max_page; p++)
        last[p] = UINT64_MAX;
    for (uint64_t t = n; t-- > 0;) {
        next[t] = last[pages[t]];
        last[pages[t]] = t;
    }
    free(last);
    return 0;
}

/* FIFO: a ring of the resident pages in load order; the oldest goes. */
static uint64_t fifo(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t frames)
{
    uint8_t *resident = calloc((size_t)max_page + 1, 1);
    uint32_t *ring = malloc(frames * sizeof(*ring));
    uint64_t used = 0, oldest = 0, misses = 0;

    if (resident == NULL || ring == NULL) {
        free(resident);
        free(ring);
        return UINT64_MAX;
    }
    for (uint64_t t = 0; t < n; t++) {
        uint32_t k = pages[t];

        if (resident[k])
            continue;
        misses++;
        if (used < frames) {
            ring[used++] = k;
        } else {
            resident[ring[oldest]] = 0;
            ring[oldest] = k; /* the newest now sits just behind the oldest */
            oldest = (oldest + 1) % frames;
        }
        resident[k] = 1;
    }
    free(resident);
    free(ring);
    return misses;
}

/* LRU: a doubly linked list of the resident pages, most recent at the head;
 * the tail goes. */
static uint64_t lru(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t frames)
{
    size_t np = (size_t)max_page + 1;
    uint32_t *prev = malloc(np * sizeof(*prev)), *next = malloc(np * sizeof(*next));
    uint8_t *resident = calloc(np, 1);
    uint32_t head = NIL, tail = NIL;
    uint64_t used = 0, misses = 0;

    if (prev == NULL || next == NULL || resident == NULL) {
        free(prev);
        free(next);
        free(resident);
        return UINT64_MAX;
    }
    for (uint64_t t = 0; t < n; t++) {
        uint32_t k = pages[t];

        if (resident[k]) {
            if (head == k)
                continue;
            /* unlink k (it is not the head, so prev[k] exists) */
            next[prev[k]] = next[k];
            if (next[k] != NIL)
                prev[next[k]] = prev[k];
            else
                tail = prev[k];
        } else {
            misses++;
            if (used == frames) {
                uint32_t v = tail;

                tail = prev[v];
                if (tail != NIL)
                    next[tail] = NIL;
                else
                    head = NIL;
                resident[v] = 0;
            } else {
                used++;
            }
            resident[k] = 1;
        }
        /* push k at the head */
        prev[k] = NIL;
        next[k] = head;
        if (head != NIL)
            prev[head] = k;
        head = k;
        if (tail == NIL)
            tail = k;
    }
    free(prev);
    free(next);
    free(resident);
    return misses;
}

/* CLOCK (clock1): the resident pages on a ring in load order, a hand at the
 * oldest. A hit sets the page's referenced bit; a loaded page starts with it
 * set. A miss with every frame used advances the hand, clearing set bits,
 * and replaces the first page found with its bit clear; the new page takes
 * that slot and the hand moves past it, so it is the last one reached. */
static uint64_t clock1(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t frames)
{
    uint8_t *resident = calloc((size_t)max_page + 1, 1);
    uint8_t *ref = calloc((size_t)max_page + 1, 1);
    uint32_t *ring = malloc(frames * sizeof(*ring));
    uint64_t used = 0, hand = 0, misses = 0;

    if (resident == NULL || ref == NULL || ring == NULL) {
        free(resident);
        free(ref);
        free(ring);
        return UINT64_MAX;
    }
    for (uint64_t t = 0; t < n; t++) {
        uint32_t k = pages[t];

        if (resident[k]) {
            ref[k] = 1;
            continue;
        }
        misses++;
        if (used < frames) {
            ring[used++] = k;
        } else {
            while (ref[ring[hand]]) {
                ref[ring[hand]] = 0;
                hand = (hand + 1) % frames;
            }
            resident[ring[hand]] = 0;
            ring[hand] = k;
            hand = (hand + 1) % frames;
        }
        resident[k] = 1;
        ref[k] = 1;
    }
    free(resident);
    free(ref);
    free(ring);
    return misses;
}

/* OPT (Belady's MIN): a binary max-heap of the resident pages keyed by the
 * time of their next reference; the page referenced farthest in the future
 * (or never again) goes. pos[] locates a page in the heap. Which of several
 * never-again pages goes does not change the count. */
struct heap {
    uint32_t *page; /* heap order */
    uint64_t *key;  /* per page: its next reference */
    uint32_t *pos;  /* per page: index in page[], NIL if not resident */
    uint64_t nr;
};

static void heap_set(struct heap *h, uint64_t i, uint32_t p)
{
    h->page[i] = p;
    h->pos[p] = (uint32_t)i;
}

static void heap_up(struct heap *h, uint64_t i)
{
    uint32_t p = h->page[i];

    while (i > 0 && h->key[h->page[(i - 1) / 2]] < h->key[p]) {
        heap_set(h, i, h->page[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(h, i, p);
}

static void heap_down(struct heap *h, uint64_t i)
{
    uint32_t p = h->page[i];

    for (;;) {
        uint64_t c = 2 * i + 1;

        if (c >= h->nr)
            break;
        if (c + 1 < h->nr && h->key[h->page[c + 1]] > h->key[h->page[c]])
            c++;
        if (h->key[h->page[c]] <= h->key[p])
            break;
        heap_set(h, i, h->page[c]);
        i = c;
    }
    heap_set(h, i, p);
}

static uint64_t opt(const uint32_t *pages, uint64_t n, uint32_t max_page, uint64_t frames,
                    const uint64_t *next)
{
    size_t np = (size_t)max_page + 1;
    struct heap h = {
        .page = malloc(frames * sizeof(uint32_t)),
        .key = malloc(np * sizeof(uint64_t)),
        .pos = malloc(np * sizeof(uint32_t)),
    };
    uint64_t misses = 0;

    if (h.page == NULL || h.key == NULL || h.pos == NULL || next == NULL) {
        free(h.page);
        free(h.key);
        free(h.pos);
        return UINT64_MAX;
    }
    for (size_t p = 0; p < np; p++)
        h.pos[p] = NIL;
    for (uint64_t t = 0; t < n; t++) {
        uint32_t k = pages[t];

        if (h.pos[k] != NIL) {
            h.key[k] = next[t]; /* later than t, its old key: it can only rise */
            heap_up(&h, h.pos[k]);
            continue;
        }
        misses++;
        if (h.nr == frames) {
            uint32_t v = h.page[0];

            h.pos[v] = NIL;
            h.nr--;
            if (h.nr > 0) {
                heap_set(&h, 0, h.page[h.nr]);
                heap_down(&h, 0);
            }
        }
        h.key[k] = next[t];
        heap_set(&h, h.nr++, k);
        heap_up(&h, h.nr - 1);
    }
    free(h.page);
    free(h.key);
    free(h.pos);
    return misses;
}

uint64_t ref_misses(ref_policy policy, const uint32_t *pages, uint64_t n, uint32_t max_page,
                    uint64_t frames, const uint64_t *next)
{
    if (frames == 0)
        return UINT64_MAX;
    switch (policy) {
    case REF_FIFO:
        return fifo(pages, n, max_page, frames);
    case REF_LRU:
        return lru(pages, n, max_page, frames);
    case REF_CLOCK:
        return clock1(pages, n, max_page, frames);
    case REF_OPT:
        return opt(pages, n, max_page, frames, next);
    }
    return UINT64_MAX;
}
