/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The planner, one snapshot per rule and per race: each case is a table row
 * (blocks, nodes, memory figures, the evacuation in flight, the planner's
 * memory) and the plan or the verdicts it must give. Sequences of looks
 * (the handshake) follow the table. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "indexset.h"
#include "planner.h"
#include "testutil.h"
#include "util.h"

#define PS   4096u
#define PPB  32768u /* 128 MiB blocks */
#define MIB  256u   /* pages per MiB */
#define NOW  (1000u * 1000000u)
#define NONE UINT64_MAX

/* A block in a case. state: 'o' online, 'x' offline, 'g' going-offline. */
typedef struct TBlock {
        uint32_t index;
        int node;
        char state;
        unsigned zones;
        uint64_t movable, unmovable, unknown, hugetlb, nopage;
        bool owned;
        unsigned origin;
        bool uncounted;
        uint64_t backoff_until;
        uint64_t retry_at;
        bool hot_added;
        bool eject_sent;
} TBlock;

typedef struct TNode {
        uint64_t free_mib;
        uint64_t prev_mib; /* 0: same as free */
        bool no_memory;
        int bindings; /* memory policies: 0 not read, 1 read now and none binds here, 2 one does */
} TNode;

typedef struct TAction {
        PlanActionKind kind;
        uint32_t index;
        PlanReason reason;
        int dest;     /* PLAN_MIGRATE */
        PlanZone zone; /* PLAN_ONLINE */
} TAction;

typedef struct TVerdict {
        uint32_t index;
        PlanVerdict v;
} TVerdict;

typedef struct TCase {
        const char *name;
        PlanKind kind;
        void (*config)(Config *c);
        TBlock blocks[12];
        TNode nodes[3];
        uint64_t total_mib, avail_mib;
        bool invalid;
        double psi;
        Overcommit overcommit;
        uint64_t commit_limit_mib, committed_mib;
        unsigned ratio;
        int64_t kernel_free_mib; /* <= 0: not read */
        PlanEvacuation evac;
        bool paused;
        unsigned this_tick;
        uint64_t pressure_ago;   /* µs before NOW, 0 never */
        uint64_t online_ago;     /* µs before NOW a block was onlined, 0 never */
        int short_node;          /* ran short 1 s ago; -1 none */
        unsigned pressure;       /* expected flags */
        bool waits;              /* expected onlining_waits */
        TAction actions[8];      /* expected plan; .kind == 0 with .index == 0 ends it... */
        size_t n_actions;
        TVerdict verdicts[8];    /* expected from planner_explain */
        size_t n_verdicts;
        size_t offlinable;       /* expected summary, when verdicts are given */
        bool by_domain;          /* group the blocks (Domains=domains) */
        DomainMode domains;
        uint32_t target;         /* PlannerState.target_block, 0 none */
        uint64_t expected_s[4];  /* the domains' residency history, by id; 0 none */
        int check_node;          /* expected check_bindings_node + 1; 0: -1 */
        bool dimms;              /* 32-35 an ejectable ACPI device, 36-39 another */
} TCase;

#define MOV ZONE_MOVABLE_BIT
#define NRM ZONE_NORMAL_BIT
#define D32 ZONE_DMA32_BIT
#define END { .index = UINT32_MAX }

/* ---- configs ---- */
static void cfg_others(Config *c)
{
        c->online_others = true;
}
static void cfg_kernel(Config *c)
{
        c->offline_kernel_zones = true;
}
static void cfg_two_per_tick(Config *c)
{
        c->max_evacuations_per_tick = 2;
}
static void cfg_dest_none(Config *c)
{
        (void)indexset_parse("2", 1023, &c->destination_nodes);
}
static void cfg_no_floor(Config *c)
{
        c->node_reserve_mib = 0;
}
static void cfg_hot_added(Config *c)
{
        c->online_hot_added = true;
}
static void cfg_break_even(Config *c)
{
        c->break_even = true;
}
static void cfg_break_even_60s(Config *c)
{
        c->break_even = true;
        c->expected_offline_usec = 60 * 1000000ULL;
}
static void cfg_eject(Config *c)
{
        c->eject_empty_devices = true;
}
static void cfg_exclude_40_41_others(Config *c)
{
        (void)indexset_parse("40-41", 1023, &c->exclude_blocks);
        c->online_others = true;
}

/* Node 0: boot memory (kernel zones), node 1: four movable blocks. The
 * machine: 2 GiB, 1.5 GiB available: reserve 256 MiB. */
/* Node 1 as two 512 MiB regions: 32-35 and 36-39 (domain ids 1 and 2;
 * node 0's blocks are domain 0). */
#define REGION_A(m32, m33, m34, m35)                                                               \
        { 32, 1, 'o', MOV, .movable = m32 }, { 33, 1, 'o', MOV, .movable = m33 },                    \
                { 34, 1, 'o', MOV, .movable = m34 }, { 35, 1, 'o', MOV, .movable = m35 }
#define REGION_B_FREE                                                                               \
        { 36, 1, 'o', MOV }, { 37, 1, 'o', MOV }, { 38, 1, 'o', MOV }, { 39, 1, 'o', MOV }

#define BOOT_BLOCKS                                                                                 \
        { 0, 0, 'o', 0, .unmovable = PPB / 2 }, { 1, 0, 'o', D32, .unmovable = PPB },               \
                { 2, 0, 'o', D32, .movable = PPB / 2 }

