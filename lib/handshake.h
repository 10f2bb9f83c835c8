/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The first-use / next-free handshake (docs/handshake.md), one slot per NUMA
 * node. A pure state machine: no I/O, no clock, no logging. The daemon feeds
 * it one look per tick (every block's usage and every node's free page
 * count) and gets back what happened: blocks noted, notes dropped, and
 * EVACUATE decisions.
 *
 * - first-use: a block that was empty at the previous look and now holds
 *   movable pages and nothing else used (no unmovable, no hugetlb page) is
 *   noted in its node's slot, unless work is in progress on that node or the
 *   block is not eligible as a target.
 * - next-free: the node's free page count rose since the previous look while
 *   a block is noted and no work is in progress: the note becomes an
 *   EVACUATE decision and the slot is marked in progress.
 * - a noted block is dropped when it vanished, moved node, is no longer
 *   eligible (went offline, excluded, usage unknown), gained unmovable or
 *   hugetlb pages, or became empty again.
 * - handshake_work_done() ends the work in progress, whatever its outcome.
 *
 * Decisions made here:
 *
 * - Previous emptiness is the caller's: HandshakeBlock.was_empty. The daemon
 *   holds each block's previous count anyway (it must know what changed), so
 *   the handshake keeps no per-block state and needs no per-block memory.
 * - A newer first-use replaces an older note, as in the kernel series (the
 *   alloc path sets the pending region whenever no work is pending). The
 *   older block has been filling since its first use, so it costs more to
 *   evacuate than the one that just started; the consolidation sweep still
 *   covers it. When several blocks of a node reach first use in the same
 *   look, the one with the fewest movable pages is noted, the highest index
 *   on ties (the same order as the sweep).
 * - Within one look, drops are applied first, then next-free, then
 *   first-use. A block noted at this look cannot be evacuated at this look:
 *   its allocation and the rise in free pages happened in the same interval
 *   in an unknown order, and the free must come after the first use to mean
 *   that room exists below it. It needs a rise at a later look.
 * - The free-count baseline is updated at every look, in progress or not, so
 *   a rise caused by our own evacuation (pages leaving the node) is not
 *   mistaken for a free once the work ends. A node whose free count is
 *   unknown at a look (HANDSHAKE_FREE_UNKNOWN) keeps its previous baseline.
 * - HandshakeInput.hold (pressure, pause) still notes and drops but starts
 *   no evacuation, and consumes the rise: under pressure the daemon onlines
 *   blocks, and the free pages that brings are not a "free" signal.
 * - Slots are allocated once (handshake_init / handshake_set_nodes), so a
 *   look never allocates. Blocks and counts of nodes beyond the slots are
 *   ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpageflags.h"

#define HANDSHAKE_FREE_UNKNOWN UINT64_MAX

/* A look yields at most this many events per node (a drop, then a note or an
 * evacuation). */
#define HANDSHAKE_EVENTS_PER_NODE 2

/* One block at one look. */
typedef struct HandshakeBlock {
        uint32_t index;
        int node;
        /* May be a target: online, usage known, not the node's lowest block,
         * not excluded, not DMA/DMA32, not spanning zones (policy_is_target()). */
        bool eligible;
        /* No used page (movable + unmovable + hugetlb == 0) at the previous
         * count of this block; false when that count is unknown. */
        bool was_empty;
        PageUsage usage; /* at this look */
} HandshakeBlock;

typedef struct HandshakeSlot {
        bool noted;         /* a block is noted (pending) */
        uint32_t block;     /* the noted block, when noted */
        bool in_progress;   /* work in progress on this node */
        uint32_t target;    /* block being evacuated, when in progress */
        uint64_t last_free; /* free pages at the previous look, or HANDSHAKE_FREE_UNKNOWN */

        /* Scratch of one look, meaningless between looks. */
        const HandshakeBlock *seen;      /* the noted block's observation at this look */
        const HandshakeBlock *candidate; /* best first use at this look */
} HandshakeSlot;

