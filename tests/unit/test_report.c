/*
 * test_report.c -- the text and JSON reports of lib/stats/report.c.
 *
 * Each test builds a small machine through the public API, renders a
 * report into a memory stream and checks exact lines. Expected layouts are
 * the Linux ones (procps-ng 4 free, fs/proc/meminfo.c, task_mmu.c,
 * array.c, mm/vmstat.c), written out here independently of report.c;
 * expected numbers come from the public getters or from what the test
 * itself did (N pages touched = N * 4 kB of RSS).
 */
#include "test_util.h"

#include <jansson.h>

#define VA_A ((vmsim_vaddr_t)0x7f0000000000) /* PML4 index 254 */

/* ---- helpers ------------------------------------------------------------ */

/* Render a text report; the caller frees the result with free(). */
static char *render(vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;

    assert_non_null(f);
    rc = vmsim_report_write(sim, kind, pid, f);
    assert_int_equal(fclose(f), 0);
    if (rc != 0)
        fail_msg("vmsim_report_write(%d, pid %d) = %d (%s)", (int)kind, (int)pid, rc,
                 vmsim_err_name(rc));
    assert_non_null(buf);
    return buf;
}

/* Render a JSON report and parse it back; the caller json_decref()s it. */
static json_t *render_json(vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid)
{
    char *text = NULL;
    json_error_t err;
    json_t *root;
    int rc = vmsim_report_json(sim, kind, pid, &text);

    if (rc != 0)
        fail_msg("vmsim_report_json(%d, pid %d) = %d (%s)", (int)kind, (int)pid, rc,
                 vmsim_err_name(rc));
    assert_non_null(text);
    root = json_loads(text, 0, &err);
    if (root == NULL)
        fail_msg("invalid JSON at %d:%d: %s\n%s", err.line, err.column, err.text, text);
    vmsim_free(sim, text);
    return root;
}

/* Line n (0-based) of text, without its newline, into buf; false if none. */
static bool line_at(const char *text, size_t n, char *buf, size_t len)
{
    const char *p = text, *end;

    for (size_t i = 0; i < n; i++) {
        p = strchr(p, '\n');
        if (p == NULL)
            return false;
        p++;
    }
    if (*p == '\0')
        return false;
    end = strchr(p, '\n');
    if (end == NULL)
        end = p + strlen(p);
    if ((size_t)(end - p) >= len)
        return false;
    memcpy(buf, p, (size_t)(end - p));
    buf[end - p] = '\0';
    return true;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;

    for (const char *p = text; *p != '\0'; p++)
        n += *p == '\n';
    return n;
}

/* The index of the line equal to `line`, or -1. */
static long find_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    long i = 0;

    for (const char *p = text; *p != '\0'; i++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

        if (n == len && memcmp(p, line, len) == 0)
            return i;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return -1;
}

#define assert_line(text, line)                                                          \
    do {                                                                                 \
        if (find_line((text), (line)) < 0)                                               \
            fail_msg("no line \"%s\" in:\n%s", (line), (text));                          \
    } while (0)

#define assert_no_substr(text, s)                                                        \
    do {                                                                                 \
        if (strstr((text), (s)) != NULL)                                                 \
            fail_msg("unexpected \"%s\" in:\n%s", (s), (text));                          \
    } while (0)

static json_int_t jint(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v))
        fail_msg("key \"%s\" is not an integer", key);
    return json_integer_value(v);
}

static const char *jstr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        fail_msg("key \"%s\" is not a string", key);
    return json_string_value(v);
}

static vmsim_vaddr_t mmap_fixed(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va,
                                uint64_t len, unsigned prot, unsigned flags)
{
    vmsim_mmap_req_t req = {.addr = va, .len = len, .prot = prot, .flags = flags};
    vmsim_vaddr_t got = 0;

    assert_int_equal(vmsim_mmap(sim, pid, &req, &got), 0);
    assert_true(got == va);
    return got;
}

static int setup(void **state)
{
    *state = test_sim_new(64 * MiB, VMSIM_PROFILE_LINUX);
    return 0;
}

static int teardown(void **state)
{
    test_sim_free(*state);
    return 0;
}

/* ---- names and arguments ---------------------------------------------- */

static void test_kind_from_name(void **state)
{
    static const struct {
        const char *name;
        int kind;
    } names[] = {
#define XX(id, name) {name, VMSIM_REPORT_##id},
        VMSIM_REPORT_MAP(XX)
#undef XX
    };

    (void)state;
    assert_int_equal(sizeof(names) / sizeof(names[0]), VMSIM_REPORT__COUNT);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(vmsim_report_kind_from_name(names[i].name), names[i].kind);
    assert_int_equal(vmsim_report_kind_from_name("free"), VMSIM_REPORT_FREE);
    assert_int_equal(vmsim_report_kind_from_name("pagetable-dot"), VMSIM_REPORT_PAGETABLE_DOT);
    assert_int_equal(vmsim_report_kind_from_name("Free"), -1);
    assert_int_equal(vmsim_report_kind_from_name(""), -1);
    assert_int_equal(vmsim_report_kind_from_name(NULL), -1);
}

static void test_bad_arguments(void **state)
{
    vmsim_t *sim = *state;
    char *text = (char *)"untouched";
    FILE *f = fopen("/dev/null", "w");

    assert_non_null(f);
    assert_int_equal(vmsim_report_write(NULL, VMSIM_REPORT_FREE, 0, f), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_FREE, 0, NULL), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT__COUNT, 0, f), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, (vmsim_report_kind)-1, 0, f), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_STATUS, -1, f), VMSIM_EINVAL);
    /* maps and page tables need one process */
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_MAPS, 0, f), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_PAGETABLE, 0, f), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_MAPS, 99, f), VMSIM_ESRCH);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_STATUS, 99, f), VMSIM_ESRCH);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_PAGETABLE_DOT, 99, f), VMSIM_ESRCH);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_SUMMARY, 99, f), VMSIM_ESRCH);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(vmsim_report_json(sim, VMSIM_REPORT_FREE, 0, NULL), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_json(NULL, VMSIM_REPORT_FREE, 0, &text), VMSIM_EINVAL);
    assert_int_equal(vmsim_report_json(sim, VMSIM_REPORT_MAPS, 99, &text), VMSIM_ESRCH);
    assert_int_equal(vmsim_report_json(sim, VMSIM_REPORT__COUNT, 0, &text), VMSIM_EINVAL);
    assert_string_equal(text, "untouched");
}

/* A stream that fails every write makes the report fail with VMSIM_EIO. */
static void test_write_error(void **state)
{
    vmsim_t *sim = *state;
    FILE *f = fopen("/dev/full", "w");

    if (f == NULL)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_MEMINFO, 0, f), VMSIM_EIO);
    fclose(f);
}

/* ---- free ---------------------------------------------------------------- */

