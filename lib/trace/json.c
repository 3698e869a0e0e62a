/*
 * json.c -- JSON with jansson: the one parser of an event object and of a
 * header object (shared by the JSON document, JSON Lines and the .vmtr
 * header: json.h), syntax-error places, the JSON document container
 * {"vmsim": 1, "system": {...}, "events": [...], "name"?, "why"?}, and the
 * reverse: events and headers written as JSON (the json and jsonl writers
 * of vmsim convert).
 *
 * The whole document is parsed and every event validated at open, so a
 * malformed trace never half-runs; next() then hands out the events one by
 * one as struct vmsim__event (parsing each again into the reader's scratch
 * buffers, which keeps one parser for the validation and the replay).
 *
 * Syntax errors are located FILE:LINE:COLUMN at the start of the offending
 * token (jansson reports where it stopped reading; see locate()); errors in
 * a well-formed document name the event: jansson keeps no positions for
 * values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

/* ---- small helpers ----------------------------------------------------- */

/*
 * jansson holds an integer in an int64. Integer literals from 2^63 to
 * 2^64 - 1 reach it as strings of their digits behind BIG_MARK, a NUL
 * (see vmsim__json_big_ints): a size or an address reads them as the
 * number, every other key sees an integer (out of range), never a string.
 * No string of a trace can start so: a trace's \u0000 is an error (the
 * text is then parsed as it is, without JSON_ALLOW_NUL, and jansson says
 * so), and a raw NUL byte is one before that (vmsim__json_no_nul).
 */
#define BIG_MARK '\0'
#define BIG_MARK_JSON "\\u0000" /* BIG_MARK as the rewritten text holds it */

static bool past_int64(const char *d, size_t n);

/* The digits of a rewritten big integer, or NULL when v is none. */
static const char *big_digits(const json_t *v)
{
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    n = json_string_length(v);
    return n > 1 && s[0] == BIG_MARK && strspn(s + 1, "0123456789") == n - 1 &&
                   past_int64(s + 1, n - 1)
               ? s + 1
               : NULL;
}

/* A string of the trace's (not a rewritten integer). */
static bool is_string(const json_t *v)
{
    return json_is_string(v) && big_digits(v) == NULL;
}

/* The text a check names (the string given; NULL for a number). */
static const char *check_text(const json_t *v)
{
    return is_string(v) ? json_string_value(v) : NULL;
}

static const char *type_name(const json_t *v)
{
    if (big_digits(v) != NULL)
        return "an integer";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

/* Format into msg (VMSIM__MSG_MAX bytes) and return code. */
__attribute__((format(printf, 3, 4))) static int say(char *msg, int code, const char *fmt,
                                                     ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, VMSIM__MSG_MAX, fmt, ap);
    va_end(ap);
    return code;
}

/* Put prefix before the text in msg (len bytes), cutting the end if need be. */
static void prepend(char *msg, size_t len, const char *prefix)
{
    size_t p = strlen(prefix), m = strlen(msg);

    if (p > len - 1)
        p = len - 1;
    if (m > len - 1 - p)
        m = len - 1 - p;
    memmove(msg + p, msg, m);
    memcpy(msg, prefix, p);
    msg[p + m] = '\0';
}

/* Prefix msg (VMSIM__MSG_MAX bytes) with `"key": `. */
static int prefix_key(char *msg, const char *key, int code)
{
    char q[96], prefix[112];

    snprintf(prefix, sizeof(prefix), "\"%s\": ", vmsim__quote(key, strlen(key), 40, q, sizeof(q)));
    prepend(msg, VMSIM__MSG_MAX, prefix);
    return code;
}

static int get_int(const json_t *v, int64_t lo, int64_t hi, int64_t *out, char *msg)
{
    json_int_t x;

    if (big_digits(v) != NULL)
        return say(msg, VMSIM_ERANGE, "%s is out of range %" PRId64 "..%" PRId64, big_digits(v),
                   lo, hi);
    if (!json_is_integer(v))
        return say(msg, VMSIM_EPARSE, "expected an integer, got %s", type_name(v));
    x = json_integer_value(v);
    if (x < lo || x > hi)
        return say(msg, VMSIM_ERANGE, "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
                   (int64_t)x, lo, hi);
    *out = x;
    return 0;
}

static int get_count(const json_t *v, uint64_t *out, char *msg)
{
    int64_t x = 0;
    int rc = get_int(v, 0, INT64_MAX, &x, msg);

    if (rc < 0) {
        if (json_is_integer(v))
            return say(msg, VMSIM_ERANGE, "a count cannot be negative (got %" PRId64 ")",
                       (int64_t)json_integer_value(v));
        return rc;
    }
    *out = (uint64_t)x;
    return 0;
}

static int get_bool(const json_t *v, bool *out, char *msg)
{
    if (!json_is_boolean(v))
        return say(msg, VMSIM_EPARSE, "expected true or false, got %s", type_name(v));
    *out = json_is_true(v);
    return 0;
}

static int get_string(const json_t *v, const char **out, char *msg)
{
    if (!is_string(v))
        return say(msg, VMSIM_EPARSE, "expected a string, got %s", type_name(v));
    *out = json_string_value(v);
    return 0;
}

/* A string without NUL bytes (jansson rejects \u0000 already) and not empty. */
static int get_nonempty(const json_t *v, const char **out, char *msg)
{
    int rc = get_string(v, out, msg);

    if (rc == 0 && **out == '\0')
        return say(msg, VMSIM_EPARSE, "must not be empty");
    return rc;
}

static int get_size(const json_t *v, uint64_t *out, char *msg)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return say(msg, VMSIM_EPARSE, "a size cannot be negative (got %" PRId64 ")",
                       (int64_t)json_integer_value(v));
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (big_digits(v) != NULL) {
        *out = strtoull(big_digits(v), NULL, 10); /* below 2^64: rewritten so */
        return 0;
    }
    if (json_is_string(v))
        return vmsim__parse_size(json_string_value(v), out, msg, VMSIM__MSG_MAX);
    return say(msg, VMSIM_EPARSE, "expected a size (an integer or a string like \"4KiB\"), got %s",
               type_name(v));
}

static int get_ssize(const json_t *v, int64_t *out, char *msg)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (big_digits(v) != NULL)
        return say(msg, VMSIM_ERANGE, "%s is past a signed size's largest, 2^63 - 1",
                   big_digits(v));
    if (json_is_string(v))
        return vmsim__parse_ssize(json_string_value(v), out, msg, VMSIM__MSG_MAX);
    return say(msg, VMSIM_EPARSE,
               "expected a signed size (an integer or a string like \"-4KiB\"), got %s",
               type_name(v));
}

static int get_addr(const json_t *v, struct vmsim__addr *out, char *msg)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return say(msg, VMSIM_EPARSE, "an address cannot be negative (got %" PRId64 ")",
                       (int64_t)json_integer_value(v));
        memset(out, 0, sizeof(*out));
        out->value = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (big_digits(v) != NULL) {
        memset(out, 0, sizeof(*out));
        out->value = strtoull(big_digits(v), NULL, 10);
        return 0;
    }
    if (json_is_string(v))
        return vmsim__parse_addr(json_string_value(v), out, msg, VMSIM__MSG_MAX);
    return say(msg, VMSIM_EPARSE,
               "expected an address (an integer, \"0x...\" or a region name), got %s",
               type_name(v));
}

/* One of `names` (n of them): its index in *out. */
static int get_enum(const json_t *v, const char *const *names, size_t n, int *out, char *msg)
{
    const char *s = NULL;
    char list[256] = "", q[96];
    size_t o = 0;
    int rc = get_string(v, &s, msg);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
        if (o < sizeof(list))
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", names[i]);
    }
    return say(msg, VMSIM_EPARSE, "unknown value \"%s\" (use %s)",
               vmsim__quote(s, strlen(s), 40, q, sizeof(q)), list);
}

/* ---- errors and syntax-error positions -------------------------------- */

/* Escape bytes outside printable ASCII in jansson's text (it may quote raw
 * input). */
