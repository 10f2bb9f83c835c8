/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Cheap signals: machine and per-node memory counters, and memory pressure
 * (PSI). Parsers take text so tests and fuzzers feed them directly; readers
 * take the root fds. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "indexset.h"

typedef struct MemInfo {
        uint64_t total_kb;
        uint64_t free_kb;
        uint64_t available_kb;
} MemInfo;

typedef struct NodeMemInfo {
        uint64_t total_kb;
        uint64_t free_kb;
} NodeMemInfo;

typedef struct PsiLine {
        double avg10, avg60, avg300;
        uint64_t total_usec;
} PsiLine;

typedef struct Psi {
        PsiLine some;
        PsiLine full;
        bool has_full;
} Psi;

/* /proc/meminfo text: MemTotal, MemFree, MemAvailable (kB). Keys are matched
 * as whole keys at the start of a line. */
int meminfo_parse(const char *text, MemInfo *ret);
/* nodeN/meminfo text ("Node 1 MemFree: 123 kB"); node must match. */
int node_meminfo_parse(const char *text, int node, NodeMemInfo *ret);
/* /proc/pressure/memory text. */
int psi_parse(const char *text, Psi *ret);

int meminfo_read(int procfs_fd, MemInfo *ret);
int node_meminfo_read(int sysfs_fd, int node, NodeMemInfo *ret);
/* -ENOENT when the kernel has no PSI (older kernels, psi=0). */
int psi_read(int procfs_fd, Psi *ret);
/* A PSI trigger on memory "some" stalls: an fd that polls POLLPRI when tasks
 * stalled on memory for stall_usec within window_usec (the window must be a
 * multiple of 2 s without CAP_SYS_RESOURCE). -ENOENT without PSI. */
int psi_trigger_open(int procfs_fd, uint64_t stall_usec, uint64_t window_usec);
/* Nodes with memory (ROOTS_NODE_DIR/has_memory); -ENOENT on non-NUMA kernels. */
int nodes_with_memory(int sysfs_fd, IndexSet *ret);
