/*
 * test_curve.c -- one-pass fault curves (include/vmsim/curve.h).
 *
 * The streaming builder against plain simulations of LRU and Belady's MIN
 * at every size, on random reference strings (uniform, Zipf-like, loops,
 * several processes) and on strings long enough to make the LRU tree
 * renumber its slots many times; vmsim_curve() on traces against separate
 * replays (profile textbook, resident_limit k pages, policy lru or opt) at
 * every size k, exactly; traces whose faults are not a reference string's
 * are refused.
 */
#include "test_util.h"

#include "vmsim/curve.h"

/* ---- reference strings ---------------------------------------------------- */

struct ref {
    vmsim_pid_t pid;
    uint64_t vpn;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* A Zipf-like index in [0, n): the inverse of a CDF with weights 1/(i+1). */
static uint32_t zipf(const double *cdf, uint32_t n)
{
    double u = (double)(rng() >> 11) / (double)(1ull << 53);
    uint32_t lo = 0, hi = n - 1;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double *zipf_cdf(uint32_t n)
{
    double *cdf = malloc(n * sizeof(*cdf)), sum = 0;

    assert_non_null(cdf);
    for (uint32_t i = 0; i < n; i++)
        sum += 1.0 / (i + 1);
    for (uint32_t i = 0; i < n; i++)
        cdf[i] = (i ? cdf[i - 1] : 0) + 1.0 / (i + 1) / sum;
    cdf[n - 1] = 1.0;
    return cdf;
}

/* kind 0 uniform, 1 Zipf, 2 loops with noise; pids 1 .. nr_pids. */
static struct ref *make_string(int kind, size_t n, uint32_t pages, int nr_pids, uint64_t seed)
{
    struct ref *r = malloc(n * sizeof(*r));
    double *cdf = zipf_cdf(pages);

    assert_non_null(r);
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        uint32_t p;

        if (kind == 0)
            p = (uint32_t)(rng() % pages);
        else if (kind == 1)
            p = zipf(cdf, pages);
        else
            p = rng() % 8 == 0 ? (uint32_t)(rng() % pages) : (uint32_t)(i % (pages / 2 + 1));
        r[i].pid = 1 + (vmsim_pid_t)(rng() % (uint64_t)nr_pids);
        r[i].vpn = 0x1000 + p * 7; /* sparse page numbers */
    }
    free(cdf);
    return r;
}

/* ---- plain simulations ------------------------------------------------------- */

static bool same(const struct ref *a, const struct ref *b)
{
    return a->pid == b->pid && a->vpn == b->vpn;
}

/* LRU with k frames: an array ordered by last use, most recent last. */
static uint64_t lru_misses(const struct ref *r, size_t n, size_t k)
{
    struct ref *mem = malloc(k * sizeof(*mem));
    size_t used = 0;
    uint64_t misses = 0;

    assert_non_null(mem);
    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < used && !same(&mem[j], &r[i]); j++)
            ;
        if (j == used) {
            misses++;
            if (used == k) {
                memmove(mem, mem + 1, (k - 1) * sizeof(*mem));
                used--;
            }
            mem[used++] = r[i];
        } else {
            struct ref x = mem[j];

            memmove(mem + j, mem + j + 1, (used - j - 1) * sizeof(*mem));
            mem[used - 1] = x;
        }
    }
    free(mem);
    return misses;
}

/* Belady's MIN with k frames: on a miss with memory full, evict the page
 * whose next use is farthest (never: farthest of all). */
static uint64_t opt_misses(const struct ref *r, size_t n, size_t k)
{
    size_t *mem = malloc(k * sizeof(*mem)); /* index of the page's latest reference */
    size_t used = 0;
    uint64_t misses = 0;

    assert_non_null(mem);
    for (size_t i = 0; i < n; i++) {
        size_t j, victim = 0, far = 0;

        for (j = 0; j < used && !same(&r[mem[j]], &r[i]); j++)
            ;
        if (j < used) {
            mem[j] = i;
            continue;
        }
        misses++;
        if (used < k) {
            mem[used++] = i;
            continue;
        }
        for (j = 0; j < used; j++) {
            size_t t;

            for (t = i + 1; t < n && !same(&r[t], &r[mem[j]]); t++)
                ;
            if (t > far) {
                far = t;
                victim = j;
            }
        }
        mem[victim] = i;
    }
    free(mem);
    return misses;
}

