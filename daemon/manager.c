/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <sys/epoll.h>

#include "config-build.h"
#include "format.h"
#include "kpageflags.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "metrics.h"
#include "util.h"

/* The migration step holds no kernel lock: bound it generously. */
#define MIGRATE_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* After a failed online, other blocks are tried first for this long. */
#define ONLINE_RETRY_USEC (1 * USEC_PER_SEC)

/* How long the exit waits for a worker to end before giving up on the
 * give-back (ExecStopPost= tries again). */
#define EXIT_WAIT_USEC (5 * USEC_PER_SEC)

/* Plans carried out in a row when outcomes come back at once (dry run). */
#define DECIDE_ROUNDS_MAX 64

static void manager_set_error(Manager *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void manager_set_error(Manager *m, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
        va_end(ap);
}

static void on_outcome(const ActOutcome *o, void *userdata);
static void manager_save_state(Manager *m);

/* MEMPOWERD_DOMAIN= of the journal's messages about a block. */
static const char *manager_domain_name(uint32_t block, void *userdata)
{
        const Manager *m = userdata;
        const char *name = domain_name_of(&m->power.domains, block);

        return *name ? name : NULL;
}

int manager_new(Manager **ret)
{
        Manager *m = calloc(1, sizeof(*m));

        if (!m)
                return log_oom();
        config_init(&m->config);
        m->roots = ROOTS_NULL;
        m->memdir_fd = -1;
        m->kpf_fd = -1;
        m->state_dir_fd = -1;
        m->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
        m->evac.dest_node = -1;
        log_set_domain_lookup(manager_domain_name, m);
        if (planner_state_init(&m->planner, 0) < 0) {
                free(m);
                return log_oom();
        }
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        log_set_domain_lookup(NULL, NULL);
        explain_stop_all(m);
        manager_bus_close(m);
        m->actuator = actuator_free(m->actuator);
        watch_stop(m);
        sd_event_source_unref(m->tick_source);
        sd_event_source_unref(m->scan_source);
        sd_event_source_unref(m->uevent_source);
        sd_event_source_unref(m->exit_source);
        memevents_free(m->memevents);
        for (size_t i = 0; i < m->n_rescan_replies; i++)
                sd_bus_message_unref(m->rescan_replies[i]);
        free(m->rescan_replies);
        for (size_t i = 0; i < m->n_online_all_replies; i++)
                sd_bus_message_unref(m->online_all_replies[i]);
        free(m->online_all_replies);
        sd_event_unref(m->event);
        blocktable_clear(&m->table);
        power_free(m);
        planner_state_free(&m->planner);
        free(m->plan_events);
        indexset_free(&m->has_memory);
        free(m->nodes);
        free(m->plan_nodes);
        scanner_free(m);
        free(m->metrics_path);
        if (m->kpf_fd >= 0)
                close(m->kpf_fd);
        if (m->memdir_fd >= 0)
                close(m->memdir_fd);
        if (m->state_dir_fd >= 0)
                close(m->state_dir_fd);
        free(m->state_dir);
        roots_close(&m->roots);
        config_free(&m->config);
        free(m->config_path);
        free(m);
        return NULL;
}

bool manager_dry_run(const Manager *m)
{
        return m->force_dry_run || m->config.dry_run;
}

/* Size the per-node arrays for the table's nodes. */
static int manager_size_nodes(Manager *m)
{
        size_t want = 0;
        NodeState *n;
        PlanNode *pn;
        HandshakeEvent *ev;
        int r;

        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].node >= 0 && (size_t)m->table.blocks[i].node + 1 > want)
                        want = (size_t)m->table.blocks[i].node + 1;
        if (want > PLAN_NODES_MAX)
                want = PLAN_NODES_MAX;
        if (want > m->n_nodes) {
                n = realloc(m->nodes, want * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                for (size_t i = m->n_nodes; i < want; i++)
                        n[i] = (NodeState){ .tick_free_pages = PLAN_FREE_UNKNOWN,
                                            .last_tick_free = PLAN_FREE_UNKNOWN };
                m->nodes = n;
                pn = realloc(m->plan_nodes, want * sizeof(*pn));
                if (!pn)
                        return -ENOMEM;
                m->plan_nodes = pn;
                m->n_nodes = want;
        }
        r = planner_state_set_nodes(&m->planner, m->n_nodes);
        if (r < 0)
                return r;
        if (m->plan_events_size < planner_max_events(&m->planner)) {
                size_t size = planner_max_events(&m->planner);

                ev = realloc(m->plan_events, size * sizeof(*ev));
                if (!ev)
                        return -ENOMEM;
                m->plan_events = ev;
                m->plan_events_size = size;
        }
        return 0;
}

/* ---- The model of a dry run ---- */

/* Blocks the model holds offline are offline in the table whatever sysfs
 * says (the kernel has them online). */
static void model_reapply(Manager *m)
{
        if (m->model_offline == 0)
                return;
        for (size_t i = 0; i < m->table.n; i++) {
                MemBlock *b = &m->table.blocks[i];

                if (!b->track.modelled)
                        continue;
                b->state = BLOCK_OFFLINE;
                b->usage = (PageUsage){ .nopage = m->table.pages_per_block };
                b->usage_valid = true;
        }
}

static void model_offline(Manager *m, MemBlock *b, int dest)
{
        b->track.modelled = true;
        b->track.model_free = b->usage.free;
        b->track.model_movable = b->usage.movable;
        b->track.model_dest = dest;
        m->model_offline++;
        m->model_avail_pages += b->usage.free + b->usage.movable;
        if (b->node >= 0 && (size_t)b->node < m->n_nodes)
                m->nodes[b->node].model_free_pages += b->usage.free;
        if (dest >= 0 && (size_t)dest < m->n_nodes)
                m->nodes[dest].model_free_pages += b->usage.movable;
        b->state = BLOCK_OFFLINE;
        b->usage = (PageUsage){ .nopage = m->table.pages_per_block };
}

static void model_online(Manager *m, MemBlock *b)
{
        BlockTrack *t = &b->track;

        if (!t->modelled)
                return;
        m->model_offline--;
        m->model_avail_pages = u64_sub_sat(m->model_avail_pages, t->model_free + t->model_movable);
        if (b->node >= 0 && (size_t)b->node < m->n_nodes)
                m->nodes[b->node].model_free_pages =
                        u64_sub_sat(m->nodes[b->node].model_free_pages, t->model_free);
        if (t->model_dest >= 0 && (size_t)t->model_dest < m->n_nodes)
                m->nodes[t->model_dest].model_free_pages =
                        u64_sub_sat(m->nodes[t->model_dest].model_free_pages, t->model_movable);
        t->modelled = false;
        b->state = BLOCK_ONLINE;
        b->usage_valid = false; /* count what the kernel really has */
}

/* The model ends (DryRun= turned off): the table says what the kernel says. */
static void model_clear(Manager *m)
{
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].track.modelled) {
                        model_online(m, &m->table.blocks[i]);
                        m->table.blocks[i].track.owned = false;
                }
        m->model_offline = m->model_avail_pages = m->model_said = 0;
        for (size_t i = 0; i < m->n_nodes; i++)
                m->nodes[i].model_free_pages = 0;
}

/* ---- Snapshot ---- */

