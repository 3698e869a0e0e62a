/*
 * test_value.c -- the value forms of traces (lib/trace/value.c): every
 * accepted form with its value, every rejected form with its exact message.
 */
#include "test_util.h"

#include "trace/trace.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UNITS_HINT   "(use B, KiB, MiB, GiB, TiB, K, M, G, T or p)"

/* A parse that must fail: its code and exact message. */
struct reject {
    const char *in;
    int code;
    const char *msg;
};

static void expect_reject(const char *what, const char *in, int got_rc, const char *got_msg,
                          const struct reject *c)
{
    if (got_rc != c->code)
        fail_msg("%s \"%s\": returned %d, want %d (%s)", what, in, got_rc, c->code, got_msg);
    if (strcmp(got_msg, c->msg) != 0)
        fail_msg("%s \"%s\":\n  got  %s\n  want %s", what, in, got_msg, c->msg);
}

/* ---- sizes ------------------------------------------------------------- */

static void test_size_accepts(void **state)
{
    static const struct {
        const char *in;
        uint64_t want;
    } cases[] = {
        {"0", 0},
        {"4096", 4096},
        {"007", 7},
        {"1B", 1},
        {"4K", 4096},
        {"4KiB", 4096},
        {"100MiB", 100 * MiB},
        {"1GiB", GiB},
        {"3G", 3 * GiB},
        {"1TiB", (uint64_t)1 << 40},
        {"2T", (uint64_t)2 << 40},
        {"2p", 8192},
        {"300p", 300 * 4096},
        {"1.5GiB", GiB + GiB / 2},
        {"1.50KiB", 1536},
        {"0.5p", 2048},
        {"0.25KiB", 256},
        {"0.0009765625KiB", 1}, /* 2^-10 KiB: exact */
        {"0x1000", 4096},
        {"0xFFFFFFFFFFFFFFFF", UINT64_MAX},
        {"0x000000000000000001", 1}, /* leading zeros are not bits */
        {"18446744073709551615", UINT64_MAX},
        {"16777215TiB", UINT64_MAX - ((uint64_t)1 << 40) + 1},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint64_t v = 12345;
        int rc = vmsim__parse_size(cases[i].in, &v, msg, sizeof(msg));

        if (rc != 0)
            fail_msg("size \"%s\": rejected: %s", cases[i].in, msg);
        if (v != cases[i].want)
            fail_msg("size \"%s\" = %" PRIu64 ", want %" PRIu64, cases[i].in, v,
                     cases[i].want);
    }
}

