/*
 * test_trace_jsonl.c -- the JSON Lines reader (lib/trace/jsonl.c), gzip
 * input (lib/trace/io.c) and container recognition (lib/trace/open.c):
 * events and their lines, every error located FILE:LINE:COLUMN, the longest
 * line, gzip members and damage, and which reader each content gets.
 */
#include "test_trace_util.h"

#define HEADER                                                                                     \
    "{\"vmsim\": 1, \"name\": \"n\", \"why\": \"w\", \"system\": {\"memory\": \"64MiB\"}}\n"

static void test_events_and_lines(void **state)
{
    static const char text[] = HEADER
        "{\"op\": \"mmap\", \"len\": \"2p\", \"prot\": \"rw\", \"flags\": \"private|anonymous\", "
        "\"as\": \"a\"}\n"
        "\n"
        "   \t\r\n"
        "{\"op\": \"w\", \"addr\": \"a+4\", \"data\": \"hi\", \"why\": \"two bytes\"}\r\n"
        "{\"op\": \"expect\", \"minflt\": 1, \"vmstat\": {\"pgfault\": 1}}"; /* no last \n */
    struct vmsim__reader *r = NULL;
    struct vmsim__event ev[4];
    char line[1024];

    (void)state;
    assert_int_equal(tt_open_mem("t.jsonl", text, strlen(text), &r, line, sizeof(line)), 0);
    assert_string_equal(r->ops->name, "jsonl");
    assert_string_equal(r->name, "n");
    assert_string_equal(r->why, "w");
    assert_true(r->system.memory == 64 * MiB);
    assert_int_equal(tt_drain(r, ev, 4, line, sizeof(line)), 3);
    vmsim__reader_close(r);
    assert_int_equal(ev[0].op, VMSIM__OP_MMAP);
    assert_int_equal(ev[0].line, 2);
    assert_int_equal(ev[0].index, 0);
    assert_int_equal(ev[1].op, VMSIM__OP_W);
    assert_int_equal(ev[1].line, 5);
    assert_int_equal(ev[1].index, 1);
    assert_int_equal(ev[1].size, 2);
    assert_int_equal(ev[2].op, VMSIM__OP_EXPECT);
    assert_int_equal(ev[2].line, 6);
    assert_int_equal(ev[2].nr_checks, 2);
}

struct bad_text {
    const char *text;
    const char *want;
};

/* Each text must open, then fail while reading, or fail to open, with the
 * exact message. */
static void check_bad(const char *file, const struct bad_text *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct vmsim__reader *r = NULL;
        char line[1024];
        long got = 0;

        if (tt_open_mem(file, cases[i].text, strlen(cases[i].text), &r, line, sizeof(line)) == 0) {
            got = tt_drain(r, NULL, 0, line, sizeof(line));
            vmsim__reader_close(r);
        }
        if (got >= 0 && line[0] == '\0')
            fail_msg("case %zu accepted: %s", i, cases[i].text);
        if (strcmp(line, cases[i].want) != 0)
            fail_msg("case %zu: %s\n  got  %s\n  want %s", i, cases[i].text, line, cases[i].want);
    }
}

