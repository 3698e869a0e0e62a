/*
 * internal.h -- the machine's private structures and the modules' internal
 * APIs. Never installed. Cross-file internal names start with vmsim__.
 *
 * Dependency direction: trace -> core (sim) -> fault -> {vma, pgtable, phys}.
 */
#ifndef VMSIM_INTERNAL_H
#define VMSIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmsim/vmsim.h"
#include "uthash.h"

/* ---- geometry --------------------------------------------------------- */

#define PAGE_SHIFT  12
#define PAGE_SIZE   ((uint64_t)1 << PAGE_SHIFT)
#define PAGE_MASK   (~(PAGE_SIZE - 1))
#define PMD_SHIFT   21
#define PMD_SIZE    ((uint64_t)1 << PMD_SHIFT)
#define PMD_MASK    (~(PMD_SIZE - 1))
#define PUD_SHIFT   30
#define PUD_SIZE    ((uint64_t)1 << PUD_SHIFT)
#define PUD_MASK    (~(PUD_SIZE - 1))
#define PGDIR_SHIFT 39
#define PGDIR_SIZE  ((uint64_t)1 << PGDIR_SHIFT)
#define PGDIR_MASK  (~(PGDIR_SIZE - 1))
#define PT_ENTRIES  512
#define PT_LEVELS   4

#define TASK_SIZE VMSIM_TASK_SIZE
/* mmap_min_addr: the lowest address a mapping may start at. */
#define MMAP_MIN_ADDR ((uint64_t)65536)
/*
 * Without ASLR Linux puts mmap_base at TASK_SIZE - gap, where the gap is
 * the stack rlimit (8 MiB) plus the stack guard gap, clamped to at least
 * 128 MiB (mm/util.c mmap_base()): 0x7ffff7fff000.
 */
#define MMAP_BASE (TASK_SIZE - ((uint64_t)128 << 20))
/*
 * Where the heap starts in a spawned process. A real process's heap starts
 * after its program's bss (0x555555559000 for a small PIE without ASLR);
 * a spawned process has no program, so that address is used as is.
 */
#define START_BRK ((uint64_t)0x555555559000)

#define NR_ORDERS   19 /* buddy orders 0..18: 4 KiB .. 1 GiB */
#define HPAGE_ORDER 9  /* 2 MiB */
#define GPAGE_ORDER 18 /* 1 GiB */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NIL32         UINT32_MAX

static inline uint64_t round_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static inline uint64_t round_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

/* ---- assertions ------------------------------------------------------- */

