/*
 * test_trace_vmtr.c -- the binary container (lib/trace/vmtr.c, docs/vmtr.md),
 * conversion between every container (vmsim_trace_convert) and the event
 * stream's lines (vmsim_event_json): every op and field survives every
 * conversion, plain accesses take a few bytes, a damaged file is an error
 * and never a crash.
 */
#include <unistd.h>

#include "test_trace_util.h"

/* Every op, every field, every kind of check, and a system object that
 * gives every key. */
static const char every_op[] =
    "{\"vmsim\": 1, \"name\": \"every op\", \"why\": \"all of TRACE_FORMAT.md \\u00e9\",\n"
    " \"system\": {\"profile\": \"textbook\", \"memory\": \"64MiB\", \"swap\": \"16MiB\",\n"
    "  \"policy\": \"lru\", \"resident_limit\": \"300p\", \"thp\": \"never\",\n"
    "  \"hugepages\": {\"2MiB\": 2}, \"overcommit_memory\": 1, \"overcommit_ratio\": 70,\n"
    "  \"panic_on_oom\": 0, \"swappiness\": 10, \"page_cluster\": 2,\n"
    "  \"fault_around_bytes\": \"16KiB\", \"read_ahead_kb\": 32,\n"
    "  \"tlb\": {\"l2\": 512, \"pcid\": false}, \"track_data\": true, \"seed\": 42,\n"
    "  \"latency_ns\": {\"major_fault\": 5000, \"tlb_hit\": 2}},\n"
    " \"events\": [\n"
    "  {\"op\": \"spawn\", \"pid\": 1, \"name\": \"sh\", \"oom_score_adj\": -100},\n"
    "  {\"op\": \"mmap\", \"len\": \"8p\", \"prot\": \"rw\", \"flags\": \"private|anonymous\",\n"
    "   \"as\": \"buf\", \"why\": \"a buffer\"},\n"
    "  {\"op\": \"mmap\", \"addr\": \"0x7e0000000000\", \"len\": \"2MiB\", \"prot\": \"\",\n"
    "   \"flags\": [\"shared\", \"anonymous\", \"fixed\", \"hugetlb\", \"noreserve\", "
    "\"populate\"], \"pagesize\": \"2MiB\"},\n"
    "  {\"op\": \"file\", \"name\": \"/data\", \"size\": \"3p\", \"data\": \"0x00ff10\"},\n"
    "  {\"op\": \"mmap\", \"len\": \"1p\", \"prot\": \"rx\", \"flags\": \"private\",\n"
    "   \"file\": \"/data\", \"offset\": \"1p\", \"as\": \"f.map\"},\n"
    "  {\"op\": \"w\", \"addr\": \"buf+1536\", \"data\": \"0x00ff\"},\n"
    "  {\"op\": \"w\", \"addr\": \"buf+9\", \"data\": \"hello\"},\n"
    "  {\"op\": \"w\", \"addr\": \"buf+20\", \"data\": \"0x307830\", \"size\": 3},\n"
    "  {\"op\": \"r\", \"addr\": \"buf+4\", \"expect\": \"0x0000\"},\n"
    "  {\"op\": \"r\", \"addr\": \"buf+0x10\", \"size\": 16},\n"
    "  {\"op\": \"r\", \"addr\": \"buf\"},\n"
    "  {\"op\": \"x\", \"pid\": 1, \"addr\": 140737488351232, \"size\": 1000000},\n"
    "  {\"op\": \"w\", \"addr\": \"0x7e0000000010\", \"size\": 8, \"why\": \"plain with why\"},\n"
    "  {\"op\": \"r\", \"addr\": \"0xffffffffffffffff\"},\n"
    "  {\"op\": \"touch\", \"addr\": \"buf\", \"len\": \"8p\", \"stride\": 100, \"access\": "
    "\"r\"},\n"
    "  {\"op\": \"refs\", \"base\": \"buf-1p\", \"pages\": [1, 2, 9, 0, 7, 7, 123456789]},\n"
    "  {\"op\": \"refs\", \"base\": \"buf\", \"pages\": [], \"access\": \"w\"},\n"
    "  {\"op\": \"madvise\", \"addr\": \"buf\", \"len\": \"8p\", \"advice\": \"pageout\"},\n"
    "  {\"op\": \"mprotect\", \"addr\": \"buf\", \"len\": \"1p\", \"prot\": \"r\"},\n"
    "  {\"op\": \"msync\", \"addr\": \"f.map\", \"len\": \"1p\"},\n"
    "  {\"op\": \"read\", \"file\": \"/data\", \"offset\": 0, \"len\": 100},\n"
    "  {\"op\": \"write\", \"pid\": 1, \"file\": \"/data\", \"offset\": \"4KiB\", \"len\": "
    "\"0x10\"},\n"
    "  {\"op\": \"brk\", \"incr\": \"-4KiB\"},\n"
    "  {\"op\": \"brk\", \"addr\": 123456},\n"
    "  {\"op\": \"malloc\", \"size\": \"100KiB\", \"as\": \"m\"},\n"
    "  {\"op\": \"calloc\", \"n\": 10, \"size\": 8, \"as\": \"c\"},\n"
    "  {\"op\": \"realloc\", \"ptr\": \"m\", \"size\": \"200KiB\", \"as\": \"m2\"},\n"
    "  {\"op\": \"free\", \"ptr\": \"m2\"},\n"
    "  {\"op\": \"munmap\", \"addr\": \"buf+1p\", \"len\": \"18446744073709547520\"},\n"
    "  {\"op\": \"fork\", \"child\": 4194304},\n"
    "  {\"op\": \"exec\", \"pid\": 4194304, \"name\": \"ls\"},\n"
    "  {\"op\": \"exec\", \"pid\": 4194304},\n"
    "  {\"op\": \"exit\", \"pid\": 4194304},\n"
    "  {\"op\": \"sysctl\", \"key\": \"vm.swappiness\", \"value\": 200},\n"
    "  {\"op\": \"sysctl\", \"key\": \"transparent_hugepage.enabled\", \"value\": \"madvise\"},\n"
    "  {\"op\": \"sysctl\", \"key\": \"vm.drop_caches\", \"value\": 3},\n"
    "  {\"op\": \"khugepaged\"},\n"
    "  {\"op\": \"khugepaged\", \"pid\": 1},\n"
    "  {\"op\": \"swapoff\"},\n"
    "  {\"op\": \"report\", \"what\": \"pagetable-dot\", \"pid\": 1},\n"
    "  {\"op\": \"report\", \"what\": \"free\"},\n"
    "  {\"op\": \"expect\", \"pid\": 1, \"minflt\": 3, \"majflt\": 0, \"cow\": 1,\n"
    "   \"rss\": \"2p\", \"vmsize\": 40960, \"swap\": \"0\", \"pte\": \"4KiB\", \"alive\": true,\n"
    "   \"signal\": null, \"si_code\": \"SEGV_ACCERR\", \"oom_killed\": false, \"panic\": false,\n"
    "   \"errno\": \"ENOMEM\", \"why\": \"checks\",\n"
    "   \"vmstat\": {\"pgfault\": 3, \"pswpin\": 0},\n"
    "   \"meminfo\": {\"AnonPages\": \"8KiB\", \"HugePages_Total\": 2, \"MemFree\": 1024}},\n"
    "  {\"op\": \"expect\", \"signal\": \"SIGABRT\", \"si_code\": null, \"errno\": 0},\n"
    "  {\"op\": \"expect\", \"pid\": 7, \"signal\": \"SIGKILL\", \"si_code\": \"SI_TKILL\",\n"
    "   \"errno\": \"0\"}\n"
    " ]}\n";

