/*
 * test_tlb.c -- the simulated TLBs driven directly: reach, set conflicts
 * and LRU, page sizes, ITLB vs dTLB, flushes, ASIDs with and without
 * PCID, and the counters on scripted sequences.
 *
 * The TLB caches pointers to leaf entries without reading them, so the
 * "page tables" here are a plain array of pte_t: page i of a test maps to
 * &fx->pte[i], and a hit must return exactly that pointer. vmsim__tlb_probe
 * tells where a translation sits (1: the access type's L1, 2: only the
 * L2, 0: nowhere) without disturbing anything.
 *
 * The default geometry (vmsim_config_init) is the one the expectations
 * are derived from: L1 dTLB 64 x 4K (16 sets of 4), 32 x 2M (8 sets), 4 x 1G
 * (fully associative), ITLB 64 x 4K, L2 1536 (384 sets of 4: not a power
 * of two), PCID on.
 */
#include "test_util.h"

#include "internal.h"
#include "mm/tlb.h"

#define NR_PTES 2048
/* 1 GiB aligned, so its 4K, 2M and 1G page numbers are multiples of
 * every set count used here (16, 8, 12, 384). */
#define BASE ((vmsim_vaddr_t)0x7f0000000000ull)
#define PG   ((vmsim_vaddr_t)4096)

struct fx {
    vmsim_t *sim;
    struct vmsim__tlb *tlb;
    pte_t pte[NR_PTES];
};

static int fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    if (fx == NULL)
        return -1;
    fx->sim = test_sim_new(16 * MiB, VMSIM_PROFILE_LINUX);
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;

    vmsim__tlb_destroy(fx->sim, fx->tlb);
    test_sim_free(fx->sim);
    free(fx);
    return 0;
}

static vmsim_tlb_config_t default_cfg(void)
{
    vmsim_config_t cfg;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    return cfg.tlb;
}

/* The fixture's TLB, built from cfg (NULL: the defaults). */
static struct vmsim__tlb *tlb_new(struct fx *fx, const vmsim_tlb_config_t *cfg)
{
    vmsim_tlb_config_t c = cfg != NULL ? *cfg : default_cfg();

    assert_null(fx->tlb);
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &fx->tlb), 0);
    assert_non_null(fx->tlb);
    return fx->tlb;
}

static vmsim_tlb_stats_t stats(const struct vmsim__tlb *tlb)
{
    vmsim_tlb_stats_t s;

    memset(&s, 0xa5, sizeof(s));
    vmsim__tlb_stats(tlb, &s);
    return s;
}

static void assert_stats(const struct vmsim__tlb *tlb, uint64_t hits, uint64_t misses,
                         uint64_t walks, uint64_t walk_refs, uint64_t flushes)
{
    vmsim_tlb_stats_t s = stats(tlb);

    assert_int_equal(s.hits, hits);
    assert_int_equal(s.misses, misses);
    assert_int_equal(s.walks, walks);
    assert_int_equal(s.walk_refs, walk_refs);
    assert_int_equal(s.flushes, flushes);
}

/* What the MMU does for one 4K access of page i at BASE: look up, and on a
 * miss "walk" and fill. Returns whether it hit; a hit must give page i's
 * entry. */
static bool access_page(struct fx *fx, uint32_t asid, uint64_t i, vmsim_access_kind kind)
{
    vmsim_vaddr_t va = BASE + i * PG + 8 * (i % 512);
    pte_t *e = vmsim__tlb_lookup(fx->tlb, asid, va, kind);

    assert_true(i < NR_PTES);
    if (e != NULL) {
        assert_ptr_equal(e, &fx->pte[i]);
        return true;
    }
    vmsim__tlb_fill(fx->tlb, asid, va, 0, &fx->pte[i], kind);
    return false;
}

/* One pass over pages [0, n); returns the hits. */
static uint64_t pass(struct fx *fx, uint64_t n)
{
    uint64_t hits = 0;

    for (uint64_t i = 0; i < n; i++)
        hits += access_page(fx, 1, i, VMSIM_READ);
    return hits;
}

static int probe(struct fx *fx, uint32_t asid, vmsim_vaddr_t va, vmsim_access_kind kind)
{
    return vmsim__tlb_probe(fx->tlb, asid, va, kind);
}

/* ---- construction -------------------------------------------------------- */

static int nr_calloc, nr_free;

