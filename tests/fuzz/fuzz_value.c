/*
 * fuzz_value.c -- the "value" fuzz target: the value parsers of
 * lib/trace/value.c (sizes, signed sizes, addresses, region names, prot,
 * mmap flags, byte strings, quoting) and the "system" override parser,
 * each run on the input as one string.
 *
 * The parsers are checked against reference parsers written here from the
 * grammar of docs/trace-format.md ("Values") alone, in another way:
 * arithmetic on decimal digit strings, no shifts or overflow tricks. They
 * must agree on what parses and on the value; a string that is well formed
 * but too large must give VMSIM_ERANGE; every failure must leave a
 * one-line message, also in a message buffer of only a few bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h" /* lib/trace/trace.h: the parsers */

#include "fuzz.h"

/* ---- decimal digit strings: the reference's arithmetic ------------------ */

#define DEC_MAX 128

/* A non-negative integer as decimal digits, least significant first. */
struct dec {
    unsigned char d[DEC_MAX];
    size_t n; /* digits in use; 0 is zero */
};

static void dec_trim(struct dec *x)
{
    while (x->n > 0 && x->d[x->n - 1] == 0)
        x->n--;
}

/* From decimal text of at most DEC_MAX digits. */
static void dec_from_text(struct dec *x, const char *s, size_t n)
{
    if (n > DEC_MAX)
        fuzz_fail("dec_from_text: %zu digits", n);
    x->n = n;
    for (size_t i = 0; i < n; i++)
        x->d[i] = (unsigned char)(s[n - 1 - i] - '0');
    dec_trim(x);
}

static void dec_from_u64(struct dec *x, uint64_t v)
{
    x->n = 0;
    while (v != 0) {
        x->d[x->n++] = (unsigned char)(v % 10);
        v /= 10;
    }
}

static void dec_add(struct dec *x, const struct dec *y)
{
    unsigned carry = 0;
    size_t n = x->n > y->n ? x->n : y->n;

    for (size_t i = 0; i < n || carry; i++) {
        unsigned a = i < x->n ? x->d[i] : 0, b = i < y->n ? y->d[i] : 0, s = a + b + carry;

        if (i >= DEC_MAX)
            fuzz_fail("dec_add overflows");
        x->d[i] = (unsigned char)(s % 10);
        carry = s / 10;
        if (i + 1 > x->n)
            x->n = i + 1;
    }
}

/* x *= 2^k */
static void dec_shl(struct dec *x, unsigned k)
{
    while (k-- > 0) {
        struct dec y = *x;

        dec_add(x, &y);
    }
}

/* Whether the k least significant digits are 0; then drop them. */
static bool dec_div_pow10(struct dec *x, size_t k)
{
    for (size_t i = 0; i < k && i < x->n; i++) {
        if (x->d[i] != 0)
            return false;
    }
    if (k >= x->n) {
        x->n = 0;
        return true;
    }
    memmove(x->d, x->d + k, x->n - k);
    x->n -= k;
    return true;
}

static int dec_cmp(const struct dec *x, const struct dec *y)
{
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    for (size_t i = x->n; i-- > 0;) {
        if (x->d[i] != y->d[i])
            return x->d[i] < y->d[i] ? -1 : 1;
    }
    return 0;
}

static uint64_t dec_to_u64(const struct dec *x)
{
    uint64_t v = 0;

    for (size_t i = x->n; i-- > 0;)
        v = v * 10 + x->d[i];
    return v;
}

/* Whether x fits 64 bits. */
static bool dec_fits(const struct dec *x)
{
    struct dec max;

    dec_from_u64(&max, UINT64_MAX);
    return dec_cmp(x, &max) <= 0;
}

/* ---- the reference parsers --------------------------------------------- */

/* What a reference parser says: well formed with a value, well formed but
 * past 64 bits, or malformed. */
enum ref { REF_OK, REF_RANGE, REF_SYNTAX };

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '.'; }

