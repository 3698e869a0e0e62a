/*
 * test_policy.c -- the built-in replacement policies, each driven directly
 * through its ops table against a mock context.
 *
 * The context is opaque to policies and its queries are normally
 * implemented by the library (lib/mm/reclaim.c). This file implements them
 * itself over a mock `struct vmsim_policy_ctx` and links only the files of
 * lib/policy/, so the policies are tested without the core. The mock
 * checks the contract from the policy's side too: every query names an
 * admitted frame, and vmsim_frame_set_active() is never called from admit.
 *
 * A tiny driver replays a reference string over N frames exactly as the
 * core does: a reference to a resident page sets its accessed bit and calls
 * touch (if not NULL); a miss with a free frame admits into it (accessed bit
 * set: the faulting access); a miss with every frame full calls
 * select_victim, forget(victim), then admits the new page into that frame.
 * OPT's next use comes from a precomputed next-reference array.
 *
 * The link uses -Wl,--wrap=calloc,--wrap=free so create() can be failed at
 * its k-th allocation and checked for leaks.
 */
#include "test_util.h"

#include <math.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"
#include "vmsim/policy.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define NIL UINT32_MAX
#define NEVER UINT64_MAX

static const char *const policy_names[] = {"fifo", "lru", "clock", "linux", "opt", "random"};

/* ---- allocation failure injection (--wrap=calloc, --wrap=free) -------- */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void __real_free(void *p);
void __wrap_free(void *p);

static long calloc_fail_at = -1; /* fail the call with this index; -1: never */
static long calloc_calls;
static long live_blocks; /* callocs minus frees made by this executable's code */

void *__wrap_calloc(size_t n, size_t size)
{
    void *p;

    if (calloc_fail_at >= 0 && calloc_calls++ == calloc_fail_at)
        return NULL;
    p = __real_calloc(n, size);
    if (p != NULL)
        live_blocks++;
    return p;
}

void __wrap_free(void *p)
{
    if (p != NULL)
        live_blocks--;
    __real_free(p);
}

/* ---- the mock context ---------------------------------------------------- */

struct vmsim_policy_ctx {
    uint32_t nr_frames;
    bool *admitted; /* the core's PG_LRU: set before admit, cleared at forget */
    bool *accessed; /* the accessed bits of the frame's mappings */
    bool *pinned, *dirty, *anon, *active;
    uint64_t *next_use;
    uint64_t now;
    uint64_t rng; /* splitmix64 state */
    int swappiness;
    bool in_admit;
    uint64_t nr_activate, nr_deactivate;
    uint64_t nr_anon_queries; /* queries about anonymous frames */
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static struct vmsim_policy_ctx *mock_new(uint32_t nr_frames, uint64_t seed)
{
    struct vmsim_policy_ctx *ctx = calloc(1, sizeof(*ctx));

    assert_non_null(ctx);
    ctx->nr_frames = nr_frames;
    ctx->admitted = calloc(nr_frames, sizeof(bool));
    ctx->accessed = calloc(nr_frames, sizeof(bool));
    ctx->pinned = calloc(nr_frames, sizeof(bool));
    ctx->dirty = calloc(nr_frames, sizeof(bool));
    ctx->anon = calloc(nr_frames, sizeof(bool));
    ctx->active = calloc(nr_frames, sizeof(bool));
    ctx->next_use = calloc(nr_frames, sizeof(uint64_t));
    assert_non_null(ctx->admitted);
    assert_non_null(ctx->accessed);
    assert_non_null(ctx->pinned);
    assert_non_null(ctx->dirty);
    assert_non_null(ctx->anon);
    assert_non_null(ctx->active);
    assert_non_null(ctx->next_use);
    ctx->rng = seed;
    ctx->swappiness = 60;
    for (uint32_t f = 0; f < nr_frames; f++)
        ctx->next_use[f] = NEVER;
    return ctx;
}

static void mock_free(struct vmsim_policy_ctx *ctx)
{
    free(ctx->admitted);
    free(ctx->accessed);
    free(ctx->pinned);
    free(ctx->dirty);
    free(ctx->anon);
    free(ctx->active);
    free(ctx->next_use);
    free(ctx);
}

/* Policies may ask only about frames they hold. */
static void check_frame(const vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    if (pfn >= ctx->nr_frames)
        fail_msg("policy asked about pfn %" PRIu64 " of %u frames", pfn, ctx->nr_frames);
    if (!ctx->admitted[pfn])
        fail_msg("policy asked about pfn %" PRIu64 ", which it does not hold", pfn);
}

bool vmsim_frame_is_pinned(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    ctx->nr_anon_queries += ctx->anon[pfn];
    return ctx->pinned[pfn];
}

bool vmsim_frame_test_and_clear_accessed(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    bool young;

    check_frame(ctx, pfn);
    ctx->nr_anon_queries += ctx->anon[pfn];
    young = ctx->accessed[pfn];
    ctx->accessed[pfn] = false;
    return young;
}

bool vmsim_frame_is_dirty(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    return ctx->dirty[pfn];
}

bool vmsim_frame_is_anon(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    return ctx->anon[pfn];
}

uint32_t vmsim_frame_mapcount(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    return 1;
}

bool vmsim_frame_is_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    return ctx->active[pfn];
}

void vmsim_frame_set_active(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn, bool active)
{
    check_frame(ctx, pfn);
    if (ctx->in_admit)
        fail_msg("set_active(%" PRIu64 ") called from admit", pfn);
    if (ctx->active[pfn] != active) {
        if (active)
            ctx->nr_activate++;
        else
            ctx->nr_deactivate++;
    }
    ctx->active[pfn] = active;
}

uint64_t vmsim_policy_now(vmsim_policy_ctx_t *ctx)
{
    return ctx->now;
}

uint64_t vmsim_policy_next_use(vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    check_frame(ctx, pfn);
    return ctx->next_use[pfn];
}

uint64_t vmsim_policy_random(vmsim_policy_ctx_t *ctx)
{
    return splitmix64(&ctx->rng);
}

int vmsim_policy_swappiness(vmsim_policy_ctx_t *ctx)
{
    return ctx->swappiness;
}