static void test_errors(void **state)
{
    static const struct bad_text cases[] = {
        /* syntax errors: the line, and the column of the bad token */
        {"{\"vmsim\": 1}\n{\"op\": \"exit\"}\n{\"op\": \"exit\",}\n",
         "t.jsonl:3:15: string or '}' expected near '}'"},
        {"{\"vmsim\": 1}\n{\"op\": \"exit\"} {\"op\": \"exit\"}\n",
         "t.jsonl:2:16: end of file expected near '{'"},
        {"{\"vmsim\": 1}\n{\"op\": \"w\", \"addr\": 1, \"addr\": 2}\n",
         "t.jsonl:2:24: duplicate object key near '\"addr\"'"},
        {"{\"vmsim\": 1}\n{\"op\": \"r\", \"addr\": \"a\xff\"}\n",
         "t.jsonl:2:23: unable to decode byte 0xff near '\"a'"},
        {"{\"vmsim\": 1}\n{\"op\": \"r\", \"addr\": 99999999999999999999}\n",
         "t.jsonl:2:21: too big integer (overflows 64 bits; give large values as strings) near "
         "'99999999999999999999'"},
        {"{\"vmsim\": 1}\n{\"op\": \"exit\", \"x\": 1}\n",
         "t.jsonl:2:1: op \"exit\": unknown key \"x\" (op \"exit\" takes pid, why)"},
        /* invalid events: the line, column 1, and the op when known */
        {"{\"vmsim\": 1}\n{\"op\": \"munmap\", \"addr\": 4096}\n",
         "t.jsonl:2:1: op \"munmap\": missing \"len\""},
        {"{\"vmsim\": 1}\n\n\n{\"op\": \"mmapp\"}\n", "t.jsonl:4:1: unknown op \"mmapp\""},
        {"{\"vmsim\": 1}\n{\"op\": \"exit\"}\n42\n", "t.jsonl:3:1: '[' or '{' expected near '42'"},
        {"{\"vmsim\": 1}\n{\"op\": \"exit\"}\n[\"exit\"]\n",
         "t.jsonl:3:1: an event must be an object, got an array"},
        {"{\"vmsim\": 1}\n{\"op\": \"w\", \"addr\": \"buf*2\"}\n",
         "t.jsonl:2:1: op \"w\": \"addr\": bad address \"buf*2\": unexpected \"*2\" (an offset is "
         "+SIZE or -SIZE)"},
        /* the header: line 1 */
        {"{\"vmsim\": 2}\n{\"op\": \"exit\"}\n",
         "t.jsonl:1:1: unsupported trace format version 2 (\"vmsim\": this reader knows version "
         "1)"},
        {"{\"vmsim\": 1, \"system\": {\"swappiness\": 300}}\n{\"op\": \"exit\"}\n",
         "t.jsonl:1:1: system \"swappiness\": 300 is out of range 0..200"},
        {"{\"vmsim\": 1, \"foo\": 1}\n{\"op\": \"exit\"}\n",
         "t.jsonl:1:1: unknown top-level key \"foo\" (expected vmsim, system, name, why)"},
    };

    (void)state;
    check_bad("t.jsonl", cases, sizeof(cases) / sizeof(cases[0]));
}

/* The header's own errors, with the container forced (recognition would
 * take these for JSON documents). */
static void test_header_forced(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"vmsim\": 1, \"events\": []}\n{\"op\": \"exit\"}\n",
         "tt_header.jsonl:1:1: \"events\" does not belong in the header (every event follows it "
         "on its own)"},
        {"{\"op\": \"exit\"}\n{\"op\": \"exit\"}\n",
         "tt_header.jsonl:1:1: missing \"vmsim\": 1 (the format version) in the header"},
        {"[1]\n", "tt_header.jsonl:1:1: the header must be a JSON object {\"vmsim\": 1, "
                  "\"system\": {...}}, not an array"},
        {"\n\n", "tt_header.jsonl:1:1: empty trace (expected the header line {\"vmsim\": 1, "
                 "...})"},
        {"{\"vmsim\": 1\n", "tt_header.jsonl:1:12: '}' expected near end of file"},
    };
    char path[512], line[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vmsim__reader *r = NULL;
        vmsim_trace_error_t err;
        int rc;

        tt_write("header.jsonl", cases[i].text, strlen(cases[i].text), path, sizeof(path));
        rc = vmsim__reader_open(path, "jsonl", &r, &err);
        assert_true(rc < 0);
        vmsim_trace_error_format(&err, line, sizeof(line));
        tt_strip_dir(line);
        assert_string_equal(line, cases[i].want);
    }
}

static void test_nul_byte(void **state)
{
    static const char text[] = "{\"vmsim\": 1}\n{\"op\": \"exit\", \"x\": \"\0\"}\n";
    struct vmsim__reader *r = NULL;
    char line[1024];

    (void)state;
    assert_int_equal(tt_open_mem("t", text, sizeof(text) - 1, &r, line, sizeof(line)), 0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), -1);
    assert_string_equal(line, "t:2:22: a NUL byte (a JSON text holds none; is this a binary "
                              "file?)");
    vmsim__reader_close(r);
}

