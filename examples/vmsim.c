/*
 * vmsim.c -- the vmsim command-line tool (docs/vmsim.1).
 *
 *   vmsim replay FILE [--json] [--check] [--events FILE] [--format FMT] [--plugin SO]
 *                [--KEY VALUE ...]
 *   vmsim convert IN OUT [--format FMT] [--to FMT] [--gzip | --no-gzip]
 *                 [--KEY VALUE ...]
 *   vmsim sweep FILE [--policy LIST] [--memory SIZES | --resident-limit SIZES]
 *               [--threads N] [--json] [--plot FILE] [--curve [LIST]] [--emit-jobs]
 *               [--KEY VALUE ...]
 *   vmsim sweep-cell FILE [--cell I --cells N] [--size-key KEY] [--KEY VALUE ...]
 *   vmsim merge RESULTS... [--json] [--plot FILE]
 *   vmsim pagetable FILE [--pid N] [--at EVENT] [--dot | --png FILE | --svg FILE]
 *   vmsim help [COMMAND] | --help | --version
 *
 * Exit status: 0 ok, 1 an expect failed, 2 a bad trace or bad usage (one
 * line on stderr naming the file and place), 3 the simulated kernel
 * panicked, 4 an internal error (vmsim_check() failed with --check, host
 * out of memory, an output file that cannot be written).
 */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "vmsim/curve.h"
#include "vmsim/trace.h"
#include "vmsim/vmsim.h"

enum { EXIT_USAGE = 2, EXIT_INTERNAL = 4 };

static void usage(FILE *out)
{
    fprintf(out, "usage: vmsim <command> [options]\n"
                 "\n"
                 "Simulate the virtual memory of an x86_64 Linux machine.\n"
                 "\n"
                 "commands:\n"
                 "  replay FILE [options]       replay a trace, check its expect events, and\n"
                 "                              print a summary\n"
                 "  convert IN OUT [options]    write a trace in another format (JSON, JSON\n"
                 "                              Lines, binary .vmtr, gzip-compressed or not)\n"
                 "  sweep FILE [options]        replay a trace over a grid of policies and\n"
                 "                              memory sizes on every core, or compute LRU/OPT\n"
                 "                              fault curves in one pass; print a CSV or JSON\n"
                 "                              table, plot it, or emit one job per cell\n"
                 "  sweep-cell FILE [options]   one cell of a sweep, as a JSON line (a job)\n"
                 "  merge RESULTS... [options]  join sweep-cell results into the sweep's table\n"
                 "  pagetable FILE [options]    print or draw a process's page-table tree\n"
                 "  help [COMMAND]              show this help, or a command's\n"
                 "\n"
                 "options:\n"
                 "  -h, --help                  show this help (vmsim COMMAND --help: the\n"
                 "                              command's)\n"
                 "  --version                   print the version\n"
                 "\n"
                 "Traces: a JSON document, JSON Lines, valgrind lackey output (--tool=lackey\n"
                 "--trace-mem=yes) or binary .vmtr, any of them gzip-compressed; the format is\n"
                 "recognised from the content. See docs/trace-format.md and vmsim(1).\n");
}

/* The system keys as options, wrapped at 78 columns. */
static void system_options(FILE *out)
{
    const char *key;

    fprintf(out, " ");
    for (size_t i = 0, col = 1; (key = vmsim_trace_system_key(i)) != NULL; i++) {
        size_t n = strlen(key) + 3;

        if (col + n > 78) {
            fprintf(out, "\n ");
            col = 1;
        }
        fprintf(out, " --");
        for (const char *p = key; *p != '\0'; p++)
            fputc(*p == '_' ? '-' : *p, out);
        col += n;
    }
    fprintf(out, "\n");
}

static void replay_usage(FILE *out)
{
    fprintf(out, "usage: vmsim replay FILE [options]\n"
                 "\n"
                 "Replay a vmsim trace (docs/trace-format.md), check its expect events, then\n"
                 "print a summary per process and for the system. FILE - is standard input.\n"
                 "\n"
                 "options:\n"
                 "  --json           print the summary as one JSON object (report events then go\n"
                 "                   to stderr)\n"
                 "  --check          verify every invariant (vmsim_check) after every event\n"
                 "  --events FILE    write every library event (fault, cow, swap_in, swap_out,\n"
                 "                   evict, thp_alloc, thp_split, thp_collapse, oom_kill, signal,\n"
                 "                   panic, spawn, exit) to FILE as JSON Lines; - is stdout\n"
                 "  --format FORMAT  the trace's container: auto (the default: recognised from\n"
                 "                   the content), json, jsonl, lackey or vmtr; gzip is always\n"
                 "                   recognised\n"
                 "  --plugin SO      load a replacement policy from a shared object that\n"
                 "                   exports vmsim_plugin_policy(); use it with --policy NAME\n"
                 "  -h, --help       show this help\n"
                 "\n"
                 "Any key of the trace's \"system\" object can be overridden, with dashes or\n"
                 "underscores, as --KEY VALUE or --KEY=VALUE (VALUE is read as JSON when it\n"
                 "parses as JSON, else as a string); a lackey trace gets its settings this way:\n");
    system_options(out);
    fprintf(out, "e.g. --memory 64MiB --swap 1GiB --policy lru --resident-limit 300p\n"
                 "     --profile textbook --tlb false --hugepages '{\"2MiB\": 4}'\n"
                 "\n"
                 "exit status: 0 ok, 1 an expect failed, 2 a bad trace or usage, 3 the simulated\n"
                 "kernel panicked, 4 an internal error\n");
}

static void convert_usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim convert IN OUT [options]\n"
            "\n"
            "Write the trace IN to OUT in another container: a JSON document (.json), JSON\n"
            "Lines (.jsonl) or binary (.vmtr, docs/vmtr.md); a name ending in .gz is\n"
            "gzip-compressed. IN may be any container, lackey included; every event is\n"
            "validated, and OUT replays to the same results. OUT is written under a\n"
            "temporary name and renamed when complete; - writes to stdout (give --to).\n"
            "\n"
            "options:\n"
            "  --format FORMAT  IN's container: auto (the default), json, jsonl, lackey, vmtr\n"
            "  --to FORMAT      OUT's container: json, jsonl or vmtr (default: from OUT's\n"
            "                   name)\n"
            "  --gzip           compress OUT with gzip (default: when its name ends in .gz)\n"
            "  --no-gzip        do not compress OUT\n"
            "  -h, --help       show this help\n"
            "\n"
            "--KEY VALUE sets a \"system\" key in OUT's header, over IN's (e.g. the settings\n"
            "a lackey trace lacks):\n");
    system_options(out);
    fprintf(out, "\n"
                 "exit status: 0 ok, 2 a bad trace or usage, 4 OUT cannot be written or another\n"
                 "internal error\n");
}

/* The system key an option names (dashes read as underscores), into buf;
 * false if none. */
static bool system_key(const char *opt, size_t n, char *buf, size_t len)
{
    const char *key;

    if (n + 1 > len)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = opt[i] == '-' ? '_' : opt[i];
    buf[n] = '\0';
    for (size_t i = 0; (key = vmsim_trace_system_key(i)) != NULL; i++) {
        if (strcmp(key, buf) == 0)
            return true;
    }
    return false;
}

/* A command's arguments: files, flags, valued options, overrides. */
struct args {
    const char *cmd; /* "replay", for messages */
    const char *files[2];
    size_t nr_files, max_files;
    const char *const *flags; /* options without a value */
    bool flag_set[16];
    const char *const *valued; /* options with a value */
    const char *value[16];
    vmsim_trace_override_t *overrides;
    size_t nr_overrides;
    char (*keys)[64];
};

static int find(const char *const *names, const char *name, size_t n)
{
    for (int i = 0; names[i] != NULL; i++) {
        if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
            return i;
    }
    return -1;
}

/* Parse a command's arguments. Returns 0, 1 for --help, or -1 after
 * printing one line on stderr. */