void manager_snapshot(const Manager *m, PlanKind kind, PlanInput *ret)
{
        uint64_t ps = m->page_size, ppb = m->table.pages_per_block;
        const MemInfo *mi = &m->meminfo;
        PlanMemory mem = {
                .valid = m->meminfo_valid,
                .total_pages = mi->total_kb * 1024 / ps,
                .available_pages = mi->available_kb * 1024 / ps,
                .psi_valid = m->has_psi,
                .psi_some_avg10 = m->psi.some.avg10,
                .overcommit = mi->commit_valid ? (Overcommit)m->overcommit.mode : OVERCOMMIT_ALWAYS,
                .overcommit_ratio = m->overcommit.ratio,
                .overcommit_kbytes = m->overcommit.kbytes,
                .commit_limit_pages = mi->commit_limit_kb * 1024 / ps,
                .committed_pages = mi->committed_as_kb * 1024 / ps,
                .swap_total_pages = mi->swap_total_kb * 1024 / ps,
                .zones_valid = m->kernel_free_valid,
                .kernel_free_pages = m->kernel_free_pages,
        };

        /* The model's offline blocks are gone from what is free and online. */
        mem.total_pages = u64_sub_sat(mem.total_pages, m->model_offline * ppb);
        mem.available_pages = u64_sub_sat(mem.available_pages, m->model_avail_pages);
        if (mem.overcommit == OVERCOMMIT_NEVER && mem.overcommit_kbytes == 0)
                mem.commit_limit_pages = u64_sub_sat(
                        mem.commit_limit_pages, m->model_offline * ppb * mem.overcommit_ratio / 100);

        for (size_t i = 0; i < m->n_nodes; i++) {
                const NodeState *n = &m->nodes[i];

                m->plan_nodes[i] = (PlanNode){
                        .present = n->present,
                        .has_memory = indexset_contains(&m->has_memory, (uint32_t)i),
                        .free_pages = u64_sub_sat(n->free_pages, n->model_free_pages),
                        .prev_free_pages = n->tick_free_pages == PLAN_FREE_UNKNOWN
                                                   ? PLAN_FREE_UNKNOWN
                                                   : u64_sub_sat(n->tick_free_pages,
                                                                 n->model_free_pages),
                        .bindings_usec = n->bindings_usec,
                        .bound = n->bound,
                };
        }

        *ret = (PlanInput){
                .kind = kind,
                .config = &m->config,
                .now_usec = now_usec(),
                .blocks = m->table.blocks,
                .n_blocks = m->table.n,
                .pages_per_block = ppb,
                .page_size = ps,
                .nodes = m->plan_nodes,
                .n_nodes = m->n_nodes,
                .mem = mem,
                .evac = {
                        .phase = m->evac.phase,
                        .index = m->evac.index,
                        .node = m->evac.node,
                        .moved_pages = m->evac.moved_pages,
                },
                /* an OnlineAll() waiting: nothing new goes offline */
                .paused = m->paused || m->n_online_all_replies > 0,
                .evacuations_this_tick = m->evacuations_this_tick,
                .last_online_usec = m->last_online_usec,
        };
        power_snapshot(m, ret);
}

/* ---- Applying outcomes ---- */

static void manager_block_state_changed(Manager *m, uint32_t index, BlockState before,
                                        BlockState after)
{
        if (before == after)
                return;
        manager_bus_emit_block_state(m, index, after);
}

/* Put what sysfs says of a block into the table. */
static MemBlock *manager_take_reading(Manager *m, const ActOutcome *o)
{
        MemBlock *b = blocktable_find(&m->table, o->index);
        BlockState before = b ? b->state : _BLOCK_STATE_INVALID;

        if (o->gone) {
                if (b) {
                        model_online(m, b); /* the model loses it too */
                        (void)blocktable_remove(&m->table, o->index);
                }
                return NULL;
        }
        if (!o->read_back)
                return b;
        if (blocktable_update(&m->table, &o->now) < 0) {
                (void)log_oom();
                return b;
        }
        b = blocktable_find(&m->table, o->index);
        manager_block_state_changed(m, o->index, before, b->state);
        return b;
}

static void evac_clear(Manager *m)
{
        /* the state file listed the block while its offline was in flight */
        if (m->evac.phase == PLAN_EVAC_OFFLINING || m->evac.phase == PLAN_EVAC_ENDING)
                m->state_dirty = true;
        m->evac = (Evacuation){ .dest_node = -1 };
}

static double evac_seconds(const Manager *m)
{
        return (double)(now_usec() - m->evac.started_usec) / USEC_PER_SEC;
}

static const char *evac_reason(const Manager *m)
{
        return plan_reason_to_string(m->evac.reason);
}

/* Why a block is onlined: for pressure, which ("reserve", "psi+commit"). */
static const char *act_reason_of(const Manager *m, const PlanAction *a)
{
        if (!a)
                return "online";
        if (a->reason == PLAN_REASON_PRESSURE)
                return m->pressure_words;
        return plan_reason_to_string(a->reason);
}
#define act_reason(a) act_reason_of(m, a)

static void apply_onlined(Manager *m, const ActOutcome *o, const PlanAction *a)
{
        char want[32], got[32];
        MemBlock *b;
        bool owned;

        if (o->simulated) {
                b = blocktable_find(&m->table, o->index);
                if (!b)
                        return;
                model_online(m, b);
                b->track.owned = false;
                log_block(LOG_INFO, o->index, act_reason(a),
                          "memory%" PRIu32 ": would online (%s) [dry run]", o->index,
                          act_reason(a));
                return;
        }
        b = blocktable_find(&m->table, o->index);
        owned = b && b->track.owned;
        b = manager_take_reading(m, o);
        if (!b)
                return;
        b->track.owned = false;
        b->track.hot_added = false;
        b->track.origin_zones = 0;
        b->track.online_retry_usec = 0;
        /* A block the kernel just onlined is empty: all its pages went to
         * the buddy allocator. Knowing that makes its first use visible to
         * the handshake at its next count. */
        b->usage = (PageUsage){ .free = m->table.pages_per_block };
        b->usage_valid = true;
        b->scanned_ns = clock_ns(CLOCK_MONOTONIC);
        b->node_free_at_scan = 0;
        m->counters.blocks_onlined++;
        m->last_online_usec = now_usec();
        if (owned)
                m->state_dirty = true;
        zones_to_string(b->zones, got, sizeof(got));
        log_event(LOG_INFO, MEMPOWERD_MESSAGE_ONLINED, o->index, act_reason(a),
                  "memory%" PRIu32 ": online (%s), zone %s", o->index, act_reason(a), got);
        if (a && (a->fallback || (a->zone == PLAN_ZONE_MOVABLE) != (b->zones == ZONE_MOVABLE_BIT))) {
                snprintf(want, sizeof(want), "%s",
                         a->zone == PLAN_ZONE_MOVABLE ? "Movable" : "a kernel zone");
                log_block(LOG_WARNING, o->index, "zone",
                          "memory%" PRIu32 ": onlined into %s, it was offlined from %s", o->index,
                          got, a->fallback ? "another zone (not valid for it now)" : want);
        }
}

static void apply_online_failed(Manager *m, const ActOutcome *o, const PlanAction *a)
{
        MemBlock *b = manager_take_reading(m, o);
        uint64_t t = now_usec();
        bool again;

        if (!b)
                return;
        /* failed already within the last ten seconds: logged once, not at
         * every retry */
        again = b->track.online_retry_usec && b->track.online_retry_usec + 10 * USEC_PER_SEC > t;
        b->track.online_retry_usec = t + ONLINE_RETRY_USEC;
        if (o->reason)
                manager_set_error(m, "Failed to online memory%" PRIu32 ": %s", o->index, o->reason);
        else
                manager_set_error(m, "Failed to online memory%" PRIu32 ": %s", o->index,
                                  strerror(o->error));
        if (o->reason)
                log_block(again ? LOG_DEBUG : LOG_ERR, o->index, act_reason(a),
                          "memory%" PRIu32 ": failed to online (%s): %s", o->index, act_reason(a),
                          o->reason);
        else
                (void)log_block_errno(again ? LOG_DEBUG : LOG_ERR, o->error, o->index,
                                      act_reason(a), "memory%" PRIu32 ": failed to online (%s): %m",
                                      o->index, act_reason(a));
}

/* After an offline the kernel refused or that timed out: the journal
 * names what holds the block. */
static void log_holders(Manager *m, uint32_t index, int error, const Explanation *e,
                        void *userdata)
{
        char who[512] = "", what[128] = "", size[32];
        size_t used = 0;

        if (error == -ECANCELED)
                return;
        if (error < 0) {
                log_debug_errno(error, "memory%" PRIu32 ": failed to look at what holds it: %m",
                                index);
                return;
        }
        for (size_t i = 0; i < e->n_holders && i < 5 && used < sizeof(who); i++) {
                const ExplainHolder *h = &e->holders[i];
                int n = snprintf(who + used, sizeof(who) - used, "%s%s[%d]%s%s %s", i ? ", " : "",
                                 h->comm[0] ? h->comm : "?", (int)h->pid, h->unit[0] ? " in " : "",
                                 h->unit, format_bytes(h->pages * m->page_size, size, sizeof(size)));

                if (n < 0)
                        break;
                used += (size_t)n;
        }
        if (e->holders_total > 5 && used < sizeof(who))
                snprintf(who + used, sizeof(who) - used, " and %zu more", e->holders_total - 5);
        if (e->usage.unmovable + e->usage.unknown + e->usage.hugetlb > 0)
                snprintf(what, sizeof(what), "; %" PRIu64 " unmovable, %" PRIu64
                                             " unknown, %" PRIu64 " hugetlb pages in %zu ranges",
                         e->usage.unmovable, e->usage.unknown, e->usage.hugetlb, e->ranges_total);
        log_event(LOG_NOTICE, MEMPOWERD_MESSAGE_HOLDERS, index, "holders",
                  "memory%" PRIu32 ": held by %s%s (mempowerctl explain %" PRIu32 ")", index,
                  e->holders_total ? who : "no process",
                  what, index);
}

