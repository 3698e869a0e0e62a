/*
 * mm/tlb.c -- set-associative TLBs: L1 dTLB (4K, 2M, 1G arrays), L1 ITLB,
 * unified L2, with ASID tags (PCID) and Linux's flush rules.
 *
 * Each TLB array is nr_sets * ways entries, set s at e[s * ways]. Within a
 * set the valid entries form a prefix ordered from most to least recently
 * used: a hit moves its entry to the front, a fill inserts at the front
 * and, when the set is full, drops the last (LRU) entry. So replacement
 * is exact LRU with no stamps, and the common hit (the MRU way) writes
 * nothing.
 *
 * An entry's key holds a valid bit, the page number in the array's page
 * size and that size's level:
 *
 *   63      62..54  53..2               1..0
 *   valid   zero    vpn (va >> 12+9L)   L (0: 4K, 1: 2M, 2: 1G)
 *
 * so a zeroed entry is empty and the L2's 4K and 2M entries never match
 * each other. `span` is the level of the page the translation came from;
 * it exceeds the array's level for a piece of a larger page (an ITLB
 * entry for a 2M page, or a 2M entry for a 1G page when there is no 1G
 * TLB), and flushes use it to find every piece of a page.
 *
 * Before the arrays, lookup checks one "last translation" per L1 (data,
 * instruction): the L1 entry the previous lookup or fill of that kind
 * used. That entry is already the MRU of its set, and nothing else has
 * touched that L1 since (any other lookup or fill of the kind replaces
 * it, flushes clear it), so answering from it counts an L1 hit and leaves
 * the LRU order exactly as the full lookup would.
 */
#include "mm/tlb.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define KEY_VALID (1ull << 63)

struct tlb_entry {
    uint64_t key;  /* KEY_VALID | vpn << 2 | level; 0 when empty */
    pte_t *pte;    /* the cached leaf entry; never dereferenced here */
    uint32_t asid;
    uint32_t span; /* level of the translated page (>= the key's level) */
};

struct tlb_array {
    struct tlb_entry *e;
    uint64_t set_mask; /* nr_sets - 1 when nr_sets is a power of two */
    uint32_t nr_sets, ways;
    bool pow2;
    bool pieces; /* may hold pieces of larger pages: flushes scan it all */
};

/* The last translation of one L1: [base, base + ~mask] -> pte for asid. */
struct tlb_last {
    uint64_t base, mask;
    pte_t *pte;
    uint32_t asid;
};

enum { LAST_DATA, LAST_INSN };

struct vmsim__tlb {
    struct tlb_last last[2]; /* LAST_DATA, LAST_INSN */
    vmsim_tlb_stats_t stats;
    struct tlb_array l1d[3]; /* dTLB by level: 4K, 2M, 1G (1G: ways 0 if absent) */
    struct tlb_array itlb;   /* 4K entries only */
    struct tlb_array l2;     /* 4K and 2M entries */
    bool pcid;
    bool has_current; /* a switch has happened: `current` is meaningful */
    uint32_t current;
    size_t nr_entries;
    struct tlb_entry entries[];
};

/* An inclusive byte range of one asid (or of all) that a flush clears. */
struct flush_range {
    uint64_t first, last;
    uint32_t asid;
    bool all_asids;
};

static inline uint64_t make_key(uint64_t vpn, int level)
{
    return KEY_VALID | vpn << 2 | (uint64_t)level;
}

static inline uint64_t level_shift(int level)
{
    return PAGE_SHIFT + 9 * (unsigned)level;
}

/* The first entry of vpn's set. */
static inline struct tlb_entry *set_of(const struct tlb_array *a, uint64_t vpn)
{
    uint64_t s = a->pow2 ? (vpn & a->set_mask) : (vpn % a->nr_sets);

    return &a->e[s * a->ways];
}

static void last_clear(struct tlb_last *m)
{
    /* va & mask has bit 0 clear, so base 1 matches no address */
    m->base = 1;
    m->mask = PAGE_MASK;
    m->pte = NULL;
    m->asid = 0;
}

/* Remember that the L1 entry at `level` (the array's page size) for va
 * translates to pte. */
static inline void last_set(struct tlb_last *m, vmsim_vaddr_t va, int level, uint32_t asid,
                            pte_t *pte)
{
    m->mask = ~(LEVEL_SIZE(level) - 1);
    m->base = va & m->mask;
    m->pte = pte;
    m->asid = asid;
}

/*
 * Find key of asid in vpn's set of a. On a hit, move the entry to the
 * front of its set (it is now the most recently used) and return it;
 * return NULL on a miss. a must have ways > 0.
 */
