/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What holds a memory block: why it will not go offline, or what an
 * offline would have to move. Two answers, both read from the kernel:
 *
 *  - its pages that no migration moves (unmovable, unknown, hugetlb), as
 *    ranges of PFNs with their flag names ("slab", "reserved,zero_page"),
 *    from /proc/kpageflags;
 *  - the processes that map its pages, with their command, systemd unit or
 *    cgroup, owner and how much of the block each maps, largest first,
 *    from /proc/PID/pagemap (pagemap.h) and /proc/PID/{comm,cgroup}.
 *
 * A process that pins its memory for DMA (RDMA, vfio, io_uring fixed
 * buffers) looks like any other in both: its pages read LRU|ANON. The
 * holder list is what names it. Everything is relative to the procfs root
 * fd and an open kpageflags, so tests use fake trees. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kpageflags.h"
#include "pagemap.h"

/* Ranges kept of one block; more are counted, not listed. */
#define EXPLAIN_RANGES_MAX 64
/* Holders kept; more are counted, not listed. */
#define EXPLAIN_HOLDERS_MAX 64

/* Flags that tell why a page stays: what a range is grouped by. */
#define EXPLAIN_RANGE_FLAGS                                                                        \
        (KPF_BIT(KPF_SLAB) | KPF_BIT(KPF_PGTABLE) | KPF_BIT(KPF_RESERVED) |                        \
         KPF_BIT(KPF_ZERO_PAGE) | KPF_BIT(KPF_OFFLINE) | KPF_BIT(KPF_HWPOISON) |                   \
         KPF_BIT(KPF_HUGE) | KPF_BIT(KPF_MLOCKED) | KPF_BIT(KPF_UNEVICTABLE))

typedef struct ExplainRange {
        uint64_t start_pfn;
        uint64_t pages;
        uint64_t flags; /* the EXPLAIN_RANGE_FLAGS of its pages (all the same) */
        PageClass class;
} ExplainRange;

typedef struct ExplainHolder {
        pid_t pid;
        uid_t uid;         /* owner of /proc/PID; (uid_t)-1 when unknown */
        uint64_t pages;    /* pages of the block it maps */
        char comm[32];     /* "" when gone */
        char unit[128];    /* "postgresql.service", "session-3.scope"; "" when none */
        char cgroup[256];  /* the cgroup v2 path, "" when unknown */
} ExplainHolder;

typedef struct Explanation {
        uint64_t start_pfn, pages;
        PageUsage usage;           /* the block's pages, counted from the same words */
        ExplainRange *ranges;      /* unmovable, unknown and hugetlb pages */
        size_t n_ranges;
        size_t ranges_total;       /* ranges found (n_ranges of them kept) */
        ExplainHolder *holders;    /* largest first */
        size_t n_holders;
        size_t holders_total;      /* holders found (n_holders of them kept) */
        uint64_t holders_pages;    /* pages mapped by all holders found (a page two
                                    * processes map counts twice) */
        uint64_t processes_scanned;
        uint64_t processes_denied; /* whose pagemap could not be read */
        int locate_error;          /* pagemap_locate_range's -errno, 0 when it ran */
} Explanation;

void explanation_free(Explanation *e);

/* Group the unmovable, unknown and hugetlb pages of words (n flag words
 * from start_pfn) into ranges of equal class and EXPLAIN_RANGE_FLAGS; keep
 * the first EXPLAIN_RANGES_MAX, count them all, and count the usage. Pure.
 * -ENOMEM, -EINVAL (bad zone). e's ranges are replaced. */
int explain_ranges(const uint64_t *words, size_t n, uint64_t start_pfn, KpfZoneKind zone,
                   Explanation *e);

/* Sum locations by process into holders, largest first (then lowest pid),
 * keeping EXPLAIN_HOLDERS_MAX. Pure. -ENOMEM. e's holders are replaced. */
int explain_holders(const PageLocations *l, Explanation *e);

/* "0::/system.slice/postgresql@15-main.service" → its unit,
 * "postgresql@15-main.service"; the innermost path component that is a
 * unit (service, scope, socket, mount, swap, slice) when the last is not
 * ("…/app.slice/foo.service/worker" names foo.service). 0, or -ENOENT when
 * the path names no unit ("/"). Pure. */
int cgroup_path_unit(const char *path, char *ret, size_t size);

/* The comm, owner and cgroup of one holder from procfs_fd/PID. A process
 * that is gone keeps empty fields; never fails. */
void explain_holder_describe(int procfs_fd, ExplainHolder *h);

/* All of it for one block: its flag words from kpageflags (ranges and
 * usage), the processes of user owner ((uid_t)-1: of everyone) that map
 * its pages, the caller itself left out, and their description. A failed
 * pagemap walk (no CAP_SYS_ADMIN: -EPERM) is kept in locate_error and the
 * ranges are still returned. -errno when kpageflags cannot be read,
 * -ENOMEM. *ret is overwritten. */
int explain_block(int procfs_fd, int kpf_fd, uint64_t start_pfn, uint64_t pages, KpfZoneKind zone,
                  uid_t owner, Explanation *ret);
