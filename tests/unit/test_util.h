/* test_util.h -- the cmocka prelude and small fixtures shared by tests. */
#ifndef VMSIM_TEST_UTIL_H
#define VMSIM_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim/vmsim.h"

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

/* A machine with `memory` bytes of RAM (profile linux) and pid 1 spawned. */
vmsim_t *test_sim_new(uint64_t memory, vmsim_profile profile);
/* Assert vmsim_check() holds, then destroy. */
void test_sim_free(vmsim_t *sim);
/* Assert vmsim_check() holds. */
void test_check(vmsim_t *sim);
/* Map private anonymous memory in pid; assert success; return the address. */
vmsim_vaddr_t test_mmap_anon(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t hint,
                             uint64_t len, unsigned prot, unsigned extra_flags);
/* Touch [va, va+len) every 4 KiB with `kind`; assert each call returns 0. */
void test_touch(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t len,
                vmsim_access_kind kind);
/* Process figures; asserts the pid exists. */
vmsim_proc_info_t test_info(vmsim_t *sim, vmsim_pid_t pid);
uint64_t test_vmstat(vmsim_t *sim, const char *name);
uint64_t test_meminfo(vmsim_t *sim, const char *name);

#endif
