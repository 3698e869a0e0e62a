/*
 * check.c -- vmsim_check(): walk everything and verify the accounting.
 *
 * It recounts from first principles and compares with what the fast paths
 * maintain: frame mapcounts and refcounts against the leaf entries of
 * every page table, RSS and VmPTE per process, VMA order and commit
 * charges, the buddy lists, and the vmstat gauges.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int vmsim__corrupt(char *buf, size_t len, const char *fmt, ...)
{
    if (buf != NULL && len > 0) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
    return VMSIM_ECORRUPT;
}

/* Whether n words from p are all zero: the loops the check spends its
 * time in (VMSIM_CHECK_SCAN). */
VMSIM_CHECK_SCAN
static bool zero_u64(const uint64_t *p, size_t n)
{
    uint64_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

VMSIM_CHECK_SCAN
static bool zero_u32(const uint32_t *p, size_t n)
{
    uint32_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

struct walk_state {
    const struct vmsim *sim;
    const struct vmsim__proc *proc;
    const struct vmsim__vma *vma; /* the VMA of the last leaf, or NULL */
    uint32_t *maps;         /* per pfn: leaf entries seen */
    uint32_t *swap_refs;    /* per slot: swap entries seen */
    uint32_t *entire;       /* per THP head: PMDs seen */
    uint64_t huge_pmds;     /* per mm: huge PMD entries (each deposits a table) */
    uint64_t hugetlb;       /* per mm: hugetlb memory mapped, 4 KiB units */
    uint64_t hugetlb_rsvd[2];
    uint64_t rss[NR_MM_COUNTERS];
    uint64_t tables[PT_LEVELS];
    char *buf;
    size_t len;
};

static int check_leaf(struct walk_state *ws, pte_t e, vmsim_vaddr_t va, int level)
{
    const struct vmsim *sim = ws->sim;
    const struct vmsim__mm *mm = ws->proc->mm;
    const struct vmsim__vma *vma = ws->vma; /* leaves come in address order */
    vmsim_pfn_t pfn;
    const struct vmsim__frame *f;

    if (vma == NULL || va < vma->start || va >= vma->end)
        ws->vma = vma = vmsim__vma_find(mm, va);
    if (vma == NULL || vma->start > va)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: entry at %#llx outside every VMA",
                              ws->proc->pid, (unsigned long long)va);
    if (!pte_present(e)) {
        uint64_t slot = swp_offset(e);

        if (level != 0 || slot >= sim->nr_swap_slots ||
            (sim->swap_map[slot] & SWP_COUNT) == 0)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: bad swap entry %#llx at %#llx",
                                  ws->proc->pid, (unsigned long long)e,
                                  (unsigned long long)va);
        ws->swap_refs[slot]++;
        ws->rss[MM_SWAPENTS]++;
        return 0;
    }
    if (pte_write(e) && !(vma->prot & VMSIM_PROT_WRITE))
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: writable entry at %#llx in a "
                              "read-only VMA", ws->proc->pid, (unsigned long long)va);
    pfn = pte_pfn(e);
    if (vma->flags & VMSIM_VMA_HUGETLB) {
        const struct vmsim__frame *h = pfn < sim->nr_frames ? pfn_frame(sim, pfn) : NULL;

        if (h == NULL || !(h->flags & PG_HUGETLB) || (unsigned)level != hugetlb_level(vma) ||
            (va & (LEVEL_SIZE(level) - 1)) != 0)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: hugetlb entry at %#llx is not "
                                  "a pool page of the VMA's size", ws->proc->pid,
                                  (unsigned long long)va);
        ws->entire[pfn]++;
        ws->hugetlb += LEVEL_SIZE(level) / PAGE_SIZE;
        return 0;
    }
    if (level == 1) {
        const struct vmsim__frame *h;

        ws->huge_pmds++;
        if (pte_special(e)) {
            if (pfn != sim->huge_zero_pfn || pte_write(e))
                return vmsim__corrupt(ws->buf, ws->len, "pid %d: bad huge zero PMD at %#llx",
                                      ws->proc->pid, (unsigned long long)va);
            return 0;
        }
        h = pfn < sim->nr_frames ? pfn_frame(sim, pfn) : NULL;
        if (h == NULL || !(h->flags & PG_HEAD) || !(h->flags & PG_ANON) ||
            h->index != va >> PAGE_SHIFT || (va & ~PMD_MASK) != 0)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: huge PMD at %#llx does not map "
                                  "a THP of its address", ws->proc->pid,
                                  (unsigned long long)va);
        if (vma->start > va || va + PMD_SIZE > vma->end)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: huge PMD at %#llx crosses the "
                                  "VMA [%#llx, %#llx)", ws->proc->pid, (unsigned long long)va,
                                  (unsigned long long)vma->start,
                                  (unsigned long long)vma->end);
        ws->entire[pfn]++;
        ws->rss[MM_ANONPAGES] += HPAGE_NR;
        return 0;
    }
    if (level != 0)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: level-%d leaf at %#llx",
                              ws->proc->pid, level, (unsigned long long)va);
    if (pte_special(e)) {
        if (pfn != sim->zero_pfn && pfn != sim->huge_zero_pfn)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: special entry at %#llx maps "
                                  "pfn %llu", ws->proc->pid, (unsigned long long)va,
                                  (unsigned long long)pfn);
        if (pte_write(e))
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: writable zero page at %#llx",
                                  ws->proc->pid, (unsigned long long)va);
        return 0;
    }
    if (pfn >= sim->nr_frames)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: entry at %#llx maps pfn %llu "
                              "beyond RAM", ws->proc->pid, (unsigned long long)va,
                              (unsigned long long)pfn);
    f = pfn_frame(sim, pfn);
    if (!(pfn_frame(sim, folio_head(sim, pfn))->flags & PG_ALLOCATED) ||
        (f->flags & (PG_TABLE | PG_BUDDY)) || !(f->flags & (PG_ANON | PG_FILE)))
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: entry at %#llx maps pfn %llu "
                              "which is not a user page (flags %#x)", ws->proc->pid,
                              (unsigned long long)va, (unsigned long long)pfn, f->flags);
    if ((f->flags & PG_FILE) &&
        (vma->file != f->mapping || f->index != vma->pgoff + (va - vma->start) / PAGE_SIZE))
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: cache pfn %llu at %#llx is not the "
                              "VMA's file page", ws->proc->pid, (unsigned long long)pfn,
                              (unsigned long long)va);
    if ((f->flags & PG_FILE) && pte_write(e) && !(vma->flags & VMSIM_VMA_SHARED))
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: private mapping of cache pfn %llu at "
                              "%#llx is writable", ws->proc->pid, (unsigned long long)pfn,
                              (unsigned long long)va);
    if ((f->flags & PG_ANON) && f->index != va >> PAGE_SHIFT)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: anon pfn %llu at %#llx has index "
                              "%#llx", ws->proc->pid, (unsigned long long)pfn,
                              (unsigned long long)va, (unsigned long long)f->index);
    (void)level;
    ws->maps[pfn]++;
    if (f->flags & PG_SHMEM)
        ws->rss[MM_SHMEMPAGES]++;
    else if (f->flags & PG_ANON)
        ws->rss[MM_ANONPAGES]++;
    else
        ws->rss[MM_FILEPAGES]++;
    return 0;
}

