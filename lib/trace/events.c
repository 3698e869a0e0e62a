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
 * The line is built byte by byte, as snprintf would write it: what fits in
 * buf (len bytes, the last kept for the NUL) is written, *o counts the
 * whole text. No printf here: the replay of a trace with --events, and the
 * fuzz targets, render every event, and vsnprintf per field was 88 % of a
 * fuzzed JSON Lines replay (callgrind, 2026-11-22).
 */
static void add_char(char *buf, size_t len, size_t *o, char c)
{
    if (*o + 1 < len)
        buf[*o] = c;
    (*o)++;
}

static void add(char *buf, size_t len, size_t *o, const char *s)
{
    for (; *s != '\0'; s++)
        add_char(buf, len, o, *s);
}

static void add_u64(char *buf, size_t len, size_t *o, uint64_t v, unsigned base)
{
    char digits[24];
    int n = 0;

    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n > 0)
        add_char(buf, len, o, digits[--n]);
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
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            add_char(buf, len, o, '\\');
            add_char(buf, len, o, (char)c);
        } else if (c < 0x20) {
            add(buf, len, o, "\\u00");
            add_char(buf, len, o, "0123456789abcdef"[c >> 4]);
            add_char(buf, len, o, "0123456789abcdef"[c & 15]);
        } else {
            add_char(buf, len, o, (char)c);
        }
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
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(ev->outcome >> bit & 1u))
            continue;
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
