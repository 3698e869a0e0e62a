/*
 * stats.h -- counters named as Linux names them.
 *
 * vmstat: /proc/vmstat's items. "nr_*" items are gauges (pages, current);
 * the others count events since the simulator was created. Every name is
 * Linux's own, except three sums Linux splits by origin: pgscan (=
 * pgscan_kswapd + pgscan_direct + pgscan_khugepaged), pgsteal (likewise)
 * and workingset_refault (= _anon + _file).
 *
 * meminfo: /proc/meminfo's fields, in bytes, except HugePages_Total,
 * HugePages_Free, HugePages_Rsvd and HugePages_Surp, which count pages.
 *
 * The lists are X-macros so the enum, the names, the JSON report and
 * docs/stats.md come from one place. New items are only ever appended, so
 * reading with an older count stays valid.
 */
#ifndef VMSIM_STATS_H
#define VMSIM_STATS_H

#include "vmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmsim vmsim_t;

/* XX(ID, "name", "description") */
#define VMSIM_VMSTAT_MAP(XX)                                                             \
    XX(NR_FREE_PAGES, "nr_free_pages", "free frames in the buddy allocator")             \
    XX(NR_INACTIVE_ANON, "nr_inactive_anon", "anonymous pages on the inactive list")     \
    XX(NR_ACTIVE_ANON, "nr_active_anon", "anonymous pages on the active list")           \
    XX(NR_INACTIVE_FILE, "nr_inactive_file", "page-cache pages on the inactive list")    \
    XX(NR_ACTIVE_FILE, "nr_active_file", "page-cache pages on the active list")          \
    XX(NR_UNEVICTABLE, "nr_unevictable", "pages reclaim may not take")                   \
    XX(NR_ANON_PAGES, "nr_anon_pages", "anonymous pages mapped by user space")           \
    XX(NR_MAPPED, "nr_mapped", "page-cache pages mapped by user space")                  \
    XX(NR_FILE_PAGES, "nr_file_pages", "page-cache pages, shmem and swap cache included")\
    XX(NR_DIRTY, "nr_dirty", "dirty page-cache pages")                                   \
    XX(NR_WRITEBACK, "nr_writeback", "pages under write-back")                           \
    XX(NR_SHMEM, "nr_shmem", "shmem and tmpfs pages")                                    \
    XX(NR_ANON_THPS, "nr_anon_transparent_hugepages", "anonymous THPs (2 MiB each)")     \
    XX(NR_PAGE_TABLE_PAGES, "nr_page_table_pages", "frames holding page tables")         \
    XX(NR_SWAPCACHED, "nr_swapcached", "pages in the swap cache")                        \
    XX(PGPGIN, "pgpgin", "KiB read from disk (file and swap)")                           \
    XX(PGPGOUT, "pgpgout", "KiB written to disk (file and swap)")                        \
    XX(PSWPIN, "pswpin", "pages read from swap")                                         \
    XX(PSWPOUT, "pswpout", "pages written to swap")                                      \
    XX(PGALLOC_NORMAL, "pgalloc_normal", "frames allocated (4 KiB units)")               \
    XX(PGFREE, "pgfree", "frames freed (4 KiB units)")                                   \
    XX(PGACTIVATE, "pgactivate", "pages moved to an active list")                        \
    XX(PGDEACTIVATE, "pgdeactivate", "pages moved to an inactive list")                  \
    XX(PGFAULT, "pgfault", "page faults handled (minor and major)")                      \
    XX(PGMAJFAULT, "pgmajfault", "page faults that waited for I/O")                      \
    XX(PGREFILL, "pgrefill", "active pages scanned for deactivation")                    \
    XX(PGREUSE, "pgreuse", "write faults that reused an exclusive anonymous page")      \
    XX(PGSTEAL_KSWAPD, "pgsteal_kswapd", "pages reclaimed in background reclaim")        \
    XX(PGSTEAL_DIRECT, "pgsteal_direct", "pages reclaimed in direct reclaim")            \
    XX(PGSCAN_KSWAPD, "pgscan_kswapd", "pages scanned in background reclaim")            \
    XX(PGSCAN_DIRECT, "pgscan_direct", "pages scanned in direct reclaim")                \
    XX(PGSCAN_ANON, "pgscan_anon", "anonymous pages scanned")                            \
    XX(PGSCAN_FILE, "pgscan_file", "page-cache pages scanned")                           \
    XX(PGSTEAL_ANON, "pgsteal_anon", "anonymous pages reclaimed")                        \
    XX(PGSTEAL_FILE, "pgsteal_file", "page-cache pages reclaimed")                       \
    XX(PGSCAN, "pgscan", "pages scanned by reclaim (all origins)")                       \
    XX(PGSTEAL, "pgsteal", "pages reclaimed (all origins)")                              \
    XX(WORKINGSET_REFAULT_ANON, "workingset_refault_anon", "evicted anon pages faulted back") \
    XX(WORKINGSET_REFAULT_FILE, "workingset_refault_file", "evicted file pages faulted back") \
    XX(WORKINGSET_REFAULT, "workingset_refault", "evicted pages faulted back (all)")      \
    XX(OOM_KILL, "oom_kill", "processes killed by the OOM killer")                       \
    XX(DROP_PAGECACHE, "drop_pagecache", "vm.drop_caches writes that dropped page cache")\
    XX(DROP_SLAB, "drop_slab", "vm.drop_caches writes that dropped slab")                \
    XX(THP_FAULT_ALLOC, "thp_fault_alloc", "THPs allocated on a fault")                  \
    XX(THP_FAULT_FALLBACK, "thp_fault_fallback", "huge faults that fell back to 4 KiB")  \
    XX(THP_COLLAPSE_ALLOC, "thp_collapse_alloc", "THPs allocated by collapse")           \
    XX(THP_COLLAPSE_ALLOC_FAILED, "thp_collapse_alloc_failed", "collapses with no 2 MiB block") \
    XX(THP_SPLIT_PAGE, "thp_split_page", "THPs split into 4 KiB pages")                  \
    XX(THP_SPLIT_PMD, "thp_split_pmd", "huge PMD mappings split into PTEs")              \
    XX(THP_ZERO_PAGE_ALLOC, "thp_zero_page_alloc", "huge zero page allocations")         \
    XX(THP_SWPOUT, "thp_swpout", "THPs swapped out whole")                               \
    XX(THP_SWPOUT_FALLBACK, "thp_swpout_fallback", "THPs split before swap-out")         \
    XX(SWAP_RA, "swap_ra", "pages read by swap readahead")                               \
    XX(SWAP_RA_HIT, "swap_ra_hit", "readahead pages later used")

