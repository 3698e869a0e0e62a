/*
 * plugin_check.c -- load a policy plug-in and run it.
 *
 *   plugin_check ./libmine.so
 *
 * A plug-in is a shared object exporting
 *
 *   const vmsim_policy_ops_t *vmsim_plugin_policy(void);
 *
 * This program does what a tool does with one (the vmsim tool's --plugin
 * option): dlopen() it, find that function, and pass the table it returns
 * as vmsim_config_t.policy_ops. It then replays the textbook reference
 * string with 3 frames and checks the 14 faults test_custom_policy.c
 * derives by hand for "mine".
 */
#include <dlfcn.h>
#include <string.h>

#include "book.h"

typedef const vmsim_policy_ops_t *(*plugin_fn)(void);

int main(int argc, char **argv)
{
    static const int refs[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1 };
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_vaddr_t base;
    const vmsim_policy_ops_t *ops;
    vmsim_proc_info_t info;
    plugin_fn entry;
    void *handle, *sym;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    handle = dlopen(argv[1], RTLD_NOW);
    if (handle == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    sym = dlsym(handle, "vmsim_plugin_policy");
    if (sym == NULL) {
        fprintf(stderr, "%s: no vmsim_plugin_policy: %s\n", argv[1], dlerror());
        return 2;
    }
    memcpy(&entry, &sym, sizeof(entry)); /* object pointer to function pointer, as POSIX allows */
    ops = entry();
    printf("%s: policy \"%s\", abi %d\n", argv[1], ops->name, ops->abi);
    CHECK(ops->abi == VMSIM_POLICY_ABI && strcmp(ops->name, "mine") == 0, "the plug-in's table");

    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.policy_ops = ops;
    cfg.resident_limit = 3 * VMSIM_PAGE_SIZE;
    cfg.swap = 1 * MiB;
    sim = book_machine(&cfg);
    TRY(vmsim_spawn(sim, 1, "refs", 0));
    base = book_mmap_anon(sim, 1, 8 * VMSIM_PAGE_SIZE);
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        TRY(vmsim_access(sim, 1, base + (uint64_t)refs[i] * VMSIM_PAGE_SIZE, 1, VMSIM_WRITE,
                         NULL));
    info = book_info(sim, 1);
    printf("7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1 with 3 frames: %" PRIu64 " minor + %" PRIu64
           " major faults\n", info.minflt, info.majflt);
    CHECK(info.minflt == 6 && info.majflt == 8, "14 faults, as derived by hand");
    book_failures += book_done(sim); /* destroys the machine before the plug-in goes */
    dlclose(handle);
    return book_failures ? 1 : 0;
}
