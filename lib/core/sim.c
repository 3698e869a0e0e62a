/*
 * sim.c -- the machine: configuration, creation and destruction, the
 * per-instance host allocator, and the event callback.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "mm/tlb.h"

static const vmsim_latency_t default_latency = {
#define XX(name, dflt, doc) .name = (dflt),
    VMSIM_LATENCY_MAP(XX)
#undef XX
};

void vmsim_config_init(vmsim_config_t *cfg, vmsim_profile profile)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->profile = profile;
    cfg->memory = (uint64_t)1 << 30;
    cfg->swap = 0;
    cfg->policy = "linux";
    cfg->overcommit_memory = 0;
    cfg->overcommit_ratio = 50;
    cfg->panic_on_oom = 0;
    cfg->swappiness = 60;
    cfg->seed = 1;
    cfg->latency = default_latency;
    if (profile == VMSIM_PROFILE_TEXTBOOK) {
        /* No swap unless the trace gives it, as in every profile (the
         * trace contract's default); swap readahead is off. */
        cfg->thp = VMSIM_THP_NEVER;
        cfg->page_cluster = 0;
        cfg->fault_around_bytes = PAGE_SIZE;
        cfg->read_ahead_kb = 0;
        cfg->zero_page = false;
        cfg->tlb.enabled = false;
    } else {
        cfg->thp = VMSIM_THP_MADVISE;
        cfg->page_cluster = 3;
        cfg->fault_around_bytes = 64 * 1024;
        cfg->read_ahead_kb = 128;
        cfg->zero_page = true;
        cfg->tlb.enabled = true;
    }
    /* A current Intel core: 64 4K + 32 2M + 4 1G L1 dTLB entries, 1536 STLB. */
    cfg->tlb.l1_4k = 64;
    cfg->tlb.l1_2m = 32;
    cfg->tlb.l1_1g = 4;
    cfg->tlb.l2 = 1536;
    cfg->tlb.ways = 4;
    cfg->tlb.pcid = true;
}

static int config_validate(const vmsim_config_t *cfg)
{
    if (cfg->memory % PAGE_SIZE != 0 || cfg->swap % PAGE_SIZE != 0)
        return VMSIM_EINVAL;
    if (cfg->memory < VMSIM_MIN_MEMORY || cfg->memory > VMSIM_MAX_MEMORY ||
        cfg->swap > VMSIM_MAX_SWAP)
        return VMSIM_ERANGE;
    if (cfg->profile != VMSIM_PROFILE_LINUX && cfg->profile != VMSIM_PROFILE_TEXTBOOK)
        return VMSIM_EINVAL;
    if ((unsigned)cfg->thp > VMSIM_THP_NEVER)
        return VMSIM_EINVAL;
    if (cfg->overcommit_memory < 0 || cfg->overcommit_memory > 2 ||
        cfg->overcommit_ratio < 0 || cfg->panic_on_oom < 0 || cfg->panic_on_oom > 2 ||
        cfg->swappiness < 0 || cfg->swappiness > 200 || cfg->page_cluster < 0 ||
        cfg->page_cluster > 31)
        return VMSIM_ERANGE;
    if (cfg->fault_around_bytes > PMD_SIZE || cfg->read_ahead_kb > ((uint64_t)1 << 30))
        return VMSIM_ERANGE;
    if (cfg->resident_limit > cfg->memory || cfg->resident_limit % PAGE_SIZE != 0)
        return VMSIM_ERANGE;
    return 0;
}

/* Host memory goes through the instance allocator (cfg.alloc) or libc. */
void *vmsim__malloc(const struct vmsim *sim, size_t size)
{
    if (sim != NULL && sim->cfg.alloc.malloc != NULL)
        return sim->cfg.alloc.malloc(sim->cfg.alloc.ctx, size);
    return malloc(size);
}