/* ---- driving a policy as the core does ------------------------------------- */

struct drv {
    const vmsim_policy_ops_t *ops;
    void *state;
    struct vmsim_policy_ctx *ctx;
};

static struct drv drv_new(const char *name, uint32_t nr_frames, uint64_t seed)
{
    struct drv d;

    d.ops = vmsim_policy_builtin(name);
    if (d.ops == NULL)
        fail_msg("no built-in policy \"%s\"", name);
    d.ctx = mock_new(nr_frames, seed);
    d.state = NULL;
    assert_int_equal(d.ops->create(nr_frames, NULL, &d.state), 0);
    return d;
}

static void drv_free(struct drv *d)
{
    d->ops->destroy(d->state);
    mock_free(d->ctx);
}

/* A page was faulted into free frame f: its accessed bit is set. */
static void drv_admit(struct drv *d, uint32_t f)
{
    assert_false(d->ctx->admitted[f]);
    d->ctx->admitted[f] = true;
    d->ctx->accessed[f] = true;
    d->ctx->in_admit = true;
    d->ops->admit(d->state, d->ctx, f);
    d->ctx->in_admit = false;
}

static void drv_forget(struct drv *d, uint32_t f)
{
    assert_true(d->ctx->admitted[f]);
    d->ctx->admitted[f] = false;
    d->ctx->active[f] = false;
    d->ctx->accessed[f] = false;
    d->ops->forget(d->state, f);
}

static void drv_touch(struct drv *d, uint32_t f)
{
    assert_true(d->ctx->admitted[f]);
    d->ctx->accessed[f] = true;
    if (d->ops->touch != NULL)
        d->ops->touch(d->state, d->ctx, f, VMSIM_READ);
}

/* select_victim, checking that a victim is held and not pinned. */
static int drv_select(struct drv *d, uint32_t *victim)
{
    vmsim_pfn_t v = UINT64_MAX;
    int rc = d->ops->select_victim(d->state, d->ctx, &v);

    if (rc == 0) {
        if (v >= d->ctx->nr_frames || !d->ctx->admitted[v])
            fail_msg("%s chose pfn %" PRIu64 ", which it does not hold", d->ops->name, v);
        if (d->ctx->pinned[v])
            fail_msg("%s chose pinned pfn %" PRIu64, d->ops->name, v);
        *victim = (uint32_t)v;
    } else {
        assert_int_equal(rc, VMSIM_EOOM);
    }
    return rc;
}

/* Select, check, and evict. Returns the victim. */
static uint32_t drv_evict(struct drv *d)
{
    uint32_t v = NIL;

    assert_int_equal(drv_select(d, &v), 0);
    drv_forget(d, v);
    return v;
}

/*
 * Replay refs (pages < max_page) over nr_frames frames as the core would;
 * returns the number of misses, cold misses included.
 */
static uint64_t replay(const char *name, uint32_t nr_frames, const uint32_t *refs, size_t n,
                       uint32_t max_page, uint64_t seed)
{
    struct drv d = drv_new(name, nr_frames, seed);
    uint64_t *nxt = calloc(n != 0 ? n : 1, sizeof(*nxt));
    uint32_t *last = calloc(max_page, sizeof(*last));
    uint32_t *frame_of = calloc(max_page, sizeof(*frame_of));
    uint32_t *page_of = calloc(nr_frames, sizeof(*page_of));
    uint32_t used = 0;
    uint64_t misses = 0;

    assert_non_null(nxt);
    assert_non_null(last);
    assert_non_null(frame_of);
    assert_non_null(page_of);
    for (uint32_t p = 0; p < max_page; p++)
        last[p] = frame_of[p] = NIL;
    for (size_t i = n; i-- > 0;) {
        assert_true(refs[i] < max_page);
        nxt[i] = last[refs[i]] == NIL ? NEVER : last[refs[i]];
        last[refs[i]] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t p = refs[i], f = frame_of[p];

        d.ctx->now = i;
        if (f != NIL) {
            d.ctx->next_use[f] = nxt[i];
            drv_touch(&d, f);
            continue;
        }
        misses++;
        if (used < nr_frames) {
            f = used++;
        } else {
            f = drv_evict(&d);
            frame_of[page_of[f]] = NIL;
        }
        page_of[f] = p;
        frame_of[p] = f;
        d.ctx->next_use[f] = nxt[i];
        drv_admit(&d, f);
    }
    free(nxt);
    free(last);
    free(frame_of);
    free(page_of);
    drv_free(&d);
    return misses;
}

/* Parse "7 0 1 2" into out[]; returns the count. */
static size_t parse_refs(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0;

    while (*s != '\0') {
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (end == s)
            break;
        assert_true(n < cap);
        out[n++] = (uint32_t)v;
        s = end;
    }
    return n;
}

/* ---- the registry --------------------------------------------------------- */

static void test_registry(void **state)
{
    const vmsim_policy_ops_t *ops = NULL;
    const char *params = "untouched";

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(policy_names); i++) {
        const vmsim_policy_ops_t *p = vmsim_policy_builtin(policy_names[i]);

        assert_non_null(p);
        assert_string_equal(p->name, policy_names[i]);
        assert_int_equal(p->abi, VMSIM_POLICY_ABI);
        assert_non_null(p->create);
        assert_non_null(p->destroy);
        assert_non_null(p->admit);
        assert_non_null(p->forget);
        assert_non_null(p->select_victim);
    }
    assert_ptr_equal(vmsim_policy_builtin("lru"), &vmsim__policy_lru);
    assert_null(vmsim_policy_builtin("LRU"));
    assert_null(vmsim_policy_builtin("lr"));
    assert_null(vmsim_policy_builtin("lru:x"));
    assert_null(vmsim_policy_builtin(""));
    assert_null(vmsim_policy_builtin(NULL));

    assert_int_equal(vmsim__policy_parse("clock", &ops, &params), 0);
    assert_ptr_equal(ops, &vmsim__policy_clock);
    assert_null(params);
    assert_int_equal(vmsim__policy_parse("opt:abc:d", &ops, &params), 0);
    assert_ptr_equal(ops, &vmsim__policy_opt);
    assert_string_equal(params, "abc:d");
    assert_int_equal(vmsim__policy_parse("random:", &ops, &params), 0);
    assert_ptr_equal(ops, &vmsim__policy_random);
    assert_null(params);

    ops = NULL;
    params = "untouched";
    assert_int_equal(vmsim__policy_parse("", &ops, &params), VMSIM_EINVAL);
    assert_int_equal(vmsim__policy_parse(":lru", &ops, &params), VMSIM_EINVAL);
    assert_int_equal(vmsim__policy_parse(NULL, &ops, &params), VMSIM_EINVAL);
    assert_int_equal(vmsim__policy_parse("nope", &ops, &params), VMSIM_ENOENT);
    assert_int_equal(vmsim__policy_parse("fif", &ops, &params), VMSIM_ENOENT);
    assert_int_equal(vmsim__policy_parse("fifo2:x", &ops, &params), VMSIM_ENOENT);
    assert_null(ops);
    assert_string_equal(params, "untouched");
}

