/*
 * filemap.c -- a tiny file system and the page cache (mm/filemap.c,
 * mm/readahead.c, mm/shmem.c, fs/drop_caches.c in Linux).
 *
 * A file has a size and, with track_data, its on-disk bytes. The page
 * cache maps (file, page index) to a frame holding one reference; every
 * mapping entry adds one more. Regular files are read from "disk" on a
 * miss (a major fault when a fault waits for it) with Linux's read-around
 * and readahead windows; tmpfs files (/dev/shm/...) and shared anonymous
 * memory are shmem: their pages exist only in memory, and a hole reads as
 * zeros or is allocated zeroed on a fault.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* MMAP_LOTSAMISS: past this many mmap misses read-around stops */
#define MMAP_LOTSAMISS 100

/* ---- sparse page arrays ------------------------------------------------ */

uint64_t vmsim__sparse_get(const struct vmsim__sparse *sa, uint64_t idx)
{
    uint64_t c = idx >> SPARSE_SHIFT;

    if (c >= sa->nr_chunks || sa->chunks[c] == NULL)
        return 0;
    return sa->chunks[c][idx & (SPARSE_SIZE - 1)];
}

int vmsim__sparse_set(const struct vmsim *sim, struct vmsim__sparse *sa, uint64_t idx,
                      uint64_t val)
{
    uint64_t c = idx >> SPARSE_SHIFT;

    if (c >= sa->nr_chunks) {
        uint64_t n = sa->nr_chunks ? sa->nr_chunks : 1;
        uint64_t **p;

        if (val == 0)
            return 0;
        while (n <= c)
            n *= 2;
        p = vmsim__realloc(sim, sa->chunks, n * sizeof(*p));
        if (p == NULL)
            return VMSIM_ENOMEM;
        memset(p + sa->nr_chunks, 0, (n - sa->nr_chunks) * sizeof(*p));
        sa->chunks = p;
        sa->nr_chunks = n;
    }
    if (sa->chunks[c] == NULL) {
        if (val == 0)
            return 0;
        sa->chunks[c] = vmsim__calloc(sim, SPARSE_SIZE, sizeof(uint64_t));
        if (sa->chunks[c] == NULL)
            return VMSIM_ENOMEM;
    }
    sa->chunks[c][idx & (SPARSE_SIZE - 1)] = val;
    return 0;
}

void vmsim__sparse_free(const struct vmsim *sim, struct vmsim__sparse *sa)
{
    for (uint64_t c = 0; c < sa->nr_chunks; c++)
        vmsim__free(sim, sa->chunks[c]);
    vmsim__free(sim, sa->chunks);
    sa->chunks = NULL;
    sa->nr_chunks = 0;
}

/* ---- page contents ----------------------------------------------------- */

uint8_t *vmsim__frame_data(struct vmsim *sim, vmsim_pfn_t pfn, bool alloc)
{
    if (sim->frame_data == NULL || pfn >= sim->nr_frames)
        return NULL;
    if (sim->frame_data[pfn] == NULL && alloc)
        sim->frame_data[pfn] = vmsim__calloc(sim, 1, PAGE_SIZE);
    return sim->frame_data[pfn];
}

void vmsim__frame_data_drop(struct vmsim *sim, vmsim_pfn_t pfn)
{
    if (sim->frame_data == NULL || pfn >= sim->nr_frames)
        return;
    vmsim__free(sim, sim->frame_data[pfn]);
    sim->frame_data[pfn] = NULL;
}

void vmsim__frame_data_copy(struct vmsim *sim, vmsim_pfn_t dst, vmsim_pfn_t src)
{
    const uint8_t *s;
    uint8_t *d;

    if (sim->frame_data == NULL)
        return;
    s = src < sim->nr_frames ? sim->frame_data[src] : NULL;
    if (s == NULL) {
        vmsim__frame_data_free(sim, dst);
        return;
    }
    d = vmsim__frame_data(sim, dst, true);
    if (d != NULL)
        memcpy(d, s, PAGE_SIZE);
}

/* ---- files ------------------------------------------------------------- */

struct vmsim__file *vmsim__file_lookup(const struct vmsim *sim, const char *name)
{
    struct vmsim__file *f = NULL;

