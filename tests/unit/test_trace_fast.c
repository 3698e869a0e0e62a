/*
 * test_trace_fast.c -- the readers' fast paths against their general paths,
 * on the same input:
 *
 *   - JSON Lines (lib/trace/jsonl.c): every line is read by a reader with
 *     the fast path on and by one with it off (jansson for every line);
 *     both must hand out the same events, field by field, or fail with the
 *     same message. Hand-picked lines (white space, key order, escapes, big
 *     numbers, hex strings, duplicate and unknown keys, malformed lines),
 *     thousands of generated ones, and every JSON Lines file of the test
 *     traces and of the fuzz corpus. The lines the fast path must take are
 *     checked to be taken, and the malformed ones to be declined.
 *   - lackey (lib/trace/lackey.c): the same records ending in "\n" (the
 *     in-place parse) and in "\r\n" or at the end of the file without a
 *     newline (the general path, parse_line()) must give the same events or
 *     the same message.
 */
#include <dirent.h>
#include <inttypes.h>

#include "test_trace_util.h"

#define HEADER "{\"vmsim\": 1, \"system\": {\"memory\": \"64MiB\"}}\n"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Open text (len bytes) in memory as container `format` ("jsonl",
 * "lackey"), whatever its content; on failure the message in msg. */
static int open_as(const char *format, const char *text, size_t len, struct vmsim__reader **r,
                   char *msg, size_t msg_len)
{
    vmsim_trace_error_t err;
    struct vmsim__input *in = NULL;
    int rc;

    vmsim__error_init(&err, strcmp(format, "jsonl") == 0 ? "t.jsonl" : "t.lackey");
    msg[0] = '\0';
    rc = vmsim__input_open_mem(text, len, &in, &err);
    if (rc == 0)
        rc = strcmp(format, "jsonl") == 0 ? vmsim__jsonl_open(in, r, &err)
                                          : vmsim__lackey_open(in, r, &err);
    if (rc < 0)
        vmsim_trace_error_format(&err, msg, msg_len);
    return rc;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- comparing events --------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool same_addr(const struct vmsim__addr *a, const struct vmsim__addr *b)
{
    if ((a->name == NULL) != (b->name == NULL) || a->value != b->value || a->minus != b->minus)
        return false;
    return a->name == NULL ||
           (a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0);
}

static bool same_check(const struct vmsim__check *a, const struct vmsim__check *b)
{
    return a->key == b->key && same_str(a->counter, b->counter) && a->u == b->u &&
           a->b == b->b && a->i == b->i && a->is_null == b->is_null && same_str(a->text, b->text);
}

/* Every field of two events; the first that differs named in `what`. */
static const char *diff_event(const struct vmsim__event *a, const struct vmsim__event *b)
{
#define SAME(cond, name)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return name;                                                                           \
    } while (0)
    SAME(a->op == b->op, "op");
    SAME(a->index == b->index, "index");
    SAME(a->line == b->line, "line");
    SAME(a->present == b->present, "present");
    SAME(same_str(a->why, b->why), "why");
    SAME(a->pid == b->pid, "pid");
    SAME(a->child == b->child, "child");
    SAME(same_str(a->name, b->name), "name");
    SAME(same_str(a->file, b->file), "file");
    SAME(same_str(a->as, b->as), "as");
    SAME(a->oom_score_adj == b->oom_score_adj, "oom_score_adj");
    SAME(same_addr(&a->addr, &b->addr), "addr");
    SAME(same_addr(&a->ptr, &b->ptr), "ptr");
    SAME(same_addr(&a->base, &b->base), "base");
    SAME(a->len == b->len, "len");
    SAME(a->pagesize == b->pagesize, "pagesize");
    SAME(a->offset == b->offset, "offset");
    SAME(a->size == b->size, "size");
    SAME(a->stride == b->stride, "stride");
    SAME(a->n == b->n, "n");
    SAME(a->incr == b->incr, "incr");
    SAME(a->prot == b->prot, "prot");
    SAME(a->flags == b->flags, "flags");
    SAME(a->advice == b->advice, "advice");
    SAME(a->access == b->access, "access");
    SAME(a->report == b->report, "report");
    SAME(a->sysctl == b->sysctl, "sysctl");
    SAME(a->value == b->value, "value");
    SAME(same_bytes(a->data, a->data_len, b->data, b->data_len), "data");
    SAME(same_bytes(a->expect_data, a->expect_len, b->expect_data, b->expect_len), "expect");
    SAME(a->nr_pages == b->nr_pages &&
             (a->nr_pages == 0 ||
              memcmp(a->pages, b->pages, a->nr_pages * sizeof(*a->pages)) == 0),
         "pages");
    SAME(a->nr_checks == b->nr_checks, "nr_checks");
    for (size_t i = 0; i < a->nr_checks; i++)
        SAME(same_check(&a->checks[i], &b->checks[i]), "checks");
#undef SAME
    return NULL;
}

