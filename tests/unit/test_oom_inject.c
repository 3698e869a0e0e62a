/*
 * test_oom_inject.c -- host allocation-failure injection.
 *
 * vmsim_config_t.alloc is a per-instance allocator. The allocator here
 * fails exactly one call, the k-th (0-based) host allocation of a run, and
 * counts live blocks. Each scenario is run for k = 0, 1, 2, ... until a run
 * completes without reaching the k-th allocation. Each time:
 *
 *  - every library call returns 0, a positive simulated errno (VMSIM_SYS_*)
 *    or a negative VMSIM_E* -- never a crash (ASan/UBSan builds catch
 *    memory errors on the error paths);
 *  - vmsim_check() holds afterwards when the machine exists (the
 *    injection is disarmed for the check itself);
 *  - after vmsim_destroy (or a failed vmsim_create) no block is live.
 *
 * The scenarios keep going after a failed call: later calls on a machine
 * that absorbed a failure must be as clean as the first.
 *
 * OOM_INJECT_VERBOSE=1 prints, per scenario, how many k were tried.
 */
#include "test_util.h"

/* ---- the failing allocator ---------------------------------------------- */

struct fa {
    int64_t k;        /* the call to fail (0-based); -1: none */
    int64_t calls;    /* allocation calls so far */
    int64_t live;     /* blocks allocated and not freed */
    bool hit;         /* the k-th call happened (and failed) */
};

static bool fa_fail(struct fa *f)
{
    int64_t n = f->calls++;

    if (f->k >= 0 && n == f->k) {
        f->hit = true;
        return true;
    }
    return false;
}

static void *fa_malloc(void *ctx, size_t size)
{
    struct fa *f = ctx;
    void *p;

    if (fa_fail(f))
        return NULL;
    p = malloc(size ? size : 1);
    if (p != NULL)
        f->live++;
    return p;
}

static void *fa_calloc(void *ctx, size_t n, size_t size)
{
    struct fa *f = ctx;
    void *p;

    if (fa_fail(f))
        return NULL;
    p = calloc(n ? n : 1, size ? size : 1);
    if (p != NULL)
        f->live++;
    return p;
}

static void *fa_realloc(void *ctx, void *ptr, size_t size)
{
    struct fa *f = ctx;
    void *p;

    if (fa_fail(f))
        return NULL; /* ptr stays valid, as realloc's */
    p = realloc(ptr, size ? size : 1);
    if (p != NULL && ptr == NULL)
        f->live++;
    return p;
}

static void fa_free(void *ctx, void *ptr)
{
    struct fa *f = ctx;

    if (ptr == NULL)
        return;
    f->live--;
    free(ptr);
}

/* ---- clean results -------------------------------------------------------- */

struct ctx {
    vmsim_t *sim;
    struct fa *fa;
    const char *scenario;
    int64_t k;
    int line;             /* of the last call made */
};

/* 0, a positive simulated errno, or a negative VMSIM_E*. */
static void clean(struct ctx *c, int rc, int line, const char *what)
{
    c->line = line;
    if (rc == 0 || (rc > 0 && rc < 134) || (rc < 0 && rc >= VMSIM_ENOTSUP))
        return;
    fail_msg("%s, k=%lld: %s (line %d) returned %d", c->scenario, (long long)c->k, what, line,
             rc);
}

#define CALL(c, expr) clean((c), (expr), __LINE__, #expr)

#define RW (VMSIM_PROT_READ | VMSIM_PROT_WRITE)

static vmsim_vaddr_t map(struct ctx *c, vmsim_pid_t pid, vmsim_vaddr_t hint, uint64_t len,
                         unsigned flags, const char *file, int line)
{
    vmsim_mmap_req_t req = { .addr = hint, .len = len, .prot = RW, .flags = flags,
                             .file = file };
    vmsim_vaddr_t va = 0;
    int rc = vmsim_mmap(c->sim, pid, &req, &va);

    clean(c, rc, line, "vmsim_mmap");
    return rc == 0 ? va : 0;
}

