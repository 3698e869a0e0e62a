/*
 * fuzz_replay.c -- what every trace target shares: the bytes as a file, a
 * full vmsim_replay() of them on a small machine, and the checks of what
 * it returns.
 *
 * The library reads traces from files (vmsim_replay takes a path, and
 * policy "opt" reads the file twice), so the input goes to an in-memory
 * file made once per process (memfd_create, or a temporary file where
 * there is none) and is replayed through its /proc/self/fd path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmsim/trace.h"

#include "fuzz.h"

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("vmsim fuzz: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---- the input as a file ------------------------------------------------- */

static int trace_fd = -1;
static char trace_path[4096];
static bool trace_unlink; /* a temporary file, removed at exit */
static FILE *devnull;
static const char *machine_size; /* VMSIM_FUZZ_MEMORY, or NULL */

static void remove_trace_file(void)
{
    if (trace_unlink)
        unlink(trace_path);
}

static void setup(void)
{
    if (trace_fd >= 0)
        return;
#ifdef MFD_CLOEXEC
    trace_fd = memfd_create("vmsim-fuzz-trace", MFD_CLOEXEC);
    if (trace_fd >= 0)
        snprintf(trace_path, sizeof(trace_path), "/proc/self/fd/%d", trace_fd);
#endif
    if (trace_fd < 0) {
        const char *dir = getenv("TMPDIR");

        snprintf(trace_path, sizeof(trace_path), "%s/vmsim-fuzz-XXXXXX",
                 dir != NULL && *dir != '\0' ? dir : "/tmp");
        trace_fd = mkstemp(trace_path);
        if (trace_fd < 0)
            fuzz_fail("cannot create a temporary file %s: %s", trace_path, strerror(errno));
        trace_unlink = true;
        atexit(remove_trace_file);
    }
    machine_size = getenv("VMSIM_FUZZ_MEMORY");
    if (machine_size != NULL && *machine_size == '\0')
        machine_size = NULL;
    devnull = fopen("/dev/null", "w");
    if (devnull == NULL)
        fuzz_fail("cannot open /dev/null: %s", strerror(errno));
}