void *vmsim__calloc(const struct vmsim *sim, size_t n, size_t size)
{
    if (sim != NULL && sim->cfg.alloc.calloc != NULL)
        return sim->cfg.alloc.calloc(sim->cfg.alloc.ctx, n, size);
    return calloc(n, size);
}

void *vmsim__realloc(const struct vmsim *sim, void *ptr, size_t size)
{
    if (sim != NULL && sim->cfg.alloc.realloc != NULL)
        return sim->cfg.alloc.realloc(sim->cfg.alloc.ctx, ptr, size);
    return realloc(ptr, size);
}

void vmsim__free(const struct vmsim *sim, void *ptr)
{
    if (ptr == NULL)
        return;
    if (sim != NULL && sim->cfg.alloc.free != NULL)
        sim->cfg.alloc.free(sim->cfg.alloc.ctx, ptr);
    else
        free(ptr);
}

int vmsim__grow(const struct vmsim *sim, void **arr, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / size)
        return VMSIM_ENOMEM;
    p = vmsim__realloc(sim, *arr, ncap * size);
    if (p == NULL)
        return VMSIM_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

void vmsim__emit_slow(struct vmsim *sim, vmsim_event_type type, vmsim_pid_t pid,
                      vmsim_vaddr_t va, vmsim_pfn_t pfn, unsigned outcome, const char *cause)
{
    vmsim_event_t ev;

    sim->event_seq++;
    if (sim->cfg.on_event == NULL)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.seq = sim->event_seq;
    ev.type = type;
    ev.pid = pid;
    ev.va = va;
    ev.pfn = pfn;
    ev.outcome = outcome;
    ev.cause = cause != NULL ? cause : "";
    if (type == VMSIM_EV_SIGNAL) {
        const struct vmsim__proc *p = vmsim__proc_find(sim, pid);

        if (p != NULL) {
            ev.signal = p->signal;
            ev.si_code = p->si_code;
        }
    }
    sim->cfg.on_event(sim->cfg.event_ctx, &ev);
}

#ifndef NDEBUG
void vmsim__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    /* A broken invariant is a library bug: stop loudly in debug builds. */
    fprintf(stderr, "libvmsim: %s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    abort();
}
#endif

int vmsim_create(const vmsim_config_t *cfg, vmsim_t **out)
{
    vmsim_config_t resolved;
    struct vmsim *sim;
    uint64_t nr_frames, nr_reserved;
    int err;

    if (cfg == NULL || out == NULL)
        return VMSIM_EINVAL;
    resolved = *cfg;
    if (resolved.swap == VMSIM_SWAP_AS_MEMORY)
        resolved.swap = resolved.memory;
    cfg = &resolved;
    err = config_validate(cfg);
    if (err < 0)
        return err;
    if (cfg->alloc.calloc != NULL)
        sim = cfg->alloc.calloc(cfg->alloc.ctx, 1, sizeof(*sim));
    else
        sim = calloc(1, sizeof(*sim));
    if (sim == NULL)
        return VMSIM_ENOMEM;
    sim->cfg = resolved;
    if (sim->cfg.policy == NULL)
        sim->cfg.policy = "linux";
    /* Kernel frames after RAM: the zero page, then a 2 MiB-aligned huge
     * zero page. They are not RAM and never counted in MemTotal. */
    nr_frames = cfg->memory / PAGE_SIZE;
    nr_reserved = round_up(nr_frames + 1, PT_ENTRIES) + PT_ENTRIES - nr_frames;
    err = vmsim__phys_init(sim, nr_frames, nr_reserved);
    if (err < 0) {
        vmsim__free(sim, sim);
        return err;
    }
    sim->zero_pfn = nr_frames;
    sim->huge_zero_pfn = round_up(nr_frames + 1, PT_ENTRIES);
    sim->next_anon_id = 1;
    if (cfg->track_data) {
        sim->frame_data = vmsim__calloc(sim, nr_frames, sizeof(*sim->frame_data));
        if (sim->frame_data == NULL) {
            err = VMSIM_ENOMEM;
            goto fail;
        }
    }
    err = vmsim__hugetlb_init(sim);
    if (err < 0)
        goto fail;
    err = vmsim__swap_init(sim);
    if (err < 0)
        goto fail;
    err = vmsim__policy_init(sim);
    if (err < 0)
        goto fail;
    sim->tlb_asid = -1;
    sim->touch = sim->policy->touch;
    sim->wants_touch = sim->touch != NULL;
    if (cfg->tlb.enabled) {
        err = vmsim__tlb_create(sim, &cfg->tlb, &sim->tlb);
        if (err < 0) {
            vmsim__policy_destroy(sim);
            goto fail;
        }
    }
    *out = sim;
    return 0;
fail:
    vmsim__hugetlb_destroy(sim);
    vmsim__swap_destroy(sim);
    vmsim__free(sim, sim->frame_data);
    vmsim__phys_destroy(sim);
    vmsim__table_mem_destroy(sim);
    vmsim__free(sim, sim);
    return err;
}

