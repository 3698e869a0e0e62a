/*
 * book_mmap.c -- chapter 5, mmap() and /proc/PID/maps.
 *
 * A program prints its memory map, asks mmap() for 100 MiB, and prints the
 * map again: one new line covers exactly 100 MiB. Nothing was allocated
 * yet, only address space: VSZ grows by 100 MiB, RSS and the free memory
 * of the machine do not move.
 */
#include "book.h"

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    vmsim_vma_info_t vmas[8];
    size_t n0, n1;
    uint64_t free0, rss0, vsz0;
    vmsim_proc_info_t info;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "mmap", 0));
    /* a process has some memory before the experiment: a heap and a page of data */
    TRY(vmsim_brk(sim, 1, 0x555555559000 + 132 * KiB, NULL));
    book_touch(sim, 1, 0x555555559000, 4 * KiB, VMSIM_WRITE);

    printf("sim$ cat /proc/1/maps     # before mmap()\n");
    book_report(sim, VMSIM_REPORT_MAPS, 1);
    n0 = vmsim_maps(sim, 1, vmas, 8);
    info = book_info(sim, 1);
    rss0 = info.vmrss;
    vsz0 = info.vmsize;
    free0 = book_meminfo(sim, "MemFree");

    buf = book_mmap_anon(sim, 1, 100 * MiB);
    printf("\nmmap(NULL, %" PRIu64 ", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
           " = 0x%" PRIx64 "\n\n", 100 * MiB, buf);
    printf("sim$ cat /proc/1/maps     # after mmap()\n");
    book_report(sim, VMSIM_REPORT_MAPS, 1);
    n1 = vmsim_maps(sim, 1, vmas, 8);
    info = book_info(sim, 1);

    CHECK(n1 == n0 + 1, "one new line in maps (%zu -> %zu)", n0, n1);
    CHECK(n1 >= 1 && vmas[n1 - 1].start == buf && vmas[n1 - 1].end - vmas[n1 - 1].start == 100 * MiB,
          "the new line is the 100 MiB mapping");
    CHECK(info.vmsize - vsz0 == 100 * MiB, "VSZ grew by %" PRIu64 " kB",
          (info.vmsize - vsz0) / 1024);
    CHECK(info.vmrss == rss0, "RSS should not move (%" PRIu64 " -> %" PRIu64 " kB)",
          rss0 / 1024, info.vmrss / 1024);
    CHECK(book_meminfo(sim, "MemFree") == free0, "no memory was taken from RAM");
    printf("\nVSZ %" PRIu64 " -> %" PRIu64 " kB, RSS %" PRIu64 " -> %" PRIu64 " kB, MemFree"
           " unchanged\n", vsz0 / 1024, info.vmsize / 1024, rss0 / 1024, info.vmrss / 1024);
    return book_done(sim);
}
