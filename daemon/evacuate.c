/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evacuating a block and taking it offline, and giving memory back.
 *
 * An evacuation runs in a worker process so the parent's event loop keeps
 * answering (pressure, D-Bus, the watchdog) and so a stuck offline can be
 * ended: the kernel's offline can loop for ever while holding the global
 * hotplug lock, and since about 6.5 only a fatal signal ends it. The worker:
 *   1. finds the mapped pages of the block (pagemap) and moves them with
 *      move_pages to the destination node the parent chose;
 *   2. reports what moved over a pipe, checks the reserve once more, and
 *      writes "offline" to the block's state;
 *   3. reports the write's result and exits.
 * The parent bounds each phase with a timer, kills the worker with SIGKILL on
 * timeout or pressure, and reads the block's state back from sysfs to decide
 * what happened: the kernel's word, not the worker's, is the outcome. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "pagemap.h"
#include "util.h"

/* The migration phase has no kernel lock to hold; bound it generously. */
#define EVAC_MIGRATE_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* An offline past its timeout holds the hotplug lock: end it on time, not
 * up to 250 ms later (sd-event's default accuracy). */
#define EVAC_TIMEOUT_ACCURACY_USEC (10 * USEC_PER_MSEC)

typedef enum WorkerMsgType {
        WORKER_MSG_MIGRATED = 1,
        WORKER_MSG_OFFLINE_START = 2,
        WORKER_MSG_OFFLINE_DONE = 3,
} WorkerMsgType;

typedef struct WorkerMsg {
        int type;
        int error; /* 0 or errno */
        MigrateStats stats;
        PageLocations locs_summary; /* counters only; items is NULL */
} WorkerMsg;

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

bool manager_evacuating(const Manager *m)
{
        return m->evac.phase != EVAC_IDLE;
}

Backoff *manager_backoff(Manager *m, uint32_t index)
{
        if (index >= m->n_backoffs) {
                size_t n = (size_t)index + 64;
                Backoff *b = realloc(m->backoffs, n * sizeof(*b));

                if (!b)
                        return NULL;
                for (size_t i = m->n_backoffs; i < n; i++)
                        b[i] = BACKOFF_NULL;
                m->backoffs = b;
                m->n_backoffs = n;
        }
        return &m->backoffs[index];
}

static void worker_send(int fd, const WorkerMsg *msg)
{
        /* A pipe write of this size is atomic (< PIPE_BUF is not needed for
         * one writer); a failure only loses figures, not the outcome. */
        ssize_t n = write(fd, msg, sizeof(*msg));
        (void)n;
}

/* Runs in the worker process. Never returns. */
static void __attribute__((noreturn))
worker_main(Manager *m, uint32_t index, uint64_t start_pfn, int dest_node, int src_node, int fd)
{
        WorkerMsg msg = { .type = WORKER_MSG_MIGRATED };
        PageLocations locs = { 0 };
        char path[64];
        MemInfo mi;
        uint64_t reserve, block_pages = m->table.pages_per_block;
        int r;

        if (dest_node >= 0) {
                r = pagemap_locate_range(m->roots.procfs_fd, m->kpf_fd, start_pfn, block_pages,
                                         PAGEMAP_LOCATE_SKIP_SELF, &locs);
                if (r >= 0) {
                        r = migrate_locations(&locs, src_node, dest_node,
                                              m->config.migrate_batch_pages, NULL, &msg.stats);
                        msg.locs_summary = locs;
                        msg.locs_summary.items = NULL;
                }
                msg.error = r < 0 ? -r : 0;
                page_locations_free(&locs);
                worker_send(fd, &msg);
        }

        /* The reserve, once more, right before the offline. */
        msg = (WorkerMsg){ .type = WORKER_MSG_OFFLINE_START };
        r = meminfo_read(m->roots.procfs_fd, &mi);
        if (r >= 0) {
                reserve = config_reserve_pages(&m->config, mi.total_kb, m->page_size);
                if (mi.available_kb * 1024 / m->page_size < reserve + block_pages) {
                        msg.type = WORKER_MSG_OFFLINE_DONE;
                        msg.error = ENOSPC;
                        worker_send(fd, &msg);
                        _exit(0);
                }
        }
        worker_send(fd, &msg);

        snprintf(path, sizeof(path), "memory%" PRIu32 "/state", index);
        r = attr_write_at(m->memdir_fd, path, "offline");
        msg = (WorkerMsg){ .type = WORKER_MSG_OFFLINE_DONE, .error = r < 0 ? -r : 0 };
        worker_send(fd, &msg);
        _exit(0);
}

static void evac_clear(Manager *m)
{
        Evacuation *e = &m->evac;

        e->child_source = sd_event_source_disable_unref(e->child_source);
        e->pipe_source = sd_event_source_disable_unref(e->pipe_source);
        e->timer_source = sd_event_source_disable_unref(e->timer_source);
        if (e->pipe_fd >= 0)
                close(e->pipe_fd);
        *e = (Evacuation){ .phase = EVAC_IDLE, .pid = 0, .pipe_fd = -1, .dest_node = -1 };
}

static void evac_read_messages(Manager *m)
{
        Evacuation *e = &m->evac;
        WorkerMsg msg;

        if (e->pipe_fd < 0)
                return;
        for (;;) {
                ssize_t n = read(e->pipe_fd, &msg, sizeof(msg));

                if (n != (ssize_t)sizeof(msg))
                        return;
                switch (msg.type) {
                case WORKER_MSG_MIGRATED:
                        e->stats = msg.stats;
                        e->have_stats = true;
                        if (msg.error)
                                log_warning_errno(msg.error,
                                                  "memory%" PRIu32 ": locating or moving pages "
                                                  "failed, the kernel's offline will migrate: %m",
                                                  e->index);
                        log_info("memory%" PRIu32 ": move_pages to node %d: %" PRIu64
                                 " moved, %" PRIu64 " busy, %" PRIu64 " gone, %" PRIu64
                                 " failed (%" PRIu64 " processes, %" PRIu64 " skipped)",
                                 e->index, e->dest_node, msg.stats.moved, msg.stats.busy,
                                 msg.stats.gone, msg.stats.failed + msg.stats.not_tried,
                                 msg.locs_summary.processes_scanned,
                                 page_locations_skipped(&msg.locs_summary));
                        break;
                case WORKER_MSG_OFFLINE_START:
                        e->phase = EVAC_OFFLINING;
                        (void)sd_event_source_set_time_relative(e->timer_source,
                                                                m->config.offline_timeout_usec);
                        (void)sd_event_source_set_enabled(e->timer_source, SD_EVENT_ONESHOT);
                        break;
                case WORKER_MSG_OFFLINE_DONE:
                        e->offline_result = msg.error;
                        break;
                default:
                        break;
                }
        }
}

/* The worker is gone: decide from sysfs what happened. */
static void evac_finish(Manager *m)
{
        Evacuation *e = &m->evac;
        uint32_t index = e->index;
        int node = e->node;
        MemBlock *b;
        Backoff *bo;
        char reason[128];
        bool ok, seen_offline;

        evac_read_messages(m);
        if (e->have_stats) {
                m->counters.pages_migrated += e->stats.moved;
                m->counters.migrate_ns += e->stats.usec * NSEC_PER_USEC;
        }
        /* The kernel's "offline" uevent may have been handled before the
         * worker's exit: then the table says offline already, and that path
         * sent BlockOffline. */
        b = blocktable_find(&m->table, index);
        seen_offline = b && b->state == BLOCK_OFFLINE;
        (void)blocktable_refresh(&m->table, m->memdir_fd, index, NULL);
        b = blocktable_find(&m->table, index);
        ok = b && b->state == BLOCK_OFFLINE;
        bo = manager_backoff(m, index);

        if (ok) {
                m->counters.blocks_offlined++;
                m->counters.evacuations_succeeded++;
                m->bytes_offlined_by_daemon += m->table.block_size_bytes;
                if (bo)
                        backoff_reset(bo);
                log_info("memory%" PRIu32 ": offline after %.2fs", index,
                         (double)(now_usec() - e->started_usec) / USEC_PER_SEC);
                if (!seen_offline)
                        manager_bus_emit_block_state(m, index, BLOCK_OFFLINE);
        } else if (!b) {
                /* hot-removed under us: gone from the table (its "remove"
                 * uevent was handled before the worker's exit) or from sysfs
                 * (the refresh just dropped it) */
                m->counters.evacuations_aborted++;
                log_info("memory%" PRIu32 ": removed during its evacuation", index);
        } else if (e->aborted) {
                /* Not the block's doing: no back-off, no error. The quiet
                 * time after pressure keeps the sweep away for a while. */
                m->counters.evacuations_aborted++;
                log_notice("memory%" PRIu32 ": evacuation ended (%s)", index, e->kill_reason);
        } else {
                int err = e->offline_result;

                if (e->kill_reason)
                        snprintf(reason, sizeof(reason), "%s", e->kill_reason);
                else if (err == 1)
                        snprintf(reason, sizeof(reason), "worker ended without an answer");
                else if (err == 0)
                        snprintf(reason, sizeof(reason), "state is not offline after the write");
                else
                        snprintf(reason, sizeof(reason), "%s", strerror(err));
                m->counters.evacuations_failed++;
                if (bo) {
                        /* EBUSY: unmovable pages; nothing changes until the
                         * block's usage does. */
                        if (err == EBUSY && !e->kill_reason && b && b->usage_valid)
                                backoff_hold(bo, &b->usage);
                        backoff_fail(bo, now_usec(), m->config.backoff_initial_usec,
                                     m->config.backoff_max_usec);
                }
                snprintf(m->last_error, sizeof(m->last_error), "memory%" PRIu32 ": %s", index,
                         reason);
                log_warning("memory%" PRIu32 ": evacuation failed: %s (attempt %u, next in "
                            "%.0fs)",
                            index, reason, bo ? bo->attempts : 0,
                            bo ? (double)(bo->next_try_usec - u64_min(bo->next_try_usec,
                                                                        now_usec())) /
                                         USEC_PER_SEC
                               : 0.0);
                manager_bus_emit_evacuation_failed(m, index, reason);
        }
        if (b)
                b->usage_valid = false; /* count it again */
        (void)handshake_work_done(&m->handshake, node);
        evac_clear(m);
}

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        Manager *m = userdata;

        evac_finish(m);
        return 0;
}