static int check_table(struct walk_state *ws, vmsim_pfn_t pfn, int level, vmsim_vaddr_t base)
{
    const struct vmsim *sim = ws->sim;
    const struct vmsim__frame *f;
    const pte_t *table;

    if (pfn >= sim->nr_frames)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: table pfn %llu beyond RAM",
                              ws->proc->pid, (unsigned long long)pfn);
    f = pfn_frame(sim, pfn);
    if (!(f->flags & PG_TABLE) || f->level != level || f->u.table == NULL)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: pfn %llu is not a level-%d table",
                              ws->proc->pid, (unsigned long long)pfn, level);
    if (f->mapping != (uint32_t)ws->proc->pid)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: table pfn %llu belongs to pid %u",
                              ws->proc->pid, (unsigned long long)pfn, f->mapping);
    ws->tables[level]++;
    table = f->u.table;
    for (int i = 0; i < PT_ENTRIES; i++) {
        pte_t e;
        vmsim_vaddr_t va;
        int err;

        /* most of a sparse table is empty: skip it 64, then 8 entries at
         * a time */
        if ((i & 63) == 0 && zero_u64(&table[i], 64)) {
            i += 63;
            continue;
        }
        if ((i & 7) == 0 && zero_u64(&table[i], 8)) {
            i += 7;
            continue;
        }
        e = table[i];
        if (pte_none(e))
            continue;
        va = base + (uint64_t)i * LEVEL_SIZE(level);
        if (level == PT_LEVELS - 1 && i >= 256)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: PML4 entry %d maps kernel space",
                                  ws->proc->pid, i);
        if (level == 0 || pte_huge(e))
            err = check_leaf(ws, e, va, level);
        else if ((e & PTE_TABLE) != PTE_TABLE)
            err = vmsim__corrupt(ws->buf, ws->len, "pid %d: level-%d entry %d is not a table "
                                 "entry", ws->proc->pid, level, i);
        else
            err = check_table(ws, pte_pfn(e), level - 1, va);
        if (err < 0)
            return err;
    }
    return 0;
}