static void test_free_report(void **state)
{
    vmsim_t *sim = *state;
    vmsim_vaddr_t va = test_mmap_anon(sim, 1, 0, 256 * KiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);
    uint64_t total, avail, mfree, shmem, bc, stotal, sfree;
    unsigned long long got[6];
    char *text, line[256];
    json_t *root, *mem, *swap;

    test_touch(sim, 1, va, 256 * KiB, VMSIM_WRITE);
    total = test_meminfo(sim, "MemTotal");
    avail = test_meminfo(sim, "MemAvailable");
    mfree = test_meminfo(sim, "MemFree");
    shmem = test_meminfo(sim, "Shmem");
    bc = test_meminfo(sim, "Buffers") + test_meminfo(sim, "Cached") +
         test_meminfo(sim, "SReclaimable");
    stotal = test_meminfo(sim, "SwapTotal");
    sfree = test_meminfo(sim, "SwapFree");
    assert_true(avail <= total);

    text = render(sim, VMSIM_REPORT_FREE, 0);
    assert_int_equal(count_lines(text), 3);
    assert_true(line_at(text, 0, line, sizeof(line)));
    assert_string_equal(
        line, "               total        used        free      shared  buff/cache   available");
    /* Mem: a 9-wide label, numbers right-aligned ending at 20, 32, ..., 80 */
    assert_true(line_at(text, 1, line, sizeof(line)));
    assert_int_equal(strlen(line), 80);
    assert_memory_equal(line, "Mem:     ", 9);
    for (int col = 20; col <= 80; col += 12) {
        assert_true(line[col - 1] >= '0' && line[col - 1] <= '9');
        if (col < 80)
            assert_true(line[col] == ' ');
    }
    assert_int_equal(sscanf(line, "Mem: %llu %llu %llu %llu %llu %llu", &got[0], &got[1],
                            &got[2], &got[3], &got[4], &got[5]),
                     6);
    assert_true(got[0] == total / 1024);
    assert_true(got[1] == (total - avail) / 1024); /* procps-ng 4: total - available */
    assert_true(got[2] == mfree / 1024);
    assert_true(got[3] == shmem / 1024);
    assert_true(got[4] == bc / 1024);
    assert_true(got[5] == avail / 1024);
    /* the machine has no swap */
    assert_int_equal(stotal, 0);
    assert_true(line_at(text, 2, line, sizeof(line)));
    assert_string_equal(line, "Swap:              0           0           0");
    free(text);

    root = render_json(sim, VMSIM_REPORT_FREE, 0);
    mem = json_object_get(root, "mem");
    swap = json_object_get(root, "swap");
    assert_true(json_is_object(mem) && json_is_object(swap));
    assert_int_equal(json_object_size(mem), 6);
    assert_int_equal(json_object_size(swap), 3);
    assert_true((uint64_t)jint(mem, "total") == total);
    assert_true((uint64_t)jint(mem, "used") == total - avail);
    assert_true((uint64_t)jint(mem, "free") == mfree);
    assert_true((uint64_t)jint(mem, "shared") == shmem);
    assert_true((uint64_t)jint(mem, "buff_cache") == bc);
    assert_true((uint64_t)jint(mem, "available") == avail);
    assert_true((uint64_t)jint(swap, "total") == stotal);
    assert_true((uint64_t)jint(swap, "free") == sfree);
    assert_int_equal(jint(swap, "used"), 0);
    json_decref(root);
}

/* ---- meminfo and vmstat ------------------------------------------------- */

static void test_meminfo_report(void **state)
{
    vmsim_t *sim = *state;
    uint64_t v[VMSIM_MEMINFO__COUNT];
    char *text, line[256], want[256];
    json_t *root;

    assert_int_equal(vmsim_meminfo_read(sim, v, VMSIM_MEMINFO__COUNT), VMSIM_MEMINFO__COUNT);
    text = render(sim, VMSIM_REPORT_MEMINFO, 0);
    assert_int_equal(count_lines(text), VMSIM_MEMINFO__COUNT);
    for (size_t i = 0; i < VMSIM_MEMINFO__COUNT; i++) {
        const char *name = vmsim_meminfo_name(i);
        size_t n = strlen(name);

        assert_true(line_at(text, i, line, sizeof(line)));
        /* the name and its colon, in the map's order */
        assert_memory_equal(line, name, n);
        assert_int_equal(line[n], ':');
        if (strncmp(name, "HugePages_", 10) == 0) {
            /* a bare count ending at column 24 */
            assert_int_equal(strlen(line), 24);
            assert_true(strtoull(line + n + 1, NULL, 10) == v[i]);
        } else {
            /* kB ending at column 24, then " kB" (values here fit 8 digits) */
            assert_int_equal(strlen(line), 27);
            assert_string_equal(line + 24, " kB");
            assert_true(strtoull(line + n + 1, NULL, 10) == v[i] / 1024);
        }
    }
    snprintf(want, sizeof(want), "MemTotal:       %8" PRIu64 " kB", v[VMSIM_MEMINFO_MEMTOTAL] / 1024);
    assert_line(text, want);
    assert_true(line_at(text, 0, line, sizeof(line)));
    assert_string_equal(line, want); /* MemTotal comes first */
    assert_line(text, "HugePages_Total:       0");
    assert_line(text, "Hugepagesize:       2048 kB");
    free(text);

    root = render_json(sim, VMSIM_REPORT_MEMINFO, 0);
    assert_int_equal(json_object_size(root), VMSIM_MEMINFO__COUNT);
    assert_true((uint64_t)jint(root, "MemTotal") == v[VMSIM_MEMINFO_MEMTOTAL]);
    assert_true((uint64_t)jint(root, "Hugepagesize") == 2 * MiB);
    assert_int_equal(jint(root, "HugePages_Total"), 0);
    json_decref(root);
}

static void test_vmstat_report(void **state)
{
    vmsim_t *sim = *state;
    vmsim_vaddr_t va = test_mmap_anon(sim, 1, 0, 8 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);
    uint64_t v[VMSIM_VMSTAT__COUNT];
    char *text, line[256], want[256];
    json_t *root;

    test_touch(sim, 1, va, 8 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_vmstat_read(sim, v, VMSIM_VMSTAT__COUNT), VMSIM_VMSTAT__COUNT);
    assert_true(v[VMSIM_VMSTAT_PGFAULT] >= 8);
    text = render(sim, VMSIM_REPORT_VMSTAT, 0);
    assert_int_equal(count_lines(text), VMSIM_VMSTAT__COUNT);
    for (size_t i = 0; i < VMSIM_VMSTAT__COUNT; i++) {
        snprintf(want, sizeof(want), "%s %" PRIu64, vmsim_vmstat_name(i), v[i]);
        assert_true(line_at(text, i, line, sizeof(line)));
        assert_string_equal(line, want);
    }
    assert_true(line_at(text, 0, line, sizeof(line)));
    assert_memory_equal(line, "nr_free_pages ", 14);
    free(text);

    root = render_json(sim, VMSIM_REPORT_VMSTAT, 0);
    assert_int_equal(json_object_size(root), VMSIM_VMSTAT__COUNT);
    assert_true((uint64_t)jint(root, "pgfault") == v[VMSIM_VMSTAT_PGFAULT]);
    assert_true((uint64_t)jint(root, "nr_free_pages") == v[VMSIM_VMSTAT_NR_FREE_PAGES]);
    json_decref(root);
}

