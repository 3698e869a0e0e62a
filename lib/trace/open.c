/*
 * open.c -- opening a trace: the byte stream (plain or gzip), the
 * container recognised from the content (or forced), and the reader of
 * that container.
 *
 * Recognition, in order (docs/trace-format.md "Containers"):
 *   1. gzip magic 1f 8b: decompressed first, whatever the name (io.c);
 *   2. a name ending in .vmtr (or .vmtr.gz): binary, and nothing else;
 *   3. the .vmtr magic number: binary;
 *   4. first non-blank character '{': JSON Lines when the first line alone
 *      is a JSON object without "events" and more lines follow (a header
 *      without "vmsim" is then the JSON Lines reader's error), else a JSON
 *      document; a header line alone is JSON Lines (of
 *      no events) only in a file named *.jsonl (or *.jsonl.gz);
 *   5. a line of valgrind's ("==PID== ...") or a lackey record ("I  ",
 *      " L ", " S ", " M ") in the first 64 KiB (the program's own output
 *      may come first), or a first line starting like a record with
 *      other spacing ("I 0400,4"): lackey;
 *   6. anything else: a JSON document (whose parser says what is wrong).
 */
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define SNIFF_SIZE ((size_t)64 << 10)

void vmsim__reader_init(struct vmsim__reader *r, const struct vmsim__reader_ops *ops,
                        const vmsim_trace_error_t *err, const struct vmsim__input *in)
{
    r->ops = ops;
    snprintf(r->file, sizeof(r->file), "%s", err->file);
    r->gzip = in != NULL && in->gzip;
}

