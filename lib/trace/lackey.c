/*
 * lackey.c -- valgrind's lackey output (`valgrind --tool=lackey
 * --trace-mem=yes`): one memory access per line,
 *
 *   I  04222cac,3       instruction fetch of 3 bytes   -> op "x"
 *    L 1ffefff9e8,8     load                           -> op "r"
 *    S 1ffefff9e0,8     store                          -> op "w"
 *    M 0421b460,4       modify: load then store        -> ops "r", "w"
 *
 * (address in hex without 0x, size in decimal), every other line (valgrind's
 * own "==PID== ..." lines, blank lines) skipped. A line that starts like a
 * record ("I", " L", " S", " M") but does not parse is an error located
 * FILE:LINE:COLUMN, and so is a file without any record.
 *
 * One process (pid 1). Every page touched is valid: before the first
 * access to a 2 MiB-aligned chunk of address space the reader hands out an
 * "implicit mapping", an mmap event of the chunk (private, anonymous, rwx,
 * fixed, never charged to the commit limit in any overcommit mode), clipped
 * to user space [64 KiB, TASK_SIZE). Mapping makes no
 * fault, so faults count exactly the pages touched; the chunks only set the
 * granularity of VmSize and of /proc/PID/maps. An access outside user space
 * (the vsyscall page, say) touches no page a process can map: it is
 * skipped, and the part of an access that sticks out of user space is cut.
 *
 * Speed: no allocation per line; the only per-trace memory is the set of
 * chunks mapped. The usual record ("I  ADDR,SIZE" or " L ADDR,SIZE" and a
 * newline) is parsed in place in the input buffer, its newline found by the
 * parse itself, the buffer's NUL sentinel (trace.h) ending every scan;
 * anything else (valgrind's own lines, a last line without a newline,
 * "\r\n", leading zeros past 16 hex digits, errors) takes the general
 * path: memchr for the newline, then parse_line(), which says what is
 * wrong. Both read a record the same way. The chunks found mapped lately
 * sit in a small direct-mapped cache in front of the hash set.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define CHUNK_SHIFT 21                  /* implicit mappings are 2 MiB chunks */
#define RECENT      256                 /* the cache of chunks mapped: slots, a power of 2 */
#define MIN_ADDR    ((uint64_t)65536)   /* Linux's mmap_min_addr */
#define MAX_SIZE    ((uint64_t)1 << 20) /* the largest access a record may make */

enum { K_INSN, K_LOAD, K_STORE, K_MODIFY };

/* The events a reader hands out, one prepared event each. */
enum { T_MMAP, T_R, T_W, T_X, T__COUNT };

/* An event waiting to be handed out. */
struct pending {
    int t; /* T_* */
    uint64_t addr, len;
};

struct lackey_reader {
    struct vmsim__reader base;
    struct vmsim__input *in;
    unsigned line;     /* of the last line read */
    unsigned rec_line; /* of the record the pending events come from */
    uint64_t index;    /* events handed out */
    uint64_t records;
    struct pending q[4]; /* at most 2 mappings and 2 accesses per record */
    unsigned qn, qi;
    /* chunks mapped: open addressing on chunk + 1 (0 = empty) */
    uint64_t *chunks;
    size_t nr_chunks, cap_chunks;
    uint64_t recent[RECENT];          /* + 1: chunks found mapped lately, by their low bits */
    struct vmsim__event ev[T__COUNT]; /* filled once; next() sets the rest */
};

