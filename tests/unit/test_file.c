/*
 * test_file.c -- files, the page cache, shared memory.
 *
 * The 100 MiB figures are Linux 6.18's, measured (issue 3's acceptance):
 * a cold file read through a MADV_RANDOM mapping takes one major fault per
 * page (25600); with the file cached by read(), a mapping read with the
 * default fault-around (64 KiB = 16 pages per fault) takes 1600 minor
 * faults; MAP_PRIVATE writes take 25600 minor faults and leave the file
 * unchanged.
 */
#include "test_util.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)
static const uint64_t SZ = 100 * MiB;

static vmsim_t *new_sim(bool track)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = GiB;
    cfg.track_data = track;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    return sim;
}

static vmsim_vaddr_t map_file(vmsim_t *sim, vmsim_pid_t pid, const char *name, uint64_t len,
                              unsigned prot, unsigned flags)
{
    vmsim_mmap_req_t req = { .len = len, .prot = prot, .flags = flags, .file = name };
    vmsim_vaddr_t va = 0;

    assert_int_equal(vmsim_mmap(sim, pid, &req, &va), 0);
    return va;
}

static void test_cold_random(void **state)
{
    vmsim_t *sim = new_sim(false);
    vmsim_vaddr_t va;

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "data", SZ, NULL, 0), 0);
    va = map_file(sim, 1, "data", SZ, VMSIM_PROT_READ, VMSIM_MAP_PRIVATE);
    assert_int_equal(va % (2 * MiB), 0); /* thp_get_unmapped_area */
    assert_int_equal(vmsim_madvise(sim, 1, va, SZ, VMSIM_MADV_RANDOM), 0);
    test_touch(sim, 1, va, SZ, VMSIM_READ);
    assert_int_equal(test_info(sim, 1).majflt, 25600);
    assert_int_equal(test_info(sim, 1).minflt, 0);
    assert_int_equal(test_vmstat(sim, "pgmajfault"), 25600);
    assert_int_equal(test_meminfo(sim, "Cached"), SZ);
    assert_int_equal(test_info(sim, 1).rss_file, SZ);
    test_sim_free(sim);
}

static void test_warm_fault_around(void **state)
{
    vmsim_t *sim = new_sim(false);
    vmsim_vaddr_t va;

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "data", SZ, NULL, 0), 0);
    assert_int_equal(vmsim_file_read(sim, 1, "data", 0, SZ, NULL, NULL), 0);
    assert_int_equal(test_info(sim, 1).majflt, 0); /* read() does not fault */
    assert_int_equal(test_meminfo(sim, "Cached"), SZ);
    va = map_file(sim, 1, "data", SZ, VMSIM_PROT_READ, VMSIM_MAP_PRIVATE);
    test_touch(sim, 1, va, SZ, VMSIM_READ);
    assert_int_equal(test_info(sim, 1).minflt, 1600);
    assert_int_equal(test_info(sim, 1).majflt, 0);
    assert_int_equal(test_meminfo(sim, "Mapped"), SZ);
    test_sim_free(sim);
}

static void test_cold_readaround(void **state)
{
    /* Without advice a miss reads 32 pages (read_ahead_kb 128) from
     * max(0, fault - 16): the first fault reads pages 0..31
     * (do_sync_mmap_readahead); fault-around then maps cached pages 16 at
     * a time. */
    vmsim_t *sim = new_sim(false);
    vmsim_vaddr_t va;

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "data", 4 * MiB, NULL, 0), 0);
    va = map_file(sim, 1, "data", 4 * MiB, VMSIM_PROT_READ, VMSIM_MAP_SHARED);
    assert_int_equal(vmsim_access(sim, 1, va, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 1).majflt, 1);
    assert_int_equal(test_meminfo(sim, "Cached"), 32 * 4096);
    test_touch(sim, 1, va, 32 * 4096, VMSIM_READ);
    assert_int_equal(test_info(sim, 1).minflt, 2); /* page 1 maps 1..15, page 16 16..31 */
    assert_int_equal(test_info(sim, 1).majflt, 1);
    /* page 32 misses: read-around reads 16..47, only 32..47 are new */
    assert_int_equal(vmsim_access(sim, 1, va + 32 * 4096, 1, VMSIM_READ, NULL), 0);
    assert_int_equal(test_info(sim, 1).majflt, 2);
    assert_int_equal(test_meminfo(sim, "Cached"), 48 * 4096);
    test_sim_free(sim);
}