static void copy_sanitized(char *dst, size_t len, const char *src)
{
    size_t o = 0;

    for (; *src != '\0' && o + 5 < len; src++) {
        unsigned char c = (unsigned char)*src;

        if (c >= 0x20 && c < 0x7f)
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, len - o, "\\x%02x", c);
    }
    dst[o] = '\0';
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_structural(char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

/*
 * The offset of the token that holds byte `last` (the last byte jansson
 * read before the error), found by scanning tokens from the start.
 */
static size_t token_start(const char *buf, size_t len, size_t last)
{
    size_t i = 0, start = 0;

    while (i < len && i <= last) {
        if (is_ws(buf[i])) {
            i++;
            continue;
        }
        start = i;
        if (buf[i] == '"') {
            for (i++; i < len && buf[i] != '"'; i++) {
                if (buf[i] == '\\')
                    i++;
            }
            i++;
        } else if (is_structural(buf[i])) {
            i++;
        } else {
            while (i < len && !is_ws(buf[i]) && !is_structural(buf[i]) && buf[i] != '"')
                i++;
        }
    }
    return start;
}

/* The 1-based line and column (in characters) of byte `at`. */
static void place_of(const char *buf, size_t at, unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;

    for (size_t i = 0; i < at; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
            c++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *column = c;
}

/*
 * Turn jansson's error into our place: the start of the offending token
 * (jansson's position is just past it), the byte it could not decode, or,
 * at end of input, just past the last non-blank byte.
 */
static void locate(const char *buf, size_t len, const json_error_t *je, unsigned *line,
                   unsigned *column)
{
    size_t pos = je->position < 0 ? 0 : (size_t)je->position, at;

    if (pos > len)
        pos = len;
    if (strstr(je->text, "near end of file") != NULL) {
        at = len;
        while (at > 0 && is_ws(buf[at - 1]))
            at--;
    } else if (strncmp(je->text, "unable to decode byte", 21) == 0) {
        at = pos;
    } else {
        at = token_start(buf, len, pos > 0 ? pos - 1 : 0);
    }
    place_of(buf, at, line, column);
}

/* An event error: code, event index, op, message. */
static int event_error(vmsim_trace_error_t *err, uint64_t index, int op, int code,
                       const char *msg)
{
    vmsim__error_set(err, code, "%s", msg);
    err->event_index = index;
    if (op >= 0)
        snprintf(err->op, sizeof(err->op), "%s", vmsim__op_name((vmsim__op)op));
    return code;
}

/* ---- the system object ------------------------------------------------- */

static int parse_tlb(struct vmsim__system *s, const json_t *v, char *msg)
{
    static const char *const keys[] = {"l1_4k", "l1_2m", "l1_1g", "l2", "ways", "pcid"};
    const char *key;
    json_t *x;

    s->tlb_given = 0;
    if (json_is_boolean(v)) {
        s->tlb.enabled = json_is_true(v);
        return 0;
    }
    if (!json_is_object(v))
        return say(msg, VMSIM_EPARSE,
                   "expected false, true or an object of TLB sizes, got %s", type_name(v));
    s->tlb.enabled = true;
    json_object_foreach((json_t *)v, key, x) {
        size_t k;
        int64_t n = 0;
        int rc;

        for (k = 0; k < 6 && strcmp(key, keys[k]) != 0; k++)
            ;
        if (k == 6) {
            char q[96];

            return say(msg, VMSIM_EPARSE,
                       "unknown TLB key \"%s\" (use l1_4k, l1_2m, l1_1g, l2, ways, pcid)",
                       vmsim__quote(key, strlen(key), 40, q, sizeof(q)));
        }
        if (k == 5) {
            rc = get_bool(x, &s->tlb.pcid, msg);
        } else {
            rc = get_int(x, k == 4 ? 1 : 0, UINT32_MAX, &n, msg);
            if (rc == 0) {
                uint32_t *f[] = {&s->tlb.l1_4k, &s->tlb.l1_2m, &s->tlb.l1_1g, &s->tlb.l2,
                                 &s->tlb.ways};

                *f[k] = (uint32_t)n;
            }
        }
        if (rc < 0)
            return prefix_key(msg, key, rc);
        s->tlb_given |= 1u << k;
    }
    return 0;
}

static int parse_latency(struct vmsim__system *s, const json_t *v, char *msg)
{
    static const char *const names[] = {
#define XX(name, dflt, doc) #name,
        VMSIM_LATENCY_MAP(XX)
#undef XX
    };
    const char *key;
    json_t *x;

    if (!json_is_object(v))
        return say(msg, VMSIM_EPARSE, "expected an object of latencies in ns, got %s",
                   type_name(v));
    json_object_foreach((json_t *)v, key, x) {
        size_t k, n = sizeof(names) / sizeof(names[0]);
        uint64_t ns = 0;
        int rc;

        for (k = 0; k < n && strcmp(key, names[k]) != 0; k++)
            ;
        if (k == n) {
            char q[96], list[512] = "";
            size_t o = 0;

            for (size_t i = 0; i < n && o < sizeof(list); i++)
                o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                                      names[i]);
            return say(msg, VMSIM_EPARSE, "unknown latency \"%s\" (use %s)",
                       vmsim__quote(key, strlen(key), 40, q, sizeof(q)), list);
        }
        rc = get_count(x, &ns, msg);
        if (rc < 0)
            return prefix_key(msg, key, rc);
        {
            uint64_t *fields[] = {
#define XX(name, dflt, doc) &s->latency.name,
                VMSIM_LATENCY_MAP(XX)
#undef XX
            };
            *fields[k] = ns;
        }
        s->latency_given |= 1u << k;
    }
    return 0;
}

static int parse_hugepages(struct vmsim__system *s, const json_t *v, char *msg)
{
    const char *key;
    json_t *x;

    if (!json_is_object(v))
        return say(msg, VMSIM_EPARSE, "expected an object like {\"2MiB\": 4}, got %s",
                   type_name(v));
    json_object_foreach((json_t *)v, key, x) {
        uint64_t n = 0;
        int rc;

        if (strcmp(key, "2MiB") != 0 && strcmp(key, "1GiB") != 0) {
            char q[96];

            return say(msg, VMSIM_EPARSE, "unknown huge page size \"%s\" (use 2MiB, 1GiB)",
                       vmsim__quote(key, strlen(key), 40, q, sizeof(q)));
        }
        rc = get_count(x, &n, msg);
        if (rc < 0)
            return prefix_key(msg, key, rc);
        if (key[0] == '2')
            s->hugepages_2m = n;
        else
            s->hugepages_1g = n;
    }
    return 0;
}

static int parse_int_key(const json_t *v, int lo, int hi, int *out, char *msg)
{
    int64_t x = 0;
    int rc = get_int(v, lo, hi, &x, msg);

    if (rc == 0)
        *out = (int)x;
    return rc;
}

/* A multiple of 4 KiB in [lo, hi]. */
static int parse_pages_size(const json_t *v, uint64_t lo, uint64_t hi, uint64_t *out,
                            char *msg)
{
    uint64_t x = 0;
    int rc = get_size(v, &x, msg);

    if (rc < 0)
        return rc;
    if (x % VMSIM_PAGE_SIZE != 0)
        return say(msg, VMSIM_EPARSE, "%" PRIu64 " bytes is not a multiple of 4KiB", x);
    if (x < lo)
        return say(msg, VMSIM_ERANGE, "%" PRIu64 " bytes is below the minimum of %" PRIu64,
                   x, lo);
    if (x > hi)
        return say(msg, VMSIM_ERANGE,
                   "%" PRIu64 " bytes is more than the supported maximum of %" PRIu64
                   " (%" PRIu64 "GiB)",
                   x, hi, hi >> 30);
    *out = x;
    return 0;
}

static int parse_syskey(struct vmsim__system *s, vmsim__syskey key, const json_t *v, char *msg)
{
    int rc = 0, e = 0;

    switch (key) {
    case VMSIM__SYS_PROFILE:
        rc = get_enum(v, vmsim__profile_names, 2, &e, msg);
        s->profile = (vmsim_profile)e;
        break;
    case VMSIM__SYS_MEMORY:
        rc = parse_pages_size(v, VMSIM_MIN_MEMORY, VMSIM_MAX_MEMORY, &s->memory, msg);
        break;
    case VMSIM__SYS_SWAP:
        rc = parse_pages_size(v, 0, VMSIM_MAX_SWAP, &s->swap, msg);
        break;
    case VMSIM__SYS_POLICY: {
        const char *p = NULL;

        rc = get_nonempty(v, &p, msg);
        if (rc == 0 && strlen(p) > VMSIM__NAME_MAX)
            rc = say(msg, VMSIM_EPARSE, "a policy name has at most %d bytes", VMSIM__NAME_MAX);
        if (rc == 0)
            snprintf(s->policy, sizeof(s->policy), "%s", p);
        break;
    }
    case VMSIM__SYS_RESIDENT_LIMIT:
        rc = parse_pages_size(v, 0, VMSIM_MAX_MEMORY, &s->resident_limit, msg);
        break;
    case VMSIM__SYS_THP:
        rc = get_enum(v, vmsim__thp_names, 3, &e, msg);
        s->thp = (vmsim_thp_mode)e;
        break;
    case VMSIM__SYS_HUGEPAGES:
        rc = parse_hugepages(s, v, msg);
        break;
    case VMSIM__SYS_OVERCOMMIT_MEMORY:
        rc = parse_int_key(v, 0, 2, &s->overcommit_memory, msg);
        break;
    case VMSIM__SYS_OVERCOMMIT_RATIO:
        rc = parse_int_key(v, 0, INT32_MAX, &s->overcommit_ratio, msg);
        break;
    case VMSIM__SYS_PANIC_ON_OOM:
        rc = parse_int_key(v, 0, 2, &s->panic_on_oom, msg);
        break;
    case VMSIM__SYS_SWAPPINESS:
        rc = parse_int_key(v, 0, 200, &s->swappiness, msg);
        break;
    case VMSIM__SYS_PAGE_CLUSTER:
        rc = parse_int_key(v, 0, 31, &s->page_cluster, msg);
        break;
    case VMSIM__SYS_FAULT_AROUND_BYTES:
        rc = get_size(v, &s->fault_around_bytes, msg);
        if (rc == 0 && s->fault_around_bytes > 2 * MIB)
            rc = say(msg, VMSIM_ERANGE, "at most 2MiB (512 pages), as Linux");
        break;
    case VMSIM__SYS_READ_AHEAD_KB: {
        int64_t kb = 0;

        rc = get_int(v, 0, (int64_t)1 << 30, &kb, msg);
        s->read_ahead_kb = (uint64_t)kb;
        break;
    }
    case VMSIM__SYS_TLB:
        rc = parse_tlb(s, v, msg);
        break;
    case VMSIM__SYS_TRACK_DATA:
        rc = get_bool(v, &s->track_data, msg);
        break;
    case VMSIM__SYS_SEED:
        rc = get_count(v, &s->seed, msg);
        break;
    case VMSIM__SYS_LATENCY_NS:
        rc = parse_latency(s, v, msg);
        break;
    default:
        rc = say(msg, VMSIM_EPARSE, "unknown key");
        break;
    }
    if (rc == 0)
        s->present |= 1u << key;
    return rc;
}

static int parse_system(struct vmsim__system *s, const json_t *obj, vmsim_trace_error_t *err)
{
    const char *key;
    json_t *v;
    char msg[VMSIM__MSG_MAX], q[96];

    if (!json_is_object(obj))
        return vmsim__error_set(err, VMSIM_EPARSE, "\"system\" must be an object, got %s",
                                type_name(obj));
    json_object_foreach((json_t *)obj, key, v) {
        int k = vmsim__syskey_from_name(key);
        int rc;

        if (k < 0) {
            char list[512] = "";
            size_t o = 0;
            const char *n;

            for (size_t i = 0; (n = vmsim_trace_system_key(i)) != NULL && o < sizeof(list); i++)
                o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", n);
            return vmsim__error_set(err, VMSIM_EPARSE,
                                    "system: unknown key \"%s\" (expected one of %s)",
                                    vmsim__quote(key, strlen(key), 40, q, sizeof(q)), list);
        }
        rc = parse_syskey(s, (vmsim__syskey)k, v, msg);
        if (rc < 0)
            return vmsim__error_set(err, rc, "system \"%s\": %s", key, msg);
    }
    return 0;
}

int vmsim__system_override(struct vmsim__system *s, const char *key, const char *value,
                           vmsim_trace_error_t *err)
{
    char msg[VMSIM__MSG_MAX], q[96];
    vmsim_trace_error_t syntax;
    json_t *v;
    int k = vmsim__syskey_from_name(key), rc;

    if (k < 0)
        return vmsim__error_set(err, VMSIM_EPARSE, "unknown system key \"%s\" (command line)",
                                vmsim__quote(key, strlen(key), 40, q, sizeof(q)));
    v = vmsim__json_load(value, strlen(value), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &syntax);
    if (v == NULL)
        v = json_string(value); /* not JSON: the text itself */
    if (v == NULL)
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "system \"%s\" (command line): value is not valid UTF-8", key);
    rc = parse_syskey(s, (vmsim__syskey)k, v, msg);
    json_decref(v);
    if (rc < 0)
        return vmsim__error_set(err, rc, "system \"%s\" (command line): %s", key, msg);
    return 0;
}

