#include "test_util.h"

vmsim_t *test_sim_new(uint64_t memory, vmsim_profile profile)
{
    vmsim_config_t cfg;
    vmsim_t *sim = NULL;

    vmsim_config_init(&cfg, profile);
    cfg.memory = memory;
    assert_int_equal(vmsim_create(&cfg, &sim), 0);
    assert_non_null(sim);
    assert_int_equal(vmsim_spawn(sim, 1, "init", 0), 0);
    return sim;
}

void test_check(vmsim_t *sim)
{
    char why[256];
    int rc = vmsim_check(sim, why, sizeof(why));

    if (rc != 0)
        fail_msg("vmsim_check: %s", why);
}

void test_sim_free(vmsim_t *sim)
{
    test_check(sim);
    vmsim_destroy(sim);
}

vmsim_vaddr_t test_mmap_anon(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t hint,
                             uint64_t len, unsigned prot, unsigned extra_flags)
{
    vmsim_mmap_req_t req = {
        .addr = hint,
        .len = len,
        .prot = prot,
        .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS | extra_flags,
    };
    vmsim_vaddr_t va = 0;

    assert_int_equal(vmsim_mmap(sim, pid, &req, &va), 0);
    return va;
}

void test_touch(vmsim_t *sim, vmsim_pid_t pid, vmsim_vaddr_t va, uint64_t len,
                vmsim_access_kind kind)
{
    for (uint64_t off = 0; off < len; off += 4096) {
        unsigned out;

        assert_int_equal(vmsim_access(sim, pid, va + off, 1, kind, &out), 0);
    }
}

vmsim_proc_info_t test_info(vmsim_t *sim, vmsim_pid_t pid)
{
    vmsim_proc_info_t info;

    assert_int_equal(vmsim_proc_info(sim, pid, &info), 0);
    return info;
}

uint64_t test_vmstat(vmsim_t *sim, const char *name)
{
    uint64_t v = 0;

    assert_int_equal(vmsim_vmstat_get(sim, name, &v), 0);
    return v;
}

uint64_t test_meminfo(vmsim_t *sim, const char *name)
{
    uint64_t v = 0;

    assert_int_equal(vmsim_meminfo_get(sim, name, &v), 0);
    return v;
}