/* Hex digits s[0..n), n >= 1, as a value. */
static enum ref ref_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    while (n > 0 && *s == '0') {
        s++;
        n--;
    }
    if (n > 16)
        return REF_RANGE;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d = is_digit(c) ? (unsigned)(c - '0')
                                 : (unsigned)((c | 0x20) - 'a' + 10);

        v = v * 16 + d;
    }
    *out = v;
    return REF_OK;
}

/* Decimal digits s[0..n) as a value. */
static enum ref ref_decimal(const char *s, size_t n, uint64_t *out)
{
    struct dec x;

    while (n > 0 && *s == '0') {
        s++;
        n--;
    }
    if (n > 20)
        return REF_RANGE;
    dec_from_text(&x, s, n);
    if (!dec_fits(&x))
        return REF_RANGE;
    *out = dec_to_u64(&x);
    return REF_OK;
}

/*
 * A size, s[0..n): "0x" hexdigits, or digits ("." digits)? unit?, with
 * unit one of B KiB MiB GiB TiB K M G T p, a whole number of bytes.
 */
static enum ref ref_size(const char *s, size_t n, uint64_t *out)
{
    static const struct {
        const char *name;
        unsigned log2;
    } units[] = {{"B", 0},   {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
                 {"K", 10},  {"M", 20},   {"G", 30},   {"T", 40},   {"p", 12}};
    size_t i = 0, int_end, frac_start = 0, frac_end = 0;
    unsigned log2 = 0;
    bool unit_found = false;
    struct dec total, frac;
    const char *ip;
    size_t in;

    if (n == 0)
        return REF_SYNTAX;
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        if (n == 2)
            return REF_SYNTAX;
        for (i = 2; i < n; i++) {
            if (!is_hex(s[i]))
                return REF_SYNTAX;
        }
        return ref_hex(s + 2, n - 2, out);
    }
    while (i < n && is_digit(s[i]))
        i++;
    if (i == 0)
        return REF_SYNTAX;
    int_end = i;
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start)
            return REF_SYNTAX;
    }
    if (i < n) {
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            if (strlen(units[k].name) == n - i && memcmp(units[k].name, s + i, n - i) == 0) {
                log2 = units[k].log2;
                unit_found = true;
            }
        }
        if (!unit_found)
            return REF_SYNTAX;
    }
    /* The fraction F of k digits (trailing zeros dropped) is worth
     * F * 2^log2 / 10^k bytes, whole only if 10^k divides F * 2^log2; with
     * F's last digit nonzero that needs k <= log2 <= 40. */
    while (frac_end > frac_start && s[frac_end - 1] == '0')
        frac_end--;
    frac.n = 0;
    if (frac_end > frac_start) {
        size_t k = frac_end - frac_start;

        if (k > 40)
            return REF_SYNTAX;
        dec_from_text(&frac, s + frac_start, k);
        dec_shl(&frac, log2);
        if (!dec_div_pow10(&frac, k))
            return REF_SYNTAX;
    }
    /* the integer part, times 2^log2, plus the fraction's bytes */
    ip = s;
    in = int_end;
    while (in > 0 && *ip == '0') {
        ip++;
        in--;
    }
    if (in > 20)
        return REF_RANGE;
    dec_from_text(&total, ip, in);
    dec_shl(&total, log2);
    dec_add(&total, &frac);
    if (!dec_fits(&total))
        return REF_RANGE;
    *out = dec_to_u64(&total);
    return REF_OK;
}

static enum ref ref_ssize(const char *s, int64_t *out)
{
    bool neg = s[0] == '-';
    size_t skip = s[0] == '-' || s[0] == '+';
    uint64_t v = 0;
    enum ref r = ref_size(s + skip, strlen(s) - skip, &v);

    if (r != REF_OK)
        return r;
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return REF_RANGE;
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1u)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return REF_OK;
}

static enum ref ref_addr(const char *s, struct vmsim__addr *out)
{
    size_t n = strlen(s), i = 0;
    struct vmsim__addr a = {0};
    enum ref base = REF_OK, off_r;
    uint64_t off = 0;

