/*
 * stats.c -- vmstat and meminfo, computed as Linux computes them
 * (mm/vmstat.c, fs/proc/meminfo.c, mm/show_mem.c si_mem_available()).
 */
#include "internal.h"

static const char *const vmstat_names[VMSIM_VMSTAT__COUNT] = {
#define XX(id, name, doc) [VMSIM_VMSTAT_##id] = name,
    VMSIM_VMSTAT_MAP(XX)
#undef XX
};

static const char *const meminfo_names[VMSIM_MEMINFO__COUNT] = {
#define XX(id, name, doc) [VMSIM_MEMINFO_##id] = name,
    VMSIM_MEMINFO_MAP(XX)
#undef XX
};

size_t vmsim_vmstat_read(const vmsim_t *sim, uint64_t *out, size_t n)
{
    const uint64_t *v = sim->vmstat;

    for (size_t i = 0; i < n && i < VMSIM_VMSTAT__COUNT; i++) {
        switch (i) {
        case VMSIM_VMSTAT_PGSCAN:
            out[i] = v[VMSIM_VMSTAT_PGSCAN_KSWAPD] + v[VMSIM_VMSTAT_PGSCAN_DIRECT];
            break;
        case VMSIM_VMSTAT_PGSTEAL:
            out[i] = v[VMSIM_VMSTAT_PGSTEAL_KSWAPD] + v[VMSIM_VMSTAT_PGSTEAL_DIRECT];
            break;
        case VMSIM_VMSTAT_WORKINGSET_REFAULT:
            out[i] = v[VMSIM_VMSTAT_WORKINGSET_REFAULT_ANON] +
                     v[VMSIM_VMSTAT_WORKINGSET_REFAULT_FILE];
            break;
        default:
            out[i] = v[i];
        }
    }
    return VMSIM_VMSTAT__COUNT;
}

const char *vmsim_vmstat_name(size_t i)
{
    return i < VMSIM_VMSTAT__COUNT ? vmstat_names[i] : NULL;
}

