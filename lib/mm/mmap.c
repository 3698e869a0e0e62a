/*
 * mmap.c -- address spaces and the memory syscalls: mmap, munmap,
 * mprotect, brk, and commit accounting (overcommit), following
 * mm/mmap.c, mm/vma.c, mm/mprotect.c and mm/util.c of Linux 6.x.
 *
 * Syscall helpers return 0 or a positive simulated errno (VMSIM_SYS_*);
 * a negative VMSIM_E* means the simulator failed (host memory).
 */
#include "internal.h"

/* vm.max_map_count */
#define MAX_MAP_COUNT 65530
/* sysctl_user_reserve_kbytes: 128 MiB, in pages */
#define USER_RESERVE_PAGES ((uint64_t)(128 << 10) >> 2)

struct vmsim__mm *vmsim__mm_create(struct vmsim *sim, vmsim_pid_t owner, int *err)
{
    struct vmsim__mm *mm = vmsim__calloc(sim, 1, sizeof(*mm));

    if (mm == NULL) {
        *err = VMSIM_ENOMEM;
        return NULL;
    }
    mm->owner = owner;
    ucache_clear(mm);
    mm->wc_access.region = mm->wc_reclaim.region = UINT64_MAX; /* no canonical region */
    *err = vmsim__pt_create(sim, mm, owner);
    if (*err < 0) {
        vmsim__free(sim, mm);
        return NULL;
    }
    mm->start_brk = mm->brk = START_BRK;
    mm->mmap_base = MMAP_BASE;
    return mm;
}

/* ---- commit accounting ------------------------------------------------- */

static uint64_t total_swap_pages(const struct vmsim *sim)
{
    return sim->cfg.swap / PAGE_SIZE;
}

uint64_t vmsim__commit_limit(const struct vmsim *sim)
{
    uint64_t hugetlb = sim->hpool[0].total * 512 + sim->hpool[1].total * 512 * 512;
    uint64_t ram = sim->nr_frames > hugetlb ? sim->nr_frames - hugetlb : 0;

    return ram * (uint64_t)sim->cfg.overcommit_ratio / 100 + total_swap_pages(sim);
}

/*
 * __vm_enough_memory() for a process of total_vm pages: charge `pages` to
 * Committed_AS if the overcommit mode allows it. Mode 0 refuses only a
 * single request larger than RAM + swap; mode 2 keeps Committed_AS under
 * CommitLimit less the user reserve (min(total_vm / 32, 128 MiB)). The
 * simulated processes run as root, so the admin reserve does not apply.
 */
static bool enough_memory(struct vmsim *sim, const struct vmsim__mm *mm, uint64_t pages)
{
    sim->committed_pages += pages;
    switch (sim->cfg.overcommit_memory) {
    case 1:
        return true;
    case 0:
        if (pages > sim->nr_frames + total_swap_pages(sim))
            break;
        return true;
    default: {
        uint64_t allowed = vmsim__commit_limit(sim);
        uint64_t reserve = mm != NULL ? mm->total_vm / 32 : 0;

        if (reserve > USER_RESERVE_PAGES)
            reserve = USER_RESERVE_PAGES;
        allowed = allowed > reserve ? allowed - reserve : 0;
        if (sim->committed_pages < allowed)
            return true;
        break;
    }
    }
    sim->committed_pages -= pages;
    return false;
}

bool vmsim__vm_enough_memory(struct vmsim *sim, uint64_t pages)
{
    return enough_memory(sim, NULL, pages);
}

static void unacct(struct vmsim *sim, uint64_t pages)
{
    VMSIM_ASSERT(sim->committed_pages >= pages);
    sim->committed_pages -= pages;
}

/* private, writable, not MAP_NORESERVE: Linux's accountable_mapping() */
static bool accountable(unsigned prot, unsigned vflags)
{
    return (prot & VMSIM_PROT_WRITE) &&
           !(vflags & (VMSIM_VMA_SHARED | VMSIM_VMA_NORESERVE | VMSIM_VMA_HUGETLB));
}

static uint64_t vma_pages(const struct vmsim__vma *v)
{
    return (v->end - v->start) / PAGE_SIZE;
}

/* What a VMA adds to total_vm, data_vm, exec_vm (vm_stat_account()). */
static void vm_stat_account(struct vmsim__mm *mm, const struct vmsim__vma *v, int64_t sign)
{
    uint64_t n = vma_pages(v) * (uint64_t)sign;

    mm->total_vm += n;
    if ((v->prot & VMSIM_PROT_EXEC) && !(v->prot & VMSIM_PROT_WRITE))
        mm->exec_vm += n;
    else if ((v->prot & VMSIM_PROT_WRITE) && !(v->flags & VMSIM_VMA_SHARED))
        mm->data_vm += n;
    if (sign > 0 && mm->total_vm > mm->hiwater_vm)
        mm->hiwater_vm = mm->total_vm;
}

