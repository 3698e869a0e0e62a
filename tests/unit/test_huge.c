/*
 * test_huge.c -- transparent huge pages.
 *
 * The figures are Linux 6.18's, measured (issue 5's acceptance):
 * madvise(MADV_HUGEPAGE) on 100 MiB at a 2 MiB-aligned address, one write
 * per 4 KiB: 50 faults, AnonHugePages 100 MiB, thp_fault_alloc 50.
 * Starting 1 MiB past alignment: 561 faults (49 THPs + 512 small pages).
 * A 3 MiB region: 257; a 1 MiB region: 256. Read then write: 50 + 50.
 * After fork, a child writing every 4 KiB of a 100 MiB THP region: 25600
 * faults and thp_split_pmd 50.
 */
#include "test_util.h"

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)

static vmsim_vaddr_t map_huge(vmsim_t *sim, vmsim_vaddr_t addr, uint64_t len)
{
    vmsim_vaddr_t va = test_mmap_anon(sim, 1, addr, len, RW, addr ? VMSIM_MAP_FIXED : 0);

    assert_int_equal(vmsim_madvise(sim, 1, va, len, VMSIM_MADV_HUGEPAGE), 0);
    return va;
}

static void test_thp_100mib(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t va = map_huge(sim, 0, 100 * MiB);
    unsigned out = 0;

    (void)state;
    assert_int_equal(va % (2 * MiB), 0);
    assert_int_equal(vmsim_access(sim, 1, va, 1, VMSIM_WRITE, &out), 0);
    assert_true(out & VMSIM_OUT_HUGE);
    test_touch(sim, 1, va, 100 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 50);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 100 * MiB);
    assert_int_equal(test_meminfo(sim, "AnonPages"), 100 * MiB);
    assert_int_equal(test_vmstat(sim, "thp_fault_alloc"), 50);
    assert_int_equal(test_info(sim, 1).vmrss, 100 * MiB);
    /* VmPTE as with 4 KiB pages: 50 deposited page tables + PMD + PUD */
    assert_int_equal(test_info(sim, 1).vmpte, 52 * 4096);
    test_check(sim);
    assert_int_equal(vmsim_munmap(sim, 1, va, 100 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 0);
    assert_int_equal(test_info(sim, 1).vmpte, 0);
    test_sim_free(sim);
}

static void test_thp_alignment_cases(void **state)
{
    static const struct {
        uint64_t offset, len, faults, thps;
    } cases[] = {
        { MiB, 100 * MiB, 561, 49 },
        { 0, 3 * MiB, 257, 1 },
        { 0, MiB, 256, 0 },
        { 0, 2 * MiB, 1, 1 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
        vmsim_vaddr_t va = map_huge(sim, 0x40000000 + cases[i].offset, cases[i].len);

        test_touch(sim, 1, va, cases[i].len, VMSIM_WRITE);
        assert_int_equal(test_info(sim, 1).minflt, cases[i].faults);
        assert_int_equal(test_vmstat(sim, "thp_fault_alloc"), cases[i].thps);
        test_sim_free(sim);
    }
}

static void test_read_then_write(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t va = map_huge(sim, 0, 100 * MiB);

    (void)state;
    test_touch(sim, 1, va, 100 * MiB, VMSIM_READ);
    assert_int_equal(test_info(sim, 1).minflt, 50);
    assert_int_equal(test_info(sim, 1).vmrss, 0); /* the huge zero page */
    assert_int_equal(test_vmstat(sim, "thp_zero_page_alloc"), 1);
    test_touch(sim, 1, va, 100 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 100);
    assert_int_equal(test_vmstat(sim, "thp_fault_alloc"), 50);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 100 * MiB);
    test_sim_free(sim);
}

static void test_vmpte_1gib_thp(void **state)
{
    vmsim_t *sim = test_sim_new(4 * GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t va = map_huge(sim, 64 * GiB, GiB);

    (void)state;
    test_touch(sim, 1, va, GiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 512);
    assert_int_equal(test_info(sim, 1).vmpte, 2056 * KiB); /* as with 4 KiB pages */
    test_sim_free(sim);
}

static void test_fork_cow_splits(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t va = map_huge(sim, 0, 100 * MiB);

    (void)state;
    test_touch(sim, 1, va, 100 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(test_info(sim, 2).vmpte, 52 * 4096);
    test_check(sim);
    test_touch(sim, 2, va, 100 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 2).minflt, 25600);
    assert_int_equal(test_vmstat(sim, "thp_split_pmd"), 50);
    test_check(sim);
    /* the child's copies are small pages; the parent keeps its THPs */
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 100 * MiB);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    test_check(sim);
    /* exclusive again: the parent's writes reuse its THPs, one fault each */
    test_touch(sim, 1, va, 100 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 100);
    test_sim_free(sim);
}

