/*
 * book_shm.c -- chapter 5, shared memory.
 *
 * Memory mapped with MAP_SHARED is not copied on write after fork(): the
 * parent and the child map the same frames, so what one stores the other
 * loads. It is accounted as Shmem (free's "shared" column) and RssShmem.
 * Unrelated processes share memory through a file under /dev/shm (tmpfs):
 * its pages live only in memory, so reading them never waits for a disk,
 * and dropping the caches does not drop them.
 */
#include <string.h>

#include "book.h"

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_mmap_req_t req = { .len = 8 * KiB, .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS };
    vmsim_vaddr_t shm, w, r;
    vmsim_pte_info_t p1, p2;
    vmsim_proc_info_t info;
    char buf[16] = { 0 };

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.track_data = true;
    sim = book_machine(&cfg);

    /* 1. MAP_SHARED | MAP_ANONYMOUS across fork() */
    TRY(vmsim_spawn(sim, 1, "parent", 0));
    TRY(vmsim_mmap(sim, 1, &req, &shm));
    TRY(vmsim_write_data(sim, 1, shm, "0000", 4, NULL));
    TRY(vmsim_fork(sim, 1, 2));
    TRY(vmsim_write_data(sim, 2, shm, "from child", 10, NULL));
    TRY(vmsim_read_data(sim, 1, shm, buf, 10, NULL));
    printf("the child wrote \"from child\"; the parent reads \"%s\"\n", buf);
    CHECK(strcmp(buf, "from child") == 0, "a shared mapping is not copied on write");
    TRY(vmsim_pte_lookup(sim, 1, shm, &p1));
    TRY(vmsim_pte_lookup(sim, 2, shm, &p2));
    printf("parent and child map 0x%" PRIx64 " to frames %" PRIu64 " and %" PRIu64 "\n", shm,
           p1.pfn, p2.pfn);
    CHECK(p1.pfn == p2.pfn, "both map the same frame");
    CHECK(book_info(sim, 2).cow == 0, "no copy-on-write");
    info = book_info(sim, 1);
    printf("Shmem %" PRIu64 " kB, RssShmem of the parent %" PRIu64 " kB\n\nsim$ free\n",
           book_meminfo(sim, "Shmem") / 1024, info.rss_shmem / 1024);
    book_report(sim, VMSIM_REPORT_FREE, 0);
    CHECK(book_meminfo(sim, "Shmem") == 4 * KiB && info.rss_shmem == 4 * KiB,
          "one shared page, counted as Shmem");
    TRY(vmsim_exit(sim, 2));

    /* 2. /dev/shm between two unrelated processes */
    TRY(vmsim_file_create(sim, "/dev/shm/box", 4 * KiB, NULL, 0));
    TRY(vmsim_spawn(sim, 3, "writer", 0));
    TRY(vmsim_spawn(sim, 4, "reader", 0));
    req.flags = VMSIM_MAP_SHARED;
    req.file = "/dev/shm/box";
    req.len = 4 * KiB;
    TRY(vmsim_mmap(sim, 3, &req, &w));
    TRY(vmsim_write_data(sim, 3, w, "hello, 4", 8, NULL));
    TRY(vmsim_exit(sim, 3));
    TRY(vmsim_sysctl_set(sim, "vm.drop_caches", "3"));
    req.prot = VMSIM_PROT_READ;
    TRY(vmsim_mmap(sim, 4, &req, &r));
    memset(buf, 0, sizeof(buf));
    TRY(vmsim_read_data(sim, 4, r, buf, 8, NULL));
    info = book_info(sim, 4);
    printf("\npid 3 wrote /dev/shm/box and exited; after drop_caches pid 4 reads \"%s\""
           " (majflt %" PRIu64 ")\n", buf, info.majflt);
    printf("sim$ cat /proc/4/maps\n");
    book_report(sim, VMSIM_REPORT_MAPS, 4);
    CHECK(strcmp(buf, "hello, 4") == 0, "the reader sees the writer's bytes");
    CHECK(info.majflt == 0, "tmpfs pages never come from disk");
    CHECK(book_meminfo(sim, "Shmem") == 8 * KiB, "the tmpfs page stays in memory");
    return book_done(sim);
}
