/*
 * test_trace_util.h -- helpers of the trace-container tests
 * (test_trace_jsonl.c, test_trace_lackey.c, test_trace_vmtr.c): scratch
 * files, gzip in memory, reading every event of a reader, replays whose
 * message comes back as one line.
 */
#ifndef VMSIM_TEST_TRACE_UTIL_H
#define VMSIM_TEST_TRACE_UTIL_H

#include <zlib.h>

#include "test_util.h"
#include "trace/trace.h"

/* A scratch file under the build directory: VMSIM_BINARY_DIR/tt_NAME. */
static inline const char *tt_path(const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/tt_%s", VMSIM_BINARY_DIR, name);
    return path;
}

static inline const char *tt_write(const char *name, const void *data, size_t n, char *path,
                                   size_t len)
{
    FILE *f = fopen(tt_path(name, path, len), "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The whole file, malloc'ed (NUL-terminated); *n its length. */
static inline char *tt_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *n = (size_t)size;
    return buf;
}

/* n bytes gzip-compressed into a new buffer; *out_n its length. */
static inline unsigned char *tt_gzip(const void *data, size_t n, size_t *out_n)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(cap);

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* Open text (len bytes) as `file` from memory; on failure the message. */
static inline int tt_open_mem(const char *file, const void *text, size_t len,
                              struct vmsim__reader **r, char *line, size_t line_len)
{
    vmsim_trace_error_t err;
    int rc = vmsim__reader_open_buffer(file, text, len, r, &err);

    line[0] = '\0';
    if (rc < 0) {
        assert_int_equal(err.code, rc);
        vmsim_trace_error_format(&err, line, line_len);
    }
    return rc;
}

/* Read the reader to its end: the number of events, or -1 with the
 * message in line. Copies up to max events into evs (may be NULL). */
static inline long tt_drain(struct vmsim__reader *r, struct vmsim__event *evs, size_t max,
                            char *line, size_t line_len)
{
    vmsim_trace_error_t err;
    const struct vmsim__event *ev;
    long n = 0;
    int rc;

    line[0] = '\0';
    while ((rc = vmsim__reader_next(r, &ev, &err)) > 0) {
        if (evs != NULL && (size_t)n < max)
            evs[n] = *ev;
        n++;
    }
    if (rc < 0) {
        vmsim_trace_error_format(&err, line, line_len);
        return -1;
    }
    return n;
}

/* The one-line message of a failed replay, without the build directory. */
static inline void tt_strip_dir(char *line)
{
    char *at = strstr(line, "tt_");

    if (at != NULL)
        memmove(line, at, strlen(at) + 1);
}

/* Replay the file at path with overrides (key, value pairs, NULL-ended);
 * the status; *sim_out (may be NULL) the machine; line the message. */
static inline int tt_replay(const char *path, const char *const *kv, vmsim_t **sim_out, char *line,
                            size_t len)
{
    vmsim_replay_options_t opt;
    vmsim_trace_override_t ov[8];
    vmsim_trace_error_t err;
    FILE *null = fopen("/dev/null", "w");
    size_t n = 0;
    int status;

    assert_non_null(null);
    while (kv != NULL && kv[2 * n] != NULL && n < 8) {
        ov[n].key = kv[2 * n];
        ov[n].value = kv[2 * n + 1];
        n++;
    }
    vmsim_replay_options_init(&opt);
    opt.overrides = ov;
    opt.nr_overrides = n;
    opt.report_out = null;
    status = vmsim_replay(path, &opt, sim_out, NULL, &err);
    fclose(null);
    line[0] = '\0';
    if (status != VMSIM_REPLAY_OK) {
        vmsim_trace_error_format(&err, line, len);
        tt_strip_dir(line);
    }
    return status;
}

#endif
