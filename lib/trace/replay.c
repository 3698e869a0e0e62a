/*
 * replay.c -- apply a trace's events to a machine through the public API,
 * check its `expect` events, and say where a trace went wrong.
 *
 * The replayer keeps only what the trace's language needs beyond the
 * machine: the region names bound by `as` (global to the trace, a uthash
 * table) and, per pid, the errno of the most recent call-like event.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace.h"

/* uthash must never exit(): an allocation failure leaves hh.tbl NULL. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

/* abort() after a heap-corruption check: SIGABRT raised with tgkill(),
 * which Linux reports with si_code SI_TKILL. */
#define SIGABRT_NR 6

/* ---- errors ------------------------------------------------------------ */

void vmsim__error_init(vmsim_trace_error_t *err, const char *file)
{
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : "");
    err->event_index = VMSIM_TRACE_NO_EVENT;
}

int vmsim__error_set(vmsim_trace_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return code;
}

int vmsim_trace_error_format(const vmsim_trace_error_t *err, char *buf, size_t len)
{
    int n;

    if (err->line > 0 && err->op[0] != '\0')
        n = snprintf(buf, len, "%s:%u:%u: op \"%s\": %s", err->file, err->line, err->column,
                     err->op, err->text);
    else if (err->line > 0)
        n = snprintf(buf, len, "%s:%u:%u: %s", err->file, err->line, err->column, err->text);
    else if (err->event_index != VMSIM_TRACE_NO_EVENT && err->op[0] != '\0')
        n = snprintf(buf, len, "%s: event %" PRIu64 " (op \"%s\"): %s", err->file,
                     err->event_index, err->op, err->text);
    else if (err->event_index != VMSIM_TRACE_NO_EVENT)
        n = snprintf(buf, len, "%s: event %" PRIu64 ": %s", err->file, err->event_index,
                     err->text);
    else
        n = snprintf(buf, len, "%s: %s", err->file, err->text);
    /* One line whatever the file name or the trace's strings hold. */
    for (size_t i = 0; buf != NULL && i < len && buf[i] != '\0'; i++) {
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = ' ';
    }
    return n;
}

/* ---- names ------------------------------------------------------------- */

static const char *const op_names[] = {
#define XX(id, name) name,
    VMSIM__OP_MAP(XX)
#undef XX
};

const char *vmsim__op_name(vmsim__op op)
{
    return (unsigned)op < VMSIM__OP__COUNT ? op_names[op] : "?";
}

int vmsim__op_from_name(const char *name, size_t n)
{
    for (int i = 0; i < VMSIM__OP__COUNT; i++) {
        if (strlen(op_names[i]) == n && memcmp(op_names[i], name, n) == 0)
            return i;
    }
    return -1;
}

static const char *const syskey_names[] = {
#define XX(id, name) name,
    VMSIM__SYSKEY_MAP(XX)
#undef XX
};

const char *vmsim_trace_system_key(size_t i)
{
    return i < VMSIM__SYS__COUNT ? syskey_names[i] : NULL;
}

int vmsim__syskey_from_name(const char *name)
{
    for (int i = 0; i < VMSIM__SYS__COUNT; i++) {
        if (strcmp(syskey_names[i], name) == 0)
            return i;
    }
    return -1;
}

/* ---- system settings to config ----------------------------------------- */

int vmsim__system_apply(const struct vmsim__system *s, vmsim_config_t *cfg,
                        const vmsim_replay_options_t *opt, vmsim_trace_error_t *err)
{
#define GIVEN(k) ((s->present >> VMSIM__SYS_##k) & 1u)
    if (GIVEN(MEMORY))
        cfg->memory = s->memory;
    if (GIVEN(SWAP))
        cfg->swap = s->swap;
    if (GIVEN(POLICY)) {
        /* The machine keeps cfg.policy: point it at the library's own name,
         * never at the trace's text, which is gone when the replay ends. */
        const vmsim_policy_ops_t *ops = vmsim_policy_builtin(s->policy);

        for (size_t i = 0; ops == NULL && opt != NULL && i < opt->nr_policies; i++) {
            if (opt->policies[i] != NULL && opt->policies[i]->name != NULL &&
                strcmp(opt->policies[i]->name, s->policy) == 0) {
                ops = opt->policies[i];
                cfg->policy_ops = ops;
            }
        }
        if (ops == NULL) {
            char q[96];

            return vmsim__error_set(err, VMSIM_EPARSE,
                                    "system \"policy\": unknown policy \"%s\" (use fifo, lru, "
                                    "clock, linux, opt, random)",
                                    vmsim__quote(s->policy, strlen(s->policy), 40, q,
                                                 sizeof(q)));
        }
        cfg->policy = ops->name;
    }
    if (GIVEN(RESIDENT_LIMIT))
        cfg->resident_limit = s->resident_limit;
    if (GIVEN(THP))
        cfg->thp = s->thp;
    if (GIVEN(HUGEPAGES)) {
        cfg->hugepages_2m = s->hugepages_2m;
        cfg->hugepages_1g = s->hugepages_1g;
    }
    if (GIVEN(OVERCOMMIT_MEMORY))
        cfg->overcommit_memory = s->overcommit_memory;
    if (GIVEN(OVERCOMMIT_RATIO))
        cfg->overcommit_ratio = s->overcommit_ratio;
    if (GIVEN(PANIC_ON_OOM))
        cfg->panic_on_oom = s->panic_on_oom;
    if (GIVEN(SWAPPINESS))
        cfg->swappiness = s->swappiness;
    if (GIVEN(PAGE_CLUSTER))
        cfg->page_cluster = s->page_cluster;
    if (GIVEN(FAULT_AROUND_BYTES))
        cfg->fault_around_bytes = s->fault_around_bytes;
    if (GIVEN(READ_AHEAD_KB))
        cfg->read_ahead_kb = s->read_ahead_kb;
    if (GIVEN(TLB)) {
        cfg->tlb.enabled = s->tlb.enabled;
        if (s->tlb_given & 1u << 0)
            cfg->tlb.l1_4k = s->tlb.l1_4k;
        if (s->tlb_given & 1u << 1)
            cfg->tlb.l1_2m = s->tlb.l1_2m;
        if (s->tlb_given & 1u << 2)
            cfg->tlb.l1_1g = s->tlb.l1_1g;
        if (s->tlb_given & 1u << 3)
            cfg->tlb.l2 = s->tlb.l2;
        if (s->tlb_given & 1u << 4)
            cfg->tlb.ways = s->tlb.ways;
        if (s->tlb_given & 1u << 5)
            cfg->tlb.pcid = s->tlb.pcid;
    }
    if (GIVEN(TRACK_DATA))
        cfg->track_data = s->track_data;
    if (GIVEN(SEED))
        cfg->seed = s->seed;
    if (GIVEN(LATENCY_NS)) {
        uint64_t *dst[] = {
#define XX(name, dflt, doc) &cfg->latency.name,
            VMSIM_LATENCY_MAP(XX)
#undef XX
        };
        const uint64_t *src[] = {
#define XX(name, dflt, doc) &s->latency.name,
            VMSIM_LATENCY_MAP(XX)
#undef XX
        };

        for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
            if (s->latency_given & 1u << i)
                *dst[i] = *src[i];
        }
    }
#undef GIVEN
    if (cfg->resident_limit > cfg->memory)
        return vmsim__error_set(err, VMSIM_ERANGE,
                                "system \"resident_limit\" (%" PRIu64
                                " bytes) is more than \"memory\" (%" PRIu64 " bytes)",
                                cfg->resident_limit, cfg->memory);
    return 0;
}