typedef enum vmsim_vmstat_item {
#define XX(id, name, doc) VMSIM_VMSTAT_##id,
    VMSIM_VMSTAT_MAP(XX)
#undef XX
    VMSIM_VMSTAT__COUNT
} vmsim_vmstat_item;

/* Copy min(n, VMSIM_VMSTAT__COUNT) items into out[]; return the library's
 * count. out may be NULL when n is 0. */
VMSIM_API size_t vmsim_vmstat_read(const vmsim_t *sim, uint64_t *out, size_t n);

/* The Linux name of item i ("pgfault"), or NULL past the end. */
VMSIM_API const char *vmsim_vmstat_name(size_t i);

/* One item by its Linux name. Returns 0, or VMSIM_ENOENT for an unknown name. */
VMSIM_API int vmsim_vmstat_get(const vmsim_t *sim, const char *name, uint64_t *out);

/* XX(ID, "Name", "description"); values in bytes unless the name starts
 * with "HugePages_" (a page count). */
#define VMSIM_MEMINFO_MAP(XX)                                                            \
    XX(MEMTOTAL, "MemTotal", "usable RAM")                                               \
    XX(MEMFREE, "MemFree", "free RAM")                                                   \
    XX(MEMAVAILABLE, "MemAvailable", "estimate of memory available without swapping")    \
    XX(BUFFERS, "Buffers", "block-device buffers (always 0 here)")                       \
    XX(CACHED, "Cached", "page cache, less swap cache, shmem included")                  \
    XX(SWAPCACHED, "SwapCached", "swap cache")                                           \
    XX(ACTIVE, "Active", "Active(anon) + Active(file)")                                  \
    XX(INACTIVE, "Inactive", "Inactive(anon) + Inactive(file)")                          \
    XX(ACTIVE_ANON, "Active(anon)", "anonymous and shmem pages on the active list")      \
    XX(INACTIVE_ANON, "Inactive(anon)", "anonymous and shmem pages on the inactive list")\
    XX(ACTIVE_FILE, "Active(file)", "file pages on the active list")                     \
    XX(INACTIVE_FILE, "Inactive(file)", "file pages on the inactive list")               \
    XX(UNEVICTABLE, "Unevictable", "pages reclaim may not take")                         \
    XX(MLOCKED, "Mlocked", "mlocked pages")                                              \
    XX(SWAPTOTAL, "SwapTotal", "swap space")                                             \
    XX(SWAPFREE, "SwapFree", "unused swap space")                                        \
    XX(DIRTY, "Dirty", "dirty page cache")                                               \
    XX(WRITEBACK, "Writeback", "page cache under write-back")                            \
    XX(ANONPAGES, "AnonPages", "anonymous pages mapped by user space")                   \
    XX(MAPPED, "Mapped", "page cache mapped by user space")                              \
    XX(SHMEM, "Shmem", "shmem and tmpfs")                                                \
    XX(KRECLAIMABLE, "KReclaimable", "reclaimable kernel memory (always 0 here)")        \
    XX(SLAB, "Slab", "kernel slab memory (always 0 here)")                               \
    XX(SRECLAIMABLE, "SReclaimable", "reclaimable slab (always 0 here)")                 \
    XX(SUNRECLAIM, "SUnreclaim", "unreclaimable slab (always 0 here)")                   \
    XX(PAGETABLES, "PageTables", "page-table pages")                                     \
    XX(COMMITLIMIT, "CommitLimit", "the commit limit of overcommit mode 2")              \
    XX(COMMITTED_AS, "Committed_AS", "committed (accountable) virtual memory")           \
    XX(ANONHUGEPAGES, "AnonHugePages", "anonymous THPs")                                 \
    XX(SHMEMHUGEPAGES, "ShmemHugePages", "shmem THPs")                                   \
    XX(FILEHUGEPAGES, "FileHugePages", "file THPs")                                      \
    XX(HUGEPAGES_TOTAL, "HugePages_Total", "hugetlb pool size (pages)")                  \
    XX(HUGEPAGES_FREE, "HugePages_Free", "free hugetlb pages (pages)")                   \
    XX(HUGEPAGES_RSVD, "HugePages_Rsvd", "reserved, not yet faulted hugetlb pages")      \
    XX(HUGEPAGES_SURP, "HugePages_Surp", "surplus hugetlb pages (pages)")                \
    XX(HUGEPAGESIZE, "Hugepagesize", "default hugetlb page size")                        \
    XX(HUGETLB, "Hugetlb", "memory in hugetlb pools of every size")

