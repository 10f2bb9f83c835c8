/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <sys/epoll.h>

#include "config-build.h"
#include "kpageflags.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "metrics.h"
#include "util.h"

#define SCANBUF_SIZE (256 * 1024) /* bytes per kpageflags pread */

static uint64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int manager_new(Manager **ret)
{
        Manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        config_init(&m->config);
        m->roots = ROOTS_NULL;
        m->memdir_fd = -1;
        m->kpf_fd = -1;
        m->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
        scansched_init(&m->sched);
        m->evac.pipe_fd = -1;
        m->evac.dest_node = -1;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        manager_evacuation_abort(m, "shutdown");
        manager_bus_close(m);
        sd_event_source_unref(m->tick_source);
        sd_event_source_unref(m->pressure_source);
        sd_event_source_unref(m->scan_source);
        sd_event_source_disable_unref(m->psi_trigger_source);
        sd_event_source_unref(m->uevent_source);
        memevents_free(m->memevents);
        sd_event_unref(m->event);
        blocktable_clear(&m->table);
        handshake_free(&m->handshake);
        free(m->backoffs);
        free(m->online_retry_usec);
        indexset_free(&m->has_memory);
        free(m->nodes);
        free(m->scanbuf);
        if (m->kpf_fd >= 0)
                close(m->kpf_fd);
        if (m->memdir_fd >= 0)
                close(m->memdir_fd);
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

static int manager_size_nodes(Manager *m)
{
        int max = -1;
        NodeState *n;

        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].node > max)
                        max = m->table.blocks[i].node;
        if ((size_t)(max + 1) <= m->n_nodes)
                return 0;
        n = realloc(m->nodes, (size_t)(max + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        memset(n + m->n_nodes, 0, ((size_t)(max + 1) - m->n_nodes) * sizeof(*n));
        m->nodes = n;
        m->n_nodes = (size_t)(max + 1);
        return handshake_set_nodes(&m->handshake, m->n_nodes);
}

int manager_read_counters(Manager *m)
{
        int r;

        r = meminfo_read(m->roots.procfs_fd, &m->meminfo);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/meminfo: %m", m->roots.procfs_path);

        r = psi_read(m->roots.procfs_fd, &m->psi);
        if (r == -ENOENT) {
                if (m->has_psi)
                        log_warning("Memory pressure (PSI) is no longer available, ignoring");
                m->has_psi = false;
        } else if (r < 0) {
                log_warning_errno(r, "Failed to read %s/pressure/memory, ignoring: %m",
                                  m->roots.procfs_path);
                m->has_psi = false;
        } else
                m->has_psi = true;

        for (size_t i = 0; i < m->n_nodes; i++) {
                NodeState *n = &m->nodes[i];

                r = node_meminfo_read(m->roots.sysfs_fd, (int)i, &n->mem);
                if (r < 0) {
                        if (r != -ENOENT && n->present)
                                log_warning_errno(r, "Failed to read node%zu meminfo, ignoring: %m",
                                                  i);
                        n->present = false;
                        continue;
                }
                n->present = true;
                n->prev_free_pages = n->present ? n->free_pages : 0;
                n->free_pages = n->mem.free_kb * 1024 / m->page_size;
        }
        return 0;
}

int manager_open(Manager *m, const char *sysfs, const char *procfs)
{
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

        m->kpf_fd = openat(m->roots.procfs_fd, "kpageflags", O_RDONLY | O_CLOEXEC);
        if (m->kpf_fd < 0)
                return log_error_errno(errno, "Failed to open %s/kpageflags (needs root): %m",
                                       m->roots.procfs_path);

        m->scanbuf_size = SCANBUF_SIZE;
        m->scanbuf = malloc(m->scanbuf_size);
        if (!m->scanbuf)
                return log_error_errno(-ENOMEM, "Out of memory");

        r = nodes_with_memory(m->roots.sysfs_fd, &m->has_memory);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to read the nodes with memory, ignoring: %m");

        r = handshake_init(&m->handshake, 0);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        r = manager_size_nodes(m);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        return manager_read_counters(m);
}

static int manager_count_block(Manager *m, MemBlock *b, uint64_t now_ns)
{
        PageUsage u = { 0 };
        int r;

        if (b->state == BLOCK_OFFLINE) {
                /* An offline block has no struct pages: kpageflags reads NOPAGE
                 * (or 0 on some kernels); sysfs is the truth. */
                u.nopage = m->table.pages_per_block;
        } else {
                KpfZoneKind zk = b->zones == ZONE_MOVABLE_BIT ? KPF_ZONE_MOVABLE : KPF_ZONE_KERNEL;

                r = kpf_count_range(m->kpf_fd, b->start_pfn, m->table.pages_per_block, zk,
                                    m->scanbuf, m->scanbuf_size, &u);
                if (r < 0)
                        return log_warning_errno(r, "Failed to read kpageflags of memory%" PRIu32
                                                    ", ignoring: %m",
                                                 b->index);
        }
        b->was_empty = b->scanned_ns != 0 && page_usage_used(&b->usage) == 0;
        b->usage = u;
        b->usage_valid = true;
        b->scanned_ns = now_ns ? now_ns : 1;
        b->node_free_at_scan = manager_node_free_pages(m, b->node);
        m->counters.full_counts++;
        m->counters.pages_counted += m->table.pages_per_block;
        return 0;
}

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
        /* Keep what was counted of blocks that did not change. */
        for (size_t i = 0; i < fresh.n; i++) {
                MemBlock *nb = &fresh.blocks[i], *ob = blocktable_find(&m->table, nb->index);

                if (ob && ob->state == nb->state && ob->zones == nb->zones &&
                    ob->node == nb->node)
                        *nb = *ob;
        }
        if (fresh.n != m->table.n)
                log_info("Memory blocks: %zu, were %zu", fresh.n, m->table.n);
        blocktable_clear(&m->table);
        m->table = fresh;
        return manager_size_nodes(m);
}

