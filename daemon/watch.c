/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon reads of the machine's memory, and the fast pressure
 * watch. Between ticks, pressure is looked at on a short timer: memory can
 * run out faster than a tick. Every 20 ms while any block is offline (there
 * is memory to give back: an allocation bound to one node, made of
 * transparent huge pages, eats a node's free memory at GB/s and the kernel
 * kills it when the node runs out, without a stall long enough for PSI to
 * tell; NodeMinFreeMiB=64 lasts such an allocation up to about 3 GB/s at
 * 20 ms, but only 300 MB/s at 200 ms), every 200 ms otherwise, and at once
 * when a PSI trigger reports a stall. Each look reads /proc/meminfo, PSI,
 * /proc/buddyinfo and the meminfo of the nodes with offline blocks (about
 * 15 us, no allocation) and plans with PLAN_WATCH: giving back only. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "log.h"
#include "manager.h"
#include "util.h"

#define WATCH_USEC      (200 * USEC_PER_MSEC)
#define WATCH_FAST_USEC (20 * USEC_PER_MSEC)

/* sd-event lets a timer with accuracy 0 fire up to 250 ms late (to coalesce
 * wake-ups): that would make the 20 ms watch a 270 ms one. */
#define WATCH_ACCURACY_USEC (1 * USEC_PER_MSEC)

static void read_meminfo(Manager *m)
{
        MemInfo mi;
        int r;

        r = meminfo_read(m->roots.procfs_fd, &mi);
        if (r < 0) {
                /* said when it starts failing, not at every look */
                if (m->meminfo_valid || !m->meminfo_failed)
                        log_error_errno(r, "Failed to read %s/meminfo, giving memory back and "
                                           "offlining nothing: %m",
                                        m->roots.procfs_path);
                m->meminfo_valid = false;
                m->meminfo_failed = true;
                return;
        }
        if (m->meminfo_failed)
                log_info("%s/meminfo can be read again", m->roots.procfs_path);
        m->meminfo_failed = false;
        m->meminfo = mi;
        m->meminfo_valid = true;
}

/* Said when it stops working, not at every look. */
static void read_psi(Manager *m, bool warn)
{
        bool first = m->counters.ticks <= 1;
        int r = psi_read(m->roots.procfs_fd, &m->psi);

        if (r == -ENOENT) {
                if (m->has_psi && warn)
                        log_warning("Memory pressure (PSI) is no longer available, ignoring");
                m->has_psi = false;
        } else if (r < 0) {
                if (warn && (m->has_psi || first))
                        log_warning_errno(r, "Failed to read %s/pressure/memory, ignoring: %m",
                                          m->roots.procfs_path);
                m->has_psi = false;
        } else
                m->has_psi = true;
}

static void read_node(Manager *m, size_t i, bool warn)
{
        NodeState *n = &m->nodes[i];
        int r = node_meminfo_read(m->roots.sysfs_fd, (int)i, &n->mem);

        if (r < 0) {
                if (r != -ENOENT && n->present && warn)
                        log_warning_errno(r, "Failed to read node%zu meminfo, ignoring: %m", i);
                n->present = false;
                return;
        }
        n->present = true;
        n->free_pages = n->mem.free_kb * 1024 / m->page_size;
}

/* The kernel zones' free pages: /proc/buddyinfo, a few lines. */
static void read_kernel_free(Manager *m)
{
        int r = buddyinfo_read(m->roots.procfs_fd, &m->kernel_free_pages, NULL);

        if (r < 0 && m->kernel_free_valid)
                log_warning_errno(r, "Failed to read %s/buddyinfo, ignoring: %m",
                                  m->roots.procfs_path);
        m->kernel_free_valid = r >= 0;
}

void watch_read_all(Manager *m)
{
        int r;

        read_meminfo(m);
        read_psi(m, true);
        for (size_t i = 0; i < m->n_nodes; i++) {
                NodeState *n = &m->nodes[i];

                /* falling since the tick before: the watch's readings between
                 * ticks do not count */
                n->tick_free_pages = n->last_tick_free;
                read_node(m, i, true);
                n->last_tick_free = n->present ? n->free_pages : PLAN_FREE_UNKNOWN;
        }
        r = overcommit_read(m->roots.procfs_fd, &m->overcommit);
        if (r < 0)
                m->overcommit = (OvercommitSettings){ .mode = -1 };
        read_kernel_free(m);
}

void watch_read_fast(Manager *m)
{
        read_meminfo(m);
        read_psi(m, false);
        read_kernel_free(m);
        for (size_t i = 0; i < m->n_nodes; i++)
                read_node(m, i, false);
}

/* Nodes with an offline block: their free memory is watched closely. */
static void read_offline_nodes(Manager *m)
{
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];

                if (b->state != BLOCK_OFFLINE || b->node < 0 || (size_t)b->node >= m->n_nodes)
                        continue;
                read_node(m, (size_t)b->node, false);
                /* skip the node's other blocks */
                while (i + 1 < m->table.n && m->table.blocks[i + 1].node == b->node)
                        i++;
        }
}

/* Look every 20 ms when there is memory to give back (an offline block),
 * or when the machine is within twice its reserve (an evacuation in flight
 * is ended sooner). */
static bool watch_fast(const Manager *m)
{
        if (!m->meminfo_valid || m->evac.phase != PLAN_EVAC_NONE ||
            m->meminfo.available_kb < 2 * m->plan.reserve_pages * (m->page_size / 1024))
                return true;
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].state == BLOCK_OFFLINE)
                        return true;
        return false;
}

static void watch_look(Manager *m)
{
        read_meminfo(m);
        read_psi(m, false);
        read_kernel_free(m);
        read_offline_nodes(m);
        manager_decide(m, PLAN_WATCH);
}

static int on_watch(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        watch_look(m);
        r = sd_event_source_set_time_relative(s, watch_fast(m) ? WATCH_FAST_USEC : WATCH_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to rearm the pressure timer: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Tasks stalled on memory: look now. */
static int on_psi_trigger(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;

        if (revents & EPOLLERR) {
                log_warning("The PSI trigger stopped working, relying on polling");
                m->psi_trigger_source = sd_event_source_disable_unref(m->psi_trigger_source);
                return 0;
        }
        log_debug("PSI trigger: memory stall");
        watch_look(m);
        return 0;
}

static void watch_psi_trigger(Manager *m)
{
        int fd, r;

        /* 100 ms of stall within 2 s: the smallest window allowed without
         * CAP_SYS_RESOURCE (multiples of 2 s), which the unit does not grant. */
        fd = psi_trigger_open(m->roots.procfs_fd, 100 * USEC_PER_MSEC, 2 * USEC_PER_SEC);
        if (fd < 0) {
                log_info_errno(fd, "No PSI trigger (%m), pressure is polled every %llu ms",
                               WATCH_USEC / USEC_PER_MSEC);
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

int watch_start(Manager *m)
{
        int r;

        r = sd_event_add_time_relative(m->event, &m->pressure_source, CLOCK_MONOTONIC, WATCH_USEC,
                                       WATCH_ACCURACY_USEC, on_watch, m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the pressure timer: %m");
        /* Giving memory back goes before everything else. */
        (void)sd_event_source_set_priority(m->pressure_source, SD_EVENT_PRIORITY_IMPORTANT);
        watch_psi_trigger(m);
        return 0;
}

void watch_stop(Manager *m)
{
        m->pressure_source = sd_event_source_disable_unref(m->pressure_source);
        m->psi_trigger_source = sd_event_source_disable_unref(m->psi_trigger_source);
}