/* ---- replay state ------------------------------------------------------ */

/* A region name bound by `as`, or left unbound by a failed call. */
struct region {
    UT_hash_handle hh;
    bool bound;
    vmsim_vaddr_t addr;
    uint64_t failed_event; /* !bound: the event whose call failed */
    int failed_errno;
    char name[VMSIM__NAME_MAX + 1]; /* the key */
};

/* What the replayer keeps per pid. */
struct pstate {
    UT_hash_handle hh;
    vmsim_pid_t pid; /* the key */
    int err_no;      /* of the most recent call-like event */
};

struct replay {
    vmsim_t *sim;
    struct vmsim__reader *rd;
    const vmsim_replay_options_t *opt;
    vmsim_trace_error_t *err;
    vmsim_trace_error_t first_fail;
    vmsim_replay_result_t res;
    struct region *regions;
    struct pstate *procs;
    FILE *report_out;
    bool prepass;         /* OPT's pre-pass: record accesses, no output */
    uint64_t *future;     /* OPT's next-use table, given to the machine */
    bool panicked;        /* a call reported the panic */
};

/* Fill the replay's error for event ev. Returns code. */
__attribute__((format(printf, 4, 5))) static int fail(struct replay *rp,
                                                      const struct vmsim__event *ev, int code,
                                                      const char *fmt, ...)
{
    va_list ap;

    rp->err->code = code;
    rp->err->line = ev->line;
    rp->err->column = ev->line > 0 ? 1 : 0;
    rp->err->event_index = ev->index;
    snprintf(rp->err->op, sizeof(rp->err->op), "%s", vmsim__op_name(ev->op));
    va_start(ap, fmt);
    vsnprintf(rp->err->text, sizeof(rp->err->text), fmt, ap);
    va_end(ap);
    return code;
}

/* A negative code from the library, for event ev's call `what`. */
static int lib_fail(struct replay *rp, const struct vmsim__event *ev, const char *what, int rc)
{
    if (rc == VMSIM_EPANIC) {
        rp->panicked = true;
        return 0; /* the loop turns the panic into its status */
    }
    if (rc == VMSIM_ENOTSUP)
        return fail(rp, ev, rc, "%s is not supported yet by this libvmsim", what);
    return fail(rp, ev, rc, "%s failed: %s (%s)", what, vmsim_strerror(rc),
                vmsim_err_name(rc));
}

static int not_supported(struct replay *rp, const struct vmsim__event *ev, const char *what)
{
    return fail(rp, ev, VMSIM_ENOTSUP, "%s is not supported yet by this libvmsim", what);
}

static int no_file(struct replay *rp, const struct vmsim__event *ev, const char *name)
{
    char q[96];

    return fail(rp, ev, VMSIM_ENOENT, "no file \"%s\" (create it with a \"file\" event first)",
                vmsim__quote(name, strlen(name), 60, q, sizeof(q)));
}

static struct pstate *pstate_get(struct replay *rp, vmsim_pid_t pid, bool create)
{
    struct pstate *p = NULL;

    HASH_FIND_INT(rp->procs, &pid, p);
    if (p != NULL || !create)
        return p;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->pid = pid;
    HASH_ADD_INT(rp->procs, pid, p);
    if (p->hh.tbl == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

static int set_errno(struct replay *rp, const struct vmsim__event *ev, vmsim_pid_t pid, int e)
{
    struct pstate *p = pstate_get(rp, pid, true);

    if (p == NULL)
        return fail(rp, ev, VMSIM_ENOMEM, "out of memory");
    p->err_no = e;
    return 0;
}

static int get_errno(struct replay *rp, vmsim_pid_t pid)
{
    struct pstate *p = pstate_get(rp, pid, false);

    return p != NULL ? p->err_no : 0;
}

/* Bind (or, for a failed call, unbind) a region name. */
static int bind_name(struct replay *rp, const struct vmsim__event *ev, const char *name,
                     bool bound, vmsim_vaddr_t addr, int err_no)
{
    size_t n = strlen(name);
    struct region *g = NULL;

    HASH_FIND(hh, rp->regions, name, n, g);
    if (g == NULL) {
        g = calloc(1, sizeof(*g));
        if (g == NULL)
            return fail(rp, ev, VMSIM_ENOMEM, "out of memory");
        memcpy(g->name, name, n);
        HASH_ADD(hh, rp->regions, name[0], n, g);
        if (g->hh.tbl == NULL) {
            free(g);
            return fail(rp, ev, VMSIM_ENOMEM, "out of memory");
        }
    }
    g->bound = bound;
    g->addr = addr;
    g->failed_event = ev->index;
    g->failed_errno = err_no;
    return 0;
}

/* Turn an address as written into a number; `key` names the field. */
static int resolve(struct replay *rp, const struct vmsim__event *ev,
                   const struct vmsim__addr *a, const char *key, vmsim_vaddr_t *out)
{
    struct region *g = NULL;
    char q[96];

    if (a->name == NULL) {
        *out = a->value;
        return 0;
    }
    vmsim__quote(a->name, a->name_len, 40, q, sizeof(q));
    HASH_FIND(hh, rp->regions, a->name, a->name_len, g);
    if (g == NULL)
        return fail(rp, ev, VMSIM_EPARSE,
                    "\"%s\": region \"%s\" is not bound (no earlier event named it with \"as\")",
                    key, q);
    if (!g->bound)
        return fail(rp, ev, VMSIM_EPARSE,
                    "\"%s\": region \"%s\" is not bound: its call at event %" PRIu64
                    " failed with %s",
                    key, q, g->failed_event, vmsim_sys_errno_name(g->failed_errno) != NULL
                                                 ? vmsim_sys_errno_name(g->failed_errno)
                                                 : "an error");
    if (a->minus ? !vmsim__sub_ok(g->addr, a->value, out)
                 : !vmsim__add_ok(g->addr, a->value, out))
        return fail(rp, ev, VMSIM_ERANGE, "\"%s\": region \"%s\" (0x%" PRIx64 ") %c 0x%" PRIx64
                    " %s", key, q, g->addr, a->minus ? '-' : '+', a->value,
                    a->minus ? "goes below 0" : "overflows 64 bits");
    return 0;
}

/* Whether process pid is dead, killed by the OOM killer. */
static bool oom_killed(const vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t info;

    return vmsim_proc_info(sim, pid, &info) == 0 && !info.alive && info.oom_killed;
}

/* The pid must name a live process (the rule for every event but spawn and
 * expect). */
static int need_alive(struct replay *rp, const struct vmsim__event *ev, vmsim_pid_t pid)
{
    vmsim_proc_info_t info;

    if (vmsim_proc_alive(rp->sim, pid) == 1)
        return 0;
    if (vmsim_proc_info(rp->sim, pid, &info) != 0)
        return fail(rp, ev, VMSIM_ESRCH, "no process %d (spawn it first)", (int)pid);
    if (!info.alive) {
        const char *how = "it exited";

        if (info.oom_killed)
            how = "the OOM killer killed it";
        else if (info.signal == VMSIM_SIGSEGV)
            how = "it was killed by SIGSEGV";
        else if (info.signal == VMSIM_SIGBUS)
            how = "it was killed by SIGBUS";
        else if (info.signal == VMSIM_SIGKILL)
            how = "it was killed by SIGKILL";
        else if (info.signal == SIGABRT_NR)
            how = "it was killed by SIGABRT";
        return fail(rp, ev, VMSIM_ESRCH,
                    "process %d is dead (%s); only spawn and expect may name it", (int)pid,
                    how);
    }
    return 0;
}

/* ---- events ------------------------------------------------------------ */

static bool alive(struct replay *rp, vmsim_pid_t pid)
{
    vmsim_proc_info_t info;

    return vmsim_proc_info(rp->sim, pid, &info) == 0 && info.alive;
}

/* One access; a panic is noted, not an error. */
static int access1(struct replay *rp, const struct vmsim__event *ev, vmsim_vaddr_t va,
                   uint64_t size, vmsim_access_kind kind)
{
    unsigned out = 0;
    int rc = vmsim_access(rp->sim, ev->pid, va, size, kind, &out);

    if (out & VMSIM_OUT_PANIC)
        rp->panicked = true;
    if (rc < 0)
        return lib_fail(rp, ev, "the access", rc);
    return 0;
}

static int do_spawn(struct replay *rp, const struct vmsim__event *ev)
{
    char name[16];
    int rc;

    if (alive(rp, ev->pid))
        return fail(rp, ev, VMSIM_EEXIST, "process %d is alive (spawn needs a new or dead pid)",
                    (int)ev->pid);
    if (ev->name != NULL)
        snprintf(name, sizeof(name), "%s", ev->name); /* TASK_COMM_LEN, as Linux */
    else if (ev->pid == 1)
        snprintf(name, sizeof(name), "init");
    else
        snprintf(name, sizeof(name), "proc%d", (int)ev->pid);
    rc = vmsim_spawn(rp->sim, ev->pid, name, ev->oom_score_adj);
    if (rc < 0)
        return lib_fail(rp, ev, "spawn", rc);
    return set_errno(rp, ev, ev->pid, 0);
}

static const char *flag_list(unsigned flags, char *buf, size_t len)
{
    static const char *const names[] = {"private", "shared",  "anonymous", "fixed",
                                        "populate", "hugetlb", "noreserve"};
    size_t o = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < 7 && o < len; i++) {
        if (flags & 1u << i)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "|" : "", names[i]);
    }
    return buf;
}

