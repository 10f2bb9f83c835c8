/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy.h"
#include "planner.h"
#include "util.h"

/* ---- Names ---- */

static const char *const verdict_names[_PLAN_VERDICT_MAX] = {
        [VERDICT_OK] = "offline",
        [VERDICT_EVACUATING] = "evacuating",
        [VERDICT_OFFLINED] = "offlined",
        [VERDICT_OFFLINE_OTHER] = "offline-other",
        [VERDICT_GOING_OFFLINE] = "going-offline",
        [VERDICT_EXCLUDED] = "excluded",
        [VERDICT_NO_NODE] = "no-node",
        [VERDICT_SPANS_ZONES] = "spans-zones",
        [VERDICT_KERNEL_DMA_ZONE] = "kernel-dma-zone",
        [VERDICT_KERNEL_ZONE] = "kernel-zone",
        [VERDICT_OTHER_ZONE] = "unsupported-zone",
        [VERDICT_LOWEST_OF_NODE] = "lowest-of-node",
        [VERDICT_UNKNOWN_USAGE] = "unknown-usage",
        [VERDICT_UNMOVABLE_PAGES] = "unmovable-pages",
        [VERDICT_UNKNOWN_PAGES] = "unidentified-pages",
        [VERDICT_HUGETLB] = "hugetlb",
        [VERDICT_HOLES] = "holes",
        [VERDICT_BACKOFF] = "backoff",
        [VERDICT_PAUSED] = "paused",
        [VERDICT_PRESSURE] = "pressure",
        [VERDICT_QUIET] = "after-pressure",
        [VERDICT_NO_COUNTERS] = "counters-unreadable",
        [VERDICT_NODE_BUSY] = "node-busy",
        [VERDICT_NODE_FLOOR] = "node-floor",
        [VERDICT_RESERVE] = "reserve",
        [VERDICT_COMMIT] = "commit-headroom",
        [VERDICT_KERNEL_FLOOR] = "kernel-floor",
        [VERDICT_KERNEL_RATIO] = "kernel-ratio",
        [VERDICT_NO_DESTINATION] = "no-destination",
        [VERDICT_NO_DOMAIN] = "no-domain",
        [VERDICT_KERNEL_MEMORY] = "kernel-memory",
        [VERDICT_BREAK_EVEN] = "break-even",
        [VERDICT_BOUND] = "bound-to-node",
        [VERDICT_CHECKING] = "checking-bindings",
};

const char *plan_verdict_to_string(PlanVerdict v)
{
        if (v < 0 || v >= _PLAN_VERDICT_MAX)
                return NULL;
        return verdict_names[v];
}

const char *plan_verdict_word(PlanVerdict v, const MemBlock *b)
{
        if (v == VERDICT_OK && b && b->usage.movable > 0)
                return "evacuate";
        return plan_verdict_to_string(v);
}

static const char *const action_kind_names[_PLAN_ACTION_KIND_MAX] = {
        [PLAN_ABORT] = "abort",
        [PLAN_ONLINE] = "online",
        [PLAN_MIGRATE] = "migrate",
        [PLAN_OFFLINE] = "offline",
        [PLAN_EJECT] = "eject",
};

const char *plan_action_kind_to_string(PlanActionKind k)
{
        if (k < 0 || k >= _PLAN_ACTION_KIND_MAX)
                return NULL;
        return action_kind_names[k];
}

static const char *const reason_names[_PLAN_REASON_MAX] = {
        [PLAN_REASON_HANDSHAKE] = "handshake",
        [PLAN_REASON_SWEEP] = "sweep",
        [PLAN_REASON_STEP] = "step",
        [PLAN_REASON_PRESSURE] = "pressure",
        [PLAN_REASON_NODE] = "node-floor",
        [PLAN_REASON_REFUSED] = "refused",
        [PLAN_REASON_EXIT] = "exit",
        [PLAN_REASON_HOT_ADD] = "hot-add",
        [PLAN_REASON_DOMAIN] = "domain",
        [PLAN_REASON_PARTIAL] = "partial-domain",
        [PLAN_REASON_EJECT] = "empty-device",
};

const char *plan_reason_to_string(PlanReason r)
{
        if (r < 0 || r >= _PLAN_REASON_MAX)
                return NULL;
        return reason_names[r];
}

const char *plan_zone_to_state_word(PlanZone z)
{
        switch (z) {
        case PLAN_ZONE_MOVABLE:
                return "online_movable";
        case PLAN_ZONE_KERNEL:
                return "online_kernel";
        default:
                return NULL;
        }
}

const char *pressure_to_string(unsigned flags, char *buf, size_t size)
{
        static const char *const names[] = { "reserve", "psi", "commit", "kernel", "unreadable" };
        size_t used = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if ((flags & _PRESSURE_ALL) == 0) {
                snprintf(buf, size, "none");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int n;

                if (!(flags & (1u << i)))
                        continue;
                n = snprintf(buf + used, size - used, "%s%s", used ? "+" : "", names[i]);
                if (n < 0 || (size_t)n >= size - used)
                        break;
                used += (size_t)n;
        }
        return buf;
}

/* ---- State ---- */

int planner_state_init(PlannerState *st, size_t n_nodes)
{
        int r;

        *st = (PlannerState){ .target_block = UINT32_MAX };
        r = handshake_init(&st->handshake, 0);
        if (r < 0)
                return r;
        return planner_state_set_nodes(st, n_nodes);
}

int planner_state_set_nodes(PlannerState *st, size_t n_nodes)
{
        uint64_t *a;
        int r;

        if (n_nodes == st->n_nodes)
                return 0;
        if (n_nodes > SIZE_MAX / sizeof(uint64_t))
                return -ENOMEM;
        bool *o;

        a = realloc(st->node_short_usec, (n_nodes ? n_nodes : 1) * sizeof(uint64_t));
        if (!a)
                return -ENOMEM;
        st->node_short_usec = a;
        o = realloc(st->node_onlined, (n_nodes ? n_nodes : 1) * sizeof(bool));
        if (!o)
                return -ENOMEM;
        st->node_onlined = o;
        r = handshake_set_nodes(&st->handshake, n_nodes);
        if (r < 0)
                return r; /* the larger arrays are harmless; n_nodes stays */
        for (size_t i = st->n_nodes; i < n_nodes; i++) {
                a[i] = 0;
                o[i] = false;
        }
        st->n_nodes = n_nodes;
        return 0;
}

void planner_state_free(PlannerState *st)
{
        if (!st)
                return;
        handshake_free(&st->handshake);
        free(st->node_short_usec);
        free(st->node_onlined);
        *st = (PlannerState){ .target_block = UINT32_MAX };
}

/* ---- What one call knows ---- */

typedef struct Ctx {
        const PlanInput *in;
        const Config *c;
        uint64_t ppb;
        uint64_t reserve;
        uint64_t available;
        uint64_t headroom;         /* commit headroom, UINT64_MAX: no limit */
        uint64_t commit_per_block; /* what an offline block takes from the headroom */
        uint64_t kernel_pages;     /* online pages in kernel zones */
        uint64_t movable_pages;    /* online pages in ZONE_MOVABLE */
        uint64_t kernel_reserve;
        uint64_t kernel_free;      /* PLAN_FREE_UNKNOWN: not read */
        uint64_t node_floor;
        uint64_t dest_share;       /* a destination keeps this share of the reserve */
        size_t n_nodes;            /* min(in->n_nodes, PLAN_NODES_MAX) */
        size_t n_mem_nodes;
        unsigned pressure;
        bool quiet;
        bool short_node[PLAN_NODES_MAX];
        bool short_any; /* a node below its floor with blocks to give back */
        uint64_t node_free[PLAN_NODES_MAX];
        uint32_t lowest[PLAN_NODES_MAX];
        uint32_t node_online[PLAN_NODES_MAX]; /* blocks online, by node */
        const DomainTable *dt;  /* NULL: blocks alone */
        bool by_domain;         /* domains, and not Domains=block */
        int emptying_node;      /* the target empties this node (none bound to it): -1 */
} Ctx;

static bool evac_active(const PlanInput *in)
{
        return in->evac.phase != PLAN_EVAC_NONE;
}

/* The worker may hold the hotplug lock: an online now would block. */
static bool evac_holds_lock(const PlanInput *in)
{
        return in->evac.phase == PLAN_EVAC_OFFLINING || in->evac.phase == PLAN_EVAC_ENDING;
}