static int parse_args(int argc, char **argv, struct args *a)
{
    bool no_more_options = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *name, *value = NULL;
        size_t n;
        int k;

        if (no_more_options || arg[0] != '-' || arg[1] == '\0') {
            if (a->nr_files == a->max_files) {
                fprintf(stderr, "vmsim %s: unexpected argument %s (see vmsim %s --help)\n", a->cmd,
                        arg, a->cmd);
                return -1;
            }
            a->files[a->nr_files++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            no_more_options = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return 1;
        if (arg[1] != '-') {
            fprintf(stderr, "vmsim %s: unknown option %s (see vmsim %s --help)\n", a->cmd, arg,
                    a->cmd);
            return -1;
        }
        name = arg + 2;
        eq = strchr(name, '=');
        n = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if ((k = find(a->flags, name, n)) >= 0) {
            if (eq != NULL) {
                fprintf(stderr, "vmsim %s: --%.*s takes no value\n", a->cmd, (int)n, name);
                return -1;
            }
            a->flag_set[k] = true;
            continue;
        }
        if (eq != NULL)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        if ((k = find(a->valued, name, n)) >= 0) {
            if (value == NULL) {
                fprintf(stderr, "vmsim %s: --%.*s needs a value\n", a->cmd, (int)n, name);
                return -1;
            }
            a->value[k] = value;
            continue;
        }
        if (!system_key(name, n, a->keys[a->nr_overrides], sizeof(a->keys[0]))) {
            fprintf(stderr, "vmsim %s: unknown option --%.*s (see vmsim %s --help)\n", a->cmd,
                    (int)(n > 64 ? 64 : n), name, a->cmd);
            return -1;
        }
        if (value == NULL) {
            fprintf(stderr, "vmsim %s: --%.*s needs a value\n", a->cmd, (int)n, name);
            return -1;
        }
        a->overrides[a->nr_overrides].key = a->keys[a->nr_overrides];
        a->overrides[a->nr_overrides].value = value;
        a->nr_overrides++;
    }
    return 0;
}

static bool args_alloc(struct args *a, int argc)
{
    a->overrides = calloc((size_t)argc + 1, sizeof(*a->overrides));
    a->keys = calloc((size_t)argc + 1, sizeof(*a->keys));
    if (a->overrides != NULL && a->keys != NULL)
        return true;
    fprintf(stderr, "vmsim: out of memory\n");
    return false;
}

static void args_free(struct args *a)
{
    free(a->overrides);
    free(a->keys);
}

static void print_error(const vmsim_trace_error_t *err)
{
    char line[1024];

    vmsim_trace_error_format(err, line, sizeof(line));
    fprintf(stderr, "%s\n", line);
}

static void print_fail(void *ctx, const vmsim_trace_error_t *err)
{
    (void)ctx;
    print_error(err);
}

static int print_summary(vmsim_t *sim, bool json)
{
    int rc;

    if (json) {
        char *text = NULL;

        rc = vmsim_report_json(sim, VMSIM_REPORT_SUMMARY, 0, &text);
        if (rc == 0) {
            fputs(text, stdout);
            if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
                fputc('\n', stdout);
            vmsim_free(sim, text);
        }
    } else {
        rc = vmsim_report_write(sim, VMSIM_REPORT_SUMMARY, 0, stdout);
    }
    if (rc < 0)
        fprintf(stderr, "vmsim: writing the summary failed: %s\n", vmsim_strerror(rc));
    return rc;
}

/* The --events stream: one JSON line per library event. */
struct events {
    FILE *out;
    char *buf;
    size_t cap;
};

static void write_event(void *ctx, const vmsim_event_t *ev)
{
    struct events *e = ctx;
    int n = vmsim_event_json(ev, e->buf, e->cap);

    if (n >= 0 && (size_t)n >= e->cap) {
        char *b = realloc(e->buf, (size_t)n + 1);

        if (b == NULL)
            return; /* a failed write shows at the end (ferror) */
        e->buf = b;
        e->cap = (size_t)n + 1;
        vmsim_event_json(ev, e->buf, e->cap);
    }
    fputs(e->buf, e->out);
    fputc('\n', e->out);
}

enum { R_JSON, R_CHECK };
enum { R_FORMAT, R_EVENTS, R_PLUGIN };

/* --plugin FILE: a shared object exporting
 * const vmsim_policy_ops_t *vmsim_plugin_policy(void); its policy is then
 * usable by name (--policy NAME or the trace's "policy"). */
static const vmsim_policy_ops_t *load_plugin(const char *path)
{
    typedef const vmsim_policy_ops_t *(*entry_fn)(void);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    entry_fn entry;
    const vmsim_policy_ops_t *ops;

    if (h == NULL) {
        fprintf(stderr, "vmsim replay: --plugin %s: %s\n", path, dlerror());
        return NULL;
    }
    *(void **)&entry = dlsym(h, "vmsim_plugin_policy");
    if (entry == NULL) {
        fprintf(stderr, "vmsim replay: --plugin %s: no vmsim_plugin_policy() in it\n", path);
        return NULL;
    }
    ops = entry();
    if (ops == NULL || ops->name == NULL || ops->abi < 1) {
        fprintf(stderr, "vmsim replay: --plugin %s: vmsim_plugin_policy() gave no usable "
                        "policy\n", path);
        return NULL;
    }
    return ops; /* the object stays loaded for the life of the process */
}

static int cmd_replay(int argc, char **argv)
{
    static const char *const flags[] = {"json", "check", NULL};
    static const char *const valued[] = {"format", "events", "plugin", NULL};
    const vmsim_policy_ops_t *plugin = NULL;
    struct args a = {.cmd = "replay", .max_files = 1, .flags = flags, .valued = valued};
    struct events ev = {0};
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    int status, rc;

    if (!args_alloc(&a, argc)) {
        args_free(&a);
        return EXIT_INTERNAL;
    }
    rc = parse_args(argc, argv, &a);
    if (rc == 0 && a.nr_files == 0) {
        fprintf(stderr, "vmsim replay: no trace file given (see vmsim replay --help)\n");
        rc = -1;
    }
    if (rc == 0 && a.value[R_EVENTS] != NULL && strcmp(a.value[R_EVENTS], "-") == 0 &&
        a.flag_set[R_JSON]) {
        fprintf(stderr, "vmsim replay: --events - and --json both write to stdout\n");
        rc = -1;
    }
    if (rc != 0) {
        if (rc > 0)
            replay_usage(stdout);
        args_free(&a);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    vmsim_replay_options_init(&opt);
    opt.overrides = a.overrides;
    opt.nr_overrides = a.nr_overrides;
    opt.format = a.value[R_FORMAT];
    opt.check = a.flag_set[R_CHECK];
    opt.report_out = a.flag_set[R_JSON] ? stderr : stdout; /* stdout holds only the JSON */
    opt.on_fail = print_fail;
    if (a.value[R_EVENTS] != NULL) {
        ev.out = strcmp(a.value[R_EVENTS], "-") == 0 ? stdout : fopen(a.value[R_EVENTS], "w");
        ev.cap = 256;
        ev.buf = malloc(ev.cap);
        if (ev.out == NULL || ev.buf == NULL) {
            fprintf(stderr, "%s: cannot create: %s\n", a.value[R_EVENTS],
                    ev.out == NULL ? strerror(errno) : "out of memory");
            if (ev.out != NULL && ev.out != stdout)
                fclose(ev.out);
            free(ev.buf);
            args_free(&a);
            return EXIT_INTERNAL;
        }
        opt.on_event = write_event;
        opt.event_ctx = &ev;
    }
    if (a.value[R_PLUGIN] != NULL) {
        plugin = load_plugin(a.value[R_PLUGIN]);
        if (plugin == NULL) {
            args_free(&a);
            return EXIT_USAGE;
        }
        opt.policies = &plugin;
        opt.nr_policies = 1;
    }
    status = vmsim_replay(a.files[0], &opt, &sim, NULL, &err);
    switch (status) {
    case VMSIM_REPLAY_OK:
    case VMSIM_REPLAY_EXPECT_FAILED:
    case VMSIM_REPLAY_PANIC:
        if (status == VMSIM_REPLAY_PANIC)
            print_error(&err);
        if (print_summary(sim, a.flag_set[R_JSON]) < 0)
            status = EXIT_INTERNAL;
        break;
    default:
        print_error(&err);
        break;
    }
    vmsim_destroy(sim); /* no more events after this */
    if (ev.out != NULL) {
        bool bad = ferror(ev.out) != 0;

        if (ev.out != stdout)
            bad |= fclose(ev.out) != 0;
        else
            bad |= fflush(ev.out) != 0;
        if (bad) {
            fprintf(stderr, "%s: cannot write the events\n", a.value[R_EVENTS]);
            status = EXIT_INTERNAL;
        }
    }
    free(ev.buf);
    args_free(&a);
    return status;
}

enum { C_GZIP, C_NO_GZIP };
enum { C_FORMAT, C_TO };

static int cmd_convert(int argc, char **argv)
{
    static const char *const flags[] = {"gzip", "no-gzip", NULL};
    static const char *const valued[] = {"format", "to", NULL};
    struct args a = {.cmd = "convert", .max_files = 2, .flags = flags, .valued = valued};
    vmsim_convert_options_t opt;
    vmsim_trace_error_t err;
    int rc;

    if (!args_alloc(&a, argc)) {
        args_free(&a);
        return EXIT_INTERNAL;
    }
    rc = parse_args(argc, argv, &a);
    if (rc == 0 && a.nr_files < 2) {
        fprintf(stderr, "vmsim convert: give an input and an output file (see vmsim convert "
                        "--help)\n");
        rc = -1;
    }
    if (rc == 0 && a.flag_set[C_GZIP] && a.flag_set[C_NO_GZIP]) {
        fprintf(stderr, "vmsim convert: --gzip and --no-gzip exclude each other\n");
        rc = -1;
    }
    if (rc != 0) {
        if (rc > 0)
            convert_usage(stdout);
        args_free(&a);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    vmsim_convert_options_init(&opt);
    opt.format = a.value[C_FORMAT];
    opt.to = a.value[C_TO];
    opt.gzip = a.flag_set[C_GZIP] ? 1 : a.flag_set[C_NO_GZIP] ? 0 : -1;
    opt.overrides = a.overrides;
    opt.nr_overrides = a.nr_overrides;
    rc = vmsim_trace_convert(a.files[0], a.files[1], &opt, NULL, &err);
    if (rc < 0) {
        print_error(&err);
        /* the output's fault, or the host's: internal; else the input's */
        rc = (rc == VMSIM_EIO && strcmp(err.file, a.files[1]) == 0) || rc == VMSIM_ENOMEM
                 ? EXIT_INTERNAL
                 : EXIT_USAGE;
    }
    args_free(&a);
    return rc;
}

/* ======================================================================
 * sweep, sweep-cell, merge: grids of replays and their table
 * ====================================================================== */

/* argv[0], for the commands --emit-jobs writes when /proc/self/exe is not
 * readable. */
static const char *prog_name = "vmsim";

/* The largest grid a sweep runs. */
#define MAX_CELLS 1000000
#define UNKNOWN UINT64_MAX

/* One row of a sweep's table: a cell's coordinates and numbers (UNKNOWN:
 * not known, an empty CSV field or JSON null). */
struct row {
    uint64_t cell;
    char policy[64];
    char size_key[16]; /* "memory" or "resident_limit" */
    uint64_t size_bytes, minflt, majflt, pswpin, pswpout, time_ns;
    char status[16];   /* ok, expect_failed, bad_trace, panic, internal, curve */
    char *error;       /* the cell's error line, or NULL */
};

static const char *status_word(int status)
{
    switch (status) {
    case VMSIM_REPLAY_OK:
        return "ok";
    case VMSIM_REPLAY_EXPECT_FAILED:
        return "expect_failed";
    case VMSIM_REPLAY_BAD_TRACE:
        return "bad_trace";
    case VMSIM_REPLAY_PANIC:
        return "panic";
    default:
        return "internal";
    }
}

/* The exit status of a table: 4 if a cell failed inside, else 2 if a cell
 * had a bad trace or setting, else 0 (failed expects and panics are the
 * cells' results: the table shows them). */
static int table_status(const struct row *rows, size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].status, "internal") == 0)
            rc = EXIT_INTERNAL;
        else if (strcmp(rows[i].status, "bad_trace") == 0 && rc == 0)
            rc = EXIT_USAGE;
    }
    return rc;
}

