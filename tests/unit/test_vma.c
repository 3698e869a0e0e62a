/*
 * test_vma.c -- mmap placement, merging, splitting, munmap, mprotect and
 * brk, with Linux's error numbers. Addresses are those of a process with
 * ASLR off: mmap_base = TASK_SIZE - 128 MiB = 0x7ffff7fff000.
 */
#include "test_util.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)
#define PRIV_ANON (VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS)

static int do_mmap(vmsim_t *sim, vmsim_vaddr_t addr, uint64_t len, unsigned prot,
                   unsigned flags, vmsim_vaddr_t *out)
{
    vmsim_mmap_req_t req = { .addr = addr, .len = len, .prot = prot, .flags = flags };

    return vmsim_mmap(sim, 1, &req, out);
}

static size_t maps(vmsim_t *sim, vmsim_vma_info_t *v, size_t n)
{
    return vmsim_maps(sim, 1, v, n);
}

static void test_topdown_and_merge(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a, b, c;
    vmsim_vma_info_t v[4];

    (void)state;
    assert_int_equal(do_mmap(sim, 0, 100 * KiB, RW, PRIV_ANON, &a), 0);
    assert_int_equal(a, 0x7ffff7fff000ull - 100 * KiB);
    assert_int_equal(do_mmap(sim, 0, 4096, RW, PRIV_ANON, &b), 0);
    assert_int_equal(b, a - 4096);
    /* same flags and adjacent: one VMA, as /proc/PID/maps would show */
    assert_int_equal(maps(sim, v, 4), 1);
    assert_int_equal(v[0].start, b);
    assert_int_equal(v[0].end, 0x7ffff7fff000ull);
    /* different protection: a VMA of its own */
    assert_int_equal(do_mmap(sim, 0, 4096, VMSIM_PROT_READ, PRIV_ANON, &c), 0);
    assert_int_equal(c, b - 4096);
    assert_int_equal(maps(sim, v, 4), 2);
    assert_int_equal(test_info(sim, 1).vmsize, 100 * KiB + 8192);
    /* A multiple of 2 MiB without a hint is aligned for THP (Linux >=
     * 6.12): searched with 2 MiB of padding, then moved up to the next
     * 2 MiB boundary. 0x7ffff7fff000 - 100 KiB - 8 KiB - 102 MiB, rounded
     * up to 2 MiB, is 0x7ffff1a00000. */
    assert_int_equal(do_mmap(sim, 0, 100 * MiB, RW, PRIV_ANON, &a), 0);
    assert_int_equal(a, 0x7ffff1a00000ull);
    /* the gap it left above is used by the next small mapping */
    assert_int_equal(do_mmap(sim, 0, 4096, VMSIM_PROT_EXEC, PRIV_ANON, &b), 0);
    assert_int_equal(b, c - 4096);
    test_sim_free(sim);
}

static void test_hint_and_fixed(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a, b;

    (void)state;
    /* a free hint is honoured */
    assert_int_equal(do_mmap(sim, 0x10000000, 8192, RW, PRIV_ANON, &a), 0);
    assert_int_equal(a, 0x10000000);
    /* a taken hint is not: the top-down search places it */
    assert_int_equal(do_mmap(sim, 0x10000000, 4096, RW, PRIV_ANON, &b), 0);
    assert_int_equal(b, 0x7ffff7fff000ull - 4096);
    /* an unaligned hint is rounded down */
    assert_int_equal(do_mmap(sim, 0x20000123, 4096, RW, PRIV_ANON, &b), 0);
    assert_int_equal(b, 0x20000000);
    /* MAP_FIXED replaces what was there */
    test_touch(sim, 1, a, 8192, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).vmrss, 8192);
    assert_int_equal(do_mmap(sim, a + 4096, 4096, RW, PRIV_ANON | VMSIM_MAP_FIXED, &b), 0);
    assert_int_equal(b, a + 4096);
    assert_int_equal(test_info(sim, 1).vmrss, 4096);
    test_sim_free(sim);
}

