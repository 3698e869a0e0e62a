/*
 * events.c -- the event stream: one library event (vmsim_event_t, from the
 * machine's event callback) as one line of JSON, the format of
 * `vmsim replay --events FILE` (docs/trace-format.md, "The event stream").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

static const char *const type_names[] = {
#define XX(id, name) name,
    VMSIM_EVENT_MAP(XX)
#undef XX
};

/* VMSIM_OUT_* bits by position. */
static const char *const outcome_names[] = {
    "minor", "major",    "cow",  "huge", "fallback", "zero",
    "reuse", "tlb_miss", "segv", "bus",  "panic",    "oom",
};

static const char *signal_name(int sig)
{
    for (int i = 0; i < VMSIM__NR_SIGNALS; i++) {
        if (vmsim__signal_numbers[i] == sig)
            return vmsim__signal_names[i];
    }
    return NULL;
}

/*
 * The line is built as snprintf would write it: what fits in buf (len
 * bytes, the last kept for the NUL) is written, *o counts the whole text.
 * No printf: the replay of a trace with --events, and the fuzz targets,
 * render every event; vsnprintf per field was 88 % of a fuzzed JSON Lines
 * replay, a byte at a time still half (callgrind, 2026-11-22), so whole
 * pieces are copied when they fit.
 */
static void add_n(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
    if (*o + n < len) {
        memcpy(buf + *o, s, n);
    } else {
        for (size_t i = 0; i < n; i++)
            if (*o + i + 1 < len)
                buf[*o + i] = s[i];
    }
    *o += n;
}

static void add_char(char *buf, size_t len, size_t *o, char c)
{
    add_n(buf, len, o, &c, 1);
}

static void add(char *buf, size_t len, size_t *o, const char *s)
{
    add_n(buf, len, o, s, strlen(s));
}

static void add_u64(char *buf, size_t len, size_t *o, uint64_t v, unsigned base)
{
    char digits[24];
    int n = (int)sizeof(digits);

    do {
        digits[--n] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    add_n(buf, len, o, digits + n, sizeof(digits) - (size_t)n);
}

static void add_int(char *buf, size_t len, size_t *o, int v)
{
    if (v < 0) {
        add_char(buf, len, o, '-');
        add_u64(buf, len, o, -(uint64_t)(int64_t)v, 10);
    } else {
        add_u64(buf, len, o, (uint64_t)v, 10);
    }
}

/* A JSON string of a short static word (escaped, for safety). */
static void add_string(char *buf, size_t len, size_t *o, const char *s)
{
    add_char(buf, len, o, '"');
    while (s != NULL && *s != '\0') {
        size_t plain = 0;
        unsigned char c;

        while (s[plain] != '\0' && s[plain] != '"' && s[plain] != '\\' &&
               (unsigned char)s[plain] >= 0x20)
            plain++;
        add_n(buf, len, o, s, plain);
        s += plain;
        c = (unsigned char)*s;
        if (c == '\0')
            break;
        if (c == '"' || c == '\\') {
            add_char(buf, len, o, '\\');
            add_char(buf, len, o, (char)c);
        } else {
            add(buf, len, o, "\\u00");
            add_char(buf, len, o, "0123456789abcdef"[c >> 4]);
            add_char(buf, len, o, "0123456789abcdef"[c & 15]);
        }
        s++;
    }
    add_char(buf, len, o, '"');
}

int vmsim_event_json(const vmsim_event_t *ev, char *buf, size_t len)
{
    size_t o = 0;
    bool first = true;

    if (buf == NULL)
        len = 0;
    add(buf, len, &o, "{\"seq\":");
    add_u64(buf, len, &o, ev->seq, 10);
    add(buf, len, &o, ",\"type\":");
    if ((unsigned)ev->type < VMSIM_EV__COUNT) {
        add_string(buf, len, &o, type_names[ev->type]);
    } else {
        add_char(buf, len, &o, '"');
        add_int(buf, len, &o, (int)ev->type);
        add_char(buf, len, &o, '"');
    }
    add(buf, len, &o, ",\"pid\":");
    add_int(buf, len, &o, (int)ev->pid);
    add(buf, len, &o, ",\"va\":\"0x");
    add_u64(buf, len, &o, ev->va, 16);
    add(buf, len, &o, "\",\"pfn\":");
    if (ev->pfn == UINT64_MAX)
        add(buf, len, &o, "null");
    else
        add_u64(buf, len, &o, (uint64_t)ev->pfn, 10);
    add(buf, len, &o, ",\"outcome\":[");
    for (unsigned bits = ev->outcome; bits != 0; bits &= bits - 1) {
        unsigned bit = (unsigned)__builtin_ctz(bits);

        if (!first)
            add_char(buf, len, &o, ',');
        first = false;
        if (bit < sizeof(outcome_names) / sizeof(outcome_names[0])) {
            add_string(buf, len, &o, outcome_names[bit]);
        } else {
            add(buf, len, &o, "\"bit");
            add_u64(buf, len, &o, bit, 10);
            add_char(buf, len, &o, '"');
        }
    }
    add(buf, len, &o, "],\"cause\":");
    if (ev->cause != NULL)
        add_string(buf, len, &o, ev->cause);
    else
        add(buf, len, &o, "null");
    if (ev->type == VMSIM_EV_SIGNAL) {
        const char *sig = signal_name(ev->signal);
        const char *si = vmsim__si_code_name(ev->signal, ev->si_code);

        add(buf, len, &o, ",\"signal\":");
        if (sig != NULL)
            add_string(buf, len, &o, sig);
        else
            add_int(buf, len, &o, ev->signal);
        add(buf, len, &o, ",\"si_code\":");
        if (si != NULL)
            add_string(buf, len, &o, si);
        else
            add_int(buf, len, &o, ev->si_code);
    }
    add_char(buf, len, &o, '}');
    if (len > 0)
        buf[o < len ? o : len - 1] = '\0';
    return (int)o;
}