/* Each distinct error line once, on stderr. */
static void print_row_errors(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool seen = false;

        if (rows[i].error == NULL)
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = rows[j].error != NULL && strcmp(rows[j].error, rows[i].error) == 0;
        if (!seen)
            fprintf(stderr, "%s\n", rows[i].error);
    }
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++)
        free(rows[i].error);
    free(rows);
}

static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void put_csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_u64(FILE *out, uint64_t v, bool json)
{
    if (v != UNKNOWN)
        fprintf(out, "%" PRIu64, v);
    else if (json)
        fputs("null", out);
}

static const char csv_header[] =
    "policy,size_key,size_bytes,minflt,majflt,pswpin,pswpout,time_ns,status\n";

static void print_csv(FILE *out, const struct row *rows, size_t n)
{
    fputs(csv_header, out);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];

        put_csv_field(out, r->policy);
        fprintf(out, ",%s,", r->size_key);
        put_u64(out, r->size_bytes, false);
        fputc(',', out);
        put_u64(out, r->minflt, false);
        fputc(',', out);
        put_u64(out, r->majflt, false);
        fputc(',', out);
        put_u64(out, r->pswpin, false);
        fputc(',', out);
        put_u64(out, r->pswpout, false);
        fputc(',', out);
        put_u64(out, r->time_ns, false);
        fprintf(out, ",%s\n", r->status);
    }
}

/* One row as a JSON object (no newline); with cells > 0, as sweep-cell
 * prints it: its place in the grid first, its error last. */
static void print_row_json(FILE *out, const struct row *r, uint64_t cells)
{
    fputc('{', out);
    if (cells > 0)
        fprintf(out, "\"cell\": %" PRIu64 ", \"cells\": %" PRIu64 ", ", r->cell, cells);
    fputs("\"policy\": ", out);
    put_json_string(out, r->policy);
    fprintf(out, ", \"size_key\": \"%s\", \"size_bytes\": ", r->size_key);
    put_u64(out, r->size_bytes, true);
    fputs(", \"minflt\": ", out);
    put_u64(out, r->minflt, true);
    fputs(", \"majflt\": ", out);
    put_u64(out, r->majflt, true);
    fputs(", \"pswpin\": ", out);
    put_u64(out, r->pswpin, true);
    fputs(", \"pswpout\": ", out);
    put_u64(out, r->pswpout, true);
    fputs(", \"time_ns\": ", out);
    put_u64(out, r->time_ns, true);
    fprintf(out, ", \"status\": \"%s\"", r->status);
    if (cells > 0 && r->error != NULL) {
        fputs(", \"error\": ", out);
        put_json_string(out, r->error);
    }
    fputc('}', out);
}

static void print_json(FILE *out, const struct row *rows, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fputs(i == 0 ? "\n  " : ",\n  ", out);
        print_row_json(out, &rows[i], 0);
    }
    fputs(n > 0 ? "\n]\n" : "]\n", out);
}

/* ---- sizes and lists ------------------------------------------------------ */

/* A size as docs/trace-format.md reads it: bytes, a number with a unit
 * (B, KiB/K, MiB/M, GiB/G, TiB/T, p), a fraction that makes whole bytes,
 * or 0x<hex>. */
static bool parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {{"", 1},         {"B", 1},          {"KiB", 1u << 10}, {"K", 1u << 10},
                 {"MiB", 1u << 20}, {"M", 1u << 20}, {"GiB", 1u << 30}, {"G", 1u << 30},
                 {"TiB", (uint64_t)1 << 40}, {"T", (uint64_t)1 << 40}, {"p", 4096}};
    uint64_t ip = 0, fnum = 0, fden = 1, mult = 0, v, f;
    const char *p = s;

    if (p[0] == '0' && p[1] == 'x') {
        if (p[2] == '\0')
            return false;
        for (p += 2; *p != '\0'; p++) {
            int d = isdigit((unsigned char)*p)    ? *p - '0'
                    : isxdigit((unsigned char)*p) ? tolower((unsigned char)*p) - 'a' + 10
                                                  : -1;

            if (d < 0 || ip >> 60 != 0)
                return false;
            ip = ip << 4 | (uint64_t)d;
        }
        *out = ip;
        return true;
    }
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        if (ip > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return false;
        for (int nd = 0; isdigit((unsigned char)*p); p++, nd++) {
            if (nd == 18)
                return false;
            fnum = fnum * 10 + (uint64_t)(*p - '0');
            fden *= 10;
        }
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].name) == 0)
            mult = units[i].mult;
    }
    if (mult == 0 || __builtin_mul_overflow(ip, mult, &v) ||
        __builtin_mul_overflow(fnum, mult, &f) || f % fden != 0 ||
        __builtin_add_overflow(v, f / fden, &v))
        return false;
    *out = v;
    return true;
}

/* A size as an override's text: pages for resident_limit, else the largest
 * binary unit that divides it. */