static void *counting_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    nr_calloc++;
    return calloc(n, size);
}

static void counting_free(void *ctx, void *p)
{
    (void)ctx;
    nr_free++;
    free(p);
}

static void *failing_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    (void)n;
    (void)size;
    return NULL;
}

static void test_create_validates(void **state)
{
    struct fx *fx = *state;
    struct vmsim__tlb *sentinel = (struct vmsim__tlb *)&fx->pte[0];
    struct vmsim__tlb *t = sentinel;
    vmsim_tlb_config_t good = default_cfg(), c;

    c = good;
    c.enabled = false;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.ways = 0;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.l1_4k = 0;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.l1_2m = 0;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.l2 = 0;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.l2 = 1537; /* not a multiple of 4 ways */
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    c = good;
    c.l1_2m = 30;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), VMSIM_EINVAL);
    assert_int_equal(vmsim__tlb_create(fx->sim, NULL, &t), VMSIM_EINVAL);
    assert_ptr_equal(t, sentinel); /* untouched on failure */

    /* the 1G TLB is fully associative: any size, 0 = none */
    c = good;
    c.l1_1g = 3;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), 0);
    assert_ptr_not_equal(t, sentinel);
    vmsim__tlb_destroy(fx->sim, t);
    c.l1_1g = 0;
    t = NULL;
    assert_int_equal(vmsim__tlb_create(fx->sim, &c, &t), 0);
    assert_non_null(t);
    vmsim__tlb_destroy(fx->sim, t);
    vmsim__tlb_destroy(fx->sim, NULL);

    /* a fresh TLB is empty and counts nothing */
    tlb_new(fx, NULL);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 0);
    assert_stats(fx->tlb, 0, 0, 0, 0, 0);
}

static void test_create_uses_instance_allocator(void **state)
{
    struct vmsim fake;
    struct vmsim__tlb *t = NULL;
    vmsim_tlb_config_t c = default_cfg();

    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.cfg.alloc.calloc = failing_calloc;
    assert_int_equal(vmsim__tlb_create(&fake, &c, &t), VMSIM_ENOMEM);
    assert_null(t);

    nr_calloc = nr_free = 0;
    fake.cfg.alloc.calloc = counting_calloc;
    fake.cfg.alloc.free = counting_free;
    assert_int_equal(vmsim__tlb_create(&fake, &c, &t), 0);
    assert_int_equal(nr_calloc, 1);
    vmsim__tlb_destroy(&fake, t);
    assert_int_equal(nr_free, nr_calloc);
}

/* ---- reach, sets and LRU -------------------------------------------------- */

static void test_l1_reach(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    /* 64 pages = the L1's 256 KiB reach, 4 pages in each of its 16 sets:
     * the first pass walks each once (4 references a walk), the second
     * hits every page in the L1. */
    assert_int_equal(pass(fx, 64), 0);
    assert_stats(fx->tlb, 0, 64, 64, 256, 0);
    for (uint64_t i = 0; i < 64; i++)
        assert_int_equal(probe(fx, 1, BASE + i * PG, VMSIM_READ), 1);
    assert_int_equal(pass(fx, 64), 64);
    assert_stats(fx->tlb, 64, 64, 64, 256, 0);
}

static void test_l1_overflow_hits_l2(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    /* 65 pages: page 0's L1 set gets pages 0, 16, 32, 48, 64, one more
     * than its 4 ways. Cycling over 5 pages, LRU always evicts the one
     * needed next, so those 5 miss the L1 on every pass but hit the L2
     * (which holds all 65); the other 60 pages stay in the L1. */
    assert_int_equal(pass(fx, 65), 0);
    for (uint64_t i = 0; i < 65; i++) {
        assert_int_equal(probe(fx, 1, BASE + i * PG, VMSIM_READ), i % 16 == 0 ? 2 : 1);
        assert_true(access_page(fx, 1, i, VMSIM_READ));
    }
    /* pass 1: 65 misses and walks; pass 2: 65 hits, no walk */
    assert_stats(fx->tlb, 65, 65, 65, 260, 0);
}

static void test_l2_reach(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    /* 1536 pages fill the L2 exactly (4 in each of its 384 sets); the L1
     * thrashes (96 pages per 4-way set), so pass 2 hits only in the L2. */
    assert_int_equal(pass(fx, 1536), 0);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 2);
    assert_int_equal(pass(fx, 1536), 1536);
    assert_stats(fx->tlb, 1536, 1536, 1536, 6144, 0);
}