static void test_long_line(void **state)
{
    size_t n = VMSIM__LINE_MAX + 100, h = strlen(HEADER);
    char *text = malloc(h + n + 2);
    struct vmsim__reader *r = NULL;
    char line[1024];

    (void)state;
    assert_non_null(text);
    memcpy(text, HEADER, h);
    memset(text + h, ' ', n);
    memcpy(text + h + n - 20, "{\"op\": \"exit\"}", 14);
    text[h + n] = '\n';
    assert_int_equal(tt_open_mem("t.jsonl", text, h + n + 1, &r, line, sizeof(line)), 0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), -1);
    assert_string_equal(line, "t.jsonl:2:1: line longer than 16777216 bytes (16 MiB), the most "
                              "a line may hold");
    vmsim__reader_close(r);

    /* a line of exactly the limit is fine */
    memset(text + h, ' ', VMSIM__LINE_MAX);
    memcpy(text + h + VMSIM__LINE_MAX - 14, "{\"op\": \"exit\"}", 14);
    text[h + VMSIM__LINE_MAX] = '\n';
    assert_int_equal(tt_open_mem("t.jsonl", text, h + VMSIM__LINE_MAX + 1, &r, line, sizeof(line)),
                     0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), 1);
    vmsim__reader_close(r);
    free(text);
}

/* ---- gzip ----------------------------------------------------------------- */

static const char jsonl_text[] =
    HEADER "{\"op\": \"mmap\", \"len\": \"2p\", \"prot\": \"rw\", \"flags\": "
           "\"private|anonymous\", \"as\": \"a\"}\n"
           "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"2p\"}\n";

/* Open and read everything: the events, or -1 and the message. */
static long open_drain(const void *data, size_t n, char *line, size_t len)
{
    struct vmsim__reader *r = NULL;
    long got;

    if (tt_open_mem("t", data, n, &r, line, len) < 0)
        return -1;
    got = tt_drain(r, NULL, 0, line, len);
    vmsim__reader_close(r);
    return got;
}

static void test_gzip(void **state)
{
    size_t n = 0, n2 = 0;
    unsigned char *gz = tt_gzip(jsonl_text, strlen(jsonl_text), &n);
    unsigned char *two, *half;
    struct vmsim__reader *r = NULL;
    struct vmsim__event ev[2];
    char line[1024];

    (void)state;
    assert_int_equal(tt_open_mem("t", gz, n, &r, line, sizeof(line)), 0);
    assert_true(r->gzip);
    assert_string_equal(r->ops->name, "jsonl");
    assert_int_equal(tt_drain(r, ev, 2, line, sizeof(line)), 2);
    assert_int_equal(ev[1].op, VMSIM__OP_TOUCH);
    assert_int_equal(ev[1].line, 3);
    vmsim__reader_close(r);

    /* two members (cat a.gz b.gz), then zero padding: one stream */
    half = tt_gzip(jsonl_text + 40, strlen(jsonl_text) - 40, &n2);
    free(gz);
    gz = tt_gzip(jsonl_text, 40, &n);
    two = calloc(1, n + n2 + 100);
    assert_non_null(two);
    memcpy(two, gz, n);
    memcpy(two + n, half, n2);
    if (tt_open_mem("t", two, n + n2 + 100, &r, line, sizeof(line)) != 0)
        fail_msg("%s", line);
    assert_int_equal(tt_drain(r, ev, 2, line, sizeof(line)), 2);
    assert_int_equal(ev[1].op, VMSIM__OP_TOUCH);
    vmsim__reader_close(r);

    /* damage: found at open or while reading */
    assert_int_equal(open_drain(two, n - 5, line, sizeof(line)), -1);
    assert_string_equal(line, "t: gzip: the compressed data ends early (truncated file?)");
    memcpy(two + n + n2, "xy", 2);
    assert_int_equal(open_drain(two, n + n2 + 2, line, sizeof(line)), -1);
    assert_string_equal(line, "t: gzip: trailing data after the compressed stream (not another "
                              "gzip member)");
    memset(two + n + n2, 0, 2);
    two[n + n2 + 50] = 7; /* data after zero padding */
    assert_int_equal(open_drain(two, n + n2 + 100, line, sizeof(line)), -1);
    assert_string_equal(line, "t: gzip: trailing data after the compressed stream (not another "
                              "gzip member)");
    two[20] ^= 0x55;
    assert_int_equal(open_drain(two, n + n2, line, sizeof(line)), -1);
    assert_non_null(strstr(line, "t: gzip: "));
    free(gz);
    free(half);
    free(two);
}

