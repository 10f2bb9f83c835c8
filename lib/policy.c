/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "policy.h"
#include "util.h"

static const char *const pressure_reason_names[_PRESSURE_REASON_MAX] = {
        [PRESSURE_NONE] = "none",
        [PRESSURE_RESERVE] = "reserve",
        [PRESSURE_PSI] = "psi",
        [PRESSURE_RESERVE_PSI] = "reserve+psi",
};

const char *pressure_reason_to_string(PressureReason r)
{
        if (r < 0 || r >= _PRESSURE_REASON_MAX)
                return NULL;
        return pressure_reason_names[r];
}

static const char *const offline_verdict_names[_OFFLINE_VERDICT_MAX] = {
        [OFFLINE_OK] = "offlinable",
        [OFFLINE_NOT_ONLINE] = "offline",
        [OFFLINE_GOING_OFFLINE] = "going-offline",
        [OFFLINE_EXCLUDED] = "excluded",
        [OFFLINE_NO_NODE] = "no-node",
        [OFFLINE_SPANS_ZONES] = "spans-zones",
        [OFFLINE_KERNEL_DMA_ZONE] = "kernel-dma-zone",
        [OFFLINE_OTHER_ZONE] = "unsupported-zone",
        [OFFLINE_LOWEST_OF_NODE] = "lowest-of-node",
        [OFFLINE_UNKNOWN_USAGE] = "unknown-usage",
        [OFFLINE_UNMOVABLE_PAGES] = "unmovable-pages",
        [OFFLINE_HUGETLB] = "hugetlb",
        [OFFLINE_HOLES] = "holes",
        [OFFLINE_BACKOFF] = "backoff",
};

const char *offline_verdict_to_string(OfflineVerdict v)
{
        if (v < 0 || v >= _OFFLINE_VERDICT_MAX)
                return NULL;
        return offline_verdict_names[v];
}

/* a + b, saturating. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- Pressure ---- */

int policy_check_pressure(const Config *c, const MemSnapshot *m, Pressure *ret)
{
        uint64_t reserve, available;
        bool low, psi;

        if (m->page_size == 0)
                return -EINVAL;

        reserve = config_reserve_pages(c, m->mem_total_kb, m->page_size);
        /* Rounded down: never overstate what is free. MemAvailable would
         * need to exceed 16 EiB for the product to overflow. */
        available = m->mem_available_kb * 1024 / m->page_size;

        low = available < reserve;
        psi = m->psi_valid && c->psi_some_avg10 > 0 && m->psi_some_avg10 > c->psi_some_avg10;

        *ret = (Pressure){
                .reason = low && psi ? PRESSURE_RESERVE_PSI
                          : low      ? PRESSURE_RESERVE
                          : psi      ? PRESSURE_PSI
                                     : PRESSURE_NONE,
                .reserve_pages = reserve,
                .available_pages = available,
        };
        return 0;
}

/* ---- Onlining ---- */

static bool online_candidate(const Config *c, const MemBlock *b)
{
        return b->state == BLOCK_OFFLINE && (b->zones & ZONE_MOVABLE_BIT) &&
               !indexset_contains(&c->exclude_blocks, b->index);
}

size_t policy_pick_online(const Config *c, const Pressure *p, const MemBlock *blocks,
                          size_t n_blocks, uint64_t pages_per_block, uint32_t *ret,
                          size_t ret_size)
{
        uint64_t have = p->available_pages;
        uint64_t want = add_sat(p->reserve_pages, pages_per_block);
        size_t n = 0;
        bool have_last = false;
        uint32_t last = 0;

        if (!pressure_is_on(p))
                return 0;

        while (n < ret_size && (n == 0 || have < want)) {
                const MemBlock *best = NULL;

                /* The lowest candidate above the previous pick: no sort
                 * needed, and picks are few. */
                for (size_t i = 0; i < n_blocks; i++) {
                        const MemBlock *b = &blocks[i];

                        if (have_last && b->index <= last)
                                continue;
                        if (!online_candidate(c, b))
                                continue;
                        if (!best || b->index < best->index)
                                best = b;
                }
                if (!best)
                        break;

                ret[n++] = best->index;
                last = best->index;
                have_last = true;
                have = add_sat(have, pages_per_block);
        }

        return n;
}