static int on_worker_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;

        evac_read_messages(m);
        if (revents & (EPOLLHUP | EPOLLERR))
                m->evac.pipe_source = sd_event_source_disable_unref(m->evac.pipe_source);
        return 0;
}

static int on_worker_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        Evacuation *e = &m->evac;

        if (e->phase == EVAC_IDLE || e->pid <= 0)
                return 0;
        e->kill_reason = e->phase == EVAC_OFFLINING ? "offline timed out" : "migration timed out";
        log_warning("memory%" PRIu32 ": %s, ending the worker", e->index, e->kill_reason);
        (void)kill(e->pid, SIGKILL);
        return 0;
}

/* End the worker now, wait for it, account for it. A reason already set
 * (a timeout that fired first) wins. aborted: ended for the machine's sake
 * (pressure, shutdown), not because of the block. */
static void evac_end(Manager *m, const char *why, bool aborted)
{
        Evacuation *e = &m->evac;
        int status;

        if (e->phase == EVAC_IDLE || e->pid <= 0)
                return;
        if (!e->kill_reason) {
                e->kill_reason = why;
                e->aborted = aborted;
        }
        (void)kill(e->pid, SIGKILL);
        /* Reap it here, so the hotplug lock is free when we return. */
        while (waitpid(e->pid, &status, 0) < 0 && errno == EINTR)
                ;
        evac_finish(m);
}

