/* test_phys.c -- the buddy allocator: splitting, coalescing, exhaustion. */
#include "test_util.h"

#include "internal.h"

static struct vmsim *new_sim(uint64_t memory)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = memory;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    return sim;
}

static void test_initial_blocks(void **state)
{
    /* 3 MiB + 12 KiB = 771 frames: one 2 MiB block (order 9), one 1 MiB
     * (order 8), then order 1 and order 0 for the 3-frame tail. */
    struct vmsim *sim = new_sim(3 * MiB + 12 * KiB);
    uint64_t info[19];

    (void)state;
    vmsim_buddyinfo(sim, info);
    assert_int_equal(info[9], 1);
    assert_int_equal(info[8], 1);
    assert_int_equal(info[1], 1);
    assert_int_equal(info[0], 1);
    assert_int_equal(sim->nr_free, 771);
    test_sim_free(sim);
}

static void test_split_and_coalesce(void **state)
{
    struct vmsim *sim = new_sim(1 * MiB); /* one order-8 block */
    vmsim_pfn_t a, b;
    uint64_t info[19];

    (void)state;
    assert_int_equal(vmsim__phys_alloc(sim, 0, &a), 0);
    assert_int_equal(a, 0); /* the low half is kept at every split */
    vmsim_buddyinfo(sim, info);
    for (int o = 0; o < 8; o++)
        assert_int_equal(info[o], 1);
    assert_int_equal(info[8], 0);
    assert_int_equal(vmsim__phys_alloc(sim, 0, &b), 0);
    assert_int_equal(b, 1);
    vmsim__phys_free(sim, a, 0);
    vmsim__phys_free(sim, b, 0);
    vmsim_buddyinfo(sim, info);
    assert_int_equal(info[8], 1);
    assert_int_equal(info[0], 0);
    test_sim_free(sim);
}

static void test_huge_needs_contiguity(void **state)
{
    /* 4 MiB: two order-9 blocks. Pin one frame in each and no order-9
     * allocation can succeed although 1022 frames are free. */
    struct vmsim *sim = new_sim(4 * MiB);
    vmsim_pfn_t pins[2], x;
    vmsim_pfn_t all[1024];
    size_t n = 0;

    (void)state;
    while (vmsim__phys_alloc(sim, 0, &all[n]) == 0)
        n++;
    assert_int_equal(n, 1024);
    assert_int_equal(vmsim__phys_alloc(sim, 0, &x), VMSIM_EOOM);
    pins[0] = all[100];
    pins[1] = all[700];
    for (size_t i = 0; i < n; i++)
        if (all[i] != pins[0] && all[i] != pins[1])
            vmsim__phys_free(sim, all[i], 0);
    assert_int_equal(sim->nr_free, 1022);
    assert_int_equal(vmsim__phys_alloc(sim, 9, &x), VMSIM_EOOM);
    assert_int_equal(vmsim__phys_alloc(sim, 8, &x), 0);
    vmsim__phys_free(sim, x, 8);
    vmsim__phys_free(sim, pins[0], 0);
    assert_int_equal(vmsim__phys_alloc(sim, 9, &x), 0);
    assert_int_equal(x, 0);
    vmsim__phys_free(sim, x, 9);
    vmsim__phys_free(sim, pins[1], 0);
    assert_int_equal(vmsim__phys_alloc(sim, 10, &x), 0);
    vmsim__phys_free(sim, x, 10);
    assert_int_equal(vmsim__phys_alloc(sim, 19, &x), VMSIM_EINVAL);
    test_sim_free(sim);
}

static void test_gigabyte_blocks(void **state)
{
    /* 5 GiB: five order-18 blocks; the metadata array is not touched. */
    struct vmsim *sim = new_sim(5 * GiB);
    uint64_t info[19];
    vmsim_pfn_t x;

    (void)state;
    vmsim_buddyinfo(sim, info);
    assert_int_equal(info[18], 5);
    assert_int_equal(vmsim__phys_alloc(sim, 18, &x), 0);
    assert_int_equal(x % (1u << 18), 0);
    vmsim__phys_free(sim, x, 18);
    vmsim_destroy(sim);
}