/* ---- Back-off ---- */

void backoff_fail(Backoff *b, uint64_t now_usec, uint64_t initial_usec, uint64_t max_usec)
{
        uint64_t delay = initial_usec;

        if (b->attempts < UINT32_MAX)
                b->attempts++;

        for (unsigned i = 1; i < b->attempts && delay < max_usec; i++)
                delay = delay > UINT64_MAX / 2 ? UINT64_MAX : delay * 2;
        delay = u64_min(delay, max_usec);

        b->next_try_usec = add_sat(now_usec, delay);
}

void backoff_hold(Backoff *b, const PageUsage *usage)
{
        b->held = true;
        b->usage = *usage;
}

bool backoff_observe(Backoff *b, const PageUsage *usage)
{
        if (!b->held)
                return false;
        if (usage->movable == b->usage.movable && usage->unmovable == b->usage.unmovable &&
            usage->hugetlb == b->usage.hugetlb)
                return false;
        b->held = false;
        return true;
}

bool backoff_ready(const Backoff *b, uint64_t now_usec)
{
        return !b->held && now_usec >= b->next_try_usec;
}

void backoff_reset(Backoff *b)
{
        *b = BACKOFF_NULL;
}

/* ---- Offlinable blocks ---- */

void policy_mark_lowest_of_node(const MemBlock *blocks, size_t n_blocks, bool *ret_lowest)
{
        /* Lowest index seen per node; UINT32_MAX = none yet (a block with
         * that index would still be found: it compares equal). */
        uint32_t lowest[POLICY_NODES_MAX];

        for (size_t i = 0; i < POLICY_NODES_MAX; i++)
                lowest[i] = UINT32_MAX;

        for (size_t i = 0; i < n_blocks; i++) {
                int node = blocks[i].node;

                if (node >= 0 && node < POLICY_NODES_MAX)
                        lowest[node] = blocks[i].index < lowest[node] ? blocks[i].index
                                                                      : lowest[node];
        }

        for (size_t i = 0; i < n_blocks; i++) {
                int node = blocks[i].node;

                ret_lowest[i] = node < 0 || node >= POLICY_NODES_MAX ||
                                blocks[i].index == lowest[node];
        }
}

/* Everything about b that does not depend on what it holds. */
static OfflineVerdict check_static(const Config *c, const MemBlock *b, bool lowest_of_node)
{
        if (b->state == BLOCK_GOING_OFFLINE)
                return OFFLINE_GOING_OFFLINE;
        if (b->state != BLOCK_ONLINE)
                return OFFLINE_NOT_ONLINE;
        if (indexset_contains(&c->exclude_blocks, b->index))
                return OFFLINE_EXCLUDED;
        if (b->node < 0)
                return OFFLINE_NO_NODE;
        if (b->zones == 0)
                return OFFLINE_SPANS_ZONES;
        if (b->zones & (ZONE_DMA_BIT | ZONE_DMA32_BIT))
                return OFFLINE_KERNEL_DMA_ZONE;
        if (b->zones != ZONE_NORMAL_BIT && b->zones != ZONE_MOVABLE_BIT)
                return OFFLINE_OTHER_ZONE;
        if (lowest_of_node)
                return OFFLINE_LOWEST_OF_NODE;
        if (!b->usage_valid)
                return OFFLINE_UNKNOWN_USAGE;
        return OFFLINE_OK;
}

OfflineVerdict policy_check_offlinable(const Config *c, const MemBlock *b, bool lowest_of_node,
                                       const Backoff *backoff, uint64_t now_usec)
{
        OfflineVerdict v = check_static(c, b, lowest_of_node);

        if (v != OFFLINE_OK)
                return v;
        if (b->usage.unmovable > 0)
                return OFFLINE_UNMOVABLE_PAGES;
        if (b->usage.hugetlb > 0)
                return OFFLINE_HUGETLB;
        if (b->usage.nopage > 0)
                return OFFLINE_HOLES;
        if (backoff && !backoff_ready(backoff, now_usec))
                return OFFLINE_BACKOFF;
        return OFFLINE_OK;
}

bool policy_is_target(const Config *c, const MemBlock *b, bool lowest_of_node)
{
        return check_static(c, b, lowest_of_node) == OFFLINE_OK;
}