static const int8_t hex_digit[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static size_t chunk_slot(uint64_t key, size_t cap)
{
    key *= 0x9e3779b97f4a7c15ull;
    return (size_t)(key >> 32) & (cap - 1);
}

/* Mark chunk c mapped; returns true if it was not yet. -1: out of memory. */
static int chunk_add(struct lackey_reader *r, uint64_t c)
{
    uint64_t key = c + 1;
    size_t i;

    if (r->recent[c & (RECENT - 1)] == key)
        return 0;
    r->recent[c & (RECENT - 1)] = key;
    if (r->nr_chunks + 1 > r->cap_chunks / 2) {
        size_t ncap = r->cap_chunks ? r->cap_chunks * 2 : 64;
        uint64_t *t = calloc(ncap, sizeof(*t));

        if (t == NULL)
            return -1;
        for (size_t k = 0; k < r->cap_chunks; k++) {
            if (r->chunks[k] != 0) {
                for (i = chunk_slot(r->chunks[k], ncap); t[i] != 0; i = (i + 1) & (ncap - 1))
                    ;
                t[i] = r->chunks[k];
            }
        }
        free(r->chunks);
        r->chunks = t;
        r->cap_chunks = ncap;
    }
    for (i = chunk_slot(key, r->cap_chunks); r->chunks[i] != 0; i = (i + 1) & (r->cap_chunks - 1)) {
        if (r->chunks[i] == key)
            return 0;
    }
    r->chunks[i] = key;
    r->nr_chunks++;
    return 1;
}

/* A record that does not parse: FILE:LINE:COLUMN, the line quoted. */
__attribute__((format(printf, 6, 7))) static int bad_record(vmsim_trace_error_t *err, unsigned line,
                                                            const char *p, size_t n, size_t col,
                                                            const char *fmt, ...)
{
    char q[96], what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    err->line = line;
    err->column = (unsigned)col;
    return vmsim__error_set(err, VMSIM_EPARSE, "bad lackey record \"%s\": %s",
                            vmsim__quote(p, n, 40, q, sizeof(q)), what);
}

/*
 * Parse one line: 0 (not a record: skip it), 1 (a record: *kind, *addr,
 * *size), or VMSIM_EPARSE with *err located.
 */
static int parse_line(const char *p, size_t n, unsigned line, int *kind, uint64_t *addr,
                      uint64_t *size, vmsim_trace_error_t *err)
{
    uint64_t a = 0, sz = 0;
    size_t i = 3, start;

    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;
    if (p[0] == 'I') {
        if (n < 3 || p[1] != ' ' || p[2] != ' ')
            return bad_record(err, line, p, n, 2,
                              "expected two spaces after 'I' (\"I  ADDR,SIZE\")");
        *kind = K_INSN;
    } else if (p[0] == ' ' && n >= 2 && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M')) {
        if (n < 3 || p[2] != ' ')
            return bad_record(err, line, p, n, 3, "expected a space after '%c' (\" %c ADDR,SIZE\")",
                              p[1], p[1]);
        *kind = p[1] == 'L' ? K_LOAD : p[1] == 'S' ? K_STORE : K_MODIFY;
    } else {
        return 0;
    }
    for (start = i; i < n && hex_digit[(unsigned char)p[i]] != 0; i++) {
        if (i - start == 16)
            return bad_record(err, line, p, n, start + 1, "the address overflows 64 bits");
        a = a << 4 | (uint64_t)(hex_digit[(unsigned char)p[i]] - 1);
    }
    if (i == start)
        return bad_record(err, line, p, n, i + 1, "expected a hex address");
    if (i == n || p[i] != ',')
        return bad_record(err, line, p, n, i + 1, "expected ',' after the address");
    for (start = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        sz = sz * 10 + (uint64_t)(p[i] - '0');
        if (sz > MAX_SIZE)
            return bad_record(err, line, p, n, start + 1,
                              "the size is more than %" PRIu64 " bytes (1MiB), the largest "
                              "access a record may make",
                              MAX_SIZE);
    }
    if (i == start)
        return bad_record(err, line, p, n, i + 1, "expected a decimal size after ','");
    if (i < n)
        return bad_record(err, line, p, n, i + 1, "unexpected text after the size");
    if (sz > 1 && a > UINT64_MAX - (sz - 1))
        return bad_record(err, line, p, n, 4,
                          "the access passes the end of the 64-bit "
                          "address space");
    *addr = a;
    *size = sz;
    return 1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The hex digits that lead the 8 bytes at s (readable): their count, and
 * their value in *value. Eight bytes at once (SWAR): with every byte below
 * 0x80, adding a constant to each byte carries into no other, so the top
 * bit of each byte of (x + 0x80 - lo) & ~(x + 0x7f - hi) says lo <= x <= hi.
 */
static unsigned hex8(const unsigned char *s, uint64_t *value)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t x, lo7, low, digit, alpha, nonhex, nib, v;
    unsigned k;

    memcpy(&x, s, 8); /* s[0] in the low byte */
    lo7 = x & ~high;
    digit = (lo7 + ones * (0x80 - '0')) & ~(lo7 + ones * (0x7f - '9'));
    low = lo7 | ones * 0x20; /* A-F to a-f (and nothing else into a-f) */
    alpha = (low + ones * (0x80 - 'a')) & ~(low + ones * (0x7f - 'f'));
    nonhex = ~(digit | alpha) & high;
    nonhex |= x & high; /* bytes from 0x80 are no digits */
    k = nonhex != 0 ? (unsigned)__builtin_ctzll(nonhex) >> 3 : 8;
    if (k == 0)
        return 0;
    /* each byte's value: its low 4 bits, + 9 for a letter (bit 6 set) */
    nib = (lo7 & ones * 0x0f) + ((lo7 >> 6) & ones) * 9;
    /* the k digits to the top bytes, last digit in the top one; reversed,
     * digit i (from the last) sits in byte i: pack the nibbles */
    v = __builtin_bswap64(nib << (8 * (8 - k)));
    v = (v | v >> 4) & 0x00ff00ff00ff00ffull;
    v = (v | v >> 8) & 0x0000ffff0000ffffull;
    v = (v | v >> 16) & 0x00000000ffffffffull;
    *value = v;
    return k;
}
#endif

/* The address of a record: 1 to 16 hex digits at s. Returns the byte after
 * them (s itself if none, s + 17 if more than 16) and *value. */
static const unsigned char *record_addr(const unsigned char *s, uint64_t *value)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t a = 0, b = 0;
    unsigned k = hex8(s, &a), k2;

    if (k < 8 || s[8] == ',') { /* the usual case: 8 digits or fewer */
        *value = a;
        return s + k;
    }
    k2 = hex8(s + 8, &b);
    *value = k2 == 0 ? a : a << (4 * k2) | b;
    if (k2 == 8 && hex_digit[s[16]] != 0)
        return s + 17;
    return s + 8 + k2;
#else
    uint64_t a = 0;
    unsigned d;
    size_t i = 0;

    while (i < 17 && (d = (unsigned)(hex_digit[s[i]] - 1)) < 16) {
        a = a << 4 | d;
        i++;
    }
    *value = a;
    return s + i;
#endif
}

