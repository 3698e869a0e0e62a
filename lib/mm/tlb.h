/*
 * mm/tlb.h -- the simulated TLBs: what the MMU consults before it walks
 * the page tables, and the performance model of that cache.
 *
 * One struct vmsim__tlb is one CPU's translation caches, shaped by
 * vmsim_tlb_config_t:
 *
 *   L1 dTLB   loads and stores: three arrays, one per page size, of
 *             l1_4k, l1_2m and l1_1g entries. The 4K and 2M arrays are
 *             `ways`-way set associative; the 1G array is fully
 *             associative (l1_1g entries, 0 = no 1G TLB: 1 GiB pages are
 *             then held as 2 MiB pieces in the 2M array).
 *   L1 ITLB   instruction fetches: l1_4k entries, `ways`-way, 4 KiB
 *             entries only. A fetch from a 2 MiB or 1 GiB page is held as
 *             the 4 KiB piece containing it.
 *   L2 STLB   unified (both kinds of access), l2 entries, `ways`-way,
 *             holding 4 KiB and 2 MiB translations; 1 GiB ones live in
 *             the L1 only.
 *
 * An entry is tagged with the page number (of its array's page size) and
 * the address space (asid); its set is the page number modulo the number
 * of sets. Replacement is LRU within a set. The TLB caches *pointers to
 * leaf entries*; it never dereferences them. The caller re-checks *pte
 * after every hit, and must flush (vmsim__tlb_flush_range/_asid) every
 * translation whose leaf entry is about to be freed, to stop being a leaf
 * or to be superseded by a leaf of another size (munmap, exit, exec, a
 * huge page split into a table, a THP collapse), as Linux does: a stale
 * pointer is otherwise returned, and lookups try 4 KiB entries first.
 *
 * Not thread-safe: a TLB belongs to one machine (struct vmsim).
 */
#ifndef VMSIM_MM_TLB_H
#define VMSIM_MM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* Linux's tlb_single_page_flush_ceiling: a range flush of more pages than
 * this flushes the whole address space instead (arch/x86/mm/tlb.c). */
#define VMSIM__TLB_FLUSH_CEILING 33

/* The TLB, in the open so that the hit path of vmsim__tlb_lookup() can be
 * inlined into the access path; only mm/tlb.c touches the fields. */
#define KEY_VALID (1ull << 63)

#ifdef __SIZEOF_INT128__
#define HAVE_U128 1
__extension__ typedef unsigned __int128 u128;
#endif

struct tlb_entry {
    uint64_t key;   /* KEY_VALID | vpn << 2 | level; 0 when empty */
    pte_t *pte;     /* the cached leaf entry; never dereferenced here */
    uint64_t stamp; /* tick of the last use; 0 when empty */
    uint32_t asid;
    uint32_t span;  /* level of the translated page (>= the key's level) */
};

struct tlb_array {
    struct tlb_entry *e;
    struct tlb_entry **mru; /* per set: the entry with the newest stamp, or an empty one */
    uint64_t set_mask; /* nr_sets - 1 when nr_sets is a power of two */
#ifdef HAVE_U128
    u128 set_magic;    /* otherwise: 2^128 / nr_sets, rounded up (see set_index) */
#endif
    uint64_t tick;     /* the last stamp given */
    uint32_t nr_at[3]; /* valid entries by key level: lookups skip an empty level */
    uint32_t nr_sets, ways;
    bool pow2;
    bool pieces; /* may hold pieces of larger pages: flushes scan it all */
};

/*
 * What the hot path needs for one access kind: the MRU pointers of its 4K
 * L1 array and the set mask. An array whose set count is not a power of
 * two gets a one-slot table pointing at an always-empty entry instead, so
 * that the hot path misses and the slow path computes the modulo.
 */
struct tlb_hot {
    struct tlb_entry **mru;
    uint64_t mask;
};

struct vmsim__tlb {
    struct tlb_hot hot[3]; /* by vmsim_access_kind: READ, WRITE (dTLB 4K), EXEC (ITLB) */
    vmsim_tlb_stats_t stats;
    struct tlb_array l1d[3]; /* dTLB by level: 4K, 2M, 1G (1G: ways 0 if absent) */
    struct tlb_array itlb;   /* 4K entries only */
    struct tlb_array l2;     /* 4K and 2M entries */
    bool pcid;
    bool has_current; /* a switch has happened: `current` is meaningful */
    uint32_t current;
    struct tlb_entry none;       /* always empty */
    struct tlb_entry *none_mru;  /* -> none: the hot table of a non-power-of-two L1 */
    size_t nr_entries;
    struct tlb_entry entries[];
};


/*
 * Build the TLBs described by cfg, allocating from sim's allocator (sim
 * may be NULL: libc). cfg->enabled must be true; l1_4k, l1_2m and l2 must
 * be > 0 and multiples of ways (> 0); l1_1g may be anything (0: no 1G
 * TLB). On success returns 0 and stores a new, empty TLB in *out (release
 * with vmsim__tlb_destroy); the current address space is none yet.
 * Returns VMSIM_EINVAL for a bad config and VMSIM_ENOMEM when allocation
 * fails, with *out untouched.
 */
int vmsim__tlb_create(const struct vmsim *sim, const vmsim_tlb_config_t *cfg,
                      struct vmsim__tlb **out);

