/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The one object that owns everything the daemon knows: configuration, the
 * kernel roots, the block table, the readings, the planner's state, the
 * evacuation in flight, the counters, and the event loop.
 *
 * A decision travels one way:
 *   readings (watch.c) and counts (scanner.c) -> snapshot -> planner_decide
 *   -> plan -> actuator (the only kernel writer) -> outcomes -> manager_apply
 *   -> table, bus, metrics, journal, state file.
 * Nothing but the planner decides; nothing but the actuator writes to the
 * kernel. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "actuator.h"
#include "config.h"
#include "domain.h"
#include "explain.h"
#include "memblock.h"
#include "memevents.h"
#include "migrate.h"
#include "nodeinfo.h"
#include "planner.h"
#include "rapl.h"
#include "roots.h"
#include "runstate.h"
#include "scansched.h"

typedef struct NodeState {
        bool present;              /* its meminfo was read */
        NodeMemInfo mem;
        uint64_t free_pages;       /* mem.free_kb in pages, the latest reading */
        uint64_t tick_free_pages;  /* as read at the tick before, PLAN_FREE_UNKNOWN before */
        uint64_t last_tick_free;   /* as read at the last tick */
        uint64_t model_free_pages; /* dry run: what the model's offline blocks took */
        uint64_t bindings_usec;    /* memory policies last read for this node, 0 never */
        bool bound;                /* then: a process depends on this node alone */
} NodeState;

/* The evacuation in flight, as the manager knows it. */
typedef struct Evacuation {
        PlanEvacPhase phase;
        uint32_t index;
        int node;
        int dest_node;      /* -1: no move_pages */
        unsigned zones;     /* the zone it was online in */
        PlanReason reason;  /* handshake or sweep */
        uint64_t started_usec;
        uint64_t moved_pages;
        uint64_t offline_movable; /* movable pages the offline found left, by the last count */
        MigrateStats stats; /* of the migration step */
        const char *end_reason; /* why it was aborted */
} Evacuation;

typedef struct ManagerCounters {
        uint64_t full_counts;     /* blocks counted from kpageflags */
        uint64_t pages_counted;
        uint64_t probes;          /* empty blocks probed */
        uint64_t probe_hits;      /* probes that found a used page */
        uint64_t scan_cpu_ns;     /* CPU time spent in ticks */
        uint64_t uevents;         /* memory block uevents handled */
        uint64_t ticks;

        /* What the daemon did (D-Bus properties, metrics). */
        uint64_t blocks_offlined;    /* by mempowerd */
        uint64_t blocks_onlined;     /* by mempowerd */
        uint64_t pages_migrated;     /* moved by move_pages */
        uint64_t pages_offline_migrated; /* left to the kernel's offline (by the last count) */
        uint64_t evacuations_started;
        uint64_t evacuations_succeeded;
        uint64_t evacuations_failed;
        uint64_t evacuations_aborted; /* ended for pressure, shutdown, or the block's removal */
        uint64_t evacuations_handshake; /* started by the handshake (the rest by the sweep) */
        uint64_t migrate_ns;         /* wall time in locate + move_pages */
        uint64_t offline_attempts;   /* writes of "offline" */
} ManagerCounters;

/* A power domain as the daemon follows it, by its DomainTable id. */
typedef struct DomainTrack {
        char name[DOMAIN_NAME_MAX];
        uint64_t offline_since_usec; /* wholly offline by mempowerd since then, 0 not */
        uint64_t expected_usec;      /* how long it stayed offline before, 0 no history */
} DomainTrack;

/* Estimated energy (power.c). */
typedef struct EnergyTotals {
        double saved_joules;         /* wholly offline domains: their saving x time */
        double spent_joules;         /* pages migrated x MigrationJoulesPerGiB */
        double offline_byte_seconds; /* memory mempowerd keeps offline x time */
} EnergyTotals;

/* Power domains and what they save (power.c). */
typedef struct Power {
        DomainTable domains;
        DomainStat *stats;       /* domains.n entries each: */
        DomainTrack *tracks;
        uint64_t *expected_usec; /* the planner's view of tracks[].expected_usec */
        HandshakeUnit *units;    /* the handshake's scratch, units_cap entries (>= table.n) */
        size_t units_cap;
        unsigned regroup;        /* regroup at the next this many refreshes */
        bool regroup_failed;     /* said once */
        uint64_t bindings_try_usec; /* the memory policies were last read (or tried) */

        EnergyTotals start;      /* since the daemon started */
        EnergyTotals before;     /* earlier daemons of this boot (the state file) */
        uint64_t account_usec;   /* accounted up to then, 0 not yet */
        uint64_t migrated_pages; /* pages_migrated + pages_offline_migrated accounted */
        double watts_now;        /* estimated saving now */
        size_t domains_offline;  /* wholly offline by mempowerd */
        Rapl rapl;               /* DRAM energy measured, where the machine can */
} Power;