/* The evacuation in flight failed because of the block: back off. */
static void evac_failed(Manager *m, MemBlock *b, const ActOutcome *o, const char *what)
{
        char reason[160];

        if (o->reason)
                snprintf(reason, sizeof(reason), "%s", o->reason);
        else
                snprintf(reason, sizeof(reason), "%s", strerror(o->error));
        m->counters.evacuations_failed++;
        if (b) {
                Backoff *bo = &b->track.backoff;
                uint64_t now = now_usec();

                /* EBUSY: unmovable pages; nothing changes until the block's
                 * usage does. */
                if (o->error == EBUSY && !o->reason && b->usage_valid)
                        backoff_hold(bo, &b->usage);
                backoff_fail(bo, now, m->config.backoff_initial_usec, m->config.backoff_max_usec);
                b->usage_valid = false;
                log_event(LOG_WARNING, MEMPOWERD_MESSAGE_EVACUATION_FAILED, o->index,
                          evac_reason(m),
                          "memory%" PRIu32 ": %s failed: %s (attempt %u, next in %.0fs)", o->index,
                          what, reason, bo->attempts,
                          (double)u64_sub_sat(bo->next_try_usec, now) / USEC_PER_SEC);
                snprintf(b->track.last_failure, sizeof(b->track.last_failure), "%s: %.80s",
                         what, reason);
                b->track.last_failure_usec = now;
                /* the kernel refused (EBUSY) or the offline looped until it
                 * was killed: say who holds the block */
                if (!m->exiting && b->state != BLOCK_OFFLINE &&
                    ((o->error == EBUSY && !o->reason) || o->timed_out))
                        (void)explain_start(m, o->index, (uid_t)-1, log_holders, NULL);
        }
        manager_set_error(m, "memory%" PRIu32 ": %s", o->index, reason);
        manager_bus_emit_evacuation_failed(m, o->index, reason);
        evac_clear(m);
}

static void apply_migrated(Manager *m, const ActOutcome *o)
{
        Evacuation *e = &m->evac;

        if (e->phase != PLAN_EVAC_MIGRATING || e->index != o->index)
                return;
        e->phase = PLAN_EVAC_MIGRATED;
        if (o->simulated) {
                MemBlock *b = blocktable_find(&m->table, o->index);

                e->moved_pages = b ? b->usage.movable : 0;
                return;
        }
        e->moved_pages += o->stats.moved;
        e->stats = o->stats;
        m->counters.pages_migrated += o->stats.moved;
        m->counters.migrate_ns += o->stats.usec * NSEC_PER_USEC;
        if (o->error)
                log_block_errno(LOG_WARNING, o->error, o->index, evac_reason(m),
                                "memory%" PRIu32 ": locating or moving pages failed, the kernel's "
                                "offline will migrate what is left: %m",
                                o->index);
        log_block(LOG_INFO, o->index, evac_reason(m),
                  "memory%" PRIu32 ": move_pages to node %d: %" PRIu64 " moved, %" PRIu64
                  " busy, %" PRIu64 " gone, %" PRIu64 " failed (%" PRIu64 " processes, %" PRIu64
                  " skipped)",
                  o->index, e->dest_node, o->stats.moved, o->stats.busy, o->stats.gone,
                  o->stats.failed + o->stats.not_tried, o->processes, o->skipped);
}

static void apply_offlined(Manager *m, const ActOutcome *o)
{
        Evacuation *e = &m->evac;
        bool ours = e->phase != PLAN_EVAC_NONE && e->index == o->index;
        MemBlock *b;

        if (o->simulated) {
                b = blocktable_find(&m->table, o->index);
                if (b) {
                        model_offline(m, b, ours ? e->dest_node : -1);
                        b->track.owned = true;
                        b->track.origin_zones = ours ? e->zones : 0;
                }
                if (ours && e->dest_node >= 0)
                        log_block(LOG_INFO, o->index, evac_reason(m),
                                  "memory%" PRIu32 ": would evacuate (%s): move %" PRIu64
                                  " pages to node %d with move_pages, then offline [dry run]",
                                  o->index, evac_reason(m), e->moved_pages, e->dest_node);
                else
                        log_block(LOG_INFO, o->index, evac_reason(m),
                                  "memory%" PRIu32 ": would offline (%s) [dry run]", o->index,
                                  evac_reason(m));
                if (ours)
                        evac_clear(m);
                return;
        }
        b = manager_take_reading(m, o);
        if (!b) {
                if (ours)
                        evac_clear(m);
                return;
        }
        b->usage = (PageUsage){ .nopage = m->table.pages_per_block };
        b->usage_valid = true;
        if (!b->track.owned) {
                b->track.owned = true;
                b->track.origin_zones = ours ? e->zones : 0;
                m->state_dirty = true;
        }
        backoff_reset(&b->track.backoff);
        m->counters.blocks_offlined++;
        m->counters.evacuations_succeeded++;
        /* what move_pages left, the kernel's offline moved */
        if (ours)
                m->counters.pages_offline_migrated += e->offline_movable;
        log_event(LOG_INFO, MEMPOWERD_MESSAGE_OFFLINED, o->index, evac_reason(m),
                  "memory%" PRIu32 ": offline after %.2fs (%s, %" PRIu64 " pages moved)", o->index,
                  ours ? evac_seconds(m) : 0.0, evac_reason(m), ours ? e->moved_pages : 0);
        if (ours)
                evac_clear(m);
}

static void apply_offline_failed(Manager *m, const ActOutcome *o)
{
        MemBlock *b = manager_take_reading(m, o);

        if (!b) {
                /* hot-removed under us: not the block's failure */
                m->counters.evacuations_aborted++;
                log_block(LOG_INFO, o->index, evac_reason(m),
                          "memory%" PRIu32 ": removed during its evacuation", o->index);
                evac_clear(m);
                return;
        }
        evac_failed(m, b, o, "evacuation");
}

static void apply_aborted(Manager *m, const ActOutcome *o)
{
        MemBlock *b = manager_take_reading(m, o);

        /* Not the block's doing: no back-off, no error. The quiet time after
         * pressure keeps the sweep away for a while. */
        m->counters.evacuations_aborted++;
        m->counters.pages_migrated += o->stats.moved;
        m->counters.migrate_ns += o->stats.usec * NSEC_PER_USEC;
        if (b)
                b->usage_valid = false; /* count it again */
        log_block(LOG_NOTICE, o->index, evac_reason(m), "memory%" PRIu32 ": evacuation ended (%s)",
                  o->index, o->reason ? o->reason : m->evac.end_reason);
        evac_clear(m);
}

/* An outcome ended a step of the evacuation: plan the next one, with
 * figures read now (the destination took the pages just moved). */
static void manager_step_done(Manager *m)
{
        if (m->deciding) {
                m->decide_again = true;
                return;
        }
        watch_read_fast(m);
        manager_decide(m, m->exiting ? PLAN_GIVE_BACK : PLAN_STEP);
}

static void manager_apply(Manager *m, const ActOutcome *o, const PlanAction *a)
{
        switch (o->result) {
        case ACT_ONLINED:
                apply_onlined(m, o, a);
                return;
        case ACT_ONLINE_FAILED:
                apply_online_failed(m, o, a);
                return;
        case ACT_MIGRATED:
                apply_migrated(m, o);
                break;
        case ACT_MIGRATE_FAILED:
                evac_failed(m, blocktable_find(&m->table, o->index), o, "migration");
                break;
        case ACT_OFFLINED:
                apply_offlined(m, o);
                break;
        case ACT_OFFLINE_FAILED:
                apply_offline_failed(m, o);
                break;
        case ACT_ABORTED:
                apply_aborted(m, o);
                break;
        default:
                return;
        }
        manager_step_done(m);
}

