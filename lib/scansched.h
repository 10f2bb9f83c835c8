/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The scan scheduler: which blocks get a full kpageflags count this tick,
 * within a CPU budget. A full count of 24 GiB costs the kernel 0.4-0.8 s, so
 * the daemon never recounts everything each tick:
 *   - a block is "stale" when it was never counted, its state changed (a
 *     uevent or our own action cleared usage_valid), its node's free page
 *     count moved by more than a threshold since the block was counted, or
 *     its count is older than RescanMaxSec;
 *   - blocks known to be empty are probed cheaply every tick (one page per
 *     buddy max-order chunk, see kpf_probe_range) and become stale when a
 *     probe finds a used page;
 *   - stale blocks are counted round-robin from a cursor while the CPU
 *     credit lasts. Credit is a token bucket filled at ScanCPUPercent of
 *     wall time and charged with the CPU time the tick really used, so the
 *     average stays inside the budget whatever a count costs.
 * No I/O and no clock here: the daemon passes times in. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memblock.h"

typedef struct ScanSched {
        uint32_t cursor;   /* block index the round-robin resumes at */
        int64_t credit_ns; /* CPU time the scanner may still spend; < 0 = in debt */
        int64_t cap_ns;    /* credit never grows above this */
} ScanSched;

/* Node free pages may move this much before a node's blocks are recounted. */
#define SCANSCHED_NODE_DRIFT_PAGES 256

void scansched_init(ScanSched *s);

/* Add the allowance for elapsed_ns of wall time at cpu_percent of one core.
 * The bucket holds at most two ticks' allowance (tick_ns each) plus one
 * block's cost (block_cost_ns), so a long gap between ticks does not buy a
 * burst. */
void scansched_refill(ScanSched *s, double cpu_percent, uint64_t elapsed_ns, uint64_t tick_ns,
                      uint64_t block_cost_ns);

/* Charge CPU time actually spent. */
void scansched_charge(ScanSched *s, uint64_t spent_ns);

bool scansched_may_scan(const ScanSched *s);

/* Does this block need a full count? Offline blocks never do (their usage is
 * known: no pages). */
bool scansched_block_stale(const MemBlock *b, uint64_t node_free_pages_now, uint64_t now_ns,
                           uint64_t rescan_max_ns);

/* Does this block get a cheap probe instead (online, counted, holding
 * nothing)? */
bool scansched_block_probe(const MemBlock *b);

/* Position in t of the next block to count among those marked stale
 * (MemBlock.stale), round-robin from the cursor: blocks with no valid usage
 * first, then the others. Returns -1 when none is stale. Advances the
 * cursor past the returned block: counting every block once (at start)
 * costs one step each, not a walk of the table each. */
ssize_t scansched_next(ScanSched *s, const BlockTable *t);