/* A big gzip'ed trace streams through a bounded buffer. */
static void test_gzip_stream(void **state)
{
    size_t n = 200000, len = 0, zn = 0;
    char *text = malloc(n * 40 + 200);
    unsigned char *gz;
    struct vmsim__reader *r = NULL;
    char line[1024];

    (void)state;
    assert_non_null(text);
    len = (size_t)sprintf(text, "%s", HEADER);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "{\"op\": \"r\", \"addr\": %zu}\n", 4096 * (i % 97));
    gz = tt_gzip(text, len, &zn);
    assert_int_equal(tt_open_mem("t", gz, zn, &r, line, sizeof(line)), 0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), (long)n);
    vmsim__reader_close(r);
    free(gz);
    free(text);
}

/* ---- recognition ---------------------------------------------------------- */

static void test_recognition(void **state)
{
    static const struct {
        const char *file, *text, *format;
    } cases[] = {
        {"t", "{\"vmsim\": 1, \"events\": []}", "json"},
        {"t", "\xef\xbb\xbf  \n{\"vmsim\": 1,\n \"events\": []}", "json"},
        {"t", "{\"vmsim\": 1}\n{\"op\": \"exit\"}\n", "jsonl"},
        {"t.json", "{\"vmsim\": 1}\n\n{\"op\": \"exit\"}", "jsonl"}, /* content, not name */
        {"t", "\n\n{\"vmsim\": 1, \"system\": {}}\n  {\"op\": \"exit\"}\n", "jsonl"},
        {"t.jsonl", "{\"vmsim\": 1}\n", "jsonl"}, /* a header alone: the name decides */
        {"t.jsonl.gz", "{\"vmsim\": 1}", "jsonl"},
        {"t", "==1== Lackey\nI  0400,1\n", "lackey"},
        {"t", "\n L 0400,8\n", "lackey"},
        {"t", "I  04000000,4\n", "lackey"},
        {"t", "\x89VMTR\r\n\x1a\x01\x00\x00\x00\x0c\x00\x00\x00{\"vmsim\": 1}\x00\x00", "vmtr"},
    };
    static const struct {
        const char *file, *text, *want;
    } fails[] = {
        {"t", "{\"vmsim\": 1}\n", "t: missing \"events\" (a list of events)"},
        {"t", "{\"vmsim\": 1}\n  \n", "t: missing \"events\" (a list of events)"},
        {"t", "garbage", "t:1:1: '[' or '{' expected near 'garbage'"},
        {"t", "", "t:1:1: empty trace (expected a JSON object)"},
        {"t", "\x89VMTR\r\n\x1a\x01\x00", "t: truncated .vmtr header"},
    };
    char line[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vmsim__reader *r = NULL;
        size_t len = strlen(cases[i].text);

        if (strcmp(cases[i].format, "vmtr") == 0)
            len = 30;
        if (tt_open_mem(cases[i].file, cases[i].text, len, &r, line, sizeof(line)) != 0)
            fail_msg("case %zu: %s", i, line);
        if (strcmp(r->ops->name, cases[i].format) != 0)
            fail_msg("case %zu: %s, want %s", i, r->ops->name, cases[i].format);
        vmsim__reader_close(r);
    }
    for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
        struct vmsim__reader *r = NULL;
        size_t len = strlen(fails[i].text);

        if (fails[i].text[0] == '\x89')
            len = 10;
        assert_true(tt_open_mem(fails[i].file, fails[i].text, len, &r, line, sizeof(line)) < 0);
        assert_string_equal(line, fails[i].want);
    }
}