static void test_size_rejects(void **state)
{
    static const struct reject cases[] = {
        {"", VMSIM_EPARSE, "bad size \"\": empty"},
        {"4XB", VMSIM_EPARSE, "bad size \"4XB\": unknown unit \"XB\" " UNITS_HINT},
        {"4kib", VMSIM_EPARSE, "bad size \"4kib\": unknown unit \"kib\" " UNITS_HINT},
        {"4 KiB", VMSIM_EPARSE, "bad size \"4 KiB\": unknown unit \" KiB\" " UNITS_HINT},
        {"1e3", VMSIM_EPARSE, "bad size \"1e3\": unknown unit \"e3\" " UNITS_HINT},
        {"-4K", VMSIM_EPARSE, "bad size \"-4K\": a size cannot be negative"},
        {"KiB", VMSIM_EPARSE,
         "bad size \"KiB\": expected a number, e.g. 4096, \"4KiB\" or \"2p\""},
        {".5K", VMSIM_EPARSE,
         "bad size \".5K\": expected a number, e.g. 4096, \"4KiB\" or \"2p\""},
        {"1.", VMSIM_EPARSE, "bad size \"1.\": no digits after \".\""},
        {"1.K", VMSIM_EPARSE, "bad size \"1.K\": no digits after \".\""},
        {"1.3B", VMSIM_EPARSE, "bad size \"1.3B\": not a whole number of bytes"},
        {"0.1p", VMSIM_EPARSE, "bad size \"0.1p\": not a whole number of bytes"},
        {"0.00048828125KiB", VMSIM_EPARSE,
         "bad size \"0.00048828125KiB\": not a whole number of bytes"},
        {"18446744073709551616", VMSIM_ERANGE,
         "bad size \"18446744073709551616\": overflows 64 bits"},
        {"16777216TiB", VMSIM_ERANGE, "bad size \"16777216TiB\": overflows 64 bits"},
        {"99999999999999999999999", VMSIM_ERANGE,
         "bad size \"99999999999999999999999\": overflows 64 bits"},
        {"0x", VMSIM_EPARSE, "bad size \"0x\": no hex digits after \"0x\""},
        {"0xg", VMSIM_EPARSE, "bad size \"0xg\": 'g' is not a hex digit"},
        {"0x10K", VMSIM_EPARSE, "bad size \"0x10K\": a hex size takes no unit"},
        {"0x10000000000000000", VMSIM_ERANGE,
         "bad size \"0x10000000000000000\": overflows 64 bits"},
        {"4\nK", VMSIM_EPARSE, "bad size \"4\\x0aK\": unknown unit \"\\x0aK\" " UNITS_HINT},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint64_t v = 777;
        int rc;

        msg[0] = '\0';
        rc = vmsim__parse_size(cases[i].in, &v, msg, sizeof(msg));
        expect_reject("size", cases[i].in, rc, msg, &cases[i]);
        assert_int_equal(v, 777); /* untouched on failure */
    }
}

static void test_ssize(void **state)
{
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"4096", 4096},
        {"+1p", 4096},
        {"-4KiB", -4096},
        {"-0x10", -16},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    static const struct reject bad[] = {
        {"-", VMSIM_EPARSE, "bad size \"-\": empty"},
        {"--4", VMSIM_EPARSE, "bad size \"--4\": a size cannot be negative"},
        {"9223372036854775808", VMSIM_ERANGE,
         "bad size \"9223372036854775808\": out of the signed 64-bit range"},
        {"-9223372036854775809", VMSIM_ERANGE,
         "bad size \"-9223372036854775809\": out of the signed 64-bit range"},
        {"-1Q", VMSIM_EPARSE, "bad size \"-1Q\": unknown unit \"Q\" " UNITS_HINT},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        int64_t v = 1;

        if (vmsim__parse_ssize(ok[i].in, &v, msg, sizeof(msg)) != 0)
            fail_msg("ssize \"%s\": rejected: %s", ok[i].in, msg);
        if (v != ok[i].want)
            fail_msg("ssize \"%s\" = %" PRId64 ", want %" PRId64, ok[i].in, v, ok[i].want);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t v = 1;
        int rc = vmsim__parse_ssize(bad[i].in, &v, msg, sizeof(msg));

        expect_reject("ssize", bad[i].in, rc, msg, &bad[i]);
    }
}

/* ---- addresses --------------------------------------------------------- */

static void test_addr_accepts(void **state)
{
    static const struct {
        const char *in;
        const char *name; /* NULL: absolute */
        uint64_t value;
        bool minus;
    } cases[] = {
        {"0", NULL, 0, false},
        {"4096", NULL, 4096, false},
        {"0x7f0000000000", NULL, 0x7f0000000000, false},
        {"0x7FFFFFFFE000", NULL, 0x7fffffffe000, false},
        {"0xffff800000000000", NULL, 0xffff800000000000, false}, /* kernel: a SIGSEGV later */
        {"0x1000+4KiB", NULL, 0x2000, false},
        {"0x2000-1p", NULL, 0x1000, false},
        {"4096+4096", NULL, 8192, false},
        {"buf", "buf", 0, false},
        {"buf+4KiB", "buf", 4096, false},
        {"buf+0x1000", "buf", 0x1000, false},
        {"buf-2p", "buf", 8192, true},
        {"my_buf.2+1.5KiB", "my_buf.2", 1536, false},
        {"_x", "_x", 0, false},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vmsim__addr a;
        int rc = vmsim__parse_addr(cases[i].in, &a, msg, sizeof(msg));

        if (rc != 0)
            fail_msg("address \"%s\": rejected: %s", cases[i].in, msg);
        if (cases[i].name == NULL) {
            assert_null(a.name);
        } else {
            assert_non_null(a.name);
            assert_int_equal(a.name_len, strlen(cases[i].name));
            assert_memory_equal(a.name, cases[i].name, a.name_len);
        }
        if (a.value != cases[i].value || a.minus != cases[i].minus)
            fail_msg("address \"%s\": value 0x%" PRIx64 " minus %d, want 0x%" PRIx64 " %d",
                     cases[i].in, a.value, a.minus, cases[i].value, cases[i].minus);
    }
}