static void format_size(uint64_t v, bool pages, char *buf, size_t len)
{
    static const struct {
        const char *name;
        unsigned shift;
    } units[] = {{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}};

    if (pages && v % 4096 == 0) {
        snprintf(buf, len, "%" PRIu64 "p", v / 4096);
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (v != 0 && v % ((uint64_t)1 << units[i].shift) == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", v >> units[i].shift, units[i].name);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64, v);
}

struct strlist {
    char **v;
    size_t n, cap;
};

static bool strlist_add(struct strlist *l, const char *s, size_t n)
{
    char *copy;

    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return false;
        l->v = nv;
        l->cap = ncap;
    }
    copy = malloc(n + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, s, n);
    copy[n] = '\0';
    l->v[l->n++] = copy;
    return true;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Split a comma-separated list; with sizes, expand START..END:STEP ranges
 * (END included). Returns 0, or -1 after one line on stderr. */
static int split_list(const char *what, const char *spec, bool sizes, bool pages,
                      struct strlist *out)
{
    const char *p = spec;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[128];
        const char *dots;

        if (n == 0 || n >= sizeof(item)) {
            fprintf(stderr, "vmsim sweep: %s: bad list \"%s\"\n", what, spec);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        dots = sizes ? strstr(item, "..") : NULL;
        if (dots != NULL) {
            char *colon = strchr(dots, ':'), buf[64];
            uint64_t a, b, step;

            item[dots - item] = '\0';
            if (colon == NULL) {
                fprintf(stderr, "vmsim sweep: %s: a range needs a step: START..END:STEP "
                                "(e.g. 100p..1000p:100p)\n", what);
                return -1;
            }
            *colon = '\0';
            if (!parse_size(item, &a) || !parse_size(dots + 2, &b) ||
                !parse_size(colon + 1, &step) || step == 0 || a > b) {
                fprintf(stderr, "vmsim sweep: %s: bad range \"%.*s\": START..END:STEP takes "
                                "sizes, START <= END and STEP > 0\n", what, (int)n, p);
                return -1;
            }
            if ((b - a) / step >= MAX_CELLS) {
                fprintf(stderr, "vmsim sweep: %s: range \"%.*s\" has more than %d values\n",
                        what, (int)n, p, MAX_CELLS);
                return -1;
            }
            for (uint64_t v = a;; v += step) {
                format_size(v, pages, buf, sizeof(buf));
                if (!strlist_add(out, buf, strlen(buf)))
                    return -1;
                if (b - v < step)
                    break;
            }
        } else if (!strlist_add(out, item, n)) {
            return -1;
        }
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* ---- running one cell ------------------------------------------------------- */

/* What every cell of a sweep shares. */
struct grid {
    const char *trace;
    const char *format;
    const vmsim_trace_override_t *base; /* overrides of every cell */
    size_t nr_base;
    const char *size_key; /* "memory", "resident_limit", or NULL: from the machine */
    FILE *reports;        /* where the trace's report events go */
};

/* The last value base gives key, or NULL. */
static const char *base_value(const struct grid *g, const char *key)
{
    const char *v = NULL;

    for (size_t i = 0; i < g->nr_base; i++) {
        if (strcmp(g->base[i].key, key) == 0)
            v = g->base[i].value;
    }
    return v;
}

static char *dup_error(const vmsim_trace_error_t *err)
{
    char line[1024];

    vmsim_trace_error_format(err, line, sizeof(line));
    return strdup(line);
}

/* Replay the trace with the base overrides, then policy and the size (each
 * may be NULL), into *r. */
static void run_cell(const struct grid *g, const char *policy, const char *size, struct row *r)
{
    vmsim_trace_override_t *ov = malloc((g->nr_base + 2) * sizeof(*ov));
    const char *key = g->size_key;
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    size_t n = g->nr_base;
    int status;

    r->size_bytes = r->minflt = r->majflt = r->pswpin = r->pswpout = r->time_ns = UNKNOWN;
    r->error = NULL;
    if (ov == NULL) {
        snprintf(r->status, sizeof(r->status), "internal");
        r->error = strdup("vmsim: out of memory");
        return;
    }
    if (n > 0)
        memcpy(ov, g->base, n * sizeof(*ov));
    if (policy != NULL)
        ov[n++] = (vmsim_trace_override_t){"policy", policy};
    if (size != NULL)
        ov[n++] = (vmsim_trace_override_t){key, size};
    vmsim_replay_options_init(&opt);
    opt.overrides = ov;
    opt.nr_overrides = n;
    opt.format = g->format;
    opt.report_out = g->reports;
    status = vmsim_replay(g->trace, &opt, &sim, NULL, &err);
    free(ov);
    snprintf(r->status, sizeof(r->status), "%s", status_word(status));
    if (status == VMSIM_REPLAY_BAD_TRACE || status == VMSIM_REPLAY_INTERNAL)
        r->error = dup_error(&err);
    if (sim != NULL) {
        const vmsim_config_t *cfg = vmsim_config(sim);

        if (key == NULL)
            key = cfg->resident_limit != 0 ? "resident_limit" : "memory";
        snprintf(r->policy, sizeof(r->policy), "%s", cfg->policy != NULL ? cfg->policy : "");
        r->size_bytes = strcmp(key, "memory") == 0 ? cfg->memory : cfg->resident_limit;
    } else {
        uint64_t v;

        if (key == NULL)
            key = base_value(g, "resident_limit") != NULL ? "resident_limit" : "memory";
        if (policy == NULL)
            policy = base_value(g, "policy");
        if (size == NULL)
            size = base_value(g, key);
        snprintf(r->policy, sizeof(r->policy), "%s", policy != NULL ? policy : "");
        if (size != NULL && parse_size(size, &v))
            r->size_bytes = v;
    }
    snprintf(r->size_key, sizeof(r->size_key), "%s", key);
    if (sim != NULL && status != VMSIM_REPLAY_BAD_TRACE && status != VMSIM_REPLAY_INTERNAL) {
        size_t nr = vmsim_pids(sim, NULL, 0);
        vmsim_pid_t *pids = malloc((nr ? nr : 1) * sizeof(*pids));

        if (pids != NULL) {
            nr = vmsim_pids(sim, pids, nr);
            r->minflt = r->majflt = 0;
            for (size_t i = 0; i < nr; i++) {
                vmsim_proc_info_t pi;

                if (vmsim_proc_info(sim, pids[i], &pi) == 0) {
                    r->minflt += pi.minflt;
                    r->majflt += pi.majflt;
                }
            }
            free(pids);
        }
        vmsim_vmstat_get(sim, "pswpin", &r->pswpin);
        vmsim_vmstat_get(sim, "pswpout", &r->pswpout);
        r->time_ns = vmsim_time_ns(sim);
    }
    vmsim_destroy(sim);
}

/* ---- the grid on threads ------------------------------------------------------ */

struct pool {
    pthread_mutex_t lock;
    size_t next, n;
    const struct grid *g;
    const struct strlist *policies, *sizes; /* a list of none means NULL */
    struct row *rows;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    struct grid g = *p->g; /* this thread's: its own report stream */
    FILE *devnull = fopen("/dev/null", "w");

    if (devnull != NULL)
        g.reports = devnull;
    for (;;) {
        size_t i, ns;

        pthread_mutex_lock(&p->lock);
        i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            break;
        ns = p->sizes->n ? p->sizes->n : 1;
        p->rows[i].cell = i;
        run_cell(&g, p->policies->n ? p->policies->v[i / ns] : NULL,
                 p->sizes->n ? p->sizes->v[i % ns] : NULL, &p->rows[i]);
    }
    if (devnull != NULL)
        fclose(devnull);
    return NULL;
}

/* Run every cell on `threads` threads (one simulator each, nothing shared
 * but the work counter). Returns 0 or -1 (no thread could start). */
static int run_grid(struct pool *p, long threads)
{
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    long started = 0;

    if (tids == NULL)
        return -1;
    pthread_mutex_init(&p->lock, NULL);
    for (long i = 0; i < threads; i++) {
        if (pthread_create(&tids[i], NULL, worker, p) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker(p); /* no thread: run them here */
    for (long i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&p->lock);
    free(tids);
    return 0;
}

/* ---- helpers: programs, paths, quoting -------------------------------------------- */

/* Whether an executable named name is on PATH (as `command -v`). */
static bool on_path(const char *name)
{
    const char *path = getenv("PATH"), *p;
    char buf[PATH_MAX];

    if (path == NULL)
        path = "/usr/bin:/bin";
    for (p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon != NULL ? (size_t)(colon - p) : strlen(p);

        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n > 0 ? p : ".", name);
        if (access(buf, X_OK) == 0)
            return true;
        if (colon == NULL)
            return false;
        p = colon + 1;
    }
}

extern char **environ;

/* Run argv (found on PATH) and wait: its exit status, or -1. */
static int run_program(char *const argv[])
{
    pid_t pid;
    int st;

    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* path with its extension (after the last '.' of the last component)
 * replaced by ext. */
static void with_ext(const char *path, const char *ext, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t n = dot != NULL && (slash == NULL || dot > slash) ? (size_t)(dot - path) : strlen(path);

    snprintf(buf, len, "%.*s%s", (int)n, path, ext);
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

    return dot != NULL && (slash == NULL || dot > slash) ? dot + 1 : "";
}

/* s quoted for sh(1): as is when plain, else in single quotes. */
static void put_shell_word(FILE *out, const char *s)
{
    bool plain = *s != '\0';

    for (const char *p = s; *p != '\0' && plain; p++)
        plain = isalnum((unsigned char)*p) || strchr("+-./:=@_,%^", *p) != NULL;
    if (plain) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

/* ---- plots -------------------------------------------------------------------------- */

/* Write FILE's data (.dat) and gnuplot script (.gp) next to it, then draw
 * FILE (.png or .svg) with gnuplot if it is installed. One line per policy:
 * faults (minflt + majflt) against the size. Returns 0 or an exit status. */
static int write_plot(const char *cmd, const char *file, const char *title,
                      const struct row *rows, size_t n)
{
    const char *ext = extension(file);
    char dat[PATH_MAX], gp[PATH_MAX];
    const char *policies[64];
    size_t np = 0;
    bool pages = n > 0 && strcmp(rows[0].size_key, "resident_limit") == 0;
    FILE *f;
    int rc;

    with_ext(file, ".dat", dat, sizeof(dat));
    with_ext(file, ".gp", gp, sizeof(gp));
    for (size_t i = 0; i < n && np < 64; i++) {
        bool seen = false;

        for (size_t j = 0; j < np && !seen; j++)
            seen = strcmp(policies[j], rows[i].policy) == 0;
        if (!seen)
            policies[np++] = rows[i].policy;
    }
    f = fopen(dat, "w");
    if (f == NULL) {
        fprintf(stderr, "vmsim %s: %s: cannot create: %s\n", cmd, dat, strerror(errno));
        return EXIT_INTERNAL;
    }
    fprintf(f, "# vmsim %s: %s\n# page faults (minflt + majflt) by %s, one block per "
               "policy\n", cmd, title, pages ? "resident limit (pages)" : "memory (MiB)");
    for (size_t k = 0; k < np; k++) {
        fprintf(f, "%s# policy %s\n", k > 0 ? "\n\n" : "", policies[k]);
        for (size_t i = 0; i < n; i++) {
            const struct row *r = &rows[i];

            if (strcmp(r->policy, policies[k]) != 0 || r->size_bytes == UNKNOWN ||
                r->minflt == UNKNOWN || r->majflt == UNKNOWN)
                continue;
            if (pages)
                fprintf(f, "%" PRIu64 " %" PRIu64 "\n", r->size_bytes / 4096,
                        r->minflt + r->majflt);
            else
                fprintf(f, "%.10g %" PRIu64 "\n", (double)r->size_bytes / (1 << 20),
                        r->minflt + r->majflt);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "vmsim %s: %s: cannot write\n", cmd, dat);
        return EXIT_INTERNAL;
    }
    f = fopen(gp, "w");
    if (f == NULL) {
        fprintf(stderr, "vmsim %s: %s: cannot create: %s\n", cmd, gp, strerror(errno));
        return EXIT_INTERNAL;
    }
    fprintf(f, "# Draws %s from %s: gnuplot %s\n", file, dat, gp);
    if (strcmp(ext, "svg") == 0)
        fprintf(f, "set terminal svg size 900,560 dynamic noenhanced font 'sans,12'\n");
    else
        fprintf(f, "set terminal pngcairo size 900,560 noenhanced font 'sans,11'\n");
    fprintf(f, "set output ");
    put_json_string(f, file); /* a gnuplot double-quoted string escapes alike */
    fprintf(f, "\nset title ");
    put_json_string(f, strrchr(title, '/') != NULL ? strrchr(title, '/') + 1 : title);
    fprintf(f, "\nset xlabel \"%s\"\nset ylabel \"page faults (minflt + majflt)\"\n"
               "set grid\nset key top right\nset yrange [0:*]\nplot",
            pages ? "resident limit (pages)" : "memory (MiB)");
    for (size_t k = 0; k < np; k++) {
        fprintf(f, "%s ", k > 0 ? "," : "");
        put_json_string(f, dat);
        /* a point type and dash pattern each, so lines that coincide still show */
        fprintf(f, " index %zu using 1:2 with linespoints pt %zu ps 0.8 lw 2 dt %zu title ", k,
                (size_t[]){7, 5, 9, 11, 13, 3}[k % 6], k % 5 + 1);
        put_json_string(f, policies[k]);
    }
    fprintf(f, "%s\n", np == 0 ? " NaN notitle" : "");
    if (fclose(f) != 0) {
        fprintf(stderr, "vmsim %s: %s: cannot write\n", cmd, gp);
        return EXIT_INTERNAL;
    }
    if (!on_path("gnuplot")) {
        fprintf(stderr,
                "vmsim %s: gnuplot is not installed, so %s was not drawn; install it with\n"
                "  apt-get install gnuplot-nox\n"
                "then run: gnuplot %s   (the data is in %s)\n",
                cmd, file, gp, dat);
        return 0;
    }
    rc = run_program((char *const[]){"gnuplot", gp, NULL});
    if (rc != 0) {
        fprintf(stderr, "vmsim %s: gnuplot %s failed (%s %d); the data is in %s\n", cmd, gp,
                rc < 0 ? "could not run it:" : "exit status", rc, dat);
        return EXIT_INTERNAL;
    }
    return 0;
}

/* ---- sweep -------------------------------------------------------------------------- */

static void sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim sweep TRACE [--policy P1,P2,...]\n"
            "                   [--memory SIZES | --resident-limit SIZES] [options]\n"
            "       vmsim sweep TRACE --curve [lru|opt|lru,opt] [--resident-limit SIZES]\n"
            "       vmsim sweep TRACE ... --emit-jobs\n"
            "\n"
            "Replay TRACE once per cell of the grid policies x sizes, on every core (one\n"
            "simulator per thread), and print a table, one row per cell:\n"
            "  %s"
            "minflt and majflt are summed over every process; pswpin, pswpout: /proc/vmstat;\n"
            "time_ns: simulated time; status: ok, expect_failed, bad_trace, panic, internal.\n"
            "\n"
            "SIZES is a comma-separated list of sizes and ranges START..END:STEP (END\n"
            "included): --resident-limit 100p,200p,400p or 100p..1000p:100p, --memory\n"
            "16MiB..64MiB:16MiB. One of --memory and --resident-limit is the size axis;\n"
            "the other may be given once, as a setting of every cell.\n"
            "\n"
            "options:\n"
            "  --policy LIST     replacement policies (fifo, lru, clock, linux, opt, random);\n"
            "                    default: the trace's\n"
            "  --threads N       threads (default: the number of processors)\n"
            "  --json            print a JSON array of objects with the same keys\n"
            "  --plot FILE       draw faults (minflt + majflt) against size, one line per\n"
            "                    policy, into FILE.png or FILE.svg with gnuplot; FILE's\n"
            "                    data (.dat) and gnuplot script (.gp) are written next to it\n"
            "  --curve [LIST]    LRU and/or OPT (LIST, or --policy; default lru) at every\n"
            "                    resident limit from 1 page to the pages touched (or at\n"
            "                    --resident-limit SIZES) from ONE replay, by stack distances\n"
            "                    (include/vmsim/curve.h): row k is the replay with\n"
            "                    --profile textbook --resident-limit kp; the trace must be\n"
            "                    a reference string (enough memory and swap, no fork,\n"
            "                    munmap, exit); pswpin, pswpout and time_ns are then empty\n"
            "  --emit-jobs       print one shell command per cell (vmsim sweep-cell ...)\n"
            "                    instead of running them, for GNU parallel or a Slurm array;\n"
            "                    join their output with vmsim merge (docs/sweeps.md)\n"
            "  --vmsim CMD       the command the jobs run (default: this vmsim's path)\n"
            "  --format FORMAT   the trace's container (as for replay)\n"
            "  -h, --help        show this help\n"
            "\n"
            "Any other --KEY VALUE sets a \"system\" key of every cell, as for replay:\n",
            csv_header);
    system_options(out);
    fprintf(out, "\n"
                 "exit status: 0 the table was printed (cells whose expects failed or that\n"
                 "panicked say so in it), 2 bad usage or a cell with a bad trace or setting,\n"
                 "4 an internal error\n");
}

enum { S_JSON, S_EMIT_JOBS, S_CURVE };
enum { S_THREADS, S_FORMAT, S_PLOT, S_VMSIM };

/* Whether s is a list of curve kinds (lru, opt). */
static bool curve_list(const char *s)
{
    size_t n;

    for (;;) {
        n = strcspn(s, ",");
        if (!((n == 3 && strncmp(s, "lru", 3) == 0) || (n == 3 && strncmp(s, "opt", 3) == 0)))
            return false;
        if (s[n] == '\0')
            return true;
        s += n + 1;
    }
}

/* The one-pass curves of the policies (lru, opt) at the sizes (none: every
 * size from 1 page to the pages touched). */
static int sweep_curves(const struct grid *g, const struct strlist *policies,
                        const struct strlist *sizes, bool json, const char *plot)
{
    struct row *rows = NULL;
    size_t nr = 0, cap = 0;
    uint64_t max = 0, *pages = NULL;
    int rc = 0;

    if (sizes->n > 0 && (pages = calloc(sizes->n, sizeof(*pages))) == NULL)
        goto oom;
    for (size_t i = 0; i < sizes->n; i++) {
        uint64_t v;

        if (!parse_size(sizes->v[i], &v) || v == 0 || v % 4096 != 0) {
            fprintf(stderr, "vmsim sweep: --curve: --resident-limit %s is not a whole number "
                            "of pages (at least 1p)\n", sizes->v[i]);
            free(pages);
            return EXIT_USAGE;
        }
        pages[i] = v / 4096;
        max = pages[i] > max ? pages[i] : max;
    }
    for (size_t p = 0; p < policies->n; p++) {
        vmsim_curve_kind kind = strcmp(policies->v[p], "opt") == 0 ? VMSIM_CURVE_OPT
                                                                   : VMSIM_CURVE_LRU;
        vmsim_replay_options_t opt;
        vmsim_trace_error_t err;
        vmsim_curve_info_t info;
        uint64_t *m = NULL;
        size_t n = 0, count;
        int status;

        vmsim_replay_options_init(&opt);
        opt.overrides = g->base;
        opt.nr_overrides = g->nr_base;
        opt.format = g->format;
        opt.report_out = g->reports;
        status = vmsim_curve_ex(g->trace, &opt, kind, max, &m, &n, &info, &err);
        if (status != VMSIM_REPLAY_OK) {
            print_error(&err);
            free_rows(rows, nr);
            free(pages);
            return status; /* 2, 3 or 4, as replay's */
        }
        count = sizes->n > 0 ? sizes->n : n;
        if (nr + count > cap) {
            size_t ncap = (nr + count) * 2;
            struct row *nrows = realloc(rows, ncap * sizeof(*nrows));

            if (nrows == NULL) {
                free(m);
                goto oom;
            }
            rows = nrows;
            cap = ncap;
        }
        for (size_t i = 0; i < count; i++) {
            struct row *r = &rows[nr++];
            uint64_t k = sizes->n > 0 ? pages[i] : i + 1;
            uint64_t misses = n == 0 ? 0 : k <= n ? m[k - 1] : m[n - 1];

            memset(r, 0, sizeof(*r));
            r->cell = nr - 1;
            snprintf(r->policy, sizeof(r->policy), "%s", policies->v[p]);
            snprintf(r->size_key, sizeof(r->size_key), "resident_limit");
            r->size_bytes = k * 4096;
            r->minflt = info.cold_minor;
            r->majflt = misses - info.cold_minor;
            r->pswpin = r->pswpout = r->time_ns = UNKNOWN;
            snprintf(r->status, sizeof(r->status), "ok");
        }
        free(m);
    }
    free(pages);
    if (json)
        print_json(stdout, rows, nr);
    else
        print_csv(stdout, rows, nr);
    if (plot != NULL)
        rc = write_plot("sweep", plot, g->trace, rows, nr);
    free_rows(rows, nr);
    return rc;
oom:
    fprintf(stderr, "vmsim sweep: out of memory\n");
    free_rows(rows, nr);
    free(pages);
    return EXIT_INTERNAL;
}

/* The command this vmsim was started as, for jobs. */
static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);

    if (n > 0) {
        buf[n] = '\0';
        return;
    }
    if (strchr(prog_name, '/') == NULL || realpath(prog_name, buf) == NULL)
        snprintf(buf, len, "%s", prog_name);
}

static void emit_jobs(const struct grid *g, const char *cmd, const char *trace,
                      const struct strlist *policies, const struct strlist *sizes)
{
    size_t np = policies->n ? policies->n : 1, ns = sizes->n ? sizes->n : 1;

    for (size_t i = 0; i < np * ns; i++) {
        char opt[80];

        put_shell_word(stdout, cmd);
        fputs(" sweep-cell ", stdout);
        put_shell_word(stdout, trace);
        printf(" --cell %zu --cells %zu --size-key %s", i, np * ns,
               g->size_key != NULL ? g->size_key : "auto");
        if (g->format != NULL) {
            fputs(" --format ", stdout);
            put_shell_word(stdout, g->format);
        }
        for (size_t k = 0; k < g->nr_base; k++) {
            size_t j = 0;

            for (const char *p = g->base[k].key; *p != '\0' && j < sizeof(opt) - 1; p++)
                opt[j++] = *p == '_' ? '-' : *p;
            opt[j] = '\0';
            printf(" --%s ", opt);
            put_shell_word(stdout, g->base[k].value);
        }
        if (policies->n) {
            fputs(" --policy ", stdout);
            put_shell_word(stdout, policies->v[i / ns]);
        }
        if (sizes->n) {
            printf(" --%s ", strcmp(g->size_key, "memory") == 0 ? "memory" : "resident-limit");
            put_shell_word(stdout, sizes->v[i % ns]);
        }
        fputc('\n', stdout);
    }
}

/* Take policy, memory and resident_limit out of the overrides (the last of
 * each wins); the rest stay in a->overrides. */
static void take_axes(struct args *a, const char **policy, const char **memory,
                      const char **limit)
{
    size_t n = 0;

    for (size_t i = 0; i < a->nr_overrides; i++) {
        const vmsim_trace_override_t *o = &a->overrides[i];

        if (strcmp(o->key, "policy") == 0)
            *policy = o->value;
        else if (strcmp(o->key, "memory") == 0)
            *memory = o->value;
        else if (strcmp(o->key, "resident_limit") == 0)
            *limit = o->value;
        else {
            a->overrides[n++] = *o; /* its key points into keys[], which stays */
        }
    }
    a->nr_overrides = n;
}

static int cmd_sweep(int argc, char **argv)
{
    static const char *const flags[] = {"json", "emit-jobs", "curve", NULL};
    static const char *const valued[] = {"threads", "format", "plot", "vmsim", NULL};
    struct args a = {.cmd = "sweep", .max_files = 1, .flags = flags, .valued = valued};
    const char *policy = NULL, *memory = NULL, *limit = NULL, *curve = NULL;
    struct strlist policies = {0}, sizes = {0}, mems = {0}, limits = {0};
    vmsim_trace_override_t *base = NULL;
    struct grid g = {0};
    struct row *rows = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nr_base = 0, cells = 0;
    char **args = NULL;
    int rc, nargs = 0;

    /* --curve takes an optional list: --curve, --curve lru,opt, --curve=opt */
    args = calloc((size_t)argc + 1, sizeof(*args));
    if (args == NULL || !args_alloc(&a, argc)) {
        free(args);
        args_free(&a);
        return EXIT_INTERNAL;
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--curve=", 8) == 0) {
            curve = argv[i] + 8;
            args[nargs++] = "--curve";
        } else if (strcmp(argv[i], "--curve") == 0 && i + 1 < argc && curve_list(argv[i + 1])) {
            curve = argv[++i];
            args[nargs++] = "--curve";
        } else {
            args[nargs++] = argv[i];
        }
    }
    rc = parse_args(nargs, args, &a);
    if (rc == 0 && a.nr_files == 0) {
        fprintf(stderr, "vmsim sweep: no trace file given (see vmsim sweep --help)\n");
        rc = -1;
    }
    if (rc > 0)
        sweep_usage(stdout);
    if (rc != 0) {
        rc = rc > 0 ? 0 : EXIT_USAGE;
        goto done;
    }
    take_axes(&a, &policy, &memory, &limit);
    base = a.overrides;
    nr_base = a.nr_overrides;
    if (strcmp(a.files[0], "-") == 0) {
        fprintf(stderr, "vmsim sweep: the trace is read once per cell: give a file, not -\n");
        rc = EXIT_USAGE;
        goto done;
    }
    if (access(a.files[0], R_OK) != 0) {
        fprintf(stderr, "%s: cannot open: %s\n", a.files[0], strerror(errno));
        rc = EXIT_USAGE;
        goto done;
    }
    if (a.value[S_THREADS] != NULL) {
        char *end;

        errno = 0;
        threads = strtol(a.value[S_THREADS], &end, 10);
        if (errno != 0 || *end != '\0' || end == a.value[S_THREADS] || threads < 1 ||
            threads > 4096) {
            fprintf(stderr, "vmsim sweep: --threads %s: give a number from 1 to 4096\n",
                    a.value[S_THREADS]);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (threads < 1)
        threads = 1;
    if (a.value[S_PLOT] != NULL && strcmp(extension(a.value[S_PLOT]), "png") != 0 &&
        strcmp(extension(a.value[S_PLOT]), "svg") != 0) {
        fprintf(stderr, "vmsim sweep: --plot %s: the picture's name must end in .png or .svg\n",
                a.value[S_PLOT]);
        rc = EXIT_USAGE;
        goto done;
    }
    if ((policy != NULL && split_list("--policy", policy, false, false, &policies) < 0) ||
        (memory != NULL && split_list("--memory", memory, true, false, &mems) < 0) ||
        (limit != NULL && split_list("--resident-limit", limit, true, true, &limits) < 0)) {
        rc = EXIT_USAGE;
        goto done;
    }
    /* the size axis: the list of more than one value, else resident_limit */
    if (mems.n > 1 && limits.n > 1) {
        fprintf(stderr, "vmsim sweep: sweep --memory or --resident-limit, not both (the other "
                        "takes one value)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    g.trace = a.files[0];
    g.format = a.value[S_FORMAT];
    if (a.flag_set[S_CURVE] && mems.n > 1) {
        fprintf(stderr, "vmsim sweep: --curve sweeps the resident limit, not --memory (give "
                        "one --memory large enough for the trace)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    if (limits.n > 1 || (limits.n == 1 && mems.n <= 1) || (a.flag_set[S_CURVE] && limits.n)) {
        g.size_key = "resident_limit";
        sizes = limits;
        memset(&limits, 0, sizeof(limits));
        if (mems.n == 1)
            base[nr_base++] = (vmsim_trace_override_t){"memory", mems.v[0]};
    } else if (a.flag_set[S_CURVE] && mems.n == 1) {
        base[nr_base++] = (vmsim_trace_override_t){"memory", mems.v[0]};
    } else if (mems.n > 0) {
        g.size_key = "memory";
        sizes = mems;
        memset(&mems, 0, sizeof(mems));
    }
    g.base = base;
    g.nr_base = nr_base;
    g.reports = fopen("/dev/null", "w");
    if (g.reports == NULL)
        g.reports = stderr;
    if (a.flag_set[S_CURVE]) {
        if (curve != NULL && policy != NULL && strcmp(curve, policy) != 0) {
            fprintf(stderr, "vmsim sweep: --curve %s and --policy %s differ\n", curve, policy);
            rc = EXIT_USAGE;
        } else if (curve == NULL && policy != NULL && !curve_list(policy)) {
            fprintf(stderr, "vmsim sweep: --curve is for lru and opt, which are stack "
                            "algorithms; sweep other policies without it\n");
            rc = EXIT_USAGE;
        } else if (a.flag_set[S_EMIT_JOBS]) {
            fprintf(stderr, "vmsim sweep: --curve is one pass: it runs here, not as jobs\n");
            rc = EXIT_USAGE;
        }
        if (rc != 0)
            goto done;
        if (curve != NULL || policy == NULL) {
            strlist_free(&policies);
            if (split_list("--curve", curve != NULL ? curve : "lru", false, false, &policies) < 0) {
                rc = EXIT_INTERNAL;
                goto done;
            }
        }
        rc = sweep_curves(&g, &policies, &sizes, a.flag_set[S_JSON], a.value[S_PLOT]);
        goto done;
    }
    cells = (policies.n ? policies.n : 1) * (sizes.n ? sizes.n : 1);
    if (cells > MAX_CELLS) {
        fprintf(stderr, "vmsim sweep: %zu cells: more than %d\n", cells, MAX_CELLS);
        rc = EXIT_USAGE;
        goto done;
    }
    if (a.flag_set[S_EMIT_JOBS]) {
        char self[PATH_MAX], trace[PATH_MAX];

        if (realpath(g.trace, trace) == NULL)
            snprintf(trace, sizeof(trace), "%s", g.trace);
        if (a.value[S_VMSIM] == NULL)
            self_path(self, sizeof(self));
        else
            snprintf(self, sizeof(self), "%s", a.value[S_VMSIM]);
        emit_jobs(&g, self, trace, &policies, &sizes);
        rc = fflush(stdout) != 0 ? EXIT_INTERNAL : 0;
        goto done;
    }
    rows = calloc(cells, sizeof(*rows));
    if (rows == NULL) {
        fprintf(stderr, "vmsim sweep: out of memory\n");
        rc = EXIT_INTERNAL;
        goto done;
    } else {
        struct pool pool = {.n = cells, .g = &g, .policies = &policies, .sizes = &sizes,
                            .rows = rows};

        run_grid(&pool, threads < (long)cells ? threads : (long)cells);
    }
    print_row_errors(rows, cells);
    if (a.flag_set[S_JSON])
        print_json(stdout, rows, cells);
    else
        print_csv(stdout, rows, cells);
    rc = table_status(rows, cells);
    if (a.value[S_PLOT] != NULL) {
        int prc = write_plot("sweep", a.value[S_PLOT], g.trace, rows, cells);

        rc = prc > rc ? prc : rc;
    }
done:
    if (g.reports != NULL && g.reports != stderr)
        fclose(g.reports);
    free_rows(rows, cells);
    strlist_free(&policies);
    strlist_free(&sizes);
    strlist_free(&mems);
    strlist_free(&limits);
    free(args);
    args_free(&a);
    return rc;
}

/* ---- sweep-cell ------------------------------------------------------------------ */

static void sweep_cell_usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim sweep-cell TRACE [--cell I --cells N] [--size-key KEY] [options]\n"
            "\n"
            "Replay TRACE once and print its row of a sweep as one line of JSON: the keys\n"
            "of vmsim sweep --json, plus \"cell\" and \"cells\" (its place in the grid) and,\n"
            "for a cell that could not run, \"error\". vmsim sweep --emit-jobs writes these\n"
            "commands; vmsim merge joins their lines into the sweep's table.\n"
            "\n"
            "options:\n"
            "  --cell I          the cell's index in the grid (default 0)\n"
            "  --cells N         the grid's number of cells (default 1)\n"
            "  --size-key KEY    the size the row shows: memory, resident_limit, or auto\n"
            "                    (the default: resident_limit if the machine has one)\n"
            "  --format FORMAT   the trace's container (as for replay)\n"
            "  -h, --help        show this help\n"
            "\n"
            "--KEY VALUE sets a \"system\" key (e.g. --policy lru --resident-limit 100p):\n");
    system_options(out);
    fprintf(out, "\n"
                 "exit status: 0 the row was printed (its status may be expect_failed or\n"
                 "panic), 2 bad usage or a bad trace or setting, 4 an internal error\n");
}

enum { C_CELL, C_CELLS, C_SIZE_KEY, C_CELL_FORMAT };

static bool parse_count(const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    if (!isdigit((unsigned char)s[0]))
        return false;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

static int cmd_sweep_cell(int argc, char **argv)
{
    static const char *const flags[] = {NULL};
    static const char *const valued[] = {"cell", "cells", "size-key", "format", NULL};
    struct args a = {.cmd = "sweep-cell", .max_files = 1, .flags = flags, .valued = valued};
    uint64_t cell = 0, cells = 1;
    struct grid g = {0};
    struct row r;
    int rc;

    if (!args_alloc(&a, argc)) {
        args_free(&a);
        return EXIT_INTERNAL;
    }
    rc = parse_args(argc, argv, &a);
    if (rc == 0 && a.nr_files == 0) {
        fprintf(stderr, "vmsim sweep-cell: no trace file given (see vmsim sweep-cell --help)\n");
        rc = -1;
    }
    if (rc == 0 && ((a.value[C_CELL] != NULL && !parse_count(a.value[C_CELL], &cell)) ||
                    (a.value[C_CELLS] != NULL && !parse_count(a.value[C_CELLS], &cells)) ||
                    cells == 0 || cell >= cells)) {
        fprintf(stderr, "vmsim sweep-cell: --cell I and --cells N need 0 <= I < N\n");
        rc = -1;
    }
    if (rc == 0 && a.value[C_SIZE_KEY] != NULL) {
        const char *k = a.value[C_SIZE_KEY];

        if (strcmp(k, "memory") == 0 || strcmp(k, "resident_limit") == 0)
            g.size_key = k;
        else if (strcmp(k, "resident-limit") == 0)
            g.size_key = "resident_limit";
        else if (strcmp(k, "auto") != 0) {
            fprintf(stderr, "vmsim sweep-cell: --size-key %s: use memory, resident_limit or "
                            "auto\n", k);
            rc = -1;
        }
    }
    if (rc != 0) {
        if (rc > 0)
            sweep_cell_usage(stdout);
        args_free(&a);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    g.trace = a.files[0];
    g.format = a.value[C_CELL_FORMAT];
    g.base = a.overrides;
    g.nr_base = a.nr_overrides;
    g.reports = fopen("/dev/null", "w");
    if (g.reports == NULL)
        g.reports = stderr;
    memset(&r, 0, sizeof(r));
    run_cell(&g, NULL, NULL, &r);
    r.cell = cell;
    if (r.error != NULL)
        fprintf(stderr, "%s\n", r.error);
    print_row_json(stdout, &r, cells);
    fputc('\n', stdout);
    rc = table_status(&r, 1);
    if (fflush(stdout) != 0)
        rc = EXIT_INTERNAL;
    if (g.reports != stderr)
        fclose(g.reports);
    free(r.error);
    args_free(&a);
    return rc;
}

/* ---- merge ---------------------------------------------------------------------------- */

static void merge_usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim merge RESULTS... [--json] [--plot FILE]\n"
            "\n"
            "Join the JSON lines of vmsim sweep-cell jobs (from vmsim sweep --emit-jobs,\n"
            "run by GNU parallel, a Slurm array, ...) into the sweep's table, in the\n"
            "grid's order: the same CSV (or JSON, or plot) vmsim sweep prints. RESULTS are\n"
            "files of such lines, in any order; - is standard input. Every cell of the grid\n"
            "must be there exactly once.\n"
            "\n"
            "options:\n"
            "  --json       print a JSON array, as vmsim sweep --json\n"
            "  --plot FILE  draw the curves into FILE.png or FILE.svg, as vmsim sweep --plot\n"
            "  -h, --help   show this help\n"
            "\n"
            "exit status: 0 the table was printed, 2 bad usage, a line that is not a cell's\n"
            "result, a missing or repeated cell, or a cell with a bad trace or setting, 4 an\n"
            "internal error\n");
}

/* A JSON number or null as a row's number. */
static bool json_u64(const json_t *o, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_null(v)) {
        *out = UNKNOWN;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool json_str(const json_t *o, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v) || strlen(json_string_value(v)) >= len)
        return false;
    snprintf(buf, len, "%s", json_string_value(v));
    return true;
}

/* One line into *r; false if it is not a sweep-cell result. */
static bool parse_cell_line(const char *line, struct row *r, uint64_t *cells)
{
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    uint64_t cell = 0;
    bool ok;

    memset(r, 0, sizeof(*r));
    ok = json_is_object(o) && json_u64(o, "cell", &cell) && cell != UNKNOWN &&
         json_u64(o, "cells", cells) && *cells != UNKNOWN && cell < *cells &&
         json_str(o, "policy", r->policy, sizeof(r->policy)) &&
         json_str(o, "size_key", r->size_key, sizeof(r->size_key)) &&
         json_u64(o, "size_bytes", &r->size_bytes) && json_u64(o, "minflt", &r->minflt) &&
         json_u64(o, "majflt", &r->majflt) && json_u64(o, "pswpin", &r->pswpin) &&
         json_u64(o, "pswpout", &r->pswpout) && json_u64(o, "time_ns", &r->time_ns) &&
         json_str(o, "status", r->status, sizeof(r->status));
    r->cell = cell;
    if (ok && json_is_string(json_object_get(o, "error")))
        r->error = strdup(json_string_value(json_object_get(o, "error")));
    json_decref(o);
    return ok;
}

static int cmp_cell(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    return x->cell < y->cell ? -1 : x->cell > y->cell;
}

enum { M_JSON };
enum { M_PLOT };

static int cmd_merge(int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    static const char *const valued[] = {"plot", NULL};
    struct args a = {.cmd = "merge", .flags = flags, .valued = valued};
    const char **files = calloc((size_t)argc + 1, sizeof(*files));
    struct row *rows = NULL;
    size_t nr = 0, cap = 0;
    uint64_t cells = UNKNOWN;
    char *line = NULL;
    size_t line_cap = 0;
    int rc;

    /* any number of files: parse them after the options */
    if (files == NULL || !args_alloc(&a, argc)) {
        free(files);
        args_free(&a);
        return EXIT_INTERNAL;
    }
    a.max_files = 0;
    {
        int nf = 0, na = 0;
        char **opts = calloc((size_t)argc + 1, sizeof(*opts));
        bool no_more = false;

        if (opts == NULL) {
            free(files);
            args_free(&a);
            return EXIT_INTERNAL;
        }
        for (int i = 0; i < argc; i++) {
            if (!no_more && strcmp(argv[i], "--") == 0) {
                no_more = true;
            } else if (no_more || argv[i][0] != '-' || argv[i][1] == '\0') {
                files[nf++] = argv[i];
            } else {
                opts[na++] = argv[i];
                /* an option with its value in the next argument */
                if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') == NULL &&
                    strcmp(argv[i], "--json") != 0 && strcmp(argv[i], "--help") != 0 &&
                    i + 1 < argc)
                    opts[na++] = argv[++i];
            }
        }
        rc = parse_args(na, opts, &a);
        free(opts);
        if (rc == 0 && a.nr_overrides > 0) {
            fprintf(stderr, "vmsim merge: --%s: merge takes no settings (see vmsim merge "
                            "--help)\n", a.overrides[0].key);
            rc = -1;
        }
        if (rc == 0 && nf == 0) {
            fprintf(stderr, "vmsim merge: no results file given (see vmsim merge --help)\n");
            rc = -1;
        }
        if (rc == 0 && a.value[M_PLOT] != NULL && strcmp(extension(a.value[M_PLOT]), "png") != 0 &&
            strcmp(extension(a.value[M_PLOT]), "svg") != 0) {
            fprintf(stderr, "vmsim merge: --plot %s: the picture's name must end in .png or "
                            ".svg\n", a.value[M_PLOT]);
            rc = -1;
        }
    }
    if (rc != 0) {
        if (rc > 0)
            merge_usage(stdout);
        free(files);
        args_free(&a);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    for (size_t f = 0; files[f] != NULL && rc == 0; f++) {
        FILE *in = strcmp(files[f], "-") == 0 ? stdin : fopen(files[f], "r");
        unsigned lineno = 0;
        ssize_t len;

        if (in == NULL) {
            fprintf(stderr, "%s: cannot open: %s\n", files[f], strerror(errno));
            rc = EXIT_USAGE;
            break;
        }
        while (rc == 0 && (len = getline(&line, &line_cap, in)) >= 0) {
            uint64_t c;

            lineno++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                               line[len - 1] == ' '))
                line[--len] = '\0';
            if (len == 0)
                continue;
            if (nr == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct row *n2 = realloc(rows, ncap * sizeof(*n2));

                if (n2 == NULL) {
                    fprintf(stderr, "vmsim merge: out of memory\n");
                    rc = EXIT_INTERNAL;
                    break;
                }
                rows = n2;
                cap = ncap;
            }
            if (!parse_cell_line(line, &rows[nr], &c)) {
                free(rows[nr].error);
                fprintf(stderr, "%s:%u: not a vmsim sweep-cell result (one JSON object with "
                                "cell, cells, policy, size_key, size_bytes, minflt, majflt, "
                                "pswpin, pswpout, time_ns, status)\n", files[f], lineno);
                rc = EXIT_USAGE;
                break;
            }
            nr++;
            if (cells != UNKNOWN && c != cells) {
                fprintf(stderr, "%s:%u: a cell of a grid of %" PRIu64 " cells, but earlier "
                                "lines have %" PRIu64 ": results of different sweeps\n",
                        files[f], lineno, c, cells);
                rc = EXIT_USAGE;
            }
            cells = c;
        }
        if (in != stdin)
            fclose(in);
    }
    free(line);
    if (rc == 0) {
        qsort(rows, nr, sizeof(*rows), cmp_cell);
        for (size_t i = 0, want = 0; i <= nr && rc == 0; i++, want++) {
            if (i < nr && i > 0 && rows[i].cell == rows[i - 1].cell) {
                fprintf(stderr, "vmsim merge: cell %" PRIu64 " appears more than once\n",
                        rows[i].cell);
                rc = EXIT_USAGE;
            } else if ((i < nr && rows[i].cell != want) || (i == nr && want < cells)) {
                fprintf(stderr, "vmsim merge: cell %zu of %" PRIu64 " is missing (a job that "
                                "did not run or printed nothing?)\n", want, cells);
                rc = EXIT_USAGE;
            }
        }
        if (nr == 0) {
            fprintf(stderr, "vmsim merge: no results in the files\n");
            rc = EXIT_USAGE;
        }
    }
    if (rc == 0) {
        print_row_errors(rows, nr);
        if (a.flag_set[M_JSON])
            print_json(stdout, rows, nr);
        else
            print_csv(stdout, rows, nr);
        rc = table_status(rows, nr);
        if (a.value[M_PLOT] != NULL) {
            int prc = write_plot("merge", a.value[M_PLOT], files[0], rows, nr);

            rc = prc > rc ? prc : rc;
        }
    }
    free_rows(rows, nr);
    free(files);
    args_free(&a);
    return rc;
}

/* ---- pagetable ----------------------------------------------------------------------- */

static void pagetable_usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim pagetable TRACE [--pid N] [--at EVENT]\n"
            "                       [--dot | --png FILE | --svg FILE] [options]\n"
            "\n"
            "Replay TRACE (to its end, or up to event EVENT) and print the page-table tree\n"
            "of a process: its PML4, PDPT, PD and PT tables and their present, swap and huge\n"
            "entries (the report \"pagetable\"), or the same tree as a Graphviz DOT graph\n"
            "(\"pagetable-dot\": levels, present entries, huge leaves, frames shared\n"
            "copy-on-write), or that graph drawn by Graphviz's dot.\n"
            "\n"
            "options:\n"
            "  --pid N          the process (default 1); it must be alive then\n"
            "  --at EVENT       stop after event EVENT (0-based, as error messages count)\n"
            "  --dot            print the DOT graph\n"
            "  --png FILE       draw it into FILE with dot (graphviz)\n"
            "  --svg FILE       likewise, as SVG\n"
            "  --format FORMAT  the trace's container (as for replay)\n"
            "  -h, --help       show this help\n"
            "\n"
            "--KEY VALUE sets a \"system\" key, as for replay:\n");
    system_options(out);
    fprintf(out, "\n"
                 "exit status: as replay's (0, 1 an expect failed, 2 bad usage or trace or a pid\n"
                 "not alive, 3 the kernel panicked, 4 an internal error or a picture that\n"
                 "cannot be written)\n");
}