static const TCase cases[] = {
        {
                .name = "sweep: the free block with the highest index",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV, .movable = 10 }, { 33, 1, 'o', MOV },
                            { 34, 1, 'o', MOV }, { 35, 1, 'o', MOV, .movable = 5 }, END },
                .nodes = { { 600 }, { 400 } },
                .actions = { { PLAN_OFFLINE, 34, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                /* node 1 has room for two blocks' free pages above its floor */
                .verdicts = { { 32, VERDICT_LOWEST_OF_NODE }, { 33, VERDICT_OK }, { 34, VERDICT_OK },
                              { 35, VERDICT_NODE_FLOOR }, { 0, VERDICT_SPANS_ZONES },
                              { 1, VERDICT_KERNEL_DMA_ZONE } },
                .n_verdicts = 6,
                .offlinable = 2,
        },
        {
                .name = "sweep: movable pages go to the lowest node with room",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 600 }, { 400 } },
                .actions = { { PLAN_MIGRATE, 33, PLAN_REASON_SWEEP, .dest = 0 } },
                .n_actions = 1,
        },
        {
                .name = "one memory node: the kernel's offline migrates",
                .blocks = { { 10, 0, 'o', MOV }, { 11, 0, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 1000 } },
                .actions = { { PLAN_OFFLINE, 11, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
        {
                .name = "pages the destinations cannot hold: no offline",
                /* node 0 keeps its share of the reserve (128 MiB) */
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100 * MIB },
                            END },
                .nodes = { { 200 }, { 400 } },
                .verdicts = { { 33, VERDICT_NO_DESTINATION } },
                .n_verdicts = 1,
        },
        {
                .name = "DestinationNodes names no node with memory",
                .config = cfg_dest_none,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 1 }, END },
                .nodes = { { 600 }, { 400 } },
                .verdicts = { { 33, VERDICT_NO_DESTINATION } },
                .n_verdicts = 1,
        },
        {
                .name = "the reserve: no block goes within a block of it",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 256 + 128,
                .verdicts = { { 33, VERDICT_RESERVE } },
                .n_verdicts = 1,
        },
        {
                .name = "explain: the reserve stops the sweep after two blocks",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, { 34, 1, 'o', MOV },
                            { 35, 1, 'o', MOV }, { 36, 1, 'o', MOV, .movable = 10 }, END },
                .nodes = { { 900 }, { 700 } },
                .avail_mib = 256 + 128 * 3 - 1,
                .actions = { { PLAN_OFFLINE, 35, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                .verdicts = { { 36, VERDICT_RESERVE }, { 35, VERDICT_OK }, { 34, VERDICT_OK },
                              { 33, VERDICT_RESERVE } },
                .n_verdicts = 4,
                .offlinable = 2,
        },
        {
                .name = "reserve pressure: owned blocks back, lowest first, to the reserve plus a block",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV | NRM, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV | NRM, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV | NRM, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "pressure: others' offline blocks are left alone",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV | NRM }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .pressure = PRESSURE_RESERVE,
                .verdicts = { { 33, VERDICT_OFFLINE_OTHER }, { 32, VERDICT_LOWEST_OF_NODE } },
                .n_verdicts = 2,
        },
        {
                .name = "pressure with OnlineOthers=yes: others' blocks too, movable",
                .config = cfg_others,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV | NRM }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "pressure during a migration: abort, and online at once (no lock held)",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'o', MOV, .movable = 5 }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .evac = { .phase = PLAN_EVAC_MIGRATING, .index = 34, .node = 1 },
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ABORT, 34, PLAN_REASON_PRESSURE },
                             { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "pressure during an offline: abort, and the online waits for the worker",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'g', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .evac = { .phase = PLAN_EVAC_OFFLINING, .index = 34, .node = 1 },
                .pressure = PRESSURE_RESERVE,
                .waits = true,
                .actions = { { PLAN_ABORT, 34, PLAN_REASON_PRESSURE } },
                .n_actions = 1,
        },
        {
                .name = "pressure while the aborted worker ends: no second abort, still waiting",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'g', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .evac = { .phase = PLAN_EVAC_ENDING, .index = 34, .node = 1 },
                .pressure = PRESSURE_RESERVE,
                .waits = true,
        },
        {
                .name = "PSI at a look: one block back",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .psi = 50,
                .pressure = PRESSURE_PSI,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "PSI in the fast watch does not count (avg10 lingers)",
                .kind = PLAN_WATCH,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .psi = 50,
        },
        {
                .name = "overcommit 2: the commit headroom short is pressure",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .overcommit = OVERCOMMIT_NEVER,
                .ratio = 100,
                .commit_limit_mib = 1500,
                .committed_mib = 1300,
                .pressure = PRESSURE_COMMIT,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "overcommit 2: no offline that would take the headroom under the reserve",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .overcommit = OVERCOMMIT_NEVER,
                .ratio = 50,
                .commit_limit_mib = 1500,
                .committed_mib = 1500 - 256 - 64,
                .verdicts = { { 33, VERDICT_COMMIT } },
                .n_verdicts = 1,
        },
        {
                .name = "overcommit 0: what is committed must fit in RAM and swap",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .committed_mib = 2048 - 256 - 100,
                .verdicts = { { 33, VERDICT_COMMIT } },
                .n_verdicts = 1,
        },
        {
                .name = "overcommit 1: no commit limit",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .overcommit = OVERCOMMIT_ALWAYS,
                .committed_mib = 100000,
                .actions = { { PLAN_OFFLINE, 33, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
        {
                .name = "a node below its floor gets its own blocks back; the machine is fine",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 30 } },
                /* 30 + 128 MiB is still below the floor plus a block */
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_NODE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 34, PLAN_REASON_NODE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "a node short while another node's offline holds the lock: abort, wait",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 5, 0, 'g', MOV }, { 32, 1, 'o', MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 30 } },
                .evac = { .phase = PLAN_EVAC_OFFLINING, .index = 5, .node = 0 },
                .waits = true,
                .actions = { { PLAN_ABORT, 5, PLAN_REASON_NODE } },
                .n_actions = 1,
        },
        {
                .name = "a node that ran short a second ago is busy",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .short_node = 1,
                .verdicts = { { 33, VERDICT_NODE_BUSY } },
                .n_verdicts = 1,
        },
        {
                .name = "a node whose free memory falls is busy",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400, 500 } },
                .verdicts = { { 33, VERDICT_NODE_BUSY } },
                .n_verdicts = 1,
        },
        {
                .name = "the node floor: its free pages leave the node with it",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 128 + 63 } },
                .verdicts = { { 33, VERDICT_NODE_FLOOR } },
                .n_verdicts = 1,
        },
        {
                .name = "quiet time after pressure",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .pressure_ago = 10 * 1000000u,
                .verdicts = { { 33, VERDICT_QUIET } },
                .n_verdicts = 1,
        },
        {
                .name = "quiet time after a block was onlined (a slow online outlasts the pressure)",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .pressure_ago = 60 * 1000000u,
                .online_ago = 2 * 1000000u,
                .verdicts = { { 33, VERDICT_QUIET } },
                .n_verdicts = 1,
        },
        {
                .name = "the quiet time ends after BackoffInitialSec",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .pressure_ago = 31 * 1000000u,
                .actions = { { PLAN_OFFLINE, 33, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
        {
                .name = "paused: nothing offline, pressure still gives back",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .paused = true,
                .avail_mib = 100,
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "paused without pressure",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .paused = true,
                .verdicts = { { 33, VERDICT_PAUSED } },
                .n_verdicts = 1,
        },
        {
                .name = "meminfo unreadable: fail closed, everything owned back",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, { 35, 1, 'o', MOV, .movable = 1 },
                            END },
                .nodes = { { 600 }, { 400 } },
                .invalid = true,
                .evac = { .phase = PLAN_EVAC_MIGRATING, .index = 35, .node = 1 },
                .pressure = PRESSURE_UNREADABLE,
                .actions = { { PLAN_ABORT, 35, PLAN_REASON_PRESSURE },
                             { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 3,
        },
        {
                .name = "kernel zones short (user pages drain them): no offline, blocks back",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .kernel_free_mib = 100,
                .pressure = PRESSURE_KERNEL,
                .actions = { { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
                .verdicts = { { 33, VERDICT_PRESSURE } },
                .n_verdicts = 1,
        },
        {
                .name = "ZONE_NORMAL: not a target by default",
                .blocks = { BOOT_BLOCKS, { 4, 0, 'o', NRM }, { 32, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .kernel_free_mib = 800,
                .verdicts = { { 4, VERDICT_KERNEL_ZONE } },
                .n_verdicts = 1,
        },
        {
                .name = "ZONE_NORMAL with OfflineKernelZones=yes",
                .config = cfg_kernel,
                .blocks = { BOOT_BLOCKS, { 4, 0, 'o', NRM }, { 5, 0, 'o', NRM }, { 32, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .kernel_free_mib = 800,
                .actions = { { PLAN_OFFLINE, 5, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
        {
                .name = "ZONE_NORMAL: kernel-zone free unknown, fail closed",
                .config = cfg_kernel,
                .blocks = { BOOT_BLOCKS, { 4, 0, 'o', NRM }, { 5, 0, 'o', NRM }, END },
                .nodes = { { 600 } },
                .kernel_free_mib = -1,
                .verdicts = { { 5, VERDICT_KERNEL_FLOOR } },
                .n_verdicts = 1,
        },
        {
                .name = "ZONE_NORMAL: MOVABLE:KERNEL would exceed 3:1",
                .config = cfg_kernel,
                .blocks = { { 1, 0, 'o', D32, .unmovable = 1 }, { 4, 0, 'o', NRM },
                            { 32, 1, 'o', MOV, .movable = 1 }, { 33, 1, 'o', MOV, .movable = 1 },
                            { 34, 1, 'o', MOV, .movable = 1 }, { 35, 1, 'o', MOV, .movable = 1 },
                            { 36, 1, 'o', MOV, .movable = 1 }, { 37, 1, 'o', MOV, .movable = 1 }, END },
                .nodes = { { 600 }, { 400 } },
                .kernel_free_mib = 800,
                .actions = { { PLAN_MIGRATE, 37, PLAN_REASON_SWEEP, .dest = 0 } },
                .n_actions = 1,
                .verdicts = { { 4, VERDICT_KERNEL_RATIO } },
                .n_verdicts = 1,
                .offlinable = 2,
        },
        {
                .name = "a kernel-zone block comes back into its zone, first under kernel pressure",
                .config = cfg_kernel,
                .blocks = { BOOT_BLOCKS, { 4, 0, 'x', NRM | MOV, .owned = true, .origin = NRM },
                            { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .kernel_free_mib = 10,
                .pressure = PRESSURE_KERNEL,
                .actions = { { PLAN_ONLINE, 4, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_KERNEL } },
                .n_actions = 1,
        },
        {
                .name = "the zone it came from is not valid now: the other one",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', NRM, .owned = true, .origin = MOV },
                            END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 100,
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_KERNEL } },
                .n_actions = 1,
        },
        {
                .name = "excluded: others' blocks never onlined, mempowerd's own given back",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 40, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 41, 1, 'x', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 100,
                .pressure = PRESSURE_RESERVE,
                .config = cfg_exclude_40_41_others,
                .actions = { { PLAN_ONLINE, 40, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "after the migration: the offline",
                .kind = PLAN_STEP,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 600 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 33, .node = 1, .moved_pages = 100 },
                .actions = { { PLAN_OFFLINE, 33, PLAN_REASON_STEP } },
                .n_actions = 1,
        },
        {
                .name = "after the migration, the reserve is gone: abort",
                .kind = PLAN_STEP,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 300,
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 33, .node = 1, .moved_pages = 100 },
                .actions = { { PLAN_ABORT, 33, PLAN_REASON_REFUSED } },
                .n_actions = 1,
        },
        {
                .name = "after the migration, unmovable pages appeared: abort",
                .kind = PLAN_STEP,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100, .unmovable = 1 },
                            END },
                .nodes = { { 600 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 33, .node = 1, .moved_pages = 100 },
                .actions = { { PLAN_ABORT, 33, PLAN_REASON_REFUSED } },
                .n_actions = 1,
        },
        {
                .name = "after the migration, what is left must fit the destinations",
                .kind = PLAN_STEP,
                /* 110 MiB left, node 0 has 72 MiB above what it keeps */
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 120 * MIB }, END },
                .nodes = { { 200 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 33, .node = 1, .moved_pages = 10 * MIB },
                .actions = { { PLAN_ABORT, 33, PLAN_REASON_REFUSED } },
                .n_actions = 1,
        },
        {
                .name = "after the migration, paused: the evacuation ends",
                .kind = PLAN_STEP,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 600 }, { 400 } },
                .paused = true,
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 33, .node = 1, .moved_pages = 100 },
                .actions = { { PLAN_ABORT, 33, PLAN_REASON_REFUSED } },
                .n_actions = 1,
        },
        {
                .name = "MaxEvacuationsPerTick reached",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .this_tick = 1,
        },
        {
                .name = "MaxEvacuationsPerTick=2: a second one this tick",
                .kind = PLAN_STEP,
                .config = cfg_two_per_tick,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .this_tick = 1,
                .actions = { { PLAN_OFFLINE, 33, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
        {
                .name = "an online that failed a moment ago comes after the others",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV, .retry_at = NOW + 500000 },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .psi = 50,
                .pressure = PRESSURE_PSI,
                .actions = { { PLAN_ONLINE, 34, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "only a block that failed a moment ago: it is tried",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV, .retry_at = NOW + 500000 }, END },
                .nodes = { { 600 }, { 400 } },
                .psi = 50,
                .pressure = PRESSURE_PSI,
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "exit: every owned block back, others' left",
                .kind = PLAN_GIVE_BACK,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV }, { 35, 1, 'x', NRM | MOV, .owned = true, .origin = NRM }, END },
                .nodes = { { 600 }, { 400 } },
                .actions = { { PLAN_ONLINE, 33, PLAN_REASON_EXIT, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 35, PLAN_REASON_EXIT, .zone = PLAN_ZONE_KERNEL } },
                .n_actions = 2,
        },
        {
                .name = "exit during an offline: abort and wait",
                .kind = PLAN_GIVE_BACK,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'g', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_OFFLINING, .index = 34, .node = 1 },
                .waits = true,
                .actions = { { PLAN_ABORT, 34, PLAN_REASON_EXIT } },
                .n_actions = 1,
        },
        {
                .name = "what a block holds, and how it is known",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .unknown = 1 },
                            { 34, 1, 'o', MOV, .hugetlb = 512 }, { 35, 1, 'o', MOV, .nopage = 1 },
                            { 36, 1, 'o', MOV, .uncounted = true }, { 37, 1, 'o', MOV, .backoff_until = NOW + 1 },
                            { 38, 1, 'o', MOV, .unmovable = 1 }, { 39, 1, 'g', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .verdicts = { { 33, VERDICT_UNKNOWN_PAGES }, { 34, VERDICT_HUGETLB }, { 35, VERDICT_HOLES },
                              { 36, VERDICT_UNKNOWN_USAGE }, { 37, VERDICT_BACKOFF },
                              { 38, VERDICT_UNMOVABLE_PAGES }, { 39, VERDICT_GOING_OFFLINE } },
                .n_verdicts = 7,
        },
        {
                .name = "the block in flight",
                .kind = PLAN_LOOK,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV }, { 34, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_MIGRATING, .index = 34, .node = 1 },
                .verdicts = { { 34, VERDICT_EVACUATING }, { 33, VERDICT_OK } },
                .n_verdicts = 2,
                .offlinable = 1,
        },
        {
                .name = "OnlineHotAdded=yes: a hot-added block is onlined at once",
                .config = cfg_hot_added,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV },
                            { 40, 1, 'x', MOV | NRM, .owned = true, .hot_added = true },
                            { 41, 1, 'x', MOV | NRM, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 384,
                .actions = { { PLAN_ONLINE, 40, PLAN_REASON_HOT_ADD, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "OnlineHotAdded=no: a hot-added block waits for pressure",
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV },
                            { 40, 1, 'x', MOV | NRM, .owned = true, .hot_added = true }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 384,
                .verdicts = { { 40, VERDICT_OFFLINED } },
                .n_verdicts = 1,
        },
        {
                .name = "domains: the region cheapest to empty as a whole",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .blocks = { BOOT_BLOCKS, REGION_A(10, 10, 10, 10), { 36, 1, 'o', MOV, .movable = 100 },
                            { 37, 1, 'o', MOV }, { 38, 1, 'o', MOV }, { 39, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 1000 } },
                .actions = { { PLAN_MIGRATE, 35, PLAN_REASON_SWEEP, .dest = 0 } },
                .n_actions = 1,
                /* once A is gone, node 1 cannot give up B's free pages too */
                .verdicts = { { 32, VERDICT_OK }, { 35, VERDICT_OK }, { 36, VERDICT_NODE_FLOOR },
                              { 39, VERDICT_NODE_FLOOR }, { 0, VERDICT_SPANS_ZONES } },
                .n_verdicts = 5,
                .offlinable = 4,
        },
        {
                .name = "domains: one unmovable page keeps its whole domain",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .unmovable = 1 },
                            { 34, 1, 'o', MOV }, { 35, 1, 'o', MOV }, { 36, 1, 'o', MOV, .movable = 100 },
                            { 37, 1, 'o', MOV }, { 38, 1, 'o', MOV }, { 39, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 1000 } },
                .actions = { { PLAN_OFFLINE, 39, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                .verdicts = { { 32, VERDICT_UNMOVABLE_PAGES }, { 33, VERDICT_UNMOVABLE_PAGES },
                              { 36, VERDICT_OK }, { 39, VERDICT_OK } },
                .n_verdicts = 4,
                .offlinable = 4,
        },
        {
                .name = "domains: the target is finished before a cheaper domain starts",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'o', MOV }, { 34, 1, 'o', MOV }, { 35, 1, 'o', MOV, .movable = 5 },
                            REGION_B_FREE, END },
                .nodes = { { 600 }, { 1000 } },
                .actions = { { PLAN_OFFLINE, 34, PLAN_REASON_DOMAIN } },
                .n_actions = 1,
        },
        {
                .name = "domains: a target that cannot be finished is dropped and given back",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'o', MOV, .unmovable = 1 }, { 34, 1, 'o', MOV }, { 35, 1, 'o', MOV },
                            REGION_B_FREE, END },
                .nodes = { { 600 }, { 1000 } },
                .actions = { { PLAN_ONLINE, 32, PLAN_REASON_PARTIAL, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 1,
        },
        {
                .name = "domains: under pressure a partly offline domain comes back first",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 36, 1, 'x', MOV, .owned = true, .origin = MOV }, { 37, 1, 'o', MOV }, END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 200,
                .pressure = PRESSURE_RESERVE,
                .actions = { { PLAN_ONLINE, 36, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 32, PLAN_REASON_PRESSURE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "domains: kernel zones keep node 0; node 1 waits for the memory policies",
                .config = cfg_kernel,
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .blocks = { BOOT_BLOCKS, { 3, 0, 'o', NRM }, REGION_A(0, 0, 0, 0), END },
                .nodes = { { 600 }, { 400 } },
                .check_node = 2,
                .verdicts = { { 3, VERDICT_KERNEL_MEMORY }, { 32, VERDICT_CHECKING } },
                .n_verdicts = 2,
                .offlinable = 0,
        },
        {
                .name = "domains: a memory-only node goes as a whole, below its floor",
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 10 },
                            { 34, 1, 'o', MOV }, { 35, 1, 'o', MOV }, END },
                .nodes = { { 1200 }, { 400, .bindings = 1 } },
                .actions = { { PLAN_OFFLINE, 35, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                .verdicts = { { 32, VERDICT_OK }, { 33, VERDICT_OK }, { 35, VERDICT_OK } },
                .n_verdicts = 3,
                .offlinable = 4,
        },
        {
                .name = "domains: the node being emptied has no floor while its policies are fresh",
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV, .movable = PPB / 2 }, { 33, 1, 'o', MOV, .movable = PPB },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 1200 }, { 20, .bindings = 1 } },
                .actions = { { PLAN_MIGRATE, 32, PLAN_REASON_DOMAIN, .dest = 0 } },
                .n_actions = 1,
        },
        {
                .name = "domains: ... and its floor again when they are not: it comes back",
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV, .movable = PPB / 2 }, { 33, 1, 'o', MOV, .movable = PPB },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 1200 }, { 20 } },
                .actions = { { PLAN_ONLINE, 34, PLAN_REASON_NODE, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 35, PLAN_REASON_NODE, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 2,
        },
        {
                .name = "domains: a target no node can take a block of alone is given up",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'o', MOV, .movable = PPB }, { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 48, 2, 'o', MOV, .unmovable = 1 }, END },
                /* nodes 0 and 2 take 188 MiB together above what they keep, 94 each alone */
                .nodes = { { 180 }, { 1000, .bindings = 1 }, { 180 } },
                .actions = { { PLAN_ONLINE, 32, PLAN_REASON_PARTIAL, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 34, PLAN_REASON_PARTIAL, .zone = PLAN_ZONE_MOVABLE },
                             { PLAN_ONLINE, 35, PLAN_REASON_PARTIAL, .zone = PLAN_ZONE_MOVABLE } },
                .n_actions = 3,
        },
        {
                .name = "domains: a process bound to the node keeps it",
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .blocks = { BOOT_BLOCKS, REGION_A(0, 0, 0, 0), END },
                .nodes = { { 1200 }, { 400, .bindings = 2 } },
                .verdicts = { { 32, VERDICT_BOUND } },
                .n_verdicts = 1,
        },
        {
                .name = "domains: the last block of a node waits for the policies before its offline",
                .by_domain = true,
                .domains = DOMAINS_NODE,
                .target = 32,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV, .movable = 10 }, END },
                .nodes = { { 1200 }, { 400 } },
                .evac = { .phase = PLAN_EVAC_MIGRATED, .index = 32, .node = 1, .moved_pages = 10 },
                .check_node = 2,
        },
        {
                .name = "eject: a device offline whole goes back to the host, nothing else starts",
                .config = cfg_eject,
                .by_domain = true,
                .domains = DOMAINS_DEVICE,
                .dimms = true,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV }, REGION_B_FREE, END },
                .nodes = { { 1200 }, { 1000, .bindings = 1 } },
                .actions = { { PLAN_EJECT, 32, PLAN_REASON_EJECT } },
                .n_actions = 1,
                .verdicts = { { 32, VERDICT_OFFLINED }, { 36, VERDICT_OK } },
                .n_verdicts = 2,
                .offlinable = 4,
        },
        {
                .name = "eject: not a block offline by someone else, not twice",
                .config = cfg_eject,
                .by_domain = true,
                .domains = DOMAINS_DEVICE,
                .dimms = true,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV, .eject_sent = true },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 36, 1, 'x', MOV }, { 37, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 38, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 39, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 1200 }, { 1000 } },
        },
        {
                .name = "eject: not when the machine could not do without it for good",
                .config = cfg_eject,
                .by_domain = true,
                .domains = DOMAINS_DEVICE,
                .dimms = true,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV }, REGION_B_FREE, END },
                .nodes = { { 1200 }, { 1000, .bindings = 1 } },
                .avail_mib = 700, /* reserve 256 MiB + the device's 512 MiB */
        },
        {
                .name = "break-even: a region whose migration would not pay is left",
                .config = cfg_break_even_60s,
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .blocks = { BOOT_BLOCKS, REGION_A(PPB / 2, PPB / 2, PPB / 2, PPB / 2), REGION_B_FREE, END },
                .nodes = { { 1200 }, { 1000 } },
                .actions = { { PLAN_OFFLINE, 39, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                /* 15 J/GiB x 0.25 GiB > 0.040 W/GiB x 0.5 GiB x 60 s */
                .verdicts = { { 32, VERDICT_BREAK_EVEN }, { 36, VERDICT_OK } },
                .n_verdicts = 2,
                .offlinable = 4,
        },
        {
                .name = "break-even: the region's own history repays it",
                .config = cfg_break_even_60s,
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .expected_s = { 0, 3600 },
                .blocks = { BOOT_BLOCKS, REGION_A(PPB / 2, PPB / 2, PPB / 2, PPB / 2), END },
                .nodes = { { 1200 }, { 1000, .bindings = 1 } },
                .actions = { { PLAN_MIGRATE, 35, PLAN_REASON_SWEEP, .dest = 0 } },
                .n_actions = 1,
        },
        {
                .name = "break-even: a block alone saves nothing, only empty ones go",
                .config = cfg_break_even,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV, .movable = 1 },
                            { 34, 1, 'o', MOV }, END },
                .nodes = { { 1200 }, { 1000 } },
                .actions = { { PLAN_OFFLINE, 34, PLAN_REASON_SWEEP } },
                .n_actions = 1,
                .verdicts = { { 33, VERDICT_BREAK_EVEN }, { 34, VERDICT_OK } },
                .n_verdicts = 2,
                .offlinable = 1,
        },
        {
                .name = "NodeMinFreeMiB=0: no floors",
                .config = cfg_no_floor,
                .blocks = { BOOT_BLOCKS, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 128 } },
                .actions = { { PLAN_OFFLINE, 33, PLAN_REASON_SWEEP } },
                .n_actions = 1,
        },
};