static void test_addr_rejects(void **state)
{
    static const struct reject cases[] = {
        {"", VMSIM_EPARSE, "bad address \"\": empty"},
        {"+4K", VMSIM_EPARSE,
         "bad address \"+4K\": expected a number, \"0x...\" or a region name"},
        {"-1", VMSIM_EPARSE,
         "bad address \"-1\": expected a number, \"0x...\" or a region name"},
        {"buf*2", VMSIM_EPARSE,
         "bad address \"buf*2\": unexpected \"*2\" (an offset is +SIZE or -SIZE)"},
        {"buf 4", VMSIM_EPARSE,
         "bad address \"buf 4\": unexpected \" 4\" (an offset is +SIZE or -SIZE)"},
        {"9buf", VMSIM_EPARSE,
         "bad address \"9buf\": unexpected \"buf\" (an offset is +SIZE or -SIZE)"},
        {"0x", VMSIM_EPARSE, "bad address \"0x\": no hex digits after \"0x\""},
        {"0x12g", VMSIM_EPARSE,
         "bad address \"0x12g\": unexpected \"g\" (an offset is +SIZE or -SIZE)"},
        {"buf+", VMSIM_EPARSE, "bad size \"buf+\": empty"},
        {"buf++1", VMSIM_EPARSE, "bad address \"buf++1\": two signs"},
        {"buf+4XB", VMSIM_EPARSE, "bad size \"buf+4XB\": unknown unit \"XB\" " UNITS_HINT},
        {"0x10-0x20", VMSIM_ERANGE, "bad address \"0x10-0x20\": below 0"},
        {"0xffffffffffffffff+1", VMSIM_ERANGE,
         "bad address \"0xffffffffffffffff+1\": overflows 64 bits"},
        {"0x10000000000000000", VMSIM_ERANGE,
         "bad address \"0x10000000000000000\": overflows 64 bits"},
        {"18446744073709551616", VMSIM_ERANGE,
         "bad address \"18446744073709551616\": overflows 64 bits"},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct vmsim__addr a;
        int rc;

        msg[0] = '\0';
        rc = vmsim__parse_addr(cases[i].in, &a, msg, sizeof(msg));
        expect_reject("address", cases[i].in, rc, msg, &cases[i]);
    }
}