    HASH_FIND_STR(sim->file_names, name, f);
    return f;
}

static int file_alloc(struct vmsim *sim, const char *name, struct vmsim__file **out)
{
    struct vmsim__file *f;
    size_t id = sim->nr_files ? sim->nr_files : 1;

    /* reuse a free id first so ids stay small */
    for (size_t i = 1; i < sim->nr_files; i++) {
        if (sim->files[i] == NULL) {
            id = i;
            break;
        }
    }
    if (id >= UINT32_MAX)
        return VMSIM_ERANGE;
    if (id >= sim->nr_files &&
        vmsim__grow(sim, (void **)&sim->files, &sim->cap_files, id + 1, sizeof(*sim->files)) < 0)
        return VMSIM_ENOMEM;
    f = vmsim__calloc(sim, 1, sizeof(*f));
    if (f == NULL)
        return VMSIM_ENOMEM;
    f->name = vmsim__malloc(sim, strlen(name) + 1);
    if (f->name == NULL) {
        vmsim__free(sim, f);
        return VMSIM_ENOMEM;
    }
    strcpy(f->name, name);
    f->id = (uint32_t)id;
    if (id >= sim->nr_files) {
        for (size_t i = sim->nr_files; i < id; i++)
            sim->files[i] = NULL;
        sim->nr_files = id + 1;
    }
    sim->files[id] = f;
    *out = f;
    return 0;
}

/* Remove every cached page (none may be mapped) and free the file. */
static void file_free(struct vmsim *sim, struct vmsim__file *f)
{
    for (uint64_t c = 0; c < f->cache.nr_chunks; c++) {
        if (f->cache.chunks[c] == NULL)
            continue;
        for (uint64_t i = 0; i < SPARSE_SIZE; i++) {
            uint64_t v = f->cache.chunks[c][i];

            if (v & PC_SWAP) {
                vmsim__swap_free_entry(sim, v & ~PC_SWAP);
                if (!f->anon_shm)
                    sim->committed_pages--;
            } else if (v != 0 && !(v & PC_SHADOW)) {
                struct vmsim__frame *fr = pfn_frame(sim, v - 1);

                VMSIM_ASSERT(fr->mapcount == 0);
                if (fr->flags & PG_DIRTY)
                    sim->vmstat[VMSIM_VMSTAT_NR_DIRTY]--;
                if (f->shmem && !f->anon_shm)
                    sim->committed_pages--;
                sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES]--;
                if (fr->flags & PG_SHMEM)
                    sim->vmstat[VMSIM_VMSTAT_NR_SHMEM]--;
                vmsim__put_page(sim, v - 1);
            }
        }
    }
    for (uint64_t c = 0; c < f->disk.nr_chunks; c++) {
        if (f->disk.chunks[c] == NULL)
            continue;
        for (uint64_t i = 0; i < SPARSE_SIZE; i++)
            vmsim__free(sim, (void *)(uintptr_t)f->disk.chunks[c][i]);
    }
    if (f->charged)
        sim->committed_pages -= f->charged;
    vmsim__sparse_free(sim, &f->cache);
    vmsim__sparse_free(sim, &f->disk);
    if (!f->anon_shm)
        HASH_DEL(sim->file_names, f);
    sim->files[f->id] = NULL;
    vmsim__free(sim, f->name);
    vmsim__free(sim, f);
}

/* Whether any VMA of a live process maps file id. */
static bool file_mapped(const struct vmsim *sim, uint32_t id)
{
    for (size_t i = 0; i < sim->nr_procs; i++) {
        const struct vmsim__mm *mm = sim->procs[i]->mm;

        if (mm == NULL)
            continue;
        for (size_t j = 0; j < mm->nr_vmas; j++)
            if (mm->vmas[j].file == id)
                return true;
    }
    return false;
}

static bool is_shm_name(const char *name)
{
    return strncmp(name, "/dev/shm/", 9) == 0;
}