/* ---- unmapping --------------------------------------------------------- */

/* Release what one leaf entry maps and clear it; a dirty entry dirties
 * its cache page first (zap_pte_range's folio_mark_dirty). */
static void zap_pte(struct vmsim *sim, struct vmsim__mm *mm, pte_t *e)
{
    pte_t pte = *e;

    *e = 0;
    if (pte_is_swap(pte)) {
        vmsim__swap_free_entry(sim, swp_offset(pte));
        mm->rss[MM_SWAPENTS]--;
    } else if (pte_present(pte) && !pte_special(pte)) {
        vmsim_pfn_t pfn = pte_pfn(pte);

        if ((pte & PTE_D) && !(pfn_frame(sim, pfn)->flags & PG_ANON))
            vmsim__page_mark_dirty(sim, pfn);
        vmsim__page_remove_rmap(sim, mm, pfn);
    }
}

static void zap_level(struct vmsim *sim, struct vmsim__mm *mm, pte_t *table, int level,
                      vmsim_vaddr_t addr, vmsim_vaddr_t end)
{
    do {
        pte_t *e = &table[PT_INDEX(addr, level)];
        vmsim_vaddr_t next = round_down(addr, LEVEL_SIZE(level)) + LEVEL_SIZE(level);

        if (next > end)
            next = end;
        if (!pte_none(*e) && level >= 1 && pte_huge(*e) && !pte_special(*e) &&
            (pfn_frame(sim, pte_pfn(*e))->flags & PG_HUGETLB)) {
            vmsim__hugetlb_zap(sim, mm, e, (unsigned)level);
            addr = next;
            continue;
        }
        if (!pte_none(*e) && level == 1 && pte_huge(*e)) {
            /* a THP: zapped whole, or split first when partly covered */
            if (addr == round_down(addr, PMD_SIZE) && next - addr == PMD_SIZE)
                vmsim__zap_huge_pmd(sim, mm, e);
            else
                vmsim__split_huge_pmd(sim, mm, e);
        }
        if (!pte_none(*e)) {
            if (level == 0)
                zap_pte(sim, mm, e);
            else
                zap_level(sim, mm, pt_table(sim, pte_pfn(*e)), level - 1, addr, next);
        }
        addr = next;
    } while (addr < end);
}

void vmsim__zap_range(struct vmsim *sim, struct vmsim__mm *mm, const struct vmsim__vma *vma,
                      vmsim_vaddr_t start, vmsim_vaddr_t end)
{
    (void)vma;
    if (start < end) {
        vmsim__flush_tlb_range(sim, mm, start, end);
        zap_level(sim, mm, pt_table(sim, mm->pgd), PT_LEVELS - 1, start, end);
    }
}

/*
 * Remove VMAs [i, j) whole: zap, unaccount, free their tables. Dirty pages
 * of shared file mappings are written back (libvmsim writes back at
 * munmap and exit, where Linux leaves it to the flusher threads), and
 * shared anonymous memory no VMA maps any more is freed.
 */
static void remove_vmas(struct vmsim *sim, struct vmsim__mm *mm, size_t i, size_t j)
{
    vmsim_vaddr_t floor, ceiling, start, end;
    bool shm = false, hobj = false;

    if (i == j)
        return;
    start = mm->vmas[i].start;
    end = mm->vmas[j - 1].end;
    floor = i > 0 ? mm->vmas[i - 1].end : 0;
    ceiling = j < mm->nr_vmas ? mm->vmas[j].start : 0;
    for (size_t k = i; k < j; k++) {
        struct vmsim__vma *v = &mm->vmas[k];
        struct vmsim__file *f = file_of(sim, v->file);

        if (v->flags & VMSIM_VMA_HUGETLB)
            vmsim__hugetlb_unreserve(sim, hugetlb_level(v),
                                     vmsim__hugetlb_unfaulted(sim, mm, v, v->start, v->end));
        vmsim__zap_range(sim, mm, v, v->start, v->end);
        if (f != NULL && (v->flags & VMSIM_VMA_SHARED))
            vmsim__file_writeback(sim, f, v->pgoff, v->pgoff + vma_pages(v) - 1);
        if (f != NULL && f->anon_shm)
            shm = true;
        if (v->hobj != 0)
            hobj = true;
        if (v->flags & VMSIM_VMA_ACCOUNT)
            unacct(sim, vma_pages(v));
        vm_stat_account(mm, v, -1);
    }
    vmsim__vma_remove(mm, i, j - i);
    vmsim__pt_free_range(sim, mm, start, end, floor, ceiling);
    if (shm) {
        for (size_t id = 1; id < sim->nr_files; id++)
            vmsim__file_release_if_unused(sim, (uint32_t)id);
    }
    if (hobj) {
        for (size_t id = 1; id < sim->nr_hobjs; id++)
            vmsim__hobj_release_if_unused(sim, (uint32_t)id);
    }
}

