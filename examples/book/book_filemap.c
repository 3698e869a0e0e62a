/*
 * book_filemap.c -- chapter 5, file mapping.
 *
 * A file that says "hello" is mapped into a process with mmap(MAP_SHARED);
 * the mapping shows in /proc/PID/maps with the file's name. The program
 * overwrites the bytes in memory with "HELLO", and the file itself now
 * says "HELLO": a shared file mapping is the page cache of the file, and
 * its dirty page is written back (msync(), munmap()). A MAP_PRIVATE
 * mapping would get a copy on its first write and leave the file alone.
 * The machine keeps page contents (cfg.track_data) so bytes can be seen.
 */
#include <string.h>

#include "book.h"

static void cat(const vmsim_t *sim, const char *name, char *buf, size_t len)
{
    uint64_t size = 0;

    memset(buf, 0, len);
    TRY(vmsim_file_peek(sim, name, 0, buf, len - 1, &size));
    printf("sim$ cat %s\n%s", name, buf);
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_mmap_req_t req = { .len = 6, .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_SHARED, .file = "testfile" };
    vmsim_vaddr_t map, priv;
    char buf[16], mem[6];
    unsigned out = 0;
    vmsim_proc_info_t info;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.track_data = true;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "filemap", 0));
    TRY(vmsim_file_create(sim, "testfile", 6, "hello\n", 6));
    cat(sim, "testfile", buf, sizeof(buf));

    TRY(vmsim_mmap(sim, 1, &req, &map));
    printf("\nsim$ cat /proc/1/maps     # after mmap() of testfile\n");
    book_report(sim, VMSIM_REPORT_MAPS, 1);

    TRY(vmsim_read_data(sim, 1, map, mem, 5, &out));
    printf("\nfile contents read through the mapping: %.5s", mem);
    printf("   (a major fault: the page came from disk)\n");
    CHECK(memcmp(mem, "hello", 5) == 0, "the mapping shows the file's bytes");
    CHECK(out & VMSIM_OUT_MAJOR, "the first read of a cold file is a major fault");

    TRY(vmsim_write_data(sim, 1, map, "HELLO", 5, NULL));
    printf("overwrote the mapping with HELLO; Dirty: %" PRIu64 " kB\n",
           book_meminfo(sim, "Dirty") / 1024);
    CHECK(book_meminfo(sim, "Dirty") == 4 * KiB, "one dirty page-cache page");
    TRY(vmsim_msync(sim, 1, map, 6));
    CHECK(book_meminfo(sim, "Dirty") == 0, "msync() wrote the page back");
    TRY(vmsim_munmap(sim, 1, map, 6));
    /* forget the page cache, so that what is read next comes from disk */
    TRY(vmsim_sysctl_set(sim, "vm.drop_caches", "3"));
    CHECK(book_meminfo(sim, "Cached") == 0, "the page cache is empty");
    printf("\nsim$ echo 3 > /proc/sys/vm/drop_caches\n");
    cat(sim, "testfile", buf, sizeof(buf));
    CHECK(strcmp(buf, "HELLO\n") == 0, "the file on disk now says HELLO");

    /* the same with MAP_PRIVATE: the write copies the page, the file stays */
    req.flags = VMSIM_MAP_PRIVATE;
    TRY(vmsim_mmap(sim, 1, &req, &priv));
    TRY(vmsim_write_data(sim, 1, priv, "howdy", 5, &out));
    TRY(vmsim_read_data(sim, 1, priv, mem, 5, NULL));
    printf("\nMAP_PRIVATE: the mapping says %.5s after a write (a copy-on-write fault)\n", mem);
    info = book_info(sim, 1);
    CHECK(memcmp(mem, "howdy", 5) == 0 && info.cow == 1, "the private write made a copy");
    cat(sim, "testfile", buf, sizeof(buf));
    CHECK(strcmp(buf, "HELLO\n") == 0, "a private write never reaches the file");
    return book_done(sim);
}