/* The scanner's state (scanner.c). */
typedef struct Scanner {
        ScanSched sched;
        uint64_t *buf;
        size_t buf_size;
        uint64_t block_cost_ns; /* measured CPU cost of counting one block */
        size_t forced;          /* blocks to count whatever the budget (the first count,
                                 * Rescan()), not counted yet */
        size_t first_count_blocks;     /* while the first count after start runs: its blocks */
        uint64_t first_count_start_ns; /* CLOCK_MONOTONIC when it started */
        uint64_t first_count_cpu_ns;   /* CLOCK_PROCESS_CPUTIME_ID when it started */
} Scanner;

typedef struct ExplainJob ExplainJob;

typedef struct Manager {
        Config config;
        char *config_path; /* --config, or NULL for the default locations */
        bool force_dry_run; /* --dry-run: overrides the config */

        Roots roots;
        int memdir_fd;
        int kpf_fd;
        int state_dir_fd;   /* the runtime directory (state file), -1 without one */
        char *state_dir;
        bool state_create;  /* create the state directory when missing */
        uint64_t page_size;

        BlockTable table;
        NodeState *nodes;
        size_t n_nodes;
        PlanNode *plan_nodes; /* n_nodes, the snapshot's */
        IndexSet has_memory;  /* nodes with memory */

        /* Readings (watch.c) */
        MemInfo meminfo;
        bool meminfo_valid;
        bool meminfo_failed; /* the last read failed (said once) */
        Psi psi;
        bool has_psi;
        OvercommitSettings overcommit;
        bool kernel_free_valid;
        uint64_t kernel_free_pages;

        Scanner scan;
        uint64_t last_tick_ns;
        uint64_t last_reread_ns; /* sysfs reread in full, for uevents that never came */
        ManagerCounters counters;

        /* Deciding */
        PlannerState planner;
        Plan plan;
        HandshakeEvent *plan_events;
        size_t plan_events_size;
        unsigned pressure;  /* PRESSURE_* at the last plan */
        char pressure_words[64]; /* the same as words: "reserve+psi" */
        bool deciding;      /* a decision is being carried out */
        bool decide_again;  /* an outcome came while deciding: plan once more */
        Evacuation evac;
        unsigned evacuations_this_tick;
        uint64_t last_online_usec; /* when mempowerd last onlined a block */
        Actuator *actuator;

        /* Dry run: offline blocks of the model (BlockTrack.modelled). */
        uint64_t model_offline;     /* blocks */
        uint64_t model_avail_pages; /* MemAvailable they took */
        uint64_t model_said;        /* the summary last logged for this many */

        bool paused;           /* Pause(): look and report, act on nothing but pressure */
        bool exiting;          /* SIGTERM: giving back, then exit */
        char last_error[256];  /* the last thing that went wrong, for LastError */
        bool state_dirty;      /* the owned set changed: write the state file */

        Power power;

        sd_event *event;
        struct sd_bus *bus;
        struct ManagerBusState *bus_state; /* manager-bus.c */
        bool metrics_failing;              /* metrics.c: the last write failed (warned once) */
        char *metrics_path;                /* metrics.c: the file written, removed at a clean stop */
        sd_event_source *tick_source;
        sd_event_source *pressure_source; /* the fast look at MemAvailable, nodes, PSI */
        sd_event_source *psi_trigger_source; /* wakes the pressure watch on memory stalls */
        sd_event_source *scan_source; /* counts one block per loop iteration, at idle priority */
        sd_event_source *uevent_source;
        sd_event_source *exit_source; /* the deadline of the exit's give-back */
        MemEvents *memevents;
        sd_bus_message **online_all_replies; /* OnlineAll() calls waiting for the worker to end */
        size_t n_online_all_replies;
        sd_bus_message **rescan_replies; /* Rescan() calls waiting for the counts */
        size_t n_rescan_replies;
        ExplainJob *explain_jobs; /* explain-job.c: what holds a block, looked at by children */
        size_t n_explain_jobs;
} Manager;

/* Out of memory, logged. */
int manager_new(Manager **ret);
Manager *manager_free(Manager *m);

