/*
 * mm/tlb.c -- set-associative TLBs: L1 dTLB (4K, 2M, 1G arrays), L1 ITLB,
 * unified L2, with ASID tags (PCID) and Linux's flush rules.
 *
 * Each TLB array is nr_sets * ways entries, set s at e[s * ways].
 * Replacement is exact LRU within a set: every use of an entry (a hit or
 * a fill) stamps it with the array's next tick, and a fill takes the way
 * of the same page if present, else an empty way (stamp 0), else the way
 * with the oldest stamp. A 64-bit tick never wraps.
 *
 * Each set also points at its MRU entry, the one with the newest stamp
 * (or at an empty entry after a flush). Lookups try it first, and a hit
 * there needs no new stamp, since restamping the newest entry would not
 * change the order. So a hit on the working set of a loop costs one set
 * index, one pointer and one compare, and writes only the hit counter.
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
 */
#include "mm/tlb.h"

pte_t vmsim__tlb_no_pte; /* stays zero: never written */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* An inclusive byte range of one asid (or of all) that a flush clears. */
struct flush_range {
    uint64_t first, last;
    uint32_t asid;
    bool all_asids;
};

static inline uint64_t make_key(uint64_t vpn, int level)
{
    return vmsim__tlb_key(vpn, level);
}

static inline uint64_t level_shift(int level)
{
    return PAGE_SHIFT + 9 * (unsigned)level;
}

/*
 * The set of page number vpn: vpn mod nr_sets. When nr_sets is not a
 * power of two (the default L2's 384), a division would cost more than
 * the rest of a lookup; with 128-bit arithmetic the remainder comes from
 * two multiplications instead (Lemire, Kaser and Kurz, "Faster remainder
 * by direct computation", 2019): with M = ceil(2^128 / d), the low 128
 * bits of M * vpn are the fraction vpn / d scaled by 2^128, and that
 * fraction times d, shifted down by 128 bits, is the remainder. Exact for
 * every 64-bit vpn and d >= 2.
 */
static inline uint64_t set_index(const struct tlb_array *a, uint64_t vpn)
{
    if (a->pow2)
        return vpn & a->set_mask;
#ifdef HAVE_U128
    {
        u128 frac = a->set_magic * vpn;
        u128 lo = (u128)(uint64_t)frac * a->nr_sets;
        u128 hi = (u128)(uint64_t)(frac >> 64) * a->nr_sets;

        return (uint64_t)((hi + (lo >> 64)) >> 64);
    }
#else
    return vpn % a->nr_sets;
#endif
}

/* The first entry of vpn's set. */
static inline struct tlb_entry *set_of(const struct tlb_array *a, uint64_t vpn)
{
    return &a->e[set_index(a, vpn) * a->ways];
}

/*
 * The entry of key and asid in a set of `ways` entries, or NULL. Inlined
 * with a constant `ways` (see WAYS_4), the loop unrolls.
 */
static inline struct tlb_entry *set_find(struct tlb_entry *set, uint32_t ways, uint64_t key,
                                         uint32_t asid)
{
    for (uint32_t i = 0; i < ways; i++) {
        if (set[i].key == key && set[i].asid == asid)
            return &set[i];
    }
    return NULL;
}

/*
 * The entry a fill of key and asid takes in a set: the one already
 * holding them, else an empty one (stamp 0), else the least recently used.
 */
static inline struct tlb_entry *set_victim(struct tlb_entry *set, uint32_t ways, uint64_t key,
                                           uint32_t asid)
{
    struct tlb_entry *victim = &set[0];

    for (uint32_t i = 0; i < ways; i++) {
        if (set[i].key == key && set[i].asid == asid)
            return &set[i];
        if (set[i].stamp < victim->stamp)
            victim = &set[i];
    }
    return victim;
}

/* Call f(set, ways, ...) with a constant ways for the common 4-way case. */
#define WAYS_4(f, set, ways, ...)                                                         \
    ((ways) == 4 ? f(set, 4, __VA_ARGS__) : f(set, ways, __VA_ARGS__))

/*
 * Find key of asid in vpn's set of a. On a hit the entry becomes the most
 * recently used of its set and is returned; NULL on a miss. a must have
 * ways > 0. With try_mru, the set's MRU entry is tried first: a hit there
 * needs no new stamp (it is the newest already).
 */
static inline struct tlb_entry *array_lookup(struct tlb_array *a, uint64_t vpn, uint64_t key,
                                             uint32_t asid, bool try_mru)
{
    uint64_t s = set_index(a, vpn);
    struct tlb_entry *e = a->mru[s];

    if (try_mru && e->key == key && e->asid == asid)
        return e;
    e = WAYS_4(set_find, &a->e[s * a->ways], a->ways, key, asid);
    if (e != NULL) {
        e->stamp = ++a->tick;
        a->mru[s] = e;
    }
    return e;
}

/* Whether key of asid is in vpn's set of a, changing nothing. */
static bool array_has(const struct tlb_array *a, uint64_t vpn, uint64_t key, uint32_t asid)
{
    return a->ways != 0 && set_find(set_of(a, vpn), a->ways, key, asid) != NULL;
}