int vmsim__do_munmap(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t start,
                     uint64_t len)
{
    vmsim_vaddr_t end;
    size_t i, j;
    int err;

    if ((start & ~PAGE_MASK) != 0 || start > TASK_SIZE || len > TASK_SIZE - start)
        return VMSIM_SYS_EINVAL;
    end = start + round_up(len, PAGE_SIZE);
    if (end == start)
        return VMSIM_SYS_EINVAL;
    /* Split first; a failed split leaves the VMAs whole. Linux fails with
     * ENOMEM when a split would pass max_map_count. */
    i = vmsim__vma_index(mm, start);
    if (i == mm->nr_vmas || mm->vmas[i].start >= end)
        return 0;
    if (mm->vmas[i].start < start && mm->vmas[i].end > end && mm->nr_vmas >= MAX_MAP_COUNT)
        return VMSIM_SYS_ENOMEM;
    /* hugetlb mappings are unmapped in whole huge pages only */
    for (j = i; j < mm->nr_vmas && mm->vmas[j].start < end; j++) {
        const struct vmsim__vma *v = &mm->vmas[j];

        if (v->flags & VMSIM_VMA_HUGETLB) {
            uint64_t hs = LEVEL_SIZE(hugetlb_level(v));

            if ((v->start < start && (start & (hs - 1))) || (v->end > end && (end & (hs - 1))))
                return VMSIM_SYS_EINVAL;
        }
    }
    err = vmsim__vma_split_at(sim, mm, start);
    if (err == 0)
        err = vmsim__vma_split_at(sim, mm, end);
    if (err < 0)
        return err;
    i = vmsim__vma_index(mm, start);
    for (j = i; j < mm->nr_vmas && mm->vmas[j].start < end; j++)
        ;
    remove_vmas(sim, mm, i, j);
    return 0;
}

void vmsim__mm_destroy(struct vmsim *sim, struct vmsim__mm *mm)
{
    if (mm == NULL)
        return;
    vmsim__flush_tlb_mm(sim, mm);
    remove_vmas(sim, mm, 0, mm->nr_vmas);
    vmsim__pt_destroy(sim, mm);
    vmsim__free(sim, mm->vmas);
    vmsim__free(sim, mm);
}

/* ---- mmap -------------------------------------------------------------- */

/* The hint if it is free, else the highest free range below mmap_base
 * (unmapped_area_topdown), else one above TASK_SIZE / 3 (the bottom-up
 * fallback). Returns 0 when nothing fits. */
static vmsim_vaddr_t plain_area(const struct vmsim__mm *mm, vmsim_vaddr_t addr, uint64_t len)
{
    vmsim_vaddr_t va;

    if (len > TASK_SIZE)
        return 0;
    if (addr != 0) {
        addr &= PAGE_MASK;
        if (addr < MMAP_MIN_ADDR)
            addr = MMAP_MIN_ADDR;
        if (TASK_SIZE - len >= addr && vmsim__vma_range_free(mm, addr, len))
            return addr;
    }
    va = vmsim__vma_gap_topdown(mm, len, MMAP_MIN_ADDR, mm->mmap_base);
    if (va == 0)
        va = vmsim__vma_gap_topdown(mm, len, round_up(TASK_SIZE / 3, PAGE_SIZE), TASK_SIZE);
    return va;
}

/*
 * __thp_get_unmapped_area(): search with 2 MiB of padding and place the
 * mapping so that file offset and address agree modulo 2 MiB, so THPs (and
 * large folios) can map it. Returns 0 when it does not apply or fails; the
 * caller then searches without padding.
 */
static vmsim_vaddr_t thp_area(const struct vmsim__mm *mm, vmsim_vaddr_t addr, uint64_t len,
                              uint64_t off)
{
    uint64_t off_end = off + len, off_align = round_up(off, PMD_SIZE), off_sub;
    vmsim_vaddr_t ret;

    if (off_end <= off_align || off_end - off_align < PMD_SIZE)
        return 0;
    if (len + PMD_SIZE < len)
        return 0;
    ret = plain_area(mm, addr, len + PMD_SIZE);
    if (ret == 0)
        return 0;
    if (ret == addr)
        return addr;
    off_sub = (off - ret) & (PMD_SIZE - 1);
    if (off_sub == 0) /* top-down: use the top of the padded range */
        return ret + PMD_SIZE;
    return ret + off_sub;
}

