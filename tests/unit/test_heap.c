/*
 * test_heap.c -- the simulated libc heap (lib/mm/heap.c): where glibc's
 * malloc puts chunks, how it moves the break, which pages its header
 * writes touch (RSS, minor faults), mmapped chunks, calloc's clearing,
 * realloc, trimming, aborts on bad frees, ENOMEM, fork.
 *
 * Every figure is derived by hand from glibc's rules (malloc/malloc.c) as
 * docs/heap.md states them; x86_64: SIZE_SZ 8, MINSIZE 32, chunk size
 * nb = max(32, align16(request + 8)), user pointer = chunk + 16, and the
 * first chunk of the heap is glibc's tcache block, 0x290 bytes (a 0x280
 * struct + 16 bytes of header), zeroed. A spawned process's break starts
 * at START_BRK = 0x555555559000 (page-aligned), so the first malloc of a
 * process returns 0x5555555592a0, as in a real non-ASLR process.
 */
#include "test_util.h"

#include "internal.h"


#define P1        ((uint64_t)4096)
#define BASE      ((uint64_t)0x555555559000) /* START_BRK */
#define SIGABRT_  6

/* vmsim_check, then the heap's own records, for every live process. */
static void check_all(vmsim_t *sim)
{
    char why[256];
    vmsim_pid_t pids[16];
    size_t n = vmsim_pids(sim, pids, 16);

    test_check(sim);
    for (size_t i = 0; i < n && i < 16; i++) {
        struct vmsim__proc *p = vmsim__proc_find(sim, pids[i]);

        if (p != NULL && vmsim__heap_check(sim, p, why, sizeof(why)) != 0)
            fail_msg("heap check, pid %d: %s", (int)pids[i], why);
    }
}

static vmsim_vaddr_t xmalloc(vmsim_t *sim, vmsim_pid_t pid, uint64_t size)
{
    vmsim_vaddr_t p = 0;

    assert_int_equal(vmsim_heap_malloc(sim, pid, size, &p), 0);
    assert_true(p != 0);
    return p;
}

static void xfree(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t p)
{
    assert_int_equal(vmsim_heap_free(sim, pid, p), 0);
    assert_true(test_info(sim, pid).alive);
}

static vmsim_heap_stats_t hstats(vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_heap_stats_t s;

    assert_int_equal(vmsim_heap_stats(sim, pid, &s), 0);
    return s;
}

static uint64_t rss_pages(vmsim_t *sim, vmsim_pid_t pid)
{
    return test_info(sim, pid).vmrss / P1;
}

/* The VMA holding va, or a zeroed one. */
static vmsim_vma_info_t vma_at(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va)
{
    vmsim_vma_info_t v[64], none;
    size_t n = vmsim_maps(sim, pid, v, 64);

    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++)
        if (v[i].start <= va && va < v[i].end)
            return v[i];
    memset(&none, 0, sizeof(none));
    return none;
}

static size_t nr_vmas(vmsim_t *sim, vmsim_pid_t pid)
{
    return vmsim_maps(sim, pid, NULL, 0);
}

/*
 * malloc(100) in a fresh process. The tcache block comes first: nb 0x290,
 * and with no heap yet sysmalloc asks brk for
 * round_up(0x290 + M_TOP_PAD 0x20000 + MINSIZE 0x20, 4 KiB) = 0x21000
 * (132 KiB). Then malloc(100): nb = align16(108) = 0x70, carved from top at
 * BASE + 0x290, user pointer BASE + 0x2a0. Every write (top header, tcache
 * header and memset of [BASE+0x10, BASE+0x290), the chunk header, the new
 * top's header at BASE+0x308) lies in the first page: RSS 1 page, 1 fault.
 */