/* --format and the .vmtr name rule, on files. */
static void test_forced_formats(void **state)
{
    static const char doc[] = "{\"vmsim\": 1, \"events\": [{\"op\": \"exit\"}]}";
    struct vmsim__reader *r = NULL;
    vmsim_trace_error_t err;
    char path[512], line[1024];
    size_t zn = 0;
    unsigned char *gz;

    (void)state;
    tt_write("doc.vmtr", doc, strlen(doc), path, sizeof(path));
    assert_int_equal(vmsim__reader_open(path, NULL, &r, &err), VMSIM_EPARSE);
    assert_non_null(strstr(err.text, "not a binary vmsim trace"));
    assert_int_equal(vmsim__reader_open(path, "json", &r, &err), 0); /* forced */
    assert_string_equal(r->ops->name, "json");
    vmsim__reader_close(r);
    gz = tt_gzip(doc, strlen(doc), &zn);
    tt_write("doc.vmtr.gz", gz, zn, path, sizeof(path));
    assert_int_equal(vmsim__reader_open(path, "auto", &r, &err), VMSIM_EPARSE);
    assert_int_equal(vmsim__reader_open(path, "json", &r, &err), 0);
    assert_true(r->gzip);
    vmsim__reader_close(r);
    tt_write("doc.x", gz, zn, path, sizeof(path));
    assert_int_equal(vmsim__reader_open(path, NULL, &r, &err), 0); /* gzip: any name */
    vmsim__reader_close(r);
    assert_int_equal(vmsim__reader_open(path, "xml", &r, &err), VMSIM_EINVAL);
    vmsim_trace_error_format(&err, line, sizeof(line));
    tt_strip_dir(line);
    assert_string_equal(line, "tt_doc.x: unknown trace format \"xml\" (use auto, json, jsonl, "
                              "lackey, vmtr)");
    assert_int_equal(vmsim__reader_open(path, "jsonl", &r, &err), VMSIM_EPARSE);
    vmsim_trace_error_format(&err, line, sizeof(line));
    tt_strip_dir(line);
    assert_string_equal(line, "tt_doc.x:1:1: \"events\" does not belong in the header (every "
                              "event follows it on its own)");
    free(gz);
}

/* ---- replay ---------------------------------------------------------------- */

static void test_replay(void **state)
{
    static const char trace[] =
        "{\"vmsim\": 1, \"system\": {\"memory\": \"64MiB\", \"profile\": \"textbook\"}}\n"
        "{\"op\": \"mmap\", \"len\": \"4p\", \"prot\": \"rw\", \"flags\": "
        "\"private|anonymous\", \"as\": \"a\"}\n"
        "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"4p\"}\n"
        "{\"op\": \"expect\", \"minflt\": 3, \"why\": \"wrong on purpose\"}\n"
        "{\"op\": \"w\", \"addr\": \"0x10\"}\n"
        "{\"op\": \"w\", \"addr\": \"a\"}\n";
    char path[512], line[1024];
    vmsim_t *sim = NULL;

    (void)state;
    tt_write("replay.jsonl", trace, strlen(trace), path, sizeof(path));
    /* a failed expect is reported at its line; replay goes on; the dead
     * pid's event is located at its line too */
    assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)), VMSIM_REPLAY_BAD_TRACE);
    assert_string_equal(line, "tt_replay.jsonl:6:1: op \"w\": process 1 is dead (it was killed "
                              "by SIGSEGV); only spawn and expect may name it");
    test_sim_free(sim);
    sim = NULL;

    /* the same trace with OPT: the pre-pass streams the file a second time */
    tt_write("opt.jsonl", trace, (size_t)(strstr(trace, "{\"op\": \"w\"") - trace), path,
             sizeof(path));
    assert_int_equal(
        tt_replay(path, (const char *const[]){"policy", "opt", NULL}, &sim, line, sizeof(line)),
        VMSIM_REPLAY_EXPECT_FAILED);
    assert_string_equal(line, "tt_opt.jsonl:4:1: op \"expect\": pid 1 minflt: expected 3, got 4 "
                              "(why: wrong on purpose)");
    assert_int_equal(test_info(sim, 1).minflt, 4);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_lines), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_header_forced),    cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_long_line),        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_gzip_stream),      cmocka_unit_test(test_recognition),
        cmocka_unit_test(test_forced_formats),   cmocka_unit_test(test_replay),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