static void test_partial_unmap_splits(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t va = map_huge(sim, 0x40000000, 4 * MiB);

    (void)state;
    test_touch(sim, 1, va, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 4 * MiB);
    assert_int_equal(vmsim_munmap(sim, 1, va + MiB, 4096), 0);
    test_check(sim);
    assert_int_equal(test_vmstat(sim, "thp_split_pmd"), 1);
    assert_int_equal(test_vmstat(sim, "thp_split_page"), 1);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 2 * MiB);
    assert_int_equal(test_info(sim, 1).vmrss, 4 * MiB - 4096);
    /* mprotect of part of the other THP splits its PMD too */
    assert_int_equal(vmsim_mprotect(sim, 1, va + 2 * MiB, 4096, VMSIM_PROT_READ), 0);
    test_check(sim);
    assert_int_equal(test_vmstat(sim, "thp_split_pmd"), 2);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 0);
    assert_int_equal(vmsim_madvise(sim, 1, va + 3 * MiB, 8192, VMSIM_MADV_DONTNEED), 0);
    test_check(sim);
    assert_int_equal(test_info(sim, 1).vmrss, 4 * MiB - 3 * 4096);
    test_sim_free(sim);
}

static void test_fallback_and_never(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 4 * MiB, RW, VMSIM_MAP_FIXED);

    (void)state;
    /* mode madvise without MADV_HUGEPAGE: small pages */
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 1024);
    assert_int_equal(vmsim_sysctl_set(sim, "transparent_hugepage.enabled", "always"), 0);
    a = test_mmap_anon(sim, 1, 0x80000000, 4 * MiB, RW, VMSIM_MAP_FIXED);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 1026);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_NOHUGEPAGE), 0);
    assert_int_equal(vmsim_munmap(sim, 1, a, 4 * MiB), 0);
    a = test_mmap_anon(sim, 1, 0x80000000, 4 * MiB, RW, VMSIM_MAP_FIXED);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_NOHUGEPAGE), 0);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 2050);
    test_sim_free(sim);
}

static void test_fragmentation_fallback(void **state)
{
    /* 32 MiB of RAM filled with small pages, every other one freed: half
     * of memory is free and no 2 MiB block is: virtual memory hides it,
     * THP faults fall back to 4 KiB */
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a, b;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 32 * MiB;
    cfg.thp = VMSIM_THP_ALWAYS;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "frag", 0), 0);
    /* fill memory with small pages, then free every other one */
    a = test_mmap_anon(sim, 1, 0x40000000, 30 * MiB, RW, VMSIM_MAP_FIXED);
    assert_int_equal(vmsim_madvise(sim, 1, a, 30 * MiB, VMSIM_MADV_NOHUGEPAGE), 0);
    test_touch(sim, 1, a, 30 * MiB, VMSIM_WRITE);
    for (uint64_t off = 0; off < 30 * MiB; off += 8192)
        assert_int_equal(vmsim_munmap(sim, 1, a + off, 4096), 0);
    b = test_mmap_anon(sim, 1, 0x80000000, 8 * MiB, RW, VMSIM_MAP_FIXED);
    test_touch(sim, 1, b, 8 * MiB, VMSIM_WRITE);
    /* plenty of free memory, no order-9 block: every THP fault fell back */
    assert_int_equal(test_vmstat(sim, "thp_fault_alloc"), 0);
    assert_int_equal(test_vmstat(sim, "thp_fault_fallback"), 4);
    assert_int_equal(test_info(sim, 1).minflt, 7680 + 2048);
    test_sim_free(sim);
}

static void test_khugepaged_collapse(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 4 * MiB, RW, VMSIM_MAP_FIXED);

    (void)state;
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE); /* small pages */
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_HUGEPAGE), 0);
    assert_int_equal(vmsim_khugepaged(sim, 1), 0);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 2);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 4 * MiB);
    assert_int_equal(test_info(sim, 1).vmrss, 4 * MiB);
    assert_int_equal(test_info(sim, 1).vmpte, 4 * 4096); /* tables became deposits */
    test_check(sim);
    /* MADV_COLLAPSE works without MADV_HUGEPAGE */
    a = test_mmap_anon(sim, 1, 0x80000000, 2 * MiB, RW, VMSIM_MAP_FIXED);
    assert_int_equal(vmsim_access(sim, 1, a, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_COLLAPSE), 0);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 3);
    assert_int_equal(test_info(sim, 1).vmrss, 6 * MiB);
    test_check(sim);
    test_sim_free(sim);
}