static void manager_answer_online_all(Manager *m)
{
        unsigned failed = 0;
        int done;

        if (m->n_online_all_replies == 0 || actuator_busy(m->actuator))
                return;
        done = manager_online_all(m, "OnlineAll() over D-Bus", &failed);
        manager_bus_flush_properties(m);
        for (size_t i = 0; i < m->n_online_all_replies; i++) {
                (void)sd_bus_reply_method_return(m->online_all_replies[i], "uu", (uint32_t)done,
                                                 (uint32_t)failed);
                sd_bus_message_unref(m->online_all_replies[i]);
                done = 0; /* the later callers found them online already */
        }
        m->n_online_all_replies = 0;
}

/* Outcomes of the worker, after the action that started it. */
static void on_outcome(const ActOutcome *o, void *userdata)
{
        Manager *m = userdata;
        ActOutcome ended;

        /* The worker is gone: whatever it says, an evacuation that was being
         * ended is over (only a completed offline is news). */
        if (m->evac.phase == PLAN_EVAC_ENDING && o->index == m->evac.index &&
            o->result != ACT_OFFLINED && o->result != ACT_ABORTED) {
                ended = *o;
                ended.result = ACT_ABORTED;
                ended.reason = m->evac.end_reason;
                o = &ended;
        }
        manager_apply(m, o, NULL);
        manager_answer_online_all(m);
        manager_save_state(m);
        manager_bus_flush_properties(m);
}

/* ---- Carrying out a plan ---- */

static void start_failed(Manager *m, const PlanAction *a, int r)
{
        MemBlock *b = blocktable_find(&m->table, a->index);

        (void)log_block_errno(LOG_ERR, r, a->index, plan_reason_to_string(a->reason),
                              "memory%" PRIu32 ": failed to start the evacuation worker: %m",
                              a->index);
        manager_set_error(m, "memory%" PRIu32 ": failed to start the evacuation worker: %s",
                          a->index, strerror(-r));
        /* Not the block's fault, but retrying at every look would hammer. */
        if (b)
                backoff_fail(&b->track.backoff, now_usec(), m->config.backoff_initial_usec,
                             m->config.backoff_max_usec);
        evac_clear(m);
}

static void execute_start(Manager *m, const PlanAction *a)
{
        const MemBlock *b = blocktable_find(&m->table, a->index);
        ActOutcome o;
        int r;

        if (!b)
                return;
        if (a->kind == PLAN_OFFLINE && m->evac.phase == PLAN_EVAC_MIGRATED &&
            m->evac.index == a->index) {
                /* the second step */
                m->evac.phase = PLAN_EVAC_OFFLINING;
        } else {
                m->evac = (Evacuation){
                        .phase = a->kind == PLAN_MIGRATE ? PLAN_EVAC_MIGRATING : PLAN_EVAC_OFFLINING,
                        .index = a->index,
                        .node = b->node,
                        .dest_node = a->kind == PLAN_MIGRATE ? a->dest_node : -1,
                        .zones = b->zones,
                        .reason = a->reason,
                        .started_usec = now_usec(),
                };
                m->counters.evacuations_started++;
                if (a->reason == PLAN_REASON_HANDSHAKE)
                        m->counters.evacuations_handshake++;
                m->evacuations_this_tick++;
                log_block(LOG_INFO, a->index, plan_reason_to_string(a->reason),
                          "memory%" PRIu32 ": evacuating (%s): %" PRIu64 " movable pages%s",
                          a->index, plan_reason_to_string(a->reason), a->movable,
                          a->kind == PLAN_MIGRATE ? ", move_pages first" : ", offline migrates");
        }

        if (a->kind == PLAN_MIGRATE) {
                log_debug("memory%" PRIu32 ": destination node %d", a->index, a->dest_node);
                r = actuator_migrate(m->actuator, a->index, b->start_pfn, b->node, a->dest_node,
                                     m->config.migrate_batch_pages, MIGRATE_TIMEOUT_USEC, &o);
        } else {
                /* Listed before the write: if the daemon dies while it runs,
                 * the offline may still complete, and the next instance (or
                 * --give-back) must know the block is its own. */
                if (!manager_dry_run(m)) {
                        m->state_dirty = true;
                        manager_save_state(m);
                }
                m->counters.offline_attempts++;
                m->evac.offline_movable = a->movable;
                r = actuator_offline(m->actuator, a->index, m->config.offline_timeout_usec, &o);
        }
        if (r < 0)
                start_failed(m, a, r);
        else if (r > 0)
                manager_apply(m, &o, a);
}

/* End the evacuation in flight for why: the worker is killed (its outcome
 * comes later), or, between the steps, it just ends. */
static void manager_abort(Manager *m, const char *why)
{
        if (m->evac.phase == PLAN_EVAC_NONE || m->evac.phase == PLAN_EVAC_ENDING)
                return;
        m->evac.end_reason = why;
        if (actuator_abort(m->actuator, why) > 0) {
                m->evac.phase = PLAN_EVAC_ENDING;
                return;
        }
        {
                ActOutcome o = { .result = ACT_ABORTED, .index = m->evac.index, .reason = why };

                apply_aborted(m, &o);
        }
}

static void execute_abort(Manager *m, const PlanAction *a)
{
        char buf[64];
        const char *why;

        if (m->evac.phase == PLAN_EVAC_NONE || m->evac.phase == PLAN_EVAC_ENDING)
                return;
        why = a->reason == PLAN_REASON_PRESSURE  ? "memory pressure"
              : a->reason == PLAN_REASON_NODE    ? "node memory pressure"
              : a->reason == PLAN_REASON_EXIT    ? "shutdown"
              : a->reason == PLAN_REASON_REFUSED ? "no longer offlinable"
                                                 : plan_reason_to_string(a->reason);
        if (a->reason == PLAN_REASON_PRESSURE)
                log_notice("Memory pressure (%s): ending the evacuation of memory%" PRIu32,
                           pressure_to_string(m->plan.pressure, buf, sizeof(buf)), m->evac.index);
        if (a->reason == PLAN_REASON_REFUSED)
                log_block(LOG_INFO, a->index, "refused",
                          "memory%" PRIu32 ": not offlined after all: %s", a->index,
                          plan_verdict_to_string(a->verdict));
        manager_abort(m, why);
}

static void execute_online(Manager *m, const PlanAction *a)
{
        const MemBlock *b = blocktable_find(&m->table, a->index);
        ActOutcome o;
        int r;

        if (!b)
                return;
        r = actuator_online(m->actuator, a->index, a->zone, b->track.modelled, &o);

        if (r < 0) {
                log_debug_errno(r, "memory%" PRIu32 ": online not written: %m", a->index);
                return;
        }
        manager_apply(m, &o, a);
}

/* What the handshake watches: a block, or by domain the domain it names. */
static const char *unit_name(const Manager *m, uint32_t block, char *buf, size_t size)
{
        uint32_t id = m->power.domains.mode != DOMAINS_BLOCK ? domain_of(&m->power.domains, block)
                                                             : DOMAIN_NONE;

        if (id != DOMAIN_NONE)
                snprintf(buf, size, "power domain %s", m->power.domains.domains[id].name);
        else
                snprintf(buf, size, "memory%" PRIu32, block);
        return buf;
}

static void log_events(const Manager *m, const Plan *p)
{
        char name[DOMAIN_NAME_MAX + 16];

        for (size_t i = 0; i < p->n_events; i++) {
                const HandshakeEvent *e = &p->events[i];

                unit_name(m, e->block, name, sizeof(name));
                switch (e->action) {
                case HANDSHAKE_NOTE:
                        log_block(LOG_INFO, e->block, "handshake", "%s: first use noted (node %d)",
                                  name, e->node);
                        break;
                case HANDSHAKE_FREED:
                        log_block(LOG_INFO, e->block, "handshake",
                                  "%s: node %d freed memory since its first use", name, e->node);
                        break;
                default:
                        log_block(LOG_DEBUG, e->block, "handshake", "%s: note dropped (%s)", name,
                                  handshake_drop_to_string(e->reason));
                        break;
                }
        }
        if (p->dropped != DOMAIN_NONE && p->dropped < m->power.domains.n)
                log_notice("Power domain %s given up (%s): what of it is offline comes back",
                           m->power.domains.domains[p->dropped].name,
                           plan_verdict_to_string(p->dropped_verdict) ?: "?");
}