static void test_mmap_errors(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = 0;

    (void)state;
    /* the last usable page is 0x7fffffffe000; one page above fails */
    assert_int_equal(do_mmap(sim, 0x7fffffffe000ull, 4096, RW, PRIV_ANON | VMSIM_MAP_FIXED, &a), 0);
    assert_int_equal(a, 0x7fffffffe000ull);
    assert_int_equal(do_mmap(sim, 0x7ffffffff000ull, 4096, RW, PRIV_ANON | VMSIM_MAP_FIXED, &a),
                     VMSIM_SYS_ENOMEM);
    assert_int_equal(test_info(sim, 1).last_errno, VMSIM_SYS_ENOMEM);
    assert_int_equal(do_mmap(sim, 0, 0, RW, PRIV_ANON, &a), VMSIM_SYS_EINVAL);
    assert_int_equal(do_mmap(sim, 0, 4096, RW, VMSIM_MAP_ANONYMOUS, &a), VMSIM_SYS_EINVAL);
    assert_int_equal(do_mmap(sim, 0, 4096, RW,
                             VMSIM_MAP_PRIVATE | VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS, &a),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(do_mmap(sim, 0x10001, 4096, RW, PRIV_ANON | VMSIM_MAP_FIXED, &a),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(do_mmap(sim, 0x1000, 4096, RW, PRIV_ANON | VMSIM_MAP_FIXED, &a),
                     VMSIM_SYS_EPERM); /* below mmap_min_addr */
    /* more than TASK_SIZE: ENOMEM in every overcommit mode */
    assert_int_equal(do_mmap(sim, 0, (uint64_t)200 << 40, RW,
                             PRIV_ANON | VMSIM_MAP_NORESERVE, &a), VMSIM_SYS_ENOMEM);
    assert_int_equal(do_mmap(sim, 0, UINT64_MAX - 100, RW, PRIV_ANON, &a), VMSIM_SYS_ENOMEM);
    assert_int_equal(test_info(sim, 1).last_errno, VMSIM_SYS_ENOMEM);
    assert_int_equal(do_mmap(sim, 0, 4096, RW, PRIV_ANON, &a), 0);
    assert_int_equal(test_info(sim, 1).last_errno, 0);
    /* pid 2 does not exist */
    {
        vmsim_mmap_req_t req = { .len = 4096, .prot = RW, .flags = PRIV_ANON };

        assert_int_equal(vmsim_mmap(sim, 2, &req, &a), VMSIM_ESRCH);
    }
    test_sim_free(sim);
}

static void test_overcommit_heuristic(void **state)
{
    /* Mode 0 refuses a single request larger than RAM + swap
     * (mm/util.c __vm_enough_memory); exactly RAM + swap is fine. */
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.swap = 32 * MiB;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    assert_int_equal(do_mmap(sim, 0, 96 * MiB + 4096, RW, PRIV_ANON, &a), VMSIM_SYS_ENOMEM);
    assert_int_equal(do_mmap(sim, 0, 96 * MiB, RW, PRIV_ANON, &a), 0);
    assert_int_equal(do_mmap(sim, 0, 96 * MiB, RW, PRIV_ANON, &a), 0); /* each alone */
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 192 * MiB);
    /* read-only and MAP_NORESERVE mappings are not charged */
    assert_int_equal(do_mmap(sim, 0, 200 * MiB, VMSIM_PROT_READ, PRIV_ANON, &a), 0);
    assert_int_equal(do_mmap(sim, 0, 200 * MiB, RW, PRIV_ANON | VMSIM_MAP_NORESERVE, &a), 0);
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 192 * MiB);
    /* CommitLimit = RAM * 50% + swap */
    assert_int_equal(test_meminfo(sim, "CommitLimit"), 64 * MiB);
    test_sim_free(sim);
}

static void test_overcommit_strict(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.overcommit_memory = 2;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    /* CommitLimit 32 MiB; Committed_AS must stay below it (less the user
     * reserve, total_vm / 32: 0 for an empty process) */
    assert_int_equal(do_mmap(sim, 0, 32 * MiB, RW, PRIV_ANON, &a), VMSIM_SYS_ENOMEM);
    assert_int_equal(do_mmap(sim, 0, 32 * MiB - 4096, RW, PRIV_ANON, &a), 0);
    /* MAP_NORESERVE does not help in mode 2 */
    assert_int_equal(do_mmap(sim, 0, 4096, RW, PRIV_ANON | VMSIM_MAP_NORESERVE, &a),
                     VMSIM_SYS_ENOMEM);
    /* mprotect to writable charges too */
    assert_int_equal(do_mmap(sim, 0, 4096, VMSIM_PROT_READ, PRIV_ANON, &a), 0);
    assert_int_equal(vmsim_mprotect(sim, 1, a, 4096, RW), VMSIM_SYS_ENOMEM);
    test_sim_free(sim);
}

static void test_munmap_splits(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a;
    vmsim_vma_info_t v[4];

    (void)state;
    assert_int_equal(do_mmap(sim, 0, 16 * 4096, RW, PRIV_ANON, &a), 0);
    test_touch(sim, 1, a, 16 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_munmap(sim, 1, a + 4 * 4096, 4 * 4096), 0);
    assert_int_equal(maps(sim, v, 4), 2);
    assert_int_equal(v[0].end, a + 4 * 4096);
    assert_int_equal(v[1].start, a + 8 * 4096);
    assert_int_equal(test_info(sim, 1).vmrss, 12 * 4096);
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 12 * 4096);
    /* the page table is still shared by both halves */
    assert_int_equal(test_info(sim, 1).vmpte, 12 * KiB);
    /* unmapping nothing is fine; bad arguments are EINVAL */
    assert_int_equal(vmsim_munmap(sim, 1, 0x10000000, 4096), 0);
    assert_int_equal(vmsim_munmap(sim, 1, a + 1, 4096), VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_munmap(sim, 1, a, 0), VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_munmap(sim, 1, 0x7ffffffff000ull, 8192), VMSIM_SYS_EINVAL);
    /* an access to the hole is SEGV_MAPERR */
    assert_int_equal(vmsim_access(sim, 1, a + 5 * 4096, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 1).si_code, VMSIM_SEGV_MAPERR);
    test_sim_free(sim);
}

