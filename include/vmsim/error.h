/*
 * error.h -- every error libvmsim can return, and the simulated errno values.
 *
 * Two kinds of failure exist and never mix:
 *
 *  - Simulator errors (negative VMSIM_E* codes): the *library* could not do
 *    what was asked (bad argument, host out of memory, malformed trace...).
 *    The test is always "ret < 0".
 *
 *  - Simulated syscall results (positive Linux errno values, VMSIM_SYS_*):
 *    the simulated program's mmap()/brk()/... failed exactly as it would on
 *    Linux, e.g. VMSIM_SYS_ENOMEM when the address space is exhausted. The
 *    simulator itself is fine; the value is an outcome, not an error.
 *
 * Simulated faults (SIGSEGV, SIGBUS) are outcomes too: see VMSIM_OUT_*.
 */
#ifndef VMSIM_ERROR_H
#define VMSIM_ERROR_H

#include "vmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, message) */
#define VMSIM_ERRNO_MAP(XX)                                                              \
    XX(EINVAL, -1, "invalid argument")                                                   \
    XX(ENOMEM, -2, "host memory allocation failed")                                      \
    XX(EOOM, -3, "simulated memory exhausted: nothing left to reclaim")                  \
    XX(ENOSPC, -4, "swap device full")                                                   \
    XX(ENOENT, -5, "no such object")                                                     \
    XX(EEXIST, -6, "object already exists")                                              \
    XX(ESRCH, -7, "no such process, or the process is dead")                             \
    XX(EPARSE, -8, "malformed trace")                                                    \
    XX(EIO, -9, "I/O error")                                                             \
    XX(ERANGE, -10, "value out of the supported range")                                  \
    XX(ECORRUPT, -11, "an internal invariant does not hold")                             \
    XX(EPANIC, -12, "the simulated kernel panicked; the system is stopped")              \
    XX(EEXPECT, -13, "an expect event did not hold")                                     \
    XX(ENOTSUP, -14, "not supported by this build or configuration")

typedef enum vmsim_err {
    VMSIM_OK = 0,
#define XX(name, value, text) VMSIM_##name = (value),
    VMSIM_ERRNO_MAP(XX)
#undef XX
} vmsim_err;

/* A message for a VMSIM_E* code. Never NULL, even for unknown codes. */
VMSIM_API const char *vmsim_strerror(int err);

/* The code's name, e.g. "VMSIM_ENOSPC". Never NULL ("VMSIM_E?" if unknown). */
VMSIM_API const char *vmsim_err_name(int err);

/*
 * Simulated errno values: the numbers of Linux x86_64, so results do not
 * depend on the host's <errno.h>. XX(name, value)
 */
#define VMSIM_SYS_ERRNO_MAP(XX)                                                          \
    XX(EPERM, 1)                                                                         \
    XX(ENOENT, 2)                                                                        \
    XX(ESRCH, 3)                                                                         \
    XX(EIO, 5)                                                                           \
    XX(EBADF, 9)                                                                         \
    XX(EAGAIN, 11)                                                                       \
    XX(ENOMEM, 12)                                                                       \
    XX(EACCES, 13)                                                                       \
    XX(EFAULT, 14)                                                                       \
    XX(EBUSY, 16)                                                                        \
    XX(EEXIST, 17)                                                                       \
    XX(ENODEV, 19)                                                                       \
    XX(EINVAL, 22)                                                                       \
    XX(ENFILE, 23)                                                                       \
    XX(EFBIG, 27)                                                                        \
    XX(ENOSPC, 28)                                                                       \
    XX(EOVERFLOW, 75)

enum {
#define XX(name, value) VMSIM_SYS_##name = (value),
    VMSIM_SYS_ERRNO_MAP(XX)
#undef XX
};

/* "ENOMEM" for VMSIM_SYS_ENOMEM, "0" for 0; NULL for an unknown value. */
VMSIM_API const char *vmsim_sys_errno_name(int sys_errno);

/* The value for a name such as "ENOMEM" (or "0"); -1 if unknown. */
VMSIM_API int vmsim_sys_errno_value(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VMSIM_ERROR_H */