    if (n == 0)
        return REF_SYNTAX;
    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        i = 2;
        while (i < n && is_hex(s[i]))
            i++;
        if (i == 2)
            return REF_SYNTAX;
        base = ref_hex(s + 2, i - 2, &a.value);
    } else if (is_digit(s[0])) {
        while (i < n && is_digit(s[i]))
            i++;
        base = ref_decimal(s, i, &a.value);
    } else if (is_name_start(s[0])) {
        while (i < n && is_name_char(s[i]))
            i++;
        if (i > VMSIM__NAME_MAX)
            return REF_SYNTAX;
        a.name = s;
        a.name_len = i;
    } else {
        return REF_SYNTAX;
    }
    if (i < n) {
        if (s[i] != '+' && s[i] != '-')
            return REF_SYNTAX;
        off_r = ref_size(s + i + 1, n - i - 1, &off);
        if (off_r == REF_SYNTAX)
            return REF_SYNTAX;
        if (base != REF_OK || off_r != REF_OK)
            return REF_RANGE;
        if (a.name != NULL) {
            a.value = off;
            a.minus = s[i] == '-';
        } else if (s[i] == '+') {
            if (a.value > UINT64_MAX - off)
                return REF_RANGE;
            a.value += off;
        } else {
            if (off > a.value)
                return REF_RANGE;
            a.value -= off;
        }
    }
    if (base != REF_OK)
        return base;
    *out = a;
    return REF_OK;
}

static bool ref_region_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > VMSIM__NAME_MAX || !is_name_start(s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!is_name_char(s[i]))
            return false;
    }
    return true;
}

static bool ref_prot(const char *s, unsigned *out)
{
    unsigned prot = 0;

    if (strcmp(s, "none") == 0) {
        *out = VMSIM_PROT_NONE;
        return true;
    }
    for (; *s != '\0'; s++) {
        unsigned bit = *s == 'r' ? VMSIM_PROT_READ
                       : *s == 'w' ? VMSIM_PROT_WRITE
                       : *s == 'x' ? VMSIM_PROT_EXEC
                                   : 0;

        if (bit == 0 || (prot & bit) != 0)
            return false;
        prot |= bit;
    }
    *out = prot;
    return true;
}

static bool ref_mmap_flag(const char *s, size_t n, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } flags[] = {
        {"private", VMSIM_MAP_PRIVATE},     {"shared", VMSIM_MAP_SHARED},
        {"anonymous", VMSIM_MAP_ANONYMOUS}, {"fixed", VMSIM_MAP_FIXED},
        {"populate", VMSIM_MAP_POPULATE},   {"hugetlb", VMSIM_MAP_HUGETLB},
        {"noreserve", VMSIM_MAP_NORESERVE},
    };

    for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
        if (strlen(flags[k].name) == n && memcmp(flags[k].name, s, n) == 0) {
            *bit = flags[k].bit;
            return true;
        }
    }
    return false;
}

static bool ref_mmap_flags(const char *s, unsigned *out)
{
    unsigned flags = 0;
    size_t start = 0, n = strlen(s);

    if (n == 0) {
        *out = 0;
        return true;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '|') {
            unsigned bit;

            if (!ref_mmap_flag(s + start, i - start, &bit))
                return false;
            flags |= bit;
            start = i + 1;
        }
    }
    *out = flags;
    return true;
}

/* ---- checks --------------------------------------------------------------- */

/* A parser's failure: a code of its contract and a one-line message. */
static void check_failure(const char *what, const char *s, int rc, const char *msg,
                          size_t msg_len, bool range_ok)
{
    const char *nul;

    if (rc != VMSIM_EPARSE && !(range_ok && rc == VMSIM_ERANGE))
        fuzz_fail("%s(\"%.80s\") returned %d", what, s, rc);
    if (msg_len == 0)
        return;
    nul = memchr(msg, '\0', msg_len);
    if (nul == NULL)
        fuzz_fail("%s(\"%.80s\"): message not NUL-terminated in %zu bytes", what, s, msg_len);
    if (msg_len >= VMSIM__MSG_MAX && nul == msg)
        fuzz_fail("%s(\"%.80s\"): empty message", what, s);
    if (memchr(msg, '\n', (size_t)(nul - msg)) != NULL)
        fuzz_fail("%s(\"%.80s\"): message holds a newline", what, s);
}