static void put_trace(const uint8_t *data, size_t size)
{
    size_t done = 0;

    if (ftruncate(trace_fd, 0) != 0)
        fuzz_fail("ftruncate: %s", strerror(errno));
    while (done < size) {
        ssize_t n = pwrite(trace_fd, data + done, size - done, (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fuzz_fail("writing the trace file: %s", strerror(errno));
        done += (size_t)n;
    }
}

/* ---- checks ---------------------------------------------------------------- */

/* A NUL-terminated string of at most cap - 1 bytes without a newline. */
static void check_string(const char *what, const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);

    if (nul == NULL)
        fuzz_fail("%s is not NUL-terminated", what);
    if (memchr(s, '\n', (size_t)(nul - s)) != NULL)
        fuzz_fail("%s holds a newline: \"%s\"", what, s);
}

/* The status vmsim_replay gives for an error code (trace.h). */
static int expected_status(int code)
{
    switch (code) {
    case VMSIM_EPARSE:
    case VMSIM_EIO:
    case VMSIM_ENOTSUP:
    case VMSIM_EINVAL:
    case VMSIM_ERANGE:
    case VMSIM_ENOENT:
    case VMSIM_EEXIST:
    case VMSIM_ESRCH:
        return VMSIM_REPLAY_BAD_TRACE;
    case VMSIM_EEXPECT:
        return VMSIM_REPLAY_EXPECT_FAILED;
    case VMSIM_EPANIC:
        return VMSIM_REPLAY_PANIC;
    default:
        return VMSIM_REPLAY_INTERNAL;
    }
}

/* An error as vmsim_replay or on_fail hands it out: every string whole,
 * a message, a known code, and a one-line formatted form. */
static void check_error(const vmsim_trace_error_t *err)
{
    char line[1024], tiny[8];
    int n, m;

    check_string("err.file", err->file, sizeof(err->file));
    check_string("err.op", err->op, sizeof(err->op));
    check_string("err.text", err->text, sizeof(err->text));
    if (err->text[0] == '\0')
        fuzz_fail("an error without a message (code %d)", err->code);
    if (strcmp(vmsim_err_name(err->code), "VMSIM_E?") == 0)
        fuzz_fail("unknown error code %d: %s", err->code, err->text);
    if (strncmp(err->file, trace_path, sizeof(err->file) - 1) != 0)
        fuzz_fail("err.file \"%s\" is not the trace's path \"%s\"", err->file, trace_path);
    n = vmsim_trace_error_format(err, line, sizeof(line));
    if (n < 0 || (size_t)n >= sizeof(line) || strlen(line) != (size_t)n)
        fuzz_fail("vmsim_trace_error_format gave %d for \"%s\"", n, err->text);
    check_string("the formatted error", line, sizeof(line));
    m = vmsim_trace_error_format(err, tiny, sizeof(tiny));
    if (m != n || memchr(tiny, '\0', sizeof(tiny)) == NULL)
        fuzz_fail("vmsim_trace_error_format into 8 bytes gave %d, not %d", m, n);
}

struct counts {
    uint64_t fails;
};

static void on_fail(void *ctx, const vmsim_trace_error_t *err)
{
    struct counts *c = ctx;

    c->fails++;
    check_error(err);
    if (err->code != VMSIM_EEXPECT)
        fuzz_fail("on_fail with code %s: %s", vmsim_err_name(err->code), err->text);
}

/* Every event of the machine renders as one line of JSON: the first 1024
 * of a replay, then one in 256 (a 100 MiB read on the 4 MiB machine makes
 * 50,000 evictions alike: rendering them all was a third of a JSON Lines
 * run, one in 16 still a sixth in session 4). */
static void on_event(void *ctx, const vmsim_event_t *ev)
{
    char buf[1024];
    int n;

    (void)ctx;
    if (ev->seq >= 1024 && ev->seq % 256 != 0)
        return;
    n = vmsim_event_json(ev, buf, sizeof(buf));
    if (n <= 0 || (size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n || buf[0] != '{' ||
        buf[n - 1] != '}' || memchr(buf, '\n', (size_t)n) != NULL)
        fuzz_fail("vmsim_event_json gave %d: \"%.200s\"", n, buf);
}

/* ---- the replay -------------------------------------------------------------- */

int fuzz_replay(const uint8_t *data, size_t size, const char *format)
{
    /* 4 MiB: room for a THP or two, and vmsim_check() after every event
     * (linear in frames and swap slots) stays cheap */
    vmsim_trace_override_t small[] = {
        {"memory", "4MiB"},
        {"swap", "4MiB"},
    };
    vmsim_replay_options_t opt;
    vmsim_replay_result_t res;
    vmsim_trace_error_t err;
    struct counts counts = {0};
    int status;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    setup();
    put_trace(data, size);
    if (machine_size != NULL)
        small[0].value = small[1].value = machine_size;

    vmsim_replay_options_init(&opt);
    opt.overrides = small;
    opt.nr_overrides = sizeof(small) / sizeof(small[0]);
    opt.format = format;
    opt.check = true;
    opt.report_out = devnull;
    opt.on_event = on_event;
    opt.on_fail = on_fail;
    opt.fail_ctx = &counts;
    /* junk where the library must write, so a string it leaves
     * unterminated shows */
    memset(&err, 0x41, sizeof(err));
    memset(&res, 0x41, sizeof(res));

    status = vmsim_replay(trace_path, &opt, NULL, &res, &err);

    if (getenv("VMSIM_FUZZ_VERBOSE") != NULL) {
        char line[1024];

        if (status != VMSIM_REPLAY_OK)
            vmsim_trace_error_format(&err, line, sizeof(line));
        fprintf(stderr, "status %d, %llu events, %llu/%llu checks failed%s%s\n", status,
                (unsigned long long)res.nr_events, (unsigned long long)res.nr_failed_checks,
                (unsigned long long)res.nr_checks, status != VMSIM_REPLAY_OK ? ": " : "",
                status != VMSIM_REPLAY_OK ? line : "");
    }
    if (status < VMSIM_REPLAY_OK || status > VMSIM_REPLAY_INTERNAL)
        fuzz_fail("vmsim_replay returned %d", status);
    if (res.nr_failed_checks > res.nr_checks)
        fuzz_fail("%llu of %llu checks failed", (unsigned long long)res.nr_failed_checks,
                  (unsigned long long)res.nr_checks);
    if (counts.fails != res.nr_failed_checks)
        fuzz_fail("on_fail was called %llu times for %llu failed checks",
                  (unsigned long long)counts.fails, (unsigned long long)res.nr_failed_checks);
    if (status == VMSIM_REPLAY_OK) {
        if (res.nr_failed_checks != 0)
            fuzz_fail("status OK with %llu failed checks",
                      (unsigned long long)res.nr_failed_checks);
        return 0;
    }
    check_error(&err);
    if (expected_status(err.code) != status)
        fuzz_fail("status %d for an error %s: %s", status, vmsim_err_name(err.code), err.text);
    /* TRACE_FORMAT.md, "Errors": anything wrong in a JSON Lines or lackey
     * trace is located as FILE:LINE:COLUMN (their events are lines); a
     * broken gzip stream around one is the file's fault, not a line's */
    if (status == VMSIM_REPLAY_BAD_TRACE && err.line == 0 && format != NULL &&
        (strcmp(format, "jsonl") == 0 || strcmp(format, "lackey") == 0) &&
        !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b))
        fuzz_fail("a %s trace's error without a line: %s", format, err.text);
    if (status == VMSIM_REPLAY_EXPECT_FAILED && res.nr_failed_checks == 0)
        fuzz_fail("status EXPECT_FAILED without a failed check: %s", err.text);
    /* vmsim_check() failed: the simulator broke an invariant. Host memory
     * ran out: a 4 MiB machine and a 64 KiB trace cannot need that much. */
    if (err.code == VMSIM_ECORRUPT || err.code == VMSIM_ENOMEM)
        fuzz_fail("replay ended with %s: %s", vmsim_err_name(err.code), err.text);
    if (status == VMSIM_REPLAY_INTERNAL && getenv("VMSIM_FUZZ_STRICT") != NULL)
        fuzz_fail("replay ended with status INTERNAL (%s): %s", vmsim_err_name(err.code),
                  err.text);
    return 0;
}