/* ---- events ------------------------------------------------------------ */

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap : 16;
    void *p;

    if (need <= *cap)
        return 0;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return VMSIM_ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size)
        return VMSIM_ENOMEM;
    p = realloc(*arr, ncap * size);
    if (p == NULL)
        return VMSIM_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int add_check(struct vmsim__json_scratch *r, const struct vmsim__check *c)
{
    if (grow((void **)&r->checks, &r->cap_checks, r->nr_checks + 1, sizeof(*r->checks)) < 0)
        return VMSIM_ENOMEM;
    r->checks[r->nr_checks++] = *c;
    return 0;
}

static int parse_bytes_field(struct vmsim__json_scratch *r, const json_t *v, const uint8_t **out,
                             size_t *n, char *msg)
{
    const char *s = NULL;
    int rc = get_string(v, &s, msg);
    size_t need;

    if (rc < 0)
        return rc;
    need = strlen(s) / 2 + 1;
    if (grow((void **)&r->bytes, &r->cap_bytes, need, 1) < 0)
        return say(msg, VMSIM_ENOMEM, "out of memory");
    return vmsim__parse_bytes(s, r->bytes, r->cap_bytes, out, n, msg, VMSIM__MSG_MAX);
}

static int parse_pages(struct vmsim__json_scratch *r, const json_t *v, struct vmsim__event *ev,
                       char *msg)
{
    size_t n;

    if (!json_is_array(v))
        return say(msg, VMSIM_EPARSE, "expected a list of page indexes, got %s", type_name(v));
    n = json_array_size(v);
    if (grow((void **)&r->pages, &r->cap_pages, n + 1, sizeof(*r->pages)) < 0)
        return say(msg, VMSIM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(v, i);
        int64_t p = 0;
        int rc = get_int(x, 0, INT64_MAX >> VMSIM_PAGE_SHIFT, &p, msg);

        if (rc < 0) {
            char prefix[32];

            snprintf(prefix, sizeof(prefix), "page %zu: ", i);
            prepend(msg, VMSIM__MSG_MAX, prefix);
            return rc;
        }
        r->pages[i] = (uint64_t)p;
    }
    ev->pages = r->pages;
    ev->nr_pages = n;
    return 0;
}

static int parse_flags(const json_t *v, unsigned *out, char *msg)
{
    unsigned flags = 0;

    if (is_string(v))
        return vmsim__parse_mmap_flags(json_string_value(v), out, msg, VMSIM__MSG_MAX);
    if (!json_is_array(v))
        return say(msg, VMSIM_EPARSE,
                   "expected a list of flag names or a \"|\"-joined string, got %s",
                   type_name(v));
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *x = json_array_get(v, i);
        unsigned bit = 0;
        int rc;

        if (!is_string(x))
            return say(msg, VMSIM_EPARSE, "flag %zu: expected a string, got %s", i,
                       type_name(x));
        rc = vmsim__mmap_flag(json_string_value(x), json_string_length(x), &bit, msg,
                              VMSIM__MSG_MAX);
        if (rc < 0)
            return rc;
        flags |= bit;
    }
    *out = flags;
    return 0;
}

/* Parse one field of an event into ev. */
static int parse_field(struct vmsim__json_scratch *r, vmsim__field f, const json_t *v,
                       struct vmsim__event *ev, const json_t **sysctl_value, char *msg)
{
    int64_t x = 0;
    int rc = 0, e = 0;