/*
 * Read text (len bytes) with two readers, the JSON Lines fast path on in
 * the first (no-op for other containers) and off in the second, in step;
 * fail unless every event and the outcome are the same. Returns the events
 * the fast path read; *events gets the number of events, or -1 if the text
 * failed (its message in msg).
 */
static uint64_t compare_readers(const char *what, const char *text, size_t len, long *events,
                                char *msg, size_t msg_len)
{
    struct vmsim__reader *fast = NULL, *slow = NULL;
    char m1[1024], m2[1024];
    int rc1 = open_as("jsonl", text, len, &fast, m1, sizeof(m1));
    int rc2 = open_as("jsonl", text, len, &slow, m2, sizeof(m2));
    uint64_t nfast = 0;
    long n = 0;

    if (rc1 != rc2 || strcmp(m1, m2) != 0)
        fail_msg("%s: open: %d \"%s\" (fast) against %d \"%s\"", what, rc1, m1, rc2, m2);
    if (rc1 == 0) {
        vmsim__jsonl_fast_path(slow, false);
        for (;;) {
            const struct vmsim__event *e1, *e2;
            vmsim_trace_error_t err1, err2;
            const char *d;

            vmsim__error_init(&err1, "t.jsonl");
            vmsim__error_init(&err2, "t.jsonl");
            rc1 = vmsim__reader_next(fast, &e1, &err1);
            rc2 = vmsim__reader_next(slow, &e2, &err2);
            if (rc1 < 0)
                vmsim_trace_error_format(&err1, m1, sizeof(m1));
            if (rc2 < 0)
                vmsim_trace_error_format(&err2, m2, sizeof(m2));
            if (rc1 != rc2 || (rc1 < 0 && strcmp(m1, m2) != 0))
                fail_msg("%s: event %ld: %d \"%s\" (fast) against %d \"%s\"", what, n, rc1,
                         rc1 < 0 ? m1 : "", rc2, rc2 < 0 ? m2 : "");
            if (rc1 <= 0)
                break;
            if ((d = diff_event(e1, e2)) != NULL)
                fail_msg("%s: event %ld: \"%s\" differs", what, n, d);
            n++;
        }
        nfast = vmsim__jsonl_fast_events(fast);
        assert_true(vmsim__jsonl_fast_events(slow) == 0);
    }
    vmsim__reader_close(fast);
    vmsim__reader_close(slow);
    *events = rc1 < 0 ? -1 : n;
    if (msg != NULL)
        snprintf(msg, msg_len, "%s", rc1 < 0 ? m1 : "");
    return nfast;
}

/* One event line after the header, both ways; whether the fast path took
 * it. */
static bool compare_line(const char *line, long *events, char *msg, size_t msg_len)
{
    size_t n = strlen(HEADER) + strlen(line) + 2;
    char *text = malloc(n);
    uint64_t nfast;

    assert_non_null(text);
    snprintf(text, n, "%s%s\n", HEADER, line);
    nfast = compare_readers(line, text, strlen(text), events, msg, msg_len);
    free(text);
    return nfast > 0;
}

/* ---- JSON Lines: chosen lines -------------------------------------------- */

