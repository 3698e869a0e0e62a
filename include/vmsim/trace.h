/*
 * trace.h -- traces: the formats of docs/trace-format.md (a JSON document,
 * JSON Lines, valgrind lackey output, the binary .vmtr of docs/vmtr.md, any
 * of them gzip-compressed) turned into calls of the public API, with
 * `expect` events as assertions; conversion between the formats; the
 * event stream as JSON Lines.
 *
 * A trace names a machine (its "system" settings) and a list of events
 * (spawn, mmap, w, expect, ...). vmsim_replay() reads one as a stream,
 * builds the machine, applies every event and checks every `expect`.
 * Errors come back in a vmsim_trace_error_t that says what is wrong and
 * where; vmsim_trace_error_format() turns it into the one-line message the
 * `vmsim` tool prints:
 *
 *   FILE:LINE:COLUMN: MESSAGE             a JSON syntax error, or anything
 *                                         in a JSON Lines or lackey trace
 *                                         (their events are lines)
 *   FILE:LINE:COLUMN: op "mmap": MESSAGE  the same, for an event of a line
 *   FILE: event N (op "mmap"): MESSAGE    event N (0-based) of a JSON
 *                                         document or a binary trace
 *   FILE: MESSAGE                         anything else (e.g. the "system"
 *                                         object, an unreadable file)
 *
 * Threads: a replay uses only the machine it creates; distinct replays are
 * independent. The library never prints: text goes to the caller's FILE*
 * or callbacks.
 */
#ifndef VMSIM_TRACE_H
#define VMSIM_TRACE_H

#include <stdio.h>

#include "vmsim/vmsim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* event_index of an error that belongs to no event. */
#define VMSIM_TRACE_NO_EVENT UINT64_MAX

/*
 * Where and what went wrong. Every string is NUL-terminated (truncated if
 * long) and holds no newline.
 */
typedef struct vmsim_trace_error {
    char file[256];        /* the trace's path, as the caller gave it */
    uint64_t event_index;  /* 0-based index into "events", or VMSIM_TRACE_NO_EVENT */
    char op[16];           /* the event's op ("mmap"), "" if unknown */
    unsigned line, column; /* 1-based place of a syntax error; 0 if none */
    int code;              /* VMSIM_E*: EPARSE, EIO, ENOTSUP, EEXPECT, EPANIC, ... */
    char text[512];        /* the message, without the location prefix */
} vmsim_trace_error_t;

/*
 * Format err as one line (no trailing newline) into buf of len bytes,
 * truncating if needed: "FILE:LINE:COLUMN: TEXT" when err->line is set
 * ("FILE:LINE:COLUMN: op "OP": TEXT" with an op), else "FILE: event N
 * (op "OP"): TEXT" when err->event_index is set, else "FILE: TEXT".
 * Returns the length the full line needs, as snprintf does.
 */
VMSIM_API int vmsim_trace_error_format(const vmsim_trace_error_t *err, char *buf, size_t len);

/*
 * The names of the trace's "system" keys, in documentation order
 * ("profile", "memory", "swap", ...): i = 0, 1, ... until NULL. Overrides
 * (vmsim_replay_options_t) take these names.
 */
VMSIM_API const char *vmsim_trace_system_key(size_t i);

/* ---- replay ----------------------------------------------------------- */

/* What a replay ended with; the `vmsim` tool exits with this value. */
typedef enum vmsim_replay_status {
    VMSIM_REPLAY_OK = 0,            /* every event applied, every expect held */
    VMSIM_REPLAY_EXPECT_FAILED = 1, /* replay went on to the end; >= 1 expect failed */
    VMSIM_REPLAY_BAD_TRACE = 2,     /* unreadable or invalid trace, bad override */
    VMSIM_REPLAY_PANIC = 3,         /* the simulated kernel panicked (panic_on_oom) */
    VMSIM_REPLAY_INTERNAL = 4,      /* vmsim_check() failed (check option), host out
                                     * of memory, or another simulator error */
} vmsim_replay_status;

/* One "system" key set from outside the trace, as text: {"memory", "64MiB"}.
 * The value is read as JSON when it parses as JSON (4096, false,
 * {"2MiB": 4}), else as a JSON string (64MiB, lru). */
typedef struct vmsim_trace_override {
    const char *key;   /* a name of vmsim_trace_system_key() */
    const char *value;
} vmsim_trace_override_t;

/* Called once per failed expect check; err is borrowed for the call. */
typedef void (*vmsim_replay_fail_fn)(void *ctx, const vmsim_trace_error_t *err);

typedef struct vmsim_replay_options {
    /* Keys that override the trace's "system" object; later entries win.
     * The profile (from here, else from the trace) applies first, then
     * the trace's keys, then these. */
    const vmsim_trace_override_t *overrides;
    size_t nr_overrides;
    /* The container: NULL or "auto" (recognise it from the content), or
     * "json", "jsonl", "lackey", "vmtr". gzip is recognised whatever this
     * says. A file named *.vmtr must be binary unless this forces another. */
    const char *format;
    /* Run vmsim_check() after every event; a failure ends the replay with
     * VMSIM_REPLAY_INTERNAL. */
    bool check;
    /* Where `report` events write (NULL: stdout). */
    FILE *report_out;
    /* Passed through to the machine's config (vmsim_config_t.on_event). */
    vmsim_event_fn on_event;
    void *event_ctx;
    /* Called for every failed expect check (may be NULL). Replay goes on
     * after a failed expect. */
    vmsim_replay_fail_fn on_fail;
    void *fail_ctx;
    /* User policies (vmsim_policy_ops_t, e.g. loaded from plug-ins): a
     * trace's or override's "policy" naming one of them (by its ops
     * table's name) uses it; built-in names still mean the built-ins. */
    const struct vmsim_policy_ops *const *policies;
    size_t nr_policies;
    /* The machine's access hook (vmsim_set_access_hook) for the run (not
     * for OPT's pre-pass): every page access, in order (may be NULL). It
     * is removed before vmsim_replay returns. */
    vmsim_access_fn on_access;
    void *access_ctx;
    /* Stop after this many events (0: all of them), as if the trace ended
     * there: later events are not applied. */
    uint64_t max_events;
} vmsim_replay_options_t;