void manager_evacuation_abort(Manager *m, const char *why)
{
        evac_end(m, why, true);
}

int manager_evacuate_block(Manager *m, uint32_t index, const char *why)
{
        Evacuation *e = &m->evac;
        MemBlock *b = blocktable_find(&m->table, index);
        _cleanup_free_ uint64_t *node_free = NULL;
        int fds[2], dest, r;
        Backoff *bo;
        pid_t pid;

        if (manager_evacuating(m))
                return -EBUSY;
        if (!b || b->state != BLOCK_ONLINE)
                return -ENOENT;
        bo = manager_backoff(m, index);
        if (!bo)
                return log_error_errno(-ENOMEM, "Out of memory");

        /* Where the movable pages go: an allowed node with room, not this one.
         * None (one node, or all full): the kernel's own offline migration
         * relocates them, within the node where it is the only one. */
        node_free = manager_node_free_array(m);
        if (!node_free)
                return log_error_errno(-ENOMEM, "Out of memory");
        dest = b->usage.movable == 0
                       ? -ENOSPC
                       : policy_pick_destination(&m->config, &m->has_memory, node_free, m->n_nodes,
                                                 b->node, b->usage.movable,
                                                 m->pressure.reserve_pages);

        if (manager_dry_run(m)) {
                if (dest >= 0)
                        log_notice("memory%" PRIu32 ": would evacuate (%s): move %" PRIu64
                                   " pages to node %d with move_pages, then offline [dry run]",
                                   index, why, b->usage.movable, dest);
                else
                        log_notice("memory%" PRIu32 ": would offline (%s), the kernel migrating %" PRIu64
                                   " pages [dry run]",
                                   index, why, b->usage.movable);
                /* do not decide the same thing every tick */
                backoff_fail(bo, now_usec(), m->config.backoff_initial_usec,
                             m->config.backoff_max_usec);
                (void)handshake_work_done(&m->handshake, b->node);
                return 0;
        }

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_error_errno(errno, "Failed to create the worker pipe: %m");
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(fds[0]);
                close(fds[1]);
                return log_error_errno(r, "Failed to start the evacuation worker: %m");
        }
        if (pid == 0) {
                close(fds[0]);
                (void)fcntl(fds[1], F_SETFL, 0); /* blocking writes in the worker */
                worker_main(m, index, b->start_pfn, dest, b->node, fds[1]);
        }
        close(fds[1]);

        *e = (Evacuation){
                .phase = dest >= 0 ? EVAC_MIGRATING : EVAC_OFFLINING,
                .pid = pid,
                .index = index,
                .node = b->node,
                .dest_node = dest,
                .started_usec = now_usec(),
                .pipe_fd = fds[0],
                .offline_result = 1,
        };
        m->counters.evacuations_started++;
        m->counters.offline_attempts++;
        (void)handshake_work_start(&m->handshake, b->node, index);

        r = sd_event_add_child(m->event, &e->child_source, pid, WEXITED, on_worker_exit, m);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the evacuation worker: %m");
                evac_end(m, "internal error", false);
                return r;
        }
        r = sd_event_add_io(m->event, &e->pipe_source, e->pipe_fd, EPOLLIN, on_worker_pipe, m);
        if (r < 0)
                log_warning_errno(r, "Failed to watch the worker pipe, ignoring: %m");
        r = sd_event_add_time_relative(m->event, &e->timer_source, CLOCK_MONOTONIC,
                                       dest >= 0 ? EVAC_MIGRATE_TIMEOUT_USEC
                                                 : m->config.offline_timeout_usec,
                                       EVAC_TIMEOUT_ACCURACY_USEC, on_worker_timeout, m);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the evacuation timeout: %m");
                evac_end(m, "internal error", false);
                return r;
        }
        log_info("memory%" PRIu32 ": evacuating (%s): %" PRIu64 " movable pages%s", index, why,
                 b->usage.movable, dest >= 0 ? ", move_pages first" : ", offline migrates");
        if (dest >= 0)
                log_debug("memory%" PRIu32 ": destination node %d", index, dest);
        return 0;
}