/* The parser's verdict against the reference's: REF_OK must parse,
 * REF_RANGE must give ERANGE, REF_SYNTAX may give EPARSE or (when an
 * overflow is met before the malformed part) ERANGE. */
static void compare(const char *what, const char *s, int rc, enum ref r, const char *msg,
                    size_t msg_len)
{
    if (r == REF_OK && rc != 0)
        fuzz_fail("%s(\"%.80s\") failed (%d: %s), the reference parses it", what, s, rc,
                  msg_len ? msg : "");
    if (r != REF_OK && rc == 0)
        fuzz_fail("%s(\"%.80s\") parsed, the reference says %s", what, s,
                  r == REF_RANGE ? "out of range" : "malformed");
    if (rc != 0)
        check_failure(what, s, rc, msg, msg_len, true);
    if (r == REF_RANGE && rc != VMSIM_ERANGE)
        fuzz_fail("%s(\"%.80s\") returned %d, not ERANGE, for a well-formed value too large",
                  what, s, rc);
}

/* vmsim__quote: printable, bounded, and reversible when nothing is cut. */
static void check_quote(const char *s, size_t n, size_t max, size_t buf_len)
{
    char *buf = malloc(buf_len ? buf_len : 1);
    size_t len, o = 0, i = 0;

    if (buf == NULL)
        fuzz_fail("out of memory");
    if (vmsim__quote(s, n, max, buf, buf_len) != buf)
        fuzz_fail("vmsim__quote does not return buf");
    if (buf_len == 0) {
        free(buf);
        return;
    }
    if (memchr(buf, '\0', buf_len) == NULL)
        fuzz_fail("vmsim__quote: not NUL-terminated in %zu bytes", buf_len);
    len = strlen(buf);
    for (size_t k = 0; k < len; k++) {
        if (buf[k] < 0x20 || buf[k] > 0x7e)
            fuzz_fail("vmsim__quote: byte 0x%02x in its output", (unsigned char)buf[k]);
    }
    if (n <= max && buf_len >= 4 * n + 4) {
        /* nothing cut: unescaping gives s back */
        while (o < len) {
            unsigned char c;

            if (buf[o] == '\\' && o + 1 < len && (buf[o + 1] == '"' || buf[o + 1] == '\\')) {
                c = (unsigned char)buf[o + 1];
                o += 2;
            } else if (buf[o] == '\\' && o + 3 < len && buf[o + 1] == 'x') {
                char hex[3] = {buf[o + 2], buf[o + 3], '\0'};

                c = (unsigned char)strtoul(hex, NULL, 16);
                o += 4;
            } else {
                if (buf[o] == '"' || buf[o] == '\\')
                    fuzz_fail("vmsim__quote: '%c' not escaped", buf[o]);
                c = (unsigned char)buf[o++];
            }
            if (i >= n || (unsigned char)s[i] != c)
                fuzz_fail("vmsim__quote: \"%s\" does not give the input back at byte %zu", buf,
                          i);
            i++;
        }
        if (i != n)
            fuzz_fail("vmsim__quote: \"%s\" holds %zu of %zu bytes", buf, i, n);
    }
    free(buf);
}

/* Run every parser on s with a message buffer of msg_len bytes (exactly
 * that many, so a write past it shows). */
