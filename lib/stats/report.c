/*
 * report.c -- the machine's state as text people know from Linux (free(1),
 * /proc/meminfo, /proc/vmstat, /proc/PID/maps, /proc/PID/status,
 * /proc/buddyinfo), a page-table dump (text and Graphviz DOT), the replay
 * summary, and JSON renderings of the same.
 *
 * Everything here is computed from the public getters, so a report shows
 * exactly what a library user could compute; internal.h is included for
 * the instance allocator (vmsim__malloc, vmsim__free) and nothing else.
 * docs/reports.md describes every report and the choices made here.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes to kB as /proc shows them (the sizes are multiples of 4 KiB). */
static uint64_t kb(uint64_t bytes) { return bytes >> 10; }

static const char *const report_names[VMSIM_REPORT__COUNT] = {
#define XX(id, name) [VMSIM_REPORT_##id] = name,
    VMSIM_REPORT_MAP(XX)
#undef XX
};

int vmsim_report_kind_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < NELEMS(report_names); i++)
        if (strcmp(name, report_names[i]) == 0)
            return (int)i;
    return -1;
}

/* ---- small helpers ----------------------------------------------------- */

/*
 * A growable string in the instance allocator. Every append reports
 * VMSIM_ENOMEM and leaves the contents as they were when memory runs out.
 */
struct sbuf {
    const vmsim_t *sim;
    char *p;
    size_t len, cap;
};

static void sbuf_release(struct sbuf *b)
{
    vmsim__free(b->sim, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int sbuf_reserve(struct sbuf *b, size_t extra)
{
    size_t cap = b->cap != 0 ? b->cap : 256;
    char *p;

    if (b->len + extra + 1 <= b->cap)
        return 0;
    while (cap < b->len + extra + 1)
        cap *= 2;
    p = vmsim__malloc(b->sim, cap);
    if (p == NULL)
        return VMSIM_ENOMEM;
    if (b->len != 0)
        memcpy(p, b->p, b->len);
    p[b->len] = '\0';
    vmsim__free(b->sim, b->p);
    b->p = p;
    b->cap = cap;
    return 0;
}

static int sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap, aq;
    int n;

    va_start(ap, fmt);
    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0 || sbuf_reserve(b, (size_t)n) != 0) {
        va_end(ap);
        return VMSIM_ENOMEM;
    }
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* The pids of every process, ascending, in a new instance-allocated array
 * (NULL when there is none). Returns 0 or VMSIM_ENOMEM. */
static int list_pids(const vmsim_t *sim, vmsim_pid_t **out, size_t *nr)
{
    vmsim_pid_t probe;
    size_t n = vmsim_pids(sim, &probe, 0);
    vmsim_pid_t *pids;

    *out = NULL;
    *nr = 0;
    if (n == 0)
        return 0;
    pids = vmsim__malloc(sim, n * sizeof(*pids));
    if (pids == NULL)
        return VMSIM_ENOMEM;
    *nr = vmsim_pids(sim, pids, n);
    if (*nr > n)
        *nr = n;
    *out = pids;
    return 0;
}

/* pid's VMAs in a new instance-allocated array (NULL when none). */
static int list_vmas(const vmsim_t *sim, vmsim_pid_t pid, vmsim_vma_info_t **out, size_t *nr)
{
    vmsim_vma_info_t probe;
    size_t n = vmsim_maps(sim, pid, &probe, 0);
    vmsim_vma_info_t *v;

    *out = NULL;
    *nr = 0;
    if (n == 0)
        return 0;
    v = vmsim__malloc(sim, n * sizeof(*v));
    if (v == NULL)
        return VMSIM_ENOMEM;
    *nr = vmsim_maps(sim, pid, v, n);
    if (*nr > n)
        *nr = n;
    *out = v;
    return 0;
}

/* Write s, escaped as the kernel escapes a task name in status (\n, \\). */
static void put_task_name(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '\\')
            fputs("\\\\", out);
        else
            fputc(*s, out);
    }
}