static void test_l2_overflow(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    /* 1537 pages: page 0's L2 set (384 sets) gets pages 0, 384, 768, 1152
     * and 1536, one too many; those 5 miss both levels on every pass, the
     * other 1532 hit the L2. */
    assert_int_equal(pass(fx, 1537), 0);
    for (uint64_t i = 0; i < 1537; i++) {
        bool conflict = i % 384 == 0;

        assert_int_equal(probe(fx, 1, BASE + i * PG, VMSIM_READ), conflict ? 0 : 2);
        assert_int_equal(access_page(fx, 1, i, VMSIM_READ), !conflict);
    }
    assert_stats(fx->tlb, 1532, 1537 + 5, 1537 + 5, 4 * (1537 + 5), 0);
}

static void test_beyond_both_levels_misses(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    /* 1920 = 5 * 384 pages (> 1536 + 64): every L2 set cycles 5 pages and
     * every L1 set 120, so a second pass misses everything. */
    assert_int_equal(pass(fx, 1920), 0);
    assert_int_equal(pass(fx, 1920), 0);
    assert_stats(fx->tlb, 0, 3840, 3840, 4 * 3840, 0);
}

static void test_lru_within_set(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t p[5];

    tlb_new(fx, NULL);
    /* p[0..4] share L1 set 0 (16 pages apart) */
    for (int i = 0; i < 5; i++)
        p[i] = BASE + (uint64_t)i * 16 * PG;
    for (int i = 0; i < 4; i++)
        vmsim__tlb_fill(fx->tlb, 1, p[i], 0, &fx->pte[i], VMSIM_READ);
    /* order, most recent first: p3 p2 p1 p0. Using p0 (twice: the second
     * use finds it as its set's MRU entry) makes p1 the LRU. */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[0], VMSIM_READ), &fx->pte[0]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[0] + 64, VMSIM_READ), &fx->pte[0]);
    vmsim__tlb_fill(fx->tlb, 1, p[4], 0, &fx->pte[4], VMSIM_READ);
    assert_int_equal(probe(fx, 1, p[1], VMSIM_READ), 2);
    assert_int_equal(probe(fx, 1, p[0], VMSIM_READ), 1);
    assert_int_equal(probe(fx, 1, p[2], VMSIM_READ), 1);
    assert_int_equal(probe(fx, 1, p[3], VMSIM_READ), 1);
    assert_int_equal(probe(fx, 1, p[4], VMSIM_READ), 1);
    /* now p2 is the LRU: the next fill evicts it */
    vmsim__tlb_fill(fx->tlb, 1, p[1], 0, &fx->pte[1], VMSIM_READ);
    assert_int_equal(probe(fx, 1, p[2], VMSIM_READ), 2);
    assert_int_equal(probe(fx, 1, p[1], VMSIM_READ), 1);
}

static void test_lru_exact_with_mru_hits(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t p[5];

    tlb_new(fx, NULL);
    for (int i = 0; i < 5; i++)
        p[i] = BASE + (uint64_t)i * 16 * PG; /* one L1 set */
    for (int i = 0; i < 4; i++)
        vmsim__tlb_fill(fx->tlb, 1, p[i], 0, &fx->pte[i], VMSIM_READ);
    /* use p0, p3, p1, p2 in that order (p3 was the newest before p0 was
     * used, so its use must count again): p0 is then the LRU, not p3 */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[0], VMSIM_READ), &fx->pte[0]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[3], VMSIM_READ), &fx->pte[3]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[1], VMSIM_READ), &fx->pte[1]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[2], VMSIM_READ), &fx->pte[2]);
    vmsim__tlb_fill(fx->tlb, 1, p[4], 0, &fx->pte[4], VMSIM_READ);
    assert_int_equal(probe(fx, 1, p[0], VMSIM_READ), 2);
    for (int i = 1; i < 5; i++)
        assert_int_equal(probe(fx, 1, p[i], VMSIM_READ), 1);
}

