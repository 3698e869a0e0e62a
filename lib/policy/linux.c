/*
 * linux.c -- Linux's two-list LRU (mm/vmscan.c and mm/swap.c of Linux 6.x,
 * the classic lists, not the multi-generational LRU).
 *
 * Four lists, as a lruvec has: inactive anon, active anon, inactive file,
 * active file. "anon" is every swap-backed page (anonymous and shmem,
 * vmsim_frame_is_anon), "file" is page cache. Each list has a head (where
 * pages are added, list_add) and a tail (where reclaim takes them,
 * lru_to_folio).
 *
 *  - admit: a new page goes to the head of its type's inactive list
 *    (folio_add_lru; anonymous pages too, as since Linux 5.9), or of the
 *    active list when the core already marked it active (read()/write()
 *    touched it twice: mark_page_accessed; the core re-admits it).
 *
 *  - select_victim (shrink_lruvec, one page at a time):
 *    1. Which type: a simplified get_scan_count. When anonymous pages
 *       cannot go (the anon tail is pinned: no swap slot to write to, as
 *       can_reclaim_anon_pages), scan file only. Otherwise balance by
 *       swappiness exactly as SCAN_FRACT does with equal anon and file
 *       costs: anon weight = swappiness * (anon pages on the lists), file
 *       weight = (200 - swappiness) * (file pages). Each call adds the
 *       weights to two credits and scans the type with more credit (ties:
 *       file), which then pays the sum: a deterministic weighted round
 *       robin. swappiness 0 never picks anon while file pages exist, 200
 *       never picks file while anonymous pages exist.
 *    2. Keep the inactive list from running low (inactive_is_low:
 *       inactive * ratio < active, ratio = int_sqrt(10 * GiB of the type)
 *       or 1 below 1 GiB) by deactivating pages from the active tail
 *       (shrink_active_list): their accessed bits are cleared and they go
 *       to the inactive head; referenced or not, as Linux does for every
 *       page but executable file pages.
 *    3. Shrink the inactive list from its tail (shrink_folio_list with
 *       folio_check_references). Let ptes = the accessed bits (tested and
 *       cleared) and ref = our PG_referenced bit (tested and cleared):
 *         - ptes and ref   -> activate (active head, ref stays set);
 *         - ptes, not ref  -> set ref, rotate to the inactive head (KEEP:
 *                             every mapped page starts with the accessed
 *                             bit of its instantiating fault, so look
 *                             twice);
 *         - ref only, file page, dirty -> rotate (RECLAIM_CLEAN keeps a
 *                             dirty page);
 *         - otherwise       -> the victim.
 *       Anonymous pages, like file pages, need this second reference to be
 *       activated (Linux >= 5.9; before, any young anonymous page was
 *       activated at once). A page the core activated while it sat on our
 *       inactive list moves to our active list first. A pinned page
 *       (mlocked, or anonymous with no slot) is rotated to the inactive
 *       head.
 *    4. If the chosen type has no victim, try the other; if both fail
 *       (pinned pages everywhere), take the first unpinned page from the
 *       tails of the lists; VMSIM_EOOM when every page is pinned.
 *
 * Every move between the lists is reported with vmsim_frame_set_active(),
 * so /proc/meminfo's Active/Inactive are right; admit never calls it (the
 * core counts the page after admit, by its own active flag).
 *
 * Simplifications, each a deliberate departure from Linux:
 *  - One victim per call, no batches of SWAP_CLUSTER_MAX, no scan
 *    priority: the type is chosen per victim from the credits above.
 *  - get_scan_count has no anon_cost/file_cost (refault and rotation
 *    costs), no SCAN_EQUAL near OOM, no file_is_tiny, no cache_trim_mode;
 *    "anon cannot go" is detected by probing the anon tail for pinning
 *    (the probed page is rotated to the head so an mlocked page cannot
 *    hide the others) instead of reading the swap device's free count.
 *  - The accessed-bit test is a bool, so folio_check_references' "young in
 *    more than one mapping" (referenced_ptes > 1) activation is not seen;
 *    there is no VM_EXEC information, so executable file pages are neither
 *    activated on first use nor kept active by shrink_active_list.
 *  - Deactivation is one page at a time while inactive_is_low() and only
 *    for the type being scanned; no refault-driven deactivation (workingset
 *    shadow entries) and no may_deactivate/force_deactivate.
 *  - Pinned pages rotate on the inactive list instead of moving to the
 *    unevictable list (mlock) or being activated (add_to_swap failure).
 *  - Dirty pages are otherwise reclaimable: the core writes them back or
 *    to swap itself; no writeback throttling, no PG_reclaim.
 *  - One node, one zone, no memory cgroups, no MGLRU.
 *
 * admit, forget and the list moves are O(1). select_victim is O(1)
 * amortized (each page it passes over is rotated with its bits cleared, so
 * it is a victim on its next visit unless accessed again) and O(n) when
 * most pages are pinned.
 */
