/*
 * trace/trace.h -- the trace readers' internal API: parsed values, parsed
 * events, the system settings of a trace, and the reader seam.
 *
 * A reader (one per container: json.c, jsonl.c, lackey.c, vmtr.c; open.c
 * recognises the container, io.c decompresses gzip) turns its input into a
 * stream of struct vmsim__event, each fully validated, one at a time;
 * replay.c consumes the stream and calls the public API, convert.c hands
 * it to a writer. Nothing here includes jansson (json.h does), so every
 * reader can share the value parsers of value.c and the event checks of
 * event.c.
 */
#ifndef VMSIM_TRACE_INTERNAL_H
#define VMSIM_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmsim/trace.h"
#include "vmsim/vmsim.h"

/* Linux's PID_MAX_LIMIT on 64-bit: the largest pid a trace may name. */
#define VMSIM__PID_MAX 4194304
/* The longest region name `as` may bind, and the longest policy name. */
#define VMSIM__NAME_MAX 64
/* The longest message a value parser writes (it fits err->text). */
#define VMSIM__MSG_MAX 384

/* ---- values (value.c) ------------------------------------------------- */

/*
 * An address as written: an absolute value, or a region name bound by
 * `as` plus or minus an offset. The name points into the reader's text
 * and is not NUL-terminated.
 */
struct vmsim__addr {
    const char *name; /* NULL: absolute */
    size_t name_len;
    uint64_t value;   /* the address, or the offset from the name */
    bool minus;       /* name - value */
};

/*
 * Each parser reads a whole NUL-terminated string. On success it returns 0
 * and stores the result; on failure it returns VMSIM_EPARSE (VMSIM_ERANGE
 * for a value past 64 bits) and writes a one-line message without the key,
 * such as `bad size "4XB": unknown unit "XB"`, to msg (msg_len bytes).
 */

/* A size: "<number><unit>" (unit B, KiB, MiB, GiB, TiB, K, M, G, T, or p
 * for 4 KiB pages; none = bytes), number decimal with an optional
 * fraction when the result is whole bytes ("1.5GiB"), or "0x..." hex
 * bytes without a unit. */
int vmsim__parse_size(const char *s, uint64_t *out, char *msg, size_t msg_len);
/* A signed size: a size with an optional leading '+' or '-' (brk incr). */
int vmsim__parse_ssize(const char *s, int64_t *out, char *msg, size_t msg_len);
/* An address: "0x..." hex, decimal digits, or NAME, each optionally
 * followed by '+' or '-' and a size: "buf+4KiB", "0x1000-0x10". */
int vmsim__parse_addr(const char *s, struct vmsim__addr *out, char *msg, size_t msg_len);
/* A region name as `as` binds it: [A-Za-z_][A-Za-z0-9_.]*, at most
 * VMSIM__NAME_MAX bytes. Returns 0 or VMSIM_EPARSE with a message. */
int vmsim__check_region_name(const char *s, char *msg, size_t msg_len);
/* Protection: letters r, w, x in any order, each at most once; "" and
 * "none" are PROT_NONE. */
int vmsim__parse_prot(const char *s, unsigned *out, char *msg, size_t msg_len);
/* One mmap flag name ("private") of n bytes: 0 and the VMSIM_MAP_* bit,
 * or VMSIM_EPARSE. */
int vmsim__mmap_flag(const char *name, size_t n, unsigned *bit, char *msg, size_t msg_len);
/* "|"-joined flag names: "private|anonymous". */
int vmsim__parse_mmap_flags(const char *s, unsigned *out, char *msg, size_t msg_len);
/* Bytes for `data`/`expect`: "0x" followed by an even number of hex
 * digits, else the string's own bytes. *out points into s or into buf
 * (buf_len bytes, for hex); *n is the length. */
int vmsim__parse_bytes(const char *s, uint8_t *buf, size_t buf_len, const uint8_t **out,
                       size_t *n, char *msg, size_t msg_len);