static bool node_ok(const Ctx *x, int node)
{
        return node >= 0 && (size_t)node < x->n_nodes;
}

static const MemBlock *find_block(const PlanInput *in, uint32_t index)
{
        size_t lo = 0, hi = in->n_blocks;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (in->blocks[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < in->n_blocks && in->blocks[lo].index == index)
                return &in->blocks[lo];
        return NULL;
}

static bool block_is_online(const MemBlock *b)
{
        return b->state == BLOCK_ONLINE || b->state == BLOCK_GOING_OFFLINE;
}

#define KERNEL_ZONE_BITS (ZONE_DMA_BIT | ZONE_DMA32_BIT | ZONE_NORMAL_BIT)

PlanZone planner_online_zone(const Config *c, const MemBlock *b, bool anyone, bool *ret_fallback)
{
        bool movable = b->zones & ZONE_MOVABLE_BIT, kernel = b->zones & KERNEL_ZONE_BITS;
        PlanZone want;

        *ret_fallback = false;
        if (b->state != BLOCK_OFFLINE)
                return PLAN_ZONE_NONE;
        /* Excluded blocks are left alone, unless mempowerd took them offline
         * itself: then nobody else would give them back. */
        if (!b->track.owned)
                return (anyone || c->online_others) && movable &&
                                       !indexset_contains(&c->exclude_blocks, b->index)
                               ? PLAN_ZONE_MOVABLE
                               : PLAN_ZONE_NONE;
        want = b->track.origin_zones & KERNEL_ZONE_BITS ? PLAN_ZONE_KERNEL : PLAN_ZONE_MOVABLE;
        if (want == PLAN_ZONE_MOVABLE ? movable : kernel)
                return want;
        /* Not the zone it came from: memory back in the kernel's hands wins
         * over staying offline. */
        *ret_fallback = true;
        if (movable)
                return PLAN_ZONE_MOVABLE;
        if (kernel)
                return PLAN_ZONE_KERNEL;
        return PLAN_ZONE_NONE;
}

static PlanZone online_zone(const Ctx *x, const MemBlock *b, bool *ret_fallback)
{
        return planner_online_zone(x->c, b, false, ret_fallback);
}

static bool online_candidate(const Ctx *x, const MemBlock *b)
{
        bool fallback;

        return online_zone(x, b, &fallback) != PLAN_ZONE_NONE;
}

static void commit_setup(Ctx *x)
{
        const PlanMemory *m = &x->in->mem;

        switch (m->overcommit) {
        case OVERCOMMIT_ALWAYS:
                x->headroom = UINT64_MAX;
                x->commit_per_block = 0;
                break;
        case OVERCOMMIT_NEVER:
                x->headroom = u64_sub_sat(m->commit_limit_pages, m->committed_pages);
                x->commit_per_block =
                        m->overcommit_kbytes ? 0 : x->ppb * (uint64_t)m->overcommit_ratio / 100;
                break;
        default:
                x->headroom =
                        u64_sub_sat(u64_add_sat(m->total_pages, m->swap_total_pages), m->committed_pages);
                x->commit_per_block = x->ppb;
                break;
        }
}

/* ---- Domains: what ctx_init needs ---- */

static const Domain *domain_get(const Ctx *x, uint32_t id)
{
        return x->dt && id < x->dt->n ? &x->dt->domains[id] : NULL;
}

/* Every block online on d's node is d's. */
static bool domain_whole_node(const Ctx *x, const Domain *d, const DomainStat *s)
{
        return d->node >= 0 && (size_t)d->node < x->n_nodes && s->online > 0 &&
               s->online == x->node_online[d->node];
}

/* The memory policies were read lately, and none binds to node alone. */
static bool bindings_fresh(const Ctx *x, int node)
{
        const PlanNode *n = &x->in->nodes[node];

        return n->bindings_usec && n->bindings_usec <= x->in->now_usec &&
               x->in->now_usec - n->bindings_usec <= PLAN_BINDINGS_FRESH_USEC;
}

static int emptying_node(const Ctx *x, const PlannerState *st)
{
        uint32_t id;
        const Domain *d;

        if (!x->by_domain || st->target_block == UINT32_MAX)
                return -1;
        id = domain_of(x->dt, st->target_block);
        d = domain_get(x, id);
        if (!d || !domain_whole_node(x, d, &x->in->domain_stats[id]))
                return -1;
        /* no floor only on a fresh reading: a process bound there since
         * would run short unseen (the target asks for readings) */
        return bindings_fresh(x, d->node) && !x->in->nodes[d->node].bound ? d->node : -1;
}

static int ctx_init(Ctx *x, const PlanInput *in, const PlannerState *st)
{
        const Config *c = in->config;
        uint64_t n_share;

        if (!c || in->page_size == 0 || in->kind < 0 || in->kind >= _PLAN_KIND_MAX ||
            (in->n_blocks > 0 && !in->blocks) || (in->n_nodes > 0 && !in->nodes) ||
            (in->domains && in->domains->n > 0 && !in->domain_stats))
                return -EINVAL;

        memset(x, 0, sizeof(*x));
        x->in = in;
        x->c = c;
        x->ppb = in->pages_per_block;
        x->n_nodes = in->n_nodes < PLAN_NODES_MAX ? in->n_nodes : PLAN_NODES_MAX;
        x->node_floor = c->node_reserve_mib * 1024 * 1024 / in->page_size;
        x->dt = in->domains;
        x->by_domain = in->domains && in->domains->mode != DOMAINS_BLOCK;
        x->emptying_node = -1;

        for (size_t i = 0; i < PLAN_NODES_MAX; i++) {
                x->lowest[i] = UINT32_MAX;
                x->node_free[i] = PLAN_FREE_UNKNOWN;
        }
        for (size_t i = 0; i < x->n_nodes; i++) {
                if (in->nodes[i].present)
                        x->node_free[i] = in->nodes[i].free_pages;
                if (in->nodes[i].has_memory)
                        x->n_mem_nodes++;
        }
        for (size_t i = 0; i < in->n_blocks; i++) {
                const MemBlock *b = &in->blocks[i];

                if (node_ok(x, b->node) && b->index < x->lowest[b->node])
                        x->lowest[b->node] = b->index;
                if (!block_is_online(b))
                        continue;
                if (node_ok(x, b->node))
                        x->node_online[b->node]++;
                if (b->zones == ZONE_MOVABLE_BIT)
                        x->movable_pages += x->ppb;
                else
                        x->kernel_pages += x->ppb;
        }

        x->available = in->mem.available_pages;
        x->reserve = config_reserve_pages(c, in->mem.total_pages * in->page_size / 1024,
                                          in->page_size);
        x->kernel_reserve =
                config_reserve_pages(c, x->kernel_pages * in->page_size / 1024, in->page_size);
        x->kernel_free = in->mem.zones_valid ? in->mem.kernel_free_pages : PLAN_FREE_UNKNOWN;
        commit_setup(x);
        n_share = x->n_mem_nodes ? x->n_mem_nodes : 1;
        x->dest_share = x->reserve / n_share + (x->reserve % n_share != 0);

        /* Pressure */
        if (!in->mem.valid) {
                x->pressure |= PRESSURE_UNREADABLE;
        } else {
                if (x->available < x->reserve)
                        x->pressure |= PRESSURE_RESERVE;
                if (in->kind == PLAN_LOOK && in->mem.psi_valid && c->psi_some_avg10 > 0 &&
                    in->mem.psi_some_avg10 > c->psi_some_avg10)
                        x->pressure |= PRESSURE_PSI;
                if (x->headroom != UINT64_MAX && x->headroom < x->reserve)
                        x->pressure |= PRESSURE_COMMIT;
                /* Kernel zones short: user pages drain them when movable
                 * memory runs out, and GFP_KERNEL allocations cannot use
                 * ZONE_MOVABLE, whatever MemAvailable says. */
                if (x->kernel_free != PLAN_FREE_UNKNOWN && x->kernel_free < x->kernel_reserve)
                        x->pressure |= PRESSURE_KERNEL;
                /* hysteresis: what started giving back lasts to its mark plus a block */
                if ((st->pressure_latched & PRESSURE_RESERVE) &&
                    x->available < u64_add_sat(x->reserve, x->ppb))
                        x->pressure |= PRESSURE_RESERVE;
                if ((st->pressure_latched & PRESSURE_COMMIT) && x->headroom != UINT64_MAX &&
                    x->headroom < u64_add_sat(x->reserve, x->commit_per_block))
                        x->pressure |= PRESSURE_COMMIT;
                if ((st->pressure_latched & PRESSURE_KERNEL) && x->kernel_free != PLAN_FREE_UNKNOWN &&
                    x->kernel_free < u64_add_sat(x->kernel_reserve, x->ppb))
                        x->pressure |= PRESSURE_KERNEL;
        }
        {
                uint64_t last = u64_max(st->pressure_usec, in->last_online_usec);

                x->quiet = last && u64_add_sat(last, c->backoff_initial_usec) > in->now_usec;
        }

        x->emptying_node = emptying_node(x, st);

        /* Nodes below their floor, with blocks to give back. A node with
         * nothing online, or one the target domain empties, has no floor:
         * no process binds memory to it alone (the planner reads their
         * policies before each of its blocks goes). */
        if (x->node_floor > 0)
                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];
                        int n = b->node;

                        if (!node_ok(x, n) || x->short_node[n] ||
                            x->node_free[n] == PLAN_FREE_UNKNOWN || x->node_free[n] >= x->node_floor)
                                continue;
                        if (x->node_online[n] == 0 || n == x->emptying_node)
                                continue;
                        if (online_candidate(x, b))
                                x->short_node[n] = x->short_any = true;
                }
        return 0;
}