static void test_private_write(void **state)
{
    vmsim_t *sim = new_sim(true);
    vmsim_vaddr_t va;
    char buf[6] = { 0 };

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "hello.txt", SZ, "hello", 5), 0);
    assert_int_equal(vmsim_file_read(sim, 1, "hello.txt", 0, SZ, NULL, NULL), 0);
    va = map_file(sim, 1, "hello.txt", SZ, RW, VMSIM_MAP_PRIVATE);
    test_touch(sim, 1, va, SZ, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 25600);
    assert_int_equal(test_info(sim, 1).cow, 25600);
    assert_int_equal(test_info(sim, 1).rss_anon, SZ);
    assert_int_equal(vmsim_write_data(sim, 1, va, "HELLO", 5, NULL), 0);
    assert_int_equal(vmsim_msync(sim, 1, va, SZ), 0);
    assert_int_equal(vmsim_file_peek(sim, "hello.txt", 0, buf, 5, NULL), 0);
    assert_string_equal(buf, "hello");
    assert_int_equal(test_meminfo(sim, "Committed_AS"), SZ);
    test_sim_free(sim);
}

static void test_shared_write_msync(void **state)
{
    vmsim_t *sim = new_sim(true);
    vmsim_vaddr_t va;
    char buf[6] = { 0 };
    unsigned out;

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "hello.txt", 6, "hello\n", 6), 0);
    va = map_file(sim, 1, "hello.txt", 6, RW, VMSIM_MAP_SHARED);
    assert_int_equal(vmsim_read_data(sim, 1, va, buf, 5, &out), 0);
    assert_string_equal(buf, "hello");
    assert_true(out & VMSIM_OUT_MAJOR);
    /* read-only until written: the write is a fault that dirties the page */
    assert_int_equal(vmsim_write_data(sim, 1, va, "HELLO", 5, &out), 0);
    assert_true(out & VMSIM_OUT_MINOR);
    assert_int_equal(test_meminfo(sim, "Dirty"), 4096);
    assert_int_equal(vmsim_msync(sim, 1, va, 4096), 0);
    assert_int_equal(test_meminfo(sim, "Dirty"), 0);
    /* msync write-protected the page again */
    assert_int_equal(vmsim_access(sim, 1, va, 1, VMSIM_WRITE, &out), 0);
    assert_true(out & VMSIM_OUT_MINOR);
    assert_int_equal(vmsim_munmap(sim, 1, va, 4096), 0);
    assert_int_equal(test_meminfo(sim, "Dirty"), 0); /* written back at munmap */
    /* after drop_caches a new mapping reads the file from disk */
    assert_int_equal(vmsim_sysctl_set(sim, "vm.drop_caches", "3"), 0);
    assert_int_equal(test_meminfo(sim, "Cached"), 0);
    va = map_file(sim, 1, "hello.txt", 6, VMSIM_PROT_READ, VMSIM_MAP_SHARED);
    assert_int_equal(vmsim_read_data(sim, 1, va, buf, 5, &out), 0);
    assert_true(out & VMSIM_OUT_MAJOR);
    assert_string_equal(buf, "HELLO");
    test_sim_free(sim);
}

static void test_sigbus(void **state)
{
    vmsim_t *sim = new_sim(false);
    vmsim_vaddr_t va;
    vmsim_proc_info_t info;

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "small", 100, NULL, 0), 0);
    va = map_file(sim, 1, "small", 3 * 4096, VMSIM_PROT_READ, VMSIM_MAP_PRIVATE);
    assert_int_equal(vmsim_access(sim, 1, va + 4095, 1, VMSIM_READ, NULL), 0);
    assert_true(test_info(sim, 1).alive); /* within the last partial page */
    assert_int_equal(vmsim_access(sim, 1, va + 4096, 1, VMSIM_READ, NULL), 0);
    info = test_info(sim, 1);
    assert_false(info.alive);
    assert_int_equal(info.signal, VMSIM_SIGBUS);
    assert_int_equal(info.si_code, VMSIM_BUS_ADRERR);
    assert_int_equal(test_vmstat(sim, "pgfault"), 2); /* counted, not in minflt */
    assert_int_equal(info.minflt + info.majflt, 1);
    test_sim_free(sim);
}

static void test_buff_cache_and_drop(void **state)
{
    vmsim_t *sim = new_sim(false);
    uint64_t avail0 = test_meminfo(sim, "MemAvailable");

    (void)state;
    assert_int_equal(vmsim_file_create(sim, "big", 64 * MiB, NULL, 0), 0);
    assert_int_equal(test_meminfo(sim, "Cached"), 0);
    assert_int_equal(vmsim_file_read(sim, 1, "big", 0, 64 * MiB, NULL, NULL), 0);
    assert_int_equal(test_meminfo(sim, "Cached"), 64 * MiB);
    assert_int_equal(test_vmstat(sim, "pgpgin"), 64 * 1024);
    /* page cache counts as available, less what must stay */
    assert_true(test_meminfo(sim, "MemAvailable") > avail0 - 64 * MiB);
    assert_int_equal(vmsim_sysctl_set(sim, "vm.drop_caches", "1"), 0);
    assert_int_equal(test_meminfo(sim, "Cached"), 0);
    assert_int_equal(test_meminfo(sim, "MemAvailable"), avail0);
    assert_int_equal(test_vmstat(sim, "drop_pagecache"), 1);
    assert_int_equal(vmsim_sysctl_set(sim, "vm.drop_caches", "4"), VMSIM_EINVAL);
    assert_int_equal(vmsim_sysctl_set(sim, "vm.nope", "1"), VMSIM_ENOENT);
    test_sim_free(sim);
}

