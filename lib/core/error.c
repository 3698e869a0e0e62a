/*
 * error.c -- names and messages of VMSIM_E* codes and simulated errno
 * values, generated from the X-macros in error.h, and the version.
 */
#include <string.h>

#include "internal.h"

const char *vmsim_strerror(int err)
{
    switch (err) {
    case VMSIM_OK:
        return "success";
#define XX(name, value, text)                                                            \
    case VMSIM_##name:                                                                   \
        return text;
        VMSIM_ERRNO_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *vmsim_err_name(int err)
{
    switch (err) {
    case VMSIM_OK:
        return "VMSIM_OK";
#define XX(name, value, text)                                                            \
    case VMSIM_##name:                                                                   \
        return "VMSIM_" #name;
        VMSIM_ERRNO_MAP(XX)
#undef XX
    default:
        return "VMSIM_E?";
    }
}

const char *vmsim_sys_errno_name(int sys_errno)
{
    switch (sys_errno) {
    case 0:
        return "0";
#define XX(name, value)                                                                  \
    case value:                                                                          \
        return #name;
        VMSIM_SYS_ERRNO_MAP(XX)
#undef XX
    default:
        return NULL;
    }
}

int vmsim_sys_errno_value(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "0") == 0)
        return 0;
#define XX(n, value)                                                                     \
    if (strcmp(name, #n) == 0)                                                           \
        return value;
    VMSIM_SYS_ERRNO_MAP(XX)
#undef XX
    return -1;
}

unsigned vmsim_version(void)
{
    return VMSIM_VERSION_HEX;
}

const char *vmsim_version_string(void)
{
    return VMSIM_VERSION_STRING;
}
