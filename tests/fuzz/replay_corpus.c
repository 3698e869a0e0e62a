/*
 * replay_corpus.c -- the fuzz corpus and every crash found so far as a
 * regression test (ctest fuzz.corpus), in any build, libFuzzer or not.
 *
 *   fuzz_replay_corpus DIR...
 *
 * Each DIR holds one subdirectory per target (tests/fuzz/corpus/json/,
 * tests/fuzz/crashes/vmtr/, ...); every regular file in it (subfolders
 * too) is fed to that target's function, as libFuzzer would feed it. A
 * target function aborts on a bug, and an ASan/UBSan build reports memory
 * errors and undefined behaviour, so reaching the end means no input
 * crashed. A subdirectory that names no target is an error (a typo would
 * silently test nothing); files and directories whose names start with '.'
 * are skipped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long nr_files;

static int run_file(const struct fuzz_target *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            uint8_t *nb;

            cap = cap ? 2 * cap : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    if (getenv("VMSIM_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "%s: %s (%zu bytes)\n", t->name, path, len);
    /* an exact-size copy: reading past the input shows under ASan */
    {
        uint8_t *exact = malloc(len ? len : 1);

        if (exact == NULL) {
            fprintf(stderr, "%s: out of memory\n", path);
            free(buf);
            return -1;
        }
        memcpy(exact, buf, len);
        t->fn(exact, len);
        free(exact);
    }
    free(buf);
    nr_files++;
    return 0;
}

/* Every regular file under dir, in name order (reproducible). */
static int run_tree(const struct fuzz_target *t, const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (n < 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        if (names[i]->d_name[0] == '.') {
            free(names[i]);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        free(names[i]);
        if (stat(path, &st) != 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= run_tree(t, path);
        } else if (S_ISREG(st.st_mode)) {
            rc |= run_file(t, path);
        }
    }
    free(names);
    return rc;
}

/* Each subdirectory of root is a target's. A root that does not exist
 * holds nothing (tests/fuzz/crashes/ before the first crash). */
static int run_root(const char *root)
{
    struct dirent **names;
    int n = scandir(root, &names, NULL, alphasort), rc = 0;

    if (n < 0) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "%s: %s\n", root, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        const struct fuzz_target *t = NULL;

        snprintf(path, sizeof(path), "%s/%s", root, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            for (const struct fuzz_target *k = fuzz_targets; k->name != NULL; k++) {
                if (strcmp(k->name, names[i]->d_name) == 0)
                    t = k;
            }
            if (t == NULL) {
                fprintf(stderr, "%s: no fuzz target of that name\n", path);
                rc = -1;
            } else {
                unsigned long before = nr_files;

                rc |= run_tree(t, path);
                printf("%s: %lu inputs\n", path, nr_files - before);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        rc |= run_root(argv[i]);
    printf("%lu inputs replayed%s\n", nr_files, rc != 0 ? ", with errors" : ", none crashed");
    return rc != 0 ? 1 : 0;
}