static size_t n_blocks_of(const TCase *t)
{
        size_t n = 0;

        while (n < ELEMENTSOF(t->blocks) && t->blocks[n].index != UINT32_MAX &&
               !(n > 0 && t->blocks[n].index == 0))
                n++;
        return n;
}

static size_t n_nodes_of(const TCase *t)
{
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(t->nodes); i++)
                if (t->nodes[i].free_mib)
                        n = i + 1;
        return n;
}

static MemBlock make_block(const TBlock *tb)
{
        MemBlock b = {
                .index = tb->index,
                .start_pfn = (uint64_t)tb->index * PPB,
                .node = tb->node,
                .state = tb->state == 'x' ? BLOCK_OFFLINE
                         : tb->state == 'g' ? BLOCK_GOING_OFFLINE
                                            : BLOCK_ONLINE,
                .zones = tb->zones,
                .usage_valid = tb->state != 'x' && !tb->uncounted,
                .usage = { .movable = tb->movable, .unmovable = tb->unmovable, .unknown = tb->unknown,
                           .hugetlb = tb->hugetlb, .nopage = tb->nopage },
        };

        if (b.state == BLOCK_OFFLINE)
                b.usage = (PageUsage){ .nopage = PPB };
        else
                b.usage.free = PPB - tb->movable - tb->unmovable - tb->unknown - tb->hugetlb -
                               tb->nopage;
        b.track.owned = tb->owned;
        b.track.origin_zones = tb->origin;
        b.track.online_retry_usec = tb->retry_at;
        b.track.hot_added = tb->hot_added;
        b.track.eject_sent = tb->eject_sent;
        if (tb->backoff_until)
                b.track.backoff = (Backoff){ .attempts = 1, .next_try_usec = tb->backoff_until };
        return b;
}

