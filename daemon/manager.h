/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The one object that owns everything the daemon knows: configuration, the
 * kernel roots, the block table, the counters, and the event loop. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "handshake.h"
#include "memblock.h"
#include "memevents.h"
#include "migrate.h"
#include "nodeinfo.h"
#include "policy.h"
#include "roots.h"
#include "scansched.h"

typedef struct NodeState {
        bool present;          /* has a meminfo file */
        NodeMemInfo mem;
        uint64_t free_pages;   /* mem.free_kb in pages */
        uint64_t prev_free_pages; /* at the reading before */
        uint64_t pressure_usec; /* when the node last ran short (NodeMinFreeMiB), 0 = never */
} NodeState;

/* The one evacuation in flight: a worker process that moves the block's
 * mapped pages with move_pages and then writes "offline", so that a stuck
 * offline (it can loop for ever holding the hotplug lock) is ended with
 * SIGKILL. */
typedef enum EvacPhase {
        EVAC_IDLE,
        EVAC_MIGRATING,
        EVAC_OFFLINING,
        _EVAC_PHASE_MAX,
        _EVAC_PHASE_INVALID = -22,
} EvacPhase;

typedef struct Evacuation {
        EvacPhase phase;
        pid_t pid;
        uint32_t index;
        int node;
        int dest_node; /* -1: no move_pages, the kernel's offline migrates */
        uint64_t started_usec;
        int pipe_fd;
        sd_event_source *child_source;
        sd_event_source *pipe_source;
        sd_event_source *timer_source;
        MigrateStats stats;
        bool have_stats;
        int offline_result; /* errno of the worker's write, 1 = not reported */
        const char *kill_reason; /* why the parent killed it, or NULL */
        bool aborted;            /* killed for pressure or shutdown, not for the block */
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
        uint64_t evacuations_started;
        uint64_t evacuations_succeeded;
        uint64_t evacuations_failed;
        uint64_t evacuations_aborted; /* ended for pressure or shutdown */
        uint64_t migrate_ns;         /* wall time in locate + move_pages */
        uint64_t offline_attempts;   /* writes of "offline" */
} ManagerCounters;

typedef struct Manager {
        Config config;
        char *config_path; /* --config, or NULL for the default locations */
        bool force_dry_run; /* --dry-run: overrides the config */

        Roots roots;
        int memdir_fd;
        int kpf_fd;
        uint64_t page_size;
        uint64_t *scanbuf;
        size_t scanbuf_size;

        BlockTable table;
        ScanSched sched;
        NodeState *nodes;
        size_t n_nodes;
        MemInfo meminfo;
        Psi psi;
        bool has_psi;

        uint64_t block_cost_ns; /* measured CPU cost of counting one block */
        uint64_t last_tick_ns;
        uint64_t last_reread_ns; /* sysfs reread in full, for uevents that never came */
        ManagerCounters counters;

        bool paused;           /* Pause(): look and report, act on nothing but pressure */
        char last_error[256];  /* the last thing that went wrong, for LastError */
        uint64_t bytes_offlined_by_daemon; /* offline now because mempowerd did it */

        Handshake handshake;
        Backoff *backoffs; /* by block index */
        size_t n_backoffs;
        uint64_t *online_retry_usec; /* by block index: online failed, not before this */
        size_t n_online_retry;
        IndexSet has_memory; /* nodes with memory */
        Pressure pressure;   /* at the last look */
        uint64_t pressure_usec; /* when the machine was last under pressure, 0 = never */
        Evacuation evac;

        sd_event *event;
        struct sd_bus *bus;
        struct ManagerBusState *bus_state; /* manager-bus.c: property values last published */
        bool metrics_failing;              /* metrics.c: the last write failed (warned once) */
        sd_event_source *tick_source;
        sd_event_source *pressure_source; /* a fast, cheap look at MemAvailable and PSI */
        sd_event_source *psi_trigger_source; /* wakes the pressure check on memory stalls */
        sd_event_source *scan_source; /* counts one block per loop iteration, at idle priority */
        sd_event_source *uevent_source;
        MemEvents *memevents;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);