/* ---- maps ------------------------------------------------------------------ */

static void test_maps(void **state)
{
    vmsim_t *sim = *state;
    const unsigned rw = VMSIM_PROT_READ | VMSIM_PROT_WRITE;
    const unsigned priv = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED;
    vmsim_vaddr_t brk0 = 0, brk1 = 0;
    vmsim_proc_info_t pi;
    char *text, want[256];
    vmsim_vma_info_t probe;
    size_t nr_vmas;
    json_t *root, *o;

    mmap_fixed(sim, 1, VA_A, 64 * KiB, rw, priv);
    mmap_fixed(sim, 1, VA_A + 0x100000, 8 * KiB, VMSIM_PROT_READ, priv);
    assert_int_equal(vmsim_brk(sim, 1, 0, &brk0), 0);
    assert_int_equal(vmsim_brk(sim, 1, brk0 + 8 * KiB, &brk1), 0);
    assert_true(brk1 == brk0 + 8 * KiB);
    pi = test_info(sim, 1);

    text = render(sim, VMSIM_REPORT_MAPS, 1);
    nr_vmas = vmsim_maps(sim, 1, &probe, 0);
    assert_int_equal(count_lines(text), nr_vmas);
    /* anonymous private: dev 00:00, inode 0 and Linux's trailing space */
    assert_line(text, "7f0000000000-7f0000010000 rw-p 00000000 00:00 0 ");
    assert_line(text, "7f0000100000-7f0000102000 r--p 00000000 00:00 0 ");
    /* the heap: the name starts at column 73 */
    snprintf(want, sizeof(want), "%012" PRIx64 "-%012" PRIx64 " rw-p 00000000 00:00 0",
             pi.start_brk, brk0 + 8 * KiB);
    assert_int_equal(strlen(want), 47);
    memset(want + 47, ' ', 73 - 47);
    strcpy(want + 73, "[heap]");
    assert_line(text, want);
    /* ascending order: the heap (0x5555...) comes before 0x7f... */
    assert_true(find_line(text, want) < find_line(text, "7f0000000000-7f0000010000 rw-p 00000000 00:00 0 "));
    free(text);

    root = render_json(sim, VMSIM_REPORT_MAPS, 1);
    assert_true(json_is_array(root));
    assert_int_equal(json_array_size(root), nr_vmas);
    o = NULL;
    for (size_t i = 0; i < json_array_size(root); i++)
        if ((uint64_t)jint(json_array_get(root, i), "start") == VA_A)
            o = json_array_get(root, i);
    assert_non_null(o);
    assert_true((uint64_t)jint(o, "end") == VA_A + 64 * KiB);
    assert_string_equal(jstr(o, "perms"), "rw-p");
    assert_int_equal(jint(o, "offset"), 0);
    assert_string_equal(jstr(o, "name"), "");
    json_decref(root);

    /* a dead process's maps is empty, as a zombie's */
    assert_int_equal(vmsim_spawn(sim, 2, "gone", 0), 0);
    test_mmap_anon(sim, 2, 0, 4 * KiB, rw, 0);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    text = render(sim, VMSIM_REPORT_MAPS, 2);
    assert_string_equal(text, "");
    free(text);
}

/* The line of text whose start is `prefix`, into buf; asserts there is one. */
static void line_starting(const char *text, const char *prefix, char *buf, size_t len)
{
    for (size_t i = 0; line_at(text, i, buf, len); i++)
        if (strncmp(buf, prefix, strlen(prefix)) == 0)
            return;
    fail_msg("no line starting \"%s\" in:\n%s", prefix, text);
}

/* Shared anonymous memory and file mappings get Linux's names and made-up
 * but stable device and inode numbers (docs/reports.md). */
static void test_maps_shared_and_file(void **state)
{
    vmsim_t *sim = *state;
    const unsigned rw = VMSIM_PROT_READ | VMSIM_PROT_WRITE;
    vmsim_mmap_req_t shm = {.addr = VA_A, .len = 4 * KiB, .prot = rw,
                            .flags = VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED};
    vmsim_mmap_req_t file = {.addr = VA_A + 0x100000, .len = 8 * KiB, .prot = VMSIM_PROT_READ,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_FIXED, .file = "data.bin",
                             .offset = 4 * KiB};
    vmsim_vaddr_t got = 0;
    char *text, line[256], again[256];
    int rc;

    rc = vmsim_mmap(sim, 1, &shm, &got);
    if (rc == VMSIM_ENOTSUP)
        skip(); /* the core does not map shared memory yet */
    assert_int_equal(rc, 0);
    assert_int_equal(vmsim_file_create(sim, "data.bin", 64 * KiB, NULL, 0), 0);
    rc = vmsim_mmap(sim, 1, &file, &got);
    if (rc == VMSIM_ENOTSUP)
        skip();
    assert_int_equal(rc, 0);

    text = render(sim, VMSIM_REPORT_MAPS, 1);
    line_starting(text, "7f0000000000-7f0000001000 ", line, sizeof(line));
    assert_memory_equal(line, "7f0000000000-7f0000001000 rw-s 00000000 00:01 ", 46);
    assert_true(strlen(line) > 73);
    assert_true(line[71] == ' ' && line[72] == ' ' && line[73] != ' ');
    assert_string_equal(line + 73, "/dev/zero (deleted)");

    line_starting(text, "7f0000100000-7f0000102000 ", line, sizeof(line));
    /* offset 0x1000, fake sda1, a 7-digit inode, the name at column 73 */
    assert_memory_equal(line, "7f0000100000-7f0000102000 r--p 00001000 08:01 ", 46);
    assert_true(strlen(line) == 73 + strlen("data.bin"));
    for (int i = 46; i < 53; i++)
        assert_true(line[i] >= '0' && line[i] <= '9');
    assert_true(line[53] == ' ' && line[72] == ' ');
    assert_string_equal(line + 73, "data.bin");
    free(text);

    /* the inode is a function of the name: the same in another machine */
    {
        vmsim_t *other = test_sim_new(64 * MiB, VMSIM_PROFILE_LINUX);

        assert_int_equal(vmsim_file_create(other, "data.bin", 8 * KiB, NULL, 0), 0);
        file.addr = VA_A + 0x300000;
        file.offset = 0;
        assert_int_equal(vmsim_mmap(other, 1, &file, &got), 0);
        text = render(other, VMSIM_REPORT_MAPS, 1);
        line_starting(text, "7f0000300000-7f0000302000 ", again, sizeof(again));
        assert_memory_equal(again + 40, line + 40, 33);
        free(text);
        test_sim_free(other);
    }

    /* a tmpfs file under /dev/shm/ is on tmpfs's anonymous device 00:19 */
    {
        vmsim_mmap_req_t seg = {.addr = VA_A + 0x200000, .len = 8 * KiB, .prot = rw,
                                .flags = VMSIM_MAP_SHARED | VMSIM_MAP_FIXED,
                                .file = "/dev/shm/seg"};

        assert_int_equal(vmsim_file_create(sim, "/dev/shm/seg", 8 * KiB, NULL, 0), 0);
        assert_int_equal(vmsim_mmap(sim, 1, &seg, &got), 0);
        text = render(sim, VMSIM_REPORT_MAPS, 1);
        line_starting(text, "7f0000200000-7f0000202000 ", line, sizeof(line));
        assert_memory_equal(line, "7f0000200000-7f0000202000 rw-s 00000000 00:19 ", 46);
        assert_string_equal(line + 73, "/dev/shm/seg");
        free(text);
    }
}