static bool same_addr(const struct vmsim__addr *a, const struct vmsim__addr *b)
{
    if ((a->name == NULL) != (b->name == NULL) || a->value != b->value)
        return false;
    return a->name == NULL || (a->name_len == b->name_len &&
                               memcmp(a->name, b->name, a->name_len) == 0 && a->minus == b->minus);
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* Whether two events mean the same; for plain accesses the fields given
 * may differ (a compact record always gives the size). */
static const char *diff_event(const struct vmsim__event *a, const struct vmsim__event *b)
{
    const uint64_t plain = (uint64_t)1 << VMSIM__F_PID | (uint64_t)1 << VMSIM__F_SIZE;

    if (a->op != b->op)
        return "op";
    if ((a->present | plain) != (b->present | plain))
        return "present";
    if (a->pid != b->pid || a->child != b->child || a->oom_score_adj != b->oom_score_adj)
        return "pid, child or oom_score_adj";
    if (!same_str(a->why, b->why) || !same_str(a->name, b->name) || !same_str(a->file, b->file) ||
        !same_str(a->as, b->as))
        return "a string";
    if (!same_addr(&a->addr, &b->addr) || !same_addr(&a->ptr, &b->ptr) ||
        !same_addr(&a->base, &b->base))
        return "an address";
    if (a->len != b->len || a->pagesize != b->pagesize || a->offset != b->offset ||
        a->size != b->size || a->stride != b->stride || a->n != b->n || a->incr != b->incr)
        return "a size";
    if (a->prot != b->prot || a->flags != b->flags || a->advice != b->advice ||
        a->access != b->access || a->report != b->report || a->sysctl != b->sysctl ||
        a->value != b->value)
        return "an enumeration";
    if (!same_bytes(a->data, a->data_len, b->data, b->data_len) ||
        !same_bytes(a->expect_data, a->expect_len, b->expect_data, b->expect_len))
        return "bytes";
    if (a->nr_pages != b->nr_pages ||
        (a->nr_pages > 0 && memcmp(a->pages, b->pages, a->nr_pages * sizeof(uint64_t)) != 0))
        return "pages";
    if (a->nr_checks != b->nr_checks)
        return "the number of checks";
    for (size_t i = 0; i < a->nr_checks; i++) {
        const struct vmsim__check *x = &a->checks[i], *y = &b->checks[i];

        if (x->key != y->key || !same_str(x->counter, y->counter) || x->u != y->u || x->b != y->b ||
            x->i != y->i || x->is_null != y->is_null || !same_str(x->text, y->text))
            return "a check";
    }
    return NULL;
}

/* Every event of the trace at path (format NULL: recognised), deep-copied
 * enough to compare after the reader is gone: the reader stays open. */
struct events {
    struct vmsim__reader *r;
    struct vmsim__event ev[64];
    /* the borrowed parts, copied */
    char strs[64][4][128];
    uint8_t bytes[64][2][32];
    uint64_t pages[64][8];
    struct vmsim__check checks[64][24];
    char texts[64][24][32];
    char names[64][3][VMSIM__NAME_MAX + 1];
    long n;
};

static void copy_name(struct vmsim__addr *a, char *buf)
{
    if (a->name != NULL) {
        memcpy(buf, a->name, a->name_len);
        a->name = buf;
    }
}

static void copy_str(const char **p, char *buf)
{
    if (*p != NULL) {
        snprintf(buf, 128, "%s", *p);
        *p = buf;
    }
}

static void read_all(const char *path, const char *format, struct events *e)
{
    vmsim_trace_error_t err;
    const struct vmsim__event *ev;
    char line[1024];
    int rc;

    rc = vmsim__reader_open(path, format, &e->r, &err);
    if (rc < 0) {
        vmsim_trace_error_format(&err, line, sizeof(line));
        fail_msg("%s", line);
    }
    e->n = 0;
    while ((rc = vmsim__reader_next(e->r, &ev, &err)) > 0) {
        struct vmsim__event *c = &e->ev[e->n];

        assert_true(e->n < 64);
        *c = *ev;
        copy_str(&c->why, e->strs[e->n][0]);
        copy_str(&c->name, e->strs[e->n][1]);
        copy_str(&c->file, e->strs[e->n][2]);
        copy_str(&c->as, e->strs[e->n][3]);
        assert_true(c->data_len <= 32 && c->expect_len <= 32 && c->nr_pages <= 8 &&
                    c->nr_checks <= 24);
        if (c->data_len > 0)
            c->data = memcpy(e->bytes[e->n][0], c->data, c->data_len);
        if (c->expect_len > 0)
            c->expect_data = memcpy(e->bytes[e->n][1], c->expect_data, c->expect_len);
        if (c->nr_pages > 0)
            c->pages = memcpy(e->pages[e->n], c->pages, c->nr_pages * sizeof(uint64_t));
        if (c->nr_checks > 0)
            c->checks = memcpy(e->checks[e->n], c->checks, c->nr_checks * sizeof(*c->checks));
        for (size_t i = 0; i < c->nr_checks; i++) {
            struct vmsim__check *k = &e->checks[e->n][i];

            if (k->text != NULL) {
                snprintf(e->texts[e->n][i], 32, "%s", k->text);
                k->text = e->texts[e->n][i];
            }
        }
        /* region names point into the reader's text: copy them too */
        copy_name(&c->addr, e->names[e->n][0]);
        copy_name(&c->ptr, e->names[e->n][1]);
        copy_name(&c->base, e->names[e->n][2]);
        e->n++;
    }
    if (rc < 0) {
        vmsim_trace_error_format(&err, line, sizeof(line));
        fail_msg("%s", line);
    }
}

static void convert_ok(const char *in, const char *out, const vmsim_convert_options_t *opt)
{
    vmsim_trace_error_t err;
    char line[1024];
    uint64_t n = 0;

    if (vmsim_trace_convert(in, out, opt, &n, &err) < 0) {
        vmsim_trace_error_format(&err, line, sizeof(line));
        fail_msg("convert %s: %s", out, line);
    }
}

static void test_every_op_survives(void **state)
{
    static const char *const outs[] = {"every.vmtr",    "every.jsonl",    "every.back.json",
                                       "every.vmtr.gz", "every.jsonl.gz", "every.json.gz"};
    struct events *orig = calloc(1, sizeof(*orig)), *got = calloc(1, sizeof(*got));
    char in[512], out[512], src[512];

    (void)state;
    assert_non_null(orig);
    assert_non_null(got);
    tt_write("every.json", every_op, strlen(every_op), in, sizeof(in));
    read_all(in, NULL, orig);
    assert_int_equal(orig->n, 44);
    snprintf(src, sizeof(src), "%s", in);
    for (size_t k = 0; k < sizeof(outs) / sizeof(outs[0]); k++) {
        /* each output is converted from the previous one: every pair */
        tt_path(outs[k], out, sizeof(out));
        convert_ok(src, out, NULL);
        read_all(out, NULL, got);
        assert_int_equal(got->r->gzip, strstr(outs[k], ".gz") != NULL);
        assert_string_equal(got->r->name, orig->r->name);
        assert_string_equal(got->r->why, orig->r->why);
        assert_memory_equal(&got->r->system, &orig->r->system, sizeof(orig->r->system));
        assert_int_equal(got->n, orig->n);
        for (long i = 0; i < orig->n; i++) {
            const char *d = diff_event(&orig->ev[i], &got->ev[i]);

            if (d != NULL)
                fail_msg("%s: event %ld (%s) differs in %s", outs[k], i,
                         vmsim__op_name(orig->ev[i].op), d);
        }
        vmsim__reader_close(got->r);
        snprintf(src, sizeof(src), "%s", out);
    }
    vmsim__reader_close(orig->r);
    free(orig);
    free(got);
}

/* Plain accesses take a tag and a varint: <= 8 bytes each even when far
 * apart, 2 to 4 when near (the usual trace). */
static void test_compact(void **state)
{
    size_t n = 20000, o, len = 0;
    char *text = malloc(n * 64 + 128);
    char in[512], out[512];
    uint64_t x = 7;
    char *data;

    (void)state;
    assert_non_null(text);
    o = (size_t)sprintf(text, "{\"vmsim\": 1}\n");
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        o +=
            (size_t)sprintf(text + o, "{\"op\": \"%c\", \"addr\": %" PRIu64 ", \"size\": %d}\n",
                            "rwx"[i % 3], (uint64_t)((x >> 17) & ((1ull << 47) - 1)), 1 << (i % 4));
    }
    tt_write("far.jsonl", text, o, in, sizeof(in));
    convert_ok(in, tt_path("far.vmtr", out, sizeof(out)), NULL);
    data = tt_read(out, &len);
    assert_true(len < 8 * n + 64);
    free(data);

    o = (size_t)sprintf(text, "{\"vmsim\": 1}\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(text + o, "{\"op\": \"r\", \"addr\": %zu, \"size\": 8}\n",
                             0x7ff000000000 + 8 * i + (i % 7) * 4096);
    tt_write("near.jsonl", text, o, in, sizeof(in));
    convert_ok(in, tt_path("near.vmtr", out, sizeof(out)), NULL);
    data = tt_read(out, &len);
    assert_true(len < 4 * n + 64);
    free(data);
    free(text);
}

/* Any prefix of a file is an error (the end record is missing), and no
 * damage makes the reader crash or read out of bounds (ASan). */
static void test_damage(void **state)
{
    char in[512], out[512], line[1024];
    size_t len = 0;
    char *data;

    (void)state;
    tt_write("dmg.json", every_op, strlen(every_op), in, sizeof(in));
    convert_ok(in, tt_path("dmg.vmtr", out, sizeof(out)), NULL);
    data = tt_read(out, &len);
    for (size_t cut = 0; cut < len; cut++) {
        struct vmsim__reader *r = NULL;
        long n = -1;

        if (tt_open_mem("t", data, cut, &r, line, sizeof(line)) == 0) {
            n = tt_drain(r, NULL, 0, line, sizeof(line));
            vmsim__reader_close(r);
        }
        if (n >= 0)
            fail_msg("a prefix of %zu bytes of %zu was accepted", cut, len);
    }
    for (size_t at = 0; at < len; at++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff, 0x3f};

        for (size_t f = 0; f < sizeof(flips); f++) {
            struct vmsim__reader *r = NULL;

            data[at] ^= (char)flips[f];
            if (tt_open_mem("t", data, len, &r, line, sizeof(line)) == 0) {
                tt_drain(r, NULL, 0, line, sizeof(line));
                vmsim__reader_close(r);
            }
            data[at] ^= (char)flips[f];
        }
    }
    free(data);
}

