/*
 * trace/json.h -- the JSON layer shared by the JSON document, JSON Lines
 * and binary (.vmtr, whose header is JSON) containers: one parser for an
 * event object, one for the header object, one way to say where a syntax
 * error is, and the reverse (an event or a header as JSON) for writers.
 * The only header that includes jansson (with lib/stats/report.c).
 */
#ifndef VMSIM_TRACE_JSON_H
#define VMSIM_TRACE_JSON_H

#include <jansson.h>

#include "trace.h"

/* Scratch memory for the lists of the event being parsed (checks, pages,
 * bytes), reused from event to event. Zero-initialise. */
struct vmsim__json_scratch {
    struct vmsim__check *checks;
    size_t nr_checks, cap_checks;
    uint64_t *pages;
    size_t cap_pages;
    uint8_t *bytes;
    size_t cap_bytes;
};

void vmsim__json_scratch_free(struct vmsim__json_scratch *s);

/*
 * Parse and validate event `index` (the JSON value v) into *ev, using s.
 * Strings in *ev borrow v and s. Returns 0, or a negative VMSIM_E* with
 * *err's code, text, event_index and op (when known) set.
 */
int vmsim__json_event(struct vmsim__json_scratch *s, const json_t *v, uint64_t index,
                      struct vmsim__event *ev, vmsim_trace_error_t *err);

/*
 * Check a header object {"vmsim": 1, "system"?, "name"?, "why"?} and, for
 * the document (lines false), "events" (not checked here). Fills r's
 * system, name and why. Returns 0 or VMSIM_EPARSE/VMSIM_ERANGE/ENOMEM
 * with *err filled (no place).
 */
int vmsim__json_header(struct vmsim__reader *r, const json_t *root, bool lines,
                       vmsim_trace_error_t *err);

/* A syntax error of jansson's in buf[0..len): err's line, column (of buf)
 * and text. Returns VMSIM_EPARSE. */
int vmsim__json_syntax_error(const char *buf, size_t len, const json_error_t *je,
                             vmsim_trace_error_t *err);

/* json_loadb(buf, len, flags) reading integer literals from 2^63 to
 * 2^64 - 1 too (vmsim__json_big_ints: a size or an address takes them, any
 * other key finds an integer out of range). NULL on a syntax error, placed
 * in buf (vmsim__json_syntax_error), or out of memory, with err set. */
json_t *vmsim__json_load(const char *buf, size_t len, size_t flags, vmsim_trace_error_t *err);

/* If buf holds a NUL byte, locate it in err and return VMSIM_EPARSE;
 * else 0. jansson would stop there. */
int vmsim__json_no_nul(const char *buf, size_t len, vmsim_trace_error_t *err);

/* The event, or the header (vmsim, name, why, system), as a new JSON
 * object; NULL if out of memory. */
json_t *vmsim__json_from_event(const struct vmsim__event *ev);
json_t *vmsim__json_header_object(const struct vmsim__reader *rd);

#endif /* VMSIM_TRACE_JSON_H */
