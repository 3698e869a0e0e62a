/* test_stats.c -- counter names and values after scripted runs. */
#include "test_util.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vmsim_vmstat_name(0), "nr_free_pages");
    assert_null(vmsim_vmstat_name(VMSIM_VMSTAT__COUNT));
    assert_string_equal(vmsim_meminfo_name(VMSIM_MEMINFO_COMMITTED_AS), "Committed_AS");
    assert_null(vmsim_meminfo_name(VMSIM_MEMINFO__COUNT));
    /* names are unique */
    for (size_t i = 0; i < VMSIM_VMSTAT__COUNT; i++)
        for (size_t j = i + 1; j < VMSIM_VMSTAT__COUNT; j++)
            assert_string_not_equal(vmsim_vmstat_name(i), vmsim_vmstat_name(j));
    for (size_t i = 0; i < VMSIM_MEMINFO__COUNT; i++)
        for (size_t j = i + 1; j < VMSIM_MEMINFO__COUNT; j++)
            assert_string_not_equal(vmsim_meminfo_name(i), vmsim_meminfo_name(j));
}

static void test_fresh_machine(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    uint64_t v, all[VMSIM_VMSTAT__COUNT + 5];

    (void)state;
    /* pid 1's PML4 is the only frame in use */
    assert_int_equal(test_meminfo(sim, "MemTotal"), GiB);
    assert_int_equal(test_meminfo(sim, "MemFree"), GiB - 4096);
    assert_int_equal(test_meminfo(sim, "PageTables"), 4096);
    assert_int_equal(test_meminfo(sim, "HugePages_Total"), 0);
    assert_int_equal(test_meminfo(sim, "Hugepagesize"), 2 * MiB);
    assert_int_equal(test_vmstat(sim, "nr_free_pages"), 262143);
    assert_int_equal(vmsim_vmstat_get(sim, "no_such_counter", &v), VMSIM_ENOENT);
    assert_int_equal(vmsim_meminfo_get(sim, "MemFoo", &v), VMSIM_ENOENT);
    assert_int_equal(vmsim_vmstat_read(sim, all, sizeof(all) / sizeof(all[0])),
                     VMSIM_VMSTAT__COUNT);
    assert_int_equal(vmsim_vmstat_read(sim, NULL, 0), VMSIM_VMSTAT__COUNT);
    test_sim_free(sim);
}

static void test_counts_after_run(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 40 * 4096,
                                     VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);

    (void)state;
    test_touch(sim, 1, a, 20 * 4096, VMSIM_READ);
    test_touch(sim, 1, a, 40 * 4096, VMSIM_WRITE);
    assert_int_equal(test_vmstat(sim, "pgfault"), 60);
    assert_int_equal(test_vmstat(sim, "pgmajfault"), 0);
    assert_int_equal(test_vmstat(sim, "nr_anon_pages"), 40);
    assert_int_equal(test_vmstat(sim, "nr_inactive_anon"), 40);
    assert_int_equal(test_meminfo(sim, "Inactive(anon)"), 40 * 4096);
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 40 * 4096);
    assert_int_equal(test_vmstat(sim, "pgalloc_normal"), 1 + 3 + 40);
    assert_int_equal(vmsim_munmap(sim, 1, a, 40 * 4096), 0);
    assert_int_equal(test_vmstat(sim, "nr_anon_pages"), 0);
    assert_int_equal(test_vmstat(sim, "pgfree"), 3 + 40);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fresh_machine),
        cmocka_unit_test(test_counts_after_run),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
