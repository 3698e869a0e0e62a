/*
 * vmsim.h -- libvmsim, the virtual memory of an x86_64 Linux machine,
 * simulated in user space. This header is the reference: every public
 * function is documented here.
 *
 * One vmsim_t is one machine: simulated RAM (4 KiB frames under a buddy
 * allocator), processes with 4-level page tables and VMAs, the fault path,
 * and Linux-named counters. Calls that a simulated program would make as
 * syscalls (mmap, munmap, ...) return 0, a positive simulated errno
 * (VMSIM_SYS_*), or a negative VMSIM_E* when the simulator itself failed.
 * Accesses report their fate as VMSIM_OUT_* bits.
 *
 * Threads: a vmsim_t is single-threaded; distinct instances are fully
 * independent (the library has no global state). Determinism: the same
 * calls with the same config and seed give the same numbers everywhere.
 */
#ifndef VMSIM_VMSIM_H
#define VMSIM_VMSIM_H

#include <stdio.h>

#include "vmsim/error.h"
#include "vmsim/heap.h"
#include "vmsim/policy.h"
#include "vmsim/stats.h"
#include "vmsim/types.h"
#include "vmsim/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmsim vmsim_t;
struct vmsim_policy_ops;

/* ---- configuration ---------------------------------------------------- */

typedef enum vmsim_profile {
    VMSIM_PROFILE_LINUX = 0,    /* every default is Linux 6.x's */
    VMSIM_PROFILE_TEXTBOOK = 1, /* no readahead, fault-around, zero page, THP or TLB */
} vmsim_profile;

typedef enum vmsim_thp_mode {
    VMSIM_THP_ALWAYS = 0,
    VMSIM_THP_MADVISE = 1,
    VMSIM_THP_NEVER = 2,
} vmsim_thp_mode;

#define VMSIM_SWAP_AS_MEMORY UINT64_MAX

/* The smallest (64 KiB) and largest (256 GiB) simulated RAM, and the largest
 * swap (1 TiB), one instance holds. */
#define VMSIM_MIN_MEMORY ((uint64_t)64 << 10)
#define VMSIM_MAX_MEMORY ((uint64_t)256 << 30)
/* The largest simulated file, 1 PiB (2^50 bytes; a write past it is EFBIG). */
#define VMSIM_MAX_FILE_SIZE ((uint64_t)1 << 50)
#define VMSIM_MAX_SWAP   ((uint64_t)1 << 40)
/* The most processes (alive or dead) one instance tracks. */
#define VMSIM_MAX_PROCS 65536

typedef struct vmsim_tlb_config {
    bool enabled;
    uint32_t l1_4k, l1_2m, l1_1g; /* L1 dTLB entries per page size */
    uint32_t l2;                  /* unified L2 (STLB) entries */
    uint32_t ways;                /* associativity of every level */
    bool pcid;                    /* false: a context switch flushes */
} vmsim_tlb_config_t;

/* Simulated nanoseconds per event (the cost model). */
#define VMSIM_LATENCY_MAP(XX)                                                            \
    XX(tlb_hit, 1, "an access that hits the TLB (or with no TLB, the tables)")           \
    XX(walk_level, 20, "one memory reference of a page walk")                            \
    XX(minor_fault, 250, "a minor fault's kernel entry and exit")                        \
    XX(zero_page, 400, "zeroing a new 4 KiB frame")                                      \
    XX(copy_page, 600, "copying a 4 KiB frame (COW)")                                    \
    XX(major_fault, 100000, "reading a page from swap")                                  \
    XX(file_read, 100000, "reading a page from a file")                                  \
    XX(swap_out, 20000, "writing a page to swap")                                        \
    XX(writeback, 20000, "writing a dirty file page back")                               \
    XX(fork_pte, 10, "copying one PTE at fork")

typedef struct vmsim_latency {
#define XX(name, dflt, doc) uint64_t name;
    VMSIM_LATENCY_MAP(XX)
#undef XX
} vmsim_latency_t;

/* Where simulated time went: one bucket per latency above. */
typedef enum vmsim_cost {
#define XX(name, dflt, doc) VMSIM_COST_##name,
    VMSIM_LATENCY_MAP(XX)
#undef XX
    VMSIM_COST__COUNT
} vmsim_cost;