/* Write s inside a DOT double-quoted string. */
static void put_dot_string(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static uint32_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* A stable, plausible 7-digit inode number for a name or an object. */
static uint64_t fake_inode(const void *data, size_t n)
{
    return 1000000 + fnv1a(data, n) % 9000000;
}

/* ns in a readable unit, truncated to 3 decimals: "1.234 ms". */
static void format_duration(uint64_t ns, char *buf, size_t len)
{
    static const struct {
        uint64_t div;
        const char *unit;
    } units[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}};

    for (size_t i = 0; i < NELEMS(units); i++) {
        if (ns >= units[i].div) {
            snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 " %s", ns / units[i].div,
                     ns % units[i].div / (units[i].div / 1000), units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64 " ns", ns);
}

/* ---- JSON helpers ------------------------------------------------------ */

/* json_int_t is signed; counters never come near 2^63, but clamp anyway. */
static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

/* Each setter returns -1 on failure; the _new calls own their value even
 * then, so callers OR the results together and test once. */
static int set_u64(json_t *obj, const char *key, uint64_t v)
{
    return json_object_set_new(obj, key, json_u64(v));
}

static int set_str(json_t *obj, const char *key, const char *s)
{
    return json_object_set_new(obj, key, s != NULL ? json_string(s) : json_null());
}

static int set_bool(json_t *obj, const char *key, bool v)
{
    return json_object_set_new(obj, key, json_boolean(v));
}

/* ---- free -------------------------------------------------------------- */

struct free_figures {
    uint64_t total, used, free, shared, buff_cache, available;
    uint64_t swap_total, swap_used, swap_free;
};

/* free(1) of procps-ng 4: used = total - available, buff/cache = Buffers +
 * Cached + SReclaimable. As procps does, an available above total (a
 * container's distorted view) is replaced by free, and used falls back to
 * total - free. Bytes. */
static void free_compute(const vmsim_t *sim, struct free_figures *f)
{
    uint64_t mi[VMSIM_MEMINFO__COUNT] = {0};

    vmsim_meminfo_read(sim, mi, VMSIM_MEMINFO__COUNT);
    f->total = mi[VMSIM_MEMINFO_MEMTOTAL];
    f->free = mi[VMSIM_MEMINFO_MEMFREE];
    f->shared = mi[VMSIM_MEMINFO_SHMEM];
    f->buff_cache =
        mi[VMSIM_MEMINFO_BUFFERS] + mi[VMSIM_MEMINFO_CACHED] + mi[VMSIM_MEMINFO_SRECLAIMABLE];
    f->available = mi[VMSIM_MEMINFO_MEMAVAILABLE];
    if (f->available > f->total)
        f->available = f->free;
    if (f->available <= f->total)
        f->used = f->total - f->available;
    else
        f->used = f->free <= f->total ? f->total - f->free : 0;
    f->swap_total = mi[VMSIM_MEMINFO_SWAPTOTAL];
    f->swap_free = mi[VMSIM_MEMINFO_SWAPFREE];
    f->swap_used = f->swap_free < f->swap_total ? f->swap_total - f->swap_free : 0;
}

/* procps-ng 4's default layout: a 9-wide label, a %11 first column, then
 * " %11" per column; the header's words end where the numbers end. */
static void free_text(const vmsim_t *sim, FILE *out)
{
    struct free_figures f;

    free_compute(sim, &f);
    fputs("               total        used        free      shared  buff/cache   available\n",
          out);
    fprintf(out,
            "%-9s%11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %11" PRIu64
            " %11" PRIu64 "\n",
            "Mem:", kb(f.total), kb(f.used), kb(f.free), kb(f.shared), kb(f.buff_cache),
            kb(f.available));
    fprintf(out, "%-9s%11" PRIu64 " %11" PRIu64 " %11" PRIu64 "\n", "Swap:", kb(f.swap_total),
            kb(f.swap_used), kb(f.swap_free));
}

static int free_json(const vmsim_t *sim, json_t *root)
{
    struct free_figures f;
    json_t *mem = json_object(), *swap = json_object();
    int bad = 0;

    free_compute(sim, &f);
    bad |= json_object_set_new(root, "mem", mem);
    bad |= json_object_set_new(root, "swap", swap);
    if (bad)
        return VMSIM_ENOMEM;
    bad |= set_u64(mem, "total", f.total);
    bad |= set_u64(mem, "used", f.used);
    bad |= set_u64(mem, "free", f.free);
    bad |= set_u64(mem, "shared", f.shared);
    bad |= set_u64(mem, "buff_cache", f.buff_cache);
    bad |= set_u64(mem, "available", f.available);
    bad |= set_u64(swap, "total", f.swap_total);
    bad |= set_u64(swap, "used", f.swap_used);
    bad |= set_u64(swap, "free", f.swap_free);
    return bad ? VMSIM_ENOMEM : 0;
}

/* ---- meminfo and vmstat ------------------------------------------------ */

static bool is_page_count(const char *meminfo_name)
{
    return strncmp(meminfo_name, "HugePages_", 10) == 0;
}

/* fs/proc/meminfo.c: the name and colon padded to 16 columns, the value in
 * kB right-aligned in 8. mm/hugetlb.c: HugePages_* padded to 19 columns, a
 * %5 count and no unit. Wider values push the unit right, as in Linux. */
static void meminfo_text(const vmsim_t *sim, FILE *out)
{
    uint64_t v[VMSIM_MEMINFO__COUNT] = {0};
    size_t n = vmsim_meminfo_read(sim, v, VMSIM_MEMINFO__COUNT);

    if (n > VMSIM_MEMINFO__COUNT)
        n = VMSIM_MEMINFO__COUNT;
    for (size_t i = 0; i < n; i++) {
        const char *name = vmsim_meminfo_name(i);
        char label[40];

        if (name == NULL)
            break;
        snprintf(label, sizeof(label), "%s:", name);
        if (is_page_count(name))
            fprintf(out, "%-19s%5" PRIu64 "\n", label, v[i]);
        else
            fprintf(out, "%-16s%8" PRIu64 " kB\n", label, kb(v[i]));
    }
}

/* A counter list as a JSON object of name: value. */
static int counters_json_object(const vmsim_t *sim, json_t *obj,
                                size_t (*read)(const vmsim_t *, uint64_t *, size_t),
                                const char *(*name_of)(size_t), size_t count)
{
    uint64_t v[(size_t)VMSIM_VMSTAT__COUNT + (size_t)VMSIM_MEMINFO__COUNT] = {0};
    size_t n = read(sim, v, count);
    int bad = 0;

    if (n > count)
        n = count;
    for (size_t i = 0; i < n; i++) {
        const char *name = name_of(i);

        if (name != NULL)
            bad |= set_u64(obj, name, v[i]);
    }
    return bad ? VMSIM_ENOMEM : 0;
}

static int meminfo_json_object(const vmsim_t *sim, json_t *obj)
{
    return counters_json_object(sim, obj, vmsim_meminfo_read, vmsim_meminfo_name,
                                VMSIM_MEMINFO__COUNT);
}

/* /proc/vmstat: "name value" per line. */
static void vmstat_text(const vmsim_t *sim, FILE *out)
{
    uint64_t v[VMSIM_VMSTAT__COUNT] = {0};
    size_t n = vmsim_vmstat_read(sim, v, VMSIM_VMSTAT__COUNT);

    if (n > VMSIM_VMSTAT__COUNT)
        n = VMSIM_VMSTAT__COUNT;
    for (size_t i = 0; i < n; i++) {
        const char *name = vmsim_vmstat_name(i);

        if (name == NULL)
            break;
        fprintf(out, "%s %" PRIu64 "\n", name, v[i]);
    }
}

static int vmstat_json_object(const vmsim_t *sim, json_t *obj)
{
    return counters_json_object(sim, obj, vmsim_vmstat_read, vmsim_vmstat_name,
                                VMSIM_VMSTAT__COUNT);
}

/* ---- maps -------------------------------------------------------------- */

/* What /proc/PID/maps shows for one VMA besides its range. */
struct map_line {
    char perms[5];
    uint64_t offset;
    unsigned major, minor;
    uint64_t inode;
    const char *name;
};

/*
 * The simulation has no block devices or inodes, so file-backed lines get
 * made-up but stable ones (docs/reports.md):
 *  - a file: dev 08:01 (sda1), tmpfs files under /dev/shm/ 00:19; inode
 *    derived from the file name;
 *  - shared anonymous memory is a shmem file in Linux, "/dev/zero
 *    (deleted)" (the core names it so too): dev 00:01, inode derived from
 *    the start address, since every such mapping is its own object;
 *  - anonymous hugetlb memory: "/anon_hugepage (deleted)", dev 00:10;
 *  - private anonymous memory: 00:00 0 and offset 0, as Linux.
 */
static void map_describe(const vmsim_vma_info_t *v, struct map_line *m)
{
    static const char dev_zero[] = "/dev/zero (deleted)";
    const char *name = v->name != NULL ? v->name : "";
    bool anon_kind = (v->flags & (VMSIM_VMA_ANON | VMSIM_VMA_HEAP | VMSIM_VMA_STACK)) != 0;
    bool file_backed = !anon_kind && name[0] != '\0' && name[0] != '[';
    uint64_t start_page = v->start >> VMSIM_PAGE_SHIFT;

    m->perms[0] = (v->prot & VMSIM_PROT_READ) ? 'r' : '-';
    m->perms[1] = (v->prot & VMSIM_PROT_WRITE) ? 'w' : '-';
    m->perms[2] = (v->prot & VMSIM_PROT_EXEC) ? 'x' : '-';
    m->perms[3] = (v->flags & VMSIM_VMA_SHARED) ? 's' : 'p';
    m->perms[4] = '\0';
    m->offset = 0;
    m->major = m->minor = 0;
    m->inode = 0;
    m->name = name;

    if (v->flags & VMSIM_VMA_HUGETLB) {
        m->minor = 0x10;
        m->inode = fake_inode(&start_page, sizeof(start_page));
        if (!file_backed)
            m->name = "/anon_hugepage (deleted)";
    } else if ((file_backed && strcmp(name, dev_zero) == 0) ||
               (!anon_kind && name[0] == '\0' && (v->flags & VMSIM_VMA_SHARED))) {
        m->minor = 0x01;
        m->inode = fake_inode(&start_page, sizeof(start_page));
        m->name = dev_zero;
    } else if (file_backed) {
        m->offset = v->offset;
        m->major = 8;
        m->minor = 1;
        if (strncmp(name, "/dev/shm/", 9) == 0) {
            m->major = 0;
            m->minor = 0x19;
        }
        m->inode = fake_inode(name, strlen(name));
    } else if (name[0] == '\0' && (v->flags & VMSIM_VMA_HEAP)) {
        m->name = "[heap]";
    } else if (name[0] == '\0' && (v->flags & VMSIM_VMA_STACK)) {
        m->name = "[stack]";
    }
}

/*
 * fs/proc/task_mmu.c show_map_vma(): start-end (hex, at least 8 digits),
 * perms, offset (8 hex), major:minor (2 hex each), inode, a space; with a
 * name the line is padded to 72 columns and one more space written, so
 * the name starts at column 73. Without one the line keeps its trailing
 * space, as Linux's does.
 */
static void maps_line(FILE *out, const vmsim_vma_info_t *v)
{
    struct map_line m;
    char prefix[160];
    int n;

    map_describe(v, &m);
    n = snprintf(prefix, sizeof(prefix),
                 "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 " ", v->start,
                 v->end, m.perms, m.offset, m.major, m.minor, m.inode);
    fputs(prefix, out);
    if (m.name[0] != '\0') {
        fprintf(out, "%*s ", n < 72 ? 72 - n : 0, "");
        for (const char *s = m.name; *s != '\0'; s++) {
            if (*s == '\n')
                fputs("\\012", out); /* seq_file_path() mangles newlines */
            else
                fputc(*s, out);
        }
    }
    fputc('\n', out);
}

/* A dead process's maps is empty, as a zombie's. */
static int maps_text(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    vmsim_vma_info_t *v;
    size_t n;
    int rc = list_vmas(sim, pid, &v, &n);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        maps_line(out, &v[i]);
    vmsim__free(sim, v);
    return 0;
}

static int maps_json(const vmsim_t *sim, vmsim_pid_t pid, json_t *list)
{
    vmsim_vma_info_t *v;
    size_t n;
    int bad = 0;
    int rc = list_vmas(sim, pid, &v, &n);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && !bad; i++) {
        struct map_line m;
        json_t *o = json_object();
        char dev[16];

        map_describe(&v[i], &m);
        snprintf(dev, sizeof(dev), "%02x:%02x", m.major, m.minor);
        bad |= json_array_append_new(list, o);
        if (bad)
            break;
        bad |= set_u64(o, "start", v[i].start);
        bad |= set_u64(o, "end", v[i].end);
        bad |= set_str(o, "perms", m.perms);
        bad |= set_u64(o, "offset", m.offset);
        bad |= set_str(o, "dev", dev);
        bad |= set_u64(o, "inode", m.inode);
        bad |= set_str(o, "name", m.name);
    }
    vmsim__free(sim, v);
    return bad ? VMSIM_ENOMEM : 0;
}

