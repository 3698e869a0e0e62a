/*
 * refcheck.c -- refmodel.c behind refsim.py's command line, so the two can
 * be compared line for line (run_bench.sh does, on a 200 000-reference
 * prefix of each trace):
 *
 *   refcheck TRACE.txt POLICY SIZE[,SIZE...] [N_REQ]
 *
 * TRACE.txt holds one page number per line (tracegen's .txt); POLICY is
 * lru, fifo, opt or clock1 (= libvmsim's clock). Prints, per size,
 * "policy size n_req n_miss miss_ratio" exactly as refsim.py does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmodel.h"

int main(int argc, char **argv)
{
    uint64_t cap = UINT64_MAX, n = 0, alloc = 1 << 20;
    uint32_t *pages, max_page = 0;
    uint64_t *next;
    unsigned long long v;
    FILE *fp;
    int pol;
    char *sizes, *tok, *save = NULL;

    if (argc < 4 || argc > 5 || (pol = ref_policy_from_name(argv[2])) < 0) {
        fprintf(stderr, "usage: %s TRACE.txt lru|fifo|opt|clock1 SIZE[,SIZE...] [N_REQ]\n",
                argv[0]);
        return 2;
    }
    if (argc == 5)
        cap = strtoull(argv[4], NULL, 10);
    fp = fopen(argv[1], "r");
    pages = malloc(alloc * sizeof(*pages));
    if (fp == NULL || pages == NULL) {
        perror(argv[1]);
        return 1;
    }
    while (n < cap && fscanf(fp, "%llu", &v) == 1) {
        if (v > UINT32_MAX / 2) {
            fprintf(stderr, "%s: page %llu out of range\n", argv[1], v);
            return 1;
        }
        if (n == alloc) {
            uint32_t *p = realloc(pages, 2 * alloc * sizeof(*pages));

            if (p == NULL)
                return 1;
            pages = p;
            alloc *= 2;
        }
        pages[n++] = (uint32_t)v;
        if (v > max_page)
            max_page = (uint32_t)v;
    }
    fclose(fp);
    next = malloc((n ? n : 1) * sizeof(*next));
    if (next == NULL || ref_next_use(pages, n, max_page, next) != 0)
        return 1;
    sizes = argv[3];
    for (tok = strtok_r(sizes, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        uint64_t c = strtoull(tok, NULL, 10);
        uint64_t m = ref_misses((ref_policy)pol, pages, n, max_page, c, next);

        if (m == UINT64_MAX)
            return 1;
        printf("%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %.6f\n", argv[2], c, n, m,
               n ? (double)m / (double)n : 0.0);
    }
    free(next);
    free(pages);
    return 0;
}