/* No built-in takes parameters; a typo must not pass silently. */
static void test_params(void **state)
{
    const vmsim_policy_ops_t *ops = vmsim_policy_builtin(*state);
    void *st = NULL;

    assert_non_null(ops);
    assert_int_equal(ops->create(8, "bogus", &st), VMSIM_EINVAL);
    assert_null(st);
    assert_int_equal(ops->create(8, "", &st), 0);
    assert_non_null(st);
    ops->destroy(st);
    st = NULL;
    assert_int_equal(ops->create(8, NULL, &st), 0);
    assert_non_null(st);
    ops->destroy(st);
    ops->destroy(NULL); /* a no-op */
}

/* create() fails cleanly at each of its allocations. */
static void test_create_enomem(void **state)
{
    const vmsim_policy_ops_t *ops = vmsim_policy_builtin(*state);
    long k, failures = 0;

    assert_non_null(ops);
    for (k = 0; k < 32; k++) {
        void *st = (void *)&k; /* a sentinel: must stay untouched on failure */
        long before = live_blocks;
        int rc;

        calloc_calls = 0;
        calloc_fail_at = k;
        rc = ops->create(64, NULL, &st);
        calloc_fail_at = -1;
        if (rc == 0) {
            /* success without having been refused an allocation */
            assert_true(calloc_calls <= k);
            assert_true(st != (void *)&k);
            ops->destroy(st);
            assert_int_equal(live_blocks, before);
            break;
        }
        assert_int_equal(rc, VMSIM_ENOMEM);
        assert_ptr_equal(st, (void *)&k);
        assert_int_equal(live_blocks, before); /* nothing leaked */
        failures++;
    }
    assert_true(k < 32);      /* it succeeds once allocations do */
    assert_true(failures > 0); /* and it did allocate, and check */
}

/* ---- textbook reference strings -------------------------------------------- */

#define TEXTBOOK "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1"
#define BELADY "1 2 3 4 1 2 5 1 2 3 4 5"

struct refcase {
    const char *policy;
    uint32_t nr_frames;
    const char *refs;
    uint64_t want; /* misses, cold misses included */
};

/*
 * FIFO, LRU and OPT are the textbook numbers (Silberschatz's string, and
 * Belady's anomaly: FIFO faults more with 4 frames than with 3). All of
 * them, and the CLOCK rows, agree with /work/shared/bench/refsim.py
 * ("python3 refsim.py FILE POLICY 3,4" on the strings one per line; our
 * clock is refsim's clock1, see clock.c).
 */
static const struct refcase textbook_cases[] = {
    {"fifo", 3, TEXTBOOK, 15},
    {"lru", 3, TEXTBOOK, 12},
    {"opt", 3, TEXTBOOK, 9},
    {"clock", 3, TEXTBOOK, 14},
    {"fifo", 4, TEXTBOOK, 10},
    {"lru", 4, TEXTBOOK, 8},
    {"opt", 4, TEXTBOOK, 8},
    {"clock", 4, TEXTBOOK, 9},
    {"fifo", 3, BELADY, 9},
    {"fifo", 4, BELADY, 10},
    {"lru", 3, BELADY, 10},
    {"lru", 4, BELADY, 8},
    {"opt", 3, BELADY, 7},
    {"opt", 4, BELADY, 6},
    {"clock", 3, BELADY, 9},
    {"clock", 4, BELADY, 10},
};

static void test_textbook(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(textbook_cases); i++) {
        const struct refcase *c = &textbook_cases[i];
        uint32_t refs[64];
        size_t n = parse_refs(c->refs, refs, ARRAY_SIZE(refs));
        uint64_t got = replay(c->policy, c->nr_frames, refs, n, 16, 1);

        if (got != c->want)
            fail_msg("%s, %u frames, \"%s\": %" PRIu64 " misses, want %" PRIu64, c->policy,
                     c->nr_frames, c->refs, got, c->want);
    }
}

/* ---- a Zipf trace, cross-checked against refsim.py ----------------------- */

/* The high 64 bits of a * b, without __int128. */
static uint64_t mulhi64(uint64_t a, uint64_t b)
{
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;

    return a_hi * b_hi + (hi_lo >> 32) + (cross >> 32);
}

/*
 * The zipf trace of /work/shared/bench/tracegen.c, reproduced bit for bit:
 * splitmix64 seeded with `seed`, ranks drawn with P(r) ~ r^-alpha by
 * inverse CDF, ranks mapped to pages 1..n_pages through a seeded
 * Fisher-Yates permutation. Fills out[0..n_req) and returns the FNV-1a-64
 * hash of the keys as tracegen prints it ("key_fnv1a64").
 */