/*
 * khugepaged's swap-in runs the OOM killer, which picks the process being
 * collapsed (the only one): it dies as the collapse unwinds, and the scan
 * of its VMAs stops there instead of reading the address space it no
 * longer has. A 2 MiB range of small pages under a resident limit of 448
 * pages, 64 of them in a swap of 64 slots, full, the others young: the
 * swap-in needs a frame, and nothing can be evicted (found in review in
 * session 6; this crashed).
 */
static void test_khugepaged_oom_kills_caller(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a;
    vmsim_proc_info_t info;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.thp = VMSIM_THP_MADVISE;
    cfg.policy = "fifo"; /* clears no accessed bit: the pages stay young */
    cfg.memory = 64 * MiB;
    cfg.swap = 64 * 4096;
    cfg.resident_limit = 448 * 4096;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    a = test_mmap_anon(sim, 1, 0x40000000, 2 * MiB, RW, VMSIM_MAP_FIXED);
    test_touch(sim, 1, a, 2 * MiB, VMSIM_WRITE); /* small pages: THP only on madvise */
    assert_int_equal(test_info(sim, 1).vmswap, 64 * 4096);
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_HUGEPAGE), 0);
    assert_int_equal(vmsim_khugepaged(sim, 1), 0);
    assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
    assert_false(info.alive);
    assert_true(info.oom_killed);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 0);
    test_sim_free(sim);
}

/*
 * MADV_COLLAPSE's return value when a range stays small, as Linux's
 * madvise_collapse() and madvise_collapse_errno() (mm/khugepaged.c; hand
 * derivation from the source, cases as tools/testing/selftests/mm/
 * khugepaged.c's collapse_empty, collapse_single_pte_entry): 0 only when
 * every 2 MiB range of the call ends up PMD-mapped.
 */
static void test_madv_collapse_errors(void **state)
{
    vmsim_t *sim = test_sim_new(GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 4 * MiB, RW, VMSIM_MAP_FIXED);

    (void)state;
    /* nothing mapped yet: no page table (SCAN_PMD_NULL), EINVAL */
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_COLLAPSE), VMSIM_SYS_EINVAL);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 0);
    /* less than one aligned 2 MiB range: nothing to do, 0 */
    assert_int_equal(vmsim_madvise(sim, 1, a + 4096, 2 * MiB - 8192, VMSIM_MADV_COLLAPSE), 0);
    /* the first half collapses; the second has an empty PMD, which ends
     * the call (SCAN_PMD_NONE), EINVAL */
    assert_int_equal(vmsim_access(sim, 1, a, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_COLLAPSE), VMSIM_SYS_EINVAL);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 1);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 2 * MiB);
    /* an already PMD-mapped range counts as collapsed */
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_COLLAPSE), 0);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 1);
    /* read-only pages: no writable entry (SCAN_PAGE_RO), EINVAL */
    assert_int_equal(vmsim_access(sim, 1, a + 2 * MiB, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_mprotect(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_PROT_READ), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_MADV_COLLAPSE),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 1);
    /* writable again, but MADV_NOHUGEPAGE: the VMA is not eligible */
    assert_int_equal(vmsim_mprotect(sim, 1, a + 2 * MiB, 2 * MiB, RW), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_MADV_NOHUGEPAGE), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_MADV_COLLAPSE),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_madvise(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_MADV_HUGEPAGE), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a + 2 * MiB, 2 * MiB, VMSIM_MADV_COLLAPSE), 0);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 2);
    test_check(sim);
    test_sim_free(sim);
}

/* No free 2 MiB block for the new THP: SCAN_ALLOC_HUGE_PAGE_FAIL, ENOMEM,
 * and thp_collapse_alloc_failed counts it. */