/* Store bytes on the file's disk (track_data), page by page. */
static int disk_write(struct vmsim *sim, struct vmsim__file *f, uint64_t off,
                      const uint8_t *buf, uint64_t len)
{
    while (len > 0) {
        uint64_t idx = off / PAGE_SIZE, in = off % PAGE_SIZE;
        uint64_t n = PAGE_SIZE - in < len ? PAGE_SIZE - in : len;
        uint8_t *page = (uint8_t *)(uintptr_t)vmsim__sparse_get(&f->disk, idx);

        if (page == NULL) {
            page = vmsim__calloc(sim, 1, PAGE_SIZE);
            if (page == NULL || vmsim__sparse_set(sim, &f->disk, idx, (uintptr_t)page) < 0) {
                vmsim__free(sim, page);
                return VMSIM_ENOMEM;
            }
        }
        if (buf != NULL) {
            memcpy(page + in, buf, n);
            buf += n;
        } else {
            memset(page + in, 0, n);
        }
        off += n;
        len -= n;
    }
    return 0;
}

/* ---- the page cache ---------------------------------------------------- */

vmsim_pfn_t vmsim__pagecache_find(const struct vmsim__file *f, uint64_t idx)
{
    uint64_t v = vmsim__sparse_get(&f->cache, idx);

    return (v == 0 || (v & (PC_SHADOW | PC_SWAP))) ? PFN_NONE : v - 1;
}

/* Add a new page at idx: read from disk if `read` (a regular file's page
 * within its size), else zeroed. */
static int pagecache_add(struct vmsim *sim, struct vmsim__file *f, uint64_t idx, bool read,
                         vmsim_pfn_t *out)
{
    struct vmsim__frame *fr;
    vmsim_pfn_t pfn;
    uint64_t old = vmsim__sparse_get(&f->cache, idx);
    int err = vmsim__alloc_user_page(sim, &pfn);

    if (err < 0)
        return err;
    if (old & PC_SHADOW)
        count_vm_event(sim, VMSIM_VMSTAT_WORKINGSET_REFAULT_FILE);
    err = vmsim__sparse_set(sim, &f->cache, idx, pfn + 1);
    if (err < 0) {
        vmsim__put_page(sim, pfn);
        return err;
    }
    fr = pfn_frame(sim, pfn);
    fr->flags |= PG_FILE | (f->shmem ? PG_SHMEM : 0);
    fr->mapping = f->id;
    fr->index = idx;
    f->nr_cached++;
    count_vm_event(sim, VMSIM_VMSTAT_NR_FILE_PAGES);
    if (f->shmem) {
        count_vm_event(sim, VMSIM_VMSTAT_NR_SHMEM);
        if (!f->anon_shm) /* tmpfs charges its pages as they appear */
            sim->committed_pages++;
    } else if (read) {
        /* read the page from disk */
        const uint8_t *src = (const uint8_t *)(uintptr_t)vmsim__sparse_get(&f->disk, idx);

        if (src != NULL) {
            uint8_t *dst = vmsim__frame_data(sim, pfn, true);

            if (dst != NULL)
                memcpy(dst, src, PAGE_SIZE);
        }
        sim->vmstat[VMSIM_VMSTAT_PGPGIN] += PAGE_SIZE / 1024;
    }
    vmsim__lru_add(sim, pfn);
    *out = pfn;
    return 0;
}

/* Read the missing pages of [start, start + nr) ∩ the file into the cache. */
static int do_page_cache_ra(struct vmsim *sim, struct vmsim__file *f, uint64_t start,
                            uint64_t nr)
{
    uint64_t end = file_pages(f);

    if (start + nr < end)
        end = start + nr;
    for (uint64_t i = start; i < end; i++) {
        vmsim_pfn_t pfn;
        int err;

        if (vmsim__pagecache_find(f, i) != PFN_NONE)
            continue;
        err = pagecache_add(sim, f, i, true, &pfn);
        if (err < 0)
            return err;
    }
    return 0;
}

int vmsim__file_readahead(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                          uint64_t nr)
{
    if (f->shmem)
        return 0;
    return do_page_cache_ra(sim, f, idx, nr);
}

static uint64_t ra_pages(const struct vmsim *sim)
{
    return sim->cfg.read_ahead_kb / 4;
}

/*
 * A fault missed the cache (do_sync_mmap_readahead): MADV_RANDOM or no
 * readahead reads the one page; MADV_SEQUENTIAL reads ra_pages from it;
 * otherwise, unless the file misses too often, read-around reads ra_pages
 * centred on it.
 */