static uint64_t tracegen_zipf(uint64_t n_req, uint64_t n_pages, double alpha, uint64_t seed,
                              uint32_t *out)
{
    double *cdf = calloc(n_pages, sizeof(*cdf));
    uint64_t *perm = calloc(n_pages, sizeof(*perm));
    uint64_t s = seed, fnv = 0xcbf29ce484222325ull;
    double acc = 0.0;

    assert_non_null(cdf);
    assert_non_null(perm);
    for (uint64_t r = 0; r < n_pages; r++) {
        acc += pow((double)(r + 1), -alpha);
        cdf[r] = acc;
    }
    for (uint64_t r = 0; r < n_pages; r++)
        perm[r] = r + 1;
    for (uint64_t r = n_pages - 1; r > 0; r--) {
        uint64_t j = mulhi64(splitmix64(&s), r + 1), t = perm[r];

        perm[r] = perm[j];
        perm[j] = t;
    }
    for (uint64_t i = 0; i < n_req; i++) {
        double target = (double)(splitmix64(&s) >> 11) * (1.0 / 9007199254740992.0) * acc;
        uint64_t lo = 0, hi = n_pages - 1;

        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;

            if (cdf[mid] > target)
                hi = mid;
            else
                lo = mid + 1;
        }
        out[i] = (uint32_t)perm[lo];
        for (int b = 0; b < 8; b++) {
            fnv ^= (perm[lo] >> (8 * b)) & 0xff;
            fnv *= 0x100000001b3ull;
        }
    }
    free(cdf);
    free(perm);
    return fnv;
}

#define ZIPF_REFS 200000
#define ZIPF_PAGES 20000

/*
 * Exact miss counts from the reference model, on the trace made by
 *   cc -O2 -o /tmp/tracegen /work/shared/bench/tracegen.c -lm
 *   /tmp/tracegen zipf 200000 20000 0.99 42 /tmp/z
 *     (prints working_set=16949 key_fnv1a64=7440e11218b26b1d)
 *   python3 /work/shared/bench/refsim.py /tmp/z.txt fifo|lru|opt|clock1 200,2000
 * (200 and 2000 frames: about 1 % and 10 % of the working set). refsim's
 * clock0, which loads pages unreferenced, gives 114083 and 61115: our
 * clock must not match those.
 */
static const struct refcase zipf_cases[] = {
    {"fifo", 200, NULL, 125940},  {"fifo", 2000, NULL, 71293},
    {"lru", 200, NULL, 116782},   {"lru", 2000, NULL, 63033},
    {"opt", 200, NULL, 80029},    {"opt", 2000, NULL, 37147},
    {"clock", 200, NULL, 119187}, {"clock", 2000, NULL, 65076},
};

static uint32_t *zipf_refs(void)
{
    uint32_t *refs = calloc(ZIPF_REFS, sizeof(*refs));
    uint64_t fnv;

    assert_non_null(refs);
    fnv = tracegen_zipf(ZIPF_REFS, ZIPF_PAGES, 0.99, 42, refs);
    /* the same trace tracegen wrote, or the counts below mean nothing */
    assert_int_equal(fnv, 0x7440e11218b26b1dull);
    return refs;
}

static void test_zipf_vs_refsim(void **state)
{
    uint32_t *refs = zipf_refs();

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(zipf_cases); i++) {
        const struct refcase *c = &zipf_cases[i];
        uint64_t got = replay(c->policy, c->nr_frames, refs, ZIPF_REFS, ZIPF_PAGES + 1, 1);

        if (got != c->want)
            fail_msg("%s, %u frames, zipf: %" PRIu64 " misses, refsim says %" PRIu64,
                     c->policy, c->nr_frames, got, c->want);
    }
    free(refs);
}

/* No policy beats Belady; every policy keeps some hits. */
static void test_opt_is_a_lower_bound(void **state)
{
    uint32_t *refs = zipf_refs();
    uint64_t opt = replay("opt", 200, refs, ZIPF_REFS, ZIPF_PAGES + 1, 1);

    (void)state;
    assert_int_equal(opt, 80029);
    for (size_t i = 0; i < ARRAY_SIZE(policy_names); i++) {
        uint64_t got = replay(policy_names[i], 200, refs, ZIPF_REFS, ZIPF_PAGES + 1, 7);

        if (got < opt || got >= (uint64_t)ZIPF_REFS * 9 / 10)
            fail_msg("%s: %" PRIu64 " misses, OPT has %" PRIu64, policy_names[i], got, opt);
    }
    free(refs);
}

/* ---- the contract, for every built-in ------------------------------------- */

static void test_empty_and_pinned(void **state)
{
    struct drv d = drv_new(*state, 8, 1);
    uint32_t v = NIL;

    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM); /* nothing admitted */
    for (uint32_t f = 0; f < 8; f++)
        drv_admit(&d, f);
    for (uint32_t f = 0; f < 8; f++)
        d.ctx->pinned[f] = true;
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM); /* all pinned */
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM); /* and again */
    d.ctx->pinned[5] = false;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(drv_select(&d, &v), 0);
        assert_int_equal(v, 5); /* the only candidate, whatever the policy */
    }
    for (uint32_t f = 0; f < 8; f++)
        d.ctx->pinned[f] = f != 2 && f != 6;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(drv_select(&d, &v), 0);
        assert_true(v == 2 || v == 6);
        d.ctx->accessed[v] = i % 2 == 0; /* sometimes used again */
    }
    drv_forget(&d, 2);
    drv_forget(&d, 6);
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM);
    for (uint32_t f = 0; f < 8; f++)
        if (d.ctx->admitted[f])
            drv_forget(&d, f);
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM); /* empty again */
    d.ctx->pinned[3] = false;
    drv_admit(&d, 3);
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 3);
    drv_free(&d);
}

/*
 * Random admits, forgets (at any time, of any frame), touches, pin changes
 * and core activations, with select_victim checked after each step against
 * a model: a victim exists exactly when an admitted frame is unpinned, and
 * it is always one of those.
 */
