/*
 * test_swap.c -- reclaim, swap, the policies through the whole machine,
 * the OOM killer and panic_on_oom.
 *
 * Reference strings and their fault counts are the textbook's
 * (Silberschatz, "Operating System Concepts", ch. 10: the string
 * 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1 with 3 frames: FIFO 15, LRU 12,
 * OPT 9; Belady's anomaly, 1 2 3 4 1 2 5 1 2 3 4 5: FIFO 9 faults with 3
 * frames, 10 with 4), cross-checked by hand and by shared/bench/refsim.py.
 */
#include "test_util.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)

struct future {
    uint64_t *next;
    size_t n;
};

/* Replay a reference string of page numbers as writes in one region
 * under resident_limit = frames, textbook profile. */
static void refstring(const char *policy, unsigned frames, const char *refs, uint64_t *minflt,
                      uint64_t *majflt)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t base;
    unsigned pages[64];
    size_t n = 0;
    uint64_t next[64];
    vmsim_proc_info_t info;

    for (const char *s = refs; *s != '\0';) {
        char *end;

        pages[n++] = (unsigned)strtoul(s, &end, 10);
        s = end;
        while (*s == ' ')
            s++;
    }
    /* OPT's future: the next time the same page is used */
    for (size_t i = 0; i < n; i++) {
        next[i] = UINT64_MAX;
        for (size_t j = i + 1; j < n; j++) {
            if (pages[j] == pages[i]) {
                next[i] = j;
                break;
            }
        }
    }
    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.swap = 1 << 20;
    cfg.policy = policy;
    cfg.resident_limit = (uint64_t)frames * 4096;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "refs", 0), 0);
    assert_int_equal(vmsim_set_future(sim, next, n), 0);
    base = test_mmap_anon(sim, 1, 0, 64 * 4096, RW, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vmsim_access(sim, 1, base + pages[i] * 4096ull, 1, VMSIM_WRITE, NULL), 0);
        test_check(sim);
    }
    info = test_info(sim, 1);
    *minflt = info.minflt;
    *majflt = info.majflt;
    assert_true(info.alive);
    vmsim_destroy(sim);
}

static void test_reference_strings(void **state)
{
    static const struct {
        const char *policy;
        unsigned frames;
        const char *refs;
        uint64_t faults, distinct;
    } cases[] = {
        { "fifo", 3, "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1", 15, 6 },
        { "lru", 3, "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1", 12, 6 },
        { "opt", 3, "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1", 9, 6 },
        { "fifo", 3, "1 2 3 4 1 2 5 1 2 3 4 5", 9, 5 },
        { "fifo", 4, "1 2 3 4 1 2 5 1 2 3 4 5", 10, 5 },
        { "lru", 3, "1 2 3 4 1 2 5 1 2 3 4 5", 10, 5 },
        { "lru", 4, "1 2 3 4 1 2 5 1 2 3 4 5", 8, 5 },
        { "opt", 3, "1 2 3 4 1 2 5 1 2 3 4 5", 7, 5 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t minflt, majflt;

        refstring(cases[i].policy, cases[i].frames, cases[i].refs, &minflt, &majflt);
        /* first touches are minor (zero-fill), every later fault major */
        if (minflt + majflt != cases[i].faults || minflt != cases[i].distinct)
            fail_msg("%s, %u frames, %s: %" PRIu64 " minor + %" PRIu64 " major, want %" PRIu64
                     " faults of which %" PRIu64 " minor",
                     cases[i].policy, cases[i].frames, cases[i].refs, minflt, majflt,
                     cases[i].faults, cases[i].distinct);
    }
}

static vmsim_t *swap_sim(uint64_t memory, uint64_t swap, int page_cluster)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = memory;
    cfg.swap = swap;
    cfg.page_cluster = page_cluster;
    cfg.track_data = true;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    return sim;
}