enum { PT_DOT };
enum { PT_PID, PT_AT, PT_PNG, PT_SVG, PT_FORMAT };

/* Draw the DOT text of pid into file with `dot -T<ext>`. */
static int draw_dot(const vmsim_t *sim, vmsim_pid_t pid, const char *file, const char *ext)
{
    char dotfile[PATH_MAX], tmpl[PATH_MAX], fmt[16];
    const char *tmpdir = getenv("TMPDIR");
    bool have_dot = on_path("dot");
    FILE *f;
    int fd, rc;

    if (have_dot) {
        snprintf(tmpl, sizeof(tmpl), "%s/vmsim-pagetable-XXXXXX",
                 tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
        fd = mkstemp(tmpl);
        f = fd >= 0 ? fdopen(fd, "w") : NULL;
        snprintf(dotfile, sizeof(dotfile), "%s", tmpl);
    } else {
        with_ext(file, ".dot", dotfile, sizeof(dotfile));
        f = fopen(dotfile, "w");
    }
    if (f == NULL) {
        fprintf(stderr, "vmsim pagetable: %s: cannot create: %s\n", dotfile, strerror(errno));
        return EXIT_INTERNAL;
    }
    rc = vmsim_report_write(sim, VMSIM_REPORT_PAGETABLE_DOT, pid, f);
    if (fclose(f) != 0 || rc < 0) {
        fprintf(stderr, "vmsim pagetable: %s: cannot write the graph\n", dotfile);
        if (have_dot)
            unlink(dotfile);
        return EXIT_INTERNAL;
    }
    if (!have_dot) {
        fprintf(stderr,
                "vmsim pagetable: graphviz is not installed, so %s was not drawn; install it "
                "with\n  apt-get install graphviz\nthen run: dot -T%s -o %s %s   (the graph "
                "is in %s)\n",
                file, ext, file, dotfile, dotfile);
        return 0;
    }
    snprintf(fmt, sizeof(fmt), "-T%s", ext);
    rc = run_program((char *const[]){"dot", fmt, "-o", (char *)file, dotfile, NULL});
    unlink(dotfile);
    if (rc != 0) {
        fprintf(stderr, "vmsim pagetable: dot %s -o %s failed (%s %d)\n", fmt, file,
                rc < 0 ? "could not run it:" : "exit status", rc);
        return EXIT_INTERNAL;
    }
    return 0;
}

static int cmd_pagetable(int argc, char **argv)
{
    static const char *const flags[] = {"dot", NULL};
    static const char *const valued[] = {"pid", "at", "png", "svg", "format", NULL};
    struct args a = {.cmd = "pagetable", .max_files = 1, .flags = flags, .valued = valued};
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    uint64_t pid = 1, at = UNKNOWN;
    int rc, status, outputs;

    if (!args_alloc(&a, argc)) {
        args_free(&a);
        return EXIT_INTERNAL;
    }
    rc = parse_args(argc, argv, &a);
    if (rc == 0 && a.nr_files == 0) {
        fprintf(stderr, "vmsim pagetable: no trace file given (see vmsim pagetable --help)\n");
        rc = -1;
    }
    if (rc == 0 && a.value[PT_PID] != NULL &&
        (!parse_count(a.value[PT_PID], &pid) || pid < 1 || pid > INT32_MAX)) {
        fprintf(stderr, "vmsim pagetable: --pid %s: give a pid >= 1\n", a.value[PT_PID]);
        rc = -1;
    }
    if (rc == 0 && a.value[PT_AT] != NULL &&
        (!parse_count(a.value[PT_AT], &at) || at >= UINT64_MAX - 1)) {
        fprintf(stderr, "vmsim pagetable: --at %s: give an event index (0, 1, ...)\n",
                a.value[PT_AT]);
        rc = -1;
    }
    outputs = a.flag_set[PT_DOT] + (a.value[PT_PNG] != NULL) + (a.value[PT_SVG] != NULL);
    if (rc == 0 && outputs > 1) {
        fprintf(stderr, "vmsim pagetable: give one of --dot, --png and --svg\n");
        rc = -1;
    }
    if (rc != 0) {
        if (rc > 0)
            pagetable_usage(stdout);
        args_free(&a);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    vmsim_replay_options_init(&opt);
    opt.overrides = a.overrides;
    opt.nr_overrides = a.nr_overrides;
    opt.format = a.value[PT_FORMAT];
    opt.report_out = stderr; /* stdout holds only the tree */
    opt.on_fail = print_fail;
    opt.max_events = at != UNKNOWN ? at + 1 : 0;
    status = vmsim_replay(a.files[0], &opt, &sim, NULL, &err);
    if (status == VMSIM_REPLAY_BAD_TRACE || status == VMSIM_REPLAY_INTERNAL) {
        print_error(&err);
        vmsim_destroy(sim);
        args_free(&a);
        return status;
    }
    if (status == VMSIM_REPLAY_PANIC)
        print_error(&err);
    {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, (vmsim_pid_t)pid, &pi) != 0 || !pi.alive) {
            fprintf(stderr, "%s: process %" PRIu64 " is %s %s (try --at EVENT or --pid)\n",
                    a.files[0], pid, vmsim_proc_info(sim, (vmsim_pid_t)pid, &pi) != 0
                                         ? "not spawned"
                                         : "dead",
                    at != UNKNOWN ? "after that event" : "at the end of the trace");
            vmsim_destroy(sim);
            args_free(&a);
            return EXIT_USAGE;
        }
    }
    if (a.value[PT_PNG] != NULL || a.value[PT_SVG] != NULL) {
        rc = a.value[PT_PNG] != NULL ? draw_dot(sim, (vmsim_pid_t)pid, a.value[PT_PNG], "png")
                                    : draw_dot(sim, (vmsim_pid_t)pid, a.value[PT_SVG], "svg");
    } else {
        rc = vmsim_report_write(sim, a.flag_set[PT_DOT] ? VMSIM_REPORT_PAGETABLE_DOT
                                                       : VMSIM_REPORT_PAGETABLE,
                                (vmsim_pid_t)pid, stdout);
        if (rc < 0 || fflush(stdout) != 0) {
            fprintf(stderr, "vmsim pagetable: writing the tree failed\n");
            rc = EXIT_INTERNAL;
        }
    }
    vmsim_destroy(sim);
    args_free(&a);
    return rc != 0 ? rc : status;
}

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
} commands[] = {
    {"replay", cmd_replay, replay_usage},
    {"convert", cmd_convert, convert_usage},
    {"sweep", cmd_sweep, sweep_usage},
    {"sweep-cell", cmd_sweep_cell, sweep_cell_usage},
    {"merge", cmd_merge, merge_usage},
    {"pagetable", cmd_pagetable, pagetable_usage},
};

int main(int argc, char **argv)
{
    size_t nc = sizeof(commands) / sizeof(commands[0]);

    if (argc > 0 && argv[0] != NULL)
        prog_name = argv[0];
    if (argc < 2) {
        fprintf(stderr, "vmsim: no command given (see vmsim --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < nc; i++) {
                if (strcmp(argv[2], commands[i].name) == 0) {
                    commands[i].usage(stdout);
                    return 0;
                }
            }
            fprintf(stderr, "vmsim help: unknown command \"%s\" (replay, convert, sweep, "
                            "sweep-cell, merge, pagetable)\n", argv[2]);
            return EXIT_USAGE;
        }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vmsim %s\n", vmsim_version_string());
        return 0;
    }
    for (size_t i = 0; i < nc; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "vmsim: unknown command \"%s\" (see vmsim --help)\n", argv[1]);
    return EXIT_USAGE;
}