static void log_pressure(Manager *m, PlanKind kind, const Plan *p)
{
        unsigned now = p->pressure;
        char buf[64];
        size_t onlines = 0;

        /* PSI counts at a look only: between looks it stays as it was. */
        if (kind != PLAN_LOOK)
                now |= m->pressure & PRESSURE_PSI;
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == PLAN_ONLINE && p->actions[i].reason == PLAN_REASON_PRESSURE)
                        onlines++;
        if (now && (now != m->pressure || onlines > 0)) {
                pressure_to_string(now, buf, sizeof(buf));
                log_event(LOG_NOTICE, MEMPOWERD_MESSAGE_PRESSURE, LOG_NO_BLOCK, buf,
                          "Memory pressure (%s, MemAvailable %" PRIu64 " MiB, reserve %" PRIu64
                          " MiB): %s%zu blocks to online",
                          buf, p->available_pages * m->page_size >> 20,
                          p->reserve_pages * m->page_size >> 20,
                          p->onlining_waits ? "after the worker ends, " : "", onlines);
        }
        else if (!now && m->pressure)
                log_info("Memory pressure over");
        m->pressure = now;

        for (size_t n = 0; n < m->n_nodes; n++) {
                size_t k = 0;

                for (size_t i = 0; i < p->n_actions; i++)
                        if (p->actions[i].kind == PLAN_ONLINE && p->actions[i].reason == PLAN_REASON_NODE &&
                            p->actions[i].node == (int)n)
                                k++;
                if (k > 0)
                        log_notice("Node %zu ran short (free %" PRIu64 " MiB, NodeMinFreeMiB=%" PRIu64
                                   "): onlining %zu blocks",
                                   n, m->nodes[n].free_pages * m->page_size >> 20,
                                   m->config.node_reserve_mib, k);
        }
}

/* A dry run converged: say once what it would do. */
static void log_dry_run_summary(Manager *m, PlanKind kind, const Plan *p)
{
        char a[32], b[32], c[32];

        /* converged: nothing to do, and not for want of this tick's budget */
        if (!manager_dry_run(m) || (kind != PLAN_LOOK && kind != PLAN_STEP) || p->n_actions > 0 ||
            m->evac.phase != PLAN_EVAC_NONE ||
            m->model_offline == m->model_said || p->pressure ||
            m->evacuations_this_tick >= m->config.max_evacuations_per_tick)
                return;
        m->model_said = m->model_offline;
        log_notice("Dry run: would offline %" PRIu64 " blocks (%s), keeping %s free (reserve %s)",
                   m->model_offline, format_bytes(m->model_offline * m->table.block_size_bytes, a, sizeof(a)),
                   format_bytes(p->available_pages * m->page_size, b, sizeof(b)),
                   format_bytes(p->reserve_pages * m->page_size, c, sizeof(c)));
}

/* EjectEmptyDevices=yes: the device of a domain offline whole goes to the
 * host. Asked once per block set; a failure is said and not retried (the
 * memory stays offline, given back under pressure as ever). */
static void execute_eject(Manager *m, const PlanAction *a)
{
        uint32_t id = domain_of(&m->power.domains, a->index);
        const Domain *d;
        bool simulated;
        char sz[32];
        int r;

        if (id == DOMAIN_NONE)
                return;
        d = &m->power.domains.domains[id];
        r = actuator_eject(m->actuator, d->name, &simulated);
        for (size_t k = 0; k < d->n_blocks; k++) {
                MemBlock *b = blocktable_find(&m->table, m->power.domains.members[d->first + k]);

                if (b)
                        b->track.eject_sent = true;
        }
        format_bytes(d->n_blocks * m->table.block_size_bytes, sz, sizeof(sz));
        if (r < 0) {
                log_warning_errno(r, "Power domain %s: failed to eject it (%s stays offline): %m",
                                  d->name, sz);
                manager_set_error(m, "Failed to eject %s: %s", d->name, strerror(-r));
        } else if (simulated)
                log_notice("Power domain %s: would eject it, %s back to the host [dry run]", d->name,
                           sz);
        else
                log_notice("Power domain %s: ejected, %s back to the host; it comes back only "
                           "if the host adds it again",
                           d->name, sz);
}

static void manager_execute(Manager *m, const Plan *p)
{
        for (size_t i = 0; i < p->n_actions; i++) {
                const PlanAction *a = &p->actions[i];

                switch (a->kind) {
                case PLAN_ABORT:
                        execute_abort(m, a);
                        break;
                case PLAN_ONLINE:
                        execute_online(m, a);
                        break;
                case PLAN_MIGRATE:
                case PLAN_OFFLINE:
                        execute_start(m, a);
                        break;
                case PLAN_EJECT:
                        execute_eject(m, a);
                        break;
                default:
                        break;
                }
        }
}

void manager_decide(Manager *m, PlanKind kind)
{
        PlanInput in;
        int r;

        if (m->deciding) {
                m->decide_again = true;
                return;
        }
        m->deciding = true;
        power_refresh(m);
        for (int round = 0; round < DECIDE_ROUNDS_MAX; round++) {
                m->decide_again = false;
                manager_snapshot(m, kind, &in);
                m->plan.events = m->plan_events;
                m->plan.events_size = m->plan_events_size;
                r = planner_decide(&in, &m->planner, &m->plan);
                if (r < 0) {
                        log_error_errno(r, "Failed to plan: %m");
                        break;
                }
                (void)pressure_to_string(m->plan.pressure, m->pressure_words,
                                         sizeof(m->pressure_words));
                log_events(m, &m->plan);
                log_pressure(m, kind, &m->plan);
                manager_execute(m, &m->plan);
                log_dry_run_summary(m, kind, &m->plan);
                /* a full plan left actions for the next one */
                if (m->plan.n_actions == PLAN_ACTIONS_MAX)
                        m->decide_again = true;
                /* a whole node waits for the memory policies */
                if (power_check_bindings(m, &m->plan))
                        m->decide_again = true;
                if (!m->decide_again)
                        break;
                if (kind == PLAN_LOOK)
                        kind = PLAN_STEP; /* one look per tick */
        }
        m->deciding = false;
        manager_save_state(m);
}

/* ---- OnlineAll, give-back ---- */

int manager_online_all(Manager *m, const char *why, unsigned *ret_failed)
{
        unsigned failed = 0;
        int done = 0;

        /* Lowest first. The table may shift as blocks are read back: each
         * round looks for the first block after the last one tried. */
        for (uint64_t next = 0;;) {
                MemBlock *b = blocktable_find_from(&m->table, next);
                PlanAction a;
                PlanZone z;
                bool fallback;
                ActOutcome o;

                if (!b)
                        break;
                next = (uint64_t)b->index + 1;
                z = planner_online_zone(&m->config, b, true, &fallback);
                if (z == PLAN_ZONE_NONE)
                        continue;
                a = (PlanAction){ .kind = PLAN_ONLINE, .index = b->index, .zone = z,
                                  .reason = PLAN_REASON_EXIT, .fallback = fallback };
                if (actuator_online(m->actuator, b->index, z, b->track.modelled, &o) < 0) {
                        failed++;
                        continue;
                }
                manager_apply(m, &o, &a);
                if (o.result == ACT_ONLINED)
                        done++;
                else
                        failed++;
        }
        if (done > 0 || failed > 0)
                log_info("%s: %d blocks onlined, %u failed", why, done, failed);
        manager_save_state(m);
        if (ret_failed)
                *ret_failed = failed;
        return done;
}

