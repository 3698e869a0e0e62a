/*
 * book_demand_paging.c -- chapter 5, demand paging.
 *
 * mmap() of 100 MiB gives address space only (VSZ). Physical memory is
 * given page by page when the program first touches each page: every
 * first touch is a page fault (a minor one: no I/O), and RSS and the
 * machine's used memory grow with the pages touched, not with the size
 * of the mapping. The program here writes its buffer 10 MiB at a time
 * and, after each step, we look at it as `ps` and `free` would.
 */
#include "book.h"

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    vmsim_proc_info_t info;
    uint64_t used0, prev_rss = 0;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "demand", 0));
    used0 = book_used(sim);

    buf = book_mmap_anon(sim, 1, 100 * MiB);
    printf("mmap() of 100 MiB at 0x%" PRIx64 ", nothing touched yet\n\n", buf);
    printf("touched(MiB)   VSZ(kB)   RSS(kB)  min_flt  free:used(kB)\n");
    for (uint64_t done = 0; done <= 100 * MiB; done += 10 * MiB) {
        if (done > 0)
            book_touch(sim, 1, buf + done - 10 * MiB, 10 * MiB, VMSIM_WRITE);
        info = book_info(sim, 1);
        printf("%12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n",
               done / MiB, info.vmsize / 1024, info.vmrss / 1024, info.minflt,
               (book_used(sim) - used0) / 1024);
        CHECK(info.vmsize == 100 * MiB, "VSZ is the mapping from the start");
        CHECK(info.vmrss == done, "RSS follows the pages touched: %" PRIu64 " kB",
              info.vmrss / 1024);
        CHECK(info.minflt == done / VMSIM_PAGE_SIZE, "one minor fault per page touched");
        CHECK(info.vmrss >= prev_rss, "RSS never shrinks here");
        prev_rss = info.vmrss;
    }
    CHECK(info.majflt == 0, "no fault waited for I/O");

    /* reading untouched anonymous memory maps the shared zero page: a
     * fault per page, but no memory */
    TRY(vmsim_spawn(sim, 2, "reader", 0));
    buf = book_mmap_anon(sim, 2, 100 * MiB);
    book_touch(sim, 2, buf, 100 * MiB, VMSIM_READ);
    info = book_info(sim, 2);
    printf("\na second process only reads its 100 MiB: min_flt %" PRIu64 ", RSS %" PRIu64
           " kB (every page maps the zero page)\n", info.minflt, info.vmrss / 1024);
    CHECK(info.minflt == 25600 && info.vmrss == 0, "reads fault but take no memory");
    return book_done(sim);
}
