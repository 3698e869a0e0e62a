/*
 * io.c -- the byte streams under every container: buffered input from a
 * file, a pipe or memory, with gzip recognised by its magic (1f 8b) and
 * decompressed on the fly (zlib's inflate, every member of a multi-member
 * file); and buffered output, plain or gzip, written to a temporary file
 * that only a successful close renames into place.
 *
 * Memory is bounded: the input buffer holds what a reader asked for (a
 * line, a record) plus one read's worth; nothing of the stream is kept
 * once consumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "trace.h"

#define BUF_SIZE  ((size_t)1 << 20) /* the input buffer's usual size */
#define ZBUF_SIZE ((size_t)1 << 18) /* compressed bytes read at once */
#define BUF_MIN   ((size_t)4096)    /* the least of either, for a small source */
#define OUT_SIZE  ((size_t)1 << 18) /* the output buffer */

/* ---- input ------------------------------------------------------------- */

struct source {
    int fd;          /* -1: memory */
    const char *mem; /* memory: the bytes */
    size_t mem_len, mem_pos;
    /* raw bytes read ahead: compressed bytes with gzip, else the first
     * bytes read to look for the magic */
    unsigned char *zbuf;
    size_t zpos, zlen, zcap;
    bool raw_eof;
    z_stream z;
    bool z_live;      /* inflateInit2 done */
    bool member_end;  /* a gzip member ended; another may follow */
    uint64_t members; /* gzip members started */
};

/* Read up to n raw bytes: their count, 0 at the end, -1 with errno. */
static ssize_t raw_read(struct source *s, void *dst, size_t n)
{
    if (s->fd < 0) {
        size_t k = s->mem_len - s->mem_pos < n ? s->mem_len - s->mem_pos : n;

        if (k == 0)
            return 0; /* also an empty buffer, which may be NULL */
        memcpy(dst, s->mem + s->mem_pos, k);
        s->mem_pos += k;
        return (ssize_t)k;
    }
    for (;;) {
        ssize_t k = read(s->fd, dst, n);

        if (k >= 0 || errno != EINTR)
            return k;
    }
}

static int read_error(vmsim_trace_error_t *err, int e)
{
    return vmsim__error_set(err, VMSIM_EIO, "cannot read: %s", strerror(e));
}

/* Refill zbuf when it is used up. Returns 0 or VMSIM_EIO. */
static int refill_raw(struct source *s, vmsim_trace_error_t *err)
{
    ssize_t k;

    if (s->zpos < s->zlen || s->raw_eof)
        return 0;
    k = raw_read(s, s->zbuf, s->zcap);
    if (k < 0)
        return read_error(err, errno);
    s->zpos = 0;
    s->zlen = (size_t)k;
    if (k == 0)
        s->raw_eof = true;
    return 0;
}

/* Inflate up to n bytes into dst: their count, 0 at the clean end of the
 * last member, or a negative VMSIM_E*. */
static ssize_t inflate_some(struct source *s, char *dst, size_t n, vmsim_trace_error_t *err)
{
    for (;;) {
        size_t before;
        int rc;

        if ((rc = refill_raw(s, err)) < 0)
            return rc;
        if (s->member_end) {
            /* After a member: the end, another member, or zero padding
             * up to the end (as gzip(1) accepts). */
            bool padded = false;

            while (s->zpos < s->zlen && s->zbuf[s->zpos] == 0) {
                padded = true;
                s->zpos++;
                if ((rc = refill_raw(s, err)) < 0)
                    return rc;
            }
            if (s->zpos == s->zlen && s->raw_eof)
                return 0;
            if (padded || s->zbuf[s->zpos] != 0x1f)
                return vmsim__error_set(err, VMSIM_EIO,
                                        "gzip: trailing data after the compressed stream "
                                        "(not another gzip member)");
            if (inflateReset(&s->z) != Z_OK)
                return vmsim__error_set(err, VMSIM_EIO, "gzip: cannot restart the decoder");
            s->member_end = false;
            s->members++;
        }
        s->z.next_in = s->zbuf + s->zpos;
        s->z.avail_in = (uInt)(s->zlen - s->zpos);
        s->z.next_out = (Bytef *)dst;
        s->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
        before = s->z.avail_out;
        rc = inflate(&s->z, Z_NO_FLUSH);
        s->zpos = s->zlen - s->z.avail_in;
        if (rc == Z_STREAM_END) {
            s->member_end = true;
        } else if (rc == Z_MEM_ERROR) {
            return vmsim__error_set(err, VMSIM_ENOMEM, "gzip: out of memory");
        } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
            return vmsim__error_set(err, VMSIM_EIO, "gzip: corrupt data (%s)",
                                    s->z.msg != NULL ? s->z.msg : "invalid stream");
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return vmsim__error_set(err, VMSIM_EIO, "gzip: decoder error %d", rc);
        }
        if (before - s->z.avail_out > 0)
            return (ssize_t)(before - s->z.avail_out);
        if (!s->member_end && s->zpos == s->zlen && s->raw_eof)
            return vmsim__error_set(err, VMSIM_EIO,
                                    "gzip: the compressed data ends early (truncated file?)");
    }
}