/* Free a TLB made by vmsim__tlb_create with the same sim. NULL is a no-op. */
void vmsim__tlb_destroy(const struct vmsim *sim, struct vmsim__tlb *tlb);

/*
 * Translate va for address space asid, as the MMU does on every access:
 * the L1 for the access type (VMSIM_EXEC: the ITLB; VMSIM_READ and
 * VMSIM_WRITE: the 4K, 2M and 1G dTLB arrays), then the L2. An L2 hit is
 * refilled into the L1 (evicting that set's LRU entry) and counts as a
 * hit like an L1 hit. Returns the cached leaf-entry pointer on a hit, NULL
 * on a miss (the caller then walks and calls vmsim__tlb_fill). Counts one
 * hit or one miss. Allocates nothing. kind must be a valid access kind
 * (the caller validates it). The pointer is only as good as the caller's
 * flushes: check *pte before trusting it.
 *
 * Cost: a hit on the most recently used entry of its 4K L1 set (repeated
 * use of a page, or a loop over up to 16 consecutive pages) is inline,
 * about 10 instructions with no store but the hit counter; other L1 hits,
 * L2 hits and misses take vmsim__tlb_lookup_slow().
 */
pte_t *vmsim__tlb_lookup_slow(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                              bool ifetch);

static inline uint64_t vmsim__tlb_key(uint64_t vpn, int level)
{
    return KEY_VALID | vpn << 2 | (uint64_t)level;
}

/* An entry that allows nothing: what the MRU probe answers on a miss. */
extern pte_t vmsim__tlb_no_pte;

/* The hot part of vmsim__tlb_lookup(): the leaf entry the MRU entry of
 * va's 4K L1 set holds for (asid, va), or &vmsim__tlb_no_pte (zero, not
 * present) when it holds something else. Counts nothing and changes
 * nothing: a caller that uses the answer counts the hit (stats.hits++). */
static inline pte_t *vmsim__tlb_lookup_mru(const struct vmsim__tlb *tlb, uint32_t asid,
                                           vmsim_vaddr_t va, vmsim_access_kind kind)
{
    const struct tlb_hot *h = &tlb->hot[kind];
    uint64_t vpn = va >> PAGE_SHIFT;
    const struct tlb_entry *e = h->mru[vpn & h->mask];

    VMSIM_ASSERT((unsigned)kind <= VMSIM_EXEC);
    if (e->key == vmsim__tlb_key(vpn, 0) && e->asid == asid)
        return e->pte;
    return &vmsim__tlb_no_pte;
}

static inline pte_t *vmsim__tlb_lookup(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                                       vmsim_access_kind kind)
{
    pte_t *pte = vmsim__tlb_lookup_mru(tlb, asid, va, kind);

    if (pte != &vmsim__tlb_no_pte) {
        tlb->stats.hits++;
        return pte;
    }
    return vmsim__tlb_lookup_slow(tlb, asid, va, kind == VMSIM_EXEC);
}

/*
 * After a page walk for an access of `kind`: cache the translation of va
 * by leaf entry pte, whose level is `level` (0: a 4 KiB page, 1: 2 MiB,
 * 2: 1 GiB; the entry covers the aligned page of that size containing
 * va). It goes into the L1 for the access type and into the L2 (a 1 GiB
 * page: the L1 only), each as the most recently used entry of its set,
 * replacing an entry for the same page and asid, else an empty way, else
 * the set's least recently used entry. Counts one walk and its memory
 * references: walk_refs += 4 - level. level must be 0, 1 or 2.
 */
void vmsim__tlb_fill(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va, int level,
                     pte_t *pte, vmsim_access_kind kind);

/*
 * Invalidate every translation of asid overlapping [start, end), in every
 * TLB, whatever its page size (INVLPG on each page, as flush_tlb_range()).
 * When the range spans more than VMSIM__TLB_FLUSH_CEILING 4 KiB pages,
 * flush all of asid instead, as Linux does. Counts one flush; an empty
 * range (end <= start) does nothing and is not counted.
 */
void vmsim__tlb_flush_range(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t start,
                            vmsim_vaddr_t end);

/* Invalidate every translation of asid (exit, exec). Counts one flush. */
void vmsim__tlb_flush_asid(struct vmsim__tlb *tlb, uint32_t asid);

/* Invalidate every translation of every asid. Counts one flush. */
void vmsim__tlb_flush_all(struct vmsim__tlb *tlb);

/*
 * The CPU switches to address space asid (the running process changes).
 * Without PCID, a switch to an asid other than the current one flushes
 * everything and counts one flush; the first switch of a TLB (from no
 * address space) and a switch to the current asid do nothing. With PCID
 * entries stay tagged and nothing is flushed.
 */
void vmsim__tlb_switch(struct vmsim__tlb *tlb, uint32_t asid);

/* Copy the counters into *out. */
void vmsim__tlb_stats(const struct vmsim__tlb *tlb, vmsim_tlb_stats_t *out);

/*
 * Where the translation of va for asid sits for an access of `kind`,
 * without counting or changing any state: 1 in the access type's L1, 2 in
 * the L2 only, 0 nowhere. For tests and debugging tools.
 */
int vmsim__tlb_probe(const struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                     vmsim_access_kind kind);

#endif /* VMSIM_MM_TLB_H */
