/*
 * vmtr.c -- the binary container `.vmtr` (docs/vmtr.md): a versioned
 * header holding the trace's JSON header object, then one record per
 * event: plain accesses in a compact form (a tag byte and a varint delta
 * of the address: 2 to 4 bytes for the usual access, at most 8 for most),
 * every other event as tagged fields that carry all of TRACE_FORMAT.md.
 * An end record with the event count closes the file, so truncation is
 * caught.
 *
 * Reading streams through the input buffer (gzip works too); decoding
 * needs no alignment, so the layout can equally be mmap()ed. Every value
 * is range-checked here and every event goes through the checks all
 * containers share (vmsim__event_finish), so a corrupt file is an error
 * with its place, never a crash.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

static const char magic[8] = {'\x89', 'V', 'M', 'T', 'R', '\r', '\n', '\x1a'};
#define VERSION_MAJOR 1
#define VERSION_MINOR 0
#define FIXED_HEADER  16
#define MAX_HEADER    ((uint64_t)16 << 20) /* the JSON header */
#define MAX_RECORD    ((uint64_t)64 << 20) /* one event's fields */
#define MAX_COMPACT   31                   /* tag + 3 varints */

/* Record tags. */
#define TAG_END     0x00
#define TAG_EVENT   0x01 /* + op code: 0x01 .. 0x1b */
#define TAG_COMPACT 0x80 /* | kind | size class << 2 | pid flag */
#define COMPACT_PID 0x20

/* Field keys of an event record beyond VMSIM__F_* (0 .. 25). */
#define KEY_WHY   0x40
#define KEY_CHECK 0x80 /* + vmsim__check_key */