/* Produce up to n bytes of the stream into dst: the count, 0 at its end,
 * or a negative VMSIM_E*. */
static ssize_t produce(struct vmsim__input *in, char *dst, size_t n, vmsim_trace_error_t *err)
{
    struct source *s = in->priv;
    ssize_t k;

    if (in->gzip)
        return inflate_some(s, dst, n, err);
    if (s->zpos < s->zlen) { /* the bytes read to look for the magic */
        size_t m = s->zlen - s->zpos < n ? s->zlen - s->zpos : n;

        memcpy(dst, s->zbuf + s->zpos, m);
        s->zpos += m;
        return (ssize_t)m;
    }
    if (s->raw_eof)
        return 0;
    k = raw_read(s, dst, n);
    if (k < 0)
        return read_error(err, errno);
    if (k == 0)
        s->raw_eof = true;
    return k;
}

int vmsim__input_fill(struct vmsim__input *in, size_t want, vmsim_trace_error_t *err)
{
    if (in->len - in->pos >= want || in->eof)
        return 0;
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->start += in->pos;
        in->len -= in->pos;
        in->pos = 0;
        memset(in->buf + in->len, 0, VMSIM__INPUT_PAD);
    }
    if (want > in->cap || in->cap - in->len < in->chunk / 4) {
        size_t ncap = in->cap ? in->cap : in->chunk;
        char *p;

        while (ncap < want || ncap - in->len < in->chunk / 4) {
            if (ncap > SIZE_MAX / 2)
                return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory reading the trace");
            ncap *= 2;
        }
        p = realloc(in->buf, ncap + VMSIM__INPUT_PAD); /* the sentinel and padding */
        if (p == NULL)
            return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory reading the trace");
        in->buf = p;
        in->cap = ncap;
    }
    while (in->len - in->pos < want) {
        ssize_t k = produce(in, in->buf + in->len, in->cap - in->len, err);

        if (k < 0) {
            memset(in->buf + in->len, 0, VMSIM__INPUT_PAD);
            return (int)k;
        }
        if (k == 0) {
            in->eof = true;
            break;
        }
        in->len += (size_t)k;
    }
    memset(in->buf + in->len, 0, VMSIM__INPUT_PAD); /* the sentinel (trace.h) */
    return 0;
}

int vmsim__input_line(struct vmsim__input *in, size_t max, unsigned lineno, const char **line,
                      size_t *n, vmsim_trace_error_t *err)
{
    size_t scanned = 0;

    for (;;) {
        /* no pointer arithmetic on a buffer not allocated yet */
        const char *start = in->buf != NULL ? in->buf + in->pos : NULL;
        const char *nl = scanned < in->len - in->pos
                             ? memchr(start + scanned, '\n', in->len - in->pos - scanned)
                             : NULL;
        int rc;

        if (nl != NULL || (in->eof && in->len > in->pos)) {
            size_t k = nl != NULL ? (size_t)(nl - start) : in->len - in->pos;

            if (k > max)
                break;
            *line = start;
            *n = k;
            in->pos += k + (nl != NULL);
            return 1;
        }
        if (in->eof)
            return 0;
        scanned = in->len - in->pos;
        if (scanned > max)
            break;
        rc = vmsim__input_fill(in, scanned + 1, err);
        if (rc < 0)
            return rc;
    }
    err->line = lineno;
    err->column = 1;
    return vmsim__error_set(err, VMSIM_EPARSE,
                            "line longer than %zu bytes (%zu MiB), the most "
                            "a line may hold",
                            max, max >> 20);
}