static int sync_mmap_readahead(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                               const struct vmsim__vma *vma)
{
    uint64_t ra = ra_pages(sim);
    struct vmsim__ra *st = &f->ra;

    if ((vma->flags & VMA_RAND_READ) || ra == 0)
        return 0;
    if (vma->flags & VMA_SEQ_READ) {
        st->start = idx;
        st->size = ra;
        st->async_size = ra / 4;
        return do_page_cache_ra(sim, f, idx, ra);
    }
    if (st->mmap_miss < MMAP_LOTSAMISS * 10)
        st->mmap_miss++;
    if (st->mmap_miss > MMAP_LOTSAMISS)
        return 0;
    st->start = idx > ra / 2 ? idx - ra / 2 : 0;
    st->size = ra;
    st->async_size = ra / 4;
    return do_page_cache_ra(sim, f, st->start, st->size);
}

int vmsim__filemap_get(struct vmsim *sim, struct vmsim__file *f, uint64_t idx,
                       const struct vmsim__vma *vma, vmsim_pfn_t *pfn, bool *major)
{
    int err;

    *major = false;
    if (vmsim__sparse_get(&f->cache, idx) & PC_SWAP)
        return vmsim__shmem_swapin(sim, f, idx, pfn, major);
    *pfn = vmsim__pagecache_find(f, idx);
    if (*pfn != PFN_NONE) {
        if (f->ra.mmap_miss > 0)
            f->ra.mmap_miss--;
        return 0;
    }
    if (f->shmem)
        return pagecache_add(sim, f, idx, false, pfn);
    err = sync_mmap_readahead(sim, f, idx, vma);
    if (err < 0)
        return err;
    *pfn = vmsim__pagecache_find(f, idx);
    if (*pfn == PFN_NONE) {
        err = pagecache_add(sim, f, idx, true, pfn);
        if (err < 0)
            return err;
    }
    *major = true;
    return 0;
}

void vmsim__mark_page_accessed(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *fr = pfn_frame(sim, pfn);

    /* inactive,unreferenced -> inactive,referenced -> active */
    if (!(fr->flags & PG_REFERENCED)) {
        fr->flags |= PG_REFERENCED;
    } else if ((fr->flags & PG_LRU) && !(fr->flags & PG_ACTIVE)) {
        vmsim__lru_del(sim, pfn);
        fr->flags |= PG_ACTIVE;
        vmsim__lru_add(sim, pfn);
        fr->flags &= (uint16_t)~PG_REFERENCED;
        count_vm_event(sim, VMSIM_VMSTAT_PGACTIVATE);
    }
}

void vmsim__page_mark_dirty(struct vmsim *sim, vmsim_pfn_t pfn)
{
    struct vmsim__frame *fr = pfn_frame(sim, pfn);

    /* shmem pages are never accounted dirty (noop_dirty_folio) */
    if ((fr->flags & PG_FILE) && !(fr->flags & PG_SHMEM) && !(fr->flags & PG_DIRTY)) {
        fr->flags |= PG_DIRTY;
        count_vm_event(sim, VMSIM_VMSTAT_NR_DIRTY);
    }
}

struct mkclean {
    vmsim_pfn_t pfn;
};

static int mkclean_one(struct vmsim *sim, struct vmsim__proc *p, struct vmsim__vma *vma,
                       vmsim_vaddr_t va, pte_t *pte, void *arg)
{
    (void)vma, (void)arg;
    vmsim__flush_tlb_page(sim, p->mm, va);
    *pte &= ~(PTE_RW | PTE_D);
    return 0;
}

