/*
 * event.c -- what every trace container shares about events: the names of
 * ops, fields and enumerations, the fields each op takes and needs, and the
 * checks that run once an event's fields are read, whatever container they
 * came from (JSON, JSON Lines, lackey, binary).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

#define F(f) ((uint64_t)1 << VMSIM__F_##f)

/* Fields each op allows, and those it requires (pid always defaults to 1). */
static const struct op_spec {
    uint64_t allowed, required;
} op_specs[VMSIM__OP__COUNT] = {
    [VMSIM__OP_SPAWN] = {F(PID) | F(NAME) | F(OOM_SCORE_ADJ), 0},
    [VMSIM__OP_FORK] = {F(PID) | F(CHILD), F(CHILD)},
    [VMSIM__OP_EXEC] = {F(PID) | F(NAME), 0},
    [VMSIM__OP_EXIT] = {F(PID), 0},
    [VMSIM__OP_MMAP] = {F(PID) | F(ADDR) | F(LEN) | F(PROT) | F(FLAGS) | F(PAGESIZE) | F(FILE) |
                            F(OFFSET) | F(AS),
                        F(LEN) | F(PROT) | F(FLAGS)},
    [VMSIM__OP_MUNMAP] = {F(PID) | F(ADDR) | F(LEN), F(ADDR) | F(LEN)},
    [VMSIM__OP_MPROTECT] = {F(PID) | F(ADDR) | F(LEN) | F(PROT), F(ADDR) | F(LEN) | F(PROT)},
    [VMSIM__OP_MADVISE] = {F(PID) | F(ADDR) | F(LEN) | F(ADVICE), F(ADDR) | F(LEN) | F(ADVICE)},
    [VMSIM__OP_BRK] = {F(PID) | F(ADDR) | F(INCR), 0},
    [VMSIM__OP_MALLOC] = {F(PID) | F(SIZE) | F(AS), F(SIZE)},
    [VMSIM__OP_CALLOC] = {F(PID) | F(N) | F(SIZE) | F(AS), F(N) | F(SIZE)},
    [VMSIM__OP_REALLOC] = {F(PID) | F(PTR) | F(SIZE) | F(AS), F(PTR) | F(SIZE)},
    [VMSIM__OP_FREE] = {F(PID) | F(PTR), F(PTR)},
    [VMSIM__OP_R] = {F(PID) | F(ADDR) | F(SIZE) | F(EXPECT), F(ADDR)},
    [VMSIM__OP_W] = {F(PID) | F(ADDR) | F(SIZE) | F(DATA), F(ADDR)},
    [VMSIM__OP_X] = {F(PID) | F(ADDR) | F(SIZE), F(ADDR)},
    [VMSIM__OP_TOUCH] = {F(PID) | F(ADDR) | F(LEN) | F(STRIDE) | F(ACCESS), F(ADDR) | F(LEN)},
    [VMSIM__OP_REFS] = {F(PID) | F(BASE) | F(PAGES) | F(ACCESS), F(BASE) | F(PAGES)},
    [VMSIM__OP_FILE] = {F(NAME) | F(SIZE) | F(DATA), F(NAME) | F(SIZE)},
    [VMSIM__OP_READ] = {F(PID) | F(FILE) | F(OFFSET) | F(LEN), F(FILE) | F(OFFSET) | F(LEN)},
    [VMSIM__OP_WRITE] = {F(PID) | F(FILE) | F(OFFSET) | F(LEN), F(FILE) | F(OFFSET) | F(LEN)},
    [VMSIM__OP_MSYNC] = {F(PID) | F(ADDR) | F(LEN), F(ADDR) | F(LEN)},
    [VMSIM__OP_SYSCTL] = {F(KEY) | F(VALUE), F(KEY) | F(VALUE)},
    [VMSIM__OP_KHUGEPAGED] = {F(PID), 0},
    [VMSIM__OP_SWAPOFF] = {0, 0},
    [VMSIM__OP_REPORT] = {F(PID) | F(WHAT), F(WHAT)},
    [VMSIM__OP_EXPECT] = {F(PID), 0},
};