static void test_fill_replaces_same_page(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t p[4];

    tlb_new(fx, NULL);
    for (int i = 0; i < 4; i++)
        p[i] = BASE + (uint64_t)i * 16 * PG; /* one L1 set */
    vmsim__tlb_fill(fx->tlb, 1, p[0], 0, &fx->pte[0], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, p[1], 0, &fx->pte[1], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, p[2], 0, &fx->pte[2], VMSIM_READ);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[0], VMSIM_READ), &fx->pte[0]);
    /* a re-walk of p0 (say after a fault changed its entry) replaces it in
     * place: the set is p0 p2 p1, with one way free */
    vmsim__tlb_fill(fx->tlb, 1, p[0], 0, &fx->pte[100], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, p[3], 0, &fx->pte[3], VMSIM_READ);
    /* no duplicate of p0 took the free way, so p3 evicted nothing */
    for (int i = 0; i < 4; i++)
        assert_int_equal(probe(fx, 1, p[i], VMSIM_READ), 1);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[0], VMSIM_READ), &fx->pte[100]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, p[1], VMSIM_READ), &fx->pte[1]);
}

static void test_non_power_of_two_l1(void **state)
{
    struct fx *fx = *state;
    vmsim_tlb_config_t c = default_cfg();

    c.l1_4k = 48; /* 12 sets */
    c.l2 = 4;     /* one set: the L2 cannot rescue the L1 */
    tlb_new(fx, &c);
    assert_int_equal(pass(fx, 48), 0);
    assert_int_equal(pass(fx, 48), 48);
    /* 49 pages: page 0's set (pages 0, 12, 24, 36, 48) overflows; the one
     * L2 set holds only the last 4 pages filled, never the one needed */
    vmsim__tlb_destroy(fx->sim, fx->tlb);
    fx->tlb = NULL;
    tlb_new(fx, &c);
    assert_int_equal(pass(fx, 49), 0);
    assert_int_equal(pass(fx, 49), 44);
}

/* ---- page sizes -------------------------------------------------------- */

static void test_2m_covers_512_pages(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t h = BASE + 2 * MiB;

    tlb_new(fx, NULL);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, h + 4 * PG, VMSIM_WRITE));
    vmsim__tlb_fill(fx->tlb, 1, h + 4 * PG, 1, &fx->pte[7], VMSIM_WRITE);
    for (uint64_t i = 0; i < 512; i++)
        assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, h + i * PG + 5, VMSIM_READ),
                         &fx->pte[7]);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, h + 2 * MiB, VMSIM_READ));
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, h - 1, VMSIM_READ));
    /* 1 + 2 misses; 512 hits; one walk of 3 references */
    assert_stats(fx->tlb, 512, 3, 1, 3, 0);

    /* 33 huge pages in the 8-set 2M L1: h's set gets 5 (8 apart), so h
     * drops out of the L1 but the L2 keeps it */
    for (uint64_t i = 1; i <= 32; i++)
        vmsim__tlb_fill(fx->tlb, 1, h + i * 2 * MiB, 1, &fx->pte[i], VMSIM_READ);
    assert_int_equal(probe(fx, 1, h, VMSIM_READ), 2);
    assert_int_equal(probe(fx, 1, h + 8 * 2 * MiB, VMSIM_READ), 1);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, h + 1000, VMSIM_READ), &fx->pte[7]);
    assert_int_equal(probe(fx, 1, h, VMSIM_READ), 1); /* refilled */
}

static void test_1g_only_in_l1(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    vmsim__tlb_fill(fx->tlb, 1, BASE, 2, &fx->pte[0], VMSIM_READ);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + 123 * MiB, VMSIM_READ),
                     &fx->pte[0]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB - 1, VMSIM_WRITE),
                     &fx->pte[0]);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB, VMSIM_READ));
    /* a 1 GiB walk makes 2 references */
    assert_stats(fx->tlb, 2, 1, 1, 2, 0);
    /* found again after another fill made a 4K entry the newest */
    vmsim__tlb_fill(fx->tlb, 1, BASE + GiB, 0, &fx->pte[9], VMSIM_READ);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + 5, VMSIM_READ), &fx->pte[0]);
    /* 4 more 1G pages in the 4-entry 1G TLB: the first (LRU) goes, and
     * with no copy in the L2 it is gone entirely */
    for (uint64_t i = 1; i <= 4; i++)
        vmsim__tlb_fill(fx->tlb, 1, BASE + i * GiB, 2, &fx->pte[i], VMSIM_READ);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 0);
    for (uint64_t i = 1; i <= 4; i++) {
        assert_int_equal(probe(fx, 1, BASE + i * GiB + 7 * MiB, VMSIM_READ), 1);
        assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + i * GiB + 7 * MiB, VMSIM_READ),
                         &fx->pte[i]);
    }
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE, VMSIM_READ));
}