static int do_mmap(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_mmap_req_t req = {0};
    vmsim_vaddr_t va = 0;
    int rc;

    if (VMSIM__HAS(ev, ADDR) && (rc = resolve(rp, ev, &ev->addr, "addr", &req.addr)) < 0)
        return rc;
    req.len = ev->len;
    req.prot = ev->prot;
    req.flags = ev->flags;
    req.pagesize = ev->pagesize;
    req.file = ev->file;
    req.offset = ev->offset;
    rc = vmsim_mmap(rp->sim, ev->pid, &req, &va);
    if (rc == VMSIM_ENOENT && ev->file != NULL)
        return no_file(rp, ev, ev->file);
    if (rc == VMSIM_ENOTSUP) {
        char f[128];

        return fail(rp, ev, rc, "mmap with flags %s is not supported yet by this libvmsim",
                    flag_list(ev->flags, f, sizeof(f)));
    }
    if (rc < 0)
        return lib_fail(rp, ev, "mmap", rc);
    if (rc > 0 && rp->rd->one_process) {
        /* a lackey trace's implicit mapping: the recorded program had this
         * memory, so failing to map it is the simulation's limit, not an
         * event of the trace (ENOMEM: vm.max_map_count mappings exist) */
        const char *name = vmsim_sys_errno_name(rc);

        return fail(rp, ev, VMSIM_ERANGE,
                    "the implicit mapping of 0x%" PRIx64 "+%" PRIu64 " failed with %s%s: "
                    "this machine cannot replay the trace", (uint64_t)req.addr, req.len,
                    name != NULL ? name : "an error",
                    rc == VMSIM_SYS_ENOMEM ? " (at most vm.max_map_count mappings)" : "");
    }
    if (ev->as != NULL) {
        int brc = bind_name(rp, ev, ev->as, rc == 0, va, rc);

        if (brc < 0)
            return brc;
    }
    return set_errno(rp, ev, ev->pid, rc);
}

static int do_munmap_mprotect(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_vaddr_t va;
    int rc = resolve(rp, ev, &ev->addr, "addr", &va);

    if (rc < 0)
        return rc;
    if (ev->op == VMSIM__OP_MUNMAP)
        rc = vmsim_munmap(rp->sim, ev->pid, va, ev->len);
    else
        rc = vmsim_mprotect(rp->sim, ev->pid, va, ev->len, ev->prot);
    if (rc < 0)
        return lib_fail(rp, ev, vmsim__op_name(ev->op), rc);
    return set_errno(rp, ev, ev->pid, rc);
}

static int do_brk(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_vaddr_t target, cur = 0;
    int rc;

    if (VMSIM__HAS(ev, ADDR)) {
        if ((rc = resolve(rp, ev, &ev->addr, "addr", &target)) < 0)
            return rc;
    } else {
        rc = vmsim_brk(rp->sim, ev->pid, 0, &cur);
        if (rc < 0)
            return lib_fail(rp, ev, "brk", rc);
        if (ev->incr == 0)
            return set_errno(rp, ev, ev->pid, 0);
        /* glibc's sbrk() fails with ENOMEM when the sum wraps. */
        if (ev->incr > 0 ? !vmsim__add_ok(cur, (uint64_t)ev->incr, &target)
                         : (!vmsim__sub_ok(cur, 0 - (uint64_t)ev->incr, &target) ||
                            target == 0))
            return set_errno(rp, ev, ev->pid, VMSIM_SYS_ENOMEM);
    }
    rc = vmsim_brk(rp->sim, ev->pid, target, NULL);
    if (rc < 0)
        return lib_fail(rp, ev, "brk", rc);
    return set_errno(rp, ev, ev->pid, rc);
}

static void quoted_or_null(const char *s, char *buf, size_t len)
{
    if (s == NULL)
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "\"%s\"", s);
}

/* Report one failed check of ev: `what` is e.g. "pid 1 minflt". */
__attribute__((format(printf, 4, 5))) static int check_failed(struct replay *rp,
                                                              const struct vmsim__event *ev,
                                                              const char *what,
                                                              const char *fmt, ...)
{
    vmsim_trace_error_t e;
    char detail[320], why[160] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (ev->why != NULL) {
        char q[140];

        snprintf(why, sizeof(why), " (why: %s)",
                 vmsim__quote(ev->why, strlen(ev->why), 120, q, sizeof(q)));
    }
    vmsim__error_init(&e, rp->err->file);
    e.code = VMSIM_EEXPECT;
    e.line = ev->line;
    e.column = ev->line > 0 ? 1 : 0;
    e.event_index = ev->index;
    snprintf(e.op, sizeof(e.op), "%s", vmsim__op_name(ev->op));
    snprintf(e.text, sizeof(e.text), "%s: %s%s", what, detail, why);
    if (rp->res.nr_failed_checks++ == 0)
        rp->first_fail = e;
    if (rp->opt->on_fail != NULL)
        rp->opt->on_fail(rp->opt->fail_ctx, &e);
    return 0;
}

static int do_write_data(struct replay *rp, const struct vmsim__event *ev, vmsim_vaddr_t va)
{
    unsigned out = 0;
    int rc = vmsim_write_data(rp->sim, ev->pid, va, ev->data, ev->data_len, &out);

    if (out & VMSIM_OUT_PANIC)
        rp->panicked = true;
    return rc < 0 ? lib_fail(rp, ev, "writing \"data\"", rc) : 0;
}