/* Open the kernel roots, the state directory (NULL: none), read the block
 * table, the blocks mempowerd owns (state file) and the readings. */
int manager_open(Manager *m, const char *sysfs, const char *procfs, const char *state_dir);
/* Open kpageflags and the scanner (needs root): the daemon and --once.
 * optional: without the permission, say so and go on with kpf_fd < 0 (no
 * counts, --once only). */
int manager_open_scanner(Manager *m, bool optional);
bool manager_dry_run(const Manager *m);

/* Reread the block table from sysfs (Rescan): blocks that vanished or
 * appeared without a uevent, states changed by another agent. What was
 * counted of unchanged blocks is kept. */
int manager_reread_blocks(Manager *m);

/* One tick: readings, probes, counts within the CPU budget, then a plan. */
int manager_tick(Manager *m);

/* Reload the configuration; on error the old one stays, the error is
 * logged, kept in LastError, returned, and described in *ret_err (may be
 * NULL: PATH, LINE, reason). */
int manager_reload(Manager *m, ConfigError *ret_err);
/* Log the warnings about a configuration (config_warnings()). */
void manager_warn_config(const Config *c, const ConfigSources *sources);

/* Apply one uevent. */
int manager_handle_memevent(Manager *m, const MemEvent *e);

/* Plan with the readings as they are and carry the plan out. */
void manager_decide(Manager *m, PlanKind kind);
/* Fill in from what the manager knows (the model applied in a dry run).
 * nodes: the manager's own array. */
void manager_snapshot(const Manager *m, PlanKind kind, PlanInput *ret);

/* Rescan(): reread sysfs, count every block whatever the budget; msg is
 * answered once they are counted (1), or at once by the caller (0). */
int manager_rescan(Manager *m, sd_bus_message *msg);

/* OnlineAll() over the bus: ends the evacuation in flight first; answered
 * at once (0) or once the worker has ended (1). -ENOMEM. */
int manager_online_all_request(Manager *m, sd_bus_message *msg);

/* OnlineAll(): every offline block that can be onlined, lowest first.
 * *ret_failed: how many could not be. Returns the blocks onlined. */
int manager_online_all(Manager *m, const char *why, unsigned *ret_failed);

/* Give back every owned block: one plan of kind PLAN_GIVE_BACK, carried
 * out synchronously (no worker may be running). Returns how many were
 * left offline. */
int manager_give_back_now(Manager *m);

/* Run the daemon's event loop until SIGTERM/SIGINT. */
int manager_run(Manager *m);


/* Offline now because mempowerd took it offline (not a hot-add it keeps
 * offline; not a dry run's model). */
static inline uint64_t manager_bytes_offlined(const Manager *m)
{
        uint64_t n = 0;

        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];

                if (b->state == BLOCK_OFFLINE && b->track.owned && !b->track.modelled &&
                    !b->track.hot_added)
                        n++;
        }
        return n * m->table.block_size_bytes;
}

static inline uint64_t manager_node_free_pages(const Manager *m, int node)
{
        if (node < 0 || (size_t)node >= m->n_nodes || !m->nodes[node].present)
                return 0;
        return m->nodes[node].free_pages;
}

/* ---- scanner.c ---- */
int scanner_init(Manager *m);
void scanner_free(Manager *m);
/* Count one block now from kpageflags (offline blocks: no pages). */
int scanner_count_block(Manager *m, MemBlock *b, uint64_t now_ns);
/* Count every block now (start-up, --once). */
int scanner_count_all(Manager *m);
/* The tick's part: probes of empty blocks and which blocks are stale. */
void scanner_tick(Manager *m, uint64_t now_ns, uint64_t elapsed_ns);
/* Count the next stale block if the budget allows: 1 counted, 0 nothing. */
int scanner_step(Manager *m);
/* Rescan(): every online block is counted at the next steps, whatever the
 * budget. */
void scanner_force_all(Manager *m);

/* ---- power.c ---- */
/* The block table changed: regroup the domains (now, and once more at the
 * next tick: an ACPI device's firmware_node appears after the block's add
 * event). */
void power_table_changed(Manager *m);
/* Find what measures DRAM energy (RAPL); none is no error. */
void power_open(Manager *m);
/* Before a plan or a report: regroup if due, size the scratch. Fails
 * closed: a failed regroup keeps the old table, a missing scratch means no
 * handshake look. */