int manager_online_all_request(Manager *m, sd_bus_message *msg)
{
        sd_bus_message **v;

        v = realloc(m->online_all_replies, (m->n_online_all_replies + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        m->online_all_replies = v;
        v[m->n_online_all_replies++] = sd_bus_message_ref(msg);
        /* The administrator's decision: the evacuation in flight ends (its
         * offline holds the hotplug lock the onlines need). */
        if (m->evac.phase != PLAN_EVAC_NONE && m->evac.phase != PLAN_EVAC_ENDING) {
                log_info("OnlineAll(): ending the evacuation of memory%" PRIu32, m->evac.index);
                manager_abort(m, "OnlineAll()");
        }
        if (actuator_busy(m->actuator))
                return 1;
        manager_answer_online_all(m);
        return 0;
}

int manager_give_back_now(Manager *m)
{
        PlanInput in;
        int left = 0, r;

        /* A plan holds PLAN_ACTIONS_MAX onlines: as many plans as it takes;
         * a block whose online failed is not tried again at once. */
        for (;;) {
                manager_snapshot(m, PLAN_GIVE_BACK, &in);
                m->plan.events = NULL;
                m->plan.events_size = 0;
                r = planner_decide(&in, &m->planner, &m->plan);
                if (r < 0)
                        return log_error_errno(r, "Failed to plan: %m");
                manager_execute(m, &m->plan);
                if (m->plan.n_actions < PLAN_ACTIONS_MAX)
                        break;
        }
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].track.owned && m->table.blocks[i].state == BLOCK_OFFLINE)
                        left++;
        manager_save_state(m);
        return left;
}

/* ---- State file ---- */

/* Write the state file if the owned set changed. */
static void manager_save_state(Manager *m)
{
        RunState s = { 0 };
        int r;

        if (!m->state_dirty || m->state_dir_fd < 0)
                return;
        (void)boot_id_read(m->roots.procfs_fd, s.boot_id, sizeof(s.boot_id));
        s.has_energy = true;
        s.saved_joules = m->power.before.saved_joules + m->power.start.saved_joules;
        s.spent_joules = m->power.before.spent_joules + m->power.start.spent_joules;
        s.offline_byte_seconds =
                m->power.before.offline_byte_seconds + m->power.start.offline_byte_seconds;
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];

                bool in_flight = m->evac.index == b->index && (m->evac.phase == PLAN_EVAC_OFFLINING ||
                                                               m->evac.phase == PLAN_EVAC_ENDING);

                /* the model's blocks were never offline; a block whose
                 * offline is in flight may be offline when we are gone */
                if (b->track.modelled || !((b->track.owned && b->state == BLOCK_OFFLINE) || in_flight))
                        continue;
                r = runstate_add(&s, b->index,
                                 in_flight && !b->track.owned ? m->evac.zones : b->track.origin_zones);
                if (r < 0) {
                        runstate_free(&s);
                        (void)log_oom();
                        return;
                }
        }
        r = runstate_write(m->state_dir_fd, &s);
        runstate_free(&s);
        if (r < 0) {
                log_warning_errno(r, "Failed to write %s/" RUNSTATE_FILE ", will try again: %m",
                                  m->state_dir);
                manager_set_error(m, "Failed to write %s/" RUNSTATE_FILE ": %s", m->state_dir,
                                  strerror(-r));
                return;
        }
        m->state_dirty = false;
}

/* The blocks a previous instance took offline, still offline. */
static int manager_load_state(Manager *m)
{
        RunState s = { 0 };
        char boot[40] = "";
        unsigned line = 0;
        size_t owned = 0;
        int r;

        r = runstate_read(m->state_dir_fd, &s, &line);
        if (r == -ENOENT)
                return 0;
        if (r == -EBADMSG)
                return log_error_errno(r, "%s/" RUNSTATE_FILE ":%u: malformed; the blocks it "
                                          "lists cannot be known",
                                       m->state_dir, line);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/" RUNSTATE_FILE ": %m", m->state_dir);
        if (boot_id_read(m->roots.procfs_fd, boot, sizeof(boot)) >= 0 && s.boot_id[0] &&
            strcmp(boot, s.boot_id) != 0) {
                log_info("%s/" RUNSTATE_FILE " is from an earlier boot, ignoring it", m->state_dir);
                runstate_free(&s);
                m->state_dirty = true;
                return 0;
        }
        for (size_t i = 0; i < s.n_blocks; i++) {
                MemBlock *b = blocktable_find(&m->table, s.blocks[i].index);

                /* onlined by someone else meanwhile, or gone: not ours any more */
                if (!b || b->state != BLOCK_OFFLINE) {
                        m->state_dirty = true;
                        continue;
                }
                b->track.owned = true;
                b->track.origin_zones = s.blocks[i].zones;
                owned++;
        }
        if (s.has_energy)
                m->power.before = (EnergyTotals){
                        .saved_joules = s.saved_joules,
                        .spent_joules = s.spent_joules,
                        .offline_byte_seconds = s.offline_byte_seconds,
                };
        runstate_free(&s);
        if (owned > 0)
                log_info("%zu offline blocks are mempowerd's own (%s/" RUNSTATE_FILE ")", owned,
                         m->state_dir);
        return 0;
}

static int manager_open_state_dir(Manager *m, const char *dir)
{
        int fd;

        if (!dir || !*dir)
                return 0;
        m->state_dir = strdup(dir);
        if (!m->state_dir)
                return log_oom();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && !m->state_create)
                return 0; /* --once, --give-back: nothing was ever kept there */
        if (fd < 0 && errno == ENOENT) {
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "Failed to create %s: %m", dir);
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the state directory %s: %m", dir);
        m->state_dir_fd = fd;
        return manager_load_state(m);
}

/* ---- Opening ---- */

int manager_open(Manager *m, const char *sysfs, const char *procfs, const char *state_dir)
{
        ActuatorSetup setup;
        uint32_t bad = 0;
        int r;

        r = roots_open(sysfs, procfs, &m->roots);
        if (r < 0)
                return log_error_errno(r, "Failed to open the sysfs/procfs roots: %m");

        r = memblock_open_dir(m->roots.sysfs_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open %s/" ROOTS_MEMORY_DIR
                                          " (no memory hotplug in this kernel?): %m",
                                       m->roots.sysfs_path);
        m->memdir_fd = r;

        r = blocktable_load(m->memdir_fd, &m->table, &bad);
        if (r == -EBADMSG)
                return log_error_errno(r, "Failed to read %s/" ROOTS_MEMORY_DIR
                                          "/memory%" PRIu32 ": malformed attribute",
                                       m->roots.sysfs_path, bad);
        if (r < 0)
                return log_error_errno(r, "Failed to read the memory blocks in %s/" ROOTS_MEMORY_DIR
                                          ": %m",
                                       m->roots.sysfs_path);
        if (m->table.n == 0)
                return log_error_errno(-ENODEV, "No memory blocks in %s/" ROOTS_MEMORY_DIR,
                                       m->roots.sysfs_path);

        r = nodes_with_memory(m->roots.sysfs_fd, &m->has_memory);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to read the nodes with memory, ignoring: %m");
        r = manager_size_nodes(m);
        if (r < 0)
                return log_oom();
        power_table_changed(m);
        power_open(m);

        setup = (ActuatorSetup){
                .memdir_fd = m->memdir_fd,
                .sysfs_fd = m->roots.sysfs_fd,
                .procfs_fd = m->roots.procfs_fd,
                .kpf_fd = -1,
                .pages_per_block = m->table.pages_per_block,
                .dry_run = manager_dry_run(m),
        };
        r = actuator_new(&setup, on_outcome, m, &m->actuator);
        if (r < 0)
                return log_oom();

        r = manager_open_state_dir(m, state_dir);
        if (r < 0)
                return r;
        watch_read_all(m);
        return 0;
}

int manager_open_scanner(Manager *m, bool optional)
{
        m->kpf_fd = openat(m->roots.procfs_fd, "kpageflags", O_RDONLY | O_CLOEXEC);
        if (m->kpf_fd < 0 && optional && (errno == EACCES || errno == EPERM)) {
                log_full_errno(LOG_NOTICE, errno,
                               "Not counting pages: %s/kpageflags is root's (%m); showing what "
                               "sysfs shows",
                               m->roots.procfs_path);
                return 0;
        }
        if (m->kpf_fd < 0)
                return log_error_errno(errno, "Failed to open %s/kpageflags (needs root): %m",
                                       m->roots.procfs_path);
        return scanner_init(m);
}

/* ---- Rereading ---- */

