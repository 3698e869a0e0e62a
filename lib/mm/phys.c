/*
 * phys.c -- simulated RAM: 4 KiB frames under a binary buddy allocator,
 * orders 0 .. 18 (4 KiB .. 1 GiB), so huge pages need real contiguity and
 * fragmentation is real.
 *
 * A free block is represented by its first frame: PG_BUDDY set, .order its
 * order, linked on free_head[order] through .u.list. Every other frame of a
 * free block has all-zero metadata. Allocation takes the lowest-addressed
 * block of the smallest sufficient order from the list head and splits it
 * as Linux's expand() does (the low half is kept, the high halves go back
 * on the lists); freeing coalesces with the buddy while it is free.
 */
#include <stdio.h>

#include "internal.h"

static void list_add(struct vmsim *sim, vmsim_pfn_t pfn, unsigned order, bool tail)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    uint32_t head = sim->free_head[order];

    f->flags = PG_BUDDY;
    f->order = (uint8_t)order;
    if (head == NIL32) {
        f->u.list.next = f->u.list.prev = (uint32_t)pfn;
        sim->free_head[order] = (uint32_t)pfn;
    } else {
        /* circular list: head's prev is the tail */
        struct vmsim__frame *h = pfn_frame(sim, head);
        uint32_t last = h->u.list.prev;

        f->u.list.next = head;
        f->u.list.prev = last;
        pfn_frame(sim, last)->u.list.next = (uint32_t)pfn;
        h->u.list.prev = (uint32_t)pfn;
        if (!tail)
            sim->free_head[order] = (uint32_t)pfn;
    }
    sim->nr_free_blocks[order]++;
    sim->nr_free += (uint64_t)1 << order;
}

static void list_del(struct vmsim *sim, vmsim_pfn_t pfn, unsigned order)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);
    uint32_t next = f->u.list.next, prev = f->u.list.prev;

    if (next == (uint32_t)pfn) {
        sim->free_head[order] = NIL32;
    } else {
        pfn_frame(sim, prev)->u.list.next = next;
        pfn_frame(sim, next)->u.list.prev = prev;
        if (sim->free_head[order] == (uint32_t)pfn)
            sim->free_head[order] = next;
    }
    memset(f, 0, sizeof(*f));
    sim->nr_free_blocks[order]--;
    sim->nr_free -= (uint64_t)1 << order;
}

static uint64_t int_sqrt(uint64_t x)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;

    while (bit > x)
        bit >>= 2;
    while (bit != 0) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

/*
 * One zone's watermarks, as mm/page_alloc.c computes them at boot:
 * min_free_kbytes = sqrt(16 * RAM in KiB), clamped to [128, 262144];
 * low = min + max(min / 4, RAM * watermark_scale_factor (10) / 10000);
 * high = min + 2 * that.
 */
static void setup_watermarks(struct vmsim *sim)
{
    uint64_t kbytes = sim->nr_frames * 4;
    uint64_t min_free_kbytes = int_sqrt(kbytes * 16), tmp;

    if (min_free_kbytes < 128)
        min_free_kbytes = 128;
    if (min_free_kbytes > 262144)
        min_free_kbytes = 262144;
    sim->wmark_min = min_free_kbytes / 4;
    tmp = sim->nr_frames * 10 / 10000;
    if (tmp < sim->wmark_min / 4)
        tmp = sim->wmark_min / 4;
    sim->wmark_low = sim->wmark_min + tmp;
    sim->wmark_high = sim->wmark_min + 2 * tmp;
    /* Below ~16 MiB Linux's 128 KiB floor would reserve a large part of
     * RAM: keep the reserve under 1/32 of memory there (libvmsim only). */
    if (sim->wmark_high > sim->nr_frames / 32) {
        sim->wmark_min = sim->nr_frames / 64;
        sim->wmark_low = sim->wmark_min + sim->nr_frames / 256;
        sim->wmark_high = sim->wmark_min + sim->nr_frames / 128;
    }
}