#include <stdlib.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"

#define NIL UINT32_MAX

enum {
    LRU_INACTIVE_ANON = 0,
    LRU_ACTIVE_ANON = 1,
    LRU_INACTIVE_FILE = 2,
    LRU_ACTIVE_FILE = 3,
    NR_LRU_LISTS = 4,
};
enum { TYPE_ANON = 0, TYPE_FILE = 1 };
#define LRU_ACTIVE 1 /* list id = 2 * type + active */

/* Per-frame flag bits. */
enum {
    F_LRU_MASK = 3u,        /* which list */
    F_REFERENCED = 1u << 2, /* PG_referenced: seen young once already */
};

#define MAX_SWAPPINESS 200

struct lru_list {
    uint32_t head, tail; /* head = newest, tail = where reclaim looks */
    uint64_t nr;
};

struct lnx {
    uint32_t *next, *prev; /* per pfn: towards the tail / towards the head */
    uint8_t *flags;        /* per pfn: F_* */
    struct lru_list lists[NR_LRU_LISTS];
    int64_t credit[2]; /* scan credit per type, TYPE_ANON / TYPE_FILE */
};

static void linux_destroy(void *state)
{
    struct lnx *s = state;

    if (s == NULL)
        return;
    free(s->next);
    free(s->prev);
    free(s->flags);
    free(s);
}

static int linux_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct lnx *s;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* swappiness comes from the machine's sysctl */
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VMSIM_ENOMEM;
    s->next = calloc(n, sizeof(*s->next));
    s->prev = calloc(n, sizeof(*s->prev));
    s->flags = calloc(n, sizeof(*s->flags));
    if (s->next == NULL || s->prev == NULL || s->flags == NULL) {
        linux_destroy(s);
        return VMSIM_ENOMEM;
    }
    for (int i = 0; i < NR_LRU_LISTS; i++)
        s->lists[i].head = s->lists[i].tail = NIL;
    *state = s;
    return 0;
}

/* ---- the lists ---------------------------------------------------------- */

static unsigned lru_of(const struct lnx *s, uint32_t f)
{
    return s->flags[f] & F_LRU_MASK;
}

static void add_head(struct lnx *s, uint32_t f, unsigned lru)
{
    struct lru_list *l = &s->lists[lru];

    s->prev[f] = NIL;
    s->next[f] = l->head;
    if (l->head != NIL)
        s->prev[l->head] = f;
    else
        l->tail = f;
    l->head = f;
    l->nr++;
    s->flags[f] = (uint8_t)((s->flags[f] & ~F_LRU_MASK) | lru);
}

static void unlink_frame(struct lnx *s, uint32_t f)
{
    struct lru_list *l = &s->lists[lru_of(s, f)];
    uint32_t n = s->next[f], p = s->prev[f];

    if (p != NIL)
        s->next[p] = n;
    else
        l->head = n;
    if (n != NIL)
        s->prev[n] = p;
    else
        l->tail = p;
    l->nr--;
}