static void test_conformance_fuzz(void **state)
{
    const uint32_t nr = 64;
    struct drv d = drv_new(*state, nr, 99);
    uint64_t rng = 12345, victims = 0, oom = 0;

    for (int step = 0; step < 40000; step++) {
        uint32_t f = (uint32_t)(splitmix64(&rng) % nr), v = NIL;
        unsigned op = (unsigned)(splitmix64(&rng) % 100);
        bool any = false;

        d.ctx->now = (uint64_t)step;
        if (op < 25) {
            if (!d.ctx->admitted[f]) {
                d.ctx->anon[f] = splitmix64(&rng) % 2 == 0;
                d.ctx->dirty[f] = splitmix64(&rng) % 3 == 0;
                d.ctx->active[f] = splitmix64(&rng) % 8 == 0;
                d.ctx->next_use[f] = (uint64_t)step + 1 + splitmix64(&rng) % 500;
                drv_admit(&d, f);
            }
        } else if (op < 37) {
            if (d.ctx->admitted[f])
                drv_forget(&d, f);
        } else if (op < 62) {
            if (d.ctx->admitted[f]) {
                d.ctx->next_use[f] = (uint64_t)step + 1 + splitmix64(&rng) % 500;
                drv_touch(&d, f);
            }
        } else if (op < 70) {
            d.ctx->pinned[f] = !d.ctx->pinned[f];
        } else if (op < 73) {
            if (d.ctx->admitted[f] && !d.ctx->active[f]) {
                /* the core's mark_page_accessed: re-admitted active, or
                 * just flagged (the policy must cope with either) */
                if (op == 70) {
                    drv_forget(&d, f);
                    d.ctx->active[f] = true;
                    drv_admit(&d, f);
                } else {
                    d.ctx->active[f] = true;
                }
            }
        } else {
            int rc = drv_select(&d, &v);

            for (uint32_t g = 0; g < nr; g++)
                any |= d.ctx->admitted[g] && !d.ctx->pinned[g];
            if (any != (rc == 0))
                fail_msg("%s, step %d: select returned %d, an unpinned frame %s", d.ops->name,
                         step, rc, any ? "exists" : "does not exist");
            if (rc == 0) {
                victims++;
                if (op < 90)
                    drv_forget(&d, v); /* evicted; otherwise eviction failed */
            } else {
                oom++;
            }
        }
    }
    assert_true(victims > 1000); /* the mix did exercise both outcomes */
    assert_true(oom > 0);
    drv_free(&d);
}

/* ---- per-policy behaviour -------------------------------------------------- */

static void test_fifo_ignores_use(void **state)
{
    struct drv d = drv_new("fifo", 4, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 4; f++)
        drv_admit(&d, f);
    drv_touch(&d, 0);
    d.ctx->accessed[3] = false;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 0); /* oldest, though just used */
    d.ctx->pinned[0] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1); /* the pinned head keeps its place, skipped */
    d.ctx->pinned[0] = false;
    drv_forget(&d, 0);
    drv_admit(&d, 0); /* re-admitted: now the newest */
    assert_int_equal(drv_evict(&d), 1);
    assert_int_equal(drv_evict(&d), 2);
    assert_int_equal(drv_evict(&d), 3);
    assert_int_equal(drv_evict(&d), 0);
    drv_free(&d);
}

static void test_lru_order(void **state)
{
    struct drv d = drv_new("lru", 4, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 4; f++)
        drv_admit(&d, f);
    drv_touch(&d, 0);
    drv_touch(&d, 2);
    drv_touch(&d, 0); /* recency, oldest first: 1 3 2 0 */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    d.ctx->pinned[1] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 3);
    d.ctx->pinned[1] = false;
    assert_int_equal(drv_evict(&d), 1);
    assert_int_equal(drv_evict(&d), 3);
    assert_int_equal(drv_evict(&d), 2);
    assert_int_equal(drv_evict(&d), 0);
    drv_free(&d);
}

/* The hand, and where a new frame goes: just behind the hand. */
static void test_clock_hand(void **state)
{
    struct drv d = drv_new("clock", 3, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 3; f++)
        drv_admit(&d, f); /* ring 0 1 2, hand at 0, every bit set */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 0); /* a full lap cleared 0, 1, 2; then 0 */
    assert_false(d.ctx->accessed[1]);
    assert_false(d.ctx->accessed[2]);
    drv_forget(&d, 0); /* hand moves to 1 */
    drv_admit(&d, 0);  /* new page behind the hand: ring 1 2 0 */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1); /* not 0, whose bit is set */
    assert_true(d.ctx->accessed[0]); /* the hand did not reach it */
    drv_forget(&d, 1); /* hand at 2 */
    drv_admit(&d, 1);  /* ring 2 0 1 */
    d.ctx->accessed[2] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2); /* 2, 0, 1 all had a second chance; back to 2 */
    assert_false(d.ctx->accessed[0]);
    assert_false(d.ctx->accessed[1]);
    /* a select that is not followed by forget leaves the hand on the victim */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2);
    /* a forgotten frame that is not under the hand */
    drv_forget(&d, 0);
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2);
    drv_free(&d);
}

/*
 * The core's prefetch hint (vmsim__policy_peek_fn): the frames the next
 * select_victim looks at first, read without side effects. fifo and lru
 * name one, their head, and take it when nothing is pinned, and name as
 * `later` the frame after it, the next peek's once the head is gone.
 * clock names its hand and the frame after it: it takes the hand's when
 * its bit is clear, else (that bit cleared) the next one's when its bit
 * is clear.
 */