/* Event kinds reported through the event callback. XX(ID, "name") */
#define VMSIM_EVENT_MAP(XX)                                                              \
    XX(FAULT, "fault")                                                                   \
    XX(COW, "cow")                                                                       \
    XX(SIGNAL, "signal")                                                                 \
    XX(SWAP_IN, "swap_in")                                                               \
    XX(SWAP_OUT, "swap_out")                                                             \
    XX(EVICT, "evict")                                                                   \
    XX(THP_ALLOC, "thp_alloc")                                                           \
    XX(THP_SPLIT, "thp_split")                                                           \
    XX(THP_COLLAPSE, "thp_collapse")                                                     \
    XX(OOM_KILL, "oom_kill")                                                             \
    XX(PANIC, "panic")                                                                   \
    XX(SPAWN, "spawn")                                                                   \
    XX(EXIT, "exit")

typedef enum vmsim_event_type {
#define XX(id, name) VMSIM_EV_##id,
    VMSIM_EVENT_MAP(XX)
#undef XX
    VMSIM_EV__COUNT
} vmsim_event_type;

typedef struct vmsim_event {
    uint64_t seq;          /* 1, 2, ... per instance */
    vmsim_event_type type;
    vmsim_pid_t pid;
    vmsim_vaddr_t va;      /* page-aligned, 0 if none */
    vmsim_pfn_t pfn;       /* the frame involved, UINT64_MAX if none */
    unsigned outcome;      /* for faults: VMSIM_OUT_* bits */
    int signal, si_code;   /* for signals */
    const char *cause;     /* a short static word: "zero-fill", "zero-page", ... */
} vmsim_event_t;

/* Called synchronously for every event; must not call back into the
 * simulator. The event is borrowed for the call's duration. */
typedef void (*vmsim_event_fn)(void *ctx, const vmsim_event_t *ev);

/* A per-instance allocator for host memory (NULL members: libc). */
typedef struct vmsim_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t n, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} vmsim_allocator_t;

typedef struct vmsim_config {
    vmsim_profile profile;
    uint64_t memory;           /* RAM bytes, a multiple of 4 KiB */
    uint64_t swap;             /* swap bytes, 0 = none (every profile's default);
                                * VMSIM_SWAP_AS_MEMORY: as much as `memory` */
    const char *policy;        /* replacement policy by name ("name" or "name:params");
                                * the string must outlive the machine */
    const struct vmsim_policy_ops *policy_ops; /* a user policy; overrides `policy` */
    uint64_t resident_limit;   /* bytes: cap on resident user pages (anon + file +
                                * shmem), a multiple of 4 KiB; 0 = none */
    vmsim_thp_mode thp;
    uint64_t hugepages_2m;     /* hugetlb pool sizes, in huge pages */
    uint64_t hugepages_1g;
    int overcommit_memory;     /* 0 heuristic, 1 always, 2 strict */
    int overcommit_ratio;      /* percent */
    int panic_on_oom;          /* 0 or 1 */
    int swappiness;            /* 0..200 */
    int page_cluster;          /* swap readahead: 2^n pages */
    uint64_t fault_around_bytes;
    uint64_t read_ahead_kb;
    bool zero_page;            /* read faults on anonymous memory map the zero page */
    vmsim_tlb_config_t tlb;
    bool track_data;           /* keep the bytes of every page */
    uint64_t seed;
    vmsim_latency_t latency;
    vmsim_allocator_t alloc;
    vmsim_event_fn on_event;   /* may be NULL */
    void *event_ctx;
} vmsim_config_t;

/* Fill *cfg with the defaults of a profile (TRACE_FORMAT.md's table):
 * 1 GiB RAM, no swap, policy "linux", THP madvise (textbook: never), ... */
VMSIM_API void vmsim_config_init(vmsim_config_t *cfg, vmsim_profile profile);

/* ---- the machine ------------------------------------------------------ */

/* Create a machine. Returns 0 and a new handle in *out (release with
 * vmsim_destroy), VMSIM_EINVAL or VMSIM_ERANGE for a bad config,
 * VMSIM_ENOMEM; *out is untouched on failure. No process exists yet. */
VMSIM_API int vmsim_create(const vmsim_config_t *cfg, vmsim_t **out);

/* Destroy a machine and everything in it. NULL is a no-op. */
VMSIM_API void vmsim_destroy(vmsim_t *sim);

/* The config the machine runs with (borrowed; sysctls change it). */
VMSIM_API const vmsim_config_t *vmsim_config(const vmsim_t *sim);

/* Free memory the library allocated for the caller. NULL is a no-op. */
VMSIM_API void vmsim_free(vmsim_t *sim, void *ptr);

/* ---- processes -------------------------------------------------------- */