/* ---- status ------------------------------------------------------------ */

/* A dead process is listed with its final figures until its pid is
 * reused, like a zombie that was never reaped. */
static const char *state_text(const vmsim_proc_info_t *pi)
{
    return pi->alive ? "R (running)" : "Z (zombie)";
}

static const struct status_field {
    const char *name;
    size_t offset; /* of a uint64_t byte count in vmsim_proc_info_t */
} status_fields[] = {
    {"VmPeak", offsetof(vmsim_proc_info_t, vmpeak)},
    {"VmSize", offsetof(vmsim_proc_info_t, vmsize)},
    {"VmHWM", offsetof(vmsim_proc_info_t, vmhwm)},
    {"VmRSS", offsetof(vmsim_proc_info_t, vmrss)},
    {"RssAnon", offsetof(vmsim_proc_info_t, rss_anon)},
    {"RssFile", offsetof(vmsim_proc_info_t, rss_file)},
    {"RssShmem", offsetof(vmsim_proc_info_t, rss_shmem)},
    {"VmData", offsetof(vmsim_proc_info_t, vmdata)},
    {"VmStk", offsetof(vmsim_proc_info_t, vmstk)},
    {"VmExe", offsetof(vmsim_proc_info_t, vmexe)},
    {"VmLib", offsetof(vmsim_proc_info_t, vmlib)},
    {"VmPTE", offsetof(vmsim_proc_info_t, vmpte)},
    {"VmSwap", offsetof(vmsim_proc_info_t, vmswap)},
};

static uint64_t status_value(const vmsim_proc_info_t *pi, const struct status_field *f)
{
    uint64_t v;

    memcpy(&v, (const char *)pi + f->offset, sizeof(v));
    return v;
}

/*
 * fs/proc/array.c and task_mmu.c task_mem(): "Name:\t...", and each size
 * as "VmRSS:\t" plus the kB value right-aligned in 8 and " kB". A zombie
 * has no mm, so Linux prints no Vm or Rss lines for it, and neither do we.
 * minflt and majflt live in /proc/PID/stat (fields 10 and 12), not in
 * status: they follow after a blank line and a label saying so.
 */
static int status_one(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    vmsim_proc_info_t pi;
    int rc = vmsim_proc_info(sim, pid, &pi);

    if (rc < 0)
        return rc;
    fputs("Name:\t", out);
    put_task_name(out, pi.name);
    fprintf(out, "\nState:\t%s\nPid:\t%" PRId32 "\nPPid:\t%" PRId32 "\n", state_text(&pi),
            pi.pid, pi.ppid);
    if (pi.alive) {
        for (size_t i = 0; i < NELEMS(status_fields); i++)
            fprintf(out, "%s:\t%8" PRIu64 " kB\n", status_fields[i].name,
                    kb(status_value(&pi, &status_fields[i])));
    }
    fprintf(out, "\n# from /proc/%" PRId32 "/stat (fields 10 and 12)\nminflt:\t%" PRIu64
                 "\nmajflt:\t%" PRIu64 "\n",
            pi.pid, pi.minflt, pi.majflt);
    return 0;
}

/* pid 0: every process, each under a "==> /proc/N/status <==" header as
 * head(1) prints several files. */
static int status_text(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    vmsim_pid_t *pids;
    size_t n;
    int rc;

    if (pid != 0)
        return status_one(sim, pid, out);
    rc = list_pids(sim, &pids, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        fprintf(out, "%s==> /proc/%" PRId32 "/status <==\n", i > 0 ? "\n" : "", pids[i]);
        rc = status_one(sim, pids[i], out);
    }
    vmsim__free(sim, pids);
    return rc;
}

static int status_json_one(const vmsim_t *sim, vmsim_pid_t pid, json_t **out)
{
    vmsim_proc_info_t pi;
    json_t *o;
    int bad = 0;
    int rc = vmsim_proc_info(sim, pid, &pi);

    if (rc < 0)
        return rc;
    o = json_object();
    if (o == NULL)
        return VMSIM_ENOMEM;
    bad |= set_str(o, "Name", pi.name);
    bad |= set_str(o, "State", state_text(&pi));
    bad |= set_u64(o, "Pid", (uint64_t)pi.pid);
    bad |= set_u64(o, "PPid", (uint64_t)pi.ppid);
    for (size_t i = 0; i < NELEMS(status_fields); i++)
        bad |= set_u64(o, status_fields[i].name, status_value(&pi, &status_fields[i]));
    bad |= set_u64(o, "minflt", pi.minflt);
    bad |= set_u64(o, "majflt", pi.majflt);
    if (bad) {
        json_decref(o);
        return VMSIM_ENOMEM;
    }
    *out = o;
    return 0;
}

/* One object for a pid; for pid 0 a list of them, ascending. */
static int status_json(const vmsim_t *sim, vmsim_pid_t pid, json_t **out)
{
    vmsim_pid_t *pids;
    size_t n;
    json_t *list;
    int rc;

    if (pid != 0)
        return status_json_one(sim, pid, out);
    list = json_array();
    if (list == NULL)
        return VMSIM_ENOMEM;
    rc = list_pids(sim, &pids, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *o = NULL;

        rc = status_json_one(sim, pids[i], &o);
        if (rc == 0 && json_array_append_new(list, o) != 0)
            rc = VMSIM_ENOMEM;
    }
    vmsim__free(sim, pids);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* ---- page tables: entries and runs -------------------------------------- */

static const char *const level_names[4] = {"PT", "PD", "PDPT", "PML4"};
static const char *const page_names[3] = {"4K", "2M", "1G"};

/* Bytes one entry at `level` covers. */
static uint64_t entry_span(int level)
{
    return (uint64_t)1 << (VMSIM_PAGE_SHIFT + 9 * level);
}

enum entry_kind {
    ENT_TABLE,    /* points to the next level's table */
    ENT_PAGE,     /* a present leaf: 4K page, or a 2M/1G huge leaf */
    ENT_SWAP,     /* not present: a swap entry */
    ENT_PROTNONE, /* not present to the MMU, resident: a PROT_NONE page */
    ENT_OTHER,    /* not present, no meaning the public API tells */
};

struct entry {
    enum entry_kind kind;
    int level, index;
    uint64_t raw;
    vmsim_vaddr_t va;
    uint64_t target; /* a pfn, or a swap slot */
    bool zero_page;  /* a leaf mapping a frame past the end of RAM */
};

/*
 * Classify one entry of the walk. Present entries are decoded from their
 * x86 bits (PS only means "leaf" in a PD or PDPT); a non-present entry is
 * asked of vmsim_pte_lookup(), which knows the swap layout. The only frames
 * past the end of RAM a process can map are the kernel's zero pages.
 */
static void classify(const vmsim_t *sim, vmsim_pid_t pid, const vmsim_pt_node_t *n,
                     struct entry *e)
{
    bool leaf = n->level == 0 || ((n->level == 1 || n->level == 2) && (n->entry & VMSIM_PTE_PS));
    const vmsim_config_t *cfg = vmsim_config(sim);
    vmsim_pte_info_t info;

    e->level = n->level;
    e->index = n->index;
    e->raw = n->entry;
    e->va = n->va;
    e->target = 0;
    e->zero_page = false;
    if (n->entry & VMSIM_PTE_P) {
        e->kind = leaf ? ENT_PAGE : ENT_TABLE;
        e->target = (n->entry & VMSIM_PTE_PFN_MASK) >> VMSIM_PAGE_SHIFT;
        e->zero_page = leaf && cfg != NULL && e->target >= cfg->memory >> VMSIM_PAGE_SHIFT;
        return;
    }
    e->kind = ENT_OTHER;
    if (vmsim_pte_lookup(sim, pid, n->va, &info) == 0 && info.level == n->level &&
        info.entry == n->entry) {
        if (info.swap) {
            e->kind = ENT_SWAP;
            e->target = info.swap_slot;
        } else if (info.present) {
            e->kind = ENT_PROTNONE;
            e->target = info.pfn;
        }
    }
}

/*
 * A run of similar leaf entries: consecutive indexes in one table, the
 * same kind and flags, and either each mapping the next frame (or swap
 * slot) or all mapping the same frame (the zero page). Entry k of a run is
 * first + k steps, so summarising it loses nothing.
 */
struct run {
    bool active;
    struct entry first, last;
    uint64_t count;
    uint64_t step;        /* raw-entry delta */
    uint64_t target_step; /* pfn or slot delta: 0 for the same frame */
};

static bool run_extends(const struct run *r, const struct entry *e)
{
    const struct entry *l = &r->last;
    uint64_t pages = entry_span(e->level) >> VMSIM_PAGE_SHIFT;
    bool same, next;

    if (!r->active || e->level != l->level || e->index != l->index + 1 || e->kind != l->kind)
        return false;
    switch (e->kind) {
    case ENT_PAGE:
    case ENT_PROTNONE:
        same = e->raw == l->raw && e->target == l->target;
        next = e->raw == l->raw + (pages << VMSIM_PAGE_SHIFT) && e->target == l->target + pages;
        if (r->count == 1)
            return same || next;
        return r->target_step == 0 ? same : next;
    case ENT_SWAP:
        return e->target == l->target + 1 && e->raw > l->raw &&
               (r->count == 1 || e->raw - l->raw == r->step);
    default:
        return false;
    }
}

static void run_add(struct run *r, const struct entry *e)
{
    if (r->active) {
        if (r->count == 1) {
            r->step = e->raw - r->last.raw;
            r->target_step = e->target - r->last.target;
        }
        r->last = *e;
        r->count++;
        return;
    }
    r->active = true;
    r->first = r->last = *e;
    r->count = 1;
    r->step = r->target_step = 0;
}

/* Entry k of the run. */
static struct entry run_entry(const struct run *r, uint64_t k)
{
    struct entry e = r->first;

    e.index += (int)k;
    e.raw += k * r->step;
    e.va += k * entry_span(e.level);
    e.target += k * r->target_step;
    return e;
}

/* "P RW US A D PS NX", an absent flag as blanks so columns line up. PS is
 * only decoded where it means a huge leaf (bit 7 of a PTE is PAT). */
static void flags_text(uint64_t raw, int level, char *buf, size_t len)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } flags[] = {
        {VMSIM_PTE_P, "P"}, {VMSIM_PTE_RW, "RW"}, {VMSIM_PTE_US, "US"}, {VMSIM_PTE_A, "A"},
        {VMSIM_PTE_D, "D"}, {VMSIM_PTE_PS, "PS"}, {VMSIM_PTE_NX, "NX"},
    };
    size_t at = 0;

    for (size_t i = 0; i < NELEMS(flags) && at + 4 < len; i++) {
        bool on = (raw & flags[i].bit) != 0;
        size_t w = strlen(flags[i].name);

        if (flags[i].bit == VMSIM_PTE_PS && level != 1 && level != 2)
            on = false;
        if (i > 0)
            buf[at++] = ' ';
        for (size_t j = 0; j < w; j++)
            buf[at++] = on ? flags[i].name[j] : ' ';
    }
    buf[at] = '\0';
}