static inline struct tlb_entry *array_lookup(struct tlb_array *a, uint64_t vpn, uint64_t key,
                                             uint32_t asid)
{
    struct tlb_entry *set = set_of(a, vpn);

    for (uint32_t i = 0; i < a->ways; i++) {
        if (set[i].key == key && set[i].asid == asid) {
            if (i > 0) {
                struct tlb_entry hit = set[i];

                memmove(&set[1], &set[0], i * sizeof(*set));
                set[0] = hit;
            }
            return &set[0];
        }
        if (set[i].key == 0)
            break;
    }
    return NULL;
}

/* Whether key of asid is in vpn's set of a, changing nothing. */
static bool array_has(const struct tlb_array *a, uint64_t vpn, uint64_t key, uint32_t asid)
{
    const struct tlb_entry *set;

    if (a->ways == 0)
        return false;
    set = set_of(a, vpn);
    for (uint32_t i = 0; i < a->ways && set[i].key != 0; i++) {
        if (set[i].key == key && set[i].asid == asid)
            return true;
    }
    return false;
}

/*
 * Make (key, asid) -> pte the most recently used entry of vpn's set:
 * it replaces an entry with the same key and asid if there is one, else
 * takes the first empty way, else evicts the least recently used (last)
 * entry. a must have ways > 0.
 */
static void array_insert(struct tlb_array *a, uint64_t vpn, uint64_t key, uint32_t asid,
                         pte_t *pte, int span)
{
    struct tlb_entry *set = set_of(a, vpn);
    uint32_t i;

    for (i = 0; i + 1 < a->ways; i++) {
        if (set[i].key == 0 || (set[i].key == key && set[i].asid == asid))
            break;
    }
    /* set[i] is the match, the first empty way or the LRU entry */
    memmove(&set[1], &set[0], i * sizeof(*set));
    set[0].key = key;
    set[0].pte = pte;
    set[0].asid = asid;
    set[0].span = (uint32_t)span;
}

/* Whether entry e (valid) translates part of r. */
static bool entry_in_range(const struct tlb_entry *e, const struct flush_range *r)
{
    int level = (int)(e->key & 3);
    uint64_t size = LEVEL_SIZE(e->span);
    uint64_t base;

    if (!r->all_asids && e->asid != r->asid)
        return false;
    base = ((e->key & ~KEY_VALID) >> 2) << level_shift(level);
    base = round_down(base, size);
    return base <= r->last && base + (size - 1) >= r->first;
}

/* Drop the entries of one set that fall in r, keeping the others in LRU
 * order at the front of the set. */
static void set_flush(struct tlb_entry *set, uint32_t ways, const struct flush_range *r)
{
    uint32_t i, kept = 0;

    for (i = 0; i < ways && set[i].key != 0; i++) {
        if (entry_in_range(&set[i], r))
            continue;
        if (kept != i)
            set[kept] = set[i];
        kept++;
    }
    if (kept < i)
        memset(&set[kept], 0, (i - kept) * sizeof(*set));
}

/*
 * Drop the entries of a, keyed at `level`, that fall in r. An entry can
 * only sit in the set of its own page number, so when the range spans
 * fewer of those pages than there are sets, only their sets are visited;
 * arrays holding pieces of larger pages are scanned whole. Returns whether
 * every set was visited.
 */
static bool array_flush(struct tlb_array *a, int level, const struct flush_range *r)
{
    uint64_t first = r->first >> level_shift(level);
    uint64_t last = r->last >> level_shift(level);

    if (a->ways == 0)
        return true;
    if (a->pieces || last - first >= a->nr_sets - 1) {
        for (uint32_t s = 0; s < a->nr_sets; s++)
            set_flush(&a->e[(size_t)s * a->ways], a->ways, r);
        return true;
    }
    for (uint64_t vpn = first; vpn <= last; vpn++)
        set_flush(set_of(a, vpn), a->ways, r);
    return false;
}

static void flush_entries(struct vmsim__tlb *tlb, const struct flush_range *r)
{
    for (int l = 0; l < 3; l++)
        array_flush(&tlb->l1d[l], l, r);
    array_flush(&tlb->itlb, 0, r);
    /* the L2's 4K and 2M entries share its sets */
    if (!array_flush(&tlb->l2, 0, r))
        array_flush(&tlb->l2, 1, r);
    last_clear(&tlb->last[LAST_DATA]);
    last_clear(&tlb->last[LAST_INSN]);
}

static void flush_asid_entries(struct vmsim__tlb *tlb, uint32_t asid)
{
    struct flush_range r = {.first = 0, .last = UINT64_MAX, .asid = asid};

    flush_entries(tlb, &r);
}