/* A new process with an empty address space. pid >= 1; a pid that is alive
 * gives VMSIM_EEXIST; a dead pid is reused. Returns 0 or VMSIM_E*. */
VMSIM_API int vmsim_spawn(vmsim_t *sim, vmsim_pid_t pid, const char *name,
                          int oom_score_adj);

/* End a process and release all its memory. The process stays listed,
 * dead, with its final counters. Returns 0 or VMSIM_ESRCH. */
VMSIM_API int vmsim_exit(vmsim_t *sim, vmsim_pid_t pid);

/* fork(2): child gets a copy-on-write copy of pid's address space (as
 * Linux's copy_page_range: private pages write-protected in both, shared
 * file and shmem mappings left for the child to fault in). child must not
 * be alive. Returns 0; VMSIM_SYS_ENOMEM when the commit limit refuses the
 * child's memory or its page tables cannot be had (no child then exists;
 * the OOM killer may have killed pid meanwhile); or VMSIM_E*. */
VMSIM_API int vmsim_fork(vmsim_t *sim, vmsim_pid_t pid, vmsim_pid_t child);

/* execve(2): replace pid's address space with an empty one; name (may be
 * NULL) becomes its comm. Fault counters are kept, as Linux keeps them. */
VMSIM_API int vmsim_exec(vmsim_t *sim, vmsim_pid_t pid, const char *name);

/* ---- memory syscalls: 0, a positive VMSIM_SYS_* errno, or VMSIM_E* ---- */

typedef struct vmsim_mmap_req {
    vmsim_vaddr_t addr;  /* hint, or the exact address with VMSIM_MAP_FIXED */
    uint64_t len;
    unsigned prot;       /* VMSIM_PROT_* */
    unsigned flags;      /* VMSIM_MAP_* */
    const char *file;    /* a file name, NULL for anonymous memory */
    uint64_t offset;     /* file offset, page-aligned */
    uint64_t pagesize;   /* with VMSIM_MAP_HUGETLB: 2 MiB (0) or 1 GiB */
} vmsim_mmap_req_t;

/* mmap(2). On 0, *addr_out (may be NULL) holds the mapping's start. */
VMSIM_API int vmsim_mmap(vmsim_t *sim, vmsim_pid_t pid, const vmsim_mmap_req_t *req,
                         vmsim_vaddr_t *addr_out);

/* munmap(2). */
VMSIM_API int vmsim_munmap(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len);

/* mprotect(2). */
VMSIM_API int vmsim_mprotect(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr,
                             uint64_t len, unsigned prot);

/* brk(2): move the program break to newbrk (0 only queries). On 0,
 * *brk_out (may be NULL) holds the break; a refused move returns
 * VMSIM_SYS_ENOMEM, as glibc's brk() does. */
VMSIM_API int vmsim_brk(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t newbrk,
                        vmsim_vaddr_t *brk_out);

/* madvise(2) advice values (Linux's numbers). */
typedef enum vmsim_advice {
    VMSIM_MADV_NORMAL = 0,
    VMSIM_MADV_RANDOM = 1,
    VMSIM_MADV_SEQUENTIAL = 2,
    VMSIM_MADV_WILLNEED = 3,
    VMSIM_MADV_DONTNEED = 4,
    VMSIM_MADV_HUGEPAGE = 14,
    VMSIM_MADV_NOHUGEPAGE = 15,
    VMSIM_MADV_PAGEOUT = 21,
    VMSIM_MADV_COLLAPSE = 25,
} vmsim_advice;

/* madvise(2). Unmapped parts of the range give VMSIM_SYS_ENOMEM after the
 * mapped parts were advised, as Linux does. */
VMSIM_API int vmsim_madvise(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len,
                            vmsim_advice advice);

/* msync(2) with MS_SYNC: write back the dirty shared file pages of the
 * range. Unmapped parts give VMSIM_SYS_ENOMEM. */
VMSIM_API int vmsim_msync(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len);

/* ---- files and the page cache ------------------------------------------ */

/* Create (or replace) a file of `size` bytes on the simulated disk, not in
 * the page cache. data (may be NULL: zeros) holds data_len <= size bytes of
 * its beginning. Names starting with "/dev/shm/" are tmpfs files: they
 * live in memory (shmem) and have no disk behind them. Replacing a file
 * that is mapped gives VMSIM_EEXIST. Returns 0 or VMSIM_E*. */
VMSIM_API int vmsim_file_create(vmsim_t *sim, const char *name, uint64_t size,
                                const void *data, size_t data_len);