static void test_mprotect_split_merge(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a;
    vmsim_vma_info_t v[4];

    (void)state;
    assert_int_equal(do_mmap(sim, 0, 8 * 4096, RW, PRIV_ANON, &a), 0);
    assert_int_equal(vmsim_mprotect(sim, 1, a + 4096, 4096, VMSIM_PROT_READ), 0);
    assert_int_equal(maps(sim, v, 4), 3);
    assert_int_equal(v[1].prot, VMSIM_PROT_READ);
    assert_int_equal(vmsim_mprotect(sim, 1, a + 4096, 4096, RW), 0);
    assert_int_equal(maps(sim, v, 4), 1);
    /* a hole in the range: ENOMEM */
    assert_int_equal(vmsim_mprotect(sim, 1, a - 4096, 8192, VMSIM_PROT_READ), VMSIM_SYS_ENOMEM);
    assert_int_equal(vmsim_mprotect(sim, 1, a + 1, 4096, VMSIM_PROT_READ), VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_mprotect(sim, 1, a, 0, VMSIM_PROT_READ), 0);
    test_sim_free(sim);
}

static void test_brk(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t brk0, brk;
    vmsim_vma_info_t v[2];

    (void)state;
    assert_int_equal(vmsim_brk(sim, 1, 0, &brk0), 0);
    assert_int_equal(brk0, 0x555555559000ull);
    assert_int_equal(vmsim_brk(sim, 1, brk0 + 132 * KiB, &brk), 0);
    assert_int_equal(brk, brk0 + 132 * KiB);
    assert_int_equal(maps(sim, v, 2), 1);
    assert_string_equal(v[0].name, "[heap]");
    assert_int_equal(v[0].end - v[0].start, 132 * KiB);
    test_touch(sim, 1, brk0, 132 * KiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).vmrss, 132 * KiB);
    /* growing in place keeps one VMA; an unaligned break rounds up */
    assert_int_equal(vmsim_brk(sim, 1, brk0 + 200 * KiB + 1, &brk), 0);
    assert_int_equal(maps(sim, v, 2), 1);
    assert_int_equal(v[0].end, brk0 + 204 * KiB);
    /* shrinking frees pages */
    assert_int_equal(vmsim_brk(sim, 1, brk0 + 4096, &brk), 0);
    assert_int_equal(test_info(sim, 1).vmrss, 4096);
    /* below the start: refused, the break stays */
    assert_int_equal(vmsim_brk(sim, 1, brk0 - 4096, &brk), VMSIM_SYS_ENOMEM);
    assert_int_equal(brk, brk0 + 4096);
    /* a mapping just above blocks growth (one guard page) */
    {
        vmsim_vaddr_t a;

        assert_int_equal(do_mmap(sim, brk0 + 3 * 4096, 4096, RW,
                                 PRIV_ANON | VMSIM_MAP_FIXED, &a), 0);
        assert_int_equal(vmsim_brk(sim, 1, brk0 + 2 * 4096 + 1, &brk), VMSIM_SYS_ENOMEM);
        assert_int_equal(vmsim_brk(sim, 1, brk0 + 2 * 4096, &brk), 0);
    }
    test_sim_free(sim);
}

static void test_populate(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a;

    (void)state;
    assert_int_equal(do_mmap(sim, 0, 64 * 4096, RW, PRIV_ANON | VMSIM_MAP_POPULATE, &a), 0);
    assert_int_equal(test_info(sim, 1).vmrss, 64 * 4096);
    assert_int_equal(test_info(sim, 1).minflt, 64); /* GUP faults count */
    test_touch(sim, 1, a, 64 * 4096, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 64);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topdown_and_merge),
        cmocka_unit_test(test_hint_and_fixed),
        cmocka_unit_test(test_mmap_errors),
        cmocka_unit_test(test_overcommit_heuristic),
        cmocka_unit_test(test_overcommit_strict),
        cmocka_unit_test(test_munmap_splits),
        cmocka_unit_test(test_mprotect_split_merge),
        cmocka_unit_test(test_brk),
        cmocka_unit_test(test_populate),
    };
    return cmocka_run_group_tests_name("vma", tests, NULL, NULL);
}
