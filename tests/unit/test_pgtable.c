/*
 * test_pgtable.c -- the 4-level tables: entry bits, table accounting, and
 * which tables munmap frees (Linux's free_pgd_range floor/ceiling rule).
 */
#include "test_util.h"

#include "internal.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)

static vmsim_vaddr_t map_fixed(vmsim_t *sim, vmsim_vaddr_t va, uint64_t len, unsigned prot)
{
    return test_mmap_anon(sim, 1, va, len, prot, VMSIM_MAP_FIXED);
}

static void test_index_macro(void **state)
{
    vmsim_vaddr_t va = 0x7ffff7fc3123ull;

    (void)state;
    assert_int_equal(PT_INDEX(va, 3), 255);
    assert_int_equal(PT_INDEX(va, 2), 511);
    assert_int_equal(PT_INDEX(va, 1), 447);
    assert_int_equal(PT_INDEX(va, 0), 451);
    assert_int_equal(LEVEL_SIZE(1), 2 * MiB);
    assert_int_equal(LEVEL_SIZE(2), GiB);
}

static void test_entry_bits(void **state)
{
    vmsim_t *sim = test_sim_new(64 * MiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t rw = map_fixed(sim, 0x10000000, 4096, RW);
    vmsim_vaddr_t rx = map_fixed(sim, 0x10002000, 4096, VMSIM_PROT_READ | VMSIM_PROT_EXEC);
    vmsim_pte_info_t pi;

    (void)state;
    assert_int_equal(vmsim_pte_lookup(sim, 1, rw, &pi), 0);
    assert_int_equal(pi.level, -1); /* not even a table yet */
    assert_int_equal(vmsim_access(sim, 1, rw, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(vmsim_pte_lookup(sim, 1, rw, &pi), 0);
    assert_int_equal(pi.level, 0);
    assert_true(pi.present);
    assert_int_equal(pi.entry & (VMSIM_PTE_P | VMSIM_PTE_RW | VMSIM_PTE_US | VMSIM_PTE_A |
                                 VMSIM_PTE_D | VMSIM_PTE_NX),
                     VMSIM_PTE_P | VMSIM_PTE_US | VMSIM_PTE_A | VMSIM_PTE_NX);
    assert_int_equal(pi.pfn, 64 * MiB / 4096); /* the zero page, after RAM */
    assert_int_equal(vmsim_access(sim, 1, rw, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_pte_lookup(sim, 1, rw, &pi), 0);
    assert_true(pi.entry & VMSIM_PTE_RW);
    assert_true(pi.entry & VMSIM_PTE_D);
    assert_true(pi.pfn < 64 * MiB / 4096);
    assert_int_equal(vmsim_access(sim, 1, rx, 1, VMSIM_EXEC, NULL), 0);
    assert_int_equal(vmsim_pte_lookup(sim, 1, rx, &pi), 0);
    assert_false(pi.entry & VMSIM_PTE_NX);
    assert_false(pi.entry & VMSIM_PTE_D);
    test_sim_free(sim);
}

struct count {
    int tables[4];
    int leaves;
};

static int count_visit(void *ctx, const vmsim_pt_node_t *n)
{
    struct count *c = ctx;

    if (n->index < 0)
        c->tables[n->level]++;
    else if (n->level == 0)
        c->leaves++;
    return 0;
}

static void test_walk_counts(void **state)
{
    vmsim_t *sim = test_sim_new(64 * MiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = map_fixed(sim, 0x40000000, 4 * MiB, RW);
    struct count c = { { 0 }, 0 };

    (void)state;
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_pagetable_walk(sim, 1, count_visit, &c), 0);
    assert_int_equal(c.tables[3], 1);
    assert_int_equal(c.tables[2], 1);
    assert_int_equal(c.tables[1], 1);
    assert_int_equal(c.tables[0], 2);
    assert_int_equal(c.leaves, 1024);
    assert_int_equal(test_info(sim, 1).vmpte, 4 * 4096);
    assert_int_equal(vmsim_pagetable_walk(sim, 99, count_visit, &c), VMSIM_ESRCH);
    test_sim_free(sim);
}

static void test_free_floor_ceiling(void **state)
{
    /* Two VMAs in one 2 MiB page table: unmapping one keeps the table;
     * unmapping the other then frees PT, PD and PDPT. */
    vmsim_t *sim = test_sim_new(64 * MiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = map_fixed(sim, 0x40000000, 4096, RW);
    vmsim_vaddr_t b = map_fixed(sim, 0x40100000, 4096, VMSIM_PROT_READ);

    (void)state;
    assert_int_equal(vmsim_access(sim, 1, a, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_access(sim, 1, b, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 12 * KiB);
    assert_int_equal(vmsim_munmap(sim, 1, a, 4096), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 12 * KiB);
    test_check(sim);
    assert_int_equal(vmsim_munmap(sim, 1, b, 4096), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 0);
    assert_int_equal(test_meminfo(sim, "PageTables"), 4096); /* the PML4 */
    test_check(sim);
    /* A neighbour in the next 2 MiB keeps the PD but not our PT. */
    a = map_fixed(sim, 0x40000000, 4096, RW);
    b = map_fixed(sim, 0x40200000, 4096, VMSIM_PROT_READ);
    assert_int_equal(vmsim_access(sim, 1, a, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_access(sim, 1, b, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 16 * KiB);
    assert_int_equal(vmsim_munmap(sim, 1, a, 4096), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 12 * KiB);
    test_sim_free(sim);
}

static void test_tables_compete_for_ram(void **state)
{
    /* 64 KiB of RAM = 16 frames, no swap: PML4 + PDPT + PD + PT leave 12
     * for pages; the 13th write finds nothing to reclaim and the OOM
     * killer takes the process. */
    vmsim_t *sim = test_sim_new(64 * KiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = map_fixed(sim, 0x40000000, 64 * KiB, RW);
    unsigned out = 0;
    uint64_t n = 0;

    (void)state;
    for (; !(out & VMSIM_OUT_OOM) && n < 16; n++)
        assert_int_equal(vmsim_access(sim, 1, a + n * 4096, 1, VMSIM_WRITE, &out), 0);
    assert_int_equal(n, 13);
    assert_true(test_info(sim, 1).oom_killed);
    assert_int_equal(test_info(sim, 1).vmhwm, 12 * 4096);
    assert_int_equal(test_meminfo(sim, "MemFree"), 64 * KiB);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_macro),      cmocka_unit_test(test_entry_bits),
        cmocka_unit_test(test_walk_counts),      cmocka_unit_test(test_free_floor_ceiling),
        cmocka_unit_test(test_tables_compete_for_ram),
    };
    return cmocka_run_group_tests_name("pgtable", tests, NULL, NULL);
}