/* The reader's checks are the same as JSON's: a binary record of a valid
 * shape but an invalid event is refused with the event's place. */
static void test_invalid_event(void **state)
{
    static const char doc[] = "{\"vmsim\": 1, \"events\": [{\"op\": \"brk\", \"incr\": 4}]}";
    char in[512], out[512], line[1024];
    struct vmsim__reader *r = NULL;
    size_t len = 0;
    char *data, *p;

    (void)state;
    tt_write("inv.json", doc, strlen(doc), in, sizeof(in));
    convert_ok(in, tt_path("inv.vmtr", out, sizeof(out)), NULL);
    data = tt_read(out, &len);
    /* the brk record: tag 0x01 + 8 (brk), length 2, field incr (13) */
    p = memchr(data + 16, 0x01 + VMSIM__OP_BRK, len - 16);
    assert_non_null(p);
    assert_int_equal(p[1], 2);
    assert_int_equal(p[2], VMSIM__F_INCR);
    p[2] = VMSIM__F_ADDR; /* an address: form byte 8 is not a form */
    assert_int_equal(tt_open_mem("t", data, len, &r, line, sizeof(line)), 0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), -1);
    assert_string_equal(line, "t: event 0 (op \"brk\"): at byte 41: bad address form in "
                              "\"addr\"");
    vmsim__reader_close(r);
    p[1] = 0; /* no field: brk needs one of addr and incr */
    p[2] = 0; /* the end record follows, as the event count 0 */
    assert_int_equal(tt_open_mem("t", data, len, &r, line, sizeof(line)), 0);
    assert_int_equal(tt_drain(r, NULL, 0, line, sizeof(line)), -1);
    assert_string_equal(line, "t: event 0 (op \"brk\"): needs exactly one of \"addr\" and "
                              "\"incr\"");
    vmsim__reader_close(r);
    free(data);
}