static void test_peek(void **state)
{
    static const char *const names[] = { "fifo", "lru", "clock" };

    (void)state;
    assert_null(vmsim__policy_peek_fn(&vmsim__policy_opt));
    assert_null(vmsim__policy_peek_fn(&vmsim__policy_random));
    assert_null(vmsim__policy_peek_fn(&vmsim__policy_linux));
    for (size_t i = 0; i < 3; i++) {
        const uint32_t nr = 32;
        struct drv d = drv_new(names[i], nr, 7);
        vmsim_policy_peek_fn *peek = vmsim__policy_peek_fn(d.ops);
        bool clock = strcmp(names[i], "clock") == 0;
        uint64_t rng = 777, checked = 0, seconds = 0;
        vmsim_pfn_t look[2], again[2], later, later2;

        assert_non_null(peek);
        assert_int_equal(peek(d.state, look, &later), 0); /* nothing admitted */
        assert_true(later == UINT64_MAX);
        for (int step = 0; step < 20000; step++) {
            uint32_t f = (uint32_t)(splitmix64(&rng) % nr), v = NIL;
            unsigned op = (unsigned)(splitmix64(&rng) % 10), n;

            if (op < 4) {
                if (!d.ctx->admitted[f])
                    drv_admit(&d, f);
            } else if (op < 7) {
                if (d.ctx->admitted[f])
                    drv_touch(&d, f);
            } else {
                n = peek(d.state, look, &later);
                if (n == 0) {
                    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM);
                    continue;
                }
                assert_true(n <= (clock ? 2u : 1u));
                for (unsigned k = 0; k < n; k++)
                    assert_true(look[k] < nr && d.ctx->admitted[look[k]]);
                assert_true(n < 2 || look[1] != look[0]);
                /* no side effect */
                assert_int_equal(peek(d.state, again, &later2), n);
                assert_true(again[0] == look[0] && (n < 2 || again[1] == look[1]));
                assert_true(later2 == later);
                if (clock)
                    assert_true(later == UINT64_MAX);
                else
                    assert_true(later == UINT64_MAX ||
                                (later < nr && d.ctx->admitted[later] && later != look[0]));
                if (clock && op == 9) {
                    d.ctx->accessed[look[0]] = false; /* the hand's frame goes */
                } else if (clock && op == 8 && n == 2) {
                    d.ctx->accessed[look[0]] = true; /* a second chance, */
                    d.ctx->accessed[look[1]] = false; /* then the next frame */
                }
                assert_int_equal(drv_select(&d, &v), 0);
                if (!clock || op == 9) {
                    assert_int_equal(v, look[0]);
                    checked++;
                } else if (op == 8 && n == 2) {
                    assert_int_equal(v, look[1]);
                    seconds++;
                }
                drv_forget(&d, v);
                /* fifo, lru: the frame after the victim is the next peek's */
                if (later != UINT64_MAX && v == look[0]) {
                    assert_true(peek(d.state, again, &later2) >= 1);
                    assert_true(again[0] == later);
                }
            }
        }
        assert_true(checked > 500);
        assert_true(!clock || seconds > 100);
        drv_free(&d);
    }
}

/* Pinned frames are passed over with their accessed bit kept. */
static void test_clock_pinned(void **state)
{
    struct drv d = drv_new("clock", 4, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 4; f++)
        drv_admit(&d, f);
    d.ctx->pinned[0] = true;
    d.ctx->pinned[1] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2);
    assert_true(d.ctx->accessed[0]);
    assert_true(d.ctx->accessed[1]);
    assert_false(d.ctx->accessed[3]);
    drv_free(&d);
}

static void test_opt_heap(void **state)
{
    static const uint64_t next[6] = {50, 40, 30, 20, 10, 60};
    struct drv d = drv_new("opt", 8, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 6; f++) {
        d.ctx->next_use[f] = next[f];
        drv_admit(&d, f);
    }
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 5); /* used at 60, the farthest */
    d.ctx->next_use[5] = 5;
    drv_touch(&d, 5); /* now used soonest */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 0);
    d.ctx->pinned[0] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    d.ctx->pinned[1] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2);
    for (uint32_t f = 0; f < 6; f++)
        d.ctx->pinned[f] = true;
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM);
    for (uint32_t f = 0; f < 6; f++)
        d.ctx->pinned[f] = false;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 0); /* the pops were undone: the heap is whole */
    /* forget from the middle of the heap keeps it ordered */
    drv_forget(&d, 2);
    assert_int_equal(drv_evict(&d), 0);
    assert_int_equal(drv_evict(&d), 1);
    assert_int_equal(drv_evict(&d), 3);
    assert_int_equal(drv_evict(&d), 4);
    assert_int_equal(drv_evict(&d), 5);
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM);
    drv_free(&d);
}

/* Never used again goes first; ties go to the lowest pfn. */
static void test_opt_ties(void **state)
{
    struct drv d = drv_new("opt", 8, 1);
    uint32_t v = NIL;
    static const uint32_t order[] = {6, 3, 7, 1, 4};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        d.ctx->next_use[order[i]] = order[i] == 4 ? 1000 : NEVER;
        drv_admit(&d, order[i]);
    }
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    d.ctx->pinned[1] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 3);
    d.ctx->pinned[1] = false;
    assert_int_equal(drv_evict(&d), 1);
    assert_int_equal(drv_evict(&d), 3);
    assert_int_equal(drv_evict(&d), 6);
    assert_int_equal(drv_evict(&d), 7);
    assert_int_equal(drv_evict(&d), 4); /* the only one with a future */
    drv_free(&d);
}

/* A next use the core changed without a touch is caught at the top. */
static void test_opt_stale_top(void **state)
{
    struct drv d = drv_new("opt", 4, 1);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 3; f++) {
        d.ctx->next_use[f] = 100 + f;
        drv_admit(&d, f);
    }
    d.ctx->next_use[2] = 7; /* no touch */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    drv_free(&d);
}

/*
 * OPT against a linear search: random admits, forgets, touches and pins
 * with next uses drawn from small times, times in the millions (the
 * buckets grow), times past 2^32 (the far list), repeated times and
 * "never"; every victim must be the unpinned frame with the latest next
 * use, the lowest pfn among equals (the definition in opt.c).
 */