uint64_t manager_node_floor_pages(const Manager *m)
{
        return m->config.node_reserve_mib * 1024 * 1024 / m->page_size;
}

bool manager_node_busy(const Manager *m, int node, uint64_t now_usec)
{
        const NodeState *n;

        if (node < 0 || (size_t)node >= m->n_nodes)
                return false;
        n = &m->nodes[node];
        if (n->pressure_usec && n->pressure_usec + m->config.backoff_initial_usec > now_usec)
                return true;
        /* Free memory falling since the last reading: something is
         * allocating there (perhaps bound to the node) and would lose the
         * block it is about to need. */
        return n->present && n->free_pages + SCANSCHED_NODE_DRIFT_PAGES < n->prev_free_pages;
}

bool manager_node_can_spare(const Manager *m, const MemBlock *b)
{
        if (b->node < 0 || (size_t)b->node >= m->n_nodes || !m->nodes[b->node].present)
                return true;
        return policy_node_can_spare(m->nodes[b->node].free_pages, manager_node_floor_pages(m), b);
}

bool manager_pressure_recent(const Manager *m, uint64_t now_usec)
{
        return pressure_is_on(&m->pressure) ||
               (m->pressure_usec && m->pressure_usec + m->config.backoff_initial_usec > now_usec);
}

void manager_read_offline_nodes(Manager *m)
{
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];
                NodeState *n;

                if (b->state != BLOCK_OFFLINE || b->node < 0 || (size_t)b->node >= m->n_nodes)
                        continue;
                n = &m->nodes[b->node];
                if (node_meminfo_read(m->roots.sysfs_fd, b->node, &n->mem) >= 0) {
                        n->present = true;
                        n->prev_free_pages = n->free_pages;
                        n->free_pages = n->mem.free_kb * 1024 / m->page_size;
                }
                /* skip the node's other blocks */
                while (i + 1 < m->table.n && m->table.blocks[i + 1].node == b->node)
                        i++;
        }
}