typedef enum vmsim_meminfo_item {
#define XX(id, name, doc) VMSIM_MEMINFO_##id,
    VMSIM_MEMINFO_MAP(XX)
#undef XX
    VMSIM_MEMINFO__COUNT
} vmsim_meminfo_item;

/* Compute min(n, VMSIM_MEMINFO__COUNT) fields into out[]; return the
 * library's count. */
VMSIM_API size_t vmsim_meminfo_read(const vmsim_t *sim, uint64_t *out, size_t n);

/* The Linux name of field i ("MemTotal"), or NULL past the end. */
VMSIM_API const char *vmsim_meminfo_name(size_t i);

/* One field by its Linux name. Returns 0, or VMSIM_ENOENT. */
VMSIM_API int vmsim_meminfo_get(const vmsim_t *sim, const char *name, uint64_t *out);

/* Per-process figures, as /proc/PID/status and /proc/PID/stat show them.
 * Sizes in bytes. */
typedef struct vmsim_proc_info {
    vmsim_pid_t pid;
    vmsim_pid_t ppid;      /* 0 if spawned */
    char name[16];         /* TASK_COMM_LEN, NUL-terminated */
    bool alive;
    bool oom_killed;
    int signal;            /* 0, VMSIM_SIGSEGV, VMSIM_SIGBUS or VMSIM_SIGKILL */
    int si_code;           /* with signal: VMSIM_SEGV_MAPERR, ... */
    vmsim_vaddr_t fault_addr; /* with signal: the faulting address */
    int last_errno;        /* result of the most recent call-like event */
    int oom_score_adj;
    uint64_t minflt, majflt;
    uint64_t cow;          /* write faults that copied a page */
    uint64_t vmpeak, vmsize, vmhwm, vmrss;
    uint64_t rss_anon, rss_file, rss_shmem;
    uint64_t vmdata, vmstk, vmexe, vmlib, vmpte, vmswap;
    uint64_t start_brk, brk;
    uint64_t nr_ptes_copied_fork; /* PTEs this process copied into children */
    uint64_t hugetlb;      /* HugetlbPages: hugetlb memory mapped (not in VmRSS) */
    /* Not in Linux's /proc: pages read from swap by this process's faults
     * (readahead and swapoff's included), and pages written to swap that
     * it mapped (counted to the first process the reverse map finds). */
    uint64_t swapin, swapout;
} vmsim_proc_info_t;

/* Fill *out for pid, dead or alive (a dead process keeps its final
 * figures until spawned again). Returns 0 or VMSIM_ESRCH. */
VMSIM_API int vmsim_proc_info(const vmsim_t *sim, vmsim_pid_t pid, vmsim_proc_info_t *out);
/* Whether pid is alive: 1 alive, 0 dead (exited or killed; its info
 * stays until pid is spawned again), VMSIM_ESRCH never spawned. Cheap:
 * the check a caller makes before every event, without filling a
 * vmsim_proc_info_t. */
VMSIM_API int vmsim_proc_alive(const vmsim_t *sim, vmsim_pid_t pid);

/* "SIGSEGV", "SIGBUS", "SIGKILL", "SIGABRT" ("" for 0); never NULL. */
VMSIM_API const char *vmsim_signal_name(int sig);
/* "SEGV_MAPERR", "SEGV_ACCERR", "BUS_ADRERR", "SI_KERNEL", "SI_TKILL",
 * "SI_USER"; the OOM killer's SIGKILL is SI_KERNEL (SEND_SIG_PRIV); "" without
 * a signal. */
VMSIM_API const char *vmsim_si_code_name(int sig, int si_code);

/* Store up to n pids, ascending, of every process ever spawned; return how
 * many there are. */
VMSIM_API size_t vmsim_pids(const vmsim_t *sim, vmsim_pid_t *out, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_STATS_H */
