/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Would taking a whole node's memory away leave a process with nowhere to
 * allocate? A process whose memory policy binds it (MPOL_BIND) to nodes of
 * which that node is the only one with memory, or whose cpuset allows only
 * such nodes, would be OOM-killed the moment it needs a page. Before a
 * node's last block goes, every process is read:
 *
 * - /proc/PID/numa_maps, the policy of every mapping (a mapping without
 *   one shows the task's): "bind:1", "bind=static:0-1";
 * - /proc/PID/status, "Mems_allowed_list:" (the cpuset's nodes);
 * - the first lines of /proc/PID/task/TID/numa_maps of its other threads
 *   (a thread's own set_mempolicy shows only there).
 *
 * A process that cannot be read (permissions, an LSM) counts as bound.
 *
 * numa_maps walks each mapping's pages: a read of every process costs about
 * as much as counting their pages once. The planner asks for it only while
 * a domain that is all of a node's memory is about to be emptied. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "indexset.h"

typedef struct BindingsResult {
        bool bound;        /* some process depends on node alone */
        pid_t pid;         /* the first such process */
        char what[32];     /* "bind:1", "cpuset 1" */
        unsigned processes; /* processes read */
} BindingsResult;

/* Does the node list nodes depend on node alone: node is in it and no
 * other of its nodes has memory (has_memory: the nodes with memory now)? */
bool bindings_set_depends(const IndexSet *nodes, uint32_t node, const IndexSet *has_memory);

/* One numa_maps line: does its policy bind to node alone? *ret_what gets
 * the policy word when it does. -EINVAL: not a numa_maps line. */
int bindings_numa_maps_line(const char *line, uint32_t node, const IndexSet *has_memory,
                            char *ret_what, size_t what_size);

/* Every process under procfs_fd. Processes that vanish meanwhile are
 * skipped; one that cannot be read counts as bound. -ENOMEM, or the error of opening procfs:
 * a reading that failed must not count as "none bound". */
int bindings_read(int procfs_fd, uint32_t node, const IndexSet *has_memory, BindingsResult *ret);
