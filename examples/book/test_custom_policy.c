/*
 * test_custom_policy.c -- unit-test a paging policy: run a reference
 * string through the simulator with the policy plugged in, and compare
 * every hit and miss with a derivation by hand.
 *
 * The machine: the textbook profile (no zero page, no readahead, no THP),
 * 3 frames for user pages (resident_limit 3 pages; page tables are not
 * counted), 1 MiB of swap. Page i of one region is "page i". Every access
 * writes, so a first touch is a minor fault (a zeroed frame) and a later
 * miss a major one (back from swap).
 *
 * The string 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1, by hand. The queue
 * is written oldest first; ' marks a page whose accessed bit is set (every
 * page starts with it: its faulting access set it; a hit sets it again).
 * A miss with 3 frames resident walks from the oldest: a page with the bit
 * loses it and goes to the back, the first page without it is the victim.
 *
 *   ref  result  victim  queue after
 *    7   miss            7'
 *    0   miss            7' 0'
 *    1   miss            7' 0' 1'
 *    2   miss    7       0  1  2'      (7', 0', 1' each lose the bit, 7 goes)
 *    0   hit             0' 1  2'
 *    3   miss    1       2' 0  3'      (0' loses it; 1 goes)
 *    0   hit             2' 0' 3'
 *    4   miss    2       0  3  4'      (all lose it; 2 goes)
 *    2   miss    0       3  4' 2'
 *    3   hit             3' 4' 2'
 *    0   miss    3       4  2  0'      (all lose it; 3 goes)
 *    3   miss    4       2  0' 3'
 *    2   hit             2' 0' 3'
 *    1   miss    2       0  3  1'      (all lose it; 2 goes)
 *    2   miss    0       3  1' 2'
 *    0   miss    3       1' 2' 0'
 *    1   hit             1' 2' 0'
 *    7   miss    1       2  0  7'      (all lose it; 1 goes)
 *    0   hit             2  0' 7'
 *    1   miss    2       0' 7' 1'
 *
 * 14 misses: 6 first touches (minor) + 8 swap-ins (major). Plain FIFO
 * takes 15 on this string, and the built-in "clock" (the same algorithm
 * on a circular list) 14.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <vmsim/vmsim.h>

#include "custom_policy.h"

static const int string[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1 };
static const char expected[] = "MMMMhMhMMhMMhMMMhMhM"; /* M miss, h hit: the table above */
#define NREFS (sizeof(string) / sizeof(string[0]))

/* A textbook machine with `frames` frames for user pages and the policy. */
static vmsim_t *machine(const vmsim_policy_ops_t *ops, const char *builtin, uint64_t frames,
                        uint64_t swap)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.policy_ops = ops;       /* a user policy: overrides cfg.policy */
    cfg.policy = builtin;
    cfg.resident_limit = frames * VMSIM_PAGE_SIZE;
    cfg.swap = swap;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "refs", 0), 0);
    return sim;
}

/* Write page refs[0], refs[1], ... of a new 8-page region of process 1;
 * record 'M' (a fault) or 'h' (a hit) per reference into got (if not
 * NULL). Stops if the process dies. Returns the number of misses. */
static unsigned replay_refs(vmsim_t *sim, const int *refs, size_t n, char *got)
{
    vmsim_mmap_req_t req = { .len = 8 * VMSIM_PAGE_SIZE,
                             .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS };
    vmsim_vaddr_t base;
    unsigned misses = 0;

    assert_int_equal(vmsim_mmap(sim, 1, &req, &base), 0);
    for (size_t i = 0; i < n; i++) {
        vmsim_proc_info_t info;
        unsigned out = 0;

        assert_int_equal(vmsim_access(sim, 1, base + (uint64_t)refs[i] * VMSIM_PAGE_SIZE, 1,
                                      VMSIM_WRITE, &out),
                         0);
        if (out & (VMSIM_OUT_MINOR | VMSIM_OUT_MAJOR))
            misses++;
        if (got != NULL)
            got[i] = (out & (VMSIM_OUT_MINOR | VMSIM_OUT_MAJOR)) ? 'M' : 'h';
        assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
        if (!info.alive) {
            n = i + 1;
            break;
        }
    }
    if (got != NULL)
        got[n] = '\0';
    return misses;
}