int manager_reread_blocks(Manager *m)
{
        BlockTable fresh = { 0 };
        uint32_t bad = 0;
        int r;

        r = blocktable_load(m->memdir_fd, &fresh, &bad);
        if (r < 0)
                return log_warning_errno(r, "Failed to reread the memory blocks (memory%" PRIu32
                                            "), keeping the table: %m",
                                         bad);
        blocktable_carry(&fresh, &m->table);
        /* the model loses blocks that are gone */
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].track.modelled &&
                    !blocktable_find(&fresh, m->table.blocks[i].index))
                        model_online(m, &m->table.blocks[i]);
        if (fresh.n != m->table.n)
                log_info("Memory blocks: %zu, were %zu", fresh.n, m->table.n);
        for (size_t i = 0; i < fresh.n; i++) {
                const MemBlock *ob = blocktable_find(&m->table, fresh.blocks[i].index);

                if (ob && !ob->track.modelled)
                        manager_block_state_changed(m, ob->index, ob->state, fresh.blocks[i].state);
                /* a block that came online is nobody's offline block */
                if (fresh.blocks[i].state != BLOCK_OFFLINE && fresh.blocks[i].track.owned &&
                    !fresh.blocks[i].track.modelled) {
                        fresh.blocks[i].track.owned = false;
                        m->state_dirty = true;
                }
        }
        if (fresh.n != m->table.n)
                power_table_changed(m);
        else
                for (size_t i = 0; i < fresh.n; i++)
                        if (fresh.blocks[i].index != m->table.blocks[i].index ||
                            fresh.blocks[i].node != m->table.blocks[i].node) {
                                power_table_changed(m);
                                break;
                        }
        blocktable_clear(&m->table);
        m->table = fresh;
        model_reapply(m);
        return manager_size_nodes(m);
}

/* Blocks hot-added a moment ago may have had no node yet when their uevent
 * was handled (see memblock_read): read them again until they do. */
static void manager_reread_nodeless(Manager *m)
{
        uint32_t pending[64];
        size_t n = 0;

        if (indexset_is_empty(&m->has_memory))
                return; /* not NUMA: no block ever has a node link */
        for (size_t i = 0; i < m->table.n && n < ELEMENTSOF(pending); i++)
                if (m->table.blocks[i].node < 0 && m->table.blocks[i].state == BLOCK_OFFLINE)
                        pending[n++] = m->table.blocks[i].index;
        for (size_t i = 0; i < n; i++)
                (void)blocktable_refresh(&m->table, m->memdir_fd, pending[i], NULL);
        if (n > 0 && manager_size_nodes(m) < 0)
                (void)log_oom();
}

/* ---- The tick ---- */

static void manager_notify_status(Manager *m)
{
        size_t online = 0, offline = 0;

        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];

                if (b->state == BLOCK_OFFLINE && !b->track.modelled)
                        offline++;
                else
                        online++;
        }
        if (m->scan.first_count_blocks > 0)
                sd_notifyf(false, "STATUS=Counting: %zu of %zu blocks counted%s",
                           m->scan.first_count_blocks - u64_min(m->scan.forced,
                                                                m->scan.first_count_blocks),
                           m->scan.first_count_blocks, manager_dry_run(m) ? ", dry run" : "");
        else
                sd_notifyf(false, "STATUS=%zu blocks online, %zu offline (%" PRIu64 " MiB)%s",
                           online, offline, offline * m->table.block_size_bytes / (1024 * 1024),
                           manager_dry_run(m) ? ", dry run" : "");
}

/* What a tick does once its counts are done. */
static void manager_tick_end(Manager *m)
{
        uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

        manager_decide(m, PLAN_LOOK);
        power_account(m);
        manager_notify_status(m);
        (void)metrics_write(m);
        manager_bus_flush_properties(m);
        m->counters.scan_cpu_ns += clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
}

static void manager_answer_rescans(Manager *m)
{
        if (m->n_rescan_replies == 0 || m->scan.forced > 0)
                return;
        manager_bus_flush_properties(m);
        for (size_t i = 0; i < m->n_rescan_replies; i++) {
                (void)sd_bus_reply_method_return(m->rescan_replies[i], NULL);
                sd_bus_message_unref(m->rescan_replies[i]);
        }
        m->n_rescan_replies = 0;
}

/* Counting runs one block per event loop iteration at idle priority, so the
 * pressure watch, the PSI trigger, uevents and D-Bus are never kept waiting
 * behind a tick's counts (a count takes ~1 ms on hardware, tens of ms under
 * emulation). */
static int on_scan_step(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        if (m->exiting) {
                /* Giving back: no count, no decision, no status over it. */
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        if (scanner_step(m) > 0)
                return 0; /* stays enabled: the next step after other events */
        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (m->scan.first_count_blocks > 0) {
                log_info("First count done: %zu blocks in %.1f ms (%.1f ms of CPU)",
                         m->scan.first_count_blocks,
                         (double)(clock_ns(CLOCK_MONOTONIC) - m->scan.first_count_start_ns) / 1e6,
                         (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) -
                                  m->scan.first_count_cpu_ns) / 1e6);
                m->scan.first_count_blocks = 0;
        }
        manager_answer_rescans(m);
        manager_tick_end(m);
        return 0;
}