int manager_count_all(Manager *m)
{
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        size_t counted = 0;
        int r, ret = 0;

        for (size_t i = 0; i < m->table.n; i++) {
                r = manager_count_block(m, &m->table.blocks[i], now);
                if (r < 0)
                        ret = r;
                else if (m->table.blocks[i].state != BLOCK_OFFLINE)
                        counted++;
        }
        if (counted > 0)
                m->block_cost_ns = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / counted;
        return ret;
}

/* The node's "region 0": its lowest block, whatever its state. The table is
 * sorted, so the first block of the node is it. */
static bool manager_block_lowest_of_node(const Manager *m, const MemBlock *b)
{
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].node == b->node)
                        return m->table.blocks[i].index == b->index;
        return false;
}

const char *manager_block_intent(const Manager *m, const MemBlock *b, bool *ret_offlinable)
{
        const Backoff *bo = b->index < m->n_backoffs ? &m->backoffs[b->index] : NULL;
        OfflineVerdict v;

        if (manager_evacuating(m) && m->evac.index == b->index) {
                if (ret_offlinable)
                        *ret_offlinable = true;
                return "evacuating";
        }
        v = policy_check_offlinable(&m->config, b, manager_block_lowest_of_node(m, b), bo,
                                    m->last_tick_ns / NSEC_PER_USEC);
        if (ret_offlinable)
                *ret_offlinable = v == OFFLINE_OK;
        if (v == OFFLINE_OK)
                return b->usage.movable > 0 ? "evacuate" : "offline";
        return offline_verdict_to_string(v);
}

uint64_t *manager_node_free_array(const Manager *m)
{
        uint64_t *a = calloc(m->n_nodes ? m->n_nodes : 1, sizeof(uint64_t));

        if (!a)
                return NULL;
        /* HANDSHAKE_FREE_UNKNOWN and POLICY_FREE_UNKNOWN are both UINT64_MAX */
        for (size_t i = 0; i < m->n_nodes; i++)
                a[i] = m->nodes[i].present ? m->nodes[i].free_pages : POLICY_FREE_UNKNOWN;
        return a;
}

static void manager_notify_status(Manager *m)
{
        size_t online = 0, offline = 0;

        for (size_t i = 0; i < m->table.n; i++) {
                if (m->table.blocks[i].state == BLOCK_OFFLINE)
                        offline++;
                else
                        online++;
        }
        sd_notifyf(false, "STATUS=%zu blocks online, %zu offline (%" PRIu64 " MiB)%s",
                   online, offline, offline * m->table.block_size_bytes / (1024 * 1024),
                   manager_dry_run(m) ? ", dry run" : "");
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
        if (n > 0)
                (void)manager_size_nodes(m);
}

