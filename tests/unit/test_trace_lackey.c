/*
 * test_trace_lackey.c -- the valgrind lackey reader (lib/trace/lackey.c):
 * the events a record becomes (implicit mappings, M as a load then a
 * store), located errors, and replays whose fault counts are those the
 * contract states: with the textbook profile one minor fault per distinct
 * page touched, with the Linux profile one more for every page first read
 * then written (the zero page), page-straddling accesses counting both
 * pages.
 */
#include "test_trace_util.h"

#define CHUNK ((uint64_t)2 << 20)

struct want {
    vmsim__op op;
    uint64_t addr, n; /* size, or len for mmap */
    unsigned line;
};

static void test_events(void **state)
{
    static const char text[] = "==77== Lackey, an example Valgrind tool\n" /* 1 */
                               "==77== Command: ./a.out\n"                 /* 2 */
                               "I  04000ffe,4\n"     /* 3: straddles two pages */
                               " L 1ffefff9e8,8\r\n" /* 4: CRLF */
                               " M 041ffffc,8\n"     /* 5: straddles two chunks */
                               "\n"                  /* 6 */
                               " S 7fffffffeff8,8\n" /* 7: the top chunk, clipped */
                               " L 0000fffe,4\n"     /* 8: cut at 64 KiB */
                               "I  0400000a,0\n";    /* 9 */
    static const struct want want[] = {
        {VMSIM__OP_MMAP, 0x4000000, CHUNK, 3},
        {VMSIM__OP_X, 0x4000ffe, 4, 3},
        {VMSIM__OP_MMAP, 0x1ffee00000, CHUNK, 4},
        {VMSIM__OP_R, 0x1ffefff9e8, 8, 4},
        {VMSIM__OP_MMAP, 0x4200000, CHUNK, 5},
        {VMSIM__OP_R, 0x41ffffc, 8, 5},
        {VMSIM__OP_W, 0x41ffffc, 8, 5},
        {VMSIM__OP_MMAP, 0x7fffffe00000, CHUNK - 4096, 7},
        {VMSIM__OP_W, 0x7fffffffeff8, 8, 7},
        {VMSIM__OP_MMAP, 0x10000, CHUNK - 0x10000, 8},
        {VMSIM__OP_R, 0x10000, 2, 8},
        {VMSIM__OP_X, 0x400000a, 0, 9},
    };
    struct vmsim__event ev[16];
    struct vmsim__reader *r = NULL;
    char line[1024];
    long n;

    (void)state;
    assert_int_equal(tt_open_mem("t", text, strlen(text), &r, line, sizeof(line)), 0);
    assert_string_equal(r->ops->name, "lackey");
    assert_int_equal(r->system.present, 0); /* settings come from outside */
    n = tt_drain(r, ev, 16, line, sizeof(line));
    vmsim__reader_close(r);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (long i = 0; i < n; i++) {
        const struct vmsim__event *e = &ev[i];

        if (e->op != want[i].op || e->addr.value != want[i].addr ||
            (e->op == VMSIM__OP_MMAP ? e->len : e->size) != want[i].n || e->line != want[i].line ||
            e->index != (uint64_t)i || e->pid != 1)
            fail_msg("event %ld: op %s addr 0x%" PRIx64 " n %" PRIu64 " line %u", i,
                     vmsim__op_name(e->op), e->addr.value,
                     e->op == VMSIM__OP_MMAP ? e->len : e->size, e->line);
        if (e->op == VMSIM__OP_MMAP) {
            assert_int_equal(e->prot, VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC);
            assert_int_equal(e->flags, VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED |
                                           VMSIM_MAP_NORESERVE | VMSIM_MAP_UNACCOUNTED);
        }
    }
}

