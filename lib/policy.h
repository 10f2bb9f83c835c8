/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* mempowerd's decisions beside the handshake: pressure, which blocks to
 * online, which block may be offlined and why not, the consolidation sweep,
 * per-block back-off, and where move_pages sends pages. Pure: no I/O, no
 * clock (time is an argument, CLOCK_MONOTONIC µs), no logging. Amounts are in
 * pages unless a name says kB.
 *
 * The hysteresis band: pressure starts when MemAvailable falls below the
 * reserve; under pressure blocks are onlined until MemAvailable reaches the
 * reserve plus one block; the sweep offlines a block only when MemAvailable
 * exceeds the reserve by more than one block, so that afterwards it is still
 * above the reserve. Between reserve and reserve + one block nothing moves,
 * so a block just onlined is not offlined again at the next tick. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "indexset.h"
#include "kpageflags.h"
#include "memblock.h"

/* Lowest-of-node bookkeeping covers node ids below this (the kernel's
 * MAX_NUMNODES with NODES_SHIFT=10); a block of a higher node is treated as
 * its node's lowest, i.e. never a target. */
#define POLICY_NODES_MAX 1024

/* Most picks one sweep returns (one per node, so far more than needed). */
#define POLICY_SWEEP_MAX 64

/* A node whose free count was not read. */
#define POLICY_FREE_UNKNOWN UINT64_MAX

/* ---- Pressure ---- */

typedef enum PressureReason {
        PRESSURE_NONE,        /* no pressure */
        PRESSURE_RESERVE,     /* MemAvailable below the reserve */
        PRESSURE_PSI,         /* PSI memory "some avg10" above the threshold */
        PRESSURE_RESERVE_PSI, /* both */
        _PRESSURE_REASON_MAX,
        _PRESSURE_REASON_INVALID = -22,
} PressureReason;

typedef struct MemSnapshot {
        uint64_t mem_total_kb;     /* MemTotal */
        uint64_t mem_available_kb; /* MemAvailable */
        uint64_t page_size;        /* bytes */
        bool psi_valid;            /* false: no PSI on this kernel */
        double psi_some_avg10;     /* %, when psi_valid */
} MemSnapshot;

typedef struct Pressure {
        PressureReason reason;    /* PRESSURE_NONE: not under pressure */
        uint64_t reserve_pages;   /* config_reserve_pages() of MemTotal */
        uint64_t available_pages; /* MemAvailable in pages, rounded down */
} Pressure;

const char *pressure_reason_to_string(PressureReason r);

static inline bool pressure_is_on(const Pressure *p)
{
        return p->reason != PRESSURE_NONE;
}

/* Pressure: MemAvailable strictly below the reserve (exactly at the reserve
 * is not pressure), or PSI some avg10 strictly above c->psi_some_avg10. A
 * threshold of 0 or less disables the PSI test (0 % would fire at any stall
 * at all), as does psi_valid == false. -EINVAL when page_size is 0 (ret
 * untouched). */
int policy_check_pressure(const Config *c, const MemSnapshot *m, Pressure *ret);

/* ---- Onlining ---- */

/* Offline blocks to online under pressure, lowest index first, into ret (at
 * most ret_size); returns how many. Picks continue until
 * available + onlined ≥ reserve + one block of headroom, and there is at
 * least one pick under any pressure (PSI may fire while MemAvailable looks
 * high enough; giving memory back is the safe direction). Nothing without
 * pressure. Candidates: state offline and valid_zones including Movable
 * (mempowerd onlines with online_movable only). Excluded blocks are never
 * picked: the exclusion list means "hands off" in both directions, and an
 * excluded block that is offline was offlined by someone else, maybe on
 * purpose (a failing DIMM). blocks need not be sorted. */
size_t policy_pick_online(const Config *c, const Pressure *p, const MemBlock *blocks,
                          size_t n_blocks, uint64_t pages_per_block, uint32_t *ret,
                          size_t ret_size);

/* ---- Back-off ---- */

/* Per-block back-off after a failed evacuation or offline. Failures double
 * the wait, from initial_usec up to max_usec. A refusal because of unmovable
 * pages (EBUSY) also holds the block until its usage changes
 * (backoff_hold + backoff_observe). A usage change lifts that hold but keeps
 * the timed wait and the attempt count: a block with pinned pages (they look
 * movable) changes usage at every count, and a full reset would retry its
 * costly evacuation at every count. backoff_reset() after a success. */
typedef struct Backoff {
        unsigned attempts;      /* failures since the last reset */
        uint64_t next_try_usec; /* not before this; 0 = any time */
        bool held;              /* waiting for a usage change */
        PageUsage usage;        /* usage when held */
} Backoff;

#define BACKOFF_NULL ((Backoff){ 0 })

/* A failure at now_usec: attempts + 1, next try after
 * min(initial << (attempts - 1), max). initial 0 means no wait. */
void backoff_fail(Backoff *b, uint64_t now_usec, uint64_t initial_usec, uint64_t max_usec);
/* Leave the block alone until its used counts (movable, unmovable, hugetlb)
 * differ from usage. */
void backoff_hold(Backoff *b, const PageUsage *usage);
/* Feed a fresh count: lifts the hold when the used counts changed. Returns
 * true when it lifted it. */
bool backoff_observe(Backoff *b, const PageUsage *usage);
bool backoff_ready(const Backoff *b, uint64_t now_usec);
void backoff_reset(Backoff *b);

/* ---- Offlinable blocks ---- */

