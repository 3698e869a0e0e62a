/*
 * curve.c -- one-pass fault curves for LRU and OPT (include/vmsim/curve.h).
 *
 * Both curves come from a histogram of stack distances: hist[d] counts the
 * references whose page sat at depth d (1 = top) of the algorithm's stack,
 * which hit in every memory of d pages or more and miss in every smaller
 * one. First references miss everywhere (`cold`). So the misses of a memory
 * of k pages are cold + sum(hist[d], d > k).
 *
 * LRU. The stack is the pages by last use. The depth of a page is 1 + the
 * number of pages used after its last use. Every page keeps one mark, at
 * the time slot of its last use, in a bitmap of slots; a Fenwick tree
 * counts the marks of each 64-slot word, so the pages used later, the
 * marks after the page's own, are pages - (marks up to its slot): O(log n)
 * in structures of 1/8 and 1/16 byte per slot, which stay in cache. A
 * reference moves the page's mark to the next slot. Slots run out after
 * `tcap` references: then the live marks are renumbered 0 .. pages - 1 in
 * order (owner[] maps a slot back to its page) and the bitmap and tree
 * are rebuilt, with tcap >= 2 (pages + 1), so renumbering costs O(1) a
 * reference amortised and memory stays O(pages), whatever the trace's
 * length.
 *
 * OPT. The stack is the pages by next use, soonest on top (Mattson et al.
 * 1970, section 4). On a reference to x at depth d (d = pages + 1 for a
 * first reference), x goes to the top; the old top y sinks: at each depth
 * i < d, the page there and the sinking page are compared, the one needed
 * sooner stays at i and the other sinks on; what sinks past d - 1 takes
 * x's old place d. A page stays where it is unless it is needed later than
 * the sinking page, so only those places change: a max segment tree over
 * depths (each leaf the next use of the page there) finds the next one in
 * O(log n). Pages never used again (next use "infinity") never change
 * places with each other, so one that starts sinking goes straight to d.
 * OPT needs each reference's next use, so the builder logs the string
 * (page numbers, 4 bytes each) and runs at finish.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "vmsim/curve.h"

#define NONE UINT32_MAX
/* At most this many distinct pages: time slots (2 per page) fit 32 bits. */
#define MAX_PAGES ((uint32_t)1 << 30)
/* Pages are looked up in chunks of 64 neighbours (pid, vpn >> 6). */
#define CHUNK_SHIFT 6
#define CHUNK_PAGES (1u << CHUNK_SHIFT)
#define MAX_CHUNKS ((uint32_t)1 << (32 - CHUNK_SHIFT))
#define BATCH 64

struct chunk_slot {
    uint64_t cvpn; /* vpn >> CHUNK_SHIFT */
    int32_t pid;
    uint32_t idx1; /* chunk index + 1; 0: an empty slot */
};

struct vmsim_curve {
    vmsim_curve_kind kind;
    int error;     /* sticky VMSIM_ENOMEM / VMSIM_ERANGE */
    bool finished;

    /* The page map: (pid, vpn) -> one 32-bit entry, at handle
     * chunk * 64 + (vpn & 63) of entries[]. LRU keeps the page's slot + 1
     * there, OPT its page number + 1; 0 means never referenced. Dense
     * pages share chunks, so hot entries share cache lines. */
    struct chunk_slot *ctab;
    size_t cmask;
    uint32_t *entries;
    uint32_t nr_chunks, chunks_cap;
    bool have_chunk; /* the last chunk looked up */
    int32_t chunk_pid;
    uint64_t chunk_cvpn;
    uint32_t chunk_idx;
    uint32_t pages;
    uint32_t max; /* the largest size wanted; 0: every size */

    /* References are queued and taken BATCH at a time, in three sweeps
     * (find the chunk slots, then the entries, then apply), prefetching
     * what the next sweep reads: the tail of a large working set then
     * costs overlapped cache misses, not one after another. */
    struct qref {
        uint64_t vpn;
        int32_t pid;
        uint32_t handle;
        size_t slot; /* the chunk hash's first probe */
    } q[BATCH];
    uint32_t qn;
    uint32_t depth[BATCH]; /* LRU: the batch's stack depths, 0 for a first use */