/* a + b, a - b and a * b without wrapping: false on overflow. */
bool vmsim__add_ok(uint64_t a, uint64_t b, uint64_t *out);
bool vmsim__sub_ok(uint64_t a, uint64_t b, uint64_t *out);
bool vmsim__mul_ok(uint64_t a, uint64_t b, uint64_t *out);
/* Write s (n bytes) into buf quoted for a message: printable ASCII as is,
 * '"' and '\\' escaped, anything else as \xHH; cut with "..." past
 * `max` input bytes. Returns buf. */
char *vmsim__quote(const char *s, size_t n, size_t max, char *buf, size_t buf_len);

/* ---- ops and fields --------------------------------------------------- */

/* XX(ID, "name") -- every op of TRACE_FORMAT.md, in its order. */
#define VMSIM__OP_MAP(XX)                                                                \
    XX(SPAWN, "spawn")                                                                   \
    XX(FORK, "fork")                                                                     \
    XX(EXEC, "exec")                                                                     \
    XX(EXIT, "exit")                                                                     \
    XX(MMAP, "mmap")                                                                     \
    XX(MUNMAP, "munmap")                                                                 \
    XX(MPROTECT, "mprotect")                                                             \
    XX(MADVISE, "madvise")                                                               \
    XX(BRK, "brk")                                                                       \
    XX(MALLOC, "malloc")                                                                 \
    XX(CALLOC, "calloc")                                                                 \
    XX(REALLOC, "realloc")                                                               \
    XX(FREE, "free")                                                                     \
    XX(R, "r")                                                                           \
    XX(W, "w")                                                                           \
    XX(X, "x")                                                                           \
    XX(TOUCH, "touch")                                                                   \
    XX(REFS, "refs")                                                                     \
    XX(FILE, "file")                                                                     \
    XX(READ, "read")                                                                     \
    XX(WRITE, "write")                                                                   \
    XX(MSYNC, "msync")                                                                   \
    XX(SYSCTL, "sysctl")                                                                 \
    XX(KHUGEPAGED, "khugepaged")                                                         \
    XX(SWAPOFF, "swapoff")                                                               \
    XX(REPORT, "report")                                                                 \
    XX(EXPECT, "expect")

typedef enum vmsim__op {
#define XX(id, name) VMSIM__OP_##id,
    VMSIM__OP_MAP(XX)
#undef XX
    VMSIM__OP__COUNT
} vmsim__op;

/* The op's name ("mmap"), or "?" out of range. */
const char *vmsim__op_name(vmsim__op op);
/* The op named name (n bytes); -1 if none. */
int vmsim__op_from_name(const char *name, size_t n);

/* XX(ID, "key") -- every event field but "op", "why" and expect's checks. */
#define VMSIM__FIELD_MAP(XX)                                                             \
    XX(PID, "pid")                                                                       \
    XX(CHILD, "child")                                                                   \
    XX(NAME, "name")                                                                     \
    XX(OOM_SCORE_ADJ, "oom_score_adj")                                                   \
    XX(ADDR, "addr")                                                                     \
    XX(LEN, "len")                                                                       \
    XX(PROT, "prot")                                                                     \
    XX(FLAGS, "flags")                                                                   \
    XX(PAGESIZE, "pagesize")                                                             \
    XX(FILE, "file")                                                                     \
    XX(OFFSET, "offset")                                                                 \
    XX(AS, "as")                                                                         \
    XX(ADVICE, "advice")                                                                 \
    XX(INCR, "incr")                                                                     \
    XX(SIZE, "size")                                                                     \
    XX(N, "n")                                                                           \
    XX(PTR, "ptr")                                                                       \
    XX(DATA, "data")                                                                     \
    XX(EXPECT, "expect")                                                                 \
    XX(STRIDE, "stride")                                                                 \
    XX(ACCESS, "access")                                                                 \
    XX(BASE, "base")                                                                     \
    XX(PAGES, "pages")                                                                   \
    XX(KEY, "key")                                                                       \
    XX(VALUE, "value")                                                                   \
    XX(WHAT, "what")

typedef enum vmsim__field {
#define XX(id, name) VMSIM__F_##id,
    VMSIM__FIELD_MAP(XX)
#undef XX
    VMSIM__F__COUNT
} vmsim__field;

#define VMSIM__HAS(ev, f) (((ev)->present >> VMSIM__F_##f) & 1u)