static void test_swap_roundtrip_keeps_data(void **state)
{
    vmsim_t *sim = swap_sim(16 * MiB, 64 * MiB, 3);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 32 * MiB, RW, 0);
    char buf[16];

    (void)state;
    for (uint64_t off = 0; off < 32 * MiB; off += 4096) {
        char tag[16];

        snprintf(tag, sizeof(tag), "page%06llu", (unsigned long long)(off / 4096));
        assert_int_equal(vmsim_write_data(sim, 1, a + off, tag, 11, NULL), 0);
    }
    test_check(sim);
    assert_true(test_vmstat(sim, "pswpout") > 0);
    assert_true(test_info(sim, 1).vmswap > 0);
    for (uint64_t off = 0; off < 32 * MiB; off += 4096) {
        char tag[16];

        snprintf(tag, sizeof(tag), "page%06llu", (unsigned long long)(off / 4096));
        assert_int_equal(vmsim_read_data(sim, 1, a + off, buf, 11, NULL), 0);
        assert_memory_equal(buf, tag, 11);
    }
    assert_true(test_info(sim, 1).majflt > 0);
    test_check(sim);
    /* swapoff brings everything back (16 MiB cannot hold 32: the OOM
     * killer may run, but the data that stays is intact) */
    test_sim_free(sim);
}

static void test_readahead_one_major_per_cluster(void **state)
{
    /* 64 MiB RAM; 16 MiB written, then paged out with MADV_PAGEOUT in
     * order, so the slots are sequential; reading back with page_cluster 3
     * costs one major fault per 8 pages, the other 7 are swap-cache hits. */
    vmsim_t *sim = swap_sim(64 * MiB, 64 * MiB, 3);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 16 * MiB, RW, 0);
    vmsim_proc_info_t info;

    (void)state;
    test_touch(sim, 1, a, 16 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_madvise(sim, 1, a, 16 * MiB, VMSIM_MADV_PAGEOUT), 0);
    assert_int_equal(test_vmstat(sim, "pswpout"), 4096);
    info = test_info(sim, 1);
    assert_int_equal(info.vmrss, 0);
    assert_int_equal(info.vmswap, 16 * MiB);
    test_touch(sim, 1, a, 16 * MiB, VMSIM_READ);
    info = test_info(sim, 1);
    assert_int_equal(info.majflt, 4096 / 8);
    assert_int_equal(info.minflt, 4096 + 4096 - 4096 / 8); /* first touches + hits */
    assert_int_equal(test_vmstat(sim, "pswpin"), 4096);
    assert_int_equal(test_vmstat(sim, "swap_ra"), 4096 - 4096 / 8);
    assert_int_equal(test_vmstat(sim, "swap_ra_hit"), 4096 - 4096 / 8);
    /* per process: its pages out, and every page read for its faults,
     * readahead included */
    assert_int_equal(info.swapout, 4096);
    assert_int_equal(info.swapin, 4096);
    test_check(sim);
    /* read faults keep the slots: the pages are clean swap cache */
    assert_int_equal(test_meminfo(sim, "SwapCached"), 16 * MiB);
    assert_int_equal(vmsim_madvise(sim, 1, a, 16 * MiB, VMSIM_MADV_PAGEOUT), 0);
    assert_int_equal(test_vmstat(sim, "pswpout"), 4096); /* nothing rewritten */
    test_sim_free(sim);
}

static void test_no_readahead(void **state)
{
    vmsim_t *sim = swap_sim(64 * MiB, 64 * MiB, 0);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 4 * MiB, RW, 0);

    (void)state;
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_PAGEOUT), 0);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).majflt, 1024);
    /* written after swap-in: the slots were given up */
    assert_int_equal(test_meminfo(sim, "SwapFree"), 64 * MiB);
    test_sim_free(sim);
}

static void test_thrashing(void **state)
{
    /* A working set larger than RAM: every pass faults most pages in
     * from swap. */
    vmsim_t *sim = swap_sim(16 * MiB, 64 * MiB, 0);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 24 * MiB, RW, 0);
    uint64_t t0, maj;

    (void)state;
    test_touch(sim, 1, a, 24 * MiB, VMSIM_WRITE);
    t0 = vmsim_time_ns(sim);
    test_touch(sim, 1, a, 24 * MiB, VMSIM_READ);
    maj = test_info(sim, 1).majflt;
    assert_true(maj > 3 * 1024); /* most of the 6144 pages */
    assert_true(vmsim_time_ns(sim) - t0 > maj * 100000);
    assert_true(test_vmstat(sim, "pgscan") >= test_vmstat(sim, "pgsteal"));
    assert_true(test_vmstat(sim, "workingset_refault_anon") > 0);
    /* the one process accounts for all the swapping */
    assert_int_equal(test_info(sim, 1).swapin, test_vmstat(sim, "pswpin"));
    assert_int_equal(test_info(sim, 1).swapout, test_vmstat(sim, "pswpout"));
    test_sim_free(sim);
}