    switch (f) {
    case VMSIM__F_PID:
    case VMSIM__F_CHILD:
        rc = get_int(v, 1, VMSIM__PID_MAX, &x, msg);
        if (rc == 0)
            *(f == VMSIM__F_PID ? &ev->pid : &ev->child) = (vmsim_pid_t)x;
        break;
    case VMSIM__F_NAME:
        rc = get_nonempty(v, &ev->name, msg);
        break;
    case VMSIM__F_OOM_SCORE_ADJ:
        rc = get_int(v, -1000, 1000, &x, msg);
        ev->oom_score_adj = (int)x;
        break;
    case VMSIM__F_ADDR:
        rc = get_addr(v, &ev->addr, msg);
        break;
    case VMSIM__F_PTR:
        rc = get_addr(v, &ev->ptr, msg);
        break;
    case VMSIM__F_BASE:
        rc = get_addr(v, &ev->base, msg);
        break;
    case VMSIM__F_LEN:
        rc = get_size(v, &ev->len, msg);
        break;
    case VMSIM__F_SIZE:
        rc = get_size(v, &ev->size, msg);
        break;
    case VMSIM__F_OFFSET:
        rc = get_size(v, &ev->offset, msg);
        break;
    case VMSIM__F_STRIDE:
        rc = get_size(v, &ev->stride, msg);
        if (rc == 0 && ev->stride == 0)
            rc = say(msg, VMSIM_EPARSE, "must be at least 1 byte");
        break;
    case VMSIM__F_PAGESIZE:
        rc = get_size(v, &ev->pagesize, msg);
        if (rc == 0 && ev->pagesize != 2 * MIB && ev->pagesize != GIB)
            rc = say(msg, VMSIM_EPARSE, "a huge page size is \"2MiB\" or \"1GiB\"");
        break;
    case VMSIM__F_PROT: {
        const char *s = NULL;

        rc = get_string(v, &s, msg);
        if (rc == 0)
            rc = vmsim__parse_prot(s, &ev->prot, msg, VMSIM__MSG_MAX);
        break;
    }
    case VMSIM__F_FLAGS:
        rc = parse_flags(v, &ev->flags, msg);
        break;
    case VMSIM__F_FILE:
        rc = get_nonempty(v, &ev->file, msg);
        break;
    case VMSIM__F_AS:
        rc = get_string(v, &ev->as, msg);
        if (rc == 0)
            rc = vmsim__check_region_name(ev->as, msg, VMSIM__MSG_MAX);
        break;
    case VMSIM__F_ADVICE:
        rc = get_enum(v, vmsim__advice_names, VMSIM__ADV__COUNT, &ev->advice, msg);
        break;
    case VMSIM__F_INCR:
        rc = get_ssize(v, &ev->incr, msg);
        break;
    case VMSIM__F_N:
        rc = get_count(v, &ev->n, msg);
        break;
    case VMSIM__F_DATA:
        rc = parse_bytes_field(r, v, &ev->data, &ev->data_len, msg);
        break;
    case VMSIM__F_EXPECT:
        rc = parse_bytes_field(r, v, &ev->expect_data, &ev->expect_len, msg);
        break;
    case VMSIM__F_ACCESS: {
        static const char *const kinds[] = {"r", "w"};

        rc = get_enum(v, kinds, 2, &e, msg);
        ev->access = e == 0 ? VMSIM_READ : VMSIM_WRITE;
        break;
    }
    case VMSIM__F_PAGES:
        rc = parse_pages(r, v, ev, msg);
        break;
    case VMSIM__F_KEY:
        rc = get_enum(v, vmsim__sysctl_names, VMSIM__SYSCTL__COUNT, &ev->sysctl, msg);
        break;
    case VMSIM__F_VALUE:
        *sysctl_value = v; /* read once the key is known */
        break;
    case VMSIM__F_WHAT: {
        const char *s = NULL;

        rc = get_string(v, &s, msg);
        if (rc == 0) {
            ev->report = vmsim_report_kind_from_name(s);
            if (ev->report < 0) {
                char q[96];

                rc = say(msg, VMSIM_EPARSE,
                         "unknown report \"%s\" (use free, meminfo, vmstat, maps, status, "
                         "pagetable)",
                         vmsim__quote(s, strlen(s), 40, q, sizeof(q)));
            }
        }
        break;
    }
    default:
        rc = say(msg, VMSIM_EPARSE, "unknown key");
        break;
    }
    return rc;
}

