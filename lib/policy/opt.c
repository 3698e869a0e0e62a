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
 * admit and touch re-read the frame's next use and re-file the frame. The
 * order is by next use, latest first; UINT64_MAX (never used again) is
 * the latest of all, so such frames go first. Ties -- in practice only
 * among never-used-again frames, since two frames cannot share a next
 * access -- go to the LOWEST pfn, so runs are deterministic. Which of two
 * never-used-again frames goes first does not change the number of misses.
 *
 * The frames are filed by key, each operation O(1) (a few words of
 * bitmap): never-used-again frames in a bitmap over pfns (the lowest is
 * found first); the others in buckets of 64 consecutive next-use times, a
 * list per bucket and a bitmap over the buckets (the latest non-empty
 * bucket is found first, then the best frame of its list). Next uses are
 * times in the trace, so the buckets grow with the keys seen, doubling; a
 * key beyond 2^32 (no real trace) goes to a list searched whole.
 *
 * select_victim takes the best frame. Before trusting it, it re-reads its
 * next use; a stale key (an access the core did not report through touch)
 * is corrected and the search goes on. The contract is still that touch
 * sees every access: only the best is re-checked. Pinned frames are rare:
 * a pinned best is set aside and the search goes on; every frame set
 * aside is filed again, its key re-read, before returning, so the frames
 * and keys are as before. VMSIM_EOOM when every admitted frame is pinned.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pfnlist.h"
#include "policy/policy_internal.h"
#include "vmsim/error.h"

#define NEVER UINT64_MAX
#define BUCKET_SHIFT 6                 /* 64 next-use times a bucket */
#define KEY_LIMIT ((uint64_t)1 << 32) /* larger finite keys: the far list */

/*
 * A set of integers 0 .. n-1 in three levels of bitmap: level 0 has a bit
 * per member, level 1 a bit per non-zero word of level 0, level 2 a bit
 * per non-zero word of level 1. The first and last member cost a scan of
 * level 2 (n / 2^18 words) and two more words.
 */
struct bitset {
    uint64_t *w[3];
    uint64_t nw[3]; /* words per level */
};

static int bitset_init(struct bitset *b, uint64_t n)
{
    uint64_t words = (n + 63) / 64;

    memset(b, 0, sizeof(*b));
    for (int l = 0; l < 3; l++) {
        if (words == 0)
            words = 1;
        b->nw[l] = words;
        b->w[l] = calloc(words, sizeof(uint64_t));
        if (b->w[l] == NULL)
            return -1;
        words = (words + 63) / 64;
    }
    return 0;
}

static void bitset_free(struct bitset *b)
{
    for (int l = 0; l < 3; l++)
        free(b->w[l]);
}

static void bitset_set(struct bitset *b, uint64_t i)
{
    for (int l = 0; l < 3; l++, i /= 64) {
        uint64_t was = b->w[l][i / 64];

        b->w[l][i / 64] = was | (uint64_t)1 << (i % 64);
        if (was != 0)
            break; /* the levels above know this word already */
    }
}

static void bitset_clear(struct bitset *b, uint64_t i)
{
    for (int l = 0; l < 3; l++, i /= 64) {
        b->w[l][i / 64] &= ~((uint64_t)1 << (i % 64));
        if (b->w[l][i / 64] != 0)
            break;
    }
}

/* The lowest member, or UINT64_MAX when empty. */
static uint64_t bitset_first(const struct bitset *b)
{
    uint64_t i = 0;

    while (i < b->nw[2] && b->w[2][i] == 0)
        i++;
    if (i == b->nw[2])
        return UINT64_MAX;
    for (int l = 2; l >= 0; l--)
        i = i * 64 + (uint64_t)__builtin_ctzll(b->w[l][i]);
    return i;
}

/* The highest member, or UINT64_MAX when empty. */
static uint64_t bitset_last(const struct bitset *b)
{
    uint64_t i = b->nw[2];

    while (i > 0 && b->w[2][i - 1] == 0)
        i--;
    if (i == 0)
        return UINT64_MAX;
    i--;
    for (int l = 2; l >= 0; l--)
        i = i * 64 + 63 - (uint64_t)__builtin_clzll(b->w[l][i]);
    return i;
}

