/*
 * book_cow.c -- chapter 5, copy-on-write after fork().
 *
 * A parent writes 100 MiB, then forks. fork() copies page tables, not
 * memory: right after it the child's RSS is 100 MiB too, yet the machine
 * uses no more memory than before, because both processes map the same
 * frames, write-protected. When the child writes a page, the write faults
 * and the kernel copies that page for the child: used memory grows by
 * 100 MiB as the child writes everything, and each page costs the child
 * one minor fault. The parent's memory is never touched.
 */
#include "book.h"

static void show(const vmsim_t *sim, const char *when, uint64_t used0)
{
    printf("\n# %s\n", when);
    book_ps_header();
    book_ps(sim, 1);
    book_ps(sim, 2);
    printf("free: used %+" PRId64 " kB since before fork()\n",
           (int64_t)(book_used(sim) - used0) / 1024);
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    vmsim_proc_info_t parent, child;
    uint64_t used0, used1;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "cow", 0));
    buf = book_mmap_anon(sim, 1, 100 * MiB);
    book_touch(sim, 1, buf, 100 * MiB, VMSIM_WRITE);
    used0 = book_used(sim);

    TRY(vmsim_fork(sim, 1, 2));
    show(sim, "right after fork()", used0);
    child = book_info(sim, 2);
    used1 = book_used(sim);
    CHECK(child.vmrss == 100 * MiB && child.minflt == 0,
          "the child maps all 100 MiB without a fault");
    /* only the child's page tables are new: 212 KiB */
    CHECK(used1 - used0 < 1 * MiB, "fork() copied no memory (used +%" PRIu64 " kB)",
          (used1 - used0) / 1024);

    book_touch(sim, 2, buf, 100 * MiB, VMSIM_READ);
    show(sim, "after the child read all of it", used0);
    CHECK(book_info(sim, 2).minflt == 0, "reading a shared page costs nothing");

    book_touch(sim, 2, buf, 100 * MiB, VMSIM_WRITE);
    show(sim, "after the child wrote all of it", used0);
    parent = book_info(sim, 1);
    child = book_info(sim, 2);
    CHECK(child.minflt == 25600 && child.cow == 25600,
          "one copy-on-write fault per page: min_flt %" PRIu64 ", cow %" PRIu64, child.minflt,
          child.cow);
    CHECK(book_used(sim) - used1 == 100 * MiB, "used grew by exactly 100 MiB of copies");
    CHECK(parent.vmrss == 100 * MiB && parent.minflt == 25600 && parent.cow == 0,
          "the parent is untouched");

    TRY(vmsim_exit(sim, 2));
    book_touch(sim, 1, buf, 100 * MiB, VMSIM_WRITE);
    parent = book_info(sim, 1);
    printf("\nthe child exited; the parent writes everything again: %" PRIu64
           " more faults, %" PRIu64 " copies (pgreuse %" PRIu64 ")\n",
           parent.minflt - 25600, parent.cow, book_vmstat(sim, "pgreuse"));
    CHECK(parent.cow == 0 && parent.minflt == 51200 && book_vmstat(sim, "pgreuse") == 25600,
          "once the child is gone each page is reused, not copied (one fault each)");
    return book_done(sim);
}