static int check_mm(struct walk_state *ws, uint64_t *committed, uint64_t *tables)
{
    const struct vmsim__proc *p = ws->proc;
    const struct vmsim__mm *mm = p->mm;
    uint64_t total_vm = 0;
    int err;

    for (size_t i = 0; i < mm->nr_vmas; i++) {
        const struct vmsim__vma *v = &mm->vmas[i];

        if (v->start >= v->end || (v->start & ~PAGE_MASK) || (v->end & ~PAGE_MASK) ||
            v->end > TASK_SIZE || (i > 0 && mm->vmas[i - 1].end > v->start))
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: VMA %zu [%#llx, %#llx) is "
                                  "misplaced", p->pid, i, (unsigned long long)v->start,
                                  (unsigned long long)v->end);
        total_vm += (v->end - v->start) / PAGE_SIZE;
        if (v->flags & VMSIM_VMA_ACCOUNT)
            *committed += (v->end - v->start) / PAGE_SIZE;
    }
    if (total_vm != mm->total_vm)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: total_vm %llu, VMAs hold %llu",
                              p->pid, (unsigned long long)mm->total_vm,
                              (unsigned long long)total_vm);
    memset(ws->rss, 0, sizeof(ws->rss));
    memset(ws->tables, 0, sizeof(ws->tables));
    ws->huge_pmds = 0;
    ws->hugetlb = 0;
    ws->vma = NULL;
    err = check_table(ws, mm->pgd, PT_LEVELS - 1, 0);
    if (err < 0)
        return err;
    if (ws->hugetlb != mm->hugetlb_pages)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: HugetlbPages %llu, tables map %llu",
                              p->pid, (unsigned long long)mm->hugetlb_pages,
                              (unsigned long long)ws->hugetlb);
    for (size_t i = 0; i < mm->nr_vmas; i++) {
        const struct vmsim__vma *v = &mm->vmas[i];

        if (v->flags & VMSIM_VMA_HUGETLB)
            ws->hugetlb_rsvd[hugetlb_level(v) - 1] +=
                vmsim__hugetlb_unfaulted((struct vmsim *)ws->sim, (struct vmsim__mm *)mm, v,
                                         v->start, v->end);
    }
    /* every huge PMD has deposited one page table */
    {
        uint64_t n = 0;

        for (uint64_t d = mm->deposit; d != 0 && n <= mm->nr_deposits; n++) {
            const struct vmsim__frame *t = pfn_frame(ws->sim, d - 1);

            if (!(t->flags & PG_TABLE) || t->level != 0)
                return vmsim__corrupt(ws->buf, ws->len, "pid %d: deposit %llu is not a page "
                                      "table", p->pid, (unsigned long long)(d - 1));
            d = t->mapcount;
        }
        if (n != mm->nr_deposits || n != ws->huge_pmds)
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: %llu deposited tables, count "
                                  "says %llu, %llu huge PMDs", p->pid, (unsigned long long)n,
                                  (unsigned long long)mm->nr_deposits,
                                  (unsigned long long)ws->huge_pmds);
        ws->tables[0] += n;
    }
    for (int c = 0; c < NR_MM_COUNTERS; c++)
        if (ws->rss[c] != mm->rss[c])
            return vmsim__corrupt(ws->buf, ws->len, "pid %d: RSS counter %d is %llu, the "
                                  "tables map %llu", p->pid, c,
                                  (unsigned long long)mm->rss[c],
                                  (unsigned long long)ws->rss[c]);
    if (ws->tables[0] + ws->tables[1] + ws->tables[2] != mm->nr_pt_pages)
        return vmsim__corrupt(ws->buf, ws->len, "pid %d: VmPTE counts %llu tables, found "
                              "%llu", p->pid, (unsigned long long)mm->nr_pt_pages,
                              (unsigned long long)(ws->tables[0] + ws->tables[1] +
                                                   ws->tables[2]));
    for (int l = 0; l < PT_LEVELS; l++)
        *tables += ws->tables[l];
    return 0;
}