/* Counts of one replay, filled by vmsim_replay (may be partial on error). */
typedef struct vmsim_replay_result {
    uint64_t nr_events;         /* events applied */
    uint64_t nr_checks;         /* expect checks evaluated (one per key) */
    uint64_t nr_failed_checks;  /* of which failed */
    bool ended_by_death;        /* a lackey trace's one process died (OOM kill):
                                 * the records after its death are not replayed */
} vmsim_replay_result_t;

/* Fill *opt with the defaults: no overrides, format auto, no check,
 * reports on stdout, no callbacks. */
VMSIM_API void vmsim_replay_options_init(vmsim_replay_options_t *opt);

/*
 * Replay the trace at path ("-": standard input). opt may be NULL
 * (defaults). Returns a vmsim_replay_status. Unless it is
 * VMSIM_REPLAY_OK, *err (if not NULL) says what went wrong: the first
 * failed expect for EXPECT_FAILED, the panic line ("Kernel panic - not
 * syncing: ...") for PANIC, the problem for BAD_TRACE and INTERNAL.
 * *result (may be NULL) gets the counts.
 *
 * When sim_out is not NULL it receives the machine whenever one was
 * created, whatever the status (NULL otherwise); the caller owns it and
 * releases it with vmsim_destroy(), e.g. after printing its summary with
 * vmsim_report_write(*sim_out, VMSIM_REPORT_SUMMARY, 0, stdout). With
 * sim_out NULL the machine is destroyed before return.
 *
 * Process 1 ("init") exists at start unless the first event spawns pid 1.
 * A failed expect does not stop the replay; a panic does, at the event
 * that caused it. With policy "opt" the trace is replayed twice: a silent
 * pre-pass records every page access so that OPT knows the future
 * (vmsim_set_future); the machine returned no longer holds that table.
 * The machine keeps opt->on_event (and event_ctx) as its callback.
 */
VMSIM_API int vmsim_replay(const char *path, const vmsim_replay_options_t *opt,
                           vmsim_t **sim_out, vmsim_replay_result_t *result,
                           vmsim_trace_error_t *err);

/* ---- conversion --------------------------------------------------------- */

typedef struct vmsim_convert_options {
    /* The input's container, as vmsim_replay_options_t.format. */
    const char *format;
    /* The output's container: "json", "jsonl" or "vmtr"; NULL: from the
     * output's name (.json, .jsonl, .vmtr, each optionally + .gz). */
    const char *to;
    /* gzip the output: 1 yes, 0 no, -1 (the default) when its name ends
     * in .gz. */
    int gzip;
    /* "system" keys written into the output's header, over the input's
     * (how a lackey trace gets its settings once and for all). */
    const vmsim_trace_override_t *overrides;
    size_t nr_overrides;
} vmsim_convert_options_t;

/* Fill *opt with the defaults: input recognised, output from its name. */
VMSIM_API void vmsim_convert_options_init(vmsim_convert_options_t *opt);

/*
 * Read the trace at `in` ("-": standard input) and write it to `out` ("-":
 * standard output) in another container. Every event is validated as
 * replay would (a trace that does not parse is not converted); the output
 * holds the same events in a canonical form (sizes in bytes, addresses in
 * hex; lackey's implicit mappings and M records as explicit mmap, r and w
 * events), so it replays to the same results as the input. The output is
 * written under a temporary name and renamed over `out` only when
 * complete. opt may be NULL. Returns 0, or a negative VMSIM_E* with *err
 * (if not NULL) naming the file and place (EPARSE, ERANGE, EINVAL, ENOTSUP
 * for the input or the options; EIO for either file; ENOMEM). *nr_events
 * (may be NULL) gets the events written.
 */
VMSIM_API int vmsim_trace_convert(const char *in, const char *out,
                                  const vmsim_convert_options_t *opt, uint64_t *nr_events,
                                  vmsim_trace_error_t *err);

/* ---- the event stream ---------------------------------------------------- */

/*
 * One event of the machine's callback (vmsim_config_t.on_event) as one
 * line of JSON, without a newline: {"seq": 7, "type": "fault", "pid": 1,
 * "va": "0x7f0000001000", "pfn": 291, "outcome": ["minor", "zero"],
 * "cause": "zero-page"}, plus "signal" and "si_code" for a signal
 * (docs/trace-format.md, "The event stream", lists every field). Writes
 * at most len bytes into buf, NUL-terminated; returns the length the full
 * line needs, as snprintf does.
 */
VMSIM_API int vmsim_event_json(const vmsim_event_t *ev, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_TRACE_H */
