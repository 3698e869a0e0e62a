/*
 * test_hard_cases.c -- the cases that break virtual-memory implementations,
 * one named test each, all with track_data so a mix-up between pages shows
 * as wrong bytes (Linux's tools/testing/selftests/mm/cow.c enumerates the
 * same families: COW of swapped pages, of THPs, after partial unmap).
 *
 * Every page a test writes holds a pattern derived from (tag, page), so a
 * page that comes back from swap, a copy or a split in the wrong place is
 * named by the failure message. vmsim_check() runs after every step.
 */
#include "test_util.h"

#define RW   (VMSIM_PROT_READ | VMSIM_PROT_WRITE)
#define PAGE 4096u

/* A machine with track_data; pid 1 spawned. */
static vmsim_t *hc_sim(uint64_t memory, uint64_t swap, vmsim_thp_mode thp, const char *policy)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = memory;
    cfg.swap = swap;
    cfg.thp = thp;
    cfg.track_data = true;
    if (policy != NULL)
        cfg.policy = policy;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "parent", 0), 0);
    return sim;
}

/* The pattern of page `page` under `tag`: every byte depends on both. */
static void fill_page(uint8_t *b, uint32_t tag, uint64_t page)
{
    uint64_t x = (tag * 0x9e3779b97f4a7c15ull) ^ (page * 0xbf58476d1ce4e5b9ull) ^ 1;

    for (unsigned i = 0; i < PAGE; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(b + i, &x, 8);
    }
}

/* Write the pattern (tag, first + i) to n whole pages at va. */
static void write_pages(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t n,
                        uint32_t tag, uint64_t first)
{
    uint8_t b[PAGE];

    for (uint64_t i = 0; i < n; i++) {
        unsigned out = 0;

        fill_page(b, tag, first + i);
        assert_int_equal(vmsim_write_data(sim, pid, va + i * PAGE, b, PAGE, &out), 0);
        if (out & (VMSIM_OUT_SEGV | VMSIM_OUT_BUS | VMSIM_OUT_OOM))
            fail_msg("pid %d: write of page %#llx: outcome %#x", pid,
                     (unsigned long long)(va + i * PAGE), out);
    }
}

/* Read n pages at va and compare with the pattern (tag, first + i); tag 0
 * means zeros. */
static void expect_pages(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t n,
                         uint32_t tag, uint64_t first)
{
    uint8_t want[PAGE], got[PAGE];

    for (uint64_t i = 0; i < n; i++) {
        unsigned out = 0;

        if (tag == 0)
            memset(want, 0, PAGE);
        else
            fill_page(want, tag, first + i);
        assert_int_equal(vmsim_read_data(sim, pid, va + i * PAGE, got, PAGE, &out), 0);
        if (out & (VMSIM_OUT_SEGV | VMSIM_OUT_BUS | VMSIM_OUT_OOM))
            fail_msg("pid %d: read of page %#llx: outcome %#x", pid,
                     (unsigned long long)(va + i * PAGE), out);
        if (memcmp(want, got, PAGE) != 0) {
            unsigned at = 0;

            while (want[at] == got[at])
                at++;
            fail_msg("pid %d: page %#llx (index %llu) differs from pattern %u/%llu at byte %u",
                     pid, (unsigned long long)(va + i * PAGE), (unsigned long long)(first + i),
                     tag, (unsigned long long)(first + i), at);
        }
    }
}

static bool swapped(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va)
{
    vmsim_pte_info_t pte;

    assert_int_equal(vmsim_pte_lookup(sim, pid, va, &pte), 0);
    return pte.swap;
}

/* A hog process (pid 9) writes `len` bytes, pushing older pages out. */
static void hog(vmsim_t *sim, uint64_t len)
{
    vmsim_vaddr_t h;

    assert_int_equal(vmsim_spawn(sim, 9, "hog", 0), 0);
    h = test_mmap_anon(sim, 9, 0, len, RW, 0);
    assert_int_equal(vmsim_madvise(sim, 9, h, len, VMSIM_MADV_NOHUGEPAGE), 0);
    test_touch(sim, 9, h, len, VMSIM_WRITE);
    test_check(sim);
}

/* COW of a swapped-out page: the page goes to swap before the fork (both
 * entries then name one slot), and after it (reclaim of a page mapped by
 * two processes). Each side's write must copy, never steal, the other's
 * data; the writer may be the parent or the child. */