static size_t distinct(const struct ref *r, size_t n)
{
    size_t d = 0;

    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < i && !same(&r[j], &r[i]); j++)
            ;
        d += j == i;
    }
    return d;
}

/* The builder's curve of r, sizes 1 .. max (0: all). */
static uint64_t *builder_curve_max(vmsim_curve_kind kind, const struct ref *r, size_t n,
                                   size_t max, size_t *len)
{
    vmsim_curve_t *c;
    const uint64_t *m;
    uint64_t *copy;

    assert_int_equal(vmsim_curve_create(kind, &c), 0);
    assert_int_equal(vmsim_curve_set_max(c, max), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vmsim_curve_ref(c, r[i].pid, r[i].vpn), 0);
    assert_int_equal(vmsim_curve_set_max(c, 3), VMSIM_EINVAL);
    assert_int_equal(vmsim_curve_refs(c), n);
    assert_int_equal(vmsim_curve_finish(c, &m, len), 0);
    if (max == 0)
        assert_int_equal(vmsim_curve_pages(c), *len);
    else
        assert_int_equal(*len, max < vmsim_curve_pages(c) ? max : vmsim_curve_pages(c));
    copy = malloc((*len ? *len : 1) * sizeof(*copy));
    assert_non_null(copy);
    memcpy(copy, m, *len * sizeof(*m));
    /* finishing again gives the same; references after it are refused */
    assert_int_equal(vmsim_curve_finish(c, &m, len), 0);
    assert_memory_equal(copy, m, *len * sizeof(*m));
    assert_int_equal(vmsim_curve_ref(c, 1, 1), VMSIM_EINVAL);
    vmsim_curve_destroy(c);
    return copy;
}

static uint64_t *builder_curve(vmsim_curve_kind kind, const struct ref *r, size_t n,
                               size_t *len)
{
    return builder_curve_max(kind, r, n, 0, len);
}

/* ---- the builder ----------------------------------------------------------------- */

static void test_belady_string(void **state)
{
    static const int pages[] = {1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};
    struct ref r[12];
    uint64_t *lru, *opt;
    size_t n;

    (void)state;
    for (size_t i = 0; i < 12; i++)
        r[i] = (struct ref){1, (uint64_t)pages[i]};
    lru = builder_curve(VMSIM_CURVE_LRU, r, 12, &n);
    assert_int_equal(n, 5);
    /* Silberschatz 9.4: LRU 10 and 8 faults with 3 and 4 frames; OPT 7 and 6 */
    assert_int_equal(lru[2], 10);
    assert_int_equal(lru[3], 8);
    assert_int_equal(lru[0], 12);
    assert_int_equal(lru[4], 5);
    opt = builder_curve(VMSIM_CURVE_OPT, r, 12, &n);
    assert_int_equal(n, 5);
    assert_int_equal(opt[2], 7);
    assert_int_equal(opt[3], 6);
    assert_int_equal(opt[4], 5);
    free(lru);
    free(opt);
}