#define MAP(c, pid, hint, len, flags, file) map((c), (pid), (hint), (len), (flags), (file), __LINE__)
#define ANON (VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS)

/* Touch [va, va+len) every 4 KiB. va 0 (a failed mmap): nothing. */
static void touch(struct ctx *c, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t len,
                  vmsim_access_kind kind, int line)
{
    if (va == 0)
        return;
    for (uint64_t off = 0; off < len; off += 4096) {
        unsigned out = 0;

        clean(c, vmsim_access(c->sim, pid, va + off, 1, kind, &out), line, "vmsim_access");
    }
}

#define TOUCH(c, pid, va, len, kind) touch((c), (pid), (va), (len), (kind), __LINE__)

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 12));
}

/* ---- scenarios ------------------------------------------------------------- */

typedef struct scenario {
    const char *name;
    void (*config)(vmsim_config_t *cfg);
    void (*run)(struct ctx *c);
} scenario_t;

static void cfg_small(vmsim_config_t *cfg)
{
    cfg->memory = 4 * MiB;
    cfg->thp = VMSIM_THP_NEVER;
}

/* create + spawn + mmap + touch, munmap and mprotect that split, exit */
static void sc_basic(struct ctx *c)
{
    vmsim_vaddr_t a, b;

    CALL(c, vmsim_spawn(c->sim, 1, "init", 0));
    a = MAP(c, 1, 0, 64 * 4096, ANON, NULL);
    TOUCH(c, 1, a, 64 * 4096, VMSIM_WRITE);
    b = MAP(c, 1, 0, 16 * 4096, ANON, NULL);
    TOUCH(c, 1, b, 16 * 4096, VMSIM_READ);
    if (a != 0) {
        CALL(c, vmsim_mprotect(c->sim, 1, a + 8 * 4096, 8 * 4096, VMSIM_PROT_READ));
        CALL(c, vmsim_munmap(c->sim, 1, a + 32 * 4096, 4 * 4096));
        TOUCH(c, 1, a, 8 * 4096, VMSIM_READ);
    }
    CALL(c, vmsim_spawn(c->sim, 2, "two", 0));
    TOUCH(c, 2, MAP(c, 2, 0, 8 * 4096, ANON | VMSIM_MAP_POPULATE, NULL), 8 * 4096, VMSIM_READ);
    CALL(c, vmsim_exec(c->sim, 2, "exec"));
    CALL(c, vmsim_exit(c->sim, 1));
}

static void cfg_data(vmsim_config_t *cfg)
{
    cfg->memory = 4 * MiB;
    cfg->thp = VMSIM_THP_NEVER;
    cfg->track_data = true;
}

/* fork + COW of anonymous, shared anonymous and a grandchild */
static void sc_fork_cow(struct ctx *c)
{
    uint8_t buf[3 * 4096], back[3 * 4096];
    vmsim_vaddr_t a, s;
    unsigned out;

    fill(buf, sizeof(buf), 1);
    CALL(c, vmsim_spawn(c->sim, 1, "parent", 0));
    a = MAP(c, 1, 0, 32 * 4096, ANON, NULL);
    s = MAP(c, 1, 0, 8 * 4096, VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS, NULL);
    if (a != 0)
        CALL(c, vmsim_write_data(c->sim, 1, a + 100, buf, sizeof(buf), &out));
    TOUCH(c, 1, a, 32 * 4096, VMSIM_WRITE);
    TOUCH(c, 1, s, 8 * 4096, VMSIM_WRITE);
    CALL(c, vmsim_fork(c->sim, 1, 2));
    TOUCH(c, 2, a, 16 * 4096, VMSIM_WRITE);
    TOUCH(c, 1, a + 16 * 4096, 16 * 4096, VMSIM_WRITE);
    TOUCH(c, 2, s, 8 * 4096, VMSIM_WRITE);
    if (a != 0) {
        CALL(c, vmsim_read_data(c->sim, 2, a + 100, back, sizeof(back), &out));
        CALL(c, vmsim_write_data(c->sim, 2, a + 4096, buf, 4096, &out));
    }
    CALL(c, vmsim_fork(c->sim, 2, 3));
    TOUCH(c, 3, a, 32 * 4096, VMSIM_WRITE);
    if (a != 0)
        CALL(c, vmsim_munmap(c->sim, 2, a + 4 * 4096, 4 * 4096));
    CALL(c, vmsim_exit(c->sim, 1));
    TOUCH(c, 3, a, 32 * 4096, VMSIM_READ);
    CALL(c, vmsim_exec(c->sim, 3, "sh"));
    CALL(c, vmsim_exit(c->sim, 2));
}