static void test_cow_of_swapped_page(void **state)
{
    (void)state;
    for (int writer = 1; writer <= 2; writer++) {
        vmsim_t *sim = hc_sim(64 * MiB, 64 * MiB, VMSIM_THP_NEVER, NULL);
        vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 16 * PAGE, RW, 0);
        vmsim_pid_t other = writer == 1 ? 2 : 1;

        write_pages(sim, 1, a, 16, 1, 0);
        assert_int_equal(vmsim_madvise(sim, 1, a, 16 * PAGE, VMSIM_MADV_PAGEOUT), 0);
        assert_true(swapped(sim, 1, a));
        test_check(sim);
        assert_int_equal(vmsim_fork(sim, 1, 2), 0);
        assert_true(swapped(sim, 2, a));
        test_check(sim);
        /* the writer overwrites every other page: swap-in + copy */
        for (uint64_t i = 0; i < 16; i += 2) {
            write_pages(sim, writer, a + i * PAGE, 1, 2, i);
            test_check(sim);
        }
        for (uint64_t i = 0; i < 16; i++) {
            expect_pages(sim, other, a + i * PAGE, 1, 1, i);
            expect_pages(sim, writer, a + i * PAGE, 1, i % 2 ? 1 : 2, i);
        }
        test_check(sim);
        /* and once more after both sides went to swap again */
        assert_int_equal(vmsim_madvise(sim, 1, a, 16 * PAGE, VMSIM_MADV_PAGEOUT), 0);
        assert_int_equal(vmsim_madvise(sim, 2, a, 16 * PAGE, VMSIM_MADV_PAGEOUT), 0);
        test_check(sim);
        write_pages(sim, other, a + PAGE, 1, 3, 1);
        expect_pages(sim, writer, a + PAGE, 1, 1, 1);
        expect_pages(sim, other, a + PAGE, 1, 3, 1);
        expect_pages(sim, other, a, 1, 1, 0);
        expect_pages(sim, writer, a, 1, 2, 0);
        test_sim_free(sim);
    }
}

static void test_cow_shared_page_swapped_by_reclaim(void **state)
{
    /* fifo: the oldest pages (the shared ones) are evicted first */
    vmsim_t *sim = hc_sim(64 * MiB, 128 * MiB, VMSIM_THP_NEVER, "fifo");
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 64 * PAGE, RW, 0);
    uint64_t nswapped = 0;

    (void)state;
    write_pages(sim, 1, a, 64, 1, 0);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_check(sim);
    hog(sim, 96 * MiB);
    for (uint64_t i = 0; i < 64; i++)
        nswapped += swapped(sim, 1, a + i * PAGE) && swapped(sim, 2, a + i * PAGE);
    assert_true(nswapped > 0);
    /* the child writes the odd pages, the parent the pages = 2 mod 4 */
    for (uint64_t i = 1; i < 64; i += 2)
        write_pages(sim, 2, a + i * PAGE, 1, 2, i);
    test_check(sim);
    for (uint64_t i = 2; i < 64; i += 4)
        write_pages(sim, 1, a + i * PAGE, 1, 3, i);
    test_check(sim);
    for (uint64_t i = 0; i < 64; i++) {
        expect_pages(sim, 1, a + i * PAGE, 1, i % 4 == 2 ? 3 : 1, i);
        expect_pages(sim, 2, a + i * PAGE, 1, i % 2 ? 2 : 1, i);
    }
    test_sim_free(sim);
}

/* COW of a THP, then swap-out: the parent's THP stays PMD-mapped, the
 * child's mapping is split by its write fault; then everything is pushed
 * to swap (MADV_PAGEOUT in the parent, then reclaim) and read back. */