static void flush_all_entries(struct vmsim__tlb *tlb)
{
    memset(tlb->entries, 0, tlb->nr_entries * sizeof(tlb->entries[0]));
    last_clear(&tlb->last[LAST_DATA]);
    last_clear(&tlb->last[LAST_INSN]);
}

/*
 * Put the translation of va (a page at `level`) into the L1 of the access
 * type, as its set's MRU entry, and make it that L1's last translation.
 * The ITLB holds only 4 KiB entries and takes the 4 KiB piece of a larger
 * page; without a 1G dTLB, a 1 GiB page goes in as its 2 MiB piece.
 */
static void l1_insert(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va, int level,
                      pte_t *pte, bool ifetch)
{
    int at = level;
    struct tlb_array *a;
    uint64_t vpn;

    if (ifetch) {
        vpn = va >> PAGE_SHIFT;
        array_insert(&tlb->itlb, vpn, make_key(vpn, 0), asid, pte, level);
        last_set(&tlb->last[LAST_INSN], va, 0, asid, pte);
        return;
    }
    if (level == 2 && tlb->l1d[2].ways == 0)
        at = 1;
    a = &tlb->l1d[at];
    vpn = va >> level_shift(at);
    array_insert(a, vpn, make_key(vpn, at), asid, pte, level);
    last_set(&tlb->last[LAST_DATA], va, at, asid, pte);
}

/* Everything lookup does after the last translation missed. Kept out of
 * line so that the shortcut in vmsim__tlb_lookup needs no stack frame. */
__attribute__((noinline)) static pte_t *lookup_arrays(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                            bool ifetch)
{
    uint64_t vpn4k = va >> PAGE_SHIFT;
    struct tlb_entry *e;

    if (ifetch) {
        e = array_lookup(&tlb->itlb, vpn4k, make_key(vpn4k, 0), asid);
        if (e != NULL) {
            last_set(&tlb->last[LAST_INSN], va, 0, asid, e->pte);
            tlb->stats.hits++;
            return e->pte;
        }
    } else {
        for (int l = 0; l < 3; l++) {
            struct tlb_array *a = &tlb->l1d[l];
            uint64_t vpn = va >> level_shift(l);

            if (a->ways == 0)
                continue;
            e = array_lookup(a, vpn, make_key(vpn, l), asid);
            if (e != NULL) {
                last_set(&tlb->last[LAST_DATA], va, l, asid, e->pte);
                tlb->stats.hits++;
                return e->pte;
            }
        }
    }
    for (int l = 0; l < 2; l++) {
        uint64_t vpn = va >> level_shift(l);

        e = array_lookup(&tlb->l2, vpn, make_key(vpn, l), asid);
        if (e != NULL) {
            pte_t *pte = e->pte;

            l1_insert(tlb, asid, va, l, pte, ifetch);
            tlb->stats.hits++;
            return pte;
        }
    }
    tlb->stats.misses++;
    return NULL;
}

pte_t *vmsim__tlb_lookup(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                         vmsim_access_kind kind)
{
    bool ifetch = kind == VMSIM_EXEC;
    const struct tlb_last *m = &tlb->last[ifetch];

    if ((va & m->mask) == m->base && m->asid == asid) {
        tlb->stats.hits++;
        return m->pte;
    }
    return lookup_arrays(tlb, asid, va, ifetch);
}

void vmsim__tlb_fill(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va, int level,
                     pte_t *pte, vmsim_access_kind kind)
{
    VMSIM_ASSERT(level >= 0 && level <= 2);
    tlb->stats.walks++;
    tlb->stats.walk_refs += (uint64_t)(4 - level);
    l1_insert(tlb, asid, va, level, pte, kind == VMSIM_EXEC);
    if (level < 2) {
        uint64_t vpn = va >> level_shift(level);

        array_insert(&tlb->l2, vpn, make_key(vpn, level), asid, pte, level);
    }
}

void vmsim__tlb_flush_range(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t start,
                            vmsim_vaddr_t end)
{
    struct flush_range r = {.first = start, .last = end - 1, .asid = asid};
    uint64_t pages;

    if (end <= start)
        return;
    tlb->stats.flushes++;
    /* 4 KiB pages the range touches, as flush_tlb_mm_range() counts them */
    pages = ((end - 1) >> PAGE_SHIFT) - (start >> PAGE_SHIFT) + 1;
    if (pages > VMSIM__TLB_FLUSH_CEILING)
        flush_asid_entries(tlb, asid);
    else
        flush_entries(tlb, &r);
}