/* Every cached page's frame points back at its file and index; the page
 * cache gauges add up; shmem commit charges are counted. */
static int check_files(const struct vmsim *sim, char *buf, size_t len, uint64_t *committed,
                       uint32_t **swap_refs)
{
    uint64_t file_pages = 0, shmem = 0, dirty = 0;

    for (size_t id = 1; id < sim->nr_files; id++) {
        const struct vmsim__file *f = sim->files[id];
        uint64_t n = 0;

        if (f == NULL)
            continue;
        if (f->id != id)
            return vmsim__corrupt(buf, len, "file %zu has id %u", id, f->id);
        for (uint64_t c = 0; c < f->cache.nr_chunks; c++) {
            if (f->cache.chunks[c] == NULL)
                continue;
            for (uint64_t i = 0; i < 512; i++) {
                uint64_t v = f->cache.chunks[c][i], idx = c * 512 + i;
                const struct vmsim__frame *fr;

                if (v == 0 || (v & PC_SHADOW))
                    continue;
                if (v & PC_SWAP) {
                    if (!f->shmem || (v & ~PC_SWAP) >= sim->nr_swap_slots ||
                        (sim->swap_map[v & ~PC_SWAP] & SWP_COUNT) == 0)
                        return vmsim__corrupt(buf, len, "%s page %llu: bad swap entry",
                                              f->name, (unsigned long long)idx);
                    (*swap_refs)[v & ~PC_SWAP]++;
                    if (!f->anon_shm)
                        (*committed)++;
                    continue;
                }
                fr = pfn_frame(sim, v - 1);
                if (!(fr->flags & PG_FILE) || fr->mapping != f->id || fr->index != idx)
                    return vmsim__corrupt(buf, len, "%s page %llu: pfn %llu does not point "
                                          "back", f->name, (unsigned long long)idx,
                                          (unsigned long long)(v - 1));
                if (((fr->flags & PG_SHMEM) != 0) != f->shmem)
                    return vmsim__corrupt(buf, len, "%s page %llu: shmem flag wrong", f->name,
                                          (unsigned long long)idx);
                n++;
                if (fr->flags & PG_DIRTY)
                    dirty++;
                if (f->shmem && !f->anon_shm)
                    (*committed)++;
            }
        }
        if (n != f->nr_cached)
            return vmsim__corrupt(buf, len, "%s: %llu pages cached, count says %llu", f->name,
                                  (unsigned long long)n, (unsigned long long)f->nr_cached);
        file_pages += n;
        if (f->shmem)
            shmem += n;
        *committed += f->charged;
    }
    file_pages += sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED];
    if (file_pages != sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES] ||
        shmem != sim->vmstat[VMSIM_VMSTAT_NR_SHMEM] ||
        dirty != sim->vmstat[VMSIM_VMSTAT_NR_DIRTY])
        return vmsim__corrupt(buf, len, "page cache %llu/%llu/%llu (file/shmem/dirty), gauges "
                              "say %llu/%llu/%llu", (unsigned long long)file_pages,
                              (unsigned long long)shmem, (unsigned long long)dirty,
                              (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_FILE_PAGES],
                              (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_SHMEM],
                              (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_DIRTY]);
    return 0;
}