static void test_oom_kills_the_biggest(void **state)
{
    vmsim_t *sim = swap_sim(32 * MiB, 0, 0);
    vmsim_vaddr_t a, b, c;
    vmsim_proc_info_t i1, i2, i3;

    (void)state;
    assert_int_equal(vmsim_spawn(sim, 2, "big", 0), 0);
    assert_int_equal(vmsim_spawn(sim, 3, "loser", 500), 0);
    a = test_mmap_anon(sim, 1, 0, 4 * MiB, RW, 0);
    b = test_mmap_anon(sim, 2, 0, 12 * MiB, RW, 0);
    c = test_mmap_anon(sim, 3, 0, 64 * MiB, RW, VMSIM_MAP_NORESERVE);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    test_touch(sim, 2, b, 12 * MiB, VMSIM_WRITE);
    /* pid 3 grows until memory runs out; its oom_score_adj of 500 adds
     * 500 * (8192 / 1000) = 4000 pages to its score, so it dies first */
    for (uint64_t off = 0; off < 64 * MiB; off += 4096) {
        unsigned out = 0;

        assert_int_equal(vmsim_access(sim, 3, c + off, 1, VMSIM_WRITE, &out), 0);
        if (out & VMSIM_OUT_OOM)
            break;
    }
    i1 = test_info(sim, 1);
    i2 = test_info(sim, 2);
    i3 = test_info(sim, 3);
    assert_true(i1.alive);
    assert_true(i2.alive);
    assert_false(i3.alive);
    assert_true(i3.oom_killed);
    assert_int_equal(i3.signal, VMSIM_SIGKILL);
    assert_int_equal(test_vmstat(sim, "oom_kill"), 1);
    assert_non_null(strstr(vmsim_kmsg(sim, vmsim_kmsg_seq(sim) - 1),
                           "Out of memory: Killed process 3 (loser)"));
    test_sim_free(sim);
}

static void test_oom_score_adj_protects(void **state)
{
    vmsim_t *sim = swap_sim(32 * MiB, 0, 0);
    vmsim_vaddr_t a, b;

    (void)state;
    assert_int_equal(vmsim_spawn(sim, 2, "grower", -1000), 0);
    a = test_mmap_anon(sim, 1, 0, 8 * MiB, RW, 0);
    test_touch(sim, 1, a, 8 * MiB, VMSIM_WRITE);
    b = test_mmap_anon(sim, 2, 0, 64 * MiB, RW, VMSIM_MAP_NORESERVE);
    for (uint64_t off = 0; off < 32 * MiB && test_info(sim, 1).alive; off += 4096)
        assert_int_equal(vmsim_access(sim, 2, b + off, 1, VMSIM_WRITE, NULL), 0);
    /* pid 2 is exempt: pid 1 dies although it is smaller */
    assert_false(test_info(sim, 1).alive);
    assert_true(test_info(sim, 1).oom_killed);
    assert_true(test_info(sim, 2).alive);
    test_sim_free(sim);
}

static void test_panic_on_oom(void **state)
{
    /* check_panic_on_oom() (mm/oom_kill.c) words the panic by the
     * sysctl's value: 1 "system-wide", 2 "compulsory" */
    static const char *const word[] = { "", "system-wide", "compulsory" };

    (void)state;
    for (int mode = 1; mode <= 2; mode++) {
        vmsim_t *sim = swap_sim(16 * MiB, 0, 0);
        vmsim_vaddr_t a;
        char want[96];
        int rc = 0;

        assert_int_equal(vmsim_sysctl_set(sim, "vm.panic_on_oom", mode == 1 ? "1" : "2"), 0);
        a = test_mmap_anon(sim, 1, 0, 64 * MiB, RW, VMSIM_MAP_NORESERVE);
        for (uint64_t off = 0; off < 64 * MiB && rc == 0; off += 4096)
            rc = vmsim_access(sim, 1, a + off, 1, VMSIM_WRITE, NULL);
        assert_int_equal(rc, VMSIM_EPANIC);
        assert_true(vmsim_panicked(sim));
        assert_non_null(strstr(vmsim_kmsg(sim, vmsim_kmsg_seq(sim) - 1), "Kernel panic"));
        snprintf(want, sizeof(want), "Out of memory: %s panic_on_oom is enabled", word[mode]);
        assert_non_null(strstr(vmsim_kmsg(sim, vmsim_kmsg_seq(sim) - 1), want));
        assert_int_equal(vmsim_spawn(sim, 5, "x", 0), VMSIM_EPANIC);
        vmsim_destroy(sim);
    }
}