void vmsim__reader_fini(struct vmsim__reader *r)
{
    free(r->name);
    free(r->why);
    r->name = r->why = NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the line at p (n bytes up to the end of what is buffered) starts
 * like valgrind's output or a lackey record. */
static bool lackey_start(const char *p, size_t n)
{
    if (n >= 2 && p[0] == '=' && p[1] == '=')
        return true;
    if (n >= 3 && p[0] == 'I' && p[1] == ' ' && p[2] == ' ')
        return true;
    return n >= 3 && p[0] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M') && p[2] == ' ';
}

/* The container of the stream, from its first bytes. */
static int sniff(struct vmsim__input *in, bool jsonl_name, const char **format,
                 vmsim_trace_error_t *err)
{
    size_t i, line_start = 0, line_end;
    const char *p;
    int rc = vmsim__input_fill(in, SNIFF_SIZE, err);

    if (rc < 0)
        return rc;
    p = in->buf + in->pos;
    if (vmsim__vmtr_magic(p, in->len - in->pos)) {
        *format = "vmtr";
        return 0;
    }
    i = in->len - in->pos >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    for (; i < in->len - in->pos && is_blank(p[i]); i++) {
        if (p[i] == '\n')
            line_start = i + 1;
    }
    *format = "json";
    if (i < in->len - in->pos && p[i] == '{') {
        /* JSON Lines if the first line alone is a header */
        const char *nl;

        for (;;) {
            p = in->buf + in->pos;
            nl = memchr(p + i, '\n', in->len - in->pos - i);
            if (nl != NULL || in->eof || in->len - in->pos > VMSIM__LINE_MAX)
                break;
            if ((rc = vmsim__input_fill(in, 2 * (in->len - in->pos), err)) < 0)
                return rc;
        }
        line_end = nl != NULL ? (size_t)(nl - p) : in->len - in->pos;
        if (!vmsim__jsonl_header_line(p + i, line_end - i))
            return 0;
        /* more than the header: a non-blank byte after it */
        for (size_t k = line_end;;) {
            p = in->buf + in->pos;
            while (k < in->len - in->pos && is_blank(p[k]))
                k++;
            if (k < in->len - in->pos || k > VMSIM__LINE_MAX) {
                *format = "jsonl";
                break;
            }
            if (in->eof) {
                /* a header alone: JSON Lines of no events, or a document
                 * without "events": the name decides */
                if (jsonl_name)
                    *format = "jsonl";
                break;
            }
            if ((rc = vmsim__input_fill(in, in->len - in->pos + SNIFF_SIZE, err)) < 0)
                return rc;
        }
        return 0;
    }
    /* lackey: a line of the first 64 KiB that starts like valgrind's or
     * a record (the traced program's own output may come first); or a
     * first line that starts like a record but for its spacing (no JSON
     * starts so), which the lackey reader then reports. The buffer may
     * hold more than 64 KiB: lines that start past it do not count. */
    for (size_t k = line_start; k < in->len - in->pos && k < SNIFF_SIZE;) {
        const char *nl = memchr(p + k, '\n', in->len - in->pos - k);

        if (lackey_start(p + k, in->len - in->pos - k) ||
            (k == line_start && (p[k] == 'I' || (p[k] == ' ' && k + 1 < in->len - in->pos &&
                                                 p[k + 1] != '\0' &&
                                                 strchr("LSM", p[k + 1]) != NULL)))) {
            *format = "lackey";
            break;
        }
        if (nl == NULL)
            break;
        k = (size_t)(nl - p) + 1;
    }
    return 0;
}

static int open_format(struct vmsim__input *in, const char *format, struct vmsim__reader **out,
                       vmsim_trace_error_t *err)
{
    if (strcmp(format, "json") == 0)
        return vmsim__json_open(in, out, err);
    if (strcmp(format, "jsonl") == 0)
        return vmsim__jsonl_open(in, out, err);
    if (strcmp(format, "lackey") == 0)
        return vmsim__lackey_open(in, out, err);
    return vmsim__vmtr_open(in, out, err);
}

static bool known_format(const char *format)
{
    return strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0 ||
           strcmp(format, "lackey") == 0 || strcmp(format, "vmtr") == 0;
}

/* Open over in (taken): the forced format, or the recognised one. */
static int open_input(struct vmsim__input *in, const char *format, struct vmsim__reader **out,
                      vmsim_trace_error_t *err)
{
    if (format == NULL) {
        int rc = sniff(in, ends_with(err->file, ".jsonl") || ends_with(err->file, ".jsonl.gz"),
                       &format, err);

        if (rc < 0) {
            vmsim__input_close(in);
            return rc;
        }
    }
    return open_format(in, format, out, err);
}

int vmsim__reader_open(const char *path, const char *format, struct vmsim__reader **out,
                       vmsim_trace_error_t *err)
{
    struct vmsim__input *in;
    int rc;

    vmsim__error_init(err, path);
    if (format != NULL && strcmp(format, "auto") == 0)
        format = NULL;
    if (format != NULL && strcmp(format, "binary") == 0)
        format = "vmtr";
    if (format != NULL && !known_format(format)) {
        char q[96];

        return vmsim__error_set(err, VMSIM_EINVAL,
                                "unknown trace format \"%s\" (use auto, json, jsonl, lackey, "
                                "vmtr)",
                                vmsim__quote(format, strlen(format), 40, q, sizeof(q)));
    }
    if (format == NULL && (ends_with(path, ".vmtr") || ends_with(path, ".vmtr.gz")))
        format = "vmtr"; /* must be binary: the vmtr reader checks the magic */
    rc = vmsim__input_open(path, &in, err);
    if (rc < 0)
        return rc;
    return open_input(in, format, out, err);
}

int vmsim__reader_open_buffer(const char *file, const char *buf, size_t len,
                              struct vmsim__reader **out, vmsim_trace_error_t *err)
{
    struct vmsim__input *in;
    int rc;

    vmsim__error_init(err, file);
    rc = vmsim__input_open_mem(buf, len, &in, err);
    if (rc < 0)
        return rc;
    return open_input(in, NULL, out, err);
}

void vmsim__reader_close(struct vmsim__reader *r)
{
    if (r != NULL)
        r->ops->close(r);
}