static void test_empty_and_errors(void **state)
{
    vmsim_curve_t *c;
    const uint64_t *m;
    size_t n = 99;

    (void)state;
    assert_int_equal(vmsim_curve_create((vmsim_curve_kind)7, &c), VMSIM_EINVAL);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(vmsim_curve_create((vmsim_curve_kind)k, &c), 0);
        assert_int_equal(vmsim_curve_finish(c, &m, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(vmsim_curve_refs(c), 0);
        vmsim_curve_destroy(c);
    }
    vmsim_curve_destroy(NULL);
}

/* Every size of random strings, against the plain simulations. */
static void test_random_strings(void **state)
{
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        for (int pids = 1; pids <= 3; pids += 2) {
            size_t n = 1500, len_lru, len_opt;
            struct ref *r = make_string(kind, n, 60, pids, 0x1234567ull * (uint64_t)(kind + 1) + (uint64_t)pids);
            size_t d = distinct(r, n);
            uint64_t *lru = builder_curve(VMSIM_CURVE_LRU, r, n, &len_lru);
            uint64_t *opt = builder_curve(VMSIM_CURVE_OPT, r, n, &len_opt);

            assert_int_equal(len_lru, d);
            assert_int_equal(len_opt, d);
            for (size_t k = 1; k <= d; k++) {
                uint64_t want_lru = lru_misses(r, n, k), want_opt = opt_misses(r, n, k);

                if (lru[k - 1] != want_lru || opt[k - 1] != want_opt)
                    fail_msg("kind %d, %d pids, %zu frames: lru %" PRIu64 " (want %" PRIu64
                             "), opt %" PRIu64 " (want %" PRIu64 ")",
                             kind, pids, k, lru[k - 1], want_lru, opt[k - 1], want_opt);
                assert_true(opt[k - 1] <= lru[k - 1]);
                if (k > 1) /* stack algorithms: no Belady anomaly */
                    assert_true(lru[k - 1] <= lru[k - 2] && opt[k - 1] <= opt[k - 2]);
            }
            /* a largest size: the same curve, cut there */
            for (size_t max = 1; max <= d + 5; max += d / 3 + 1) {
                for (int k = 0; k < 2; k++) {
                    size_t len;
                    uint64_t *cut = builder_curve_max((vmsim_curve_kind)k, r, n, max, &len);

                    assert_int_equal(len, max < d ? max : d);
                    assert_memory_equal(cut, k == 0 ? lru : opt, len * sizeof(*cut));
                    free(cut);
                }
            }
            free(lru);
            free(opt);
            free(r);
        }
    }
}

/* A long string over few pages: the LRU tree renumbers its slots again and
 * again; the same long string with many pages grows every table. */
static void test_long_strings(void **state)
{
    static const uint32_t pages[] = {40, 3000};

    (void)state;
    for (int i = 0; i < 2; i++) {
        size_t n = 120000, len;
        struct ref *r = make_string(1, n, pages[i], 2, 99 + (uint64_t)i);
        uint64_t *lru = builder_curve(VMSIM_CURVE_LRU, r, n, &len);
        uint64_t *opt = builder_curve(VMSIM_CURVE_OPT, r, n, &len);
        static const size_t sizes[] = {1, 2, 3, 7, 20, 39};

        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t k = i == 0 ? sizes[s] : sizes[s] * 50;

            assert_true(k <= len);
            assert_int_equal(lru[k - 1], lru_misses(r, n, k));
            if (i == 0) /* the plain MIN is quadratic: small sizes only */
                assert_int_equal(opt[k - 1], opt_misses(r, n, k));
        }
        free(lru);
        free(opt);
        free(r);
    }
}

/* ---- vmsim_curve on traces, against replays ---------------------------------- */

/* minflt + majflt summed over every process, and minflt alone. */
static void faults_of(const vmsim_t *sim, uint64_t *faults, uint64_t *minflt)
{
    vmsim_pid_t pids[64];
    size_t nr = vmsim_pids(sim, pids, 64);

    *faults = *minflt = 0;
    for (size_t i = 0; i < nr; i++) {
        vmsim_proc_info_t pi;

        assert_int_equal(vmsim_proc_info(sim, pids[i], &pi), 0);
        *faults += pi.minflt + pi.majflt;
        *minflt += pi.minflt;
    }
}

/* The replay of path with a resident limit of k pages and policy. */
static void replay_at(const char *path, const char *policy, size_t k, uint64_t *faults,
                      uint64_t *minflt)
{
    char limit[32];
    vmsim_trace_override_t ov[] = {
        {"profile", "textbook"}, {"swap", "64MiB"}, {"resident_limit", limit}, {"policy", policy}};
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    int status;

    snprintf(limit, sizeof(limit), "%zup", k);
    vmsim_replay_options_init(&opt);
    opt.overrides = ov;
    opt.nr_overrides = 4;
    status = vmsim_replay(path, &opt, &sim, NULL, &err);
    if (status != VMSIM_REPLAY_OK && status != VMSIM_REPLAY_EXPECT_FAILED)
        fail_msg("%s at %zu pages with %s: status %d: %s", path, k, policy, status, err.text);
    faults_of(sim, faults, minflt);
    vmsim_destroy(sim);
}