/* Lines the fast path must take. */
static const char *const fast_lines[] = {
    "{\"op\": \"w\", \"addr\": \"a+123p\"}",
    "{\"op\":\"r\",\"addr\":4096}",
    "{\"op\": \"x\", \"addr\": \"0x7f0000000000\"}",
    "{\"addr\": \"0x10\", \"op\": \"r\"}",
    "  {  \"op\"  :  \"w\"  ,  \"addr\"  :  0  }  ",
    "\t{\"op\":\t\"w\",\t\"addr\":\t1}\t",
    "{\"op\": \"w\", \"addr\": 1}\r",
    "{\"op\": \"w\", \"addr\": 1, \"pid\": 1}",
    "{\"op\": \"w\", \"addr\": 1, \"pid\": 4194304}",
    "{\"pid\": 7, \"size\": 8, \"addr\": \"buf\", \"op\": \"r\"}",
    "{\"op\": \"w\", \"addr\": \"buf-4KiB\", \"size\": \"2p\"}",
    "{\"op\": \"w\", \"addr\": \"buf+0x1000\"}",
    "{\"op\": \"w\", \"addr\": \"b.c_d9+1B\"}",
    "{\"op\": \"w\", \"addr\": \"_x+1K\"}",
    "{\"op\": \"w\", \"addr\": \"X+1M\"}",
    "{\"op\": \"w\", \"addr\": \"X+1G\"}",
    "{\"op\": \"w\", \"addr\": \"X+1T\"}",
    "{\"op\": \"w\", \"addr\": \"X+1MiB\"}",
    "{\"op\": \"w\", \"addr\": \"X+1GiB\"}",
    "{\"op\": \"w\", \"addr\": \"X+16777215TiB\"}",
    "{\"op\": \"w\", \"addr\": \"0x1000+0x10\"}",
    "{\"op\": \"w\", \"addr\": \"0x1000-0x1000\"}",
    "{\"op\": \"w\", \"addr\": \"4096-1p\"}",
    "{\"op\": \"w\", \"addr\": \"9999999999999999999\"}",
    "{\"op\": \"w\", \"addr\": \"0xffffffffffffffff\"}",
    "{\"op\": \"w\", \"addr\": \"0xFFFFffff\"}",
    "{\"op\": \"w\", \"addr\": \"007\"}",
    "{\"op\": \"w\", \"addr\": 999999999999999999}",
    "{\"op\": \"w\", \"addr\": 0, \"size\": 0}",
    "{\"op\": \"w\", \"addr\": 0, \"size\": \"0x0\"}",
    "{\"op\": \"w\", \"addr\": 0, \"size\": \"3\"}",
    "{\"op\": \"w\", \"addr\": 0, \"size\": \"1048576p\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"the first write\"}",
    "{\"why\": \"\", \"op\": \"w\", \"addr\": \"a\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"only plain ASCII: ~!@#$%^&*()_+`-=|<>?/.\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"a 'quoted' {brace} [bracket] : , text\"}",
    "{\"op\": \"w\", \"addr\": \"" /* a name of 64 bytes, the longest */
    "n123456789012345678901234567890123456789012345678901234567890123\"}",
};

