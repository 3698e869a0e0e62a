/*
 * test_check.c -- vmsim_check() finds what it is there to find. Every other
 * test calls it on a healthy machine and expects 0; here one invariant at
 * a time is broken by hand, in the library's own structures, and the check
 * must name it (VMSIM_ECORRUPT and a message), then pass again once the
 * damage is undone.
 */
#include "test_util.h"

#include "internal.h"

/* A machine with pages swapped out: 64 anonymous pages written under a
 * resident limit of 16, so 48 sit in swap and 16 in RAM. */
struct fixture {
    vmsim_t *sim;
    struct vmsim__mm *mm;
    vmsim_vaddr_t va;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    vmsim_config_t cfg;

    assert_non_null(fx);
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 4 * MiB;
    cfg.swap = 4 * MiB;
    cfg.resident_limit = 16 * 4096;
    assert_int_equal(vmsim_create(&cfg, &fx->sim), 0);
    assert_int_equal(vmsim_spawn(fx->sim, 1, "init", 0), 0);
    fx->va = test_mmap_anon(fx->sim, 1, 0, 64 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);
    test_touch(fx->sim, 1, fx->va, 64 * 4096, VMSIM_WRITE);
    fx->mm = fx->sim->procs[0]->mm;
    assert_int_equal(fx->sim->nr_swap_used, 48);
    test_check(fx->sim);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    test_sim_free(fx->sim); /* the damage was undone: the check passes */
    free(fx);
    return 0;
}

/* The check fails and its message holds `what`. */
static void expect_corrupt(vmsim_t *sim, const char *what)
{
    char why[256];

    assert_int_equal(vmsim_check(sim, why, sizeof(why)), VMSIM_ECORRUPT);
    if (strstr(why, what) == NULL)
        fail_msg("vmsim_check said \"%s\", not \"%s\"", why, what);
}

/* The slot of a page that is out in swap and not in the swap cache. */
static uint64_t swapped_slot(const vmsim_t *sim)
{
    for (uint64_t s = 0; s < sim->nr_swap_slots; s++)
        if ((sim->swap_map[s] & (SWP_COUNT | SWP_HAS_CACHE)) == 1)
            return s;
    fail_msg("no swapped-out page");
    return 0;
}

/* The frame of a mapped anonymous page. */
static vmsim_pfn_t mapped_frame(const vmsim_t *sim)
{
    for (vmsim_pfn_t pfn = 0; pfn < sim->nr_frames; pfn++)
        if ((sim->frames[pfn].flags & PG_ANON) && sim->frames[pfn].mapcount == 1)
            return pfn;
    fail_msg("no mapped anonymous page");
    return 0;
}

static void test_swap_count(void **state)
{
    struct fixture *fx = *state;
    uint64_t s = swapped_slot(fx->sim);

    fx->sim->swap_map[s]++;
    expect_corrupt(fx->sim, "count 2, 1 entries refer");
    fx->sim->swap_map[s]--;
    test_check(fx->sim);
}

/* A slot flagged as cached with no page in the swap cache, and the last
 * slot (the check's vectorised pass must reach the end). */
static void test_swap_cache_flag(void **state)
{
    struct fixture *fx = *state;
    uint64_t s = swapped_slot(fx->sim), last = fx->sim->nr_swap_slots - 1;

    fx->sim->swap_map[s] |= SWP_HAS_CACHE;
    expect_corrupt(fx->sim, "cache flag and cache disagree");
    fx->sim->swap_map[s] &= ~SWP_HAS_CACHE;
    assert_int_equal(fx->sim->swap_map[last], 0);
    fx->sim->swap_map[last] = SWP_EVICTED; /* in use, but neither count nor cache */
    expect_corrupt(fx->sim, "cache flag and cache disagree");
    fx->sim->swap_map[last] = 0;
    test_check(fx->sim);
}

static void test_mapcount(void **state)
{
    struct fixture *fx = *state;
    struct vmsim__frame *f = &fx->sim->frames[mapped_frame(fx->sim)];

    f->mapcount++;
    expect_corrupt(fx->sim, "mapcount 2");
    f->mapcount--;
    test_check(fx->sim);
}

static void test_rss(void **state)
{
    struct fixture *fx = *state;

    fx->mm->rss[MM_ANONPAGES]++;
    expect_corrupt(fx->sim, "RSS counter");
    fx->mm->rss[MM_ANONPAGES]--;
    test_check(fx->sim);
}

static void test_free_lists(void **state)
{
    struct fixture *fx = *state;

    fx->sim->nr_free_blocks[0]++;
    expect_corrupt(fx->sim, "free list 0 holds");
    fx->sim->nr_free_blocks[0]--;
    test_check(fx->sim);
}

/* A stray entry in an empty stretch of a page table, off the 8-entry
 * boundaries the check skips empty runs by, and outside every VMA. */
static void test_stray_entry(void **state)
{
    struct fixture *fx = *state;
    int level;
    pte_t *pte = pt_lookup(fx->sim, fx->mm, fx->va, &level);
    pte_t *table, *stray = NULL;

    assert_non_null(pte);
    assert_int_equal(level, 0);
    table = pte - PT_INDEX(fx->va, 0);
    for (int i = 0; i < PT_ENTRIES && stray == NULL; i += 8) {
        vmsim_vaddr_t va = (fx->va & ~(2 * MiB - 1)) + (uint64_t)(i + 5) * 4096;
        const struct vmsim__vma *v = vmsim__vma_find(fx->mm, va); /* first ending above */
        bool empty = true;

        for (int k = 0; k < 8; k++)
            empty = empty && pte_none(table[i + k]);
        if (empty && (v == NULL || v->start > va))
            stray = &table[i + 5];
    }
    assert_non_null(stray);
    *stray = swp_entry(0, swapped_slot(fx->sim));
    expect_corrupt(fx->sim, "outside every VMA");
    *stray = 0;
    test_check(fx->sim);
}

/* An entry that maps a frame of a free buddy block, the last of the
 * block: the walk of the tables names it (and the pass over the frames,
 * which skips free blocks whole, would too). */
static void test_maps_free_frame(void **state)
{
    struct fixture *fx = *state;
    vmsim_t *sim = fx->sim;
    vmsim_pfn_t free_pfn = 0;
    pte_t *e = NULL, saved;
    int level;

    for (vmsim_pfn_t pfn = 0; pfn < sim->nr_frames; pfn++) {
        if ((sim->frames[pfn].flags & PG_BUDDY) && sim->frames[pfn].order > 0) {
            free_pfn = pfn + ((vmsim_pfn_t)1 << sim->frames[pfn].order) - 1;
            break;
        }
    }
    assert_true(free_pfn > 0);
    for (uint64_t i = 0; i < 64 && e == NULL; i++) { /* a swapped-out page's entry */
        pte_t *t = pt_lookup(sim, fx->mm, fx->va + i * 4096, &level);

        if (t != NULL && !pte_present(*t) && !pte_none(*t))
            e = t;
    }
    assert_non_null(e);
    saved = *e;
    *e = pfn_pte(free_pfn) | PTE_P | PTE_US | PTE_A;
    fx->mm->rss[MM_SWAPENTS]--;
    fx->mm->rss[MM_ANONPAGES]++;
    expect_corrupt(sim, "which is not a user page (flags 0)");
    *e = saved;
    fx->mm->rss[MM_SWAPENTS]++;
    fx->mm->rss[MM_ANONPAGES]--;
    test_check(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_swap_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_cache_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maps_free_frame, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