void power_refresh(Manager *m);
/* The snapshot's domain fields. */
void power_snapshot(const Manager *m, PlanInput *in);
/* The plan asks for the memory policies of plan->check_bindings_node: read
 * them (at most once a second). Returns true when they were read (plan
 * again). */
bool power_check_bindings(Manager *m, const Plan *plan);
/* Every memory node's (the report). */
void power_read_all_bindings(Manager *m);
/* Account energy up to now; domains going wholly offline or coming back. */
void power_account(Manager *m);
void power_free(Manager *m);

/* What the bus, the report and the metrics show of the energy. */
typedef struct PowerFigures {
        size_t domains_total, domains_offline;
        double watts_saved;                        /* estimated, now */
        double net_joules, net_joules_boot;        /* saved - spent: since start, this boot */
        double spent_joules, spent_joules_boot;    /* migrations */
        double offline_byte_seconds, offline_byte_seconds_boot;
        double dram_watts;                         /* measured; < 0 not measured */
        double dram_joules;                        /* measured since start */
} PowerFigures;
/* Arithmetic on the fields only (the metrics link without power.c). */
static inline void power_figures(const Manager *m, PowerFigures *ret)
{
        const Power *p = &m->power;

        *ret = (PowerFigures){
                .domains_total = p->domains.n,
                .domains_offline = p->domains_offline,
                .watts_saved = p->watts_now,
                .net_joules = p->start.saved_joules - p->start.spent_joules,
                .net_joules_boot = p->before.saved_joules + p->start.saved_joules -
                                   p->before.spent_joules - p->start.spent_joules,
                .spent_joules = p->start.spent_joules,
                .spent_joules_boot = p->before.spent_joules + p->start.spent_joules,
                .offline_byte_seconds = p->start.offline_byte_seconds,
                .offline_byte_seconds_boot =
                        p->before.offline_byte_seconds + p->start.offline_byte_seconds,
                .dram_watts = p->rapl.n > 0 ? p->rapl.watts : -1,
                .dram_joules = p->rapl.joules,
        };
}
/* planner_explain of the manager's snapshot: blocks (table.n entries) and
 * domains (power.domains.n, may be NULL). -ENOMEM. */
int power_explain(const Manager *m, PlanVerdict *blocks, PlanVerdict *domains, PlanSummary *summary);

/* One domain as the report and ListDomains() show it. */
typedef struct DomainRow {
        const Domain *d;
        DomainStat s;
        const char *word;       /* "offline", "evacuate", "offlined" or why not (a verdict) */
        bool eligible;          /* would be emptied from here */
        uint64_t used_bytes;    /* in its online blocks */
        uint64_t movable_bytes;
        double watts;           /* its estimated saving when offline whole */
        bool saving;            /* offline whole by mempowerd: saving now */
} DomainRow;
/* Domain i of power.domains, with its verdict (power_explain). */
void power_domain_row(const Manager *m, size_t i, PlanVerdict verdict, DomainRow *ret);

/* ---- explain-job.c ---- */
/* At most this many blocks are looked at at once, and by callers other
 * than root one fewer (a slot stays for root and the daemon), one each. */
#define EXPLAIN_JOBS_MAX 4
/* e is NULL when error is set (-ETIMEDOUT, -ECANCELED at exit, the
 * child's -errno); it lives only during the call. */
typedef void (*ExplainDone)(Manager *m, uint32_t index, int error, const Explanation *e,
                            void *userdata);
/* Look at what holds block index, in a child process, among the processes
 * of user only ((uid_t)-1: everyone's); done is called once, from the event
 * loop (or from explain_stop_all). -ENXIO (no such block), -EBUSY
 * (EXPLAIN_JOBS_MAX running), -EOPNOTSUPP (no event loop or kpageflags),
 * -errno of pipe/fork; done is not called then. */
int explain_start(Manager *m, uint32_t index, uid_t only, ExplainDone done, void *userdata);
/* Jobs not answered yet that look at the processes of user only. */
size_t explain_jobs_of(const Manager *m, uid_t only);
/* Kill every child; their done gets -ECANCELED. */
void explain_stop_all(Manager *m);

/* ---- watch.c ---- */
/* The tick's readings: meminfo, PSI, every node, overcommit, kernel-zone
 * free pages. A failed meminfo read is remembered (fail closed). */
void watch_read_all(Manager *m);
/* Before a plan between ticks: meminfo, PSI, the kernel zones, every node. */
void watch_read_fast(Manager *m);
/* Start the fast pressure watch and the PSI trigger. */
int watch_start(Manager *m);
void watch_stop(Manager *m);