/* Lines the fast path must decline (jansson then reads them as before). */
static const char *const declined_lines[] = {
    /* other ops, unknown and duplicate keys, fields of other ops */
    "{\"op\": \"touch\", \"addr\": 0, \"len\": \"1p\"}",
    "{\"op\": \"exit\"}",
    "{\"op\": \"R\", \"addr\": 0}",
    "{\"op\": \"rw\", \"addr\": 0}",
    "{\"op\": \"\", \"addr\": 0}",
    "{\"op\": \"w\", \"addr\": 0, \"len\": 1}",
    "{\"op\": \"w\", \"addr\": 0, \"colour\": 1}",
    "{\"op\": \"w\", \"addr\": 0, \"data\": \"hi\"}",
    "{\"op\": \"r\", \"addr\": 0, \"expect\": \"0x0102\"}",
    "{\"op\": \"w\", \"addr\": 1, \"addr\": 2}",
    "{\"op\": \"w\", \"op\": \"r\", \"addr\": 1}",
    "{\"op\": \"w\", \"addr\": 1, \"why\": \"a\", \"why\": \"b\"}",
    "{\"op\": \"w\"}",
    "{\"addr\": 1}",
    "{}",
    "{\"op\": \"w\", \"addr\": 1, \"\": 1}",
    /* escapes and bytes beyond printable ASCII, in keys and values */
    "{\"o\\u0070\": \"w\", \"addr\": 1}",
    "{\"op\": \"\\u0077\", \"addr\": 1}",
    "{\"op\": \"w\", \"addr\": \"a\\u002b1\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"tab\\there\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"caf\xc3\xa9\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"del \x7f\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"ctl \x01\"}",
    "{\"op\": \"w\", \"addr\": \"a\", \"why\": \"bad \xff\"}",
    "{\"op\": \"w\", \"addr\": \"a\xc3\xa9\"}",
    /* numbers: big, negative, real, leading zeros, other types */
    "{\"op\": \"w\", \"addr\": 1000000000000000000}",
    "{\"op\": \"w\", \"addr\": 9223372036854775807}",
    "{\"op\": \"w\", \"addr\": 9223372036854775808}",
    "{\"op\": \"w\", \"addr\": 99999999999999999999999}",
    "{\"op\": \"w\", \"addr\": -1}",
    "{\"op\": \"w\", \"addr\": -0}",
    "{\"op\": \"w\", \"addr\": 1.0}",
    "{\"op\": \"w\", \"addr\": 1e3}",
    "{\"op\": \"w\", \"addr\": 1E3}",
    "{\"op\": \"w\", \"addr\": 0.5}",
    "{\"op\": \"w\", \"addr\": 01}",
    "{\"op\": \"w\", \"addr\": 00}",
    "{\"op\": \"w\", \"addr\": 1x}",
    "{\"op\": \"w\", \"addr\": true}",
    "{\"op\": \"w\", \"addr\": null}",
    "{\"op\": \"w\", \"addr\": [1]}",
    "{\"op\": \"w\", \"addr\": {\"a\": 1}}",
    "{\"op\": \"w\", \"addr\": 1, \"pid\": 0}",
    "{\"op\": \"w\", \"addr\": 1, \"pid\": 4194305}",
    "{\"op\": \"w\", \"addr\": 1, \"pid\": \"1\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": -1}",
    "{\"op\": \"w\", \"addr\": 1, \"why\": 1}",
    "{\"op\": 1, \"addr\": 1}",
    /* address and size strings of rarer forms, or bad */
    "{\"op\": \"w\", \"addr\": \"\"}",
    "{\"op\": \"w\", \"addr\": \"0x\"}",
    "{\"op\": \"w\", \"addr\": \"0X10\"}",
    "{\"op\": \"w\", \"addr\": \"0x10000000000000000\"}",
    "{\"op\": \"w\", \"addr\": \"0x00000000000000001\"}",
    "{\"op\": \"w\", \"addr\": \"18446744073709551615\"}", /* 20 digits: declined, good */
    "{\"op\": \"w\", \"addr\": \"18446744073709551616\"}",
    "{\"op\": \"w\", \"addr\": \"00000000000000000001\"}",
    "{\"op\": \"w\", \"addr\": \"a+1.5K\"}",
    "{\"op\": \"w\", \"addr\": \"a+\"}",
    "{\"op\": \"w\", \"addr\": \"a++1\"}",
    "{\"op\": \"w\", \"addr\": \"a+-1\"}",
    "{\"op\": \"w\", \"addr\": \"a+1XB\"}",
    "{\"op\": \"w\", \"addr\": \"a+1kib\"}",
    "{\"op\": \"w\", \"addr\": \"a+1BiB\"}",
    "{\"op\": \"w\", \"addr\": \"a+1piB\"}",
    "{\"op\": \"w\", \"addr\": \"a+0x10K\"}",
    "{\"op\": \"w\", \"addr\": \"a*2\"}",
    "{\"op\": \"w\", \"addr\": \"9a\"}",
    "{\"op\": \"w\", \"addr\": \"-1\"}",
    "{\"op\": \"w\", \"addr\": \" a\"}",
    "{\"op\": \"w\", \"addr\": \"1-2\"}",
    "{\"op\": \"w\", \"addr\": \"0xffffffffffffffff+1\"}",
    "{\"op\": \"w\", \"addr\": \"X+16777216TiB\"}",
    "{\"op\": \"w\", \"addr\": \""
    "n1234567890123456789012345678901234567890123456789012345678901234\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": \"\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": \"1.5K\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": \"0.5K\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": \"-1\"}",
    "{\"op\": \"w\", \"addr\": 1, \"size\": \"20000000000000000000\"}",
    /* syntax */
    "{\"op\": \"w\", \"addr\": 1,}",
    "{\"op\": \"w\", \"addr\": 1",
    "{\"op\": \"w\", \"addr\": 1}}",
    "{\"op\": \"w\", \"addr\": 1} x",
    "{\"op\": \"w\", \"addr\": 1} {\"op\": \"w\", \"addr\": 1}",
    "{\"op\": \"w\" \"addr\": 1}",
    "{\"op\" \"w\", \"addr\": 1}",
    "{\"op\": \"w\", \"addr\" : }",
    "{'op': 'w', 'addr': 1}",
    "{op: \"w\", addr: 1}",
    "{\"op\": \"w\", \"addr\": \"a}",
    "{\"op\": \"w\", \"addr\": 1}\f",
    "{\"op\": \"w\", \"addr\": 1}\v",
    "[\"op\", \"w\"]",
    "\"w\"",
    "12",
    "\xef\xbb\xbf{\"op\": \"w\", \"addr\": 1}",
};