/* ---- conversion ------------------------------------------------------------ */

static void test_convert_errors(void **state)
{
    static const char doc[] = "{\"vmsim\": 1, \"events\": [{\"op\": \"exit\"}]}";
    static const char bad[] = "{\"vmsim\": 1, \"events\": [{\"op\": \"exit\"}, {\"op\": 1}]}";
    vmsim_convert_options_t opt;
    vmsim_trace_override_t ov = {"memory", "1XB"};
    vmsim_trace_error_t err;
    char in[512], out[512], line[1024];

    (void)state;
    tt_write("c.json", doc, strlen(doc), in, sizeof(in));
    assert_int_equal(vmsim_trace_convert(in, tt_path("c.txt", out, sizeof(out)), NULL, NULL, &err),
                     VMSIM_EINVAL);
    vmsim_trace_error_format(&err, line, sizeof(line));
    tt_strip_dir(line);
    assert_string_equal(line, "tt_c.txt: cannot tell the output format from the name (use a "
                              "name ending in .json, .jsonl or .vmtr, optionally + .gz, or give "
                              "the format: json, jsonl, vmtr)");
    vmsim_convert_options_init(&opt);
    opt.to = "xml";
    assert_int_equal(vmsim_trace_convert(in, out, &opt, NULL, &err), VMSIM_EINVAL);
    opt.to = "jsonl";
    opt.overrides = &ov;
    opt.nr_overrides = 1;
    assert_int_equal(vmsim_trace_convert(in, out, &opt, NULL, &err), VMSIM_EPARSE);
    assert_string_equal(err.text, "system \"memory\" (command line): bad size \"1XB\": unknown "
                                  "unit \"XB\" (use B, KiB, MiB, GiB, TiB, K, M, G, T or p)");
    assert_int_equal(access(out, F_OK), -1); /* nothing written */

    assert_int_equal(
        vmsim_trace_convert(in, VMSIM_BINARY_DIR "/no/such/dir/x.vmtr", NULL, NULL, &err),
        VMSIM_EIO);
    assert_non_null(strstr(err.file, "no/such/dir/x.vmtr"));

    /* an invalid input writes nothing, not even a temporary file */
    tt_write("c_bad.json", bad, strlen(bad), in, sizeof(in));
    assert_int_equal(
        vmsim_trace_convert(in, tt_path("c_bad.vmtr", out, sizeof(out)), NULL, NULL, &err),
        VMSIM_EPARSE);
    assert_int_equal(access(out, F_OK), -1);
}