static unsigned replay(vmsim_t *sim, char *got)
{
    return replay_refs(sim, string, NREFS, got);
}

static void assert_consistent(const vmsim_t *sim)
{
    char why[256];

    if (vmsim_check(sim, why, sizeof(why)) != 0)
        fail_msg("vmsim_check: %s", why);
}

/* Every hit and miss is the one derived by hand. */
static void test_hand_derivation(void **state)
{
    vmsim_t *sim = machine(&mine_policy, NULL, 3, 1 << 20);
    vmsim_proc_info_t info;
    char got[NREFS + 1];

    (void)state;
    assert_int_equal(replay(sim, got), 14);
    assert_string_equal(got, expected);
    assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
    assert_int_equal(info.minflt, 6);
    assert_int_equal(info.majflt, 8);
    assert_int_equal(info.vmrss, 3 * VMSIM_PAGE_SIZE); /* never more than 3 frames */
    assert_consistent(sim);
    vmsim_destroy(sim);
}

/* The same string under built-ins: FIFO takes one more miss, clock
 * (second chance on a circular list) makes the same choices. */
static void test_against_builtins(void **state)
{
    vmsim_t *fifo = machine(NULL, "fifo", 3, 1 << 20);
    vmsim_t *clock = machine(NULL, "clock", 3, 1 << 20);
    char got[NREFS + 1];

    (void)state;
    assert_int_equal(replay(fifo, NULL), 15);
    assert_int_equal(replay(clock, got), 14);
    assert_string_equal(got, expected);
    vmsim_destroy(fifo);
    vmsim_destroy(clock);
}

/* A loop over 4 pages with 3 frames. No page is used again between the
 * walk that clears its bit and the next miss, so the victim is always the
 * oldest page, as with FIFO, and the oldest is always the page the loop
 * needs next. Every reference misses: 4 first touches + 8 swap-ins. */
static void test_loop_larger_than_memory(void **state)
{
    static const int loop[] = { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3 };
    vmsim_t *sim = machine(&mine_policy, NULL, 3, 1 << 20);
    vmsim_proc_info_t info;

    (void)state;
    assert_int_equal(replay_refs(sim, loop, 12, NULL), 12);
    assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
    assert_int_equal(info.minflt, 4);
    assert_int_equal(info.majflt, 8);
    assert_consistent(sim);
    vmsim_destroy(sim);
}

/* No swap: every anonymous frame is pinned (it has nowhere to go), so
 * select_victim must return VMSIM_EOOM instead of looping, and the
 * limit's OOM killer ends the process on the 4th page. */
static void test_all_pinned(void **state)
{
    vmsim_t *sim = machine(&mine_policy, NULL, 3, 0);
    vmsim_proc_info_t info;

    (void)state;
    replay(sim, NULL);
    assert_int_equal(vmsim_proc_info(sim, 1, &info), 0);
    assert_false(info.alive);
    assert_true(info.oom_killed);
    assert_int_equal(info.minflt, 3);
    assert_consistent(sim);
    vmsim_destroy(sim);
}

/* "mine:anything" is refused: the policy takes no parameters. */
static void test_rejects_params(void **state)
{
    void *st = NULL;

    (void)state;
    assert_int_equal(mine_policy.create(16, "x", &st), VMSIM_EINVAL);
    assert_int_equal(mine_policy.create(16, NULL, &st), 0);
    mine_policy.destroy(st);
    assert_ptr_equal(vmsim_plugin_policy(), &mine_policy);
    assert_string_equal(vmsim_plugin_policy()->name, "mine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_derivation),
        cmocka_unit_test(test_against_builtins),
        cmocka_unit_test(test_loop_larger_than_memory),
        cmocka_unit_test(test_all_pinned),
        cmocka_unit_test(test_rejects_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