#ifdef NDEBUG
#define VMSIM_ASSERT(cond) ((void)0)
#else
/* A broken invariant is a bug in the library, never the caller's input. */
void vmsim__assert_fail(const char *expr, const char *file, int line, const char *func);
#define VMSIM_ASSERT(cond)                                                               \
    ((cond) ? (void)0 : vmsim__assert_fail(#cond, __FILE__, __LINE__, __func__))
#endif

/* ---- page-table entries (x86_64) -------------------------------------- */

typedef uint64_t pte_t;

#define PTE_P        VMSIM_PTE_P
#define PTE_RW       VMSIM_PTE_RW
#define PTE_US       VMSIM_PTE_US
#define PTE_A        VMSIM_PTE_A
#define PTE_D        VMSIM_PTE_D
#define PTE_PS       VMSIM_PTE_PS
#define PTE_NX       VMSIM_PTE_NX
/* Bit 8 (Global) doubles as PROTNONE when P is clear, as in Linux: the
 * page is resident but the VMA is PROT_NONE. */
#define PTE_PROTNONE (1ull << 8)
/* Software bit 9 (Linux's _PAGE_SPECIAL): a frame with no struct page
 * accounting, i.e. the zero page. */
#define PTE_SPECIAL  (1ull << 9)
#define PTE_PFN_MASK VMSIM_PTE_PFN_MASK
/* Table entries (non-leaf) always carry P|RW|US|A, as Linux's _PAGE_TABLE. */
#define PTE_TABLE    (PTE_P | PTE_RW | PTE_US | PTE_A)

/*
 * Swap entries live in non-present entries (P clear, PROTNONE clear):
 * bits 1..5 the swap type, bits 9..57 the slot offset (Linux's x86_64
 * layout, without the L1TF inversion of the offset). The field holds the
 * slot + 1: Linux never hands out slot 0 (the swap header lives there), so
 * an entry is never all zero; libvmsim uses every slot and shifts instead.
 */
#define SWP_TYPE_SHIFT   1
#define SWP_TYPE_MASK    0x1full
#define SWP_OFFSET_SHIFT 9
#define SWP_OFFSET_MASK  ((1ull << 49) - 1)

static inline bool pte_none(pte_t e) { return e == 0; }
static inline bool pte_present(pte_t e) { return (e & (PTE_P | PTE_PROTNONE)) != 0; }
static inline bool pte_hw_present(pte_t e) { return (e & PTE_P) != 0; }
static inline bool pte_is_swap(pte_t e) { return e != 0 && !pte_present(e); }
static inline bool pte_write(pte_t e) { return (e & PTE_RW) != 0; }
static inline bool pte_huge(pte_t e) { return (e & PTE_PS) != 0; }
static inline bool pte_special(pte_t e) { return (e & PTE_SPECIAL) != 0; }
static inline vmsim_pfn_t pte_pfn(pte_t e) { return (e & PTE_PFN_MASK) >> PAGE_SHIFT; }
static inline pte_t pfn_pte(vmsim_pfn_t pfn) { return (pte_t)pfn << PAGE_SHIFT; }
static inline pte_t swp_entry(unsigned type, uint64_t slot)
{
    return ((pte_t)(type & SWP_TYPE_MASK) << SWP_TYPE_SHIFT) |
           (((slot + 1) & SWP_OFFSET_MASK) << SWP_OFFSET_SHIFT);
}
static inline uint64_t swp_offset(pte_t e)
{
    return ((e >> SWP_OFFSET_SHIFT) & SWP_OFFSET_MASK) - 1;
}

/* Index of va in the table at `level` (3 = PML4 .. 0 = PT). */
#define PT_INDEX(va, level) ((unsigned)(((va) >> (PAGE_SHIFT + 9 * (level))) & 0x1ff))
/* Bytes one entry at `level` covers. */
#define LEVEL_SIZE(level) ((uint64_t)1 << (PAGE_SHIFT + 9 * (level)))

/* ---- frames ----------------------------------------------------------- */

enum {
    PG_BUDDY = 1u << 0,      /* head of a free buddy block (order in .order) */
    PG_TABLE = 1u << 1,      /* holds a page table (.u.table, .level) */
    PG_ANON = 1u << 2,       /* anonymous user page (.index = vpn) */
    PG_FILE = 1u << 3,       /* page-cache page (.mapping = file, .index = page) */
    PG_SWAPCACHE = 1u << 4,  /* in the swap cache (.u.slot) */
    PG_DIRTY = 1u << 5,
    PG_LRU = 1u << 6,        /* admitted to the replacement policy */
    PG_ACTIVE = 1u << 7,
    PG_REFERENCED = 1u << 8,
    PG_HEAD = 1u << 9,       /* first frame of a compound (huge) page */
    PG_TAIL = 1u << 10,      /* a later frame of a compound page */
    PG_READAHEAD = 1u << 11, /* brought in by swap readahead, not used yet */
    PG_HUGETLB = 1u << 12,
    PG_SHMEM = 1u << 13,
    PG_ANON_EXCLUSIVE = 1u << 14, /* mapped by one process only, may be reused */
    PG_ALLOCATED = 1u << 15, /* handed out by the buddy allocator */
};

/*
 * Per-frame metadata: 32 bytes, one flat array indexed by pfn. The union
 * holds what only one kind of frame needs: free-list links for a free
 * block, the host copy of the 512 entries for a table, the swap slot for a
 * swap-cache page.
 */
struct vmsim__frame {
    uint16_t flags;
    uint8_t order;     /* buddy block or compound order */
    uint8_t level;     /* PG_TABLE: 0 (PT) .. 3 (PML4) */
    uint32_t refcount; /* mappings + cache references; 0 when free */
    uint32_t mapcount; /* PTEs (or PMDs) mapping the frame */
    uint32_t mapping;  /* PG_FILE: file id; PG_TABLE: owner pid */
    uint64_t index;    /* PG_ANON: vpn; PG_FILE: page index; PG_TABLE: first va */
    union {
        struct {
            uint32_t next, prev;
        } list;
        pte_t *table;
        uint64_t slot;
    } u;
};

/* ---- address spaces --------------------------------------------------- */

/* Internal VMA flags beyond VMSIM_VMA_*. */
enum {
    VMA_RAND_READ = 1u << 16,   /* madvise(MADV_RANDOM) */
    VMA_SEQ_READ = 1u << 17,    /* madvise(MADV_SEQUENTIAL) */
    VMA_WRITENOTIFY = 1u << 18, /* shared file mapping: writes fault to dirty the page */
    VMA_HUGE_1G = 1u << 19,     /* hugetlb with 1 GiB pages (else 2 MiB) */
    VMA_HUGE_UNMAPPED = 1u << 20, /* hugetlb, a fork child's private mapping whose
                                   * owner took a page back (HPAGE_RESV_UNMAPPED):
                                   * every later page fault in it is SIGBUS */
};

/* hugetlb pools: [0] 2 MiB pages, [1] 1 GiB pages */
struct vmsim__hpool {
    uint64_t total, free, rsvd;
    vmsim_pfn_t *free_list;     /* stack of free page heads */
};

struct vmsim__vma {
    vmsim_vaddr_t start, end; /* [start, end), page-aligned */
    unsigned prot;            /* VMSIM_PROT_* */
    unsigned flags;           /* VMSIM_VMA_* | VMA_* */
    uint64_t pgoff;           /* file offset in pages */
    uint32_t file;            /* file id, 0 = anonymous */
    uint32_t anon_id;         /* Linux's anon_vma, as an id; 0 until first fault */
    uint32_t hobj;            /* MAP_SHARED hugetlb: its object's id (sim->hobjs) */
};

enum { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, NR_MM_COUNTERS };

/* A direct-mapped cache of leaf-entry pointers, the simulator's own
 * shortcut past the 4-level walk when the simulated TLB is off. It is
 * invisible: every shootdown clears it, and a hit re-checks the entry.
 * 4096 slots (64 KiB a process): a 1024-slot cache sent most hits of
 * 16 384-page traces to the walk (callgrind, bench_trace lackey-hits:
 * 601 -> 534 instructions a line; docs/performance.md). */
#define UCACHE_SIZE 4096
struct vmsim__ucache {
    uint64_t vpn;
    pte_t *pte;
};

/*
 * The PTE table a walk reached last, and where it hangs: the simulator's
 * own paging-structure cache (as the MMU's PDE cache), so that walks in
 * one 2 MiB region cost two loads instead of eight. It is checked on use
 * and never flushed: it holds while no table has been freed since (`gen`
 * against sim->pt_free_gen; only table_free() ends a table, so the PMD
 * entry's address is still a table's) and the PMD entry still holds the
 * value it had (a collapse or a split changes it). See pt_lookup_cached().
 */
struct vmsim__walk_cache {
    vmsim_vaddr_t region;        /* va >> PMD_SHIFT; UINT64_MAX: empty */
    const pte_t *pmd;            /* the PMD entry that pointed to the table */
    pte_t pmdval;                /* its value then */
    pte_t *table;
    uint64_t gen;
};

struct vmsim__mm {
    struct vmsim__ucache uc[UCACHE_SIZE];
    vmsim_pid_t owner;
    vmsim_pfn_t pgd;             /* the PML4 frame */
    struct vmsim__walk_cache wc_access;  /* the access path's walks */
    struct vmsim__walk_cache wc_reclaim; /* reclaim's walks to its victims */
    struct vmsim__vma *vmas;     /* sorted by start, non-overlapping */
    size_t nr_vmas, cap_vmas;
    size_t vma_hint;             /* the VMA vma_find_cached() found last */
    uint64_t rss[NR_MM_COUNTERS];/* pages */
    uint64_t nr_pt_pages;        /* PTE + PMD + PUD tables (VmPTE), not the PGD */
    uint64_t total_vm, data_vm, exec_vm, stack_vm; /* pages */
    uint64_t hiwater_rss, hiwater_vm;              /* pages */
    uint64_t deposit;            /* deposited page tables: pfn + 1 of a list head */
    uint64_t nr_deposits;
    uint64_t hugetlb_pages;      /* 4 KiB units of hugetlb memory mapped */
    vmsim_vaddr_t start_brk, brk;
    vmsim_vaddr_t mmap_base;
};

struct vmsim__proc {
    vmsim_pid_t pid, ppid;
    char name[16];
    bool alive, oom_killed;
    bool forking;         /* a child being built by fork: not an OOM candidate */
    int signal, si_code;
    vmsim_vaddr_t fault_addr;
    int last_errno;
    int oom_score_adj;
    uint64_t minflt, majflt, cow;
    uint64_t swapin, swapout;   /* pages: read from swap for it, written out of it */
    uint64_t nr_ptes_copied_fork;
    struct vmsim__mm *mm; /* NULL once dead */
    struct vmsim__heap *heap; /* the simulated libc heap, NULL until malloc */
    /* figures kept after death (pages) */
    uint64_t final_hiwater_rss, final_hiwater_vm;
};

/* ---- files ------------------------------------------------------------ */

/* A sparse array indexed by page: chunks of 512 64-bit values made on
 * demand; 0 means empty. */
struct vmsim__sparse {
    uint64_t **chunks;
    uint64_t nr_chunks;
};
#define SPARSE_SHIFT 9
#define SPARSE_SIZE  ((uint64_t)1 << SPARSE_SHIFT)

/* Readahead state (struct file_ra_state), one per file here. */
struct vmsim__ra {
    uint64_t start, size, async_size;
    uint32_t mmap_miss;
};

/* The object behind a MAP_SHARED hugetlb mapping: the anonymous hugetlbfs
 * inode Linux makes for it (hugetlb_file_setup()). Its pages stay while any
 * VMA maps it (a fork child, a part left by munmap), and the reservations
 * are its own (the inode's resv_map), not a VMA's. */
struct vmsim__hobj {
    unsigned level;            /* 1: 2 MiB pages, 2: 1 GiB pages */
    uint64_t nr;               /* size in huge pages */
    uint64_t resv;             /* reserved, not yet allocated */
    uint64_t nr_pages;         /* allocated huge pages */
    bool creating;             /* mmap is still making its VMA: keep it */
    struct vmsim__sparse pages;/* huge page index -> pfn + 1 */
};

struct vmsim__file {
    uint32_t id;               /* index in sim->files, >= 1 */
    char *name;                /* "/dev/zero (deleted)" for anonymous shmem */
    bool shmem;                /* tmpfs or shared anonymous: no disk */
    bool anon_shm;             /* MAP_SHARED|MAP_ANONYMOUS object */
    uint64_t size;             /* i_size in bytes */
    struct vmsim__sparse cache;/* page index -> pfn + 1 */
    struct vmsim__sparse disk; /* track_data: page index -> host page */
    uint64_t nr_cached;
    uint64_t charged;          /* pages charged to Committed_AS */
    uint32_t pins;             /* held by swapoff while it allocates: not freed */
    struct vmsim__ra ra;
    UT_hash_handle hh;         /* by name (named files only) */
};

/* ---- the machine ------------------------------------------------------ */

/* Host memory of the simulated page tables (core/hostmem.c). */
struct vmsim__ptmem {
    void **chunks;              /* 2 MiB chunks from the host */
    size_t nr_chunks, cap_chunks;
    char *next;                 /* the next never-used table in the last chunk */
    size_t left;                /* how many of those */
    void *free;                 /* freed tables, linked through their first word */
};

struct vmsim {
    vmsim_config_t cfg;
    struct vmsim__ptmem ptmem;

    /* phys */
    uint64_t nr_frames;           /* RAM frames: pfn 0 .. nr_frames-1 */
    uint64_t nr_frames_total;     /* + the reserved kernel frames after RAM */
    struct vmsim__frame *frames;
    uint32_t free_head[NR_ORDERS];
    uint64_t nr_free_blocks[NR_ORDERS];
    uint64_t nr_free;             /* free frames, all orders */
    /* A 4 KiB frame the resident limit's reclaim freed for the allocation
     * it runs for, counted free but held off the lists until that
     * allocation takes it (phys.c, recycle()), PFN_NONE otherwise. */
    vmsim_pfn_t recycled;
    bool recycle_ok;              /* that reclaim is running */
    vmsim_pfn_t zero_pfn;         /* the shared zero page (reserved, not RAM) */
    vmsim_pfn_t huge_zero_pfn;    /* the 2 MiB huge zero page (reserved) */
    uint64_t wmark_min, wmark_low, wmark_high; /* zone watermarks, pages */
    struct vmsim__hpool hpool[2];
    struct vmsim__hobj **hobjs;   /* shared hugetlb objects by id; [0] unused */
    size_t nr_hobjs, cap_hobjs;

    /* processes, sorted by pid */
    struct vmsim__proc **procs;
    size_t nr_procs, cap_procs;
    struct vmsim__proc *last_proc; /* lookup cache */

    /* files and page contents */
    struct vmsim__file **files; /* by id; files[0] unused */
    size_t nr_files, cap_files;
    struct vmsim__file *file_names; /* uthash head */
    uint8_t **frame_data;       /* track_data: pfn -> 4 KiB, NULL = zeros */

    /* swap: one device, slots 0 .. nr_swap_slots-1 */
    uint64_t nr_swap_slots;
    uint32_t *swap_map;         /* per slot: entries referring to it | SWP_* */
    uint32_t *swap_cache;       /* slot -> pfn + 1 */
    uint8_t **slot_data;        /* track_data: slot -> 4 KiB, NULL = zeros */
    uint64_t swap_fresh;        /* slots never used yet start here */
    uint32_t *swap_free;        /* freed slots, a stack: O(1) allocation */
    uint64_t nr_swap_free;
    bool swap_draining;         /* swapoff running: no new slots (SWP_WRITEOK off) */

    /* reclaim */
    const struct vmsim_policy_ops *policy;
    void *policy_state;
    struct vmsim_policy_ctx *pctx;
    uint64_t now;               /* accesses so far (the policies' clock) */
    uint64_t rng;               /* xorshift state from the seed */
    const uint64_t *future;     /* OPT: next use time per access time */
    uint64_t nr_future;
    uint64_t *last_access;      /* OPT: per frame, time of the last access */
    uint64_t scan_balance;      /* anon/file scan credit */
    struct vmsim__proc *current;/* the process whose call is running */
    struct vmsim__tlb *tlb;     /* NULL with the TLB off */
    int64_t tlb_asid;           /* the address space the TLB runs, -1: none yet */
    void (*touch)(void *, struct vmsim_policy_ctx *, vmsim_pfn_t, vmsim_access_kind);
    bool wants_touch;           /* touch != NULL || last_access != NULL: hits are reported */
    unsigned (*peek)(const void *, vmsim_pfn_t *, vmsim_pfn_t *); /* next candidates, or NULL */
    void (*prefetch)(const void *, vmsim_pfn_t, int); /* its touch's prefetch, or NULL */
    /* the PTE table of the last prefetch (reclaim.c), only ever an
     * address to prefetch, forgotten when that table is freed */
    const struct vmsim__mm *pf_mm;
    vmsim_vaddr_t pf_region;          /* its 2 MiB region, va >> PMD_SHIFT */
    const pte_t *pf_table;
    vmsim_access_fn access_hook;
    void *access_hook_ctx;
    vmsim_pfn_t fault_pin[2];   /* frames a fault in progress holds */
    bool in_reclaim;
    uint64_t pt_free_gen;       /* page tables freed so far (walk caches) */
    bool slow_paths;            /* tests: no shortcut (evict_anon_fast, access_walk
                                   and their walk caches, recycle,
                                   swap_in_only_user): the general path
                                   everywhere */
    vmsim_pid_t evict_pid;      /* the eviction in progress: a mapping of it */
    vmsim_vaddr_t evict_va;
    bool huge_zero_used;        /* thp_zero_page_alloc counted */

    /* the kernel log (dmesg), a ring of lines */
    char **kmsg;
    uint64_t kmsg_head, kmsg_count, kmsg_seq;

    /* accounting */
    uint64_t vmstat[VMSIM_VMSTAT__COUNT];
    uint64_t committed_pages;     /* Committed_AS */
    uint64_t nr_swap_used;        /* swap slots in use */
    uint64_t nr_user_pages;       /* resident user frames (anon + file + shmem) */
    uint32_t next_anon_id;
    uint64_t time_ns;
    uint64_t time_by[VMSIM_COST__COUNT];
    uint64_t event_seq;
    bool panicked;

    /* vmsim_check()'s counters (per frame twice, per swap slot), kept
     * between calls: a cache, allocated by the first check */
    uint32_t *check_scratch;
    size_t check_scratch_len;
};

/* ---- core/sim.c: host memory and events -------------------------------- */

void *vmsim__malloc(const struct vmsim *sim, size_t size);
void *vmsim__calloc(const struct vmsim *sim, size_t n, size_t size);
void *vmsim__realloc(const struct vmsim *sim, void *ptr, size_t size);
void vmsim__free(const struct vmsim *sim, void *ptr);
/* Grow *arr (of *cap elements of `size` bytes) to hold at least `need`.
 * Returns 0 or VMSIM_ENOMEM with *arr unchanged. */
int vmsim__grow(const struct vmsim *sim, void **arr, size_t *cap, size_t need, size_t size);

/* Report one event to the user's callback, if any (vmsim__emit counts it
 * and calls out only when a callback is set). */
void vmsim__emit_slow(struct vmsim *sim, vmsim_event_type type, vmsim_pid_t pid,
                      vmsim_vaddr_t va, vmsim_pfn_t pfn, unsigned outcome, const char *cause);
#define vmsim__emit(sim, type, pid, va, pfn, outcome, cause)                              \
    do {                                                                                 \
        struct vmsim *emit_sim_ = (sim);                                                 \
        if (emit_sim_->cfg.on_event != NULL)                                             \
            vmsim__emit_slow(emit_sim_, type, pid, va, pfn, outcome, cause);             \
        else                                                                             \
            emit_sim_->event_seq++;                                                      \
    } while (0)

static inline void count_vm_event(struct vmsim *sim, vmsim_vmstat_item item)
{
    sim->vmstat[item]++;
}
/* Charge n events of a kind to the simulated clock (the cost model). */
static inline void vmsim__charge(struct vmsim *sim, vmsim_cost cost, uint64_t n)
{
    /* vmsim_latency_t is VMSIM_COST__COUNT uint64_t fields in enum order */
    uint64_t t = n * ((const uint64_t *)&sim->cfg.latency)[cost];

    sim->time_ns += t;
    sim->time_by[cost] += t;
}

static inline void mod_vm_stat(struct vmsim *sim, vmsim_vmstat_item item, int64_t delta)
{
    sim->vmstat[item] += (uint64_t)delta;
}

/* ---- mm/phys.c: the buddy allocator ------------------------------------ */

/* Set up frames 0..nr_frames-1 free in maximal aligned blocks, plus
 * `nr_reserved` kernel frames after them. Returns 0 or VMSIM_ENOMEM. */
int vmsim__phys_init(struct vmsim *sim, uint64_t nr_frames, uint64_t nr_reserved);
void vmsim__phys_destroy(struct vmsim *sim);
/* Allocate a 2^order block; its frames are zeroed metadata with
 * PG_ALLOCATED on the head (and refcount 1). Returns 0 and *pfn, or
 * VMSIM_EOOM when no block of that order or larger is free. */
int vmsim__phys_alloc(struct vmsim *sim, unsigned order, vmsim_pfn_t *pfn);
/* Return a block allocated with vmsim__phys_alloc, coalescing buddies. */
void vmsim__phys_free(struct vmsim *sim, vmsim_pfn_t pfn, unsigned order);
/* Put a frame held back by the resident limit's reclaim (sim->recycled)
 * on the free lists, as vmsim__phys_free would have: the test inline, for
 * every allocation makes it. */
void vmsim__phys_recycle_put(struct vmsim *sim);
static inline void vmsim__phys_recycle_flush(struct vmsim *sim)
{
    if (sim->recycled != UINT64_MAX) /* PFN_NONE */
        vmsim__phys_recycle_put(sim);
}
/* vmsim__phys_alloc(sim, 0, pfn) taking the frame so held, if any (see
 * phys.c): inline, for the miss path. */
static inline bool phys_take_recycled(struct vmsim *sim, vmsim_pfn_t *pfn)
{
    vmsim_pfn_t block = sim->recycled;

    if (block == UINT64_MAX) /* PFN_NONE */
        return false;
    sim->recycled = UINT64_MAX;
    sim->nr_free--;
    sim->frames[block].flags = PG_ALLOCATED;
    sim->frames[block].refcount = 1;
    sim->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES] = sim->nr_free;
    sim->vmstat[VMSIM_VMSTAT_PGALLOC_NORMAL]++;
    *pfn = block;
    return true;
}
/* ---- core/hostmem.c: host pages for hot data ---------------------------- */

/* A zeroed 4 KiB host array for a simulated page table, or NULL. */
pte_t *vmsim__table_mem_alloc(struct vmsim *sim);
void vmsim__table_mem_free(struct vmsim *sim, pte_t *table);
/* Give every chunk back (vmsim_destroy, after the last table). */
void vmsim__table_mem_destroy(struct vmsim *sim);
/* Ask the host for 2 MiB pages under [p, p + len) (default allocator only). */
void vmsim__advise_huge(const struct vmsim *sim, void *p, size_t len);

/*
 * For the linear scans of vmsim_check() and its helpers (the empty runs of
 * page tables, free blocks, unused swap slots): left out of ASan and UBSan.
 * Each caller's range is in bounds by construction (a table's 512 entries,
 * in the library's own chunks, which ASan sees as one allocation anyway;
 * arrays of the machine's size), and instrumented, these loads were most
 * of a fuzzed lackey replay (docs/fuzzing.md).
 */
#define VMSIM_CHECK_SCAN __attribute__((no_sanitize("address", "undefined")))

/* Verify free lists against frame flags and counts. */
int vmsim__phys_check(const struct vmsim *sim, char *buf, size_t len);

static inline struct vmsim__frame *pfn_frame(const struct vmsim *sim, vmsim_pfn_t pfn)
{
    return &sim->frames[pfn];
}

/* ---- mm/pgtable.c: 4-level radix tables ------------------------------- */

/* Allocate an empty PML4 for mm. Returns 0 or VMSIM_EOOM/VMSIM_ENOMEM. */
int vmsim__pt_create(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pid_t owner);
/* The host array of a table frame. */
static inline pte_t *pt_table(const struct vmsim *sim, vmsim_pfn_t pfn)
{
    return sim->frames[pfn].u.table;
}
/*
 * The entry for va at level `leaf` (0: PTE, 1: PMD, 2: PUD), allocating
 * missing tables when `alloc`. A huge leaf met above `leaf` is returned
 * instead, with *level set to its level. Returns NULL when a table is
 * missing and !alloc (*err 0), or when allocation failed (*err < 0).
 */
pte_t *vmsim__pt_walk(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t va,
                      int leaf, bool alloc, int *level, int *err);
/* vmsim__pt_walk(sim, mm, va, 0, false, level, &err), inline: the leaf
 * entry for va (or a huge leaf above it, *level its level), NULL when a
 * table is missing; *pmd, when a PTE table is reached, the PMD entry that
 * points to it. For the hot lookups (rmap, faults). */
static inline pte_t *pt_lookup_pmd(const struct vmsim *sim, const struct vmsim__mm *mm,
                                   vmsim_vaddr_t va, int *level, pte_t **pmd)
{
    pte_t *table = pt_table(sim, mm->pgd);

    for (int l = PT_LEVELS - 1; l > 0; l--) {
        pte_t e = table[PT_INDEX(va, l)];

        if (pte_none(e))
            return NULL;
        if (pte_huge(e)) {
            *level = l;
            return &table[PT_INDEX(va, l)];
        }
        *pmd = &table[PT_INDEX(va, l)];
        table = pt_table(sim, pte_pfn(e));
    }
    *level = 0;
    return &table[PT_INDEX(va, 0)];
}
static inline pte_t *pt_lookup(const struct vmsim *sim, const struct vmsim__mm *mm,
                               vmsim_vaddr_t va, int *level)
{
    pte_t *pmd;

    return pt_lookup_pmd(sim, mm, va, level, &pmd);
}
/* pt_lookup_cached()'s walk, when the cache does not hold va's table: it
 * refills the cache when it reaches a PTE table. */
static inline pte_t *pt_lookup_fill(const struct vmsim *sim, const struct vmsim__mm *mm,
                                    struct vmsim__walk_cache *wc, vmsim_vaddr_t va, int *level)
{
    pte_t *pmd = NULL;
    pte_t *e = pt_lookup_pmd(sim, mm, va, level, &pmd);

    if (e != NULL && *level == 0) {
        wc->region = va >> PMD_SHIFT;
        wc->pmd = pmd;
        wc->pmdval = *pmd;
        wc->table = e - PT_INDEX(va, 0);
        wc->gen = sim->pt_free_gen;
    }
    return e;
}
/* The same, out of line (pgtable.c). */
pte_t *vmsim__pt_lookup_fill(const struct vmsim *sim, const struct vmsim__mm *mm,
                             struct vmsim__walk_cache *wc, vmsim_vaddr_t va, int *level);
/* Does wc hold the PTE table of va? */
static inline bool pt_cache_holds(const struct vmsim *sim, const struct vmsim__walk_cache *wc,
                                  vmsim_vaddr_t va)
{
    return va >> PMD_SHIFT == wc->region && wc->gen == sim->pt_free_gen &&
           *wc->pmd == wc->pmdval;
}
/*
 * pt_lookup() through a walk cache: the 4 KiB leaf entry of va when the
 * cache holds its PTE table; else the walk, which refills the cache when
 * it reaches a PTE table. The same answer as pt_lookup() either way: a
 * cached table is the one the PMD entry still points to.
 */
static inline pte_t *pt_lookup_cached(const struct vmsim *sim, const struct vmsim__mm *mm,
                                      struct vmsim__walk_cache *wc, vmsim_vaddr_t va,
                                      int *level)
{
    if (pt_cache_holds(sim, wc, va)) {
        *level = 0;
        return &wc->table[PT_INDEX(va, 0)];
    }
    /* out of line: the walk's registers would cost every hit a frame */
    return vmsim__pt_lookup_fill(sim, mm, wc, va, level);
}
/* pt_lookup_cached() with the walk inline too, for a caller that misses
 * the cache often (the access path on a random working set). */
static inline pte_t *pt_lookup_cached_inline(const struct vmsim *sim,
                                             const struct vmsim__mm *mm,
                                             struct vmsim__walk_cache *wc, vmsim_vaddr_t va,
                                             int *level)
{
    if (pt_cache_holds(sim, wc, va)) {
        *level = 0;
        return &wc->table[PT_INDEX(va, 0)];
    }
    return pt_lookup_fill(sim, mm, wc, va, level);
}
/*
 * Start loading the leaf entry of va (a 4 KiB mapping) into the host's
 * cache: a walk of the upper levels, which stay cached, then a prefetch;
 * a missing table or a huge leaf just ends it. *region (va >> PMD_SHIFT)
 * and *table remember the PTE table found last, so that addresses in one
 * 2 MiB (a sequential sweep) cost no walk; the caller keeps them per mm
 * and forgets them when that table may be gone. Only ever an address to
 * prefetch. Always inlined: as a function of its own it only reads
 * memory, so GCC finds it pure and drops the call, prefetch and all.
 */
static inline void pt_prefetch(const struct vmsim *sim, const struct vmsim__mm *mm,
                               vmsim_vaddr_t va, vmsim_vaddr_t *region,
                               const pte_t **table) __attribute__((always_inline));
static inline void pt_prefetch(const struct vmsim *sim, const struct vmsim__mm *mm,
                               vmsim_vaddr_t va, vmsim_vaddr_t *region, const pte_t **table)
{
    const pte_t *t;

    if (va >> PMD_SHIFT == *region) {
        __builtin_prefetch(&(*table)[PT_INDEX(va, 0)], 1);
        return;
    }
    t = pt_table(sim, mm->pgd);
    for (int l = PT_LEVELS - 1; l > 0; l--) {
        pte_t e = t[PT_INDEX(va, l)];

        if (!pte_hw_present(e) || pte_huge(e))
            return;
        t = pt_table(sim, pte_pfn(e));
    }
    __builtin_prefetch(&t[PT_INDEX(va, 0)], 1);
    *region = va >> PMD_SHIFT;
    *table = t;
}
/* Free the tables covering [addr, end) that no VMA needs any more, as
 * Linux's free_pgd_range(): floor is the previous VMA's end (or 0),
 * ceiling the next VMA's start (or 0 for "the top"). Entries in the range
 * must already be clear. */
void vmsim__pt_free_range(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t addr,
                          vmsim_vaddr_t end, vmsim_vaddr_t floor, vmsim_vaddr_t ceiling);
/* Free every table of mm, the PML4 included. Leaves must be clear. */
void vmsim__pt_destroy(struct vmsim *sim, struct vmsim__mm *mm);

/* ---- mm/vma.c: the VMA list ------------------------------------------- */

/* The first VMA with end > va, or NULL (Linux find_vma). */
struct vmsim__vma *vmsim__vma_find(const struct vmsim__mm *mm, vmsim_vaddr_t va);
/* Index of the first VMA with end > va (nr_vmas if none). */
size_t vmsim__vma_index(const struct vmsim__mm *mm, vmsim_vaddr_t va);
/*
 * vmsim__vma_find(), trying first the VMA this found last (as Linux's
 * per-thread vmacache did before 6.1): with sorted, non-overlapping VMAs,
 * one that contains va is the answer whatever changed since, so the hint
 * is an index checked on use and never invalidated.
 */
static inline struct vmsim__vma *vma_find_cached(struct vmsim__mm *mm, vmsim_vaddr_t va)
{
    size_t i = mm->vma_hint;

    if (i < mm->nr_vmas && mm->vmas[i].start <= va && va < mm->vmas[i].end)
        return &mm->vmas[i];
    i = vmsim__vma_index(mm, va);
    if (i >= mm->nr_vmas)
        return NULL;
    mm->vma_hint = i;
    return &mm->vmas[i];
}
/* Insert a VMA that overlaps none; merges with neighbours when allowed.
 * Returns 0 or VMSIM_ENOMEM. */
int vmsim__vma_insert(struct vmsim *sim, struct vmsim__mm *mm, const struct vmsim__vma *v);
/* Split so that no VMA straddles addr. Returns 0 or VMSIM_ENOMEM. */
int vmsim__vma_split_at(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t addr);
/* Remove VMAs idx .. idx+n-1. */
void vmsim__vma_remove(struct vmsim__mm *mm, size_t idx, size_t n);
/* Merge VMA i with its neighbours where Linux would. */
void vmsim__vma_merge_around(struct vmsim__mm *mm, size_t i);
/* Whether [addr, addr+len) is free of VMAs. */
bool vmsim__vma_range_free(const struct vmsim__mm *mm, vmsim_vaddr_t addr, uint64_t len);
/* Top-down search for a free range of len below `high`, at or above
 * `low`; returns the start, or 0 when none. */
vmsim_vaddr_t vmsim__vma_gap_topdown(const struct vmsim__mm *mm, uint64_t len,
                                     vmsim_vaddr_t low, vmsim_vaddr_t high);

/*
 * The protection bits a VMA gives its leaf entries (Linux's vm_page_prot).
 * A private writable VMA's entries are not writable: the write fault makes
 * them so (copy-on-write). PROT_NONE entries are PROTNONE, not present.
 */
static inline pte_t vma_page_prot(const struct vmsim__vma *vma)
{
    pte_t prot;

    if ((vma->prot & (VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC)) == 0)
        return PTE_PROTNONE | PTE_US | PTE_NX;
    prot = PTE_P | PTE_US;
    if (!(vma->prot & VMSIM_PROT_EXEC))
        prot |= PTE_NX;
    if ((vma->prot & VMSIM_PROT_WRITE) && (vma->flags & VMSIM_VMA_SHARED) &&
        !(vma->flags & VMA_WRITENOTIFY))
        prot |= PTE_RW;
    return prot;
}

/* Bits pte_modify() keeps: the frame, special, accessed, dirty, page size. */
#define PTE_CHG_MASK (PTE_PFN_MASK | PTE_SPECIAL | PTE_A | PTE_D | PTE_PS)

/* ---- mm/mmap.c: the memory syscalls ------------------------------------ */

struct vmsim__mm *vmsim__mm_create(struct vmsim *sim, vmsim_pid_t owner, int *err);
/* Tear down an address space: unmap everything, free tables (exit_mmap). */
void vmsim__mm_destroy(struct vmsim *sim, struct vmsim__mm *mm);
/* Unmap [start, end) of mm: zap pages, drop VMAs, free tables. */
int vmsim__do_munmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t start,
                     uint64_t len);
