/*
 * registry.c -- the built-in replacement policies, by name.
 *
 * One static const table, no mutable state: two machines in one process
 * share nothing here. A user policy is not registered anywhere; it is
 * passed by pointer in vmsim_config_t.policy_ops.
 */
#include <string.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"

static const vmsim_policy_ops_t *const builtin[] = {
    &vmsim__policy_fifo,  &vmsim__policy_lru, &vmsim__policy_clock,
    &vmsim__policy_linux, &vmsim__policy_opt, &vmsim__policy_random,
};

#define NR_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* The built-in whose name is exactly the len bytes at name, or NULL. */
static const vmsim_policy_ops_t *lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < NR_BUILTIN; i++) {
        const char *n = builtin[i]->name;

        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return builtin[i];
    }
    return NULL;
}

const vmsim_policy_ops_t *vmsim_policy_builtin(const char *name)
{
    if (name == NULL)
        return NULL;
    return lookup(name, strlen(name));
}

vmsim_policy_peek_fn *vmsim__policy_peek_fn(const vmsim_policy_ops_t *ops)
{
    if (ops == &vmsim__policy_fifo)
        return vmsim__fifo_peek;
    if (ops == &vmsim__policy_lru)
        return vmsim__lru_peek;
    if (ops == &vmsim__policy_clock)
        return vmsim__clock_peek;
    return NULL;
}

vmsim_policy_prefetch_fn *vmsim__policy_prefetch_fn(const vmsim_policy_ops_t *ops)
{
    return ops == &vmsim__policy_lru ? vmsim__lru_prefetch : NULL;
}

int vmsim__policy_parse(const char *spec, const vmsim_policy_ops_t **ops,
                        const char **params)
{
    const vmsim_policy_ops_t *found;
    const char *colon;
    size_t len;

    if (spec == NULL || ops == NULL || params == NULL)
        return VMSIM_EINVAL;
    colon = strchr(spec, ':');
    len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    if (len == 0)
        return VMSIM_EINVAL;
    found = lookup(spec, len);
    if (found == NULL)
        return VMSIM_ENOENT;
    *ops = found;
    *params = colon != NULL && colon[1] != '\0' ? colon + 1 : NULL;
    return 0;
}