static void test_fork_shares_swap(void **state)
{
    vmsim_t *sim = swap_sim(64 * MiB, 64 * MiB, 0);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0, 64 * 4096, RW, 0);
    char buf[4];

    (void)state;
    assert_int_equal(vmsim_write_data(sim, 1, a, "abc", 3, NULL), 0);
    test_touch(sim, 1, a + 4096, 63 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_madvise(sim, 1, a, 64 * 4096, VMSIM_MADV_PAGEOUT), 0);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(test_info(sim, 2).vmswap, 64 * 4096);
    test_check(sim);
    /* the child writes: a swap-in shared by two entries, then a copy */
    assert_int_equal(vmsim_write_data(sim, 2, a, "xyz", 3, NULL), 0);
    assert_int_equal(vmsim_read_data(sim, 1, a, buf, 3, NULL), 0);
    assert_memory_equal(buf, "abc", 3);
    test_check(sim);
    assert_int_equal(vmsim_swapoff(sim), 0);
    assert_int_equal(test_meminfo(sim, "SwapTotal"), 0);
    assert_int_equal(test_info(sim, 1).vmswap, 0);
    assert_int_equal(vmsim_read_data(sim, 2, a, buf, 3, NULL), 0);
    assert_memory_equal(buf, "xyz", 3);
    test_sim_free(sim);
}

/*
 * swapoff under a resident limit (a memcg) with nothing the OOM killer
 * may take (oom_score_adj -1000): the first charge that fails ends it
 * with ENOMEM, as try_to_unuse() returns at its first error; the next
 * process's pages are not tried (one OOM, one "no killable processes"),
 * the machine does not panic, and the device stays.
 */
static void test_swapoff_limit_nothing_to_kill(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a, b;
    uint64_t seq, noone = 0;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.swap = MiB;
    cfg.resident_limit = 8 * 4096;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 2, "p2", -1000), 0);
    assert_int_equal(vmsim_spawn(sim, 3, "p3", -1000), 0);
    a = test_mmap_anon(sim, 2, 0, 8 * 4096, RW, 0);
    b = test_mmap_anon(sim, 3, 0, 8 * 4096, RW, 0);
    test_touch(sim, 2, a, 8 * 4096, VMSIM_WRITE);
    test_touch(sim, 3, b, 8 * 4096, VMSIM_WRITE);
    test_touch(sim, 2, a, 4 * 4096, VMSIM_WRITE); /* both have pages in swap */
    assert_true(test_info(sim, 2).vmswap > 0 && test_info(sim, 3).vmswap > 0);
    seq = vmsim_kmsg_seq(sim);
    assert_int_equal(vmsim_swapoff(sim), VMSIM_SYS_ENOMEM);
    for (uint64_t k = seq; k < vmsim_kmsg_seq(sim); k++)
        noone += strstr(vmsim_kmsg(sim, k), "no killable processes") != NULL;
    assert_int_equal(noone, 1);
    assert_false(vmsim_panicked(sim));
    assert_int_equal(test_meminfo(sim, "SwapTotal"), MiB);
    assert_true(test_info(sim, 2).alive && test_info(sim, 3).alive);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_strings),
        cmocka_unit_test(test_swap_roundtrip_keeps_data),
        cmocka_unit_test(test_readahead_one_major_per_cluster),
        cmocka_unit_test(test_no_readahead),
        cmocka_unit_test(test_thrashing),
        cmocka_unit_test(test_oom_kills_the_biggest),
        cmocka_unit_test(test_oom_score_adj_protects),
        cmocka_unit_test(test_panic_on_oom),
        cmocka_unit_test(test_fork_shares_swap),
        cmocka_unit_test(test_swapoff_limit_nothing_to_kill),
    };
    return cmocka_run_group_tests_name("swap", tests, NULL, NULL);
}