typedef struct World {
        Config c;
        MemBlock blocks[16];
        PlanNode nodes[4];
        PlanInput in;
        PlannerState st;
        HandshakeEvent events[64];
        HandshakeUnit units[16];
        DomainTable dt;
        DomainStat stats[16];
        uint64_t expected[16];
        Plan plan;
} World;

static void world_from_case(World *w, const TCase *t)
{
        size_t nb = n_blocks_of(t), nn = n_nodes_of(t);

        memset(w, 0, sizeof(*w));
        config_init(&w->c);
        w->c.break_even = false; /* the cases weigh energy where they say so */
        if (t->config)
                t->config(&w->c);
        for (size_t i = 0; i < nb; i++)
                w->blocks[i] = make_block(&t->blocks[i]);
        for (size_t i = 0; i < nn; i++)
                w->nodes[i] = (PlanNode){
                        .present = true,
                        .has_memory = !t->nodes[i].no_memory,
                        .free_pages = t->nodes[i].free_mib * MIB,
                        .prev_free_pages = (t->nodes[i].prev_mib ? t->nodes[i].prev_mib
                                                                 : t->nodes[i].free_mib) *
                                           MIB,
                        .bindings_usec = t->nodes[i].bindings ? NOW - 1000000 : 0,
                        .bound = t->nodes[i].bindings == 2,
                };
        w->in = (PlanInput){
                .kind = t->kind,
                .config = &w->c,
                .now_usec = NOW,
                .blocks = w->blocks,
                .n_blocks = nb,
                .pages_per_block = PPB,
                .page_size = PS,
                .nodes = w->nodes,
                .n_nodes = nn,
                .mem = {
                        .valid = !t->invalid,
                        .total_pages = (t->total_mib ? t->total_mib : 2048) * MIB,
                        .available_pages = (t->avail_mib ? t->avail_mib : 1536) * MIB,
                        .psi_valid = true,
                        .psi_some_avg10 = t->psi,
                        .overcommit = t->overcommit,
                        .overcommit_ratio = t->ratio ? t->ratio : 50,
                        .commit_limit_pages = t->commit_limit_mib * MIB,
                        .committed_pages = t->committed_mib * MIB,
                        .zones_valid = t->kernel_free_mib > 0,
                        .kernel_free_pages = t->kernel_free_mib > 0 ? (uint64_t)t->kernel_free_mib * MIB : 0,
                },
                .evac = t->evac,
                .paused = t->paused,
                .evacuations_this_tick = t->this_tick,
                .last_online_usec = t->online_ago ? NOW - t->online_ago : 0,
                .units = w->units,
        };
        if (t->by_domain) {
                BlockTable bt = {
                        .block_size_bytes = (uint64_t)PPB * PS,
                        .pages_per_block = PPB,
                        .blocks = w->blocks,
                        .n = nb,
                        .cap = nb,
                };

                DomainDevice devs[2] = { { "PNP0C80:00", "acpi", true }, { "PNP0C80:01", "acpi", false } };
                uint32_t of[16];
                DomainSources src = { .devices = devs, .n_devices = 2, .block_device = of, .n_blocks = nb };

                for (size_t i = 0; i < nb; i++)
                        of[i] = w->blocks[i].index >= 32 && w->blocks[i].index < 36   ? 0
                                : w->blocks[i].index >= 36 && w->blocks[i].index < 40 ? 1
                                                                                     : DOMAIN_NONE;
                CHECK_EQ_INT(domain_group(t->dimms ? &src : NULL, &bt, t->domains, 512ULL << 20, &w->dt), 0);
                CHECK(w->dt.n <= ELEMENTSOF(w->stats));
                domain_stats_compute(&w->dt, w->blocks, nb, w->stats);
                for (size_t i = 0; i < ELEMENTSOF(t->expected_s); i++)
                        w->expected[i] = t->expected_s[i] * 1000000ULL;
                w->in.domains = &w->dt;
                w->in.domain_stats = w->stats;
                w->in.domain_expected_usec = w->expected;
        }
        CHECK_EQ_INT(planner_state_init(&w->st, nn), 0);
        if (t->target)
                w->st.target_block = t->target;
        if (t->pressure_ago)
                w->st.pressure_usec = NOW - t->pressure_ago;
        if (t->short_node > 0)
                w->st.node_short_usec[t->short_node] = NOW - 1000000;
        w->plan.events = w->events;
        w->plan.events_size = ELEMENTSOF(w->events);
}