static void test_1g_takes_no_l2_way(void **state)
{
    struct fx *fx = *state;
    uint64_t v4k = BASE >> 12;

    tlb_new(fx, NULL);
    /* BASE's 4K and 1G page numbers fall in the same L2 set (of 384) */
    assert_int_equal(v4k % 384, (BASE >> 30) % 384);
    /* fill that L2 set with 4 pages 384 apart (all in L1 set 0 too), then
     * push them out of the L1 with 4 pages 16 apart (L1 set 0, other L2
     * sets): they are now in the L2 only */
    for (uint64_t k = 0; k < 4; k++)
        vmsim__tlb_fill(fx->tlb, 1, BASE + k * 384 * PG, 0, &fx->pte[k], VMSIM_READ);
    for (uint64_t j = 1; j <= 4; j++)
        vmsim__tlb_fill(fx->tlb, 1, BASE + j * 16 * PG, 0, &fx->pte[10 + j], VMSIM_READ);
    for (uint64_t k = 0; k < 4; k++)
        assert_int_equal(probe(fx, 1, BASE + k * 384 * PG, VMSIM_READ), 2);
    /* a 1 GiB page whose number maps to that set evicts none of them */
    vmsim__tlb_fill(fx->tlb, 2, BASE, 2, &fx->pte[20], VMSIM_READ);
    for (uint64_t k = 0; k < 4; k++)
        assert_int_equal(probe(fx, 1, BASE + k * 384 * PG, VMSIM_READ), 2);
}

static void test_no_1g_tlb_uses_2m_pieces(void **state)
{
    struct fx *fx = *state;
    vmsim_tlb_config_t c = default_cfg();

    c.l1_1g = 0;
    tlb_new(fx, &c);
    vmsim__tlb_fill(fx->tlb, 1, BASE + 3 * MiB, 2, &fx->pte[0], VMSIM_READ);
    /* the 2 MiB piece [2 MiB, 4 MiB) of the 1 GiB page is cached */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + 2 * MiB, VMSIM_READ), &fx->pte[0]);
    assert_int_equal(probe(fx, 1, BASE + 4 * MiB - 1, VMSIM_READ), 1);
    assert_int_equal(probe(fx, 1, BASE + 4 * MiB, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 0);
    /* INVLPG anywhere in the 1 GiB page drops every piece of it */
    vmsim__tlb_flush_range(fx->tlb, 1, BASE + 700 * MiB, BASE + 700 * MiB + PG);
    assert_int_equal(probe(fx, 1, BASE + 2 * MiB, VMSIM_READ), 0);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + 2 * MiB, VMSIM_READ));
}

/* ---- ITLB vs dTLB -------------------------------------------------------- */

static void test_itlb_and_dtlb_are_separate(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t code = BASE, data = BASE + 1 * MiB;

    tlb_new(fx, NULL);
    vmsim__tlb_fill(fx->tlb, 1, code, 0, &fx->pte[0], VMSIM_EXEC);
    vmsim__tlb_fill(fx->tlb, 1, data, 0, &fx->pte[1], VMSIM_WRITE);
    /* each is in its own L1, and both in the unified L2 */
    assert_int_equal(probe(fx, 1, code, VMSIM_EXEC), 1);
    assert_int_equal(probe(fx, 1, code, VMSIM_READ), 2);
    assert_int_equal(probe(fx, 1, data, VMSIM_READ), 1);
    assert_int_equal(probe(fx, 1, data, VMSIM_EXEC), 2);
    /* a load from the code page hits the L2 and is refilled into the dTLB */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, code + 8, VMSIM_READ), &fx->pte[0]);
    assert_int_equal(probe(fx, 1, code, VMSIM_READ), 1);

    /* a 1 GiB page is never in the L2: code there is invisible to loads */
    vmsim__tlb_fill(fx->tlb, 1, BASE + GiB, 2, &fx->pte[2], VMSIM_EXEC);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB + 16, VMSIM_EXEC), &fx->pte[2]);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB + 16, VMSIM_READ));
    /* the ITLB holds the 4 KiB piece of it that was fetched */
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB + PG, VMSIM_EXEC));

    /* a 2 MiB code page: the ITLB holds a 4 KiB piece, the L2 all of it */
    vmsim__tlb_fill(fx->tlb, 1, BASE + 4 * MiB, 1, &fx->pte[3], VMSIM_EXEC);
    assert_int_equal(probe(fx, 1, BASE + 4 * MiB + PG, VMSIM_EXEC), 2);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + 4 * MiB + PG, VMSIM_EXEC),
                     &fx->pte[3]);
    assert_int_equal(probe(fx, 1, BASE + 4 * MiB + PG, VMSIM_EXEC), 1);
    /* fills 3 (4 + 2 + 3 refs); hits: code+8, 1G+16 (exec), 4M+PG;
     * misses: 1G+16 (read), 1G+PG (exec) */
    assert_stats(fx->tlb, 3, 2, 4, 4 + 4 + 2 + 3, 0);
}

