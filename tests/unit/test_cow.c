/*
 * test_cow.c -- fork, copy-on-write, exec.
 *
 * The 100 MiB figures are Linux 6.18's, measured (issue 3's acceptance):
 * after the parent wrote 100 MiB, a child writing every page takes 25600
 * minor faults; a child only reading takes 0; the parent writing while the
 * child lives takes 25600 more; the parent writing after the child exited
 * also takes 25600 more (reuse faults: no copies, RSS unchanged).
 */
#include "test_util.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)
static const uint64_t SZ = 100 * MiB;

static vmsim_t *parent_with_100mib(vmsim_vaddr_t *va)
{
    vmsim_t *sim = test_sim_new(2 * GiB, VMSIM_PROFILE_LINUX);

    *va = test_mmap_anon(sim, 1, 0, SZ, RW, 0);
    test_touch(sim, 1, *va, SZ, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 25600);
    return sim;
}

static void test_child_writes(void **state)
{
    vmsim_vaddr_t va;
    vmsim_t *sim = parent_with_100mib(&va);
    vmsim_proc_info_t c;

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    c = test_info(sim, 2);
    assert_int_equal(c.ppid, 1);
    assert_int_equal(c.vmrss, SZ);     /* shared, counted in both */
    assert_int_equal(c.minflt, 0);
    assert_int_equal(test_info(sim, 1).nr_ptes_copied_fork, 25600);
    /* the child gets tables like the parent's: the 100 MiB mapping is
     * 2 MiB-aligned (THP alignment), 50 page tables + PMD + PUD */
    assert_int_equal(c.vmpte, 52 * 4096);
    assert_int_equal(c.vmpte, test_info(sim, 1).vmpte);
    test_check(sim);
    test_touch(sim, 2, va, SZ, VMSIM_WRITE);
    c = test_info(sim, 2);
    assert_int_equal(c.minflt, 25600);
    assert_int_equal(c.cow, 25600);
    assert_int_equal(test_meminfo(sim, "AnonPages"), 2 * SZ);
    /* the parent's pages are now exclusive again: reuse, no copy */
    test_touch(sim, 1, va, SZ, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 51200);
    assert_int_equal(test_info(sim, 1).cow, 0);
    assert_int_equal(test_vmstat(sim, "pgreuse"), 25600);
    test_sim_free(sim);
}

static void test_child_reads(void **state)
{
    vmsim_vaddr_t va;
    vmsim_t *sim = parent_with_100mib(&va);

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_touch(sim, 2, va, SZ, VMSIM_READ);
    assert_int_equal(test_info(sim, 2).minflt, 0);
    assert_int_equal(test_meminfo(sim, "AnonPages"), SZ);
    test_sim_free(sim);
}

static void test_parent_writes_while_child_lives(void **state)
{
    vmsim_vaddr_t va;
    vmsim_t *sim = parent_with_100mib(&va);

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_touch(sim, 1, va, SZ, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 51200);
    assert_int_equal(test_info(sim, 1).cow, 25600);
    assert_int_equal(test_info(sim, 1).vmrss, SZ);
    assert_int_equal(test_info(sim, 2).vmrss, SZ);
    test_sim_free(sim);
}

static void test_parent_writes_after_child_exit(void **state)
{
    vmsim_vaddr_t va;
    vmsim_t *sim = parent_with_100mib(&va);

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    test_check(sim);
    test_touch(sim, 1, va, SZ, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 51200);
    assert_int_equal(test_info(sim, 1).cow, 0);
    assert_int_equal(test_info(sim, 1).vmrss, SZ);
    assert_int_equal(test_meminfo(sim, "AnonPages"), SZ);
    test_sim_free(sim);
}

static void test_zero_page_and_untouched_vmas(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 16 * 4096, RW, 0);
    vmsim_vaddr_t b = test_mmap_anon(sim, 1, 0x10000000, 16 * 4096, VMSIM_PROT_READ, 0);

    (void)state;
    (void)b;
    test_touch(sim, 1, a, 16 * 4096, VMSIM_READ); /* zero page */
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    /* Mapping the zero page prepares no anon_vma, so vma_needs_copy() is
     * false: nothing is copied and the child faults the zero page again. */
    assert_int_equal(test_info(sim, 1).nr_ptes_copied_fork, 0);
    test_touch(sim, 2, a, 16 * 4096, VMSIM_READ);
    assert_int_equal(test_info(sim, 2).minflt, 16);
    test_touch(sim, 2, a, 16 * 4096, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 2).minflt, 32);
    assert_int_equal(test_info(sim, 2).cow, 0); /* zeroing, not copying */
    /* once a real page exists the VMA has an anon_vma: zero-page entries
     * are copied with it */
    test_touch(sim, 1, a, 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_fork(sim, 1, 3), 0);
    assert_int_equal(test_info(sim, 1).nr_ptes_copied_fork, 16);
    test_touch(sim, 3, a, 16 * 4096, VMSIM_READ);
    assert_int_equal(test_info(sim, 3).minflt, 0);
    test_sim_free(sim);
}

static void test_data_isolation(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a;
    char buf[6];

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 16 * MiB;
    cfg.track_data = true;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    a = test_mmap_anon(sim, 1, 0, 8192, RW, 0);
    assert_int_equal(vmsim_write_data(sim, 1, a + 4090, "hello", 5, NULL), 0);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_write_data(sim, 2, a + 4090, "HELLO", 5, NULL), 0);
    assert_int_equal(vmsim_read_data(sim, 1, a + 4090, buf, 5, NULL), 0);
    buf[5] = '\0';
    assert_string_equal(buf, "hello");
    assert_int_equal(vmsim_read_data(sim, 2, a + 4090, buf, 5, NULL), 0);
    assert_string_equal(buf, "HELLO");
    test_sim_free(sim);
}

static void test_exec(void **state)
{
    vmsim_vaddr_t va;
    vmsim_t *sim = parent_with_100mib(&va);

    (void)state;
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_exec(sim, 2, "ls"), 0);
    assert_string_equal(test_info(sim, 2).name, "ls");
    assert_int_equal(test_info(sim, 2).vmsize, 0);
    /* the parent's pages are its own again */
    assert_int_equal(test_meminfo(sim, "AnonPages"), SZ);
    assert_int_equal(vmsim_access(sim, 2, va, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 2).si_code, VMSIM_SEGV_MAPERR);
    assert_int_equal(vmsim_fork(sim, 1, 1), VMSIM_EEXIST);
    assert_int_equal(vmsim_fork(sim, 7, 8), VMSIM_ESRCH);
    test_sim_free(sim);
}

static void test_fork_commit_strict(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.overcommit_memory = 2; /* CommitLimit 32 MiB */
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    test_mmap_anon(sim, 1, 0, 20 * MiB, RW, 0);
    /* the child would need another 20 MiB of commit */
    assert_int_equal(vmsim_fork(sim, 1, 2), VMSIM_SYS_ENOMEM);
    assert_int_equal(vmsim_proc_info(sim, 2, &(vmsim_proc_info_t){ 0 }), VMSIM_ESRCH);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_writes),
        cmocka_unit_test(test_child_reads),
        cmocka_unit_test(test_parent_writes_while_child_lives),
        cmocka_unit_test(test_parent_writes_after_child_exit),
        cmocka_unit_test(test_zero_page_and_untouched_vmas),
        cmocka_unit_test(test_data_isolation),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_fork_commit_strict),
    };
    return cmocka_run_group_tests_name("cow", tests, NULL, NULL);
}