static void test_jsonl_chosen_lines(void **state)
{
    char msg[1024];
    long n;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(fast_lines); i++) {
        if (!compare_line(fast_lines[i], &n, msg, sizeof(msg)))
            fail_msg("not taken by the fast path: %s", fast_lines[i]);
        assert_int_equal(n, 1);
    }
    for (size_t i = 0; i < ARRAY_SIZE(declined_lines); i++) {
        if (compare_line(declined_lines[i], &n, msg, sizeof(msg)))
            fail_msg("taken by the fast path: %s", declined_lines[i]);
    }
}

/* A few of the declined lines' messages, exactly as before the fast path
 * (the jansson path's own, which test_trace_jsonl.c checks more of). */
static void test_jsonl_messages(void **state)
{
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"{\"op\": \"w\", \"addr\": 1, \"addr\": 2}",
         "t.jsonl:2:24: duplicate object key near '\"addr\"'"},
        {"{\"op\": \"w\", \"addr\": 1,}", "t.jsonl:2:23: string or '}' expected near '}'"},
        {"{\"op\": \"w\", \"addr\": -1}",
         "t.jsonl:2:1: op \"w\": \"addr\": an address cannot be negative (got -1)"},
        {"{\"op\": \"w\", \"addr\": 1, \"pid\": 0}",
         "t.jsonl:2:1: op \"w\": \"pid\": 0 is out of range 1..4194304"},
        {"{\"op\": \"w\", \"addr\": \"a+1XB\"}",
         "t.jsonl:2:1: op \"w\": \"addr\": bad size \"a+1XB\": unknown unit \"XB\" "
         "(use B, KiB, MiB, GiB, TiB, K, M, G, T or p)"},
        {"{\"op\": \"w\"}", "t.jsonl:2:1: op \"w\": missing \"addr\""},
    };
    char msg[1024];
    long n;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_false(compare_line(cases[i].line, &n, msg, sizeof(msg)));
        assert_int_equal(n, -1);
        if (strcmp(msg, cases[i].want) != 0)
            fail_msg("%s\n  got  %s\n  want %s", cases[i].line, msg, cases[i].want);
    }
}

/* ---- JSON Lines: generated lines ------------------------------------------ */

static const char *pick(const char *const *v, size_t n, uint64_t *seed)
{
    return v[splitmix64(seed) % n];
}

/* One line of members drawn from pools of good and bad keys and values, in
 * random order with random white space; sometimes broken. */