/* ---- flushes ------------------------------------------------------------ */

static void test_flush_one_page(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    assert_int_equal(pass(fx, 10), 0);
    vmsim__tlb_fill(fx->tlb, 2, BASE + 3 * PG, 0, &fx->pte[500], VMSIM_READ);
    /* make page 3 of asid 1 its set's MRU entry */
    assert_true(access_page(fx, 1, 3, VMSIM_READ));
    vmsim__tlb_flush_range(fx->tlb, 1, BASE + 3 * PG, BASE + 4 * PG);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(probe(fx, 1, BASE + i * PG, VMSIM_READ), i == 3 ? 0 : 1);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + 3 * PG, VMSIM_READ));
    /* another address space's entry for the same page stays */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 2, BASE + 3 * PG, VMSIM_READ), &fx->pte[500]);
    /* 10 + 1 misses, 10 walks, 1 flush, 1 + 1 hits */
    assert_stats(fx->tlb, 2, 11, 11, 44, 1);
    /* an empty range does nothing */
    vmsim__tlb_flush_range(fx->tlb, 1, BASE, BASE);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 1);
    assert_int_equal(stats(fx->tlb).flushes, 1);
}

static void test_flush_huge_pages(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t h = BASE + 8 * MiB;

    tlb_new(fx, NULL);
    vmsim__tlb_fill(fx->tlb, 1, h, 1, &fx->pte[0], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, h + 2 * MiB, 1, &fx->pte[1], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, h + 4 * MiB + 12 * PG, 1, &fx->pte[2], VMSIM_EXEC);
    /* one 4 KiB page inside a 2 MiB page drops the whole 2 MiB entry, in
     * the L1 and the L2; its neighbour stays */
    vmsim__tlb_flush_range(fx->tlb, 1, h + 77 * PG, h + 78 * PG);
    assert_int_equal(probe(fx, 1, h, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 1, h + 2 * MiB, VMSIM_READ), 1);
    /* the ITLB's 4 KiB piece of a 2 MiB code page goes with any page of it */
    assert_int_equal(probe(fx, 1, h + 4 * MiB + 12 * PG, VMSIM_EXEC), 1);
    /* (a page before the piece, in another ITLB set: 3 vs 12 mod 16) */
    vmsim__tlb_flush_range(fx->tlb, 1, h + 4 * MiB + 3 * PG, h + 4 * MiB + 4 * PG);
    assert_int_equal(probe(fx, 1, h + 4 * MiB + 12 * PG, VMSIM_EXEC), 0);
    assert_int_equal(probe(fx, 1, h + 2 * MiB, VMSIM_READ), 1);
    assert_int_equal(stats(fx->tlb).flushes, 2);
}

static void test_flush_ceiling(void **state)
{
    struct fx *fx = *state;
    vmsim_vaddr_t far = BASE + 100 * GiB;

    tlb_new(fx, NULL);
    assert_int_equal(pass(fx, 40), 0);
    vmsim__tlb_fill(fx->tlb, 1, far, 0, &fx->pte[1000], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 2, BASE, 0, &fx->pte[1001], VMSIM_READ);
    /* 33 pages (the ceiling) go one by one */
    vmsim__tlb_flush_range(fx->tlb, 1, BASE, BASE + 33 * PG);
    for (uint64_t i = 0; i < 40; i++)
        assert_int_equal(probe(fx, 1, BASE + i * PG, VMSIM_READ) != 0, i >= 33);
    assert_int_equal(probe(fx, 1, far, VMSIM_READ), 1);
    /* a range touching 34 pages (unaligned ends) flushes all of asid 1,
     * even pages far outside it, and counts once */
    vmsim__tlb_flush_range(fx->tlb, 1, BASE + 200 * PG + 1, BASE + 233 * PG + 1);
    assert_int_equal(probe(fx, 1, far, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 1, BASE + 39 * PG, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 2, BASE, VMSIM_READ), 1);
    assert_int_equal(stats(fx->tlb).flushes, 2);
}