    uint64_t refs, cold;
    uint64_t *hist; /* hist[d], d = 1 .. pages */
    size_t hist_cap;

    /* LRU: one mark per page at its last use's slot, as a bitmap of
     * tcap slots; bfen is a Fenwick tree (1-based) of the marks per 64-slot
     * word; owner[slot] is the handle of the page whose mark it is. */
    uint64_t *bits;
    uint32_t *bfen;
    uint32_t *owner;
    uint32_t now, tcap; /* tcap: a multiple of 64 */

    /* OPT */
    uint32_t *log;
    size_t log_n, log_cap;

    /* the result */
    uint64_t *misses;
    size_t n;
};

/* ---- the page map ----------------------------------------------------- */

static inline uint64_t hash_key(int32_t pid, uint64_t cvpn)
{
    uint64_t x = cvpn * 0x9e3779b97f4a7c15ull + (uint64_t)(uint32_t)pid * 0xc2b2ae3d27d4eb4full;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
}

static int grow_ctab(vmsim_curve_t *c)
{
    size_t ncap = c->ctab != NULL ? (c->cmask + 1) * 2 : 256;
    struct chunk_slot *ns = calloc(ncap, sizeof(*ns));

    if (ns == NULL)
        return VMSIM_ENOMEM;
    for (size_t i = 0; c->ctab != NULL && i <= c->cmask; i++) {
        const struct chunk_slot *s = &c->ctab[i];
        size_t h;

        if (s->idx1 == 0)
            continue;
        for (h = hash_key(s->pid, s->cvpn) & (ncap - 1); ns[h].idx1 != 0; h = (h + 1) & (ncap - 1))
            ;
        ns[h] = *s;
    }
    free(c->ctab);
    c->ctab = ns;
    c->cmask = ncap - 1;
    return 0;
}

static int grow_u32(uint32_t **a, size_t want)
{
    uint32_t *p = realloc(*a, (want ? want : 1) * sizeof(**a));

    if (p == NULL)
        return VMSIM_ENOMEM;
    *a = p;
    return 0;
}

static int grow_hist(vmsim_curve_t *c, size_t want)
{
    size_t ncap = c->hist_cap ? c->hist_cap : 1024;
    uint64_t *h;

    while (ncap < want)
        ncap *= 2;
    if (ncap == c->hist_cap)
        return 0;
    h = realloc(c->hist, ncap * sizeof(*h));
    if (h == NULL)
        return VMSIM_ENOMEM;
    memset(h + c->hist_cap, 0, (ncap - c->hist_cap) * sizeof(*h));
    c->hist = h;
    c->hist_cap = ncap;
    return 0;
}

/* The handle of (pid, vpn)'s entry, creating its chunk if needed; probe
 * is hash_key(pid, vpn >> CHUNK_SHIFT), computed (and its slot
 * prefetched) ahead. */