static void gen_line(uint64_t *seed, char *buf, size_t len)
{
    static const char *const ws[] = {"", "", "", " ", "  ", "\t", "\r", " \t "};
    static const char *const ops[] = {"\"r\"", "\"w\"", "\"x\"", "\"w\"", "\"w\"",
                                      "\"touch\"", "\"W\"", "1", "\"\"", "\"r \""};
    static const char *const addrs[] = {
        "\"a+12p\"", "\"a\"", "\"buf+4KiB\"", "\"buf-0x10\"", "\"0x7f0000001000\"", "4096",
        "0", "123456789012345678", "1234567890123456789", "\"0x\"", "\"a+1.5K\"", "-5",
        "\"x.y_z+3MiB\"", "\"42\"", "\"42-43\"", "\"a+0x1p\"", "1.5", "\"\\u0061\"", "null",
        "\"0xDEADbeef\"", "\"a+1piB\"", "\"a+1TiB\"", "\"9-1G\"", "\"_+0\""};
    static const char *const pids[] = {"1", "2", "4194304", "4194305", "0", "\"1\"",
                                       "01", "1e0", "-1", "99999999999999999999"};
    static const char *const sizes[] = {"1",      "8",       "0",       "\"4K\"", "\"2p\"",
                                        "\"0x10\"", "\"1.5K\"", "\"-1\"", "1.0",
                                        "\"3GiB\"", "true",    "18446744073709551615"};
    static const char *const whys[] = {"\"\"", "\"a reason\"", "\"esc\\\"aped\"", "1",
                                       "\"caf\xc3\xa9\"", "\"x\""};
    static const char *const others[] = {"\"len\": 1", "\"data\": \"ab\"", "\"expect\": \"a\"",
                                         "\"zz\": 1", "\"op\": \"w\"", "\"addr\": 1"};
    size_t o = 0;
    int order[6] = {0, 1, 2, 3, 4, 5}, nkeys = 0;
    uint64_t r = splitmix64(seed);

    /* which members: op and addr nearly always, the others sometimes */
    int want[6] = {r % 20 != 0, (r >> 5) % 20 != 0, (r >> 10) % 3 == 0, (r >> 15) % 3 == 0,
                   (r >> 20) % 4 == 0, (r >> 25) % 12 == 0};

    for (int i = 5; i > 0; i--) {
        int j = (int)(splitmix64(seed) % (uint64_t)(i + 1)), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    o += (size_t)snprintf(buf + o, len - o, "%s{%s", pick(ws, 8, seed), pick(ws, 8, seed));
    for (int i = 0; i < 6; i++) {
        int k = order[i];
        const char *v = NULL, *name = NULL;

        if (!want[k])
            continue;
        switch (k) {
        case 0:
            name = "op", v = pick(ops, ARRAY_SIZE(ops), seed);
            break;
        case 1:
            name = "addr", v = pick(addrs, ARRAY_SIZE(addrs), seed);
            break;
        case 2:
            name = "pid", v = pick(pids, ARRAY_SIZE(pids), seed);
            break;
        case 3:
            name = "size", v = pick(sizes, ARRAY_SIZE(sizes), seed);
            break;
        case 4:
            name = "why", v = pick(whys, ARRAY_SIZE(whys), seed);
            break;
        default:
            break;
        }
        if (nkeys++ > 0)
            o += (size_t)snprintf(buf + o, len - o, "%s,%s", pick(ws, 8, seed), pick(ws, 8, seed));
        if (name != NULL)
            o += (size_t)snprintf(buf + o, len - o, "\"%s\"%s:%s%s", name, pick(ws, 8, seed),
                                  pick(ws, 8, seed), v);
        else
            o += (size_t)snprintf(buf + o, len - o, "%s", pick(others, ARRAY_SIZE(others), seed));
    }
    o += (size_t)snprintf(buf + o, len - o, "%s}%s", pick(ws, 8, seed), pick(ws, 8, seed));
    /* now and then, break it: cut it, or add a byte */
    r = splitmix64(seed);
    if (r % 16 == 0 && o > 1)
        buf[(r >> 8) % o] = '\0';
    else if (r % 16 == 1 && o + 1 < len)
        snprintf(buf + o, len - o, "%c", ",}x\"1 "[(r >> 8) % 6]);
}

static void test_jsonl_generated_lines(void **state)
{
    uint64_t seed = 8, taken = 0, good = 0;
    char line[512], msg[1024];
    long n;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        gen_line(&seed, line, sizeof(line));
        taken += compare_line(line, &n, msg, sizeof(msg));
        good += n == 1;
    }
    /* the pools give both kinds in numbers (so both paths were compared) */
    if (taken < 2000 || good - taken < 500 || good > 19000)
        fail_msg("%" PRIu64 " lines taken by the fast path, %" PRIu64 " good", taken, good);
}

