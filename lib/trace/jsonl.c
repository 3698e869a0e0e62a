/*
 * jsonl.c -- the JSON Lines container: line 1 is the header {"vmsim": 1,
 * "system": {...}, "name"?, "why"?}, every further non-blank line is one
 * event object.
 *
 * A stream: one line is read, parsed (jansson) and validated by the same
 * code as the JSON document's events (json.c), and handed out; the next
 * call frees it. Memory holds one line and one parsed event, whatever the
 * trace's length. Every error is located FILE:LINE:COLUMN.
 *
 * The plain accesses that make up most of a long trace,
 * {"op": "w", "addr": "a+12p"}, take a fast path instead (fast_event()
 * below): a hand-written reader of just those lines, which declines
 * anything it does not fully recognise, errors included, so that jansson
 * and json.c stay the one place events and messages come from.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The longest "why" the fast path copies (longer ones go through jansson). */
#define FAST_WHY_MAX 1024

struct jsonl_reader {
    struct vmsim__reader base;
    struct vmsim__input *in;
    json_t *cur; /* the event handed out last; its strings are borrowed */
    struct vmsim__json_scratch scratch;
    unsigned line; /* of the last line read */
    uint64_t index;
    struct vmsim__event ev;
    bool fast;               /* try the fast path (the default) */
    uint64_t fast_events;    /* events the fast path read */
    char why[FAST_WHY_MAX];  /* the fast path's copy of the event's "why" */
};

/* ---- the fast path ------------------------------------------------------ */

/*
 * fast_event() reads a line that is exactly
 *
 *   - one JSON object whose members are "op" ("r", "w" or "x"), "addr"
 *     (required), and optionally "pid", "size" and "why", each at most once,
 *     in any order, with JSON white space (space, tab, CR, LF) around any
 *     token;
 *   - its strings printable ASCII without escapes;
 *   - its numbers unsigned integers without fraction or exponent, at most
 *     18 digits (so jansson would hold them in a json_int_t);
 *   - its addresses and sizes in their common forms (quick_addr(),
 *     quick_size());
 *
 * and builds the very event parse_event() (json.c) builds from jansson's
 * tree of the same line. Anything else -- another op or key, a duplicate
 * key, an escape, another type, a value out of range, a size with a
 * fraction, trailing text, any error -- makes it decline, and the line goes
 * through jansson as before, so messages are unchanged.
 * tests/unit/test_trace_fast.c reads the same lines both ways.
 */

/* Byte classes of the fast path: one table lookup per byte. */
enum {
    C_PLAIN = 0x01, /* in a plain string: printable ASCII but '"' and '\\' */
    C_WS = 0x02,    /* JSON white space: space, tab, CR, LF */
    C_DIGIT = 0x04, /* 0-9 */
    C_HEX = 0x08,   /* 0-9, a-f, A-F */
    C_NAME0 = 0x10, /* a region name's first byte: A-Z, a-z, _ */
    C_NAME = 0x20,  /* a region name's other bytes: A-Z, a-z, 0-9, _, . */
};

static const uint8_t byte_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x01, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x21, 0x01,
    0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
    0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x01, 0x00, 0x01, 0x01, 0x31,
    0x01, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
    0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x31, 0x01, 0x01, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static bool is_class(char c, unsigned cls) { return (byte_class[(unsigned char)c] & cls) != 0; }

static bool is_digit(char c) { return is_class(c, C_DIGIT); }

