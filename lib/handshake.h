/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The first-use / next-free handshake, one slot per NUMA node, after the
 * kernel RFC "mm: Add alloc-free handshake to trigger memory region
 * compaction" (Srivatsa S. Bhat, 2013). In the kernel the allocator notes the
 * first allocation in a region that was entirely free (compacting then would
 * be pointless: the allocator went there because lower regions were full),
 * and the next free, the sign that room exists below, starts the evacuation
 * of the noted region. Here a region is a unit: a memory block, or a power
 * domain (lib/domain.h) with the usage of its blocks summed; the daemon's
 * periodic look stands for the allocator's paths. The text below says
 * "block" for a unit.
 *
 * A pure state machine: no I/O, no clock, no logging, no allocation. The
 * planner feeds it one look per tick (the block table and every node's free
 * page count) and asks it which noted blocks the next free has made ready:
 *
 * - first-use: a block that was empty at the previous look and now holds
 *   movable pages and nothing else used (no unmovable, hugetlb or unknown
 *   page) is noted in its node's slot, unless an evacuation is in progress on
 *   that node (HandshakeInput.busy_node) or the block is not eligible as a
 *   target.
 * - next-free: the node's free page count rose by at least
 *   HandshakeInput.rise_pages above its lowest reading since the note while a
 *   block is noted: the note is marked freed, and stays so until the planner
 *   takes it (handshake_take) or drops it. A freed note waits while the one
 *   worker is busy elsewhere; it is not lost.
 * - a noted block is dropped when it vanished, moved node, is no longer
 *   eligible (went offline, excluded, usage unknown), gained unmovable,
 *   hugetlb or unknown pages, or became empty again.
 *
 * Decisions made here:
 *
 * - Previous emptiness is the caller's: MemBlock.was_empty. The daemon holds
 *   each block's previous count anyway (it must know what changed), so the
 *   handshake keeps no per-block state and needs no per-block memory.
 * - A newer first-use replaces an older note that is not freed yet, as in
 *   the kernel series (the alloc path sets the pending region whenever no
 *   work is pending); a freed note only waits for the worker and stays. The
 *   older block has been filling since its first use, so it costs more to
 *   evacuate than the one that just started; the consolidation sweep still
 *   covers it. When several blocks of a node reach first use in the same
 *   look, the one with the fewest movable pages is noted, the highest index
 *   on ties (the same order as the sweep).
 * - Within one look, drops are applied first, then next-free, then
 *   first-use. A block noted at this look cannot be freed at this look: its
 *   allocation and the rise in free pages happened in the same interval in
 *   an unknown order, and the free must come after the first use to mean
 *   that room exists below it. It needs a rise at a later look.
 * - The rise is measured from the lowest free count seen since the note
 *   (hysteresis): counts wander by a few pages per look as per-CPU lists
 *   fill and drain, and a rise of one page is not a free. While the node is
 *   busy (our own evacuation moves pages off it) or the look holds, the
 *   lowest count restarts from the current one, so our own evacuation and
 *   memory onlined under pressure are never mistaken for a free. A node whose
 *   free count is unknown at a look (HANDSHAKE_FREE_UNKNOWN) keeps its state.
 * - HandshakeInput.hold (pressure) still notes and drops but marks nothing
 *   freed and clears what was: under pressure the daemon onlines blocks,
 *   and the free pages that brings are not a "free" signal.
 *   node_hold does the same for single nodes (blocks onlined there since the
 *   previous look, for a node that ran short).
 * - Slots are allocated once (handshake_init / handshake_set_nodes), so a
 *   look never allocates. Blocks and counts of nodes beyond the slots are
 *   ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpageflags.h"

#define HANDSHAKE_FREE_UNKNOWN UINT64_MAX

/* A look yields at most this many events per node (a drop, then a note, or
 * a drop and a freed). */
#define HANDSHAKE_EVENTS_PER_NODE 2

/* What the handshake watches: a memory block, or a power domain (its blocks
 * together). */