static void world_free(World *w)
{
        domain_table_free(&w->dt);
        planner_state_free(&w->st);
        config_free(&w->c);
}

static void print_plan(const Plan *p)
{
        for (size_t i = 0; i < p->n_actions; i++) {
                const PlanAction *a = &p->actions[i];

                fprintf(stderr, "    %s memory%u (%s) dest %d zone %d\n",
                        plan_action_kind_to_string(a->kind), a->index,
                        plan_reason_to_string(a->reason), a->dest_node, a->zone);
        }
}

static void run_case(const TCase *t)
{
        unsigned before = test_failures;
        World w;
        PlanVerdict verdicts[16];
        uint64_t scratch[16];
        PlanSummary sum;

        world_from_case(&w, t);
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.pressure, t->pressure);
        CHECK_EQ_INT(w.plan.onlining_waits, t->waits);
        CHECK_EQ_INT(w.plan.check_bindings_node, t->check_node - 1);
        CHECK_EQ_INT(w.plan.n_actions, t->n_actions);
        for (size_t i = 0; i < t->n_actions && i < w.plan.n_actions; i++) {
                const PlanAction *a = &w.plan.actions[i];
                const TAction *e = &t->actions[i];

                CHECK_EQ_INT(a->kind, e->kind);
                CHECK_EQ_INT(a->index, e->index);
                CHECK_EQ_INT(a->reason, e->reason);
                if (e->kind == PLAN_MIGRATE)
                        CHECK_EQ_INT(a->dest_node, e->dest);
                if (e->kind == PLAN_ONLINE)
                        CHECK_EQ_INT(a->zone, e->zone);
        }

        if (t->n_verdicts > 0) {
                /* explain on a fresh state: the decide above may have noted */
                World w2;

                world_from_case(&w2, t);
                CHECK_EQ_INT(planner_explain(&w2.in, &w2.st, verdicts, NULL, scratch, &sum), 0);
                for (size_t k = 0; k < t->n_verdicts; k++)
                        for (size_t i = 0; i < w2.in.n_blocks; i++)
                                if (w2.blocks[i].index == t->verdicts[k].index) {
                                        if (verdicts[i] != t->verdicts[k].v)
                                                fprintf(stderr, "  memory%u: %s, expected %s\n",
                                                        w2.blocks[i].index,
                                                        plan_verdict_to_string(verdicts[i]),
                                                        plan_verdict_to_string(t->verdicts[k].v));
                                        CHECK_EQ_INT(verdicts[i], t->verdicts[k].v);
                                }
                CHECK_EQ_INT(sum.offlinable, t->offlinable);
                world_free(&w2);
        }
        if (test_failures != before) {
                fprintf(stderr, "  in case \"%s\"; plan:\n", t->name);
                print_plan(&w.plan);
        }
        world_free(&w);
}