/* files: create, private and shared maps, read(), write(), msync, tmpfs */
static void sc_file(struct ctx *c)
{
    static uint8_t data[40 * 4096], back[40 * 4096];
    vmsim_vaddr_t p, s, t;
    uint64_t done;
    unsigned out;

    fill(data, sizeof(data), 2);
    CALL(c, vmsim_spawn(c->sim, 1, "io", 0));
    CALL(c, vmsim_file_create(c->sim, "f", sizeof(data), data, sizeof(data)));
    CALL(c, vmsim_file_create(c->sim, "/dev/shm/s", 16 * 4096, NULL, 0));
    CALL(c, vmsim_file_read(c->sim, 1, "f", 0, sizeof(data), back, &done));
    CALL(c, vmsim_file_write(c->sim, 1, "f", 5 * 4096 + 17, 3 * 4096, data));
    CALL(c, vmsim_file_write(c->sim, 1, "f", sizeof(data) + 4096, 4096, data)); /* grows */
    p = MAP(c, 1, 0, 40 * 4096, VMSIM_MAP_PRIVATE, "f");
    s = MAP(c, 1, 0, 40 * 4096, VMSIM_MAP_SHARED, "f");
    t = MAP(c, 1, 0, 16 * 4096, VMSIM_MAP_SHARED, "/dev/shm/s");
    TOUCH(c, 1, p, 40 * 4096, VMSIM_READ);
    TOUCH(c, 1, p, 10 * 4096, VMSIM_WRITE);
    TOUCH(c, 1, s, 20 * 4096, VMSIM_WRITE);
    TOUCH(c, 1, t, 16 * 4096, VMSIM_WRITE);
    if (s != 0) {
        CALL(c, vmsim_write_data(c->sim, 1, s + 3, data, 2 * 4096, &out));
        CALL(c, vmsim_msync(c->sim, 1, s, 40 * 4096));
    }
    CALL(c, vmsim_fork(c->sim, 1, 2));
    TOUCH(c, 2, s, 40 * 4096, VMSIM_READ);
    TOUCH(c, 2, p, 40 * 4096, VMSIM_WRITE);
    CALL(c, vmsim_file_read(c->sim, 2, "f", 4096, 20 * 4096, back, &done));
    CALL(c, vmsim_file_read(c->sim, 2, "/dev/shm/s", 0, 16 * 4096, back, &done));
    CALL(c, vmsim_sysctl_set(c->sim, "vm.drop_caches", "3"));
    CALL(c, vmsim_file_read(c->sim, 1, "f", 0, sizeof(back), back, &done));
    CALL(c, vmsim_file_create(c->sim, "g", 8 * 4096, data, 8 * 4096));
    CALL(c, vmsim_file_write(c->sim, 2, "g", 0, 4096, data));
    CALL(c, vmsim_exit(c->sim, 1));
    CALL(c, vmsim_exit(c->sim, 2));
}

static void cfg_swap(vmsim_config_t *cfg)
{
    cfg->memory = 1 * MiB;
    cfg->swap = 4 * MiB;
    cfg->thp = VMSIM_THP_NEVER;
    cfg->track_data = true;
    cfg->page_cluster = 2;
}

/* swap under pressure with track_data: swap-out, swap-in, readahead,
 * PAGEOUT, fork of swapped pages, swapoff */