static void test_cow_of_thp_then_swapout(void **state)
{
    vmsim_t *sim = hc_sim(64 * MiB, 128 * MiB, VMSIM_THP_ALWAYS, NULL);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 4 * MiB, RW, VMSIM_MAP_FIXED);
    const uint64_t n = 4 * MiB / PAGE;

    (void)state;
    write_pages(sim, 1, a, n, 1, 0);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 4 * MiB);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_check(sim);
    /* the child writes one page in the first THP, the parent one page in
     * the second: a COW in each direction */
    write_pages(sim, 2, a + 5 * PAGE, 1, 2, 5);
    test_check(sim);
    write_pages(sim, 1, a + 2 * MiB + 7 * PAGE, 1, 3, 512 + 7);
    test_check(sim);
    /* the parent pages out what it maps alone */
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_PAGEOUT), 0);
    test_check(sim);
    assert_int_equal(vmsim_madvise(sim, 2, a, 4 * MiB, VMSIM_MADV_PAGEOUT), 0);
    test_check(sim);
    /* then memory pressure takes the rest */
    hog(sim, 100 * MiB);
    assert_true(test_info(sim, 1).vmswap > 0);
    assert_true(test_info(sim, 2).vmswap > 0);
    for (uint64_t i = 0; i < n; i++) {
        expect_pages(sim, 1, a + i * PAGE, 1, i == 512 + 7 ? 3 : 1, i);
        expect_pages(sim, 2, a + i * PAGE, 1, i == 5 ? 2 : 1, i);
    }
    test_check(sim);
    /* writes after the swap round trip stay private */
    write_pages(sim, 2, a + 512 * PAGE, 1, 4, 512);
    expect_pages(sim, 1, a + 512 * PAGE, 1, 1, 512);
    assert_int_equal(vmsim_exit(sim, 9), 0);
    assert_int_equal(vmsim_swapoff(sim), 0);
    test_check(sim);
    expect_pages(sim, 1, a, 5, 1, 0);
    expect_pages(sim, 2, a + 512 * PAGE, 1, 4, 512);
    test_sim_free(sim);
}

/* Fork while pages sit in the swap cache: paged out, read back with the
 * slot kept (clean swap cache), then forked. Writes on either side must
 * copy or reuse correctly, and a second page-out must not reuse a stale
 * slot for a page that changed. */