/* ---- Verdicts ---- */

/* Everything about b that does not depend on what it holds. */
static PlanVerdict verdict_static(const Ctx *x, const MemBlock *b)
{
        if (b->state == BLOCK_GOING_OFFLINE)
                return VERDICT_GOING_OFFLINE;
        if (b->state != BLOCK_ONLINE)
                return b->track.owned ? VERDICT_OFFLINED : VERDICT_OFFLINE_OTHER;
        if (indexset_contains(&x->c->exclude_blocks, b->index))
                return VERDICT_EXCLUDED;
        if (!node_ok(x, b->node))
                return VERDICT_NO_NODE;
        if (b->zones == 0)
                return VERDICT_SPANS_ZONES;
        if (b->zones & (ZONE_DMA_BIT | ZONE_DMA32_BIT))
                return VERDICT_KERNEL_DMA_ZONE;
        if (b->zones == ZONE_NORMAL_BIT && !x->c->offline_kernel_zones)
                return VERDICT_KERNEL_ZONE;
        if (b->zones != ZONE_NORMAL_BIT && b->zones != ZONE_MOVABLE_BIT)
                return VERDICT_OTHER_ZONE;
        if (!x->by_domain && x->lowest[b->node] == b->index)
                return VERDICT_LOWEST_OF_NODE;
        if (x->by_domain && domain_of(x->dt, b->index) == DOMAIN_NONE)
                return VERDICT_NO_DOMAIN;
        if (!b->usage_valid)
                return VERDICT_UNKNOWN_USAGE;
        return VERDICT_OK;
}

/* verdict_static, then what the block holds (back-off only when starting). */
static PlanVerdict verdict_block(const Ctx *x, const MemBlock *b, bool starting)
{
        PlanVerdict v = verdict_static(x, b);

        if (v != VERDICT_OK)
                return v;
        if (b->usage.unmovable > 0)
                return VERDICT_UNMOVABLE_PAGES;
        if (b->usage.unknown > 0)
                return VERDICT_UNKNOWN_PAGES;
        if (b->usage.hugetlb > 0)
                return VERDICT_HUGETLB;
        if (b->usage.nopage > 0)
                return VERDICT_HOLES;
        if (starting && !backoff_ready(&b->track.backoff, x->in->now_usec))
                return VERDICT_BACKOFF;
        return VERDICT_OK;
}

/* Nothing goes offline now, whatever the block. */
static PlanVerdict verdict_machine(const Ctx *x)
{
        if (x->pressure & PRESSURE_UNREADABLE)
                return VERDICT_NO_COUNTERS;
        if (x->pressure || x->short_any)
                return VERDICT_PRESSURE;
        if (x->in->paused)
                return VERDICT_PAUSED;
        if (x->quiet)
                return VERDICT_QUIET;
        return VERDICT_OK;
}

static bool node_busy(const Ctx *x, const PlannerState *st, int node)
{
        const PlanNode *n;

        if (!node_ok(x, node))
                return false;
        if ((size_t)node < st->n_nodes && st->node_short_usec[node] &&
            st->node_short_usec[node] + x->c->backoff_initial_usec > x->in->now_usec)
                return true;
        /* Free memory falling since the previous tick: something allocates
         * there (perhaps bound to the node) and would lose the block it is
         * about to need. */
        n = &x->in->nodes[node];
        return n->present && n->prev_free_pages != PLAN_FREE_UNKNOWN &&
               n->free_pages + PLAN_NODE_FALL_PAGES < n->prev_free_pages;
}

static bool dest_allowed(const Ctx *x, size_t node, int source)
{
        if ((int)node == source || !x->in->nodes[node].has_memory)
                return false;
        return indexset_is_empty(&x->c->destination_nodes) ||
               indexset_contains(&x->c->destination_nodes, (uint32_t)node);
}

/* What a destination keeps free: its share of the reserve, and its floor. */
static uint64_t dest_keep(const Ctx *x)
{
        return u64_max(x->dest_share, x->node_floor);
}

/* The lowest allowed node that takes pages and keeps dest_keep(), or
 * -ENOSPC. */
static int pick_destination(const Ctx *x, int source, uint64_t pages)
{
        for (size_t node = 0; node < x->n_nodes; node++) {
                uint64_t free = x->node_free[node];

                if (!dest_allowed(x, node, source) || free == PLAN_FREE_UNKNOWN)
                        continue;
                if (free >= u64_add_sat(pages, dest_keep(x)))
                        return (int)node;
        }
        return -ENOSPC;
}

/* What all allowed destinations together can take above what they keep. */
static uint64_t destinations_room(const Ctx *x, int source)
{
        uint64_t room = 0;

        for (size_t node = 0; node < x->n_nodes; node++)
                if (dest_allowed(x, node, source) && x->node_free[node] != PLAN_FREE_UNKNOWN)
                        room = u64_add_sat(room, u64_sub_sat(x->node_free[node], dest_keep(x)));
        return room;
}

/* Another node that has memory: the kernel's offline migration goes there. */
static bool other_memory_nodes(const Ctx *x, int node)
{
        bool own = node_ok(x, node) && x->in->nodes[node].has_memory;

        return x->n_mem_nodes > (own ? 1 : 0);
}

/* What going offline takes from the machine. */
typedef struct Take {
        int node;
        uint64_t free;          /* free pages: they leave the node */
        uint64_t cost;          /* pages MemAvailable loses */
        uint64_t blocks;        /* blocks going offline (CommitLimit) */
        uint64_t kernel_blocks; /* of them in kernel zones */
        uint64_t movable;       /* pages still to move */
        bool starting;          /* one destination node must take every movable page */
        bool whole_node;        /* the node's last online memory: no floor applies */
} Take;

/* Can the machine do without what t takes? starting: an evacuation would
 * start (one destination node must take every movable page: *ret_dest);
 * otherwise the offline after the migration, or a domain's remaining
 * blocks (the destinations together must). */
static PlanVerdict verdict_take(const Ctx *x, const Take *t, int *ret_dest)
{
        uint64_t nf = node_ok(x, t->node) ? x->node_free[t->node] : PLAN_FREE_UNKNOWN;

        *ret_dest = -1;
        if (!t->whole_node) {
                if (nf == PLAN_FREE_UNKNOWN && x->node_floor > 0)
                        return VERDICT_NO_COUNTERS; /* its node's free memory could not be read */
                if (nf != PLAN_FREE_UNKNOWN && nf < u64_add_sat(x->node_floor, t->free))
                        return VERDICT_NODE_FLOOR;
        }
        if (x->available <= u64_add_sat(x->reserve, t->cost))
                return VERDICT_RESERVE;
        if (x->headroom != UINT64_MAX &&
            x->headroom <= u64_add_sat(x->reserve, t->blocks * x->commit_per_block))
                return VERDICT_COMMIT;
        if (t->kernel_blocks > 0) {
                /* Their pages can only drain into kernel zones. */
                if (x->kernel_free == PLAN_FREE_UNKNOWN ||
                    x->kernel_free < u64_add_sat(x->kernel_reserve, u64_add_sat(t->free, t->movable)))
                        return VERDICT_KERNEL_FLOOR;
                if (x->kernel_pages <= t->kernel_blocks * x->ppb ||
                    x->movable_pages / PLAN_MOVABLE_PER_KERNEL >
                            x->kernel_pages - t->kernel_blocks * x->ppb)
                        return VERDICT_KERNEL_RATIO;
        }
        if (t->movable > 0 && other_memory_nodes(x, t->node)) {
                if (t->starting) {
                        int d = pick_destination(x, t->node, t->movable);

                        if (d < 0)
                                return VERDICT_NO_DESTINATION;
                        *ret_dest = d;
                } else if (destinations_room(x, t->node) < t->movable)
                        return VERDICT_NO_DESTINATION;
        }
        return VERDICT_OK;
}