/* lackey in, settings given once: the output replays as the lackey trace
 * with the same overrides. */
static void test_convert_lackey(void **state)
{
    static const char text[] = "I  04000000,4\n L 04000ff8,16\n M 1ffefff000,8\n";
    static const char *const textbook[] = {"profile", "textbook", NULL};
    vmsim_convert_options_t opt;
    vmsim_trace_override_t ov = {"profile", "textbook"};
    char in[512], out[512], line[1024];
    vmsim_t *a = NULL, *b = NULL;
    uint64_t n = 0;
    vmsim_trace_error_t err;

    (void)state;
    tt_write("l.lackey", text, strlen(text), in, sizeof(in));
    vmsim_convert_options_init(&opt);
    opt.overrides = &ov;
    opt.nr_overrides = 1;
    opt.gzip = 1;
    assert_int_equal(vmsim_trace_convert(in, tt_path("l.vmtr", out, sizeof(out)), &opt, &n, &err),
                     0);
    assert_int_equal(n, 6); /* 2 chunks mapped, x, r, r, w */
    assert_int_equal(tt_replay(in, textbook, &a, line, sizeof(line)), VMSIM_REPLAY_OK);
    assert_int_equal(tt_replay(out, NULL, &b, line, sizeof(line)), VMSIM_REPLAY_OK);
    assert_int_equal(test_info(a, 1).minflt, 3); /* 0x4000, 0x4001 (straddled), 0x1ffefff */
    assert_int_equal(test_info(b, 1).minflt, 3);
    assert_int_equal(test_info(b, 1).vmsize, test_info(a, 1).vmsize);
    assert_int_equal(vmsim_config(b)->profile, VMSIM_PROFILE_TEXTBOOK);
    test_sim_free(a);
    test_sim_free(b);
}

