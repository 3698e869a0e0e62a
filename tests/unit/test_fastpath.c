/*
 * test_fastpath.c -- the shortcuts are exact.
 *
 * The access and reclaim paths take shortcuts where the general path's
 * effect is known: the hit path walks the tables itself when the ucache
 * misses (access_walk), the resident limit's reclaim evicts a plain
 * anonymous page in one step (evict_anon_fast) and hands the freed frame
 * straight to the allocation (recycle), and both walk through a cache of
 * the last PTE table (pt_lookup_cached); a swap-in of a slot nothing else
 * refers to skips the general path's detours (swap_in_only_user).
 * sim->slow_paths turns them all off. Two machines, one each way, run the same random operations: every
 * return code, outcome, event (a running hash of seq, type, pid, va, pfn,
 * outcome, signal, si_code, cause), vmstat counter, meminfo field,
 * process figure, the simulated clock and the policies' access count must
 * be the same after every step, every page-table entry of every process
 * (frames, swap slots, accessed and dirty bits) every 50 steps, and
 * vmsim_check() must hold on both. Policies fifo, lru, clock, linux and
 * random; profile textbook (TLB off: the walk) and linux (TLB on,
 * readahead, the zero page), each with THP always and never; and two
 * textbook machines without an event callback (their swap-ins skip the
 * slot's cache word, swap_in_only_user); some accesses come in batches
 * on the fast machine (vmsim_access_batch and its prefetches), one by one
 * on the slow one;
 * forks share pages, exits and MADV_PAGEOUT/DONTNEED make holes and
 * swap-cache pages around the shortcuts, and unmapping 2 MiB chunks and
 * khugepaged free and replace page tables under the walk caches.
 */
#include "test_util.h"
#include "internal.h"

#define REGION (40 * MiB) /* wider than the ucache's 16 MiB: slots conflict */
#define NPROC  4

static void hash_event(void *ctx, const vmsim_event_t *ev)
{
    uint64_t *h = ctx;
    uint64_t v[6] = { ev->seq, (uint64_t)ev->type << 32 | (uint32_t)ev->pid, ev->va, ev->pfn,
                      (uint64_t)ev->outcome << 32 | (uint32_t)ev->signal,
                      (uint64_t)(uint32_t)ev->si_code };

    for (int i = 0; i < 6; i++)
        *h = (*h ^ v[i]) * 0x100000001b3ull;
    for (const char *c = ev->cause; c != NULL && *c != '\0'; c++)
        *h = (*h ^ (unsigned char)*c) * 0x100000001b3ull;
}