/* ---- status ------------------------------------------------------------- */

static void test_status(void **state)
{
    vmsim_t *sim = *state;
    vmsim_vaddr_t va = test_mmap_anon(sim, 1, 0, 25 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);
    static const char *const order[] = {
        "Name:",   "State:",   "Pid:",    "PPid:",    "VmPeak:", "VmSize:", "VmHWM:",
        "VmRSS:",  "RssAnon:", "RssFile:", "RssShmem:", "VmData:", "VmStk:", "VmExe:",
        "VmLib:",  "VmPTE:",   "VmSwap:", "",         "#",       "minflt:", "majflt:",
    };
    vmsim_proc_info_t pi;
    char *text, line[256], want[64];
    json_t *root;

    test_touch(sim, 1, va, 25 * 4096, VMSIM_WRITE);
    pi = test_info(sim, 1);
    text = render(sim, VMSIM_REPORT_STATUS, 1);
    assert_int_equal(count_lines(text), sizeof(order) / sizeof(order[0]));
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        assert_true(line_at(text, i, line, sizeof(line)));
        if (strncmp(line, order[i], strlen(order[i])) != 0 || (order[i][0] == '\0' && line[0]))
            fail_msg("line %zu is \"%s\", want \"%s...\"", i, line, order[i]);
    }
    assert_line(text, "Name:\tinit");
    assert_line(text, "State:\tR (running)");
    assert_line(text, "Pid:\t1");
    assert_line(text, "PPid:\t0");
    /* 25 pages written: 100 kB resident, all anonymous, in a 100 kB mapping */
    assert_line(text, "VmRSS:\t     100 kB");
    assert_line(text, "VmHWM:\t     100 kB");
    assert_line(text, "RssAnon:\t     100 kB");
    assert_line(text, "RssFile:\t       0 kB");
    assert_line(text, "VmSize:\t     100 kB");
    /* one PDPT, one PD and one PT; the PML4 is not counted, as in Linux */
    assert_line(text, "VmPTE:\t      12 kB");
    assert_line(text, "VmSwap:\t       0 kB");
    assert_line(text, "# from /proc/1/stat (fields 10 and 12)");
    snprintf(want, sizeof(want), "minflt:\t%" PRIu64, pi.minflt);
    assert_line(text, want);
    assert_true(pi.minflt >= 25);
    assert_line(text, "majflt:\t0");
    free(text);

    root = render_json(sim, VMSIM_REPORT_STATUS, 1);
    assert_true(json_is_object(root));
    assert_string_equal(jstr(root, "Name"), "init");
    assert_string_equal(jstr(root, "State"), "R (running)");
    assert_int_equal(jint(root, "Pid"), 1);
    assert_int_equal(jint(root, "VmRSS"), 25 * 4096);
    assert_int_equal(jint(root, "RssAnon"), 25 * 4096);
    assert_true((uint64_t)jint(root, "minflt") == pi.minflt);
    json_decref(root);

    /* a dead process is a zombie: no memory lines */
    assert_int_equal(vmsim_spawn(sim, 2, "child", 0), 0);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    text = render(sim, VMSIM_REPORT_STATUS, 2);
    assert_line(text, "Name:\tchild");
    assert_line(text, "State:\tZ (zombie)");
    assert_no_substr(text, "VmRSS");
    assert_no_substr(text, "VmPeak");
    free(text);

    /* pid 0: every process, under head(1)-style headers */
    text = render(sim, VMSIM_REPORT_STATUS, 0);
    assert_true(line_at(text, 0, line, sizeof(line)));
    assert_string_equal(line, "==> /proc/1/status <==");
    assert_true(find_line(text, "==> /proc/2/status <==") > 0);
    assert_true(find_line(text, "State:\tZ (zombie)") > find_line(text, "==> /proc/2/status <=="));
    free(text);
    root = render_json(sim, VMSIM_REPORT_STATUS, 0);
    assert_true(json_is_array(root));
    assert_int_equal(json_array_size(root), 2);
    assert_string_equal(jstr(json_array_get(root, 1), "State"), "Z (zombie)");
    json_decref(root);
}

/* ---- page tables -------------------------------------------------------- */

/* The table frames, by level, the walk reports (the last one of each). */
struct tables_seen {
    vmsim_pfn_t pfn[4];
    int count[4];
};

static int collect_tables(void *ctx, const vmsim_pt_node_t *n)
{
    struct tables_seen *t = ctx;

    if (n->index < 0 && n->level >= 0 && n->level <= 3) {
        t->pfn[n->level] = n->table_pfn;
        t->count[n->level]++;
    }
    return 0;
}