static json_t *flags_json(uint64_t raw, int level)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } flags[] = {
        {VMSIM_PTE_P, "P"}, {VMSIM_PTE_RW, "RW"}, {VMSIM_PTE_US, "US"}, {VMSIM_PTE_A, "A"},
        {VMSIM_PTE_D, "D"}, {VMSIM_PTE_PS, "PS"}, {VMSIM_PTE_NX, "NX"},
    };
    json_t *list = json_array();

    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < NELEMS(flags); i++) {
        if (!(raw & flags[i].bit))
            continue;
        if (flags[i].bit == VMSIM_PTE_PS && level != 1 && level != 2)
            continue;
        if (json_array_append_new(list, json_string(flags[i].name)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* Tallies every page-table report prints at its end. */
struct pt_totals {
    uint64_t tables[4]; /* by level */
    uint64_t pages[3];  /* present leaves: 4K, 2M, 1G */
    uint64_t swap, protnone;
};

static void totals_add(struct pt_totals *t, const struct entry *e)
{
    if (e->kind == ENT_PAGE && e->level <= 2)
        t->pages[e->level]++;
    else if (e->kind == ENT_SWAP)
        t->swap++;
    else if (e->kind == ENT_PROTNONE)
        t->protnone++;
}

/* Check pid before a walk: unknown -> ESRCH; dead -> ESRCH (no tables). */
static int pt_proc(const vmsim_t *sim, vmsim_pid_t pid, vmsim_proc_info_t *pi)
{
    int rc;

    if (pid <= 0)
        return VMSIM_EINVAL;
    rc = vmsim_proc_info(sim, pid, pi);
    if (rc < 0)
        return rc;
    return pi->alive ? 0 : VMSIM_ESRCH;
}

/* ---- page tables: text -------------------------------------------------- */

struct pt_text {
    const vmsim_t *sim;
    vmsim_pid_t pid;
    FILE *out;
    struct run run;
    struct pt_totals totals;
};

/* Runs of this many entries or more print as first, "... N more", last. */
#define RUN_SUMMARY_MIN 4

static int indent_of(int level) { return (3 - level) * 4 + 2; }

static void text_entry(FILE *out, const struct entry *e)
{
    char flags[32];

    if (e->kind == ENT_TABLE || e->kind == ENT_PAGE)
        flags_text(e->raw, e->level, flags, sizeof(flags));
    else
        snprintf(flags, sizeof(flags), "%-17s", "not present");
    fprintf(out, "%*s[%3d] %016" PRIx64 " %s  ", indent_of(e->level), "", e->index, e->raw,
            flags);
    switch (e->kind) {
    case ENT_TABLE:
        fprintf(out, "-> %s table pfn 0x%" PRIx64 "\n", level_names[e->level - 1], e->target);
        break;
    case ENT_PAGE:
        fprintf(out, "%s page pfn 0x%" PRIx64 "%s at %012" PRIx64 "%s\n", page_names[e->level],
                e->target, e->zero_page ? " (zero page)" : "", e->va,
                e->level > 0 ? " (huge leaf)" : "");
        break;
    case ENT_SWAP:
        fprintf(out, "swapped out: slot %" PRIu64 " (page at %012" PRIx64 ")\n", e->target,
                e->va);
        break;
    case ENT_PROTNONE:
        fprintf(out, "PROT_NONE page pfn 0x%" PRIx64 " at %012" PRIx64 "\n", e->target, e->va);
        break;
    default:
        fputs("(unknown non-present entry)\n", out);
        break;
    }
}

static void text_flush(struct pt_text *c)
{
    struct run *r = &c->run;

    if (!r->active)
        return;
    if (r->count < RUN_SUMMARY_MIN) {
        for (uint64_t k = 0; k < r->count; k++) {
            struct entry e = run_entry(r, k);

            text_entry(c->out, &e);
        }
    } else {
        struct entry second = run_entry(r, 1), before_last = run_entry(r, r->count - 2);

        text_entry(c->out, &r->first);
        fprintf(c->out, "%*s... %" PRIu64 " more entries [%d]-[%d]: ", indent_of(r->first.level),
                "", r->count - 2, second.index, before_last.index);
        if (r->first.kind == ENT_SWAP)
            fprintf(c->out, "swap slots %" PRIu64 "-%" PRIu64 "\n", second.target,
                    before_last.target);
        else if (r->target_step == 0)
            fprintf(c->out, "the same %s page pfn 0x%" PRIx64 "%s, same flags\n",
                    r->first.kind == ENT_PROTNONE ? "PROT_NONE" : page_names[r->first.level],
                    second.target, r->first.zero_page ? " (zero page)" : "");
        else
            fprintf(c->out, "%s pages pfn 0x%" PRIx64 "-0x%" PRIx64 ", same flags\n",
                    r->first.kind == ENT_PROTNONE ? "PROT_NONE" : page_names[r->first.level],
                    second.target,
                    before_last.target + (entry_span(r->first.level) >> VMSIM_PAGE_SHIFT) - 1);
        text_entry(c->out, &r->last);
    }
    r->active = false;
}

static int text_visit(void *ctx, const vmsim_pt_node_t *n)
{
    struct pt_text *c = ctx;
    struct entry e;

    if (n->level < 0 || n->level > 3)
        return 0;
    if (n->index < 0) {
        text_flush(c);
        c->totals.tables[n->level]++;
        fprintf(c->out, "%*s%s table pfn 0x%" PRIx64 ", va %012" PRIx64 "-%012" PRIx64 "\n",
                (3 - n->level) * 4, "", level_names[n->level], n->table_pfn, n->va,
                n->va + 512 * entry_span(n->level) - 1);
        return 0;
    }
    classify(c->sim, c->pid, n, &e);
    totals_add(&c->totals, &e);
    if (run_extends(&c->run, &e)) {
        run_add(&c->run, &e);
        return 0;
    }
    text_flush(c);
    if (e.kind == ENT_TABLE || e.kind == ENT_OTHER)
        text_entry(c->out, &e);
    else
        run_add(&c->run, &e);
    return 0;
}

static int pagetable_text(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    struct pt_text c = {.sim = sim, .pid = pid, .out = out};
    const struct pt_totals *t = &c.totals;
    vmsim_proc_info_t pi;
    uint64_t nr_tables;
    int rc = pt_proc(sim, pid, &pi);

    if (rc < 0)
        return rc;
    fprintf(out, "Page tables of pid %" PRId32 " (", pid);
    put_task_name(out, pi.name);
    fputs("):\n", out);
    rc = vmsim_pagetable_walk(sim, pid, text_visit, &c);
    if (rc != 0)
        return rc < 0 ? rc : VMSIM_EINVAL;
    text_flush(&c);
    nr_tables = t->tables[0] + t->tables[1] + t->tables[2] + t->tables[3];
    fprintf(out,
            "Tables: %" PRIu64 " PML4, %" PRIu64 " PDPT, %" PRIu64 " PD, %" PRIu64
            " PT (%" PRIu64 " frames, %" PRIu64 " KiB)\n",
            t->tables[3], t->tables[2], t->tables[1], t->tables[0], nr_tables, nr_tables * 4);
    fprintf(out,
            "Leaves: %" PRIu64 " x 4K, %" PRIu64 " x 2M, %" PRIu64 " x 1G present; %" PRIu64
            " swap entries; %" PRIu64 " PROT_NONE\n",
            t->pages[0], t->pages[1], t->pages[2], t->swap, t->protnone);
    return 0;
}

/* ---- page tables: Graphviz DOT ----------------------------------------- */

/* A table whose record label is still growing (its entries are visited
 * after it, interleaved with its children). */
struct dot_table {
    bool open;
    vmsim_pfn_t pfn;
    struct sbuf label;
};

struct pt_dot {
    const vmsim_t *sim;
    vmsim_pid_t pid;
    FILE *out;
    struct dot_table tab[4];
    struct run run;
    struct pt_totals totals;
};

static void dot_close(struct pt_dot *c, int level)
{
    struct dot_table *t = &c->tab[level];

    if (!t->open)
        return;
    fprintf(c->out, "  t%" PRIu64 " [label=\"%s\"];\n", t->pfn, t->label.p);
    sbuf_release(&t->label);
    t->open = false;
}

/* Write the pending run: one record field in its table, one node for its
 * frames (huge leaves filled orange, swap dashed), one edge. */
static int dot_flush(struct pt_dot *c)
{
    struct run *r = &c->run;
    const struct entry *f = &r->first, *l = &r->last;
    struct dot_table *t;
    char range[48], node[64];
    int rc = 0;

    if (!r->active)
        return 0;
    r->active = false;
    t = &c->tab[f->level];
    if (!t->open)
        return 0;
    if (r->count == 1)
        snprintf(range, sizeof(range), "[%d]", f->index);
    else
        snprintf(range, sizeof(range), "[%d-%d]", f->index, l->index);
    /* One frame, one node: every entry mapping it points there. */
    if (f->kind != ENT_SWAP && (r->count == 1 || r->target_step == 0))
        snprintf(node, sizeof(node), "f%" PRIu64, f->target);
    else
        snprintf(node, sizeof(node), "p%" PRIu64 "_%d", t->pfn, f->index);
    switch (f->kind) {
    case ENT_PAGE:
        rc = sbuf_printf(&t->label, "|<e%d> %s %s", f->index, range, page_names[f->level]);
        fprintf(c->out, "  %s [shape=box, ", node);
        if (f->level > 0)
            fputs("style=filled, fillcolor=orange, ", c->out);
        if (r->count == 1 || r->target_step == 0)
            fprintf(c->out, "label=\"%s page\\npfn 0x%" PRIx64 "%s\"];\n", page_names[f->level],
                    f->target, f->zero_page ? "\\n(zero page)" : "");
        else
            fprintf(c->out, "label=\"%" PRIu64 " x %s pages\\npfn 0x%" PRIx64 "-0x%" PRIx64 "\"];\n",
                    r->count, page_names[f->level], f->target,
                    l->target + (entry_span(f->level) >> VMSIM_PAGE_SHIFT) - 1);
        break;
    case ENT_SWAP:
        rc = sbuf_printf(&t->label, "|<e%d> %s swap", f->index, range);
        fprintf(c->out, "  %s [shape=box, style=dashed, label=\"swap slot %" PRIu64, node,
                f->target);
        if (r->count > 1)
            fprintf(c->out, "-%" PRIu64, l->target);
        fputs("\"];\n", c->out);
        break;
    default: /* ENT_PROTNONE */
        rc = sbuf_printf(&t->label, "|<e%d> %s PROT_NONE", f->index, range);
        fprintf(c->out, "  %s [shape=box, style=dotted, label=\"PROT_NONE\\npfn 0x%" PRIx64, node,
                f->target);
        if (r->count > 1 && r->target_step != 0)
            fprintf(c->out, "-0x%" PRIx64, l->target);
        fputs("\"];\n", c->out);
        break;
    }
    fprintf(c->out, "  t%" PRIu64 ":e%d -> %s;\n", t->pfn, f->index, node);
    return rc;
}

static int dot_visit(void *ctx, const vmsim_pt_node_t *n)
{
    struct pt_dot *c = ctx;
    struct dot_table *t;
    struct entry e;
    int rc;

    if (n->level < 0 || n->level > 3)
        return 0;
    if (n->index < 0) {
        rc = dot_flush(c);
        for (int l = 0; l <= n->level; l++)
            dot_close(c, l);
        if (rc < 0)
            return rc;
        t = &c->tab[n->level];
        t->open = true;
        t->pfn = n->table_pfn;
        t->label.sim = c->sim;
        c->totals.tables[n->level]++;
        return sbuf_printf(&t->label, "%s pfn 0x%" PRIx64 "\\nva %012" PRIx64 "-%012" PRIx64,
                           level_names[n->level], n->table_pfn, n->va,
                           n->va + 512 * entry_span(n->level) - 1);
    }
    classify(c->sim, c->pid, n, &e);
    totals_add(&c->totals, &e);
    if (run_extends(&c->run, &e)) {
        run_add(&c->run, &e);
        return 0;
    }
    rc = dot_flush(c);
    if (rc < 0)
        return rc;
    t = &c->tab[n->level];
    if (!t->open)
        return 0;
    if (e.kind == ENT_TABLE) {
        fprintf(c->out, "  t%" PRIu64 ":e%d -> t%" PRIu64 ";\n", t->pfn, e.index, e.target);
        return sbuf_printf(&t->label, "|<e%d> [%d] %s", e.index, e.index,
                           level_names[e.level - 1]);
    }
    if (e.kind == ENT_OTHER)
        return sbuf_printf(&t->label, "|[%d] not present", e.index);
    run_add(&c->run, &e);
    return 0;
}

static int pagetable_dot(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    struct pt_dot c = {.sim = sim, .pid = pid, .out = out};
    const struct pt_totals *t = &c.totals;
    vmsim_proc_info_t pi;
    int rc = pt_proc(sim, pid, &pi);

    if (rc < 0)
        return rc;
    fprintf(out, "digraph \"pagetables_pid%" PRId32 "\" {\n", pid);
    fputs("  rankdir=LR;\n  labelloc=t;\n", out);
    fputs("  node [shape=record, fontname=\"monospace\", fontsize=10];\n", out);
    rc = vmsim_pagetable_walk(sim, pid, dot_visit, &c);
    if (rc == 0)
        rc = dot_flush(&c);
    for (int l = 0; l < 4; l++) {
        if (rc == 0)
            dot_close(&c, l);
        sbuf_release(&c.tab[l].label);
    }
    if (rc != 0)
        return rc < 0 ? rc : VMSIM_EINVAL;
    fprintf(out, "  label=\"page tables of pid %" PRId32 " (", pid);
    put_dot_string(out, pi.name);
    fprintf(out,
            "): %" PRIu64 " PML4, %" PRIu64 " PDPT, %" PRIu64 " PD, %" PRIu64 " PT; %" PRIu64
            " x 4K, %" PRIu64 " x 2M, %" PRIu64 " x 1G, %" PRIu64 " swap\";\n}\n",
            t->tables[3], t->tables[2], t->tables[1], t->tables[0], t->pages[0], t->pages[1],
            t->pages[2], t->swap);
    return 0;
}

/* ---- page tables: JSON -------------------------------------------------- */

/*
 * Nested objects: a table {"level", "pfn", "va", "entries": [...]}; an
 * entry {"index", "entry" (hex string: bit 63 does not fit json_int_t),
 * "flags", and "table" (the child) or "page"+"pfn"+"va" or "swap_slot" or
 * "protnone"+"pfn"}. No entry is summarised.
 */
struct pt_json {
    const vmsim_t *sim;
    vmsim_pid_t pid;
    json_t *root;       /* the PML4 object, borrowed from the report */
    json_t *entries[4]; /* each level's current "entries" array (borrowed) */
    struct pt_totals totals;
};

static int json_visit(void *ctx, const vmsim_pt_node_t *n)
{
    struct pt_json *c = ctx;
    json_t *o, *parent = NULL;
    struct entry e;
    char hex[24];
    int bad = 0;

    if (n->level < 0 || n->level > 3)
        return 0;
    if (n->index < 0) {
        if (n->level < 3) {
            json_t *arr = c->entries[n->level + 1];
            size_t sz = arr != NULL ? json_array_size(arr) : 0;

            parent = sz > 0 ? json_array_get(arr, sz - 1) : NULL;
            if (parent == NULL)
                return 0; /* an orphan table: the walk order is not ours */
        } else if (c->root != NULL) {
            return 0;
        }
        o = json_object();
        c->entries[n->level] = json_array();
        if (parent != NULL)
            bad |= json_object_set_new(parent, "table", o);
        else if (o != NULL)
            c->root = o;
        else
            bad = -1;
        if (bad) {
            json_decref(c->entries[n->level]);
            c->entries[n->level] = NULL;
            return VMSIM_ENOMEM;
        }
        bad |= json_object_set_new(o, "entries", c->entries[n->level]);
        bad |= set_str(o, "level", level_names[n->level]);
        bad |= set_u64(o, "pfn", n->table_pfn);
        bad |= set_u64(o, "va", n->va);
        c->totals.tables[n->level]++;
        return bad ? VMSIM_ENOMEM : 0;
    }
    if (c->entries[n->level] == NULL)
        return 0;
    classify(c->sim, c->pid, n, &e);
    totals_add(&c->totals, &e);
    o = json_object();
    if (json_array_append_new(c->entries[n->level], o) != 0)
        return VMSIM_ENOMEM;
    snprintf(hex, sizeof(hex), "0x%016" PRIx64, e.raw);
    bad |= set_u64(o, "index", (uint64_t)e.index);
    bad |= set_str(o, "entry", hex);
    bad |= json_object_set_new(o, "flags", flags_json(e.raw, e.level));
    switch (e.kind) {
    case ENT_TABLE:
        bad |= set_u64(o, "pfn", e.target);
        break;
    case ENT_PAGE:
        bad |= set_str(o, "page", page_names[e.level]);
        bad |= set_u64(o, "pfn", e.target);
        bad |= set_u64(o, "va", e.va);
        if (e.zero_page)
            bad |= set_bool(o, "zero_page", true);
        break;
    case ENT_SWAP:
        bad |= set_u64(o, "swap_slot", e.target);
        bad |= set_u64(o, "va", e.va);
        break;
    case ENT_PROTNONE:
        bad |= set_bool(o, "protnone", true);
        bad |= set_u64(o, "pfn", e.target);
        bad |= set_u64(o, "va", e.va);
        break;
    default:
        break;
    }
    return bad ? VMSIM_ENOMEM : 0;
}

static int pagetable_json(const vmsim_t *sim, vmsim_pid_t pid, json_t *root)
{
    struct pt_json c = {.sim = sim, .pid = pid};
    const struct pt_totals *t = &c.totals;
    vmsim_proc_info_t pi;
    json_t *tables = json_object(), *pages = json_object();
    int bad = 0;
    int rc = pt_proc(sim, pid, &pi);

    bad |= json_object_set_new(root, "tables", tables);
    bad |= json_object_set_new(root, "pages", pages);
    if (rc < 0)
        return rc;
    if (bad)
        return VMSIM_ENOMEM;
    rc = vmsim_pagetable_walk(sim, pid, json_visit, &c);
    if (c.root != NULL)
        bad |= json_object_set_new(root, "pml4", c.root);
    if (rc != 0)
        return rc < 0 ? rc : VMSIM_EINVAL;
    bad |= set_u64(root, "pid", (uint64_t)pid);
    bad |= set_str(root, "name", pi.name);
    for (int l = 0; l < 4; l++)
        bad |= set_u64(tables, level_names[l], t->tables[l]);
    for (int l = 0; l < 3; l++)
        bad |= set_u64(pages, page_names[l], t->pages[l]);
    bad |= set_u64(pages, "swap", t->swap);
    bad |= set_u64(pages, "protnone", t->protnone);
    return bad ? VMSIM_ENOMEM : 0;
}

/* ---- buddyinfo ---------------------------------------------------------- */

/* mm/vmstat.c frag_show_print(): "Node 0, zone %8s " and "%6lu " per order
 * 0..10 (Linux's MAX_ORDER is 10), trailing space included. Our orders
 * 11..18 (8 MiB .. 1 GiB blocks) follow on a labelled line. */
static void buddyinfo_text(const vmsim_t *sim, FILE *out)
{
    uint64_t nr[19] = {0};

    vmsim_buddyinfo(sim, nr);
    fprintf(out, "Node 0, zone %8s ", "Normal");
    for (int o = 0; o <= 10; o++)
        fprintf(out, "%6" PRIu64 " ", nr[o]);
    fputs("\nOrders 11-18 (8 MiB to 1 GiB blocks; Linux stops at order 10): ", out);
    for (int o = 11; o <= 18; o++)
        fprintf(out, "%6" PRIu64 " ", nr[o]);
    fputc('\n', out);
}

static int buddyinfo_json(const vmsim_t *sim, json_t *list)
{
    uint64_t nr[19] = {0};
    int bad = 0;

    vmsim_buddyinfo(sim, nr);
    for (int o = 0; o <= 18; o++)
        bad |= json_array_append_new(list, json_u64(nr[o]));
    return bad ? VMSIM_ENOMEM : 0;
}

/* ---- summary ------------------------------------------------------------ */

/* SWPIN and SWPOUT (pages) only when some process listed swapped. */
enum {
    COL_PID, COL_NAME, COL_STATE, COL_MINFLT, COL_MAJFLT, COL_COW, COL_SWPIN, COL_SWPOUT,
    COL_HWM, COL_PEAK, COL_PTE, COL_SWAP, COL_OOM, NR_COLS
};

static const char *const col_head[NR_COLS] = {
    "PID", "NAME", "STATE", "MINFLT", "MAJFLT", "COW", "SWPIN", "SWPOUT",
    "VmHWM", "VmPeak", "VmPTE", "VmSwap", "OOM",
};

typedef char summary_row[NR_COLS][24];

static void summary_cells(const vmsim_proc_info_t *pi, summary_row row)
{
    const char *sig = vmsim_signal_name(pi->signal);
    size_t i;

    snprintf(row[COL_PID], sizeof(row[0]), "%" PRId32, pi->pid);
    for (i = 0; pi->name[i] != '\0' && i < sizeof(pi->name) && i + 1 < sizeof(row[0]); i++)
        row[COL_NAME][i] = (pi->name[i] >= ' ' && pi->name[i] < 127) ? pi->name[i] : '?';
    row[COL_NAME][i] = '\0';
    if (pi->alive)
        snprintf(row[COL_STATE], sizeof(row[0]), "alive");
    else if (sig[0] != '\0')
        snprintf(row[COL_STATE], sizeof(row[0]), "%s", sig);
    else if (pi->signal != 0)
        snprintf(row[COL_STATE], sizeof(row[0]), "signal %d", pi->signal);
    else
        snprintf(row[COL_STATE], sizeof(row[0]), "exited");
    snprintf(row[COL_MINFLT], sizeof(row[0]), "%" PRIu64, pi->minflt);
    snprintf(row[COL_MAJFLT], sizeof(row[0]), "%" PRIu64, pi->majflt);
    snprintf(row[COL_COW], sizeof(row[0]), "%" PRIu64, pi->cow);
    snprintf(row[COL_SWPIN], sizeof(row[0]), "%" PRIu64, pi->swapin);
    snprintf(row[COL_SWPOUT], sizeof(row[0]), "%" PRIu64, pi->swapout);
    snprintf(row[COL_HWM], sizeof(row[0]), "%" PRIu64, kb(pi->vmhwm));
    snprintf(row[COL_PEAK], sizeof(row[0]), "%" PRIu64, kb(pi->vmpeak));
    snprintf(row[COL_PTE], sizeof(row[0]), "%" PRIu64, kb(pi->vmpte));
    snprintf(row[COL_SWAP], sizeof(row[0]), "%" PRIu64, kb(pi->vmswap));
    snprintf(row[COL_OOM], sizeof(row[0]), "%s", pi->oom_killed ? "yes" : "no");
}

static void summary_print_row(FILE *out, summary_row row, const int *width)
{
    fputs("  ", out);
    for (int c = 0; c < NR_COLS; c++) {
        bool left = c == COL_NAME || c == COL_STATE || c == COL_OOM;

        if (width[c] < 0)
            continue; /* a column not shown */
        if (c == NR_COLS - 1)
            fprintf(out, "%s\n", row[c]);
        else
            fprintf(out, left ? "%-*s  " : "%*s  ", width[c], row[c]);
    }
}

/* The processes to report: one pid, or every process for pid 0. */
static int summary_pids(const vmsim_t *sim, vmsim_pid_t pid, vmsim_pid_t **pids, size_t *n)
{
    vmsim_proc_info_t pi;
    int rc;

    if (pid == 0)
        return list_pids(sim, pids, n);
    rc = vmsim_proc_info(sim, pid, &pi);
    if (rc < 0)
        return rc;
    *pids = vmsim__malloc(sim, sizeof(**pids));
    if (*pids == NULL)
        return VMSIM_ENOMEM;
    (*pids)[0] = pid;
    *n = 1;
    return 0;
}

/* Faults that copied a page, summed over processes (Linux keeps no
 * system-wide COW counter). */
static uint64_t total_cow(const vmsim_t *sim, const vmsim_pid_t *pids, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, pids[i], &pi) == 0)
            sum += pi.cow;
    }
    return sum;
}