/* read(2) of len bytes at offset through the page cache (no page faults).
 * With track_data, buf (may be NULL) receives the bytes. On 0, *done (may
 * be NULL) holds the bytes read (short at end of file). */
VMSIM_API int vmsim_file_read(vmsim_t *sim, vmsim_pid_t pid, const char *name,
                              uint64_t offset, uint64_t len, void *buf, uint64_t *done);

/* write(2) of len bytes at offset through the page cache; the file grows
 * if needed. buf (may be NULL: zeros) supplies the bytes. */
VMSIM_API int vmsim_file_write(vmsim_t *sim, vmsim_pid_t pid, const char *name,
                               uint64_t offset, uint64_t len, const void *buf);

/* The bytes of a file as a new reader would see them (page cache first,
 * then disk), copied into buf; needs track_data for anything but zeros.
 * Returns 0, VMSIM_ENOENT, VMSIM_ENOTSUP. *size_out (may be NULL) gets the
 * file size. */
VMSIM_API int vmsim_file_peek(const vmsim_t *sim, const char *name, uint64_t offset,
                              void *buf, uint64_t len, uint64_t *size_out);

/* ---- settings ----------------------------------------------------------- */

/* Change a setting as sysctl(8) would: "vm.panic_on_oom",
 * "vm.overcommit_memory", "vm.overcommit_ratio", "vm.swappiness",
 * "vm.page-cluster", "vm.drop_caches" (1, 2, 3),
 * "transparent_hugepage.enabled" ("always", "madvise", "never"). value is
 * the text written. Returns 0, VMSIM_ENOENT (unknown key), VMSIM_EINVAL. */
VMSIM_API int vmsim_sysctl_set(vmsim_t *sim, const char *key, const char *value);

/* ---- accesses --------------------------------------------------------- */

/* One load, store or instruction fetch of `size` bytes at va (size 0 is
 * taken as 1); an access spanning pages touches each. On 0, *outcome (may
 * be NULL) holds the OR of VMSIM_OUT_* bits over the pages; a plain hit is
 * 0. A fatal signal kills the process and ends the access there. Returns
 * VMSIM_ESRCH for a dead or unknown pid, VMSIM_EOOM, VMSIM_EPANIC. */
VMSIM_API int vmsim_access(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t size,
                           vmsim_access_kind kind, unsigned *outcome);
/* n accesses of pid in order, each exactly vmsim_access(sim, pid, va[i],
 * size, kind, ...): the same faults, counters and events. For replaying
 * page traces: knowing the addresses to come, the simulator loads their
 * page-table entries into the host's cache while it works on earlier
 * ones, which one call at a time cannot (docs/performance.md). Stops
 * after an access in which the process died, or at one that fails. *done
 * (may be NULL) is the number of accesses made, *outcome (may be NULL)
 * the OR of their outcomes. Returns 0, or the error of the access that
 * failed (the *done before it were made); VMSIM_EINVAL for va NULL with
 * n > 0. */
VMSIM_API int vmsim_access_batch(vmsim_t *sim, vmsim_pid_t pid, const vmsim_vaddr_t *va,
                                 size_t n, uint64_t size, vmsim_access_kind kind,
                                 size_t *done, unsigned *outcome);

/* With track_data: store len bytes at va as the process's writes would
 * (each page is accessed for writing first, faulting as needed), or read
 * len bytes into buf (accessing for reading). On 0, *outcome (may be NULL)
 * holds the OR of VMSIM_OUT_* bits; a fatal signal stops the copy.
 * Returns VMSIM_ENOTSUP without track_data. */
VMSIM_API int vmsim_write_data(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va,
                               const void *buf, uint64_t len, unsigned *outcome);
VMSIM_API int vmsim_read_data(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, void *buf,
                              uint64_t len, unsigned *outcome);

/* ---- inspection ------------------------------------------------------- */

enum {
    VMSIM_VMA_ANON = 1u << 0,
    VMSIM_VMA_SHARED = 1u << 1,
    VMSIM_VMA_HEAP = 1u << 2,
    VMSIM_VMA_STACK = 1u << 3,
    VMSIM_VMA_HUGETLB = 1u << 4,
    VMSIM_VMA_HUGEPAGE = 1u << 5,   /* madvise(MADV_HUGEPAGE) */
    VMSIM_VMA_NOHUGEPAGE = 1u << 6, /* madvise(MADV_NOHUGEPAGE) */
    VMSIM_VMA_NORESERVE = 1u << 7,
    VMSIM_VMA_ACCOUNT = 1u << 8,    /* charged to Committed_AS */
};