/* Open the kernel roots and read the block table and counters. */
int manager_open(Manager *m, const char *sysfs, const char *procfs);
bool manager_dry_run(const Manager *m);

/* Reread the block table from sysfs (Rescan): blocks that vanished or
 * appeared without a uevent, states changed by another agent. What was
 * counted of unchanged blocks is kept. */
int manager_reread_blocks(Manager *m);
/* Count every online block now (start-up, --once, Rescan). */
int manager_count_all(Manager *m);
/* Reread machine, node and pressure counters. */
int manager_read_counters(Manager *m);

/* One look: counters, probes, counts within the CPU budget. */
int manager_tick(Manager *m);

/* Reload the configuration; on error the old one stays and the error is
 * returned (already logged). */
int manager_reload(Manager *m);

/* Apply one uevent. */
int manager_handle_memevent(Manager *m, const MemEvent *e);

/* Online one offline block as online_movable (never plain "online": that
 * can put it in ZONE_NORMAL). Dry run: logs only. Reads the state back. */
int manager_online_block(Manager *m, MemBlock *b, const char *why);
/* A block whose online failed is passed over until this returns true, so
 * the next one is tried instead. */
bool manager_online_ready(const Manager *m, uint32_t index, uint64_t now_usec);
/* Online every offline block that can go to ZONE_MOVABLE (OnlineAll()). */
int manager_online_all(Manager *m, const char *why);

/* Give memory back: under pressure, end the evacuation in flight and
 * online blocks until the reserve is met; then the same per node for nodes
 * below NodeMinFreeMiB. Pressure from PSI alone counts only when
 * act_on_psi (its avg10 lingers for seconds: the fast watch leaves it to the
 * tick). Returns blocks onlined. */
int manager_relieve_pressure(Manager *m, bool act_on_psi);
/* Reread the free counts of the nodes that have offline blocks. */
void manager_read_offline_nodes(Manager *m);
/* A node that ran short less than BackoffInitialSec ago, or whose free
 * memory is falling: none of its blocks is taken offline. */
bool manager_node_busy(const Manager *m, int node, uint64_t now_usec);
/* NodeMinFreeMiB in pages. */
uint64_t manager_node_floor_pages(const Manager *m);
/* Would the block's node keep NodeMinFreeMiB free without the block? */
bool manager_node_can_spare(const Manager *m, const MemBlock *b);
/* Under pressure now, or less than BackoffInitialSec ago: no block is taken
 * offline, so memory just given back is not taken again while the demand
 * that needed it goes on. */
bool manager_pressure_recent(const Manager *m, uint64_t now_usec);
/* Start evacuating a block (handshake or sweep). 0 started or logged (dry
 * run), -EBUSY when one is in flight, other -errno when it cannot start. */
int manager_evacuate_block(Manager *m, uint32_t index, const char *why);
/* End the evacuation in flight (SIGKILL the worker) for pressure or
 * shutdown, wait for it, and count it as aborted: no back-off, no
 * LastError. */
void manager_evacuation_abort(Manager *m, const char *why);
bool manager_evacuating(const Manager *m);
Backoff *manager_backoff(Manager *m, uint32_t index);

/* Run the daemon's event loop until SIGTERM/SIGINT. */
int manager_run(Manager *m);

/* What the daemon would do with a block, for reports: *ret_offlinable and a
 * short word ("offline", or why not). */
const char *manager_block_intent(const Manager *m, const MemBlock *b, bool *ret_offlinable);

/* Free pages by node id (POLICY_FREE_UNKNOWN where not read), malloc'd. */
uint64_t *manager_node_free_array(const Manager *m);

static inline uint64_t manager_node_free_pages(const Manager *m, int node)
{
        if (node < 0 || (size_t)node >= m->n_nodes || !m->nodes[node].present)
                return 0;
        return m->nodes[node].free_pages;
}
