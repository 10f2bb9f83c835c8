/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scanner: per-block usage from /proc/kpageflags, within ScanCPUPercent
 * of one core (lib/scansched.h decides which blocks are due). Counting runs
 * one block per event loop iteration at idle priority (on_scan_step in
 * manager.c), so the pressure watch, uevents and D-Bus never wait behind it.
 * The block being evacuated is not counted while in flight: the planner
 * judges its offline from the count it started with and what moved. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "kpageflags.h"
#include "log.h"
#include "manager.h"
#include "util.h"

#define SCANBUF_SIZE (256 * 1024) /* bytes per kpageflags pread */

int scanner_init(Manager *m)
{
        scansched_init(&m->scan.sched);
        m->scan.buf_size = SCANBUF_SIZE;
        m->scan.buf = malloc(m->scan.buf_size);
        if (!m->scan.buf)
                return log_oom();
        return 0;
}

void scanner_free(Manager *m)
{
        free(m->scan.buf);
        m->scan.buf = NULL;
}

static bool in_flight(const Manager *m, const MemBlock *b)
{
        return m->evac.phase != PLAN_EVAC_NONE && m->evac.index == b->index;
}

int scanner_count_block(Manager *m, MemBlock *b, uint64_t now_ns)
{
        PageUsage u = { 0 };
        int r;

        if (b->state == BLOCK_OFFLINE) {
                /* An offline block has no struct pages: kpageflags reads NOPAGE
                 * (or 0 on some kernels); sysfs is the truth. */
                u.nopage = m->table.pages_per_block;
        } else {
                r = kpf_count_range(m->kpf_fd, b->start_pfn, m->table.pages_per_block, memblock_kpf_zone(b),
                                    m->scan.buf, m->scan.buf_size, &u);
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
        if (b->track.rescan) {
                b->track.rescan = false;
                if (m->scan.forced > 0)
                        m->scan.forced--;
        }
        if (backoff_observe(&b->track.backoff, &b->usage))
                log_debug("memory%" PRIu32 ": usage changed, no longer held", b->index);
        m->counters.full_counts++;
        m->counters.pages_counted += m->table.pages_per_block;
        return 0;
}

int scanner_count_all(Manager *m)
{
        uint64_t now = clock_ns(CLOCK_MONOTONIC), cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        size_t counted = 0;
        int r, ret = 0;

        for (size_t i = 0; i < m->table.n; i++) {
                r = scanner_count_block(m, &m->table.blocks[i], now);
                if (r < 0)
                        ret = r;
                else if (m->table.blocks[i].state != BLOCK_OFFLINE)
                        counted++;
        }
        if (counted > 0)
                m->scan.block_cost_ns = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / counted;
        return ret;
}

void scanner_tick(Manager *m, uint64_t now_ns, uint64_t elapsed_ns)
{
        uint64_t rescan_max_ns = m->config.rescan_max_usec * NSEC_PER_USEC, cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), spent;
        int r;

        scansched_refill(&m->scan.sched, m->config.scan_cpu_percent, elapsed_ns,
                         m->config.tick_usec * NSEC_PER_USEC, m->scan.block_cost_ns);

        for (size_t i = 0; i < m->table.n; i++) {
                MemBlock *b = &m->table.blocks[i];

                if (in_flight(m, b)) {
                        b->stale = false;
                        continue;
                }
                if (scansched_block_probe(b)) {
                        m->counters.probes++;
                        r = kpf_probe_range(m->kpf_fd, b->start_pfn, m->table.pages_per_block,
                                            KPF_PROBE_STRIDE, memblock_kpf_zone(b));
                        if (r > 0) {
                                m->counters.probe_hits++;
                                b->usage_valid = false;
                        } else if (r < 0)
                                log_debug_errno(r, "Probe of memory%" PRIu32 " failed: %m",
                                                b->index);
                }
                b->stale = b->track.rescan ||
                           scansched_block_stale(b, manager_node_free_pages(m, b->node), now_ns,
                                                 rescan_max_ns);
        }

        spent = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        scansched_charge(&m->scan.sched, spent);
        m->counters.scan_cpu_ns += spent;
}

int scanner_step(Manager *m)
{
        uint64_t t0, dt;
        ssize_t pos;
        MemBlock *b;

        /* Blocks Rescan() asked for are counted whatever the budget. */
        if (m->scan.forced == 0 && !scansched_may_scan(&m->scan.sched))
                return 0;
        pos = scansched_next(&m->scan.sched, &m->table);
        if (pos < 0)
                return 0;
        b = &m->table.blocks[pos];
        if (in_flight(m, b)) {
                /* judged from the count it started with (see above) */
                b->stale = false;
                return 1;
        }
        if (m->scan.forced > 0 && !b->track.rescan && !scansched_may_scan(&m->scan.sched)) {
                /* out of budget: only the forced ones */
                for (size_t i = 0; i < m->table.n; i++)
                        if (m->table.blocks[i].track.rescan && m->table.blocks[i].stale) {
                                b = &m->table.blocks[i];
                                break;
                        }
                if (!b->track.rescan) {
                        m->scan.forced = 0; /* none left stale: they vanished */
                        return 0;
                }
        }
        t0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        (void)scanner_count_block(m, b, m->last_tick_ns);
        b->stale = false;
        dt = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
        scansched_charge(&m->scan.sched, dt);
        m->counters.scan_cpu_ns += dt;
        /* exponential average over ~8 counts */
        m->scan.block_cost_ns = m->scan.block_cost_ns ? (7 * m->scan.block_cost_ns + dt) / 8 : dt;
        return 1;
}

void scanner_force_all(Manager *m)
{
        m->scan.forced = 0;
        for (size_t i = 0; i < m->table.n; i++) {
                MemBlock *b = &m->table.blocks[i];

                if (b->state == BLOCK_OFFLINE || in_flight(m, b)) {
                        if (b->track.rescan)
                                b->track.rescan = false;
                        continue;
                }
                b->track.rescan = true;
                b->stale = true;
                m->scan.forced++;
        }
}
