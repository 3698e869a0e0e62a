/*
 * book_addresses.c -- chapter 5, virtual and physical addresses.
 *
 * A program only ever sees virtual addresses. Two runs of the same
 * program get the same addresses (here as on Linux without address-space
 * randomization), yet each writes its own data: the same virtual address
 * is translated by each process's own page table to a different physical
 * frame. vmsim_pte_lookup() reads the page-table entry the MMU would use.
 */
#include "book.h"

static void show(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, vmsim_pfn_t *pfn)
{
    vmsim_pte_info_t pte;

    TRY(vmsim_pte_lookup(sim, pid, va, &pte));
    printf("pid %d: virtual 0x%" PRIx64 " -> PTE 0x%016" PRIx64 " -> frame %" PRIu64
           " (physical 0x%" PRIx64 ")\n",
           pid, va, pte.entry, pte.pfn, pte.pfn << VMSIM_PAGE_SHIFT);
    printf("         page-table indexes: PML4 %u, PDPT %u, PD %u, PT %u, offset %u\n",
           (unsigned)(va >> 39) & 511, (unsigned)(va >> 30) & 511, (unsigned)(va >> 21) & 511,
           (unsigned)(va >> 12) & 511, (unsigned)(va & 4095));
    CHECK(pte.level == 0 && pte.present, "pid %d: no present 4 KiB entry", pid);
    *pfn = pte.pfn;
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t va1, va2;
    vmsim_pfn_t pfn1 = 0, pfn2 = 0;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);

    /* the same program started twice: each maps one page and writes it */
    TRY(vmsim_spawn(sim, 1, "prog", 0));
    TRY(vmsim_spawn(sim, 2, "prog", 0));
    va1 = book_mmap_anon(sim, 1, 4 * KiB);
    va2 = book_mmap_anon(sim, 2, 4 * KiB);
    book_touch(sim, 1, va1, 4 * KiB, VMSIM_WRITE);
    book_touch(sim, 2, va2, 4 * KiB, VMSIM_WRITE);

    printf("sim$ cat /proc/1/maps\n");
    book_report(sim, VMSIM_REPORT_MAPS, 1);
    printf("sim$ cat /proc/2/maps\n");
    book_report(sim, VMSIM_REPORT_MAPS, 2);
    printf("\n");
    show(sim, 1, va1, &pfn1);
    show(sim, 2, va2, &pfn2);

    CHECK(va1 == va2, "both processes should get the same virtual address");
    CHECK(pfn1 != pfn2, "the same virtual address must map different frames");
    CHECK(book_meminfo(sim, "AnonPages") == 8 * KiB, "two pages of memory in use");
    return book_done(sim);
}