int vmsim__phys_init(struct vmsim *sim, uint64_t nr_frames, uint64_t nr_reserved)
{
    uint64_t pfn = 0;

    sim->frames = vmsim__calloc(sim, nr_frames + nr_reserved, sizeof(*sim->frames));
    if (sim->frames == NULL)
        return VMSIM_ENOMEM;
    sim->nr_frames = nr_frames;
    sim->nr_frames_total = nr_frames + nr_reserved;
    for (int o = 0; o < NR_ORDERS; o++)
        sim->free_head[o] = NIL32;
    while (pfn < nr_frames) {
        unsigned order = NR_ORDERS - 1;

        while ((pfn & (((uint64_t)1 << order) - 1)) != 0 ||
               pfn + ((uint64_t)1 << order) > nr_frames)
            order--;
        list_add(sim, pfn, order, true);
        pfn += (uint64_t)1 << order;
    }
    for (pfn = nr_frames; pfn < nr_frames + nr_reserved; pfn++) {
        sim->frames[pfn].flags = PG_ALLOCATED; /* kernel-owned: the zero pages */
        sim->frames[pfn].refcount = 1;
    }
    sim->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES] = sim->nr_free;
    sim->recycled = PFN_NONE;
    setup_watermarks(sim);
    return 0;
}

void vmsim__phys_destroy(struct vmsim *sim)
{
    vmsim__free(sim, sim->frames);
    sim->frames = NULL;
}

/*
 * The resident limit's reclaim frees one page for the allocation it runs
 * for, which then takes a page from the same lists. When the freed frame
 * would not coalesce (its buddy is not a free 4 KiB block), freeing puts
 * it at the head of the order-0 list and that allocation takes it straight
 * back, leaving the lists as they were. vmsim__phys_free() then holds it
 * in sim->recycled instead (counted free, as it would be), and the next
 * 4 KiB allocation takes it without the list traffic; any other free or
 * allocation first puts it on the lists, so every frame and list ends up
 * exactly as without the shortcut. The frame's metadata stays hot in the
 * host's cache for the page that replaces it, as Linux's per-CPU lists
 * hand the page just freed to the next allocation.
 */
static bool recycle(struct vmsim *sim, vmsim_pfn_t pfn)
{
    vmsim_pfn_t buddy = pfn ^ 1;

    if (!sim->recycle_ok || sim->recycled != PFN_NONE)
        return false;
    if (buddy < sim->nr_frames && (sim->frames[buddy].flags & PG_BUDDY) &&
        sim->frames[buddy].order == 0)
        return false;
    sim->recycled = pfn;
    sim->nr_free++;
    sim->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES] = sim->nr_free;
    return true;
}

__attribute__((noinline)) static void free_block(struct vmsim *sim, vmsim_pfn_t pfn,
                                                 unsigned order);

void vmsim__phys_recycle_put(struct vmsim *sim)
{
    vmsim_pfn_t pfn = sim->recycled;

    if (pfn == PFN_NONE)
        return;
    sim->recycled = PFN_NONE;
    sim->nr_free--;
    free_block(sim, pfn, 0);
}

int vmsim__phys_alloc(struct vmsim *sim, unsigned order, vmsim_pfn_t *pfn)
{
    unsigned o = order;
    vmsim_pfn_t block;
    struct vmsim__frame *f;

    if (order >= NR_ORDERS)
        return VMSIM_EINVAL;
    if (order == 0 && phys_take_recycled(sim, pfn))
        return 0;
    vmsim__phys_recycle_flush(sim);
    while (o < NR_ORDERS && sim->free_head[o] == NIL32)
        o++;
    if (o == NR_ORDERS)
        return VMSIM_EOOM;
    block = sim->free_head[o];
    list_del(sim, block, o);
    while (o > order) {
        o--;
        list_add(sim, block + ((uint64_t)1 << o), o, false);
    }
    f = pfn_frame(sim, block);
    f->flags = PG_ALLOCATED;
    f->order = (uint8_t)order;
    f->refcount = 1;
    sim->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES] = sim->nr_free;
    sim->vmstat[VMSIM_VMSTAT_PGALLOC_NORMAL] += (uint64_t)1 << order;
    *pfn = block;
    return 0;
}

void vmsim__phys_free(struct vmsim *sim, vmsim_pfn_t pfn, unsigned order)
{
    VMSIM_ASSERT(pfn < sim->nr_frames);
    VMSIM_ASSERT((sim->frames[pfn].flags & PG_ALLOCATED) != 0);
    VMSIM_ASSERT((pfn & (((uint64_t)1 << order) - 1)) == 0);
    if (order == 0)
        sim->frames[pfn] = (struct vmsim__frame){ 0 }; /* no call to memset */
    else
        memset(&sim->frames[pfn], 0, sizeof(sim->frames[0]) << order);
    sim->vmstat[VMSIM_VMSTAT_PGFREE] += (uint64_t)1 << order;
    vmsim__phys_recycle_flush(sim);
    if (order == 0 && recycle(sim, pfn))
        return;
    free_block(sim, pfn, order);
}