/* Clear the leaf entries of [start, end) inside one VMA, releasing frames. */
void vmsim__zap_range(struct vmsim *sim, struct vmsim__mm *mm, const struct vmsim__vma *vma,
                      vmsim_vaddr_t start, vmsim_vaddr_t end);
/* Commit accounting (mm/util.c __vm_enough_memory). */
bool vmsim__vm_enough_memory(struct vmsim *sim, uint64_t pages);
uint64_t vmsim__commit_limit(const struct vmsim *sim);

/* ---- mm/fault.c ------------------------------------------------------- */

/* Handle an access the page tables did not allow. Returns VMSIM_OUT_*
 * bits (>= 0), or a negative VMSIM_E*. */
int vmsim__handle_fault(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                        vmsim_access_kind kind);
/* Fault in one page for get_user_pages() (MAP_POPULATE): nothing if the
 * entry already allows `kind`. Returns VMSIM_OUT_* bits or VMSIM_E*. */
int vmsim__populate_page(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t va,
                         vmsim_access_kind kind);
/* Release one mapping of a user frame (mapcount, refcount, RSS). */
void vmsim__page_remove_rmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn);

/* ---- mm/proc.c -------------------------------------------------------- */

/* The process with this pid, dead or alive, or NULL. */
struct vmsim__proc *vmsim__proc_find(const struct vmsim *sim, vmsim_pid_t pid);
/* A call on behalf of p begins: the OOM killer then defers killing p
 * (VMSIM__EKILLED) instead of freeing the memory the call is using. */