static void test_pagetable_text(void **state)
{
    vmsim_t *sim = *state;
    const int nr = 8;
    vmsim_pte_info_t pte[8];
    struct tables_seen seen = {{0}, {0}};
    bool contiguous = true;
    char *text, want[256];

    mmap_fixed(sim, 1, VA_A, 64 * KiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    test_touch(sim, 1, VA_A, (uint64_t)nr * 4096, VMSIM_WRITE);
    for (int i = 0; i < nr; i++) {
        assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + (uint64_t)i * 4096, &pte[i]), 0);
        assert_int_equal(pte[i].level, 0);
        assert_true(pte[i].present);
        if (i > 0 && (pte[i].pfn != pte[i - 1].pfn + 1 || pte[i].entry != pte[i - 1].entry + 4096))
            contiguous = false;
    }
    assert_int_equal(vmsim_pagetable_walk(sim, 1, collect_tables, &seen), 0);
    for (int l = 0; l < 4; l++)
        assert_int_equal(seen.count[l], 1);

    text = render(sim, VMSIM_REPORT_PAGETABLE, 1);
    assert_line(text, "Page tables of pid 1 (init):");
    snprintf(want, sizeof(want), "PML4 table pfn 0x%" PRIx64 ", va 000000000000-ffffffffffff",
             seen.pfn[3]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "    PDPT table pfn 0x%" PRIx64 ", va 7f0000000000-7f7fffffffff",
             seen.pfn[2]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "        PD table pfn 0x%" PRIx64 ", va 7f0000000000-7f003fffffff",
             seen.pfn[1]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "            PT table pfn 0x%" PRIx64 ", va 7f0000000000-7f00001fffff",
             seen.pfn[0]);
    assert_line(text, want);
    /* the first page: index, raw entry, decoded flags, frame */
    snprintf(want, sizeof(want), "              [  0] %016" PRIx64 " P RW US A D ", pte[0].entry);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "4K page pfn 0x%" PRIx64 " at 7f0000000000\n", pte[0].pfn);
    assert_non_null(strstr(text, want));
    if (contiguous) {
        snprintf(want, sizeof(want),
                 "              ... 6 more entries [1]-[6]: 4K pages pfn 0x%" PRIx64
                 "-0x%" PRIx64 ", same flags",
                 pte[1].pfn, pte[6].pfn);
        assert_line(text, want);
    } else {
        for (int i = 1; i < nr - 1; i++) {
            snprintf(want, sizeof(want), "[%3d] %016" PRIx64 " ", i, pte[i].entry);
            assert_non_null(strstr(text, want));
        }
    }
    snprintf(want, sizeof(want), "              [  7] %016" PRIx64 " ", pte[7].entry);
    assert_non_null(strstr(text, want));
    assert_line(text, "Tables: 1 PML4, 1 PDPT, 1 PD, 1 PT (4 frames, 16 KiB)");
    assert_line(text, "Leaves: 8 x 4K, 0 x 2M, 0 x 1G present; 0 swap entries; 0 PROT_NONE");
    free(text);

    /* reads map the shared zero page: one run of the same frame */
    if (vmsim_config(sim)->zero_page) {
        vmsim_pte_info_t z;

        test_touch(sim, 1, VA_A + 8 * 4096, 6 * 4096, VMSIM_READ);
        assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + 8 * 4096, &z), 0);
        assert_true(z.present);
        for (int i = 9; i < 14; i++) {
            vmsim_pte_info_t o;

            assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + (uint64_t)i * 4096, &o), 0);
            assert_true(o.pfn == z.pfn && o.entry == z.entry);
        }
        text = render(sim, VMSIM_REPORT_PAGETABLE, 1);
        snprintf(want, sizeof(want),
                 "              [  8] %016" PRIx64 " P    US A      NX  4K page pfn 0x%" PRIx64
                 " (zero page) at 7f0000008000",
                 z.entry, z.pfn);
        assert_line(text, want);
        snprintf(want, sizeof(want),
                 "              ... 4 more entries [9]-[12]: the same 4K page pfn 0x%" PRIx64
                 " (zero page), same flags",
                 z.pfn);
        assert_line(text, want);
        snprintf(want, sizeof(want), "              [ 13] %016" PRIx64 " ", z.entry);
        assert_non_null(strstr(text, want));
        assert_line(text, "Leaves: 14 x 4K, 0 x 2M, 0 x 1G present; 0 swap entries; 0 PROT_NONE");
        free(text);
    }

    /* no tables for a dead process */
    assert_int_equal(vmsim_spawn(sim, 2, "gone", 0), 0);
    assert_int_equal(vmsim_exit(sim, 2), 0);
    {
        FILE *f = fopen("/dev/null", "w");

        assert_non_null(f);
        assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_PAGETABLE, 2, f), VMSIM_ESRCH);
        fclose(f);
    }
}

static void test_pagetable_json(void **state)
{
    vmsim_t *sim = *state;
    static const struct {
        const char *level;
        int index;
    } path[] = {{"PML4", 254}, {"PDPT", 0}, {"PD", 0}};
    vmsim_pte_info_t pte;
    json_t *root, *t, *e, *entries;
    char hex[32];

    mmap_fixed(sim, 1, VA_A, 64 * KiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    test_touch(sim, 1, VA_A, 3 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + 2 * 4096, &pte), 0);

    root = render_json(sim, VMSIM_REPORT_PAGETABLE, 1);
    assert_int_equal(jint(root, "pid"), 1);
    assert_int_equal(jint(json_object_get(root, "tables"), "PT"), 1);
    assert_int_equal(jint(json_object_get(root, "tables"), "PML4"), 1);
    assert_int_equal(jint(json_object_get(root, "pages"), "4K"), 3);
    t = json_object_get(root, "pml4");
    for (size_t i = 0; i < 3; i++) {
        assert_non_null(t);
        assert_string_equal(jstr(t, "level"), path[i].level);
        entries = json_object_get(t, "entries");
        assert_int_equal(json_array_size(entries), 1);
        e = json_array_get(entries, 0);
        assert_int_equal(jint(e, "index"), path[i].index);
        t = json_object_get(e, "table");
    }
    assert_string_equal(jstr(t, "level"), "PT");
    entries = json_object_get(t, "entries");
    assert_int_equal(json_array_size(entries), 3);
    e = json_array_get(entries, 2);
    assert_int_equal(jint(e, "index"), 2);
    assert_string_equal(jstr(e, "page"), "4K");
    assert_true((uint64_t)jint(e, "pfn") == pte.pfn);
    assert_true((uint64_t)jint(e, "va") == VA_A + 2 * 4096);
    snprintf(hex, sizeof(hex), "0x%016" PRIx64, pte.entry);
    assert_string_equal(jstr(e, "entry"), hex);
    assert_true(json_is_array(json_object_get(e, "flags")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "flags"), 0)), "P");
    json_decref(root);
}

static void test_pagetable_dot(void **state)
{
    vmsim_t *sim = *state;
    struct tables_seen seen = {{0}, {0}};
    char *text, want[128];
    int depth = 0, quotes = 0;
    size_t len;

    mmap_fixed(sim, 1, VA_A, 64 * KiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    test_touch(sim, 1, VA_A, 4 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_pagetable_walk(sim, 1, collect_tables, &seen), 0);

    text = render(sim, VMSIM_REPORT_PAGETABLE_DOT, 1);
    len = strlen(text);
    assert_memory_equal(text, "digraph ", 8);
    assert_true(len > 2 && strcmp(text + len - 2, "}\n") == 0);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            continue;
        }
        if (*p == '"')
            quotes ^= 1;
        else if (!quotes && *p == '{')
            depth++;
        else if (!quotes && *p == '}')
            assert_true(--depth >= 0);
    }
    assert_int_equal(quotes, 0);
    assert_int_equal(depth, 0);
    /* edges from the entry ports to the child tables */
    snprintf(want, sizeof(want), "  t%" PRIu64 ":e254 -> t%" PRIu64 ";", seen.pfn[3], seen.pfn[2]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "  t%" PRIu64 ":e0 -> t%" PRIu64 ";", seen.pfn[2], seen.pfn[1]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "  t%" PRIu64 ":e0 -> t%" PRIu64 ";", seen.pfn[1], seen.pfn[0]);
    assert_line(text, want);
    snprintf(want, sizeof(want), "  t%" PRIu64 " [label=\"PT pfn 0x%" PRIx64, seen.pfn[0],
             seen.pfn[0]);
    assert_non_null(strstr(text, want));
    free(text);

    /* every entry mapping the zero page points to one shared node */
    if (vmsim_config(sim)->zero_page) {
        vmsim_pte_info_t z;

        test_touch(sim, 1, VA_A + 4 * 4096, 4 * 4096, VMSIM_READ);
        test_touch(sim, 1, VA_A + 9 * 4096, 4096, VMSIM_READ);
        assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + 4 * 4096, &z), 0);
        text = render(sim, VMSIM_REPORT_PAGETABLE_DOT, 1);
        snprintf(want, sizeof(want),
                 "  f%" PRIu64 " [shape=box, label=\"4K page\\npfn 0x%" PRIx64
                 "\\n(zero page)\"];",
                 z.pfn, z.pfn);
        assert_line(text, want);
        snprintf(want, sizeof(want), "  t%" PRIu64 ":e4 -> f%" PRIu64 ";", seen.pfn[0], z.pfn);
        assert_line(text, want);
        snprintf(want, sizeof(want), "  t%" PRIu64 ":e9 -> f%" PRIu64 ";", seen.pfn[0], z.pfn);
        assert_line(text, want);
        assert_non_null(strstr(text, "|<e4> [4-7] 4K|<e9> [9] 4K\"];"));
        free(text);
    }

    /* Graphviz itself, when installed, must accept it. */
    if (system("command -v dot >/dev/null 2>&1") == 0) {
        FILE *p = popen("dot -Tsvg -o /dev/null", "w");

        assert_non_null(p);
        text = render(sim, VMSIM_REPORT_PAGETABLE_DOT, 1);
        fputs(text, p);
        free(text);
        assert_int_equal(pclose(p), 0);
    }
}