/* ---- the event stream ------------------------------------------------------ */

static void test_event_json(void **state)
{
    vmsim_event_t ev = {.seq = 7,
                        .type = VMSIM_EV_FAULT,
                        .pid = 1,
                        .va = 0x7f0000001000,
                        .pfn = 291,
                        .outcome = VMSIM_OUT_MINOR | VMSIM_OUT_ZERO,
                        .cause = "zero-page"};
    char buf[512], small[16];
    int n;

    (void)state;
    n = vmsim_event_json(&ev, buf, sizeof(buf));
    assert_string_equal(buf, "{\"seq\":7,\"type\":\"fault\",\"pid\":1,\"va\":\"0x7f0000001000\","
                             "\"pfn\":291,\"outcome\":[\"minor\",\"zero\"],\"cause\":"
                             "\"zero-page\"}");
    assert_int_equal(n, (int)strlen(buf));
    assert_int_equal(vmsim_event_json(&ev, small, sizeof(small)), n); /* cut, but counted */
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(vmsim_event_json(&ev, NULL, 0), n);
    /* every buffer size cuts as snprintf does: the first len - 1 bytes
     * and a NUL, nothing written past len */
    for (size_t len = 0; len <= (size_t)n + 1; len++) {
        char cut[512];

        memset(cut, 'X', sizeof(cut));
        assert_int_equal(vmsim_event_json(&ev, cut, len), n);
        if (len > 0) {
            size_t k = len - 1 < (size_t)n ? len - 1 : (size_t)n;

            assert_memory_equal(cut, buf, k);
            assert_int_equal(cut[k], '\0');
        }
        assert_int_equal(cut[len], 'X');
    }

    ev = (vmsim_event_t){.seq = 8,
                         .type = VMSIM_EV_SIGNAL,
                         .pid = 2,
                         .va = 0x10,
                         .pfn = UINT64_MAX,
                         .outcome = VMSIM_OUT_SEGV,
                         .signal = VMSIM_SIGSEGV,
                         .si_code = VMSIM_SEGV_MAPERR,
                         .cause = "a \"q\"\n"};
    vmsim_event_json(&ev, buf, sizeof(buf));
    assert_string_equal(buf, "{\"seq\":8,\"type\":\"signal\",\"pid\":2,\"va\":\"0x10\",\"pfn\":"
                             "null,\"outcome\":[\"segv\"],\"cause\":\"a \\\"q\\\"\\u000a\","
                             "\"signal\":\"SIGSEGV\",\"si_code\":\"SEGV_MAPERR\"}");
    ev = (vmsim_event_t){.seq = 9, .type = VMSIM_EV_EVICT, .pfn = 5, .outcome = 1u << 20};
    vmsim_event_json(&ev, buf, sizeof(buf));
    assert_string_equal(buf, "{\"seq\":9,\"type\":\"evict\",\"pid\":0,\"va\":\"0x0\",\"pfn\":5,"
                             "\"outcome\":[\"bit20\"],\"cause\":null}");
    /* numbers where there is no name: a type, a signal and an si_code
     * unknown to this version, negative ones too */
    ev = (vmsim_event_t){.seq = UINT64_MAX,
                         .type = (vmsim_event_type)99,
                         .pid = -1,
                         .va = UINT64_MAX,
                         .pfn = 0,
                         .signal = 77,
                         .si_code = -3};
    vmsim_event_json(&ev, buf, sizeof(buf));
    assert_string_equal(buf, "{\"seq\":18446744073709551615,\"type\":\"99\",\"pid\":-1,"
                             "\"va\":\"0xffffffffffffffff\",\"pfn\":0,\"outcome\":[],"
                             "\"cause\":null}");
    ev.type = VMSIM_EV_SIGNAL;
    ev.pid = INT32_MIN;
    vmsim_event_json(&ev, buf, sizeof(buf));
    assert_string_equal(buf, "{\"seq\":18446744073709551615,\"type\":\"signal\","
                             "\"pid\":-2147483648,\"va\":\"0xffffffffffffffff\",\"pfn\":0,"
                             "\"outcome\":[],\"cause\":null,\"signal\":77,\"si_code\":-3}");
}