static void test_table(void)
{
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i]);
}

/* ---- Sequences ---- */

/* The handshake through the planner: an empty block is first used (noted),
 * then its node frees memory (freed), then the planner starts it, with the
 * handshake as the reason rather than the sweep. */
static void test_handshake_sequence(void)
{
        static const TCase base = {
                .name = "handshake",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 32, 1, 'o', MOV },
                            { 33, 1, 'o', MOV, .movable = 50 }, { 34, 1, 'o', MOV, .movable = 100 },
                            END },
                .nodes = { { 600 }, { 400 } },
        };
        World w;
        MemBlock *b34;
        bool noted = false, freed = false;

        world_from_case(&w, &base);
        b34 = &w.blocks[3];
        /* 34 was empty at the count before: a first use. Hold the sweep off
         * with a tick's worth of evacuations already started. */
        b34->was_empty = true;
        w.in.evacuations_this_tick = 1;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        for (size_t i = 0; i < w.plan.n_events; i++)
                if (w.plan.events[i].action == HANDSHAKE_NOTE && w.plan.events[i].block == 34)
                        noted = true;
        CHECK(noted);
        CHECK_EQ_INT(w.plan.n_actions, 0);
        b34->was_empty = false;

        /* The next look: node 1 freed 2 MiB. */
        w.nodes[1].free_pages += 2 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        for (size_t i = 0; i < w.plan.n_events; i++)
                if (w.plan.events[i].action == HANDSHAKE_FREED && w.plan.events[i].block == 34)
                        freed = true;
        CHECK(freed);
        CHECK_EQ_INT(w.plan.n_actions, 0); /* still this tick's limit */

        /* A new tick: the handshake's block goes, not the sweep's cheaper 33. */
        w.in.evacuations_this_tick = 0;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_MIGRATE);
        CHECK_EQ_INT(w.plan.actions[0].index, 34);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_HANDSHAKE);
        CHECK_EQ_INT(w.plan.actions[0].dest_node, 0);
        /* consumed */
        CHECK_EQ_INT(handshake_get_noted(&w.st.handshake, 1, NULL), 0);
        world_free(&w);
}

