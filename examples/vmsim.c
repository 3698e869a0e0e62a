/*
 * vmsim.c -- the vmsim command-line tool.
 *
 *   vmsim replay FILE [--json] [--check] [--format FMT] [--KEY VALUE ...]
 *   vmsim --help | --version
 *
 * Exit status: 0 ok, 1 an expect failed, 2 a bad trace or bad usage (one
 * line on stderr naming the file and place), 3 the simulated kernel
 * panicked, 4 an internal error (vmsim_check() failed with --check, host
 * out of memory).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim/trace.h"
#include "vmsim/vmsim.h"

enum { EXIT_USAGE = 2, EXIT_INTERNAL = 4 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim <command> [options]\n"
            "\n"
            "Simulate the virtual memory of an x86_64 Linux machine.\n"
            "\n"
            "commands:\n"
            "  replay FILE [options]  replay a trace, check its expect events, and print a\n"
            "                         summary (vmsim replay --help for the options)\n"
            "\n"
            "options:\n"
            "  -h, --help             show this help\n"
            "  --version              print the version\n");
}

static void replay_usage(FILE *out)
{
    const char *key;

    fprintf(out,
            "usage: vmsim replay FILE [options]\n"
            "\n"
            "Replay a vmsim trace (docs/trace-format.md), check its expect events, then\n"
            "print a summary per process and for the system.\n"
            "\n"
            "options:\n"
            "  --json           print the summary as one JSON object (report events then go\n"
            "                   to stderr)\n"
            "  --check          verify every invariant (vmsim_check) after every event\n"
            "  --format FORMAT  the trace's container: auto (the default) or json\n"
            "  -h, --help       show this help\n"
            "\n"
            "Any key of the trace's \"system\" object can be overridden, with dashes or\n"
            "underscores, as --KEY VALUE or --KEY=VALUE (VALUE is read as JSON when it\n"
            "parses as JSON, else as a string):\n"
            " ");
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
    fprintf(out,
            "\n"
            "e.g. --memory 64MiB --swap 1GiB --policy lru --resident-limit 300p\n"
            "     --profile textbook --tlb false --hugepages '{\"2MiB\": 4}'\n"
            "\n"
            "exit status: 0 ok, 1 an expect failed, 2 a bad trace or usage, 3 the simulated\n"
            "kernel panicked, 4 an internal error\n");
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

static void print_fail(void *ctx, const vmsim_trace_error_t *err)
{
    char line[1024];

    (void)ctx;
    vmsim_trace_error_format(err, line, sizeof(line));
    fprintf(stderr, "%s\n", line);
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

struct replay_args {
    const char *file;
    bool json, check;
    const char *format;
    vmsim_trace_override_t *overrides;
    size_t nr_overrides;
    char (*keys)[64];
};

/* Parse replay's arguments. Returns 0, 1 for --help, or -1 after printing
 * one line on stderr. */
static int parse_replay_args(int argc, char **argv, struct replay_args *a)
{
    bool no_more_options = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *name, *value = NULL;
        size_t n;

        if (no_more_options || arg[0] != '-' || arg[1] == '\0') {
            if (a->file != NULL) {
                fprintf(stderr, "vmsim replay: more than one trace file (%s, %s)\n", a->file,
                        arg);
                return -1;
            }
            a->file = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            no_more_options = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return 1;
        if (arg[1] != '-') {
            fprintf(stderr, "vmsim replay: unknown option %s (see vmsim replay --help)\n", arg);
            return -1;
        }
        name = arg + 2;
        eq = strchr(name, '=');
        n = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if ((n == 4 && strncmp(name, "json", 4) == 0) ||
            (n == 5 && strncmp(name, "check", 5) == 0)) {
            if (eq != NULL) {
                fprintf(stderr, "vmsim replay: --%.*s takes no value\n", (int)n, name);
                return -1;
            }
            if (n == 4)
                a->json = true;
            else
                a->check = true;
            continue;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        }
        if (n == 6 && strncmp(name, "format", 6) == 0) {
            if (value == NULL) {
                fprintf(stderr, "vmsim replay: --format needs a value (auto or json)\n");
                return -1;
            }
            a->format = value;
            continue;
        }
        if (!system_key(name, n, a->keys[a->nr_overrides], sizeof(a->keys[0]))) {
            fprintf(stderr, "vmsim replay: unknown option --%.*s (see vmsim replay --help)\n",
                    (int)(n > 64 ? 64 : n), name);
            return -1;
        }
        if (value == NULL) {
            fprintf(stderr, "vmsim replay: --%.*s needs a value\n", (int)n, name);
            return -1;
        }
        a->overrides[a->nr_overrides].key = a->keys[a->nr_overrides];
        a->overrides[a->nr_overrides].value = value;
        a->nr_overrides++;
    }
    if (a->file == NULL) {
        fprintf(stderr, "vmsim replay: no trace file given (see vmsim replay --help)\n");
        return -1;
    }
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    struct replay_args a = {0};
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    vmsim_t *sim = NULL;
    char line[1024];
    int status, rc;

    a.overrides = calloc((size_t)argc + 1, sizeof(*a.overrides));
    a.keys = calloc((size_t)argc + 1, sizeof(*a.keys));
    if (a.overrides == NULL || a.keys == NULL) {
        fprintf(stderr, "vmsim: out of memory\n");
        free(a.overrides);
        free(a.keys);
        return EXIT_INTERNAL;
    }
    rc = parse_replay_args(argc, argv, &a);
    if (rc != 0) {
        if (rc > 0)
            replay_usage(stdout);
        free(a.overrides);
        free(a.keys);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    vmsim_replay_options_init(&opt);
    opt.overrides = a.overrides;
    opt.nr_overrides = a.nr_overrides;
    opt.format = a.format;
    opt.check = a.check;
    opt.report_out = a.json ? stderr : stdout; /* stdout holds only the JSON */
    opt.on_fail = print_fail;
    status = vmsim_replay(a.file, &opt, &sim, NULL, &err);
    switch (status) {
    case VMSIM_REPLAY_OK:
    case VMSIM_REPLAY_EXPECT_FAILED:
    case VMSIM_REPLAY_PANIC:
        if (status == VMSIM_REPLAY_PANIC) {
            vmsim_trace_error_format(&err, line, sizeof(line));
            fprintf(stderr, "%s\n", line);
        }
        if (print_summary(sim, a.json) < 0)
            status = EXIT_INTERNAL;
        break;
    default:
        vmsim_trace_error_format(&err, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
        break;
    }
    vmsim_destroy(sim);
    free(a.overrides);
    free(a.keys);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "vmsim: no command given (see vmsim --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vmsim %s\n", vmsim_version_string());
        return 0;
    }
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    fprintf(stderr, "vmsim: unknown command \"%s\" (see vmsim --help)\n", argv[1]);
    return EXIT_USAGE;
}