/* One line per fault through the callback, as `vmsim replay --events`. */
struct counts {
    uint64_t lines, faults;
};

static void count_event(void *ctx, const vmsim_event_t *ev)
{
    struct counts *c = ctx;
    char buf[256];

    assert_true(vmsim_event_json(ev, buf, sizeof(buf)) < (int)sizeof(buf));
    c->lines++;
    c->faults += ev->type == VMSIM_EV_FAULT;
}

static void test_event_callback(void **state)
{
    static const char doc[] =
        "{\"vmsim\": 1, \"system\": {\"memory\": \"64MiB\", \"policy\": \"opt\", \"swap\": "
        "\"1MiB\", \"resident_limit\": \"3p\"}, \"events\": [\n"
        " {\"op\": \"mmap\", \"len\": \"8p\", \"prot\": \"rw\", \"flags\": "
        "\"private|anonymous\", \"as\": \"r\"},\n"
        " {\"op\": \"refs\", \"base\": \"r\", \"pages\": [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]}\n"
        "]}";
    vmsim_replay_options_t opt;
    struct counts c = {0};
    vmsim_trace_error_t err;
    char path[512];
    vmsim_t *sim = NULL;

    (void)state;
    tt_write("cb.json", doc, strlen(doc), path, sizeof(path));
    vmsim_replay_options_init(&opt);
    opt.on_event = count_event;
    opt.event_ctx = &c;
    assert_int_equal(vmsim_replay(path, &opt, &sim, NULL, &err), VMSIM_REPLAY_OK);
    /* the OPT pre-pass is silent: the faults of one run */
    assert_int_equal(c.faults, test_vmstat(sim, "pgfault"));
    assert_int_equal(c.faults, 7);
    assert_true(c.lines > c.faults);
    test_sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_survives),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_invalid_event),
        cmocka_unit_test(test_convert_errors),
        cmocka_unit_test(test_convert_lackey),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_event_callback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
