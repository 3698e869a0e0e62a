/*
 * fuzz_trace.c -- one fuzz target per trace container, and one for gzip:
 * each replays its input in full (fuzz_replay.c) on a 4 MiB machine with
 * vmsim_check() after every event.
 *
 *   json    the input as a JSON document (format forced to "json")
 *   jsonl   as JSON Lines ("jsonl")
 *   lackey  as valgrind lackey output ("lackey")
 *   vmtr    as the binary .vmtr container ("vmtr")
 *   gzip    an input that starts with the gzip magic (1f 8b) is replayed
 *           as it is, a damaged or odd gzip stream; any other input is
 *           gzip-compressed first, so the decompressor carries a trace the
 *           fuzzer shapes. The container is recognised from the content
 *           (format "auto"), so this target also covers the recognition.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fuzz.h"

int vmsim_fuzz_json(const uint8_t *data, size_t size)
{
    return size > FUZZ_MAX_INPUT ? 0 : fuzz_replay(data, size, "json");
}

int vmsim_fuzz_jsonl(const uint8_t *data, size_t size)
{
    return size > FUZZ_MAX_INPUT ? 0 : fuzz_replay(data, size, "jsonl");
}

int vmsim_fuzz_lackey(const uint8_t *data, size_t size)
{
    return size > FUZZ_MAX_INPUT ? 0 : fuzz_replay(data, size, "lackey");
}

int vmsim_fuzz_vmtr(const uint8_t *data, size_t size)
{
    return size > FUZZ_MAX_INPUT ? 0 : fuzz_replay(data, size, "vmtr");
}

int vmsim_fuzz_gzip(const uint8_t *data, size_t size)
{
    z_stream zs;
    uint8_t *out;
    uLong cap;
    int rc;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        return fuzz_replay(data, size, NULL);
    /* gzip it, at a level the input picks (so stored, fast and best
     * deflate blocks all occur) */
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, (int)(size % 10), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fuzz_fail("deflateInit2 failed");
    cap = deflateBound(&zs, (uLong)size);
    out = malloc(cap);
    if (out == NULL)
        fuzz_fail("out of memory");
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)size;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    rc = deflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END)
        fuzz_fail("deflate gave %d", rc);
    fuzz_replay(out, (size_t)zs.total_out, NULL);
    deflateEnd(&zs);
    free(out);
    return 0;
}

const struct fuzz_target fuzz_targets[] = {
    {"json", vmsim_fuzz_json},
    {"jsonl", vmsim_fuzz_jsonl},
    {"lackey", vmsim_fuzz_lackey},
    {"vmtr", vmsim_fuzz_vmtr},
    {"gzip", vmsim_fuzz_gzip},
    {"value", vmsim_fuzz_value},
    {NULL, NULL},
};