/* A process bound to one node runs short there while the machine does not:
 * bring that node's own blocks back, lowest first, until it has its floor
 * plus one block. */
static int manager_relieve_nodes(Manager *m)
{
        uint64_t floor = manager_node_floor_pages(m), now = now_usec();
        int done = 0;

        if (floor == 0)
                return 0;
        for (size_t nd = 0; nd < m->n_nodes; nd++) {
                NodeState *n = &m->nodes[nd];
                bool short_before = n->present && n->free_pages < floor;

                if (!short_before)
                        continue;
                for (size_t i = 0; i < m->table.n && n->free_pages < floor + m->table.pages_per_block;
                     i++) {
                        MemBlock *b = &m->table.blocks[i];

                        if (b->node != (int)nd || b->state != BLOCK_OFFLINE ||
                            !(b->zones & ZONE_MOVABLE_BIT) ||
                            indexset_contains(&m->config.exclude_blocks, b->index) ||
                            !manager_online_ready(m, b->index, now))
                                continue;
                        if (manager_evacuating(m) && m->evac.node == (int)nd) {
                                uint32_t index = b->index;

                                /* the abort rereads a block, which may drop
                                 * it from the table and move b */
                                manager_evacuation_abort(m, "node memory pressure");
                                b = blocktable_find(&m->table, index);
                                if (!b || b->state != BLOCK_OFFLINE)
                                        continue;
                        }
                        if (manager_online_block(m, b, "node below NodeMinFreeMiB") > 0) {
                                n->free_pages += m->table.pages_per_block;
                                done++;
                        }
                        n->pressure_usec = now;
                }
                if (done > 0)
                        log_notice("Node %zu ran short (free %" PRIu64 " MiB, NodeMinFreeMiB=%" PRIu64
                                   "): onlined %d blocks",
                                   nd, (n->free_pages - (uint64_t)done * m->table.pages_per_block) *
                                               m->page_size >> 20,
                                   m->config.node_reserve_mib, done);
        }
        return done;
}

/* policy_pick_online over the blocks not passed over after a failed
 * online: one that cannot be onlined must not starve the others. When only
 * such blocks are left, they are tried again without waiting. */
static size_t manager_pick_online(Manager *m, uint32_t *picks, size_t size)
{
        _cleanup_free_ MemBlock *ready = malloc((m->table.n ? m->table.n : 1) * sizeof(MemBlock));
        uint64_t now = now_usec();
        size_t n = 0, k;

        if (!ready)
                return 0;
        for (size_t i = 0; i < m->table.n; i++)
                if (manager_online_ready(m, m->table.blocks[i].index, now))
                        ready[n++] = m->table.blocks[i];
        k = policy_pick_online(&m->config, &m->pressure, ready, n, m->table.pages_per_block, picks,
                               size);
        if (k > 0)
                return k;
        /* nothing else left: try the ones that failed again, at once */
        return policy_pick_online(&m->config, &m->pressure, m->table.blocks, m->table.n,
                                  m->table.pages_per_block, picks, size);
}

int manager_relieve_pressure(Manager *m, bool act_on_psi)
{
        uint32_t picks[64];
        size_t n;
        int done = 0, r;
        bool on = m->pressure.reason == PRESSURE_PSI ? act_on_psi : pressure_is_on(&m->pressure);

        if (on) {
                m->pressure_usec = now_usec();
                if (manager_evacuating(m)) {
                        log_notice("Memory pressure (%s): ending the evacuation of memory%" PRIu32,
                                   pressure_reason_to_string(m->pressure.reason), m->evac.index);
                        manager_evacuation_abort(m, "memory pressure");
                }
                n = manager_pick_online(m, picks, ELEMENTSOF(picks));
                for (size_t i = 0; i < n; i++) {
                        MemBlock *b = blocktable_find(&m->table, picks[i]);

                        if (!b)
                                continue;
                        r = manager_online_block(m, b,
                                                 pressure_reason_to_string(m->pressure.reason));
                        if (r > 0)
                                done++;
                }
                if (n > 0)
                        log_full_errno(done > 0 ? LOG_NOTICE : LOG_DEBUG, 0,
                                       "Memory pressure (%s, MemAvailable %" PRIu64
                                       " MiB, reserve %" PRIu64 " MiB): onlined %d of %zu blocks",
                                       pressure_reason_to_string(m->pressure.reason),
                                       m->meminfo.available_kb / 1024,
                                       m->pressure.reserve_pages * m->page_size >> 20, done, n);
        }
        return done + manager_relieve_nodes(m);
}
