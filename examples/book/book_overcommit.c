/*
 * book_overcommit.c -- chapter 5, running out of virtual vs physical memory.
 *
 * Two different things can run out. Virtual memory: a process's address
 * space (128 TiB on x86_64 with 4-level tables) or the kernel's commit
 * limit; then mmap() fails with ENOMEM while RAM is still free, and the
 * program can handle the error. Physical memory: mmap() succeeded
 * (overcommit), but the pages touched exceed RAM + swap; no call can fail
 * at that point, so the OOM killer ends a process.
 */
#include "book.h"

static int try_mmap(vmsim_t *sim, vmsim_pid_t pid, uint64_t len)
{
    vmsim_mmap_req_t req = { .len = len, .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS };
    int ret = vmsim_mmap(sim, pid, &req, NULL);

    TRY(ret);
    return ret;
}

int main(void)
{
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t buf;
    vmsim_proc_info_t info;
    uint64_t n = 0;
    int ret;

    /* 1. virtual memory: 1 TiB mmaps, never touched, until the address
     *    space is full (vm.overcommit_memory = 1: no commit check at all) */
    vmsim_config_init(&cfg, VMSIM_PROFILE_LINUX);
    cfg.memory = 128 * MiB;
    cfg.overcommit_memory = 1;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "vhog", 0));
    while ((ret = try_mmap(sim, 1, 1ull << 40)) == 0)
        n++;
    info = book_info(sim, 1);
    printf("virtual exhaustion: %" PRIu64 " mmap()s of 1 TiB succeeded, then %s;\n"
           "  VSZ %" PRIu64 " GiB, RSS %" PRIu64 " kB, MemFree %" PRIu64 " kB of %" PRIu64
           "\n", n, vmsim_sys_errno_name(ret), info.vmsize >> 30, info.vmrss / 1024,
           book_meminfo(sim, "MemFree") / 1024, book_meminfo(sim, "MemTotal") / 1024);
    CHECK(ret == VMSIM_SYS_ENOMEM, "mmap fails with ENOMEM");
    CHECK(n >= 126 && n <= 127, "the 128 TiB address space holds 126-127 TiB of mappings");
    CHECK(info.alive && info.vmrss == 0, "the process lives and holds no memory");
    book_check(sim);
    vmsim_destroy(sim);

    /* 2. the commit limit: vm.overcommit_memory = 0 refuses one mapping
     *    bigger than RAM + swap; mode 2 keeps the total under CommitLimit */
    cfg.overcommit_memory = 0;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "big", 0));
    ret = try_mmap(sim, 1, 512 * MiB);
    printf("\novercommit_memory=0: mmap(512 MiB) on 128 MiB of RAM, no swap: %s\n",
           ret ? vmsim_sys_errno_name(ret) : "ok");
    CHECK(ret == VMSIM_SYS_ENOMEM, "the heuristic refuses more than RAM + swap at once");
    TRY(vmsim_sysctl_set(sim, "vm.overcommit_memory", "2"));
    printf("overcommit_memory=2: CommitLimit %" PRIu64 " kB (50%% of RAM + swap)\n",
           book_meminfo(sim, "CommitLimit") / 1024);
    ret = try_mmap(sim, 1, 48 * MiB);
    printf("  mmap(48 MiB): %s\n", ret ? vmsim_sys_errno_name(ret) : "ok");
    CHECK(ret == 0, "48 MiB fits under the 64 MiB limit");
    ret = try_mmap(sim, 1, 48 * MiB);
    printf("  mmap(48 MiB) again: %s (Committed_AS %" PRIu64 " kB)\n",
           ret ? vmsim_sys_errno_name(ret) : "ok", book_meminfo(sim, "Committed_AS") / 1024);
    CHECK(ret == VMSIM_SYS_ENOMEM, "96 MiB would pass CommitLimit");
    book_check(sim);
    vmsim_destroy(sim);

    /* 3. physical memory: mmap() 100 MiB twice (each passes the heuristic
     *    check), then write all of it into 128 MiB of RAM without swap */
    cfg.overcommit_memory = 0;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "phog", 0));
    buf = book_mmap_anon(sim, 1, 100 * MiB);
    book_touch(sim, 1, buf, 100 * MiB, VMSIM_WRITE);
    buf = book_mmap_anon(sim, 1, 100 * MiB);
    book_touch(sim, 1, buf, 100 * MiB, VMSIM_WRITE);
    info = book_info(sim, 1);
    printf("\nphysical exhaustion: both mmap()s succeeded; writing them: %s%s%s\n",
           info.alive ? "alive" : "killed by ", vmsim_signal_name(info.signal),
           info.oom_killed ? " (the OOM killer)" : "");
    printf("sim$ dmesg | tail -1\n%s\n", vmsim_kmsg(sim, vmsim_kmsg_seq(sim) - 1));
    CHECK(!info.alive && info.oom_killed, "the OOM killer ends the process");
    return book_done(sim);
}