static void manager_update_pressure(Manager *m)
{
        MemSnapshot snap = {
                .mem_total_kb = m->meminfo.total_kb,
                .mem_available_kb = m->meminfo.available_kb,
                .page_size = m->page_size,
                .psi_valid = m->has_psi,
                .psi_some_avg10 = m->psi.some.avg10,
        };

        (void)policy_check_pressure(&m->config, &snap, &m->pressure);
}

/* The handshake, then the consolidation sweep: what to evacuate next. */
static void manager_decide(Manager *m)
{
        _cleanup_free_ HandshakeBlock *hb = NULL;
        _cleanup_free_ HandshakeEvent *ev = NULL;
        _cleanup_free_ uint64_t *node_free = NULL;
        _cleanup_free_ bool *lowest = NULL;
        _cleanup_free_ Backoff *bo = NULL;
        uint64_t now_usec = m->last_tick_ns / NSEC_PER_USEC;
        bool hold = m->paused || manager_pressure_recent(m, now_usec) || manager_evacuating(m);
        size_t n = m->table.n, n_ev = handshake_max_events(&m->handshake);
        int k;

        hb = calloc(n ? n : 1, sizeof(*hb));
        ev = calloc(n_ev ? n_ev : 1, sizeof(*ev));
        node_free = manager_node_free_array(m);
        lowest = calloc(n ? n : 1, sizeof(*lowest));
        bo = calloc(n ? n : 1, sizeof(*bo));
        if (!hb || !ev || !node_free || !lowest || !bo) {
                log_error_errno(-ENOMEM, "Out of memory");
                return;
        }
        policy_mark_lowest_of_node(m->table.blocks, n, lowest);
        for (size_t i = 0; i < n; i++) {
                MemBlock *b = &m->table.blocks[i];
                Backoff *bp = manager_backoff(m, b->index);

                if (bp && b->usage_valid && backoff_observe(bp, &b->usage))
                        log_debug("memory%" PRIu32 ": usage changed, no longer held", b->index);
                bo[i] = bp ? *bp : BACKOFF_NULL;
                hb[i] = (HandshakeBlock){
                        .index = b->index,
                        .node = b->node,
                        .eligible = b->state == BLOCK_ONLINE && b->usage_valid &&
                                    policy_is_target(&m->config, b, lowest[i]),
                        .was_empty = b->was_empty,
                        .usage = b->usage,
                };
                b->was_empty = false; /* a first use is seen once */
        }

        HandshakeInput in = {
                .blocks = hb,
                .n_blocks = n,
                .node_free = node_free,
                .n_nodes = m->n_nodes,
                .hold = hold,
        };
        k = handshake_look(&m->handshake, &in, ev, n_ev);
        for (int i = 0; i < k; i++) {
                const HandshakeEvent *e = &ev[i];
                MemBlock *b = blocktable_find(&m->table, e->block);
                size_t pos = b ? (size_t)(b - m->table.blocks) : 0;

                if (e->action == HANDSHAKE_NOTE) {
                        log_info("memory%" PRIu32 ": first use noted (node %d)", e->block, e->node);
                        continue;
                }
                if (e->action == HANDSHAKE_DROP) {
                        log_debug("memory%" PRIu32 ": note dropped (%s)", e->block,
                                  handshake_drop_to_string(e->reason));
                        continue;
                }
                /* EVACUATE: the node freed memory since the first use. */
                if (!b || manager_node_busy(m, b->node, now_usec) || !manager_node_can_spare(m, b) ||
                    policy_check_offlinable(&m->config, b, lowest[pos], &bo[pos],
                                                  now_usec) != OFFLINE_OK ||
                    !policy_can_spare_block(m->pressure.available_pages,
                                            m->pressure.reserve_pages, m->table.pages_per_block) ||
                    manager_evacuate_block(m, e->block, "next free after first use") < 0)
                        (void)handshake_work_done(&m->handshake, e->node);
        }

        if (m->paused || manager_pressure_recent(m, now_usec) || manager_evacuating(m))
                return;

        uint32_t picks[POLICY_SWEEP_MAX];
        _cleanup_free_ bool *node_busy = calloc(m->n_nodes ? m->n_nodes : 1, sizeof(bool));

        if (!node_busy)
                return;
        for (size_t i = 0; i < m->n_nodes; i++)
                node_busy[i] = manager_node_busy(m, (int)i, now_usec);
        SweepInput sw = {
                .node_busy = node_busy,
                .n_nodes = m->n_nodes,
                .node_free = node_free,
                .node_floor_pages = manager_node_floor_pages(m),
                .blocks = m->table.blocks,
                .n_blocks = n,
                .lowest_of_node = lowest,
                .backoffs = bo,
                .available_pages = m->pressure.available_pages,
                .reserve_pages = m->pressure.reserve_pages,
                .pages_per_block = m->table.pages_per_block,
                .now_usec = now_usec,
        };
        size_t np = policy_sweep(&m->config, &sw, picks, ELEMENTSOF(picks));
        /* One worker at a time: the kernel serialises offlines anyway. */
        if (np > 0)
                (void)manager_evacuate_block(m, picks[0], "consolidation");
}