/* Can the machine do without b? free: its free pages (they leave its
 * node); cost: pages MemAvailable loses with it (a whole block when
 * starting, less what moved already when continuing); movable_left: its
 * pages still to move. whole_node: it is (part of) the last online memory
 * of its node. */
static PlanVerdict verdict_resources(const Ctx *x, const MemBlock *b, uint64_t free,
                                     uint64_t cost, uint64_t movable_left, bool starting,
                                     bool whole_node, int *ret_dest)
{
        Take t = {
                .node = b->node,
                .free = free,
                .cost = cost,
                .blocks = 1,
                .kernel_blocks = (b->zones & KERNEL_ZONE_BITS) ? 1 : 0,
                .movable = movable_left,
                .starting = starting,
                .whole_node = whole_node,
        };

        return verdict_take(x, &t, ret_dest);
}

static uint64_t expected_usec(const Ctx *x, uint32_t id)
{
        const uint64_t *e = x->in->domain_expected_usec;

        if (e && x->dt && id < x->dt->n && e[id] > 0)
                return e[id];
        return x->c->expected_offline_usec;
}

/* Break-even: what n_blocks of kind save offline in their expected time
 * there repays moving movable pages. */
static PlanVerdict verdict_break_even(const Ctx *x, DomainKind kind, uint32_t id,
                                      uint64_t n_blocks, uint64_t movable)
{
        if (!x->c->break_even)
                return VERDICT_OK;
        return energy_pays(x->c, kind, n_blocks * x->ppb * x->in->page_size,
                           movable * x->in->page_size, expected_usec(x, id))
                       ? VERDICT_OK
                       : VERDICT_BREAK_EVEN;
}

/* May an evacuation of b start now? */
static PlanVerdict verdict_start(const Ctx *x, const PlannerState *st, const MemBlock *b,
                                 int *ret_dest)
{
        PlanVerdict v = verdict_block(x, b, true);

        *ret_dest = -1;
        if (v != VERDICT_OK)
                return v;
        if (node_busy(x, st, b->node))
                return VERDICT_NODE_BUSY;
        v = verdict_resources(x, b, b->usage.free, x->ppb, b->usage.movable, true, false, ret_dest);
        if (v != VERDICT_OK)
                return v;
        return verdict_break_even(x, DOMAIN_BLOCK, x->dt ? domain_of(x->dt, b->index) : DOMAIN_NONE,
                                  1, b->usage.movable);
}

/* ---- Domains ---- */

/* A domain as the planner looks at it. */
typedef struct DomainCheck {
        uint32_t id;
        const Domain *d;
        const DomainStat *s;
        uint64_t kernel_blocks; /* online blocks in kernel zones (OfflineKernelZones=yes) */
        bool whole_node;        /* all that is online of its node */
} DomainCheck;

static void domain_check_init(const Ctx *x, uint32_t id, DomainCheck *ret)
{
        *ret = (DomainCheck){
                .id = id,
                .d = &x->dt->domains[id],
                .s = &x->in->domain_stats[id],
        };
        ret->whole_node = domain_whole_node(x, ret->d, ret->s);
}

static bool zone_verdict(PlanVerdict v)
{
        return v == VERDICT_SPANS_ZONES || v == VERDICT_KERNEL_DMA_ZONE ||
               v == VERDICT_KERNEL_ZONE || v == VERDICT_OTHER_ZONE;
}

/* The domain's online blocks, one after the other: *i is the position in
 * its members to start from. NULL at the end. */
static const MemBlock *domain_next_online(const Ctx *x, const Domain *d, size_t *i)
{
        while (*i < d->n_blocks) {
                const MemBlock *b = find_block(x->in, x->dt->members[d->first + (*i)++]);

                if (b && block_is_online(b))
                        return b;
        }
        return NULL;
}

/* Everything about the domain that does not depend on what its blocks hold:
 * a block in a zone that may not go offline means the domain holds the
 * kernel's memory. */
static PlanVerdict domain_verdict_static(const Ctx *x, DomainCheck *dc)
{
        const MemBlock *b;
        size_t i = 0;

        if (dc->s->online == 0)
                return dc->s->owned ? VERDICT_OFFLINED : VERDICT_OFFLINE_OTHER;
        if (dc->d->node < 0)
                return VERDICT_NO_NODE;
        dc->kernel_blocks = 0;
        while ((b = domain_next_online(x, dc->d, &i))) {
                PlanVerdict v = verdict_static(x, b);

                if (zone_verdict(v))
                        return VERDICT_KERNEL_MEMORY;
                if (v != VERDICT_OK)
                        return v;
                if (b->zones & KERNEL_ZONE_BITS)
                        dc->kernel_blocks++;
        }
        return VERDICT_OK;
}

/* Its node is emptied: are the memory policies read, and free of it? */
static PlanVerdict verdict_bindings(const Ctx *x, int node, Plan *p)
{
        if (!bindings_fresh(x, node)) {
                if (p && p->check_bindings_node < 0)
                        p->check_bindings_node = node;
                return VERDICT_CHECKING;
        }
        return x->in->nodes[node].bound ? VERDICT_BOUND : VERDICT_OK;
}

/* What the domain's online blocks hold (back-off only when starting):
 * domain_verdict_static, then verdict_block of each. */
static PlanVerdict domain_verdict_content(const Ctx *x, DomainCheck *dc, bool starting)
{
        const MemBlock *b;
        PlanVerdict v = domain_verdict_static(x, dc);
        size_t i = 0;

        if (v != VERDICT_OK)
                return v;
        while ((b = domain_next_online(x, dc->d, &i))) {
                if (evac_active(x->in) && b->index == x->in->evac.index)
                        continue; /* not counted while in flight */
                v = verdict_block(x, b, starting);
                if (v != VERDICT_OK)
                        return v;
        }
        return VERDICT_OK;
}

/* May the domain be emptied now, all its online blocks at once? A target
 * being continued is not weighed against break-even again: what is offline
 * of it saves nothing until the rest follows. p (may be NULL) is asked to
 * read the memory policies when that is what it waits for. */
static PlanVerdict domain_verdict_start(const Ctx *x, const PlannerState *st, DomainCheck *dc,
                                        bool continuing, Plan *p)
{
        PlanVerdict v = domain_verdict_content(x, dc, true);
        int dest;
        Take t;

        if (v != VERDICT_OK)
                return v;
        if (dc->whole_node) {
                v = verdict_bindings(x, dc->d->node, p);
                if (v != VERDICT_OK)
                        return v;
        }
        if (node_busy(x, st, dc->d->node))
                return VERDICT_NODE_BUSY;
        t = (Take){
                .node = dc->d->node,
                .free = dc->s->usage.free,
                .cost = dc->s->online * x->ppb,
                .blocks = dc->s->online,
                .kernel_blocks = dc->kernel_blocks,
                .movable = dc->s->usage.movable,
                .whole_node = dc->whole_node,
        };
        v = verdict_take(x, &t, &dest);
        if (v != VERDICT_OK || continuing)
                return v;
        return verdict_break_even(x, dc->d->kind, dc->id, dc->d->n_blocks, dc->s->usage.movable);
}

/* Reasons a target waits for rather than is given up for: they pass by
 * themselves. The reserve, the floors or the destinations running short
 * mean the machine needs memory the target was to give up, and a block
 * backing off after a failed offline may never go: it is dropped, and what
 * of it is offline given back. */
static bool verdict_transient(PlanVerdict v)
{
        switch (v) {
        case VERDICT_NODE_BUSY:
        case VERDICT_CHECKING:
        case VERDICT_UNKNOWN_USAGE:
        case VERDICT_GOING_OFFLINE:
                return true;
        default:
                return false;
        }
}

/* Cheaper domain to empty: fewer movable pages, then the higher lowest
 * block. */