/*
 * The usual record at p, parsed in place: "I  " or " L " (S, M), 1 to 16
 * hex digits, ',', 1 to 7 decimal digits (at most MAX_SIZE), '\n'. Returns
 * the bytes of the line with its newline, and *kind, *addr, *size; or 0
 * when the line is anything else, to be read by parse_line(), which takes
 * every such record the same way. p must be in an input buffer: the NUL
 * sentinel and padding after its bytes (trace.h) stop every scan: a byte
 * is read only after the bytes before it were found to be part of a
 * record, and the address's hex digits are loaded 8 bytes at a time, at
 * most 8 bytes past the last byte found so (the padding is 32).
 */
static size_t quick_record(const char *p, int *kind, uint64_t *addr, uint64_t *size)
{
    static const uint8_t kinds[256] = {['I'] = 1 + K_INSN, ['L'] = 1 + K_LOAD,
                                       ['S'] = 1 + K_STORE, ['M'] = 1 + K_MODIFY};
    const unsigned char *s = (const unsigned char *)p, *e;
    uint64_t a = 0, sz;
    size_t i;
    unsigned d;
    int k;

    /* "I  " or " X ": the kind letter, at 0 or 1, fixes where the spaces are */
    if (s[0] == 'I') {
        if (s[1] != ' ' || s[2] != ' ')
            return 0;
        k = K_INSN;
    } else {
        if (s[0] != ' ' || (k = kinds[s[1]] - 1) <= K_INSN || s[2] != ' ')
            return 0;
    }
    e = record_addr(s + 3, &a);
    i = (size_t)(e - s);
    if (i == 3 || i > 3 + 16 || s[i] != ',')
        return 0;
    d = (unsigned)s[++i] - '0';
    if (d > 9)
        return 0;
    sz = d;
    for (size_t start = i++; (d = (unsigned)s[i] - '0') <= 9; i++) {
        if (i - start == 7)
            return 0; /* more digits than MAX_SIZE has (or leading zeros) */
        sz = sz * 10 + d;
    }
    if (s[i] != '\n' || sz > MAX_SIZE || (sz > 1 && a > UINT64_MAX - (sz - 1)))
        return 0;
    *kind = k;
    *addr = a;
    *size = sz;
    return i + 1;
}

