/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* /proc/kpageflags: one 64-bit flag word per PFN. This module classifies
 * pages and counts them per range; it knows nothing of blocks or policy. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PageClass {
        PAGE_FREE,      /* in the buddy allocator (or on a per-CPU list, see .c) */
        PAGE_MOVABLE,   /* user or page-cache page the kernel can migrate */
        PAGE_UNMOVABLE, /* slab, page tables, reserved, other kernel memory */
        PAGE_HUGETLB,   /* hugetlbfs page, in use or in the pool */
        PAGE_NOPAGE,    /* no struct page: hole, offline section */
        _PAGE_CLASS_MAX,
        _PAGE_CLASS_INVALID = -22,
} PageClass;

typedef struct PageUsage {
        uint64_t free;
        uint64_t movable;
        uint64_t unmovable;
        uint64_t hugetlb;
        uint64_t nopage;
} PageUsage;

/* How a zero flag word is read: in ZONE_MOVABLE nothing but user memory and
 * free pages can live, so 0 is a free page on a per-CPU list; in kernel zones
 * it may also be vmalloc or a kernel stack. */
typedef enum KpfZoneKind {
        KPF_ZONE_KERNEL,
        KPF_ZONE_MOVABLE,
} KpfZoneKind;

PageClass kpf_classify(uint64_t flags, KpfZoneKind zone);
const char *page_class_to_string(PageClass c);

/* Count pages [start_pfn, start_pfn + count) read from fd (an open
 * /proc/kpageflags or a saved copy), using buf (bufsize bytes, a multiple of
 * 8) for batched preads. Pages past the end of the file count as NOPAGE.
 * Returns 0, or -errno of a failed read (ret untouched). */
int kpf_count_range(int fd, uint64_t start_pfn, uint64_t count, KpfZoneKind zone, uint64_t *buf,
                    size_t bufsize, PageUsage *ret);

/* Cheap probe of a range believed empty: read one flag word every stride
 * PFNs (the first PFN of each stride-aligned chunk). Returns the number of
 * probed pages that are not free (0 = still looks empty), or -errno. */
int kpf_probe_range(int fd, uint64_t start_pfn, uint64_t count, uint64_t stride, KpfZoneKind zone);

static inline uint64_t page_usage_used(const PageUsage *u)
{
        return u->movable + u->unmovable + u->hugetlb;
}

static inline void page_usage_add(PageUsage *acc, const PageUsage *u)
{
        acc->free += u->free;
        acc->movable += u->movable;
        acc->unmovable += u->unmovable;
        acc->hugetlb += u->hugetlb;
        acc->nopage += u->nopage;
}