static void test_region_names(void **state)
{
    static const char *const ok[] = {"buf", "_", "a.b_c9", "B"};
    static const struct reject bad[] = {
        {"", VMSIM_EPARSE, "bad region name \"\": empty"},
        {"9a", VMSIM_EPARSE, "bad region name \"9a\": must start with a letter or '_'"},
        {"a-b", VMSIM_EPARSE,
         "bad region name \"a-b\": '-' not allowed (use letters, digits, '_' and '.')"},
        {"a+b", VMSIM_EPARSE,
         "bad region name \"a+b\": '+' not allowed (use letters, digits, '_' and '.')"},
        {"a\tb", VMSIM_EPARSE,
         "bad region name \"a\\x09b\": '\\x09' not allowed (use letters, digits, '_' and '.')"},
    };
    char msg[VMSIM__MSG_MAX], longname[VMSIM__NAME_MAX + 2];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        if (vmsim__check_region_name(ok[i], msg, sizeof(msg)) != 0)
            fail_msg("name \"%s\": rejected: %s", ok[i], msg);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int rc = vmsim__check_region_name(bad[i].in, msg, sizeof(msg));

        expect_reject("name", bad[i].in, rc, msg, &bad[i]);
    }
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vmsim__check_region_name(longname, msg, sizeof(msg)), VMSIM_EPARSE);
    assert_non_null(strstr(msg, "longer than 64 bytes"));
    longname[VMSIM__NAME_MAX] = '\0'; /* exactly the limit */
    assert_int_equal(vmsim__check_region_name(longname, msg, sizeof(msg)), 0);
}

/* ---- prot, flags, bytes ------------------------------------------------- */

static void test_prot(void **state)
{
    static const struct {
        const char *in;
        unsigned want;
    } ok[] = {
        {"", VMSIM_PROT_NONE},
        {"none", VMSIM_PROT_NONE},
        {"r", VMSIM_PROT_READ},
        {"rw", VMSIM_PROT_READ | VMSIM_PROT_WRITE},
        {"wr", VMSIM_PROT_READ | VMSIM_PROT_WRITE},
        {"rx", VMSIM_PROT_READ | VMSIM_PROT_EXEC},
        {"rwx", VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC},
        {"x", VMSIM_PROT_EXEC},
    };
    static const struct reject bad[] = {
        {"rr", VMSIM_EPARSE, "bad prot \"rr\": 'r' twice"},
        {"rwz", VMSIM_EPARSE, "bad prot \"rwz\": unexpected 'z' (use r, w, x, \"\" or \"none\")"},
        {"R", VMSIM_EPARSE, "bad prot \"R\": unexpected 'R' (use r, w, x, \"\" or \"none\")"},
        {"r-x", VMSIM_EPARSE, "bad prot \"r-x\": unexpected '-' (use r, w, x, \"\" or \"none\")"},
        {"NONE", VMSIM_EPARSE,
         "bad prot \"NONE\": unexpected 'N' (use r, w, x, \"\" or \"none\")"},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        unsigned p = 99;

        if (vmsim__parse_prot(ok[i].in, &p, msg, sizeof(msg)) != 0)
            fail_msg("prot \"%s\": rejected: %s", ok[i].in, msg);
        assert_int_equal(p, ok[i].want);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        unsigned p;
        int rc = vmsim__parse_prot(bad[i].in, &p, msg, sizeof(msg));

        expect_reject("prot", bad[i].in, rc, msg, &bad[i]);
    }
}

static void test_mmap_flags(void **state)
{
    static const struct {
        const char *in;
        unsigned want;
    } ok[] = {
        {"", 0},
        {"private", VMSIM_MAP_PRIVATE},
        {"private|anonymous", VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS},
        {"shared|anonymous|populate|noreserve",
         VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_POPULATE | VMSIM_MAP_NORESERVE},
        {"private|anonymous|fixed|hugetlb",
         VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED | VMSIM_MAP_HUGETLB},
        {"private|private", VMSIM_MAP_PRIVATE}, /* OR-ing a flag twice is harmless */
    };
    static const struct reject bad[] = {
        {"private||anonymous", VMSIM_EPARSE, "empty mmap flag name"},
        {"private|", VMSIM_EPARSE, "empty mmap flag name"},
        {"private|foo", VMSIM_EPARSE,
         "unknown mmap flag \"foo\" (use private, shared, anonymous, fixed, populate, hugetlb, "
         "noreserve)"},
        {"MAP_PRIVATE", VMSIM_EPARSE,
         "unknown mmap flag \"MAP_PRIVATE\" (use private, shared, anonymous, fixed, populate, "
         "hugetlb, noreserve)"},
        {"private,anonymous", VMSIM_EPARSE,
         "unknown mmap flag \"private,anonymous\" (use private, shared, anonymous, fixed, "
         "populate, hugetlb, noreserve)"},
    };
    char msg[VMSIM__MSG_MAX];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        unsigned f = 99;

        if (vmsim__parse_mmap_flags(ok[i].in, &f, msg, sizeof(msg)) != 0)
            fail_msg("flags \"%s\": rejected: %s", ok[i].in, msg);
        assert_int_equal(f, ok[i].want);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        unsigned f;
        int rc = vmsim__parse_mmap_flags(bad[i].in, &f, msg, sizeof(msg));

        expect_reject("flags", bad[i].in, rc, msg, &bad[i]);
    }
}

