/*
 * pgtable.c -- x86_64 4-level page tables in simulated frames.
 *
 * A canonical x86_64 address under 4-level paging:
 *
 *   63..48  copies of bit 47 (otherwise non-canonical: #GP, SIGSEGV)
 *   47..39  PML4 index  (level 3, Linux's pgd; p4d is folded into it)
 *   38..30  PDPT index  (level 2, pud)  PS set here = a 1 GiB page
 *   29..21  PD index    (level 1, pmd)  PS set here = a 2 MiB page
 *   20..12  PT index    (level 0, pte)
 *   11..0   byte offset
 *
 * Every table is a frame from the buddy allocator (so page-table memory
 * competes for RAM and shows as PageTables), with its 512 entries in a
 * host array hung off the frame's metadata. VmPTE counts the PTE, PMD and
 * PUD tables of a process, not its PML4, as Linux's mm_pgtables_bytes().
 */
#include "internal.h"

static int table_alloc(struct vmsim *sim, struct vmsim__mm *mm, int level,
                       vmsim_vaddr_t va, vmsim_pid_t owner, vmsim_pfn_t *out);

int vmsim__table_alloc(struct vmsim *sim, struct vmsim__mm *mm, int level, vmsim_vaddr_t va,
                       vmsim_pfn_t *out)
{
    return table_alloc(sim, mm, level, va, mm->owner, out);
}

static int table_alloc(struct vmsim *sim, struct vmsim__mm *mm, int level,
                       vmsim_vaddr_t va, vmsim_pid_t owner, vmsim_pfn_t *out)
{
    vmsim_pfn_t pfn;
    struct vmsim__frame *f;
    pte_t *table;
    int err;

    err = vmsim__alloc_frame(sim, 0, false, &pfn);
    if (err < 0)
        return err;
    table = vmsim__table_mem_alloc(sim);
    if (table == NULL) {
        vmsim__phys_free(sim, pfn, 0);
        return VMSIM_ENOMEM;
    }
    f = pfn_frame(sim, pfn);
    f->flags |= PG_TABLE;
    f->level = (uint8_t)level;
    f->mapping = (uint32_t)owner;
    f->index = round_down(va, LEVEL_SIZE(level + 1));
    f->u.table = table;
    if (level < PT_LEVELS - 1)
        mm->nr_pt_pages++;
    count_vm_event(sim, VMSIM_VMSTAT_NR_PAGE_TABLE_PAGES);
    *out = pfn;
    return 0;
}

static void table_free(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn)
{
    struct vmsim__frame *f = pfn_frame(sim, pfn);

    VMSIM_ASSERT(f->flags & PG_TABLE);
    if (f->level < PT_LEVELS - 1)
        mm->nr_pt_pages--;
    sim->vmstat[VMSIM_VMSTAT_NR_PAGE_TABLE_PAGES]--;
    sim->pt_free_gen++; /* every walk cache is stale */
    if (sim->pf_table == f->u.table)
        sim->pf_mm = NULL, sim->pf_region = UINT64_MAX; /* reclaim's prefetch hint */
    vmsim__table_mem_free(sim, f->u.table);
    f->u.table = NULL;
    vmsim__phys_free(sim, pfn, 0);
}

int vmsim__pt_create(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pid_t owner)
{
    return table_alloc(sim, mm, PT_LEVELS - 1, 0, owner, &mm->pgd);
}

/* pt_lookup_fill(), out of line for pt_lookup_cached(). */
__attribute__((noinline)) pte_t *
vmsim__pt_lookup_fill(const struct vmsim *sim, const struct vmsim__mm *mm,
                      struct vmsim__walk_cache *wc, vmsim_vaddr_t va, int *level)
{
    return pt_lookup_fill(sim, mm, wc, va, level);
}

pte_t *vmsim__pt_walk(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t va,
                      int leaf, bool alloc, int *level, int *err)
{
    pte_t *table = pt_table(sim, mm->pgd);

    *err = 0;
    for (int l = PT_LEVELS - 1; l > leaf; l--) {
        pte_t *e = &table[PT_INDEX(va, l)];

        if (pte_none(*e)) {
            vmsim_pfn_t pfn;

            if (!alloc)
                return NULL;
            *err = table_alloc(sim, mm, l - 1, va, mm->owner, &pfn);
            if (*err < 0)
                return NULL;
            *e = pfn_pte(pfn) | PTE_TABLE;
        } else if (pte_huge(*e)) {
            if (level != NULL)
                *level = l;
            return e;
        }
        table = pt_table(sim, pte_pfn(*e));
    }
    if (level != NULL)
        *level = leaf;
    return &table[PT_INDEX(va, leaf)];
}

/* The end of the entry at `level` that covers addr, or end if sooner
 * (Linux's p?d_addr_end, safe at the top of the address space). */
static vmsim_vaddr_t level_addr_end(vmsim_vaddr_t addr, vmsim_vaddr_t end, int level)
{
    vmsim_vaddr_t boundary = round_down(addr, LEVEL_SIZE(level)) + LEVEL_SIZE(level);

    return boundary - 1 < end - 1 ? boundary : end;
}

/*
 * Free the tables below `table` (at `level`) for [addr, end), as Linux's
 * free_p4d/pud/pmd_range: a page table under a PMD entry in the range is
 * always freed; a higher table is freed only when its whole span lies
 * within [floor, ceiling).
 */
