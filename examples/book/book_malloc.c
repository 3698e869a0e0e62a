/*
 * book_malloc.c -- chapter 5, malloc() on top of brk() and mmap().
 *
 * malloc() is not a system call: glibc carves small blocks out of the heap
 * it grows with brk(), and gives every block of 128 KiB or more its own
 * mmap(). Either way the kernel only hands out address space, so what the
 * program asked for (requested) and what it holds in RAM (RSS) differ:
 * RSS counts only the pages malloc's headers and the program have written.
 */
#include "book.h"

static void row(const vmsim_t *sim, const char *what)
{
    vmsim_heap_stats_t st;
    vmsim_proc_info_t info = book_info(sim, 1);

    TRY(vmsim_heap_stats(sim, 1, &st));
    printf("%-30s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
           what, st.requested, st.arena_size, st.mmapped, info.vmsize / 1024,
           info.vmrss / 1024);
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t small[100], big, p;
    vmsim_heap_stats_t st;
    vmsim_proc_info_t info;
    size_t nmaps;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "malloc", 0));

    printf("%-30s %10s %10s %10s %9s %9s\n", "after", "requested", "brk heap", "mmapped",
           "VSZ(kB)", "RSS(kB)");
    TRY(vmsim_heap_malloc(sim, 1, 100, &p));
    row(sim, "malloc(100)");
    TRY(vmsim_heap_stats(sim, 1, &st));
    info = book_info(sim, 1);
    /* glibc's first sbrk: the request rounded up, plus M_TOP_PAD (128 KiB) */
    CHECK(st.arena_size == 132 * KiB, "the first malloc grows the heap by 132 KiB, got %" PRIu64,
          st.arena_size);
    CHECK(info.vmrss == 4 * KiB, "only the page glibc wrote is resident");

    for (int i = 0; i < 100; i++)
        TRY(vmsim_heap_malloc(sim, 1, 1000, &small[i]));
    row(sim, "+ 100 x malloc(1000)");
    info = book_info(sim, 1);
    /* 100 chunks of 1008 bytes fill about 25 pages, all written by headers */
    CHECK(info.vmrss >= 24 * 4 * KiB && info.vmrss <= 27 * 4 * KiB,
          "RSS %" PRIu64 " kB for about 100 KB of small blocks", info.vmrss / 1024);

    TRY(vmsim_heap_malloc(sim, 1, 1 * MiB, &big));
    row(sim, "+ malloc(1 MiB)");
    TRY(vmsim_heap_stats(sim, 1, &st));
    CHECK(st.nr_mmapped == 1, "a 1 MiB block gets its own mmap");
    CHECK(book_info(sim, 1).vmrss - info.vmrss == 4 * KiB,
          "the 1 MiB block costs one page of RSS (its header) until it is written");

    book_touch(sim, 1, big, 1 * MiB, VMSIM_WRITE);
    row(sim, "+ the program writes it");
    CHECK(book_info(sim, 1).vmrss - info.vmrss == 1 * MiB, "now it is all resident");

    printf("\nsim$ cat /proc/1/maps\n");
    book_report(sim, VMSIM_REPORT_MAPS, 1);
    nmaps = vmsim_maps(sim, 1, NULL, 0);

    TRY(vmsim_heap_free(sim, 1, big));
    row(sim, "free(the 1 MiB block)");
    CHECK(vmsim_maps(sim, 1, NULL, 0) == nmaps - 1, "free() of a mmapped block munmaps it");
    CHECK(book_info(sim, 1).vmrss == info.vmrss, "its RSS is gone");

    for (int i = 0; i < 100; i++)
        TRY(vmsim_heap_free(sim, 1, small[i]));
    row(sim, "free(the 100 small blocks)");
    info = book_info(sim, 1);
    /* freed small blocks go back to malloc's free lists, not to the kernel:
     * the heap keeps its size and its pages */
    CHECK(info.vmrss >= 24 * 4 * KiB, "RSS stays: %" PRIu64 " kB", info.vmrss / 1024);
    return book_done(sim);
}
