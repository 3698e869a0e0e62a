/*
 * value.c -- the value forms of traces: sizes, addresses, protections,
 * mmap flags and byte strings, parsed from text.
 *
 * Every parser reads a whole string and either stores the value or says
 * precisely what is wrong with it; nothing here wraps around silently. The
 * grammar (docs/trace-format.md, "Values"):
 *
 *   size    := number unit? | "0x" hexdigits
 *   number  := digits ("." digits)?      whole bytes after scaling
 *   unit    := B | KiB | MiB | GiB | TiB | K | M | G | T | p   (p: 4 KiB pages)
 *   address := base (("+" | "-") size)?
 *   base    := "0x" hexdigits | digits | name
 *   name    := [A-Za-z_][A-Za-z0-9_.]*
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

/* The whole text being parsed, quoted for a message: only on error paths
 * (q is each parser's buffer). */
#define QUOTED(text) vmsim__quote((text), strlen(text), 40, q, sizeof(q))

static const char units_hint[] = "use B, KiB, MiB, GiB, TiB, K, M, G, T or p";

bool vmsim__add_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return false;
    *out = a + b;
    return true;
}

bool vmsim__sub_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > a)
        return false;
    *out = a - b;
    return true;
}

bool vmsim__mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

char *vmsim__quote(const char *s, size_t n, size_t max, char *buf, size_t buf_len)
{
    size_t o = 0;
    bool cut = n > max;

    if (buf_len == 0)
        return buf;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t k;

        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            k = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[0] = (char)c;
            k = 1;
        } else {
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
        }
        if (o + k + 4 > buf_len) { /* keep room for "..." and the NUL */
            cut = true;
            break;
        }
        memcpy(buf + o, tmp, k);
        o += k;
    }
    if (cut && o + 4 <= buf_len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* Write a message into msg and return code. */
__attribute__((format(printf, 4, 5))) static int say(char *msg, size_t msg_len, int code,
                                                     const char *fmt, ...)
{
    va_list ap;

    if (msg != NULL && msg_len > 0) {
        va_start(ap, fmt);
        vsnprintf(msg, msg_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '.'; }

struct unit {
    const char *name;
    unsigned shift;
};

static const struct unit units[] = {
    {"B", 0},   {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"K", 10},
    {"M", 20},  {"G", 30},   {"T", 40},   {"p", 12},
};

/*
 * Parse the hex digits of s[0..n) (after "0x") into *out. `what` and
 * `whole` name the value for messages.
 */
static int scan_hex(const char *s, size_t n, uint64_t *out, const char *what,
                    const char *whole, char *msg, size_t msg_len)
{
    uint64_t v = 0;
    char q[96];

    if (n == 0)
        return say(msg, msg_len, VMSIM_EPARSE, "bad %s \"%s\": no hex digits after \"0x\"",
                   what, QUOTED(whole));
    for (size_t i = 0; i < n; i++) {
        int d = hex_value(s[i]);

        if (d < 0) {
            char c[16];

            return say(msg, msg_len, VMSIM_EPARSE, "bad %s \"%s\": '%s' is not a hex digit",
                       what, QUOTED(whole),
                       vmsim__quote(s + i, 1, 1, c, sizeof(c)));
        }
        if (v >> 60 != 0)
            return say(msg, msg_len, VMSIM_ERANGE, "bad %s \"%s\": overflows 64 bits", what,
                       QUOTED(whole));
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

/*
 * Parse a size held in s[0..n). `whole` is the full text the size came
 * from (an address with an offset, say) for messages.
 */
static int scan_size(const char *s, size_t n, uint64_t *out, const char *whole, char *msg,
                     size_t msg_len)
{
    size_t i = 0, frac_start = 0, frac_end = 0;
    uint64_t v = 0, frac = 0;
    unsigned shift = 0;
    char q[96], u[48];

    if (n == 0)
        return say(msg, msg_len, VMSIM_EPARSE, "bad size \"%s\": empty", QUOTED(whole));
    if (s[0] == '-')
        return say(msg, msg_len, VMSIM_EPARSE, "bad size \"%s\": a size cannot be negative",
                   QUOTED(whole));
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        size_t k = 2;

        while (k < n && hex_value(s[k]) >= 0)
            k++;
        if (k < n && k > 2 && strchr("KMGTBpi", s[k]) != NULL)
            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad size \"%s\": a hex size takes no unit", QUOTED(whole));
        return scan_hex(s + 2, n - 2, out, "size", whole, msg, msg_len);
    }
    if (!is_digit(s[0]))
        return say(msg, msg_len, VMSIM_EPARSE,
                   "bad size \"%s\": expected a number, e.g. 4096, \"4KiB\" or \"2p\"",
                   QUOTED(whole));
    for (; i < n && is_digit(s[i]); i++) {
        if (!vmsim__mul_ok(v, 10, &v) || !vmsim__add_ok(v, (uint64_t)(s[i] - '0'), &v))
            return say(msg, msg_len, VMSIM_ERANGE, "bad size \"%s\": overflows 64 bits",
                       QUOTED(whole));
    }
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start)
            return say(msg, msg_len, VMSIM_EPARSE, "bad size \"%s\": no digits after \".\"",
                       QUOTED(whole));
    }
    if (i < n) {
        size_t k;

        for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            if (strlen(units[k].name) == n - i && memcmp(units[k].name, s + i, n - i) == 0)
                break;
        }
        if (k == sizeof(units) / sizeof(units[0]))
            return say(msg, msg_len, VMSIM_EPARSE, "bad size \"%s\": unknown unit \"%s\" (%s)",
                       QUOTED(whole), vmsim__quote(s + i, n - i, 12, u, sizeof(u)), units_hint);
        shift = units[k].shift;
    }
    /*
     * The fraction scaled by 2^shift, exactly, from its last digit back:
     * y = (d + y) / 10 at each digit, with y < 2^shift throughout. Once a
     * step leaves a remainder the total cannot become whole again (an
     * integer plus a non-integer, divided by 10, is not an integer).
     */
    for (size_t k = frac_end; k > frac_start; k--) {
        uint64_t t = ((uint64_t)(s[k - 1] - '0') << shift) + frac;

        if (t % 10 != 0)
            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad size \"%s\": not a whole number of bytes", QUOTED(whole));
        frac = t / 10;
    }
    if ((shift > 0 && v > (UINT64_MAX >> shift)) || !vmsim__add_ok(v << shift, frac, &v))
        return say(msg, msg_len, VMSIM_ERANGE, "bad size \"%s\": overflows 64 bits", QUOTED(whole));
    *out = v;
    return 0;
}