typedef enum OfflineVerdict {
        OFFLINE_OK,              /* "offlinable" */
        OFFLINE_NOT_ONLINE,      /* "offline" */
        OFFLINE_GOING_OFFLINE,   /* "going-offline": an offline is in flight */
        OFFLINE_EXCLUDED,        /* "excluded": ExcludeBlocks */
        OFFLINE_NO_NODE,         /* "no-node": no nodeN link */
        OFFLINE_SPANS_ZONES,     /* "spans-zones": valid_zones "none" */
        OFFLINE_KERNEL_DMA_ZONE, /* "kernel-dma-zone": DMA or DMA32 */
        OFFLINE_OTHER_ZONE,      /* "unsupported-zone": not exactly Normal or Movable */
        OFFLINE_LOWEST_OF_NODE,  /* "lowest-of-node": the node's "region 0" */
        OFFLINE_UNKNOWN_USAGE,   /* "unknown-usage": not counted yet */
        OFFLINE_UNMOVABLE_PAGES, /* "unmovable-pages" */
        OFFLINE_HUGETLB,         /* "hugetlb": even pool pages, to be safe */
        OFFLINE_HOLES,           /* "holes": pages without struct page; the kernel refuses */
        OFFLINE_BACKOFF,         /* "backoff": failed recently, or held */
        _OFFLINE_VERDICT_MAX,
        _OFFLINE_VERDICT_INVALID = -22,
} OfflineVerdict;

const char *offline_verdict_to_string(OfflineVerdict v);

/* ret_lowest[i] = blocks[i] has the lowest index of its node among blocks
 * (any state: a fixed "region 0" per node, which does not move up as blocks
 * go offline). Blocks with node < 0 or ≥ POLICY_NODES_MAX are marked too.
 * blocks need not be sorted. */
void policy_mark_lowest_of_node(const MemBlock *blocks, size_t n_blocks, bool *ret_lowest);

/* Why b may not be offlined now, or OFFLINE_OK. Checked in this order, so
 * the permanent reasons show first: state, excluded, node, zones, lowest of
 * node, usage known, unmovable, hugetlb, holes, back-off. backoff may be
 * NULL (never failed). */
OfflineVerdict policy_check_offlinable(const Config *c, const MemBlock *b, bool lowest_of_node,
                                       const Backoff *backoff, uint64_t now_usec);

/* May b be a handshake target (HandshakeBlock.eligible): everything of
 * policy_check_offlinable() up to and including "usage known", but not what
 * the usage holds nor the back-off. */
bool policy_is_target(const Config *c, const MemBlock *b, bool lowest_of_node);

/* ---- Consolidation sweep ---- */

/* May one more block go offline: available > reserve + pages_per_block, so
 * that what is left stays above the reserve and outside the band where
 * onlining stops. The sweep applies it before every pick; the daemon applies
 * it to a handshake EVACUATE before acting on it (the handshake knows nothing
 * of the reserve). */
bool policy_can_spare_block(uint64_t available_pages, uint64_t reserve_pages,
                            uint64_t pages_per_block);

/* Without block b, does its node keep floor_pages free? Its used pages move
 * to another node; its free pages leave this one. An unknown free count
 * (POLICY_FREE_UNKNOWN) does not stop anything. */
bool policy_node_can_spare(uint64_t node_free_pages, uint64_t floor_pages, const MemBlock *b);

typedef struct SweepInput {
        const MemBlock *blocks; /* any order */
        size_t n_blocks;
        const bool *lowest_of_node; /* parallel to blocks (policy_mark_lowest_of_node) */
        const Backoff *backoffs;    /* parallel to blocks; NULL = none failed */
        const bool *node_busy;      /* by node id: work in progress there; NULL = none */
        size_t n_nodes;             /* entries in node_busy and node_free */
        const uint64_t *node_free;  /* by node id: free pages; NULL or POLICY_FREE_UNKNOWN = no floor */
        uint64_t node_floor_pages;  /* a node keeps this much free without the block */
        uint64_t available_pages;   /* MemAvailable */
        uint64_t reserve_pages;
        uint64_t pages_per_block;
        uint64_t now_usec;
} SweepInput;

/* Blocks to evacuate and offline, into ret (at most ret_size,
 * c->max_evacuations_per_tick and POLICY_SWEEP_MAX); returns how many. Each
 * pick is the offlinable block cheapest to empty (fewest movable pages, the
 * highest index on ties), on a node not busy and not already picked (one
 * evacuation per node at a time), and only while available > reserve + one
 * block: a block counts as a whole block of pages leaving the total (its free
 * pages vanish, its movable pages take free pages elsewhere), and what is
 * left must stay above the reserve. Each pick lowers the available count for
 * the next. */
size_t policy_sweep(const Config *c, const SweepInput *in, uint32_t *ret, size_t ret_size);

/* ---- Destination of move_pages ---- */

/* The lowest node that may receive pages pages from source_node: in
 * has_memory, in c->destination_nodes (empty = every node), not the source,
 * with a known free count (node_free by node id, POLICY_FREE_UNKNOWN or
 * beyond n_nodes = unknown) and room: free - pages ≥ its share of the
 * reserve, the reserve divided evenly among the nodes with memory (rounded
 * up). Returns the node, or -ENOSPC when none qualifies. */
int policy_pick_destination(const Config *c, const IndexSet *has_memory, const uint64_t *node_free,
                            size_t n_nodes, int source_node, uint64_t pages,
                            uint64_t reserve_pages);