static int handle_of(vmsim_curve_t *c, int32_t pid, uint64_t vpn, size_t probe,
                     uint32_t *handle)
{
    uint64_t cvpn = vpn >> CHUNK_SHIFT;
    uint32_t idx;
    size_t h;
    int rc;

    if (c->have_chunk && c->chunk_cvpn == cvpn && c->chunk_pid == pid) {
        *handle = c->chunk_idx << CHUNK_SHIFT | (uint32_t)(vpn & (CHUNK_PAGES - 1));
        return 0;
    }
    for (h = probe & c->cmask; c->ctab[h].idx1 != 0; h = (h + 1) & c->cmask) {
        if (c->ctab[h].cvpn == cvpn && c->ctab[h].pid == pid) {
            idx = c->ctab[h].idx1 - 1;
            goto found;
        }
    }
    if (c->nr_chunks >= MAX_CHUNKS - 1)
        return VMSIM_ERANGE;
    if (((size_t)c->nr_chunks + 1) * 2 > c->cmask + 1) {
        if ((rc = grow_ctab(c)) < 0)
            return rc;
        for (h = probe & c->cmask; c->ctab[h].idx1 != 0; h = (h + 1) & c->cmask)
            ;
    }
    if (c->nr_chunks == c->chunks_cap) {
        uint32_t ncap = c->chunks_cap ? c->chunks_cap * 2 : 64;

        if ((rc = grow_u32(&c->entries, (size_t)ncap * CHUNK_PAGES)) < 0)
            return rc;
        c->chunks_cap = ncap;
    }
    idx = c->nr_chunks++;
    memset(c->entries + ((size_t)idx << CHUNK_SHIFT), 0, CHUNK_PAGES * sizeof(*c->entries));
    c->ctab[h].cvpn = cvpn;
    c->ctab[h].pid = pid;
    c->ctab[h].idx1 = idx + 1;
found:
    c->have_chunk = true;
    c->chunk_pid = pid;
    c->chunk_cvpn = cvpn;
    c->chunk_idx = idx;
    *handle = idx << CHUNK_SHIFT | (uint32_t)(vpn & (CHUNK_PAGES - 1));
    return 0;
}

/* A page referenced for the first time. */
static int new_page(vmsim_curve_t *c)
{
    int rc;

    if (c->pages >= MAX_PAGES)
        return VMSIM_ERANGE;
    if (c->kind == VMSIM_CURVE_LRU && (rc = grow_hist(c, (size_t)c->pages + 2)) < 0)
        return rc;
    c->pages++;
    c->cold++;
    return 0;
}

/* ---- LRU: marks in a bitmap, counted by a Fenwick tree over its words ----- */

/* Marks at slots 0 .. slot. */
static inline uint32_t lru_prefix(const vmsim_curve_t *c, uint32_t slot)
{
    uint32_t w = slot >> 6, r = slot & 63, s;
    uint64_t mask = r == 63 ? ~(uint64_t)0 : ((uint64_t)2 << r) - 1;

    s = (uint32_t)__builtin_popcountll(c->bits[w] & mask);
    for (uint32_t i = w; i > 0; i &= i - 1) /* words 0 .. w - 1 */
        s += c->bfen[i];
    return s;
}

static inline void lru_word_add(vmsim_curve_t *c, uint32_t w, uint32_t delta)
{
    uint32_t nw = c->tcap >> 6;

    for (uint32_t i = w + 1; i <= nw; i += i & (0u - i))
        c->bfen[i] += delta; /* delta is 1 or (uint32_t)-1 */
}

/* Renumber the live marks 0, 1, ... in order and rebuild the bitmap and
 * the tree, with room for at least as many references as there are pages. */
static int lru_compact(vmsim_curve_t *c)
{
    uint32_t live = 0, want, nw;

    for (uint32_t w = 0; w < (c->now + 63) >> 6; w++) {
        for (uint64_t b = c->bits[w]; b != 0; b &= b - 1) {
            uint32_t h = c->owner[w << 6 | (uint32_t)__builtin_ctzll(b)];

            c->owner[live] = h;
            c->entries[h] = ++live; /* slot live - 1, plus one */
        }
    }
    want = 2 * (c->pages + 1) > 4096 ? 2 * (c->pages + 1) : 4096;
    want = (want + 63) & ~63u;
    if (want > c->tcap) {
        uint64_t *nb = realloc(c->bits, (want >> 6) * sizeof(*nb));
        int rc;

        if (nb == NULL)
            return VMSIM_ENOMEM;
        c->bits = nb;
        if ((rc = grow_u32(&c->owner, want)) < 0 ||
            (rc = grow_u32(&c->bfen, (size_t)(want >> 6) + 1)) < 0)
            return rc;
        c->tcap = want;
    }
    nw = c->tcap >> 6;
    for (uint32_t w = 0; w < nw; w++) {
        uint32_t first = w << 6;

        c->bits[w] = live >= first + 64 ? ~(uint64_t)0
                     : live > first     ? ((uint64_t)1 << (live - first)) - 1
                                        : 0;
    }
    c->bfen[0] = 0;
    for (uint32_t i = 1; i <= nw; i++)
        c->bfen[i] = (uint32_t)__builtin_popcountll(c->bits[i - 1]);
    for (uint32_t i = 1; i <= nw; i++) {
        uint32_t p = i + (i & (0u - i));

        if (p <= nw)
            c->bfen[p] += c->bfen[i];
    }
    c->now = live;
    return 0;
}

