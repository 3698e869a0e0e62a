/*
 * types.h -- the vocabulary of the public API: addresses, frames, pids,
 * protection and mapping flags, access kinds and access outcomes.
 */
#ifndef VMSIM_TYPES_H
#define VMSIM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define VMSIM_API
#elif defined(__GNUC__) && defined(VMSIM_BUILDING)
#define VMSIM_API __attribute__((visibility("default")))
#else
#define VMSIM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t vmsim_vaddr_t; /* a simulated virtual address */
typedef uint64_t vmsim_pfn_t;   /* a simulated physical frame number (4 KiB frames) */
typedef int32_t vmsim_pid_t;    /* a simulated process id, >= 1 */

#define VMSIM_PAGE_SHIFT 12
#define VMSIM_PAGE_SIZE  ((uint64_t)1 << VMSIM_PAGE_SHIFT)

/* User space of 4-level x86_64 Linux: [0, TASK_SIZE). The last usable page
 * starts at 0x7fffffffe000. */
#define VMSIM_TASK_SIZE ((((uint64_t)1) << 47) - VMSIM_PAGE_SIZE)

/* Protection bits (PROT_* of mmap). VMSIM_PROT_NONE is 0. */
enum {
    VMSIM_PROT_NONE = 0,
    VMSIM_PROT_READ = 1u << 0,
    VMSIM_PROT_WRITE = 1u << 1,
    VMSIM_PROT_EXEC = 1u << 2,
};

/* Mapping flags (MAP_* of mmap). Exactly one of PRIVATE and SHARED. */
enum {
    VMSIM_MAP_PRIVATE = 1u << 0,
    VMSIM_MAP_SHARED = 1u << 1,
    VMSIM_MAP_ANONYMOUS = 1u << 2,
    VMSIM_MAP_FIXED = 1u << 3,
    VMSIM_MAP_POPULATE = 1u << 4,
    VMSIM_MAP_HUGETLB = 1u << 5,
    VMSIM_MAP_NORESERVE = 1u << 6,
    /* Not Linux's: never charged to the commit limit, whatever the
     * overcommit mode (MAP_NORESERVE is ignored in mode 2). For memory a
     * recorded program is known to have had: a lackey trace's implicit
     * mappings, where every page touched is valid. */
    VMSIM_MAP_UNACCOUNTED = 1u << 7,
};

typedef enum vmsim_access_kind {
    VMSIM_READ = 0,
    VMSIM_WRITE = 1,
    VMSIM_EXEC = 2,
} vmsim_access_kind;

/*
 * What happened to one access: a bit set, not an error. A call that reports
 * VMSIM_OUT_SEGV still returns 0; the process is then dead.
 */
enum {
    VMSIM_OUT_MINOR = 1u << 0,    /* a fault resolved without I/O */
    VMSIM_OUT_MAJOR = 1u << 1,    /* a fault that waited for I/O (swap or file) */
    VMSIM_OUT_COW = 1u << 2,      /* a write copied a shared frame */
    VMSIM_OUT_HUGE = 1u << 3,     /* served by a 2 MiB or 1 GiB mapping */
    VMSIM_OUT_FALLBACK = 1u << 4, /* wanted a huge page, got 4 KiB */
    VMSIM_OUT_ZERO = 1u << 5,     /* a read mapped the shared zero page */
    VMSIM_OUT_REUSE = 1u << 6,    /* a write fault reused an exclusive page */
    VMSIM_OUT_TLB_MISS = 1u << 7, /* the TLB missed and the tables were walked */
    VMSIM_OUT_SEGV = 1u << 8,     /* SIGSEGV: the process was killed */
    VMSIM_OUT_BUS = 1u << 9,      /* SIGBUS: the process was killed */
    VMSIM_OUT_PANIC = 1u << 10,   /* the system panicked (panic_on_oom) */
    VMSIM_OUT_OOM = 1u << 11,     /* the OOM killer ran during this access */
};

/* Signals and si_code values as Linux x86_64 numbers them. */
enum {
    VMSIM_SIGABRT = 6,
    VMSIM_SIGBUS = 7,
    VMSIM_SIGKILL = 9,
    VMSIM_SIGSEGV = 11,
};
enum {
    VMSIM_SI_TKILL = -6,    /* raise(): glibc's abort() */
    VMSIM_SI_KERNEL = 0x80, /* #GP: a non-canonical address */
    VMSIM_SEGV_MAPERR = 1,  /* no mapping at the address */
    VMSIM_SEGV_ACCERR = 2,  /* the mapping forbids the access */
    VMSIM_BUS_ADRERR = 2,   /* a file page wholly beyond end of file */
};

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_TYPES_H */
