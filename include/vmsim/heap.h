/*
 * heap.h -- a libc-like allocator inside a simulated process, built as
 * glibc's malloc is: small requests are carved from the brk heap, requests
 * of M_MMAP_THRESHOLD (128 KiB) and more get their own mmap, and the
 * allocator's own header writes are simulated accesses. So "the program
 * asked for X bytes; Linux sees RSS Y" is observable.
 *
 * Results follow the syscall convention of vmsim.h: 0, a positive
 * simulated errno (VMSIM_SYS_ENOMEM when malloc returns NULL), or a
 * negative VMSIM_E*. A free() of a pointer malloc never returned, or a
 * double free, kills the process with SIGABRT, as glibc's checks do.
 */
#ifndef VMSIM_HEAP_H
#define VMSIM_HEAP_H

#include "vmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmsim vmsim_t;

/* glibc's defaults */
#define VMSIM_M_MMAP_THRESHOLD ((uint64_t)128 << 10)
#define VMSIM_M_TOP_PAD        ((uint64_t)128 << 10)
#define VMSIM_M_TRIM_THRESHOLD ((uint64_t)128 << 10)

/* malloc(size): on 0, *ptr_out holds the address (malloc(0) returns a
 * minimum chunk, as glibc). */
VMSIM_API int vmsim_heap_malloc(vmsim_t *sim, vmsim_pid_t pid, uint64_t size,
                                vmsim_vaddr_t *ptr_out);
/* calloc(n, size): zeroes what it must (not fresh mmap or fresh top). */
VMSIM_API int vmsim_heap_calloc(vmsim_t *sim, vmsim_pid_t pid, uint64_t n, uint64_t size,
                                vmsim_vaddr_t *ptr_out);
/* realloc(ptr, size): ptr 0 is malloc; size 0 frees and returns 0. */
VMSIM_API int vmsim_heap_realloc(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t ptr,
                                 uint64_t size, vmsim_vaddr_t *ptr_out);
/* free(ptr): ptr 0 is a no-op. */
VMSIM_API int vmsim_heap_free(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t ptr);

typedef struct vmsim_heap_stats {
    uint64_t requested;     /* bytes asked for by live allocations */
    uint64_t nr_allocs;     /* live allocations */
    uint64_t arena_size;    /* brk heap bytes (brk - start_brk) */
    uint64_t arena_in_use;  /* bytes of in-use chunks in the brk heap, headers included */
    uint64_t mmapped;       /* bytes of mmapped chunks */
    uint64_t nr_mmapped;    /* live mmapped chunks */
} vmsim_heap_stats_t;

/* The allocator's figures for pid (all zero before the first malloc).
 * Returns 0 or VMSIM_ESRCH. */
VMSIM_API int vmsim_heap_stats(const vmsim_t *sim, vmsim_pid_t pid, vmsim_heap_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_HEAP_H */