/* A reference to the page at handle h; *depth gets its stack depth (0:
 * a first use). */
static int lru_ref(vmsim_curve_t *c, uint32_t h, uint32_t *depth)
{
    uint32_t e = c->entries[h];
    int rc;

    *depth = 0;
    if (e != 0) {
        uint32_t t = e - 1;

        if (t == c->now - 1) { /* already the most recent: depth 1, nothing moves */
            *depth = 1;
            return 0;
        }
        *depth = c->pages - lru_prefix(c, t) + 1;
        c->bits[t >> 6] &= ~((uint64_t)1 << (t & 63));
        lru_word_add(c, t >> 6, (uint32_t)-1);
    } else if ((rc = new_page(c)) < 0) {
        return rc;
    }
    if (c->now == c->tcap && (rc = lru_compact(c)) < 0)
        return rc;
    c->bits[c->now >> 6] |= (uint64_t)1 << (c->now & 63);
    lru_word_add(c, c->now >> 6, 1);
    c->owner[c->now] = h;
    c->entries[h] = ++c->now;
    return 0;
}

/* ---- OPT: Mattson's stack update with a max segment tree ------------------ */

/* The first leaf at index >= l whose value exceeds v, or NONE. seg has
 * 2 * size entries, leaves at size + i. */
static uint32_t seg_first_above(const uint32_t *seg, uint32_t size, uint32_t l, uint32_t v)
{
    uint32_t i = size + l;

    if (l >= size)
        return NONE;
    for (;;) {
        if (seg[i] > v)
            break;
        while (i & 1) /* a right child: climb until a left one */
            i >>= 1;
        if (i == 0)
            return NONE;
        i++; /* the subtree just right of everything seen so far */
    }
    while (i < size) {
        i <<= 1;
        if (seg[i] <= v)
            i++;
    }
    return i - size;
}

static inline void seg_set(uint32_t *seg, uint32_t size, uint32_t pos, uint32_t v)
{
    uint32_t i = size + pos;

    seg[i] = v;
    for (i >>= 1; i >= 1; i >>= 1) {
        uint32_t m = seg[2 * i] > seg[2 * i + 1] ? seg[2 * i] : seg[2 * i + 1];

        if (seg[i] == m)
            break; /* nothing above changes */
        seg[i] = m;
    }
}

/* Depth of a page that was referenced but sank below the largest size
 * wanted (c->max): its order there does not matter to any size wanted. */
#define OVER UINT32_MAX

