/*
 * book_free.c -- chapter 5, `free`: how memory use shows up.
 *
 * A process allocates 100 MiB and writes to it: `used` grows by 100 MiB
 * and `free` and `available` shrink by as much. Then a 100 MiB file is
 * read: `buff/cache` grows by 100 MiB and `free` shrinks, but `available`
 * hardly moves, because the kernel can drop clean page cache whenever a
 * program needs the memory. Dropping the caches (echo 3 >
 * /proc/sys/vm/drop_caches) and ending the process give everything back.
 */
#include "book.h"

static void show(const vmsim_t *sim, const char *when)
{
    printf("\nsim$ free     # %s\n", when);
    book_report(sim, VMSIM_REPORT_FREE, 0);
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    uint64_t used0, free0, avail0, cache0, used1, free1, avail1, cache1, free2, avail2, cache2;
    uint64_t done = 0;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX); /* 1 GiB of RAM, no swap */
    sim = book_machine(&cfg);
    show(sim, "at boot");
    used0 = book_used(sim);
    free0 = book_meminfo(sim, "MemFree");
    avail0 = book_meminfo(sim, "MemAvailable");
    cache0 = book_meminfo(sim, "Cached");
    TRY(vmsim_spawn(sim, 1, "app", 0));

    /* 1. a program allocates 100 MiB and writes every page */
    buf = book_mmap_anon(sim, 1, 100 * MiB);
    book_touch(sim, 1, buf, 100 * MiB, VMSIM_WRITE);
    show(sim, "after the program wrote 100 MiB");
    used1 = book_used(sim);
    free1 = book_meminfo(sim, "MemFree");
    avail1 = book_meminfo(sim, "MemAvailable");
    /* 100 MiB of pages, plus 212 KiB of page tables to map them */
    CHECK(used1 - used0 >= 100 * MiB && used1 - used0 < 101 * MiB,
          "used grew by %" PRIu64 " kB, want about 102400", (used1 - used0) / 1024);
    CHECK(free0 - free1 >= 100 * MiB && free0 - free1 < 101 * MiB,
          "free shrank by %" PRIu64 " kB, want about 102400", (free0 - free1) / 1024);

    /* 2. a 100 MiB file is read through the page cache (cat file > /dev/null) */
    TRY(vmsim_file_create(sim, "testfile", 100 * MiB, NULL, 0));
    TRY(vmsim_file_read(sim, 1, "testfile", 0, 100 * MiB, NULL, &done));
    show(sim, "after reading a 100 MiB file");
    cache1 = book_meminfo(sim, "Cached");
    free2 = book_meminfo(sim, "MemFree");
    avail2 = book_meminfo(sim, "MemAvailable");
    CHECK(done == 100 * MiB, "read %" PRIu64 " bytes", done);
    CHECK(cache1 - cache0 == 100 * MiB, "buff/cache grew by %" PRIu64 " kB, want 102400",
          (cache1 - cache0) / 1024);
    CHECK(free1 - free2 == 100 * MiB, "free shrank by %" PRIu64 " kB, want 102400",
          (free1 - free2) / 1024);
    /* available counts clean page cache as memory a program can have: of
     * the 100 MiB, si_mem_available() holds back only the low watermark
     * (5144 kB with 1 GiB of RAM) */
    CHECK(avail1 - avail2 < (free1 - free2) / 10,
          "available shrank by %" PRIu64 " kB, want much less than free", (avail1 - avail2) / 1024);

    /* 3. echo 3 > /proc/sys/vm/drop_caches */
    TRY(vmsim_sysctl_set(sim, "vm.drop_caches", "3"));
    show(sim, "after echo 3 > /proc/sys/vm/drop_caches");
    cache2 = book_meminfo(sim, "Cached");
    CHECK(cache2 == cache0, "buff/cache is %" PRIu64 " kB after drop_caches", cache2 / 1024);

    /* 4. the program ends */
    TRY(vmsim_exit(sim, 1));
    show(sim, "after the program exited");
    CHECK(book_used(sim) == used0 && book_meminfo(sim, "MemAvailable") == avail0,
          "used %" PRIu64 " kB, at boot %" PRIu64 " kB", book_used(sim) / 1024, used0 / 1024);
    return book_done(sim);
}