/*
 * Make (key, asid) -> pte the most recently used entry of vpn's set:
 * it replaces an entry with the same key and asid if there is one, else
 * takes an empty way, else evicts the least recently used entry. a must
 * have ways > 0.
 */
static void array_insert(struct tlb_array *a, uint64_t vpn, uint64_t key, uint32_t asid,
                         pte_t *pte, int span)
{
    uint64_t s = set_index(a, vpn);
    struct tlb_entry *victim = WAYS_4(set_victim, &a->e[s * a->ways], a->ways, key, asid);

    a->mru[s] = victim;
    if (victim->key != 0)
        a->nr_at[victim->key & 3]--;
    a->nr_at[key & 3]++;
    victim->key = key;
    victim->pte = pte;
    victim->stamp = ++a->tick;
    victim->asid = asid;
    victim->span = (uint32_t)span;
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

/* Empty the entries of one set of a that fall in r. */
static void set_flush(struct tlb_array *a, struct tlb_entry *set, const struct flush_range *r)
{
    for (uint32_t i = 0; i < a->ways; i++) {
        if (set[i].key != 0 && entry_in_range(&set[i], r)) {
            a->nr_at[set[i].key & 3]--;
            memset(&set[i], 0, sizeof(set[i]));
        }
    }
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
            set_flush(a, &a->e[(size_t)s * a->ways], r);
        return true;
    }
    for (uint64_t vpn = first; vpn <= last; vpn++)
        set_flush(a, set_of(a, vpn), r);
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
}

static void flush_asid_entries(struct vmsim__tlb *tlb, uint32_t asid)
{
    struct flush_range r = {.first = 0, .last = UINT64_MAX, .asid = asid};

    flush_entries(tlb, &r);
}

/* Out of line: vmsim__tlb_switch, called on every access, stays small. */
__attribute__((noinline)) static void flush_all_entries(struct vmsim__tlb *tlb)
{
    struct tlb_array *arrays[] = {&tlb->l1d[0], &tlb->l1d[1], &tlb->l1d[2], &tlb->itlb,
                                  &tlb->l2};

    /* the MRU pointers now point at empty entries, as allowed */
    memset(tlb->entries, 0, tlb->nr_entries * sizeof(tlb->entries[0]));
    for (size_t i = 0; i < ARRAY_SIZE(arrays); i++)
        memset(arrays[i]->nr_at, 0, sizeof(arrays[i]->nr_at));
}

/*
 * Put the translation of va (a page at `level`) into the L1 of the access
 * type, as its set's MRU entry. The ITLB holds only 4 KiB entries and
 * takes the 4 KiB piece of a larger page; without a 1G dTLB, a 1 GiB page
 * goes in as its 2 MiB piece.
 */
static void l1_insert(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va, int level,
                      pte_t *pte, bool ifetch)
{
    int at = level;
    uint64_t vpn;

    if (ifetch) {
        vpn = va >> PAGE_SHIFT;
        array_insert(&tlb->itlb, vpn, make_key(vpn, 0), asid, pte, level);
        return;
    }
    if (level == 2 && tlb->l1d[2].ways == 0)
        at = 1;
    vpn = va >> level_shift(at);
    array_insert(&tlb->l1d[at], vpn, make_key(vpn, at), asid, pte, level);
}

/*
 * The 2M and 1G dTLB entries for va: only their sets' MRU entries when
 * mru_only, else every way (as array_lookup). NULL when neither has it.
 */
static struct tlb_entry *huge_lookup(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                                     bool mru_only)
{
    for (int l = 1; l < 3; l++) {
        struct tlb_array *a = &tlb->l1d[l];
        uint64_t vpn = va >> level_shift(l);
        struct tlb_entry *e;

        if (a->nr_at[l] == 0)
            continue;
        if (mru_only) {
            e = a->mru[set_index(a, vpn)];
            if (e->key == make_key(vpn, l) && e->asid == asid)
                return e;
        } else {
            e = array_lookup(a, vpn, make_key(vpn, l), asid, false);
            if (e != NULL)
                return e;
        }
    }
    return NULL;
}

/*
 * Everything lookup does when the MRU entry of the 4K L1 set missed (or
 * was not tried, with a set count that is not a power of two): the
 * MRU entries of the large-page arrays (data), every way of the L1
 * arrays, then the L2, whose hits are refilled into the L1 of the access
 * type. Levels an array holds no entry of are skipped.
 */
