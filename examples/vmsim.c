/*
 * vmsim.c -- the vmsim command-line tool (docs/vmsim.1).
 *
 *   vmsim replay FILE [--json] [--check] [--events FILE] [--format FMT] [--plugin SO]
 *                [--KEY VALUE ...]
 *   vmsim convert IN OUT [--format FMT] [--to FMT] [--gzip | --no-gzip]
 *                 [--KEY VALUE ...]
 *   vmsim help [COMMAND] | --help | --version
 *
 * Exit status: 0 ok, 1 an expect failed, 2 a bad trace or bad usage (one
 * line on stderr naming the file and place), 3 the simulated kernel
 * panicked, 4 an internal error (vmsim_check() failed with --check, host
 * out of memory, an output file that cannot be written).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                 "  replay FILE [options]    replay a trace, check its expect events, and print a\n"
                 "                           summary\n"
                 "  convert IN OUT [options] write a trace in another format (JSON, JSON Lines,\n"
                 "                           binary .vmtr, gzip-compressed or not)\n"
                 "  help [COMMAND]           show this help, or a command's\n"
                 "\n"
                 "options:\n"
                 "  -h, --help               show this help (vmsim COMMAND --help: the command's)\n"
                 "  --version                print the version\n"
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
    bool flag_set[8];
    const char *const *valued; /* options with a value */
    const char *value[8];
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "vmsim: no command given (see vmsim --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            if (strcmp(argv[2], "replay") == 0) {
                replay_usage(stdout);
                return 0;
            }
            if (strcmp(argv[2], "convert") == 0) {
                convert_usage(stdout);
                return 0;
            }
            fprintf(stderr, "vmsim help: unknown command \"%s\" (replay, convert)\n", argv[2]);
            return EXIT_USAGE;
        }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vmsim %s\n", vmsim_version_string());
        return 0;
    }
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(argv[1], "convert") == 0)
        return cmd_convert(argc - 2, argv + 2);
    fprintf(stderr, "vmsim: unknown command \"%s\" (see vmsim --help)\n", argv[1]);
    return EXIT_USAGE;
}