static void test_watermarks(void **state)
{
    /* 1 GiB: min_free_kbytes = sqrt(16 * 1048576) = 4096 -> 1024 pages;
     * low = 1024 + max(256, 262) = 1286; high = 1548 (mm/page_alloc.c). */
    struct vmsim *sim = new_sim(GiB);

    (void)state;
    assert_int_equal(sim->wmark_min, 1024);
    assert_int_equal(sim->wmark_low, 1286);
    assert_int_equal(sim->wmark_high, 1548);
    /* MemAvailable = free - high watermark with no page cache */
    assert_int_equal(test_meminfo(sim, "MemAvailable"), (262144 - 1548) * 4096);
    vmsim_destroy(sim);
}

/*
 * The resident limit's shortcut (phys.c, recycle()): a 4 KiB frame freed
 * while sim->recycle_ok is set and whose buddy is not free is held for the
 * next 4 KiB allocation. Two machines run the same random allocations and
 * frees, one with every free so marked: every pfn handed out, the free
 * counts and the free lists must be the same.
 */
static void test_recycle_is_exact(void **state)
{
    struct vmsim *plain = new_sim(4 * MiB), *held = new_sim(4 * MiB);
    vmsim_pfn_t live[512];
    unsigned orders[512];
    uint64_t seed = 12345, nr_held = 0, info_p[19], info_h[19];
    size_t n = 0;

    (void)state;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        if (n > 0 && ((seed >> 33) % 8 < 3 || n == 512)) {
            /* free a random live block in both */
            size_t i = (size_t)((seed >> 40) % n);

            vmsim__phys_free(plain, live[i], orders[i]);
            held->recycle_ok = true;
            vmsim__phys_free(held, live[i], orders[i]);
            held->recycle_ok = false;
            nr_held += held->recycled != PFN_NONE;
            live[i] = live[n - 1];
            orders[i] = orders[--n];
        } else {
            unsigned order = (seed >> 45) % 16 == 0 ? (unsigned)((seed >> 50) % 4) : 0;
            vmsim_pfn_t a, b;
            int ra = vmsim__phys_alloc(plain, order, &a);
            int rb = vmsim__phys_alloc(held, order, &b);

            assert_int_equal(ra, rb);
            if (ra == 0) {
                assert_int_equal(a, b);
                live[n] = a;
                orders[n++] = order;
            }
        }
        assert_int_equal(plain->nr_free, held->nr_free);
        assert_int_equal(plain->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES],
                         held->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES]);
    }
    /* the shortcut was taken, and what it holds goes back on the lists */
    assert_true(nr_held > 1000);
    vmsim__phys_recycle_flush(held);
    assert_true(held->recycled == PFN_NONE);
    vmsim_buddyinfo(plain, info_p);
    vmsim_buddyinfo(held, info_h);
    assert_memory_equal(info_p, info_h, sizeof(info_p));
    assert_int_equal(plain->vmstat[VMSIM_VMSTAT_PGFREE], held->vmstat[VMSIM_VMSTAT_PGFREE]);
    assert_int_equal(plain->vmstat[VMSIM_VMSTAT_PGALLOC_NORMAL],
                     held->vmstat[VMSIM_VMSTAT_PGALLOC_NORMAL]);
    while (n > 0) {
        n--;
        vmsim__phys_free(plain, live[n], orders[n]);
        vmsim__phys_free(held, live[n], orders[n]);
    }
    test_sim_free(plain);
    test_sim_free(held);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_blocks),   cmocka_unit_test(test_split_and_coalesce),
        cmocka_unit_test(test_huge_needs_contiguity), cmocka_unit_test(test_gigabyte_blocks),
        cmocka_unit_test(test_watermarks), cmocka_unit_test(test_recycle_is_exact),
    };
    return cmocka_run_group_tests_name("phys", tests, NULL, NULL);
}