/*
 * get_unmapped_area() for the top-down layout. Regular files (ext4's
 * thp_get_unmapped_area) and private anonymous mappings whose length is a
 * multiple of 2 MiB without a hint (Linux >= 6.12) are aligned for huge
 * pages; shmem is not (shmem_enabled=never). Returns the address, or 0
 * with *err set to a simulated errno.
 */
static vmsim_vaddr_t get_unmapped_area(const struct vmsim__mm *mm, vmsim_vaddr_t addr,
                                       uint64_t len, bool fixed,
                                       const struct vmsim__file *file, bool shared,
                                       uint64_t off, int *err)
{
    vmsim_vaddr_t va = 0;

    *err = 0;
    if (len > TASK_SIZE) {
        *err = VMSIM_SYS_ENOMEM;
        return 0;
    }
    if (fixed) {
        if (addr > TASK_SIZE - len) {
            *err = VMSIM_SYS_ENOMEM;
            return 0;
        }
        if ((addr & ~PAGE_MASK) != 0) {
            *err = VMSIM_SYS_EINVAL;
            return 0;
        }
        if (addr < MMAP_MIN_ADDR) {
            *err = VMSIM_SYS_EPERM;
            return 0;
        }
        return addr;
    }
    if (file != NULL && !file->shmem)
        va = thp_area(mm, addr, len, off);
    else if (file == NULL && !shared && addr == 0 && len % PMD_SIZE == 0)
        va = thp_area(mm, 0, len, 0);
    if (va == 0)
        va = plain_area(mm, addr, len);
    if (va == 0)
        *err = VMSIM_SYS_ENOMEM;
    return va;
}

/* Accounted pages of the VMAs inside [start, end) (mmap over MAP_FIXED). */
static uint64_t accounted_in(const struct vmsim__mm *mm, vmsim_vaddr_t start,
                             vmsim_vaddr_t end)
{
    uint64_t n = 0;

    for (size_t i = vmsim__vma_index(mm, start); i < mm->nr_vmas; i++) {
        const struct vmsim__vma *v = &mm->vmas[i];
        vmsim_vaddr_t s = v->start > start ? v->start : start;
        vmsim_vaddr_t e = v->end < end ? v->end : end;

        if (v->start >= end)
            break;
        if (v->flags & VMSIM_VMA_ACCOUNT)
            n += (e - s) / PAGE_SIZE;
    }
    return n;
}

static int populate(struct vmsim *sim, struct vmsim__proc *p, vmsim_vaddr_t start,
                    vmsim_vaddr_t end, unsigned prot, unsigned vflags)
{
    /* Linux's populate_vma_page_range(): write faults for private
     * writable mappings, read faults otherwise; counted as the caller's. */
    vmsim_access_kind kind = ((prot & VMSIM_PROT_WRITE) && !(vflags & VMSIM_VMA_SHARED))
                                 ? VMSIM_WRITE
                                 : VMSIM_READ;

    if ((prot & (VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC)) == 0)
        return 0;
    for (vmsim_vaddr_t va = start; va < end && p->alive; va += PAGE_SIZE) {
        int err = vmsim__populate_page(sim, p, va, kind);

        if (err < 0)
            return err;
    }
    return 0;
}