static inline struct vmsim__proc *vmsim__api_begin(struct vmsim *sim, struct vmsim__proc *p)
{
    struct vmsim__proc *saved = sim->current;

    sim->current = p;
    return saved;
}
/* The call ends with rc: a deferred OOM kill of p happens now and the
 * call's result becomes 0 (the process's fate is the outcome). */
int vmsim__api_end(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__proc *saved, int rc);
/* Kill p with a signal: record it, release its memory, emit the event. */
void vmsim__proc_kill(struct vmsim *sim, struct vmsim__proc *p, int sig, int si_code,
                      vmsim_vaddr_t addr);
void vmsim__procs_destroy(struct vmsim *sim);

static inline uint64_t mm_rss(const struct vmsim__mm *mm)
{
    return mm->rss[MM_FILEPAGES] + mm->rss[MM_ANONPAGES] + mm->rss[MM_SHMEMPAGES];
}
static inline void mm_update_hiwater_rss(struct vmsim__mm *mm)
{
    uint64_t rss = mm_rss(mm);

    if (rss > mm->hiwater_rss)
        mm->hiwater_rss = rss;
}

/* ---- mm/filemap.c: files and the page cache ----------------------------- */

uint64_t vmsim__sparse_get(const struct vmsim__sparse *sa, uint64_t idx);
/* Set entry idx (growing as needed). Returns 0 or VMSIM_ENOMEM. */
int vmsim__sparse_set(const struct vmsim *sim, struct vmsim__sparse *sa, uint64_t idx,
                      uint64_t val);