static void test_madv_collapse_enomem(void **state)
{
    vmsim_t *sim = test_sim_new(16 * MiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x40000000, 2 * MiB, RW, VMSIM_MAP_FIXED);
    vmsim_vaddr_t b = test_mmap_anon(sim, 1, 0x80000000, 16 * MiB, RW,
                                     VMSIM_MAP_FIXED);

    (void)state;
    assert_int_equal(vmsim_madvise(sim, 1, b, 16 * MiB, VMSIM_MADV_NOHUGEPAGE), 0);
    assert_int_equal(vmsim_access(sim, 1, a, 1, VMSIM_WRITE, NULL), 0);
    /* fill memory (no swap: the pages stay) until less than 2 MiB is free */
    for (vmsim_vaddr_t va = b; test_meminfo(sim, "MemFree") >= 2 * MiB; va += 4096)
        assert_int_equal(vmsim_access(sim, 1, va, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_COLLAPSE), VMSIM_SYS_ENOMEM);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc_failed"), 1);
    assert_int_equal(test_meminfo(sim, "AnonHugePages"), 0);
    test_sim_free(sim);
}

static void test_thp_swapout_splits(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_vaddr_t a;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.swap = 64 * MiB;
    cfg.thp = VMSIM_THP_ALWAYS;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    a = test_mmap_anon(sim, 1, 0x40000000, 4 * MiB, RW, VMSIM_MAP_FIXED);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_madvise(sim, 1, a, 4 * MiB, VMSIM_MADV_PAGEOUT), 0);
    test_check(sim);
    assert_int_equal(test_vmstat(sim, "thp_swpout_fallback"), 2);
    assert_int_equal(test_info(sim, 1).vmswap, 4 * MiB);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_READ);
    assert_int_equal(test_info(sim, 1).vmswap, 0);
    test_check(sim);
    test_sim_free(sim);
}


static vmsim_t *hugetlb_sim(uint64_t n2m, uint64_t n1g)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 4 * GiB;
    cfg.hugepages_2m = n2m;
    cfg.hugepages_1g = n1g;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    return sim;
}

/* 64 MiB keeping page contents, a pool of n2m 2 MiB pages, pid 1. */
static vmsim_t *hugetlb_data_sim(uint64_t n2m)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.hugepages_2m = n2m;
    cfg.track_data = true;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "owner", 0), 0);
    return sim;
}

static int map_hugetlb(vmsim_t *sim, uint64_t len, uint64_t pagesize, unsigned extra,
                       vmsim_vaddr_t *va)
{
    vmsim_mmap_req_t req = { .len = len, .prot = RW, .pagesize = pagesize,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS |
                                      VMSIM_MAP_HUGETLB | extra };

    return vmsim_mmap(sim, 1, &req, va);
}

static void test_hugetlb_pools(void **state)
{
    vmsim_t *sim = hugetlb_sim(16, 1);
    vmsim_vaddr_t a, b;

    (void)state;
    /* pools come out of RAM at boot: not free, counted in Hugetlb */
    assert_int_equal(test_meminfo(sim, "HugePages_Total"), 16);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 16);
    assert_int_equal(test_meminfo(sim, "Hugetlb"), 16 * 2 * MiB + GiB);
    assert_true(test_meminfo(sim, "MemFree") < 4 * GiB - GiB - 32 * MiB + 1);
    /* mmap reserves: 10 pages of 2 MiB */
    assert_int_equal(map_hugetlb(sim, 20 * MiB, 0, 0, &a), 0);
    assert_int_equal(a % (2 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 10);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 16);
    /* more than what is left unreserved: ENOMEM */
    assert_int_equal(map_hugetlb(sim, 14 * MiB, 0, 0, &b), VMSIM_SYS_ENOMEM);
    /* one fault per huge page */
    test_touch(sim, 1, a, 20 * MiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 10);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 6);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    assert_int_equal(test_info(sim, 1).vmrss, 0); /* not RSS: HugetlbPages */
    assert_int_equal(test_info(sim, 1).hugetlb, 20 * MiB);
    assert_int_equal(test_info(sim, 1).vmpte, 8 * KiB); /* PMD + PUD tables only */
    test_check(sim);
    /* 1 GiB pages are PDPT leaves */
    assert_int_equal(map_hugetlb(sim, GiB, GiB, 0, &b), 0);
    assert_int_equal(b % GiB, 0);
    test_touch(sim, 1, b, GiB, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).minflt, 11);
    {
        vmsim_pte_info_t pi;

        assert_int_equal(vmsim_pte_lookup(sim, 1, b + 12345, &pi), 0);
        assert_int_equal(pi.level, 2);
    }
    test_check(sim);
    /* partial unmap of a huge page: EINVAL; whole pages go back to the pool */
    assert_int_equal(vmsim_munmap(sim, 1, a, 4096), VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_munmap(sim, 1, a, 20 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 16);
    test_check(sim);
    test_sim_free(sim);
}