/* Put the zeroed block on the lists, coalescing with free buddies. */
__attribute__((noinline)) static void free_block(struct vmsim *sim, vmsim_pfn_t pfn,
                                                 unsigned order)
{
    while (order < NR_ORDERS - 1) {
        vmsim_pfn_t buddy = pfn ^ ((uint64_t)1 << order);
        const struct vmsim__frame *b;

        if (buddy >= sim->nr_frames)
            break;
        b = pfn_frame(sim, buddy);
        if (!(b->flags & PG_BUDDY) || b->order != order)
            break;
        list_del(sim, buddy, order);
        pfn &= ~((uint64_t)1 << order);
        order++;
    }
    list_add(sim, pfn, order, false);
    sim->vmstat[VMSIM_VMSTAT_NR_FREE_PAGES] = sim->nr_free;
}

/* The first frame inside a free block of n frames at pfn that is in use,
 * or 0 (VMSIM_CHECK_SCAN: frames pfn .. pfn + n - 1 are RAM, the caller
 * read the head's order from the frame table). */
VMSIM_CHECK_SCAN
static uint64_t free_block_in_use(const struct vmsim *sim, uint64_t pfn, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++)
        if (sim->frames[pfn + i].flags != 0)
            return pfn + i;
    return 0;
}

int vmsim__phys_check(const struct vmsim *sim, char *buf, size_t len)
{
    uint64_t nr_free = 0;

    /* a frame is held back only inside one allocation (recycle()) */
    if (sim->recycled != PFN_NONE)
        return vmsim__corrupt(buf, len, "pfn %llu held for an allocation outside one",
                              (unsigned long long)sim->recycled);
    for (unsigned o = 0; o < NR_ORDERS; o++) {
        uint64_t n = 0;
        uint32_t head = sim->free_head[o], pfn = head;

        if (head != NIL32) {
            do {
                const struct vmsim__frame *f;

                if (pfn >= sim->nr_frames)
                    return vmsim__corrupt(buf, len, "free list %u: pfn %u out of RAM", o, pfn);
                f = pfn_frame(sim, pfn);
                if (!(f->flags & PG_BUDDY) || f->order != o)
                    return vmsim__corrupt(buf, len, "free list %u: pfn %u is not a free "
                                          "block of that order", o, pfn);
                if ((pfn & ((1u << o) - 1)) != 0)
                    return vmsim__corrupt(buf, len, "free list %u: pfn %u misaligned", o, pfn);
                if (pfn_frame(sim, f->u.list.next)->u.list.prev != pfn)
                    return vmsim__corrupt(buf, len, "free list %u: broken links at %u", o, pfn);
                n++;
                if (n > sim->nr_frames)
                    return vmsim__corrupt(buf, len, "free list %u: cycle", o);
                pfn = f->u.list.next;
            } while (pfn != head);
        }
        if (n != sim->nr_free_blocks[o])
            return vmsim__corrupt(buf, len, "free list %u holds %llu blocks, count says %llu",
                                  o, (unsigned long long)n,
                                  (unsigned long long)sim->nr_free_blocks[o]);
        nr_free += n << o;
    }
    if (nr_free != sim->nr_free)
        return vmsim__corrupt(buf, len, "free frames %llu, count says %llu",
                              (unsigned long long)nr_free, (unsigned long long)sim->nr_free);
    /* Every RAM frame is in exactly one free or allocated block. */
    for (uint64_t pfn = 0; pfn < sim->nr_frames;) {
        const struct vmsim__frame *f = pfn_frame(sim, pfn);
        uint64_t n;

        if (f->flags & PG_BUDDY) {
            uint64_t used;

            n = (uint64_t)1 << (f->order < NR_ORDERS ? f->order : 0);
            if (f->order >= NR_ORDERS || n > sim->nr_frames - pfn)
                return vmsim__corrupt(buf, len, "free block at pfn %llu of order %u passes "
                                      "the end of RAM", (unsigned long long)pfn, (unsigned)f->order);
            used = free_block_in_use(sim, pfn, n);
            if (used != 0)
                return vmsim__corrupt(buf, len, "pfn %llu inside a free block is in use",
                                      (unsigned long long)used);
        } else if (f->flags & PG_ALLOCATED) {
            n = (uint64_t)1 << f->order;
        } else {
            return vmsim__corrupt(buf, len, "pfn %llu is neither free nor allocated",
                                  (unsigned long long)pfn);
        }
        pfn += n;
    }
    return 0;
}