static int opt_run(vmsim_curve_t *c)
{
    size_t n = c->log_n;
    uint32_t pages = c->pages, size = 1, depth = 0;
    uint32_t w = c->max != 0 && c->max < pages ? c->max : pages; /* stack depth kept */
    uint32_t *next = NULL, *seg = NULL, *stk = NULL, *pos = NULL, *prio = NULL;
    int rc = VMSIM_ENOMEM;

    while (size < w + 2)
        size *= 2;
    next = malloc((n ? n : 1) * sizeof(*next));
    seg = calloc(2 * (size_t)size, sizeof(*seg));
    stk = malloc(((size_t)w + 2) * sizeof(*stk));
    pos = malloc(((size_t)pages + 1) * sizeof(*pos)); /* also next-use scratch */
    prio = malloc(((size_t)pages + 1) * sizeof(*prio));
    if (next == NULL || seg == NULL || stk == NULL || pos == NULL || prio == NULL ||
        grow_hist(c, (size_t)w + 2) < 0)
        goto out;
    /* next[t]: the next reference to the page of reference t (NONE: never) */
    for (uint32_t p = 0; p < pages; p++)
        pos[p] = NONE;
    for (size_t t = n; t-- > 0;) {
        next[t] = pos[c->log[t]];
        pos[c->log[t]] = (uint32_t)t;
    }
    for (uint32_t p = 0; p < pages; p++)
        pos[p] = 0; /* depth 0: not referenced yet */
    for (size_t t = 0; t < n; t++) {
        uint32_t x = c->log[t], nu = next[t], d = pos[x], cur, sink, sv;

        if (d == 0) { /* a first reference: counted as cold already */
            d = depth < w ? ++depth : w + 1;
        } else if (d == OVER) {
            d = w + 1;
            c->hist[d]++; /* a miss at every size wanted */
        } else {
            c->hist[d]++;
        }
        prio[x] = nu;
        if (d == 1) {
            stk[1] = x;
            pos[x] = 1;
            seg_set(seg, size, 1, nu);
            continue;
        }
        sink = stk[1];
        stk[1] = x;
        pos[x] = 1;
        seg_set(seg, size, 1, nu);
        sv = prio[sink];
        cur = 1;
        while (sv != NONE) { /* a never-used-again page passes everything */
            uint32_t j = seg_first_above(seg, size, cur + 1, sv), y;

            if (j == NONE || j >= d)
                break;
            y = stk[j]; /* needed later than the sinking page: they trade */
            stk[j] = sink;
            pos[sink] = j;
            seg_set(seg, size, j, sv);
            sink = y;
            sv = prio[y];
            cur = j;
        }
        if (d <= w) {
            stk[d] = sink;
            pos[sink] = d;
            seg_set(seg, size, d, sv);
        } else {
            pos[sink] = OVER;
        }
    }
    rc = 0;
out:
    free(next);
    free(seg);
    free(stk);
    free(pos);
    free(prio);
    return rc;
}

/* ---- the builder ------------------------------------------------------------ */

int vmsim_curve_create(vmsim_curve_kind kind, vmsim_curve_t **out)
{
    vmsim_curve_t *c;

    if (kind != VMSIM_CURVE_LRU && kind != VMSIM_CURVE_OPT)
        return VMSIM_EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VMSIM_ENOMEM;
    c->kind = kind;
    if (grow_ctab(c) < 0 || grow_hist(c, 2) < 0) {
        vmsim_curve_destroy(c);
        return VMSIM_ENOMEM;
    }
    *out = c;
    return 0;
}

void vmsim_curve_destroy(vmsim_curve_t *c)
{
    if (c == NULL)
        return;
    free(c->ctab);
    free(c->entries);
    free(c->hist);
    free(c->bits);
    free(c->bfen);
    free(c->owner);
    free(c->log);
    free(c->misses);
    free(c);
}

static int opt_log(vmsim_curve_t *c, uint32_t h)
{
    int rc;

    if (c->log_n >= (size_t)UINT32_MAX - 1)
        return VMSIM_ERANGE; /* reference times must fit 32 bits */
    if (c->entries[h] == 0) {
        if ((rc = new_page(c)) < 0)
            return rc;
        c->entries[h] = c->pages; /* page number + 1 */
    }
    if (c->log_n == c->log_cap) {
        size_t ncap = c->log_cap ? c->log_cap * 2 : 65536;
        uint32_t *l = realloc(c->log, ncap * sizeof(*l));

        if (l == NULL)
            return VMSIM_ENOMEM;
        c->log = l;
        c->log_cap = ncap;
    }
    c->log[c->log_n++] = c->entries[h] - 1;
    return 0;
}