/* Every table and entry of a process's page tables, hashed. */
static int hash_pt_node(void *ctx, const vmsim_pt_node_t *n)
{
    uint64_t *h = ctx;
    uint64_t v[4] = { (uint64_t)(uint32_t)n->level << 32 | (uint32_t)n->index, n->table_pfn,
                      n->entry, n->va };

    for (int i = 0; i < 4; i++)
        *h = (*h ^ v[i]) * 0x100000001b3ull;
    return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct machine {
    vmsim_t *sim;
    uint64_t hash;
};

static void machine_new(struct machine *m, const char *policy, bool linux_profile, bool thp,
                        bool events, bool slow)
{
    vmsim_config_t cfg;

    m->hash = 0xcbf29ce484222325ull;
    vmsim_config_init(&cfg, linux_profile ? VMSIM_PROFILE_LINUX : VMSIM_PROFILE_TEXTBOOK);
    cfg.memory = 64 * MiB;
    cfg.swap = 24 * MiB;
    cfg.resident_limit = 2 * MiB;
    cfg.policy = policy;
    cfg.thp = thp ? VMSIM_THP_ALWAYS : VMSIM_THP_NEVER;
    if (events) {
        cfg.on_event = hash_event;
        cfg.event_ctx = &m->hash;
    }
    assert_int_equal(vmsim_create(&cfg, &m->sim), 0);
    m->sim->slow_paths = slow;
    assert_int_equal(vmsim_spawn(m->sim, 1, "p", 0), 0);
}

static void same_state(struct machine *a, struct machine *b, int step, bool tables)
{
    uint64_t va[VMSIM_VMSTAT__COUNT], vb[VMSIM_VMSTAT__COUNT], ma[64], mb[64];
    size_t n;

    if (a->hash != b->hash)
        fail_msg("step %d: the event streams differ", step);
    n = vmsim_vmstat_read(a->sim, va, VMSIM_VMSTAT__COUNT);
    assert_int_equal(vmsim_vmstat_read(b->sim, vb, VMSIM_VMSTAT__COUNT), n);
    for (size_t i = 0; i < n; i++) {
        if (va[i] != vb[i])
            fail_msg("step %d: %s %" PRIu64 " vs %" PRIu64, step, vmsim_vmstat_name(i), va[i],
                     vb[i]);
    }
    n = vmsim_meminfo_read(a->sim, ma, 64);
    assert_true(n <= 64);
    assert_int_equal(vmsim_meminfo_read(b->sim, mb, 64), n);
    assert_memory_equal(ma, mb, n * sizeof(ma[0]));
    assert_int_equal(vmsim_time_ns(a->sim), vmsim_time_ns(b->sim));
    assert_int_equal(a->sim->now, b->sim->now); /* the policies' clock */
    for (vmsim_pid_t pid = 1; pid <= NPROC; pid++) {
        vmsim_proc_info_t ia, ib;
        int ra = vmsim_proc_info(a->sim, pid, &ia), rb = vmsim_proc_info(b->sim, pid, &ib);

        assert_int_equal(ra, rb);
        if (ra != 0)
            continue;
        assert_int_equal(ia.alive, ib.alive);
        assert_int_equal(ia.minflt, ib.minflt);
        assert_int_equal(ia.majflt, ib.majflt);
        assert_int_equal(ia.signal, ib.signal);
        assert_int_equal(ia.cow, ib.cow);
        assert_int_equal(ia.vmhwm, ib.vmhwm);
        assert_int_equal(ia.rss_anon, ib.rss_anon);
        assert_int_equal(ia.vmswap, ib.vmswap);
        assert_int_equal(ia.swapin, ib.swapin);
        assert_int_equal(ia.swapout, ib.swapout);
        if (tables && ia.alive) {
            /* the same entries in the same tables: frames, swap slots,
             * accessed and dirty bits, permissions */
            uint64_t ha = 0xcbf29ce484222325ull, hb = ha;

            assert_int_equal(vmsim_pagetable_walk(a->sim, pid, hash_pt_node, &ha), 0);
            assert_int_equal(vmsim_pagetable_walk(b->sim, pid, hash_pt_node, &hb), 0);
            if (ha != hb)
                fail_msg("step %d: pid %d's page tables differ", step, pid);
        }
    }
}

static void test_shortcuts_are_exact(void **state)
{
    static const char *const policies[] = { "fifo", "lru", "clock", "linux", "random" };
    uint64_t walks = 0, evictions = 0, quiet_swapins = 0, batches = 0;

    (void)state;
    /* k 10 and 11: no event callback, as a benchmark or a replay without
     * --events runs (a swap-in then skips the slot's cache word) */
    for (unsigned k = 0; k < 12; k++) {
        struct machine a, b;
        uint64_t rng = 0x9e3779b97f4a7c15ull * (k + 1), hot[128];
        vmsim_mmap_req_t req = {
            .len = REGION,
            .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
            .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS,
        };
        vmsim_vaddr_t base = 0, base_b = 0;
        vmsim_pid_t pid = 1;

        bool linux_profile = k >= 5 && k < 10, events = k < 10;

        machine_new(&a, policies[k % 5], linux_profile, k % 2, events, false);
        machine_new(&b, policies[k % 5], linux_profile, k % 2, events, true);
        assert_int_equal(vmsim_mmap(a.sim, 1, &req, &base), 0);
        assert_int_equal(vmsim_mmap(b.sim, 1, &req, &base_b), 0);
        assert_int_equal(base, base_b);
        /* hot pages, some pairs 16 MiB apart (one ucache slot) */
        for (size_t i = 0; i < 128; i++) {
            uint64_t pg = splitmix64(&rng);

            hot[i] = pg % (REGION / VMSIM_PAGE_SIZE);
            if (i % 4 == 1 && hot[i - 1] + 4096 < REGION / VMSIM_PAGE_SIZE)
                hot[i] = hot[i - 1] + 4096;
        }
        for (int step = 0; step < 20000; step++) {
            uint64_t r = splitmix64(&rng);
            unsigned op = (unsigned)(r % 100);
            int ra, rb;

            /* runs of one process, as a trace has them */
            if ((r >> 8) % 64 == 0 || vmsim_proc_alive(a.sim, pid) != 1)
                pid = (vmsim_pid_t)(1 + (r >> 14) % NPROC);
            if (vmsim_proc_alive(a.sim, pid) != 1)
                pid = 1;

            if (op < 4) {
                /* a batch on the fast machine (its prefetches), the same
                 * accesses one by one on the slow one: a run through one
                 * 2 MiB, then pages spread over the region */
                vmsim_vaddr_t vas[64];
                vmsim_access_kind kind = (r >> 52) % 3 == 0 ? VMSIM_WRITE : VMSIM_READ;
                size_t n = 1 + (r >> 24) % 64, done_a = 99, done_b;
                unsigned oa = 99, ob = 0;

                for (size_t q = 0; q < n; q++) {
                    uint64_t x = splitmix64(&rng);
                    uint64_t pg = q < n / 2 ? (r >> 32) % (REGION / VMSIM_PAGE_SIZE - 512) + q
                                            : x % 2048 * 5;

                    vas[q] = base + pg * VMSIM_PAGE_SIZE + (x >> 52);
                }
                ra = vmsim_access_batch(a.sim, pid, vas, n, 1, kind, &done_a, &oa);
                for (done_b = 0, rb = 0; done_b < n; done_b++) {
                    unsigned o = 0;

                    rb = vmsim_access(b.sim, pid, vas[done_b], 1, kind, &o);
                    if (rb < 0)
                        break;
                    ob |= o;
                    if (vmsim_proc_alive(b.sim, pid) != 1) {
                        done_b++;
                        break;
                    }
                }
                batches++;
                assert_int_equal(ra, rb);
                assert_int_equal(done_a, done_b);
                assert_int_equal(oa, ob);
            } else if (op < 88) {
                /* an access: a hot page (they stay) or one of 2 048 pages
                 * spread over the region (they go to swap and come back) */
                uint64_t pg = (r >> 12) % 4 ? hot[(r >> 16) % 128] : (r >> 16) % 2048 * 5;
                vmsim_vaddr_t va = base + pg * VMSIM_PAGE_SIZE + ((r >> 40) % 4096);
                vmsim_access_kind kind = (r >> 52) % 3 == 0 ? VMSIM_WRITE : VMSIM_READ;
                uint64_t size = (r >> 56) % 3 == 0 ? 8 : 1; /* some cross a page */
                unsigned oa = 99, ob = 99;
                const struct vmsim__proc *lp = a.sim->last_proc;
                /* the hit path's ucache will miss: access_walk() runs */
                bool walk = a.sim->tlb == NULL && lp != NULL && lp->pid == pid &&
                            size <= VMSIM_PAGE_SIZE - (va & (VMSIM_PAGE_SIZE - 1)) &&
                            lp->mm->uc[(va >> 12) & (UCACHE_SIZE - 1)].vpn != va >> 12;

                ra = vmsim_access(a.sim, pid, va, size, kind, &oa);
                walks += walk && ra == 0 && oa == 0;
                rb = vmsim_access(b.sim, pid, va, size, kind, &ob);
                assert_int_equal(ra, rb);
                assert_int_equal(oa, ob);
            } else if (op < 93) {
                /* fork: pages shared by two processes take the general path */
                vmsim_pid_t child = (vmsim_pid_t)(1 + (r >> 20) % NPROC);

                ra = vmsim_fork(a.sim, pid, child);
                rb = vmsim_fork(b.sim, pid, child);
                assert_int_equal(ra, rb);
            } else if (op < 95) {
                if (pid != 1) {
                    ra = vmsim_exit(a.sim, pid);
                    rb = vmsim_exit(b.sim, pid);
                    assert_int_equal(ra, rb);
                }
            } else if (op < 96) {
                /* page tables go and come back (the walk caches' stale
                 * tables): unmap a 2 MiB chunk, map it again; or collapse
                 * THPs (a PMD entry that pointed to a table changes) */
                vmsim_vaddr_t at = base + ((r >> 20) % (REGION / PMD_SIZE)) * PMD_SIZE;
                vmsim_mmap_req_t fixed = req;
                vmsim_vaddr_t got_a = 0, got_b = 0;

                if ((r >> 40) % 2) {
                    ra = vmsim_khugepaged(a.sim, pid);
                    rb = vmsim_khugepaged(b.sim, pid);
                    assert_int_equal(ra, rb);
                } else if (vmsim_proc_alive(a.sim, pid) == 1) {
                    assert_int_equal(vmsim_munmap(a.sim, pid, at, PMD_SIZE), 0);
                    assert_int_equal(vmsim_munmap(b.sim, pid, at, PMD_SIZE), 0);
                    fixed.addr = at;
                    fixed.len = PMD_SIZE;
                    fixed.flags |= VMSIM_MAP_FIXED;
                    ra = vmsim_mmap(a.sim, pid, &fixed, &got_a);
                    rb = vmsim_mmap(b.sim, pid, &fixed, &got_b);
                    assert_int_equal(ra, rb);
                    assert_int_equal(got_a, got_b);
                }
            } else {
                /* give pages back or push them out: the fast eviction's
                 * neighbours (swap-cache pages, holes) */
                vmsim_vaddr_t at = base + ((r >> 20) % (REGION / VMSIM_PAGE_SIZE - 64)) *
                                              VMSIM_PAGE_SIZE;
                int advice = op < 98 ? VMSIM_MADV_PAGEOUT : VMSIM_MADV_DONTNEED;

                ra = vmsim_madvise(a.sim, pid, at, 64 * VMSIM_PAGE_SIZE, advice);
                rb = vmsim_madvise(b.sim, pid, at, 64 * VMSIM_PAGE_SIZE, advice);
                assert_int_equal(ra, rb);
            }
            same_state(&a, &b, step, step % 50 == 49);
            if (step % 1000 == 999) {
                test_check(a.sim);
                test_check(b.sim);
            }
        }
        evictions += test_vmstat(a.sim, "pswpout");
        if (!events)
            quiet_swapins += test_vmstat(a.sim, "pswpin");
        test_sim_free(a.sim);
        test_sim_free(b.sim);
    }
    print_message("%" PRIu64 " evictions, %" PRIu64 " walked hits, %" PRIu64
                  " swap-ins without events, %" PRIu64 " batches\n",
                  evictions, walks, quiet_swapins, batches);
    /* the shortcuts ran: evictions, hits that the walk served, swap-ins
     * of machines without an event callback */
    assert_true(evictions > 10000);
    assert_true(walks > 1000);
    assert_true(quiet_swapins > 1000);
    assert_true(batches > 1000);
}

/* pt_lookup_cached() and pt_lookup() agree on va of pid, and the walk
 * cache then holds va's table when there is one. */
static void same_lookup(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, int want_level)
{
    struct vmsim__mm *mm = vmsim__proc_find(sim, pid)->mm;
    int la = -1, lb = -1;
    pte_t *a = pt_lookup_cached(sim, mm, &mm->wc_access, va, &la);
    pte_t *b = pt_lookup(sim, mm, va, &lb);

    assert_ptr_equal(a, b);
    if (b != NULL) {
        assert_int_equal(la, lb);
        assert_int_equal(lb, want_level);
    }
    if (want_level < 0)
        assert_null(b);
    /* and again, now from the cache when it holds the table */
    la = -1;
    assert_ptr_equal(pt_lookup_cached(sim, mm, &mm->wc_access, va, &la), b);
    if (b != NULL)
        assert_int_equal(la, lb);
}

/*
 * The walk cache against the plain walk, step by step, where the PMD entry
 * it remembers changes: the table freed by munmap (with the PMD table of a
 * lone 1 GiB region), a new one mapped in its place, a THP collapse that
 * takes the table out (deposited, not freed), and a split that puts a
 * table back.
 */
static void test_walk_cache(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_mmap_req_t req = {
        .addr = 64 * GiB, /* alone in its 1 GiB: unmapping frees its PMD table too */
        .len = 4 * MiB,
        .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED,
    };
    vmsim_vaddr_t va = 0, at;
    uint64_t gen;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.memory = 64 * MiB;
    cfg.thp = VMSIM_THP_MADVISE;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "p", 0), 0);
    assert_int_equal(vmsim_mmap(sim, 1, &req, &va), 0);
    at = va + 5 * VMSIM_PAGE_SIZE;
    same_lookup(sim, 1, at, -1); /* no tables yet */
    test_touch(sim, 1, va, 2 * MiB, VMSIM_WRITE);
    same_lookup(sim, 1, at, 0);
    same_lookup(sim, 1, at + 4096, 0);
    /* unmap: the PTE and PMD tables go */
    gen = sim->pt_free_gen;
    assert_int_equal(vmsim_munmap(sim, 1, va, 4 * MiB), 0);
    assert_true(sim->pt_free_gen >= gen + 2);
    same_lookup(sim, 1, at, -1);
    /* mapped and touched again: new tables */
    assert_int_equal(vmsim_mmap(sim, 1, &req, &va), 0);
    test_touch(sim, 1, va, 2 * MiB, VMSIM_WRITE);
    same_lookup(sim, 1, at, 0);
    /* a collapse takes the PTE table out of the PMD entry */
    assert_int_equal(vmsim_madvise(sim, 1, va, 4 * MiB, VMSIM_MADV_HUGEPAGE), 0);
    gen = sim->pt_free_gen;
    assert_int_equal(vmsim_madvise(sim, 1, va, 2 * MiB, VMSIM_MADV_COLLAPSE), 0);
    assert_int_equal(test_vmstat(sim, "thp_collapse_alloc"), 1);
    assert_int_equal(sim->pt_free_gen, gen); /* deposited, not freed */
    same_lookup(sim, 1, at, 1);
    /* and a split puts a table back */
    assert_int_equal(vmsim_madvise(sim, 1, at, VMSIM_PAGE_SIZE, VMSIM_MADV_DONTNEED), 0);
    same_lookup(sim, 1, at, 0);
    same_lookup(sim, 1, at + 4096, 0);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortcuts_are_exact),
        cmocka_unit_test(test_walk_cache),
    };
    return cmocka_run_group_tests_name("fastpath", tests, NULL, NULL);
}