typedef struct Handshake {
        HandshakeSlot *slots; /* indexed by node id */
        size_t n_slots;
} Handshake;

typedef struct HandshakeInput {
        const HandshakeBlock *blocks; /* every block the daemon knows, any order */
        size_t n_blocks;
        const uint64_t *node_free; /* free pages by node id; HANDSHAKE_FREE_UNKNOWN = not read */
        size_t n_nodes;
        bool hold; /* note and drop, but start no evacuation */
} HandshakeInput;

typedef enum HandshakeAction {
        HANDSHAKE_NOTE,     /* block noted (first use) */
        HANDSHAKE_DROP,     /* note dropped, see reason */
        /* Start evacuating block; the slot is now in progress. The handshake
         * knows neither the reserve nor back-off: the daemon checks
         * policy_check_offlinable() and policy_can_spare_block() first, and
         * when it does not act, calls handshake_work_done() at once. */
        HANDSHAKE_EVACUATE,
        _HANDSHAKE_ACTION_MAX,
        _HANDSHAKE_ACTION_INVALID = -22,
} HandshakeAction;

typedef enum HandshakeDrop {
        HANDSHAKE_DROP_NONE,       /* not a drop */
        HANDSHAKE_DROP_VANISHED,   /* no longer in the table, or now on another node */
        HANDSHAKE_DROP_INELIGIBLE, /* offline, excluded, usage unknown, ... */
        HANDSHAKE_DROP_UNMOVABLE,  /* gained unmovable pages */
        HANDSHAKE_DROP_HUGETLB,    /* gained hugetlb pages */
        HANDSHAKE_DROP_EMPTY,      /* became empty again */
        HANDSHAKE_DROP_REPLACED,   /* a newer first use on the same node */
        _HANDSHAKE_DROP_MAX,
        _HANDSHAKE_DROP_INVALID = -22,
} HandshakeDrop;

typedef struct HandshakeEvent {
        HandshakeAction action;
        int node;
        uint32_t block;
        HandshakeDrop reason; /* HANDSHAKE_DROP_NONE unless action is DROP */
} HandshakeEvent;

const char *handshake_action_to_string(HandshakeAction a);
const char *handshake_drop_to_string(HandshakeDrop d);

/* Slots for nodes 0 .. n_nodes - 1, all idle. -ENOMEM. */
int handshake_init(Handshake *h, size_t n_nodes);
/* Grow (node hot-add) or shrink; existing slots keep their state. -ENOMEM
 * (h untouched). */
int handshake_set_nodes(Handshake *h, size_t n_nodes);
void handshake_free(Handshake *h);

/* Events a look may return: size ret_events at least this. */
static inline size_t handshake_max_events(const Handshake *h)
{
        return h->n_slots * HANDSHAKE_EVENTS_PER_NODE;
}

/* Take one look. Writes the events into ret_events, in node order, and
 * returns how many, or -ENOBUFS when ret_size < handshake_max_events() (h
 * untouched). */
int handshake_look(Handshake *h, const HandshakeInput *in, HandshakeEvent *ret_events,
                   size_t ret_size);

/* Work started outside the handshake (the consolidation sweep) on block of
 * node: marks the node in progress, so first uses there are not noted. A
 * note of that same block is cleared; a note of another block is kept.
 * -EINVAL for a node without a slot, -EBUSY when work is already in
 * progress there. */
int handshake_work_start(Handshake *h, int node, uint32_t block);
/* The evacuation on node ended, whatever its outcome. Returns 1 when work
 * was in progress, 0 when not, -EINVAL for a node without a slot. */
int handshake_work_done(Handshake *h, int node);

bool handshake_work_in_progress(const Handshake *h, int node);
/* The noted block of node: 1 and *ret_block when one is noted, 0 when none,
 * -EINVAL for a node without a slot. */
int handshake_get_noted(const Handshake *h, int node, uint32_t *ret_block);