pte_t *vmsim__tlb_lookup_slow(struct vmsim__tlb *tlb, uint32_t asid, vmsim_vaddr_t va,
                              bool ifetch)
{
    uint64_t vpn = va >> PAGE_SHIFT;
    bool huge = !ifetch && (tlb->l1d[1].nr_at[1] | tlb->l1d[2].nr_at[2]) != 0;
    struct tlb_entry *e = NULL;

    if (huge)
        e = huge_lookup(tlb, asid, va, true);
    if (e == NULL)
        e = array_lookup(ifetch ? &tlb->itlb : &tlb->l1d[0], vpn, make_key(vpn, 0), asid,
                         true);
    if (e == NULL && huge)
        e = huge_lookup(tlb, asid, va, false);
    if (e != NULL) {
        tlb->stats.hits++;
        return e->pte;
    }
    for (int l = 0; l < 2; l++) {
        vpn = va >> level_shift(l);
        if (tlb->l2.nr_at[l] == 0)
            continue;
        e = array_lookup(&tlb->l2, vpn, make_key(vpn, l), asid, true);
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

/* The hot path: the MRU entry of the set of va in the access type's 4 KiB
 * L1 array (the ITLB or the dTLB's 4K array), when its set count is a
 * power of two (the default 16); the rest out of line, so that this needs
 * no stack frame. kind must be a valid vmsim_access_kind. */
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
    if (tlb->current == asid && tlb->has_current)
        return;
    if (!tlb->pcid && tlb->has_current) {
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

/* Lay out one array of `size` entries, `ways`-way, at *next, with its
 * MRU ways at *next_mru. */
static void array_init(struct tlb_array *a, struct tlb_entry **next,
                       struct tlb_entry ***next_mru, uint32_t size, uint32_t ways, bool pieces)
{
    a->e = *next;
    a->mru = *next_mru;
    a->ways = ways;
    a->nr_sets = ways == 0 ? 1 : size / ways;
    a->pow2 = (a->nr_sets & (a->nr_sets - 1)) == 0;
    a->set_mask = a->pow2 ? a->nr_sets - 1 : 0;
#ifdef HAVE_U128
    a->set_magic = a->pow2 ? 0 : ~(u128)0 / a->nr_sets + 1;
#endif
    a->pieces = pieces;
    for (uint32_t s = 0; s < a->nr_sets; s++)
        a->mru[s] = &a->e[(size_t)s * ways]; /* empty */
    *next += size;
    *next_mru += a->nr_sets;
}

int vmsim__tlb_create(const struct vmsim *sim, const vmsim_tlb_config_t *cfg,
                      struct vmsim__tlb **out)
{
    struct vmsim__tlb *tlb;
    struct tlb_entry *next;
    struct tlb_entry **next_mru;
    uint64_t nr, nr_sets;
    size_t size;
    uint32_t ways;

    if (cfg == NULL || out == NULL || !cfg->enabled || cfg->ways == 0)
        return VMSIM_EINVAL;
    ways = cfg->ways;
    if (cfg->l1_4k == 0 || cfg->l1_2m == 0 || cfg->l2 == 0 || cfg->l1_4k % ways != 0 ||
        cfg->l1_2m % ways != 0 || cfg->l2 % ways != 0)
        return VMSIM_EINVAL;
    /* entries: dTLB 4K + ITLB + dTLB 2M + dTLB 1G + L2; then one MRU way
     * per set (the 1G dTLB is one set) */
    nr = 2 * (uint64_t)cfg->l1_4k + cfg->l1_2m + cfg->l1_1g + cfg->l2;
    nr_sets = (2 * (uint64_t)cfg->l1_4k + cfg->l1_2m + cfg->l2) / ways + 1;
    if (nr + 1 > (SIZE_MAX - sizeof(*tlb)) / (sizeof(struct tlb_entry) + sizeof(void *)))
        return VMSIM_ENOMEM;
    size = sizeof(*tlb) + (size_t)nr * sizeof(struct tlb_entry) +
           (size_t)nr_sets * sizeof(struct tlb_entry *);
    tlb = vmsim__calloc(sim, 1, size);
    if (tlb == NULL)
        return VMSIM_ENOMEM;
    tlb->nr_entries = (size_t)nr;
    tlb->pcid = cfg->pcid;
    next = tlb->entries;
    next_mru = (struct tlb_entry **)(void *)&tlb->entries[nr];
    array_init(&tlb->l1d[0], &next, &next_mru, cfg->l1_4k, ways, false);
    /* without a 1G dTLB, the 2M one holds the 2 MiB pieces of 1 GiB pages */
    array_init(&tlb->l1d[1], &next, &next_mru, cfg->l1_2m, ways, cfg->l1_1g == 0);
    /* the 1G dTLB is fully associative */
    array_init(&tlb->l1d[2], &next, &next_mru, cfg->l1_1g, cfg->l1_1g, false);
    array_init(&tlb->itlb, &next, &next_mru, cfg->l1_4k, ways, true);
    array_init(&tlb->l2, &next, &next_mru, cfg->l2, ways, false);
    tlb->none_mru = &tlb->none;
    for (int k = VMSIM_READ; k <= VMSIM_EXEC; k++) {
        const struct tlb_array *a = k == VMSIM_EXEC ? &tlb->itlb : &tlb->l1d[0];

        tlb->hot[k].mru = a->pow2 ? a->mru : &tlb->none_mru;
        tlb->hot[k].mask = a->pow2 ? a->set_mask : 0;
    }
    *out = tlb;
    return 0;
}

void vmsim__tlb_destroy(const struct vmsim *sim, struct vmsim__tlb *tlb)
{
    vmsim__free(sim, tlb);
}