static void run_parsers(const char *s, size_t msg_len)
{
    char *msg = malloc(msg_len ? msg_len : 1);
    uint64_t size = 0;
    int64_t ssize = 0;
    struct vmsim__addr addr, raddr;
    unsigned prot = 0, flags = 0, rprot = 0, rflags = 0;
    uint8_t bytes[32];
    const uint8_t *b = NULL;
    size_t nb = 0, len = strlen(s);
    int rc;
    enum ref r;

    if (msg == NULL)
        fuzz_fail("out of memory");

    /* size */
    rc = vmsim__parse_size(s, &size, msg, msg_len);
    {
        uint64_t want = 0;

        r = ref_size(s, len, &want);
        compare("vmsim__parse_size", s, rc, r, msg, msg_len);
        if (rc == 0 && size != want)
            fuzz_fail("vmsim__parse_size(\"%.80s\") = %llu, the reference says %llu", s,
                      (unsigned long long)size, (unsigned long long)want);
    }

    /* signed size */
    rc = vmsim__parse_ssize(s, &ssize, msg, msg_len);
    {
        int64_t want = 0;

        r = ref_ssize(s, &want);
        compare("vmsim__parse_ssize", s, rc, r, msg, msg_len);
        if (rc == 0 && ssize != want)
            fuzz_fail("vmsim__parse_ssize(\"%.80s\") = %lld, the reference says %lld", s,
                      (long long)ssize, (long long)want);
    }

    /* address */
    memset(&addr, 0, sizeof(addr));
    memset(&raddr, 0, sizeof(raddr));
    rc = vmsim__parse_addr(s, &addr, msg, msg_len);
    r = ref_addr(s, &raddr);
    compare("vmsim__parse_addr", s, rc, r, msg, msg_len);
    if (rc == 0 && (addr.name != raddr.name || addr.name_len != raddr.name_len ||
                    addr.value != raddr.value || addr.minus != raddr.minus))
        fuzz_fail("vmsim__parse_addr(\"%.80s\") = {name %zu bytes, %s%llu}, the reference says "
                  "{name %zu bytes, %s%llu}",
                  s, addr.name_len, addr.minus ? "-" : "", (unsigned long long)addr.value,
                  raddr.name_len, raddr.minus ? "-" : "", (unsigned long long)raddr.value);

    /* region name */
    rc = vmsim__check_region_name(s, msg, msg_len);
    if ((rc == 0) != ref_region_name(s))
        fuzz_fail("vmsim__check_region_name(\"%.80s\") = %d, the reference disagrees", s, rc);
    if (rc != 0)
        check_failure("vmsim__check_region_name", s, rc, msg, msg_len, false);

    /* prot */
    rc = vmsim__parse_prot(s, &prot, msg, msg_len);
    if ((rc == 0) != ref_prot(s, &rprot) || (rc == 0 && prot != rprot))
        fuzz_fail("vmsim__parse_prot(\"%.80s\") = %d (%u), the reference disagrees (%u)", s, rc,
                  prot, rprot);
    if (rc != 0)
        check_failure("vmsim__parse_prot", s, rc, msg, msg_len, false);

    /* mmap flags; each named flag back to its name */
    rc = vmsim__parse_mmap_flags(s, &flags, msg, msg_len);
    if ((rc == 0) != ref_mmap_flags(s, &rflags) || (rc == 0 && flags != rflags))
        fuzz_fail("vmsim__parse_mmap_flags(\"%.80s\") = %d (%#x), the reference disagrees (%#x)",
                  s, rc, flags, rflags);
    if (rc != 0)
        check_failure("vmsim__parse_mmap_flags", s, rc, msg, msg_len, false);
    for (unsigned bit = 1; rc == 0 && bit != 0; bit <<= 1) {
        const char *name = (flags & bit) ? vmsim__mmap_flag_name(bit) : "";
        unsigned back = 0;

        if (name == NULL)
            fuzz_fail("flag bit %#x of \"%.80s\" has no name", bit, s);
        if ((flags & bit) && (vmsim__mmap_flag(name, strlen(name), &back, NULL, 0) != 0 ||
                              back != bit))
            fuzz_fail("mmap flag \"%s\" does not parse back to %#x", name, bit);
    }

    /* bytes, into a buffer too small for some */
    rc = vmsim__parse_bytes(s, bytes, sizeof(bytes), &b, &nb, msg, msg_len);
    if (len < 2 || s[0] != '0' || s[1] != 'x') {
        if (rc != 0 || b != (const uint8_t *)s || nb != len)
            fuzz_fail("vmsim__parse_bytes(\"%.80s\"): plain text not taken as it is", s);
    } else {
        bool even = len > 2 && (len - 2) % 2 == 0, ok = even;

        for (size_t i = 2; ok && i < len; i++)
            ok = is_hex(s[i]);
        if (even && (len - 2) / 2 > sizeof(bytes)) {
            /* too long for buf: ENOMEM (the length is checked before the
             * digits, so whatever they are), or EPARSE */
            if (rc != VMSIM_ENOMEM && rc != VMSIM_EPARSE)
                fuzz_fail("vmsim__parse_bytes(\"%.80s\") = %d for %zu bytes into %zu", s, rc,
                          (len - 2) / 2, sizeof(bytes));
            if (ok && rc != VMSIM_ENOMEM)
                fuzz_fail("vmsim__parse_bytes(\"%.80s\") = %d, not ENOMEM for %zu bytes", s, rc,
                          (len - 2) / 2);
            if (rc == VMSIM_ENOMEM && msg_len > 0 && memchr(msg, '\0', msg_len) == NULL)
                fuzz_fail("vmsim__parse_bytes(\"%.80s\"): message not NUL-terminated", s);
        } else if (ok != (rc == 0)) {
            fuzz_fail("vmsim__parse_bytes(\"%.80s\") = %d, the reference disagrees", s, rc);
        } else if (rc == 0) {
            if (b != bytes || nb != (len - 2) / 2)
                fuzz_fail("vmsim__parse_bytes(\"%.80s\"): %zu bytes", s, nb);
            for (size_t i = 0; i < nb; i++) {
                char hex[3] = {s[2 + 2 * i], s[3 + 2 * i], '\0'};

                if (bytes[i] != (uint8_t)strtoul(hex, NULL, 16))
                    fuzz_fail("vmsim__parse_bytes(\"%.80s\"): byte %zu", s, i);
            }
        } else {
            check_failure("vmsim__parse_bytes", s, rc, msg, msg_len, false);
        }
    }
    free(msg);
}

