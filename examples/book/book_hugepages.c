/*
 * book_hugepages.c -- chapter 5, huge pages and fork() time.
 *
 * One 2 MiB page-middle-directory entry can map a 2 MiB page directly,
 * replacing a whole page table of 512 entries. A process that maps 100
 * MiB with 2 MiB pages takes 50 faults instead of 25600, and fork() has
 * 50 entries to copy instead of 25600 (Linux 6.18 measured: fork() of a
 * process with 100 MiB written took 1350 us with 4 KiB pages, 72 us with
 * transparent huge pages). Two ways to get them:
 *
 *  - transparent huge pages (THP): the kernel uses them by itself, for
 *    memory marked with madvise(MADV_HUGEPAGE) when
 *    /sys/kernel/mm/transparent_hugepage/enabled is "madvise" (the
 *    default here), or for all anonymous memory with "always";
 *  - hugetlb: a pool reserved ahead (vm.nr_hugepages; cfg.hugepages_2m),
 *    mapped with mmap(MAP_HUGETLB); the pages are never swapped and are
 *    counted in HugePages_* instead of the process's RSS.
 */
#include "book.h"

struct run {
    uint64_t faults, pte, fork_ns, ptes_copied;
};

/* A process maps and writes 100 MiB with the given advice and flags, then
 * forks; returns its figures. */
static struct run run(vmsim_t *sim, vmsim_pid_t pid, vmsim_advice advice, unsigned flags)
{
    vmsim_mmap_req_t req = { .len = 100 * MiB, .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | flags };
    vmsim_vaddr_t buf;
    vmsim_proc_info_t info;
    struct run r;
    uint64_t t0;
    int ret;

    TRY(vmsim_spawn(sim, pid, flags ? "hugetlb" : advice == VMSIM_MADV_HUGEPAGE ? "thp" : "4k",
                    0));
    ret = vmsim_mmap(sim, pid, &req, &buf);
    TRY(ret);
    CHECK(ret == 0, "mmap: %s", vmsim_sys_errno_name(ret));
    if (advice != VMSIM_MADV_NORMAL)
        TRY(vmsim_madvise(sim, pid, buf, req.len, advice));
    book_touch(sim, pid, buf, req.len, VMSIM_WRITE);
    t0 = vmsim_time_ns(sim);
    TRY(vmsim_fork(sim, pid, pid + 1));
    info = book_info(sim, pid);
    r.fork_ns = vmsim_time_ns(sim) - t0;
    r.faults = info.minflt;
    r.pte = info.vmpte;
    r.ptes_copied = info.nr_ptes_copied_fork;
    printf("%-34s %8" PRIu64 " %9" PRIu64 " %11" PRIu64 " %12" PRIu64 "\n",
           flags ? "mmap(MAP_HUGETLB)"
                 : advice == VMSIM_MADV_HUGEPAGE ? "madvise(MADV_HUGEPAGE): THP"
                                                 : "madvise(MADV_NOHUGEPAGE): 4 KiB",
           r.faults, r.pte / 1024, r.ptes_copied, r.fork_ns);
    return r;
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    struct run small, thp, tlb;
    uint64_t rsvd, free_pages;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX); /* THP "madvise" */
    cfg.hugepages_2m = 64;                        /* a pool of 64 x 2 MiB */
    sim = book_machine(&cfg);

    printf("sim$ cat /proc/meminfo | grep Huge     # at boot\n");
    printf("HugePages_Total: %" PRIu64 "  HugePages_Free: %" PRIu64 "  Hugepagesize: %" PRIu64
           " kB\n\n", book_meminfo(sim, "HugePages_Total"), book_meminfo(sim, "HugePages_Free"),
           book_meminfo(sim, "Hugepagesize") / 1024);

    printf("100 MiB written, then fork()        faults VmPTE(kB) PTEs copied  fork(ns, sim)\n");
    small = run(sim, 1, VMSIM_MADV_NOHUGEPAGE, 0);
    thp = run(sim, 3, VMSIM_MADV_HUGEPAGE, 0);
    printf("    AnonHugePages: %" PRIu64 " kB, thp_fault_alloc %" PRIu64 "\n",
           book_meminfo(sim, "AnonHugePages") / 1024, book_vmstat(sim, "thp_fault_alloc"));
    CHECK(small.faults == 25600 && thp.faults == 50, "25600 faults with 4 KiB pages, 50 with THP");
    /* both THP mappings (parent and child) */
    CHECK(book_meminfo(sim, "AnonHugePages") == 100 * MiB,
          "AnonHugePages is the THP-backed 100 MiB, shared by parent and child");
    CHECK(thp.ptes_copied * 100 < small.ptes_copied, "fork copies 512 times fewer entries");
    CHECK(thp.fork_ns * 10 < small.fork_ns, "fork is at least 10x faster with huge pages");

    tlb = run(sim, 5, VMSIM_MADV_NORMAL, VMSIM_MAP_HUGETLB);
    CHECK(tlb.faults == 50, "50 faults with 2 MiB hugetlb pages");
    /* a hugetlb mapping has no page tables below its 2 MiB entries */
    CHECK(tlb.pte < small.pte / 10, "hugetlb needs no PTE tables");
    free_pages = book_meminfo(sim, "HugePages_Free");
    rsvd = book_meminfo(sim, "HugePages_Rsvd");
    printf("    HugePages_Free: %" PRIu64 "  HugePages_Rsvd: %" PRIu64
           "  (VmRSS of pid 5: %" PRIu64 " kB; hugetlb memory is not in RSS)\n",
           free_pages, rsvd, book_info(sim, 5).vmrss / 1024);
    CHECK(free_pages == 14 && rsvd == 0, "50 of the 64 pool pages are in use");
    CHECK(book_info(sim, 5).vmrss == 0, "hugetlb pages are not counted in VmRSS");

    /* The simulated clock charges fork() only for the entries it copies
     * (fork_pte, 10 ns each), so the ratio is the 512 of the entry counts;
     * a real fork() also has fixed costs, hence Linux's ~19x. */
    printf("\nfork() was %.0f times faster with THP than with 4 KiB pages (simulated time:\n"
           "entries copied only; Linux 6.18 measured about 19 times)\n",
           (double)small.fork_ns / (double)thp.fork_ns);
    return book_done(sim);
}