/* MAP_HUGETLB: whole huge pages, aligned, reserved from the pool now. */
static int do_mmap_hugetlb(struct vmsim *sim, struct vmsim__proc *p,
                           const vmsim_mmap_req_t *req, vmsim_vaddr_t *addr_out)
{
    struct vmsim__mm *mm = p->mm;
    unsigned level;
    uint64_t hs, len;
    vmsim_vaddr_t addr;
    struct vmsim__vma v;
    int err;

    if (req->pagesize == 0 || req->pagesize == PMD_SIZE)
        level = 1;
    else if (req->pagesize == PUD_SIZE)
        level = 2;
    else
        return VMSIM_SYS_EINVAL;
    if (!(req->flags & VMSIM_MAP_ANONYMOUS))
        return VMSIM_SYS_EINVAL; /* hugetlbfs files are not simulated */
    if (sim->hpool[level - 1].total == 0)
        return VMSIM_SYS_ENOMEM;
    hs = LEVEL_SIZE(level);
    len = round_up(req->len, hs);
    if (len < req->len || len == 0 || len > TASK_SIZE)
        return VMSIM_SYS_ENOMEM;
    if (req->flags & VMSIM_MAP_FIXED) {
        addr = get_unmapped_area(mm, req->addr, len, true, NULL, false, 0, &err);
        if (err != 0)
            return err;
        if (addr & (hs - 1))
            return VMSIM_SYS_EINVAL;
    } else {
        /* hugetlb_get_unmapped_area(): aligned to the huge page size */
        addr = plain_area(mm, req->addr & ~(hs - 1), len + hs);
        if (addr == 0)
            return VMSIM_SYS_ENOMEM;
        if (addr != (req->addr & ~(hs - 1)) || (addr & (hs - 1)))
            addr = round_up(addr, hs);
    }
    memset(&v, 0, sizeof(v));
    v.start = addr;
    v.end = addr + len;
    v.prot = req->prot;
    v.flags = VMSIM_VMA_HUGETLB | (level == 2 ? VMA_HUGE_1G : 0) |
              ((req->flags & VMSIM_MAP_SHARED) ? VMSIM_VMA_SHARED : 0) |
              ((req->flags & VMSIM_MAP_NORESERVE) ? VMSIM_VMA_NORESERVE : 0);
    v.pgoff = addr / PAGE_SIZE;
    if (v.flags & VMSIM_VMA_SHARED) {
        /* the object (its reservations too); its page i is i huge pages
         * past the mapping's start */
        v.pgoff = 0;
        err = vmsim__hobj_create(sim, level, len / hs, (v.flags & VMSIM_VMA_NORESERVE) != 0,
                                 &v.hobj);
        if (err != 0)
            return err;
    } else if (!(v.flags & VMSIM_VMA_NORESERVE)) {
        err = vmsim__hugetlb_reserve(sim, level, len / hs);
        if (err != 0)
            return err;
    }
    if (req->flags & VMSIM_MAP_FIXED) {
        err = vmsim__do_munmap(sim, mm, addr, len);
        if (err != 0)
            goto unreserve;
    }
    err = vmsim__vma_insert(sim, mm, &v);
    if (err < 0)
        goto unreserve;
    if (v.hobj != 0)
        sim->hobjs[v.hobj]->creating = false;
    vm_stat_account(mm, &v, 1);
    *addr_out = addr;
    return 0;
unreserve:
    if (v.hobj != 0) {
        sim->hobjs[v.hobj]->creating = false;
        vmsim__hobj_release_if_unused(sim, v.hobj);
    } else if (!(v.flags & VMSIM_VMA_NORESERVE)) {
        vmsim__hugetlb_unreserve(sim, level, len / hs);
    }
    return err;
}