int vmsim__input_slurp(struct vmsim__input *in, char **out, size_t *len, vmsim_trace_error_t *err)
{
    while (!in->eof) {
        /* one byte more: fill reads as much as the buffer holds, and
         * grows it by doubling */
        int rc = vmsim__input_fill(in, in->len - in->pos + 1, err);

        if (rc < 0)
            return rc;
    }
    if (in->buf == NULL && (in->buf = malloc(1)) == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory reading the trace");
    memmove(in->buf, in->buf + in->pos, in->len - in->pos);
    *len = in->len - in->pos;
    in->buf[*len] = '\0';
    *out = in->buf;
    in->buf = NULL;
    in->pos = in->len = in->cap = 0;
    return 0;
}

/* size rounded up to a multiple of BUF_MIN, at least BUF_MIN, at most max */
static size_t buf_size(uint64_t size, size_t max)
{
    if (size >= max)
        return max;
    size = (size + BUF_MIN - 1) / BUF_MIN * BUF_MIN;
    return size < BUF_MIN ? BUF_MIN : (size_t)size;
}

/*
 * Start a stream over an opened source: look for the gzip magic. known is
 * the source's size in bytes when it is known (a regular file, memory),
 * else UINT64_MAX: a small source gets small buffers (the first read takes
 * all of it, and it still ends with a read of 0), not the 1.25 MiB a large
 * file or a pipe gets.
 */
static int input_start(struct source *s, uint64_t known, struct vmsim__input **out,
                       vmsim_trace_error_t *err)
{
    struct vmsim__input *in = calloc(1, sizeof(*in));
    int rc = 0;

    s->zcap = buf_size(known == UINT64_MAX ? UINT64_MAX : known + 1, ZBUF_SIZE);
    s->zbuf = malloc(s->zcap);
    if (in == NULL || s->zbuf == NULL) {
        rc = vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
        goto fail;
    }
    in->priv = s;
    /* twice the bytes: room for all of it and the read that sees the end
     * without growing (fill keeps a quarter of a chunk free) */
    in->chunk = buf_size(known >= BUF_SIZE ? UINT64_MAX : 2 * (known + 1), BUF_SIZE);
    /* at least two bytes, or the end, to see the magic */
    while (s->zlen < 2 && !s->raw_eof) {
        ssize_t k = raw_read(s, s->zbuf + s->zlen, s->zcap - s->zlen);

        if (k < 0) {
            rc = read_error(err, errno);
            goto fail;
        }
        if (k == 0)
            s->raw_eof = true;
        s->zlen += (size_t)k;
    }
    if (s->zlen >= 2 && s->zbuf[0] == 0x1f && s->zbuf[1] == 0x8b) {
        in->gzip = true;
        /* the inflated size is not known: allow for a good ratio */
        in->chunk = buf_size(known >= BUF_SIZE / 16 ? UINT64_MAX : 16 * (known + 1), BUF_SIZE);
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            rc = vmsim__error_set(err, VMSIM_ENOMEM, "gzip: cannot start the decoder");
            goto fail;
        }
        s->z_live = true;
        s->members = 1;
    }
    *out = in;
    return 0;
fail:
    free(in);
    free(s->zbuf);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
    return rc;
}

int vmsim__input_open(const char *path, struct vmsim__input **out, vmsim_trace_error_t *err)
{
    struct source *s = calloc(1, sizeof(*s));
    uint64_t known = UINT64_MAX;
    struct stat st;

    if (s == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    s->fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;

        free(s);
        return vmsim__error_set(err, VMSIM_EIO, "cannot open: %s", strerror(e));
    }
    if (fstat(s->fd, &st) != 0)
        st.st_mode = 0; /* nothing known */
    if (S_ISDIR(st.st_mode)) {
        close(s->fd);
        free(s);
        return vmsim__error_set(err, VMSIM_EIO, "cannot read: %s", strerror(EISDIR));
    }
    if (S_ISREG(st.st_mode) && st.st_size >= 0)
        known = (uint64_t)st.st_size; /* only a hint: it may still grow */
    return input_start(s, known, out, err);
}

int vmsim__input_open_mem(const char *buf, size_t len, struct vmsim__input **out,
                          vmsim_trace_error_t *err)
{
    struct source *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    s->fd = -1;
    s->mem = buf;
    s->mem_len = len;
    return input_start(s, len, out, err);
}

void vmsim__input_close(struct vmsim__input *in)
{
    struct source *s;

    if (in == NULL)
        return;
    s = in->priv;
    if (s->z_live)
        inflateEnd(&s->z);
    if (s->fd >= 0)
        close(s->fd);
    free(s->zbuf);
    free(s);
    free(in->buf);
    free(in);
}

/* ---- output ------------------------------------------------------------ */

struct vmsim__output {
    int fd;
    char *path, *tmp; /* tmp NULL: standard output */
    bool gzip;
    z_stream z;
    bool z_live;
    unsigned char *buf;
    size_t n;
    bool failed;
};