void vmsim_destroy(vmsim_t *sim)
{
    if (sim == NULL)
        return;
    /* the TLB first: the processes' exits below need not shoot down
     * entries of a TLB that goes anyway (each scanned all of it) */
    vmsim__tlb_destroy(sim, sim->tlb);
    sim->tlb = NULL;
    vmsim__procs_destroy(sim);
    vmsim__files_destroy(sim);
    vmsim__policy_destroy(sim);
    vmsim__swap_destroy(sim);
    vmsim__hugetlb_destroy(sim);
    vmsim__kmsg_destroy(sim);
    if (sim->frame_data != NULL) {
        for (uint64_t pfn = 0; pfn < sim->nr_frames; pfn++)
            vmsim__free(sim, sim->frame_data[pfn]);
        vmsim__free(sim, sim->frame_data);
    }
    vmsim__phys_destroy(sim);
    vmsim__table_mem_destroy(sim); /* after the last table */
    vmsim__free(sim, sim->check_scratch);
    vmsim__free(sim, sim);
}

const vmsim_config_t *vmsim_config(const vmsim_t *sim)
{
    return &sim->cfg;
}

void vmsim_free(vmsim_t *sim, void *ptr)
{
    vmsim__free(sim, ptr);
}

void vmsim_set_access_hook(vmsim_t *sim, vmsim_access_fn fn, void *ctx)
{
    sim->access_hook = fn;
    sim->access_hook_ctx = ctx;
}

int vmsim_swapoff(vmsim_t *sim)
{
    if (sim->panicked)
        return VMSIM_EPANIC;
    if (sim->nr_swap_slots == 0)
        return 0;
    return vmsim__swapoff(sim);
}

bool vmsim_panicked(const vmsim_t *sim)
{
    return sim->panicked;
}

size_t vmsim_time_breakdown(const vmsim_t *sim, uint64_t *out, size_t n)
{
    for (size_t i = 0; i < n && i < VMSIM_COST__COUNT; i++)
        out[i] = sim->time_by[i];
    return VMSIM_COST__COUNT;
}

const char *vmsim_cost_name(size_t i)
{
    static const char *const names[VMSIM_COST__COUNT] = {
#define XX(name, dflt, doc) #name,
        VMSIM_LATENCY_MAP(XX)
#undef XX
    };

    return i < VMSIM_COST__COUNT ? names[i] : NULL;
}

uint64_t vmsim_time_ns(const vmsim_t *sim)
{
    return sim->time_ns;
}

void vmsim_tlb_stats(const vmsim_t *sim, vmsim_tlb_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sim->tlb != NULL)
        vmsim__tlb_stats(sim->tlb, out);
}