/* Apply the queued references. */
static int flush(vmsim_curve_t *c)
{
    uint32_t n = c->qn, i;
    int rc = 0;

    c->qn = 0;
    for (i = 0; i < n; i++) {
        struct qref *r = &c->q[i];

        r->slot = hash_key(r->pid, r->vpn >> CHUNK_SHIFT);
        __builtin_prefetch(&c->ctab[r->slot & c->cmask]);
    }
    for (i = 0; i < n; i++) {
        struct qref *r = &c->q[i];

        if (i > 0 && r->vpn == r[-1].vpn && r->pid == r[-1].pid)
            r->handle = r[-1].handle;
        else if ((rc = handle_of(c, r->pid, r->vpn, r->slot, &r->handle)) < 0)
            return rc;
        __builtin_prefetch(&c->entries[r->handle]);
    }
    if (c->kind == VMSIM_CURVE_OPT) {
        for (i = 0; i < n; i++) {
            if ((rc = opt_log(c, c->q[i].handle)) < 0)
                return rc;
        }
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((rc = lru_ref(c, c->q[i].handle, &c->depth[i])) < 0)
            break;
        __builtin_prefetch(&c->hist[c->depth[i]], 1);
    }
    for (uint32_t j = 0; j < i; j++) {
        if (c->depth[j] != 0)
            c->hist[c->depth[j]]++;
    }
    return rc;
}

int vmsim_curve_ref(vmsim_curve_t *c, vmsim_pid_t pid, uint64_t vpn)
{
    int rc;

    if (c->error != 0)
        return c->error;
    if (c->finished)
        return VMSIM_EINVAL;
    c->q[c->qn].pid = pid;
    c->q[c->qn].vpn = vpn;
    c->refs++;
    if (++c->qn == BATCH && (rc = flush(c)) < 0)
        return c->error = rc;
    return 0;
}

int vmsim_curve_finish(vmsim_curve_t *c, const uint64_t **misses, size_t *n)
{
    int rc;

    if (c->error != 0)
        return c->error;
    if (!c->finished && c->qn > 0 && (rc = flush(c)) < 0)
        return c->error = rc;
    if (!c->finished) {
        uint64_t acc;

        if (c->kind == VMSIM_CURVE_OPT && (rc = opt_run(c)) < 0)
            return c->error = rc;
        c->n = c->max != 0 && c->max < c->pages ? c->max : c->pages;
        c->misses = malloc((c->n ? c->n : 1) * sizeof(*c->misses));
        if (c->misses == NULL)
            return c->error = VMSIM_ENOMEM;
        acc = c->cold;
        for (size_t d = c->n + 1; d < c->hist_cap; d++)
            acc += c->hist[d]; /* deeper than every size wanted */
        for (size_t k = c->n; k >= 1; k--) {
            c->misses[k - 1] = acc;
            acc += c->hist[k];
        }
        c->finished = true;
        free(c->log); /* OPT's string is not needed any more */
        c->log = NULL;
        c->log_n = c->log_cap = 0;
    }
    *misses = c->misses;
    *n = c->n;
    return 0;
}

int vmsim_curve_set_max(vmsim_curve_t *c, uint64_t max_pages)
{
    if (c->refs != 0 || c->finished)
        return VMSIM_EINVAL;
    c->max = max_pages >= MAX_PAGES ? 0 : (uint32_t)max_pages;
    return 0;
}

uint64_t vmsim_curve_refs(const vmsim_curve_t *c)
{
    return c->refs;
}

uint64_t vmsim_curve_pages(vmsim_curve_t *c)
{
    if (c->error == 0 && c->qn > 0) {
        int rc = flush(c);

        if (rc < 0)
            c->error = rc;
    }
    return c->pages;
}

/* ---- from a trace ------------------------------------------------------------- */

struct pass {
    vmsim_curve_t *c;
    vmsim_access_fn user;
    void *user_ctx;
};