/* ---- JSON Lines: every file of the test traces and of the fuzz corpus ----- */

static unsigned compare_dir(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned files = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name), k = strlen(suffix), len;
        char path[1024], msg[1024];
        long events;
        char *text;

        if (de->d_name[0] == '.' || n < k || strcmp(de->d_name + n - k, suffix) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        text = tt_read(path, &len);
        compare_readers(path, text, len, &events, msg, sizeof(msg));
        free(text);
        files++;
    }
    closedir(d);
    return files;
}

static void test_jsonl_files(void **state)
{
    unsigned n = 0;

    (void)state;
    n += compare_dir(VMSIM_SOURCE_DIR "/tests/traces/good", ".jsonl");
    n += compare_dir(VMSIM_SOURCE_DIR "/tests/traces/bad", ".jsonl");
    n += compare_dir(VMSIM_SOURCE_DIR "/tests/fuzz/corpus/jsonl", "");
    assert_true(n > 10);
}

/* ---- lackey: the in-place parse against parse_line() ----------------------- */

/*
 * Read text with "\n" line ends, and again with every "\n" made "\r\n" and
 * the last newline dropped (every line then takes the general path); both
 * must give the same events, or fail with the same message.
 */
static void compare_lackey(const char *text)
{
    size_t n = strlen(text), o = 0;
    char *crlf = malloc(2 * n + 1), m1[1024], m2[1024];
    struct vmsim__reader *r1 = NULL, *r2 = NULL;
    int rc1, rc2;
    long k = 0;

    assert_non_null(crlf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = text[i];
    }
    if (o > 0 && crlf[o - 1] == '\n')
        o -= 2; /* no newline, no \r at the end */
    rc1 = open_as("lackey", text, n, &r1, m1, sizeof(m1));
    rc2 = open_as("lackey", crlf, o, &r2, m2, sizeof(m2));
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);
    for (;;) {
        const struct vmsim__event *e1, *e2;
        vmsim_trace_error_t err1, err2;
        const char *d;

        vmsim__error_init(&err1, "t.lackey");
        vmsim__error_init(&err2, "t.lackey");
        rc1 = vmsim__reader_next(r1, &e1, &err1);
        rc2 = vmsim__reader_next(r2, &e2, &err2);
        if (rc1 < 0)
            vmsim_trace_error_format(&err1, m1, sizeof(m1));
        if (rc2 < 0)
            vmsim_trace_error_format(&err2, m2, sizeof(m2));
        if (rc1 != rc2 || (rc1 < 0 && strcmp(m1, m2) != 0))
            fail_msg("%s: event %ld: %d \"%s\" (\\n) against %d \"%s\" (\\r\\n)", text, k, rc1,
                     rc1 < 0 ? m1 : "", rc2, rc2 < 0 ? m2 : "");
        if (rc1 <= 0)
            break;
        if ((d = diff_event(e1, e2)) != NULL)
            fail_msg("%s: event %ld: \"%s\" differs", text, k, d);
        k++;
    }
    vmsim__reader_close(r1);
    vmsim__reader_close(r2);
    free(crlf);
}