static int do_mmap(struct vmsim *sim, struct vmsim__proc *p, const vmsim_mmap_req_t *req,
                   vmsim_vaddr_t *addr_out)
{
    struct vmsim__mm *mm = p->mm;
    unsigned flags = req->flags, prot = req->prot;
    bool shared = (flags & VMSIM_MAP_SHARED) != 0;
    struct vmsim__vma v;
    struct vmsim__file *file = NULL;
    uint32_t shm_id = 0;
    uint64_t len, pages, charged = 0, moved = 0;
    vmsim_vaddr_t addr;
    int err;

    if (((flags & VMSIM_MAP_PRIVATE) != 0) == shared)
        return VMSIM_SYS_EINVAL;
    if (prot & ~(unsigned)(VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC))
        return VMSIM_SYS_EINVAL;
    if ((req->offset & ~PAGE_MASK) != 0)
        return VMSIM_SYS_EINVAL;
    if (req->len == 0)
        return VMSIM_SYS_EINVAL;
    if (flags & VMSIM_MAP_HUGETLB)
        return do_mmap_hugetlb(sim, p, req, addr_out);
    if (!(flags & VMSIM_MAP_ANONYMOUS)) {
        /* MAP_ANONYMOUS ignores the file, as Linux ignores the fd */
        if (req->file == NULL)
            return VMSIM_SYS_EBADF;
        file = vmsim__file_lookup(sim, req->file);
        if (file == NULL)
            return VMSIM_SYS_ENOENT;
    }
    len = round_up(req->len, PAGE_SIZE);
    if (len == 0 || len < req->len)
        return VMSIM_SYS_ENOMEM;
    pages = len / PAGE_SIZE;
    if (req->offset / PAGE_SIZE + pages < req->offset / PAGE_SIZE)
        return VMSIM_SYS_EOVERFLOW;
    if (mm->nr_vmas >= MAX_MAP_COUNT)
        return VMSIM_SYS_ENOMEM;
    addr = get_unmapped_area(mm, req->addr, len, (flags & VMSIM_MAP_FIXED) != 0, file, shared,
                             req->offset, &err);
    if (err != 0)
        return err;

    memset(&v, 0, sizeof(v));
    v.start = addr;
    v.end = addr + len;
    v.prot = prot;
    /* MAP_NORESERVE is ignored in overcommit mode 2 (mm/mmap.c). */
    if (((flags & VMSIM_MAP_NORESERVE) && sim->cfg.overcommit_memory != 2) ||
        (flags & VMSIM_MAP_UNACCOUNTED))
        v.flags |= VMSIM_VMA_NORESERVE;
    if (shared)
        v.flags |= VMSIM_VMA_SHARED;
    if (file != NULL) {
        v.file = file->id;
        v.pgoff = req->offset / PAGE_SIZE;
        if (shared && !file->shmem)
            v.flags |= VMA_WRITENOTIFY;
    } else if (!shared) {
        v.flags |= VMSIM_VMA_ANON;
        v.pgoff = addr / PAGE_SIZE; /* anonymous: the page's own index */
    }
    if (accountable(prot, v.flags)) {
        uint64_t already = (flags & VMSIM_MAP_FIXED) ? accounted_in(mm, addr, v.end) : 0;

        charged = pages - already;
        if (charged != 0 && !enough_memory(sim, mm, charged))
            return VMSIM_SYS_ENOMEM;
        v.flags |= VMSIM_VMA_ACCOUNT;
    }
    if (flags & VMSIM_MAP_FIXED) {
        moved = (v.flags & VMSIM_VMA_ACCOUNT) ? pages - charged : 0;
        err = vmsim__do_munmap(sim, mm, addr, len);
        if (err != 0) {
            if (charged)
                unacct(sim, charged);
            return err;
        }
        /* The old VMAs' charge passes to the new one (vms.nr_accounted). */
        sim->committed_pages += moved;
    }
    if (shared && file == NULL) {
        /* shmem_zero_setup(): shared anonymous memory is a shmem object */
        err = vmsim__file_new_anon(sim, len, (v.flags & VMSIM_VMA_NORESERVE) != 0, &shm_id);
        if (err != 0) {
            if (charged + moved)
                unacct(sim, charged + moved);
            return err;
        }
        v.file = shm_id;
    }
    err = vmsim__vma_insert(sim, mm, &v);
    if (err < 0) {
        if (charged + moved)
            unacct(sim, charged + moved);
        if (shm_id != 0)
            vmsim__file_release_if_unused(sim, shm_id);
        return err;
    }
    vm_stat_account(mm, &v, 1);
    *addr_out = addr;
    if (flags & VMSIM_MAP_POPULATE)
        return populate(sim, p, v.start, v.end, prot, v.flags);
    return 0;
}

/* The live process for a syscall, or an error. */
static int syscall_proc(vmsim_t *sim, vmsim_pid_t pid, struct vmsim__proc **out)
{
    struct vmsim__proc *p;

    if (sim->panicked)
        return VMSIM_EPANIC;
    p = vmsim__proc_find(sim, pid);
    if (p == NULL || !p->alive)
        return VMSIM_ESRCH;
    *out = p;
    return 0;
}

/* Record a syscall's result as the process's errno and return it. */
static int sysret(struct vmsim__proc *p, int rc)
{
    if (rc >= 0)
        p->last_errno = rc;
    return rc;
}

int vmsim_mmap(vmsim_t *sim, vmsim_pid_t pid, const vmsim_mmap_req_t *req,
               vmsim_vaddr_t *addr_out)
{
    struct vmsim__proc *p;
    vmsim_vaddr_t addr = 0;
    int rc;

    if (req == NULL)
        return VMSIM_EINVAL;
    rc = syscall_proc(sim, pid, &p);
    if (rc < 0)
        return rc;
    {
        struct vmsim__proc *saved = vmsim__api_begin(sim, p);

        rc = vmsim__api_end(sim, p, saved, do_mmap(sim, p, req, &addr));
    }
    if (!p->alive)
        return 0;
    if (rc == 0 && addr_out != NULL)
        *addr_out = addr;
    return sysret(p, rc);
}

int vmsim_munmap(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len)
{
    struct vmsim__proc *p;
    int rc = syscall_proc(sim, pid, &p);

    if (rc < 0)
        return rc;
    return sysret(p, vmsim__do_munmap(sim, p->mm, addr, len));
}

/* ---- mprotect ---------------------------------------------------------- */

/* Rewrite the protection of the present entries of [start, end) in one
 * VMA, as change_protection(): frame, A and D stay, the rest comes from
 * the new protection. An exclusive anonymous page of a private writable
 * VMA is made writable at once (MM_CP_TRY_CHANGE_WRITABLE). */