static void check_trace(const char *path)
{
    static const char *const policies[] = {"lru", "opt"};
    vmsim_trace_override_t ov[] = {{"profile", "textbook"}, {"swap", "64MiB"}};

    for (int p = 0; p < 2; p++) {
        vmsim_replay_options_t opt;
        vmsim_trace_error_t err;
        vmsim_curve_info_t info;
        uint64_t *m = NULL;
        size_t n = 0;
        int status;

        vmsim_replay_options_init(&opt);
        opt.overrides = ov;
        opt.nr_overrides = 2;
        status = vmsim_curve_ex(path, &opt, (vmsim_curve_kind)p, 0, &m, &n, &info, &err);
        if (status != VMSIM_REPLAY_OK)
            fail_msg("%s: curve %s: status %d: %s", path, policies[p], status, err.text);
        assert_int_equal(n, info.pages);
        assert_true(n > 0);
        assert_int_equal(m[n - 1], info.cold_minor + info.cold_major);
        for (size_t k = 1; k <= n; k++) {
            uint64_t faults, minflt;

            replay_at(path, policies[p], k, &faults, &minflt);
            if (faults != m[k - 1])
                fail_msg("%s: %s at %zu pages: one pass %" PRIu64 ", replay %" PRIu64, path,
                         policies[p], k, m[k - 1], faults);
            assert_int_equal(minflt, info.cold_minor);
        }
        free(m);
    }
}

static void test_belady_traces(void **state)
{
    (void)state;
    check_trace(VMSIM_SOURCE_DIR "/tests/traces/good/belady_lru_3.json");
    check_trace(VMSIM_SOURCE_DIR "/traces/belady.json");
}

/* A Zipf reference string over two processes, reads and writes mixed,
 * written as `refs` events. */
static void test_zipf_trace(void **state)
{
    const char *path = VMSIM_BINARY_DIR "/tc_zipf.json";
    size_t n = 2400, per = 40;
    struct ref *r = make_string(1, n, 90, 2, 4242);
    FILE *f = fopen(path, "w");

    (void)state;
    assert_non_null(f);
    fprintf(f, "{\"vmsim\": 1, \"system\": {\"profile\": \"textbook\", \"memory\": \"16MiB\", "
               "\"swap\": \"4MiB\"},\n \"events\": [\n"
               "  {\"op\": \"mmap\", \"len\": \"1MiB\", \"prot\": \"rw\", "
               "\"flags\": \"private|anonymous\", \"as\": \"a\"},\n"
               "  {\"op\": \"spawn\", \"pid\": 2},\n"
               "  {\"op\": \"mmap\", \"pid\": 2, \"len\": \"1MiB\", \"prot\": \"rw\", "
               "\"flags\": \"private|anonymous\", \"as\": \"b\"}");
    for (size_t i = 0; i < n; i += per) {
        int pid = r[i].pid;
        bool read = (i / per) % 3 == 1;

        fprintf(f, ",\n  {\"op\": \"refs\", \"pid\": %d, \"base\": \"%s\", \"access\": \"%s\", "
                   "\"pages\": [",
                pid, pid == 1 ? "a" : "b", read ? "r" : "w");
        for (size_t j = i; j < i + per && j < n; j++)
            fprintf(f, "%s%" PRIu64, j > i ? ", " : "", (r[j].vpn - 0x1000) / 7);
        fprintf(f, "]}");
    }
    fprintf(f, "\n ]}\n");
    assert_int_equal(fclose(f), 0);
    check_trace(path);
    free(r);
}