/* The value of hex digit c (is_class(c, C_HEX)). */
static unsigned hex_value(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* The shift of a size's unit (u, n bytes; none: 0) as value.c's unit table
 * has them, or -1. A second copy of that table, kept for speed: the test
 * reads every unit both ways. */
static int unit_shift(const char *u, size_t n)
{
    int shift;

    if (n == 0)
        return 0;
    switch (u[0]) {
    case 'B':
        shift = 0;
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    case 'p':
        shift = 12;
        break;
    default:
        return -1;
    }
    if (n == 1)
        return shift;
    if (n == 3 && u[1] == 'i' && u[2] == 'B' && shift >= 10 && shift != 12)
        return shift; /* KiB, MiB, GiB, TiB */
    return -1;
}

/* A size string s[0..n) of the common forms, "0x" and 1 to 16 hex digits,
 * or 1 to 19 decimal digits and a unit, read as vmsim__parse_size reads
 * it. Returns false when it is another form or no size. */
static bool quick_size(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    int shift;

    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        if (n == 2 || n > 2 + 16)
            return false;
        for (i = 2; i < n; i++) {
            if (!is_class(s[i], C_HEX))
                return false;
            v = v << 4 | hex_value(s[i]);
        }
        *out = v;
        return true;
    }
    for (; i < n && is_digit(s[i]); i++) {
        if (i == 19)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0 || (shift = unit_shift(s + i, n - i)) < 0 ||
        (shift > 0 && v > UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

/* An address string s[0..n) of the common forms: "0x" and 1 to 16 hex
 * digits, 1 to 19 decimal digits or a region name, then maybe '+' or '-'
 * and a quick_size(); read as vmsim__parse_addr reads it, the name
 * pointing into s. Returns false when it is another form or no address. */
static bool quick_addr(const char *s, size_t n, struct vmsim__addr *out)
{
    struct vmsim__addr a = {0};
    size_t i = 0;
    uint64_t off;

    if (n == 0)
        return false;
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        for (i = 2; i < n && is_class(s[i], C_HEX); i++) {
            if (i == 2 + 16)
                return false;
            a.value = a.value << 4 | hex_value(s[i]);
        }
        if (i == 2)
            return false;
    } else if (is_digit(s[0])) {
        for (; i < n && is_digit(s[i]); i++) {
            if (i == 19)
                return false;
            a.value = a.value * 10 + (uint64_t)(s[i] - '0');
        }
    } else if (is_class(s[0], C_NAME0)) {
        while (i < n && is_class(s[i], C_NAME))
            i++;
        if (i > VMSIM__NAME_MAX)
            return false;
        a.name = s;
        a.name_len = i;
    } else {
        return false;
    }
    if (i < n) {
        if ((s[i] != '+' && s[i] != '-') || !quick_size(s + i + 1, n - i - 1, &off))
            return false;
        if (a.name != NULL) {
            a.value = off;
            a.minus = s[i] == '-';
        } else if (s[i] == '+' ? !vmsim__add_ok(a.value, off, &a.value)
                               : !vmsim__sub_ok(a.value, off, &a.value)) {
            return false;
        }
    }
    *out = a;
    return true;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_class(*p, C_WS))
        p++;
    return p;
}

/* The string at p (its opening quote): printable ASCII, no escapes. Sets
 * *s and *n to its bytes; returns the byte after the closing quote, or
 * NULL if it is not such a string. */
static const char *plain_string(const char *p, const char *end, const char **s, size_t *n)
{
    const char *q = p + 1;

    while (q < end && is_class(*q, C_PLAIN))
        q++;
    if (q == end || *q != '"')
        return NULL;
    *s = p + 1;
    *n = (size_t)(q - (p + 1));
    return q + 1;
}

/* The integer at p: 0 or [1-9][0-9]{0,17}, not followed by another digit
 * or by '.', 'e' or 'E' (a real number). Returns the byte after it, or
 * NULL if it is not such an integer. */
static const char *plain_uint(const char *p, const char *end, uint64_t *out)
{
    const char *start = p;
    uint64_t v = 0;

    if (!is_digit(*p))
        return NULL;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && is_digit(*p); p++) {
            if (p - start == 18)
                return NULL;
            v = v * 10 + (uint64_t)(*p - '0');
        }
    }
    if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    *out = v;
    return p;
}

enum { FK_OP, FK_PID, FK_ADDR, FK_SIZE, FK_WHY };

/* The member named s[0..n) the fast path knows, FK_*; -1 for any other. */
static int fast_key(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return memcmp(s, "op", 2) == 0 ? FK_OP : -1;
    case 3:
        return memcmp(s, "pid", 3) == 0 ? FK_PID : memcmp(s, "why", 3) == 0 ? FK_WHY : -1;
    case 4:
        return memcmp(s, "addr", 4) == 0 ? FK_ADDR : memcmp(s, "size", 4) == 0 ? FK_SIZE : -1;
    default:
        return -1;
    }
}

/* One string member's value; false to decline. */
static bool fast_string(struct vmsim__event *ev, int key, const char *s, size_t n,
                        const char **why, size_t *why_len)
{
    switch (key) {
    case FK_OP:
        if (n != 1)
            return false;
        switch (s[0]) {
        case 'r':
            ev->op = VMSIM__OP_R;
            return true;
        case 'w':
            ev->op = VMSIM__OP_W;
            return true;
        case 'x':
            ev->op = VMSIM__OP_X;
            return true;
        default:
            return false;
        }
    case FK_ADDR:
        return quick_addr(s, n, &ev->addr);
    case FK_SIZE:
        return quick_size(s, n, &ev->size);
    case FK_WHY:
        *why = s;
        *why_len = n;
        return n < FAST_WHY_MAX;
    default:
        return false; /* "pid" as a string */
    }
}