static bool domain_cheaper(const Ctx *x, const DomainCheck *a, const DomainCheck *b)
{
        if (a->s->usage.movable != b->s->usage.movable)
                return a->s->usage.movable < b->s->usage.movable;
        return x->dt->members[a->d->first] > x->dt->members[b->d->first];
}

/* Cheaper to empty: fewer movable pages, then the higher index. */
static bool cheaper(const MemBlock *a, const MemBlock *b)
{
        if (a->usage.movable != b->usage.movable)
                return a->usage.movable < b->usage.movable;
        return a->index > b->index;
}

/* ---- Plan building ---- */

static PlanAction *plan_add(Plan *p, PlanActionKind kind, PlanReason reason, const MemBlock *b)
{
        PlanAction *a;

        if (p->n_actions >= PLAN_ACTIONS_MAX)
                return NULL;
        a = &p->actions[p->n_actions++];
        *a = (PlanAction){
                .kind = kind,
                .reason = reason,
                .index = b ? b->index : 0,
                .node = b ? b->node : -1,
                .dest_node = -1,
                .movable = b ? b->usage.movable : 0,
        };
        return a;
}

static void plan_abort(const Ctx *x, Plan *p, PlanReason reason, PlanVerdict verdict)
{
        const PlanInput *in = x->in;
        PlanAction *a;

        if (!evac_active(in) || in->evac.phase == PLAN_EVAC_ENDING)
                return;
        a = plan_add(p, PLAN_ABORT, reason, NULL);
        if (!a)
                return;
        a->index = in->evac.index;
        a->node = in->evac.node;
        a->verdict = verdict;
}

/* Memory goes back in this plan: nothing starts (its figures are from
 * before, and what comes back was given back for a reason). */
static bool plan_onlines(const Plan *p)
{
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == PLAN_ONLINE)
                        return true;
        return false;
}

static bool plan_has_online(const Plan *p, uint32_t index)
{
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == PLAN_ONLINE && p->actions[i].index == index)
                        return true;
        return false;
}

static bool plan_online(const Ctx *x, Plan *p, const MemBlock *b, PlanReason reason)
{
        PlanAction *a;
        bool fallback;
        PlanZone z = online_zone(x, b, &fallback);

        if (z == PLAN_ZONE_NONE || plan_has_online(p, b->index))
                return false;
        a = plan_add(p, PLAN_ONLINE, reason, b);
        if (!a)
                return false;
        a->zone = z;
        a->fallback = fallback;
        return true;
}

/* Onlining b is due now, or waits after a failure. */
static bool online_ready(const Ctx *x, const MemBlock *b)
{
        return b->track.online_retry_usec <= x->in->now_usec;
}

typedef struct GiveBack {
        uint64_t available, headroom, kernel_free;
        size_t picked;
} GiveBack;

static bool give_back_wanted(const Ctx *x, const GiveBack *g, size_t kernel_left)
{
        if (g->picked == 0 || (x->pressure & PRESSURE_UNREADABLE))
                return true;
        if (g->available < u64_add_sat(x->reserve, x->ppb))
                return true;
        if (x->headroom != UINT64_MAX &&
            g->headroom < u64_add_sat(x->reserve, x->commit_per_block))
                return true;
        return (x->pressure & PRESSURE_KERNEL) && kernel_left &&
               g->kernel_free < u64_add_sat(x->kernel_reserve, x->ppb);
}

/* b is offline in a domain that has blocks online. */
static bool in_partial_domain(const Ctx *x, const MemBlock *b)
{
        uint32_t id = domain_of(x->dt, b->index);

        return id != DOMAIN_NONE && x->in->domain_stats[id].online > 0;
}

/* Domains: blocks mempowerd took offline in a domain that is not being
 * emptied and still has blocks online save nothing: they go back. */
static void give_back_partial(const Ctx *x, const PlannerState *st, Plan *p)
{
        const PlanInput *in = x->in;
        uint32_t target = st->target_block == UINT32_MAX ? DOMAIN_NONE
                                                         : domain_of(x->dt, st->target_block);

        if (!x->by_domain || evac_holds_lock(in))
                return;
        for (size_t i = 0; i < in->n_blocks; i++) {
                const MemBlock *b = &in->blocks[i];

                if (!b->track.owned || b->state != BLOCK_OFFLINE || !online_ready(x, b) ||
                    (target != DOMAIN_NONE && domain_of(x->dt, b->index) == target) ||
                    !in_partial_domain(x, b))
                        continue;
                (void)plan_online(x, p, b, PLAN_REASON_PARTIAL);
        }
}

/* Machine pressure: online lowest first until the reserve and the commit
 * headroom have a block to spare (kernel-origin blocks first when the
 * kernel zones ran short); blocks whose online failed a moment ago last. */
static void give_back_machine(const Ctx *x, Plan *p)
{
        const PlanInput *in = x->in;
        GiveBack g = {
                .available = x->available,
                .headroom = x->headroom,
                .kernel_free = x->kernel_free == PLAN_FREE_UNKNOWN ? 0 : x->kernel_free,
        };
        size_t kernel_left = 0; /* kernel-origin blocks not picked yet */

        for (size_t i = 0; i < in->n_blocks; i++)
                if (online_candidate(x, &in->blocks[i]) &&
                    (in->blocks[i].track.origin_zones & KERNEL_ZONE_BITS))
                        kernel_left++;

        /* pass 0: kernel-origin (kernel pressure only), 1: ready ones of
         * partly offline domains (they save nothing), 2: ready, 3: the rest */
        for (int pass = 0; pass < 4; pass++) {
                if (pass == 0 && !(x->pressure & PRESSURE_KERNEL))
                        continue;
                if (pass == 1 && !x->by_domain)
                        continue;
                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];
                        bool kernel_origin = b->track.origin_zones & KERNEL_ZONE_BITS;

                        if (!give_back_wanted(x, &g, kernel_left))
                                return;
                        if (pass == 0 && !kernel_origin)
                                continue;
                        if (pass == 1 && !in_partial_domain(x, b))
                                continue;
                        if ((pass == 1 || pass == 2) && !online_ready(x, b))
                                continue;
                        if (!plan_online(x, p, b, PLAN_REASON_PRESSURE))
                                continue;
                        g.picked++;
                        if (kernel_origin)
                                kernel_left--;
                        g.available = u64_add_sat(g.available, x->ppb);
                        if (g.headroom != UINT64_MAX)
                                g.headroom = u64_add_sat(g.headroom, x->commit_per_block);
                        if (p->actions[p->n_actions - 1].zone == PLAN_ZONE_KERNEL)
                                g.kernel_free = u64_add_sat(g.kernel_free, x->ppb);
                }
        }
}

/* A node below its floor: its own blocks, lowest first, until the floor plus
 * one block. */
static void give_back_nodes(const Ctx *x, Plan *p)
{
        const PlanInput *in = x->in;

        for (size_t n = 0; n < x->n_nodes; n++) {
                uint64_t free;

                if (!x->short_node[n])
                        continue;
                free = x->node_free[n];
                for (int pass = 1; pass < 3; pass++)
                        for (size_t i = 0; i < in->n_blocks; i++) {
                                const MemBlock *b = &in->blocks[i];

                                if (free >= u64_add_sat(x->node_floor, x->ppb))
                                        break;
                                if (b->node != (int)n || (pass == 1 && !online_ready(x, b)))
                                        continue;
                                if (plan_online(x, p, b, PLAN_REASON_NODE))
                                        free = u64_add_sat(free, x->ppb);
                        }
        }
}

static void give_back(const Ctx *x, Plan *p)
{
        const PlanInput *in = x->in;

        if (x->pressure)
                plan_abort(x, p, PLAN_REASON_PRESSURE, VERDICT_PRESSURE);
        else if (x->short_any &&
                 (evac_holds_lock(in) || (node_ok(x, in->evac.node) && x->short_node[in->evac.node])))
                plan_abort(x, p, PLAN_REASON_NODE, VERDICT_NODE_FLOOR);

        if (evac_holds_lock(in)) {
                /* The next plan, once the worker has ended. */
                p->onlining_waits = true;
                return;
        }
        if (x->pressure)
                give_back_machine(x, p);
        give_back_nodes(x, p);
}

static bool look_eligible(const HandshakeUnit *u, void *userdata)
{
        const Ctx *x = userdata;
        const MemBlock *b;

        if (x->by_domain) {
                DomainCheck dc;
                uint32_t id = domain_of(x->dt, u->id);

                if (id == DOMAIN_NONE)
                        return false;
                domain_check_init(x, id, &dc);
                return domain_verdict_static(x, &dc) == VERDICT_OK;
        }
        b = find_block(x->in, u->id);
        return b && verdict_static(x, b) == VERDICT_OK;
}

