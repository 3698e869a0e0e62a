/*
 * hostmem.c -- where the host keeps the simulator's hot data, and in what
 * pages.
 *
 * A replay over a large working set reads the simulated page tables and
 * the swap map at random: 8 MiB of page tables and 4 MiB of swap map for
 * a million pages. In 4 KiB host pages every such read is also a host TLB
 * miss, which on a virtual machine is a two-dimensional walk. Backed by
 * 2 MiB host pages (transparent huge pages, madvise mode) the same
 * replays run 25 - 35 % faster (docs/performance.md).
 *
 * So, with the default allocator (cfg.alloc unset) and outside
 * AddressSanitizer builds:
 *
 *   - simulated page tables come from 2 MiB-aligned chunks of 512 tables,
 *     advised MADV_HUGEPAGE; a freed table goes on a free list and is
 *     reused, chunks go back to the host with the machine;
 *   - large arrays indexed by swap slot are advised MADV_HUGEPAGE.
 *
 * With a user allocator every table is one allocation through it (the
 * allocation-failure tests count on that), and under ASan too, so that a
 * table used after its free is caught. Nothing here changes what is
 * simulated: only where the host keeps it.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define VMSIM__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMSIM__ASAN 1
#endif
#endif

#define CHUNK_SIZE ((size_t)2 << 20)
#define TABLE_SIZE ((size_t)PAGE_SIZE)

static bool default_alloc(const struct vmsim *sim)
{
    return sim->cfg.alloc.malloc == NULL && sim->cfg.alloc.calloc == NULL &&
           sim->cfg.alloc.realloc == NULL && sim->cfg.alloc.free == NULL;
}

static bool slab_enabled(const struct vmsim *sim)
{
#ifdef VMSIM__ASAN
    (void)sim;
    return false;
#else
    return default_alloc(sim);
#endif
}

void vmsim__advise_huge(const struct vmsim *sim, void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    uintptr_t start = ((uintptr_t)p + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1);
    uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)(CHUNK_SIZE - 1);

    if (p == NULL || !default_alloc(sim) || end <= start)
        return;
    /* advice only: a kernel without THP says EINVAL, and nothing changes */
    (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)sim, (void)p, (void)len;
#endif
}

pte_t *vmsim__table_mem_alloc(struct vmsim *sim)
{
    struct vmsim__ptmem *m = &sim->ptmem;
    void *t;

    if (!slab_enabled(sim))
        return vmsim__calloc(sim, PT_ENTRIES, sizeof(pte_t));
    if (m->free != NULL) {
        t = m->free;
        m->free = *(void **)t;
    } else {
        if (m->left == 0) {
            void *chunk = NULL;

            if (vmsim__grow(sim, (void **)&m->chunks, &m->cap_chunks, m->nr_chunks + 1,
                            sizeof(*m->chunks)) < 0)
                return NULL;
            if (posix_memalign(&chunk, CHUNK_SIZE, CHUNK_SIZE) != 0)
                return NULL;
            vmsim__advise_huge(sim, chunk, CHUNK_SIZE);
            m->chunks[m->nr_chunks++] = chunk;
            m->next = chunk;
            m->left = CHUNK_SIZE / TABLE_SIZE;
        }
        t = m->next;
        m->next += TABLE_SIZE;
        m->left--;
    }
    memset(t, 0, TABLE_SIZE);
    return t;
}

void vmsim__table_mem_free(struct vmsim *sim, pte_t *table)
{
    struct vmsim__ptmem *m = &sim->ptmem;

    if (table == NULL)
        return;
    if (!slab_enabled(sim)) {
        vmsim__free(sim, table);
        return;
    }
    *(void **)table = m->free;
    m->free = table;
}

void vmsim__table_mem_destroy(struct vmsim *sim)
{
    struct vmsim__ptmem *m = &sim->ptmem;

    for (size_t i = 0; i < m->nr_chunks; i++)
        free(m->chunks[i]);
    vmsim__free(sim, m->chunks);
    memset(m, 0, sizeof(*m));
}
