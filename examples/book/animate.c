/*
 * animate.c -- the event stream of a simulation, drawn in the terminal.
 *
 *   animate                      the built-in demo: a reference string
 *                                with 3 frames and FIFO replacement
 *   animate TRACE.json           any trace, replayed (vmsim_replay)
 *   animate ... --delay MS       wait MS milliseconds after each line
 *
 * A teaching tool gets every fault, copy-on-write, swap-in, swap-out,
 * eviction, OOM kill and signal through one callback,
 * vmsim_config_t.on_event (or vmsim_replay_options_t.on_event). This one
 * prints a line per event and a strip of the pages seen so far, one cell
 * each, in the order they first appeared:
 *
 *   #  in a frame of its own      0  mapped to the shared zero page
 *   s  in swap                    .  not in memory (evicted file page)
 *
 * The page the event is about is drawn in brackets. The callback must not
 * call back into the simulator, so the strip is built from the events
 * alone: a fault maps (pid, page) to a frame, and a swap-out or an
 * eviction names the frame, which finds the pages that mapped it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsim/vmsim.h>

#define MAX_PAGES 48

struct page {
    vmsim_pid_t pid;
    vmsim_vaddr_t va;
    vmsim_pfn_t pfn;
    char state; /* '#', '0', 's', '.' */
};

struct anim {
    struct page pages[MAX_PAGES];
    int nr_pages;
    struct page *recent;      /* the page that left frame recent_pfn last */
    vmsim_pfn_t recent_pfn;
    long delay_ms;
    uint64_t nr_events;
};

static const char *const event_names[] = {
#define XX(id, name) name,
    VMSIM_EVENT_MAP(XX)
#undef XX
};

static struct page *find_page(struct anim *a, vmsim_pid_t pid, vmsim_vaddr_t va, bool add)
{
    for (int i = 0; i < a->nr_pages; i++)
        if (a->pages[i].pid == pid && a->pages[i].va == va)
            return &a->pages[i];
    if (!add || a->nr_pages == MAX_PAGES)
        return NULL;
    a->pages[a->nr_pages] = (struct page){ pid, va, UINT64_MAX, '.' };
    printf("        page %c is pid %d's page at 0x%llx\n", 'A' + a->nr_pages % 26, pid,
           (unsigned long long)va);
    return &a->pages[a->nr_pages++];
}

/* The frame left memory: every resident page that mapped it goes to `to`.
 * Returns one of them, for the picture; an eviction that follows the
 * swap-out of the same frame gets the page the swap-out moved. */
static struct page *frame_gone(struct anim *a, vmsim_pfn_t pfn, char to)
{
    struct page *last = NULL;

    for (int i = 0; i < a->nr_pages; i++) {
        if (a->pages[i].state == '#' && a->pages[i].pfn == pfn) {
            a->pages[i].state = to;
            a->pages[i].pfn = UINT64_MAX;
            last = &a->pages[i];
        }
    }
    if (last != NULL) {
        a->recent = last;
        a->recent_pfn = pfn;
    } else if (a->recent != NULL && a->recent_pfn == pfn) {
        last = a->recent;
    }
    return last;
}

static void on_event(void *ctx, const vmsim_event_t *ev)
{
    struct anim *a = ctx;
    struct page *p = NULL;
    char frame[24] = "", page[24] = "-";

    switch (ev->type) {
    case VMSIM_EV_FAULT:
    case VMSIM_EV_COW:
    case VMSIM_EV_SWAP_IN:
        if (ev->pfn == UINT64_MAX)
            break;
        p = find_page(a, ev->pid, ev->va, true);
        if (p != NULL) {
            p->pfn = ev->pfn;
            p->state = strstr(ev->cause, "zero-page") == ev->cause ? '0' : '#';
        }
        break;
    case VMSIM_EV_SWAP_OUT:
        p = frame_gone(a, ev->pfn, 's');
        break;
    case VMSIM_EV_EVICT:
        p = frame_gone(a, ev->pfn, strcmp(ev->cause, "file") == 0 ? '.' : 's');
        break;
    case VMSIM_EV_EXIT:
        for (int i = 0; i < a->nr_pages; i++)
            if (a->pages[i].pid == ev->pid)
                a->pages[i].state = '.';
        break;
    default:
        break;
    }
    if (ev->pfn != UINT64_MAX)
        snprintf(frame, sizeof(frame), "%llu", (unsigned long long)ev->pfn);
    if (p != NULL)
        snprintf(page, sizeof(page), "%c", 'A' + (int)(p - a->pages) % 26);
    else if (ev->va != 0)
        snprintf(page, sizeof(page), "0x%llx", (unsigned long long)ev->va);
    printf("%5llu %-12s %3d %-14s %-6s %-13s |", (unsigned long long)ev->seq,
           (unsigned)ev->type < VMSIM_EV__COUNT ? event_names[ev->type] : "?", ev->pid, page,
           frame, ev->cause);
    for (int i = 0; i < a->nr_pages; i++) {
        const struct page *q = &a->pages[i];

        if (q == p)
            printf("[%c]", q->state);
        else
            printf(" %c ", q->state);
    }
    printf("|\n");
    a->nr_events++;
    if (a->delay_ms > 0) {
        struct timespec ts = { a->delay_ms / 1000, (a->delay_ms % 1000) * 1000000L };

        fflush(stdout);
        nanosleep(&ts, NULL);
    }
}