/* The units the handshake watches: the blocks, or the domains (named by
 * their lowest block, usage summed over their online blocks). */
static size_t build_units(const Ctx *x, HandshakeUnit *units)
{
        const PlanInput *in = x->in;
        size_t n = 0;

        if (!x->by_domain) {
                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];

                        units[n++] = (HandshakeUnit){
                                .id = b->index,
                                .node = b->node,
                                .usage = b->usage,
                                .usage_valid = b->usage_valid && block_is_online(b),
                                .was_empty = b->was_empty,
                        };
                }
                return n;
        }
        for (size_t i = 0; i < x->dt->n && n < in->n_blocks; i++) {
                const Domain *d = &x->dt->domains[i];
                const DomainStat *st = &in->domain_stats[i];

                if (d->n_blocks == 0)
                        continue;
                units[n++] = (HandshakeUnit){
                        .id = x->dt->members[d->first],
                        .node = d->node,
                        .usage = st->usage,
                        .usage_valid = st->online > 0 && st->counted == st->online,
                        .was_empty = st->online > 0 && st->empty_before == st->online,
                };
        }
        return n;
}

static void handshake_step(const Ctx *x, PlannerState *st, Plan *p, bool hold)
{
        const PlanInput *in = x->in;
        HandshakeInput hi = {
                .units = in->units,
                .n_units = in->units ? build_units(x, in->units) : 0,
                .eligible = look_eligible,
                .userdata = (void *)x,
                .node_free = x->node_free,
                .n_nodes = u64_min(x->n_nodes, st->n_nodes),
                .hold = hold,
                .node_hold = st->node_onlined,
                .busy_node = evac_active(in) ? in->evac.node : -1,
                .rise_pages = PLAN_HANDSHAKE_RISE_PAGES,
        };
        /* Events are for the log: too small a buffer loses them, never the
         * look (a failed allocation must not stop the planner). */
        bool room = p->events && p->events_size >= planner_max_events(st);
        int k;

        k = handshake_look(&st->handshake, &hi, room ? p->events : NULL, p->events_size);
        if (k > 0 && room)
                p->n_events = (size_t)k;
        for (size_t n = 0; n < st->n_nodes; n++)
                st->node_onlined[n] = false;
}

/* The offline after the migration, or the end of an evacuation whose block
 * no longer qualifies. */
static void continue_evacuation(const Ctx *x, const PlannerState *st, Plan *p)
{
        const PlanInput *in = x->in;
        const MemBlock *b = find_block(in, in->evac.index);
        bool whole_node = false;
        PlanVerdict v;
        PlanAction *a;
        int dest;

        if (in->evac.phase != PLAN_EVAC_MIGRATED)
                return;
        if (!b) {
                plan_abort(x, p, PLAN_REASON_REFUSED, VERDICT_NO_NODE);
                return;
        }
        /* b's usage is its count before the migration (the block is not
         * counted while in flight): what moved left free pages behind. The
         * offline still takes a whole block from MemAvailable: the moved
         * pages took free pages elsewhere, and the block's go with it. */
        v = verdict_block(x, b, false);
        if (v == VERDICT_OK && node_busy(x, st, b->node))
                v = VERDICT_NODE_BUSY;
        if (v == VERDICT_OK && x->by_domain) {
                DomainCheck dc;
                uint32_t id = domain_of(x->dt, b->index);

                if (id == DOMAIN_NONE || st->target_block == UINT32_MAX ||
                    domain_of(x->dt, st->target_block) != id)
                        v = VERDICT_NO_DOMAIN; /* grouped anew meanwhile */
                else {
                        domain_check_init(x, id, &dc);
                        whole_node = dc.whole_node;
                        v = domain_verdict_static(x, &dc);
                        if (v == VERDICT_OK && whole_node)
                                v = verdict_bindings(x, b->node, p);
                        if (v == VERDICT_CHECKING)
                                return; /* the offline waits for the reading */
                }
        }
        if (v == VERDICT_OK) {
                uint64_t moved = u64_min(in->evac.moved_pages, b->usage.movable);

                v = verdict_resources(x, b, b->usage.free + moved, x->ppb, b->usage.movable - moved,
                                      false, whole_node, &dest);
        }
        if (v != VERDICT_OK) {
                plan_abort(x, p, PLAN_REASON_REFUSED, v);
                return;
        }
        a = plan_add(p, PLAN_OFFLINE, PLAN_REASON_STEP, b);
        if (a)
                a->movable = u64_sub_sat(b->usage.movable, in->evac.moved_pages);
}

static void drop_event(Plan *p, int node, uint32_t block)
{
        if (!p->events || p->n_events >= p->events_size)
                return; /* lost to the log only */
        p->events[p->n_events++] = (HandshakeEvent){
                .action = HANDSHAKE_DROP,
                .node = node,
                .block = block,
                .reason = HANDSHAKE_DROP_REFUSED,
        };
}

static void plan_migrate_or_offline(Plan *p, PlanReason reason, const MemBlock *b, int dest)
{
        PlanAction *a;

        if (dest >= 0) {
                a = plan_add(p, PLAN_MIGRATE, reason, b);
                if (a)
                        a->dest_node = dest;
        } else
                (void)plan_add(p, PLAN_OFFLINE, reason, b);
}

/* Domains=block: the handshake's block, else the sweep's. */
static void start_block(const Ctx *x, PlannerState *st, Plan *p)
{
        const PlanInput *in = x->in;
        const MemBlock *best = NULL;
        PlanReason reason = PLAN_REASON_SWEEP;
        int best_dest = -1, dest;

        /* The handshake's ready notes first, lowest node first. */
        for (size_t n = 0; n < st->handshake.n_slots && !best; n++) {
                uint32_t index;
                const MemBlock *b;
                PlanVerdict v;

                if (!handshake_is_freed(&st->handshake, (int)n) ||
                    handshake_get_noted(&st->handshake, (int)n, &index) <= 0)
                        continue;
                b = find_block(in, index);
                v = b ? verdict_start(x, st, b, &dest) : VERDICT_NO_NODE;
                if (v == VERDICT_OK) {
                        (void)handshake_take(&st->handshake, (int)n, NULL);
                        best = b;
                        best_dest = dest;
                        reason = PLAN_REASON_HANDSHAKE;
                } else if (!b || verdict_block(x, b, false) != VERDICT_OK) {
                        /* the block itself no longer qualifies */
                        (void)handshake_drop(&st->handshake, (int)n);
                        drop_event(p, (int)n, index);
                }
                /* else it waits: its node, the reserve, its back-off */
        }

        if (!best)
                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];

                        if (best && !cheaper(b, best))
                                continue;
                        if (verdict_start(x, st, b, &dest) != VERDICT_OK)
                                continue;
                        best = b;
                        best_dest = dest;
                }
        if (best)
                plan_migrate_or_offline(p, reason, best, best_dest);
}

/* The domain's next block: the online one cheapest to empty that may go
 * now (its node's floor waived when the domain is all its node has). */
static bool start_domain_block(const Ctx *x, const DomainCheck *dc, Plan *p, PlanReason reason)
{
        const MemBlock *b, *best = NULL;
        int best_dest = -1, dest;
        size_t i = 0;

        while ((b = domain_next_online(x, dc->d, &i))) {
                if (best && !cheaper(b, best))
                        continue;
                if (verdict_block(x, b, true) != VERDICT_OK ||
                    verdict_resources(x, b, b->usage.free, x->ppb, b->usage.movable, true,
                                      dc->whole_node, &dest) != VERDICT_OK)
                        continue;
                best = b;
                best_dest = dest;
        }
        if (!best)
                return false;
        plan_migrate_or_offline(p, reason, best, best_dest);
        return true;
}

/* The target is given up: what of it is offline goes back before anything
 * else starts. */
static void drop_target(const Ctx *x, PlannerState *st, Plan *p, uint32_t id, PlanVerdict v)
{
        p->dropped = id;
        p->dropped_verdict = v;
        p->target = DOMAIN_NONE;
        st->target_block = UINT32_MAX;
        give_back_partial(x, st, p);
}

/* Domains: the target until it is offline or given up, else the domain the
 * handshake made ready, else the sweep's: the qualifying domain cheapest to
 * empty. */
