/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Moving located pages to another node with move_pages(2) (libnuma's
 * numa_move_pages, MPOL_MF_MOVE_ALL), in batches, counting what the kernel
 * answered for every page. The system call goes through MigrateOps so tests
 * can hand the code each answer the kernel is known to give (below, and
 * move_pages(2)) and check what it makes of it. */

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "pagemap.h"

/* Same contract as numa_move_pages() / move_pages(2): returns the number of
 * pages not migrated (>= 0), or -1 with errno set for a whole-call error.
 * nodes == NULL queries where the pages are. */
typedef int (*MovePagesFn)(void *userdata, int pid, unsigned long count, void **pages,
                           const int *nodes, int *status, int flags);

typedef struct MigrateOps {
        MovePagesFn move_pages;
        void *userdata;
} MigrateOps;

/* Written into status before each call: a value the kernel never returns. */
#define MIGRATE_STATUS_UNSET INT_MIN

typedef struct MigrateStats {
        uint64_t requested; /* addresses handed in */
        uint64_t moved;     /* now on the destination node */
        uint64_t stayed;    /* still on the source node (also: source == destination) */
        uint64_t elsewhere; /* on a third node: not ours to move */
        uint64_t busy;      /* -EBUSY: could not be isolated, try again later */
        uint64_t gone;      /* -ENOENT, -EFAULT, or the process exited (ESRCH) */
        uint64_t failed;    /* any other status (-EACCES, -ENOMEM, …) or unknown */
        uint64_t not_tried; /* left over after the destination ran out of memory */
        uint64_t calls;     /* move_pages calls, re-queries included */
        uint64_t nomem;     /* calls that failed whole with ENOMEM */
        uint64_t usec;      /* wall time spent */
} MigrateStats;

/* Count one page's status into stats. src_node < 0: unknown. */
void migrate_count_status(int status, int src_node, int dest_node, MigrateStats *stats);

/* Move the pages of locs (grouped by pid, as pagemap_locate_range returns
 * them) to dest_node, at most batch_pages per call. src_node is the node of
 * the block the pages were located in (-1 if unknown): a status equal to it
 * means the page did not move. ops NULL: the real numa_move_pages.
 *
 * Per call: status is pre-filled with MIGRATE_STATUS_UNSET. The kernel leaves
 * the status of the pages it had queued untouched when the call fails whole
 * with ENOMEM (although many did move) and when it returns a positive count
 * of pages not migrated (it stops there); those pages are queried again
 * (nodes == NULL) and counted from where they are. After ENOMEM the
 * destination is full, so nothing more is tried (not_tried). ESRCH: the
 * process exited, its remaining pages count as gone and the next process
 * follows.
 *
 * Returns 0 and fills *ret; or -EINVAL (bad arguments, or the kernel's
 * EINVAL), -EPERM (no CAP_SYS_NICE, or no ptrace right on a process),
 * -EACCES (destination outside the cpuset), -ENODEV (destination node
 * absent or memoryless), -ENOMEM (allocation here), or the -errno of any
 * other whole-call error; ret untouched on failure. */
int migrate_locations(const PageLocations *locs, int src_node, int dest_node, size_t batch_pages,
                      const MigrateOps *ops, MigrateStats *ret);

/* The same for addresses of one process. */
int migrate_pid_pages(int pid, const uint64_t *addrs, size_t n, int src_node, int dest_node,
                      size_t batch_pages, const MigrateOps *ops, MigrateStats *ret);