static void test_bytes(void **state)
{
    uint8_t buf[8];
    const uint8_t *out;
    size_t n;
    char msg[VMSIM__MSG_MAX];
    static const struct reject bad[] = {
        {"0x", VMSIM_EPARSE, "bad bytes \"0x\": \"0x\" must be followed by pairs of hex digits"},
        {"0x414", VMSIM_EPARSE,
         "bad bytes \"0x414\": \"0x\" must be followed by pairs of hex digits"},
        {"0x4z", VMSIM_EPARSE, "bad bytes \"0x4z\": 'z' is not a hex digit"},
        {"0x00112233445566778899", VMSIM_ENOMEM, "bad bytes \"0x00112233445566778899\": too long"},
    };

    (void)state;
    assert_int_equal(vmsim__parse_bytes("hello", buf, sizeof(buf), &out, &n, msg, sizeof(msg)),
                     0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(vmsim__parse_bytes("0x41424300", buf, sizeof(buf), &out, &n, msg,
                                        sizeof(msg)),
                     0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "ABC\0", 4);
    assert_int_equal(vmsim__parse_bytes("", buf, sizeof(buf), &out, &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int rc = vmsim__parse_bytes(bad[i].in, buf, sizeof(buf), &out, &n, msg, sizeof(msg));

        expect_reject("bytes", bad[i].in, rc, msg, &bad[i]);
    }
}

/* ---- helpers ----------------------------------------------------------- */

static void test_overflow_helpers(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_true(vmsim__add_ok(UINT64_MAX - 1, 1, &v));
    assert_true(v == UINT64_MAX);
    assert_false(vmsim__add_ok(UINT64_MAX, 1, &v));
    assert_true(vmsim__sub_ok(5, 5, &v));
    assert_int_equal(v, 0);
    assert_false(vmsim__sub_ok(4, 5, &v));
    assert_true(vmsim__mul_ok((uint64_t)1 << 32, ((uint64_t)1 << 32) - 1, &v));
    assert_false(vmsim__mul_ok((uint64_t)1 << 32, (uint64_t)1 << 32, &v));
    assert_true(vmsim__mul_ok(0, UINT64_MAX, &v));
    assert_int_equal(v, 0);
}

static void test_quote(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(vmsim__quote("a\"b\\c", 5, 40, buf, sizeof(buf)), "a\\\"b\\\\c");
    assert_string_equal(vmsim__quote("a\nb\xff", 4, 40, buf, sizeof(buf)), "a\\x0ab\\xff");
    assert_string_equal(vmsim__quote("abcdef", 6, 3, buf, sizeof(buf)), "abc...");
    assert_string_equal(vmsim__quote("abcdef", 6, 40, buf, 5), "a..."); /* cut to fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_accepts),   cmocka_unit_test(test_size_rejects),
        cmocka_unit_test(test_ssize),          cmocka_unit_test(test_addr_accepts),
        cmocka_unit_test(test_addr_rejects),   cmocka_unit_test(test_region_names),
        cmocka_unit_test(test_prot),           cmocka_unit_test(test_mmap_flags),
        cmocka_unit_test(test_bytes),          cmocka_unit_test(test_overflow_helpers),
        cmocka_unit_test(test_quote),
    };

    return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