uint64_t vmsim__op_allowed(vmsim__op op)
{
    return (unsigned)op < VMSIM__OP__COUNT ? op_specs[op].allowed : 0;
}

uint64_t vmsim__op_required(vmsim__op op)
{
    return (unsigned)op < VMSIM__OP__COUNT ? op_specs[op].required : 0;
}

const char *const vmsim__field_names[VMSIM__F__COUNT] = {
#define XX(id, name) name,
    VMSIM__FIELD_MAP(XX)
#undef XX
};

const char *const vmsim__advice_names[VMSIM__ADV__COUNT] = {
#define XX(id, name) name,
    VMSIM__ADVICE_MAP(XX)
#undef XX
};

const char *const vmsim__sysctl_names[VMSIM__SYSCTL__COUNT] = {
#define XX(id, name, lo, hi) name,
    VMSIM__SYSCTL_MAP(XX)
#undef XX
};

const int64_t vmsim__sysctl_range[VMSIM__SYSCTL__COUNT][2] = {
#define XX(id, name, lo, hi) {lo, hi},
    VMSIM__SYSCTL_MAP(XX)
#undef XX
};

static const char *const check_names[] = {
#define XX(id, name) name,
    VMSIM__CHECK_MAP(XX)
#undef XX
};

const char *vmsim__check_key_name(vmsim__check_key key)
{
    return (unsigned)key < VMSIM__CHECK__COUNT ? check_names[key] : "?";
}

const char *const vmsim__profile_names[2] = {"linux", "textbook"};
const char *const vmsim__thp_names[3] = {"always", "madvise", "never"};

/* Signals and si_code names expect knows (si_code: index into si_names). */
const char *const vmsim__signal_names[VMSIM__NR_SIGNALS] = {"SIGSEGV", "SIGBUS", "SIGKILL",
                                                            "SIGABRT"};
const int vmsim__signal_numbers[VMSIM__NR_SIGNALS] = {VMSIM_SIGSEGV, VMSIM_SIGBUS, VMSIM_SIGKILL,
                                                      6};
const char *const vmsim__si_names[VMSIM__NR_SI_CODES] = {"SEGV_MAPERR", "SEGV_ACCERR", "BUS_ADRERR",
                                                         "SI_KERNEL", "SI_TKILL"};

const char *vmsim__si_code_name(int sig, int si)
{
    if (si == VMSIM_SI_KERNEL)
        return "SI_KERNEL";
    if (si == -6) /* SI_TKILL: abort() raises SIGABRT with tgkill() */
        return "SI_TKILL";
    if (sig == VMSIM_SIGSEGV && si == VMSIM_SEGV_MAPERR)
        return "SEGV_MAPERR";
    if (sig == VMSIM_SIGSEGV && si == VMSIM_SEGV_ACCERR)
        return "SEGV_ACCERR";
    if (sig == VMSIM_SIGBUS && si == VMSIM_BUS_ADRERR)
        return "BUS_ADRERR";
    return NULL;
}

static const char *const report_names[] = {
#define XX(id, name) name,
    VMSIM_REPORT_MAP(XX)
#undef XX
};

const char *vmsim__report_name(int kind)
{
    return kind >= 0 && kind < VMSIM_REPORT__COUNT ? report_names[kind] : NULL;
}

void vmsim__event_init(struct vmsim__event *ev, uint64_t index)
{
    memset(ev, 0, sizeof(*ev));
    ev->index = index;
    ev->pid = 1;
    ev->access = VMSIM_WRITE;
    ev->stride = VMSIM_PAGE_SIZE;
    ev->size = 1;
}

__attribute__((format(printf, 3, 4))) static int say(char *msg, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, VMSIM__MSG_MAX, fmt, ap);
    va_end(ap);
    return code;
}