/* madvise advice names, as Linux's MADV_* (values are ours). */
#define VMSIM__ADVICE_MAP(XX)                                                            \
    XX(HUGEPAGE, "hugepage")                                                             \
    XX(NOHUGEPAGE, "nohugepage")                                                         \
    XX(DONTNEED, "dontneed")                                                             \
    XX(WILLNEED, "willneed")                                                             \
    XX(PAGEOUT, "pageout")                                                               \
    XX(RANDOM, "random")                                                                 \
    XX(SEQUENTIAL, "sequential")                                                         \
    XX(COLLAPSE, "collapse")

enum {
#define XX(id, name) VMSIM__ADV_##id,
    VMSIM__ADVICE_MAP(XX)
#undef XX
    VMSIM__ADV__COUNT
};

/* sysctl keys: XX(ID, "key", min, max); transparent_hugepage.enabled takes
 * a string (always, madvise, never), the others an integer in [min, max]. */
#define VMSIM__SYSCTL_MAP(XX)                                                            \
    XX(PANIC_ON_OOM, "vm.panic_on_oom", 0, 2)                                            \
    XX(OVERCOMMIT_MEMORY, "vm.overcommit_memory", 0, 2)                                  \
    XX(OVERCOMMIT_RATIO, "vm.overcommit_ratio", 0, INT32_MAX)                            \
    XX(SWAPPINESS, "vm.swappiness", 0, 200)                                              \
    XX(PAGE_CLUSTER, "vm.page-cluster", 0, 31)                                           \
    XX(DROP_CACHES, "vm.drop_caches", 1, 3)                                              \
    XX(THP_ENABLED, "transparent_hugepage.enabled", 0, 2)

enum {
#define XX(id, name, lo, hi) VMSIM__SYSCTL_##id,
    VMSIM__SYSCTL_MAP(XX)
#undef XX
    VMSIM__SYSCTL__COUNT
};

/* expect's checks: XX(ID, "key"). VMSTAT and MEMINFO hold one counter each. */
#define VMSIM__CHECK_MAP(XX)                                                             \
    XX(MINFLT, "minflt")                                                                 \
    XX(MAJFLT, "majflt")                                                                 \
    XX(COW, "cow")                                                                       \
    XX(RSS, "rss")                                                                       \
    XX(VMSIZE, "vmsize")                                                                 \
    XX(SWAP, "swap")                                                                     \
    XX(PTE, "pte")                                                                       \
    XX(ALIVE, "alive")                                                                   \
    XX(SIGNAL, "signal")                                                                 \
    XX(SI_CODE, "si_code")                                                               \
    XX(OOM_KILLED, "oom_killed")                                                         \
    XX(PANIC, "panic")                                                                   \
    XX(ERRNO, "errno")                                                                   \
    XX(VMSTAT, "vmstat")                                                                 \
    XX(MEMINFO, "meminfo")

typedef enum vmsim__check_key {
#define XX(id, name) VMSIM__CHECK_##id,
    VMSIM__CHECK_MAP(XX)
#undef XX
    VMSIM__CHECK__COUNT
} vmsim__check_key;

const char *vmsim__check_key_name(vmsim__check_key key);

/*
 * One expected value. Counts and sizes are in u; booleans in b; signal
 * and si_code as their numbers in i with is_null for JSON null ("no
 * signal"); errno as its value in i. text is the value as written (for
 * messages), borrowed like the event.
 */
struct vmsim__check {
    vmsim__check_key key;
    const char *counter; /* VMSTAT/MEMINFO: the counter's name */
    uint64_t u;
    bool b;
    int i;
    bool is_null;
    const char *text;
};

/* A parsed, validated event. Pointers borrow the reader's memory and stay
 * valid until the reader's next call to next() or close(). */
struct vmsim__event {
    vmsim__op op;
    uint64_t index;   /* 0-based position among the trace's events */
    unsigned line;    /* 1-based line for line-based containers; 0 if none */
    uint64_t present; /* 1 << VMSIM__F_* for each field given */
    const char *why;  /* NULL if none */

