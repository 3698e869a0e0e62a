/*
 * book_swap.c -- chapter 5, swap and thrashing.
 *
 * 32 MiB of RAM and 128 MiB of swap. While a program's working set fits
 * in RAM, going over it again costs nothing. Once it does not fit, the
 * kernel pages memory out to swap to make room and pages it back in on
 * the next touch: every such touch is a major fault (it waits for the
 * disk), `sar -W` shows pswpin/pswpout, and the time per pass explodes.
 * That is thrashing. The simulator's clock (vmsim_time_ns) charges
 * 100 us per page read from swap and about 1 ns per plain access.
 */
#include "book.h"

struct snap {
    uint64_t majflt, minflt, pswpin, pswpout, ns;
};

static struct snap snap(const vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t info = book_info(sim, pid);
    struct snap s = { info.majflt, info.minflt, book_vmstat(sim, "pswpin"),
                      book_vmstat(sim, "pswpout"), vmsim_time_ns(sim) };

    return s;
}

/* One pass over the working set; prints a line and returns the deltas. */
static struct snap pass(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t buf, uint64_t len,
                        int n)
{
    struct snap a = snap(sim, pid), b, d;

    book_touch(sim, pid, buf, len, VMSIM_WRITE);
    b = snap(sim, pid);
    d.majflt = b.majflt - a.majflt;
    d.minflt = b.minflt - a.minflt;
    d.pswpin = b.pswpin - a.pswpin;
    d.pswpout = b.pswpout - a.pswpout;
    d.ns = b.ns - a.ns;
    printf("%4" PRIu64 " MiB  pass %d %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
           " %12.3f\n", len / MiB, n, d.minflt, d.majflt, d.pswpin, d.pswpout, d.ns / 1e6);
    return d;
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    struct snap fit, thrash;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 32 * MiB;
    cfg.swap = 128 * MiB;
    cfg.page_cluster = 0; /* no swap readahead: one page in per major fault */
    sim = book_machine(&cfg);

    printf("working set      min_flt  maj_flt   pswpin  pswpout  time(ms)\n");
    TRY(vmsim_spawn(sim, 1, "fits", 0));
    buf = book_mmap_anon(sim, 1, 16 * MiB);
    pass(sim, 1, buf, 16 * MiB, 1);
    fit = pass(sim, 1, buf, 16 * MiB, 2);
    TRY(vmsim_exit(sim, 1));
    CHECK(fit.majflt == 0 && fit.minflt == 0 && fit.pswpout == 0,
          "a working set that fits costs nothing the second time");

    TRY(vmsim_spawn(sim, 2, "thrash", 0));
    buf = book_mmap_anon(sim, 2, 48 * MiB);
    pass(sim, 2, buf, 48 * MiB, 1);
    thrash = pass(sim, 2, buf, 48 * MiB, 2);
    CHECK(thrash.majflt > 48 * MiB / VMSIM_PAGE_SIZE / 2,
          "most pages of a 48 MiB pass come back from swap (%" PRIu64 " major faults)",
          thrash.majflt);
    CHECK(thrash.pswpin == thrash.majflt && thrash.pswpout > 0,
          "each major fault read one page from swap, while reclaim wrote others out");
    CHECK(thrash.ns > 100 * fit.ns, "thrashing is orders of magnitude slower (%.0fx)",
          (double)thrash.ns / (double)(fit.ns ? fit.ns : 1));
    printf("\na pass that fits took %.3f ms, a thrashing pass %.1f ms: %.0f times slower\n",
           fit.ns / 1e6, thrash.ns / 1e6, (double)thrash.ns / (double)(fit.ns ? fit.ns : 1));
    printf("\nsim$ free\n");
    book_report(sim, VMSIM_REPORT_FREE, 0);
    return book_done(sim);
}