void vmsim__file_writeback(struct vmsim *sim, struct vmsim__file *f, uint64_t first,
                           uint64_t last)
{
    if (f->shmem)
        return;
    for (uint64_t i = first; i <= last && i < file_pages(f); i++) {
        vmsim_pfn_t pfn = vmsim__pagecache_find(f, i);
        struct vmsim__frame *fr;

        if (pfn == PFN_NONE)
            continue;
        fr = pfn_frame(sim, pfn);
        if (!(fr->flags & PG_DIRTY))
            continue;
        vmsim__rmap_walk(sim, pfn, mkclean_one, NULL);
        if (sim->frame_data != NULL) {
            const uint8_t *src = sim->frame_data[pfn];
            uint64_t n = f->size - i * PAGE_SIZE < PAGE_SIZE ? f->size - i * PAGE_SIZE
                                                              : PAGE_SIZE;

            if (disk_write(sim, f, i * PAGE_SIZE, src, n) < 0)
                continue; /* host OOM: the page stays dirty */
        }
        fr->flags &= (uint16_t)~PG_DIRTY;
        sim->vmstat[VMSIM_VMSTAT_NR_DIRTY]--;
        sim->vmstat[VMSIM_VMSTAT_PGPGOUT] += PAGE_SIZE / 1024;
        vmsim__charge(sim, VMSIM_COST_writeback, 1);
    }
}

void vmsim__drop_pagecache(struct vmsim *sim)
{
    for (size_t id = 1; id < sim->nr_files; id++) {
        struct vmsim__file *f = sim->files[id];

        if (f == NULL || f->shmem)
            continue;
        for (uint64_t c = 0; c < f->cache.nr_chunks; c++) {
            if (f->cache.chunks[c] == NULL)
                continue;
            for (uint64_t i = 0; i < SPARSE_SIZE; i++) {
                uint64_t v = f->cache.chunks[c][i];
                const struct vmsim__frame *fr;

                if (v == 0 || (v & (PC_SHADOW | PC_SWAP)))
                    continue;
                fr = pfn_frame(sim, v - 1);
                /* invalidate_mapping_pages() keeps dirty and mapped pages */
                if (fr->mapcount != 0 || (fr->flags & PG_DIRTY))
                    continue;
                f->cache.chunks[c][i] = 0;
                f->nr_cached--;
                sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES]--;
                vmsim__put_page(sim, v - 1);
            }
        }
    }
}

int vmsim__file_new_anon(struct vmsim *sim, uint64_t size, bool noreserve, uint32_t *id)
{
    struct vmsim__file *f;
    uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    int err;

    if (!noreserve && !vmsim__vm_enough_memory(sim, pages))
        return VMSIM_SYS_ENOMEM;
    err = file_alloc(sim, "/dev/zero (deleted)", &f);
    if (err < 0) {
        if (!noreserve)
            sim->committed_pages -= pages;
        return err;
    }
    f->shmem = f->anon_shm = true;
    f->size = size;
    f->charged = noreserve ? 0 : pages;
    *id = f->id;
    return 0;
}

void vmsim__file_release_if_unused(struct vmsim *sim, uint32_t id)
{
    struct vmsim__file *f = file_of(sim, id);

    if (f != NULL && f->anon_shm && f->pins == 0 && !file_mapped(sim, id))
        file_free(sim, f);
}

void vmsim__files_destroy(struct vmsim *sim)
{
    for (size_t id = 1; id < sim->nr_files; id++)
        if (sim->files[id] != NULL)
            file_free(sim, sim->files[id]);
    vmsim__free(sim, sim->files);
    sim->files = NULL;
    sim->nr_files = sim->cap_files = 0;
}

/* ---- public API -------------------------------------------------------- */

int vmsim_file_create(vmsim_t *sim, const char *name, uint64_t size, const void *data,
                      size_t data_len)
{
    struct vmsim__file *f, *old;
    int err;

    if (sim->panicked)
        return VMSIM_EPANIC;
    if (name == NULL || name[0] == '\0' || data_len > size)
        return VMSIM_EINVAL;
    if (size > VMSIM_MAX_FILE_SIZE)
        return VMSIM_ERANGE;
    old = vmsim__file_lookup(sim, name);
    if (old != NULL) {
        if (file_mapped(sim, old->id))
            return VMSIM_EEXIST;
        file_free(sim, old);
    }
    err = file_alloc(sim, name, &f);
    if (err < 0)
        return err;
    f->size = size;
    f->shmem = is_shm_name(name);
    HASH_ADD_KEYPTR(hh, sim->file_names, f->name, strlen(f->name), f);
    if (data != NULL && data_len > 0) {
        if (f->shmem) {
            /* tmpfs: the bytes live in memory from the start */
            for (uint64_t off = 0; off < data_len; off += PAGE_SIZE) {
                vmsim_pfn_t pfn;
                uint8_t *d;
                uint64_t n = data_len - off < PAGE_SIZE ? data_len - off : PAGE_SIZE;

                err = pagecache_add(sim, f, off / PAGE_SIZE, false, &pfn);
                if (err < 0)
                    goto fail;
                d = vmsim__frame_data(sim, pfn, sim->frame_data != NULL);
                if (d != NULL)
                    memcpy(d, (const uint8_t *)data + off, n);
            }
        } else if (sim->frame_data != NULL) {
            err = disk_write(sim, f, 0, data, data_len);
            if (err < 0)
                goto fail;
        }
    }
    return 0;
fail:
    file_free(sim, f);
    return err;
}

