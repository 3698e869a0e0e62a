/*
 * book_segv.c -- chapter 5, page faults that end in SIGSEGV.
 *
 * A program that reads an address no mapping covers (NULL, say) makes the
 * MMU fault; the kernel finds no VMA there and sends SIGSEGV, and the
 * shell prints "Segmentation fault". The line the program would print
 * after the bad access never appears. A write to a read-only mapping is
 * a different kind of SIGSEGV (SEGV_ACCERR instead of SEGV_MAPERR).
 */
#include "book.h"

static void run(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, vmsim_access_kind kind)
{
    vmsim_proc_info_t info;
    unsigned out = 0;

    printf("before the invalid access\n");
    TRY(vmsim_access(sim, pid, va, 1, kind, &out));
    info = book_info(sim, pid);
    if (info.alive) {
        printf("after the invalid access\n");
        return;
    }
    printf("Segmentation fault    (%s, si_code %s, address 0x%" PRIx64 ")\n",
           vmsim_signal_name(info.signal), vmsim_si_code_name(info.signal, info.si_code),
           info.fault_addr);
    CHECK(out & VMSIM_OUT_SEGV, "the access should report VMSIM_OUT_SEGV");
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_mmap_req_t ro = { .len = 4 * KiB, .prot = VMSIM_PROT_READ,
                            .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS };
    vmsim_vaddr_t page;
    vmsim_proc_info_t info;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sim = book_machine(&cfg);

    printf("sim$ ./segv            # reads address 0 (NULL)\n");
    TRY(vmsim_spawn(sim, 1, "segv", 0));
    run(sim, 1, 0, VMSIM_READ);
    info = book_info(sim, 1);
    CHECK(!info.alive && info.signal == VMSIM_SIGSEGV && info.si_code == VMSIM_SEGV_MAPERR,
          "want SIGSEGV/SEGV_MAPERR, got %s/%s", vmsim_signal_name(info.signal),
          vmsim_si_code_name(info.signal, info.si_code));
    CHECK(info.minflt == 0, "a fault that ends in SIGSEGV is not a minor fault");

    printf("\nsim$ ./rowrite         # writes to a read-only page\n");
    TRY(vmsim_spawn(sim, 2, "rowrite", 0));
    TRY(vmsim_mmap(sim, 2, &ro, &page));
    TRY(vmsim_access(sim, 2, page, 1, VMSIM_READ, NULL)); /* reading is allowed */
    printf("read the page: ok\n");
    run(sim, 2, page, VMSIM_WRITE);
    info = book_info(sim, 2);
    CHECK(!info.alive && info.signal == VMSIM_SIGSEGV && info.si_code == VMSIM_SEGV_ACCERR,
          "want SIGSEGV/SEGV_ACCERR, got %s/%s", vmsim_signal_name(info.signal),
          vmsim_si_code_name(info.signal, info.si_code));

    /* Linux counts pgfault in handle_mm_fault(), which a fault with no VMA
     * or a forbidden access never reaches: only the read counts */
    printf("\nsim$ grep pgfault /proc/vmstat\npgfault %" PRIu64 "\n", book_vmstat(sim, "pgfault"));
    CHECK(book_vmstat(sim, "pgfault") == 1, "only the allowed read's fault counts");
    return book_done(sim);
}