    vmsim_pid_t pid;  /* 1 unless given */
    vmsim_pid_t child;
    const char *name; /* spawn, exec, file */
    const char *file; /* mmap, read, write */
    const char *as;   /* mmap, malloc, calloc, realloc */
    int oom_score_adj;
    struct vmsim__addr addr, ptr, base;
    uint64_t len, pagesize, offset, size, stride, n;
    int64_t incr;
    unsigned prot;
    unsigned flags;   /* VMSIM_MAP_* */
    int advice;       /* VMSIM__ADV_* */
    vmsim_access_kind access; /* touch, refs: default VMSIM_WRITE */
    int report;       /* vmsim_report_kind */
    int sysctl;       /* VMSIM__SYSCTL_* */
    int64_t value;    /* sysctl value (THP_ENABLED: a vmsim_thp_mode) */
    const uint8_t *data;
    size_t data_len;
    const uint8_t *expect_data;
    size_t expect_len;
    const uint64_t *pages;
    size_t nr_pages;
    const struct vmsim__check *checks;
    size_t nr_checks;
};

/* ---- system settings -------------------------------------------------- */

/* XX(ID, "key") -- TRACE_FORMAT.md's `system` table, in its order. */
#define VMSIM__SYSKEY_MAP(XX)                                                            \
    XX(PROFILE, "profile")                                                               \
    XX(MEMORY, "memory")                                                                 \
    XX(SWAP, "swap")                                                                     \
    XX(POLICY, "policy")                                                                 \
    XX(RESIDENT_LIMIT, "resident_limit")                                                 \
    XX(THP, "thp")                                                                       \
    XX(HUGEPAGES, "hugepages")                                                           \
    XX(OVERCOMMIT_MEMORY, "overcommit_memory")                                           \
    XX(OVERCOMMIT_RATIO, "overcommit_ratio")                                             \
    XX(PANIC_ON_OOM, "panic_on_oom")                                                     \
    XX(SWAPPINESS, "swappiness")                                                         \
    XX(PAGE_CLUSTER, "page_cluster")                                                     \
    XX(FAULT_AROUND_BYTES, "fault_around_bytes")                                         \
    XX(READ_AHEAD_KB, "read_ahead_kb")                                                   \
    XX(TLB, "tlb")                                                                       \
    XX(TRACK_DATA, "track_data")                                                         \
    XX(SEED, "seed")                                                                     \
    XX(LATENCY_NS, "latency_ns")

typedef enum vmsim__syskey {
#define XX(id, name) VMSIM__SYS_##id,
    VMSIM__SYSKEY_MAP(XX)
#undef XX
    VMSIM__SYS__COUNT
} vmsim__syskey;

/* The settings a trace (or an override) gives; `present` says which. */
struct vmsim__system {
    uint32_t present; /* 1 << VMSIM__SYS_* */
    vmsim_profile profile;
    uint64_t memory, swap;
    char policy[VMSIM__NAME_MAX + 1];
    uint64_t resident_limit; /* bytes, a multiple of 4 KiB; 0 = none */
    vmsim_thp_mode thp;
    uint64_t hugepages_2m, hugepages_1g;
    int overcommit_memory, overcommit_ratio, panic_on_oom, swappiness, page_cluster;
    uint64_t fault_around_bytes, read_ahead_kb;
    /* tlb: enabled, and which of l1_4k, l1_2m, l1_1g, l2, ways, pcid
     * (bits 0..5) were given */
    vmsim_tlb_config_t tlb;
    unsigned tlb_given;
    bool track_data;
    uint64_t seed;
    vmsim_latency_t latency;
    uint32_t latency_given; /* bit i: the i-th VMSIM_LATENCY_MAP entry */
};

/* Index of the system key named name; -1 if none. */
int vmsim__syskey_from_name(const char *name);

/* Apply the settings of s that are present to cfg (the profile must have
 * been applied already, with vmsim_config_init) and check those that
 * depend on each other. Returns 0 or VMSIM_EPARSE/VMSIM_ERANGE with *err
 * filled. Strings stored in cfg are static. */
int vmsim__system_apply(const struct vmsim__system *s, vmsim_config_t *cfg,
                        const vmsim_replay_options_t *opt, vmsim_trace_error_t *err);