static int file_syscall(vmsim_t *sim, vmsim_pid_t pid, const char *name,
                        struct vmsim__proc **p, struct vmsim__file **f)
{
    if (sim->panicked)
        return VMSIM_EPANIC;
    *p = vmsim__proc_find(sim, pid);
    if (*p == NULL || !(*p)->alive)
        return VMSIM_ESRCH;
    if (name == NULL)
        return VMSIM_EINVAL;
    *f = vmsim__file_lookup(sim, name);
    if (*f == NULL) {
        (*p)->last_errno = VMSIM_SYS_ENOENT;
        return VMSIM_SYS_ENOENT;
    }
    return 0;
}

static int file_read(vmsim_t *sim, vmsim_pid_t pid, const char *name, uint64_t offset,
                     uint64_t len, void *buf, uint64_t *done)
{
    struct vmsim__proc *p;
    struct vmsim__file *f;
    uint64_t end, pos;
    int err = file_syscall(sim, pid, name, &p, &f);

    if (err != 0)
        return err;
    if (done != NULL)
        *done = 0;
    if (offset >= f->size || len == 0) {
        p->last_errno = 0;
        return 0;
    }
    end = f->size - offset < len ? f->size : offset + len;
    /* Readahead for read(): whatever is missing in the request, plus one
     * window beyond it, as a sequential reader would trigger. */
    if (!f->shmem) {
        uint64_t first = offset / PAGE_SIZE, last = (end - 1) / PAGE_SIZE;

        err = do_page_cache_ra(sim, f, first, last - first + 1 + ra_pages(sim));
        if (err < 0)
            return err;
    }
    for (pos = offset; pos < end;) {
        uint64_t idx = pos / PAGE_SIZE, in = pos % PAGE_SIZE;
        uint64_t n = PAGE_SIZE - in < end - pos ? PAGE_SIZE - in : end - pos;
        vmsim_pfn_t pfn = vmsim__pagecache_find(f, idx);

        if (vmsim__sparse_get(&f->cache, idx) & PC_SWAP) {
            bool major;

            err = vmsim__shmem_swapin(sim, f, idx, &pfn, &major);
            if (err < 0)
                return err;
            if (major)
                sim->vmstat[VMSIM_VMSTAT_PGMAJFAULT]--; /* read() does not fault */
        } else if (pfn == PFN_NONE && !f->shmem) {
            /* reclaim took it again since the readahead: read it now */
            err = pagecache_add(sim, f, idx, true, &pfn);
            if (err < 0)
                return err;
        }
        if (buf != NULL) {
            const uint8_t *d = pfn != PFN_NONE ? vmsim__frame_data(sim, pfn, false) : NULL;

            if (d != NULL)
                memcpy((uint8_t *)buf + (pos - offset), d + in, n);
            else
                memset((uint8_t *)buf + (pos - offset), 0, n);
        }
        if (pfn != PFN_NONE)
            vmsim__mark_page_accessed(sim, pfn);
        pos += n;
    }
    if (done != NULL)
        *done = end - offset;
    p->last_errno = 0;
    return 0;
}