static void test_fork_with_swap_cache(void **state)
{
    vmsim_t *sim = hc_sim(64 * MiB, 64 * MiB, VMSIM_THP_NEVER, NULL);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 32 * PAGE, RW, 0);

    (void)state;
    write_pages(sim, 1, a, 32, 1, 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 32 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    expect_pages(sim, 1, a, 32, 1, 0); /* read faults keep the slots */
    assert_true(test_meminfo(sim, "SwapCached") > 0);
    test_check(sim);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_check(sim);
    write_pages(sim, 2, a, 8, 2, 0);        /* child writes pages 0..7 */
    write_pages(sim, 1, a + 8 * PAGE, 8, 3, 8); /* parent writes 8..15 */
    test_check(sim);
    expect_pages(sim, 1, a, 8, 1, 0);
    expect_pages(sim, 2, a + 8 * PAGE, 8, 1, 8);
    /* the child exits: the parent's pages 16..31 are its own again, still
     * in the swap cache; writing them must drop the slot's old content */
    assert_int_equal(vmsim_exit(sim, 2), 0);
    test_check(sim);
    write_pages(sim, 1, a + 16 * PAGE, 8, 4, 16);
    assert_int_equal(vmsim_madvise(sim, 1, a, 32 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    test_check(sim);
    expect_pages(sim, 1, a, 8, 1, 0);
    expect_pages(sim, 1, a + 8 * PAGE, 8, 3, 8);
    expect_pages(sim, 1, a + 16 * PAGE, 8, 4, 16);
    expect_pages(sim, 1, a + 24 * PAGE, 8, 1, 24);
    /* again with a live child and a swapoff at the end */
    assert_int_equal(vmsim_fork(sim, 1, 3), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 32 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    write_pages(sim, 3, a + 24 * PAGE, 4, 5, 24);
    test_check(sim);
    assert_int_equal(vmsim_swapoff(sim), 0);
    test_check(sim);
    expect_pages(sim, 1, a + 24 * PAGE, 8, 1, 24);
    expect_pages(sim, 3, a + 24 * PAGE, 4, 5, 24);
    expect_pages(sim, 3, a + 28 * PAGE, 4, 1, 28);
    expect_pages(sim, 3, a, 8, 1, 0);
    test_sim_free(sim);
}

/* munmap splitting a THP that is shared after fork: each side unmaps a
 * different piece; the other keeps all 512 pages; the survivors of the
 * split folio keep their bytes. */
static void test_munmap_splits_shared_thp(void **state)
{
    vmsim_t *sim = hc_sim(64 * MiB, 0, VMSIM_THP_ALWAYS, NULL);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 2 * MiB, RW, VMSIM_MAP_FIXED);

    (void)state;
    write_pages(sim, 1, a, 512, 1, 0);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 2 * MiB);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    test_check(sim);
    assert_int_equal(vmsim_munmap(sim, 1, a + 100 * PAGE, 3 * PAGE), 0);
    test_check(sim);
    expect_pages(sim, 2, a, 512, 1, 0);
    expect_pages(sim, 1, a, 100, 1, 0);
    expect_pages(sim, 1, a + 103 * PAGE, 512 - 103, 1, 103);
    assert_int_equal(vmsim_munmap(sim, 2, a + 256 * PAGE, 256 * PAGE), 0);
    test_check(sim);
    expect_pages(sim, 1, a + 103 * PAGE, 512 - 103, 1, 103);
    expect_pages(sim, 2, a, 256, 1, 0);
    /* COW after the split, both directions */
    write_pages(sim, 1, a + 300 * PAGE, 1, 2, 300);
    write_pages(sim, 2, a + 10 * PAGE, 1, 3, 10);
    test_check(sim);
    expect_pages(sim, 2, a + 9 * PAGE, 1, 1, 9);
    expect_pages(sim, 2, a + 10 * PAGE, 1, 3, 10);
    expect_pages(sim, 1, a + 10 * PAGE, 1, 1, 10);
    expect_pages(sim, 1, a + 300 * PAGE, 1, 2, 300);
    assert_int_equal(vmsim_exit(sim, 1), 0);
    test_check(sim);
    expect_pages(sim, 2, a, 10, 1, 0);
    /* a partial munmap in the last mapper of a split folio */
    assert_int_equal(vmsim_munmap(sim, 2, a + 50 * PAGE, PAGE), 0);
    test_check(sim);
    expect_pages(sim, 2, a + 51 * PAGE, 10, 1, 51);
    test_sim_free(sim);
}

/* MAP_PRIVATE file page after the file changes. Linux: until the mapping
 * writes a page, it maps the page cache, so write(2) and MAP_SHARED stores
 * show through; once it writes, it has its own copy; MADV_DONTNEED drops
 * the copy and the file shows again. Dirty data survives drop_caches and
 * reclaim (write-back, then a reread from disk). */
static void file_private_case(const char *name)
{
    vmsim_t *sim = hc_sim(64 * MiB, 0, VMSIM_THP_NEVER, NULL);
    uint8_t init[4 * PAGE], got[PAGE], want[PAGE];
    vmsim_mmap_req_t req = {
        .len = 4 * PAGE,
        .prot = RW,
        .flags = VMSIM_MAP_PRIVATE,
        .file = name,
    };
    vmsim_vaddr_t priv, shared;

    for (unsigned i = 0; i < 4; i++)
        fill_page(init + i * PAGE, 1, i);
    assert_int_equal(vmsim_file_create(sim, name, 4 * PAGE, init, sizeof(init)), 0);
    assert_int_equal(vmsim_mmap(sim, 1, &req, &priv), 0);
    assert_int_equal(vmsim_spawn(sim, 2, "writer", 0), 0);
    req.flags = VMSIM_MAP_SHARED;
    assert_int_equal(vmsim_mmap(sim, 2, &req, &shared), 0);

    /* page 0: read first (mapped from the cache), then the file changes */
    expect_pages(sim, 1, priv, 1, 1, 0);
    fill_page(want, 2, 0);
    assert_int_equal(vmsim_file_write(sim, 2, name, 0, PAGE, want), 0);
    test_check(sim);
    expect_pages(sim, 1, priv, 1, 2, 0);
    /* page 1: never touched before the change, changed via MAP_SHARED */
    write_pages(sim, 2, shared + PAGE, 1, 3, 1);
    expect_pages(sim, 1, priv + PAGE, 1, 3, 1);
    /* page 2: the private mapping writes a few bytes: its own copy from now */
    assert_int_equal(vmsim_write_data(sim, 1, priv + 2 * PAGE + 10, "private", 7, NULL), 0);
    fill_page(want, 4, 2);
    assert_int_equal(vmsim_file_write(sim, 2, name, 2 * PAGE, PAGE, want), 0);
    write_pages(sim, 2, shared + 2 * PAGE, 1, 5, 2);
    test_check(sim);
    fill_page(want, 1, 2);
    memcpy(want + 10, "private", 7);
    assert_int_equal(vmsim_read_data(sim, 1, priv + 2 * PAGE, got, PAGE, NULL), 0);
    assert_memory_equal(got, want, PAGE);
    /* the file has the shared store; read(2) says so */
    fill_page(want, 5, 2);
    assert_int_equal(vmsim_file_read(sim, 1, name, 2 * PAGE, PAGE, got, NULL), 0);
    assert_memory_equal(got, want, PAGE);
    /* MADV_DONTNEED drops the private copy: the file shows again */
    assert_int_equal(vmsim_madvise(sim, 1, priv + 2 * PAGE, PAGE, VMSIM_MADV_DONTNEED), 0);
    test_check(sim);
    expect_pages(sim, 1, priv + 2 * PAGE, 1, 5, 2);
    /* page 3 changes through the shared map, is synced and the cache
     * dropped: the private mapping rereads it from disk */
    write_pages(sim, 2, shared + 3 * PAGE, 1, 6, 3);
    assert_int_equal(vmsim_msync(sim, 2, shared, 4 * PAGE), 0);
    assert_int_equal(vmsim_munmap(sim, 1, priv, 4 * PAGE), 0);
    assert_int_equal(vmsim_munmap(sim, 2, shared, 4 * PAGE), 0);
    assert_int_equal(vmsim_sysctl_set(sim, "vm.drop_caches", "3"), 0);
    test_check(sim);
    req.flags = VMSIM_MAP_PRIVATE;
    assert_int_equal(vmsim_mmap(sim, 1, &req, &priv), 0);
    expect_pages(sim, 1, priv, 1, 2, 0);
    expect_pages(sim, 1, priv + PAGE, 1, 3, 1);
    expect_pages(sim, 1, priv + 2 * PAGE, 1, 5, 2);
    expect_pages(sim, 1, priv + 3 * PAGE, 1, 6, 3);
    /* after fork the child shares the parent's private copy, and sees the
     * file for the pages neither wrote */
    write_pages(sim, 1, priv, 1, 7, 0);
    assert_int_equal(vmsim_fork(sim, 1, 3), 0);
    fill_page(want, 8, 1);
    assert_int_equal(vmsim_file_write(sim, 2, name, PAGE, PAGE, want), 0);
    fill_page(want, 9, 0);
    assert_int_equal(vmsim_file_write(sim, 2, name, 0, PAGE, want), 0);
    test_check(sim);
    expect_pages(sim, 3, priv, 1, 7, 0);
    expect_pages(sim, 1, priv, 1, 7, 0);
    expect_pages(sim, 3, priv + PAGE, 1, 8, 1);
    expect_pages(sim, 1, priv + PAGE, 1, 8, 1);
    test_sim_free(sim);
}

static void test_map_private_file_after_change(void **state)
{
    (void)state;
    file_private_case("data.bin");
}

static void test_map_private_shm_after_change(void **state)
{
    (void)state;
    file_private_case("/dev/shm/data");
}

/* OOM while a fork is copying: a parent whose address space needs many
 * page tables (one touched page per 2 MiB) forks in tiny memory. The fork
 * either succeeds, or fails cleanly (VMSIM_EOOM or ENOMEM) with no child,
 * or the OOM killer kills someone; whatever happens, the system is
 * consistent and every survivor reads its own bytes. Swept over memory
 * sizes so the failure lands at different points of the copy. */
static void test_oom_while_fork_copies(void **state)
{
    unsigned outcomes[4] = { 0 }; /* ok, clean failure, parent killed, other killed */

    (void)state;
    for (uint64_t mem = 1 * MiB; mem <= 3 * MiB; mem += 32 * KiB) {
        vmsim_t *sim = hc_sim(mem, 0, VMSIM_THP_NEVER, NULL);
        const uint64_t span = 160 * 2 * MiB;
        vmsim_vaddr_t a, b;
        uint64_t kills0;
        vmsim_proc_info_t pi;
        int rc;

        assert_int_equal(vmsim_spawn(sim, 5, "bystander", 0), 0);
        b = test_mmap_anon(sim, 5, 0, 16 * PAGE, RW, 0);
        write_pages(sim, 5, b, 16, 5, 0);
        a = test_mmap_anon(sim, 1, 0, span, RW, VMSIM_MAP_NORESERVE);
        for (uint64_t off = 0; off < span; off += 2 * MiB) {
            unsigned out = 0;
            uint8_t pg[PAGE];

            fill_page(pg, 1, off / (2 * MiB));
            assert_int_equal(vmsim_write_data(sim, 1, a + off, pg, PAGE, &out), 0);
            if (!test_info(sim, 1).alive)
                break;
        }
        test_check(sim);
        if (!test_info(sim, 1).alive) {
            vmsim_destroy(sim); /* memory too small to even set up */
            continue;
        }
        kills0 = test_vmstat(sim, "oom_kill");
        rc = vmsim_fork(sim, 1, 2);
        test_check(sim);
        if (rc == 0) {
            assert_true(test_info(sim, 2).alive || test_info(sim, 2).oom_killed);
            outcomes[0]++;
        } else {
            if (rc != VMSIM_EOOM && rc != VMSIM_SYS_ENOMEM)
                fail_msg("%llu KiB: fork returned %d (%s)", (unsigned long long)(mem / KiB),
                         rc, vmsim_err_name(rc));
            rc = vmsim_proc_info(sim, 2, &pi);
            assert_true(rc == VMSIM_ESRCH || !pi.alive);
            outcomes[1]++;
        }
        if (test_vmstat(sim, "oom_kill") > kills0)
            outcomes[test_info(sim, 1).alive ? 3 : 2]++;
        /* the survivors' bytes */
        if (test_info(sim, 5).alive)
            expect_pages(sim, 5, b, 16, 5, 0);
        for (vmsim_pid_t pid = 1; pid <= 2; pid++) {
            if (vmsim_proc_info(sim, pid, &pi) != 0 || !pi.alive)
                continue;
            for (uint64_t off = 0; off < span && pi.alive; off += 8 * 2 * MiB) {
                expect_pages(sim, pid, a + off, 1, 1, off / (2 * MiB));
                pi = test_info(sim, pid);
            }
        }
        test_check(sim);
        /* and everything goes away cleanly */
        for (vmsim_pid_t pid = 1; pid <= 5; pid++)
            if (vmsim_proc_info(sim, pid, &pi) == 0 && pi.alive)
                assert_int_equal(vmsim_exit(sim, pid), 0);
        test_check(sim);
        assert_int_equal(test_meminfo(sim, "AnonPages"), 0);
        assert_int_equal(test_meminfo(sim, "PageTables"), 0);
        vmsim_destroy(sim);
    }
    /* the sweep must have seen the fork fail, not only succeed */
    print_message("fork under OOM: %u ok, %u clean failures, %u parent killed, %u other "
                  "killed\n",
                  outcomes[0], outcomes[1], outcomes[2], outcomes[3]);
    assert_true(outcomes[1] + outcomes[2] + outcomes[3] > 0);
    assert_true(outcomes[0] > 0);
}

/* swapoff with shared swap entries: three generations share slots (fork
 * after page-out), some pages are written (the slot loses a reference),
 * some are read back into the swap cache; swapoff must bring every entry
 * of every process back with the right bytes. Shmem pages too. */
static void test_swapoff_shared_entries(void **state)
{
    vmsim_t *sim = hc_sim(64 * MiB, 64 * MiB, VMSIM_THP_NEVER, NULL);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 64 * PAGE, RW, 0);
    vmsim_mmap_req_t req = {
        .len = 16 * PAGE,
        .prot = RW,
        .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS,
    };
    vmsim_vaddr_t s;

    (void)state;
    assert_int_equal(vmsim_mmap(sim, 1, &req, &s), 0);
    write_pages(sim, 1, a, 64, 1, 0);
    write_pages(sim, 1, s, 16, 6, 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 64 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    assert_int_equal(vmsim_madvise(sim, 1, s, 16 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    assert_int_equal(test_info(sim, 1).vmswap, 64 * PAGE);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_fork(sim, 2, 3), 0);
    test_check(sim);
    write_pages(sim, 2, a, 8, 2, 0);                /* 2 owns 0..7 */
    expect_pages(sim, 3, a + 8 * PAGE, 8, 1, 8);    /* 3 reads 8..15 into the swap cache */
    write_pages(sim, 1, a + 16 * PAGE, 8, 3, 16);   /* 1 owns 16..23 */
    write_pages(sim, 3, s + 2 * PAGE, 1, 7, 2);     /* shared: everyone sees it */
    assert_int_equal(vmsim_exit(sim, 2), 0);        /* drops its references */
    test_check(sim);
    assert_int_equal(vmsim_swapoff(sim), 0);
    test_check(sim);
    assert_int_equal(test_meminfo(sim, "SwapTotal"), 0);
    assert_int_equal(test_meminfo(sim, "SwapCached"), 0);
    for (vmsim_pid_t pid = 1; pid <= 3; pid += 2) {
        assert_int_equal(test_info(sim, pid).vmswap, 0);
        expect_pages(sim, pid, a, 8, 1, 0);
        expect_pages(sim, pid, a + 8 * PAGE, 8, 1, 8);
        expect_pages(sim, pid, a + 16 * PAGE, 8, pid == 1 ? 3 : 1, 16);
        expect_pages(sim, pid, a + 24 * PAGE, 40, 1, 24);
        expect_pages(sim, pid, s, 2, 6, 0);
        expect_pages(sim, pid, s + 2 * PAGE, 1, 7, 2);
        expect_pages(sim, pid, s + 3 * PAGE, 13, 6, 3);
    }
    /* no swap: the later writes still copy */
    write_pages(sim, 3, a + 30 * PAGE, 1, 4, 30);
    expect_pages(sim, 1, a + 30 * PAGE, 1, 1, 30);
    test_sim_free(sim);
}

/* swapoff brings a shared anonymous object's pages back while memory is
 * full and nothing else can go: the OOM killer takes the object's only
 * process (oom_score_adj 1000), and the object goes with it -- in the
 * middle of swapoff's walk over it. swapoff must neither touch the freed
 * object nor count a page for it, and the swap it held is freed. Found by
 * the differential test (seed 5223: a use after free under ASan, a page
 * cache gauge one too high otherwise). */
static void test_swapoff_oom_kills_shm_owner(void **state)
{
    vmsim_t *sim = hc_sim(4 * MiB, 8 * MiB, VMSIM_THP_NEVER, NULL);
    vmsim_mmap_req_t req = {
        .len = 64 * PAGE,
        .prot = RW,
        .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS,
    };
    vmsim_proc_info_t info;
    vmsim_vaddr_t s, h;
    int rc;

    (void)state;
    assert_int_equal(vmsim_spawn(sim, 3, "shm", 1000), 0);
    assert_int_equal(vmsim_mmap(sim, 3, &req, &s), 0);
    write_pages(sim, 3, s, 64, 5, 0);
    assert_int_equal(vmsim_madvise(sim, 3, s, 64 * PAGE, VMSIM_MADV_PAGEOUT), 0);
    /* a shmem page in swap leaves no swap entry in the PTE: its object
     * holds the entry */
    assert_int_equal(test_meminfo(sim, "Shmem"), 0);
    assert_int_equal(test_meminfo(sim, "SwapTotal") - test_meminfo(sim, "SwapFree"), 64 * PAGE);
    /* a process fills what is free, without reclaim: none of it in swap */
    h = test_mmap_anon(sim, 1, 0, 4 * MiB, RW, 0);
    for (uint64_t off = 0; test_meminfo(sim, "MemFree") > 160 * KiB; off += PAGE)
        assert_int_equal(vmsim_access(sim, 1, h + off, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(test_info(sim, 1).vmswap, 0);
    test_check(sim);
    rc = vmsim_swapoff(sim);
    test_check(sim);
    assert_int_equal(vmsim_proc_info(sim, 3, &info), 0);
    assert_false(info.alive);
    assert_true(info.oom_killed);
    /* the object's swap went with it, so the device could go */
    assert_int_equal(rc, 0);
    assert_int_equal(test_meminfo(sim, "SwapTotal"), 0);
    assert_int_equal(test_meminfo(sim, "Shmem"), 0);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cow_of_swapped_page),
        cmocka_unit_test(test_cow_shared_page_swapped_by_reclaim),
        cmocka_unit_test(test_cow_of_thp_then_swapout),
        cmocka_unit_test(test_fork_with_swap_cache),
        cmocka_unit_test(test_munmap_splits_shared_thp),
        cmocka_unit_test(test_map_private_file_after_change),
        cmocka_unit_test(test_map_private_shm_after_change),
        cmocka_unit_test(test_oom_while_fork_copies),
        cmocka_unit_test(test_swapoff_shared_entries),
        cmocka_unit_test(test_swapoff_oom_kills_shm_owner),
    };
    return cmocka_run_group_tests_name("hard_cases", tests, NULL, NULL);
}