/* The handshake by domain: region B was empty and is used now (noted by its
 * lowest block), its node frees memory, and B is emptied before the cheaper
 * region A the sweep would take. */
static void test_handshake_domains(void)
{
        static const TCase base = {
                .name = "handshake by domain",
                .by_domain = true,
                .domains = DOMAINS_REGION,
                .blocks = { BOOT_BLOCKS, REGION_A(0, 0, 0, 10), { 36, 1, 'o', MOV, .movable = 100 },
                            { 37, 1, 'o', MOV }, { 38, 1, 'o', MOV }, { 39, 1, 'o', MOV }, END },
                .nodes = { { 1200 }, { 1000 } },
        };
        World w;
        bool noted = false, freed = false;

        world_from_case(&w, &base);
        for (size_t i = 7; i < 11; i++)
                w.blocks[i].was_empty = true;
        domain_stats_compute(&w.dt, w.blocks, w.in.n_blocks, w.stats);
        w.in.evacuations_this_tick = 1;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        for (size_t i = 0; i < w.plan.n_events; i++)
                if (w.plan.events[i].action == HANDSHAKE_NOTE && w.plan.events[i].block == 36)
                        noted = true;
        CHECK(noted);
        for (size_t i = 7; i < 11; i++)
                w.blocks[i].was_empty = false;
        domain_stats_compute(&w.dt, w.blocks, w.in.n_blocks, w.stats);

        w.nodes[1].free_pages += 2 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        for (size_t i = 0; i < w.plan.n_events; i++)
                if (w.plan.events[i].action == HANDSHAKE_FREED && w.plan.events[i].block == 36)
                        freed = true;
        CHECK(freed);

        w.in.evacuations_this_tick = 0;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_OFFLINE);
        CHECK_EQ_INT(w.plan.actions[0].index, 39);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_HANDSHAKE);
        CHECK_EQ_INT(w.plan.target, 2);
        CHECK_EQ_INT(w.st.target_block, 36);

        /* the next block of B is the domain's, not the sweep's A */
        w.blocks[10].state = BLOCK_OFFLINE;
        w.blocks[10].track.owned = true;
        domain_stats_compute(&w.dt, w.blocks, w.in.n_blocks, w.stats);
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].index, 38);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_DOMAIN);
        world_free(&w);
}

/* A freed note on one node while the worker is busy on another survives
 * until the worker is free (it used to be lost). */
static void test_handshake_waits_for_worker(void)
{
        static const TCase base = {
                .name = "handshake, two nodes",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 1, 0, 'o', MOV }, { 2, 0, 'o', MOV, .movable = 9 },
                            { 32, 1, 'o', MOV }, { 34, 1, 'o', MOV, .movable = 100 }, END },
                .nodes = { { 600 }, { 600 } },
        };
        World w;

        world_from_case(&w, &base);
        w.blocks[4].was_empty = true;
        w.in.evac = (PlanEvacuation){ .phase = PLAN_EVAC_MIGRATING, .index = 2, .node = 0 };
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(handshake_get_noted(&w.st.handshake, 1, NULL), 1);
        w.blocks[4].was_empty = false;
        w.nodes[1].free_pages += 2 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(handshake_is_freed(&w.st.handshake, 1));
        CHECK_EQ_INT(w.plan.n_actions, 0);
        /* the worker is still busy at the next look: the note stays */
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(handshake_is_freed(&w.st.handshake, 1));
        /* it ended */
        w.in.evac = (PlanEvacuation){ 0 };
        w.in.kind = PLAN_STEP;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].index, 34);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_HANDSHAKE);
        world_free(&w);
}

/* A freed note whose node is busy waits for it (it is not dropped), and a
 * rise of the free count that our own onlining made is not a free. */
static void test_handshake_waits_for_node(void)
{
        static const TCase base = {
                .name = "handshake, busy node",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 32, 1, 'o', MOV },
                            { 34, 1, 'o', MOV, .movable = 100 },
                            { 35, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 30 } },
        };
        World w;

        world_from_case(&w, &base);
        /* node 1 is short: 35 comes back (node floor); 34 is first used */
        w.blocks[2].was_empty = true;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_ONLINE);
        CHECK_EQ_INT(handshake_get_noted(&w.st.handshake, 1, NULL), 1);
        w.blocks[2].was_empty = false;
        w.blocks[3].state = BLOCK_ONLINE;
        w.blocks[3].track.owned = false;
        w.blocks[3].usage = (PageUsage){ .free = PPB };
        w.blocks[3].usage_valid = true;
        /* the next look: node 1's free rose by the block just onlined: not a free */
        w.nodes[1].free_pages += 128 * MIB;
        w.nodes[1].prev_free_pages = w.nodes[1].free_pages;
        w.in.now_usec += 1000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(!handshake_is_freed(&w.st.handshake, 1));
        /* a real free: freed, but node 1 ran short a second ago: it waits */
        w.nodes[1].free_pages += 200 * MIB;
        w.nodes[1].prev_free_pages = w.nodes[1].free_pages;
        w.in.now_usec += 1000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(handshake_is_freed(&w.st.handshake, 1));
        CHECK_EQ_INT(w.plan.n_actions, 0);
        /* BackoffInitialSec later: the handshake's block goes */
        w.in.now_usec += 30000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].index, 34);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_HANDSHAKE);
        world_free(&w);
}

/* Pressure seen during an offline waits for the worker; when it has ended,
 * MemAvailable may have crept back just over the reserve: the online still
 * happens (hysteresis), and ends only above the reserve plus a block. */
static void test_pressure_hysteresis(void)
{
        static const TCase base = {
                .name = "hysteresis",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 32, 1, 'o', MOV },
                            { 33, 1, 'x', MOV, .owned = true, .origin = MOV },
                            { 34, 1, 'g', MOV }, { 35, 1, 'x', MOV, .owned = true, .origin = MOV },
                            END },
                .nodes = { { 600 }, { 400 } },
                .avail_mib = 250,
                .evac = { .phase = PLAN_EVAC_OFFLINING, .index = 34, .node = 1 },
        };
        World w;

        world_from_case(&w, &base);
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(w.plan.onlining_waits);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_ABORT);
        /* the worker ended; 260 MiB available: above the reserve, in the band */
        w.in.evac = (PlanEvacuation){ 0 };
        w.blocks[3].state = BLOCK_ONLINE;
        w.in.kind = PLAN_STEP;
        w.in.mem.available_pages = 260 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.pressure, PRESSURE_RESERVE);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_ONLINE);
        CHECK_EQ_INT(w.plan.actions[0].index, 33);
        /* 33 is back: 390 MiB, above the reserve plus a block: over */
        w.blocks[2].state = BLOCK_ONLINE;
        w.blocks[2].track.owned = false;
        w.in.mem.available_pages = 390 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.pressure, 0);
        CHECK_EQ_INT(w.plan.n_actions, 0);
        /* without a latch, the band itself is no pressure */
        w.in.mem.available_pages = 300 * MIB;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.pressure, 0);
        world_free(&w);
}