static int summary_text(const vmsim_t *sim, vmsim_pid_t pid, FILE *out)
{
    const vmsim_config_t *cfg = vmsim_config(sim);
    vmsim_pid_t *pids, *all;
    size_t n, nr_all;
    int width[NR_COLS];
    summary_row row;
    vmsim_tlb_stats_t tlb;
    uint64_t v;
    char buf[64];
    int rc = summary_pids(sim, pid, &pids, &n);

    if (rc < 0)
        return rc;
    bool swapped = false;

    for (int c = 0; c < NR_COLS; c++)
        width[c] = (int)strlen(col_head[c]);
    for (size_t i = 0; i < n; i++) {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, pids[i], &pi) != 0)
            continue;
        swapped |= pi.swapin != 0 || pi.swapout != 0;
        summary_cells(&pi, row);
        for (int c = 0; c < NR_COLS; c++)
            if ((int)strlen(row[c]) > width[c])
                width[c] = (int)strlen(row[c]);
    }
    if (!swapped)
        width[COL_SWPIN] = width[COL_SWPOUT] = -1;
    fputs("Processes (sizes in kB):\n", out);
    for (int c = 0; c < NR_COLS; c++)
        snprintf(row[c], sizeof(row[c]), "%s", col_head[c]);
    summary_print_row(out, row, width);
    for (size_t i = 0; i < n; i++) {
        vmsim_proc_info_t pi;

        if (vmsim_proc_info(sim, pids[i], &pi) != 0)
            continue;
        summary_cells(&pi, row);
        summary_print_row(out, row, width);
    }
    vmsim__free(sim, pids);

    rc = list_pids(sim, &all, &nr_all);
    if (rc < 0)
        return rc;
    fputs("\nSystem:\n", out);