typedef struct HandshakeUnit {
        uint32_t id;      /* a block's index; a domain's lowest block index */
        int node;
        PageUsage usage;  /* at this look, over its online blocks */
        bool usage_valid; /* every online block of it counted */
        bool was_empty;   /* no used page at the count before (false: unknown) */
} HandshakeUnit;

/* May u be a target: online, usage known, not excluded, in an offlinable
 * zone, ... (the planner decides). */
typedef bool (*HandshakeEligibleFn)(const HandshakeUnit *u, void *userdata);

typedef struct HandshakeSlot {
        bool noted;         /* a block is noted (pending) */
        uint32_t block;     /* the noted unit's id, when noted */
        bool freed;         /* the node freed memory since the note */
        uint64_t low_free;  /* lowest free count since the note, or HANDSHAKE_FREE_UNKNOWN */

        /* Scratch of one look, meaningless between looks. */
        const HandshakeUnit *seen;      /* the noted unit at this look */
        const HandshakeUnit *candidate; /* best first use at this look */
} HandshakeSlot;

typedef struct Handshake {
        HandshakeSlot *slots; /* indexed by node id */
        size_t n_slots;
} Handshake;

typedef struct HandshakeInput {
        /* Every unit the daemon knows, any order. */
        const HandshakeUnit *units;
        size_t n_units;
        HandshakeEligibleFn eligible;
        void *userdata;
        const uint64_t *node_free; /* free pages by node id; HANDSHAKE_FREE_UNKNOWN = not read */
        size_t n_nodes;
        bool hold;           /* note and drop, but mark nothing freed */
        const bool *node_hold; /* by node id (n_nodes): hold for this node only; NULL none */
        int busy_node;       /* an evacuation is in progress on this node, -1 none */
        uint64_t rise_pages; /* the smallest rise that counts as a free (at least 1) */
} HandshakeInput;

typedef enum HandshakeAction {
        HANDSHAKE_NOTE,  /* block noted (first use) */
        HANDSHAKE_DROP,  /* note dropped, see reason */
        HANDSHAKE_FREED, /* next free: the noted block may be evacuated (handshake_take) */
        _HANDSHAKE_ACTION_MAX,
        _HANDSHAKE_ACTION_INVALID = -22,
} HandshakeAction;

typedef enum HandshakeDrop {
        HANDSHAKE_DROP_NONE,       /* not a drop */
        HANDSHAKE_DROP_VANISHED,   /* no longer among the units, or now on another node */
        HANDSHAKE_DROP_INELIGIBLE, /* offline, excluded, usage unknown, ... */
        HANDSHAKE_DROP_UNMOVABLE,  /* gained unmovable or unknown pages */
        HANDSHAKE_DROP_HUGETLB,    /* gained hugetlb pages */
        HANDSHAKE_DROP_EMPTY,      /* became empty again */
        HANDSHAKE_DROP_REPLACED,   /* a newer first use on the same node */
        HANDSHAKE_DROP_REFUSED,    /* the planner would not evacuate it (handshake_drop) */
        _HANDSHAKE_DROP_MAX,
        _HANDSHAKE_DROP_INVALID = -22,
} HandshakeDrop;

typedef struct HandshakeEvent {
        HandshakeAction action;
        int node;
        uint32_t block;       /* the unit's id */
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
 * untouched). ret_events NULL: events are only counted. */
int handshake_look(Handshake *h, const HandshakeInput *in, HandshakeEvent *ret_events,
                   size_t ret_size);

/* The noted block of node, when it is noted and freed: 1 and *ret_block,
 * and the note is consumed (the evacuation starts). 0 when there is none,
 * -EINVAL for a node without a slot. */
int handshake_take(Handshake *h, int node, uint32_t *ret_block);
/* Drop node's note (the planner found its block not to qualify). 1 when a
 * note was dropped, 0 when none, -EINVAL for a node without a slot. */
int handshake_drop(Handshake *h, int node);

/* The noted block of node: 1 and *ret_block when one is noted (freed or
 * not), 0 when none, -EINVAL for a node without a slot. */
int handshake_get_noted(const Handshake *h, int node, uint32_t *ret_block);
/* Is node's note freed (ready for handshake_take)? */
bool handshake_is_freed(const Handshake *h, int node);