int vmsim__parse_size(const char *s, uint64_t *out, char *msg, size_t msg_len)
{
    return scan_size(s, strlen(s), out, s, msg, msg_len);
}

int vmsim__parse_ssize(const char *s, int64_t *out, char *msg, size_t msg_len)
{
    bool neg = s[0] == '-';
    uint64_t v;
    char q[96];
    int rc;

    rc = scan_size(s + (neg || s[0] == '+'), strlen(s) - (neg || s[0] == '+'), &v, s, msg,
                   msg_len);
    if (rc < 0)
        return rc;
    if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return say(msg, msg_len, VMSIM_ERANGE, "bad size \"%s\": out of the signed 64-bit range",
                   QUOTED(s));
    *out = neg ? (v == 0 ? 0 : -(int64_t)(v - 1) - 1) : (int64_t)v;
    return 0;
}

int vmsim__check_region_name(const char *s, char *msg, size_t msg_len)
{
    size_t n = strlen(s);
    char q[96];

    if (n == 0)
        return say(msg, msg_len, VMSIM_EPARSE, "bad region name \"\": empty");
    if (n > VMSIM__NAME_MAX)
        return say(msg, msg_len, VMSIM_EPARSE,
                   "bad region name \"%s\": longer than %d bytes", QUOTED(s), VMSIM__NAME_MAX);
    if (!is_name_start(s[0]))
        return say(msg, msg_len, VMSIM_EPARSE,
                   "bad region name \"%s\": must start with a letter or '_'", QUOTED(s));
    for (size_t i = 1; i < n; i++) {
        char c[16];

        if (!is_name_char(s[i]))
            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad region name \"%s\": '%s' not allowed (use letters, digits, '_' "
                       "and '.')",
                       QUOTED(s), vmsim__quote(s + i, 1, 1, c, sizeof(c)));
    }
    return 0;
}