/* Count the next stale block, if the budget allows. Returns 1 when a block
 * was counted, 0 when there is nothing (more) to count this tick. */
static int manager_scan_step(Manager *m)
{
        uint64_t t0, dt;
        ssize_t pos;

        if (!scansched_may_scan(&m->sched))
                return 0;
        pos = scansched_next(&m->sched, &m->table);
        if (pos < 0)
                return 0;
        t0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        (void)manager_count_block(m, &m->table.blocks[pos], m->last_tick_ns);
        m->table.blocks[pos].stale = false;
        dt = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
        scansched_charge(&m->sched, dt);
        m->counters.scan_cpu_ns += dt;
        /* exponential average over ~8 counts */
        m->block_cost_ns = m->block_cost_ns ? (7 * m->block_cost_ns + dt) / 8 : dt;
        return 1;
}

/* What a tick does once its counts are done. */
static void manager_tick_end(Manager *m)
{
        uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

        manager_decide(m);
        manager_notify_status(m);
        (void)metrics_write(m);
        manager_bus_flush_properties(m);
        m->counters.scan_cpu_ns += clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
}

/* Counting runs one block per event loop iteration at idle priority, so the
 * pressure watch, the PSI trigger, uevents and D-Bus are never kept waiting
 * behind a tick's counts (a count takes ~1 ms on hardware, tens of ms under
 * emulation). */
static int on_scan_step(sd_event_source *s, void *userdata)
{
        Manager *m = userdata;

        if (manager_scan_step(m) > 0)
                return 0; /* stays enabled: the next step after other events */
        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
        manager_tick_end(m);
        return 0;
}

int manager_tick(Manager *m)
{
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), spent;
        uint64_t elapsed = m->last_tick_ns ? now - m->last_tick_ns : m->config.tick_usec * 1000;
        uint64_t rescan_max_ns = m->config.rescan_max_usec * NSEC_PER_USEC;
        int r;

        m->last_tick_ns = now;
        m->counters.ticks++;
        (void)manager_read_counters(m);
        if (now - m->last_reread_ns >= rescan_max_ns) {
                /* uevents can be missed (a full socket buffer); sysfs is
                 * the truth, reread now and then */
                (void)manager_reread_blocks(m);
                m->last_reread_ns = now;
        }
        manager_reread_nodeless(m);
        /* Giving memory back comes first. */
        manager_update_pressure(m);
        (void)manager_relieve_pressure(m, true);

        scansched_refill(&m->sched, m->config.scan_cpu_percent, elapsed,
                         m->config.tick_usec * NSEC_PER_USEC, m->block_cost_ns);

        for (size_t i = 0; i < m->table.n; i++) {
                MemBlock *b = &m->table.blocks[i];

                if (scansched_block_probe(b)) {
                        KpfZoneKind zk =
                                b->zones == ZONE_MOVABLE_BIT ? KPF_ZONE_MOVABLE : KPF_ZONE_KERNEL;

                        m->counters.probes++;
                        r = kpf_probe_range(m->kpf_fd, b->start_pfn, m->table.pages_per_block,
                                            1024, zk);
                        if (r > 0) {
                                m->counters.probe_hits++;
                                b->usage_valid = false;
                        } else if (r < 0)
                                log_debug_errno(r, "Probe of memory%" PRIu32 " failed: %m",
                                                b->index);
                }
                b->stale = scansched_block_stale(b, manager_node_free_pages(m, b->node), now,
                                                 rescan_max_ns);
        }

        spent = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        scansched_charge(&m->sched, spent);
        m->counters.scan_cpu_ns += spent;

        if (m->scan_source)
                return sd_event_source_set_enabled(m->scan_source, SD_EVENT_ON);
        /* no event loop: count here */
        while (manager_scan_step(m) > 0)
                ;
        manager_tick_end(m);
        return 0;
}