int vmsim_vmstat_get(const vmsim_t *sim, const char *name, uint64_t *out)
{
    uint64_t all[VMSIM_VMSTAT__COUNT];

    if (name == NULL)
        return VMSIM_EINVAL;
    for (size_t i = 0; i < VMSIM_VMSTAT__COUNT; i++) {
        if (strcmp(name, vmstat_names[i]) == 0) {
            vmsim_vmstat_read(sim, all, VMSIM_VMSTAT__COUNT);
            *out = all[i];
            return 0;
        }
    }
    return VMSIM_ENOENT;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* si_mem_available(): free memory less the reserve, plus the page cache
 * that could go without thrashing (all but min(half, low watermark)). */
static uint64_t mem_available(const struct vmsim *sim)
{
    const uint64_t *v = sim->vmstat;
    uint64_t totalreserve = min_u64(sim->wmark_high, sim->nr_frames);
    int64_t available = (int64_t)sim->nr_free - (int64_t)totalreserve;
    uint64_t pagecache = v[VMSIM_VMSTAT_NR_ACTIVE_FILE] + v[VMSIM_VMSTAT_NR_INACTIVE_FILE];

    pagecache -= min_u64(pagecache / 2, sim->wmark_low);
    available += (int64_t)pagecache;
    return available < 0 ? 0 : (uint64_t)available;
}

size_t vmsim_meminfo_read(const vmsim_t *sim, uint64_t *out, size_t n)
{
    const uint64_t *v = sim->vmstat;
    uint64_t m[VMSIM_MEMINFO__COUNT];
    uint64_t hugetlb_pages = sim->hpool[0].total * 512 + sim->hpool[1].total * 512 * 512;

    memset(m, 0, sizeof(m));
    m[VMSIM_MEMINFO_MEMTOTAL] = sim->nr_frames;
    m[VMSIM_MEMINFO_MEMFREE] = sim->nr_free;
    m[VMSIM_MEMINFO_MEMAVAILABLE] = mem_available(sim);
    m[VMSIM_MEMINFO_CACHED] = v[VMSIM_VMSTAT_NR_FILE_PAGES] - v[VMSIM_VMSTAT_NR_SWAPCACHED];
    m[VMSIM_MEMINFO_SWAPCACHED] = v[VMSIM_VMSTAT_NR_SWAPCACHED];
    m[VMSIM_MEMINFO_ACTIVE_ANON] = v[VMSIM_VMSTAT_NR_ACTIVE_ANON];
    m[VMSIM_MEMINFO_INACTIVE_ANON] = v[VMSIM_VMSTAT_NR_INACTIVE_ANON];
    m[VMSIM_MEMINFO_ACTIVE_FILE] = v[VMSIM_VMSTAT_NR_ACTIVE_FILE];
    m[VMSIM_MEMINFO_INACTIVE_FILE] = v[VMSIM_VMSTAT_NR_INACTIVE_FILE];
    m[VMSIM_MEMINFO_ACTIVE] = m[VMSIM_MEMINFO_ACTIVE_ANON] + m[VMSIM_MEMINFO_ACTIVE_FILE];
    m[VMSIM_MEMINFO_INACTIVE] = m[VMSIM_MEMINFO_INACTIVE_ANON] + m[VMSIM_MEMINFO_INACTIVE_FILE];
    m[VMSIM_MEMINFO_UNEVICTABLE] = v[VMSIM_VMSTAT_NR_UNEVICTABLE];
    m[VMSIM_MEMINFO_SWAPTOTAL] = sim->cfg.swap / PAGE_SIZE;
    m[VMSIM_MEMINFO_SWAPFREE] = sim->cfg.swap / PAGE_SIZE - sim->nr_swap_used;
    m[VMSIM_MEMINFO_DIRTY] = v[VMSIM_VMSTAT_NR_DIRTY];
    m[VMSIM_MEMINFO_WRITEBACK] = v[VMSIM_VMSTAT_NR_WRITEBACK];
    m[VMSIM_MEMINFO_ANONPAGES] = v[VMSIM_VMSTAT_NR_ANON_PAGES];
    m[VMSIM_MEMINFO_MAPPED] = v[VMSIM_VMSTAT_NR_MAPPED];
    m[VMSIM_MEMINFO_SHMEM] = v[VMSIM_VMSTAT_NR_SHMEM];
    m[VMSIM_MEMINFO_PAGETABLES] = v[VMSIM_VMSTAT_NR_PAGE_TABLE_PAGES];
    m[VMSIM_MEMINFO_COMMITLIMIT] = vmsim__commit_limit(sim);
    m[VMSIM_MEMINFO_COMMITTED_AS] = sim->committed_pages;
    m[VMSIM_MEMINFO_ANONHUGEPAGES] = v[VMSIM_VMSTAT_NR_ANON_THPS] * 512;
    m[VMSIM_MEMINFO_HUGEPAGESIZE] = 512;
    m[VMSIM_MEMINFO_HUGETLB] = hugetlb_pages;
    /* pages to bytes, except the HugePages_ counts */
    for (size_t i = 0; i < VMSIM_MEMINFO__COUNT; i++)
        m[i] *= PAGE_SIZE;
    m[VMSIM_MEMINFO_HUGEPAGES_TOTAL] = sim->hpool[0].total;
    m[VMSIM_MEMINFO_HUGEPAGES_FREE] = sim->hpool[0].free;
    m[VMSIM_MEMINFO_HUGEPAGES_RSVD] = sim->hpool[0].rsvd;
    m[VMSIM_MEMINFO_HUGEPAGES_SURP] = 0;
    for (size_t i = 0; i < n && i < VMSIM_MEMINFO__COUNT; i++)
        out[i] = m[i];
    return VMSIM_MEMINFO__COUNT;
}

const char *vmsim_meminfo_name(size_t i)
{
    return i < VMSIM_MEMINFO__COUNT ? meminfo_names[i] : NULL;
}

int vmsim_meminfo_get(const vmsim_t *sim, const char *name, uint64_t *out)
{
    uint64_t all[VMSIM_MEMINFO__COUNT];

    if (name == NULL)
        return VMSIM_EINVAL;
    for (size_t i = 0; i < VMSIM_MEMINFO__COUNT; i++) {
        if (strcmp(name, meminfo_names[i]) == 0) {
            vmsim_meminfo_read(sim, all, VMSIM_MEMINFO__COUNT);
            *out = all[i];
            return 0;
        }
    }
    return VMSIM_ENOENT;
}