/* ---- Consolidation sweep ---- */

bool policy_can_spare_block(uint64_t available_pages, uint64_t reserve_pages,
                            uint64_t pages_per_block)
{
        return available_pages > add_sat(reserve_pages, pages_per_block);
}

static bool node_busy(const SweepInput *in, int node)
{
        return in->node_busy && node >= 0 && (size_t)node < in->n_nodes && in->node_busy[node];
}

static bool node_picked(const MemBlock *blocks, const size_t *picked, size_t n_picked, int node)
{
        for (size_t i = 0; i < n_picked; i++)
                if (blocks[picked[i]].node == node)
                        return true;
        return false;
}

/* Cheaper to empty: fewer movable pages, then the higher index. */
static bool cheaper(const MemBlock *a, const MemBlock *b)
{
        if (a->usage.movable != b->usage.movable)
                return a->usage.movable < b->usage.movable;
        return a->index > b->index;
}

bool policy_node_can_spare(uint64_t node_free_pages, uint64_t floor_pages, const MemBlock *b)
{
        if (node_free_pages == POLICY_FREE_UNKNOWN)
                return true;
        return node_free_pages >= floor_pages + b->usage.free;
}

static bool node_spares(const SweepInput *in, const MemBlock *b)
{
        if (!in->node_free || b->node < 0 || (size_t)b->node >= in->n_nodes)
                return true;
        return policy_node_can_spare(in->node_free[b->node], in->node_floor_pages, b);
}

size_t policy_sweep(const Config *c, const SweepInput *in, uint32_t *ret, size_t ret_size)
{
        /* Positions of the picks in in->blocks, bounded so the search needs
         * no allocation. */
        size_t picked[POLICY_SWEEP_MAX];
        size_t limit = ret_size;
        uint64_t available = in->available_pages;
        size_t n = 0;

        if (c->max_evacuations_per_tick < limit)
                limit = c->max_evacuations_per_tick;
        if (limit > ELEMENTSOF(picked))
                limit = ELEMENTSOF(picked);

        while (n < limit) {
                size_t best = SIZE_MAX;

                if (!policy_can_spare_block(available, in->reserve_pages, in->pages_per_block))
                        break;

                for (size_t i = 0; i < in->n_blocks; i++) {
                        const MemBlock *b = &in->blocks[i];

                        if (node_busy(in, b->node) || node_picked(in->blocks, picked, n, b->node) ||
                                !node_spares(in, b))
                                continue;
                        if (policy_check_offlinable(c, b, in->lowest_of_node[i],
                                                    in->backoffs ? &in->backoffs[i] : NULL,
                                                    in->now_usec) != OFFLINE_OK)
                                continue;
                        if (best == SIZE_MAX || cheaper(b, &in->blocks[best]))
                                best = i;
                }
                if (best == SIZE_MAX)
                        break;

                picked[n] = best;
                ret[n] = in->blocks[best].index;
                n++;
                available -= in->pages_per_block;
        }

        return n;
}

/* ---- Destination of move_pages ---- */

static uint64_t indexset_count(const IndexSet *s)
{
        uint64_t count = 0;

        for (size_t i = 0; i < s->n; i++)
                count += (uint64_t)s->ranges[i].hi - s->ranges[i].lo + 1;
        return count;
}

int policy_pick_destination(const Config *c, const IndexSet *has_memory, const uint64_t *node_free,
                            size_t n_nodes, int source_node, uint64_t pages,
                            uint64_t reserve_pages)
{
        uint64_t n_mem = indexset_count(has_memory);
        uint64_t share;

        if (n_mem == 0)
                return -ENOSPC;
        share = reserve_pages / n_mem + (reserve_pages % n_mem != 0);

        for (size_t node = 0; node < n_nodes && node <= INT32_MAX; node++) {
                uint64_t free = node_free[node];

                if ((int)node == source_node)
                        continue;
                if (!indexset_contains(has_memory, (uint32_t)node))
                        continue;
                if (!indexset_is_empty(&c->destination_nodes) &&
                    !indexset_contains(&c->destination_nodes, (uint32_t)node))
                        continue;
                if (free == POLICY_FREE_UNKNOWN)
                        continue;
                if (free < share || free - share < pages)
                        continue;
                return (int)node;
        }

        return -ENOSPC;
}
