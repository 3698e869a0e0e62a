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
 * the time slot of its last use, in a Fenwick tree over time slots; the
 * pages used later are the marks after its own: pages - prefix(slot).
 * A reference moves the page's mark to the next slot. Slots run out after
 * `tcap` references: then the live marks are renumbered 0 .. pages - 1 in
 * order (owner[] maps a slot back to its page) and the tree is rebuilt,
 * with tcap >= 2 (pages + 1), so renumbering costs O(1) a reference
 * amortised and memory stays O(pages), whatever the trace's length.
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

struct slot {
    uint64_t vpn;
    int32_t pid;
    uint32_t id1; /* page number + 1; 0: empty */
};

struct vmsim_curve {
    vmsim_curve_kind kind;
    int error;     /* sticky VMSIM_ENOMEM / VMSIM_ERANGE */
    bool finished;

    /* pages: (pid, vpn) -> page number 0, 1, ... in order of first use */
    struct slot *slots;
    size_t mask;
    uint32_t pages, pages_cap;
    bool have_last; /* the last reference, looked up without hashing */
    int32_t last_pid;
    uint64_t last_vpn;
    uint32_t last_id;

    uint64_t refs, cold;
    uint64_t *hist; /* hist[d], d = 1 .. pages */
    size_t hist_cap;

    /* LRU */
    uint32_t *fen;   /* Fenwick tree, 1-based, over slots 0 .. tcap - 1 */
    uint32_t *owner; /* owner[slot]: the page whose mark it is, or NONE */
    uint32_t *mark;  /* mark[page]: its slot */
    uint32_t now, tcap;

    /* OPT */
    uint32_t *log;
    size_t log_n, log_cap;

    /* the result */
    uint64_t *misses;
    size_t n;
};

/* ---- pages -------------------------------------------------------------- */

static inline uint64_t hash_key(int32_t pid, uint64_t vpn)
{
    uint64_t x = vpn * 0x9e3779b97f4a7c15ull + (uint64_t)(uint32_t)pid * 0xc2b2ae3d27d4eb4full;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
}

static int grow_table(vmsim_curve_t *c)
{
    size_t ncap = c->slots != NULL ? (c->mask + 1) * 2 : 1024;
    struct slot *ns = calloc(ncap, sizeof(*ns));

    if (ns == NULL)
        return VMSIM_ENOMEM;
    for (size_t i = 0; c->slots != NULL && i <= c->mask; i++) {
        const struct slot *s = &c->slots[i];
        size_t h;

        if (s->id1 == 0)
            continue;
        for (h = hash_key(s->pid, s->vpn) & (ncap - 1); ns[h].id1 != 0; h = (h + 1) & (ncap - 1))
            ;
        ns[h] = *s;
    }
    free(c->slots);
    c->slots = ns;
    c->mask = ncap - 1;
    return 0;
}