enum { NOT_FILED, FILED, FILED_FAR };

struct opt {
    uint64_t *key;         /* per pfn: its next use, as last read */
    struct pfn_link *link; /* per pfn: its bucket's list (or the far list) */
    uint8_t *filed;        /* per pfn: NOT_FILED, FILED, FILED_FAR */
    uint32_t *stash;       /* pinned frames set aside during select_victim */
    struct bitset never;   /* pfns never used again */
    struct bitset full;    /* buckets with frames */
    uint32_t *head;        /* per bucket: a list of its frames */
    uint64_t nr_buckets;
    uint32_t far;          /* keys at or past KEY_LIMIT, or past the buckets
                            * when they could not grow */
    uint32_t nr_frames, nr;
};

static void opt_destroy(void *state)
{
    struct opt *o = state;

    if (o == NULL)
        return;
    free(o->key);
    free(o->link);
    free(o->filed);
    free(o->stash);
    bitset_free(&o->never);
    bitset_free(&o->full);
    free(o->head);
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
    o->nr_frames = (uint32_t)n;
    o->far = PFN_NIL;
    o->nr_buckets = 64;
    o->key = calloc(n, sizeof(*o->key));
    o->link = calloc(n, sizeof(*o->link));
    o->filed = calloc(n, sizeof(*o->filed));
    o->stash = calloc(n, sizeof(*o->stash));
    o->head = calloc(o->nr_buckets, sizeof(*o->head));
    if (o->key == NULL || o->link == NULL || o->filed == NULL || o->stash == NULL ||
        o->head == NULL ||
        bitset_init(&o->never, n) < 0 || bitset_init(&o->full, o->nr_buckets) < 0) {
        opt_destroy(o);
        return VMSIM_ENOMEM;
    }
    memset(o->head, 0xff, o->nr_buckets * sizeof(*o->head));
    *state = o;
    return 0;
}

/* Room for bucket b: double the buckets until it fits. 0, or -1 when out
 * of memory (the frame then goes to the far list). */
static int grow(struct opt *o, uint64_t b)
{
    uint64_t n = o->nr_buckets;
    struct bitset full = { { NULL, NULL, NULL }, { 0, 0, 0 } };
    uint32_t *head;

    while (n <= b)
        n *= 2;
    head = calloc(n, sizeof(*head));
    if (head == NULL || bitset_init(&full, n) < 0) {
        free(head);
        bitset_free(&full);
        return -1;
    }
    memcpy(head, o->head, o->nr_buckets * sizeof(*head));
    memset(head + o->nr_buckets, 0xff, (n - o->nr_buckets) * sizeof(*head));
    for (uint64_t i = 0; i < o->nr_buckets; i++)
        if (head[i] != PFN_NIL)
            bitset_set(&full, i);
    free(o->head);
    bitset_free(&o->full);
    o->head = head;
    o->full = full;
    o->nr_buckets = n;
    return 0;
}

static void list_push(struct opt *o, uint32_t *head, uint32_t f)
{
    o->link[f].prev = PFN_NIL;
    o->link[f].next = *head;
    if (*head != PFN_NIL)
        o->link[*head].prev = f;
    *head = f;
}

static void list_cut(struct opt *o, uint32_t *head, uint32_t f)
{
    uint32_t n = o->link[f].next, p = o->link[f].prev;

    if (p != PFN_NIL)
        o->link[p].next = n;
    else
        *head = n;
    if (n != PFN_NIL)
        o->link[n].prev = p;
}

/* File frame f under key. */
static void file(struct opt *o, uint32_t f, uint64_t key)
{
    uint64_t b = key >> BUCKET_SHIFT;

    o->key[f] = key;
    o->nr++;
    if (key == NEVER) {
        o->filed[f] = FILED;
        bitset_set(&o->never, f);
    } else if (key < KEY_LIMIT && (b < o->nr_buckets || grow(o, b) == 0)) {
        o->filed[f] = FILED;
        list_push(o, &o->head[b], f);
        bitset_set(&o->full, b);
    } else {
        o->filed[f] = FILED_FAR;
        list_push(o, &o->far, f);
    }
}

