/*
 * policy_internal.h -- the built-in replacement policies, as the core sees
 * them: one const ops object per policy (lib/policy/<name>.c) and the
 * parser of a "name" or "name:params" policy spec (registry.c).
 *
 * Never installed. The ops objects have hidden visibility (lib/ is built
 * with -fvisibility=hidden); users reach them through
 * vmsim_policy_builtin().
 */
#ifndef VMSIM_POLICY_INTERNAL_H
#define VMSIM_POLICY_INTERNAL_H

#include "vmsim/policy.h"

extern const vmsim_policy_ops_t vmsim__policy_fifo;
extern const vmsim_policy_ops_t vmsim__policy_lru;
extern const vmsim_policy_ops_t vmsim__policy_clock;
extern const vmsim_policy_ops_t vmsim__policy_linux;
extern const vmsim_policy_ops_t vmsim__policy_opt;
extern const vmsim_policy_ops_t vmsim__policy_random;

/*
 * Split a policy spec, "name" or "name:params", and find the built-in
 * policy of that name. On success returns 0, sets *ops, and sets *params
 * to the text after the first ':' (a pointer into spec, so it lives as
 * long as spec), or NULL when there is no ':' or nothing after it.
 * Returns VMSIM_EINVAL for a NULL or empty spec or an empty name,
 * VMSIM_ENOENT for an unknown name; *ops and *params are then untouched.
 */
int vmsim__policy_parse(const char *spec, const vmsim_policy_ops_t **ops,
                        const char **params);

/*
 * A peek function names the frames a built-in policy's next select_victim
 * will most likely examine, in order, in look[0 .. n) (n, at most 2, is
 * the return value; 0 when it has none): the head of fifo's and lru's
 * lists; clock's hand and the frame after it (in the steady state its
 * hand clears one accessed bit, a page's first since its fault, and takes
 * the next frame). In *later, the frame it would examine after those,
 * when it knows it without a host cache miss (else UINT64_MAX). A hint,
 * read without side effects: the core prefetches the entries of look[]'s
 * pages while other work goes on, so that the next eviction does not
 * wait for them (a victim's page-table entry is a host cache miss on a
 * large address space), and the frame of *later, whose entry it will
 * prefetch after the next eviction. Nothing may depend on it being right.
 * vmsim__policy_peek_fn() is NULL for policies without one (OPT, random,
 * linux, a user's).
 */
typedef unsigned vmsim_policy_peek_fn(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later);
vmsim_policy_peek_fn *vmsim__policy_peek_fn(const vmsim_policy_ops_t *ops);
unsigned vmsim__fifo_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later);
unsigned vmsim__lru_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later);
unsigned vmsim__clock_peek(const void *state, vmsim_pfn_t look[2], vmsim_pfn_t *later);

/*
 * A prefetch function starts loading what the built-in policy's touch of
 * frame pfn will write, some accesses before it comes (vmsim_access_batch
 * knows the frames of the accesses ahead from their page-table entries):
 * stage 0 its own entry, stage 1, later, the entries its touch will
 * relink (stage 1 reads the entry stage 0 loaded). A hint, read without
 * side effects, as a peek. NULL for policies without one (all but lru).
 */
typedef void vmsim_policy_prefetch_fn(const void *state, vmsim_pfn_t pfn, int stage);
vmsim_policy_prefetch_fn *vmsim__policy_prefetch_fn(const vmsim_policy_ops_t *ops);
void vmsim__lru_prefetch(const void *state, vmsim_pfn_t pfn, int stage);

#endif /* VMSIM_POLICY_INTERNAL_H */