static void test_lackey_records(void **state)
{
    static const char *const records[] = {
        "I  04222cac,3\n",
        " L 1ffefff9e8,8\n",
        " S 1ffefff9e0,8\n",
        " M 0421b460,4\n",
        " L 0,1\n",
        " L 10000,0\n",
        " L ffff,2\n",
        " S 7fffffffefff,2\n",
        " S 7ffffffff000,1\n",
        " L ffffffffffffffff,1\n",
        " L ffffffffffffffff,2\n",
        " L fffffffffffffff0,16\n",
        " L 0000000000010000,8\n",
        " L 00000000000010000,8\n",
        " L 10000000000000000,8\n",
        " L ABCDEF12,8\n",
        " L aBcDeF1234567890,8\n",
        " L 123456789,8\n",
        " L 12345678x,8\n",
        " L 1234567\xb0,8\n", /* 0xb0: '0' with the top bit set */
        " L \xc1,8\n",
        " L 1234567812345678\xe6,8\n",
        " L 12345678123456789,8\n",
        " L 1234567g,8\n",
        " L 1234:678,8\n",
        " L 1234@678,8\n",
        " L 1234`678,8\n",
        " L 1234G678,8\n",
        " L 1234/678,8\n",
        " L 1000,1048576\n",
        " L 1000,1048577\n",
        " L 1000,0000008\n",
        " L 1000,00000008\n",
        " L 1000,9999999\n",
        " L 1000,99999999999999999999\n",
        " L 1000,\n",
        " L ,8\n",
        " L 1000\n",
        " L 1000;8\n",
        " L 1000,8 \n",
        " L 1000,8x\n",
        " L  1000,8\n",
        " L g000,8\n",
        "I 1000,8\n",
        "I   1000,8\n",
        "I\n",
        " X 1000,8\n",
        " I 1000,8\n",
        " L\n",
        " L1000,8\n",
        " M 1fffff,2\n",
        "==4242== Lackey\n",
        "\n",
    };
    char text[4096];
    size_t o = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(records); i++) {
        /* alone, and after a good record and a valgrind line */
        compare_lackey(records[i]);
        snprintf(text, sizeof(text), "==1== x\n S 20000,4\n%s S 30000,4\n", records[i]);
        compare_lackey(text);
    }
    /* every good one in one trace */
    for (size_t i = 0; i < ARRAY_SIZE(records); i++) {
        char m[1024];
        struct vmsim__reader *r = NULL;

        if (open_as("lackey", records[i], strlen(records[i]), &r, m, sizeof(m)) == 0 &&
            tt_drain(r, NULL, 0, m, sizeof(m)) > 0 && o + strlen(records[i]) < sizeof(text))
            o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", records[i]);
        vmsim__reader_close(r);
    }
    assert_true(o > 100);
    compare_lackey(text);
}

/* Generated records: random kinds, address lengths and cases, sizes,
 * sometimes a damaged byte; runs of them in one trace. */
static void test_lackey_generated(void **state)
{
    static const char *const kinds[] = {"I  ", " L ", " S ", " M ", " L ", " S "};
    static const char hex[] = "0123456789abcdefABCDEF";
    uint64_t seed = 3;
    size_t cap = 1 << 16;
    char *text = malloc(cap);

    (void)state;
    assert_non_null(text);
    for (int t = 0; t < 300; t++) {
        size_t o = 0;
        bool damaged = false;

        for (int i = 0; i < 100 && o + 64 < cap; i++) {
            uint64_t r = splitmix64(&seed);
            unsigned digits = 1 + (unsigned)(r % 17), size = (unsigned)(r >> 8) % 24;
            char line[64];
            size_t l = 0;

            l += (size_t)snprintf(line, sizeof(line), "%s", kinds[(r >> 16) % 6]);
            for (unsigned d = 0; d < digits; d++)
                line[l++] = hex[splitmix64(&seed) % (d < 4 ? 10 : 22)];
            if ((r >> 24) % 64 == 0)
                size = 1048576 + (unsigned)(r >> 30) % 3 - 1;
            l += (size_t)snprintf(line + l, sizeof(line) - l, ",%u\n", size);
            if ((r >> 32) % 50 == 0) { /* damage one byte */
                line[(r >> 40) % (l - 1)] = "x, \t0L"[(r >> 48) % 6];
                damaged = true;
            }
            memcpy(text + o, line, l);
            o += l;
            if (damaged)
                break; /* what follows an error is never read */
        }
        text[o] = '\0';
        compare_lackey(text);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_chosen_lines), cmocka_unit_test(test_jsonl_messages),
        cmocka_unit_test(test_jsonl_generated_lines), cmocka_unit_test(test_jsonl_files),
        cmocka_unit_test(test_lackey_records),     cmocka_unit_test(test_lackey_generated),
    };
    return cmocka_run_group_tests_name("trace_fast", tests, NULL, NULL);
}
