/*
 * fuzz.h -- the fuzz targets of libvmsim (docs/fuzzing.md).
 *
 * Each target is one function taking a byte string; fuzz_main.c turns one
 * of them into a libFuzzer target (LLVMFuzzerTestOneInput), and
 * replay_corpus.c feeds every file of tests/fuzz/corpus/<target>/ and
 * tests/fuzz/crashes/<target>/ to the function of the same name, so the
 * corpus and every crash ever found stay regression tests in builds
 * without libFuzzer.
 *
 * A target returns 0 whatever the input; a bug it finds ends the process
 * (a sanitizer report, or fuzz_fail() -> abort()).
 */
#ifndef VMSIM_FUZZ_H
#define VMSIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Inputs longer than this are ignored (libFuzzer runs with -max_len to
 * match): a trace this small cannot ask for much, and a run stays fast. */
#define FUZZ_MAX_INPUT ((size_t)64 << 10)

/* The targets, one per container, gzip and the value parsers. */
int vmsim_fuzz_json(const uint8_t *data, size_t size);
int vmsim_fuzz_jsonl(const uint8_t *data, size_t size);
int vmsim_fuzz_lackey(const uint8_t *data, size_t size);
int vmsim_fuzz_vmtr(const uint8_t *data, size_t size);
int vmsim_fuzz_gzip(const uint8_t *data, size_t size);
int vmsim_fuzz_value(const uint8_t *data, size_t size);

/* Every target by name ("json", ...), the name being its corpus directory:
 * i = 0, 1, ... until name is NULL. */
struct fuzz_target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
};
extern const struct fuzz_target fuzz_targets[];

/*
 * Replay size bytes as a trace of container `format` (NULL: recognised
 * from the content) on a small machine (4 MiB of memory, 4 MiB of swap, or
 * VMSIM_FUZZ_MEMORY of each: the trace's own "memory" and "swap" are
 * overridden) with vmsim_check()
 * after every event, and check what vmsim_replay() says: a known status,
 * a one-line message for every failure, never a failed vmsim_check()
 * (VMSIM_ECORRUPT). The bytes go to an in-memory file (memfd) whose
 * /proc/self/fd path vmsim_replay() opens, as it opens any trace.
 */
int fuzz_replay(const uint8_t *data, size_t size, const char *format);

/* Report a violated expectation of a target and abort(). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* VMSIM_FUZZ_H */
