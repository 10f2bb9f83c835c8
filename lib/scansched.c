/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "scansched.h"
#include "util.h"

void scansched_init(ScanSched *s)
{
        *s = (ScanSched){ 0 };
}

static double allowance(double cpu_percent, uint64_t ns)
{
        double v = (double)ns * cpu_percent / 100.0;

        if (!(v > 0))
                return 0;
        return v > (double)INT64_MAX / 8 ? (double)INT64_MAX / 8 : v;
}

void scansched_refill(ScanSched *s, double cpu_percent, uint64_t elapsed_ns, uint64_t tick_ns,
                      uint64_t block_cost_ns)
{
        double add = allowance(cpu_percent, elapsed_ns);
        int64_t cap;

        cap = (int64_t)(2 * allowance(cpu_percent, tick_ns)) +
              (int64_t)u64_min(block_cost_ns, (uint64_t)INT64_MAX / 8);
        s->cap_ns = cap;
        s->credit_ns += (int64_t)add;
        if (s->credit_ns > cap)
                s->credit_ns = cap;
}

void scansched_charge(ScanSched *s, uint64_t spent_ns)
{
        int64_t spent = (int64_t)u64_min(spent_ns, (uint64_t)INT64_MAX / 4);

        s->credit_ns -= spent;
        /* Debt is bounded too: one pathological tick (a stalled read) must
         * not stop scanning for hours. */
        if (s->credit_ns < -4 * (s->cap_ns + 1))
                s->credit_ns = -4 * (s->cap_ns + 1);
}

bool scansched_may_scan(const ScanSched *s)
{
        return s->credit_ns > 0;
}

bool scansched_block_stale(const MemBlock *b, uint64_t node_free_pages_now, uint64_t now_ns,
                           uint64_t rescan_max_ns)
{
        uint64_t drift;

        if (b->state == BLOCK_OFFLINE)
                return false;
        if (!b->usage_valid || b->scanned_ns == 0)
                return true;
        if (now_ns >= b->scanned_ns && now_ns - b->scanned_ns >= rescan_max_ns)
                return true;
        drift = node_free_pages_now > b->node_free_at_scan
                        ? node_free_pages_now - b->node_free_at_scan
                        : b->node_free_at_scan - node_free_pages_now;
        return drift > SCANSCHED_NODE_DRIFT_PAGES;
}

bool scansched_block_probe(const MemBlock *b)
{
        return b->state == BLOCK_ONLINE && b->usage_valid && page_usage_used(&b->usage) == 0;
}

/* Position of the first block whose index is at or after index (the table
 * is in index order), or t->n. */
static size_t position_from(const BlockTable *t, uint64_t index)
{
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (t->blocks[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

ssize_t scansched_next(ScanSched *s, const BlockTable *t)
{
        ssize_t pick = -1;
        size_t start;

        if (t->n == 0)
                return -1;
        start = position_from(t, s->cursor);
        for (size_t k = 0; k < t->n; k++) {
                size_t i = (start + k) % t->n;

                if (!t->blocks[i].stale)
                        continue;
                if (!t->blocks[i].usage_valid) {
                        pick = (ssize_t)i;
                        break;
                }
                if (pick < 0)
                        pick = (ssize_t)i;
        }
        if (pick >= 0)
                s->cursor = t->blocks[pick].index + 1;
        return pick;
}