#define LINE(label, fmt, ...) fprintf(out, "  %-14s" fmt "\n", label, __VA_ARGS__)
    v = 0;
    vmsim_vmstat_get(sim, "pgfault", &v);
    LINE("pgfault", "%" PRIu64, v);
    v = 0;
    vmsim_vmstat_get(sim, "pgmajfault", &v);
    LINE("pgmajfault", "%" PRIu64, v);
    LINE("COW faults", "%" PRIu64, total_cow(sim, all, nr_all));
    vmsim__free(sim, all);
    v = 0;
    vmsim_vmstat_get(sim, "pswpin", &v);
    LINE("pswpin", "%" PRIu64, v);
    v = 0;
    vmsim_vmstat_get(sim, "pswpout", &v);
    LINE("pswpout", "%" PRIu64, v);
    v = 0;
    vmsim_vmstat_get(sim, "oom_kill", &v);
    LINE("oom_kill", "%" PRIu64, v);
    vmsim_tlb_stats(sim, &tlb);
    if (cfg != NULL && !cfg->tlb.enabled) {
        LINE("TLB", "%s", "off");
    } else {
        LINE("TLB hits", "%" PRIu64, tlb.hits);
        LINE("TLB misses", "%" PRIu64, tlb.misses);
        if (tlb.hits + tlb.misses > 0)
            LINE("TLB hit rate", "%.2f%%", 100.0 * (double)tlb.hits /
                                               (double)(tlb.hits + tlb.misses));
        else
            LINE("TLB hit rate", "%s", "-");
        LINE("page walks", "%" PRIu64, tlb.walks);
    }
    format_duration(vmsim_time_ns(sim), buf, sizeof(buf));
    LINE("time", "%s (%" PRIu64 " ns)", buf, vmsim_time_ns(sim));
    {
        uint64_t by[VMSIM_COST__COUNT], acc = 0, maj = 0, flt = 0;

        vmsim_time_breakdown(sim, by, VMSIM_COST__COUNT);
        for (size_t i = 0; i < VMSIM_COST__COUNT; i++) {
            if (by[i] == 0 || vmsim_time_ns(sim) == 0)
                continue;
            format_duration(by[i], buf, sizeof(buf));
            fprintf(out, "    %-12s %s (%.1f%%)\n", vmsim_cost_name(i), buf,
                    100.0 * (double)by[i] / (double)vmsim_time_ns(sim));
        }
        /* accesses: one tlb_hit charge each */
        if (cfg != NULL && cfg->latency.tlb_hit != 0)
            acc = by[VMSIM_COST_tlb_hit] / cfg->latency.tlb_hit;
        if (acc > 0)
            LINE("per access", "%.1f ns", (double)vmsim_time_ns(sim) / (double)acc);
        vmsim_vmstat_get(sim, "pgmajfault", &maj);
        vmsim_vmstat_get(sim, "pgfault", &flt);
        if (maj > 0 && flt > 0 && by[VMSIM_COST_major_fault] * 2 > vmsim_time_ns(sim) &&
            maj * 4 > flt)
            LINE("thrashing", "%s", "yes: waiting for swap/file I/O dominates the run "
                 "(the working set does not fit in memory)");
    }
    v = 0;
    vmsim_meminfo_get(sim, "MemTotal", &v);
    LINE("MemTotal", "%" PRIu64 " kB", kb(v));
    v = 0;
    vmsim_meminfo_get(sim, "MemFree", &v);
    LINE("MemFree", "%" PRIu64 " kB", kb(v));
    if (vmsim_panicked(sim))
        LINE("panic", "%s", "yes: the kernel panicked (vm.panic_on_oom)");