static void test_opt_against_scan(void **state)
{
    const uint32_t nr = 200;
    struct drv d = drv_new("opt", nr, 1);
    uint64_t rng = 777, checked = 0;

    (void)state;
    for (int step = 0; step < 60000; step++) {
        uint32_t f = (uint32_t)(splitmix64(&rng) % nr), v = NIL, best = NIL;
        unsigned op = (unsigned)(splitmix64(&rng) % 100), kind = (unsigned)(splitmix64(&rng) % 10);
        uint64_t key;

        if (kind < 4)
            key = (uint64_t)step + splitmix64(&rng) % 5000;
        else if (kind < 6)
            key = splitmix64(&rng) % 20000000;
        else if (kind < 7)
            key = ((uint64_t)1 << 32) + splitmix64(&rng) % ((uint64_t)1 << 40);
        else if (kind < 8)
            key = 4242; /* shared by many: ties */
        else
            key = NEVER;
        if (op < 30) {
            if (!d.ctx->admitted[f]) {
                d.ctx->next_use[f] = key;
                drv_admit(&d, f);
            }
        } else if (op < 45) {
            if (d.ctx->admitted[f])
                drv_forget(&d, f);
        } else if (op < 70) {
            if (d.ctx->admitted[f]) {
                d.ctx->next_use[f] = key;
                drv_touch(&d, f);
            }
        } else if (op < 75) {
            d.ctx->pinned[f] = !d.ctx->pinned[f];
        } else {
            int rc = drv_select(&d, &v);

            for (uint32_t g = 0; g < nr; g++) {
                if (!d.ctx->admitted[g] || d.ctx->pinned[g])
                    continue;
                if (best == NIL || d.ctx->next_use[g] > d.ctx->next_use[best])
                    best = g; /* ascending g: the first of equals is the lowest pfn */
            }
            if (best == NIL) {
                assert_int_equal(rc, VMSIM_EOOM);
                continue;
            }
            assert_int_equal(rc, 0);
            if (v != best)
                fail_msg("step %d: victim %u (next use %llu), the best is %u (%llu)", step, v,
                         (unsigned long long)d.ctx->next_use[v], best,
                         (unsigned long long)d.ctx->next_use[best]);
            checked++;
            if (op < 90)
                drv_forget(&d, v);
        }
    }
    assert_true(checked > 5000);
    drv_free(&d);
}

static void test_random_uniform(void **state)
{
    struct drv d = drv_new("random", 64, 2024);
    uint32_t count[64] = {0}, v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 8; f++)
        drv_admit(&d, f);
    d.ctx->pinned[3] = true;
    d.ctx->pinned[6] = true;
    for (int i = 0; i < 60000; i++) {
        assert_int_equal(drv_select(&d, &v), 0);
        count[v]++;
    }
    assert_int_equal(count[3], 0);
    assert_int_equal(count[6], 0);
    for (uint32_t f = 0; f < 8; f++) {
        if (f == 3 || f == 6)
            continue;
        /* 10000 expected, standard deviation ~91 */
        if (count[f] < 9500 || count[f] > 10500)
            fail_msg("frame %u chosen %u times of 60000 among 6", f, count[f]);
    }
    /* mostly pinned: the rejection draws give up, the exact pass decides */
    for (uint32_t f = 8; f < 64; f++)
        drv_admit(&d, f);
    memset(count, 0, sizeof(count));
    for (uint32_t f = 0; f < 64; f++)
        d.ctx->pinned[f] = f != 17 && f != 40;
    for (int i = 0; i < 4000; i++) {
        assert_int_equal(drv_select(&d, &v), 0);
        count[v]++;
    }
    assert_int_equal(count[17] + count[40], 4000);
    assert_true(count[17] > 1700 && count[17] < 2300); /* sd ~32 */
    drv_free(&d);
}

/* Same seed, same victims; another seed, other victims. */
static void test_random_deterministic(void **state)
{
    uint32_t refs[4000];
    uint64_t rng = 5, a, b, c;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(refs); i++)
        refs[i] = (uint32_t)(splitmix64(&rng) % 50);
    a = replay("random", 20, refs, ARRAY_SIZE(refs), 50, 11);
    b = replay("random", 20, refs, ARRAY_SIZE(refs), 50, 11);
    c = replay("random", 20, refs, ARRAY_SIZE(refs), 50, 12);
    assert_int_equal(a, b);
    assert_int_not_equal(a, c);
}

/* ---- linux ------------------------------------------------------------------ */

static struct drv linux_new(uint32_t nr_frames, bool anon)
{
    struct drv d = drv_new("linux", nr_frames, 1);

    for (uint32_t f = 0; f < nr_frames; f++)
        d.ctx->anon[f] = anon;
    return d;
}

static unsigned count_active(const struct drv *d, bool anon)
{
    unsigned n = 0;

    for (uint32_t f = 0; f < d->ctx->nr_frames; f++)
        n += d->ctx->admitted[f] && d->ctx->anon[f] == anon && d->ctx->active[f];
    return n;
}

static unsigned count_admitted(const struct drv *d, bool anon)
{
    unsigned n = 0;

    for (uint32_t f = 0; f < d->ctx->nr_frames; f++)
        n += d->ctx->admitted[f] && d->ctx->anon[f] == anon;
    return n;
}

/* An inactive page never accessed goes before older, accessed ones. */
static void test_linux_unreferenced_first(void **state)
{
    struct drv d = linux_new(4, false);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 4; f++)
        drv_admit(&d, f);
    d.ctx->accessed[2] = false; /* e.g. read() into the cache, never mapped */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(d.ctx->nr_activate, 0);
    drv_free(&d);
}

/* Referenced twice: activated, not evicted (folio_check_references). */
static void test_linux_activate(void **state)
{
    struct drv d = linux_new(4, true);
    uint32_t v = NIL;

    (void)state;
    for (uint32_t f = 0; f < 4; f++)
        drv_admit(&d, f); /* inactive, head to tail: 3 2 1 0 */
    /* Each page is young once (its fault): kept and marked referenced;
     * the oldest comes round again unreferenced and goes. */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(d.ctx->nr_activate, 0);
    drv_forget(&d, 0);
    d.ctx->accessed[1] = true; /* the second reference */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 2); /* 1 was older, but it was activated */
    assert_true(d.ctx->active[1]);
    assert_int_equal(d.ctx->nr_activate, 1);
    drv_free(&d);
}

/* A referenced dirty file page is kept for one more trip
 * (FOLIOREF_RECLAIM_CLEAN); a referenced clean one goes. */
static void test_linux_dirty_file(void **state)
{
    struct drv d = linux_new(2, false);
    uint32_t v = NIL;

    (void)state;
    drv_admit(&d, 0);
    drv_admit(&d, 1);
    d.ctx->dirty[0] = true;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    drv_free(&d);
}