static void change_protection(struct vmsim *sim, struct vmsim__mm *mm,
                              const struct vmsim__vma *vma, vmsim_vaddr_t start,
                              vmsim_vaddr_t end)
{
    pte_t prot = vma_page_prot(vma);
    bool try_writable = (vma->prot & VMSIM_PROT_WRITE) && !(vma->flags & VMSIM_VMA_SHARED);

    vmsim__flush_tlb_range(sim, mm, start, end);

    if (vma->flags & VMSIM_VMA_HUGETLB) {
        int hl = (int)hugetlb_level(vma);

        for (vmsim_vaddr_t va = start; va < end; va += LEVEL_SIZE(hl)) {
            int level, err;
            pte_t *e = vmsim__pt_walk(sim, mm, va, hl, false, &level, &err);

            if (e != NULL && !pte_none(*e)) {
                pte_t n = (*e & PTE_CHG_MASK) | prot | PTE_PS;

                if (try_writable && pfn_frame(sim, pte_pfn(n))->mapcount == 1 && (n & PTE_P))
                    n |= PTE_RW;
                *e = n;
            }
        }
        return;
    }

    for (vmsim_vaddr_t va = start; va < end;) {
        int level, err;
        pte_t *e = vmsim__pt_walk(sim, mm, va, 0, false, &level, &err);
        vmsim_vaddr_t next = round_down(va, PMD_SIZE) + PMD_SIZE;

        if (e == NULL) {
            va = next;
            continue;
        }
        if (level == 1) {
            /* a huge PMD: changed whole, or split when partly covered */
            if (va == round_down(va, PMD_SIZE) && next <= end) {
                pte_t n = (*e & PTE_CHG_MASK) | prot;

                if (try_writable && !pte_special(n) &&
                    (pfn_frame(sim, pte_pfn(n))->flags & PG_ANON_EXCLUSIVE) &&
                    pfn_frame(sim, pte_pfn(n))->refcount == 1)
                    n |= PTE_RW;
                if (!(n & PTE_P))
                    n &= ~PTE_RW;
                *e = n;
                va = next;
                continue;
            }
            vmsim__split_huge_pmd(sim, mm, e);
            continue;
        }
        if (pte_present(*e)) {
            pte_t n = (*e & PTE_CHG_MASK) | prot;

            if (try_writable && (n & PTE_P) && !pte_special(n) &&
                (pfn_frame(sim, pte_pfn(n))->flags & PG_ANON_EXCLUSIVE))
                n |= PTE_RW;
            *e = n;
        }
        va += PAGE_SIZE;
    }
}

static int do_mprotect(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t start,
                       uint64_t len, unsigned prot)
{
    vmsim_vaddr_t end, nstart;
    size_t i;
    int err;

    if ((start & ~PAGE_MASK) != 0)
        return VMSIM_SYS_EINVAL;
    if (prot & ~(unsigned)(VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC))
        return VMSIM_SYS_EINVAL;
    if (len == 0)
        return 0;
    end = start + round_up(len, PAGE_SIZE);
    if (end <= start || round_up(len, PAGE_SIZE) == 0)
        return VMSIM_SYS_ENOMEM;
    i = vmsim__vma_index(mm, start);
    if (i == mm->nr_vmas || mm->vmas[i].start > start)
        return VMSIM_SYS_ENOMEM;
    /* VMA by VMA, as Linux: a hole part-way stops with ENOMEM after the
     * VMAs before it were changed. */
    for (nstart = start; nstart < end;) {
        struct vmsim__vma *v;
        vmsim_vaddr_t tmp;
        uint64_t charge = 0;

        i = vmsim__vma_index(mm, nstart);
        if (i == mm->nr_vmas || mm->vmas[i].start > nstart)
            return VMSIM_SYS_ENOMEM;
        v = &mm->vmas[i];
        tmp = v->end < end ? v->end : end;
        if ((v->flags & VMSIM_VMA_HUGETLB) &&
            ((nstart | tmp) & (LEVEL_SIZE(hugetlb_level(v)) - 1)))
            return VMSIM_SYS_EINVAL;
        if (v->prot == prot) {
            nstart = tmp;
            continue;
        }
        if ((prot & VMSIM_PROT_WRITE) &&
            !(v->flags & (VMSIM_VMA_ACCOUNT | VMSIM_VMA_SHARED | VMSIM_VMA_HUGETLB |
                          VMSIM_VMA_NORESERVE)) &&
            !(v->prot & VMSIM_PROT_WRITE)) {
            charge = (tmp - nstart) / PAGE_SIZE;
            if (!enough_memory(sim, mm, charge))
                return VMSIM_SYS_ENOMEM;
        }
        err = vmsim__vma_split_at(sim, mm, nstart);
        if (err == 0)
            err = vmsim__vma_split_at(sim, mm, tmp);
        if (err < 0) {
            if (charge)
                unacct(sim, charge);
            return err;
        }
        i = vmsim__vma_index(mm, nstart);
        v = &mm->vmas[i];
        vm_stat_account(mm, v, -1);
        v->prot = prot;
        if (charge)
            v->flags |= VMSIM_VMA_ACCOUNT;
        vm_stat_account(mm, v, 1);
        change_protection(sim, mm, v, v->start, v->end);
        vmsim__vma_merge_around(mm, i);
        nstart = tmp;
    }
    return 0;
}