static void test_malloc_small(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_proc_info_t info;
    vmsim_heap_stats_t s;
    vmsim_vma_info_t v;
    vmsim_vaddr_t p;

    (void)state;
    s = hstats(sim, 1);
    assert_int_equal(s.nr_allocs + s.arena_size + s.requested, 0);
    info = test_info(sim, 1);
    assert_int_equal(info.start_brk, BASE);
    assert_int_equal(info.brk, BASE);

    p = xmalloc(sim, 1, 100);
    info = test_info(sim, 1);
    assert_int_equal(p, 0x5555555592a0);
    assert_true(p >= info.start_brk && p + 100 <= info.brk);
    assert_int_equal(info.brk, BASE + 132 * KiB);
    assert_int_equal(info.vmrss, P1);
    assert_int_equal(info.minflt, 1);
    assert_int_equal(info.last_errno, 0);
    v = vma_at(sim, 1, p);
    assert_int_equal(v.start, BASE);
    assert_int_equal(v.end, BASE + 132 * KiB);
    assert_string_equal(v.name, "[heap]");
    s = hstats(sim, 1);
    assert_int_equal(s.requested, 100);
    assert_int_equal(s.nr_allocs, 1);
    assert_int_equal(s.arena_size, 132 * KiB);
    assert_int_equal(s.arena_in_use, 0x290 + 0x70);
    assert_int_equal(s.mmapped, 0);
    assert_int_equal(s.nr_mmapped, 0);

    /* malloc(0) is a minimum chunk (32 bytes), right after */
    assert_int_equal(xmalloc(sim, 1, 0), p + 0x70);
    assert_int_equal(hstats(sim, 1).arena_in_use, 0x290 + 0x70 + 0x20);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * 1000 x malloc(4000): nb = align16(4008) = 4016, chunk i at
 * BASE + 0x290 + 4016 i. Only headers are written: the chunk's size field
 * and the new top's, 4016 bytes apart, so every page from BASE to the last
 * top header (BASE + 0x290 + 4016000 + 8 = BASE + 4016664, in page
 * 4016664 / 4096 = 980) holds one: 981 pages, although 3.8 MiB were
 * asked for. The break: the first 132 KiB, then every time top drops
 * below nb + MINSIZE = 4048 bytes, sysmalloc adds
 * round_up(4016 + 128 KiB + 32 - top, 4 KiB) = 132 KiB (chunks 33, 67,
 * ..., 975: 29 times); 30 x 132 KiB = 0x3de000.
 */
static void test_many_small(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_heap_stats_t s;

    (void)state;
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(xmalloc(sim, 1, 4000), BASE + 0x2a0 + 4016 * i);
    assert_int_equal(rss_pages(sim, 1), 981);
    assert_int_equal(test_info(sim, 1).minflt, 981);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x3de000);
    s = hstats(sim, 1);
    assert_int_equal(s.requested, 4000000);
    assert_int_equal(s.nr_allocs, 1000);
    assert_int_equal(s.arena_size, 0x3de000);
    assert_int_equal(s.arena_in_use, 0x290 + 4016000);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * malloc(1 MiB): nb = 1 MiB + 16 >= M_MMAP_THRESHOLD, so its own mapping of
 * round_up(nb + 8, 4 KiB) = 1 MiB + 4 KiB; only the header (mapping + 8)
 * is written: RSS + 1 page. free() reads the header and unmaps.
 * The threshold compares nb: malloc(128 KiB - 24) has nb = 128 KiB - 16 and
 * comes from the heap; malloc(128 KiB - 23) has nb = 128 KiB and is mmapped.
 */
static void test_mmap_chunk(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t small = xmalloc(sim, 1, 100), big, p;
    size_t vmas = nr_vmas(sim, 1);
    uint64_t rss = rss_pages(sim, 1), flt = test_info(sim, 1).minflt;
    vmsim_vma_info_t v;
    vmsim_heap_stats_t s;

    (void)state;
    big = xmalloc(sim, 1, MiB);
    v = vma_at(sim, 1, big);
    assert_int_equal(v.start, big - 16);
    assert_int_equal(v.end - v.start, MiB + 4 * KiB);
    assert_int_equal(v.flags & VMSIM_VMA_ANON, VMSIM_VMA_ANON);
    assert_int_equal(nr_vmas(sim, 1), vmas + 1);
    assert_int_equal(rss_pages(sim, 1), rss + 1);
    assert_int_equal(test_info(sim, 1).minflt, flt + 1);
    s = hstats(sim, 1);
    assert_int_equal(s.mmapped, MiB + 4 * KiB);
    assert_int_equal(s.nr_mmapped, 1);
    assert_int_equal(s.requested, 100 + MiB);
    assert_int_equal(s.arena_size, 132 * KiB); /* the heap did not move */
    check_all(sim);

    xfree(sim, 1, big);
    assert_int_equal(nr_vmas(sim, 1), vmas);
    assert_int_equal(vma_at(sim, 1, big).end, 0);
    assert_int_equal(rss_pages(sim, 1), rss);
    s = hstats(sim, 1);
    assert_int_equal(s.mmapped, 0);
    assert_int_equal(s.nr_mmapped, 0);
    assert_int_equal(s.nr_allocs, 1);
    check_all(sim);

    /* the threshold */
    p = xmalloc(sim, 1, 128 * KiB - 24);
    assert_true(p > small && p < test_info(sim, 1).brk);
    assert_int_equal(hstats(sim, 1).nr_mmapped, 0);
    p = xmalloc(sim, 1, 128 * KiB - 23);
    assert_int_equal(hstats(sim, 1).nr_mmapped, 1);
    assert_int_equal(vma_at(sim, 1, p).end - vma_at(sim, 1, p).start, 132 * KiB);
    check_all(sim);
    test_sim_free(sim);
}

/* calloc(1, 1 MiB) is a fresh mapping, zero already: nothing but the header
 * is written, exactly as malloc(1 MiB). */
static void test_calloc_mmap(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t p = 0;
    uint64_t rss;

    (void)state;
    xmalloc(sim, 1, 100);
    rss = rss_pages(sim, 1);
    assert_int_equal(vmsim_heap_calloc(sim, 1, 1, MiB, &p), 0);
    assert_int_equal(vma_at(sim, 1, p).end - vma_at(sim, 1, p).start, MiB + 4 * KiB);
    assert_int_equal(rss_pages(sim, 1), rss + 1);
    assert_int_equal(hstats(sim, 1).requested, 100 + MiB);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * calloc(1000, 100) served by a free chunk must clear it. A = malloc(100000)
 * (nb 100016 = 0x186b0, at BASE + 0x290, from the first 132 KiB), a guard
 * B = malloc(100) at BASE + 0x18940, free(A): A is a free chunk (too big
 * for the tcache, not next to top). So far only pages 0 and 24 (0x18940)
 * were touched. calloc(1000, 100) asks 100000 bytes: nb 100016, A fits
 * exactly; A is not the old top, so all csz - 8 = 100008 bytes from
 * BASE + 0x2a0 are written: pages 0..24, 25 pages. malloc would not have.
 */
static void test_calloc_reused(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = xmalloc(sim, 1, 100000), b = xmalloc(sim, 1, 100), c = 0;

    (void)state;
    assert_int_equal(a, BASE + 0x2a0);
    assert_int_equal(b, BASE + 0x18950);
    xfree(sim, 1, a);
    assert_int_equal(rss_pages(sim, 1), 2);
    assert_int_equal(hstats(sim, 1).arena_in_use, 0x290 + 0x70);
    check_all(sim);
    assert_int_equal(vmsim_heap_calloc(sim, 1, 1000, 100, &c), 0);
    assert_int_equal(c, a);
    assert_int_equal(rss_pages(sim, 1), 25);
    assert_int_equal(hstats(sim, 1).requested, 100100);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * calloc from freshly grown top clears only what was heap before the call.
 * A = malloc(100000) leaves top at BASE + 0x18940 with 0x21000 - 0x18940 =
 * 34496 bytes. calloc(1, 100000) needs nb 100016: brk grows by
 * round_up(100016 + 128 KiB + 32 - 34496, 4 KiB) = 200704 (49 pages); the
 * chunk starts at the old top, so only oldtopsize - 8 = 34488 bytes from
 * BASE + 0x18950 are cleared: up to BASE + 0x21008, pages 24..33. With the
 * new top's header (BASE + 0x18940 + 100016 + 8, page 48) and page 0:
 * 12 pages; a full clear would have made 26.
 */
static void test_calloc_fresh_top(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t c = 0;

    (void)state;
    xmalloc(sim, 1, 100000);
    assert_int_equal(rss_pages(sim, 1), 2);
    assert_int_equal(vmsim_heap_calloc(sim, 1, 1, 100000, &c), 0);
    assert_int_equal(c, BASE + 0x18950);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x21000 + 200704);
    assert_int_equal(rss_pages(sim, 1), 12);
    for (uint64_t pg = 24; pg <= 33; pg++) {
        vmsim_pte_info_t pte;

        assert_int_equal(vmsim_pte_lookup(sim, 1, BASE + pg * P1, &pte), 0);
        assert_true(pte.present);
    }
    check_all(sim);
    test_sim_free(sim);
}

/*
 * realloc. Shrink: malloc(1000) (nb 1008) then realloc to 100 (nb 112)
 * stays and frees the 896-byte tail, which goes to the tcache, so
 * malloc(888) (nb 896) gets it back at p + 0x70. Grow into top: the last
 * chunk grows in place. Grow into a free neighbour: A and B of 2000 (nb
 * 2016, too big for the tcache), B freed, realloc(A, 3000) (nb 3008 <=
 * 4032) stays at A. Move: a chunk between two live ones moves to top.
 */
static void test_realloc_heap(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t p = xmalloc(sim, 1, 1000), q, r, a, b, out = 0;
    vmsim_heap_stats_t s;

    (void)state;
    assert_int_equal(vmsim_heap_realloc(sim, 1, p, 100, &out), 0);
    assert_int_equal(out, p);
    assert_int_equal(hstats(sim, 1).requested, 100);
    assert_int_equal(hstats(sim, 1).arena_in_use, 0x290 + 112);
    assert_int_equal(xmalloc(sim, 1, 888), p + 0x70);
    check_all(sim);

    /* grow into top: q is the last chunk */
    q = xmalloc(sim, 1, 100);
    assert_int_equal(vmsim_heap_realloc(sim, 1, q, 2000, &out), 0);
    assert_int_equal(out, q);
    assert_int_equal(xmalloc(sim, 1, 10), q + 2016); /* top starts after nb 2016 */
    check_all(sim);

    /* grow into the next, free chunk */
    a = xmalloc(sim, 1, 2000);
    b = xmalloc(sim, 1, 2000);
    xmalloc(sim, 1, 100);
    assert_int_equal(b, a + 2016);
    xfree(sim, 1, b);
    assert_int_equal(vmsim_heap_realloc(sim, 1, a, 3000, &out), 0);
    assert_int_equal(out, a);
    check_all(sim);

    /* move: r is boxed in, so it is copied to a new chunk and freed */
    r = xmalloc(sim, 1, 5000);
    xmalloc(sim, 1, 100);
    s = hstats(sim, 1);
    assert_int_equal(vmsim_heap_realloc(sim, 1, r, 20000, &out), 0);
    assert_true(out != r);
    assert_true(out > r);
    assert_int_equal(hstats(sim, 1).nr_allocs, s.nr_allocs);
    assert_int_equal(hstats(sim, 1).requested, s.requested - 5000 + 20000);
    check_all(sim);

    /* realloc(0, n) is malloc; realloc(p, 0) frees and gives 0 */
    assert_int_equal(vmsim_heap_realloc(sim, 1, 0, 50, &out), 0);
    assert_true(out != 0);
    s = hstats(sim, 1);
    assert_int_equal(vmsim_heap_realloc(sim, 1, out, 0, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(hstats(sim, 1).nr_allocs, s.nr_allocs - 1);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * realloc of an mmapped chunk (no mremap here): growing maps a new chunk
 * and copies (the old mapping goes); shrinking unmaps the tail in place,
 * as mremap would. 2 MiB: nb 2 MiB + 16, mapping 2 MiB + 4 KiB.
 */
static void test_realloc_mmapped(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t m = xmalloc(sim, 1, MiB), m2 = 0, m3 = 0;
    size_t vmas = nr_vmas(sim, 1);

    (void)state;
    assert_int_equal(vmsim_heap_realloc(sim, 1, m, 2 * MiB, &m2), 0);
    assert_true(m2 != m);
    assert_int_equal(vma_at(sim, 1, m).end, 0);
    assert_int_equal(vma_at(sim, 1, m2).end - vma_at(sim, 1, m2).start, 2 * MiB + 4 * KiB);
    assert_int_equal(nr_vmas(sim, 1), vmas);
    /* the copy read the old 1 MiB + 4 KiB - 16 bytes (never written: the
     * zero page, no RSS) and wrote as many from new + 16: pages 0..256 of
     * the new mapping; with the heap's first page, 258 */
    assert_int_equal(rss_pages(sim, 1), 258);
    check_all(sim);

    assert_int_equal(vmsim_heap_realloc(sim, 1, m2, MiB, &m3), 0);
    assert_int_equal(m3, m2);
    assert_int_equal(vma_at(sim, 1, m3).end - vma_at(sim, 1, m3).start, MiB + 4 * KiB);
    assert_int_equal(hstats(sim, 1).mmapped, MiB + 4 * KiB);
    assert_int_equal(hstats(sim, 1).requested, MiB);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * realloc of the last chunk when top must grow first: A = malloc(120000)
 * leaves top 14496 bytes; q = malloc(100) (nb 112) at BASE + 0x1d760,
 * top then 14384. realloc(q, 100000) (nb 100016) fits neither in place
 * nor a free chunk: sysmalloc grows brk by round_up(100016 + 128 KiB + 32
 * - 14384, 4 KiB) = 217088 to BASE + 0x56000, the new chunk starts right
 * after q, and glibc joins them (no copy): q stays, and the old 112 bytes
 * at its end are split off and freed into the tcache, where malloc(100)
 * finds them at q + 100016.
 */
static void test_realloc_grows_top(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t q, out = 0;

    (void)state;
    xmalloc(sim, 1, 120000);
    q = xmalloc(sim, 1, 100);
    assert_int_equal(q, BASE + 0x1d770);
    assert_int_equal(vmsim_heap_realloc(sim, 1, q, 100000, &out), 0);
    assert_int_equal(out, q);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x56000);
    assert_int_equal(hstats(sim, 1).arena_in_use, 0x290 + 120016 + 100016);
    check_all(sim);
    assert_int_equal(xmalloc(sim, 1, 100), q + 100016);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * brk refused: a mapping right above the heap. A small request the top
 * cannot hold becomes an mmapped chunk (sysmalloc's fallback): 120000
 * gives nb 120016 and a mapping of round_up(120024, 4 KiB) = 120 KiB.
 * With no room for the heap at all, not even the tcache block is made:
 * malloc(100) is a one-page mapping, and frees coalesce at once.
 */
static void test_brk_blocked(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_mmap_req_t req = {
        .addr = BASE + 0x22000, .len = P1, .prot = VMSIM_PROT_READ,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED,
    };
    vmsim_vaddr_t p;

    (void)state;
    xmalloc(sim, 1, 100);
    assert_int_equal(vmsim_mmap(sim, 1, &req, NULL), 0);
    assert_int_equal(xmalloc(sim, 1, 120000), BASE + 0x310); /* fits top */
    p = xmalloc(sim, 1, 120000);
    assert_int_equal(vma_at(sim, 1, p).start, p - 16);
    assert_int_equal(vma_at(sim, 1, p).end - (p - 16), 120 * KiB);
    assert_int_equal(hstats(sim, 1).nr_mmapped, 1);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x21000);
    assert_int_equal(test_info(sim, 1).last_errno, 0);
    check_all(sim);
    xfree(sim, 1, p);
    assert_int_equal(vma_at(sim, 1, p).end, 0);
    check_all(sim);

    /* no heap at all */
    assert_int_equal(vmsim_spawn(sim, 2, "b", 0), 0);
    req.addr = BASE + 0x1000;
    assert_int_equal(vmsim_mmap(sim, 2, &req, NULL), 0);
    p = xmalloc(sim, 2, 100);
    assert_int_equal(vma_at(sim, 2, p).end - (p - 16), P1);
    assert_int_equal(hstats(sim, 2).arena_size, 0);
    assert_int_equal(hstats(sim, 2).arena_in_use, 0);
    assert_int_equal(hstats(sim, 2).nr_mmapped, 1);
    check_all(sim);
    xfree(sim, 2, p);
    assert_int_equal(hstats(sim, 2).nr_allocs, 0);
    check_all(sim);
    test_sim_free(sim);
}

/* A host allocator that fails from the k-th call on, while armed. */
struct chaos {
    bool armed;
    long left;
};

static void *chaos_malloc(void *ctx, size_t size)
{
    struct chaos *c = ctx;

    if (c->armed && c->left-- <= 0)
        return NULL;
    return malloc(size);
}

static void *chaos_calloc(void *ctx, size_t n, size_t size)
{
    struct chaos *c = ctx;

    if (c->armed && c->left-- <= 0)
        return NULL;
    return calloc(n, size);
}

static void *chaos_realloc(void *ctx, void *ptr, size_t size)
{
    struct chaos *c = ctx;

    if (c->armed && c->left-- <= 0)
        return NULL;
    return realloc(ptr, size);
}

static void chaos_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/*
 * Host memory running out at every possible point of a sequence of heap
 * calls: each call returns 0 or VMSIM_ENOMEM, and the records and the
 * machine stay consistent either way.
 */
static void test_host_oom(void **state)
{
    (void)state;
    for (long k = 0; k < 60; k++) {
        struct chaos c = { false, 0 };
        vmsim_config_t cfg;
        vmsim_t *sim = NULL;
        vmsim_vaddr_t p[8] = { 0 };
        int rc;

        vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
        cfg.memory = 64 * MiB;
        cfg.alloc.malloc = chaos_malloc;
        cfg.alloc.calloc = chaos_calloc;
        cfg.alloc.realloc = chaos_realloc;
        cfg.alloc.free = chaos_free;
        cfg.alloc.ctx = &c;
        assert_int_equal(vmsim_create(&cfg, &sim), 0);
        assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
        c.armed = true;
        c.left = k;
        for (int i = 0; i < 8; i++) {
            rc = vmsim_heap_malloc(sim, 1, i % 2 ? 100 : 200000, &p[i]);
            assert_true(rc == 0 || rc == VMSIM_ENOMEM);
            if (rc != 0)
                p[i] = 0;
        }
        for (int i = 0; i < 8; i += 2) {
            if (p[i] == 0)
                continue;
            rc = vmsim_heap_realloc(sim, 1, p[i], 300, &p[i]);
            assert_true(rc == 0 || rc == VMSIM_ENOMEM);
        }
        c.armed = false;
        check_all(sim);
        for (int i = 0; i < 8; i++)
            if (p[i] != 0 && test_info(sim, 1).alive)
                assert_int_equal(vmsim_heap_free(sim, 1, p[i]), 0);
        check_all(sim);
        vmsim_destroy(sim);
    }
}

static void assert_aborted(vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t info = test_info(sim, pid);

    assert_false(info.alive);
    assert_int_equal(info.signal, SIGABRT_);
    assert_int_equal(info.si_code, -6);
    assert_int_equal(vmsim_heap_malloc(sim, pid, 1, NULL), VMSIM_ESRCH);
}

/*
 * glibc aborts on free() of a pointer malloc never returned and on a
 * double free; the call itself returns 0. A pointer whose header is not
 * mapped faults first: glibc reads ptr - 8 before any check.
 */
static void test_bad_free(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t p;

    (void)state;
    /* inside a live chunk */
    p = xmalloc(sim, 1, 100);
    assert_int_equal(vmsim_heap_free(sim, 1, p + 16), 0);
    assert_aborted(sim, 1);
    check_all(sim);

    /* double free (the chunk sits in the tcache) */
    assert_int_equal(vmsim_spawn(sim, 2, "b", 0), 0);
    p = xmalloc(sim, 2, 100);
    xfree(sim, 2, p);
    assert_int_equal(vmsim_heap_free(sim, 2, p), 0);
    assert_aborted(sim, 2);

    /* double free of a coalesced chunk, and realloc of a freed one */
    assert_int_equal(vmsim_spawn(sim, 3, "c", 0), 0);
    p = xmalloc(sim, 3, 5000);
    xmalloc(sim, 3, 100);
    xfree(sim, 3, p);
    assert_int_equal(vmsim_heap_realloc(sim, 3, p, 10, NULL), 0);
    assert_aborted(sim, 3);

    /* glibc's own tcache block is not the program's to free */
    assert_int_equal(vmsim_spawn(sim, 4, "d", 0), 0);
    xmalloc(sim, 4, 10);
    assert_int_equal(vmsim_heap_free(sim, 4, BASE + 16), 0);
    assert_aborted(sim, 4);

    /* an unmapped header: SIGSEGV, not SIGABRT */
    assert_int_equal(vmsim_spawn(sim, 5, "e", 0), 0);
    xmalloc(sim, 5, 10);
    assert_int_equal(vmsim_heap_free(sim, 5, 0x10000), 0);
    assert_false(test_info(sim, 5).alive);
    assert_int_equal(test_info(sim, 5).signal, VMSIM_SIGSEGV);

    /* free(NULL) is nothing, and sets errno 0 */
    assert_int_equal(vmsim_spawn(sim, 6, "f", 0), 0);
    assert_int_equal(vmsim_heap_free(sim, 6, 0), 0);
    assert_true(test_info(sim, 6).alive);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * Trimming. a, b, c = malloc(120000) (nb 120016 each). a fits the first
 * 132 KiB (top 134512 after the tcache block), leaving 14496; b grows brk
 * by round_up(120016 + 128 KiB + 32 - 14496, 4 KiB) = 237568 to 0x5b000;
 * c fits. Headers touched: pages 0, 29 (a's end), 58 (b's end), 88 (c's
 * end, top header at 0x58108): RSS 4 pages.
 * free(c) merges into top: 132048 bytes, top_area - M_TOP_PAD =
 * 132048 - 33 - 131072 < 4 KiB: no trim. free(b) merges: top 252064,
 * extra = round_down(252064 - 33 - 131072, 4 KiB) = 118784: brk back to
 * 0x5b000 - 0x1d000 = 0x3e000, page 88 goes (RSS 3). free(a) merges from 0x290:
 * top 253296, extra again 118784: brk 0x21000, page 58 goes; page 29
 * (0x1d000) lies below the 132 KiB that stay.
 */
static void test_trim(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = xmalloc(sim, 1, 120000), b = xmalloc(sim, 1, 120000),
                  c = xmalloc(sim, 1, 120000);

    (void)state;
    assert_int_equal(b, a + 120016);
    assert_int_equal(c, b + 120016);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x5b000);
    assert_int_equal(rss_pages(sim, 1), 4);
    check_all(sim);

    xfree(sim, 1, c);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x5b000);
    assert_int_equal(rss_pages(sim, 1), 4);
    xfree(sim, 1, b);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x3e000);
    assert_int_equal(hstats(sim, 1).arena_size, 0x3e000);
    assert_int_equal(rss_pages(sim, 1), 3);
    check_all(sim);
    xfree(sim, 1, a);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x21000);
    assert_int_equal(rss_pages(sim, 1), 2);
    assert_int_equal(hstats(sim, 1).nr_allocs, 0);
    assert_int_equal(hstats(sim, 1).arena_in_use, 0x290);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * Strict overcommit on a 64 MiB machine without swap: CommitLimit is
 * 50 % of RAM, 32 MiB. malloc(64 MiB) cannot mmap (the charge is over the
 * limit), and growing the heap instead fails the same way: ENOMEM, errno
 * set, nothing booked. 16 MiB still fits.
 */
static void test_enomem_overcommit(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t p = 12345;
    vmsim_heap_stats_t s;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.overcommit_memory = 2;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
    xmalloc(sim, 1, 100);
    s = hstats(sim, 1);
    assert_int_equal(vmsim_heap_malloc(sim, 1, 64 * MiB, &p), VMSIM_SYS_ENOMEM);
    assert_int_equal(p, 12345);
    assert_int_equal(test_info(sim, 1).last_errno, VMSIM_SYS_ENOMEM);
    assert_true(test_info(sim, 1).alive);
    assert_int_equal(hstats(sim, 1).nr_allocs, s.nr_allocs);
    assert_int_equal(hstats(sim, 1).arena_size, s.arena_size);
    assert_int_equal(hstats(sim, 1).mmapped, 0);
    check_all(sim);
    assert_int_equal(vmsim_heap_calloc(sim, 1, 64, MiB, &p), VMSIM_SYS_ENOMEM);
    p = xmalloc(sim, 1, 16 * MiB);
    assert_int_equal(test_info(sim, 1).last_errno, 0);
    assert_int_equal(hstats(sim, 1).nr_mmapped, 1);
    check_all(sim);
    test_sim_free(sim);
}

/* Requests malloc can never meet, bad pids, bad arguments. */
static void test_errors(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_heap_stats_t s;
    vmsim_vaddr_t p = 0;

    (void)state;
    assert_int_equal(vmsim_heap_malloc(sim, 1, UINT64_MAX, &p), VMSIM_SYS_ENOMEM);
    assert_int_equal(test_info(sim, 1).last_errno, VMSIM_SYS_ENOMEM);
    /* checked before the tcache is made: no heap yet */
    assert_int_equal(test_info(sim, 1).brk, BASE);
    assert_int_equal(vmsim_heap_calloc(sim, 1, UINT64_MAX / 2, 3, &p), VMSIM_SYS_ENOMEM);
    assert_int_equal(vmsim_heap_calloc(sim, 1, (uint64_t)1 << 32, (uint64_t)1 << 31, &p),
                     VMSIM_SYS_ENOMEM);
    assert_int_equal(vmsim_heap_malloc(sim, 2, 10, &p), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_calloc(sim, 2, 1, 10, &p), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_realloc(sim, 2, 0, 10, &p), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_free(sim, 2, 0), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_stats(sim, 2, &s), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_stats(sim, 1, NULL), VMSIM_EINVAL);
    p = xmalloc(sim, 1, 10);
    /* a huge realloc fails and keeps the block */
    assert_int_equal(vmsim_heap_realloc(sim, 1, p, UINT64_MAX, NULL), VMSIM_SYS_ENOMEM);
    assert_int_equal(hstats(sim, 1).requested, 10);
    assert_int_equal(vmsim_exit(sim, 1), 0);
    assert_int_equal(vmsim_heap_malloc(sim, 1, 10, &p), VMSIM_ESRCH);
    assert_int_equal(vmsim_heap_stats(sim, 1, &s), VMSIM_ESRCH);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * The program moves the break itself between mallocs. After malloc(100)
 * and malloc(120000) top is at BASE + 0x1d7d0 with 14384 bytes, the heap
 * ends at BASE + 0x21000; the program brk()s one more page. The next
 * malloc(120000) cannot extend top in place: glibc starts a new top at the
 * current break (BASE + 0x22000), fences off the old top (its first
 * 14384 - 32 = 14352 bytes become a free chunk) and asks again for that
 * much more: the break ends at round_up(0x22000 + 237568 + 14384) =
 * BASE + 0x60000. malloc(14000) (nb 14016) then fits the old top's chunk.
 * A program that pulls the break below the heap's end makes the next
 * growth abort ("break adjusted to free malloc space").
 */
static void test_foreign_brk(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t brk = 0;

    (void)state;
    xmalloc(sim, 1, 100);
    assert_int_equal(xmalloc(sim, 1, 120000), BASE + 0x310);
    assert_int_equal(vmsim_brk(sim, 1, BASE + 0x22000, &brk), 0);
    assert_int_equal(xmalloc(sim, 1, 120000), BASE + 0x22010);
    assert_int_equal(test_info(sim, 1).brk, BASE + 0x60000);
    assert_int_equal(hstats(sim, 1).arena_size, 0x60000);
    check_all(sim);
    assert_int_equal(xmalloc(sim, 1, 14000), BASE + 0x1d7e0);
    check_all(sim);

    /* pull the break back one page under the heap's end. Top is
     * [BASE + 0x3f4d0, BASE + 0x60000): malloc(100000) still fits and its
     * new top header (BASE + 0x57b88) is mapped; the next one must grow */
    assert_int_equal(vmsim_brk(sim, 1, BASE + 0x5f000, &brk), 0);
    assert_int_equal(xmalloc(sim, 1, 100000), BASE + 0x3f4e0);
    assert_int_equal(vmsim_heap_malloc(sim, 1, 100000, NULL), 0);
    assert_false(test_info(sim, 1).alive);
    assert_int_equal(test_info(sim, 1).signal, SIGABRT_);
    check_all(sim);

    /* a program that drops its whole heap faults on malloc's first read
     * of the top header (BASE + 0x308) */
    assert_int_equal(vmsim_spawn(sim, 2, "b", 0), 0);
    xmalloc(sim, 2, 100);
    assert_int_equal(vmsim_brk(sim, 2, BASE, &brk), 0);
    assert_int_equal(vmsim_heap_malloc(sim, 2, 100, NULL), 0);
    assert_false(test_info(sim, 2).alive);
    assert_int_equal(test_info(sim, 2).signal, VMSIM_SIGSEGV);
    assert_int_equal(test_info(sim, 2).fault_addr, BASE + 0x308);
    check_all(sim);
    test_sim_free(sim);
}

/* fork copies the heap: the child frees the parent's pointers and gets the
 * same next address as the parent; the two then go their own ways. */
static void test_fork(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t p = xmalloc(sim, 1, 100), m = xmalloc(sim, 1, MiB), q1, q2;

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(hstats(sim, 2).nr_allocs, 2);
    assert_int_equal(hstats(sim, 2).mmapped, MiB + 4 * KiB);
    check_all(sim);
    xfree(sim, 2, p);
    xfree(sim, 2, m);
    assert_int_equal(hstats(sim, 2).nr_allocs, 0);
    assert_int_equal(hstats(sim, 1).nr_allocs, 2);
    q1 = xmalloc(sim, 1, 5000);
    q2 = xmalloc(sim, 2, 5000);
    assert_int_equal(q1, q2);
    check_all(sim);
    /* exec drops the heap */
    assert_int_equal(vmsim_exec(sim, 2, "new"), 0);
    assert_int_equal(hstats(sim, 2).nr_allocs, 0);
    assert_int_equal(xmalloc(sim, 2, 100), 0x5555555592a0);
    check_all(sim);
    test_sim_free(sim);
}

/*
 * A long deterministic mix of malloc, calloc, realloc and free of sizes
 * from 0 to 300 KiB, 20000 blocks live at most, checked as it goes: the
 * records stay consistent and the figures match a count kept here.
 */
static void test_random_mix(void **state)
{
    enum { SLOTS = 20000, STEPS = 200000 };
    vmsim_t *sim = test_sim_new(4 * GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t *ptr = calloc(SLOTS, sizeof(*ptr));
    uint64_t *size = calloc(SLOTS, sizeof(*size));
    uint64_t x = 88172645463325252ull, live = 0, bytes = 0;

    (void)state;
    assert_non_null(ptr);
    assert_non_null(size);
    for (int step = 0; step < STEPS; step++) {
        uint64_t r, i, sz;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r = x;
        i = (r >> 8) % SLOTS;
        sz = (r >> 40) % 8 == 0 ? (r >> 20) % (300 * KiB) : (r >> 20) % 2000;
        if (ptr[i] == 0) {
            if ((r & 3) == 0)
                assert_int_equal(vmsim_heap_calloc(sim, 1, 1, sz, &ptr[i]), 0);
            else
                ptr[i] = xmalloc(sim, 1, sz);
            size[i] = sz;
            live++;
            bytes += sz;
        } else if ((r & 3) == 1) {
            vmsim_vaddr_t np = 0;

            assert_int_equal(vmsim_heap_realloc(sim, 1, ptr[i], sz, &np), 0);
            bytes = bytes - size[i] + sz;
            if (sz == 0) {
                assert_int_equal(np, 0);
                live--;
            }
            ptr[i] = np;
            size[i] = sz;
        } else {
            xfree(sim, 1, ptr[i]);
            ptr[i] = 0;
            live--;
            bytes -= size[i];
        }
        if (step % 20000 == 0)
            check_all(sim);
    }
    assert_true(test_info(sim, 1).alive);
    assert_int_equal(hstats(sim, 1).nr_allocs, live);
    assert_int_equal(hstats(sim, 1).requested, bytes);
    check_all(sim);
    for (int i = 0; i < SLOTS; i++)
        if (ptr[i] != 0)
            xfree(sim, 1, ptr[i]);
    assert_int_equal(hstats(sim, 1).nr_allocs, 0);
    assert_int_equal(hstats(sim, 1).mmapped, 0);
    assert_int_equal(hstats(sim, 1).requested, 0);
    check_all(sim);
    free(ptr);
    free(size);
    test_sim_free(sim);
}

/* 100000 small blocks live at once: the records stay fast. */
static void test_100k_live(void **state)
{
    enum { N = 100000 };
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t *ptr = calloc(N, sizeof(*ptr));

    (void)state;
    assert_non_null(ptr);
    for (int i = 0; i < N; i++)
        ptr[i] = xmalloc(sim, 1, 24 + (uint64_t)(i % 7) * 16);
    assert_int_equal(hstats(sim, 1).nr_allocs, N);
    check_all(sim);
    for (int i = 0; i < N; i += 2)
        xfree(sim, 1, ptr[i]);
    for (int i = 1; i < N; i += 2)
        xfree(sim, 1, ptr[i]);
    assert_int_equal(hstats(sim, 1).nr_allocs, 0);
    check_all(sim);
    free(ptr);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malloc_small),
        cmocka_unit_test(test_many_small),
        cmocka_unit_test(test_mmap_chunk),
        cmocka_unit_test(test_calloc_mmap),
        cmocka_unit_test(test_calloc_reused),
        cmocka_unit_test(test_calloc_fresh_top),
        cmocka_unit_test(test_realloc_heap),
        cmocka_unit_test(test_realloc_mmapped),
        cmocka_unit_test(test_realloc_grows_top),
        cmocka_unit_test(test_brk_blocked),
        cmocka_unit_test(test_host_oom),
        cmocka_unit_test(test_bad_free),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_enomem_overcommit),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_foreign_brk),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_random_mix),
        cmocka_unit_test(test_100k_live),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