static void test_bad_records(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"I  0400,4\nI 0400,4\n",
         "t:2:2: bad lackey record \"I 0400,4\": expected two spaces after 'I' (\"I  ADDR,SIZE\")"},
        {"I  0400,4\nInstrumented\n", "t:2:2: bad lackey record \"Instrumented\": expected two "
                                      "spaces after 'I' (\"I  ADDR,SIZE\")"},
        {" S 0400,4\n Sx 0400,4\n", "t:2:3: bad lackey record \" Sx 0400,4\": expected a space "
                                    "after 'S' (\" S ADDR,SIZE\")"},
        {" M 0400,4\n M ,4\n", "t:2:4: bad lackey record \" M ,4\": expected a hex address"},
        {" L 0400,4\n L 0x400,4\n",
         "t:2:5: bad lackey record \" L 0x400,4\": expected ',' after the address"},
        {" L 0400,4\n L 0400\n",
         "t:2:8: bad lackey record \" L 0400\": expected ',' after the address"},
        {" L 0400,4\n L 0400,\n",
         "t:2:9: bad lackey record \" L 0400,\": expected a decimal size after ','"},
        {" L 0400,4\n L 0400,-4\n",
         "t:2:9: bad lackey record \" L 0400,-4\": expected a decimal size after ','"},
        {" L 0400,4\n L 0400,4 \n",
         "t:2:10: bad lackey record \" L 0400,4 \": unexpected text after the size"},
        {" L 0400,4\n L 0400,4,5\n",
         "t:2:10: bad lackey record \" L 0400,4,5\": unexpected text after the size"},
        {"I  11112222333344445,4\n", "t:1:4: bad lackey record \"I  11112222333344445,4\": the "
                                     "address overflows 64 bits"},
        {" L 0400,1048577\n", "t:1:9: bad lackey record \" L 0400,1048577\": the size is more "
                              "than 1048576 bytes (1MiB), the largest access a record may make"},
        {" L ffffffffffffffff,2\n", "t:1:4: bad lackey record \" L ffffffffffffffff,2\": the "
                                    "access passes the end of the 64-bit address space"},
        {"==1== nothing here\n==1== at all\n",
         "t:1:1: no lackey record (\"I  ADDR,SIZE\", \" L ADDR,SIZE\", \" S ...\", \" M ...\") in "
         "the file"},
    };
    char line[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vmsim__reader *r = NULL;
        long n;

        assert_int_equal(
            tt_open_mem("t", cases[i].text, strlen(cases[i].text), &r, line, sizeof(line)), 0);
        n = tt_drain(r, NULL, 0, line, sizeof(line));
        vmsim__reader_close(r);
        if (n >= 0 || strcmp(line, cases[i].want) != 0)
            fail_msg("case %zu: %s\n  got  %s\n  want %s", i, cases[i].text, line, cases[i].want);
    }
}

/* ---- the counts ---------------------------------------------------------- */

/* What the simplest model says about an access string: distinct pages, and
 * pages whose first access was a read (or fetch) and that were written
 * later. A small open-addressing table of pages. */
struct model {
    uint64_t *page; /* + 1; 0 = empty */
    uint8_t *state; /* 1 first read, 2 written first, 3 read then written */
    size_t cap, distinct, read_then_written;
};

static void model_touch(struct model *m, uint64_t page, bool write)
{
    size_t i = (size_t)(page * 0x9e3779b97f4a7c15ull >> 40) % m->cap;

    while (m->page[i] != 0 && m->page[i] != page + 1)
        i = (i + 1) % m->cap;
    if (m->page[i] == 0) {
        m->page[i] = page + 1;
        m->state[i] = write ? 2 : 1;
        m->distinct++;
    } else if (write && m->state[i] == 1) {
        m->state[i] = 3;
        m->read_then_written++;
    }
}

static void model_access(struct model *m, uint64_t addr, uint64_t size, bool write)
{
    uint64_t last = addr + (size > 0 ? size - 1 : 0);

    for (uint64_t p = addr >> 12; p <= last >> 12; p++)
        model_touch(m, p, write);
}

/* A lackey trace of n records over a few regions (code, heap, stack),
 * with valgrind's own lines sprinkled in, plus what the model says. */
static char *make_trace(size_t n, struct model *m, size_t *len)
{
    static const uint64_t bases[] = {0x4000000, 0x4a00000, 0x1ffeff0000, 0x7f0000000000};
    char *text = malloc(n * 32 + 128);
    uint64_t x = 12345;
    size_t o = 0;

    assert_non_null(text);
    o += (size_t)sprintf(text + o, "==1== Lackey, an example Valgrind tool\n");
    for (size_t i = 0; i < n; i++) {
        static const char *const kinds[] = {"I ", " L", " S", " M"};
        uint64_t addr, size;
        int k;

        x = x * 6364136223846793005ull + 1442695040888963407ull;
        k = (int)(x >> 62);
        addr = bases[(x >> 58) & 3] + ((x >> 20) % (3 * CHUNK)); /* straddles chunks too */
        size = ((x >> 10) & 1) ? 8 : ((x >> 11) % 64) + 1;
        if (i % 1000 == 999)
            o += (size_t)sprintf(text + o, "==1== a line of valgrind's\n");
        o += (size_t)sprintf(text + o, "%s %08" PRIx64 ",%" PRIu64 "\n", kinds[k], addr, size);
        model_access(m, addr, size, k == 2);
        if (k == 3) /* M: load, then store */
            model_access(m, addr, size, true);
    }
    *len = o;
    return text;
}