/* Read the bytes back and compare them with "expect": a failed check, not
 * a trace error, when they differ. */
static int do_read_data(struct replay *rp, const struct vmsim__event *ev, vmsim_vaddr_t va)
{
    uint8_t *buf = malloc(ev->expect_len + 1);
    unsigned out = 0;
    int rc;

    if (buf == NULL)
        return fail(rp, ev, VMSIM_ENOMEM, "out of memory");
    rc = vmsim_read_data(rp->sim, ev->pid, va, buf, ev->expect_len, &out);
    if (out & VMSIM_OUT_PANIC)
        rp->panicked = true;
    if (rc < 0) {
        free(buf);
        return lib_fail(rp, ev, "reading bytes", rc);
    }
    rp->res.nr_checks++;
    if (!(out & (VMSIM_OUT_SEGV | VMSIM_OUT_BUS)) && !rp->panicked &&
        memcmp(buf, ev->expect_data, ev->expect_len) != 0) {
        char what[64], a[128], b[128];
        size_t at = 0;

        while (buf[at] == ev->expect_data[at])
            at++;
        snprintf(what, sizeof(what), "pid %d bytes at 0x%" PRIx64, (int)ev->pid, va);
        check_failed(rp, ev, what, "expected \"%s\", got \"%s\" (first difference at byte %zu)",
                     vmsim__quote((const char *)ev->expect_data, ev->expect_len, 32, a,
                                  sizeof(a)),
                     vmsim__quote((const char *)buf, ev->expect_len, 32, b, sizeof(b)), at);
    }
    free(buf);
    return 0;
}

static int do_rwx(struct replay *rp, const struct vmsim__event *ev)
{
    static const vmsim_access_kind kinds[] = {VMSIM_READ, VMSIM_WRITE, VMSIM_EXEC};
    vmsim_vaddr_t va;
    int rc;

    if ((rc = resolve(rp, ev, &ev->addr, "addr", &va)) < 0)
        return rc;
    if (VMSIM__HAS(ev, DATA) || VMSIM__HAS(ev, EXPECT)) {
        if (!vmsim_config(rp->sim)->track_data)
            return fail(rp, ev, VMSIM_EPARSE, "\"%s\" needs \"track_data\": true in \"system\"",
                        VMSIM__HAS(ev, DATA) ? "data" : "expect");
        return VMSIM__HAS(ev, DATA) ? do_write_data(rp, ev, va) : do_read_data(rp, ev, va);
    }
    return access1(rp, ev, va, ev->size, kinds[ev->op - VMSIM__OP_R]);
}

static int do_touch(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_vaddr_t va;
    int rc;

    if ((rc = resolve(rp, ev, &ev->addr, "addr", &va)) < 0)
        return rc;
    /* A range that runs past 2^64 is no trace error: its accesses above
     * user space kill the process with SIGSEGV before it could wrap. */
    for (uint64_t off = 0; off < ev->len; off += ev->stride) {
        if (va + off < va)
            break;
        if ((rc = access1(rp, ev, va + off, 1, ev->access)) < 0)
            return rc;
        if (rp->panicked || !alive(rp, ev->pid))
            break; /* a killed process makes no more accesses */
        if (ev->len - off <= ev->stride)
            break;
    }
    return 0;
}

static int do_refs(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_vaddr_t base, va;
    int rc;

    if ((rc = resolve(rp, ev, &ev->base, "base", &base)) < 0)
        return rc;
    for (size_t i = 0; i < ev->nr_pages; i++) {
        if (!vmsim__add_ok(base, ev->pages[i] << VMSIM_PAGE_SHIFT, &va))
            return fail(rp, ev, VMSIM_ERANGE, "\"pages\": page %" PRIu64
                        " of 0x%" PRIx64 " overflows 64 bits", ev->pages[i], base);
        if ((rc = access1(rp, ev, va, 1, ev->access)) < 0)
            return rc;
        if (rp->panicked || !alive(rp, ev->pid))
            break;
    }
    return 0;
}

static int do_fork(struct replay *rp, const struct vmsim__event *ev)
{
    int rc;

    if (alive(rp, ev->child))
        return fail(rp, ev, VMSIM_EEXIST, "child %d is alive (fork needs a new or dead pid)",
                    (int)ev->child);
    rc = vmsim_fork(rp->sim, ev->pid, ev->child);
    if (rc == VMSIM_EOOM) /* the tables could not be copied: fork() fails */
        return set_errno(rp, ev, ev->pid, VMSIM_SYS_ENOMEM);
    if (rc < 0)
        return lib_fail(rp, ev, "fork", rc);
    if ((rc = set_errno(rp, ev, ev->pid, 0)) < 0)
        return rc;
    return set_errno(rp, ev, ev->child, 0);
}

static int do_madvise_msync(struct replay *rp, const struct vmsim__event *ev)
{
    static const vmsim_advice advice[] = {
        [VMSIM__ADV_HUGEPAGE] = VMSIM_MADV_HUGEPAGE,
        [VMSIM__ADV_NOHUGEPAGE] = VMSIM_MADV_NOHUGEPAGE,
        [VMSIM__ADV_DONTNEED] = VMSIM_MADV_DONTNEED,
        [VMSIM__ADV_WILLNEED] = VMSIM_MADV_WILLNEED,
        [VMSIM__ADV_PAGEOUT] = VMSIM_MADV_PAGEOUT,
        [VMSIM__ADV_RANDOM] = VMSIM_MADV_RANDOM,
        [VMSIM__ADV_SEQUENTIAL] = VMSIM_MADV_SEQUENTIAL,
        [VMSIM__ADV_COLLAPSE] = VMSIM_MADV_COLLAPSE,
    };
    vmsim_vaddr_t va;
    int rc = resolve(rp, ev, &ev->addr, "addr", &va);

    if (rc < 0)
        return rc;
    if (ev->op == VMSIM__OP_MADVISE)
        rc = vmsim_madvise(rp->sim, ev->pid, va, ev->len, advice[ev->advice]);
    else
        rc = vmsim_msync(rp->sim, ev->pid, va, ev->len);
    if (rc < 0)
        return lib_fail(rp, ev, vmsim__op_name(ev->op), rc);
    return set_errno(rp, ev, ev->pid, rc);
}

static int do_read_write(struct replay *rp, const struct vmsim__event *ev)
{
    int rc;

    if (ev->op == VMSIM__OP_READ)
        rc = vmsim_file_read(rp->sim, ev->pid, ev->file, ev->offset, ev->len, NULL, NULL);
    else
        rc = vmsim_file_write(rp->sim, ev->pid, ev->file, ev->offset, ev->len, NULL);
    if (rc == VMSIM_ENOENT)
        return no_file(rp, ev, ev->file);
    if (rc < 0)
        return lib_fail(rp, ev, vmsim__op_name(ev->op), rc);
    return set_errno(rp, ev, ev->pid, rc);
}

static int do_sysctl(struct replay *rp, const struct vmsim__event *ev)
{
    static const char *const keys[] = {
#define XX(id, name, lo, hi) name,
        VMSIM__SYSCTL_MAP(XX)
#undef XX
    };
    static const char *const thp[] = {"always", "madvise", "never"};
    char value[32];
    int rc;

    if (ev->sysctl == VMSIM__SYSCTL_THP_ENABLED)
        snprintf(value, sizeof(value), "%s", thp[ev->value]);
    else
        snprintf(value, sizeof(value), "%" PRId64, ev->value);
    rc = vmsim_sysctl_set(rp->sim, keys[ev->sysctl], value);
    return rc < 0 ? lib_fail(rp, ev, "sysctl", rc) : 0;
}