static void test_flush_asid_and_all(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    vmsim__tlb_fill(fx->tlb, 1, BASE, 0, &fx->pte[0], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, BASE + GiB, 2, &fx->pte[1], VMSIM_READ);
    vmsim__tlb_fill(fx->tlb, 1, BASE + 2 * MiB, 0, &fx->pte[2], VMSIM_EXEC);
    vmsim__tlb_fill(fx->tlb, 2, BASE, 0, &fx->pte[3], VMSIM_READ);
    vmsim__tlb_flush_asid(fx->tlb, 1);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 1, BASE + GiB, VMSIM_READ), 0);
    assert_int_equal(probe(fx, 1, BASE + 2 * MiB, VMSIM_EXEC), 0);
    assert_null(vmsim__tlb_lookup(fx->tlb, 1, BASE + 2 * MiB, VMSIM_EXEC));
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 2, BASE, VMSIM_READ), &fx->pte[3]);
    vmsim__tlb_flush_all(fx->tlb);
    assert_int_equal(probe(fx, 2, BASE, VMSIM_READ), 0);
    assert_null(vmsim__tlb_lookup(fx->tlb, 2, BASE, VMSIM_READ));
    assert_int_equal(stats(fx->tlb).flushes, 2);
}

/* ---- address spaces ------------------------------------------------------ */

static void test_pcid_isolates_asids(void **state)
{
    struct fx *fx = *state;

    tlb_new(fx, NULL);
    vmsim__tlb_switch(fx->tlb, 1);
    vmsim__tlb_fill(fx->tlb, 1, BASE, 0, &fx->pte[1], VMSIM_READ);
    /* same va, other asid: asid 1's MRU entry must not answer for it */
    assert_null(vmsim__tlb_lookup(fx->tlb, 2, BASE, VMSIM_READ));
    vmsim__tlb_switch(fx->tlb, 2);
    vmsim__tlb_fill(fx->tlb, 2, BASE, 0, &fx->pte[2], VMSIM_READ);
    vmsim__tlb_switch(fx->tlb, 1);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE, VMSIM_READ), &fx->pte[1]);
    vmsim__tlb_switch(fx->tlb, 2);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 2, BASE, VMSIM_READ), &fx->pte[2]);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + 5, VMSIM_READ), &fx->pte[1]);
    /* with PCID a switch flushes nothing */
    assert_stats(fx->tlb, 3, 1, 2, 8, 0);
    /* the same for huge pages: asid 1's 2 MiB entry is no answer for 2 */
    vmsim__tlb_fill(fx->tlb, 1, BASE + GiB, 1, &fx->pte[3], VMSIM_READ);
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE + GiB + 8, VMSIM_READ), &fx->pte[3]);
    assert_null(vmsim__tlb_lookup(fx->tlb, 2, BASE + GiB + 8, VMSIM_READ));
}

static void test_no_pcid_switch_flushes(void **state)
{
    struct fx *fx = *state;
    vmsim_tlb_config_t c = default_cfg();

    c.pcid = false;
    tlb_new(fx, &c);
    vmsim__tlb_fill(fx->tlb, 1, BASE, 0, &fx->pte[1], VMSIM_READ);
    vmsim__tlb_switch(fx->tlb, 1); /* the first switch: from nothing */
    vmsim__tlb_switch(fx->tlb, 1); /* to itself */
    assert_ptr_equal(vmsim__tlb_lookup(fx->tlb, 1, BASE, VMSIM_READ), &fx->pte[1]);
    assert_int_equal(stats(fx->tlb).flushes, 0);
    vmsim__tlb_switch(fx->tlb, 2);
    assert_int_equal(stats(fx->tlb).flushes, 1);
    assert_int_equal(probe(fx, 1, BASE, VMSIM_READ), 0);
    vmsim__tlb_fill(fx->tlb, 2, BASE, 0, &fx->pte[2], VMSIM_READ);
    vmsim__tlb_switch(fx->tlb, 1);
    assert_int_equal(probe(fx, 2, BASE, VMSIM_READ), 0);
    /* asid 2's page, its set's MRU entry, went too */
    assert_null(vmsim__tlb_lookup(fx->tlb, 2, BASE, VMSIM_READ));
    assert_int_equal(stats(fx->tlb).flushes, 2);
}