/* PROT_NONE over resident pages: not present to the MMU, still mapped. */
static void test_pagetable_protnone(void **state)
{
    vmsim_t *sim = *state;
    vmsim_pte_info_t pte;
    char *text, want[256];
    json_t *root, *e;

    mmap_fixed(sim, 1, VA_A, 64 * KiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    test_touch(sim, 1, VA_A, 8 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_mprotect(sim, 1, VA_A + 2 * 4096, 4 * 4096, VMSIM_PROT_NONE), 0);
    assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + 2 * 4096, &pte), 0);
    assert_true(pte.present);
    assert_false(pte.entry & VMSIM_PTE_P);

    text = render(sim, VMSIM_REPORT_PAGETABLE, 1);
    snprintf(want, sizeof(want),
             "              [  2] %016" PRIx64 " not present        PROT_NONE page pfn 0x%" PRIx64
             " at 7f0000002000",
             pte.entry, pte.pfn);
    assert_line(text, want);
    assert_line(text, "Leaves: 4 x 4K, 0 x 2M, 0 x 1G present; 0 swap entries; 4 PROT_NONE");
    free(text);

    root = render_json(sim, VMSIM_REPORT_PAGETABLE, 1);
    assert_int_equal(jint(json_object_get(root, "pages"), "protnone"), 4);
    e = json_object_get(root, "pml4");
    for (int i = 0; i < 3; i++)
        e = json_object_get(json_array_get(json_object_get(e, "entries"), 0), "table");
    assert_string_equal(jstr(e, "level"), "PT");
    e = json_array_get(json_object_get(e, "entries"), 2);
    assert_int_equal(jint(e, "index"), 2);
    assert_true(json_is_true(json_object_get(e, "protnone")));
    assert_true((uint64_t)jint(e, "pfn") == pte.pfn);
    assert_int_equal(json_array_size(json_object_get(e, "flags")), 0 + !!(pte.entry & VMSIM_PTE_RW) +
                     !!(pte.entry & VMSIM_PTE_US) + !!(pte.entry & VMSIM_PTE_A) +
                     !!(pte.entry & VMSIM_PTE_D) + !!(pte.entry & VMSIM_PTE_NX));
    json_decref(root);
}

/* A 2 MiB leaf: PS decoded in the PD, the leaf marked, the DOT node filled. */
static void test_pagetable_huge(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_pte_info_t pte;
    unsigned out = 0;
    char *text, want[256];
    json_t *root, *e;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 64 * MiB;
    cfg.thp = VMSIM_THP_ALWAYS;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
    mmap_fixed(sim, 1, VA_A, 2 * MiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    assert_int_equal(vmsim_access(sim, 1, VA_A, 1, VMSIM_WRITE, &out), 0);
    if (!(out & VMSIM_OUT_HUGE)) {
        test_sim_free(sim);
        skip(); /* the core does not allocate THPs yet */
    }
    assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A, &pte), 0);
    assert_int_equal(pte.level, 1);

    text = render(sim, VMSIM_REPORT_PAGETABLE, 1);
    snprintf(want, sizeof(want),
             "          [  0] %016" PRIx64 " P RW US A D PS NX  2M page pfn 0x%" PRIx64
             " at 7f0000000000 (huge leaf)",
             pte.entry, pte.pfn);
    assert_line(text, want);
    assert_line(text, "Leaves: 0 x 4K, 1 x 2M, 0 x 1G present; 0 swap entries; 0 PROT_NONE");
    assert_line(text, "Tables: 1 PML4, 1 PDPT, 1 PD, 0 PT (3 frames, 12 KiB)");
    free(text);

    text = render(sim, VMSIM_REPORT_PAGETABLE_DOT, 1);
    snprintf(want, sizeof(want),
             "  f%" PRIu64 " [shape=box, style=filled, fillcolor=orange, label=\"2M page\\npfn 0x%" PRIx64
             "\"];",
             pte.pfn, pte.pfn);
    assert_line(text, want);
    free(text);

    root = render_json(sim, VMSIM_REPORT_PAGETABLE, 1);
    assert_int_equal(jint(json_object_get(root, "pages"), "2M"), 1);
    e = json_object_get(root, "pml4");
    for (int i = 0; i < 2; i++)
        e = json_object_get(json_array_get(json_object_get(e, "entries"), 0), "table");
    assert_string_equal(jstr(e, "level"), "PD");
    e = json_array_get(json_object_get(e, "entries"), 0);
    assert_string_equal(jstr(e, "page"), "2M");
    assert_true((uint64_t)jint(e, "pfn") == pte.pfn);
    assert_null(json_object_get(e, "table"));
    json_decref(root);
    test_sim_free(sim);
}

/* ---- buddyinfo ---------------------------------------------------------- */

static void test_buddyinfo(void **state)
{
    vmsim_t *sim = *state;
    uint64_t nr[19];
    char *text, line[512], want[512];
    size_t at;
    json_t *root;

    vmsim_buddyinfo(sim, nr);
    text = render(sim, VMSIM_REPORT_BUDDYINFO, 0);
    assert_int_equal(count_lines(text), 2);
    assert_true(line_at(text, 0, line, sizeof(line)));
    /* "Node 0, zone   Normal " then "%6lu " for orders 0..10 */
    assert_int_equal(strlen(line), 22 + 11 * 7);
    at = (size_t)snprintf(want, sizeof(want), "Node 0, zone   Normal ");
    for (int o = 0; o <= 10; o++)
        at += (size_t)snprintf(want + at, sizeof(want) - at, "%6" PRIu64 " ", nr[o]);
    assert_string_equal(line, want);
    assert_true(line_at(text, 1, line, sizeof(line)));
    assert_memory_equal(line, "Orders 11-18 ", 13);
    for (int o = 11; o <= 18; o++) {
        uint64_t got = strtoull(line + strlen(line) - (size_t)(19 - o) * 7, NULL, 10);

        assert_true(got == nr[o]);
    }
    free(text);

    root = render_json(sim, VMSIM_REPORT_BUDDYINFO, 0);
    assert_true(json_is_array(root));
    assert_int_equal(json_array_size(root), 19);
    for (size_t o = 0; o < 19; o++)
        assert_true((uint64_t)json_integer_value(json_array_get(root, o)) == nr[o]);
    json_decref(root);
}