/* Move f to the head of list lru (possibly its own: a rotation). */
static void move_head(struct lnx *s, uint32_t f, unsigned lru)
{
    unlink_frame(s, f);
    add_head(s, f, lru);
}

static uint64_t nr_type(const struct lnx *s, int type)
{
    return s->lists[2 * type].nr + s->lists[2 * type + LRU_ACTIVE].nr;
}

/* ---- the vmscan.c steps --------------------------------------------------- */

static uint64_t int_sqrt(uint64_t x)
{
    uint64_t r = 0;

    for (uint64_t bit = (uint64_t)1 << 62; bit != 0; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

/* inactive_is_low(): too few inactive pages of this type for the active. */
static bool inactive_is_low(const struct lnx *s, int type)
{
    uint64_t inactive = s->lists[2 * type].nr, active = s->lists[2 * type + LRU_ACTIVE].nr;
    uint64_t gb = (inactive + active) >> (30 - 12);
    uint64_t ratio = gb != 0 ? int_sqrt(10 * gb) : 1;

    return inactive * ratio < active;
}

/* shrink_active_list() for the tail page: clear its accessed bits and
 * move it to the inactive head. */
static void deactivate_tail(struct lnx *s, vmsim_policy_ctx_t *ctx, int type)
{
    uint32_t f = s->lists[2 * type + LRU_ACTIVE].tail;

    (void)vmsim_frame_test_and_clear_accessed(ctx, f); /* no VM_EXEC to honour */
    move_head(s, f, (unsigned)(2 * type));
    vmsim_frame_set_active(ctx, f, false);
}

static void activate(struct lnx *s, vmsim_policy_ctx_t *ctx, uint32_t f)
{
    move_head(s, f, lru_of(s, f) | LRU_ACTIVE);
    vmsim_frame_set_active(ctx, f, true);
}

/*
 * Look for a victim of one type: keep the inactive list topped up from the
 * active list, then walk the inactive list from its tail. Returns 0 with
 * *victim set (left at the tail; the core forgets it once evicted), or
 * VMSIM_EOOM when the walk found nothing within its budget.
 */
static int shrink_type(struct lnx *s, vmsim_policy_ctx_t *ctx, int type, uint32_t *victim)
{
    struct lru_list *inactive = &s->lists[2 * type];
    uint64_t budget = 2 * nr_type(s, type) + 2;

    while (budget-- > 0) {
        uint32_t f;
        bool ptes, ref;

        while (inactive_is_low(s, type))
            deactivate_tail(s, ctx, type);
        if (inactive->nr == 0)
            return VMSIM_EOOM; /* and the active list is empty too */
        f = inactive->tail;
        if (vmsim_frame_is_active(ctx, f)) {
            move_head(s, f, (unsigned)(2 * type + LRU_ACTIVE)); /* the core activated it */
            continue;
        }
        if (vmsim_frame_is_pinned(ctx, f)) {
            move_head(s, f, (unsigned)(2 * type));
            continue;
        }
        /* folio_check_references() */
        ptes = vmsim_frame_test_and_clear_accessed(ctx, f);
        ref = (s->flags[f] & F_REFERENCED) != 0;
        s->flags[f] &= (uint8_t)~F_REFERENCED;
        if (ptes) {
            s->flags[f] |= F_REFERENCED;
            if (ref)
                activate(s, ctx, f);
            else
                move_head(s, f, (unsigned)(2 * type));
            continue;
        }
        if (ref && type == TYPE_FILE && vmsim_frame_is_dirty(ctx, f)) {
            move_head(s, f, (unsigned)(2 * type));
            continue;
        }
        *victim = f;
        return 0;
    }
    return VMSIM_EOOM;
}

/* Whether anonymous pages cannot be reclaimed now: the anon tail is
 * pinned. The probed page is rotated so the next probe sees another. */
static bool anon_blocked(struct lnx *s, vmsim_policy_ctx_t *ctx)
{
    unsigned lru = s->lists[LRU_INACTIVE_ANON].nr != 0 ? LRU_INACTIVE_ANON : LRU_ACTIVE_ANON;
    uint32_t f = s->lists[lru].tail;

    if (!vmsim_frame_is_pinned(ctx, f))
        return false;
    move_head(s, f, lru);
    return true;
}

/* The simplified get_scan_count(): the weighted round robin of the header. */
static int pick_type(struct lnx *s, vmsim_policy_ctx_t *ctx)
{
    int swappiness = vmsim_policy_swappiness(ctx);
    int64_t wa, wf;
    int type;

    if (swappiness < 0)
        swappiness = 0;
    if (swappiness > MAX_SWAPPINESS)
        swappiness = MAX_SWAPPINESS;
    wa = (int64_t)swappiness * (int64_t)nr_type(s, TYPE_ANON);
    wf = (int64_t)(MAX_SWAPPINESS - swappiness) * (int64_t)nr_type(s, TYPE_FILE);
    s->credit[TYPE_ANON] += wa;
    s->credit[TYPE_FILE] += wf;
    type = s->credit[TYPE_FILE] >= s->credit[TYPE_ANON] ? TYPE_FILE : TYPE_ANON;
    s->credit[type] -= wa + wf;
    return type;
}

/* The last resort: the first unpinned page from the list tails. */
static int any_unpinned(const struct lnx *s, vmsim_policy_ctx_t *ctx, uint32_t *victim)
{
    static const unsigned order[NR_LRU_LISTS] = {
        LRU_INACTIVE_FILE, LRU_INACTIVE_ANON, LRU_ACTIVE_FILE, LRU_ACTIVE_ANON,
    };

    for (int i = 0; i < NR_LRU_LISTS; i++) {
        for (uint32_t f = s->lists[order[i]].tail; f != NIL; f = s->prev[f]) {
            if (!vmsim_frame_is_pinned(ctx, f)) {
                *victim = f;
                return 0;
            }
        }
    }
    return VMSIM_EOOM;
}

/* ---- the hooks ------------------------------------------------------------ */

static void linux_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct lnx *s = state;
    uint32_t f = (uint32_t)pfn;
    unsigned lru = vmsim_frame_is_anon(ctx, pfn) ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;

    if (vmsim_frame_is_active(ctx, pfn))
        lru |= LRU_ACTIVE;
    s->flags[f] = 0; /* a new page: not referenced yet */
    add_head(s, f, lru);
}

static void linux_forget(void *state, vmsim_pfn_t pfn)
{
    struct lnx *s = state;
    uint32_t f = (uint32_t)pfn;

    unlink_frame(s, f);
    s->flags[f] = 0;
}

static int linux_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    struct lnx *s = state;
    bool anon_ok = nr_type(s, TYPE_ANON) != 0, file_ok = nr_type(s, TYPE_FILE) != 0;
    uint32_t f;
    int type;

    if (!anon_ok && !file_ok)
        return VMSIM_EOOM;
    if (anon_ok && file_ok && anon_blocked(s, ctx))
        anon_ok = false;
    if (anon_ok && file_ok)
        type = pick_type(s, ctx);
    else
        type = file_ok ? TYPE_FILE : TYPE_ANON;
    if (shrink_type(s, ctx, type, &f) == 0 ||
        (nr_type(s, !type) != 0 && shrink_type(s, ctx, !type, &f) == 0) ||
        any_unpinned(s, ctx, &f) == 0) {
        *victim = f;
        return 0;
    }
    return VMSIM_EOOM;
}

const vmsim_policy_ops_t vmsim__policy_linux = {
    .abi = VMSIM_POLICY_ABI,
    .name = "linux",
    .create = linux_create,
    .destroy = linux_destroy,
    .admit = linux_admit,
    .touch = NULL, /* the accessed bits and the core's active flag say it all */
    .forget = linux_forget,
    .select_victim = linux_select_victim,
};