/* The simulated libc heap: the result is bound to `as` like an mmap's. */
static int do_heap(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_vaddr_t ptr = 0, out = 0;
    int rc;

    if (VMSIM__HAS(ev, PTR) && (rc = resolve(rp, ev, &ev->ptr, "ptr", &ptr)) < 0)
        return rc;
    switch (ev->op) {
    case VMSIM__OP_MALLOC:
        rc = vmsim_heap_malloc(rp->sim, ev->pid, ev->size, &out);
        break;
    case VMSIM__OP_CALLOC:
        rc = vmsim_heap_calloc(rp->sim, ev->pid, ev->n, ev->size, &out);
        break;
    case VMSIM__OP_REALLOC:
        rc = vmsim_heap_realloc(rp->sim, ev->pid, ptr, ev->size, &out);
        break;
    default:
        rc = vmsim_heap_free(rp->sim, ev->pid, ptr);
        break;
    }
    if (rc < 0)
        return lib_fail(rp, ev, vmsim__op_name(ev->op), rc);
    if (ev->as != NULL) {
        int brc = bind_name(rp, ev, ev->as, rc == 0, out, rc);

        if (brc < 0)
            return brc;
    }
    return set_errno(rp, ev, ev->pid, rc);
}

static bool report_uses_pid(int kind)
{
    return kind == VMSIM_REPORT_MAPS || kind == VMSIM_REPORT_STATUS ||
           kind == VMSIM_REPORT_PAGETABLE || kind == VMSIM_REPORT_PAGETABLE_DOT;
}

static int do_report(struct replay *rp, const struct vmsim__event *ev)
{
    bool uses_pid = report_uses_pid(ev->report);
    int rc;

    if (uses_pid && (rc = need_alive(rp, ev, ev->pid)) < 0)
        return rc;
    rc = vmsim_report_write(rp->sim, (vmsim_report_kind)ev->report, uses_pid ? ev->pid : 0,
                            rp->report_out);
    if (rc < 0)
        return lib_fail(rp, ev, "report", rc);
    return 0;
}

/* ---- expect ------------------------------------------------------------ */

static const char *signal_name(int sig)
{
    switch (sig) {
    case 0:
        return NULL;
    case VMSIM_SIGSEGV:
        return "SIGSEGV";
    case VMSIM_SIGBUS:
        return "SIGBUS";
    case VMSIM_SIGKILL:
        return "SIGKILL";
    case SIGABRT_NR:
        return "SIGABRT";
    default:
        return "SIG?";
    }
}

/* The name Linux gives (signal, si_code); NULL with no signal. */
static const char *si_code_name(int sig, int code)
{
    const char *name = vmsim__si_code_name(sig, code);

    if (sig == 0)
        return NULL;
    return name != NULL ? name : "?";
}

static void fmt_expected_size(const struct vmsim__check *c, char *buf, size_t len)
{
    if (c->text != NULL) {
        char q[96];

        snprintf(buf, len, "%" PRIu64 " bytes (\"%s\")", c->u,
                 vmsim__quote(c->text, strlen(c->text), 40, q, sizeof(q)));
    } else {
        snprintf(buf, len, "%" PRIu64 " bytes", c->u);
    }
}