static void test_counts(void **state)
{
    struct model m = {0};
    char path[512], line[1024];
    size_t len = 0;
    char *text;
    vmsim_t *sim = NULL;
    vmsim_proc_info_t info;

    (void)state;
    m.cap = 1 << 18;
    m.page = calloc(m.cap, sizeof(*m.page));
    m.state = calloc(m.cap, 1);
    assert_non_null(m.page);
    assert_non_null(m.state);
    text = make_trace(60000, &m, &len);
    tt_write("counts.lackey", text, len, path, sizeof(path));
    assert_true(m.read_then_written > 100);

    assert_int_equal(tt_replay(path, (const char *const[]){"profile", "textbook", NULL}, &sim, line,
                               sizeof(line)),
                     VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_int_equal(info.minflt, m.distinct);
    assert_int_equal(info.majflt, 0);
    test_sim_free(sim);
    sim = NULL;

    assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)), VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_int_equal(info.minflt, m.distinct + m.read_then_written);
    /* implicit mappings are whole 2 MiB chunks: 4 regions of 3 chunks and
     * a straddle into a 4th */
    assert_true(info.vmsize % CHUNK == 0);
    assert_true(info.vmsize >= 12 * CHUNK && info.vmsize <= 16 * CHUNK);
    test_sim_free(sim);
    sim = NULL;

    /* the same through gzip */
    {
        size_t zn = 0;
        unsigned char *gz = tt_gzip(text, len, &zn);

        tt_write("counts.lackey.gz", gz, zn, path, sizeof(path));
        free(gz);
        assert_int_equal(tt_replay(path, (const char *const[]){"profile", "textbook", NULL}, &sim,
                                   line, sizeof(line)),
                         VMSIM_REPLAY_OK);
        assert_int_equal(test_info(sim, 1).minflt, m.distinct);
        test_sim_free(sim);
    }
    free(text);
    free(m.page);
    free(m.state);
}

/* Accesses outside user space (the vsyscall page, below mmap_min_addr)
 * touch no page a process can map: skipped, or cut to the user part. */
static void test_outside_user_space(void **state)
{
    static const char text[] = "I  04000000,4\n"
                               " L ffffffffff600000,8\n" /* vsyscall */
                               " S 00001000,4\n"         /* below 64 KiB */
                               " L 7fffffffeffc,8\n"     /* sticks out at the top */
                               " L 0000fffc,8\n"         /* sticks out at the bottom */
                               " L 04000000,4\n";
    static const char only[] = " L ffffffffff600000,8\n";
    char path[512], line[1024];
    vmsim_t *sim = NULL;
    vmsim_proc_info_t info;

    (void)state;
    tt_write("outside.lackey", text, strlen(text), path, sizeof(path));
    assert_int_equal(tt_replay(path, (const char *const[]){"profile", "textbook", NULL}, &sim, line,
                               sizeof(line)),
                     VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_true(info.alive);
    assert_int_equal(info.minflt, 3); /* 0x4000, 0x7fffffffe, 0x10 */
    test_sim_free(sim);
    sim = NULL;
    tt_write("only.lackey", only, strlen(only), path, sizeof(path));
    assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)), VMSIM_REPLAY_OK);
    assert_int_equal(test_info(sim, 1).minflt, 0); /* a record, but no user page */
    test_sim_free(sim);
}

/* n store records of `size` bytes from 0x4000000, `stride` apart, into
 * text; returns their length. */
static size_t store_records(char *text, size_t cap, unsigned n, unsigned stride, unsigned size)
{
    size_t len = 0;

    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, " S %08x,%u\n", 0x4000000u + i * stride,
                                size);
    return len;
}

/* Every page touched is valid (TRACE_FORMAT.md): the implicit mappings
 * are never refused for the commit limit, not by the heuristic on a
 * machine smaller than one chunk, nor in strict mode past CommitLimit
 * (64 MiB of RAM, no swap, ratio 50: 32 MiB; 20 chunks are 40 MiB). */