static void sc_swap(struct ctx *c)
{
    uint8_t buf[4096], back[4096];
    vmsim_vaddr_t a, b;
    unsigned out;

    CALL(c, vmsim_spawn(c->sim, 1, "big", 0));
    a = MAP(c, 1, 0, 400 * 4096, ANON, NULL);
    if (a != 0)
        for (unsigned i = 0; i < 400; i += 3) {
            fill(buf, sizeof(buf), i);
            CALL(c, vmsim_write_data(c->sim, 1, a + (uint64_t)i * 4096, buf, 64, &out));
        }
    TOUCH(c, 1, a, 400 * 4096, VMSIM_READ);
    if (a != 0) {
        CALL(c, vmsim_madvise(c->sim, 1, a, 64 * 4096, VMSIM_MADV_PAGEOUT));
        CALL(c, vmsim_read_data(c->sim, 1, a + 3 * 4096, back, 64, &out));
    }
    CALL(c, vmsim_fork(c->sim, 1, 2));
    TOUCH(c, 2, a, 100 * 4096, VMSIM_WRITE);
    b = MAP(c, 2, 0, 64 * 4096, VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS, NULL);
    TOUCH(c, 2, b, 64 * 4096, VMSIM_WRITE);
    TOUCH(c, 1, a, 400 * 4096, VMSIM_READ);
    CALL(c, vmsim_exit(c->sim, 1));
    CALL(c, vmsim_swapoff(c->sim));
    TOUCH(c, 2, a, 400 * 4096, VMSIM_READ);
    CALL(c, vmsim_exit(c->sim, 2));
}

static void cfg_thp(vmsim_config_t *cfg)
{
    cfg->memory = 16 * MiB;
    cfg->swap = 8 * MiB;
    cfg->thp = VMSIM_THP_ALWAYS;
    cfg->track_data = true;
}

/* THP fault, split by munmap and mprotect, fork of a THP, khugepaged,
 * MADV_COLLAPSE, swap-out of a THP */
static void sc_thp(struct ctx *c)
{
    uint8_t buf[4096];
    vmsim_vaddr_t a, b;
    unsigned out;

    fill(buf, sizeof(buf), 3);
    CALL(c, vmsim_spawn(c->sim, 1, "thp", 0));
    a = MAP(c, 1, 0x40000000, 6 * MiB, ANON, NULL);
    b = MAP(c, 1, 0x80000000, 4 * MiB, ANON, NULL);
    TOUCH(c, 1, a, 6 * MiB, VMSIM_WRITE);
    if (a != 0) {
        CALL(c, vmsim_write_data(c->sim, 1, a + 2 * MiB + 5, buf, sizeof(buf), &out));
        CALL(c, vmsim_fork(c->sim, 1, 2));
        CALL(c, vmsim_write_data(c->sim, 2, a + 2 * MiB + 4096, buf, 100, &out));
        CALL(c, vmsim_munmap(c->sim, 1, a + 4096, 4096));            /* splits */
        CALL(c, vmsim_mprotect(c->sim, 1, a + 2 * MiB + 8192, 4096, VMSIM_PROT_READ));
        CALL(c, vmsim_munmap(c->sim, 2, a + 4 * MiB, 2 * MiB));        /* aligned */
        CALL(c, vmsim_madvise(c->sim, 2, a + 3 * MiB, 4096, VMSIM_MADV_DONTNEED));
    }
    if (b != 0) {
        for (uint64_t off = 0; off < 4 * MiB; off += 8192)
            CALL(c, vmsim_access(c->sim, 1, b + off, 1, VMSIM_WRITE, &out));
        CALL(c, vmsim_madvise(c->sim, 1, b, 4 * MiB, VMSIM_MADV_NOHUGEPAGE));
        CALL(c, vmsim_madvise(c->sim, 1, b, 4 * MiB, VMSIM_MADV_HUGEPAGE));
        CALL(c, vmsim_madvise(c->sim, 1, b, 2 * MiB, VMSIM_MADV_COLLAPSE));
    }
    CALL(c, vmsim_khugepaged(c->sim, 0));
    if (a != 0)
        CALL(c, vmsim_madvise(c->sim, 1, a, 2 * MiB, VMSIM_MADV_PAGEOUT));
    TOUCH(c, 2, a, 4 * MiB, VMSIM_READ);
    CALL(c, vmsim_exit(c->sim, 2));
    CALL(c, vmsim_khugepaged(c->sim, 1));
    CALL(c, vmsim_exit(c->sim, 1));
}