/* Queue the implicit mapping of chunk c if it is new. */
static int map_chunk(struct lackey_reader *r, uint64_t c, vmsim_trace_error_t *err)
{
    uint64_t start = c << CHUNK_SHIFT, end;
    int added = chunk_add(r, c);

    if (added < 0)
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    if (added == 0)
        return 0;
    end = c + 1 >= (uint64_t)1 << (64 - CHUNK_SHIFT) ? UINT64_MAX : (c + 1) << CHUNK_SHIFT;
    if (start < MIN_ADDR)
        start = MIN_ADDR;
    if (end > VMSIM_TASK_SIZE)
        end = VMSIM_TASK_SIZE;
    if (start < end)
        r->q[r->qn++] = (struct pending){T_MMAP, start, end - start};
    return 0;
}

enum { RECORD = 1, SKIP = 2 };

/*
 * The general path for the next line: found with memchr (or read on by
 * vmsim__input_line when it is not whole in the buffer), then parsed by
 * parse_line(). Returns RECORD (*kind, *addr, *size set), SKIP (a line that
 * is no record), 0 at the end of the trace, or a negative VMSIM_E* with
 * *err located.
 */
static int general_line(struct lackey_reader *r, int *kind, uint64_t *addr, uint64_t *size,
                        vmsim_trace_error_t *err)
{
    struct vmsim__input *in = r->in;
    const char *p = in->buf != NULL ? in->buf + in->pos : NULL; /* before the first fill */
    const char *nl = in->len > in->pos ? memchr(p, '\n', in->len - in->pos) : NULL;
    size_t n;
    int rc;

    if (nl != NULL && (size_t)(nl - p) <= VMSIM__LINE_MAX) {
        n = (size_t)(nl - p);
        in->pos += n + 1;
        rc = 1;
    } else {
        rc = vmsim__input_line(in, VMSIM__LINE_MAX, r->line, &p, &n, err);
    }
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if (r->records > 0)
            return 0;
        err->line = 1;
        err->column = 1;
        return vmsim__error_set(err, VMSIM_EPARSE,
                                "no lackey record (\"I  ADDR,SIZE\", \" L ADDR,SIZE\", "
                                "\" S ...\", \" M ...\") in the file");
    }
    rc = parse_line(p, n, r->line, kind, addr, size, err);
    if (rc < 0)
        return rc;
    return rc == 1 ? RECORD : SKIP;
}

static const char implicit_why[] = "implicit mapping of a lackey trace";

/* Prepare the events of each kind: every field but the place, the
 * address and the length. */
static void prepare(struct lackey_reader *r)
{
    static const vmsim__op ops[T__COUNT] = {VMSIM__OP_MMAP, VMSIM__OP_R, VMSIM__OP_W, VMSIM__OP_X};

    for (int t = 0; t < T__COUNT; t++) {
        struct vmsim__event *ev = &r->ev[t];

        vmsim__event_init(ev, 0);
        ev->op = ops[t];
        if (t == T_MMAP) {
            ev->present = (uint64_t)1 << VMSIM__F_ADDR | (uint64_t)1 << VMSIM__F_LEN |
                          (uint64_t)1 << VMSIM__F_PROT | (uint64_t)1 << VMSIM__F_FLAGS;
            ev->size = 0;
            ev->prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE | VMSIM_PROT_EXEC;
            /* never refused for the commit limit: the traced program
             * had this memory (every page touched is valid) */
            ev->flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | VMSIM_MAP_FIXED |
                        VMSIM_MAP_NORESERVE | VMSIM_MAP_UNACCOUNTED;
            ev->why = implicit_why;
        } else {
            ev->present = (uint64_t)1 << VMSIM__F_ADDR | (uint64_t)1 << VMSIM__F_SIZE;
        }
    }
}