static void start_domain(const Ctx *x, PlannerState *st, Plan *p)
{
        DomainCheck dc, best;
        bool have = false;
        PlanReason reason = PLAN_REASON_SWEEP;
        PlanVerdict v;

        if (st->target_block != UINT32_MAX) {
                uint32_t id = domain_of(x->dt, st->target_block);

                if (id != DOMAIN_NONE) {
                        domain_check_init(x, id, &dc);
                        v = domain_verdict_start(x, st, &dc, true, p);
                        /* the domain may go as a whole but no block of it
                         * alone: one node must take a block's pages */
                        if (v == VERDICT_OK && !start_domain_block(x, &dc, p, PLAN_REASON_DOMAIN))
                                v = VERDICT_NO_DESTINATION;
                        if (v == VERDICT_OK || verdict_transient(v))
                                return;
                        if (v != VERDICT_OFFLINED && v != VERDICT_OFFLINE_OTHER) {
                                drop_target(x, st, p, id, v);
                                return;
                        }
                }
                st->target_block = UINT32_MAX;
        }

        /* The handshake's ready notes first, lowest node first. */
        for (size_t n = 0; n < st->handshake.n_slots && !have; n++) {
                uint32_t unit, id;

                if (!handshake_is_freed(&st->handshake, (int)n) ||
                    handshake_get_noted(&st->handshake, (int)n, &unit) <= 0)
                        continue;
                id = domain_of(x->dt, unit);
                if (id != DOMAIN_NONE) {
                        domain_check_init(x, id, &dc);
                        v = domain_verdict_start(x, st, &dc, false, p);
                } else
                        v = VERDICT_NO_DOMAIN;
                if (v == VERDICT_OK) {
                        (void)handshake_take(&st->handshake, (int)n, NULL);
                        best = dc;
                        have = true;
                        reason = PLAN_REASON_HANDSHAKE;
                } else if (id == DOMAIN_NONE || domain_verdict_content(x, &dc, false) != VERDICT_OK ||
                           v == VERDICT_BREAK_EVEN || v == VERDICT_BOUND) {
                        /* the domain itself no longer qualifies */
                        (void)handshake_drop(&st->handshake, (int)n);
                        drop_event(p, (int)n, unit);
                }
                /* else it waits: its node, the reserve, the bindings */
        }

        if (!have) {
                bool checking = false;

                for (uint32_t id = 0; id < x->dt->n; id++) {
                        domain_check_init(x, id, &dc);
                        if (have && !domain_cheaper(x, &dc, &best))
                                continue;
                        v = domain_verdict_start(x, st, &dc, false, NULL);
                        if (v != VERDICT_OK && v != VERDICT_CHECKING)
                                continue;
                        best = dc;
                        have = true;
                        checking = v == VERDICT_CHECKING;
                }
                if (checking) {
                        /* the cheapest empties its node: read the policies first */
                        (void)verdict_bindings(x, best.d->node, p);
                        return;
                }
        }
        if (!have || !start_domain_block(x, &best, p, reason))
                return;
        st->target_block = x->dt->members[best.d->first];
        p->target = best.id;
}

/* EjectEmptyDevices=yes: the first ACPI device offline whole, all of it
 * mempowerd's, that the machine can do without for good. */
static bool plan_eject(const Ctx *x, Plan *p)
{
        if (!x->c->eject_empty_devices || !x->by_domain)
                return false;
        for (uint32_t id = 0; id < x->dt->n; id++) {
                const Domain *d = &x->dt->domains[id];
                const DomainStat *s = &x->in->domain_stats[id];
                uint64_t pages = d->n_blocks * x->ppb;
                bool ready = true;
                PlanAction *a;

                if (d->kind != DOMAIN_DEVICE || !d->ejectable || s->online > 0 || s->missing > 0 ||
                    s->offline == 0 || s->owned != s->offline)
                        continue;
                for (size_t k = 0; k < d->n_blocks && ready; k++) {
                        const MemBlock *b = find_block(x->in, x->dt->members[d->first + k]);

                        ready = b && !b->track.eject_sent && !b->track.hot_added;
                }
                if (!ready || x->available <= u64_add_sat(x->reserve, pages) ||
                    (x->headroom != UINT64_MAX &&
                     x->headroom <= u64_add_sat(x->reserve, d->n_blocks * x->commit_per_block)))
                        continue;
                a = plan_add(p, PLAN_EJECT, PLAN_REASON_EJECT, find_block(x->in, x->dt->members[d->first]));
                return a != NULL;
        }
        return false;
}

/* A whole node being emptied has no floor while its memory policies are
 * fresh: ask for a reading well before the last one goes stale. */
static void keep_bindings_fresh(const Ctx *x, const PlannerState *st, Plan *p)
{
        const PlanNode *n;
        const Domain *d;
        uint32_t id;

        if (!x->by_domain || st->target_block == UINT32_MAX || p->check_bindings_node >= 0)
                return;
        id = domain_of(x->dt, st->target_block);
        d = domain_get(x, id);
        if (!d || !domain_whole_node(x, d, &x->in->domain_stats[id]))
                return;
        n = &x->in->nodes[d->node];
        if (!n->bindings_usec ||
            (x->in->now_usec > n->bindings_usec &&
             x->in->now_usec - n->bindings_usec > PLAN_BINDINGS_FRESH_USEC / 2))
                p->check_bindings_node = d->node;
}

static void start_evacuation(const Ctx *x, PlannerState *st, Plan *p)
{
        if (x->in->evacuations_this_tick >= x->c->max_evacuations_per_tick)
                return;
        if (x->by_domain)
                start_domain(x, st, p);
        else
                start_block(x, st, p);
}

static void give_back_all(const Ctx *x, Plan *p)
{
        const PlanInput *in = x->in;

        plan_abort(x, p, PLAN_REASON_EXIT, VERDICT_OK);
        if (x->c->keep_offline_on_exit)
                return;
        if (evac_holds_lock(in)) {
                p->onlining_waits = true;
                return;
        }
        /* not again at once a block whose online just failed: the next
         * plans are for the others, the retry comes a second later */
        for (size_t i = 0; i < in->n_blocks; i++)
                if (in->blocks[i].track.owned && online_ready(x, &in->blocks[i]))
                        (void)plan_online(x, p, &in->blocks[i], PLAN_REASON_EXIT);
}

int planner_decide(const PlanInput *in, PlannerState *st, Plan *ret)
{
        HandshakeEvent *events = ret->events;
        size_t events_size = ret->events_size;
        Ctx x;
        int r;

        r = ctx_init(&x, in, st);
        if (r < 0)
                return r;

        memset(ret, 0, offsetof(Plan, events));
        ret->events = events;
        ret->events_size = events_size;
        ret->n_events = 0;
        ret->pressure = x.pressure;
        ret->reserve_pages = x.reserve;
        ret->available_pages = x.available;
        ret->commit_headroom_pages = x.headroom;
        ret->nodes_short = x.short_any;
        ret->target = ret->dropped = DOMAIN_NONE;
        ret->check_bindings_node = -1;

        if (in->kind == PLAN_GIVE_BACK) {
                give_back_all(&x, ret);
                return 0;
        }

        give_back(&x, ret);
        /* what runs short gives up the target: its blocks go back first */
        if ((x.pressure || x.short_any) && st->target_block != UINT32_MAX) {
                ret->dropped = domain_of(x.dt, st->target_block);
                ret->dropped_verdict = VERDICT_PRESSURE;
                st->target_block = UINT32_MAX;
        }
        give_back_partial(&x, st, ret);
        st->pressure_latched = x.pressure & (PRESSURE_RESERVE | PRESSURE_COMMIT | PRESSURE_KERNEL);
        if (x.c->online_hot_added)
                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];

                        if (!b->track.hot_added || !b->track.owned || b->state != BLOCK_OFFLINE)
                                continue;
                        if (evac_holds_lock(in))
                                ret->onlining_waits = true; /* rule 3 */
                        else
                                (void)plan_online(&x, ret, b, PLAN_REASON_HOT_ADD);
                }
        if (x.pressure)
                st->pressure_usec = in->now_usec ? in->now_usec : 1;
        for (size_t n = 0; n < x.n_nodes && n < st->n_nodes; n++)
                if (x.node_free[n] != PLAN_FREE_UNKNOWN && x.node_floor > 0 &&
                    x.node_free[n] < x.node_floor && (int)n != x.emptying_node &&
                    x.node_online[n] > 0)
                        st->node_short_usec[n] = in->now_usec ? in->now_usec : 1;

        if (in->kind != PLAN_WATCH) {
                PlanVerdict machine = verdict_machine(&x);
                bool hold = machine != VERDICT_OK;

                /* The look sees what was onlined before it, not by this
                 * plan. Only pressure consumes a rise: a free during the
                 * quiet time or a pause is still a free, its evacuation
                 * waits for the hold to end. */
                if (in->kind == PLAN_LOOK)
                        handshake_step(&x, st, ret, x.pressure || x.short_any);
                /* between its steps, an evacuation ends when nothing may go
                 * offline now (paused, quiet time): it holds nothing */
                if (hold && in->evac.phase == PLAN_EVAC_MIGRATED)
                        plan_abort(&x, ret, PLAN_REASON_REFUSED, machine);
                if (!hold && evac_active(in))
                        continue_evacuation(&x, st, ret);
                else if (!hold && !plan_onlines(ret) && !plan_eject(&x, ret))
                        start_evacuation(&x, st, ret);
        }
        keep_bindings_fresh(&x, st, ret);
        if (x.by_domain && st->target_block != UINT32_MAX)
                ret->target = domain_of(x.dt, st->target_block);
        /* The free pages of blocks onlined now are not a free at the next
         * look of their node. */
        for (size_t i = 0; i < ret->n_actions; i++)
                if (ret->actions[i].kind == PLAN_ONLINE && ret->actions[i].node >= 0 &&
                    (size_t)ret->actions[i].node < st->n_nodes)
                        st->node_onlined[ret->actions[i].node] = true;
        return 0;
}

