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
        bool commit_valid; /* the three below were there (every kernel since 2.6) */
        uint64_t commit_limit_kb;  /* CommitLimit */
        uint64_t committed_as_kb;  /* Committed_AS */
        uint64_t swap_total_kb;    /* SwapTotal */
} MemInfo;

/* vm.overcommit_memory and what mode 2 takes from it. */
typedef struct OvercommitSettings {
        int mode;          /* 0 heuristic, 1 always, 2 never; -1 not read */
        unsigned ratio;    /* vm.overcommit_ratio, % */
        uint64_t kbytes;   /* vm.overcommit_kbytes (used instead of the ratio when not 0) */
} OvercommitSettings;

/* One zone of /proc/zoneinfo. */
typedef struct ZoneInfo {
        int node;
        char name[16];          /* "DMA", "DMA32", "Normal", "Movable", "Device", ... */
        uint64_t present;       /* pages */
        uint64_t managed;       /* pages handed to the page allocator */
        uint64_t free;          /* nr_free_pages */
        uint64_t pcp;           /* pages on the per-CPU lists ("count:" under pagesets) */
} ZoneInfo;

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
/* /proc/buddyinfo text ("Node 0, zone   Normal  3 1 0 ..." counts of free
 * chunks of order 0, 1, ...): free pages of the kernel zones (DMA, DMA32,
 * Normal) and of the others. The per-CPU lists are not in it. */
int buddyinfo_parse(const char *text, uint64_t *ret_kernel_free, uint64_t *ret_other_free);
/* /proc/zoneinfo text: up to size zones into ret (in file order); returns
 * how many there are (more than size: the rest were not stored). */
int zoneinfo_parse(const char *text, ZoneInfo *ret, size_t size);
/* Is this zone name one of the kernel's own (DMA, DMA32, Normal)? */
bool zone_name_is_kernel(const char *name);

/* The readers of the pressure path do not allocate: a failure to allocate
 * must not be the reason memory is not given back. */
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
/* vm.overcommit_memory, _ratio, _kbytes below procfs (sys/vm/). -errno of
 * the first that cannot be read; -EBADMSG for a value out of range. */
int overcommit_read(int procfs_fd, OvercommitSettings *ret);
int buddyinfo_read(int procfs_fd, uint64_t *ret_kernel_free, uint64_t *ret_other_free);
/* Allocates (zoneinfo is large on big machines): for reports, not for the
 * pressure path. */
int zoneinfo_read(int procfs_fd, ZoneInfo *ret, size_t size);
/* sys/kernel/random/boot_id: a new one at every boot. buf of at least 37. */
int boot_id_read(int procfs_fd, char *buf, size_t size);