void vmsim__sparse_free(const struct vmsim *sim, struct vmsim__sparse *sa);

static inline struct vmsim__file *file_of(const struct vmsim *sim, uint32_t id)
{
    return id != 0 && id < sim->nr_files ? sim->files[id] : NULL;
}
struct vmsim__file *vmsim__file_lookup(const struct vmsim *sim, const char *name);
/* A new anonymous shmem object of size bytes (MAP_SHARED|MAP_ANONYMOUS);
 * charges Committed_AS unless noreserve. Returns 0, VMSIM_SYS_ENOMEM or
 * VMSIM_ENOMEM. */
int vmsim__file_new_anon(struct vmsim *sim, uint64_t size, bool noreserve, uint32_t *id);
/* Free an anonymous shmem object no VMA references any more. */
void vmsim__file_release_if_unused(struct vmsim *sim, uint32_t id);
/* Pages of a file: DIV_ROUND_UP(size, 4096). */
static inline uint64_t file_pages(const struct vmsim__file *f)
{
    return (f->size + PAGE_SIZE - 1) / PAGE_SIZE;
}
#define PFN_NONE UINT64_MAX
/* The cached frame of page idx, or PFN_NONE. */
vmsim_pfn_t vmsim__pagecache_find(const struct vmsim__file *f, uint64_t idx);
/* Bring page idx into the cache for a fault: a shmem hole gets a zeroed
 * page; a regular file is read (with read-around as filemap_fault does),
 * setting *major. Returns 0 and *pfn, or VMSIM_E*. */