/* ---- what every reader shares (event.c) -------------------------------- */

/* Names, in the order of the maps above (index = the enum value). */
extern const char *const vmsim__field_names[VMSIM__F__COUNT];
extern const char *const vmsim__advice_names[VMSIM__ADV__COUNT];
extern const char *const vmsim__sysctl_names[VMSIM__SYSCTL__COUNT];
extern const int64_t vmsim__sysctl_range[VMSIM__SYSCTL__COUNT][2];
extern const char *const vmsim__profile_names[2]; /* vmsim_profile */
extern const char *const vmsim__thp_names[3];     /* vmsim_thp_mode */
/* The signals and si_codes `expect` knows: names and numbers. */
#define VMSIM__NR_SIGNALS  4
#define VMSIM__NR_SI_CODES 5
extern const char *const vmsim__signal_names[VMSIM__NR_SIGNALS];
extern const int vmsim__signal_numbers[VMSIM__NR_SIGNALS];
extern const char *const vmsim__si_names[VMSIM__NR_SI_CODES];
/* The report named by a vmsim_report_kind ("free"), or NULL. */
const char *vmsim__report_name(int kind);
/* The name of one VMSIM_MAP_* bit ("private"), or NULL (value.c). */
const char *vmsim__mmap_flag_name(unsigned bit);
/* The name of si_code si of signal sig ("SEGV_MAPERR"), or NULL. */
const char *vmsim__si_code_name(int sig, int si);

/* The fields op takes and those it needs, as 1 << VMSIM__F_* bits. */
uint64_t vmsim__op_allowed(vmsim__op op);
uint64_t vmsim__op_required(vmsim__op op);

/* Reset *ev to an event at `index` with every default (pid 1, access
 * write, stride 4096, size 1). */
void vmsim__event_init(struct vmsim__event *ev, uint64_t index);

/*
 * The checks of an event that every container shares, run once its fields
 * are read: required fields, the defaults that depend on other fields
 * (size from data/expect), and the rules across fields (mmap's flags, brk's
 * addr xor incr, ...). Returns 0, or VMSIM_EPARSE with a message (without
 * the event's place) in msg (VMSIM__MSG_MAX bytes).
 */
int vmsim__event_finish(struct vmsim__event *ev, char *msg);

/* Whether s[0..n) is valid UTF-8 without NUL bytes (strings of binary
 * traces must be, to be written as JSON). */
bool vmsim__utf8_ok(const uint8_t *s, size_t n);

/* ---- byte streams (io.c): plain or gzip, files or memory --------------- */

/* The longest line a line-based container (JSON Lines, lackey) may have. */
#define VMSIM__LINE_MAX ((size_t)16 << 20)

/*
 * A buffered input stream. Whatever the source, a gzip stream (magic 1f 8b)
 * is decompressed transparently, so readers see the container's bytes.
 * The unread bytes are buf[pos, len); vmsim__input_fill() makes more
 * available. Memory stays bounded by what fill() is asked for. Once buf
 * is allocated, buf[len .. len + VMSIM__INPUT_PAD) are NUL bytes: a
 * sentinel that lets a parser scan a token without checking the length at
 * every byte (the stream itself may hold NUL bytes too), and room to load
 * a few bytes at once near the end.
 */
#define VMSIM__INPUT_PAD 32
struct vmsim__input {
    char *buf;
    size_t pos, len, cap;
    size_t chunk;   /* the buffer's usual size: less for a small source */
    bool eof;       /* the source has no more bytes beyond buf[len) */
    bool gzip;      /* the source is gzip-compressed */
    uint64_t start; /* stream offset of buf[0] */
    void *priv;     /* the source (io.c) */
};

/* Open the file at path ("-": standard input; err->file already set).
 * Returns 0 and *out, or VMSIM_EIO / VMSIM_ENOMEM with *err filled. */
int vmsim__input_open(const char *path, struct vmsim__input **out, vmsim_trace_error_t *err);
/* The same over len bytes at buf, which must outlive the input. */
int vmsim__input_open_mem(const char *buf, size_t len, struct vmsim__input **out,
                          vmsim_trace_error_t *err);