static const struct vmsim__event *emit(struct lackey_reader *r, int t, uint64_t addr, uint64_t len)
{
    struct vmsim__event *ev = &r->ev[t];

    ev->index = r->index++;
    ev->line = r->rec_line;
    ev->addr.value = addr;
    if (t == T_MMAP)
        ev->len = len;
    else
        ev->size = len;
    return ev;
}

static int lackey_next(struct vmsim__reader *base, const struct vmsim__event **ev,
                       vmsim_trace_error_t *err)
{
    static const int kinds[] = {[K_INSN] = T_X, [K_LOAD] = T_R, [K_STORE] = T_W, [K_MODIFY] = T_R};
    struct lackey_reader *r = (struct lackey_reader *)base;
    int kind = 0, rc;
    uint64_t addr = 0, size = 0, last, c0, c1;

    if (r->qi < r->qn) {
        const struct pending *pe = &r->q[r->qi++];

        *ev = emit(r, pe->t, pe->addr, pe->len);
        return 1;
    }
    for (;;) {
        struct vmsim__input *in = r->in;
        size_t k;

        if (r->line < UINT32_MAX)
            r->line++;
        /* the usual case: a record, whole in the buffer */
        if (in->buf != NULL && (k = quick_record(in->buf + in->pos, &kind, &addr, &size)) > 0) {
            in->pos += k;
        } else {
            rc = general_line(r, &kind, &addr, &size, err);
            if (rc <= 0)
                return rc;
            if (rc == SKIP)
                continue;
        }
        r->records++;
        last = addr + (size > 0 ? size - 1 : 0);
        if (addr >= VMSIM_TASK_SIZE || last < MIN_ADDR)
            continue;          /* no user page: nothing to simulate */
        if (addr < MIN_ADDR) { /* keep the part in user space */
            size -= MIN_ADDR - addr;
            addr = MIN_ADDR;
        }
        if (last >= VMSIM_TASK_SIZE)
            size = VMSIM_TASK_SIZE - addr;
        break;
    }
    r->rec_line = r->line;
    r->qn = r->qi = 0;
    c0 = addr >> CHUNK_SHIFT;
    c1 = (addr + (size > 0 ? size - 1 : 0)) >> CHUNK_SHIFT;
    if (r->recent[c0 & (RECENT - 1)] != c0 + 1 || c1 != c0) {
        if ((rc = map_chunk(r, c0, err)) < 0 || (c1 != c0 && (rc = map_chunk(r, c1, err)) < 0))
            return rc;
    }
    if (r->qn == 0 && kind != K_MODIFY) { /* the usual case: just the access */
        *ev = emit(r, kinds[kind], addr, size);
        return 1;
    }
    r->q[r->qn++] = (struct pending){kinds[kind], addr, size};
    if (kind == K_MODIFY)
        r->q[r->qn++] = (struct pending){T_W, addr, size};
    *ev = emit(r, r->q[0].t, r->q[0].addr, r->q[0].len);
    r->qi = 1;
    return 1;
}

static void lackey_close(struct vmsim__reader *base)
{
    struct lackey_reader *r = (struct lackey_reader *)base;

    vmsim__input_close(r->in);
    free(r->chunks);
    vmsim__reader_fini(&r->base);
    free(r);
}

static const struct vmsim__reader_ops lackey_ops = {
    .name = "lackey",
    .next = lackey_next,
    .close = lackey_close,
};

int vmsim__lackey_open(struct vmsim__input *in, struct vmsim__reader **out,
                       vmsim_trace_error_t *err)
{
    struct lackey_reader *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        vmsim__input_close(in);
        return vmsim__error_set(err, VMSIM_ENOMEM, "out of memory");
    }
    vmsim__reader_init(&r->base, &lackey_ops, err, in);
    r->base.one_process = true;
    r->in = in;
    prepare(r);
    *out = &r->base;
    return 0;
}