static int parse_counter_checks(struct vmsim__json_scratch *r, vmsim__check_key key,
                                const json_t *v, char *msg)
{
    const char *name;
    json_t *x;

    if (!json_is_object(v))
        return say(msg, VMSIM_EPARSE, "expected an object of counters, got %s", type_name(v));
    json_object_foreach((json_t *)v, name, x) {
        struct vmsim__check c = {.key = key};
        const char *known = NULL;
        int rc;

        for (size_t i = 0;; i++) {
            const char *n = key == VMSIM__CHECK_VMSTAT ? vmsim_vmstat_name(i)
                                                       : vmsim_meminfo_name(i);

            if (n == NULL)
                break;
            if (strcmp(n, name) == 0) {
                known = n;
                break;
            }
        }
        if (known == NULL) {
            char q[96];

            return say(msg, VMSIM_EPARSE, "unknown %s counter \"%s\"",
                       key == VMSIM__CHECK_VMSTAT ? "vmstat" : "meminfo",
                       vmsim__quote(name, strlen(name), 40, q, sizeof(q)));
        }
        c.counter = known;
        if (key == VMSIM__CHECK_VMSTAT || strncmp(name, "HugePages_", 10) == 0)
            rc = get_count(x, &c.u, msg);
        else
            rc = get_size(x, &c.u, msg);
        if (rc < 0)
            return prefix_key(msg, name, rc);
        c.text = check_text(x);
        if (add_check(r, &c) < 0)
            return say(msg, VMSIM_ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_check(struct vmsim__json_scratch *r, vmsim__check_key key, const json_t *v,
                       char *msg)
{
    struct vmsim__check c = {.key = key};
    int rc = 0, e = 0;

    switch (key) {
    case VMSIM__CHECK_MINFLT:
    case VMSIM__CHECK_MAJFLT:
    case VMSIM__CHECK_COW:
        rc = get_count(v, &c.u, msg);
        break;
    case VMSIM__CHECK_RSS:
    case VMSIM__CHECK_VMSIZE:
    case VMSIM__CHECK_SWAP:
    case VMSIM__CHECK_PTE:
        rc = get_size(v, &c.u, msg);
        break;
    case VMSIM__CHECK_ALIVE:
    case VMSIM__CHECK_OOM_KILLED:
    case VMSIM__CHECK_PANIC:
        rc = get_bool(v, &c.b, msg);
        break;
    case VMSIM__CHECK_SIGNAL:
        if (json_is_null(v)) {
            c.is_null = true;
        } else {
            rc = get_enum(v, vmsim__signal_names, 4, &e, msg);
            if (rc == 0)
                c.i = vmsim__signal_numbers[e];
        }
        break;
    case VMSIM__CHECK_SI_CODE:
        if (json_is_null(v)) {
            c.is_null = true;
        } else {
            rc = get_enum(v, vmsim__si_names, 5, &c.i, msg);
        }
        break;
    case VMSIM__CHECK_ERRNO:
        if (json_is_integer(v) && json_integer_value(v) == 0) {
            c.i = 0;
        } else if (is_string(v)) {
            c.i = vmsim_sys_errno_value(json_string_value(v));
            if (c.i < 0) {
                char q[96];
                const char *s = json_string_value(v);

                rc = say(msg, VMSIM_EPARSE, "unknown errno name \"%s\" (e.g. ENOMEM, EINVAL)",
                         vmsim__quote(s, strlen(s), 40, q, sizeof(q)));
            }
        } else {
            rc = say(msg, VMSIM_EPARSE, "expected 0 or an errno name like \"ENOMEM\", got %s",
                     json_is_integer(v) || big_digits(v) != NULL ? "a non-zero integer"
                                                                 : type_name(v));
        }
        break;
    case VMSIM__CHECK_VMSTAT:
    case VMSIM__CHECK_MEMINFO:
        return parse_counter_checks(r, key, v, msg);
    default:
        return say(msg, VMSIM_EPARSE, "unknown check");
    }
    if (rc < 0)
        return rc;
    c.text = check_text(v);
    if (add_check(r, &c) < 0)
        return say(msg, VMSIM_ENOMEM, "out of memory");
    return 0;
}

static int parse_sysctl_value(struct vmsim__event *ev, const json_t *v, char *msg)
{
    int e = 0;
    int rc;

    if (ev->sysctl == VMSIM__SYSCTL_THP_ENABLED) {
        rc = get_enum(v, vmsim__thp_names, 3, &e, msg);
        ev->value = e;
        return rc;
    }
    return get_int(v, vmsim__sysctl_range[ev->sysctl][0], vmsim__sysctl_range[ev->sysctl][1],
                   &ev->value, msg);
}

/* The keys op allows, for an "unknown key" message. */
static void allowed_list(vmsim__op op, char *buf, size_t len)
{
    size_t o = 0;

    buf[0] = '\0';
    for (int f = 0; f < VMSIM__F__COUNT && o < len; f++) {
        if (vmsim__op_allowed((vmsim__op)op) & ((uint64_t)1 << f))
            o += (size_t)snprintf(buf + o, len - o, "%s, ", vmsim__field_names[f]);
    }
    if (op == VMSIM__OP_EXPECT) {
        for (int k = 0; k < VMSIM__CHECK__COUNT && o < len; k++)
            o += (size_t)snprintf(buf + o, len - o, "%s, ",
                                  vmsim__check_key_name((vmsim__check_key)k));
    }
    if (o < len)
        snprintf(buf + o, len - o, "why");
}

static int lookup_field(const char *key)
{
    for (int f = 0; f < VMSIM__F__COUNT; f++) {
        if (strcmp(key, vmsim__field_names[f]) == 0)
            return f;
    }
    return -1;
}

static int lookup_check(const char *key)
{
    for (int k = 0; k < VMSIM__CHECK__COUNT; k++) {
        if (strcmp(key, vmsim__check_key_name((vmsim__check_key)k)) == 0)
            return k;
    }
    return -1;
}

/*
 * Parse and validate event `index` (the JSON value v) into *ev, using r's
 * scratch buffers. Returns 0 or a negative VMSIM_E* with *err filled.
 */
static int parse_event(struct vmsim__json_scratch *r, const json_t *v, uint64_t index,
                       struct vmsim__event *ev, vmsim_trace_error_t *err)
{
    const json_t *opv, *sysctl_value = NULL;
    const char *key;
    json_t *x;
    char msg[VMSIM__MSG_MAX], q[96];
    int op, rc;

    vmsim__event_init(ev, index);
    r->nr_checks = 0;
    if (!json_is_object(v)) {
        say(msg, VMSIM_EPARSE, "an event must be an object, got %s", type_name(v));
        return event_error(err, index, -1, VMSIM_EPARSE, msg);
    }
    opv = json_object_get(v, "op");
    if (opv == NULL)
        return event_error(err, index, -1, VMSIM_EPARSE, "missing \"op\"");
    if (!is_string(opv)) {
        say(msg, VMSIM_EPARSE, "\"op\" must be a string, got %s", type_name(opv));
        return event_error(err, index, -1, VMSIM_EPARSE, msg);
    }
    op = vmsim__op_from_name(json_string_value(opv), json_string_length(opv));
    if (op < 0) {
        say(msg, VMSIM_EPARSE, "unknown op \"%s\"",
            vmsim__quote(json_string_value(opv), json_string_length(opv), 40, q, sizeof(q)));
        return event_error(err, index, -1, VMSIM_EPARSE, msg);
    }
    ev->op = (vmsim__op)op;
    json_object_foreach((json_t *)v, key, x) {
        int f;

        if (strcmp(key, "op") == 0)
            continue;
        if (strcmp(key, "why") == 0) {
            rc = get_string(x, &ev->why, msg);
            if (rc < 0)
                return event_error(err, index, op, rc, (prefix_key(msg, key, rc), msg));
            continue;
        }
        f = lookup_field(key);
        if (f >= 0 && (vmsim__op_allowed((vmsim__op)op) & ((uint64_t)1 << f))) {
            rc = parse_field(r, (vmsim__field)f, x, ev, &sysctl_value, msg);
            if (rc < 0)
                return event_error(err, index, op, rc, (prefix_key(msg, key, rc), msg));
            ev->present |= (uint64_t)1 << f;
            continue;
        }
        if (op == VMSIM__OP_EXPECT && (f = lookup_check(key)) >= 0) {
            rc = parse_check(r, (vmsim__check_key)f, x, msg);
            if (rc < 0)
                return event_error(err, index, op, rc, (prefix_key(msg, key, rc), msg));
            continue;
        }
        {
            char list[400];

            allowed_list((vmsim__op)op, list, sizeof(list));
            say(msg, VMSIM_EPARSE, "unknown key \"%s\" (op \"%s\" takes %s)",
                vmsim__quote(key, strlen(key), 40, q, sizeof(q)), vmsim__op_name(ev->op),
                list);
            return event_error(err, index, op, VMSIM_EPARSE, msg);
        }
    }
    ev->checks = r->checks;
    ev->nr_checks = r->nr_checks;
    rc = vmsim__event_finish(ev, msg);
    if (rc < 0)
        return event_error(err, index, op, rc, msg);
    if (sysctl_value != NULL) {
        rc = parse_sysctl_value(ev, sysctl_value, msg);
        if (rc < 0)
            return event_error(err, index, op, rc, (prefix_key(msg, "value", rc), msg));
    }
    return 0;
}

int vmsim__json_event(struct vmsim__json_scratch *s, const json_t *v, uint64_t index,
                      struct vmsim__event *ev, vmsim_trace_error_t *err)
{
    return parse_event(s, v, index, ev, err);
}

void vmsim__json_scratch_free(struct vmsim__json_scratch *s)
{
    free(s->checks);
    free(s->pages);
    free(s->bytes);
    memset(s, 0, sizeof(*s));
}

/* ---- the header ------------------------------------------------------ */

int vmsim__json_header(struct vmsim__reader *r, const json_t *root, bool lines,
                       vmsim_trace_error_t *err)
{
    const json_t *ver, *sys;
    const char *key;
    json_t *v;
    char q[96];

    if (!json_is_object(root))
        return vmsim__error_set(err, VMSIM_EPARSE,
                                lines ? "the header must be a JSON object {\"vmsim\": 1, "
                                        "\"system\": {...}}, not %s"
                                      : "a trace is a JSON object {\"vmsim\": 1, ...}, not %s",
                                type_name(root));
    ver = json_object_get(root, "vmsim");
    if (ver == NULL)
        return vmsim__error_set(err, VMSIM_EPARSE,
                                lines ? "missing \"vmsim\": 1 (the format version) in the "
                                        "header"
                                      : "missing \"vmsim\": 1 (the format version) at the top "
                                        "level");
    if (big_digits(ver) != NULL)
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "unsupported trace format version %s (\"vmsim\": this reader "
                                "knows version 1)",
                                big_digits(ver));
    if (!json_is_integer(ver))
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "\"vmsim\" must be the integer 1 (the format version), got %s",
                                type_name(ver));
    if (json_integer_value(ver) != 1)
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "unsupported trace format version %" PRId64
                                " (\"vmsim\": this reader knows version 1)",
                                (int64_t)json_integer_value(ver));
    json_object_foreach((json_t *)root, key, v) {
        char **dst = NULL;

        if (strcmp(key, "vmsim") == 0 || strcmp(key, "system") == 0 ||
            (!lines && strcmp(key, "events") == 0))
            continue;
        if (strcmp(key, "name") == 0)
            dst = &r->name;
        else if (strcmp(key, "why") == 0)
            dst = &r->why;
        if (dst != NULL) {
            if (!is_string(v))
                return vmsim__error_set(err, VMSIM_EPARSE, "\"%s\" must be a string, got %s",
                                        key, type_name(v));
            free(*dst);
            *dst = strdup(json_string_value(v));
            if (*dst == NULL)
                return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
            continue;
        }
        if (lines && strcmp(key, "events") == 0)
            return vmsim__error_set(err, VMSIM_EPARSE,
                                    "\"events\" does not belong in the header (every event "
                                    "follows it on its own)");
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "unknown top-level key \"%s\" (expected vmsim, system, %sname, "
                                "why)",
                                vmsim__quote(key, strlen(key), 40, q, sizeof(q)),
                                lines ? "" : "events, ");
    }
    sys = json_object_get(root, "system");
    if (sys != NULL)
        return parse_system(&r->system, sys, err);
    return 0;
}

bool vmsim__jsonl_header_line(const char *buf, size_t len)
{
    vmsim_trace_error_t err;
    json_t *first = vmsim__json_load(buf, len, 0, &err);
    /* no "vmsim" needed: the JSON Lines reader then says it is missing */
    bool yes = first != NULL && json_is_object(first) && json_object_get(first, "events") == NULL;

    json_decref(first);
    return yes;
}

/* ---- integers past jansson's ---------------------------------------------- */