static void test_shared_anon_across_fork(void **state)
{
    vmsim_t *sim = new_sim(true);
    vmsim_vaddr_t va = 0;
    vmsim_mmap_req_t req = { .len = 8192, .prot = RW,
                             .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS };
    char buf[4] = { 0 };
    vmsim_vma_info_t v;

    (void)state;
    assert_int_equal(vmsim_mmap(sim, 1, &req, &va), 0);
    assert_int_equal(vmsim_maps(sim, 1, &v, 1), 1);
    assert_string_equal(v.name, "/dev/zero (deleted)");
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 8192);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_write_data(sim, 2, va, "abc", 3, NULL), 0);
    assert_int_equal(vmsim_read_data(sim, 1, va, buf, 3, NULL), 0);
    assert_string_equal(buf, "abc");
    assert_int_equal(test_info(sim, 1).rss_shmem, 4096);
    assert_int_equal(test_meminfo(sim, "Shmem"), 4096);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    assert_int_equal(vmsim_munmap(sim, 1, va, 8192), 0);
    assert_int_equal(test_meminfo(sim, "Shmem"), 0);
    assert_int_equal(test_meminfo(sim, "Committed_AS"), 0);
    test_sim_free(sim);
}

static void test_dev_shm(void **state)
{
    vmsim_t *sim = new_sim(true);
    vmsim_vaddr_t a, b;
    char buf[6] = { 0 };

    (void)state;
    assert_int_equal(vmsim_spawn(sim, 2, "q", 0), 0);
    assert_int_equal(vmsim_file_create(sim, "/dev/shm/box", 4096, NULL, 0), 0);
    a = map_file(sim, 1, "/dev/shm/box", 4096, RW, VMSIM_MAP_SHARED);
    assert_int_equal(vmsim_write_data(sim, 1, a, "shared", 6, NULL), 0);
    assert_int_equal(vmsim_exit(sim, 1), 0);
    b = map_file(sim, 2, "/dev/shm/box", 4096, VMSIM_PROT_READ, VMSIM_MAP_SHARED);
    assert_int_equal(vmsim_read_data(sim, 2, b, buf, 6, NULL), 0);
    assert_memory_equal(buf, "shared", 6);
    assert_int_equal(test_info(sim, 2).majflt, 0); /* tmpfs never waits for I/O */
    /* drop_caches leaves shmem alone */
    assert_int_equal(vmsim_sysctl_set(sim, "vm.drop_caches", "3"), 0);
    assert_int_equal(test_meminfo(sim, "Shmem"), 4096);
    assert_int_equal(vmsim_file_create(sim, "/dev/shm/box", 1, NULL, 0), VMSIM_EEXIST);
    test_sim_free(sim);
}

static void test_madvise(void **state)
{
    vmsim_t *sim = new_sim(false);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 16 * 4096, RW, 0);
    vmsim_vma_info_t v[4];

    (void)state;
    test_touch(sim, 1, a, 16 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_madvise(sim, 1, a, 8 * 4096, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_info(sim, 1).vmrss, 8 * 4096);
    test_touch(sim, 1, a, 16 * 4096, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 24);
    assert_int_equal(vmsim_madvise(sim, 1, a + 4096, 4096, VMSIM_MADV_HUGEPAGE), 0);
    assert_int_equal(vmsim_maps(sim, 1, v, 4), 3);
    assert_true(v[1].flags & VMSIM_VMA_HUGEPAGE);
    assert_int_equal(vmsim_madvise(sim, 1, a + 4096, 4096, VMSIM_MADV_NOHUGEPAGE), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a + 1, 4096, VMSIM_MADV_RANDOM), VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_madvise(sim, 1, a - 4096, 8192, VMSIM_MADV_RANDOM),
                     VMSIM_SYS_ENOMEM);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4096, (vmsim_advice)99), VMSIM_SYS_EINVAL);
    assert_int_equal(test_info(sim, 1).last_errno, VMSIM_SYS_EINVAL);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_random),
        cmocka_unit_test(test_warm_fault_around),
        cmocka_unit_test(test_cold_readaround),
        cmocka_unit_test(test_private_write),
        cmocka_unit_test(test_shared_write_msync),
        cmocka_unit_test(test_sigbus),
        cmocka_unit_test(test_buff_cache_and_drop),
        cmocka_unit_test(test_shared_anon_across_fork),
        cmocka_unit_test(test_dev_shm),
        cmocka_unit_test(test_madvise),
    };
    return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