/* ---- counters ------------------------------------------------------------- */

static void test_stats_scripted(void **state)
{
    struct fx *fx = *state;
    struct vmsim__tlb *tlb = tlb_new(fx, NULL);
    vmsim_vaddr_t a = BASE + 5 * PG, h = BASE + 2 * GiB, g = BASE + 4 * GiB;

    assert_null(vmsim__tlb_lookup(tlb, 1, a, VMSIM_READ));              /* miss 1 */
    vmsim__tlb_fill(tlb, 1, a, 0, &fx->pte[0], VMSIM_READ);              /* walk 1: 4 */
    assert_ptr_equal(vmsim__tlb_lookup(tlb, 1, a + 8, VMSIM_READ), &fx->pte[0]); /* hit 1 */
    assert_ptr_equal(vmsim__tlb_lookup(tlb, 1, a + 4095, VMSIM_WRITE), &fx->pte[0]); /* 2 */
    assert_null(vmsim__tlb_lookup(tlb, 1, h, VMSIM_READ));              /* miss 2 */
    vmsim__tlb_fill(tlb, 1, h, 1, &fx->pte[1], VMSIM_READ);              /* walk 2: 3 */
    assert_ptr_equal(vmsim__tlb_lookup(tlb, 1, h + MiB + 5, VMSIM_READ), &fx->pte[1]); /* 3 */
    assert_ptr_equal(vmsim__tlb_lookup(tlb, 1, a, VMSIM_READ), &fx->pte[0]); /* hit 4 */
    assert_null(vmsim__tlb_lookup(tlb, 1, g, VMSIM_EXEC));              /* miss 3 */
    vmsim__tlb_fill(tlb, 1, g, 2, &fx->pte[2], VMSIM_EXEC);              /* walk 3: 2 */
    assert_ptr_equal(vmsim__tlb_lookup(tlb, 1, g + 100, VMSIM_EXEC), &fx->pte[2]); /* 5 */
    assert_null(vmsim__tlb_lookup(tlb, 1, g + PG, VMSIM_EXEC));         /* miss 4 */
    vmsim__tlb_fill(tlb, 1, g + PG, 2, &fx->pte[2], VMSIM_EXEC);         /* walk 4: 2 */
    vmsim__tlb_flush_range(tlb, 1, a, a + PG);                           /* flush 1 */
    assert_null(vmsim__tlb_lookup(tlb, 1, a, VMSIM_READ));              /* miss 5 */
    vmsim__tlb_flush_asid(tlb, 1);                                       /* flush 2 */
    assert_null(vmsim__tlb_lookup(tlb, 1, h, VMSIM_READ));              /* miss 6 */
    vmsim__tlb_flush_all(tlb);                                           /* flush 3 */
    /* walk_refs = 4 + 3 + 2 + 2 */
    assert_stats(tlb, 5, 6, 4, 11, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
        T(test_create_validates),
        T(test_create_uses_instance_allocator),
        T(test_l1_reach),
        T(test_l1_overflow_hits_l2),
        T(test_l2_reach),
        T(test_l2_overflow),
        T(test_beyond_both_levels_misses),
        T(test_lru_within_set),
        T(test_lru_exact_with_mru_hits),
        T(test_fill_replaces_same_page),
        T(test_non_power_of_two_l1),
        T(test_2m_covers_512_pages),
        T(test_1g_only_in_l1),
        T(test_1g_takes_no_l2_way),
        T(test_no_1g_tlb_uses_2m_pieces),
        T(test_itlb_and_dtlb_are_separate),
        T(test_flush_one_page),
        T(test_flush_huge_pages),
        T(test_flush_ceiling),
        T(test_flush_asid_and_all),
        T(test_pcid_isolates_asids),
        T(test_no_pcid_switch_flushes),
        T(test_stats_scripted),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