/* Whether the digits d[0, n) (no sign, no leading zero) are an integer from
 * 2^63 to 2^64 - 1. */
static bool past_int64(const char *d, size_t n)
{
    return (n == 19 && memcmp(d, "9223372036854775807", 19) > 0) ||
           (n == 20 && memcmp(d, "18446744073709551615", 20) <= 0);
}

/* Whether c can continue a JSON number token. */
static bool number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* What a rewritten integer starts with: a quote and BIG_MARK's escape. */
#define BIG_OPEN (sizeof("\"" BIG_MARK_JSON) - 1)

/* Whether buf[i, len) starts with the escape \u0000. */
static bool nul_escape(const char *buf, size_t len, size_t i)
{
    return len - i >= 6 && memcmp(buf + i, "\\u0000", 6) == 0;
}

/* The next integer literal from 2^63 to 2^64 - 1 outside strings and in a
 * value's place (not an object's key, which is a syntax error to leave to
 * jansson), scanning buf[*at, len) from outside any string: its start, *at
 * its end; len (and *at = len) when there is none. *nul is set when a
 * string on the way holds \u0000. */
static size_t next_big(const char *buf, size_t len, size_t *at, bool *nul)
{
    bool in_string = false;

    for (size_t i = *at; i < len; i++) {
        if (in_string) {
            if (buf[i] == '\\') {
                *nul |= nul_escape(buf, len, i);
                i++; /* the escaped byte goes with it */
            } else if (buf[i] == '"') {
                in_string = false;
            }
        } else if (buf[i] == '"') {
            in_string = true;
        } else if (buf[i] >= '1' && buf[i] <= '9' && (i == 0 || !number_char(buf[i - 1]))) {
            /* a number token: an integer unless a fraction or exponent follows */
            size_t j = i + 1, k;

            while (j < len && buf[j] >= '0' && buf[j] <= '9')
                j++;
            for (k = j; k < len && is_ws(buf[k]); k++)
                ;
            if ((j == len || !number_char(buf[j])) && (k == len || buf[k] != ':') &&
                past_int64(buf + i, j - i)) {
                *at = j;
                return i;
            }
            i = j - 1;
        }
    }
    *at = len;
    return len;
}

int vmsim__json_big_ints(const char *buf, size_t len, char **out, size_t *out_len)
{
    size_t found = 0, at = 0, from = 0, o = 0;
    bool nul = false;
    char *w;

    *out = NULL;
    while (next_big(buf, len, &at, &nul) < len)
        found++;
    if (found == 0 || nul)
        return 0; /* nothing to do, or a \u0000 of its own: jansson's error */
    if ((w = malloc(len + (BIG_OPEN + 1) * found + 1)) == NULL)
        return VMSIM_ENOMEM;
    for (at = 0;; from = at) {
        size_t start = next_big(buf, len, &at, &nul);

        memcpy(w + o, buf + from, start - from);
        o += start - from;
        if (start == len)
            break;
        memcpy(w + o, "\"" BIG_MARK_JSON, BIG_OPEN);
        o += BIG_OPEN;
        memcpy(w + o, buf + start, at - start);
        o += at - start;
        w[o++] = '"';
    }
    w[o] = '\0';
    *out = w;
    *out_len = o;
    return 0;
}

/* The offset in buf[0, len) of offset qpos of its rewritten text. */
static size_t unmap_big(const char *buf, size_t len, size_t qpos)
{
    size_t at = 0, shift = 0;
    bool nul = false;

    for (;;) {
        size_t start = next_big(buf, len, &at, &nul);

        if (start == len || qpos < start + shift)
            return qpos - shift < len ? qpos - shift : len;
        if (qpos < at + shift + BIG_OPEN + 1) {
            /* inside the rewritten literal: the same digit, or its start */
            size_t in = qpos - (start + shift);

            return in <= BIG_OPEN ? start : start + in - BIG_OPEN < at ? start + in - BIG_OPEN : at;
        }
        shift += BIG_OPEN + 1;
    }
}

/* jansson's message quotes the text near the error: a rewritten literal
 * there goes back to its digits. */
static void unquote_big(char *text)
{
    static const char open[] = "\"" BIG_MARK_JSON;
    char *p;

    while ((p = strstr(text, open)) != NULL) {
        size_t d = strspn(p + BIG_OPEN, "0123456789");
        bool close = p[BIG_OPEN + d] == '"';

        memmove(p, p + BIG_OPEN, d);
        memmove(p + d, p + BIG_OPEN + d + close, strlen(p + BIG_OPEN + d + close) + 1);
    }
}

json_t *vmsim__json_load(const char *buf, size_t len, size_t flags, vmsim_trace_error_t *err)
{
    char *quoted = NULL;
    size_t qlen = 0;
    json_error_t je;
    json_t *v;

    if (vmsim__json_big_ints(buf, len, &quoted, &qlen) < 0) {
        vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
        return NULL;
    }
    /* the marks are \u0000s: allowed then, and only then */
    v = json_loadb(quoted != NULL ? quoted : buf, quoted != NULL ? qlen : len,
                   quoted != NULL ? flags | JSON_ALLOW_NUL : flags, &je);
    if (v == NULL) {
        if (quoted != NULL) {
            size_t at = unmap_big(buf, len, je.position < 0 ? 0 : (size_t)je.position), st = at;

            je.position = (int)at;
            unquote_big(je.text);
            /* jansson names no string near an error; it would the number */
            while (st > 0 && buf[st - 1] >= '0' && buf[st - 1] <= '9')
                st--;
            if (past_int64(buf + st, at - st) && strstr(je.text, " near ") == NULL &&
                strlen(je.text) + at - st + 9 < sizeof(je.text))
                sprintf(je.text + strlen(je.text), " near '%.*s'", (int)(at - st), buf + st);
        }
        vmsim__json_syntax_error(buf, len, &je, err);
    }
    free(quoted);
    return v;
}

/* ---- syntax errors ------------------------------------------------------ */

static const char big_text[] = " (overflows 64 bits; give large values as strings)";
static const char nul_text[] = "\\u0000 is not allowed without JSON_ALLOW_NUL";

int vmsim__json_syntax_error(const char *buf, size_t len, const json_error_t *je,
                             vmsim_trace_error_t *err)
{
    char text[sizeof(je->text) * 4];

    copy_sanitized(text, sizeof(text), je->text);
    if (strncmp(text, "too big", 7) == 0 && strstr(text, "integer") != NULL) {
        /* "too big integer near '...'": say which limit */
        char *near = strstr(text, " near ");

        if (near != NULL)
            prepend(near, sizeof(text) - (size_t)(near - text), big_text);
        else if (strlen(text) + sizeof(big_text) < sizeof(text))
            strcat(text, big_text);
    }
    if (strncmp(text, nul_text, sizeof(nul_text) - 1) == 0) {
        /* jansson names its own flag; say what it means instead */
        memmove(text, text + sizeof(nul_text) - 1, strlen(text) - sizeof(nul_text) + 2);
        prepend(text, sizeof(text), "\\u0000 is not allowed in a string");
    }
    locate(buf, len, je, &err->line, &err->column);
    return vmsim__error_set(err, VMSIM_EPARSE, "%s", text);
}

int vmsim__json_no_nul(const char *buf, size_t len, vmsim_trace_error_t *err)
{
    const char *nul = memchr(buf, '\0', len);

    if (nul == NULL)
        return 0;
    /* jansson would take it for the end of the text; say what it is */
    place_of(buf, (size_t)(nul - buf), &err->line, &err->column);
    return vmsim__error_set(err, VMSIM_EPARSE,
                            "a NUL byte (a JSON text holds none; is this a binary file?)");
}

/* ---- the JSON document reader -------------------------------------------- */

struct json_reader {
    struct vmsim__reader base;
    json_t *root;
    json_t *events; /* borrowed from root */
    size_t next;
    struct vmsim__json_scratch scratch;
    struct vmsim__event ev;
};

static int json_next(struct vmsim__reader *base, const struct vmsim__event **ev,
                     vmsim_trace_error_t *err)
{
    struct json_reader *r = (struct json_reader *)base;
    int rc;

    if (r->next >= json_array_size(r->events))
        return 0;
    rc = parse_event(&r->scratch, json_array_get(r->events, r->next), r->next, &r->ev, err);
    if (rc < 0)
        return rc;
    r->next++;
    *ev = &r->ev;
    return 1;
}