int vmsim__filemap_get(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                       const struct vmsim__vma *vma, vmsim_pfn_t *pfn, bool *major);
/* Readahead [idx, idx + nr) of a regular file (madvise WILLNEED). */
int vmsim__file_readahead(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                          uint64_t nr);
void vmsim__page_mark_dirty(struct vmsim *sim, vmsim_pfn_t pfn);
/* Write back the dirty cached pages [first, last] of f; mapped entries are
 * write-protected and cleaned (folio_mkclean). */
void vmsim__file_writeback(struct vmsim *sim, struct vmsim__file *f, uint64_t first,
                           uint64_t last);
/* The clean, unmapped page cache that drop_caches would drop. */
void vmsim__drop_pagecache(struct vmsim *sim);
void vmsim__files_destroy(struct vmsim *sim);
/* Mark a cache page accessed (mark_page_accessed). */
void vmsim__mark_page_accessed(struct vmsim *sim, vmsim_pfn_t pfn);

/* Page contents (track_data): the 4 KiB of pfn, allocated if `alloc`
 * (else NULL means zeros). NULL with alloc means host OOM. */
uint8_t *vmsim__frame_data(struct vmsim *sim, vmsim_pfn_t pfn, bool alloc);
void vmsim__frame_data_drop(struct vmsim *sim, vmsim_pfn_t pfn);
/* Forget the contents of pfn (a machine that keeps none has none). */
static inline void vmsim__frame_data_free(struct vmsim *sim, vmsim_pfn_t pfn)
{
    if (sim->frame_data != NULL)
        vmsim__frame_data_drop(sim, pfn);
}
void vmsim__frame_data_copy(struct vmsim *sim, vmsim_pfn_t dst, vmsim_pfn_t src);

/* ---- mm/rmap.c: from a frame to the entries that map it ------------------ */

/* Call fn for every leaf entry mapping pfn (anon: at its index in every
 * process; file: in every VMA of the file). fn returns non-zero to stop. */
typedef int (*vmsim__rmap_fn)(struct vmsim *sim, struct vmsim__proc *p,
                              struct vmsim__vma *vma, vmsim_vaddr_t va, pte_t *pte, void *arg);
int vmsim__rmap_walk(struct vmsim *sim, vmsim_pfn_t pfn, vmsim__rmap_fn fn, void *arg);

/* ---- one fault in progress (mm/fault.c) --------------------------------- */

struct fault {
    struct vmsim *sim;
    struct vmsim__proc *proc;
    struct vmsim__mm *mm;
    struct vmsim__vma *vma;
    vmsim_vaddr_t va;        /* page-aligned */
    vmsim_access_kind kind;
    uint64_t pgoff;          /* file page of va (file VMAs) */
    pte_t *pte;              /* the leaf entry */
    const char *cause;       /* for the event */
};

