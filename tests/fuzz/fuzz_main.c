/*
 * fuzz_main.c -- a libFuzzer target: LLVMFuzzerTestOneInput calls the
 * target function named by VMSIM_FUZZ_ENTRY (vmsim_fuzz_json, ...), set
 * per executable by tests/fuzz/CMakeLists.txt.
 */
#include "fuzz.h"

#ifndef VMSIM_FUZZ_ENTRY
#error "define VMSIM_FUZZ_ENTRY to the target function"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return VMSIM_FUZZ_ENTRY(data, size);
}