int vmsim_mprotect(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t addr, uint64_t len,
                   unsigned prot)
{
    struct vmsim__proc *p;
    int rc = syscall_proc(sim, pid, &p);

    if (rc < 0)
        return rc;
    return sysret(p, do_mprotect(sim, p->mm, addr, len, prot));
}

/* ---- brk --------------------------------------------------------------- */

/* brk(2) as mm/mmap.c: shrinking always works; growing needs room below
 * the next mapping (plus a guard page) and commit; the heap is an
 * anonymous rw-p VMA that grows in place when it can. */
static int do_brk(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t brk)
{
    vmsim_vaddr_t newbrk, oldbrk;
    struct vmsim__vma v;
    const struct vmsim__vma *next;
    uint64_t pages;
    int err;

    if (brk < mm->start_brk || brk > TASK_SIZE)
        return VMSIM_SYS_ENOMEM;
    newbrk = round_up(brk, PAGE_SIZE);
    oldbrk = round_up(mm->brk, PAGE_SIZE);
    if (newbrk == oldbrk) {
        mm->brk = brk;
        return 0;
    }
    if (brk <= mm->brk) {
        err = vmsim__do_munmap(sim, mm, newbrk, oldbrk - newbrk);
        if (err != 0)
            return err;
        mm->brk = brk;
        return 0;
    }
    next = vmsim__vma_find(mm, oldbrk);
    if (next != NULL && newbrk + PAGE_SIZE > next->start)
        return VMSIM_SYS_ENOMEM;
    pages = (newbrk - oldbrk) / PAGE_SIZE;
    if (mm->nr_vmas >= MAX_MAP_COUNT)
        return VMSIM_SYS_ENOMEM;
    if (!enough_memory(sim, mm, pages))
        return VMSIM_SYS_ENOMEM;
    memset(&v, 0, sizeof(v));
    v.start = oldbrk;
    v.end = newbrk;
    v.prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE;
    v.flags = VMSIM_VMA_ANON | VMSIM_VMA_ACCOUNT;
    v.pgoff = oldbrk / PAGE_SIZE;
    err = vmsim__vma_insert(sim, mm, &v);
    if (err < 0) {
        unacct(sim, pages);
        return err;
    }
    vm_stat_account(mm, &v, 1);
    mm->brk = brk;
    return 0;
}

int vmsim_brk(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t newbrk, vmsim_vaddr_t *brk_out)
{
    struct vmsim__proc *p;
    int rc = syscall_proc(sim, pid, &p);

    if (rc < 0)
        return rc;
    if (newbrk == 0) {
        rc = 0;
    } else {
        rc = do_brk(sim, p->mm, newbrk);
        if (rc < 0)
            return rc;
    }
    if (brk_out != NULL)
        *brk_out = p->mm->brk;
    return sysret(p, rc);
}

/* ---- inspection -------------------------------------------------------- */

size_t vmsim_maps(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vma_info_t *out, size_t n)
{
    const struct vmsim__proc *p = vmsim__proc_find(sim, pid);
    const struct vmsim__mm *mm;

    if (p == NULL || p->mm == NULL)
        return 0;
    mm = p->mm;
    for (size_t i = 0; i < mm->nr_vmas && i < n; i++) {
        const struct vmsim__vma *v = &mm->vmas[i];

        out[i].start = v->start;
        out[i].end = v->end;
        out[i].prot = v->prot;
        out[i].flags = v->flags & 0xffffu;
        out[i].offset = v->file != 0 ? v->pgoff * PAGE_SIZE : 0;
        out[i].name = "";
        if (v->file != 0) {
            const struct vmsim__file *f = file_of(sim, v->file);

            out[i].name = f->name;
            if (f->anon_shm)
                out[i].offset = 0;
        }
        /* /proc/PID/maps names the VMA holding the heap [heap] */
        if (v->file == 0 && v->start <= mm->brk && v->end >= mm->start_brk) {
            out[i].flags |= VMSIM_VMA_HEAP;
            out[i].name = "[heap]";
        }
    }
    return mm->nr_vmas;
}