static void pass_access(void *ctx, vmsim_pid_t pid, vmsim_vaddr_t va, vmsim_access_kind kind)
{
    struct pass *p = ctx;

    vmsim_curve_ref(p->c, pid, va >> VMSIM_PAGE_SHIFT); /* an error sticks */
    if (p->user != NULL)
        p->user(p->user_ctx, pid, va, kind);
}

static uint64_t vmstat(const vmsim_t *sim, const char *name)
{
    uint64_t v = 0;

    vmsim_vmstat_get(sim, name, &v);
    return v;
}

/* Whether the pass's faults are those of its references alone; else a
 * message in err. */
static int check_model(const vmsim_t *sim, const vmsim_curve_t *c, vmsim_curve_info_t *info,
                       vmsim_trace_error_t *err)
{
    const vmsim_config_t *cfg = vmsim_config(sim);
    size_t nr = vmsim_pids(sim, NULL, 0);
    vmsim_pid_t *pids = malloc((nr ? nr : 1) * sizeof(*pids));
    uint64_t minflt = 0, majflt = 0, resident, swapped;
    vmsim_pid_t forked = 0;

    if (pids == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory reading the processes");
    nr = vmsim_pids(sim, pids, nr);
    for (size_t i = 0; i < nr; i++) {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, pids[i], &pi) == 0) {
            minflt += pi.minflt;
            majflt += pi.majflt;
            if ((pi.ppid != 0 || pi.cow != 0) && forked == 0)
                forked = pi.pid;
        }
    }
    free(pids);
    info->refs = c->refs;
    info->pages = c->pages;
    info->cold_minor = minflt;
    info->cold_major = majflt;
    resident = vmstat(sim, "nr_anon_pages") + vmstat(sim, "nr_file_pages");
    if (vmstat(sim, "pgsteal") != 0 || vmstat(sim, "pswpout") != 0)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: memory (%" PRIu64 " bytes) is too small for "
                                "the trace, whose %" PRIu64 " pages do not all fit without "
                                "reclaim; give more --memory",
                                cfg->memory, (uint64_t)c->pages);
    if (forked != 0)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: process %d was forked or copied on write: "
                                "pages shared after fork are one frame, not one page per "
                                "process; sweep it with replays instead",
                                (int)forked);
    if (minflt + majflt != c->pages)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: the trace faults %" PRIu64 " times but "
                                "touches %" PRIu64 " distinct pages, so its faults are not "
                                "those of its page references alone (fork, munmap, exit, "
                                "MAP_POPULATE, fault-around, the zero page or THP; try "
                                "--profile textbook); sweep it with replays instead",
                                minflt + majflt, (uint64_t)c->pages);
    if (resident != c->pages)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: %" PRIu64 " user pages are resident at the "
                                "end but the trace touched %" PRIu64 " (pages freed, shared, or "
                                "brought in by read() or readahead); sweep it with replays "
                                "instead",
                                resident, (uint64_t)c->pages);
    swapped = vmstat(sim, "nr_anon_pages") + vmstat(sim, "nr_shmem");
    if (swapped > cfg->swap / VMSIM_PAGE_SIZE)
        /* at a limit of k pages, the others wait in swap: without room
         * there the replay's reclaim would fail and OOM-kill instead */
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: swap (%" PRIu64 " bytes) cannot hold the "
                                "trace's %" PRIu64 " anonymous and shmem pages, so a replay at a "
                                "small resident limit would OOM-kill rather than swap; give "
                                "--swap %" PRIu64 "p or more (the textbook profile has none)",
                                cfg->swap, swapped, swapped);
    if (cfg->page_cluster != 0)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: swap readahead (page_cluster %d) brings "
                                "pages in without faults; use --page-cluster 0 or --profile "
                                "textbook",
                                cfg->page_cluster);
    return 0;
}