/* hugetlb: a fork that fails on a host allocation once left the pool's
 * reservation count underflowed (the child's hugetlb VMAs were marked
 * NORESERVE only as they were copied; fixed in vmsim_fork). */
#if 1
static void cfg_hugetlb(vmsim_config_t *cfg)
{
    cfg->memory = 16 * MiB;
    cfg->hugepages_2m = 3;
    cfg->track_data = true;
}

/* hugetlb: MAP_HUGETLB private and shared, fork and COW, munmap */
static void sc_hugetlb(struct ctx *c)
{
    uint8_t buf[256];
    vmsim_vaddr_t a, s;
    unsigned out;

    fill(buf, sizeof(buf), 4);
    CALL(c, vmsim_spawn(c->sim, 1, "huge", 0));
    a = MAP(c, 1, 0, 2 * MiB, ANON | VMSIM_MAP_HUGETLB, NULL);
    s = MAP(c, 1, 0, 2 * MiB, VMSIM_MAP_SHARED | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_HUGETLB, NULL);
    if (a != 0)
        CALL(c, vmsim_write_data(c->sim, 1, a + 10, buf, sizeof(buf), &out));
    if (s != 0)
        CALL(c, vmsim_write_data(c->sim, 1, s + 10, buf, sizeof(buf), &out));
    CALL(c, vmsim_fork(c->sim, 1, 2));
    if (a != 0)
        CALL(c, vmsim_write_data(c->sim, 2, a + 4096, buf, sizeof(buf), &out)); /* COW */
    TOUCH(c, 2, s, 2 * MiB, VMSIM_WRITE);
    CALL(c, vmsim_exit(c->sim, 1));
    if (a != 0)
        CALL(c, vmsim_munmap(c->sim, 2, a, 2 * MiB));
    CALL(c, vmsim_exit(c->sim, 2));
}

#endif

static void cfg_heap(vmsim_config_t *cfg)
{
    cfg->memory = 8 * MiB;
    cfg->thp = VMSIM_THP_NEVER;
    cfg->track_data = true;
}

/* the simulated heap: small, large (mmapped) and realloc'd blocks */
static void sc_heap(struct ctx *c)
{
    vmsim_vaddr_t p[24] = { 0 }, q = 0, big = 0;
    static const uint64_t sizes[] = { 16, 24, 100, 512, 1000, 4000, 9000, 40, 70000, 200 };

    CALL(c, vmsim_spawn(c->sim, 1, "heap", 0));
    for (int i = 0; i < 24; i++)
        CALL(c, vmsim_heap_malloc(c->sim, 1, sizes[i % 10], &p[i]));
    for (int i = 0; i < 24; i += 2) {
        CALL(c, vmsim_heap_free(c->sim, 1, p[i]));
        p[i] = 0;
    }
    CALL(c, vmsim_heap_calloc(c->sim, 1, 30, 100, &q));
    CALL(c, vmsim_heap_malloc(c->sim, 1, 300 * 1024, &big));
    if (p[1] != 0)
        CALL(c, vmsim_heap_realloc(c->sim, 1, p[1], 5000, &p[1]));
    if (big != 0)
        CALL(c, vmsim_heap_realloc(c->sim, 1, big, 600 * 1024, &big));
    CALL(c, vmsim_fork(c->sim, 1, 2));
    CALL(c, vmsim_heap_malloc(c->sim, 2, 64, &p[0]));
    if (p[3] != 0)
        CALL(c, vmsim_heap_free(c->sim, 2, p[3]));
    for (int i = 1; i < 24; i += 2)
        if (p[i] != 0)
            CALL(c, vmsim_heap_free(c->sim, 1, p[i]));
    CALL(c, vmsim_heap_free(c->sim, 1, big));
    CALL(c, vmsim_heap_free(c->sim, 1, q));
    CALL(c, vmsim_exit(c->sim, 1));
    CALL(c, vmsim_exit(c->sim, 2));
}