static int do_expect(struct replay *rp, const struct vmsim__event *ev)
{
    vmsim_proc_info_t info;
    bool have_info = false;
    char what[96];

    for (size_t i = 0; i < ev->nr_checks; i++) {
        const struct vmsim__check *c = &ev->checks[i];
        uint64_t got = 0;
        bool per_proc = c->key != VMSIM__CHECK_PANIC && c->key != VMSIM__CHECK_VMSTAT &&
                        c->key != VMSIM__CHECK_MEMINFO;

        if (per_proc && !have_info) {
            if (vmsim_proc_info(rp->sim, ev->pid, &info) != 0)
                return fail(rp, ev, VMSIM_ESRCH, "no process %d (spawn it first)",
                            (int)ev->pid);
            have_info = true;
        }
        snprintf(what, sizeof(what), "pid %d %s", (int)ev->pid, vmsim__check_key_name(c->key));
        rp->res.nr_checks++;
        switch (c->key) {
        case VMSIM__CHECK_MINFLT:
        case VMSIM__CHECK_MAJFLT:
        case VMSIM__CHECK_COW:
            got = c->key == VMSIM__CHECK_MINFLT   ? info.minflt
                  : c->key == VMSIM__CHECK_MAJFLT ? info.majflt
                                                  : info.cow;
            if (got != c->u)
                check_failed(rp, ev, what, "expected %" PRIu64 ", got %" PRIu64, c->u, got);
            break;
        case VMSIM__CHECK_RSS:
        case VMSIM__CHECK_VMSIZE:
        case VMSIM__CHECK_SWAP:
        case VMSIM__CHECK_PTE: {
            char want[160];

            got = c->key == VMSIM__CHECK_RSS      ? info.vmrss
                  : c->key == VMSIM__CHECK_VMSIZE ? info.vmsize
                  : c->key == VMSIM__CHECK_SWAP   ? info.vmswap
                                                  : info.vmpte;
            fmt_expected_size(c, want, sizeof(want));
            if (got != c->u)
                check_failed(rp, ev, what, "expected %s, got %" PRIu64 " bytes", want, got);
            break;
        }
        case VMSIM__CHECK_ALIVE:
        case VMSIM__CHECK_OOM_KILLED:
        case VMSIM__CHECK_PANIC: {
            bool b = c->key == VMSIM__CHECK_ALIVE        ? info.alive
                     : c->key == VMSIM__CHECK_OOM_KILLED ? info.oom_killed
                                                         : vmsim_panicked(rp->sim);

            if (c->key == VMSIM__CHECK_PANIC)
                snprintf(what, sizeof(what), "panic");
            if (b != c->b)
                check_failed(rp, ev, what, "expected %s, got %s", c->b ? "true" : "false",
                             b ? "true" : "false");
            break;
        }
        case VMSIM__CHECK_SIGNAL: {
            const char *want = c->is_null ? NULL : signal_name(c->i);
            const char *have = signal_name(info.signal);
            char a[32], b[32];

            if ((want == NULL) != (have == NULL) || (want != NULL && strcmp(want, have) != 0)) {
                quoted_or_null(want, a, sizeof(a));
                quoted_or_null(have, b, sizeof(b));
                check_failed(rp, ev, what, "expected %s, got %s", a, b);
            }
            break;
        }
        case VMSIM__CHECK_SI_CODE: {
            const char *want = c->is_null ? NULL : vmsim__si_names[c->i];
            const char *have = si_code_name(info.signal, info.si_code);
            char a[32], b[32];

            if ((want == NULL) != (have == NULL) || (want != NULL && strcmp(want, have) != 0)) {
                quoted_or_null(want, a, sizeof(a));
                quoted_or_null(have, b, sizeof(b));
                check_failed(rp, ev, what, "expected %s, got %s", a, b);
            }
            break;
        }
        case VMSIM__CHECK_ERRNO: {
            int have = get_errno(rp, ev->pid);

            if (have != c->i) {
                const char *hn = vmsim_sys_errno_name(have);

                check_failed(rp, ev, what, "expected %s, got %s",
                             vmsim_sys_errno_name(c->i), hn != NULL ? hn : "?");
            }
            break;
        }
        case VMSIM__CHECK_VMSTAT:
        case VMSIM__CHECK_MEMINFO: {
            bool vm = c->key == VMSIM__CHECK_VMSTAT;
            int rc = vm ? vmsim_vmstat_get(rp->sim, c->counter, &got)
                        : vmsim_meminfo_get(rp->sim, c->counter, &got);

            if (rc < 0)
                return lib_fail(rp, ev, vm ? "vmstat" : "meminfo", rc);
            snprintf(what, sizeof(what), "%s %s", vm ? "vmstat" : "meminfo", c->counter);
            if (got == c->u)
                break;
            if (vm || strncmp(c->counter, "HugePages_", 10) == 0) {
                check_failed(rp, ev, what, "expected %" PRIu64 ", got %" PRIu64, c->u, got);
            } else {
                char want[160];

                fmt_expected_size(c, want, sizeof(want));
                check_failed(rp, ev, what, "expected %s, got %" PRIu64 " bytes", want, got);
            }
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

/* ---- the loop ---------------------------------------------------------- */

/* Whether op names a pid that must be alive. */
static bool needs_live_pid(const struct vmsim__event *ev)
{
    switch (ev->op) {
    case VMSIM__OP_SPAWN:
    case VMSIM__OP_EXPECT:
    case VMSIM__OP_FILE:
    case VMSIM__OP_SYSCTL:
    case VMSIM__OP_SWAPOFF:
    case VMSIM__OP_REPORT: /* checked by do_report for the reports that use it */
        return false;
    case VMSIM__OP_KHUGEPAGED:
        return VMSIM__HAS(ev, PID);
    default:
        return true;
    }
}

static int apply(struct replay *rp, const struct vmsim__event *ev)
{
    int rc;

    if (rp->prepass && (ev->op == VMSIM__OP_REPORT || ev->op == VMSIM__OP_EXPECT))
        return 0; /* they make no accesses, and the pre-pass says nothing */

    if (needs_live_pid(ev) && (rc = need_alive(rp, ev, ev->pid)) < 0)
        return rc;
    switch (ev->op) {
    case VMSIM__OP_SPAWN:
        return do_spawn(rp, ev);
    case VMSIM__OP_EXIT:
        rc = vmsim_exit(rp->sim, ev->pid);
        return rc < 0 ? lib_fail(rp, ev, "exit", rc) : 0;
    case VMSIM__OP_MMAP:
        return do_mmap(rp, ev);
    case VMSIM__OP_MUNMAP:
    case VMSIM__OP_MPROTECT:
        return do_munmap_mprotect(rp, ev);
    case VMSIM__OP_BRK:
        return do_brk(rp, ev);
    case VMSIM__OP_R:
    case VMSIM__OP_W:
    case VMSIM__OP_X:
        return do_rwx(rp, ev);
    case VMSIM__OP_TOUCH:
        return do_touch(rp, ev);
    case VMSIM__OP_REFS:
        return do_refs(rp, ev);
    case VMSIM__OP_REPORT:
        return do_report(rp, ev);
    case VMSIM__OP_EXPECT:
        return do_expect(rp, ev);
    case VMSIM__OP_FORK:
        return do_fork(rp, ev);
    case VMSIM__OP_EXEC:
        rc = vmsim_exec(rp->sim, ev->pid, ev->name);
        if (rc < 0)
            return lib_fail(rp, ev, "exec", rc);
        return set_errno(rp, ev, ev->pid, rc);
    case VMSIM__OP_MADVISE:
    case VMSIM__OP_MSYNC:
        return do_madvise_msync(rp, ev);
    case VMSIM__OP_FILE:
        if (ev->size > VMSIM_MAX_FILE_SIZE)
            return fail(rp, ev, VMSIM_ERANGE,
                        "\"size\": %" PRIu64 " bytes is more than a file may hold (1 PiB, "
                        "VMSIM_MAX_FILE_SIZE)", ev->size);
        rc = vmsim_file_create(rp->sim, ev->name, ev->size, ev->data, ev->data_len);
        return rc < 0 ? lib_fail(rp, ev, "creating the file", rc) : 0;
    case VMSIM__OP_READ:
    case VMSIM__OP_WRITE:
        return do_read_write(rp, ev);
    case VMSIM__OP_SYSCTL:
        return do_sysctl(rp, ev);
    case VMSIM__OP_MALLOC:
    case VMSIM__OP_CALLOC:
    case VMSIM__OP_REALLOC:
    case VMSIM__OP_FREE:
        return do_heap(rp, ev);
    case VMSIM__OP_SWAPOFF:
        /* swapoff(2) of the event's pid (1 by default): ENOMEM when not
         * every page fits back in, the device then stays */
        rc = vmsim_swapoff(rp->sim);
        if (rc < 0)
            return lib_fail(rp, ev, "swapoff", rc);
        return set_errno(rp, ev, ev->pid, rc);
    case VMSIM__OP_KHUGEPAGED:
        rc = vmsim_khugepaged(rp->sim, VMSIM__HAS(ev, PID) ? ev->pid : 0);
        return rc < 0 ? lib_fail(rp, ev, "khugepaged", rc) : 0;
    default: {
        char what[48];

        snprintf(what, sizeof(what), "op \"%s\"", vmsim__op_name(ev->op));
        return not_supported(rp, ev, what);
    }
    }
}

/* The exit status for an error code. */
static int status_of(int code)
{
    switch (code) {
    case VMSIM_EPARSE:
    case VMSIM_EIO:
    case VMSIM_ENOTSUP:
    case VMSIM_EINVAL:
    case VMSIM_ERANGE:
    case VMSIM_ENOENT:
    case VMSIM_EEXIST:
    case VMSIM_ESRCH:
        return VMSIM_REPLAY_BAD_TRACE;
    case VMSIM_EEXPECT:
        return VMSIM_REPLAY_EXPECT_FAILED;
    case VMSIM_EPANIC:
        return VMSIM_REPLAY_PANIC;
    default:
        return VMSIM_REPLAY_INTERNAL;
    }
}

/* An error of the settings as a whole (resident_limit above memory, a
 * machine vmsim_create refuses) is placed on the JSON Lines header line,
 * where the settings are: TRACE_FORMAT.md locates everything wrong in a
 * JSON Lines trace as FILE:LINE:COLUMN. */
static int at_system_line(struct replay *rp, int rc)
{
    if (rp->rd->system_line > 0 && rp->err->line == 0) {
        rp->err->line = rp->rd->system_line;
        rp->err->column = 1;
    }
    return rc;
}

/* The machine's settings that vmsim_create() would refuse with a bare
 * code, said with the key at fault. */
static int check_machine(struct replay *rp, const vmsim_config_t *cfg)
{
    const vmsim_tlb_config_t *t = &cfg->tlb;
    static const char *const names[] = { "l1_4k", "l1_2m", "l2" };
    uint32_t sizes[] = { t->l1_4k, t->l1_2m, t->l2 };

    if (cfg->hugepages_2m > cfg->memory / ((uint64_t)2 << 20))
        return vmsim__error_set(rp->err, VMSIM_ERANGE,
                                "system: \"hugepages\": %" PRIu64 " pages of 2 MiB do not fit in "
                                "%" PRIu64 " bytes of \"memory\"", cfg->hugepages_2m, cfg->memory);
    if (cfg->hugepages_1g > cfg->memory / ((uint64_t)1 << 30))
        return vmsim__error_set(rp->err, VMSIM_ERANGE,
                                "system: \"hugepages\": %" PRIu64 " pages of 1 GiB do not fit in "
                                "%" PRIu64 " bytes of \"memory\"", cfg->hugepages_1g, cfg->memory);
    if (!t->enabled)
        return 0;
    if (t->ways == 0)
        return vmsim__error_set(rp->err, VMSIM_EINVAL, "system: \"tlb\": \"ways\" must be at least 1");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (sizes[i] == 0 || sizes[i] % t->ways != 0)
            return vmsim__error_set(rp->err, VMSIM_EINVAL,
                                    "system: \"tlb\": \"%s\" (%" PRIu32 ") must be a positive "
                                    "multiple of \"ways\" (%" PRIu32 ")",
                                    names[i], sizes[i], t->ways);
    }
    return 0;
}

/* Build the machine from the trace's settings and the overrides. */
static int build(struct replay *rp, vmsim_t **out)
{
    struct vmsim__system sys = rp->rd->system;
    vmsim_config_t cfg;
    int rc;

    for (size_t i = 0; i < rp->opt->nr_overrides; i++) {
        const vmsim_trace_override_t *o = &rp->opt->overrides[i];

        if (o->key == NULL || o->value == NULL)
            return vmsim__error_set(rp->err, VMSIM_EINVAL, "an override lacks a key or value");
        rc = vmsim__system_override(&sys, o->key, o->value, rp->err);
        if (rc < 0)
            return rc;
    }
    vmsim_config_init(&cfg, (sys.present >> VMSIM__SYS_PROFILE) & 1u ? sys.profile
                                                                       : VMSIM_PROFILE_LINUX);
    rc = vmsim__system_apply(&sys, &cfg, rp->opt, rp->err);
    if (rc < 0)
        return at_system_line(rp, rc);
    /* The user's callback as is: the machine outlives this replay, so it
     * must not call back into the replay's state. The pre-pass is silent. */
    cfg.on_event = rp->prepass ? NULL : rp->opt->on_event;
    cfg.event_ctx = rp->opt->event_ctx;
    if ((rc = check_machine(rp, &cfg)) < 0)
        return at_system_line(rp, rc);
    rc = vmsim_create(&cfg, out);
    if (rc == VMSIM_ENOMEM)
        /* a config the host cannot hold is the trace's error (exit 2),
         * as TRACE_FORMAT.md has it, not the simulator's */
        return at_system_line(rp, vmsim__error_set(rp->err, VMSIM_ERANGE,
                                                   "system: the host cannot hold this machine "
                                                   "(out of host memory building it)"));
    if (rc < 0)
        return at_system_line(rp, vmsim__error_set(rp->err, rc,
                                                   "system: the machine cannot be built: %s (%s)",
                                                   vmsim_strerror(rc), vmsim_err_name(rc)));
    return 0;
}

static void free_state(struct replay *rp)
{
    struct region *g, *gt;
    struct pstate *p, *pt;

    HASH_ITER(hh, rp->regions, g, gt) {
        HASH_DEL(rp->regions, g);
        free(g);
    }
    HASH_ITER(hh, rp->procs, p, pt) {
        HASH_DEL(rp->procs, p);
        free(p);
    }
}

/* The panic line, as the kernel logged it, for event ev. Returns
 * VMSIM_EPANIC. */
static int panic_line(struct replay *rp, const struct vmsim__event *ev)
{
    static const char prefix[] = "Kernel panic - not syncing: ";
    uint64_t seq = vmsim_kmsg_seq(rp->sim);

    for (uint64_t n = 0; n < 16 && seq > 0; n++) {
        const char *line = vmsim_kmsg(rp->sim, --seq);

        if (line != NULL && strncmp(line, prefix, sizeof(prefix) - 1) == 0)
            return fail(rp, ev, VMSIM_EPANIC, "%s", line);
    }
    /* not logged: the cause Linux gives for panic_on_oom */
    return fail(rp, ev, VMSIM_EPANIC, "%sOut of memory: %s panic_on_oom is enabled", prefix,
                vmsim_config(rp->sim)->panic_on_oom == 2 ? "compulsory" : "system-wide");
}

/*
 * The common event of a long trace, an access at a plain address with no
 * data, made directly: what apply() would do, without its checks in front
 * (need_alive()'s, resolve()'s). Returns 1 for any other event, and
 * VMSIM_ESRCH, with nothing done, when the process is not alive: apply()
 * then says why.
 */
static inline int plain_access(struct replay *rp, const struct vmsim__event *ev)
{
    static const vmsim_access_kind kinds[] = {VMSIM_READ, VMSIM_WRITE, VMSIM_EXEC};
    unsigned out = 0;
    int rc;

    if (ev->op < VMSIM__OP_R || ev->op > VMSIM__OP_X || ev->addr.name != NULL ||
        VMSIM__HAS(ev, DATA) || VMSIM__HAS(ev, EXPECT))
        return 1;
    rc = vmsim_access(rp->sim, ev->pid, ev->addr.value, ev->size, kinds[ev->op - VMSIM__OP_R],
                      &out);
    if (rc == VMSIM_ESRCH)
        return rc;
    if (out & VMSIM_OUT_PANIC)
        rp->panicked = true;
    if (rc < 0)
        return lib_fail(rp, ev, "the access", rc);
    return 0;
}

/*
 * Run every event; returns 0 or the negative code of the error in rp->err.
 * A panic ends the replay at the event that caused it (VMSIM_EPANIC, with
 * the panic line as the message): the machine is stopped, and TRACE_FORMAT
 * says replay stops.
 */
static int run(struct replay *rp)
{
    const struct vmsim__event *ev = NULL;
    bool first = true;
    char why[256];
    int rc;

    for (;;) {
        rc = vmsim__reader_next(rp->rd, &ev, rp->err);
        if (rc < 0)
            return rc;
        if (first && (rc == 0 || !(ev->op == VMSIM__OP_SPAWN && ev->pid == 1))) {
            /* Process 1 exists at start unless the first event spawns it. */
            int src = vmsim_spawn(rp->sim, 1, "init", 0);

            if (src < 0)
                return vmsim__error_set(rp->err, src, "spawning init failed: %s",
                                        vmsim_strerror(src));
        }
        first = false;
        if (rc == 0)
            return 0;
        rc = plain_access(rp, ev);
        if (rc == VMSIM_ESRCH || rc == 1)
            rc = apply(rp, ev); /* not a plain access, or its error message */
        if (rc == VMSIM_ESRCH && rp->rd->one_process && oom_killed(rp->sim, ev->pid)) {
            /* the OOM killer killed the one process of a lackey trace: its
             * recorded accesses end there (any other death, a SIGSEGV after
             * an implicit mapping failed, stays an error) */
            memset(rp->err->op, 0, sizeof(rp->err->op));
            rp->err->text[0] = '\0';
            rp->err->code = 0;
            rp->err->event_index = VMSIM_TRACE_NO_EVENT;
            rp->err->line = rp->err->column = 0;
            rp->res.ended_by_death = true;
            return 0;
        }
        if (rc < 0)
            return rc;
        rp->res.nr_events++;
        if (rp->panicked || vmsim_panicked(rp->sim))
            return panic_line(rp, ev);
        if (rp->opt->check && !rp->prepass && vmsim_check(rp->sim, why, sizeof(why)) != 0)
            return fail(rp, ev, VMSIM_ECORRUPT, "vmsim_check: %s", why);
        if (rp->opt->max_events != 0 && rp->res.nr_events >= rp->opt->max_events)
            return 0;
    }
}

/* ---- OPT's pre-pass ----------------------------------------------------- */

/* A page as the pre-pass sees it: (pid, virtual page). */
struct page_key {
    int64_t pid;
    uint64_t vpn;
};

struct last_use {
    UT_hash_handle hh;
    struct page_key key;
    uint64_t t;
};

struct access_log {
    struct page_key *acc;
    size_t n, cap;
    bool oom;
};

static void log_access(void *ctx, vmsim_pid_t pid, vmsim_vaddr_t va, vmsim_access_kind kind)
{
    struct access_log *log = ctx;

    (void)kind;
    if (log->oom)
        return;
    if (log->n == log->cap) {
        size_t ncap = log->cap ? log->cap * 2 : 4096;
        struct page_key *p = ncap > SIZE_MAX / sizeof(*p) ? NULL
                                                          : realloc(log->acc, ncap * sizeof(*p));

        if (p == NULL) {
            log->oom = true;
            return;
        }
        log->acc = p;
        log->cap = ncap;
    }
    memset(&log->acc[log->n], 0, sizeof(log->acc[0])); /* the key's padding too */
    log->acc[log->n].pid = pid;
    log->acc[log->n].vpn = va >> VMSIM_PAGE_SHIFT;
    log->n++;
}

/*
 * next[t] = the time of the next access to the page accessed at time t
 * (UINT64_MAX: never), scanning the log backwards. Returns 0 or
 * VMSIM_ENOMEM.
 */
static int next_uses(const struct access_log *log, uint64_t **out)
{
    struct last_use *seen = NULL, *u, *tmp;
    uint64_t *next = malloc((log->n ? log->n : 1) * sizeof(*next));
    int rc = 0;

    if (next == NULL)
        return VMSIM_ENOMEM;
    for (size_t t = log->n; t-- > 0;) {
        HASH_FIND(hh, seen, &log->acc[t], sizeof(struct page_key), u);
        if (u == NULL) {
            u = calloc(1, sizeof(*u));
            if (u == NULL) {
                rc = VMSIM_ENOMEM;
                break;
            }
            u->key = log->acc[t];
            u->t = UINT64_MAX;
            HASH_ADD(hh, seen, key, sizeof(struct page_key), u);
            if (u->hh.tbl == NULL) {
                free(u);
                rc = VMSIM_ENOMEM;
                break;
            }
        }
        next[t] = u->t;
        u->t = t;
    }
    HASH_ITER(hh, seen, u, tmp) {
        HASH_DEL(seen, u);
        free(u);
    }
    if (rc < 0) {
        free(next);
        return rc;
    }
    *out = next;
    return 0;
}

/*
 * OPT needs the future: replay the trace once on a second machine of the
 * same config, recording every page access (the access hook), then give
 * the real machine each access's next use. Reports, expects and --check
 * are skipped in the pre-pass; an error it meets is the one the real run
 * would meet, and is returned as such. Pages are told apart by (pid,
 * virtual page): pages shared after fork count as each process's own.
 * The pre-pass opens the trace again and streams it like the real run
 * (any container): what it keeps is the access log, 16 bytes per access,
 * and the next-use table (8 bytes per access) the machine needs.
 */
static int prepass(struct replay *rp, const char *path)
{
    struct replay pre;
    struct access_log log = {0};
    struct stat st;
    int rc;

    if (strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
        return vmsim__error_set(rp->err, VMSIM_EINVAL,
                                "policy \"opt\" reads the trace twice (a pre-pass learns the "
                                "future), so the trace must be a file, not a pipe");
    memset(&pre, 0, sizeof(pre));
    pre.opt = rp->opt;
    pre.err = rp->err;
    pre.prepass = true;
    pre.report_out = rp->report_out;
    rc = vmsim__reader_open(path, rp->opt->format, &pre.rd, rp->err);
    if (rc == 0)
        rc = build(&pre, &pre.sim);
    if (rc == 0) {
        vmsim_set_access_hook(pre.sim, log_access, &log);
        rc = run(&pre);
        if (rc == VMSIM_EPANIC) /* the real run stops at the same place */
            rc = 0;
    }
    free_state(&pre);
    vmsim__reader_close(pre.rd);
    vmsim_destroy(pre.sim);
    if (rc == 0 && log.oom)
        rc = vmsim__error_set(rp->err, VMSIM_ENOMEM, "out of memory recording OPT's future");
    if (rc == 0 && (rc = next_uses(&log, &rp->future)) < 0)
        vmsim__error_set(rp->err, rc, "out of memory computing OPT's future");
    if (rc == 0 && (rc = vmsim_set_future(rp->sim, rp->future, log.n)) < 0)
        vmsim__error_set(rp->err, rc, "out of memory giving OPT its future");
    free(log.acc);
    return rc;
}

void vmsim_replay_options_init(vmsim_replay_options_t *opt)
{
    memset(opt, 0, sizeof(*opt));
}

int vmsim_replay(const char *path, const vmsim_replay_options_t *opt, vmsim_t **sim_out,
                 vmsim_replay_result_t *result, vmsim_trace_error_t *err)
{
    vmsim_replay_options_t defaults;
    vmsim_trace_error_t local;
    struct replay rp;
    int rc, status;

    if (opt == NULL) {
        vmsim_replay_options_init(&defaults);
        opt = &defaults;
    }
    if (err == NULL)
        err = &local;
    if (sim_out != NULL)
        *sim_out = NULL;
    memset(&rp, 0, sizeof(rp));
    rp.opt = opt;
    rp.err = err;
    rp.report_out = opt->report_out != NULL ? opt->report_out : stdout;
    if (path == NULL) {
        vmsim__error_init(err, "");
        vmsim__error_set(err, VMSIM_EINVAL, "no trace file given");
        return VMSIM_REPLAY_BAD_TRACE;
    }
    rc = vmsim__reader_open(path, opt->format, &rp.rd, err);
    if (rc == 0)
        rc = build(&rp, &rp.sim);
    if (rc == 0 && strcmp(vmsim_config(rp.sim)->policy, "opt") == 0 &&
        vmsim_config(rp.sim)->policy_ops == NULL)
        rc = prepass(&rp, path);
    if (rc == 0 && opt->on_access != NULL)
        vmsim_set_access_hook(rp.sim, opt->on_access, opt->access_ctx);
    if (rc == 0)
        rc = run(&rp);
    if (rp.sim != NULL && opt->on_access != NULL)
        vmsim_set_access_hook(rp.sim, NULL, NULL);
    if (rc < 0)
        status = status_of(rc);
    else if (rp.res.nr_failed_checks > 0)
        status = VMSIM_REPLAY_EXPECT_FAILED;
    else
        status = VMSIM_REPLAY_OK;
    if (status == VMSIM_REPLAY_EXPECT_FAILED && rc == 0)
        *err = rp.first_fail;
    free_state(&rp);
    vmsim__reader_close(rp.rd);
    if (rp.future != NULL) {
        vmsim_set_future(rp.sim, NULL, 0); /* the table dies here; the machine may not */
        free(rp.future);
    }
    if (result != NULL)
        *result = rp.res;
    if (sim_out != NULL)
        *sim_out = rp.sim;
    else
        vmsim_destroy(rp.sim);
    return status;
}