/* ---- summary ------------------------------------------------------------ */

static void test_summary(void **state)
{
    vmsim_t *sim = *state;
    vmsim_vaddr_t va = test_mmap_anon(sim, 1, 0, 16 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0);
    static const char *const keys[] = {"pid", "name", "alive", "signal", "oom_killed",
                                       "minflt", "majflt", "rss", "vmsize", "swap", "pte"};
    vmsim_proc_info_t p1, p2;
    vmsim_tlb_stats_t tlb;
    unsigned out = 0;
    char *text, line[256], want[256];
    json_t *root, *procs, *o, *t;
    long head;

    test_touch(sim, 1, va, 16 * 4096, VMSIM_WRITE);
    assert_int_equal(vmsim_spawn(sim, 2, "victim", 0), 0);
    assert_int_equal(vmsim_access(sim, 2, 0x1000, 1, VMSIM_READ, &out), 0);
    assert_true(out & VMSIM_OUT_SEGV);
    p1 = test_info(sim, 1);
    p2 = test_info(sim, 2);
    assert_false(p2.alive);
    vmsim_tlb_stats(sim, &tlb);

    text = render(sim, VMSIM_REPORT_SUMMARY, 0);
    head = -1;
    for (size_t i = 0; line_at(text, i, line, sizeof(line)); i++) {
        if (strstr(line, "PID") != NULL && strstr(line, "MINFLT") != NULL) {
            head = (long)i;
            break;
        }
    }
    assert_true(head >= 0);
    assert_true(line_at(text, (size_t)head, line, sizeof(line)));
    {
        static const char *const cols[] = {"PID", "NAME", "STATE", "MINFLT", "MAJFLT", "COW",
                                           "VmHWM", "VmPeak", "VmPTE", "VmSwap", "OOM"};
        const char *p = line;

        for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
            p = strstr(p, cols[i]);
            if (p == NULL)
                fail_msg("column %s missing or out of order in \"%s\"", cols[i], line);
        }
    }
    /* pid 1's row, then pid 2's: name, state and minflt */
    assert_true(line_at(text, (size_t)head + 1, line, sizeof(line)));
    {
        char name[32], st[32];
        int pid;
        unsigned long long minflt;

        assert_int_equal(sscanf(line, "%d %31s %31s %llu", &pid, name, st, &minflt), 4);
        assert_int_equal(pid, 1);
        assert_string_equal(name, "init");
        assert_string_equal(st, "alive");
        assert_true(minflt == p1.minflt);
        assert_true(line_at(text, (size_t)head + 2, line, sizeof(line)));
        assert_int_equal(sscanf(line, "%d %31s %31s", &pid, name, st), 3);
        assert_int_equal(pid, 2);
        assert_string_equal(name, "victim");
        assert_string_equal(st, "SIGSEGV");
    }
    /* the two rows and the header are aligned: same length */
    {
        char a[256], b[256];

        assert_true(line_at(text, (size_t)head, a, sizeof(a)));
        assert_true(line_at(text, (size_t)head + 1, b, sizeof(b)));
        assert_int_equal(strlen(a) - strlen("OOM"), strlen(b) - strlen("no"));
    }
    snprintf(want, sizeof(want), "  %-14s%" PRIu64, "pgfault", test_vmstat(sim, "pgfault"));
    assert_line(text, want);
    snprintf(want, sizeof(want), "  %-14s%" PRIu64 " kB", "MemTotal",
             test_meminfo(sim, "MemTotal") / 1024);
    assert_line(text, want);
    free(text);

    root = render_json(sim, VMSIM_REPORT_SUMMARY, 0);
    assert_true(json_is_object(json_object_get(root, "vmstat")));
    assert_true(json_is_object(json_object_get(root, "meminfo")));
    assert_int_equal(json_object_size(json_object_get(root, "vmstat")), VMSIM_VMSTAT__COUNT);
    assert_int_equal(json_object_size(json_object_get(root, "meminfo")), VMSIM_MEMINFO__COUNT);
    assert_true((uint64_t)jint(json_object_get(root, "vmstat"), "pgfault") ==
                test_vmstat(sim, "pgfault"));
    assert_true((uint64_t)jint(json_object_get(root, "meminfo"), "MemTotal") ==
                test_meminfo(sim, "MemTotal"));
    t = json_object_get(root, "tlb");
    assert_true((uint64_t)jint(t, "hits") == tlb.hits);
    assert_true((uint64_t)jint(t, "misses") == tlb.misses);
    assert_true((uint64_t)jint(t, "walks") == tlb.walks);
    assert_true((uint64_t)jint(root, "time_ns") == vmsim_time_ns(sim));
    assert_true(json_is_false(json_object_get(root, "panic")));
    procs = json_object_get(root, "processes");
    assert_int_equal(json_array_size(procs), 2);
    o = json_array_get(procs, 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(o, keys[i]) == NULL)
            fail_msg("processes[0] has no \"%s\"", keys[i]);
    assert_int_equal(jint(o, "pid"), 1);
    assert_string_equal(jstr(o, "name"), "init");
    assert_true(json_is_true(json_object_get(o, "alive")));
    assert_true(json_is_null(json_object_get(o, "signal")));
    assert_true(json_is_false(json_object_get(o, "oom_killed")));
    assert_true((uint64_t)jint(o, "minflt") == p1.minflt);
    assert_true((uint64_t)jint(o, "majflt") == p1.majflt);
    assert_int_equal(jint(o, "rss"), 16 * 4096);
    assert_true((uint64_t)jint(o, "rss") == p1.vmrss);
    assert_true((uint64_t)jint(o, "vmsize") == p1.vmsize);
    assert_true((uint64_t)jint(o, "swap") == p1.vmswap);
    assert_true((uint64_t)jint(o, "pte") == p1.vmpte);
    o = json_array_get(procs, 1);
    assert_int_equal(jint(o, "pid"), 2);
    assert_true(json_is_false(json_object_get(o, "alive")));
    assert_string_equal(jstr(o, "signal"), "SIGSEGV");
    assert_string_equal(jstr(o, "si_code"), "SEGV_MAPERR");
    json_decref(root);

    /* one pid: only that process */
    root = render_json(sim, VMSIM_REPORT_SUMMARY, 2);
    procs = json_object_get(root, "processes");
    assert_int_equal(json_array_size(procs), 1);
    assert_int_equal(jint(json_array_get(procs, 0), "pid"), 2);
    json_decref(root);
}

