/*
 * heap.c -- the simulated libc heap: glibc's malloc (ptmalloc2, the main
 * arena of a single-threaded program) as the virtual-memory system sees it.
 *
 * What matters here is not the bytes a program gets but the pages the
 * allocator touches and the system calls it makes. Chunk headers,
 * free-list links, boundary tags, tcache entries and calloc's clearing are
 * simulated accesses (vmsim_access) at the addresses glibc would use; the
 * heap grows and shrinks with vmsim_brk exactly as sysmalloc() and
 * systrim() move the break; big requests get their own vmsim_mmap.
 * docs/heap.md lists the rules and every place the model departs from
 * glibc.
 *
 * Host data, per process (struct vmsim__heap):
 *  - a pool of chunk records (struct hnode) indexed by uint32_t, so fork
 *    copies the whole state with a few memcpy() calls;
 *  - the arena's chunks, which tile [base, top), as a doubly linked list in
 *    address order: the neighbours of a chunk are O(1) away;
 *  - the free chunks in a treap keyed by (size, address): best fit, lowest
 *    address among equals, in O(log n);
 *  - the live allocations in an open-addressing hash table keyed by user
 *    pointer: free() and realloc() find their chunk in O(1);
 *  - glibc's tcache: 64 LIFO stacks of at most 7 chunks.
 * Every operation is O(log n) in the number of chunks, plus the accesses.
 *
 * Within one call the order is always: the reads glibc makes before it
 * decides, then the change to the host records, then glibc's writes. So an
 * access that fails (a negative VMSIM_E* from the machine) leaves the
 * records consistent, and an access that kills the process (the program
 * unmapped part of its own heap) simply ends the call.
 */
#include "internal.h"

/* glibc's x86_64 chunk geometry (malloc/malloc.c) */
#define SIZE_SZ       ((uint64_t)8)
#define CHUNK_HDR_SZ  ((uint64_t)16)  /* prev_size + size */
#define MALLOC_ALIGN  ((uint64_t)16)
#define MINSIZE       ((uint64_t)32)
#define MIN_LARGE     ((uint64_t)1024) /* chunks this big also carry nextsize links */
#define REQUEST_MAX   ((uint64_t)INT64_MAX) /* PTRDIFF_MAX: checked_request2size() */
/* FASTBIN_CONSOLIDATION_THRESHOLD: a free that leaves a chunk this big
 * considers trimming the top */
#define CONSOLIDATE_SIZE ((uint64_t)65536)

/* tcache: 64 bins of chunk sizes 32..1040, at most 7 chunks each; its
 * control block (uint16_t counts[64] + 64 pointers) is the first chunk
 * of the heap */
#define TCACHE_BINS     64
#define TCACHE_COUNT    7
#define TCACHE_MAX_SIZE ((uint64_t)1040)
#define TCACHE_STRUCT   ((uint64_t)(2 * TCACHE_BINS + 8 * TCACHE_BINS))

/* abort(): raise(SIGABRT), which Linux reports with si_code SI_TKILL */
#define SIGABRT_NR 6
#define SI_TKILL   (-6)

/* Internal result beyond 0 / VMSIM_SYS_ENOMEM / VMSIM_E*: the process died
 * during the call; stop at once (the heap records may be gone). */
#define HEAP_DIED 0x10000

/* Host capacity reserved at the start of each call, so that no later step
 * of the call can fail on host memory. */
#define RESERVE_NODES 16
#define RESERVE_HASH  4

enum node_kind {
    NODE_NONE = 0, /* a pool slot not in use */
    NODE_USED,     /* an arena chunk handed out */
    NODE_FREE,     /* an arena chunk in the free treap */
    NODE_CACHED,   /* an arena chunk parked in the tcache */
    NODE_LIBC,     /* an arena chunk glibc keeps for itself: the tcache block */
    NODE_FENCE,    /* fenceposts and a foreign-sbrk gap: never free */
    NODE_MMAP,     /* a chunk with its own mapping */
};

struct hnode {
    vmsim_vaddr_t addr; /* chunk start: user pointer - 16 */
    uint64_t size;      /* chunk size; NODE_MMAP: mapping length */
    uint64_t req;       /* bytes asked for (live allocations) */
    uint32_t prev, next;   /* arena chunks in address order; NIL32 next: top follows */
    uint32_t left, right;  /* treap children (NODE_FREE) */
    uint32_t prio;         /* treap priority */
    uint8_t kind;
};

struct vmsim__heap {
    struct hnode *nodes;
    size_t nr_nodes, cap_nodes; /* slots ever used, slots allocated */
    uint32_t free_slot;         /* first unused slot, chained through .next */
    size_t nr_free_slots;

    uint32_t *hash;             /* live allocations by user pointer; NIL32 = empty */
    size_t hash_cap, hash_used;

    uint32_t root;              /* treap of NODE_FREE chunks */
    uint32_t last;              /* the arena chunk just below top, or NIL32 */
    bool arena;                 /* the brk arena exists (first sbrk done) */
    vmsim_vaddr_t base;         /* first chunk of the arena */
    vmsim_vaddr_t top, end;     /* the top chunk is [top, end); end is our break */
    vmsim_vaddr_t max_end;      /* highest end so far (glibc's max_system_mem) */

    vmsim_vaddr_t tcache;       /* user address of the tcache block; 0 until made */
    uint32_t tc_bin[TCACHE_BINS][TCACHE_COUNT];
    uint8_t tc_count[TCACHE_BINS];

    uint64_t requested, nr_allocs, in_use, mmapped, nr_mmapped;
    uint32_t rng;               /* treap priorities: deterministic, copied by fork */
};

/* One call in progress. */
struct op {
    struct vmsim *sim;
    struct vmsim__proc *p;
    struct vmsim__heap *h;
};

static inline uint64_t align16(uint64_t x) { return (x + MALLOC_ALIGN - 1) & ~(MALLOC_ALIGN - 1); }

/* request2size(): the chunk size for a request (request <= REQUEST_MAX). */
static inline uint64_t request2size(uint64_t req)
{
    uint64_t nb = align16(req + SIZE_SZ);

    return nb < MINSIZE ? MINSIZE : nb;
}

/* The length of the mapping that holds an mmapped chunk of nb. */
static inline uint64_t mmap_len(uint64_t nb) { return round_up(nb + SIZE_SZ, PAGE_SIZE); }

/* csize2tidx() */
static inline unsigned tc_index(uint64_t size)
{
    return (unsigned)((size - MINSIZE + MALLOC_ALIGN - 1) / MALLOC_ALIGN);
}

static inline uint64_t top_size(const struct vmsim__heap *h) { return h->end - h->top; }

/* ---- the node pool ----------------------------------------------------- */

static uint32_t node_new(struct vmsim__heap *h, enum node_kind kind, vmsim_vaddr_t addr,
                         uint64_t size)
{
    struct hnode *n;
    uint32_t i;

    if (h->free_slot != NIL32) {
        i = h->free_slot;
        h->free_slot = h->nodes[i].next;
        h->nr_free_slots--;
    } else {
        VMSIM_ASSERT(h->nr_nodes < h->cap_nodes);
        i = (uint32_t)h->nr_nodes++;
    }
    n = &h->nodes[i];
    memset(n, 0, sizeof(*n));
    n->addr = addr;
    n->size = size;
    n->kind = (uint8_t)kind;
    n->prev = n->next = n->left = n->right = NIL32;
    return i;
}

