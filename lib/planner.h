/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The planner: every decision mempowerd makes, as one function of what the
 * daemon knows at an instant. No I/O, no clock (time is an argument,
 * CLOCK_MONOTONIC µs), no logging, no allocation.
 *
 *   planner_decide(snapshot, state) -> plan
 *
 * The snapshot (PlanInput) holds the block table, per-node free counts, the
 * machine's memory figures (MemAvailable, PSI, commit headroom, kernel-zone
 * free pages), the evacuation in flight, the configuration and the clock.
 * PlannerState is what the planner remembers between calls: the handshake's
 * notes, when the machine and each node last ran short. The plan is an
 * ordered list of actions (abort the evacuation in flight, online a block,
 * migrate a block's pages, offline a block), each with its reason.
 * planner_explain() says, for every block, what the planner would do with
 * it or why it leaves it alone, without changing the state.
 *
 * Rules, in the order they apply:
 *
 * 1. Pressure: MemAvailable below the reserve (the larger of MinFreeMiB and
 *    MinFreePercent of MemTotal); at a look (PLAN_LOOK), PSI memory "some
 *    avg10" above PSISomeAvg10; commit headroom below the reserve (see
 *    below); the kernel zones' free pages (buddy allocator, DMA to Normal)
 *    below the reserve computed over the kernel zones' size: user pages drain
 *    them when movable memory runs short, and GFP_KERNEL allocations cannot
 *    use ZONE_MOVABLE whatever MemAvailable says; meminfo that could not be
 *    read (fail closed). Under pressure the evacuation in
 *    flight is aborted and blocks are onlined, lowest index first, until
 *    MemAvailable and the commit headroom reach the reserve plus one block
 *    (at least one block under any pressure). Blocks whose online failed
 *    within the last second come after the others. Pressure of the reserve,
 *    the commit headroom or the kernel zones, once seen, lasts until what
 *    stopped it is back above its mark plus one block (hysteresis): an
 *    online that had to wait for an offline to end still happens when
 *    MemAvailable crept back just over the reserve meanwhile.
 * 2. Node floors: a node below NodeMinFreeMiB gets its own offline blocks
 *    back until it has the floor plus one block (a process bound to a node
 *    runs short there while the machine does not).
 * 3. Onlining never happens while an offline is in flight: the kernel's
 *    offline holds the global hotplug lock, and an online written behind it
 *    would block the daemon. The plan aborts the offline and says
 *    onlining_waits; the next plan, after the worker ended, onlines.
 * 4. What is onlined: by default only blocks mempowerd took offline
 *    (BlockTrack.owned), into the zone they came from; when that zone is no
 *    longer valid for the block, into the other one (giving memory back
 *    wins over its zone). With OnlineOthers=yes, other offline blocks too,
 *    movable only, but never an excluded one (it may be offline on purpose);
 *    an excluded block mempowerd took offline itself is given back (nobody
 *    else would). When the daemon exits
 *    (PLAN_GIVE_BACK), every block it owns, unless KeepOfflineOnExit=yes.
 *    With OnlineHotAdded=yes, a block hot-added offline is onlined at once.
 * 5. No offline under pressure, on a node that ran short, while paused, for
 *    BackoffInitialSec after any pressure and after any block was onlined
 *    (the quiet time: an online can take seconds on a loaded machine, and
 *    memory just given back is not taken again while the demand that needed
 *    it goes on), or when the counters could not be read.
 * 6. A block may go offline when it is online, not excluded, on a node, in
 *    ZONE_MOVABLE (or ZONE_NORMAL with OfflineKernelZones=yes), not its
 *    node's lowest block, counted, with no unmovable, unknown or hugetlb
 *    page and no hole, not backing off; and when MemAvailable exceeds the
 *    reserve by more than the block (so that without it, it stays above the
 *    reserve: offlining stops inside the band of rule 1, onlining at its top),
 *    the commit headroom above the reserve plus what the block takes from
 *    CommitLimit, its node above its floor, the kernel zones above their
 *    reserve and MOVABLE:KERNEL at most 3:1 (kernel-zone blocks), and, on a
 *    machine with other memory nodes, one allowed destination node can take
 *    its movable pages above its share of the reserve and its floor (the
 *    kernel's own offline migration would put them on any node, ignoring
 *    DestinationNodes and the floors). A node whose free memory is falling
 *    (something allocates there) is left alone.
 * 7. Which block: the one the handshake made ready (first use, then the next
 *    free on its node) if it qualifies (a note whose block no longer can go
 *    is dropped; one that must wait for its node or the reserve waits),
 *    else the consolidation sweep's pick:
 *    the qualifying block cheapest to empty (fewest movable pages, the
 *    highest index on ties). One evacuation at a time, at most
 *    MaxEvacuationsPerTick started per tick.
 * 8. An evacuation is two steps: migrate (move_pages to the destination),
 *    then offline. Before the offline the block is checked again against
 *    rule 6 with fresh counts, what moved already taken into account.
 * 9. Break-even (BreakEven=yes): an evacuation starts only when what going
 *    offline saves over the time it is expected to stay offline repays the
 *    energy of moving its pages: (OnlineWattsPerGiB - KindOfflineWattsPerGiB)
 *    x GiB x expected seconds >= MigrationJoulesPerGiB x GiB to move. The
 *    expectation is the domain's own history (domain_expected_usec), else
 *    ExpectedOfflineSec. A block alone (Domains=block) saves nothing by the
 *    default figures: only empty blocks go.
 *
 * Domains (Domains= other than block: PlanInput.domains), instead of the
 * lowest-of-node rule and rule 7:
 *
 * - A domain is emptied whole or not at all. It may be started when every
 *   online block of it passes rule 6's own checks (zones, counts, no
 *   unmovable, unknown or hugetlb page, no hole, not backing off) and the
 *   machine can do without all of them at once (reserve, commit headroom,
 *   kernel zones, its node's floor, the destinations together); a block in
 *   a zone that may not go offline makes its domain "kernel-memory", never
 *   a target; a block in no domain (Domains=device) is never a target.
 * - A domain that is all of its node's online memory waives the node's
 *   floor but waits until the memory policies of every process were read
 *   within PLAN_BINDINGS_FRESH_USEC (Plan.check_bindings_node asks for
 *   them): a process that binds its memory to that node alone keeps it
 *   online ("bound-to-node"). The offline of each of its blocks asks again.
 * - Which: the domain the handshake made ready (its units are domains,
 *   named by their lowest block), else the qualifying domain with the
 *   fewest movable pages (the higher lowest block on ties). Its blocks go
 *   one at a time, cheapest first (reason "domain" after the first).
 * - One target at a time (PlannerState.target_block): it is finished before
 *   another starts. It waits while its node is busy, a block backs off or
 *   is uncounted, or the policies are read; anything else gives it up
 *   (Plan.dropped): pressure, the reserve, the floors or the destinations
 *   running short, a block that can no longer go.
 * - EjectEmptyDevices=yes: an ACPI memory device offline whole, every block
 *   of it taken offline by mempowerd (not hot-added), is ejected when
 *   nothing else is to be done (no pressure, not paused, no quiet time, no
 *   evacuation) and the machine can do without it for good: MemAvailable
 *   and the commit headroom above the reserve by more than the device. One
 *   per plan, and nothing starts in that plan.
 * - A domain partly offline saves nothing: unless it is the target, the
 *   blocks mempowerd took offline there are onlined (reason
 *   "partial-domain"), and under pressure they come back first. A plan that
 *   onlines starts nothing after a given-up target.
 *
 * Commit headroom: with vm.overcommit_memory=2, CommitLimit - Committed_AS
 * (an offline block lowers CommitLimit by its size times overcommit_ratio,
 * or not at all with overcommit_kbytes); with the heuristic mode 0, online
 * RAM plus swap minus Committed_AS (memory already promised must fit in what
 * stays online); mode 1 has no limit. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "domain.h"
#include "handshake.h"
#include "indexset.h"
#include "kpageflags.h"
#include "memblock.h"

/* Node ids the planner handles (the kernel's MAX_NUMNODES with
 * NODES_SHIFT=10). A block of a higher node is never a target. */
#define PLAN_NODES_MAX 1024

/* Actions one plan holds at most; more are left to the next plan. */
#define PLAN_ACTIONS_MAX 256

/* A free count that was not read. */
#define PLAN_FREE_UNKNOWN UINT64_MAX

/* The rise of a node's free count that is a "free" for the handshake. */
#define PLAN_HANDSHAKE_RISE_PAGES 256

/* Free memory may fall this much between ticks before a node counts as
 * busy (something allocates there). */
#define PLAN_NODE_FALL_PAGES 256

/* Most movable pages per kernel page (memory-hotplug.rst: 3:1 is safe). */
#define PLAN_MOVABLE_PER_KERNEL 3

typedef enum PlanKind {
        PLAN_LOOK,      /* a tick: fresh counts; the handshake looks and PSI counts */
        PLAN_WATCH,     /* the fast pressure watch: giving back only */
        PLAN_STEP,      /* an evacuation step ended: go on (no look) */
        PLAN_GIVE_BACK, /* the daemon exits: give back every block it took */
        _PLAN_KIND_MAX,
        _PLAN_KIND_INVALID = -22,
} PlanKind;

/* Pressure, as flags. */
enum {
        PRESSURE_RESERVE = 1u << 0,    /* MemAvailable below the reserve */
        PRESSURE_PSI = 1u << 1,        /* PSI memory "some avg10" above the threshold */
        PRESSURE_COMMIT = 1u << 2,     /* commit headroom below the reserve */
        PRESSURE_KERNEL = 1u << 3,     /* kernel-zone free pages below the kernel reserve */
        PRESSURE_UNREADABLE = 1u << 4, /* meminfo could not be read */
        _PRESSURE_ALL = (1u << 5) - 1,
};

/* "reserve", "psi", "reserve+psi", ..., "none" for 0. Returns buf. */
const char *pressure_to_string(unsigned flags, char *buf, size_t size);

typedef struct PlanNode {
        bool present;             /* free counts read */
        bool has_memory;          /* node/has_memory: may receive pages */
        uint64_t free_pages;
        uint64_t prev_free_pages; /* at the previous tick; PLAN_FREE_UNKNOWN if none */
        uint64_t bindings_usec;   /* when the memory policies of all processes were read, 0 never */
        bool bound;               /* then: a process's policy binds memory to this node alone */
} PlanNode;

/* The memory policies read this long ago still count for a node that is
 * being emptied (Plan.check_bindings_node asks for a new reading). */
#define PLAN_BINDINGS_FRESH_USEC (10 * 1000000ULL)

typedef enum Overcommit {
        OVERCOMMIT_HEURISTIC = 0,
        OVERCOMMIT_ALWAYS = 1,
        OVERCOMMIT_NEVER = 2,
        OVERCOMMIT_UNKNOWN = -1, /* not read: treated as the heuristic mode */
} Overcommit;

typedef struct PlanMemory {
        bool valid;                /* /proc/meminfo was read */
        uint64_t total_pages;      /* MemTotal */
        uint64_t available_pages;  /* MemAvailable */
        bool psi_valid;
        double psi_some_avg10;
        Overcommit overcommit;         /* vm.overcommit_memory */
        unsigned overcommit_ratio;     /* vm.overcommit_ratio, % */
        uint64_t overcommit_kbytes;    /* vm.overcommit_kbytes; not 0: used instead of the ratio */
        uint64_t commit_limit_pages;   /* CommitLimit */
        uint64_t committed_pages;      /* Committed_AS */
        uint64_t swap_total_pages;     /* SwapTotal */
        bool zones_valid;              /* kernel_free_pages was read (/proc/zoneinfo) */
        uint64_t kernel_free_pages;    /* free pages of the DMA, DMA32 and Normal zones */
} PlanMemory;

typedef enum PlanEvacPhase {
        PLAN_EVAC_NONE,
        PLAN_EVAC_MIGRATING, /* the worker runs move_pages (no kernel lock held) */
        PLAN_EVAC_MIGRATED,  /* pages moved; the offline is the next step */
        PLAN_EVAC_OFFLINING, /* the worker writes "offline" (holds the hotplug lock) */
        PLAN_EVAC_ENDING,    /* aborted: the worker has not ended yet */
        _PLAN_EVAC_PHASE_MAX,
        _PLAN_EVAC_PHASE_INVALID = -22,
} PlanEvacPhase;

typedef struct PlanEvacuation {
        PlanEvacPhase phase;
        uint32_t index;
        int node;
        uint64_t moved_pages; /* moved off the block so far */
} PlanEvacuation;

typedef struct PlanInput {
        PlanKind kind;
        const Config *config;
        uint64_t now_usec;
        const MemBlock *blocks; /* sorted by index, as BlockTable keeps them */
        size_t n_blocks;
        uint64_t pages_per_block;
        uint64_t page_size;     /* bytes */
        const PlanNode *nodes;  /* by node id */
        size_t n_nodes;
        PlanMemory mem;
        PlanEvacuation evac;
        bool paused;
        unsigned evacuations_this_tick; /* started since the last look */
        uint64_t last_online_usec;      /* when mempowerd last onlined a block, 0 never */

        /* Power domains. domains NULL, or its mode DOMAINS_BLOCK: every block
         * alone, as rule 6 and 7 say; otherwise see "Domains" below. */
        const DomainTable *domains;
        const DomainStat *domain_stats;       /* by domain id (domain_stats_compute) */
        const uint64_t *domain_expected_usec; /* by domain id: offline residency its history
                                               * expects, 0 none; NULL: no history */
        HandshakeUnit *units; /* the handshake's scratch, n_blocks entries; NULL: no look */
} PlanInput;

/* Why a block is left alone, or what it would get. */
typedef enum PlanVerdict {
        VERDICT_OK,               /* "offline" or "evacuate": it would go (movable pages or not) */
        VERDICT_EVACUATING,       /* "evacuating": in flight */
        VERDICT_OFFLINED,         /* "offlined": offline, taken by mempowerd */
        VERDICT_OFFLINE_OTHER,    /* "offline-other": offline, not by mempowerd */
        VERDICT_GOING_OFFLINE,    /* "going-offline": someone's offline is in flight */
        VERDICT_EXCLUDED,         /* "excluded": ExcludeBlocks */
        VERDICT_NO_NODE,          /* "no-node": no nodeN link */
        VERDICT_SPANS_ZONES,      /* "spans-zones": valid_zones "none" */
        VERDICT_KERNEL_DMA_ZONE,  /* "kernel-dma-zone": DMA or DMA32 */
        VERDICT_KERNEL_ZONE,      /* "kernel-zone": Normal, OfflineKernelZones=no */
        VERDICT_OTHER_ZONE,       /* "unsupported-zone": not exactly Normal or Movable */
        VERDICT_LOWEST_OF_NODE,   /* "lowest-of-node": the node's "region 0" */
        VERDICT_UNKNOWN_USAGE,    /* "unknown-usage": not counted yet */
        VERDICT_UNMOVABLE_PAGES,  /* "unmovable-pages" */
        VERDICT_UNKNOWN_PAGES,    /* "unidentified-pages": kernel-zone pages that read 0 */
        VERDICT_HUGETLB,          /* "hugetlb": even pool pages, to be safe */
        VERDICT_HOLES,            /* "holes": pages without struct page; the kernel refuses */
        VERDICT_BACKOFF,          /* "backoff": failed recently, or held */
        VERDICT_PAUSED,           /* "paused": Pause() */
        VERDICT_PRESSURE,         /* "pressure": memory is being given back */
        VERDICT_QUIET,            /* "after-pressure": BackoffInitialSec after pressure */
        VERDICT_NO_COUNTERS,      /* "counters-unreadable": fail closed */
        VERDICT_NODE_BUSY,        /* "node-busy": its node ran short or its free memory falls */
        VERDICT_NODE_FLOOR,       /* "node-floor": its node would fall below NodeMinFreeMiB */
        VERDICT_RESERVE,          /* "reserve": MemAvailable would come within a block of the reserve */
        VERDICT_COMMIT,           /* "commit-headroom": the commit headroom would fall short */
        VERDICT_KERNEL_FLOOR,     /* "kernel-floor": kernel zones would fall below their reserve */
        VERDICT_KERNEL_RATIO,     /* "kernel-ratio": MOVABLE:KERNEL would exceed 3:1 */
        VERDICT_NO_DESTINATION,   /* "no-destination": no allowed node can take its pages */
        VERDICT_NO_DOMAIN,        /* "no-domain": in no power domain (Domains=device) */
        VERDICT_KERNEL_MEMORY,    /* "kernel-memory": its domain holds kernel zones */
        VERDICT_BREAK_EVEN,       /* "break-even": the migration would not pay for itself */
        VERDICT_BOUND,            /* "bound-to-node": a process binds memory to its node */
        VERDICT_CHECKING,         /* "checking-bindings": memory policies are being read */
        _PLAN_VERDICT_MAX,
        _PLAN_VERDICT_INVALID = -22,
} PlanVerdict;

const char *plan_verdict_to_string(PlanVerdict v);
/* The word for a block: plan_verdict_to_string, but VERDICT_OK reads
 * "evacuate" when the block holds movable pages and "offline" when not. */
const char *plan_verdict_word(PlanVerdict v, const MemBlock *b);

typedef enum PlanActionKind {
        PLAN_ABORT,   /* end the evacuation in flight */
        PLAN_ONLINE,  /* online the block into zone */
        PLAN_MIGRATE, /* start an evacuation: move_pages the block's pages to dest_node */
        PLAN_OFFLINE, /* write "offline": the second step, or the only one */
        PLAN_EJECT,   /* eject the ACPI memory device of the domain of block index */
        _PLAN_ACTION_KIND_MAX,
        _PLAN_ACTION_KIND_INVALID = -22,
} PlanActionKind;

typedef enum PlanReason {
        PLAN_REASON_HANDSHAKE, /* "handshake": next free after first use */
        PLAN_REASON_SWEEP,     /* "sweep": consolidation */
        PLAN_REASON_STEP,      /* "step": the offline after the migration */
        PLAN_REASON_PRESSURE,  /* "pressure": see Plan.pressure */
        PLAN_REASON_NODE,      /* "node-floor": a node below NodeMinFreeMiB */
        PLAN_REASON_REFUSED,   /* "refused": the migrated block no longer qualifies (verdict) */
        PLAN_REASON_EXIT,      /* "exit": the daemon gives back before it exits */
        PLAN_REASON_HOT_ADD,   /* "hot-add": OnlineHotAdded=yes */
        PLAN_REASON_DOMAIN,    /* "domain": the next block of the domain being emptied */
        PLAN_REASON_PARTIAL,   /* "partial-domain": its domain is no longer being emptied */
        PLAN_REASON_EJECT,     /* "empty-device": EjectEmptyDevices=yes */
        _PLAN_REASON_MAX,
        _PLAN_REASON_INVALID = -22,
} PlanReason;

typedef enum PlanZone {
        PLAN_ZONE_NONE,    /* cannot be onlined */
        PLAN_ZONE_MOVABLE, /* "online_movable" */
        PLAN_ZONE_KERNEL,  /* "online_kernel" */
        _PLAN_ZONE_MAX,
        _PLAN_ZONE_INVALID = -22,
} PlanZone;

/* The zone an offline block goes back into (rule 4), PLAN_ZONE_NONE when it
 * is not to be onlined; *ret_fallback: not the zone it came from. anyone:
 * also blocks mempowerd does not own (OnlineAll()), movable only. */
PlanZone planner_online_zone(const Config *c, const MemBlock *b, bool anyone, bool *ret_fallback);

const char *plan_action_kind_to_string(PlanActionKind k);
const char *plan_reason_to_string(PlanReason r);
/* The word written to the block's state file: "online_movable", ... */
const char *plan_zone_to_state_word(PlanZone z);

typedef struct PlanAction {
        PlanActionKind kind;
        PlanReason reason;
        uint32_t index;
        int node;            /* the block's node */
        int dest_node;       /* PLAN_MIGRATE: where move_pages sends the pages */
        PlanZone zone;       /* PLAN_ONLINE */
        bool fallback;       /* PLAN_ONLINE: not the zone it came from (not valid now) */
        PlanVerdict verdict; /* PLAN_ABORT with PLAN_REASON_REFUSED: why */
        uint64_t movable;    /* PLAN_MIGRATE, PLAN_OFFLINE: movable pages counted */
} PlanAction;

typedef struct Plan {
        PlanAction actions[PLAN_ACTIONS_MAX];
        size_t n_actions;
        unsigned pressure;       /* PRESSURE_* now */
        uint64_t reserve_pages;
        uint64_t available_pages;
        uint64_t commit_headroom_pages; /* UINT64_MAX: no limit (mode 1) */
        bool onlining_waits;     /* blocks are due but wait for the worker to end */
        bool nodes_short;        /* some node is below its floor */
        uint32_t target;         /* the domain being emptied, DOMAIN_NONE */
        uint32_t dropped;        /* a domain given up as a target by this plan, DOMAIN_NONE */
        PlanVerdict dropped_verdict; /* why */
        int check_bindings_node; /* read every process's memory policy for this node, -1 no */
        /* The handshake's events of a look; the caller's buffer of
         * planner_max_events() entries (NULL: not wanted). */
        HandshakeEvent *events;
        size_t events_size;
        size_t n_events;
} Plan;

typedef struct PlannerState {
        Handshake handshake;
        uint64_t *node_short_usec; /* by node: when it was last below its floor, 0 never */
        bool *node_onlined;        /* by node: a block was onlined there since the last look */
        size_t n_nodes;
        uint64_t pressure_usec;    /* when the machine was last under pressure, 0 never */
        unsigned pressure_latched; /* PRESSURE_* that last until the band is cleared */
        uint32_t target_block;     /* the domain being emptied, by its lowest block; UINT32_MAX none */
} PlannerState;

/* For nodes 0 .. n_nodes - 1. -ENOMEM. */
int planner_state_init(PlannerState *st, size_t n_nodes);
/* Grow or shrink (node hot-add); kept what there was. -ENOMEM (untouched). */
int planner_state_set_nodes(PlannerState *st, size_t n_nodes);
void planner_state_free(PlannerState *st);

/* Events a plan may hold: a look's, and a refused note per node. */
static inline size_t planner_max_events(const PlannerState *st)
{
        return handshake_max_events(&st->handshake) + st->handshake.n_slots;
}

/* The plan for in. ret->events/events_size are the caller's and kept (an
 * events buffer smaller than planner_max_events() is not used: no events);
 * the rest of *ret is overwritten. -EINVAL for a bad input (no config, page
 * size 0, a kind out of range). */
int planner_decide(const PlanInput *in, PlannerState *st, Plan *ret);

typedef struct PlanSummary {
        size_t offlinable;          /* blocks the sweep would take from here, one after the other */
        uint64_t available_after;   /* MemAvailable (pages) once they are offline */
        uint64_t reserve_pages;
        unsigned pressure;          /* PRESSURE_* now */
} PlanSummary;

/* What the planner would do with each block if nothing changed but its own
 * actions: ret_verdicts[i] for in->blocks[i]. Blocks that qualify are taken
 * in the sweep's order, each one lowering what is free, until the reserve,
 * the floors or the destinations stop them (those get the verdict that
 * stopped them); with domains, whole domains are taken, cheapest first, and
 * a block whose own verdict lets it go gets its domain's.
 * ret_domain_verdicts (NULL: not wanted): in->domains->n entries, the
 * verdict of every domain. The state is not changed. scratch: in->n_blocks
 * entries.
 * ret_summary may be NULL. -EINVAL as planner_decide, and for more than
 * UINT32_MAX blocks. */
int planner_explain(const PlanInput *in, const PlannerState *st, PlanVerdict *ret_verdicts,
                    PlanVerdict *ret_domain_verdicts, uint64_t *scratch, PlanSummary *ret_summary);