/* Swap entries in the dump, and an OOM-killed process in the summary. */
static void test_swap_and_oom(void **state)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    vmsim_pte_info_t pte, first_swap = {.level = -1};
    vmsim_proc_info_t pi;
    uint64_t nr_present = 0, nr_swap = 0;
    unsigned out = 0;
    int rc = 0, first_index = -1;
    vmsim_vaddr_t hog;
    char *text, want[256];
    json_t *root, *o;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 16 * MiB;
    cfg.swap = 8 * MiB;
    cfg.resident_limit = 16 * 4096;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
    mmap_fixed(sim, 1, VA_A, 32 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
               VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED);
    test_touch(sim, 1, VA_A, 32 * 4096, VMSIM_WRITE);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(vmsim_pte_lookup(sim, 1, VA_A + (uint64_t)i * 4096, &pte), 0);
        nr_present += pte.present;
        nr_swap += pte.swap;
        if (pte.swap && first_index < 0) {
            first_index = i;
            first_swap = pte;
        }
    }
    assert_true(nr_swap > 0); /* 32 pages under a 16-page limit */
    assert_true(first_index >= 0);

    text = render(sim, VMSIM_REPORT_PAGETABLE, 1);
    snprintf(want, sizeof(want),
             "              [%3d] %016" PRIx64 " not present        swapped out: slot %" PRIu64
             " (page at %012" PRIx64 ")",
             first_index, first_swap.entry, first_swap.swap_slot,
             VA_A + (uint64_t)first_index * 4096);
    assert_line(text, want);
    snprintf(want, sizeof(want),
             "Leaves: %" PRIu64 " x 4K, 0 x 2M, 0 x 1G present; %" PRIu64
             " swap entries; 0 PROT_NONE",
             nr_present, nr_swap);
    assert_line(text, want);
    free(text);

    pi = test_info(sim, 1);
    assert_true(pi.vmswap == nr_swap * 4096);
    text = render(sim, VMSIM_REPORT_STATUS, 1);
    snprintf(want, sizeof(want), "VmSwap:\t%8" PRIu64 " kB", nr_swap * 4);
    assert_line(text, want);
    free(text);

    /* a hog with no swap left is killed by the OOM killer */
    assert_int_equal(vmsim_spawn(sim, 2, "hog", 0), 0);
    hog = test_mmap_anon(sim, 2, 0, 64 * MiB, VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                         VMSIM_MAP_NORESERVE);
    for (uint64_t off = 0; off < 64 * MiB && rc == 0 && test_info(sim, 2).alive; off += 4096)
        rc = vmsim_access(sim, 2, hog + off, 1, VMSIM_WRITE, &out);
    assert_int_equal(rc, 0);
    pi = test_info(sim, 2);
    assert_false(pi.alive);
    assert_true(pi.oom_killed);

    text = render(sim, VMSIM_REPORT_SUMMARY, 0);
    {
        char line[256], name[32], st[32];
        long at = -1;
        int pid;

        for (size_t i = 0; line_at(text, i, line, sizeof(line)); i++)
            if (sscanf(line, "%d %31s %31s", &pid, name, st) == 3 && pid == 2)
                at = (long)i;
        assert_true(at >= 0);
        assert_true(line_at(text, (size_t)at, line, sizeof(line)));
        assert_string_equal(name, "hog");
        assert_string_equal(st, "SIGKILL");
        assert_true(strlen(line) > 4 && strcmp(line + strlen(line) - 5, "  yes") == 0);
    }
    snprintf(want, sizeof(want), "  %-14s%" PRIu64, "oom_kill", test_vmstat(sim, "oom_kill"));
    assert_line(text, want);
    assert_true(test_vmstat(sim, "oom_kill") >= 1);
    free(text);

    root = render_json(sim, VMSIM_REPORT_SUMMARY, 2);
    o = json_array_get(json_object_get(root, "processes"), 0);
    assert_int_equal(jint(o, "pid"), 2);
    assert_true(json_is_false(json_object_get(o, "alive")));
    assert_true(json_is_true(json_object_get(o, "oom_killed")));
    assert_string_equal(jstr(o, "signal"), "SIGKILL");
    assert_true((uint64_t)jint(json_object_get(root, "vmstat"), "pswpout") ==
                test_vmstat(sim, "pswpout"));
    json_decref(root);
    test_sim_free(sim);
}

/* ---- host out of memory --------------------------------------------------- */

struct failing {
    bool fail;
    unsigned refused;
};

static void *failing_malloc(void *ctx, size_t size)
{
    struct failing *f = ctx;

    if (f->fail) {
        f->refused++;
        return NULL;
    }
    return malloc(size);
}

static void *failing_calloc(void *ctx, size_t n, size_t size)
{
    struct failing *f = ctx;

    if (f->fail) {
        f->refused++;
        return NULL;
    }
    return calloc(n, size);
}

static void *failing_realloc(void *ctx, void *p, size_t size)
{
    struct failing *f = ctx;

    if (f->fail) {
        f->refused++;
        return NULL;
    }
    return realloc(p, size);
}

static void failing_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* With the instance allocator refusing, reports fail with VMSIM_ENOMEM
 * and leave *out alone. */
static void test_enomem(void **state)
{
    struct failing fa = {false, 0};
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;
    char *text = (char *)"untouched";
    FILE *f;

    (void)state;
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 16 * MiB;
    cfg.alloc = (vmsim_allocator_t){failing_malloc, failing_calloc, failing_realloc,
                                    failing_free, &fa};
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
    test_touch(sim, 1, test_mmap_anon(sim, 1, 0, 4 * 4096, VMSIM_PROT_READ | VMSIM_PROT_WRITE, 0),
               4 * 4096, VMSIM_WRITE);

    fa.fail = true;
    assert_int_equal(vmsim_report_json(sim, VMSIM_REPORT_FREE, 0, &text), VMSIM_ENOMEM);
    assert_string_equal(text, "untouched");
    f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_STATUS, 0, f), VMSIM_ENOMEM);
    assert_int_equal(vmsim_report_write(sim, VMSIM_REPORT_PAGETABLE_DOT, 1, f), VMSIM_ENOMEM);
    fclose(f);
    assert_true(fa.refused >= 3);
    fa.fail = false;

    assert_int_equal(vmsim_report_json(sim, VMSIM_REPORT_FREE, 0, &text), 0);
    vmsim_free(sim, text);
    test_sim_free(sim);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_from_name),
        T(test_bad_arguments),
        T(test_write_error),
        T(test_free_report),
        T(test_meminfo_report),
        T(test_vmstat_report),
        T(test_maps),
        T(test_maps_shared_and_file),
        T(test_status),
        T(test_pagetable_text),
        T(test_pagetable_json),
        T(test_pagetable_dot),
        T(test_pagetable_protnone),
        cmocka_unit_test(test_pagetable_huge),
        T(test_buddyinfo),
        T(test_summary),
        cmocka_unit_test(test_swap_and_oom),
        cmocka_unit_test(test_enomem),
    };
#undef T
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