static void json_close(struct vmsim__reader *base)
{
    struct json_reader *r = (struct json_reader *)base;

    json_decref(r->root);
    vmsim__json_scratch_free(&r->scratch);
    vmsim__reader_fini(&r->base);
    free(r);
}

static const struct vmsim__reader_ops json_ops = {
    .name = "json",
    .next = json_next,
    .close = json_close,
};

/* Check the top level and the system object, then every event. */
static int check_document(struct json_reader *r, vmsim_trace_error_t *err)
{
    const json_t *events;
    int rc = vmsim__json_header(&r->base, r->root, false, err);

    if (rc < 0)
        return rc;
    events = json_object_get(r->root, "events");
    if (events == NULL)
        return vmsim__error_set(err, VMSIM_EPARSE, "missing \"events\" (a list of events)");
    if (!json_is_array(events))
        return vmsim__error_set(err, VMSIM_EPARSE, "\"events\" must be a list, got %s",
                                type_name(events));
    r->events = (json_t *)events;
    for (size_t i = 0; i < json_array_size(events); i++) {
        rc = parse_event(&r->scratch, json_array_get(events, i), i, &r->ev, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool only_blank(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_ws(buf[i]))
            return false;
    }
    return true;
}

int vmsim__json_open(struct vmsim__input *in, struct vmsim__reader **out,
                     vmsim_trace_error_t *err)
{
    struct json_reader *r = calloc(1, sizeof(*r));
    char *text = NULL;
    const char *buf;
    size_t len = 0;
    int rc;

    if (r == NULL) {
        vmsim__input_close(in);
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    }
    vmsim__reader_init(&r->base, &json_ops, err, in);
    rc = vmsim__input_slurp(in, &text, &len, err);
    vmsim__input_close(in);
    if (rc < 0)
        goto fail;
    buf = text;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte-order mark */
        buf += 3;
        len -= 3;
    }
    if (only_blank(buf, len)) {
        err->line = 1;
        err->column = 1;
        rc = vmsim__error_set(err, VMSIM_EPARSE, "empty trace (expected a JSON object)");
        goto fail;
    }
    if ((rc = vmsim__json_no_nul(buf, len, err)) < 0)
        goto fail;
    if ((r->root = vmsim__json_load(buf, len, JSON_REJECT_DUPLICATES, err)) == NULL) {
        rc = err->code;
        goto fail;
    }
    free(text); /* jansson copied what it needs */
    text = NULL;
    if ((rc = check_document(r, err)) < 0)
        goto fail;
    *out = &r->base;
    return 0;
fail:
    free(text);
    json_close(&r->base);
    return rc;
}

/* ---- writing: events and headers as JSON --------------------------------- */

/* A size or count: an integer when JSON holds it, else a hex string. */
static json_t *json_u64(uint64_t v)
{
    char buf[24];

    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return json_string(buf);
}

static json_t *json_addr(const struct vmsim__addr *a)
{
    char buf[VMSIM__NAME_MAX + 32];

    if (a->name == NULL)
        snprintf(buf, sizeof(buf), "0x%" PRIx64, a->value);
    else if (a->value == 0 && !a->minus)
        snprintf(buf, sizeof(buf), "%.*s", (int)a->name_len, a->name);
    else
        snprintf(buf, sizeof(buf), "%.*s%c0x%" PRIx64, (int)a->name_len, a->name,
                 a->minus ? '-' : '+', a->value);
    return json_string(buf);
}

/* Bytes as the string itself when that reads back the same (printable
 * ASCII not starting "0x"), else as "0x" and hex pairs. */
static json_t *json_bytes(const uint8_t *p, size_t n)
{
    bool plain = !(n >= 2 && p[0] == '0' && p[1] == 'x');
    char *hex;
    json_t *v;

    for (size_t i = 0; plain && i < n; i++)
        plain = p[i] >= 0x20 && p[i] < 0x7f;
    if (plain)
        return json_stringn((const char *)p, n);
    hex = malloc(2 * n + 3);
    if (hex == NULL)
        return NULL;
    memcpy(hex, "0x", 2);
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", p[i]);
    v = json_stringn(hex, 2 * n + 2);
    free(hex);
    return v;
}

static json_t *json_prot(unsigned prot)
{
    char buf[4];
    size_t o = 0;

    if (prot & VMSIM_PROT_READ)
        buf[o++] = 'r';
    if (prot & VMSIM_PROT_WRITE)
        buf[o++] = 'w';
    if (prot & VMSIM_PROT_EXEC)
        buf[o++] = 'x';
    buf[o] = '\0';
    return json_string(o == 0 ? "none" : buf);
}

static json_t *json_flags(unsigned flags)
{
    char buf[128];
    size_t o = 0;

    buf[0] = '\0';
    for (unsigned bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
        const char *name = (flags & bit) ? vmsim__mmap_flag_name(bit) : NULL;

        if (name != NULL && o < sizeof(buf))
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "|" : "", name);
    }
    return json_string(buf);
}

static json_t *json_check_value(const struct vmsim__check *c)
{
    if (c->text != NULL)
        return json_string(c->text);
    switch (c->key) {
    case VMSIM__CHECK_ALIVE:
    case VMSIM__CHECK_OOM_KILLED:
    case VMSIM__CHECK_PANIC:
        return json_boolean(c->b);
    case VMSIM__CHECK_SIGNAL:
        if (c->is_null)
            return json_null();
        for (int i = 0; i < VMSIM__NR_SIGNALS; i++) {
            if (vmsim__signal_numbers[i] == c->i)
                return json_string(vmsim__signal_names[i]);
        }
        return NULL;
    case VMSIM__CHECK_SI_CODE:
        if (c->is_null)
            return json_null();
        return c->i >= 0 && c->i < VMSIM__NR_SI_CODES ? json_string(vmsim__si_names[c->i])
                                                      : NULL;
    case VMSIM__CHECK_ERRNO:
        if (c->i == 0)
            return json_integer(0);
        return vmsim_sys_errno_name(c->i) != NULL ? json_string(vmsim_sys_errno_name(c->i))
                                                  : NULL;
    default:
        return json_u64(c->u);
    }
}