static void free_range(struct vmsim *sim, struct vmsim__mm *mm, pte_t *table, int level,
                       vmsim_vaddr_t addr, vmsim_vaddr_t end, vmsim_vaddr_t floor,
                       vmsim_vaddr_t ceiling)
{
    vmsim_vaddr_t next;

    do {
        pte_t *e = &table[PT_INDEX(addr, level)];
        vmsim_vaddr_t start = addr;

        next = level_addr_end(addr, end, level);
        if (pte_none(*e) || pte_huge(*e))
            continue;
        if (level > 1) {
            uint64_t mask = ~(LEVEL_SIZE(level) - 1);

            free_range(sim, mm, pt_table(sim, pte_pfn(*e)), level - 1, addr, next, floor,
                       ceiling);
            start &= mask;
            if (start < floor)
                continue;
            if (ceiling != 0) {
                vmsim_vaddr_t c = ceiling & mask;

                if (c == 0)
                    continue;
                if (next - 1 > c - 1)
                    continue;
            }
        }
        table_free(sim, mm, pte_pfn(*e));
        *e = 0;
    } while (addr = next, addr != end);
}

void vmsim__table_free(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn)
{
    table_free(sim, mm, pfn);
}

void vmsim__pt_free_range(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t addr,
                          vmsim_vaddr_t end, vmsim_vaddr_t floor, vmsim_vaddr_t ceiling)
{
    /* The same trimming as Linux's free_pgd_range(). */
    addr &= PMD_MASK;
    if (addr < floor) {
        addr += PMD_SIZE;
        if (addr == 0)
            return;
    }
    if (ceiling != 0) {
        ceiling &= PMD_MASK;
        if (ceiling == 0)
            return;
    }
    if (end - 1 > ceiling - 1)
        end -= PMD_SIZE;
    if (addr > end - 1)
        return;
    free_range(sim, mm, pt_table(sim, mm->pgd), PT_LEVELS - 1, addr, end, floor, ceiling);
}

static void destroy_table(struct vmsim *sim, struct vmsim__mm *mm, vmsim_pfn_t pfn, int level)
{
    pte_t *table = pt_table(sim, pfn);

    if (level > 0) {
        for (int i = 0; i < PT_ENTRIES; i++) {
            if (pte_none(table[i]))
                continue;
            VMSIM_ASSERT(!pte_huge(table[i]));
            destroy_table(sim, mm, pte_pfn(table[i]), level - 1);
            table[i] = 0;
        }
    }
#ifndef NDEBUG
    else {
        for (int i = 0; i < PT_ENTRIES; i++)
            VMSIM_ASSERT(pte_none(table[i]));
    }
#endif
    table_free(sim, mm, pfn);
}

void vmsim__pt_destroy(struct vmsim *sim, struct vmsim__mm *mm)
{
    destroy_table(sim, mm, mm->pgd, PT_LEVELS - 1);
    mm->pgd = 0;
}

/* ---- public inspection ------------------------------------------------- */

int vmsim_pte_lookup(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va,
                     vmsim_pte_info_t *out)
{
    const struct vmsim__proc *p = vmsim__proc_find(sim, pid);
    const pte_t *table;

    memset(out, 0, sizeof(*out));
    out->level = -1;
    if (p == NULL || p->mm == NULL)
        return VMSIM_ESRCH;
    if (va >= ((uint64_t)1 << 47))
        return 0;
    table = pt_table(sim, p->mm->pgd);
    for (int l = PT_LEVELS - 1; l >= 0; l--) {
        pte_t e = table[PT_INDEX(va, l)];

        if (pte_none(e))
            return 0;
        if (l == 0 || pte_huge(e)) {
            out->level = l;
            out->entry = e;
            out->present = pte_present(e);
            out->swap = pte_is_swap(e);
            if (out->present)
                out->pfn = pte_pfn(e);
            if (out->swap)
                out->swap_slot = swp_offset(e);
            return 0;
        }
        table = pt_table(sim, pte_pfn(e));
    }
    return 0;
}

static int walk_visit(const struct vmsim *sim, vmsim_pfn_t pfn, int level, vmsim_vaddr_t base,
                      vmsim_pt_visit_fn fn, void *ctx)
{
    const pte_t *table = pt_table(sim, pfn);
    vmsim_pt_node_t node = { .level = level, .table_pfn = pfn, .index = -1, .va = base };
    int rc = fn(ctx, &node);

    if (rc != 0)
        return rc;
    for (int i = 0; i < PT_ENTRIES; i++) {
        vmsim_vaddr_t va = base + (uint64_t)i * LEVEL_SIZE(level);

        if (pte_none(table[i]))
            continue;
        node.level = level;
        node.table_pfn = pfn;
        node.index = i;
        node.entry = table[i];
        node.va = va;
        rc = fn(ctx, &node);
        if (rc != 0)
            return rc;
        if (level > 0 && !pte_huge(table[i])) {
            rc = walk_visit(sim, pte_pfn(table[i]), level - 1, va, fn, ctx);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int vmsim_pagetable_walk(const vmsim_t *sim, vmsim_pid_t pid, vmsim_pt_visit_fn fn, void *ctx)
{
    const struct vmsim__proc *p = vmsim__proc_find(sim, pid);

    if (p == NULL || p->mm == NULL || fn == NULL)
        return VMSIM_ESRCH;
    return walk_visit(sim, p->mm->pgd, PT_LEVELS - 1, 0, fn, ctx);
}