void vmsim__flush_tlb_range(struct vmsim *sim, struct vmsim__mm *mm, vmsim_vaddr_t start,
                            vmsim_vaddr_t end)
{
    if (end - start > UCACHE_SIZE * PAGE_SIZE) {
        ucache_clear(mm);
    } else {
        /* only 4 KiB leaves are cached, each in its vpn's slot */
        for (uint64_t vpn = start >> PAGE_SHIFT; vpn < (end + PAGE_SIZE - 1) >> PAGE_SHIFT;
             vpn++) {
            if (mm->uc[vpn & (UCACHE_SIZE - 1)].vpn == vpn)
                mm->uc[vpn & (UCACHE_SIZE - 1)].vpn = UINT64_MAX;
        }
    }
    if (sim->tlb != NULL)
        vmsim__tlb_flush_range(sim->tlb, (uint32_t)mm->owner, start, end);
}

void vmsim__flush_tlb_mm(struct vmsim *sim, struct vmsim__mm *mm)
{
    ucache_clear(mm);
    if (sim->tlb != NULL)
        vmsim__tlb_flush_asid(sim->tlb, (uint32_t)mm->owner);
}

void vmsim_buddyinfo(const vmsim_t *sim, uint64_t out[19])
{
    VMSIM_ASSERT(sim->recycled == PFN_NONE); /* held only inside an allocation */
    for (int i = 0; i < NR_ORDERS; i++)
        out[i] = sim->nr_free_blocks[i];
}

/* ---- sysctl ------------------------------------------------------------ */

/* A decimal integer in [lo, hi], the whole string. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    bool neg = false;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s == '\0')
        return VMSIM_EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > 1000000000L)
            return VMSIM_EINVAL;
        v = v * 10 + (*s - '0');
    }
    if (neg)
        v = -v;
    if (v < lo || v > hi)
        return VMSIM_EINVAL;
    *out = v;
    return 0;
}

int vmsim_sysctl_set(vmsim_t *sim, const char *key, const char *value)
{
    static const struct {
        const char *key;
        long lo, hi;
        size_t off;
    } ints[] = {
        { "vm.panic_on_oom", 0, 2, offsetof(vmsim_config_t, panic_on_oom) },
        { "vm.overcommit_memory", 0, 2, offsetof(vmsim_config_t, overcommit_memory) },
        { "vm.overcommit_ratio", 0, 1000000, offsetof(vmsim_config_t, overcommit_ratio) },
        { "vm.swappiness", 0, 200, offsetof(vmsim_config_t, swappiness) },
        { "vm.page-cluster", 0, 31, offsetof(vmsim_config_t, page_cluster) },
    };
    long v;

    if (key == NULL || value == NULL)
        return VMSIM_EINVAL;
    if (sim->panicked)
        return VMSIM_EPANIC;
    for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
        if (strcmp(key, ints[i].key) == 0) {
            int err = parse_int(value, ints[i].lo, ints[i].hi, &v);

            if (err < 0)
                return err;
            int iv = (int)v;

            memcpy((char *)&sim->cfg + ints[i].off, &iv, sizeof(iv));
            return 0;
        }
    }
    if (strcmp(key, "vm.drop_caches") == 0) {
        int err = parse_int(value, 1, 3, &v);

        if (err < 0)
            return err;
        if (v & 1) {
            vmsim__drop_pagecache(sim);
            count_vm_event(sim, VMSIM_VMSTAT_DROP_PAGECACHE);
        }
        if (v & 2)
            count_vm_event(sim, VMSIM_VMSTAT_DROP_SLAB);
        return 0;
    }
    if (strcmp(key, "transparent_hugepage.enabled") == 0 ||
        strcmp(key, "kernel.mm.transparent_hugepage.enabled") == 0) {
        static const char *const modes[] = { "always", "madvise", "never" };

        for (int m = 0; m < 3; m++) {
            if (strcmp(value, modes[m]) == 0) {
                sim->cfg.thp = (vmsim_thp_mode)m;
                return 0;
            }
        }
        return VMSIM_EINVAL;
    }
    return VMSIM_ENOENT;
}

_Static_assert(sizeof(vmsim_latency_t) == VMSIM_COST__COUNT * sizeof(uint64_t),
               "vmsim_latency_t must be one uint64_t per cost bucket");