bool vmsim__vmtr_magic(const char *buf, size_t len)
{
    return len >= sizeof(magic) && memcmp(buf, magic, sizeof(magic)) == 0;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ---- reading ------------------------------------------------------------ */

struct vmtr_reader {
    struct vmsim__reader base;
    struct vmsim__input *in;
    uint64_t index;     /* events handed out */
    uint64_t prev_addr; /* of the last compact access */
    vmsim_pid_t pid;    /* of the last compact access */
    bool ended;
    /* the current event record and what its event borrows */
    uint8_t *rec;
    char *strs; /* NUL-terminated copies of its strings */
    uint64_t *pages;
    struct vmsim__check *checks;
    size_t cap; /* of rec and strs (bytes), pages and checks (entries) */
    struct vmsim__event ev;
    struct vmsim__event plain[3]; /* compact r, w, x: prepared once */
};

/* A cursor over bytes [p, end) of a record; `at` is p's stream offset. */
struct cur {
    const uint8_t *p, *start, *end;
    uint64_t at;
};

/* An error about the record at r's current place: of the event at r->index
 * (whose op is op, -1 if unknown), or of none (NO_EVENT). */
#define NO_EVENT (-2)
__attribute__((format(printf, 5, 6))) static int bad(struct vmtr_reader *r, const struct cur *c,
                                                     int op, vmsim_trace_error_t *err,
                                                     const char *fmt, ...)
{
    char text[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (op != NO_EVENT)
        err->event_index = r->index;
    if (op >= 0)
        snprintf(err->op, sizeof(err->op), "%s", vmsim__op_name((vmsim__op)op));
    return vmsim__error_set(err, VMSIM_EPARSE, "at byte %" PRIu64 ": %s",
                            c->at + (uint64_t)(c->p - c->start), text);
}

static bool get_varint(struct cur *c, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; c->p < c->end; shift += 7) {
        uint8_t b = *c->p++;

        if (shift == 63 && b > 1)
            return false; /* past 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
        if (shift == 63)
            return false;
    }
    return false;
}

static bool get_u8(struct cur *c, uint8_t *out)
{
    if (c->p >= c->end)
        return false;
    *out = *c->p++;
    return true;
}

/* n raw bytes of the record. */
static bool get_raw(struct cur *c, const uint8_t **out, size_t *n)
{
    uint64_t len;

    if (!get_varint(c, &len) || len > (uint64_t)(c->end - c->p))
        return false;
    *out = c->p;
    *n = (size_t)len;
    c->p += len;
    return true;
}

/* Decode the fields of an event record (op, payload in c) into ev. */
static int decode_fields(struct vmtr_reader *r, int op, struct cur *c, struct vmsim__event *ev,
                         vmsim_trace_error_t *err)
{
    size_t nstr = 0; /* bytes of r->strs used */
    uint64_t checks_seen = 0;
    bool have_value = false;
    int64_t value = 0;
    char msg[VMSIM__MSG_MAX];

    while (c->p < c->end) {
        const uint8_t *key_at = c->p;
        uint8_t key = *c->p++;
        uint64_t u = 0;
        uint8_t b = 0;
        const uint8_t *raw = NULL;
        size_t n = 0;
        const char **str = NULL;

#define NEED(cond, ...)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            c->p = key_at;                                                                         \
            return bad(r, c, op, err, __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)
#define FIELD_NAME (key < VMSIM__F__COUNT ? vmsim__field_names[key] : "?")

        if (key < VMSIM__F__COUNT) {
            uint64_t bit = (uint64_t)1 << key;

            NEED(vmsim__op_allowed((vmsim__op)op) & bit,
                 "field \"%s\" does not belong to op "
                 "\"%s\"",
                 FIELD_NAME, vmsim__op_name((vmsim__op)op));
            NEED(!(ev->present & bit), "field \"%s\" twice", FIELD_NAME);
            ev->present |= bit;
        }
        switch (key) {
        case VMSIM__F_PID:
        case VMSIM__F_CHILD:
            NEED(get_varint(c, &u), "bad \"%s\"", FIELD_NAME);
            NEED(u >= 1 && u <= VMSIM__PID_MAX, "\"%s\": %" PRIu64 " is out of range 1..%d",
                 FIELD_NAME, u, VMSIM__PID_MAX);
            *(key == VMSIM__F_PID ? &ev->pid : &ev->child) = (vmsim_pid_t)u;
            break;
        case VMSIM__F_NAME:
        case VMSIM__F_FILE:
        case VMSIM__F_AS:
        case KEY_WHY:
            str = key == VMSIM__F_NAME   ? &ev->name
                  : key == VMSIM__F_FILE ? &ev->file
                  : key == VMSIM__F_AS   ? &ev->as
                                         : &ev->why;
            NEED(key != KEY_WHY || ev->why == NULL, "\"why\" twice");
            NEED(get_raw(c, &raw, &n), "bad string in \"%s\"", key == KEY_WHY ? "why" : FIELD_NAME);
            NEED(vmsim__utf8_ok(raw, n), "\"%s\" is not valid UTF-8 (or holds a NUL byte)",
                 key == KEY_WHY ? "why" : FIELD_NAME);
            NEED(key == KEY_WHY || n > 0, "\"%s\" must not be empty", FIELD_NAME);
            memcpy(r->strs + nstr, raw, n);
            r->strs[nstr + n] = '\0';
            *str = r->strs + nstr;
            nstr += n + 1;
            if (key == VMSIM__F_AS && vmsim__check_region_name(ev->as, msg, sizeof(msg)) < 0)
                NEED(false, "\"as\": %s", msg);
            break;
        case VMSIM__F_OOM_SCORE_ADJ:
            NEED(get_varint(c, &u), "bad \"oom_score_adj\"");
            NEED(unzigzag(u) >= -1000 && unzigzag(u) <= 1000,
                 "\"oom_score_adj\": %" PRId64 " is out of range -1000..1000", unzigzag(u));
            ev->oom_score_adj = (int)unzigzag(u);
            break;
        case VMSIM__F_ADDR:
        case VMSIM__F_PTR:
        case VMSIM__F_BASE: {
            struct vmsim__addr *a = key == VMSIM__F_ADDR  ? &ev->addr
                                    : key == VMSIM__F_PTR ? &ev->ptr
                                                          : &ev->base;

            NEED(get_u8(c, &b) && b <= 2, "bad address form in \"%s\"", FIELD_NAME);
            if (b > 0) {
                NEED(get_raw(c, &raw, &n) && n > 0 && n <= VMSIM__NAME_MAX,
                     "bad region name in \"%s\"", FIELD_NAME);
                memcpy(r->strs + nstr, raw, n);
                r->strs[nstr + n] = '\0';
                NEED(vmsim__check_region_name(r->strs + nstr, msg, sizeof(msg)) == 0, "\"%s\": %s",
                     FIELD_NAME, msg);
                a->name = r->strs + nstr;
                a->name_len = n;
                a->minus = b == 2;
                nstr += n + 1;
            }
            NEED(get_varint(c, &a->value), "bad address in \"%s\"", FIELD_NAME);
            break;
        }
        case VMSIM__F_LEN:
        case VMSIM__F_SIZE:
        case VMSIM__F_OFFSET:
        case VMSIM__F_STRIDE:
        case VMSIM__F_N:
        case VMSIM__F_PAGESIZE: {
            uint64_t *dst = key == VMSIM__F_LEN      ? &ev->len
                            : key == VMSIM__F_SIZE   ? &ev->size
                            : key == VMSIM__F_OFFSET ? &ev->offset
                            : key == VMSIM__F_STRIDE ? &ev->stride
                            : key == VMSIM__F_N      ? &ev->n
                                                     : &ev->pagesize;

            NEED(get_varint(c, dst), "bad \"%s\"", FIELD_NAME);
            NEED(key != VMSIM__F_STRIDE || *dst > 0, "\"stride\" must be at least 1 byte");
            NEED(key != VMSIM__F_N || *dst <= INT64_MAX, "\"n\" is out of range");
            NEED(key != VMSIM__F_PAGESIZE || *dst == 2 * MIB || *dst == GIB,
                 "\"pagesize\" is 2MiB or 1GiB");
            break;
        }
        case VMSIM__F_PROT:
            NEED(get_u8(c, &b) && b <= 7, "bad \"prot\"");
            ev->prot = b;
            break;
        case VMSIM__F_FLAGS:
            NEED(get_varint(c, &u) && u <= 0xff, "bad \"flags\"");
            ev->flags = (unsigned)u;
            break;
        case VMSIM__F_ADVICE:
            NEED(get_u8(c, &b) && b < VMSIM__ADV__COUNT, "bad \"advice\"");
            ev->advice = b;
            break;
        case VMSIM__F_INCR:
            NEED(get_varint(c, &u), "bad \"incr\"");
            ev->incr = unzigzag(u);
            break;
        case VMSIM__F_DATA:
            NEED(get_raw(c, &ev->data, &ev->data_len), "bad \"data\"");
            break;
        case VMSIM__F_EXPECT:
            NEED(get_raw(c, &ev->expect_data, &ev->expect_len), "bad \"expect\"");
            break;
        case VMSIM__F_ACCESS:
            NEED(get_u8(c, &b) && b <= 1, "bad \"access\"");
            ev->access = b == 0 ? VMSIM_READ : VMSIM_WRITE;
            break;
        case VMSIM__F_PAGES: {
            uint64_t count, page = 0;

            NEED(get_varint(c, &count) && count <= (uint64_t)(c->end - c->p), "bad \"pages\"");
            for (uint64_t i = 0; i < count; i++) {
                NEED(get_varint(c, &u), "bad \"pages\"");
                page += (uint64_t)unzigzag(u);
                NEED(page <= (uint64_t)(INT64_MAX >> VMSIM_PAGE_SHIFT),
                     "\"pages\": page %" PRIu64 " is out of range", i);
                r->pages[i] = page;
            }
            ev->pages = r->pages;
            ev->nr_pages = (size_t)count;
            break;
        }
        case VMSIM__F_KEY:
            NEED(get_u8(c, &b) && b < VMSIM__SYSCTL__COUNT, "bad \"key\"");
            ev->sysctl = b;
            break;
        case VMSIM__F_VALUE:
            NEED(get_varint(c, &u), "bad \"value\"");
            value = unzigzag(u);
            have_value = true;
            break;
        case VMSIM__F_WHAT: /* by name: the library's list of reports may grow */
            NEED(get_raw(c, &raw, &n) && n > 0 && n < 32, "bad \"what\"");
            memcpy(msg, raw, n);
            msg[n] = '\0';
            ev->report = vmsim_report_kind_from_name(msg);
            NEED(ev->report >= 0 && strlen(msg) == n, "\"what\": unknown report");
            break;
        default: {
            struct vmsim__check *ck = &r->checks[ev->nr_checks];
            int k = key - KEY_CHECK;

            NEED(key >= KEY_CHECK && k < VMSIM__CHECK__COUNT, "unknown field key 0x%02x", key);
            NEED(op == VMSIM__OP_EXPECT, "a check in op \"%s\"", vmsim__op_name((vmsim__op)op));
            memset(ck, 0, sizeof(*ck));
            ck->key = (vmsim__check_key)k;
            if (k == VMSIM__CHECK_VMSTAT || k == VMSIM__CHECK_MEMINFO) {
                NEED(get_raw(c, &raw, &n) && n > 0 && n < 64, "bad counter name");
                for (size_t i = 0;; i++) {
                    const char *name =
                        k == VMSIM__CHECK_VMSTAT ? vmsim_vmstat_name(i) : vmsim_meminfo_name(i);
                    char q[4 * 64 + 8]; /* the name escaped: one line, printable */

                    NEED(name != NULL, "unknown %s counter \"%s\"",
                         k == VMSIM__CHECK_VMSTAT ? "vmstat" : "meminfo",
                         vmsim__quote((const char *)raw, n, 64, q, sizeof(q)));
                    if (strlen(name) == n && memcmp(name, raw, n) == 0) {
                        ck->counter = name;
                        break;
                    }
                }
                NEED(get_varint(c, &ck->u), "bad counter value");
            } else {
                NEED(!(checks_seen & (uint64_t)1 << k), "check \"%s\" twice",
                     vmsim__check_key_name(ck->key));
                checks_seen |= (uint64_t)1 << k;
                switch (k) {
                case VMSIM__CHECK_ALIVE:
                case VMSIM__CHECK_OOM_KILLED:
                case VMSIM__CHECK_PANIC:
                    NEED(get_u8(c, &b) && b <= 1, "bad boolean");
                    ck->b = b;
                    break;
                case VMSIM__CHECK_SIGNAL:
                    NEED(get_u8(c, &b) && b <= VMSIM__NR_SIGNALS, "bad signal");
                    ck->is_null = b == 0;
                    ck->i = b > 0 ? vmsim__signal_numbers[b - 1] : 0;
                    break;
                case VMSIM__CHECK_SI_CODE:
                    NEED(get_u8(c, &b) && b <= VMSIM__NR_SI_CODES, "bad si_code");
                    ck->is_null = b == 0;
                    ck->i = b > 0 ? b - 1 : 0;
                    break;
                case VMSIM__CHECK_ERRNO:
                    NEED(get_varint(c, &u) && u <= INT32_MAX &&
                             (u == 0 || vmsim_sys_errno_name((int)u) != NULL),
                         "bad errno");
                    ck->i = (int)u;
                    break;
                default:
                    NEED(get_varint(c, &ck->u), "bad count");
                    NEED(k > VMSIM__CHECK_COW || ck->u <= INT64_MAX, "count out of range");
                    break;
                }
            }
            NEED(get_raw(c, &raw, &n) && vmsim__utf8_ok(raw, n), "bad check text");
            if (n > 0) {
                memcpy(r->strs + nstr, raw, n);
                r->strs[nstr + n] = '\0';
                ck->text = r->strs + nstr;
                nstr += n + 1;
            }
            ev->nr_checks++;
            break;
        }
        }
#undef NEED
#undef FIELD_NAME
    }
    ev->checks = r->checks;
    if (have_value) {
        const int64_t *range = vmsim__sysctl_range[ev->sysctl];

        if (VMSIM__HAS(ev, KEY) && !(value >= range[0] && value <= range[1]))
            return bad(r, c, op, err,
                       "\"value\": %" PRId64 " is out of range %" PRId64 "..%" PRId64, value,
                       range[0], range[1]);
        ev->value = value;
    }
    if (vmsim__event_finish(ev, msg) < 0) {
        err->event_index = r->index;
        snprintf(err->op, sizeof(err->op), "%s", vmsim__op_name((vmsim__op)op));
        return vmsim__error_set(err, VMSIM_EPARSE, "%s", msg);
    }
    return 0;
}

/* Room for a record of len bytes and what its event borrows. */
static int reserve(struct vmtr_reader *r, size_t len, vmsim_trace_error_t *err)
{
    size_t cap = r->cap ? r->cap : 4096;
    void *a, *b, *c, *d;

    if (len + 1 <= r->cap)
        return 0;
    while (cap < len + 1)
        cap *= 2;
    a = realloc(r->rec, cap);
    if (a != NULL)
        r->rec = a;
    b = realloc(r->strs, cap);
    if (b != NULL)
        r->strs = b;
    c = realloc(r->pages, cap * sizeof(*r->pages));
    if (c != NULL)
        r->pages = c;
    d = realloc(r->checks, (cap / 2 + 1) * sizeof(*r->checks));
    if (d != NULL)
        r->checks = d;
    if (a == NULL || b == NULL || c == NULL || d == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    r->cap = cap;
    return 0;
}

static int vmtr_next(struct vmsim__reader *base, const struct vmsim__event **out,
                     vmsim_trace_error_t *err)
{
    struct vmtr_reader *r = (struct vmtr_reader *)base;
    struct vmsim__event *ev = &r->ev;
    struct vmsim__input *in = r->in;
    struct cur c;
    uint8_t tag;
    int rc;

    if (r->ended)
        return 0;
    if (in->len - in->pos < MAX_COMPACT && (rc = vmsim__input_fill(in, MAX_COMPACT, err)) < 0)
        return rc;
    c.start = c.p = (const uint8_t *)in->buf + in->pos;
    c.end = (const uint8_t *)in->buf + in->len;
    c.at = in->start + in->pos;
    if (c.p == c.end)
        return bad(r, &c, NO_EVENT, err, "the file ends without its end record (truncated?)");
    tag = *c.p++;
    if (tag & TAG_COMPACT) {
        uint64_t u = 0;

        if ((tag & 3) == 3 || (tag & 0x40))
            return bad(r, &(struct cur){c.start, c.start, c.end, c.at}, -1, err,
                       "unknown record tag 0x%02x", tag);
        ev = &r->plain[tag & 3];
        ev->index = r->index;
        ev->present = (uint64_t)1 << VMSIM__F_ADDR | (uint64_t)1 << VMSIM__F_SIZE;
        if (tag & COMPACT_PID) {
            if (!get_varint(&c, &u) || u < 1 || u > VMSIM__PID_MAX)
                return bad(r, &c, ev->op, err, "bad pid");
            r->pid = (vmsim_pid_t)u;
            ev->present |= (uint64_t)1 << VMSIM__F_PID;
        }
        ev->pid = r->pid;
        if ((tag >> 2 & 7) == 7) {
            if (!get_varint(&c, &ev->size))
                return bad(r, &c, ev->op, err, "bad size");
        } else {
            ev->size = (uint64_t)1 << (tag >> 2 & 7);
        }
        if (!get_varint(&c, &u))
            return bad(r, &c, ev->op, err, "bad address delta");
        r->prev_addr += (uint64_t)unzigzag(u);
        ev->addr.value = r->prev_addr;
        in->pos += (size_t)(c.p - c.start);
        r->index++;
        *out = ev;
        return 1;
    }
    if (tag == TAG_END) {
        uint64_t n = 0;

        if (!get_varint(&c, &n))
            return bad(r, &c, NO_EVENT, err, "bad end record");
        if (n != r->index)
            return bad(r, &c, NO_EVENT, err,
                       "the end record counts %" PRIu64 " events, the file holds %" PRIu64, n,
                       r->index);
        in->pos += (size_t)(c.p - c.start);
        if ((rc = vmsim__input_fill(in, 1, err)) < 0)
            return rc;
        if (in->len > in->pos)
            return bad(r, &(struct cur){c.p, c.p, c.p, c.at + (uint64_t)(c.p - c.start)}, NO_EVENT,
                       err, "data after the end record");
        r->ended = true;
        return 0;
    }
    if (tag >= TAG_EVENT && tag < TAG_EVENT + VMSIM__OP__COUNT) {
        int op = tag - TAG_EVENT;
        uint64_t len = 0;
        size_t hdr;

        if (!get_varint(&c, &len) || len > MAX_RECORD)
            return bad(r, &c, op, err, "bad record length (at most %" PRIu64 " bytes)", MAX_RECORD);
        hdr = (size_t)(c.p - c.start);
        /* the record's bytes first, the buffer growing by doubling, and
         * only then room for what it decodes to: a length the file does
         * not hold must not allocate it (a few bytes could ask for GiBs) */
        for (size_t want = in->len - in->pos; want < hdr + len && !in->eof;) {
            want = want < 32768 ? 65536 : 2 * want;
            if (want > hdr + len)
                want = hdr + (size_t)len;
            if ((rc = vmsim__input_fill(in, want, err)) < 0)
                return rc;
        }
        if (in->len - in->pos < hdr + len)
            return bad(r, &(struct cur){c.start, c.start, c.end, c.at}, op, err,
                       "the file ends inside an event record (truncated?)");
        if ((rc = reserve(r, (size_t)len, err)) < 0)
            return rc;
        /* the event borrows its bytes: copy them out of the input buffer */
        memcpy(r->rec, in->buf + in->pos + hdr, (size_t)len);
        c.at += hdr;
        c.start = c.p = r->rec;
        c.end = r->rec + len;
        in->pos += hdr + (size_t)len;
        vmsim__event_init(ev, r->index);
        ev->op = (vmsim__op)op;
        if ((rc = decode_fields(r, op, &c, ev, err)) < 0)
            return rc;
        r->index++;
        *out = ev;
        return 1;
    }
    return bad(r, &(struct cur){c.start, c.start, c.end, c.at}, -1, err,
               "unknown record tag 0x%02x", tag);
}

static void vmtr_close(struct vmsim__reader *base)
{
    struct vmtr_reader *r = (struct vmtr_reader *)base;

    vmsim__input_close(r->in);
    free(r->rec);
    free(r->strs);
    free(r->pages);
    free(r->checks);
    vmsim__reader_fini(&r->base);
    free(r);
}

static const struct vmsim__reader_ops vmtr_ops = {
    .name = "vmtr",
    .next = vmtr_next,
    .close = vmtr_close,
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int vmsim__vmtr_open(struct vmsim__input *in, struct vmsim__reader **out, vmsim_trace_error_t *err)
{
    struct vmtr_reader *r = calloc(1, sizeof(*r));
    const unsigned char *p;
    uint32_t hlen;
    unsigned major, minor;
    json_error_t je;
    json_t *header;
    int rc;

    if (r == NULL) {
        vmsim__input_close(in);
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    }
    vmsim__reader_init(&r->base, &vmtr_ops, err, in);
    r->in = in;
    r->pid = 1;
    for (int k = 0; k < 3; k++) {
        static const vmsim__op ops[] = {VMSIM__OP_R, VMSIM__OP_W, VMSIM__OP_X};

        vmsim__event_init(&r->plain[k], 0);
        r->plain[k].op = ops[k];
    }
    if ((rc = vmsim__input_fill(in, FIXED_HEADER, err)) < 0)
        goto fail;
    p = (const unsigned char *)in->buf + in->pos;
    if (!vmsim__vmtr_magic(in->buf + in->pos, in->len - in->pos)) {
        rc = vmsim__error_set(err, VMSIM_EPARSE,
                              "not a binary vmsim trace: no .vmtr magic number (a file named "
                              "*.vmtr must be binary; --format forces another container)");
        goto fail;
    }
    if (in->len - in->pos < FIXED_HEADER) {
        rc = vmsim__error_set(err, VMSIM_EPARSE, "truncated .vmtr header");
        goto fail;
    }
    major = (unsigned)p[8] | (unsigned)p[9] << 8;
    minor = (unsigned)p[10] | (unsigned)p[11] << 8;
    hlen = le32(p + 12);
    if (major != VERSION_MAJOR) {
        rc = vmsim__error_set(err, VMSIM_EPARSE,
                              "unsupported .vmtr version %u.%u (this reader knows %d.x)", major,
                              minor, VERSION_MAJOR);
        goto fail;
    }
    if (hlen == 0 || hlen > MAX_HEADER) {
        rc = vmsim__error_set(err, VMSIM_EPARSE, "bad .vmtr header length %" PRIu32, hlen);
        goto fail;
    }
    if ((rc = vmsim__input_fill(in, FIXED_HEADER + hlen, err)) < 0)
        goto fail;
    if (in->len - in->pos < FIXED_HEADER + hlen) {
        rc = vmsim__error_set(err, VMSIM_EPARSE, "truncated .vmtr header");
        goto fail;
    }
    p = (const unsigned char *)in->buf + in->pos;
    if ((rc = vmsim__json_no_nul((const char *)p + FIXED_HEADER, hlen, err)) < 0) {
        err->line = err->column = 0;
        rc = vmsim__error_set(err, VMSIM_EPARSE, "header: a NUL byte in the JSON header");
        goto fail;
    }
    header = json_loadb((const char *)p + FIXED_HEADER, hlen, JSON_REJECT_DUPLICATES, &je);
    if (header == NULL) {
        char why[sizeof(err->text)];

        /* jansson's text quotes the input near the error: made printable,
         * one line, as for the JSON readers; the place is a byte of a
         * binary file, not a line */
        vmsim__json_syntax_error((const char *)p + FIXED_HEADER, hlen, &je, err);
        snprintf(why, sizeof(why), "%s", err->text);
        err->line = err->column = 0;
        rc = vmsim__error_set(err, VMSIM_EPARSE, "header: bad JSON: %s", why);
        goto fail;
    }
    rc = vmsim__json_header(&r->base, header, true, err);
    json_decref(header);
    if (rc < 0)
        goto fail;
    in->pos += FIXED_HEADER + hlen;
    *out = &r->base;
    return 0;
fail:
    vmtr_close(&r->base);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

struct vmtr_writer {
    struct vmsim__writer base;
    uint64_t count, prev_addr;
    vmsim_pid_t pid;
    uint8_t *buf; /* the event record being built */
    size_t n, cap;
    bool oom;
};

static void put_bytes(struct vmtr_writer *w, const void *p, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        uint8_t *b;

        while (cap < w->n + n)
            cap *= 2;
        b = realloc(w->buf, cap);
        if (b == NULL) {
            w->oom = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

static void put_u8(struct vmtr_writer *w, unsigned v)
{
    uint8_t b = (uint8_t)v;

    put_bytes(w, &b, 1);
}

static size_t varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static void put_varint(struct vmtr_writer *w, uint64_t v)
{
    uint8_t b[10];

    put_bytes(w, b, varint(b, v));
}

static void put_raw(struct vmtr_writer *w, const void *p, size_t n)
{
    put_varint(w, n);
    put_bytes(w, p, n);
}

static void put_str(struct vmtr_writer *w, const char *s)
{
    put_raw(w, s, strlen(s));
}

static void put_addr(struct vmtr_writer *w, const struct vmsim__addr *a)
{
    put_u8(w, a->name == NULL ? 0 : a->minus ? 2 : 1);
    if (a->name != NULL)
        put_raw(w, a->name, a->name_len);
    put_varint(w, a->value);
}

static void put_check(struct vmtr_writer *w, const struct vmsim__check *c)
{
    put_u8(w, KEY_CHECK + c->key);
    switch (c->key) {
    case VMSIM__CHECK_VMSTAT:
    case VMSIM__CHECK_MEMINFO:
        put_str(w, c->counter);
        put_varint(w, c->u);
        break;
    case VMSIM__CHECK_ALIVE:
    case VMSIM__CHECK_OOM_KILLED:
    case VMSIM__CHECK_PANIC:
        put_u8(w, c->b);
        break;
    case VMSIM__CHECK_SIGNAL: {
        unsigned b = 0;

        for (int i = 0; !c->is_null && i < VMSIM__NR_SIGNALS; i++) {
            if (vmsim__signal_numbers[i] == c->i)
                b = (unsigned)i + 1;
        }
        put_u8(w, b);
        break;
    }
    case VMSIM__CHECK_SI_CODE:
        put_u8(w, c->is_null ? 0 : (unsigned)c->i + 1);
        break;
    case VMSIM__CHECK_ERRNO:
        put_varint(w, (uint64_t)c->i);
        break;
    default:
        put_varint(w, c->u);
        break;
    }
    put_str(w, c->text != NULL ? c->text : "");
}

static void put_field(struct vmtr_writer *w, const struct vmsim__event *ev, vmsim__field f)
{
    put_u8(w, f);
    switch (f) {
    case VMSIM__F_PID:
        put_varint(w, (uint64_t)ev->pid);
        break;
    case VMSIM__F_CHILD:
        put_varint(w, (uint64_t)ev->child);
        break;
    case VMSIM__F_NAME:
        put_str(w, ev->name);
        break;
    case VMSIM__F_FILE:
        put_str(w, ev->file);
        break;
    case VMSIM__F_AS:
        put_str(w, ev->as);
        break;
    case VMSIM__F_OOM_SCORE_ADJ:
        put_varint(w, zigzag(ev->oom_score_adj));
        break;
    case VMSIM__F_ADDR:
        put_addr(w, &ev->addr);
        break;
    case VMSIM__F_PTR:
        put_addr(w, &ev->ptr);
        break;
    case VMSIM__F_BASE:
        put_addr(w, &ev->base);
        break;
    case VMSIM__F_LEN:
        put_varint(w, ev->len);
        break;
    case VMSIM__F_SIZE:
        put_varint(w, ev->size);
        break;
    case VMSIM__F_OFFSET:
        put_varint(w, ev->offset);
        break;
    case VMSIM__F_STRIDE:
        put_varint(w, ev->stride);
        break;
    case VMSIM__F_N:
        put_varint(w, ev->n);
        break;
    case VMSIM__F_PAGESIZE:
        put_varint(w, ev->pagesize);
        break;
    case VMSIM__F_PROT:
        put_u8(w, ev->prot);
        break;
    case VMSIM__F_FLAGS:
        put_varint(w, ev->flags);
        break;
    case VMSIM__F_ADVICE:
        put_u8(w, (unsigned)ev->advice);
        break;
    case VMSIM__F_INCR:
        put_varint(w, zigzag(ev->incr));
        break;
    case VMSIM__F_DATA:
        put_raw(w, ev->data, ev->data_len);
        break;
    case VMSIM__F_EXPECT:
        put_raw(w, ev->expect_data, ev->expect_len);
        break;
    case VMSIM__F_ACCESS:
        put_u8(w, ev->access == VMSIM_READ ? 0 : 1);
        break;
    case VMSIM__F_PAGES: {
        uint64_t prev = 0;

        put_varint(w, ev->nr_pages);
        for (size_t i = 0; i < ev->nr_pages; i++) {
            put_varint(w, zigzag((int64_t)(ev->pages[i] - prev)));
            prev = ev->pages[i];
        }
        break;
    }
    case VMSIM__F_KEY:
        put_u8(w, (unsigned)ev->sysctl);
        break;
    case VMSIM__F_VALUE:
        put_varint(w, zigzag(ev->value));
        break;
    case VMSIM__F_WHAT:
        put_str(w, vmsim__report_name(ev->report));
        break;
    default:
        break;
    }
}

static int flush_record(struct vmtr_writer *w, vmsim_trace_error_t *err)
{
    int rc;

    if (w->oom)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory writing .vmtr");
    rc = vmsim__output_write(w->base.out, w->buf, w->n, err);
    w->n = 0;
    return rc;
}

/* Whether ev fits the compact access form. */
static bool compact(const struct vmsim__event *ev)
{
    const uint64_t plain =
        (uint64_t)1 << VMSIM__F_PID | (uint64_t)1 << VMSIM__F_ADDR | (uint64_t)1 << VMSIM__F_SIZE;

    return (ev->op == VMSIM__OP_R || ev->op == VMSIM__OP_W || ev->op == VMSIM__OP_X) &&
           ev->addr.name == NULL && (ev->present & ~plain) == 0 && ev->why == NULL;
}

static int vmtr_event(struct vmsim__writer *base, const struct vmsim__event *ev,
                      vmsim_trace_error_t *err)
{
    struct vmtr_writer *w = (struct vmtr_writer *)base;

    w->count++;
    if (compact(ev)) {
        unsigned cls = 7, tag;

        for (unsigned k = 0; k < 7; k++) {
            if (ev->size == (uint64_t)1 << k)
                cls = k;
        }
        tag = TAG_COMPACT | (unsigned)(ev->op - VMSIM__OP_R) | cls << 2 |
              (ev->pid != w->pid ? COMPACT_PID : 0);
        put_u8(w, tag);
        if (ev->pid != w->pid)
            put_varint(w, (uint64_t)ev->pid);
        if (cls == 7)
            put_varint(w, ev->size);
        put_varint(w, zigzag((int64_t)(ev->addr.value - w->prev_addr)));
        w->pid = ev->pid;
        w->prev_addr = ev->addr.value;
        return flush_record(w, err);
    }
    {
        struct vmtr_writer body = {.base = w->base};
        uint8_t hdr[11];
        size_t n;

        /* the fields first, to know their length */
        for (int f = 0; f < VMSIM__F__COUNT; f++) {
            if (ev->present >> f & 1)
                put_field(&body, ev, (vmsim__field)f);
        }
        for (size_t i = 0; ev->op == VMSIM__OP_EXPECT && i < ev->nr_checks; i++)
            put_check(&body, &ev->checks[i]);
        if (ev->why != NULL) {
            put_u8(&body, KEY_WHY);
            put_str(&body, ev->why);
        }
        hdr[0] = (uint8_t)(TAG_EVENT + ev->op);
        n = 1 + varint(hdr + 1, body.n);
        put_bytes(w, hdr, n);
        put_bytes(w, body.buf, body.n);
        w->oom |= body.oom;
        free(body.buf);
        if (body.n > MAX_RECORD)
            return vmsim__error_set(err, VMSIM_ERANGE,
                                    "event %" PRIu64 " needs %zu bytes, more than a .vmtr "
                                    "record holds (%" PRIu64 ")",
                                    w->count - 1, body.n, MAX_RECORD);
        return flush_record(w, err);
    }
}

static int vmtr_begin(struct vmsim__writer *base, const struct vmsim__reader *rd,
                      vmsim_trace_error_t *err)
{
    struct vmtr_writer *w = (struct vmtr_writer *)base;
    json_t *h = vmsim__json_header_object(rd);
    char *text = h != NULL ? json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    unsigned char fixed[FIXED_HEADER];
    size_t n;
    int rc;

    json_decref(h);
    if (text == NULL)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory writing .vmtr");
    n = strlen(text);
    if (n > MAX_HEADER) {
        free(text);
        return vmsim__error_set(err, VMSIM_ERANGE, "the header is longer than %" PRIu64 " bytes",
                                MAX_HEADER);
    }
    memcpy(fixed, magic, sizeof(magic));
    fixed[8] = VERSION_MAJOR;
    fixed[9] = 0;
    fixed[10] = VERSION_MINOR;
    fixed[11] = 0;
    for (int i = 0; i < 4; i++)
        fixed[12 + i] = (unsigned char)(n >> (8 * i));
    rc = vmsim__output_write(w->base.out, fixed, sizeof(fixed), err);
    if (rc == 0)
        rc = vmsim__output_write(w->base.out, text, n, err);
    free(text);
    return rc;
}

static int vmtr_end(struct vmsim__writer *base, vmsim_trace_error_t *err)
{
    struct vmtr_writer *w = (struct vmtr_writer *)base;

    put_u8(w, TAG_END);
    put_varint(w, w->count);
    return flush_record(w, err);
}

static void vmtr_writer_free(struct vmsim__writer *base)
{
    struct vmtr_writer *w = (struct vmtr_writer *)base;

    free(w->buf);
    free(w);
}

static const struct vmsim__writer_ops vmtr_writer_ops = {
    .name = "vmtr",
    .begin = vmtr_begin,
    .event = vmtr_event,
    .end = vmtr_end,
    .free = vmtr_writer_free,
};

int vmsim__vmtr_writer_new(struct vmsim__output *out, struct vmsim__writer **wp)
{
    struct vmtr_writer *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return VMSIM_ENOMEM;
    w->base.ops = &vmtr_writer_ops;
    w->base.out = out;
    w->pid = 1;
    *wp = &w->base;
    return 0;
}
