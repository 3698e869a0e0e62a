/*
 * book_pagetables.c -- chapter 5, hierarchical page tables.
 *
 * A flat page table for the 128 TiB user address space would need one
 * 8-byte entry per 4 KiB page: 2^35 entries, 256 GiB per process. x86_64
 * uses four levels of 512-entry tables instead, and a table exists only
 * where something is mapped and touched. So page-table memory (VmPTE in
 * /proc/PID/status) grows with what a process touches, not with what it
 * could address: 12 kB for one page, about 2 MiB for a whole 1 GiB, and
 * already that much when one page in every 2 MiB of it is touched (each
 * 2 MiB needs one page table).
 */
#include "book.h"

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_mmap_req_t req = { .addr = 0x4000000000, .len = 1 * GiB,
                             .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED };
    vmsim_vaddr_t buf;
    vmsim_proc_info_t info;
    uint64_t flat = ((uint64_t)1 << 47) / VMSIM_PAGE_SIZE * 8;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 2 * GiB;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "pt", 0));
    TRY(vmsim_mmap(sim, 1, &req, &buf)); /* 1 GiB at a 1 GiB boundary */

    printf("a flat table for 2^47 bytes: 2^35 entries x 8 bytes = %" PRIu64 " GiB per process\n\n",
           flat >> 30);
    printf("%-28s %10s %10s\n", "after", "VmRSS(kB)", "VmPTE(kB)");
    info = book_info(sim, 1);
    printf("%-28s %10" PRIu64 " %10" PRIu64 "\n", "mmap() of 1 GiB", info.vmrss / 1024,
           info.vmpte / 1024);
    CHECK(info.vmpte == 0, "no table before the first touch");

    book_touch(sim, 1, buf, 4 * KiB, VMSIM_WRITE);
    info = book_info(sim, 1);
    printf("%-28s %10" PRIu64 " %10" PRIu64 "\n", "writing its first page", info.vmrss / 1024,
           info.vmpte / 1024);
    /* a PDPT, a PD and a PT (VmPTE does not count the PML4, as Linux) */
    CHECK(info.vmpte == 12 * KiB, "one table per level below the PML4");
    printf("\nthe tables, as vmsim_report_write(VMSIM_REPORT_PAGETABLE) shows them:\n");
    book_report(sim, VMSIM_REPORT_PAGETABLE, 1);
    printf("\n");

    /* one write in every 2 MiB: each needs its own page table */
    for (uint64_t off = 0; off < 1 * GiB; off += 2 * MiB)
        TRY(vmsim_access(sim, 1, buf + off, 1, VMSIM_WRITE, NULL));
    info = book_info(sim, 1);
    printf("%-28s %10" PRIu64 " %10" PRIu64 "\n", "writing a page every 2 MiB", info.vmrss / 1024,
           info.vmpte / 1024);
    /* 512 PTs + 1 PD + 1 PDPT: the most 1 GiB can need; writing all of its
     * 262144 pages (traces/page-tables.json) adds no table. Linux 6.18
     * measured 2056 kB for the whole 1 GiB written. */
    CHECK(info.vmpte == 2056 * KiB, "VmPTE %" PRIu64 " kB, want 2056", info.vmpte / 1024);
    CHECK(info.vmrss == 512 * 4 * KiB, "512 pages resident");
    printf("\n2056 kB of tables can map all of 1 GiB; a flat table would take %" PRIu64
           " times more memory\n", flat / info.vmpte);

    TRY(vmsim_munmap(sim, 1, buf, 1 * GiB));
    info = book_info(sim, 1);
    printf("%-28s %10" PRIu64 " %10" PRIu64 "\n", "munmap()", info.vmrss / 1024,
           info.vmpte / 1024);
    CHECK(info.vmpte == 0, "munmap() frees the tables too");
    return book_done(sim);
}
