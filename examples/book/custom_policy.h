/*
 * custom_policy.h -- a user page-replacement policy: second-chance FIFO,
 * named "mine". custom_policy.c is the whole policy; test_custom_policy.c
 * unit-tests it through the simulator; built as libmine.so it is a plug-in
 * for `vmsim replay --plugin ./libmine.so --policy mine`.
 */
#ifndef CUSTOM_POLICY_H
#define CUSTOM_POLICY_H

#include <vmsim/policy.h>

#if defined(__GNUC__)
#define MINE_EXPORT __attribute__((visibility("default")))
#else
#define MINE_EXPORT
#endif

/* The ops table: pass it as vmsim_config_t.policy_ops. */
extern const vmsim_policy_ops_t mine_policy;

/* The plug-in entry point a program finds with dlsym(). */
MINE_EXPORT const vmsim_policy_ops_t *vmsim_plugin_policy(void);

#endif /* CUSTOM_POLICY_H */