/* A free during the quiet time after an online is still a free: the
 * handshake's block goes once the quiet time is over. */
static void test_handshake_free_while_quiet(void)
{
        static const TCase base = {
                .name = "handshake, quiet",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 32, 1, 'o', MOV },
                            { 33, 1, 'o', MOV, .movable = 10 }, { 34, 1, 'o', MOV, .movable = 100 },
                            END },
                .nodes = { { 600 }, { 400 } },
                .online_ago = 1000000,
        };
        World w;

        world_from_case(&w, &base);
        w.blocks[3].was_empty = true;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(handshake_get_noted(&w.st.handshake, 1, NULL), 1);
        CHECK_EQ_INT(w.plan.n_actions, 0); /* quiet */
        w.blocks[3].was_empty = false;
        w.nodes[1].free_pages += 2 * MIB;
        w.nodes[1].prev_free_pages = w.nodes[1].free_pages;
        w.in.now_usec += 1000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK(handshake_is_freed(&w.st.handshake, 1));
        CHECK_EQ_INT(w.plan.n_actions, 0); /* still quiet */
        w.in.now_usec += 30000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].index, 34);
        CHECK_EQ_INT(w.plan.actions[0].reason, PLAN_REASON_HANDSHAKE);
        world_free(&w);
}

/* Pressure sets the quiet time and a node short its busy time; both in the
 * state, for the next calls. */
static void test_memory_of_pressure(void)
{
        static const TCase base = {
                .name = "memory",
                .blocks = { { 0, 0, 'o', 0, .unmovable = 1 }, { 32, 1, 'o', MOV }, { 33, 1, 'o', MOV },
                            { 34, 1, 'x', MOV, .owned = true, .origin = MOV }, END },
                .nodes = { { 600 }, { 30 } },
                .avail_mib = 100,
        };
        World w;

        world_from_case(&w, &base);
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.st.pressure_usec, NOW);
        CHECK_EQ_INT(w.st.node_short_usec[1], NOW);
        /* pressure over, the node fine: still quiet, the node still busy */
        w.in.mem.available_pages = 1500 * MIB;
        w.nodes[1].free_pages = w.nodes[1].prev_free_pages = 400 * MIB;
        w.in.now_usec = NOW + 5000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 0);
        w.in.now_usec = NOW + 31000000;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_actions, 1);
        CHECK_EQ_INT(w.plan.actions[0].kind, PLAN_OFFLINE);
        CHECK_EQ_INT(w.plan.actions[0].index, 33);
        world_free(&w);
}

static void test_strings(void)
{
        char buf[64];

        for (int v = 0; v < _PLAN_VERDICT_MAX; v++) {
                const char *s = plan_verdict_to_string(v);

                CHECK(s != NULL);
                for (int u = 0; s && u < v; u++)
                        CHECK(strcmp(s, plan_verdict_to_string(u)) != 0);
        }
        CHECK(plan_verdict_to_string(_PLAN_VERDICT_MAX) == NULL);
        CHECK(plan_verdict_to_string(_PLAN_VERDICT_INVALID) == NULL);
        for (int r = 0; r < _PLAN_REASON_MAX; r++)
                CHECK(plan_reason_to_string(r) != NULL);
        for (int k = 0; k < _PLAN_ACTION_KIND_MAX; k++)
                CHECK(plan_action_kind_to_string(k) != NULL);
        CHECK_EQ_STR(plan_zone_to_state_word(PLAN_ZONE_MOVABLE), "online_movable");
        CHECK_EQ_STR(plan_zone_to_state_word(PLAN_ZONE_KERNEL), "online_kernel");
        CHECK(plan_zone_to_state_word(PLAN_ZONE_NONE) == NULL);
        CHECK_EQ_STR(pressure_to_string(0, buf, sizeof(buf)), "none");
        CHECK_EQ_STR(pressure_to_string(PRESSURE_RESERVE | PRESSURE_PSI, buf, sizeof(buf)),
                     "reserve+psi");
        CHECK_EQ_STR(pressure_to_string(PRESSURE_COMMIT | PRESSURE_UNREADABLE, buf, sizeof(buf)),
                     "commit+unreadable");
        CHECK_EQ_STR(pressure_to_string(PRESSURE_RESERVE, buf, 4), "res");
        {
                MemBlock b = { .usage = { .movable = 1 } };

                CHECK_EQ_STR(plan_verdict_word(VERDICT_OK, &b), "evacuate");
                b.usage.movable = 0;
                CHECK_EQ_STR(plan_verdict_word(VERDICT_OK, &b), "offline");
                CHECK_EQ_STR(plan_verdict_word(VERDICT_RESERVE, &b), "reserve");
        }
}

static void test_bad_input(void)
{
        World w;
        static const TCase base = { .name = "bad", .nodes = { { 1 } } };
        HandshakeEvent few[1];

        world_from_case(&w, &base);
        w.in.page_size = 0;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), -EINVAL);
        w.in.page_size = PS;
        w.in.kind = _PLAN_KIND_MAX;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), -EINVAL);
        w.in.kind = PLAN_LOOK;
        w.in.config = NULL;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), -EINVAL);
        w.in.config = &w.c;
        /* too few events: the plan still comes, without them */
        w.plan.events = few;
        w.plan.events_size = 0;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        CHECK_EQ_INT(w.plan.n_events, 0);
        w.plan.events = NULL;
        CHECK_EQ_INT(planner_decide(&w.in, &w.st, &w.plan), 0);
        world_free(&w);
}

static void test_state_resize(void)
{
        PlannerState st;

        CHECK_EQ_INT(planner_state_init(&st, 2), 0);
        st.node_short_usec[1] = 7;
        CHECK_EQ_INT(planner_state_set_nodes(&st, 5), 0);
        CHECK_EQ_INT(st.n_nodes, 5);
        CHECK_EQ_INT(st.node_short_usec[1], 7);
        CHECK_EQ_INT(st.node_short_usec[4], 0);
        CHECK_EQ_INT(st.handshake.n_slots, 5);
        CHECK_EQ_INT(planner_state_set_nodes(&st, 1), 0);
        CHECK_EQ_INT(st.handshake.n_slots, 1);
        planner_state_free(&st);
        planner_state_free(&st);
}

int main(void)
{
        test_strings();
        test_table();
        test_handshake_sequence();
        test_handshake_domains();
        test_handshake_waits_for_worker();
        test_handshake_waits_for_node();
        test_handshake_free_while_quiet();
        test_memory_of_pressure();
        test_pressure_hysteresis();
        test_bad_input();
        test_state_resize();
        return test_summary("test-planner");
}