int manager_handle_memevent(Manager *m, const MemEvent *e)
{
        MemBlock *before = blocktable_find(&m->table, e->index);
        BlockState old = before ? before->state : _BLOCK_STATE_INVALID;
        bool removed = false;
        MemBlock *after;
        int r;

        m->counters.uevents++;
        r = blocktable_refresh(&m->table, m->memdir_fd, e->index, &removed);
        if (r < 0)
                return log_warning_errno(r, "Failed to reread memory%" PRIu32 " after '%s' event, "
                                            "ignoring: %m",
                                         e->index, memevent_action_to_string(e->action));
        if (removed) {
                log_info("memory%" PRIu32 ": removed", e->index);
                return 0;
        }
        after = blocktable_find(&m->table, e->index);
        if (!after)
                return 0;
        if (!before) {
                log_info("memory%" PRIu32 ": added, node %d, %s", e->index, after->node,
                         block_state_to_string(after->state));
                /* Hot-added memory stays offline until it is needed, unless
                 * configured otherwise (or the kernel onlined it itself:
                 * auto_online_blocks). */
                if (after->state == BLOCK_OFFLINE && m->config.online_hot_added)
                        (void)manager_online_block(m, after, "OnlineHotAdded=yes");
        }
        else if (old != after->state) {
                log_info("memory%" PRIu32 ": %s -> %s", e->index, block_state_to_string(old),
                         block_state_to_string(after->state));
                manager_bus_emit_block_state(m, e->index, after->state);
        }
        r = manager_size_nodes(m);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        return 0;
}

int manager_reload(Manager *m)
{
        ConfigError err = { 0 };
        char msg[PATH_MAX + 300];
        uint64_t old_tick = m->config.tick_usec;
        int r;

        sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
        r = config_load(m->config_path, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &m->config, &err);
        if (r < 0) {
                config_error_format(&err, msg, sizeof(msg));
                log_error("%s; keeping the previous configuration", msg);
        } else {
                log_info("Configuration reloaded");
                if (m->tick_source && m->config.tick_usec != old_tick)
                        (void)sd_event_source_set_time_relative(m->tick_source,
                                                                m->config.tick_usec);
        }
        sd_notify(false, "READY=1");
        manager_notify_status(m);
        return r;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        (void)manager_tick(m);
        r = sd_event_source_set_time_relative(s, m->config.tick_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to rearm the tick timer: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Between ticks, pressure is watched at a shorter interval: memory can run
 * out faster than a tick, and two small reads (/proc/meminfo, PSI) cost a few
 * microseconds. Only the pressure path runs here. */
#define PRESSURE_WATCH_USEC (200 * USEC_PER_MSEC)

/* With memory to give back, look this often: an allocation bound to one node
 * (and made of transparent huge pages) eats a node's free memory at GB/s,
 * and the kernel kills it when the node runs out, without a stall long
 * enough for PSI to tell. */
#define PRESSURE_WATCH_FAST_USEC (20 * USEC_PER_MSEC)

/* sd-event lets a timer with accuracy 0 fire up to 250 ms late (to coalesce
 * wake-ups): that would make the 20 ms watch a 270 ms one. */
#define PRESSURE_WATCH_ACCURACY_USEC (1 * USEC_PER_MSEC)

/* Look every 20 ms when there is memory to give back (an offline block),
 * or when the machine is within twice its reserve (an evacuation in flight
 * is ended sooner). A node's floor (NodeMinFreeMiB) lasts an allocation
 * bound to it floor / rate: 64 MiB protects up to about 3 GB/s at 20 ms, but
 * only 300 MB/s at 200 ms. Each look reads three small files (~10 us). */
static bool manager_watch_fast(const Manager *m)
{
        if (m->meminfo.available_kb * 1024 / m->page_size < 2 * m->pressure.reserve_pages)
                return true;
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].state == BLOCK_OFFLINE)
                        return true;
        return false;
}