/* Traces whose faults are not their references' are refused. */
static void test_refused(void **state)
{
    static const struct {
        const char *name, *events, *want;
    } cases[] = {
        {"fork", "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"4p\"}, "
                 "{\"op\": \"fork\", \"child\": 2}, "
                 "{\"op\": \"touch\", \"pid\": 2, \"addr\": \"a\", \"len\": \"4p\", \"access\": \"r\"}",
         "process 2 was forked"},
        {"cow", "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"4p\"}, "
                "{\"op\": \"fork\", \"child\": 2}, "
                "{\"op\": \"w\", \"pid\": 2, \"addr\": \"a\"}, "
                "{\"op\": \"w\", \"pid\": 2, \"addr\": \"a+1p\"}",
         "process 2 was forked or copied on write"},
        {"munmap", "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"4p\"}, "
                   "{\"op\": \"munmap\", \"addr\": \"a\", \"len\": \"2p\"}",
         "user pages are resident at the end"},
        {"small", "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"64p\"}", "is too small"},
        /* 64 anonymous pages, swap for 63: at a limit of one page the
         * replay would be OOM-killed (hand count) */
        {"noswap", "{\"op\": \"touch\", \"addr\": \"a\", \"len\": \"64p\"}",
         "swap (258048 bytes) cannot hold the trace's 64 anonymous and shmem pages"},
    };
    char path[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vmsim_trace_error_t err;
        uint64_t *m = NULL;
        size_t n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/tc_refused_%s.json", VMSIM_BINARY_DIR, cases[i].name);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "{\"vmsim\": 1, \"system\": {\"profile\": \"textbook\", \"memory\": \"%s\", "
                   "\"swap\": \"%s\"}, \"events\": [{\"op\": \"mmap\", \"len\": \"64p\", "
                   "\"prot\": \"rw\", \"flags\": \"private|anonymous\", \"as\": \"a\"}, %s]}\n",
                strcmp(cases[i].name, "small") == 0 ? "64KiB" : "16MiB",
                strcmp(cases[i].name, "noswap") == 0 ? "63p" : "1MiB", cases[i].events);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(vmsim_curve(path, NULL, VMSIM_CURVE_LRU, &m, &n, &err),
                         VMSIM_REPLAY_BAD_TRACE);
        assert_null(m);
        if (strstr(err.text, cases[i].want) == NULL)
            fail_msg("%s: %s", cases[i].name, err.text);
    }
    /* the linux profile's zero page: a read then a write faults twice */
    snprintf(path, sizeof(path), "%s/tc_refused_zero.json", VMSIM_BINARY_DIR);
    {
        const vmsim_trace_override_t linux_profile[] = {{"profile", "linux"}};
        vmsim_replay_options_t opt;
        vmsim_trace_error_t err;
        uint64_t *m = NULL;
        size_t n = 0;
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fprintf(f, "{\"vmsim\": 1, \"system\": {\"memory\": \"16MiB\", \"swap\": \"2p\"}, "
                   "\"events\": ["
                   "{\"op\": \"mmap\", \"len\": \"4p\", \"prot\": \"rw\", "
                   "\"flags\": \"private|anonymous\", \"as\": \"a\"}, "
                   "{\"op\": \"refs\", \"base\": \"a\", \"pages\": [0, 1], \"access\": \"r\"}, "
                   "{\"op\": \"refs\", \"base\": \"a\", \"pages\": [0, 1]}]}\n");
        assert_int_equal(fclose(f), 0);
        /* the pass is textbook unless told otherwise: then it is a curve */
        assert_int_equal(vmsim_curve(path, NULL, VMSIM_CURVE_OPT, &m, &n, &err),
                         VMSIM_REPLAY_OK);
        assert_int_equal(n, 2);
        assert_int_equal(m[0], 4);
        assert_int_equal(m[1], 2);
        free(m);
        m = NULL;
        vmsim_replay_options_init(&opt);
        opt.overrides = linux_profile;
        opt.nr_overrides = 1;
        assert_int_equal(vmsim_curve(path, &opt, VMSIM_CURVE_OPT, &m, &n, &err),
                         VMSIM_REPLAY_BAD_TRACE);
        assert_non_null(strstr(err.text, "faults 4 times but touches 2 distinct pages"));
        /* a bad trace is the replay's error; a bad kind is refused */
        assert_int_equal(vmsim_curve(VMSIM_BINARY_DIR "/no/such.json", NULL, VMSIM_CURVE_LRU,
                                     &m, &n, &err),
                         VMSIM_REPLAY_BAD_TRACE);
        assert_int_equal(err.code, VMSIM_EIO);
        assert_int_equal(vmsim_curve(path, NULL, (vmsim_curve_kind)9, &m, &n, &err),
                         VMSIM_REPLAY_BAD_TRACE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_belady_string),  cmocka_unit_test(test_empty_and_errors),
        cmocka_unit_test(test_random_strings), cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_belady_traces),  cmocka_unit_test(test_zipf_trace),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