/* ---- the sweep ------------------------------------------------------------- */

static const scenario_t scenarios[] = {
    { "basic", cfg_small, sc_basic },
    { "fork_cow", cfg_data, sc_fork_cow },
    { "file", cfg_data, sc_file },
    { "swap", cfg_swap, sc_swap },
    { "thp", cfg_thp, sc_thp },
    { "heap", cfg_heap, sc_heap },
#if 1 /* the hugetlb fork bug above */
    { "hugetlb", cfg_hugetlb, sc_hugetlb },
#endif
};

/* One run of sc failing the k-th allocation; returns whether it got there. */
static bool run_once(const scenario_t *sc, int64_t k, int64_t *calls)
{
    struct fa f = { .k = k };
    struct ctx c = { .fa = &f, .scenario = sc->name, .k = k };
    vmsim_config_t cfg;
    char why[256];
    int rc;

    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    sc->config(&cfg);
    cfg.seed = 42;
    cfg.alloc = (vmsim_allocator_t){ fa_malloc, fa_calloc, fa_realloc, fa_free, &f };
    rc = vmsim_create(&cfg, &c.sim);
    clean(&c, rc, __LINE__, "vmsim_create");
    if (rc != 0) {
        if (rc != VMSIM_ENOMEM)
            fail_msg("%s, k=%lld: vmsim_create returned %d", sc->name, (long long)k, rc);
        if (f.live != 0)
            fail_msg("%s, k=%lld: failed vmsim_create leaves %lld blocks", sc->name,
                     (long long)k, (long long)f.live);
        *calls = f.calls;
        return f.hit;
    }
    sc->run(&c);
    f.k = -1; /* vmsim_check and vmsim_destroy run without failures */
    *calls = f.calls;
    if (vmsim_check(c.sim, why, sizeof(why)) != 0)
        fail_msg("%s, k=%lld (last call at line %d): vmsim_check: %s", sc->name, (long long)k,
                 c.line, why);
    vmsim_destroy(c.sim);
    if (f.live != 0)
        fail_msg("%s, k=%lld: %lld blocks live after vmsim_destroy", sc->name, (long long)k,
                 (long long)f.live);
    return f.hit;
}

static void sweep(const scenario_t *sc)
{
    int64_t k = 0, calls = 0, total = 0;
    const char *v = getenv("OOM_INJECT_VERBOSE");

    /* k = -1: the run without failure must be clean too */
    assert_false(run_once(sc, -1, &calls));
    for (k = 0; run_once(sc, k, &calls); k++)
        total += calls;
    if (v != NULL && *v != '\0' && *v != '0')
        print_message("oom_inject: %s: %lld allocations, k = 0..%lld, %lld calls in all\n",
                      sc->name, (long long)calls, (long long)k - 1, (long long)total);
}

#define SCENARIO_TEST(i, nm)                                                               \
    static void test_##nm(void **state)                                                    \
    {                                                                                      \
        (void)state;                                                                       \
        assert_string_equal(scenarios[i].name, #nm);                                       \
        sweep(&scenarios[i]);                                                              \
    }

SCENARIO_TEST(0, basic)
SCENARIO_TEST(1, fork_cow)
SCENARIO_TEST(2, file)
SCENARIO_TEST(3, swap)
SCENARIO_TEST(4, thp)
SCENARIO_TEST(5, heap)
#if 1 /* the hugetlb fork bug above */
SCENARIO_TEST(6, hugetlb)
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),    cmocka_unit_test(test_fork_cow),
        cmocka_unit_test(test_file),     cmocka_unit_test(test_swap),
        cmocka_unit_test(test_thp),      cmocka_unit_test(test_heap),
#if 1 /* the hugetlb fork bug above */
        cmocka_unit_test(test_hugetlb),
#endif
    };
    return cmocka_run_group_tests_name("oom_inject", tests, NULL, NULL);
}