#define VMSIM__SIGBUS 0x10000 /* internal outcome: the fault raises SIGBUS */

/* do_wp_page(): a write to a present, write-protected entry. */
int vmsim__do_wp_page(struct fault *vf);

/* Page-cache entry encodings besides pfn + 1 */
#define PC_SHADOW (1ull << 63) /* a file page reclaim evicted (refault marker) */
#define PC_SWAP   (1ull << 62) /* a shmem page in swap: low bits are the slot */

/* ---- mm/swap.c ----------------------------------------------------------- */

#define SWP_HAS_CACHE 0x80000000u /* the slot has a swap-cache page */
#define SWP_EVICTED   0x40000000u /* written by reclaim: a swap-in is a refault */
#define SWP_COUNT     0x3fffffffu

int vmsim__swap_init(struct vmsim *sim);
void vmsim__swap_destroy(struct vmsim *sim);
/* Whether a free slot exists. */
static inline bool vmsim__swap_available(const struct vmsim *sim)
{
    return !sim->swap_draining && sim->nr_swap_used < sim->nr_swap_slots;
}
/* A free slot, or VMSIM_ENOSPC: fresh slots in order, so pages reclaimed
 * together sit together (as Linux's per-cluster allocation keeps them)
 * and readahead finds them again; then the most recently freed slot.
 * O(1) either way. Inline: every eviction to swap takes one. */
static inline int vmsim__swap_alloc(struct vmsim *sim, uint64_t *slot)
{
    if (!vmsim__swap_available(sim))
        return VMSIM_ENOSPC;
    if (sim->swap_fresh < sim->nr_swap_slots)
        *slot = sim->swap_fresh++;
    else if (sim->nr_swap_free > 0)
        *slot = sim->swap_free[--sim->nr_swap_free];
    else
        return VMSIM_ENOSPC;
    VMSIM_ASSERT(sim->swap_map[*slot] == 0);
    sim->nr_swap_used++;
    return 0;
}
/* One entry referring to slot went away (zap, swap-in); frees the slot
 * (and an unused swap-cache page) at zero. */
void vmsim__swap_free_entry(struct vmsim *sim, uint64_t slot);
/* do_swap_page(): resolve a fault on a swap entry. Returns VMSIM_OUT_*
 * bits or VMSIM_E*. */
struct fault;
int vmsim__do_swap_page(struct fault *vf);
/* Remove pfn from the swap cache (its slot stays if entries refer to it). */
void vmsim__swapcache_del(struct vmsim *sim, vmsim_pfn_t pfn);
/* swapoff: bring every swapped page back. Returns 0 or VMSIM_E*. */
int vmsim__swapoff(struct vmsim *sim);
/* The shmem page for a swapped-out shmem slot (swap in, minor if cached). */
int vmsim__shmem_swapin(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                        vmsim_pfn_t *pfn, bool *major);

/* ---- mm/reclaim.c --------------------------------------------------------- */

int vmsim__policy_init(struct vmsim *sim);
void vmsim__policy_destroy(struct vmsim *sim);
/* A frame for anything the kernel allocates for user space (pages, page
 * tables): reclaims to keep free memory above the min watermark and user
 * pages within resident_limit (when `user`), and runs the OOM killer when
 * nothing can be reclaimed. Returns 0, VMSIM_EPANIC, or VMSIM__EKILLED
 * when the OOM killer chose the current process. */
int vmsim__alloc_frame(struct vmsim *sim, unsigned order, bool user, vmsim_pfn_t *pfn);
#define VMSIM__EKILLED (-1000)
/* The same, but giving up (VMSIM_EOOM) where the OOM killer would run:
 * for allocations that may fail quietly, as readahead's do. */
int vmsim__alloc_frame_try(struct vmsim *sim, unsigned order, bool user, vmsim_pfn_t *pfn);
/* Evict one page now (madvise PAGEOUT, reclaim). Returns 0 or VMSIM_E*. */
int vmsim__evict(struct vmsim *sim, vmsim_pfn_t pfn, bool direct);
/* The access clock ticks; the policy sees the touch. */
void vmsim__policy_touch(struct vmsim *sim, vmsim_pfn_t pfn, vmsim_access_kind kind);
/* A deterministic 64-bit random number. */
uint64_t vmsim__random(struct vmsim *sim);

/* ---- mm/oom.c ------------------------------------------------------------- */

/* out_of_memory(): kill the worst process (or panic). memcg: the limit
 * that failed was resident_limit. Returns 0 (a victim died, retry),
 * VMSIM__EKILLED (the victim is the current process), VMSIM_EPANIC. */
int vmsim__out_of_memory(struct vmsim *sim, bool memcg);
/* Append a line to the kernel log. */
void vmsim__kmsg(struct vmsim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmsim__kmsg_destroy(struct vmsim *sim);

/* ---- user frames (fault.c) ---------------------------------------------- */

/* A frame for a user page: anonymous, page cache or shmem. Returns 0 or
 * VMSIM_EOOM. The frame has refcount 1 and no flags but PG_ALLOCATED. */
int vmsim__alloc_user_page(struct vmsim *sim, vmsim_pfn_t *pfn);
/* Map pfn (a cache page) at va for one more entry: mapcount, RSS, Mapped. */
void vmsim__page_add_file_rmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn);

/* ---- TLB shootdowns (mm/tlb.c holds the TLB) ------------------------------ */

/* Invalidate mm's translations of [start, end) (flush_tlb_range). */
void vmsim__flush_tlb_range(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t start,
                            vmsim_vaddr_t end);
/* Invalidate mm's translation of the 4 KiB page at va (flush_tlb_page):
 * its ucache slot here, the TLB out of line. */
static inline void vmsim__flush_tlb_page(struct vmsim *sim, struct vmsim__mm *mm,
                                         vmsim_vaddr_t va)
{
    struct vmsim__ucache *uc = &mm->uc[(va >> PAGE_SHIFT) & (UCACHE_SIZE - 1)];

    if (uc->vpn == va >> PAGE_SHIFT)
        uc->vpn = UINT64_MAX;
    if (sim->tlb != NULL)
        vmsim__flush_tlb_range(sim, mm, va & PAGE_MASK, (va & PAGE_MASK) + PAGE_SIZE);
}
/* Invalidate every translation of mm (flush_tlb_mm). */
void vmsim__flush_tlb_mm(struct vmsim *sim, struct vmsim__mm *mm);
static inline void ucache_clear(struct vmsim__mm *mm)
{
    for (unsigned i = 0; i < UCACHE_SIZE; i++)
        mm->uc[i].vpn = UINT64_MAX;
}

/* ---- mm/huge.c: transparent huge pages ----------------------------------- */

#define HPAGE_NR 512u
#define VMSIM__FALLBACK 0x20000 /* internal outcome: retry the fault with 4 KiB pages */

/* The head frame of the folio pfn belongs to. */
static inline vmsim_pfn_t folio_head(const struct vmsim *sim, vmsim_pfn_t pfn)
{
    return (sim->frames[pfn].flags & PG_TAIL) ? (pfn & ~(vmsim_pfn_t)(HPAGE_NR - 1)) : pfn;
}
static inline bool folio_large(const struct vmsim *sim, vmsim_pfn_t head)
{
    return (sim->frames[head].flags & PG_HEAD) != 0;
}

/* Put pfn on its LRU list and admit it to the policy; take it off and make
 * the policy forget it. Inline: each runs once a fault or an eviction. */