int vmsim__parse_addr(const char *s, struct vmsim__addr *out, char *msg, size_t msg_len)
{
    size_t n = strlen(s), i = 0;
    struct vmsim__addr a = {0};
    char q[96], r[48];
    int rc;

    if (n == 0)
        return say(msg, msg_len, VMSIM_EPARSE, "bad address \"\": empty");
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        i = 2;
        while (i < n && hex_value(s[i]) >= 0)
            i++;
        rc = scan_hex(s + 2, i - 2, &a.value, "address", s, msg, msg_len);
        if (rc < 0)
            return rc;
    } else if (is_digit(s[0])) {
        for (; i < n && is_digit(s[i]); i++) {
            if (!vmsim__mul_ok(a.value, 10, &a.value) ||
                !vmsim__add_ok(a.value, (uint64_t)(s[i] - '0'), &a.value))
                return say(msg, msg_len, VMSIM_ERANGE, "bad address \"%s\": overflows 64 bits",
                           QUOTED(s));
        }
    } else if (is_name_start(s[0])) {
        while (i < n && is_name_char(s[i]))
            i++;
        a.name = s;
        a.name_len = i;
        if (i > VMSIM__NAME_MAX)
            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad address \"%s\": region name longer than %d bytes", QUOTED(s),
                       VMSIM__NAME_MAX);
    } else {
        return say(msg, msg_len, VMSIM_EPARSE,
                   "bad address \"%s\": expected a number, \"0x...\" or a region name", QUOTED(s));
    }
    if (i < n) {
        uint64_t off;

        if (s[i] != '+' && s[i] != '-')
            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad address \"%s\": unexpected \"%s\" (an offset is +SIZE or -SIZE)",
                       QUOTED(s), vmsim__quote(s + i, n - i, 12, r, sizeof(r)));
        if (i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-'))
            return say(msg, msg_len, VMSIM_EPARSE, "bad address \"%s\": two signs", QUOTED(s));
        rc = scan_size(s + i + 1, n - i - 1, &off, s, msg, msg_len);
        if (rc < 0)
            return rc;
        if (a.name != NULL) {
            a.value = off;
            a.minus = s[i] == '-';
        } else if (s[i] == '+' ? !vmsim__add_ok(a.value, off, &a.value)
                               : !vmsim__sub_ok(a.value, off, &a.value)) {
            return say(msg, msg_len, VMSIM_ERANGE, "bad address \"%s\": %s", QUOTED(s),
                       s[i] == '+' ? "overflows 64 bits" : "below 0");
        }
    }
    *out = a;
    return 0;
}

int vmsim__parse_prot(const char *s, unsigned *out, char *msg, size_t msg_len)
{
    unsigned prot = 0;
    char q[96];

    if (strcmp(s, "none") == 0) {
        *out = VMSIM_PROT_NONE;
        return 0;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned bit = 0;

        switch (*p) {
        case 'r':
            bit = VMSIM_PROT_READ;
            break;
        case 'w':
            bit = VMSIM_PROT_WRITE;
            break;
        case 'x':
            bit = VMSIM_PROT_EXEC;
            break;
        default: {
            char c[16];

            return say(msg, msg_len, VMSIM_EPARSE,
                       "bad prot \"%s\": unexpected '%s' (use r, w, x, \"\" or \"none\")",
                       QUOTED(s), vmsim__quote(p, 1, 1, c, sizeof(c)));
        }
        }
        if (prot & bit)
            return say(msg, msg_len, VMSIM_EPARSE, "bad prot \"%s\": '%c' twice", QUOTED(s), *p);
        prot |= bit;
    }
    *out = prot;
    return 0;
}

