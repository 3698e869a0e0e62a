/*
 * trace/trace.h -- the trace readers' internal API: parsed values, parsed
 * events, the system settings of a trace, and the reader seam.
 *
 * A reader (one per container: the JSON document today; JSON Lines,
 * lackey and binary later) turns its input into a stream of struct
 * vmsim__event, each fully validated, one at a time; replay.c consumes the
 * stream and calls the public API. Nothing here includes jansson, so every
 * reader can share the value parsers of value.c.
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
                        vmsim_trace_error_t *err);

/* ---- readers (json.c) ------------------------------------------------- */

struct vmsim__reader;

struct vmsim__reader_ops {
    const char *name; /* "json" */
    /* Store the next event in *ev. Returns 1, 0 at the end, or a negative
     * VMSIM_E* with *err filled. */
    int (*next)(struct vmsim__reader *r, struct vmsim__event *ev, vmsim_trace_error_t *err);
    void (*close)(struct vmsim__reader *r);
};

/* What every reader shares; a reader's own struct starts with this. */
struct vmsim__reader {
    const struct vmsim__reader_ops *ops;
    char file[256];             /* for messages */
    struct vmsim__system system; /* the trace's settings */
};

/*
 * Open the trace at path, reading `format` ("json"; NULL or "auto":
 * recognise it). The header (version, system object) is read and checked;
 * for the JSON document every event is validated too, so a malformed event
 * is reported before any runs. Returns 0 and *out, or a negative VMSIM_E*
 * (EIO, EPARSE, ERANGE, ENOTSUP, ENOMEM) with *err filled.
 */
int vmsim__reader_open(const char *path, const char *format, struct vmsim__reader **out,
                       vmsim_trace_error_t *err);
/* The same for a JSON document held in memory (len bytes); `file` names
 * it in messages. */
int vmsim__reader_open_buffer(const char *file, const char *buf, size_t len,
                              struct vmsim__reader **out, vmsim_trace_error_t *err);
/* Release a reader; NULL is a no-op. */
void vmsim__reader_close(struct vmsim__reader *r);

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