static inline void vmsim__lru_add(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    bool anon = (f->flags & (PG_ANON | PG_SHMEM)) != 0;

    /* New pages start on the inactive list (anonymous too, Linux >= 5.9);
     * shmem is swap-backed and lives on the anon lists. */
    f->flags |= PG_LRU;
    sim->policy->admit(sim->policy_state, sim->pctx, pfn);
    mod_vm_stat(sim,
                (f->flags & PG_ACTIVE)
                    ? (anon ? VMSIM_VMSTAT_NR_ACTIVE_ANON : VMSIM_VMSTAT_NR_ACTIVE_FILE)
                    : (anon ? VMSIM_VMSTAT_NR_INACTIVE_ANON : VMSIM_VMSTAT_NR_INACTIVE_FILE),
                (f->flags & PG_HEAD) ? HPAGE_NR : 1);
}

static inline void vmsim__lru_del(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    bool anon = (f->flags & (PG_ANON | PG_SHMEM)) != 0;
    vmsim_vmstat_item item;

    if (!(f->flags & PG_LRU))
        return;
    if (f->flags & PG_ACTIVE)
        item = anon ? VMSIM_VMSTAT_NR_ACTIVE_ANON : VMSIM_VMSTAT_NR_ACTIVE_FILE;
    else
        item = anon ? VMSIM_VMSTAT_NR_INACTIVE_ANON : VMSIM_VMSTAT_NR_INACTIVE_FILE;
    sim->vmstat[item] -= (f->flags & PG_HEAD) ? HPAGE_NR : 1;
    f->flags &= (uint16_t)~(PG_LRU | PG_ACTIVE);
    sim->policy->forget(sim->policy_state, pfn);
}

void vmsim__put_page_slow(struct vmsim *sim, vmsim_pfn_t pfn);
/* Drop one reference; frees the frame (or the whole folio) at zero. */
static inline void vmsim__put_page(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = &sim->frames[pfn];

    if (!(f->flags & (PG_HEAD | PG_TAIL)) && f->refcount > 1) {
        f->refcount--;
        return;
    }
    vmsim__put_page_slow(sim, pfn);
}
/* A THP's PMD mappings live in the refcount field of its second frame
 * (Linux's _entire_mapcount); the head's refcount is the folio's. */
static inline uint32_t *entire_mapcount(struct vmsim *sim, vmsim_pfn_t head)
{
    return &sim->frames[head + 1].refcount;
}
/* Whether the VMA may hold THPs now (thp_vma_allowable_order). */
bool vmsim__thp_vma_allowed(const struct vmsim *sim, const struct vmsim__vma *vma);
/* A fault whose PMD is none or huge. Returns VMSIM_OUT_* bits, VMSIM__FALLBACK
 * (the PMD is then none or a table), or VMSIM_E*. */
int vmsim__do_huge_pmd_fault(struct fault *vf, pte_t *pmd);
/* Split one huge PMD mapping into 512 PTEs (withdrawing the deposited
 * table). Returns 0 or VMSIM_ENOMEM. */
int vmsim__split_huge_pmd(struct vmsim *sim, struct vmsim__mm *mm, pte_t *pmd);
/* Zap a huge PMD whole. */
void vmsim__zap_huge_pmd(struct vmsim *sim, struct vmsim__mm *mm, pte_t *pmd);
/* fork: copy one huge PMD into dst (write-protecting both). */
int vmsim__copy_huge_pmd(struct vmsim *sim, struct vmsim__mm *dst, pte_t *spmd, pte_t *dpmd);
/* split_huge_page(): split every PMD mapping, then the folio into 512
 * pages; unmapped ones are freed. Returns 0 or VMSIM_ENOMEM. */
int vmsim__split_folio(struct vmsim *sim, vmsim_pfn_t head);
/* Deposit a new page table for a huge PMD of mm / give one back. */
int vmsim__pgtable_deposit(struct vmsim *sim, struct vmsim__mm *mm);
void vmsim__pgtable_free_deposit(struct vmsim *sim, struct vmsim__mm *mm);
/* khugepaged / MADV_COLLAPSE over [start, end) of one VMA. */
int vmsim__collapse_range(struct vmsim *sim, struct vmsim__proc *p, size_t vma_idx,
                          vmsim_vaddr_t start, vmsim_vaddr_t end, bool khugepaged);

/* pgtable.c helpers huge.c needs */
int vmsim__table_alloc(struct vmsim *sim, struct vmsim__mm *mm, int level, vmsim_vaddr_t va,
                       vmsim_pfn_t *out);
void vmsim__table_free(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn);

/* ---- mm/hugetlb.c ---------------------------------------------------------- */

static inline unsigned hugetlb_level(const struct vmsim__vma *vma)
{
    return (vma->flags & VMA_HUGE_1G) ? 2 : 1;
}
int vmsim__hugetlb_init(struct vmsim *sim);
void vmsim__hugetlb_destroy(struct vmsim *sim);
/* Reserve pages for a new hugetlb mapping (unless noreserve). Returns 0
 * or VMSIM_SYS_ENOMEM. */
int vmsim__hugetlb_reserve(struct vmsim *sim, unsigned level, uint64_t pages);
void vmsim__hugetlb_unreserve(struct vmsim *sim, unsigned level, uint64_t pages);
/* A fault in a hugetlb VMA. Returns VMSIM_OUT_*, VMSIM__SIGBUS or VMSIM_E*. */
int vmsim__hugetlb_fault(struct fault *vf);
/* Unmap one hugetlb leaf; returns the page to its pool when unused. */
void vmsim__hugetlb_zap(struct vmsim *sim, struct vmsim__mm *mm, pte_t *e, unsigned level);
/* A MAP_SHARED hugetlb mapping's object of nr huge pages, reserved from
 * the pool unless noreserve. Returns 0 and *id, VMSIM_SYS_ENOMEM (pool) or
 * VMSIM_ENOMEM (host). */
int vmsim__hobj_create(struct vmsim *sim, unsigned level, uint64_t nr, bool noreserve,
                       uint32_t *id);
/* Free object id, its pages and its reservations, once no VMA maps it
 * (and mmap is not still making the first). */
void vmsim__hobj_release_if_unused(struct vmsim *sim, uint32_t id);
static inline struct vmsim__hobj *hobj_of(const struct vmsim *sim, uint32_t id)
{
    return id != 0 && id < sim->nr_hobjs ? sim->hobjs[id] : NULL;
}
/* Reserved but not yet faulted pages of [start, end) of a private hugetlb
 * VMA (0 for a shared one: its object holds the reservations). */
uint64_t vmsim__hugetlb_unfaulted(struct vmsim *sim, struct vmsim__mm *mm,
                                  const struct vmsim__vma *vma, vmsim_vaddr_t start,
                                  vmsim_vaddr_t end);

/* ---- mm/heap.c: the simulated libc allocator ----------------------------- */

struct vmsim__heap;
/* Drop p's heap state (exit, exec). */
void vmsim__heap_destroy(struct vmsim *sim, struct vmsim__proc *p);
/* Verify p's heap state against its address space. Returns 0 or
 * VMSIM_ECORRUPT with a reason in buf. */
int vmsim__heap_check(const struct vmsim *sim, const struct vmsim__proc *p, char *buf,
                      size_t len);
/* Give child a copy of parent's heap state (fork). Returns 0 or VMSIM_ENOMEM. */
int vmsim__heap_fork(struct vmsim *sim, const struct vmsim__proc *parent,
                     struct vmsim__proc *child);

/* ---- core/check.c ----------------------------------------------------- */

/* printf into buf (if not NULL) and return VMSIM_ECORRUPT. */
int vmsim__corrupt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* VMSIM_INTERNAL_H */
