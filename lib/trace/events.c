/*
 * events.c -- the event stream: one library event (vmsim_event_t, from the
 * machine's event callback) as one line of JSON, the format of
 * `vmsim replay --events FILE` (docs/trace-format.md, "The event stream").
 */
#include <inttypes.h>
#include <stdarg.h>
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

/* Append to buf (len bytes) at *o, as snprintf; *o counts what the full
 * text needs. */
__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t len, size_t *o,
                                                      const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(*o < len ? buf + *o : NULL, *o < len ? len - *o : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        *o += (size_t)k;
}

/* A JSON string of a short static word (escaped, for safety). */
static void add_string(char *buf, size_t len, size_t *o, const char *s)
{
    add(buf, len, o, "\"");
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            add(buf, len, o, "\\%c", c);
        else if (c < 0x20)
            add(buf, len, o, "\\u%04x", c);
        else
            add(buf, len, o, "%c", c);
    }
    add(buf, len, o, "\"");
}

int vmsim_event_json(const vmsim_event_t *ev, char *buf, size_t len)
{
    size_t o = 0;
    bool first = true;

    if (buf != NULL && len > 0)
        buf[0] = '\0';
    else
        len = 0;
    add(buf, len, &o, "{\"seq\":%" PRIu64 ",\"type\":", ev->seq);
    if ((unsigned)ev->type < VMSIM_EV__COUNT)
        add_string(buf, len, &o, type_names[ev->type]);
    else
        add(buf, len, &o, "\"%d\"", (int)ev->type);
    add(buf, len, &o, ",\"pid\":%d,\"va\":\"0x%" PRIx64 "\",\"pfn\":", (int)ev->pid, ev->va);
    if (ev->pfn == UINT64_MAX)
        add(buf, len, &o, "null");
    else
        add(buf, len, &o, "%" PRIu64, (uint64_t)ev->pfn);
    add(buf, len, &o, ",\"outcome\":[");
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(ev->outcome >> bit & 1u))
            continue;
        add(buf, len, &o, "%s", first ? "" : ",");
        first = false;
        if (bit < sizeof(outcome_names) / sizeof(outcome_names[0]))
            add(buf, len, &o, "\"%s\"", outcome_names[bit]);
        else
            add(buf, len, &o, "\"bit%u\"", bit);
    }
    add(buf, len, &o, "],\"cause\":");
    if (ev->cause != NULL)
        add_string(buf, len, &o, ev->cause);
    else
        add(buf, len, &o, "null");
    if (ev->type == VMSIM_EV_SIGNAL) {
        const char *sig = signal_name(ev->signal);
        const char *si = vmsim__si_code_name(ev->signal, ev->si_code);

        if (sig != NULL)
            add(buf, len, &o, ",\"signal\":\"%s\"", sig);
        else
            add(buf, len, &o, ",\"signal\":%d", ev->signal);
        if (si != NULL)
            add(buf, len, &o, ",\"si_code\":\"%s\"", si);
        else
            add(buf, len, &o, ",\"si_code\":%d", ev->si_code);
    }
    add(buf, len, &o, "}");
    return (int)o;
}