static void test_hugetlb_noreserve_sigbus(void **state)
{
    vmsim_t *sim = hugetlb_sim(2, 0);
    vmsim_vaddr_t a;

    (void)state;
    assert_int_equal(map_hugetlb(sim, 8 * MiB, 0, VMSIM_MAP_NORESERVE, &a), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_true(test_info(sim, 1).alive);
    assert_int_equal(vmsim_access(sim, 1, a + 4 * MiB, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(test_info(sim, 1).signal, VMSIM_SIGBUS);
    test_sim_free(sim);
}

static void test_hugetlb_fork(void **state)
{
    vmsim_t *sim = hugetlb_sim(4, 0);
    vmsim_vaddr_t a;

    (void)state;
    assert_int_equal(map_hugetlb(sim, 4 * MiB, 0, 0, &a), 0);
    test_touch(sim, 1, a, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(test_info(sim, 1).nr_ptes_copied_fork, 2); /* two PMD entries */
    assert_int_equal(test_info(sim, 2).hugetlb, 4 * MiB);
    test_check(sim);
    /* a write copies the huge page from the pool */
    assert_int_equal(vmsim_access(sim, 2, a, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(test_info(sim, 2).cow, 1);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 1);
    test_check(sim);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 2);
    test_sim_free(sim);
}

/*
 * MAP_SHARED|MAP_HUGETLB is one object (Linux: the anonymous hugetlbfs
 * inode of hugetlb_file_setup()): a fork child does not copy its entries
 * (vma_needs_copy() is false without an anon_vma) and faults in the very
 * page the parent sees; the reservations are the object's, so a partial
 * munmap keeps them and they go, with the pages, when the last VMA does
 * (hugetlbfs_evict_inode()). Hand derivation from mm/hugetlb.c and
 * fs/hugetlbfs/inode.c.
 */
static void test_hugetlb_shared_object(void **state)
{
    vmsim_t *sim = hugetlb_data_sim(4);
    vmsim_mmap_req_t req = { .len = 4 * MiB, .prot = RW,
                             .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_HUGETLB };
    vmsim_vaddr_t a = 0;
    char buf[8] = { 0 };

    (void)state;
    assert_int_equal(vmsim_mmap(sim, 1, &req, &a), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 2);
    assert_int_equal(vmsim_write_data(sim, 1, a, "parent", 6, NULL), 0);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(test_info(sim, 1).nr_ptes_copied_fork, 0);
    assert_int_equal(test_info(sim, 2).hugetlb, 0);
    /* the child writes the page the parent never touched, and reads the
     * parent's: one page each, found in the object */
    assert_int_equal(vmsim_write_data(sim, 2, a + 2 * MiB, "child", 5, NULL), 0);
    assert_int_equal(vmsim_read_data(sim, 2, a, buf, 6, NULL), 0);
    assert_memory_equal(buf, "parent", 6);
    assert_int_equal(vmsim_read_data(sim, 1, a + 2 * MiB, buf, 5, NULL), 0);
    assert_memory_equal(buf, "child", 5);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 2);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    assert_int_equal(test_info(sim, 1).hugetlb, 4 * MiB);
    assert_int_equal(test_info(sim, 2).hugetlb, 4 * MiB);
    test_check(sim);
    /* the parent unmaps all, the child half: the pages stay with the
     * object while the child maps any of it */
    assert_int_equal(vmsim_munmap(sim, 1, a, 4 * MiB), 0);
    assert_int_equal(vmsim_munmap(sim, 2, a, 2 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 2);
    assert_int_equal(vmsim_read_data(sim, 2, a + 2 * MiB, buf, 5, NULL), 0);
    assert_memory_equal(buf, "child", 5);
    test_check(sim);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 4);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    test_check(sim);
    /* an untouched object: a partial munmap keeps all its reservations */
    assert_int_equal(vmsim_mmap(sim, 1, &req, &a), 0);
    assert_int_equal(vmsim_munmap(sim, 1, a + 2 * MiB, 2 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 2);
    assert_int_equal(vmsim_munmap(sim, 1, a, 2 * MiB), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    test_sim_free(sim);
}

/*
 * MADV_DONTNEED on hugetlb memory, as Linux 6.7+ (mm/madvise.c
 * madvise_dontneed_free_valid_vma(), mm/hugetlb.c __unmap_hugepage_range();
 * hand derivation): an unaligned start is EINVAL, the end rounds down to a
 * huge page (less than one page drops nothing), a private page goes back
 * to the pool with its reservation restored and faults in zeroed; a shared
 * mapping's page stays with its object and keeps its contents.
 */
static void test_hugetlb_dontneed(void **state)
{
    vmsim_t *sim = hugetlb_data_sim(4);
    vmsim_mmap_req_t shared = { .len = 2 * MiB, .prot = RW,
                                .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS |
                                         VMSIM_MAP_HUGETLB };
    vmsim_vaddr_t a = 0, b = 0;
    char buf[8] = { 0 };
    unsigned out = 0;

    (void)state;
    assert_int_equal(map_hugetlb(sim, 4 * MiB, 0, 0, &a), 0);
    assert_int_equal(vmsim_write_data(sim, 1, a, "first", 5, NULL), 0);
    assert_int_equal(vmsim_write_data(sim, 1, a + 2 * MiB, "second", 6, NULL), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 2);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    /* not at a huge page boundary: EINVAL; under one huge page: nothing */
    assert_int_equal(vmsim_madvise(sim, 1, a + 4096, 2 * MiB, VMSIM_MADV_DONTNEED),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB - 4096, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_info(sim, 1).hugetlb, 4 * MiB);
    /* the first page goes back to the pool, its reservation with it */
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB + 4096, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 3);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 1);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB);
    test_check(sim);
    /* the next touch takes it again: a minor fault on a zeroed page */
    assert_int_equal(vmsim_read_data(sim, 1, a, buf, 5, &out), 0);
    assert_true(out & VMSIM_OUT_MINOR);
    assert_memory_equal(buf, "\0\0\0\0\0", 5);
    assert_int_equal(vmsim_read_data(sim, 1, a + 2 * MiB, buf, 6, NULL), 0);
    assert_memory_equal(buf, "second", 6);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 2);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    test_check(sim);
    /* a shared mapping: unmapped, but the object keeps the page */
    assert_int_equal(vmsim_mmap(sim, 1, &shared, &b), 0);
    assert_int_equal(vmsim_write_data(sim, 1, b, "kept", 4, NULL), 0);
    assert_int_equal(vmsim_madvise(sim, 1, b, 2 * MiB, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_info(sim, 1).hugetlb, 4 * MiB);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 1);
    assert_int_equal(vmsim_read_data(sim, 1, b, buf, 4, NULL), 0);
    assert_memory_equal(buf, "kept", 4);
    test_check(sim);
    /* after fork: the child drops its view of a shared page and the
     * parent keeps it; the owner dropping a page the child still maps is
     * refused (libvmsim; docs/fidelity.md) */
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 2 * MiB, VMSIM_MADV_DONTNEED),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_madvise(sim, 2, a + 2 * MiB, 2 * MiB, VMSIM_MADV_DONTNEED), 0);
    /* of its two private pages (fork copies no shared hugetlb entry) */
    assert_int_equal(test_info(sim, 2).hugetlb, 2 * MiB);
    assert_int_equal(test_info(sim, 1).hugetlb, 6 * MiB);
    assert_int_equal(vmsim_read_data(sim, 1, a + 2 * MiB, buf, 6, NULL), 0);
    assert_memory_equal(buf, "second", 6);
    test_check(sim);
    test_sim_free(sim);
}