/* Make at least `want` unread bytes available (fewer only at the end of
 * the stream); may move the buffer. Returns 0, or VMSIM_EIO (a read or
 * decompression error), VMSIM_ENOMEM. */
int vmsim__input_fill(struct vmsim__input *in, size_t want, vmsim_trace_error_t *err);
/* The next line, without its '\n' (a last line may lack one): *line
 * points into the buffer until the next call. Returns 1, 0 at the end, or
 * a negative VMSIM_E* (a line longer than `max` bytes is VMSIM_EPARSE,
 * located at line `lineno`). */
int vmsim__input_line(struct vmsim__input *in, size_t max, unsigned lineno, const char **line,
                      size_t *n, vmsim_trace_error_t *err);
/* Read the rest of the stream into a new NUL-terminated buffer (caller
 * frees). */
int vmsim__input_slurp(struct vmsim__input *in, char **out, size_t *len,
                       vmsim_trace_error_t *err);
/* Release; NULL is a no-op. */
void vmsim__input_close(struct vmsim__input *in);

/* A buffered output file, gzip-compressed or plain, written to a temporary
 * name and renamed over path only by vmsim__output_close(..., true);
 * "-" is standard output. */
struct vmsim__output;

int vmsim__output_open(const char *path, bool gzip, struct vmsim__output **out,
                       vmsim_trace_error_t *err);
int vmsim__output_write(struct vmsim__output *o, const void *buf, size_t n,
                        vmsim_trace_error_t *err);
/* Flush and close; commit false (or a failure) removes the temporary
 * file. NULL is a no-op returning 0. */
int vmsim__output_close(struct vmsim__output *o, bool commit, vmsim_trace_error_t *err);

/* ---- readers (open.c, json.c, jsonl.c, lackey.c, vmtr.c) -------------- */

struct vmsim__reader;

struct vmsim__reader_ops {
    const char *name; /* "json", "jsonl", "lackey", "vmtr" */
    /* Point *ev at the next event, which the reader owns until its next
     * call of next() or close(). Returns 1, 0 at the end, or a negative
     * VMSIM_E* with *err filled. */
    int (*next)(struct vmsim__reader *r, const struct vmsim__event **ev,
                vmsim_trace_error_t *err);
    void (*close)(struct vmsim__reader *r);
};

/* What every reader shares; a reader's own struct starts with this. */
struct vmsim__reader {
    const struct vmsim__reader_ops *ops;
    char file[256];              /* for messages */
    struct vmsim__system system; /* the trace's settings */
    char *name, *why;            /* the trace's "name" and "why", NULL if none */
    bool gzip;                   /* the file was gzip-compressed */
    unsigned system_line;        /* JSON Lines: the header's line, where an error of
                                  * the machine's settings is placed; 0 elsewhere */
    bool one_process;            /* lackey: one process's accesses, which end with
                                  * its death (the rest is not a trace error) */
};

/*
 * Open the trace at path. `format` is NULL or "auto" (recognise the
 * container from the content: docs/trace-format.md), or one of "json",
 * "jsonl", "lackey", "vmtr"; gzip is recognised by its magic whatever the
 * format. The header (version, system object) is read and checked; the
 * JSON document's events are all validated too, so a malformed event is
 * reported before any runs; the streaming containers validate each event
 * as next() reaches it. Returns 0 and *out, or a negative VMSIM_E* (EIO,
 * EPARSE, ERANGE, ENOTSUP, EINVAL, ENOMEM) with *err filled.
 */
int vmsim__reader_open(const char *path, const char *format, struct vmsim__reader **out,
                       vmsim_trace_error_t *err);
/* The same over len bytes in memory (any container, recognised from the
 * content); `file` names it in messages. */
int vmsim__reader_open_buffer(const char *file, const char *buf, size_t len,
                              struct vmsim__reader **out, vmsim_trace_error_t *err);
/* The next event: r->ops->next(). */
static inline int vmsim__reader_next(struct vmsim__reader *r, const struct vmsim__event **ev,
                                     vmsim_trace_error_t *err)
{
    return r->ops->next(r, ev, err);
}
/* Release a reader; NULL is a no-op. */
void vmsim__reader_close(struct vmsim__reader *r);