/* One integer member's value; false to decline. */
static bool fast_integer(struct vmsim__event *ev, int key, uint64_t v)
{
    switch (key) {
    case FK_PID:
        if (v < 1 || v > VMSIM__PID_MAX)
            return false;
        ev->pid = (vmsim_pid_t)v;
        return true;
    case FK_ADDR:
        memset(&ev->addr, 0, sizeof(ev->addr));
        ev->addr.value = v;
        return true;
    case FK_SIZE:
        ev->size = v;
        return true;
    default:
        return false; /* "op" or "why" as a number */
    }
}

/*
 * Read line p[0..n) into r->ev as event r->index if it is a plain access
 * (see above). Returns true, or false (r->ev then undefined) to have the
 * line go through jansson.
 */
static bool fast_event(struct jsonl_reader *r, const char *p, size_t n)
{
    static const uint64_t fields[] = {
        [FK_PID] = (uint64_t)1 << VMSIM__F_PID,
        [FK_ADDR] = (uint64_t)1 << VMSIM__F_ADDR,
        [FK_SIZE] = (uint64_t)1 << VMSIM__F_SIZE,
    };
    const char *end = p + n, *why = NULL;
    struct vmsim__event *ev = &r->ev;
    size_t why_len = 0;
    unsigned seen = 0;
    char msg[VMSIM__MSG_MAX];

    vmsim__event_init(ev, r->index);
    p = skip_ws(p, end);
    if (p == end || *p != '{')
        return false;
    p = skip_ws(p + 1, end);
    for (;;) {
        const char *s;
        size_t len;
        int key;

        if (p == end || *p != '"' || (p = plain_string(p, end, &s, &len)) == NULL)
            return false;
        key = fast_key(s, len);
        if (key < 0 || (seen & 1u << key) != 0)
            return false;
        seen |= 1u << key;
        p = skip_ws(p, end);
        if (p == end || *p != ':')
            return false;
        p = skip_ws(p + 1, end);
        if (p == end)
            return false;
        if (*p == '"') {
            if ((p = plain_string(p, end, &s, &len)) == NULL ||
                !fast_string(ev, key, s, len, &why, &why_len))
                return false;
        } else {
            uint64_t v = 0;

            if ((p = plain_uint(p, end, &v)) == NULL || !fast_integer(ev, key, v))
                return false;
        }
        ev->present |= key == FK_OP || key == FK_WHY ? 0 : fields[key];
        p = skip_ws(p, end);
        if (p == end)
            return false;
        if (*p == '}')
            break;
        if (*p != ',')
            return false;
        p = skip_ws(p + 1, end);
    }
    if (skip_ws(p + 1, end) != end || (seen & 1u << FK_OP) == 0)
        return false;
    if (why != NULL) {
        memcpy(r->why, why, why_len);
        r->why[why_len] = '\0';
        ev->why = r->why;
    }
    /* as parse_event() leaves them, and the checks it runs last */
    r->scratch.nr_checks = 0;
    ev->checks = r->scratch.checks;
    ev->nr_checks = 0;
    return vmsim__event_finish(ev, msg) == 0;
}

void vmsim__jsonl_fast_path(struct vmsim__reader *base, bool on)
{
    if (strcmp(base->ops->name, "jsonl") == 0)
        ((struct jsonl_reader *)base)->fast = on;
}

uint64_t vmsim__jsonl_fast_events(const struct vmsim__reader *base)
{
    if (strcmp(base->ops->name, "jsonl") != 0)
        return 0;
    return ((const struct jsonl_reader *)base)->fast_events;
}

/* ---- the reader ---------------------------------------------------------- */

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
    int rc = vmsim__json_no_nul(p, n, err);

    if (rc == 0) {
        *out = vmsim__json_load(p, n, JSON_REJECT_DUPLICATES, err);
        if (*out != NULL)
            return 0;
        rc = err->code;
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
    if (r->fast && fast_event(r, p, n)) {
        r->fast_events++;
    } else {
        if ((rc = load_line(r, p, n, &r->cur, err)) < 0)
            return rc;
        rc = vmsim__json_event(&r->scratch, r->cur, r->index, &r->ev, err);
        if (rc < 0)
            return at_line(r, rc, err);
    }
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
    r->fast = true;
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
    r->base.system_line = r->line;
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
