/*
 * book.h -- small helpers shared by the chapter 5 example programs.
 *
 * Each example is one C file and one executable. It builds a simulated
 * machine, runs one experiment of the book's chapter 5 against it, prints
 * what a Linux user would see (free, ps, /proc/PID/maps, ...; the prompt
 * "sim$" marks what a command would print on the simulated machine) and
 * checks the numbers the book's point depends on. A check that fails prints a
 * line starting with "FAIL" and makes the program exit 1, so every example
 * is also a test (ctest runs them all). A simulator error exits 2.
 */
#ifndef BOOK_H
#define BOOK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmsim/vmsim.h>

/* Number of failed checks so far; book_done() turns it into the exit code. */
static int book_failures;

/* Stop on a simulator error (a negative VMSIM_E*): the experiment cannot go on. */
#define TRY(call)                                                                        \
    do {                                                                                 \
        int try_err_ = (call);                                                           \
        if (try_err_ < 0) {                                                              \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,           \
                    vmsim_strerror(try_err_), vmsim_err_name(try_err_));                 \
            exit(2);                                                                     \
        }                                                                                \
    } while (0)

/* Check a condition the book's point needs; say what was expected if not. */
#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            printf(__VA_ARGS__);                                                         \
            printf("\n");                                                                \
            book_failures++;                                                             \
        }                                                                                \
    } while (0)

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

static inline vmsim_t *book_machine(const vmsim_config_t *cfg)
{
    vmsim_t *sim;

    TRY(vmsim_create(cfg, &sim));
    return sim;
}

static inline vmsim_proc_info_t book_info(const vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t info;

    TRY(vmsim_proc_info(sim, pid, &info));
    return info;
}

static inline uint64_t book_meminfo(const vmsim_t *sim, const char *name)
{
    uint64_t v = 0;

    TRY(vmsim_meminfo_get(sim, name, &v));
    return v;
}

static inline uint64_t book_vmstat(const vmsim_t *sim, const char *name)
{
    uint64_t v = 0;

    TRY(vmsim_vmstat_get(sim, name, &v));
    return v;
}

/* `free`'s "used" column (procps-ng 4): MemTotal - MemAvailable. */
static inline uint64_t book_used(const vmsim_t *sim)
{
    return book_meminfo(sim, "MemTotal") - book_meminfo(sim, "MemAvailable");
}

/* A private anonymous read-write mapping of len bytes (mmap(2)). */
static inline vmsim_vaddr_t book_mmap_anon(vmsim_t *sim, vmsim_pid_t pid, uint64_t len)
{
    vmsim_mmap_req_t req = { .len = len, .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS };
    vmsim_vaddr_t addr = 0;
    int ret = vmsim_mmap(sim, pid, &req, &addr);

    TRY(ret);
    if (ret > 0) {
        fprintf(stderr, "mmap of %" PRIu64 " bytes failed: %s\n", len,
                vmsim_sys_errno_name(ret));
        exit(2);
    }
    return addr;
}

/* One access of `kind` every 4 KiB over [addr, addr + len), as a program's
 * loop `for (i = 0; i < len; i += 4096) p[i] = 0;` would do. Stops when
 * the process dies (SIGSEGV, SIGBUS, or the OOM killer chose it). Returns
 * the OR of the outcomes. */
static inline unsigned book_touch(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr,
                                  uint64_t len, vmsim_access_kind kind)
{
    unsigned all = 0;

    for (uint64_t off = 0; off < len; off += VMSIM_PAGE_SIZE) {
        unsigned out = 0;

        TRY(vmsim_access(sim, pid, addr + off, 1, kind, &out));
        all |= out;
        if ((out & (VMSIM_OUT_SEGV | VMSIM_OUT_BUS | VMSIM_OUT_OOM)) && !book_info(sim, pid).alive)
            break;
    }
    return all;
}

/* A `ps -o pid,comm,vsz,rss,min_flt,maj_flt` header and line (sizes in kB). */
static inline void book_ps_header(void)
{
    printf("    PID COMMAND            VSZ      RSS   MINFL  MAJFL\n");
}

static inline void book_ps(const vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t i = book_info(sim, pid);

    printf("%7d %-12s %9" PRIu64 " %8" PRIu64 " %7" PRIu64 " %6" PRIu64, i.pid, i.name,
           i.vmsize / 1024, i.vmrss / 1024, i.minflt, i.majflt);
    if (!i.alive)
        printf("  (dead%s%s)", i.signal ? ": " : "", vmsim_signal_name(i.signal));
    printf("\n");
}

static inline void book_report(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid)
{
    TRY(vmsim_report_write(sim, kind, pid, stdout));
}

/* vmsim_check(): every invariant of the machine's accounting holds. */
static inline void book_check(const vmsim_t *sim)
{
    char why[256];

    if (vmsim_check(sim, why, sizeof(why)) != 0) {
        printf("FAIL vmsim_check: %s\n", why);
        book_failures++;
    }
}

/* Check the machine (if any) and destroy it, then say how the checks went
 * and give the exit status. */
static inline int book_done(vmsim_t *sim)
{
    if (sim != NULL)
        book_check(sim);
    vmsim_destroy(sim);
    if (book_failures > 0) {
        printf("\n%d check(s) failed: the numbers are not what the book's point needs.\n",
               book_failures);
        return 1;
    }
    printf("\nok: every number is as the book's point needs.\n");
    return 0;
}

#endif /* BOOK_H */
