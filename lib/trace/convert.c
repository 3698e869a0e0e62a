/*
 * convert.c -- vmsim_trace_convert(): any readable container to JSON, JSON
 * Lines or binary, gzip-compressed or not, event by event (memory stays
 * bounded but for the JSON document reader, which holds its input).
 *
 * The output carries the events as the reader validated them, in a
 * canonical form (sizes in bytes, addresses in hex, lackey's implicit
 * mappings as explicit mmap events), so every container of one trace
 * replays to the same results.
 */
#include <string.h>

#include "trace.h"

void vmsim_convert_options_init(vmsim_convert_options_t *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->gzip = -1;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The output container and compression from out's name where opt leaves
 * them open. */
static int output_kind(const char *out, const vmsim_convert_options_t *opt, const char **to,
                       bool *gzip, vmsim_trace_error_t *err)
{
    static const char *const exts[][2] = {
        {".jsonl", "jsonl"},    {".json", "json"},    {".vmtr", "vmtr"},
        {".jsonl.gz", "jsonl"}, {".json.gz", "json"}, {".vmtr.gz", "vmtr"},
    };
    const char *from_name = NULL;

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (ends_with(out, exts[i][0]))
            from_name = exts[i][1];
    }
    *gzip = opt->gzip >= 0 ? opt->gzip != 0 : ends_with(out, ".gz");
    *to = opt->to != NULL ? opt->to : from_name;
    if (*to == NULL) {
        snprintf(err->file, sizeof(err->file), "%s", out);
        return vmsim__error_set(err, VMSIM_EINVAL,
                                "cannot tell the output format from the name (use a name "
                                "ending in .json, .jsonl or .vmtr, optionally + .gz, or give "
                                "the format: json, jsonl, vmtr)");
    }
    if (strcmp(*to, "json") != 0 && strcmp(*to, "jsonl") != 0 && strcmp(*to, "vmtr") != 0) {
        char q[96];

        snprintf(err->file, sizeof(err->file), "%s", out);
        return vmsim__error_set(err, VMSIM_EINVAL,
                                "unknown output format \"%s\" (use json, jsonl, vmtr)",
                                vmsim__quote(*to, strlen(*to), 40, q, sizeof(q)));
    }
    return 0;
}

/* Apply the overrides to the reader's settings, and check that a machine
 * could be built from them. */
static int override(struct vmsim__reader *rd, const vmsim_convert_options_t *opt,
                    vmsim_trace_error_t *err)
{
    vmsim_config_t cfg;

    for (size_t i = 0; i < opt->nr_overrides; i++) {
        const vmsim_trace_override_t *o = &opt->overrides[i];
        int rc;

        if (o->key == NULL || o->value == NULL)
            return vmsim__error_set(err, VMSIM_EINVAL, "an override lacks a key or value");
        rc = vmsim__system_override(&rd->system, o->key, o->value, err);
        if (rc < 0)
            return rc;
    }
    vmsim_config_init(&cfg, (rd->system.present >> VMSIM__SYS_PROFILE) & 1u ? rd->system.profile
                                                                            : VMSIM_PROFILE_LINUX);
    return vmsim__system_apply(&rd->system, &cfg, NULL, err);
}

int vmsim_trace_convert(const char *in, const char *out, const vmsim_convert_options_t *opt,
                        uint64_t *nr_events, vmsim_trace_error_t *err)
{
    vmsim_convert_options_t defaults;
    vmsim_trace_error_t local;
    struct vmsim__reader *rd = NULL;
    struct vmsim__output *o = NULL;
    struct vmsim__writer *w = NULL;
    const struct vmsim__event *ev;
    const char *to = NULL;
    uint64_t n = 0;
    bool gzip = false;
    int rc;

    if (opt == NULL) {
        vmsim_convert_options_init(&defaults);
        opt = &defaults;
    }
    if (err == NULL)
        err = &local;
    if (nr_events != NULL)
        *nr_events = 0;
    vmsim__error_init(err, in);
    if (in == NULL || out == NULL)
        return vmsim__error_set(err, VMSIM_EINVAL, "no %s file given",
                                in == NULL ? "input" : "output");
    if ((rc = output_kind(out, opt, &to, &gzip, err)) < 0)
        return rc;
    if ((rc = vmsim__reader_open(in, opt->format, &rd, err)) < 0)
        return rc;
    if ((rc = override(rd, opt, err)) < 0)
        goto out;
    if ((rc = vmsim__output_open(out, gzip, &o, err)) < 0)
        goto out;
    rc = strcmp(to, "vmtr") == 0 ? vmsim__vmtr_writer_new(o, &w)
                                 : vmsim__json_writer_new(strcmp(to, "jsonl") == 0, o, &w);
    if (rc < 0) {
        vmsim__error_set(err, rc, "out of memory");
        goto out;
    }
    snprintf(err->file, sizeof(err->file), "%s", in);
    if ((rc = w->ops->begin(w, rd, err)) < 0)
        goto out;
    for (;;) {
        rc = vmsim__reader_next(rd, &ev, err);
        if (rc <= 0)
            break;
        if ((rc = w->ops->event(w, ev, err)) < 0)
            break;
        n++;
    }
    if (rc == 0)
        rc = w->ops->end(w, err);
out:
    if (w != NULL)
        w->ops->free(w);
    if (o != NULL) {
        int crc = vmsim__output_close(o, rc == 0, err);

        if (rc == 0)
            rc = crc;
    }
    vmsim__reader_close(rd);
    if (nr_events != NULL)
        *nr_events = n;
    return rc;
}