/* Each container's opener: takes `in` (closed on failure too); base's
 * file is err->file. */
int vmsim__json_open(struct vmsim__input *in, struct vmsim__reader **out,
                     vmsim_trace_error_t *err);
int vmsim__jsonl_open(struct vmsim__input *in, struct vmsim__reader **out,
                      vmsim_trace_error_t *err);
int vmsim__lackey_open(struct vmsim__input *in, struct vmsim__reader **out,
                       vmsim_trace_error_t *err);
int vmsim__vmtr_open(struct vmsim__input *in, struct vmsim__reader **out,
                     vmsim_trace_error_t *err);
/* Fill base's shared fields for a new reader; release them. */
void vmsim__reader_init(struct vmsim__reader *r, const struct vmsim__reader_ops *ops,
                        const vmsim_trace_error_t *err, const struct vmsim__input *in);
void vmsim__reader_fini(struct vmsim__reader *r);

/* JSON Lines' fast path for plain accesses (jsonl.c), on by default: turn
 * it on or off for reader r (no-op for other containers), and the number
 * of events it has read. For tests comparing it with the jansson path. */
void vmsim__jsonl_fast_path(struct vmsim__reader *r, bool on);
uint64_t vmsim__jsonl_fast_events(const struct vmsim__reader *r);

/* Whether the bytes start with the .vmtr magic number. */
bool vmsim__vmtr_magic(const char *buf, size_t len);
/* Whether the first line (len bytes, no newline) is a JSON Lines header:
 * one JSON object without "events" (json.c; the JSON Lines reader checks
 * its "vmsim"). */
bool vmsim__jsonl_header_line(const char *buf, size_t len);
/* jansson holds an integer in an int64: buf[0, len) with every integer
 * literal from 2^63 to 2^64 - 1 (outside strings) written as a string of
 * its digits behind a mark, "\u0000DIGITS", which a size or an address
 * reads as the number and every other key as an integer (never as a
 * string). *out is a new NUL-terminated buffer of *out_len bytes to parse
 * instead, or NULL when there is none. Returns 0 or VMSIM_ENOMEM (json.c;
 * vmsim__json_load parses through it). */
int vmsim__json_big_ints(const char *buf, size_t len, char **out, size_t *out_len);

/* ---- writers (json.c, vmtr.c) and conversion (convert.c) --------------- */

struct vmsim__writer;

struct vmsim__writer_ops {
    const char *name;
    /* The header: version, system, name, why of the trace being written. */
    int (*begin)(struct vmsim__writer *w, const struct vmsim__reader *rd,
                 vmsim_trace_error_t *err);
    int (*event)(struct vmsim__writer *w, const struct vmsim__event *ev,
                 vmsim_trace_error_t *err);
    int (*end)(struct vmsim__writer *w, vmsim_trace_error_t *err);
    void (*free)(struct vmsim__writer *w);
};

struct vmsim__writer {
    const struct vmsim__writer_ops *ops;
    struct vmsim__output *out; /* borrowed */
};

/* A writer of the container `format` ("json", "jsonl", "vmtr") to out.
 * Returns 0 and *w, VMSIM_EINVAL or VMSIM_ENOMEM. */
int vmsim__json_writer_new(bool lines, struct vmsim__output *out, struct vmsim__writer **w);
int vmsim__vmtr_writer_new(struct vmsim__output *out, struct vmsim__writer **w);

/*
 * Parse an override value (text as the command line gives it, read as
 * JSON when it parses, else as a string) for system key `key` into *s.
 * Returns 0, or VMSIM_EPARSE/VMSIM_ERANGE with *err filled (file left as
 * the caller set it).
 */
int vmsim__system_override(struct vmsim__system *s, const char *key, const char *value,
                           vmsim_trace_error_t *err);

/* ---- errors (replay.c) ------------------------------------------------ */

/* Reset err and set its file. */
void vmsim__error_init(vmsim_trace_error_t *err, const char *file);
/* Fill err's code and text (printf-style); event_index, op, line and
 * column are left for the caller to set. Returns code. */
int vmsim__error_set(vmsim_trace_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* VMSIM_TRACE_INTERNAL_H */