#define MMAP_FLAG_MAP(XX)                                                                \
    XX("private", VMSIM_MAP_PRIVATE)                                                     \
    XX("shared", VMSIM_MAP_SHARED)                                                       \
    XX("anonymous", VMSIM_MAP_ANONYMOUS)                                                 \
    XX("fixed", VMSIM_MAP_FIXED)                                                         \
    XX("populate", VMSIM_MAP_POPULATE)                                                   \
    XX("hugetlb", VMSIM_MAP_HUGETLB)                                                     \
    XX("noreserve", VMSIM_MAP_NORESERVE)

const char *vmsim__mmap_flag_name(unsigned bit)
{
#define XX(s, b)                                                                         \
    if (bit == (b))                                                                      \
        return s;
    MMAP_FLAG_MAP(XX)
#undef XX
    return NULL;
}

int vmsim__mmap_flag(const char *name, size_t n, unsigned *bit, char *msg, size_t msg_len)
{
    char q[96];

#define XX(s, b)                                                                         \
    if (n == sizeof(s) - 1 && memcmp(name, s, n) == 0) {                                 \
        *bit = (b);                                                                      \
        return 0;                                                                        \
    }
    MMAP_FLAG_MAP(XX)
#undef XX
    if (n == 0)
        return say(msg, msg_len, VMSIM_EPARSE, "empty mmap flag name");
    return say(msg, msg_len, VMSIM_EPARSE,
               "unknown mmap flag \"%s\" (use private, shared, anonymous, fixed, populate, "
               "hugetlb, noreserve)",
               vmsim__quote(name, n, 40, q, sizeof(q)));
}

int vmsim__parse_mmap_flags(const char *s, unsigned *out, char *msg, size_t msg_len)
{
    unsigned flags = 0;
    const char *p = s;

    if (*s == '\0') {
        *out = 0;
        return 0;
    }
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        unsigned bit = 0;
        int rc = vmsim__mmap_flag(p, n, &bit, msg, msg_len);

        if (rc < 0)
            return rc;
        flags |= bit;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    *out = flags;
    return 0;
}

int vmsim__parse_bytes(const char *s, uint8_t *buf, size_t buf_len, const uint8_t **out,
                       size_t *n, char *msg, size_t msg_len)
{
    size_t len = strlen(s);
    char q[96];

    if (len < 2 || s[0] != '0' || s[1] != 'x') {
        *out = (const uint8_t *)s;
        *n = len;
        return 0;
    }
    vmsim__quote(s, len, 40, q, sizeof(q));
    if (len == 2 || (len - 2) % 2 != 0)
        return say(msg, msg_len, VMSIM_EPARSE,
                   "bad bytes \"%s\": \"0x\" must be followed by pairs of hex digits", q);
    if ((len - 2) / 2 > buf_len)
        return say(msg, msg_len, VMSIM_ENOMEM, "bad bytes \"%s\": too long", q);
    for (size_t i = 2; i < len; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

        if (hi < 0 || lo < 0) {
            char c[16];

            return say(msg, msg_len, VMSIM_EPARSE, "bad bytes \"%s\": '%s' is not a hex digit",
                       q, vmsim__quote(s + i + (hi >= 0), 1, 1, c, sizeof(c)));
        }
        buf[(i - 2) / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out = buf;
    *n = (len - 2) / 2;
    return 0;
}