/* ---- Explain ---- */

static int key_compare(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* b is offline now in the simulation: what it takes away. */
static void simulate_offline(Ctx *x, const MemBlock *b, int dest)
{
        x->available = u64_sub_sat(x->available, x->ppb);
        if (x->headroom != UINT64_MAX)
                x->headroom = u64_sub_sat(x->headroom, x->commit_per_block);
        if (node_ok(x, b->node) && x->node_free[b->node] != PLAN_FREE_UNKNOWN)
                x->node_free[b->node] = u64_sub_sat(x->node_free[b->node], b->usage.free);
        if (dest >= 0 && x->node_free[dest] != PLAN_FREE_UNKNOWN)
                x->node_free[dest] = u64_sub_sat(x->node_free[dest], b->usage.movable);
        if (b->zones & KERNEL_ZONE_BITS) {
                x->kernel_pages = u64_sub_sat(x->kernel_pages, x->ppb);
                if (x->kernel_free != PLAN_FREE_UNKNOWN)
                        x->kernel_free =
                                u64_sub_sat(x->kernel_free, b->usage.free + b->usage.movable);
        } else
                x->movable_pages = u64_sub_sat(x->movable_pages, x->ppb);
}

/* A domain's verdict, on those of its blocks whose own verdict left it to
 * the domain (VERDICT_OK). */
static void set_domain_verdict(const Ctx *x, const Domain *d, PlanVerdict v, PlanVerdict *verdicts)
{
        for (size_t k = 0; k < d->n_blocks; k++) {
                const MemBlock *b = find_block(x->in, x->dt->members[d->first + k]);

                if (b && verdicts[b - x->in->blocks] == VERDICT_OK)
                        verdicts[b - x->in->blocks] = v;
        }
}

/* planner_explain by domain: whole domains, cheapest first. */
static void explain_domains(Ctx *x, const PlannerState *st, PlanVerdict machine,
                            PlanVerdict *verdicts, PlanVerdict *domain_verdicts, uint64_t *scratch,
                            PlanSummary *summary)
{
        uint32_t target = st->target_block == UINT32_MAX ? DOMAIN_NONE
                                                         : domain_of(x->dt, st->target_block);
        size_t n_cand = 0;

        for (uint32_t id = 0; id < x->dt->n; id++) {
                DomainCheck dc;
                PlanVerdict v;

                domain_check_init(x, id, &dc);
                v = domain_verdict_start(x, st, &dc, id == target, NULL);
                if (v == VERDICT_OK && machine != VERDICT_OK)
                        v = machine;
                if (domain_verdicts)
                        domain_verdicts[id] = v;
                if (v == VERDICT_OK && n_cand < x->in->n_blocks)
                        scratch[n_cand++] = u64_min(dc.s->usage.movable, UINT32_MAX) << 32 |
                                            (uint64_t)(UINT32_MAX - id);
                else
                        set_domain_verdict(x, dc.d, v, verdicts);
        }
        qsort(scratch, n_cand, sizeof(uint64_t), key_compare);
        for (size_t k = 0; k < n_cand; k++) {
                uint32_t id = UINT32_MAX - (uint32_t)(scratch[k] & UINT32_MAX);
                const MemBlock *b;
                DomainCheck dc;
                PlanVerdict v;
                size_t i = 0;

                domain_check_init(x, id, &dc);
                v = domain_verdict_start(x, st, &dc, id == target, NULL);
                if (domain_verdicts)
                        domain_verdicts[id] = v;
                if (v != VERDICT_OK) {
                        set_domain_verdict(x, dc.d, v, verdicts);
                        continue;
                }
                while ((b = domain_next_online(x, dc.d, &i))) {
                        simulate_offline(x, b, pick_destination(x, b->node, b->usage.movable));
                        if (summary)
                                summary->offlinable++;
                }
        }
}

int planner_explain(const PlanInput *in, const PlannerState *st, PlanVerdict *ret_verdicts,
                    PlanVerdict *ret_domain_verdicts, uint64_t *scratch, PlanSummary *ret_summary)
{
        PlanVerdict machine;
        size_t n_cand = 0;
        Ctx x;
        int r;

        if (in->n_blocks > UINT32_MAX || (in->n_blocks > 0 && (!ret_verdicts || !scratch)))
                return -EINVAL;
        r = ctx_init(&x, in, st);
        if (r < 0)
                return r;
        machine = verdict_machine(&x);
        if (ret_summary)
                *ret_summary = (PlanSummary){ .reserve_pages = x.reserve, .pressure = x.pressure };

        for (size_t i = 0; i < in->n_blocks; i++) {
                const MemBlock *b = &in->blocks[i];
                PlanVerdict v = evac_active(in) && in->evac.index == b->index
                                        ? VERDICT_EVACUATING
                                        : verdict_block(&x, b, true);

                if (x.by_domain) {
                        ret_verdicts[i] = v; /* OK: its domain's */
                        continue;
                }
                if (v == VERDICT_OK && machine != VERDICT_OK)
                        v = machine;
                else if (v == VERDICT_OK && node_busy(&x, st, b->node))
                        v = VERDICT_NODE_BUSY;
                ret_verdicts[i] = v;
                if (v == VERDICT_OK)
                        scratch[n_cand++] = b->usage.movable << 32 | (uint64_t)(UINT32_MAX - i);
        }

        /* What is in flight is as good as gone. */
        if (evac_active(in) && in->evac.phase != PLAN_EVAC_ENDING) {
                const MemBlock *b = find_block(in, in->evac.index);

                if (b)
                        simulate_offline(&x, b, -1);
        }

        if (x.by_domain) {
                explain_domains(&x, st, machine, ret_verdicts, ret_domain_verdicts, scratch,
                                ret_summary);
                if (ret_summary)
                        ret_summary->available_after = x.available;
                return 0;
        }

        qsort(scratch, n_cand, sizeof(uint64_t), key_compare);
        for (size_t k = 0; k < n_cand; k++) {
                size_t i = UINT32_MAX - (uint32_t)(scratch[k] & UINT32_MAX);
                const MemBlock *b = &in->blocks[i];
                int dest;
                PlanVerdict v = verdict_resources(&x, b, b->usage.free, x.ppb, b->usage.movable,
                                                  true, false, &dest);

                if (v == VERDICT_OK)
                        v = verdict_break_even(&x, DOMAIN_BLOCK, DOMAIN_NONE, 1, b->usage.movable);
                ret_verdicts[i] = v;
                if (v != VERDICT_OK)
                        continue;
                simulate_offline(&x, b, dest);
                if (ret_summary)
                        ret_summary->offlinable++;
        }
        /* Domains=block: every domain is one block */
        if (ret_domain_verdicts && x.dt)
                for (size_t i = 0; i < in->n_blocks; i++) {
                        uint32_t id = domain_of(x.dt, in->blocks[i].index);

                        if (id != DOMAIN_NONE)
                                ret_domain_verdicts[id] = ret_verdicts[i];
                }
        if (ret_summary)
                ret_summary->available_after = x.available;
        return 0;
}