static void unfile(struct opt *o, uint32_t f)
{
    uint64_t key = o->key[f], b = key >> BUCKET_SHIFT;

    o->nr--;
    if (o->filed[f] == FILED_FAR) {
        list_cut(o, &o->far, f);
    } else if (key == NEVER) {
        bitset_clear(&o->never, f);
    } else {
        list_cut(o, &o->head[b], f);
        if (o->head[b] == PFN_NIL)
            bitset_clear(&o->full, b);
    }
    o->filed[f] = NOT_FILED;
}

/* Whether frame a ranks above frame b: later next use, then lower pfn. */
static bool above(const struct opt *o, uint32_t a, uint32_t b)
{
    return o->key[a] > o->key[b] || (o->key[a] == o->key[b] && a < b);
}

/* The best frame of a list. */
static uint32_t best_of(const struct opt *o, uint32_t f)
{
    uint32_t best = f;

    for (f = o->link[f].next; f != PFN_NIL; f = o->link[f].next)
        if (above(o, f, best))
            best = f;
    return best;
}

/* The frame that ranks first, PFN_NIL when none is filed. */
static uint32_t top(const struct opt *o)
{
    uint64_t i = bitset_first(&o->never);
    uint32_t best = PFN_NIL;

    if (i != UINT64_MAX)
        return (uint32_t)i;
    i = bitset_last(&o->full);
    if (i != UINT64_MAX)
        best = best_of(o, o->head[i]);
    if (o->far != PFN_NIL) {
        uint32_t f = best_of(o, o->far);

        if (best == PFN_NIL || above(o, f, best))
            best = f;
    }
    return best;
}

static void opt_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    file(state, (uint32_t)pfn, vmsim_policy_next_use(ctx, pfn));
}

static void opt_touch(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn,
                      vmsim_access_kind kind)
{
    struct opt *o = state;
    uint32_t f = (uint32_t)pfn;
    uint64_t k = vmsim_policy_next_use(ctx, pfn);

    (void)kind;
    if (k == o->key[f])
        return;
    unfile(o, f);
    file(o, f, k);
}

static void opt_forget(void *state, vmsim_pfn_t pfn)
{
    unfile(state, (uint32_t)pfn);
}

/* The best unpinned filed frame by a linear scan; for a pathological
 * context whose next-use answers keep changing during one call. */
static int scan_all(struct opt *o, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    uint32_t best = PFN_NIL;

    for (uint32_t f = 0; f < o->nr_frames; f++) {
        if (o->filed[f] != NOT_FILED && !vmsim_frame_is_pinned(ctx, f) &&
            (best == PFN_NIL || above(o, f, best)))
            best = f;
    }
    if (best == PFN_NIL)
        return VMSIM_EOOM;
    *victim = best;
    return 0;
}

static int opt_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    struct opt *o = state;
    uint64_t budget = 2 * (uint64_t)o->nr + 1;
    uint32_t nr_stashed = 0;
    int rc = VMSIM_EOOM;

    while (o->nr > 0) {
        uint32_t best = top(o);
        uint64_t k = vmsim_policy_next_use(ctx, best);

        if (budget-- == 0) {
            rc = scan_all(o, ctx, victim);
            break;
        }
        if (k != o->key[best]) {
            unfile(o, best); /* stale: re-file it and look again */
            file(o, best, k);
            continue;
        }
        if (vmsim_frame_is_pinned(ctx, best)) {
            o->stash[nr_stashed++] = best;
            unfile(o, best);
            continue;
        }
        *victim = best;
        rc = 0;
        break;
    }
    /* filed again with their keys re-read: the same keys, as nothing ran */
    while (nr_stashed > 0) {
        uint32_t f = o->stash[--nr_stashed];

        file(o, f, vmsim_policy_next_use(ctx, f));
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
