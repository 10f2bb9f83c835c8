/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What mempowerd changes in the kernel: onlining blocks. Every write goes
 * through here, so --dry-run is enforced in one place. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "util.h"

static int64_t now_monotonic_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Remember what went wrong last, for the LastError property. */
static void manager_set_error(Manager *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void manager_set_error(Manager *m, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
        va_end(ap);
}

/* After a failed online, other blocks are tried first for this long. */
#define ONLINE_RETRY_USEC (1 * USEC_PER_SEC)

bool manager_online_ready(const Manager *m, uint32_t index, uint64_t now_usec)
{
        return index >= m->n_online_retry || m->online_retry_usec[index] <= now_usec;
}

static void manager_online_failed(Manager *m, uint32_t index, uint64_t now_usec)
{
        if (index >= m->n_online_retry) {
                size_t n = (size_t)index + 64;
                uint64_t *a = realloc(m->online_retry_usec, n * sizeof(*a));

                if (!a)
                        return;
                memset(a + m->n_online_retry, 0, (n - m->n_online_retry) * sizeof(*a));
                m->online_retry_usec = a;
                m->n_online_retry = n;
        }
        m->online_retry_usec[index] = now_usec + ONLINE_RETRY_USEC;
}

int manager_online_block(Manager *m, MemBlock *b, const char *why)
{
        BlockState now = _BLOCK_STATE_INVALID;
        uint32_t index = b->index;
        int r;

        if (b->state != BLOCK_OFFLINE)
                return 0; /* idempotent: already online is success */
        if (!(b->zones & ZONE_MOVABLE_BIT))
                return log_warning_errno(-EOPNOTSUPP,
                                         "memory%" PRIu32 " cannot be onlined movable, leaving it "
                                         "offline",
                                         index);
        if (manager_dry_run(m)) {
                log_info("memory%" PRIu32 ": would online (%s) [dry run]", index, why);
                return 0;
        }
        r = memblock_write_state(m->memdir_fd, index, "online_movable", &now);
        if (r < 0 && now != BLOCK_ONLINE) {
                uint64_t t = (uint64_t)now_monotonic_ns() / NSEC_PER_USEC;
                /* failed already within the last ten seconds */
                bool again = index < m->n_online_retry && m->online_retry_usec[index] &&
                             m->online_retry_usec[index] + 10 * USEC_PER_SEC > t;

                manager_set_error(m, "Failed to online memory%" PRIu32 ": %s", index, strerror(-r));
                manager_online_failed(m, index, t);
                /* a block that keeps failing is logged once, not every retry */
                return log_full_errno(again ? LOG_DEBUG : LOG_ERR, r,
                                      "memory%" PRIu32 ": failed to online (%s): %m", index, why);
        }
        /* Reread the block: zone and state as the kernel has them now. */
        (void)blocktable_refresh(&m->table, m->memdir_fd, index, NULL);
        b = blocktable_find(&m->table, index);
        if (!b || b->state != BLOCK_ONLINE)
                return log_error_errno(-EIO, "memory%" PRIu32 ": still not online after writing "
                                             "online_movable",
                                       index);
        /* A block the kernel just onlined is empty: all its pages went to
         * the buddy allocator. Knowing that makes its first use visible to
         * the handshake at its next count. */
        b->usage = (PageUsage){ .free = m->table.pages_per_block };
        b->usage_valid = true;
        b->scanned_ns = (uint64_t)now_monotonic_ns();
        b->node_free_at_scan = 0;
        if (index < m->n_online_retry)
                m->online_retry_usec[index] = 0;
        m->counters.blocks_onlined++;
        if (m->bytes_offlined_by_daemon >= m->table.block_size_bytes)
                m->bytes_offlined_by_daemon -= m->table.block_size_bytes;
        log_info("memory%" PRIu32 ": online (%s)", index, why);
        manager_bus_emit_block_state(m, index, BLOCK_ONLINE);
        return 1;
}

int manager_online_all(Manager *m, const char *why)
{
        int r, ret = 0, done = 0;

        /* Lowest first; the table may be reordered by refreshes, so look
         * blocks up by index each time. */
        for (size_t i = 0; i < m->table.n; i++) {
                MemBlock *b = &m->table.blocks[i];

                if (b->state != BLOCK_OFFLINE || !(b->zones & ZONE_MOVABLE_BIT))
                        continue;
                r = manager_online_block(m, b, why);
                if (r < 0)
                        ret = r;
                else
                        done += r;
        }
        return ret < 0 ? ret : done;
}