/* Checks across fields, once all are read. */
static int check_event(const struct vmsim__event *ev, char *msg)
{
    switch (ev->op) {
    case VMSIM__OP_MMAP: {
        unsigned ps = ev->flags & (VMSIM_MAP_PRIVATE | VMSIM_MAP_SHARED);
        bool anon = (ev->flags & VMSIM_MAP_ANONYMOUS) != 0;

        if (ps != VMSIM_MAP_PRIVATE && ps != VMSIM_MAP_SHARED)
            return say(msg, VMSIM_EPARSE, "\"flags\" needs exactly one of private and shared");
        if (anon && VMSIM__HAS(ev, FILE))
            return say(msg, VMSIM_EPARSE, "\"file\" and the anonymous flag exclude each other");
        if (!anon && !VMSIM__HAS(ev, FILE))
            return say(msg, VMSIM_EPARSE, "needs the anonymous flag or a \"file\"");
        if (VMSIM__HAS(ev, OFFSET) && !VMSIM__HAS(ev, FILE))
            return say(msg, VMSIM_EPARSE, "\"offset\" needs a \"file\"");
        if ((ev->flags & VMSIM_MAP_FIXED) && !VMSIM__HAS(ev, ADDR))
            return say(msg, VMSIM_EPARSE, "the fixed flag needs an \"addr\"");
        if (VMSIM__HAS(ev, PAGESIZE) && !(ev->flags & VMSIM_MAP_HUGETLB))
            return say(msg, VMSIM_EPARSE, "\"pagesize\" needs the hugetlb flag");
        break;
    }
    case VMSIM__OP_BRK:
        if (VMSIM__HAS(ev, ADDR) == VMSIM__HAS(ev, INCR))
            return say(msg, VMSIM_EPARSE, "needs exactly one of \"addr\" and \"incr\"");
        break;
    case VMSIM__OP_R:
        if (VMSIM__HAS(ev, EXPECT) && VMSIM__HAS(ev, SIZE) && ev->size != ev->expect_len)
            return say(msg, VMSIM_EPARSE, "\"size\" is %" PRIu64 " but \"expect\" holds %zu bytes",
                       ev->size, ev->expect_len);
        break;
    case VMSIM__OP_W:
        if (VMSIM__HAS(ev, DATA) && VMSIM__HAS(ev, SIZE) && ev->size != ev->data_len)
            return say(msg, VMSIM_EPARSE, "\"size\" is %" PRIu64 " but \"data\" holds %zu bytes",
                       ev->size, ev->data_len);
        break;
    case VMSIM__OP_FILE:
        if (VMSIM__HAS(ev, DATA) && ev->data_len > ev->size)
            return say(msg, VMSIM_EPARSE,
                       "\"data\" holds %zu bytes, more than \"size\" (%" PRIu64 ")", ev->data_len,
                       ev->size);
        break;
    case VMSIM__OP_EXPECT:
        if (ev->nr_checks == 0)
            return say(msg, VMSIM_EPARSE, "checks nothing (give minflt, rss, vmstat, ...)");
        break;
    default:
        break;
    }
    return 0;
}

int vmsim__event_finish(struct vmsim__event *ev, char *msg)
{
    uint64_t missing = vmsim__op_required(ev->op) & ~ev->present;

    if (missing != 0) {
        int f = 0;

        while (!(missing & ((uint64_t)1 << f)))
            f++;
        return say(msg, VMSIM_EPARSE, "missing \"%s\"", vmsim__field_names[f]);
    }
    if (ev->op == VMSIM__OP_R && VMSIM__HAS(ev, EXPECT) && !VMSIM__HAS(ev, SIZE))
        ev->size = ev->expect_len;
    if (ev->op == VMSIM__OP_W && VMSIM__HAS(ev, DATA) && !VMSIM__HAS(ev, SIZE))
        ev->size = ev->data_len;
    if (ev->op != VMSIM__OP_R && ev->op != VMSIM__OP_W && ev->op != VMSIM__OP_X &&
        !VMSIM__HAS(ev, SIZE))
        ev->size = 0;
    return check_event(ev, msg);
}

bool vmsim__utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        /* overlong forms, surrogates, past U+10FFFF */
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}