static int file_write(vmsim_t *sim, vmsim_pid_t pid, const char *name, uint64_t offset,
                      uint64_t len, const void *buf)
{
    struct vmsim__proc *p;
    struct vmsim__file *f;
    uint64_t pos, end;
    int err = file_syscall(sim, pid, name, &p, &f);

    if (err != 0)
        return err;
    if (len == 0) {
        p->last_errno = 0;
        return 0;
    }
    if (offset + len < offset || offset + len > VMSIM_MAX_FILE_SIZE) {
        p->last_errno = VMSIM_SYS_EFBIG;
        return VMSIM_SYS_EFBIG;
    }
    end = offset + len;
    for (pos = offset; pos < end;) {
        uint64_t idx = pos / PAGE_SIZE, in = pos % PAGE_SIZE;
        uint64_t n = PAGE_SIZE - in < end - pos ? PAGE_SIZE - in : end - pos;
        vmsim_pfn_t pfn = vmsim__pagecache_find(f, idx);

        if (vmsim__sparse_get(&f->cache, idx) & PC_SWAP) {
            bool major;

            err = vmsim__shmem_swapin(sim, f, idx, &pfn, &major);
            if (err < 0)
                return err;
            if (major)
                sim->vmstat[VMSIM_VMSTAT_PGMAJFAULT]--;
        }
        if (pfn == PFN_NONE) {
            /* write_begin reads a partly overwritten page within the file;
             * a page past EOF or wholly overwritten needs no read */
            bool read = !f->shmem && idx < file_pages(f) && n < PAGE_SIZE;

            err = pagecache_add(sim, f, idx, read, &pfn);
            if (err < 0)
                return err;
        }
        if (sim->frame_data != NULL) {
            uint8_t *d = vmsim__frame_data(sim, pfn, true);

            if (d == NULL)
                return VMSIM_ENOMEM;
            if (buf != NULL)
                memcpy(d + in, (const uint8_t *)buf + (pos - offset), n);
            else
                memset(d + in, 0, n);
        }
        vmsim__page_mark_dirty(sim, pfn);
        vmsim__mark_page_accessed(sim, pfn);
        pos += n;
    }
    if (end > f->size)
        f->size = end;
    p->last_errno = 0;
    return 0;
}

int vmsim_file_read(vmsim_t *sim, vmsim_pid_t pid, const char *name, uint64_t offset,
                    uint64_t len, void *buf, uint64_t *done)
{
    struct vmsim__proc *p = vmsim__proc_find(sim, pid), *saved;

    if (p == NULL || !p->alive)
        return sim->panicked ? VMSIM_EPANIC : VMSIM_ESRCH;
    saved = vmsim__api_begin(sim, p);
    return vmsim__api_end(sim, p, saved, file_read(sim, pid, name, offset, len, buf, done));
}

int vmsim_file_write(vmsim_t *sim, vmsim_pid_t pid, const char *name, uint64_t offset,
                     uint64_t len, const void *buf)
{
    struct vmsim__proc *p = vmsim__proc_find(sim, pid), *saved;

    if (p == NULL || !p->alive)
        return sim->panicked ? VMSIM_EPANIC : VMSIM_ESRCH;
    saved = vmsim__api_begin(sim, p);
    return vmsim__api_end(sim, p, saved, file_write(sim, pid, name, offset, len, buf));
}

int vmsim_file_peek(const vmsim_t *sim, const char *name, uint64_t offset, void *buf,
                    uint64_t len, uint64_t *size_out)
{
    const struct vmsim__file *f = vmsim__file_lookup(sim, name);

    if (f == NULL)
        return VMSIM_ENOENT;
    if (size_out != NULL)
        *size_out = f->size;
    for (uint64_t pos = 0; pos < len; pos++) {
        uint64_t at = offset + pos, idx = at / PAGE_SIZE;
        vmsim_pfn_t pfn = vmsim__pagecache_find(f, idx);
        const uint8_t *page;

        if (at >= f->size) {
            ((uint8_t *)buf)[pos] = 0;
            continue;
        }
        if (pfn != PFN_NONE)
            page = sim->frame_data != NULL ? sim->frame_data[pfn] : NULL;
        else if (vmsim__sparse_get(&f->cache, idx) & PC_SWAP)
            page = sim->slot_data != NULL
                       ? sim->slot_data[vmsim__sparse_get(&f->cache, idx) & ~PC_SWAP]
                       : NULL; /* a tmpfs page in swap */
        else
            page = (const uint8_t *)(uintptr_t)vmsim__sparse_get(&f->disk, idx);
        ((uint8_t *)buf)[pos] = page != NULL ? page[at % PAGE_SIZE] : 0;
    }
    return 0;
}