#undef LINE
    return 0;
}

static int summary_proc_json(const vmsim_t *sim, vmsim_pid_t pid, json_t *list)
{
    vmsim_proc_info_t pi;
    json_t *o;
    const char *name;
    char num[16];
    int bad = 0;

    if (vmsim_proc_info(sim, pid, &pi) != 0)
        return 0;
    o = json_object();
    if (json_array_append_new(list, o) != 0)
        return VMSIM_ENOMEM;
    bad |= set_u64(o, "pid", (uint64_t)pi.pid);
    bad |= set_u64(o, "ppid", (uint64_t)pi.ppid);
    bad |= set_str(o, "name", pi.name);
    bad |= set_bool(o, "alive", pi.alive);
    if (pi.signal == 0) {
        bad |= set_str(o, "signal", NULL);
        bad |= set_str(o, "si_code", NULL);
    } else {
        name = vmsim_signal_name(pi.signal);
        snprintf(num, sizeof(num), "%d", pi.signal);
        bad |= set_str(o, "signal", name[0] != '\0' ? name : num);
        name = vmsim_si_code_name(pi.signal, pi.si_code);
        snprintf(num, sizeof(num), "%d", pi.si_code);
        bad |= set_str(o, "si_code", name[0] != '\0' ? name : num);
    }
    bad |= set_bool(o, "oom_killed", pi.oom_killed);
    bad |= set_u64(o, "minflt", pi.minflt);
    bad |= set_u64(o, "majflt", pi.majflt);
    bad |= set_u64(o, "cow", pi.cow);
    bad |= set_u64(o, "swapin", pi.swapin);
    bad |= set_u64(o, "swapout", pi.swapout);
    bad |= set_u64(o, "fork_ptes_copied", pi.nr_ptes_copied_fork);
    bad |= set_u64(o, "hugetlb", pi.hugetlb);
    bad |= set_u64(o, "rss", pi.vmrss);
    bad |= set_u64(o, "hwm", pi.vmhwm);
    bad |= set_u64(o, "vmsize", pi.vmsize);
    bad |= set_u64(o, "vmpeak", pi.vmpeak);
    bad |= set_u64(o, "swap", pi.vmswap);
    bad |= set_u64(o, "pte", pi.vmpte);
    return bad ? VMSIM_ENOMEM : 0;
}