static void test_implicit_mappings_never_fail(void **state)
{
    char text[20 * 32], path[512], line[1024];
    size_t len = store_records(text, sizeof(text), 20, (unsigned)CHUNK, 4);
    vmsim_t *sim = NULL;
    vmsim_proc_info_t info;

    (void)state;
    tt_write("chunks.lackey", text, len, path, sizeof(path));
    assert_int_equal(tt_replay(path, (const char *const[]){"memory", "1MiB", NULL}, &sim, line,
                               sizeof(line)),
                     VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_true(info.alive);
    assert_int_equal(info.minflt, 20);
    test_sim_free(sim);
    sim = NULL;
    assert_int_equal(tt_replay(path,
                               (const char *const[]){"memory", "64MiB", "overcommit_memory", "2",
                                                     NULL},
                               &sim, line, sizeof(line)),
                     VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_true(info.alive);
    assert_int_equal(info.minflt, 20);
    assert_int_equal(info.vmsize, 20 * CHUNK);
    test_check(sim);
    test_sim_free(sim);
}

/* A lackey trace is one process's accesses: when the simulated machine
 * cannot hold them and the OOM killer takes the process, the replay ends
 * there, successfully (the trace is not at fault). */
static void test_death_ends_the_trace(void **state)
{
    char text[64 * 16], path[512], line[1024];
    size_t len = store_records(text, sizeof(text), 64, 4096, 8);
    vmsim_t *sim = NULL;
    vmsim_proc_info_t info;

    (void)state;
    tt_write("oom.lackey", text, len, path, sizeof(path));
    assert_int_equal(tt_replay(path, (const char *const[]){"resident_limit", "8p", NULL}, &sim,
                               line, sizeof(line)),
                     VMSIM_REPLAY_OK);
    info = test_info(sim, 1);
    assert_false(info.alive);
    assert_true(info.oom_killed);
    assert_int_equal(info.minflt, 8); /* the ninth page's fault found no room */
    test_check(sim);
    test_sim_free(sim);
}

/* Any other death is not the end of the recorded program but the
 * simulation's limit, an error (exit 2): here the implicit mappings, two
 * chunks apart so none merge, pass vm.max_map_count (65530, Linux's
 * DEFAULT_MAX_MAP_COUNT), and the 65531st is refused with ENOMEM. The
 * replay must stop at that mapping, not let the access die of SIGSEGV. */
static void test_map_count_limit_is_an_error(void **state)
{
    enum { N = 65531 };
    size_t cap = (size_t)N * 24, len = 0;
    char *text = malloc(cap), path[512], line[1024];
    vmsim_t *sim = NULL;

    (void)state;
    assert_non_null(text);
    for (unsigned i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, " S %lx,8\n",
                                0x10000000ul + (unsigned long)i * 2 * CHUNK);
    tt_write("maps.lackey", text, len, path, sizeof(path));
    free(text);
    assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)), VMSIM_REPLAY_BAD_TRACE);
    assert_non_null(strstr(line, ":65531:1: "));
    assert_non_null(strstr(line, "implicit mapping"));
    assert_non_null(strstr(line, "ENOMEM"));
    assert_true(test_info(sim, 1).alive); /* stopped before the access */
    assert_int_equal(test_info(sim, 1).minflt, N - 1);
    test_check(sim);
    test_sim_free(sim);
}

/* A lackey trace is recognised by a record in its first 64 KiB
 * (TRACE_FORMAT.md; the traced program's output may come first): a
 * record that starts at byte 65520 counts, one at byte 65536 does not, so
 * the file is then taken for JSON and is a syntax error. */
static void test_detected_in_first_64k(void **state)
{
    static const char out_line[] = "program output.\n"; /* 16 bytes */
    size_t cap = 70000;
    char *text = malloc(cap), path[512], line[1024];
    vmsim_t *sim = NULL;

    (void)state;
    assert_non_null(text);
    for (unsigned lines = 4095; lines <= 4096; lines++) {
        size_t len = 0;

        for (unsigned i = 0; i < lines; i++)
            len += (size_t)snprintf(text + len, cap - len, "%s", out_line);
        len += (size_t)snprintf(text + len, cap - len, " S 04000000,4\n");
        tt_write("late.lackey", text, len, path, sizeof(path));
        sim = NULL;
        if (lines == 4095) {
            assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)), VMSIM_REPLAY_OK);
            assert_int_equal(test_info(sim, 1).minflt, 1);
        } else {
            assert_int_equal(tt_replay(path, NULL, &sim, line, sizeof(line)),
                             VMSIM_REPLAY_BAD_TRACE);
            assert_non_null(strstr(line, "late.lackey:1:1: "));
        }
        if (sim != NULL)
            test_sim_free(sim);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_outside_user_space),
        cmocka_unit_test(test_implicit_mappings_never_fail),
        cmocka_unit_test(test_death_ends_the_trace),
        cmocka_unit_test(test_map_count_limit_is_an_error),
        cmocka_unit_test(test_detected_in_first_64k),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