/* Pages the core activated (mark_page_accessed) are not taken while
 * inactive unreferenced ones exist, whichever way the core told us. */
static void test_linux_core_active(void **state)
{
    struct drv d = linux_new(4, false);
    uint32_t v = NIL;

    (void)state;
    drv_admit(&d, 0);
    drv_admit(&d, 1);
    d.ctx->accessed[0] = d.ctx->accessed[1] = false;
    d.ctx->active[0] = true; /* activated while on our inactive list */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 1);
    drv_forget(&d, 1);
    d.ctx->active[2] = true; /* re-admitted active */
    drv_admit(&d, 2);
    drv_admit(&d, 3);
    d.ctx->accessed[2] = d.ctx->accessed[3] = false;
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 3);
    drv_free(&d);
}

/* Under constant use the inactive list is topped up from the active one
 * (inactive_is_low, ratio 1 below 1 GiB), and every move is reported. */
static void test_linux_balance_lists(void **state)
{
    struct drv d = linux_new(16, true);
    uint64_t rng = 3;

    (void)state;
    for (uint32_t f = 0; f < 16; f++)
        drv_admit(&d, f);
    for (int round = 0; round < 400; round++) {
        uint32_t v;

        for (uint32_t f = 0; f < 16; f++)
            if (d.ctx->admitted[f] && splitmix64(&rng) % 4 != 0)
                drv_touch(&d, f);
        assert_int_equal(drv_select(&d, &v), 0);
        if (count_active(&d, true) > count_admitted(&d, true) - count_active(&d, true))
            fail_msg("round %d: %u active of %u", round, count_active(&d, true),
                     count_admitted(&d, true));
        drv_forget(&d, v);
        drv_admit(&d, v);
    }
    assert_true(d.ctx->nr_activate > 50);
    assert_true(d.ctx->nr_deactivate > 50);
    assert_true(count_active(&d, true) > 0);
    drv_free(&d);
}

/* How many of 50 victims are anonymous, out of 100 anon + 100 file pages
 * that nobody uses, at this swappiness. */
static unsigned anon_victims(int swappiness)
{
    struct drv d = drv_new("linux", 200, 1);
    unsigned anon = 0;

    d.ctx->swappiness = swappiness;
    for (uint32_t f = 0; f < 200; f++) {
        d.ctx->anon[f] = f < 100;
        drv_admit(&d, f);
        d.ctx->accessed[f] = false;
    }
    for (int i = 0; i < 50; i++)
        anon += drv_evict(&d) < 100;
    drv_free(&d);
    return anon;
}

static void test_linux_swappiness(void **state)
{
    (void)state;
    assert_int_equal(anon_victims(0), 0);
    assert_int_equal(anon_victims(200), 50);
    /* equal sizes: anon share = swappiness / 200 */
    unsigned at100 = anon_victims(100), at60 = anon_victims(60), at150 = anon_victims(150);

    if (at100 < 23 || at100 > 27)
        fail_msg("swappiness 100: %u anon victims of 50, want ~25", at100);
    if (at60 < 13 || at60 > 17)
        fail_msg("swappiness 60: %u anon victims of 50, want ~15", at60);
    if (at150 < 35 || at150 > 40)
        fail_msg("swappiness 150: %u anon victims of 50, want ~37", at150);
}

/* Anonymous pages that cannot go (no swap) leave file pages to reclaim,
 * whatever the swappiness, without being scanned (one probe per victim);
 * only then is memory exhausted. */
static void test_linux_anon_pinned(void **state)
{
    struct drv d = drv_new("linux", 20, 1);
    uint32_t v = NIL;

    (void)state;
    d.ctx->swappiness = 200;
    for (uint32_t f = 0; f < 20; f++) {
        d.ctx->anon[f] = f % 2 == 0;
        d.ctx->pinned[f] = f % 2 == 0;
        drv_admit(&d, f);
    }
    for (int i = 0; i < 10; i++)
        assert_true(drv_evict(&d) % 2 == 1);
    if (d.ctx->nr_anon_queries > 10)
        fail_msg("%" PRIu64 " queries about anonymous pages for 10 file victims",
                 d.ctx->nr_anon_queries);
    assert_int_equal(drv_select(&d, &v), VMSIM_EOOM);
    d.ctx->pinned[8] = false; /* swap space appears for one */
    assert_int_equal(drv_select(&d, &v), 0);
    assert_int_equal(v, 8);
    drv_free(&d);
}

int main(void)
{
#define PER_POLICY(fn)                                                                   \
    cmocka_unit_test_prestate(fn, (void *)"fifo"),                                       \
        cmocka_unit_test_prestate(fn, (void *)"lru"),                                    \
        cmocka_unit_test_prestate(fn, (void *)"clock"),                                  \
        cmocka_unit_test_prestate(fn, (void *)"linux"),                                  \
        cmocka_unit_test_prestate(fn, (void *)"opt"),                                    \
        cmocka_unit_test_prestate(fn, (void *)"random")
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        PER_POLICY(test_params),
        PER_POLICY(test_create_enomem),
        PER_POLICY(test_empty_and_pinned),
        PER_POLICY(test_conformance_fuzz),
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_zipf_vs_refsim),
        cmocka_unit_test(test_opt_is_a_lower_bound),
        cmocka_unit_test(test_fifo_ignores_use),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_clock_hand),
        cmocka_unit_test(test_clock_pinned),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_opt_heap),
        cmocka_unit_test(test_opt_ties),
        cmocka_unit_test(test_opt_stale_top),
        cmocka_unit_test(test_opt_against_scan),
        cmocka_unit_test(test_random_uniform),
        cmocka_unit_test(test_random_deterministic),
        cmocka_unit_test(test_linux_unreferenced_first),
        cmocka_unit_test(test_linux_activate),
        cmocka_unit_test(test_linux_dirty_file),
        cmocka_unit_test(test_linux_core_active),
        cmocka_unit_test(test_linux_balance_lists),
        cmocka_unit_test(test_linux_swappiness),
        cmocka_unit_test(test_linux_anon_pinned),
    };
#undef PER_POLICY
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