void vmsim__tlb_flush_asid(struct vmsim__tlb *tlb, uint32_t asid)
{
    tlb->stats.flushes++;
    flush_asid_entries(tlb, asid);
}

void vmsim__tlb_flush_all(struct vmsim__tlb *tlb)
{
    tlb->stats.flushes++;
    flush_all_entries(tlb);
}

void vmsim__tlb_switch(struct vmsim__tlb *tlb, uint32_t asid)
{
    if (!tlb->pcid && tlb->has_current && tlb->current != asid) {
        /* a CR3 write without PCID drops every (non-global) entry */
        tlb->stats.flushes++;
        flush_all_entries(tlb);
    }
    tlb->current = asid;
    tlb->has_current = true;
}

void vmsim__tlb_stats(const struct vmsim__tlb *tlb, vmsim_tlb_stats_t *out)
{
    *out = tlb->stats;
}

int vmsim__tlb_probe(const struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                     vmsim_access_kind kind)
{
    uint64_t vpn4k = va >> PAGE_SHIFT;

    if (kind == VMSIM_EXEC) {
        if (array_has(&tlb->itlb, vpn4k, make_key(vpn4k, 0), asid))
            return 1;
    } else {
        for (int l = 0; l < 3; l++) {
            uint64_t vpn = va >> level_shift(l);

            if (array_has(&tlb->l1d[l], vpn, make_key(vpn, l), asid))
                return 1;
        }
    }
    for (int l = 0; l < 2; l++) {
        uint64_t vpn = va >> level_shift(l);

        if (array_has(&tlb->l2, vpn, make_key(vpn, l), asid))
            return 2;
    }
    return 0;
}

/* Lay out one array of `size` entries, `ways`-way, at *next. */
static void array_init(struct tlb_array *a, struct tlb_entry **next, uint32_t size,
                       uint32_t ways, bool pieces)
{
    a->e = *next;
    a->ways = ways;
    a->nr_sets = ways == 0 ? 1 : size / ways;
    a->pow2 = (a->nr_sets & (a->nr_sets - 1)) == 0;
    a->set_mask = a->pow2 ? a->nr_sets - 1 : 0;
    a->pieces = pieces;
    *next += size;
}

int vmsim__tlb_create(const struct vmsim *sim, const vmsim_tlb_config_t *cfg,
                      struct vmsim__tlb **out)
{
    struct vmsim__tlb *tlb;
    struct tlb_entry *next;
    uint64_t nr;
    uint32_t ways;

    if (cfg == NULL || out == NULL || !cfg->enabled || cfg->ways == 0)
        return VMSIM_EINVAL;
    ways = cfg->ways;
    if (cfg->l1_4k == 0 || cfg->l1_2m == 0 || cfg->l2 == 0 || cfg->l1_4k % ways != 0 ||
        cfg->l1_2m % ways != 0 || cfg->l2 % ways != 0)
        return VMSIM_EINVAL;
    /* dTLB 4K + ITLB + dTLB 2M + dTLB 1G + L2 */
    nr = 2 * (uint64_t)cfg->l1_4k + cfg->l1_2m + cfg->l1_1g + cfg->l2;
    if (nr > (SIZE_MAX - sizeof(*tlb)) / sizeof(struct tlb_entry))
        return VMSIM_ENOMEM;
    tlb = vmsim__calloc(sim, 1, sizeof(*tlb) + (size_t)nr * sizeof(struct tlb_entry));
    if (tlb == NULL)
        return VMSIM_ENOMEM;
    tlb->nr_entries = (size_t)nr;
    tlb->pcid = cfg->pcid;
    next = tlb->entries;
    array_init(&tlb->l1d[0], &next, cfg->l1_4k, ways, false);
    /* without a 1G dTLB, the 2M one holds the 2 MiB pieces of 1 GiB pages */
    array_init(&tlb->l1d[1], &next, cfg->l1_2m, ways, cfg->l1_1g == 0);
    /* the 1G dTLB is fully associative */
    array_init(&tlb->l1d[2], &next, cfg->l1_1g, cfg->l1_1g, false);
    array_init(&tlb->itlb, &next, cfg->l1_4k, ways, true);
    array_init(&tlb->l2, &next, cfg->l2, ways, false);
    last_clear(&tlb->last[LAST_DATA]);
    last_clear(&tlb->last[LAST_INSN]);
    *out = tlb;
    return 0;
}

void vmsim__tlb_destroy(const struct vmsim *sim, struct vmsim__tlb *tlb)
{
    vmsim__free(sim, tlb);
}