/* The override parser (vmsim replay --memory 64MiB ...) for every system
 * key: a value of the contract or a clean error. */
static void run_overrides(const char *s)
{
    const char *key;

    for (size_t i = 0; (key = vmsim_trace_system_key(i)) != NULL; i++) {
        struct vmsim__system sys;
        vmsim_trace_error_t err;
        int rc;

        memset(&sys, 0, sizeof(sys));
        vmsim__error_init(&err, "override");
        rc = vmsim__system_override(&sys, key, s, &err);
        if (rc == 0) {
            if (!(sys.present & (1u << i)))
                fuzz_fail("override %s=\"%.80s\" parsed but is not present", key, s);
            continue;
        }
        if (rc != VMSIM_EPARSE && rc != VMSIM_ERANGE)
            fuzz_fail("override %s=\"%.80s\" returned %d", key, s, rc);
        if (err.code != rc || memchr(err.text, '\0', sizeof(err.text)) == NULL ||
            err.text[0] == '\0' || strchr(err.text, '\n') != NULL)
            fuzz_fail("override %s=\"%.80s\": a bad error (code %d)", key, s, err.code);
    }
}

int vmsim_fuzz_value(const uint8_t *data, size_t size)
{
    char *s, *raw;

    if (size > 4096)
        return 0; /* values are short; longer inputs find nothing more */
    s = malloc(size + 1);
    raw = malloc(size ? size : 1);
    if (s == NULL || raw == NULL)
        fuzz_fail("out of memory");
    memcpy(s, data, size);
    s[size] = '\0';
    memcpy(raw, data, size);

    run_parsers(s, VMSIM__MSG_MAX);
    run_parsers(s, size % 24); /* a message cut short, or none */
    run_overrides(s);
    {
        /* one flag name, not NUL-terminated */
        unsigned bit = 0, rbit = 0;
        char msg[VMSIM__MSG_MAX];
        int rc = vmsim__mmap_flag(raw, size, &bit, msg, sizeof(msg));

        if ((rc == 0) != ref_mmap_flag(raw, size, &rbit) || (rc == 0 && bit != rbit))
            fuzz_fail("vmsim__mmap_flag(%zu bytes) = %d, the reference disagrees", size, rc);
        if (rc != 0)
            check_failure("vmsim__mmap_flag", s, rc, msg, sizeof(msg), false);
    }
    check_quote(raw, size, 40, 96);
    check_quote(raw, size, size, 4 * size + 4);
    check_quote(raw, size, size % 50, size % 37);
    free(raw);
    free(s);
    return 0;
}