static void node_release(struct vmsim__heap *h, uint32_t i)
{
    h->nodes[i].kind = NODE_NONE;
    h->nodes[i].next = h->free_slot;
    h->free_slot = i;
    h->nr_free_slots++;
}

/* ---- live allocations: open addressing, linear probing ----------------- */

static size_t hash_slot(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static inline uint64_t user_ptr(const struct hnode *n) { return n->addr + CHUNK_HDR_SZ; }

static uint32_t hash_find(const struct vmsim__heap *h, vmsim_vaddr_t ptr)
{
    size_t i;

    if (h == NULL || h->hash_cap == 0)
        return NIL32;
    for (i = hash_slot(ptr, h->hash_cap);; i = (i + 1) & (h->hash_cap - 1)) {
        uint32_t n = h->hash[i];

        if (n == NIL32)
            return NIL32;
        if (user_ptr(&h->nodes[n]) == ptr)
            return n;
    }
}

static void hash_put(uint32_t *table, size_t cap, const struct hnode *nodes, uint32_t n)
{
    size_t i = hash_slot(user_ptr(&nodes[n]), cap);

    while (table[i] != NIL32)
        i = (i + 1) & (cap - 1);
    table[i] = n;
}

static void hash_insert(struct vmsim__heap *h, uint32_t n)
{
    VMSIM_ASSERT((h->hash_used + 1) * 2 <= h->hash_cap);
    hash_put(h->hash, h->hash_cap, h->nodes, n);
    h->hash_used++;
}

/* Remove n, shifting later entries of its cluster back (no tombstones). */
static void hash_remove(struct vmsim__heap *h, uint32_t n)
{
    size_t mask = h->hash_cap - 1;
    size_t i = hash_slot(user_ptr(&h->nodes[n]), h->hash_cap);
    size_t j;

    while (h->hash[i] != n) {
        VMSIM_ASSERT(h->hash[i] != NIL32);
        i = (i + 1) & mask;
    }
    j = i;
    for (;;) {
        size_t k;

        j = (j + 1) & mask;
        if (h->hash[j] == NIL32)
            break;
        k = hash_slot(user_ptr(&h->nodes[h->hash[j]]), h->hash_cap);
        /* the entry at j may move to the hole at i unless its home k lies
         * cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        h->hash[i] = h->hash[j];
        i = j;
    }
    h->hash[i] = NIL32;
    h->hash_used--;
}

/* Reserve host memory for one call: RESERVE_NODES new nodes and
 * RESERVE_HASH new live allocations. Returns 0 or VMSIM_ENOMEM, the state
 * untouched. */
static int heap_reserve(const struct vmsim *sim, struct vmsim__heap *h)
{
    size_t avail = h->nr_free_slots + (h->cap_nodes - h->nr_nodes);

    if (avail < RESERVE_NODES) {
        size_t need = h->nr_nodes + RESERVE_NODES;

        if (need >= NIL32)
            return VMSIM_ENOMEM;
        if (vmsim__grow(sim, (void **)&h->nodes, &h->cap_nodes, need, sizeof(h->nodes[0])) < 0)
            return VMSIM_ENOMEM;
    }
    if ((h->hash_used + RESERVE_HASH) * 2 > h->hash_cap) {
        size_t cap = h->hash_cap ? h->hash_cap * 2 : 64;
        uint32_t *table;

        while ((h->hash_used + RESERVE_HASH) * 2 > cap)
            cap *= 2;
        if (cap > SIZE_MAX / sizeof(*table))
            return VMSIM_ENOMEM;
        table = vmsim__malloc(sim, cap * sizeof(*table));
        if (table == NULL)
            return VMSIM_ENOMEM;
        memset(table, 0xff, cap * sizeof(*table)); /* NIL32 everywhere */
        for (size_t i = 0; i < h->hash_cap; i++)
            if (h->hash[i] != NIL32)
                hash_put(table, cap, h->nodes, h->hash[i]);
        vmsim__free(sim, h->hash);
        h->hash = table;
        h->hash_cap = cap;
    }
    return 0;
}

/* ---- free chunks: a treap keyed by (size, address) ---------------------- */

static bool key_before(const struct hnode *nd, uint32_t a, uint32_t b)
{
    return nd[a].size < nd[b].size || (nd[a].size == nd[b].size && nd[a].addr < nd[b].addr);
}

/* Split t into *l (keys before k's, and k itself when `with_k`) and *r. */
static void treap_split(struct hnode *nd, uint32_t t, uint32_t k, bool with_k, uint32_t *l,
                        uint32_t *r)
{
    if (t == NIL32) {
        *l = *r = NIL32;
    } else if (key_before(nd, t, k) || (with_k && t == k)) {
        treap_split(nd, nd[t].right, k, with_k, &nd[t].right, r);
        *l = t;
    } else {
        treap_split(nd, nd[t].left, k, with_k, l, &nd[t].left);
        *r = t;
    }
}

/* Join two treaps, every key of a before every key of b. */
static uint32_t treap_merge(struct hnode *nd, uint32_t a, uint32_t b)
{
    if (a == NIL32)
        return b;
    if (b == NIL32)
        return a;
    if (nd[a].prio > nd[b].prio) {
        nd[a].right = treap_merge(nd, nd[a].right, b);
        return a;
    }
    nd[b].left = treap_merge(nd, a, nd[b].left);
    return b;
}

static uint32_t next_prio(struct vmsim__heap *h)
{
    uint32_t x = h->rng; /* xorshift32 */

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    h->rng = x;
    return x;
}

static void free_insert(struct vmsim__heap *h, uint32_t n)
{
    uint32_t l, r;

    h->nodes[n].kind = NODE_FREE;
    h->nodes[n].left = h->nodes[n].right = NIL32;
    h->nodes[n].prio = next_prio(h);
    treap_split(h->nodes, h->root, n, false, &l, &r);
    h->root = treap_merge(h->nodes, treap_merge(h->nodes, l, n), r);
}

static void free_remove(struct vmsim__heap *h, uint32_t n)
{
    uint32_t l, m, r;

    VMSIM_ASSERT(h->nodes[n].kind == NODE_FREE);
    treap_split(h->nodes, h->root, n, false, &l, &r);
    treap_split(h->nodes, r, n, true, &m, &r);
    VMSIM_ASSERT(m == n);
    h->root = treap_merge(h->nodes, l, r);
    h->nodes[n].left = h->nodes[n].right = NIL32;
    h->nodes[n].kind = NODE_NONE; /* the caller sets the new kind */
}

/* The smallest free chunk of at least nb bytes, lowest address among
 * equals, or NIL32. */
static uint32_t free_best_fit(const struct vmsim__heap *h, uint64_t nb)
{
    uint32_t t = h->root, best = NIL32;

    while (t != NIL32) {
        if (h->nodes[t].size >= nb) {
            best = t;
            t = h->nodes[t].left;
        } else {
            t = h->nodes[t].right;
        }
    }
    return best;
}

/* ---- arena chunks in address order ------------------------------------- */

/* A new chunk of nb bytes at the start of top (the caller checked room). */
static uint32_t carve_top(struct vmsim__heap *h, uint64_t nb, enum node_kind kind)
{
    uint32_t n = node_new(h, kind, h->top, nb);

    h->nodes[n].prev = h->last;
    if (h->last != NIL32)
        h->nodes[h->last].next = n;
    h->last = n;
    h->top += nb;
    return n;
}

/* Cut chunk n to nb bytes; the rest becomes a new chunk right after it,
 * of kind `kind`, which is returned. */
static uint32_t chunk_split(struct vmsim__heap *h, uint32_t n, uint64_t nb, enum node_kind kind)
{
    uint32_t r = node_new(h, kind, h->nodes[n].addr + nb, h->nodes[n].size - nb);
    uint32_t nx = h->nodes[n].next;

    h->nodes[n].size = nb;
    h->nodes[r].prev = n;
    h->nodes[r].next = nx;
    if (nx != NIL32)
        h->nodes[nx].prev = r;
    else
        h->last = r;
    h->nodes[n].next = r;
    return r;
}

/* Chunk n swallows the chunk after it (which the caller took off any list). */
static void chunk_absorb_next(struct vmsim__heap *h, uint32_t n)
{
    uint32_t b = h->nodes[n].next;
    uint32_t bn = h->nodes[b].next;

    h->nodes[n].size += h->nodes[b].size;
    h->nodes[n].next = bn;
    if (bn != NIL32)
        h->nodes[bn].prev = n;
    else
        h->last = n;
    node_release(h, b);
}

/* The last chunk n becomes part of top. */
static void chunk_into_top(struct vmsim__heap *h, uint32_t n)
{
    uint32_t pv = h->nodes[n].prev;

    VMSIM_ASSERT(h->last == n && h->nodes[n].addr + h->nodes[n].size == h->top);
    h->top = h->nodes[n].addr;
    h->last = pv;
    if (pv != NIL32)
        h->nodes[pv].next = NIL32;
    node_release(h, n);
}

/* Where the size field that holds n's "in use" bit lies: the header of the
 * chunk after n. A fence starts with a 16-byte chunk (a fencepost, or what
 * was left of the old top), so its bit is 16 bytes further on. */
static vmsim_vaddr_t inuse_field(const struct hnode *n)
{
    if (n->kind == NODE_FENCE)
        return n->addr + CHUNK_HDR_SZ + SIZE_SZ;
    return n->addr + n->size + SIZE_SZ;
}

/* ---- simulated accesses and fatal outcomes ----------------------------- */

/* One access by the allocator. Returns 0, HEAP_DIED, or VMSIM_E*. */
static int touch(struct op *o, vmsim_vaddr_t va, uint64_t len, vmsim_access_kind kind)
{
    int rc;

    if (len == 0)
        return 0;
    rc = vmsim_access(o->sim, o->p->pid, va, len, kind, NULL);
    if (rc < 0)
        return rc;
    return o->p->alive ? 0 : HEAP_DIED;
}

/* Copy or clear user bytes: with track_data the bytes themselves move
 * (through the process's own loads and stores), else only the accesses
 * are simulated. src 0 means zeros. */
static int move_bytes(struct op *o, vmsim_vaddr_t src, vmsim_vaddr_t dst, uint64_t len)
{
    uint8_t *buf;
    int rc;

    if (len == 0)
        return 0;
    if (vmsim_config(o->sim)->track_data == false) {
        if (src != 0) {
            rc = touch(o, src, len, VMSIM_READ);
            if (rc != 0)
                return rc;
        }
        return touch(o, dst, len, VMSIM_WRITE);
    }
    buf = vmsim__calloc(o->sim, 1, len);
    if (buf == NULL)
        return VMSIM_ENOMEM;
    rc = src != 0 ? vmsim_read_data(o->sim, o->p->pid, src, buf, len, NULL) : 0;
    if (rc == 0 && o->p->alive)
        rc = vmsim_write_data(o->sim, o->p->pid, dst, buf, len, NULL);
    vmsim__free(o->sim, buf);
    if (rc < 0)
        return rc;
    return o->p->alive ? 0 : HEAP_DIED;
}

#define TOUCH(o, va, len, kind)                                                          \
    do {                                                                                 \
        int touch_rc_ = touch((o), (va), (len), (kind));                                 \
        if (touch_rc_ != 0)                                                              \
            return touch_rc_;                                                            \
    } while (0)

/* A system call's effect on the process: it may have died meanwhile. */
static int alive_or_died(const struct op *o)
{
    return o->p->alive ? 0 : HEAP_DIED;
}

/* glibc's malloc_printerr(): abort(), i.e. SIGABRT. The heap records go
 * with the process. */
static int heap_abort(struct op *o, vmsim_vaddr_t ptr)
{
    vmsim__proc_kill(o->sim, o->p, SIGABRT_NR, SI_TKILL, ptr);
    if (o->p->heap != NULL)
        vmsim__heap_destroy(o->sim, o->p);
    o->h = NULL;
    return HEAP_DIED;
}

/* ---- the system side: sysmalloc() and systrim() ------------------------ */

/*
 * systrim(M_TOP_PAD): give the top's whole pages beyond the pad back with
 * brk, if the break is still where the heap left it. Returns 0, HEAP_DIED
 * or VMSIM_E*.
 */
static int sys_trim(struct op *o)
{
    struct vmsim__heap *h = o->h;
    uint64_t tsize = top_size(h), extra, released;
    int rc;

    if (tsize < MINSIZE + 1 || tsize - MINSIZE - 1 <= VMSIM_M_TOP_PAD)
        return 0;
    extra = round_down(tsize - MINSIZE - 1 - VMSIM_M_TOP_PAD, PAGE_SIZE);
    if (extra == 0 || o->p->mm->brk != h->end)
        return 0;
    rc = vmsim_brk(o->sim, o->p->pid, h->end - extra, NULL);
    if (rc < 0)
        return rc;
    rc = alive_or_died(o);
    if (rc != 0)
        return rc;
    if (o->p->mm->brk >= h->end)
        return 0;
    released = h->end - o->p->mm->brk;
    h->end -= released;
    TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head(av->top) */
    return 0;
}

/* ---- freeing arena chunks: _int_free() ---------------------------------- */

static void tcache_slots(const struct vmsim__heap *h, unsigned idx, vmsim_vaddr_t *count,
                         vmsim_vaddr_t *entry)
{
    *count = h->tcache + 2 * (uint64_t)idx;
    *entry = h->tcache + 2 * TCACHE_BINS + 8 * (uint64_t)idx;
}

/*
 * Free arena chunk n (NODE_USED, already out of the live table): into the
 * tcache if its bin has room, else coalesced with free neighbours and top,
 * then trimmed if top grew past M_TRIM_THRESHOLD. Returns 0, HEAP_DIED or
 * VMSIM_E*.
 */
static int chunk_free(struct op *o, uint32_t n)
{
    struct vmsim__heap *h = o->h;
    struct hnode *nd = h->nodes;
    vmsim_vaddr_t addr = nd[n].addr, mem = addr + CHUNK_HDR_SZ;
    uint64_t size = nd[n].size, csize;
    uint32_t pv = nd[n].prev, nx = nd[n].next, c = n;
    bool merge_prev, merge_next = false, into_top;

    VMSIM_ASSERT(nd[n].kind == NODE_USED);
    if (h->tcache != 0 && size <= TCACHE_MAX_SIZE) {
        unsigned idx = tc_index(size);

        TOUCH(o, mem + SIZE_SZ, SIZE_SZ, VMSIM_READ); /* e->key: double-free check */
        if (h->tc_count[idx] < TCACHE_COUNT) {
            vmsim_vaddr_t cnt, ent;

            h->nodes[n].kind = NODE_CACHED;
            h->in_use -= size;
            h->tc_bin[idx][h->tc_count[idx]++] = n;
            tcache_slots(h, idx, &cnt, &ent);
            TOUCH(o, mem, 2 * SIZE_SZ, VMSIM_WRITE); /* e->next, e->key */
            TOUCH(o, ent, 8, VMSIM_WRITE);
            TOUCH(o, cnt, 2, VMSIM_WRITE);
            return 0;
        }
    }

    /* the reads: next chunk's size, the neighbours' tags and links */
    TOUCH(o, addr + size + SIZE_SZ, SIZE_SZ, VMSIM_READ);
    merge_prev = pv != NIL32 && nd[pv].kind == NODE_FREE;
    if (merge_prev) {
        TOUCH(o, addr, SIZE_SZ, VMSIM_READ);                        /* prev_size */
        TOUCH(o, nd[pv].addr + SIZE_SZ, 3 * SIZE_SZ, VMSIM_READ);   /* unlink */
    }
    if (nx != NIL32) {
        TOUCH(o, inuse_field(&nd[nx]), SIZE_SZ, VMSIM_READ);
        merge_next = nd[nx].kind == NODE_FREE;
        if (merge_next)
            TOUCH(o, nd[nx].addr + CHUNK_HDR_SZ, 2 * SIZE_SZ, VMSIM_READ); /* unlink */
    }

    /* the records */
    h->in_use -= size;
    if (merge_prev) {
        free_remove(h, pv);
        nd[pv].kind = NODE_USED; /* transient: absorbed, then re-filed */
        chunk_absorb_next(h, pv);
        c = pv;
    }
    into_top = nx == NIL32;
    if (into_top) {
        chunk_into_top(h, c);
        csize = top_size(h);
    } else {
        if (merge_next) {
            free_remove(h, nx);
            chunk_absorb_next(h, c);
        }
        free_insert(h, c);
        csize = nd[c].size;
    }

    /* the writes */
    if (into_top) {
        TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
    } else {
        vmsim_vaddr_t caddr = nd[c].addr;

        if (!merge_next)
            TOUCH(o, caddr + csize + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* clear PREV_INUSE */
        /* header, fd, bk (and fd/bk_nextsize for large chunks) */
        TOUCH(o, caddr + SIZE_SZ, csize >= MIN_LARGE ? 5 * SIZE_SZ : 3 * SIZE_SZ, VMSIM_WRITE);
        TOUCH(o, caddr + csize, SIZE_SZ, VMSIM_WRITE); /* set_foot */
    }
    if (csize >= CONSOLIDATE_SIZE && h->arena && top_size(h) >= VMSIM_M_TRIM_THRESHOLD)
        return sys_trim(o);
    return 0;
}

/*
 * Grow the arena with brk so that top can give nb bytes (sysmalloc's
 * main-arena path). The first call places the arena at the current break;
 * later ones extend it in place, or, when the program moved the break
 * itself, start a new top there behind glibc's double fencepost. Returns
 * 0, VMSIM_SYS_ENOMEM when brk refuses, HEAP_DIED, or VMSIM_E*.
 */
static int sys_grow(struct op *o, uint64_t nb)
{
    struct vmsim__heap *h = o->h;
    vmsim_vaddr_t cur = o->p->mm->brk, aligned, front, old_top = h->top;
    uint64_t old_size = h->arena ? top_size(h) : 0;
    uint64_t size = round_up(nb + VMSIM_M_TOP_PAD + MINSIZE - old_size, PAGE_SIZE);
    uint32_t f = NIL32;
    int rc;

    if (h->arena && cur == h->end) {
        /* contiguous: MORECORE(size) extends the old top */
        rc = vmsim_brk(o->sim, o->p->pid, cur + size, NULL);
        if (rc != 0)
            return rc < 0 ? rc : VMSIM_SYS_ENOMEM;
        h->end += size;
        if (h->end > h->max_end)
            h->max_end = h->end;
        TOUCH(o, old_top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head(old_top) */
        return 0;
    }
    if (h->arena && cur < h->end)
        /* "break adjusted to free malloc space" */
        return heap_abort(o, 0);

    /* first time, or after a foreign sbrk: new space at the current break,
     * aligned so that chunk2mem() is 16-aligned, ending on a page boundary */
    rc = vmsim_brk(o->sim, o->p->pid, cur + size, NULL);
    if (rc != 0)
        return rc < 0 ? rc : VMSIM_SYS_ENOMEM;
    front = (MALLOC_ALIGN - (cur & (MALLOC_ALIGN - 1))) & (MALLOC_ALIGN - 1);
    aligned = cur + front;
    {
        uint64_t correction = front + old_size;
        vmsim_vaddr_t want = round_up(cur + size + correction, PAGE_SIZE);

        if (want != cur + size) {
            rc = vmsim_brk(o->sim, o->p->pid, want, NULL);
            if (rc < 0)
                return rc;
            /* a refused second sbrk: glibc goes on with what it has */
        }
    }
    rc = alive_or_died(o);
    if (rc != 0)
        return rc;

    if (h->arena) {
        /* fence off the old top: glibc shrinks it by two headers' worth,
         * writes two fenceposts after it and frees what is left */
        uint64_t keep = (old_size - 2 * CHUNK_HDR_SZ) & ~(MALLOC_ALIGN - 1);

        if (keep >= MINSIZE) {
            f = carve_top(h, keep, NODE_USED);
            h->in_use += keep;
        }
        carve_top(h, aligned - h->top, NODE_FENCE);
    } else {
        h->arena = true;
        h->base = aligned;
    }
    h->top = aligned;
    h->end = o->p->mm->brk;
    if (h->end > h->max_end)
        h->max_end = h->end;
    TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head(av->top) */
    if (old_size != 0) {
        uint64_t keep = (old_size - 2 * CHUNK_HDR_SZ) & ~(MALLOC_ALIGN - 1);

        TOUCH(o, old_top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
        TOUCH(o, old_top + keep + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
        TOUCH(o, old_top + keep + CHUNK_HDR_SZ + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
    }
    return f != NIL32 ? chunk_free(o, f) : 0;
}

/* ---- allocating chunks: _int_malloc(), sysmalloc()'s mmap ---------------- */

/* Book a new live allocation. */
static void book_alloc(struct vmsim__heap *h, uint32_t n, uint64_t req)
{
    h->nodes[n].req = req;
    hash_insert(h, n);
    h->requested += req;
    h->nr_allocs++;
}

static void unbook_alloc(struct vmsim__heap *h, uint32_t n)
{
    hash_remove(h, n);
    h->requested -= h->nodes[n].req;
    h->nr_allocs--;
    h->nodes[n].req = 0;
}

/* Mark an arena chunk handed out: to the program (book) or to glibc. */
static void set_taken(struct vmsim__heap *h, uint32_t n, bool libc, uint64_t req)
{
    h->nodes[n].kind = libc ? NODE_LIBC : NODE_USED;
    h->in_use += h->nodes[n].size;
    if (!libc)
        book_alloc(h, n, req);
}

/*
 * A chunk of nb bytes from the arena: best-fit free chunk (split when the
 * rest makes a chunk), else top, growing it with brk. Returns 0 and *out,
 * VMSIM_SYS_ENOMEM, HEAP_DIED or VMSIM_E*.
 */
static int arena_alloc(struct op *o, uint64_t nb, bool libc, uint64_t req, uint32_t *out)
{
    struct vmsim__heap *h = o->h;
    uint32_t v = free_best_fit(h, nb), n;
    int rc;

    if (v != NIL32) {
        vmsim_vaddr_t va = h->nodes[v].addr;
        uint64_t vsize = h->nodes[v].size;

        TOUCH(o, va + SIZE_SZ, 3 * SIZE_SZ, VMSIM_READ); /* size, fd, bk */
        free_remove(h, v);
        if (vsize - nb >= MINSIZE) {
            uint32_t r = chunk_split(h, v, nb, NODE_FREE);

            free_insert(h, r);
            set_taken(h, v, libc, req);
            *out = v;
            TOUCH(o, va + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);            /* set_head(victim) */
            TOUCH(o, va + nb + SIZE_SZ, 3 * SIZE_SZ, VMSIM_WRITE);   /* remainder: head, fd, bk */
            TOUCH(o, va + vsize, SIZE_SZ, VMSIM_WRITE);              /* set_foot(remainder) */
            return 0;
        }
        set_taken(h, v, libc, req);
        *out = v;
        TOUCH(o, va + vsize + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_inuse_bit_at_offset */
        return 0;
    }
    if (h->arena)
        TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_READ); /* chunksize(av->top) */
    if (!h->arena || top_size(h) < nb + MINSIZE) {
        rc = sys_grow(o, nb);
        if (rc != 0)
            return rc;
        if (top_size(o->h) < nb + MINSIZE)
            return VMSIM_SYS_ENOMEM;
    }
    n = carve_top(h, nb, NODE_USED);
    set_taken(h, n, libc, req);
    *out = n;
    TOUCH(o, h->nodes[n].addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head(victim) */
    TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);           /* set_head(remainder) */
    return 0;
}

/* A chunk with its own mapping (sysmalloc's try_mmap). Returns 0 and *out,
 * VMSIM_SYS_ENOMEM, HEAP_DIED or VMSIM_E*. */
static int mmap_alloc(struct op *o, uint64_t nb, uint64_t req, uint32_t *out)
{
    struct vmsim__heap *h = o->h;
    vmsim_mmap_req_t mr;
    vmsim_vaddr_t addr = 0;
    uint64_t len = mmap_len(nb);
    uint32_t n;
    int rc;

    if (len <= nb)
        return VMSIM_SYS_ENOMEM;
    memset(&mr, 0, sizeof(mr));
    mr.len = len;
    mr.prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE;
    mr.flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS;
    rc = vmsim_mmap(o->sim, o->p->pid, &mr, &addr);
    if (rc != 0)
        return rc < 0 ? rc : VMSIM_SYS_ENOMEM;
    rc = alive_or_died(o);
    if (rc != 0)
        return rc;
    n = node_new(h, NODE_MMAP, addr, len);
    h->mmapped += len;
    h->nr_mmapped++;
    book_alloc(h, n, req);
    *out = n;
    TOUCH(o, addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head(p, size | IS_MMAPPED) */
    return 0;
}

/*
 * _int_malloc() and sysmalloc() for the program: requests of
 * M_MMAP_THRESHOLD and more are mmapped (the arena if mmap fails), the
 * rest come from the arena (an mmapped chunk if brk fails).
 */
static int chunk_alloc(struct op *o, uint64_t nb, uint64_t req, uint32_t *out)
{
    int rc;

    if (nb >= VMSIM_M_MMAP_THRESHOLD) {
        rc = mmap_alloc(o, nb, req, out);
        if (rc != VMSIM_SYS_ENOMEM)
            return rc;
        return arena_alloc(o, nb, false, req, out);
    }
    rc = arena_alloc(o, nb, false, req, out);
    if (rc != VMSIM_SYS_ENOMEM)
        return rc;
    return mmap_alloc(o, nb, req, out);
}

/* MAYBE_INIT_TCACHE(): the first call makes the tcache block, a zeroed
 * chunk at the start of the heap. If the arena cannot give it, the
 * program runs without a tcache for now and the next call tries again.
 * Returns 0, HEAP_DIED or VMSIM_E*. */
static int tcache_init(struct op *o)
{
    uint32_t n;
    int rc;

    if (o->h->tcache != 0)
        return 0;
    rc = arena_alloc(o, request2size(TCACHE_STRUCT), true, 0, &n);
    if (rc == VMSIM_SYS_ENOMEM)
        return 0;
    if (rc != 0)
        return rc;
    o->h->tcache = user_ptr(&o->h->nodes[n]);
    TOUCH(o, o->h->tcache, TCACHE_STRUCT, VMSIM_WRITE); /* memset(tcache, 0, ...) */
    return 0;
}

/* tcache_get(): a chunk of exactly nb from the tcache, or NIL32. */
static int tcache_take(struct op *o, uint64_t nb, uint64_t req, uint32_t *out)
{
    struct vmsim__heap *h = o->h;
    unsigned idx = tc_index(nb);
    vmsim_vaddr_t cnt, ent, mem;
    uint32_t n;

    *out = NIL32;
    if (h->tcache == 0 || nb > TCACHE_MAX_SIZE || h->tc_count[idx] == 0)
        return 0;
    n = h->tc_bin[idx][h->tc_count[idx] - 1];
    mem = user_ptr(&h->nodes[n]);
    tcache_slots(h, idx, &cnt, &ent);
    TOUCH(o, ent, 8, VMSIM_READ);        /* e = tcache->entries[idx] */
    TOUCH(o, mem, SIZE_SZ, VMSIM_READ);  /* e->next */
    h->tc_count[idx]--;
    set_taken(h, n, false, req);
    *out = n;
    TOUCH(o, ent, 8, VMSIM_WRITE);
    TOUCH(o, cnt, 2, VMSIM_WRITE);
    TOUCH(o, mem + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* e->key = 0 */
    return 0;
}

/* __libc_malloc(): tcache first, then _int_malloc(). */
static int do_malloc(struct op *o, uint64_t size, uint32_t *out)
{
    uint64_t nb;
    int rc;

    if (size > REQUEST_MAX)
        return VMSIM_SYS_ENOMEM;
    nb = request2size(size);
    rc = tcache_init(o);
    if (rc != 0)
        return rc;
    rc = tcache_take(o, nb, size, out);
    if (rc != 0 || *out != NIL32)
        return rc;
    return chunk_alloc(o, nb, size, out);
}

/* Free a live allocation n (munmap_chunk() or _int_free()). */
static int do_free(struct op *o, uint32_t n)
{
    struct vmsim__heap *h = o->h;
    int rc;

    if (h->nodes[n].kind == NODE_MMAP) {
        vmsim_vaddr_t addr = h->nodes[n].addr;
        uint64_t len = h->nodes[n].size;

        rc = vmsim_munmap(o->sim, o->p->pid, addr, len);
        if (rc < 0)
            return rc;
        /* a refused munmap leaves the block hanging, as glibc does */
        unbook_alloc(h, n);
        h->mmapped -= len;
        h->nr_mmapped--;
        node_release(h, n);
        return alive_or_died(o);
    }
    unbook_alloc(h, n);
    rc = tcache_init(o);
    if (rc != 0)
        return rc;
    return chunk_free(o, n);
}

/* ---- public entry points ------------------------------------------------- */

/* The live process for a call, its heap made if `create`. */
static int heap_enter(vmsim_t *sim, vmsim_pid_t pid, bool create, struct op *o)
{
    struct vmsim__proc *p;
    struct vmsim__heap *h;

    if (sim == NULL)
        return VMSIM_EINVAL;
    if (sim->panicked)
        return VMSIM_EPANIC;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive || p->mm == NULL)
        return VMSIM_ESRCH;
    h = p->heap;
    if (h == NULL && create) {
        h = vmsim__calloc(sim, 1, sizeof(*h));
        if (h == NULL)
            return VMSIM_ENOMEM;
        h->free_slot = NIL32;
        h->root = h->last = NIL32;
        h->rng = 0x9e3779b9u;
        p->heap = h;
    }
    if (h != NULL && heap_reserve(sim, h) < 0)
        return VMSIM_ENOMEM;
    o->sim = sim;
    o->p = p;
    o->h = h;
    return 0;
}

/* The call's result: HEAP_DIED is 0 (the outcome is in the process's
 * figures); 0 and VMSIM_SYS_ENOMEM become its errno. */
static int heap_leave(struct op *o, int rc)
{
    if (rc == HEAP_DIED)
        return 0;
    if (rc < 0)
        return rc;
    if (o->p->alive)
        o->p->last_errno = rc;
    return rc;
}

/* The live allocation at ptr, found as glibc finds it: by reading its size
 * field at ptr - 8 first (which may fault). A pointer that is not live
 * aborts. Returns 0 and *out, HEAP_DIED or VMSIM_E*. */
static int lookup_live(struct op *o, vmsim_vaddr_t ptr, uint32_t *out)
{
    uint32_t n;

    TOUCH(o, ptr >= SIZE_SZ ? ptr - SIZE_SZ : 0, SIZE_SZ, VMSIM_READ);
    n = hash_find(o->h, ptr);
    if (n == NIL32)
        return heap_abort(o, ptr);
    *out = n;
    return 0;
}

int vmsim_heap_malloc(vmsim_t *sim, vmsim_pid_t pid, uint64_t size, vmsim_vaddr_t *ptr_out)
{
    struct op o;
    uint32_t n = NIL32;
    int rc = heap_enter(sim, pid, true, &o);

    if (rc < 0)
        return rc;
    rc = do_malloc(&o, size, &n);
    if (rc == 0 && ptr_out != NULL)
        *ptr_out = user_ptr(&o.h->nodes[n]);
    return heap_leave(&o, rc);
}

int vmsim_heap_calloc(vmsim_t *sim, vmsim_pid_t pid, uint64_t n, uint64_t size,
                      vmsim_vaddr_t *ptr_out)
{
    struct op o;
    struct vmsim__heap *h;
    vmsim_vaddr_t oldtop = 0, mem;
    uint64_t bytes, oldtopsize = 0, csz;
    uint32_t c = NIL32;
    int rc = heap_enter(sim, pid, true, &o);

    if (rc < 0)
        return rc;
    /* the product must fit a ptrdiff_t */
    if (size != 0 && n > REQUEST_MAX / size)
        return heap_leave(&o, VMSIM_SYS_ENOMEM);
    bytes = n * size;
    rc = tcache_init(&o);
    if (rc != 0)
        return heap_leave(&o, rc);
    h = o.h;
    if (h->arena) {
        /* only memory beyond the heap's high-water mark is known zero */
        oldtop = h->top;
        oldtopsize = top_size(h);
        if (h->max_end - h->top > oldtopsize)
            oldtopsize = h->max_end - h->top;
    }
    rc = chunk_alloc(&o, request2size(bytes), bytes, &c);
    if (rc != 0)
        return heap_leave(&o, rc);
    mem = user_ptr(&h->nodes[c]);
    if (ptr_out != NULL)
        *ptr_out = mem;
    if (h->nodes[c].kind == NODE_MMAP)
        return heap_leave(&o, 0); /* a fresh mapping is zero */
    csz = h->nodes[c].size;
    if (h->nodes[c].addr == oldtop && csz > oldtopsize)
        csz = oldtopsize; /* clear only what was heap before this call */
    rc = move_bytes(&o, 0, mem, csz - SIZE_SZ);
    return heap_leave(&o, rc);
}

int vmsim_heap_free(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t ptr)
{
    struct op o;
    uint32_t n;
    int rc = heap_enter(sim, pid, false, &o);

    if (rc < 0)
        return rc;
    if (ptr == 0)
        return heap_leave(&o, 0);
    rc = lookup_live(&o, ptr, &n);
    if (rc == 0)
        rc = do_free(&o, n);
    return heap_leave(&o, rc);
}

/*
 * Cut the in-use arena chunk n down to nb bytes; a remainder that makes a
 * chunk is freed (the tail of _int_realloc()). Returns 0, HEAP_DIED or
 * VMSIM_E*.
 */
static int shrink_in_place(struct op *o, uint32_t n, uint64_t nb)
{
    struct vmsim__heap *h = o->h;
    vmsim_vaddr_t addr = h->nodes[n].addr;
    uint64_t newsize = h->nodes[n].size, rsize = newsize - nb;
    uint32_t r;

    if (rsize < MINSIZE) {
        TOUCH(o, addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);           /* set_head_size */
        TOUCH(o, addr + newsize + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_inuse_bit_at_offset */
        return 0;
    }
    r = chunk_split(h, n, nb, NODE_USED); /* in_use unchanged: the bytes move to r */
    TOUCH(o, addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);                 /* set_head_size(newp) */
    TOUCH(o, addr + nb + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);            /* set_head(remainder) */
    TOUCH(o, addr + nb + rsize + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);    /* set_inuse_bit_at_offset */
    return chunk_free(o, r);
}

/* Move a live allocation: copy its usable bytes to new allocation w and
 * free it. Returns 0, HEAP_DIED or VMSIM_E*. */
static int move_and_free(struct op *o, uint32_t n, uint32_t w, uint64_t copy)
{
    vmsim_vaddr_t from = user_ptr(&o->h->nodes[n]), to = user_ptr(&o->h->nodes[w]);
    int rc;

    rc = move_bytes(o, from, to, copy);
    if (rc != 0)
        return rc;
    if (o->h->nodes[n].kind == NODE_MMAP)
        return do_free(o, n);
    unbook_alloc(o->h, n);
    rc = chunk_free(o, n);
    return rc;
}

/* Set a live allocation's requested size. */
static void rebook(struct vmsim__heap *h, uint32_t n, uint64_t req)
{
    h->requested = h->requested - h->nodes[n].req + req;
    h->nodes[n].req = req;
}

/* realloc() of an mmapped chunk. glibc would mremap(); without it: same
 * page count stays put, fewer pages unmap the tail (what mremap does in
 * place), more pages allocate, copy and free. */
static int realloc_mmapped(struct op *o, uint32_t n, uint64_t size, uint32_t *out)
{
    struct vmsim__heap *h = o->h;
    vmsim_vaddr_t addr = h->nodes[n].addr;
    uint64_t nb = request2size(size), oldlen = h->nodes[n].size, newlen = mmap_len(nb);
    uint32_t w;
    int rc;

    *out = n;
    if (newlen == oldlen) {
        rebook(h, n, size);
        return 0;
    }
    if (newlen < oldlen) {
        rc = vmsim_munmap(o->sim, o->p->pid, addr + newlen, oldlen - newlen);
        if (rc < 0)
            return rc;
        rebook(h, n, size);
        if (rc > 0)
            return alive_or_died(o); /* mremap failed: the old block still fits */
        h->nodes[n].size = newlen;
        h->mmapped -= oldlen - newlen;
        rc = alive_or_died(o);
        if (rc != 0)
            return rc;
        TOUCH(o, addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE); /* set_head */
        return 0;
    }
    rc = do_malloc(o, size, &w);
    if (rc != 0)
        return rc;
    *out = w;
    return move_and_free(o, n, w, oldlen - CHUNK_HDR_SZ);
}

/* _int_realloc(): shrink in place, grow into top or a free neighbour, else
 * allocate, copy, free. */
static int realloc_arena(struct op *o, uint32_t n, uint64_t size, uint32_t *out)
{
    struct vmsim__heap *h = o->h;
    struct hnode *nd = h->nodes;
    vmsim_vaddr_t addr = nd[n].addr;
    uint64_t nb = request2size(size), oldsize = nd[n].size;
    uint32_t nx = nd[n].next, w;
    int rc;

    *out = n;
    TOUCH(o, addr + oldsize + SIZE_SZ, SIZE_SZ, VMSIM_READ); /* chunksize(next) */
    if (oldsize >= nb) {
        rebook(h, n, size);
        return shrink_in_place(o, n, nb);
    }
    if (nx == NIL32 && oldsize + top_size(h) >= nb + MINSIZE) {
        /* expand forward into top */
        nd[n].size = nb;
        h->top = addr + nb;
        h->in_use += nb - oldsize;
        rebook(h, n, size);
        TOUCH(o, addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
        TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
        return 0;
    }
    if (nx != NIL32 && nd[nx].kind == NODE_FREE && oldsize + nd[nx].size >= nb) {
        /* expand forward into the next chunk */
        TOUCH(o, inuse_field(&nd[nx]), SIZE_SZ, VMSIM_READ);
        TOUCH(o, nd[nx].addr + CHUNK_HDR_SZ, 2 * SIZE_SZ, VMSIM_READ); /* unlink */
        h->in_use += nd[nx].size;
        free_remove(h, nx);
        chunk_absorb_next(h, n);
        rebook(h, n, size);
        return shrink_in_place(o, n, nb);
    }
    if (nb < VMSIM_M_MMAP_THRESHOLD && nx == NIL32 && free_best_fit(h, nb) == NIL32) {
        /* _int_malloc() must grow top, and the new chunk starts right
         * after this one: glibc joins them instead of copying */
        TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_READ);
        rc = sys_grow(o, nb);
        if (rc != 0 && rc != VMSIM_SYS_ENOMEM)
            return rc;
        if (rc == 0 && top_size(h) >= nb + MINSIZE && h->nodes[n].next == NIL32 &&
            h->top == addr + oldsize) {
            uint32_t t = carve_top(h, nb, NODE_USED);

            h->in_use += nb;
            TOUCH(o, h->nodes[t].addr + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
            TOUCH(o, h->top + SIZE_SZ, SIZE_SZ, VMSIM_WRITE);
            chunk_absorb_next(h, n);
            rebook(h, n, size);
            return shrink_in_place(o, n, nb);
        }
        if (rc == 0)
            rc = chunk_alloc(o, nb, size, &w);
        else
            rc = mmap_alloc(o, nb, size, &w); /* brk refused: sysmalloc's mmap */
    } else {
        rc = chunk_alloc(o, nb, size, &w);
    }
    if (rc != 0)
        return rc;
    *out = w;
    return move_and_free(o, n, w, oldsize - SIZE_SZ);
}

int vmsim_heap_realloc(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t ptr, uint64_t size,
                       vmsim_vaddr_t *ptr_out)
{
    struct op o;
    uint32_t n, w = NIL32;
    int rc;

    if (ptr == 0)
        return vmsim_heap_malloc(sim, pid, size, ptr_out);
    rc = heap_enter(sim, pid, false, &o);
    if (rc < 0)
        return rc;
    rc = lookup_live(&o, ptr, &n);
    if (rc != 0)
        return heap_leave(&o, rc);
    if (size == 0) {
        /* REALLOC_ZERO_BYTES_FREES */
        rc = do_free(&o, n);
        if (rc == 0 && ptr_out != NULL)
            *ptr_out = 0;
        return heap_leave(&o, rc);
    }
    if (size > REQUEST_MAX)
        return heap_leave(&o, VMSIM_SYS_ENOMEM);
    if (o.h->nodes[n].kind == NODE_MMAP) {
        rc = realloc_mmapped(&o, n, size, &w);
    } else {
        rc = tcache_init(&o);
        if (rc == 0)
            rc = realloc_arena(&o, n, size, &w);
    }
    if (rc == 0 && ptr_out != NULL)
        *ptr_out = user_ptr(&o.h->nodes[w]);
    return heap_leave(&o, rc);
}

int vmsim_heap_stats(const vmsim_t *sim, vmsim_pid_t pid, vmsim_heap_stats_t *out)
{
    const struct vmsim__proc *p;
    const struct vmsim__heap *h;

    if (sim == NULL || out == NULL)
        return VMSIM_EINVAL;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    memset(out, 0, sizeof(*out));
    h = p->heap;
    if (h == NULL)
        return 0;
    out->requested = h->requested;
    out->nr_allocs = h->nr_allocs;
    out->arena_size = h->arena ? h->end - h->base : 0;
    out->arena_in_use = h->in_use;
    out->mmapped = h->mmapped;
    out->nr_mmapped = h->nr_mmapped;
    return 0;
}

/* ---- process life: exit, exec, fork -------------------------------------- */

void vmsim__heap_destroy(struct vmsim *sim, struct vmsim__proc *p)
{
    struct vmsim__heap *h = p->heap;

    if (h == NULL)
        return;
    vmsim__free(sim, h->nodes);
    vmsim__free(sim, h->hash);
    vmsim__free(sim, h);
    p->heap = NULL;
}

int vmsim__heap_fork(struct vmsim *sim, const struct vmsim__proc *parent,
                     struct vmsim__proc *child)
{
    const struct vmsim__heap *ph = parent->heap;
    struct vmsim__heap *h;

    vmsim__heap_destroy(sim, child);
    if (ph == NULL)
        return 0;
    h = vmsim__malloc(sim, sizeof(*h));
    if (h == NULL)
        return VMSIM_ENOMEM;
    *h = *ph;
    h->nodes = NULL;
    h->hash = NULL;
    if (ph->cap_nodes != 0) {
        h->nodes = vmsim__malloc(sim, ph->cap_nodes * sizeof(ph->nodes[0]));
        if (h->nodes == NULL)
            goto fail;
        memcpy(h->nodes, ph->nodes, ph->nr_nodes * sizeof(ph->nodes[0]));
    }
    if (ph->hash_cap != 0) {
        h->hash = vmsim__malloc(sim, ph->hash_cap * sizeof(ph->hash[0]));
        if (h->hash == NULL)
            goto fail;
        memcpy(h->hash, ph->hash, ph->hash_cap * sizeof(ph->hash[0]));
    }
    child->heap = h;
    return 0;
fail:
    vmsim__free(sim, h->nodes);
    vmsim__free(sim, h);
    return VMSIM_ENOMEM;
}

/* ---- invariants ------------------------------------------------------------ */

/* Recount the treap: BST order, heap order, only free chunks. Returns the
 * number of nodes, or SIZE_MAX on a violation. */
static size_t check_treap(const struct vmsim__heap *h, uint32_t t, uint32_t lo, uint32_t hi,
                          unsigned depth)
{
    const struct hnode *nd = h->nodes;
    size_t l, r;

    if (t == NIL32)
        return 0;
    if (depth > 4096 || t >= h->nr_nodes || nd[t].kind != NODE_FREE)
        return SIZE_MAX;
    if ((lo != NIL32 && !key_before(nd, lo, t)) || (hi != NIL32 && !key_before(nd, t, hi)))
        return SIZE_MAX;
    if ((nd[t].left != NIL32 && nd[nd[t].left].prio > nd[t].prio) ||
        (nd[t].right != NIL32 && nd[nd[t].right].prio > nd[t].prio))
        return SIZE_MAX;
    l = check_treap(h, nd[t].left, lo, t, depth + 1);
    r = check_treap(h, nd[t].right, t, hi, depth + 1);
    if (l == SIZE_MAX || r == SIZE_MAX)
        return SIZE_MAX;
    return l + r + 1;
}

/*
 * Verify p's heap records: the chunk list tiles [base, top) with no two
 * free chunks adjacent and none next to top; the treap holds exactly the
 * free chunks; the live table exactly the allocations; the tcache bins the
 * cached chunks; the figures add up; mmapped chunks lie inside mappings.
 * Returns 0 or VMSIM_ECORRUPT with a reason in buf.
 */
int vmsim__heap_check(const struct vmsim *sim, const struct vmsim__proc *p, char *buf,
                      size_t len)
{
    const struct vmsim__heap *h = p->heap;
    const struct hnode *nd;
    uint64_t in_use = 0, requested = 0, mmapped = 0, nr_allocs = 0, nr_mmapped = 0;
    size_t nr_free = 0, nr_cached = 0, nr_treap, used_slots = 0;
    vmsim_vaddr_t at;
    uint32_t prev = NIL32, c;
    int pid = p->pid;

    (void)sim;
    if (h == NULL)
        return 0;
    if (!p->alive || p->mm == NULL)
        return vmsim__corrupt(buf, len, "pid %d: a dead process has heap records", pid);
    nd = h->nodes;
    if (h->arena) {
        if (h->top < h->base || h->end < h->top || top_size(h) < MINSIZE ||
            h->max_end < h->end)
            return vmsim__corrupt(buf, len, "pid %d: heap top [%#llx, %#llx) is malformed", pid,
                                  (unsigned long long)h->top, (unsigned long long)h->end);
        /* walk backwards from the last chunk to the base */
        at = h->top;
        for (c = h->last; c != NIL32; c = nd[c].prev) {
            if (c >= h->nr_nodes || nd[c].addr + nd[c].size != at || nd[c].next != prev ||
                nd[c].size < (nd[c].kind == NODE_FENCE ? CHUNK_HDR_SZ : MINSIZE) ||
                (nd[c].addr & (MALLOC_ALIGN - 1)) != 0)
                return vmsim__corrupt(buf, len, "pid %d: heap chunk list broken at %#llx",
                                      pid, (unsigned long long)at);
            switch (nd[c].kind) {
            case NODE_FREE:
                if (prev == NIL32 || nd[prev].kind == NODE_FREE)
                    return vmsim__corrupt(buf, len, "pid %d: free chunk %#llx not coalesced",
                                          pid, (unsigned long long)nd[c].addr);
                nr_free++;
                break;
            case NODE_USED:
                if (hash_find(h, user_ptr(&nd[c])) != c)
                    return vmsim__corrupt(buf, len, "pid %d: chunk %#llx in use but not live",
                                          pid, (unsigned long long)nd[c].addr);
                in_use += nd[c].size;
                break;
            case NODE_LIBC:
                in_use += nd[c].size;
                break;
            case NODE_CACHED:
                nr_cached++;
                break;
            case NODE_FENCE:
                break;
            default:
                return vmsim__corrupt(buf, len, "pid %d: chunk %#llx of kind %u in the arena",
                                      pid, (unsigned long long)nd[c].addr, nd[c].kind);
            }
            at = nd[c].addr;
            prev = c;
            used_slots++;
        }
        if (at != h->base)
            return vmsim__corrupt(buf, len, "pid %d: heap chunks start at %#llx, not %#llx",
                                  pid, (unsigned long long)at, (unsigned long long)h->base);
    } else if (h->last != NIL32 || h->root != NIL32) {
        return vmsim__corrupt(buf, len, "pid %d: heap chunks without an arena", pid);
    }
    nr_treap = check_treap(h, h->root, NIL32, NIL32, 0);
    if (nr_treap != nr_free)
        return vmsim__corrupt(buf, len, "pid %d: free tree holds %zu chunks, the arena %zu",
                              pid, nr_treap, nr_free);
    {
        size_t cached = 0;

        for (unsigned i = 0; i < TCACHE_BINS; i++) {
            if (h->tc_count[i] > TCACHE_COUNT)
                return vmsim__corrupt(buf, len, "pid %d: tcache bin %u overfull", pid, i);
            for (unsigned j = 0; j < h->tc_count[i]; j++) {
                c = h->tc_bin[i][j];
                if (c >= h->nr_nodes || nd[c].kind != NODE_CACHED || tc_index(nd[c].size) != i)
                    return vmsim__corrupt(buf, len, "pid %d: tcache bin %u holds a stranger",
                                          pid, i);
                cached++;
            }
        }
        if (cached != nr_cached || (cached != 0 && h->tcache == 0))
            return vmsim__corrupt(buf, len, "pid %d: %zu cached chunks, %zu in tcache bins",
                                  pid, nr_cached, cached);
    }
    for (size_t i = 0; i < h->hash_cap; i++) {
        const struct vmsim__vma *vma;

        c = h->hash[i];
        if (c == NIL32)
            continue;
        if (c >= h->nr_nodes || (nd[c].kind != NODE_USED && nd[c].kind != NODE_MMAP))
            return vmsim__corrupt(buf, len, "pid %d: live table holds a non-allocation", pid);
        requested += nd[c].req;
        nr_allocs++;
        if (nd[c].kind != NODE_MMAP)
            continue;
        mmapped += nd[c].size;
        nr_mmapped++;
        used_slots++;
        vma = vmsim__vma_find(p->mm, nd[c].addr);
        if ((nd[c].addr & (PAGE_SIZE - 1)) != 0 || (nd[c].size & (PAGE_SIZE - 1)) != 0 ||
            nd[c].size < mmap_len(request2size(nd[c].req)) || vma == NULL ||
            vma->start > nd[c].addr)
            return vmsim__corrupt(buf, len, "pid %d: mmapped chunk %#llx is not mapped", pid,
                                  (unsigned long long)nd[c].addr);
    }
    if (nr_allocs != h->hash_used || nr_allocs != h->nr_allocs || requested != h->requested ||
        in_use != h->in_use || mmapped != h->mmapped || nr_mmapped != h->nr_mmapped)
        return vmsim__corrupt(buf, len, "pid %d: heap figures do not add up (allocs %llu/%llu, "
                              "in use %llu/%llu, mmapped %llu/%llu)", pid,
                              (unsigned long long)nr_allocs, (unsigned long long)h->nr_allocs,
                              (unsigned long long)in_use, (unsigned long long)h->in_use,
                              (unsigned long long)mmapped, (unsigned long long)h->mmapped);
    if (used_slots + h->nr_free_slots != h->nr_nodes)
        return vmsim__corrupt(buf, len, "pid %d: heap record pool leaks (%zu + %zu != %zu)",
                              pid, used_slots, h->nr_free_slots, h->nr_nodes);
    return 0;
}