int vmsim_curve_ex(const char *path, const vmsim_replay_options_t *opt, vmsim_curve_kind kind,
                   uint64_t max_pages, uint64_t **misses_out, size_t *n_out,
                   vmsim_curve_info_t *info, vmsim_trace_error_t *err)
{
    vmsim_replay_options_t o;
    vmsim_trace_override_t *ov;
    vmsim_trace_error_t local;
    vmsim_curve_info_t local_info;
    struct pass pass = {0};
    vmsim_t *sim = NULL;
    const uint64_t *m;
    size_t n, nr = opt != NULL ? opt->nr_overrides : 0;
    int status, rc;

    if (err == NULL)
        err = &local;
    if (info == NULL)
        info = &local_info;
    memset(info, 0, sizeof(*info));
    vmsim__error_init(err, path);
    if (opt != NULL)
        o = *opt;
    else
        vmsim_replay_options_init(&o);
    if (kind != VMSIM_CURVE_LRU && kind != VMSIM_CURVE_OPT) {
        vmsim__error_set(err, VMSIM_EINVAL, "unknown curve kind %d", (int)kind);
        return VMSIM_REPLAY_BAD_TRACE;
    }
    ov = malloc((nr + 3) * sizeof(*ov));
    if (ov == NULL || vmsim_curve_create(kind, &pass.c) < 0 ||
        vmsim_curve_set_max(pass.c, max_pages) < 0) {
        vmsim_curve_destroy(pass.c);
        free(ov);
        vmsim__error_set(err, VMSIM_ENOMEM, "out of memory starting the curve");
        return VMSIM_REPLAY_INTERNAL;
    }
    /* the textbook profile unless the caller's overrides say otherwise */
    ov[0].key = "profile";
    ov[0].value = "textbook";
    if (nr > 0)
        memcpy(ov + 1, opt->overrides, nr * sizeof(*ov));
    /* no pressure in the pass: every page stays, and OPT needs no pre-pass */
    ov[nr + 1].key = "resident_limit";
    ov[nr + 1].value = "0";
    ov[nr + 2].key = "policy";
    ov[nr + 2].value = "lru";
    o.overrides = ov;
    o.nr_overrides = nr + 3;
    o.on_fail = NULL;
    pass.user = o.on_access;
    pass.user_ctx = o.access_ctx;
    o.on_access = pass_access;
    o.access_ctx = &pass;
    status = vmsim_replay(path, &o, &sim, NULL, err);
    free(ov);
    if (status == VMSIM_REPLAY_EXPECT_FAILED)
        status = VMSIM_REPLAY_OK; /* expects were written for other settings */
    if (status == VMSIM_REPLAY_OK) {
        vmsim__error_init(err, path);
        rc = pass.c->error;
        if (rc < 0)
            vmsim__error_set(err, rc, "one-pass curve: %s", rc == VMSIM_ERANGE
                                                                ? "too many pages or references"
                                                                : "out of host memory");
        else if ((rc = vmsim_curve_finish(pass.c, &m, &n)) < 0)
            vmsim__error_set(err, rc, "one-pass curve: %s", rc == VMSIM_ERANGE
                                                                ? "too many pages or references"
                                                                : "out of host memory");
        else
            rc = check_model(sim, pass.c, info, err);
        if (rc == 0) {
            *misses_out = NULL;
            if (n > 0 && (*misses_out = malloc(n * sizeof(**misses_out))) == NULL)
                rc = vmsim__error_set(err, VMSIM_ENOMEM, "one-pass curve: out of host memory");
            else if (n > 0)
                memcpy(*misses_out, m, n * sizeof(*m));
            *n_out = n;
        }
        if (rc == VMSIM_ENOTSUP)
            status = VMSIM_REPLAY_BAD_TRACE;
        else if (rc < 0)
            status = VMSIM_REPLAY_INTERNAL;
    }
    vmsim_destroy(sim);
    vmsim_curve_destroy(pass.c);
    return status;
}

int vmsim_curve(const char *path, const vmsim_replay_options_t *opt, vmsim_curve_kind kind,
                uint64_t **misses_out, size_t *n_out, vmsim_trace_error_t *err)
{
    return vmsim_curve_ex(path, opt, kind, 0, misses_out, n_out, NULL, err);
}