/* The pressure path alone: MemAvailable, PSI, the nodes with offline
 * blocks, and onlining where they ran short. */
static void manager_check_pressure(Manager *m)
{
        MemInfo mi;

        if (meminfo_read(m->roots.procfs_fd, &mi) < 0)
                return;
        m->meminfo = mi;
        m->has_psi = psi_read(m->roots.procfs_fd, &m->psi) >= 0;
        manager_update_pressure(m);
        manager_read_offline_nodes(m);
        /* PSI's avg10 stays up for seconds after a stall: acting on it here
         * would online a block every 200 ms. The tick handles PSI; this path
         * handles a falling MemAvailable and nodes running short. */
        (void)manager_relieve_pressure(m, false);
}

static int on_pressure_watch(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        manager_check_pressure(m);
        r = sd_event_source_set_time_relative(s, manager_watch_fast(m) ? PRESSURE_WATCH_FAST_USEC
                                                                          : PRESSURE_WATCH_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to rearm the pressure timer: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Tasks stalled on memory: look now rather than at the next 200 ms. */
static int on_psi_trigger(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;

        if (revents & EPOLLERR) {
                log_warning("The PSI trigger stopped working, relying on polling");
                m->psi_trigger_source = sd_event_source_disable_unref(m->psi_trigger_source);
                return 0;
        }
        log_debug("PSI trigger: memory stall");
        manager_check_pressure(m);
        return 0;
}

static void manager_watch_psi_trigger(Manager *m)
{
        int fd, r;

        /* 100 ms of stall within 2 s: the smallest window allowed without
         * CAP_SYS_RESOURCE (multiples of 2 s), which the unit does not grant. */
        fd = psi_trigger_open(m->roots.procfs_fd, 100 * USEC_PER_MSEC, 2 * USEC_PER_SEC);
        if (fd < 0) {
                log_info_errno(fd, "No PSI trigger (%m), pressure is polled every %llu ms",
                               PRESSURE_WATCH_USEC / USEC_PER_MSEC);
                return;
        }
        r = sd_event_add_io(m->event, &m->psi_trigger_source, fd, EPOLLPRI, on_psi_trigger, m);
        if (r < 0) {
                close(fd);
                log_warning_errno(r, "Failed to watch the PSI trigger, ignoring: %m");
                return;
        }
        (void)sd_event_source_set_priority(m->psi_trigger_source, SD_EVENT_PRIORITY_IMPORTANT);
        (void)sd_event_source_set_io_fd_own(m->psi_trigger_source, true);
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

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                (void)manager_reload(m);
                return 0;
        }
        log_info("Received %s, exiting", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
        manager_evacuation_abort(m, "shutdown");
        if (m->config.online_all_on_exit)
                (void)manager_online_all(m, "OnlineAllOnExit=yes");
        return sd_event_exit(sd_event_source_get_event(s), 0);
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

        r = manager_count_all(m);
        if (r < 0)
                log_warning_errno(r, "Initial count incomplete, continuing: %m");
        m->last_tick_ns = m->last_reread_ns = clock_ns(CLOCK_MONOTONIC);

        r = sd_event_add_time_relative(m->event, &m->tick_source, CLOCK_MONOTONIC,
                                       m->config.tick_usec, 0, on_tick, m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the tick timer: %m");

        r = sd_event_add_time_relative(m->event, &m->pressure_source, CLOCK_MONOTONIC,
                                       PRESSURE_WATCH_USEC, PRESSURE_WATCH_ACCURACY_USEC,
                                       on_pressure_watch, m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the pressure timer: %m");
        /* Giving memory back goes before everything else; counting after. */
        (void)sd_event_source_set_priority(m->pressure_source, SD_EVENT_PRIORITY_IMPORTANT);
        r = sd_event_add_defer(m->event, &m->scan_source, on_scan_step, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the scanner: %m");
        (void)sd_event_source_set_priority(m->scan_source, SD_EVENT_PRIORITY_IDLE);
        (void)sd_event_source_set_enabled(m->scan_source, SD_EVENT_OFF);
        manager_watch_psi_trigger(m);

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
