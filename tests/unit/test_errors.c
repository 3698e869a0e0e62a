/* test_errors.c -- every code has a name and a message; unknown codes too. */
#include "test_util.h"

static void test_every_code_named(void **state)
{
    static const int codes[] = {
#define XX(name, value, text) VMSIM_##name,
        VMSIM_ERRNO_MAP(XX)
#undef XX
    };

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_true(codes[i] < 0);
        assert_non_null(vmsim_strerror(codes[i]));
        assert_string_not_equal(vmsim_strerror(codes[i]), "unknown error");
        assert_string_not_equal(vmsim_err_name(codes[i]), "VMSIM_E?");
        assert_memory_equal(vmsim_err_name(codes[i]), "VMSIM_E", 7);
    }
    assert_string_equal(vmsim_err_name(VMSIM_ENOSPC), "VMSIM_ENOSPC");
    assert_string_equal(vmsim_strerror(12345), "unknown error");
    assert_string_equal(vmsim_err_name(-999), "VMSIM_E?");
    assert_string_equal(vmsim_strerror(0), "success");
}

static void test_sys_errno(void **state)
{
    (void)state;
    /* Linux x86_64 numbers, from asm-generic/errno-base.h */
    assert_int_equal(VMSIM_SYS_ENOMEM, 12);
    assert_int_equal(VMSIM_SYS_EINVAL, 22);
    assert_string_equal(vmsim_sys_errno_name(12), "ENOMEM");
    assert_string_equal(vmsim_sys_errno_name(0), "0");
    assert_null(vmsim_sys_errno_name(4242));
    assert_int_equal(vmsim_sys_errno_value("EINVAL"), 22);
    assert_int_equal(vmsim_sys_errno_value("0"), 0);
    assert_int_equal(vmsim_sys_errno_value("ENOPE"), -1);
    assert_int_equal(vmsim_sys_errno_value(NULL), -1);
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(vmsim_version(), VMSIM_VERSION_HEX);
    assert_string_equal(vmsim_version_string(), VMSIM_VERSION_STRING);
}

static void test_bad_configs(void **state)
{
    static const struct {
        uint64_t memory, swap;
        int want;
    } cases[] = {
        { 4095, 0, VMSIM_EINVAL },              /* not whole pages */
        { 1u << 20, 100, VMSIM_EINVAL },
        { 4096, 0, VMSIM_ERANGE },              /* below the minimum */
        { (uint64_t)512 << 30, 0, VMSIM_ERANGE }, /* above the maximum */
        { 1u << 20, (uint64_t)4 << 40, VMSIM_ERANGE },
    };
    vmsim_config_t cfg;
    vmsim_t *sim = (vmsim_t *)&cfg; /* must stay untouched on failure */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
        cfg.memory = cases[i].memory;
        cfg.swap = cases[i].swap;
        assert_int_equal(vmsim_create(&cfg, &sim), cases[i].want);
        assert_ptr_equal(sim, (vmsim_t *)&cfg);
    }
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.swappiness = 201;
    assert_int_equal(vmsim_create(&cfg, &sim), VMSIM_ERANGE);
    assert_int_equal(vmsim_create(NULL, &sim), VMSIM_EINVAL);
    vmsim_destroy(NULL);
}

static void test_profiles(void **state)
{
    vmsim_config_t lx, tb;

    (void)state;
    vmsim_config_init(&lx, VMSIM_PROFILE_LINUX);
    vmsim_config_init(&tb, VMSIM_PROFILE_TEXTBOOK);
    /* TRACE_FORMAT.md's defaults */
    assert_int_equal(lx.memory, GiB);
    assert_int_equal(lx.thp, VMSIM_THP_MADVISE);
    assert_int_equal(lx.page_cluster, 3);
    assert_int_equal(lx.fault_around_bytes, 64 * KiB);
    assert_int_equal(lx.read_ahead_kb, 128);
    assert_true(lx.zero_page);
    assert_true(lx.tlb.enabled);
    assert_string_equal(lx.policy, "linux");
    assert_int_equal(tb.thp, VMSIM_THP_NEVER);
    assert_int_equal(tb.page_cluster, 0);
    assert_int_equal(lx.swap, 0);
    assert_int_equal(tb.swap, 0); /* TRACE_FORMAT.md: swap defaults to 0 in every profile */
    assert_int_equal(tb.fault_around_bytes, 4096);
    assert_int_equal(tb.read_ahead_kb, 0);
    assert_false(tb.zero_page);
    assert_false(tb.tlb.enabled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named), cmocka_unit_test(test_sys_errno),
        cmocka_unit_test(test_version),          cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_profiles),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