typedef struct vmsim_vma_info {
    vmsim_vaddr_t start, end; /* [start, end) */
    unsigned prot;            /* VMSIM_PROT_* */
    unsigned flags;           /* VMSIM_VMA_* */
    uint64_t offset;          /* file offset in bytes */
    const char *name;         /* "[heap]", a file name, or "" (borrowed) */
} vmsim_vma_info_t;

/* Store up to n VMAs of pid, ascending; return how many it has (0 for a
 * dead or unknown pid). */
VMSIM_API size_t vmsim_maps(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vma_info_t *out,
                            size_t n);

/* x86_64 page-table entry bits. */
#define VMSIM_PTE_P   (1ull << 0)  /* present */
#define VMSIM_PTE_RW  (1ull << 1)  /* writable */
#define VMSIM_PTE_US  (1ull << 2)  /* user */
#define VMSIM_PTE_A   (1ull << 5)  /* accessed */
#define VMSIM_PTE_D   (1ull << 6)  /* dirty */
#define VMSIM_PTE_PS  (1ull << 7)  /* page size: a 2 MiB (PD) or 1 GiB (PDPT) leaf */
#define VMSIM_PTE_NX  (1ull << 63) /* no execute */
#define VMSIM_PTE_PFN_MASK 0x000ffffffffff000ull

typedef struct vmsim_pte_info {
    int level;          /* 0: PTE (4 KiB), 1: PMD (2 MiB), 2: PUD (1 GiB); -1: none */
    uint64_t entry;     /* the raw 64-bit entry (0 if none) */
    bool present;
    bool swap;          /* a swap entry */
    vmsim_pfn_t pfn;    /* with present */
    uint64_t swap_slot; /* with swap */
} vmsim_pte_info_t;

/* The entry that maps va in pid's tables, without side effects. Returns 0
 * (level -1 when no entry), or VMSIM_ESRCH. */
VMSIM_API int vmsim_pte_lookup(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va,
                               vmsim_pte_info_t *out);

/* One node of a page-table walk: a table (entry index -1) or one non-empty
 * entry of it. level 3 is the PML4, 0 a page table. */
typedef struct vmsim_pt_node {
    int level;
    vmsim_pfn_t table_pfn; /* the table's frame */
    int index;             /* -1 for the table itself, else 0..511 */
    uint64_t entry;        /* the raw entry (index >= 0) */
    vmsim_vaddr_t va;      /* first address the table or entry covers */
} vmsim_pt_node_t;

/* Visit pid's page tables depth-first in address order, calling fn for
 * each table and each non-empty entry; fn returns non-zero to stop (that
 * value is returned). Returns 0, VMSIM_ESRCH, or fn's value. */
typedef int (*vmsim_pt_visit_fn)(void *ctx, const vmsim_pt_node_t *node);
VMSIM_API int vmsim_pagetable_walk(const vmsim_t *sim, vmsim_pid_t pid,
                                   vmsim_pt_visit_fn fn, void *ctx);

/* Frames free in the buddy allocator at each order 0..18 (out[19]). */
VMSIM_API void vmsim_buddyinfo(const vmsim_t *sim, uint64_t out[19]);

/* Whether the simulated kernel panicked (panic_on_oom); every later call
 * that would change the machine returns VMSIM_EPANIC. */
VMSIM_API bool vmsim_panicked(const vmsim_t *sim);

/* The kernel log (dmesg): OOM kills, panics. vmsim_kmsg_seq() is the
 * number of lines ever logged; vmsim_kmsg(sim, n) is line n (0-based), or
 * NULL once it has left the ring of the last 256 lines. Borrowed. */
VMSIM_API uint64_t vmsim_kmsg_seq(const vmsim_t *sim);
VMSIM_API const char *vmsim_kmsg(const vmsim_t *sim, uint64_t seq);

/* For offline policies (OPT): next_use[t] is the logical time of the next
 * access to the page accessed at time t (UINT64_MAX: never), t counting
 * every page access from 0. The array is borrowed and must outlive the
 * machine's use of it; (NULL, 0) detaches it. Returns 0 or VMSIM_ENOMEM. */
VMSIM_API int vmsim_set_future(vmsim_t *sim, const uint64_t *next_use, uint64_t n);

/* Per-access observer (OPT's pre-pass): called with every page access in
 * order, before it is simulated. NULL removes it. */