static int write_error(struct vmsim__output *o, vmsim_trace_error_t *err, int e)
{
    snprintf(err->file, sizeof(err->file), "%s", o->path);
    err->line = err->column = 0;
    err->event_index = VMSIM_TRACE_NO_EVENT;
    err->op[0] = '\0';
    o->failed = true;
    return vmsim__error_set(err, VMSIM_EIO, "cannot write: %s", strerror(e));
}

static int write_all(struct vmsim__output *o, const unsigned char *p, size_t n,
                     vmsim_trace_error_t *err)
{
    while (n > 0) {
        ssize_t k = write(o->fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return write_error(o, err, errno);
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int flush_buf(struct vmsim__output *o, vmsim_trace_error_t *err)
{
    int rc = write_all(o, o->buf, o->n, err);

    o->n = 0;
    return rc;
}

/* Deflate `n` bytes at p (flush: Z_FINISH at the end). */
static int deflate_some(struct vmsim__output *o, const void *p, size_t n, int flush,
                        vmsim_trace_error_t *err)
{
    o->z.next_in = (Bytef *)(uintptr_t)p;
    o->z.avail_in = (uInt)n;
    for (;;) {
        int rc;

        o->z.next_out = o->buf + o->n;
        o->z.avail_out = (uInt)(OUT_SIZE - o->n);
        rc = deflate(&o->z, flush);
        o->n = OUT_SIZE - o->z.avail_out;
        if (rc == Z_STREAM_ERROR)
            return write_error(o, err, EIO);
        if (o->n == OUT_SIZE && (rc = flush_buf(o, err)) < 0)
            return rc;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : o->z.avail_in == 0)
            return 0;
    }
}

int vmsim__output_open(const char *path, bool gzip, struct vmsim__output **out,
                       vmsim_trace_error_t *err)
{
    struct vmsim__output *o = calloc(1, sizeof(*o));
    size_t n = strlen(path);

    snprintf(err->file, sizeof(err->file), "%s", path);
    if (o == NULL || (o->path = strdup(path)) == NULL || (o->buf = malloc(OUT_SIZE)) == NULL)
        goto oom;
    o->gzip = gzip;
    o->fd = 1;
    if (strcmp(path, "-") != 0) {
        o->tmp = malloc(n + 16);
        if (o->tmp == NULL)
            goto oom;
        snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
        o->fd = mkstemp(o->tmp);
        if (o->fd < 0) {
            int e = errno;

            free(o->tmp);
            free(o->buf);
            free(o->path);
            free(o);
            return vmsim__error_set(err, VMSIM_EIO, "cannot create: %s", strerror(e));
        }
        fchmod(o->fd, 0644);
    }
    if (gzip) {
        if (deflateInit2(&o->z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            vmsim__output_close(o, false, err);
            return vmsim__error_set(err, VMSIM_ENOMEM, "gzip: cannot start the encoder");
        }
        o->z_live = true;
    }
    *out = o;
    return 0;
oom:
    if (o != NULL) {
        free(o->buf);
        free(o->path);
        free(o);
    }
    return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
}

int vmsim__output_write(struct vmsim__output *o, const void *buf, size_t n,
                        vmsim_trace_error_t *err)
{
    if (o->failed)
        return VMSIM_EIO;
    if (o->gzip)
        return deflate_some(o, buf, n, Z_NO_FLUSH, err);
    if (n > OUT_SIZE - o->n) {
        int rc = flush_buf(o, err);

        if (rc < 0)
            return rc;
        if (n >= OUT_SIZE)
            return write_all(o, buf, n, err);
    }
    if (n > 0)
        memcpy(o->buf + o->n, buf, n);
    o->n += n;
    return 0;
}

int vmsim__output_close(struct vmsim__output *o, bool commit, vmsim_trace_error_t *err)
{
    int rc = 0;

    if (o == NULL)
        return 0;
    if (commit && !o->failed) {
        if (o->gzip)
            rc = deflate_some(o, NULL, 0, Z_FINISH, err);
        if (rc == 0)
            rc = flush_buf(o, err);
    }
    if (o->z_live)
        deflateEnd(&o->z);
    if (o->tmp != NULL) {
        if (close(o->fd) < 0 && rc == 0 && commit)
            rc = write_error(o, err, errno);
        if (commit && rc == 0 && rename(o->tmp, o->path) < 0)
            rc = write_error(o, err, errno);
        if (!commit || rc < 0)
            unlink(o->tmp);
        free(o->tmp);
    }
    if (rc == 0 && commit && o->failed)
        rc = VMSIM_EIO;
    free(o->buf);
    free(o->path);
    free(o);
    return rc;
}