/* Set key to v in o, taking v; false when v is NULL or o refuses it. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

static bool put_checks(json_t *o, const struct vmsim__event *ev)
{
    for (size_t i = 0; i < ev->nr_checks; i++) {
        const struct vmsim__check *c = &ev->checks[i];
        const char *key = vmsim__check_key_name(c->key);

        if (c->key == VMSIM__CHECK_VMSTAT || c->key == VMSIM__CHECK_MEMINFO) {
            json_t *sub = json_object_get(o, key);

            if (sub == NULL && !put(o, key, sub = json_object()))
                return false;
            if (!put(sub, c->counter, json_check_value(c)))
                return false;
        } else if (!put(o, key, json_check_value(c))) {
            return false;
        }
    }
    return true;
}

static json_t *json_field(const struct vmsim__event *ev, vmsim__field f)
{
    switch (f) {
    case VMSIM__F_PID:
        return json_integer(ev->pid);
    case VMSIM__F_CHILD:
        return json_integer(ev->child);
    case VMSIM__F_NAME:
        return json_string(ev->name);
    case VMSIM__F_OOM_SCORE_ADJ:
        return json_integer(ev->oom_score_adj);
    case VMSIM__F_ADDR:
        return json_addr(&ev->addr);
    case VMSIM__F_PTR:
        return json_addr(&ev->ptr);
    case VMSIM__F_BASE:
        return json_addr(&ev->base);
    case VMSIM__F_LEN:
        return json_u64(ev->len);
    case VMSIM__F_SIZE:
        return json_u64(ev->size);
    case VMSIM__F_OFFSET:
        return json_u64(ev->offset);
    case VMSIM__F_STRIDE:
        return json_u64(ev->stride);
    case VMSIM__F_PAGESIZE:
        return json_string(ev->pagesize == GIB ? "1GiB" : "2MiB");
    case VMSIM__F_N:
        return json_u64(ev->n);
    case VMSIM__F_PROT:
        return json_prot(ev->prot);
    case VMSIM__F_FLAGS:
        return json_flags(ev->flags);
    case VMSIM__F_FILE:
        return json_string(ev->file);
    case VMSIM__F_AS:
        return json_string(ev->as);
    case VMSIM__F_ADVICE:
        return json_string(vmsim__advice_names[ev->advice]);
    case VMSIM__F_INCR:
        return json_integer(ev->incr);
    case VMSIM__F_DATA:
        return json_bytes(ev->data, ev->data_len);
    case VMSIM__F_EXPECT:
        return json_bytes(ev->expect_data, ev->expect_len);
    case VMSIM__F_ACCESS:
        return json_string(ev->access == VMSIM_READ ? "r" : "w");
    case VMSIM__F_PAGES: {
        json_t *a = json_array();

        for (size_t i = 0; a != NULL && i < ev->nr_pages; i++) {
            if (json_array_append_new(a, json_u64(ev->pages[i])) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case VMSIM__F_KEY:
        return json_string(vmsim__sysctl_names[ev->sysctl]);
    case VMSIM__F_VALUE:
        if (ev->sysctl == VMSIM__SYSCTL_THP_ENABLED)
            return json_string(vmsim__thp_names[ev->value]);
        return json_integer(ev->value);
    case VMSIM__F_WHAT:
        return json_string(vmsim__report_name(ev->report));
    default:
        return NULL;
    }
}

json_t *vmsim__json_from_event(const struct vmsim__event *ev)
{
    json_t *o = json_object();

    if (o == NULL || !put(o, "op", json_string(vmsim__op_name(ev->op))))
        goto fail;
    for (int f = 0; f < VMSIM__F__COUNT; f++) {
        if ((ev->present >> f & 1) && !put(o, vmsim__field_names[f], json_field(ev, f)))
            goto fail;
    }
    if (ev->op == VMSIM__OP_EXPECT && !put_checks(o, ev))
        goto fail;
    if (ev->why != NULL && !put(o, "why", json_string(ev->why)))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *json_system(const struct vmsim__system *s)
{
    static const char *const tlb_keys[] = {"l1_4k", "l1_2m", "l1_1g", "l2", "ways", "pcid"};
    static const char *const latency_names[] = {
#define XX(name, dflt, doc) #name,
        VMSIM_LATENCY_MAP(XX)
#undef XX
    };
    const uint64_t latency[] = {
#define XX(name, dflt, doc) s->latency.name,
        VMSIM_LATENCY_MAP(XX)
#undef XX
    };
    json_t *o = json_object();

    for (int k = 0; o != NULL && k < VMSIM__SYS__COUNT; k++) {
        const char *key = vmsim_trace_system_key((size_t)k);
        json_t *v = NULL;

        if (!(s->present >> k & 1))
            continue;
        switch ((vmsim__syskey)k) {
        case VMSIM__SYS_PROFILE:
            v = json_string(vmsim__profile_names[s->profile]);
            break;
        case VMSIM__SYS_MEMORY:
            v = json_u64(s->memory);
            break;
        case VMSIM__SYS_SWAP:
            v = json_u64(s->swap);
            break;
        case VMSIM__SYS_POLICY:
            v = json_string(s->policy);
            break;
        case VMSIM__SYS_RESIDENT_LIMIT:
            v = json_u64(s->resident_limit);
            break;
        case VMSIM__SYS_THP:
            v = json_string(vmsim__thp_names[s->thp]);
            break;
        case VMSIM__SYS_HUGEPAGES:
            v = json_pack("{s:I, s:I}", "2MiB", (json_int_t)s->hugepages_2m, "1GiB",
                          (json_int_t)s->hugepages_1g);
            break;
        case VMSIM__SYS_OVERCOMMIT_MEMORY:
            v = json_integer(s->overcommit_memory);
            break;
        case VMSIM__SYS_OVERCOMMIT_RATIO:
            v = json_integer(s->overcommit_ratio);
            break;
        case VMSIM__SYS_PANIC_ON_OOM:
            v = json_integer(s->panic_on_oom);
            break;
        case VMSIM__SYS_SWAPPINESS:
            v = json_integer(s->swappiness);
            break;
        case VMSIM__SYS_PAGE_CLUSTER:
            v = json_integer(s->page_cluster);
            break;
        case VMSIM__SYS_FAULT_AROUND_BYTES:
            v = json_u64(s->fault_around_bytes);
            break;
        case VMSIM__SYS_READ_AHEAD_KB:
            v = json_u64(s->read_ahead_kb);
            break;
        case VMSIM__SYS_TLB: {
            const uint32_t sizes[] = {s->tlb.l1_4k, s->tlb.l1_2m, s->tlb.l1_1g, s->tlb.l2,
                                      s->tlb.ways};

            if (!s->tlb.enabled || s->tlb_given == 0) {
                v = json_boolean(s->tlb.enabled);
                break;
            }
            v = json_object();
            for (int i = 0; v != NULL && i < 6; i++) {
                if ((s->tlb_given >> i & 1) &&
                    !put(v, tlb_keys[i], i == 5 ? json_boolean(s->tlb.pcid)
                                                : json_integer(sizes[i]))) {
                    json_decref(v);
                    v = NULL;
                }
            }
            break;
        }
        case VMSIM__SYS_TRACK_DATA:
            v = json_boolean(s->track_data);
            break;
        case VMSIM__SYS_SEED:
            v = json_u64(s->seed);
            break;
        case VMSIM__SYS_LATENCY_NS:
            v = json_object();
            for (size_t i = 0; v != NULL && i < sizeof(latency) / sizeof(latency[0]); i++) {
                if ((s->latency_given >> i & 1) &&
                    !put(v, latency_names[i], json_u64(latency[i]))) {
                    json_decref(v);
                    v = NULL;
                }
            }
            break;
        default:
            break;
        }
        if (!put(o, key, v)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *vmsim__json_header_object(const struct vmsim__reader *rd)
{
    json_t *o = json_object();

    if (o == NULL || !put(o, "vmsim", json_integer(1)) ||
        (rd->name != NULL && !put(o, "name", json_string(rd->name))) ||
        (rd->why != NULL && !put(o, "why", json_string(rd->why))) ||
        !put(o, "system", json_system(&rd->system))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the JSON and JSON Lines writers -------------------------------------- */

struct json_writer {
    struct vmsim__writer base;
    bool lines;
    uint64_t n;
};

static int oom(vmsim_trace_error_t *err)
{
    return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory writing JSON");
}

/* Write v (taken) as one JSON text, then `after`. */
static int write_json(struct json_writer *w, const char *before, json_t *v, const char *after,
                      bool drop_last, vmsim_trace_error_t *err)
{
    char *text;
    size_t n;
    int rc;

    if (v == NULL)
        return oom(err);
    text = json_dumps(v, JSON_PRESERVE_ORDER);
    json_decref(v);
    if (text == NULL)
        return oom(err);
    n = strlen(text) - (drop_last ? 1 : 0);
    rc = vmsim__output_write(w->base.out, before, strlen(before), err);
    if (rc == 0)
        rc = vmsim__output_write(w->base.out, text, n, err);
    if (rc == 0)
        rc = vmsim__output_write(w->base.out, after, strlen(after), err);
    free(text);
    return rc;
}

static int json_begin(struct vmsim__writer *base, const struct vmsim__reader *rd,
                      vmsim_trace_error_t *err)
{
    struct json_writer *w = (struct json_writer *)base;

    /* The document: the header object, left open for "events". */
    return write_json(w, "", vmsim__json_header_object(rd),
                      w->lines ? "\n" : ",\n \"events\": [", !w->lines, err);
}

static int json_event(struct vmsim__writer *base, const struct vmsim__event *ev,
                      vmsim_trace_error_t *err)
{
    struct json_writer *w = (struct json_writer *)base;
    const char *before = w->lines ? "" : w->n > 0 ? ",\n  " : "\n  ";

    w->n++;
    return write_json(w, before, vmsim__json_from_event(ev), w->lines ? "\n" : "", false, err);
}

static int json_end(struct vmsim__writer *base, vmsim_trace_error_t *err)
{
    struct json_writer *w = (struct json_writer *)base;

    if (w->lines)
        return 0;
    return vmsim__output_write(w->base.out, "\n]}\n", 4, err);
}

static void json_writer_free(struct vmsim__writer *base) { free(base); }

static const struct vmsim__writer_ops json_writer_ops = {
    .name = "json", .begin = json_begin, .event = json_event, .end = json_end,
    .free = json_writer_free,
};

int vmsim__json_writer_new(bool lines, struct vmsim__output *out, struct vmsim__writer **wp)
{
    struct json_writer *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return VMSIM_ENOMEM;
    w->base.ops = &json_writer_ops;
    w->base.out = out;
    w->lines = lines;
    *wp = &w->base;
    return 0;
}