typedef void (*vmsim_access_fn)(void *ctx, vmsim_pid_t pid, vmsim_vaddr_t va,
                                vmsim_access_kind kind);
VMSIM_API void vmsim_set_access_hook(vmsim_t *sim, vmsim_access_fn fn, void *ctx);

/* One full khugepaged scan: collapse every eligible 2 MiB range of pid
 * (0: every process) into a THP, under khugepaged's limits. Returns 0,
 * VMSIM_ESRCH or VMSIM_E*. */
VMSIM_API int vmsim_khugepaged(vmsim_t *sim, vmsim_pid_t pid);

/* swapoff(8): bring every swapped page back into memory and remove the
 * device; no new page goes to it meanwhile (SWP_WRITEOK off), and the OOM
 * killer may run. Returns 0, VMSIM_SYS_ENOMEM when not every page could
 * come back (the device then stays, as Linux's swapoff fails), or VMSIM_E*
 * (VMSIM_EPANIC if the OOM killer panicked). */
VMSIM_API int vmsim_swapoff(vmsim_t *sim);

/* Copy min(n, VMSIM_COST__COUNT) buckets of simulated nanoseconds (the
 * sum is vmsim_time_ns()); return the library's count. */
VMSIM_API size_t vmsim_time_breakdown(const vmsim_t *sim, uint64_t *out, size_t n);
/* The name of bucket i ("major_fault"), or NULL past the end. */
VMSIM_API const char *vmsim_cost_name(size_t i);

/* Total simulated nanoseconds so far. */
VMSIM_API uint64_t vmsim_time_ns(const vmsim_t *sim);

/* TLB counters (all zero with the TLB off). */
typedef struct vmsim_tlb_stats {
    uint64_t hits, misses, walks, walk_refs, flushes;
} vmsim_tlb_stats_t;
VMSIM_API void vmsim_tlb_stats(const vmsim_t *sim, vmsim_tlb_stats_t *out);

/* Verify every invariant: frame refcounts and mapcounts against the page
 * tables, buddy free lists and counts, table accounting, RSS counters.
 * Returns 0, or VMSIM_ECORRUPT with a one-line reason in buf (if not NULL),
 * or VMSIM_ENOMEM if its counters (4 bytes per frame twice and per swap
 * slot, kept with the machine after the first call) cannot be allocated.
 * Because of that cache, do not call it from two threads at once on one
 * machine. */
VMSIM_API int vmsim_check(const vmsim_t *sim, char *buf, size_t len);

/* ---- reports ---------------------------------------------------------- */

/* XX(ID, "name") */
#define VMSIM_REPORT_MAP(XX)                                                             \
    XX(FREE, "free")                                                                     \
    XX(MEMINFO, "meminfo")                                                               \
    XX(VMSTAT, "vmstat")                                                                 \
    XX(MAPS, "maps")                                                                     \
    XX(STATUS, "status")                                                                 \
    XX(PAGETABLE, "pagetable")                                                           \
    XX(PAGETABLE_DOT, "pagetable-dot")                                                   \
    XX(BUDDYINFO, "buddyinfo")                                                           \
    XX(SUMMARY, "summary")

typedef enum vmsim_report_kind {
#define XX(id, name) VMSIM_REPORT_##id,
    VMSIM_REPORT_MAP(XX)
#undef XX
    VMSIM_REPORT__COUNT
} vmsim_report_kind;

/* The kind for a name ("free"); -1 if unknown. */
VMSIM_API int vmsim_report_kind_from_name(const char *name);

/* Write a text report shaped like the Linux tool's output to out. pid is
 * used by maps, status and pagetable (0 for status and summary: every
 * process). Returns 0, VMSIM_EINVAL, VMSIM_ESRCH or VMSIM_EIO. */
VMSIM_API int vmsim_report_write(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid,
                                 FILE *out);

/* The same report as a JSON text (sorted keys, 2-space indent), stored in
 * a new string in *out that the caller frees with vmsim_free(). */
VMSIM_API int vmsim_report_json(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid,
                                char **out);

/* ---- version ---------------------------------------------------------- */

/* VMSIM_VERSION_HEX of the library actually linked. */
VMSIM_API unsigned vmsim_version(void);
/* VMSIM_VERSION_STRING of the library actually linked. */
VMSIM_API const char *vmsim_version_string(void);

#ifdef __cplusplus
}
#endif

/* The trace reader and replay driver (uses the declarations above). */
#include "vmsim/trace.h"
#include "vmsim/curve.h"

#endif /* VMSIM_VMSIM_H */
