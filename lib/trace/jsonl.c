/*
 * jsonl.c -- the JSON Lines container: line 1 is the header {"vmsim": 1,
 * "system": {...}, "name"?, "why"?}, every further non-blank line is one
 * event object.
 *
 * A stream: one line is read, parsed (jansson) and validated by the same
 * code as the JSON document's events (json.c), and handed out; the next
 * call frees it. Memory holds one line and one parsed event, whatever the
 * trace's length. Every error is located FILE:LINE:COLUMN.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct jsonl_reader {
    struct vmsim__reader base;
    struct vmsim__input *in;
    json_t *cur; /* the event handed out last; its strings are borrowed */
    struct vmsim__json_scratch scratch;
    unsigned line; /* of the last line read */
    uint64_t index;
    struct vmsim__event ev;
};

static bool blank_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    }
    return true;
}

/* The next non-blank line; 0 at the end. */
static int next_line(struct jsonl_reader *r, const char **p, size_t *n, vmsim_trace_error_t *err)
{
    for (;;) {
        int rc;

        if (r->line < UINT32_MAX)
            r->line++;
        rc = vmsim__input_line(r->in, VMSIM__LINE_MAX, r->line, p, n, err);
        if (rc <= 0)
            return rc;
        if (!blank_line(*p, *n))
            return 1;
    }
}

/* Parse one line into a JSON value; a syntax error is located on it. */
static int load_line(struct jsonl_reader *r, const char *p, size_t n, json_t **out,
                     vmsim_trace_error_t *err)
{
    json_error_t je;
    int rc = vmsim__json_no_nul(p, n, err);

    if (rc == 0) {
        *out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
        if (*out != NULL)
            return 0;
        rc = vmsim__json_syntax_error(p, n, &je, err);
    }
    err->line = r->line; /* a line holds no newline: only the column counts */
    return rc;
}

/* An error about the whole line `line`: at its column 1. */
static int at_line(struct jsonl_reader *r, int rc, vmsim_trace_error_t *err)
{
    err->line = r->line;
    err->column = 1;
    return rc;
}

static int jsonl_next(struct vmsim__reader *base, const struct vmsim__event **ev,
                      vmsim_trace_error_t *err)
{
    struct jsonl_reader *r = (struct jsonl_reader *)base;
    const char *p;
    size_t n;
    int rc;

    json_decref(r->cur);
    r->cur = NULL;
    rc = next_line(r, &p, &n, err);
    if (rc <= 0)
        return rc;
    if ((rc = load_line(r, p, n, &r->cur, err)) < 0)
        return rc;
    rc = vmsim__json_event(&r->scratch, r->cur, r->index, &r->ev, err);
    if (rc < 0)
        return at_line(r, rc, err);
    r->ev.line = r->line;
    r->index++;
    *ev = &r->ev;
    return 1;
}

static void jsonl_close(struct vmsim__reader *base)
{
    struct jsonl_reader *r = (struct jsonl_reader *)base;

    json_decref(r->cur);
    vmsim__json_scratch_free(&r->scratch);
    vmsim__input_close(r->in);
    vmsim__reader_fini(&r->base);
    free(r);
}

static const struct vmsim__reader_ops jsonl_ops = {
    .name = "jsonl",
    .next = jsonl_next,
    .close = jsonl_close,
};

int vmsim__jsonl_open(struct vmsim__input *in, struct vmsim__reader **out, vmsim_trace_error_t *err)
{
    struct jsonl_reader *r = calloc(1, sizeof(*r));
    json_t *header = NULL;
    const char *p;
    size_t n;
    int rc;

    if (r == NULL) {
        vmsim__input_close(in);
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    }
    vmsim__reader_init(&r->base, &jsonl_ops, err, in);
    r->in = in;
    rc = next_line(r, &p, &n, err);
    if (rc == 0) {
        rc = vmsim__error_set(err, VMSIM_EPARSE,
                              "empty trace (expected the header line {\"vmsim\": 1, ...})");
        at_line(r, rc, err);
        err->line = 1;
        goto fail;
    }
    if (rc < 0)
        goto fail;
    if (r->line == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3; /* a UTF-8 byte-order mark */
        n -= 3;
    }
    if ((rc = load_line(r, p, n, &header, err)) < 0)
        goto fail;
    rc = vmsim__json_header(&r->base, header, true, err);
    json_decref(header);
    if (rc < 0) {
        at_line(r, rc, err);
        goto fail;
    }
    *out = &r->base;
    return 0;
fail:
    jsonl_close(&r->base);
    return rc;
}