/* Grow a per-page array to hold `want` entries. */
static int grow_u32(uint32_t **a, size_t want)
{
    uint32_t *p = realloc(*a, want * sizeof(**a));

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

/* The page number of (pid, vpn); *is_new says it was just created. */
static int page_of(vmsim_curve_t *c, int32_t pid, uint64_t vpn, uint32_t *id, bool *is_new)
{
    size_t h;
    int rc;

    *is_new = false;
    if (c->have_last && c->last_vpn == vpn && c->last_pid == pid) {
        *id = c->last_id;
        return 0;
    }
    for (h = hash_key(pid, vpn) & c->mask; c->slots[h].id1 != 0; h = (h + 1) & c->mask) {
        if (c->slots[h].vpn == vpn && c->slots[h].pid == pid) {
            *id = c->slots[h].id1 - 1;
            goto found;
        }
    }
    if (c->pages >= MAX_PAGES)
        return VMSIM_ERANGE;
    if ((size_t)(c->pages + 1) * 2 > c->mask + 1) {
        if ((rc = grow_table(c)) < 0)
            return rc;
        for (h = hash_key(pid, vpn) & c->mask; c->slots[h].id1 != 0; h = (h + 1) & c->mask)
            ;
    }
    if (c->kind == VMSIM_CURVE_LRU && c->pages == c->pages_cap) {
        uint32_t ncap = c->pages_cap ? c->pages_cap * 2 : 1024;

        if ((rc = grow_u32(&c->mark, ncap)) < 0)
            return rc;
        c->pages_cap = ncap;
    }
    if (c->kind == VMSIM_CURVE_LRU && (rc = grow_hist(c, (size_t)c->pages + 2)) < 0)
        return rc;
    c->slots[h].vpn = vpn;
    c->slots[h].pid = pid;
    c->slots[h].id1 = c->pages + 1;
    *id = c->pages++;
    *is_new = true;
found:
    c->have_last = true;
    c->last_pid = pid;
    c->last_vpn = vpn;
    c->last_id = *id;
    return 0;
}

/* ---- LRU: a Fenwick tree over time slots ---------------------------------- */

static inline uint32_t fen_prefix(const uint32_t *fen, uint32_t slot)
{
    uint32_t s = 0;

    for (uint32_t i = slot + 1; i > 0; i &= i - 1)
        s += fen[i];
    return s;
}

static inline void fen_add(uint32_t *fen, uint32_t tcap, uint32_t slot, uint32_t delta)
{
    for (uint32_t i = slot + 1; i <= tcap; i += i & (0u - i))
        fen[i] += delta; /* delta is 1 or (uint32_t)-1 */
}

/* Renumber the live marks 0, 1, ... in order and rebuild the tree, with
 * room for at least as many references as there are pages. */
static int lru_compact(vmsim_curve_t *c)
{
    uint32_t live = 0, want;

    for (uint32_t t = 0; t < c->now; t++) {
        uint32_t id = c->owner[t];

        if (id != NONE) {
            c->owner[live] = id;
            c->mark[id] = live++;
        }
    }
    want = 2 * (c->pages + 1) > 4096 ? 2 * (c->pages + 1) : 4096;
    if (want > c->tcap) {
        int rc;

        if ((rc = grow_u32(&c->owner, want)) < 0 || (rc = grow_u32(&c->fen, (size_t)want + 1)) < 0)
            return rc;
        c->tcap = want;
    }
    /* slots 0 .. live - 1 hold one mark each: build in O(tcap) */
    c->fen[0] = 0;
    for (uint32_t i = 1; i <= c->tcap; i++)
        c->fen[i] = i <= live ? 1 : 0;
    for (uint32_t i = 1; i <= c->tcap; i++) {
        uint32_t p = i + (i & (0u - i));

        if (p <= c->tcap)
            c->fen[p] += c->fen[i];
    }
    c->now = live;
    return 0;
}

static int lru_ref(vmsim_curve_t *c, uint32_t id, bool is_new)
{
    int rc;

    if (!is_new) {
        uint32_t t = c->mark[id];

        if (t == c->now - 1) { /* already the most recent: depth 1, nothing moves */
            c->hist[1]++;
            return 0;
        }
        c->hist[c->pages - fen_prefix(c->fen, t) + 1]++;
        fen_add(c->fen, c->tcap, t, (uint32_t)-1);
        c->owner[t] = NONE;
    } else {
        c->cold++;
    }
    if (c->now == c->tcap && (rc = lru_compact(c)) < 0)
        return rc;
    fen_add(c->fen, c->tcap, c->now, 1);
    c->owner[c->now] = id;
    c->mark[id] = c->now++;
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

static int opt_run(vmsim_curve_t *c)
{
    size_t n = c->log_n;
    uint32_t pages = c->pages, size = 1, depth = 0;
    uint32_t *next = NULL, *seg = NULL, *stk = NULL, *pos = NULL, *prio = NULL;
    int rc = VMSIM_ENOMEM;

    while (size < pages + 2)
        size *= 2;
    next = malloc((n ? n : 1) * sizeof(*next));
    seg = calloc(2 * (size_t)size, sizeof(*seg));
    stk = malloc(((size_t)pages + 2) * sizeof(*stk));
    pos = malloc(((size_t)pages + 1) * sizeof(*pos)); /* also next-use scratch */
    prio = malloc(((size_t)pages + 1) * sizeof(*prio));
    if (next == NULL || seg == NULL || stk == NULL || pos == NULL || prio == NULL ||
        grow_hist(c, (size_t)pages + 2) < 0)
        goto out;
    /* next[t]: the next reference to the page of reference t (NONE: never) */
    for (uint32_t p = 0; p < pages; p++)
        pos[p] = NONE;
    for (size_t t = n; t-- > 0;) {
        next[t] = pos[c->log[t]];
        pos[c->log[t]] = (uint32_t)t;
    }
    for (uint32_t p = 0; p < pages; p++)
        pos[p] = 0; /* depth 0: not in the stack */
    for (size_t t = 0; t < n; t++) {
        uint32_t x = c->log[t], nu = next[t], d = pos[x], cur, sink, sv;

        if (d == 0) {
            c->cold++;
            d = ++depth;
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
        stk[d] = sink;
        pos[sink] = d;
        seg_set(seg, size, d, sv);
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
    if (grow_table(c) < 0 || grow_hist(c, 2) < 0) {
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
    free(c->slots);
    free(c->hist);
    free(c->fen);
    free(c->owner);
    free(c->mark);
    free(c->log);
    free(c->misses);
    free(c);
}

int vmsim_curve_ref(vmsim_curve_t *c, vmsim_pid_t pid, uint64_t vpn)
{
    uint32_t id;
    bool is_new;
    int rc;

    if (c->error != 0)
        return c->error;
    if (c->finished)
        return VMSIM_EINVAL;
    if (c->kind == VMSIM_CURVE_LRU && c->have_last && c->last_vpn == vpn &&
        c->last_pid == pid) {
        c->refs++; /* the page on top again: the common case */
        c->hist[1]++;
        return 0;
    }
    if ((rc = page_of(c, pid, vpn, &id, &is_new)) < 0)
        return c->error = rc;
    if (c->kind == VMSIM_CURVE_LRU) {
        rc = lru_ref(c, id, is_new);
    } else if (c->log_n >= (size_t)UINT32_MAX - 1) {
        rc = VMSIM_ERANGE; /* reference times must fit 32 bits */
    } else {
        if (c->log_n == c->log_cap) {
            size_t ncap = c->log_cap ? c->log_cap * 2 : 65536;
            uint32_t *l = realloc(c->log, ncap * sizeof(*l));

            if (l == NULL)
                return c->error = VMSIM_ENOMEM;
            c->log = l;
            c->log_cap = ncap;
        }
        c->log[c->log_n++] = id;
        rc = 0;
    }
    if (rc < 0)
        return c->error = rc;
    c->refs++;
    return 0;
}

int vmsim_curve_finish(vmsim_curve_t *c, const uint64_t **misses, size_t *n)
{
    int rc;

    if (c->error != 0)
        return c->error;
    if (!c->finished) {
        uint64_t acc;

        if (c->kind == VMSIM_CURVE_OPT && (rc = opt_run(c)) < 0)
            return c->error = rc;
        c->misses = malloc((c->pages ? c->pages : 1) * sizeof(*c->misses));
        if (c->misses == NULL)
            return c->error = VMSIM_ENOMEM;
        acc = c->cold;
        for (uint32_t k = c->pages; k >= 1; k--) {
            c->misses[k - 1] = acc;
            acc += c->hist[k];
        }
        c->n = c->pages;
        c->finished = true;
        free(c->log); /* OPT's string is not needed any more */
        c->log = NULL;
        c->log_n = c->log_cap = 0;
    }
    *misses = c->misses;
    *n = c->n;
    return 0;
}

uint64_t vmsim_curve_refs(const vmsim_curve_t *c)
{
    return c->refs;
}

uint64_t vmsim_curve_pages(const vmsim_curve_t *c)
{
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
    uint64_t minflt = 0, majflt = 0, resident;

    if (pids == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory reading the processes");
    nr = vmsim_pids(sim, pids, nr);
    for (size_t i = 0; i < nr; i++) {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, pids[i], &pi) == 0) {
            minflt += pi.minflt;
            majflt += pi.majflt;
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
    if (cfg->page_cluster != 0)
        return vmsim__error_set(err, VMSIM_ENOTSUP,
                                "no one-pass curve: swap readahead (page_cluster %d) brings "
                                "pages in without faults; use --page-cluster 0 or --profile "
                                "textbook",
                                cfg->page_cluster);
    return 0;
}

int vmsim_curve_ex(const char *path, const vmsim_replay_options_t *opt, vmsim_curve_kind kind,
                   uint64_t **misses_out, size_t *n_out, vmsim_curve_info_t *info,
                   vmsim_trace_error_t *err)
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
    ov = malloc((nr + 2) * sizeof(*ov));
    if (ov == NULL || vmsim_curve_create(kind, &pass.c) < 0) {
        free(ov);
        vmsim__error_set(err, VMSIM_ENOMEM, "out of memory starting the curve");
        return VMSIM_REPLAY_INTERNAL;
    }
    if (nr > 0)
        memcpy(ov, opt->overrides, nr * sizeof(*ov));
    /* no pressure in the pass: every page stays, and OPT needs no pre-pass */
    ov[nr].key = "resident_limit";
    ov[nr].value = "0";
    ov[nr + 1].key = "policy";
    ov[nr + 1].value = "lru";
    o.overrides = ov;
    o.nr_overrides = nr + 2;
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
        else
            rc = check_model(sim, pass.c, info, err);
        if (rc == 0 && (rc = vmsim_curve_finish(pass.c, &m, &n)) < 0)
            vmsim__error_set(err, rc, "one-pass curve: out of host memory");
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
    return vmsim_curve_ex(path, opt, kind, misses_out, n_out, NULL, err);
}