int manager_rescan(Manager *m, sd_bus_message *msg)
{
        sd_bus_message **v;
        int r;

        r = manager_reread_blocks(m);
        if (r < 0)
                return r;
        scanner_force_all(m);
        if (!m->scan_source || m->scan.forced == 0)
                return 0; /* nothing to count: answer now */
        v = realloc(m->rescan_replies, (m->n_rescan_replies + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        m->rescan_replies = v;
        v[m->n_rescan_replies++] = sd_bus_message_ref(msg);
        (void)sd_event_source_set_enabled(m->scan_source, SD_EVENT_ON);
        return 1;
}

int manager_tick(Manager *m)
{
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        uint64_t elapsed = m->last_tick_ns ? now - m->last_tick_ns : m->config.tick_usec * 1000;
        uint64_t rescan_max_ns = m->config.rescan_max_usec * NSEC_PER_USEC;

        m->last_tick_ns = now;
        m->counters.ticks++;
        m->evacuations_this_tick = 0;
        watch_read_all(m);
        if (now - m->last_reread_ns >= rescan_max_ns) {
                /* uevents can be missed (a full socket buffer); sysfs is
                 * the truth, reread now and then */
                (void)manager_reread_blocks(m);
                m->last_reread_ns = now;
        }
        manager_reread_nodeless(m);
        /* Giving memory back comes first. */
        manager_decide(m, PLAN_WATCH);

        scanner_tick(m, now, elapsed);
        if (m->scan.first_count_blocks > 0 && !m->exiting)
                manager_notify_status(m); /* "Counting: N of M" moves on each tick */
        if (m->scan_source)
                return sd_event_source_set_enabled(m->scan_source, SD_EVENT_ON);
        /* no event loop: count here */
        while (scanner_step(m) > 0)
                ;
        manager_tick_end(m);
        return 0;
}

/* ---- uevents ---- */

int manager_handle_memevent(Manager *m, const MemEvent *e)
{
        MemBlock *before = blocktable_find(&m->table, e->index);

        if (before && before->track.modelled && e->action == MEMEVENT_REMOVE) {
                model_online(m, before); /* the model loses it too */
                before = blocktable_find(&m->table, e->index);
        }
        BlockState old = before ? before->state : _BLOCK_STATE_INVALID;
        bool existed = before, modelled = before && before->track.modelled, removed = false;
        MemBlock *after;
        int r;

        m->counters.uevents++;
        r = blocktable_refresh(&m->table, m->memdir_fd, e->index, &removed);
        if (r < 0)
                return log_warning_errno(r, "Failed to reread memory%" PRIu32 " after '%s' event, "
                                            "ignoring: %m",
                                         e->index, memevent_action_to_string(e->action));
        if (removed) {
                log_block(LOG_INFO, e->index, "uevent", "memory%" PRIu32 ": removed", e->index);
                m->state_dirty = true;
                power_table_changed(m);
                return 0;
        }
        after = blocktable_find(&m->table, e->index);
        if (!after)
                return 0;
        if (modelled) {
                model_reapply(m);
                return 0;
        }
        if (!existed) {
                log_block(LOG_INFO, e->index, "uevent", "memory%" PRIu32 ": added, node %d, %s",
                          e->index, after->node,
                          block_state_to_string(after->state));
                power_table_changed(m);
                /* Hot-added memory stays offline until it is needed, unless
                 * configured otherwise (or the kernel onlined it itself:
                 * auto_online_blocks). Kept offline, it is mempowerd's to
                 * give back. */
                if (after->state == BLOCK_OFFLINE) {
                        after->track.owned = true;
                        after->track.hot_added = true;
                        after->track.origin_zones = 0;
                        m->state_dirty = true;
                }
        } else if (old != after->state) {
                log_block(LOG_INFO, e->index, "uevent", "memory%" PRIu32 ": %s -> %s", e->index,
                          block_state_to_string(old),
                          block_state_to_string(after->state));
                manager_block_state_changed(m, e->index, old, after->state);
                if (after->state == BLOCK_ONLINE && after->track.owned) {
                        /* someone else onlined it */
                        after->track.owned = false;
                        m->state_dirty = true;
                }
        }
        r = manager_size_nodes(m);
        if (r < 0)
                return log_oom();
        manager_save_state(m);
        return 0;
}

/* ---- Reload ---- */

void manager_warn_config(const Config *c, const ConfigSources *sources)
{
        ConfigWarning w[CONFIG_WARNINGS_MAX];
        size_t n = config_warnings(c, sources, w, ELEMENTSOF(w));

        for (size_t i = 0; i < n; i++) {
                char msg[PATH_MAX + 300];

                (void)config_warning_format(&w[i], sources, msg, sizeof(msg));
                log_warning("%s", msg);
        }
}

int manager_reload(Manager *m, ConfigError *ret_err)
{
        ConfigSources src = { 0 };
        ConfigError err = { 0 };
        char msg[PATH_MAX + 300];
        uint64_t old_tick = m->config.tick_usec;
        bool was_dry = manager_dry_run(m);
        int r;

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading configuration",
                   now_usec());
        r = config_load_sources(m->config_path, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &m->config,
                                &src, &err);
        if (r < 0) {
                config_error_format(&err, msg, sizeof(msg));
                log_event(LOG_ERR, MEMPOWERD_MESSAGE_CONFIG_REJECTED, LOG_NO_BLOCK, NULL,
                          "%s; keeping the previous configuration", msg);
                manager_set_error(m, "%s", msg);
                if (ret_err)
                        *ret_err = err;
        } else {
                log_info("Configuration reloaded");
                manager_warn_config(&m->config, &src);
                config_sources_free(&src);
                if (m->tick_source && m->config.tick_usec != old_tick)
                        (void)sd_event_source_set_time_relative(m->tick_source,
                                                                m->config.tick_usec);
                actuator_set_dry_run(m->actuator, manager_dry_run(m));
                if (was_dry && !manager_dry_run(m))
                        model_clear(m);
        }
        sd_notify(false, "READY=1");
        manager_notify_status(m);
        return r;
}

/* ---- The loop ---- */

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        if (m->exiting)
                return 0;
        (void)manager_tick(m);
        r = sd_event_source_set_time_relative(s, m->config.tick_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to rearm the tick timer: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        MemEvent e;
        int r;

        /* Drain everything queued: hot-add brings a burst of events. */
        for (;;) {
                r = memevents_receive(m->memevents, &e);
                if (r < 0)
                        return log_warning_errno(r, "Failed to receive a uevent, ignoring: %m"), 0;
                if (r == 0)
                        return 0;
                (void)manager_handle_memevent(m, &e);
        }
}

/* The exit: nothing may be left offline with nobody watching, unless
 * KeepOfflineOnExit=yes. */
static void manager_exit_now(Manager *m, const char *why)
{
        size_t left = 0;

        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].track.owned && m->table.blocks[i].state == BLOCK_OFFLINE &&
                    !m->table.blocks[i].track.modelled)
                        left++;
        if (left > 0)
                log_notice("%zu blocks mempowerd took offline stay offline (%s)", left, why);
        m->state_dirty = true;
        manager_save_state(m);
        /* stale figures must not outlive the daemon in node_exporter */
        (void)metrics_remove(m);
        (void)sd_event_exit(m->event, 0);
}

static bool manager_exit_done(const Manager *m)
{
        if (actuator_busy(m->actuator) || m->evac.phase != PLAN_EVAC_NONE)
                return false;
        if (m->config.keep_offline_on_exit)
                return true;
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];
                bool fallback;

                if (b->track.owned && b->state == BLOCK_OFFLINE &&
                    planner_online_zone(&m->config, b, false, &fallback) != PLAN_ZONE_NONE &&
                    b->track.online_retry_usec == 0)
                        return false;
        }
        return true;
}

static int on_exit_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        log_warning("The evacuation worker did not end within %llu s; exiting anyway",
                    EXIT_WAIT_USEC / USEC_PER_SEC);
        manager_exit_now(m, "the worker did not end");
        return 0;
}

/* Called again at every outcome while exiting. */
static void manager_exit_step(Manager *m)
{
        manager_decide(m, PLAN_GIVE_BACK);
        if (manager_exit_done(m))
                manager_exit_now(m, m->config.keep_offline_on_exit ? "KeepOfflineOnExit=yes"
                                                                   : "they could not be onlined");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        int r;

        if (si->ssi_signo == SIGHUP) {
                (void)manager_reload(m, NULL);
                return 0;
        }
        if (m->exiting)
                return 0;
        log_info("Received %s, exiting", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        sd_notify(false, "STOPPING=1\nSTATUS=Giving memory back");
        m->exiting = true;
        r = sd_event_add_time_relative(m->event, &m->exit_source, CLOCK_MONOTONIC, EXIT_WAIT_USEC,
                                       0, on_exit_deadline, m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the exit deadline, ignoring: %m");
        manager_exit_step(m);
        return 0;
}

/* While exiting, whenever no worker runs: the next give-back plan (a plan
 * holds PLAN_ACTIONS_MAX onlines), and the exit once nothing is left. */
static int on_exit_check(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        if (m->exiting && !actuator_busy(m->actuator))
                manager_exit_step(m);
        return 0;
}

int manager_run(Manager *m)
{
        sigset_t mask;
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD); /* sd-event watches the evacuation worker */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (int sig = SIGHUP; sig <= SIGTERM; sig++) {
                if (!sigismember(&mask, sig) || sig == SIGCHLD)
                        continue;
                r = sd_event_add_signal(m->event, NULL, sig, on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signal %d: %m", sig);
        }
        /* The worker is watched from the loop; it reads kpageflags. */
        actuator_attach(m->actuator, m->event, m->kpf_fd);
        r = sd_event_add_post(m->event, NULL, on_exit_check, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the exit: %m");

        r = memevents_open(&m->memevents);
        if (r < 0)
                log_warning_errno(r, "Failed to watch memory uevents, relying on periodic "
                                     "rescans: %m");
        else {
                r = sd_event_add_io(m->event, &m->uevent_source, memevents_get_fd(m->memevents),
                                    EPOLLIN, on_uevent, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the uevent socket: %m");
        }

        r = manager_bus_setup(m);
        if (r < 0)
                return r;

        /* WATCHDOG=1 is sent by sd-event itself at half of WATCHDOG_USEC. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        m->last_tick_ns = m->last_reread_ns = clock_ns(CLOCK_MONOTONIC);

        r = sd_event_add_time_relative(m->event, &m->tick_source, CLOCK_MONOTONIC,
                                       m->config.tick_usec, 0, on_tick, m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the tick timer: %m");
        r = watch_start(m);
        if (r < 0)
                return r;
        r = sd_event_add_defer(m->event, &m->scan_source, on_scan_step, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the scanner: %m");
        (void)sd_event_source_set_priority(m->scan_source, SD_EVENT_PRIORITY_IDLE);
        /* The first count of every block runs after READY=1, one block per
         * loop iteration, whatever the scan budget: on a machine with
         * terabytes it takes seconds, and nothing is decided about a block
         * before it is counted. */
        scanner_force_all(m);
        m->scan.first_count_blocks = m->scan.forced;
        m->scan.first_count_start_ns = clock_ns(CLOCK_MONOTONIC);
        m->scan.first_count_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        (void)sd_event_source_set_enabled(m->scan_source,
                                          m->scan.forced > 0 ? SD_EVENT_ON : SD_EVENT_OFF);

        log_info("mempowerd " PACKAGE_VERSION " running: %zu blocks of %" PRIu64
                 " MiB, tick %.1fs, scan budget %.2f%% of a CPU%s",
                 m->table.n, m->table.block_size_bytes >> 20,
                 (double)m->config.tick_usec / USEC_PER_SEC, m->config.scan_cpu_percent,
                 manager_dry_run(m) ? ", dry run" : "");
        sd_notify(false, "READY=1");
        manager_notify_status(m);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