static void header(void)
{
    printf("  seq event        pid %-14s %-6s %-13s | pages: # own frame, 0 zero page, "
           "s swap, . out\n", "page", "frame", "cause");
}

/* The built-in demo: 1 2 3 4 1 2 5 1 2 3 4 5 with 3 frames under FIFO. */
static int demo(struct anim *a)
{
    static const int refs[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
    vmsim_config_t cfg;
    vmsim_t *sim;
    vmsim_mmap_req_t req = { .len = 8 * VMSIM_PAGE_SIZE,
                             .prot = VMSIM_PROT_READ | VMSIM_PROT_WRITE,
                             .flags = VMSIM_MAP_PRIVATE | VMSIM_MAP_ANONYMOUS };
    vmsim_vaddr_t base;
    vmsim_proc_info_t info;
    int err;

    vmsim_config_init(&cfg, VMSIM_PROFILE_TEXTBOOK);
    cfg.policy = "fifo";
    cfg.resident_limit = 3 * VMSIM_PAGE_SIZE;
    cfg.swap = 1 << 20;
    cfg.on_event = on_event;
    cfg.event_ctx = a;
    err = vmsim_create(&cfg, &sim);
    if (err < 0) {
        fprintf(stderr, "vmsim_create: %s\n", vmsim_strerror(err));
        return 2;
    }
    printf("reference string 1 2 3 4 1 2 5 1 2 3 4 5, 3 frames, FIFO (Belady's string)\n");
    header();
    if (vmsim_spawn(sim, 1, "demo", 0) < 0 || vmsim_mmap(sim, 1, &req, &base) != 0)
        return 2;
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        err = vmsim_access(sim, 1, base + (uint64_t)refs[i] * VMSIM_PAGE_SIZE, 1, VMSIM_WRITE,
                           NULL);
        if (err < 0) {
            fprintf(stderr, "vmsim_access: %s\n", vmsim_strerror(err));
            return 2;
        }
    }
    if (vmsim_proc_info(sim, 1, &info) < 0)
        return 2;
    printf("%llu faults (%llu minor, %llu major), %llu events\n",
           (unsigned long long)(info.minflt + info.majflt), (unsigned long long)info.minflt,
           (unsigned long long)info.majflt, (unsigned long long)a->nr_events);
    vmsim_destroy(sim);
    /* the demo is also a test: 9 faults (Belady), and the picture saw them */
    return info.minflt + info.majflt == 9 && a->nr_events >= 9 ? 0 : 1;
}

static int replay(struct anim *a, const char *path)
{
    vmsim_replay_options_t opt;
    vmsim_trace_error_t err;
    char line[1024];
    int status;

    vmsim_replay_options_init(&opt);
    opt.on_event = on_event;
    opt.event_ctx = a;
    header();
    status = vmsim_replay(path, &opt, NULL, NULL, &err);
    if (status != VMSIM_REPLAY_OK) {
        vmsim_trace_error_format(&err, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    printf("%llu events\n", (unsigned long long)a->nr_events);
    return status;
}

int main(int argc, char **argv)
{
    struct anim *a = calloc(1, sizeof(*a));
    const char *trace = NULL;
    int status;

    if (a == NULL)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc) {
            a->delay_ms = strtol(argv[++i], NULL, 10);
        } else if (argv[i][0] != '-' && trace == NULL) {
            trace = argv[i];
        } else {
            fprintf(stderr, "usage: %s [TRACE.json] [--delay MS]\n", argv[0]);
            free(a);
            return 2;
        }
    }
    status = trace != NULL ? replay(a, trace) : demo(a);
    free(a);
    return status;
}