/* TRACE_FORMAT.md "Results": the stable keys, plus a few more. */
static int summary_json(const vmsim_t *sim, vmsim_pid_t pid, json_t *root)
{
    json_t *procs = json_array(), *vmstat = json_object(), *meminfo = json_object();
    json_t *tlb = json_object();
    vmsim_tlb_stats_t t;
    vmsim_pid_t *pids;
    size_t n;
    int bad = 0, rc;

    bad |= json_object_set_new(root, "processes", procs);
    bad |= json_object_set_new(root, "vmstat", vmstat);
    bad |= json_object_set_new(root, "meminfo", meminfo);
    bad |= json_object_set_new(root, "tlb", tlb);
    if (bad)
        return VMSIM_ENOMEM;
    rc = summary_pids(sim, pid, &pids, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = summary_proc_json(sim, pids[i], procs);
    vmsim__free(sim, pids);
    if (rc == 0)
        rc = vmstat_json_object(sim, vmstat);
    if (rc == 0)
        rc = meminfo_json_object(sim, meminfo);
    if (rc < 0)
        return rc;
    vmsim_tlb_stats(sim, &t);
    bad |= set_u64(tlb, "hits", t.hits);
    bad |= set_u64(tlb, "misses", t.misses);
    bad |= set_u64(tlb, "walks", t.walks);
    bad |= set_u64(tlb, "walk_refs", t.walk_refs);
    bad |= set_u64(tlb, "flushes", t.flushes);
    bad |= set_u64(root, "time_ns", vmsim_time_ns(sim));
    {
        json_t *by = json_object();
        uint64_t b[VMSIM_COST__COUNT];

        bad |= json_object_set_new(root, "time_by", by) != 0;
        vmsim_time_breakdown(sim, b, VMSIM_COST__COUNT);
        for (size_t i = 0; i < VMSIM_COST__COUNT && by != NULL; i++)
            bad |= set_u64(by, vmsim_cost_name(i), b[i]);
    }
    bad |= set_bool(root, "panic", vmsim_panicked(sim));
    return bad ? VMSIM_ENOMEM : 0;
}

/* ---- entry points ------------------------------------------------------- */

static int check_args(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid)
{
    vmsim_proc_info_t pi;

    if (sim == NULL || (int)kind < 0 || kind >= VMSIM_REPORT__COUNT || pid < 0)
        return VMSIM_EINVAL;
    switch (kind) {
    case VMSIM_REPORT_MAPS:
    case VMSIM_REPORT_PAGETABLE:
    case VMSIM_REPORT_PAGETABLE_DOT:
        if (pid == 0)
            return VMSIM_EINVAL;
        return vmsim_proc_info(sim, pid, &pi);
    default:
        return 0;
    }
}

int vmsim_report_write(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid, FILE *out)
{
    int rc = out != NULL ? check_args(sim, kind, pid) : VMSIM_EINVAL;

    if (rc < 0)
        return rc;
    switch (kind) {
    case VMSIM_REPORT_FREE:
        free_text(sim, out);
        break;
    case VMSIM_REPORT_MEMINFO:
        meminfo_text(sim, out);
        break;
    case VMSIM_REPORT_VMSTAT:
        vmstat_text(sim, out);
        break;
    case VMSIM_REPORT_MAPS:
        rc = maps_text(sim, pid, out);
        break;
    case VMSIM_REPORT_STATUS:
        rc = status_text(sim, pid, out);
        break;
    case VMSIM_REPORT_PAGETABLE:
        rc = pagetable_text(sim, pid, out);
        break;
    case VMSIM_REPORT_PAGETABLE_DOT:
        rc = pagetable_dot(sim, pid, out);
        break;
    case VMSIM_REPORT_BUDDYINFO:
        buddyinfo_text(sim, out);
        break;
    case VMSIM_REPORT_SUMMARY:
        rc = summary_text(sim, pid, out);
        break;
    default:
        return VMSIM_EINVAL;
    }
    if (rc == 0 && ferror(out))
        rc = VMSIM_EIO;
    return rc;
}

/* Build the report's JSON value; on success *out is a new reference. */
static int build_json(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid,
                      json_t **out)
{
    bool is_list = kind == VMSIM_REPORT_MAPS || kind == VMSIM_REPORT_BUDDYINFO;
    json_t *root;
    int rc;

    if (kind == VMSIM_REPORT_STATUS)
        return status_json(sim, pid, out);
    root = is_list ? json_array() : json_object();
    if (root == NULL)
        return VMSIM_ENOMEM;
    switch (kind) {
    case VMSIM_REPORT_FREE:
        rc = free_json(sim, root);
        break;
    case VMSIM_REPORT_MEMINFO:
        rc = meminfo_json_object(sim, root);
        break;
    case VMSIM_REPORT_VMSTAT:
        rc = vmstat_json_object(sim, root);
        break;
    case VMSIM_REPORT_MAPS:
        rc = maps_json(sim, pid, root);
        break;
    case VMSIM_REPORT_PAGETABLE:
    case VMSIM_REPORT_PAGETABLE_DOT: /* DOT is a picture; its data is the tree */
        rc = pagetable_json(sim, pid, root);
        break;
    case VMSIM_REPORT_BUDDYINFO:
        rc = buddyinfo_json(sim, root);
        break;
    case VMSIM_REPORT_SUMMARY:
        rc = summary_json(sim, pid, root);
        break;
    default:
        rc = VMSIM_EINVAL;
        break;
    }
    if (rc < 0) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

int vmsim_report_json(const vmsim_t *sim, vmsim_report_kind kind, vmsim_pid_t pid, char **out)
{
    const size_t flags = JSON_SORT_KEYS | JSON_INDENT(2);
    json_t *root = NULL;
    size_t len;
    char *text;
    int rc = out != NULL ? check_args(sim, kind, pid) : VMSIM_EINVAL;

    if (rc < 0)
        return rc;
    rc = build_json(sim, kind, pid, &root);
    if (rc < 0)
        return rc;
    /* Dump straight into the instance allocator's memory, so the caller
     * frees it with vmsim_free(): measure, allocate, dump. */
    len = json_dumpb(root, NULL, 0, flags);
    if (len == 0) {
        json_decref(root);
        return VMSIM_ENOMEM;
    }
    text = vmsim__malloc(sim, len + 1);
    if (text == NULL) {
        json_decref(root);
        return VMSIM_ENOMEM;
    }
    if (json_dumpb(root, text, len, flags) != len) {
        vmsim__free(sim, text);
        json_decref(root);
        return VMSIM_ENOMEM;
    }
    text[len] = '\0';
    json_decref(root);
    *out = text;
    return 0;
}
