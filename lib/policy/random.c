/*
 * random.c -- evict a frame chosen uniformly at random among the admitted
 * frames that are not pinned, with the machine's seeded generator
 * (vmsim_policy_random), so a run is repeatable for a given seed.
 *
 * The admitted frames are kept in a dense array with a per-pfn index into
 * it; forget swap-removes (the last element fills the hole). admit and
 * forget are O(1). select_victim draws an index, r mod n; a pinned draw is
 * rejected and redrawn, up to MAX_DRAWS times, which keeps the choice
 * uniform among the unpinned frames. Should every draw land on a pinned
 * frame (most frames pinned), it counts the unpinned frames and takes the
 * k-th of them for a fresh k, which is uniform too, in O(n); if there are
 * none it returns VMSIM_EOOM. The bias of "64-bit r mod n" is below
 * n / 2^64 and is ignored.
 *
 * Which frame a given random number selects depends on the order of the
 * dense array, which depends on the order of admits and forgets: same
 * trace, same config, same seed, same victims.
 */
#include <stdlib.h>

#include "policy/policy_internal.h"
#include "vmsim/error.h"

#define MAX_DRAWS 16

struct rnd {
    uint32_t *frames; /* the admitted frames, densely packed */
    uint32_t *index;  /* per pfn: its position in frames[] */
    uint32_t nr;      /* admitted frames */
};

static void random_destroy(void *state)
{
    struct rnd *r = state;

    if (r == NULL)
        return;
    free(r->frames);
    free(r->index);
    free(r);
}

static int random_create(uint32_t nr_frames, const char *params, void **state)
{
    size_t n = nr_frames != 0 ? nr_frames : 1;
    struct rnd *r;

    if (params != NULL && params[0] != '\0')
        return VMSIM_EINVAL; /* the seed comes from the machine's config */
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return VMSIM_ENOMEM;
    r->frames = calloc(n, sizeof(*r->frames));
    r->index = calloc(n, sizeof(*r->index));
    if (r->frames == NULL || r->index == NULL) {
        random_destroy(r);
        return VMSIM_ENOMEM;
    }
    *state = r;
    return 0;
}

static void random_admit(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t pfn)
{
    struct rnd *r = state;

    (void)ctx;
    r->index[pfn] = r->nr;
    r->frames[r->nr++] = (uint32_t)pfn;
}

static void random_forget(void *state, vmsim_pfn_t pfn)
{
    struct rnd *r = state;
    uint32_t i = r->index[pfn], last = r->frames[--r->nr];

    r->frames[i] = last;
    r->index[last] = i;
}

static int random_select_victim(void *state, vmsim_policy_ctx_t *ctx, vmsim_pfn_t *victim)
{
    const struct rnd *r = state;
    uint32_t nr_unpinned = 0;
    uint64_t k;

    if (r->nr == 0)
        return VMSIM_EOOM;
    for (int draw = 0; draw < MAX_DRAWS; draw++) {
        uint32_t f = r->frames[vmsim_policy_random(ctx) % r->nr];

        if (!vmsim_frame_is_pinned(ctx, f)) {
            *victim = f;
            return 0;
        }
    }
    for (uint32_t i = 0; i < r->nr; i++)
        nr_unpinned += !vmsim_frame_is_pinned(ctx, r->frames[i]);
    if (nr_unpinned == 0)
        return VMSIM_EOOM;
    k = vmsim_policy_random(ctx) % nr_unpinned;
    for (uint32_t i = 0; i < r->nr; i++) {
        if (!vmsim_frame_is_pinned(ctx, r->frames[i]) && k-- == 0) {
            *victim = r->frames[i];
            return 0;
        }
    }
    return VMSIM_EOOM; /* not reached: pinning does not change during a call */
}

const vmsim_policy_ops_t vmsim__policy_random = {
    .abi = VMSIM_POLICY_ABI,
    .name = "random",
    .create = random_create,
    .destroy = random_destroy,
    .admit = random_admit,
    .touch = NULL, /* accesses do not matter */
    .forget = random_forget,
    .select_victim = random_select_victim,
};