/*
 * More of MADV_DONTNEED on hugetlb (Linux 6.7+, hand derivation as above):
 * a range of several pages drops every whole one in it; a MAP_NORESERVE
 * mapping has no reservation map (hugetlb_reserve_pages() returns before
 * making one), so its pages go back to the pool with nothing to restore;
 * 1 GiB pages align and round at 1 GiB.
 */
static void test_hugetlb_dontneed_ranges(void **state)
{
    vmsim_t *sim = hugetlb_sim(8, 1);
    vmsim_vaddr_t a = 0, n = 0, g = 0;
    vmsim_proc_info_t info;

    (void)state;
    /* four pages, three and a bit dropped: three go */
    assert_int_equal(map_hugetlb(sim, 8 * MiB, 0, 0, &a), 0);
    test_touch(sim, 1, a, 8 * MiB, VMSIM_WRITE);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 4);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 0);
    assert_int_equal(vmsim_madvise(sim, 1, a, 6 * MiB + 4096, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 7);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 3);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB);
    test_check(sim);
    /* MAP_NORESERVE: back to the pool, no reservation comes back */
    assert_int_equal(map_hugetlb(sim, 4 * MiB, 0, VMSIM_MAP_NORESERVE, &n), 0);
    test_touch(sim, 1, n, 4 * MiB, VMSIM_WRITE);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 5);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 3);
    assert_int_equal(vmsim_madvise(sim, 1, n, 4 * MiB, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 7);
    assert_int_equal(test_meminfo(sim, "HugePages_Rsvd"), 3);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB);
    test_check(sim);
    /* one 1 GiB page: a start 2 MiB in is EINVAL, less than 1 GiB drops
     * nothing, the whole page goes back to its pool of one (the next
     * fault takes it again instead of SIGBUS) */
    assert_int_equal(map_hugetlb(sim, GiB, GiB, 0, &g), 0);
    test_touch(sim, 1, g, 4096, VMSIM_WRITE);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB + GiB);
    assert_int_equal(vmsim_madvise(sim, 1, g + 2 * MiB, GiB - 2 * MiB, VMSIM_MADV_DONTNEED),
                     VMSIM_SYS_EINVAL);
    assert_int_equal(vmsim_madvise(sim, 1, g, GiB - 2 * MiB, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB + GiB);
    assert_int_equal(vmsim_madvise(sim, 1, g, GiB, VMSIM_MADV_DONTNEED), 0);
    assert_int_equal(test_info(sim, 1).hugetlb, 2 * MiB);
    test_check(sim);
    assert_int_equal(vmsim_access(sim, 1, g + 12345, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
    assert_true(info.alive);
    assert_int_equal(info.hugetlb, 2 * MiB + GiB);
    test_sim_free(sim);
}

/*
 * The owner of a private hugetlb mapping writes a page its fork child
 * shares, and the pool has no page to spare: Linux's hugetlb_wp() takes
 * the page from the child (unmap_ref_private()) and marks the child's VMA
 * HPAGE_RESV_UNMAPPED; the owner writes on in place, and the child's next
 * fault there is a SIGBUS ("killed due to inadequate hugepage pool").
 * Hand derivation from mm/hugetlb.c.
 */
static void test_hugetlb_owner_takes_page(void **state)
{
    vmsim_t *sim = hugetlb_data_sim(2);
    vmsim_mmap_req_t req = { .len = 2 * MiB, .prot = RW,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_HUGETLB };
    vmsim_vaddr_t a = 0, b = 0;
    vmsim_proc_info_t info;
    unsigned out = 0;
    char buf[8] = { 0 };

    (void)state;
    assert_int_equal(vmsim_mmap(sim, 1, &req, &a), 0);
    assert_int_equal(vmsim_write_data(sim, 1, a, "before", 6, NULL), 0);
    assert_int_equal(vmsim_fork(sim, 1, 2), 0);
    assert_int_equal(vmsim_mmap(sim, 1, &req, &b), 0); /* the last page: reserved */
    assert_int_equal(vmsim_access(sim, 1, b, 1, VMSIM_WRITE, NULL), 0);
    assert_int_equal(test_meminfo(sim, "HugePages_Free"), 0);
    /* the owner's copy-on-write finds no page: it keeps the shared one */
    assert_int_equal(vmsim_write_data(sim, 1, a, "after", 5, &out), 0);
    assert_true(out & VMSIM_OUT_REUSE);
    assert_true(test_info(sim, 1).alive);
    assert_int_equal(test_info(sim, 2).hugetlb, 0);
    test_check(sim);
    /* the child's next fault in that mapping kills it */
    assert_int_equal(vmsim_read_data(sim, 2, a, buf, 5, &out), 0);
    assert_true(out & VMSIM_OUT_BUS);
    assert_int_equal(vmsim_proc_info(sim, 2, &info), 0);
    assert_false(info.alive);
    assert_int_equal(info.signal, VMSIM_SIGBUS);
    assert_int_equal(vmsim_read_data(sim, 1, a, buf, 5, NULL), 0);
    assert_memory_equal(buf, "after", 5);
    test_sim_free(sim);
}

/* Random accesses over 1 GiB: 4 KiB pages overflow the TLB's reach
 * (1536 + 64 entries = 6.4 MiB), 2 MiB pages fit it (512 THPs against
 * 1536 L2 + 32 L1 entries), so misses and walk references collapse. */
static void random_1gib(bool thp, vmsim_tlb_stats_t *st, uint64_t *ns)
{
    vmsim_t *sim = test_sim_new(2 * GiB, VMSIM_PROFILE_LINUX);
    vmsim_vaddr_t a = test_mmap_anon(sim, 1, 0x4000000000ull, GiB, RW, VMSIM_MAP_FIXED);
    vmsim_tlb_stats_t before;
    uint64_t x = 42, t0;

    assert_int_equal(vmsim_madvise(sim, 1, a, GiB,
                                   thp ? VMSIM_MADV_HUGEPAGE : VMSIM_MADV_NOHUGEPAGE), 0);
    test_touch(sim, 1, a, GiB, VMSIM_WRITE);
    vmsim_tlb_stats(sim, &before);
    t0 = vmsim_time_ns(sim);
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        assert_int_equal(vmsim_access(sim, 1, a + ((x >> 20) % GiB), 1, VMSIM_READ, NULL), 0);
    }
    vmsim_tlb_stats(sim, st);
    st->hits -= before.hits;
    st->misses -= before.misses;
    st->walks -= before.walks;
    st->walk_refs -= before.walk_refs;
    *ns = vmsim_time_ns(sim) - t0;
    assert_int_equal(test_info(sim, 1).minflt, thp ? 512 : 262144);
    test_sim_free(sim);
}

static void test_tlb_reach_thp(void **state)
{
    vmsim_tlb_stats_t small, huge;
    uint64_t t_small, t_huge;

    (void)state;
    random_1gib(false, &small, &t_small);
    random_1gib(true, &huge, &t_huge);
    /* 4 KiB: nearly every access misses (6.4 MiB of reach over 1 GiB) */
    assert_true(small.misses > 190000);
    assert_int_equal(small.walk_refs, small.walks * 4);
    /* 2 MiB: after the 512 THPs are in the L2, accesses hit */
    assert_true(huge.misses < 10000);
    assert_true(huge.walk_refs < small.walk_refs / 20);
    assert_true(t_huge * 3 < t_small);
}

static void test_thrashing_cliff(void **state)
{
    /* time per access jumps once the working set passes RAM */
    uint64_t per[2];

    (void)state;
    for (int k = 0; k < 2; k++) {
        vmsim_config_t cfg;
        vmsim_t *sim = NULL;
        vmsim_vaddr_t a;
        uint64_t ws = k == 0 ? 8 * MiB : 24 * MiB, t0;

        vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
        cfg.memory = 16 * MiB;
        cfg.swap = 64 * MiB;
        assert_int_equal(vmsim_create(&cfg, &sim), 0);
        assert_int_equal(vmsim_spawn(sim, 1, "ws", 0), 0);
        a = test_mmap_anon(sim, 1, 0, ws, RW, 0);
        test_touch(sim, 1, a, ws, VMSIM_WRITE);
        t0 = vmsim_time_ns(sim);
        for (int pass = 0; pass < 3; pass++)
            test_touch(sim, 1, a, ws, VMSIM_READ);
        per[k] = (vmsim_time_ns(sim) - t0) / (3 * ws / 4096);
        test_sim_free(sim);
    }
    assert_true(per[0] < 100);        /* hits: a few ns each */
    assert_true(per[1] > 100 * per[0]); /* swap-ins: ~100 us per 8 pages */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thp_100mib),
        cmocka_unit_test(test_thp_alignment_cases),
        cmocka_unit_test(test_read_then_write),
        cmocka_unit_test(test_vmpte_1gib_thp),
        cmocka_unit_test(test_fork_cow_splits),
        cmocka_unit_test(test_partial_unmap_splits),
        cmocka_unit_test(test_fallback_and_never),
        cmocka_unit_test(test_fragmentation_fallback),
        cmocka_unit_test(test_khugepaged_collapse),
        cmocka_unit_test(test_khugepaged_oom_kills_caller),
        cmocka_unit_test(test_madv_collapse_errors),
        cmocka_unit_test(test_hugetlb_shared_object),
        cmocka_unit_test(test_hugetlb_owner_takes_page),
        cmocka_unit_test(test_hugetlb_dontneed),
        cmocka_unit_test(test_hugetlb_dontneed_ranges),
        cmocka_unit_test(test_madv_collapse_enomem),
        cmocka_unit_test(test_thp_swapout_splits),
        cmocka_unit_test(test_hugetlb_pools),
        cmocka_unit_test(test_hugetlb_noreserve_sigbus),
        cmocka_unit_test(test_hugetlb_fork),
        cmocka_unit_test(test_tlb_reach_thp),
        cmocka_unit_test(test_thrashing_cliff),
    };
    return cmocka_run_group_tests_name("huge", tests, NULL, NULL);
}