/*
 * Zeroed counters for one check. The array stays with the machine (a
 * replay with checks on calls this after every event; allocating it each
 * time was a sixth of a fuzzed replay). It is a cache, not state, so the
 * const machine is written here: no vmsim_t is ever defined const.
 */
static int check_scratch(const struct vmsim *sim, struct walk_state *ws)
{
    struct vmsim *cache = (struct vmsim *)sim;
    size_t need = 2 * sim->nr_frames + sim->nr_swap_slots + 1;

    if (cache->check_scratch_len < need) {
        uint32_t *a = vmsim__malloc(sim, need * sizeof(*a));

        if (a == NULL)
            return VMSIM_ENOMEM;
        vmsim__free(sim, cache->check_scratch);
        cache->check_scratch = a;
        cache->check_scratch_len = need;
    }
    memset(cache->check_scratch, 0, need * sizeof(uint32_t));
    ws->maps = cache->check_scratch;
    ws->entire = ws->maps + sim->nr_frames;
    ws->swap_refs = ws->entire + sim->nr_frames;
    return 0;
}

int vmsim_check(const vmsim_t *sim, char *buf, size_t len)
{
    struct walk_state ws = { .sim = sim, .buf = buf, .len = len };
    uint64_t committed = 0, tables = 0, user = 0, anon_mapped = 0, lru = 0, file_mapped = 0;
    uint64_t thps = 0, pool_frames = 0, pool_used[2] = { 0, 0 };
    uint64_t lru_gauges;
    int err;

    if (buf != NULL && len > 0)
        buf[0] = '\0';
    err = vmsim__phys_check(sim, buf, len);
    if (err < 0)
        return err;
    err = check_scratch(sim, &ws);
    if (err < 0)
        return err;
    for (size_t i = 0; i < sim->nr_procs; i++) {
        const struct vmsim__proc *p = sim->procs[i];

        if (i > 0 && sim->procs[i - 1]->pid >= p->pid) {
            err = vmsim__corrupt(buf, len, "process table out of order at pid %d", p->pid);
            goto out;
        }
        if (p->alive != (p->mm != NULL)) {
            err = vmsim__corrupt(buf, len, "pid %d: alive %d but mm %p", p->pid, p->alive,
                                 (const void *)p->mm);
            goto out;
        }
        if (p->mm == NULL)
            continue;
        ws.proc = p;
        err = check_mm(&ws, &committed, &tables);
        if (err == 0)
            err = vmsim__heap_check(sim, p, buf, len);
        if (err < 0)
            goto out;
    }
    /* shared hugetlb objects: each page they hold is a reference, in
     * ws.maps of the head (hugetlb leaves count in ws.entire); their
     * reservations are theirs */
    for (size_t id = 1; id < sim->nr_hobjs; id++) {
        const struct vmsim__hobj *o = sim->hobjs[id];
        uint64_t held = 0;

        if (o == NULL)
            continue;
        for (uint64_t c = 0; c < o->pages.nr_chunks; c++) {
            for (uint64_t k = 0; o->pages.chunks[c] != NULL && k < SPARSE_SIZE; k++) {
                uint64_t v = o->pages.chunks[c][k];

                if (v == 0)
                    continue;
                if (v - 1 >= sim->nr_frames || !(pfn_frame(sim, v - 1)->flags & PG_HUGETLB) ||
                    c * SPARSE_SIZE + k >= o->nr) {
                    err = vmsim__corrupt(buf, len, "hugetlb object %zu: index %llu holds "
                                         "pfn %llu, not a pool page", id,
                                         (unsigned long long)(c * SPARSE_SIZE + k),
                                         (unsigned long long)(v - 1));
                    goto out;
                }
                ws.maps[v - 1]++;
                held++;
            }
        }
        if (held != o->nr_pages || o->resv + held > o->nr || o->creating) {
            err = vmsim__corrupt(buf, len, "hugetlb object %zu: %llu pages held, count says "
                                 "%llu, %llu reserved of %llu", id, (unsigned long long)held,
                                 (unsigned long long)o->nr_pages,
                                 (unsigned long long)o->resv, (unsigned long long)o->nr);
            goto out;
        }
        ws.hugetlb_rsvd[o->level - 1] += o->resv;
    }
    for (uint64_t pfn = 0; pfn < sim->nr_frames; pfn++) {
        const struct vmsim__frame *f = pfn_frame(sim, pfn);

        if (f->flags & PG_BUDDY) {
            /* a free block (vmsim__phys_check saw every frame of it
             * free): no entry may map any of it */
            uint64_t n = (uint64_t)1 << (f->order < NR_ORDERS ? f->order : 0);
            bool any;

            /* vmsim__phys_check steps over allocated blocks whole: a stray
             * PG_BUDDY inside one is seen only here */
            if (f->order >= NR_ORDERS || n > sim->nr_frames - pfn) {
                err = vmsim__corrupt(buf, len, "pfn %llu: a free block of order %u passes "
                                     "the end of RAM", (unsigned long long)pfn,
                                     (unsigned)f->order);
                goto out;
            }
            any = !zero_u32(&ws.maps[pfn], n) || !zero_u32(&ws.entire[pfn], n);

            for (uint64_t i = 0; any && i < n; i++) {
                if (ws.maps[pfn + i] | ws.entire[pfn + i]) {
                    err = vmsim__corrupt(buf, len, "pfn %llu is mapped but free",
                                         (unsigned long long)(pfn + i));
                    goto out;
                }
            }
            pfn += n - 1;
            continue;
        }
        if (f->flags & PG_TABLE)
            continue;
        if (f->flags & PG_HUGETLB) {
            if (f->mapcount != ws.entire[pfn] || f->refcount != f->mapcount + ws.maps[pfn] ||
                ws.maps[pfn] > 1) {
                err = vmsim__corrupt(buf, len, "hugetlb page %llu: mapcount %u refcount %u, "
                                     "%u entries, %u objects", (unsigned long long)pfn,
                                     f->mapcount, f->refcount, ws.entire[pfn], ws.maps[pfn]);
                goto out;
            }
            pool_frames += (uint64_t)1 << f->order;
            pool_used[f->order == GPAGE_ORDER] += f->refcount != 0;
            pfn += ((uint64_t)1 << f->order) - 1;
            continue;
        }
        if (f->flags & PG_HEAD) {
            uint32_t entire = *entire_mapcount((struct vmsim *)sim, pfn);
            uint64_t maps = 0;

            if (entire != ws.entire[pfn]) {
                err = vmsim__corrupt(buf, len, "THP %llu: entire mapcount %u, %u PMDs map it",
                                     (unsigned long long)pfn, entire, ws.entire[pfn]);
                goto out;
            }
            for (unsigned i = 0; i < HPAGE_NR; i++) {
                const struct vmsim__frame *t = pfn_frame(sim, pfn + i);

                if (t->mapcount != ws.maps[pfn + i] || (i > 0 && !(t->flags & PG_TAIL))) {
                    err = vmsim__corrupt(buf, len, "THP %llu page %u: mapcount %u, %u entries",
                                         (unsigned long long)pfn, i, t->mapcount,
                                         ws.maps[pfn + i]);
                    goto out;
                }
                maps += t->mapcount;
                if (t->mapcount > 0 || entire > 0)
                    anon_mapped++;
            }
            if (f->refcount != maps + entire) {
                err = vmsim__corrupt(buf, len, "THP %llu: refcount %u, mappings %llu",
                                     (unsigned long long)pfn, f->refcount,
                                     (unsigned long long)(maps + entire));
                goto out;
            }
            if (entire > 0)
                thps++;
            if (f->flags & PG_LRU)
                lru += HPAGE_NR;
            user += HPAGE_NR;
            pfn += HPAGE_NR - 1;
            continue;
        }
        if (!(f->flags & (PG_ANON | PG_FILE))) {
            if (ws.maps[pfn] != 0) {
                err = vmsim__corrupt(buf, len, "pfn %llu is mapped but not a user page",
                                     (unsigned long long)pfn);
                goto out;
            }
            continue;
        }
        user++;
        if ((f->flags & PG_SWAPCACHE) &&
            (f->u.slot >= sim->nr_swap_slots || sim->swap_cache[f->u.slot] != pfn + 1 ||
             !(sim->swap_map[f->u.slot] & SWP_HAS_CACHE))) {
            err = vmsim__corrupt(buf, len, "pfn %llu (flags %#x): swap cache links broken "
                                 "(slot %llu)", (unsigned long long)pfn, f->flags,
                                 (unsigned long long)f->u.slot);
            goto out;
        }
        if (f->mapcount != ws.maps[pfn] ||
            f->refcount != f->mapcount + ((f->flags & PG_FILE) ? 1u : 0u) +
                               ((f->flags & PG_SWAPCACHE) ? 1u : 0u)) {
            err = vmsim__corrupt(buf, len, "pfn %llu: mapcount %u refcount %u, but %u "
                                 "entries map it", (unsigned long long)pfn, f->mapcount,
                                 f->refcount, ws.maps[pfn]);
            goto out;
        }
        if (f->mapcount > 0) {
            if (f->flags & PG_ANON)
                anon_mapped++;
            else
                file_mapped++;
        }
        if (f->flags & PG_LRU)
            lru++;
    }
    if (user != sim->nr_user_pages) {
        err = vmsim__corrupt(buf, len, "%llu user frames, count says %llu",
                             (unsigned long long)user,
                             (unsigned long long)sim->nr_user_pages);
        goto out;
    }
    if (tables != sim->vmstat[VMSIM_VMSTAT_NR_PAGE_TABLE_PAGES]) {
        err = vmsim__corrupt(buf, len, "%llu table frames, nr_page_table_pages says %llu",
                             (unsigned long long)tables,
                             (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_PAGE_TABLE_PAGES]);
        goto out;
    }
    if (thps != sim->vmstat[VMSIM_VMSTAT_NR_ANON_THPS]) {
        err = vmsim__corrupt(buf, len, "%llu PMD-mapped THPs, nr_anon_transparent_hugepages "
                             "says %llu", (unsigned long long)thps,
                             (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_ANON_THPS]);
        goto out;
    }
    if (anon_mapped != sim->vmstat[VMSIM_VMSTAT_NR_ANON_PAGES] ||
        file_mapped != sim->vmstat[VMSIM_VMSTAT_NR_MAPPED]) {
        err = vmsim__corrupt(buf, len, "mapped anon/file frames %llu/%llu, gauges say "
                             "%llu/%llu", (unsigned long long)anon_mapped,
                             (unsigned long long)file_mapped,
                             (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_ANON_PAGES],
                             (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_MAPPED]);
        goto out;
    }
    lru_gauges = sim->vmstat[VMSIM_VMSTAT_NR_ACTIVE_ANON] +
                 sim->vmstat[VMSIM_VMSTAT_NR_INACTIVE_ANON] +
                 sim->vmstat[VMSIM_VMSTAT_NR_ACTIVE_FILE] +
                 sim->vmstat[VMSIM_VMSTAT_NR_INACTIVE_FILE];
    if (lru != lru_gauges) {
        err = vmsim__corrupt(buf, len, "%llu frames on LRU lists, gauges say %llu",
                             (unsigned long long)lru, (unsigned long long)lru_gauges);
        goto out;
    }
    err = check_files(sim, buf, len, &committed, &ws.swap_refs);
    if (err < 0)
        goto out;
    {
        uint64_t used = 0, cached = 0;
        uint32_t bad = 0;

        /* a quick pass (1024 slots after every event of a fuzzed replay;
         * most are unused), and a second one only to name the slot that
         * broke */
        for (uint64_t s = 0; s < sim->nr_swap_slots; s++) {
            uint32_t m = sim->swap_map[s];
            uint32_t has_cache;

            if ((s & 63) == 0 && s + 64 <= sim->nr_swap_slots &&
                zero_u32(&sim->swap_map[s], 64) && zero_u32(&ws.swap_refs[s], 64) &&
                zero_u32(&sim->swap_cache[s], 64)) {
                s += 63;
                continue;
            }
            if ((m | ws.swap_refs[s] | sim->swap_cache[s]) == 0)
                continue;
            has_cache = (m & SWP_HAS_CACHE) != 0;
            used += m != 0;
            cached += has_cache;
            bad |= ((m & SWP_COUNT) ^ ws.swap_refs[s]) |
                   (has_cache ^ (uint32_t)(sim->swap_cache[s] != 0)) |
                   (uint32_t)(m != 0 && (m & (SWP_COUNT | SWP_HAS_CACHE)) == 0);
        }
        for (uint64_t s = 0; bad != 0 && s < sim->nr_swap_slots; s++) {
            uint32_t m = sim->swap_map[s];

            if ((m & SWP_COUNT) != ws.swap_refs[s]) {
                err = vmsim__corrupt(buf, len, "swap slot %llu: count %u, %u entries refer "
                                     "to it", (unsigned long long)s, m & SWP_COUNT,
                                     ws.swap_refs[s]);
                goto out;
            }
            if (((m & SWP_HAS_CACHE) != 0) != (sim->swap_cache[s] != 0) ||
                (m != 0 && (m & (SWP_COUNT | SWP_HAS_CACHE)) == 0)) {
                err = vmsim__corrupt(buf, len, "swap slot %llu: cache flag and cache "
                                     "disagree", (unsigned long long)s);
                goto out;
            }
        }
        if (used != sim->nr_swap_used || cached != sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED]) {
            err = vmsim__corrupt(buf, len, "swap: %llu slots used, %llu cached; counts say "
                                 "%llu, %llu", (unsigned long long)used,
                                 (unsigned long long)cached,
                                 (unsigned long long)sim->nr_swap_used,
                                 (unsigned long long)sim->vmstat[VMSIM_VMSTAT_NR_SWAPCACHED]);
            goto out;
        }
    }
    if (committed != sim->committed_pages) {
        err = vmsim__corrupt(buf, len, "Committed_AS %llu pages, accountable VMAs hold %llu",
                             (unsigned long long)sim->committed_pages,
                             (unsigned long long)committed);
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        const struct vmsim__hpool *hp = &sim->hpool[k];

        if (hp->free + pool_used[k] != hp->total || hp->rsvd > hp->free ||
            hp->rsvd != ws.hugetlb_rsvd[k]) {
            err = vmsim__corrupt(buf, len, "hugetlb pool %d: total %llu free %llu rsvd %llu, "
                                 "%llu in use, %llu reserved by VMAs", k,
                                 (unsigned long long)hp->total, (unsigned long long)hp->free,
                                 (unsigned long long)hp->rsvd, (unsigned long long)pool_used[k],
                                 (unsigned long long)ws.hugetlb_rsvd[k]);
            goto out;
        }
    }
    if (sim->nr_free + user + tables + pool_frames != sim->nr_frames) {
        err = vmsim__corrupt(buf, len, "free %llu + user %llu + tables %llu != %llu frames",
                             (unsigned long long)sim->nr_free, (unsigned long long)user,
                             (unsigned long long)tables, (unsigned long long)sim->nr_frames);
        goto out;
    }
    err = 0;
out:
    return err;
}
