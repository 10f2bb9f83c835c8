/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* /proc/kpageflags: one 64-bit flag word per PFN. This module classifies
 * pages and counts them per range; it knows nothing of blocks or policy.
 * The classification rule and its error bounds are in kpageflags.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kernel-page-flags.h>

/* The "kernel hacking" bits are not in the uapi header (they are subject to
 * change, see Documentation/admin-guide/mm/pagemap.rst); numbers from
 * include/linux/kernel-page-flags.h. Guarded in case a header adds them. */
#ifndef KPF_RESERVED
#define KPF_RESERVED      32
#define KPF_MLOCKED       33
#define KPF_MAPPEDTODISK  34
#define KPF_PRIVATE       35
#define KPF_PRIVATE_2     36
#define KPF_OWNER_PRIVATE 37
#define KPF_ARCH          38
#define KPF_UNCACHED      39
#define KPF_SOFTDIRTY     40
#define KPF_ARCH_2        41
#define KPF_ARCH_3        42
#endif

#define KPF_BIT(n) (UINT64_C(1) << (n))

/* One flag word per PFN in the file. */
#define KPF_WORD_SIZE 8u

/* Probe stride for kpf_probe_range: the buddy allocator's largest chunk on
 * x86-64 (order 10 = 1024 pages; see kpageflags.c). */
#define KPF_PROBE_STRIDE 1024u

typedef enum PageClass {
        PAGE_FREE,      /* in the buddy allocator (or on a per-CPU list, see .c) */
        PAGE_MOVABLE,   /* user or page-cache page the kernel can migrate */
        PAGE_UNMOVABLE, /* slab, page tables, reserved, other kernel memory */
        PAGE_HUGETLB,   /* hugetlbfs page, in use or in the pool */
        PAGE_NOPAGE,    /* no struct page: hole, offline section */
        PAGE_UNKNOWN,   /* a zero word in a kernel zone: free, uninitialised or kernel memory */
        _PAGE_CLASS_MAX,
        _PAGE_CLASS_INVALID = -22,
} PageClass;

typedef struct PageUsage {
        uint64_t free;
        uint64_t movable;
        uint64_t unmovable;
        uint64_t hugetlb;
        uint64_t nopage;
        uint64_t unknown; /* kernel zones only: words that read 0 (see kpageflags.c) */
} PageUsage;

/* How a zero flag word is read: in ZONE_MOVABLE nothing but user memory and
 * free pages can live, so 0 is a free page on a per-CPU list; in kernel zones
 * it may also be vmalloc, a kernel stack, or memory the kernel has not
 * initialised yet: PAGE_UNKNOWN, reconciled per zone with /proc/zoneinfo. */
typedef enum KpfZoneKind {
        KPF_ZONE_KERNEL,
        KPF_ZONE_MOVABLE,
} KpfZoneKind;

/* Returns the class of one flag word, or _PAGE_CLASS_INVALID for a zone kind
 * that is neither KPF_ZONE_KERNEL nor KPF_ZONE_MOVABLE. */
PageClass kpf_classify(uint64_t flags, KpfZoneKind zone);
const char *page_class_to_string(PageClass c);
/* The flag names of a word, comma-separated, as page-types prints them
 * ("slab", "lru,anonymous", unknown bits as "bitN"); "" for 0. Always
 * NUL-terminated: -ENOBUFS when it had to stop at a whole name. */
int kpf_flags_to_string(uint64_t flags, char *buf, size_t size);

/* Add the classes of n flag words already in memory to *acc. Same rule as
 * kpf_classify, without a call per word. Returns 0 or -EINVAL (bad zone;
 * acc untouched). */
int kpf_count_words(const uint64_t *words, size_t n, KpfZoneKind zone, PageUsage *acc);

/* Count pages [start_pfn, start_pfn + count) read from fd (an open
 * /proc/kpageflags or a saved copy), using buf (bufsize bytes, a multiple of
 * 8, at least 8) for batched preads. Pages past the end of the file count as
 * NOPAGE. Returns 0, or -errno of a failed read, or -EINVAL for a bad
 * argument (ret untouched in both cases). */
int kpf_count_range(int fd, uint64_t start_pfn, uint64_t count, KpfZoneKind zone, uint64_t *buf,
                    size_t bufsize, PageUsage *ret);

/* Cheap probe of a range believed empty: read one flag word every stride
 * PFNs (the first PFN of each stride-aligned chunk; start_pfn itself when the
 * range holds no aligned PFN). Returns the number of probed pages that are
 * used (movable, unmovable, hugetlb or unknown; free and no-page do not count):
 * 0 = still looks empty. -errno on a failed read, -EINVAL for stride 0 or a
 * bad zone. A statistical pre-filter, not a proof of empty. */
int kpf_probe_range(int fd, uint64_t start_pfn, uint64_t count, uint64_t stride, KpfZoneKind zone);

/* Pages that are not known to be free or absent: an unknown page may be in
 * use, so a block holding one is not empty. */
static inline uint64_t page_usage_used(const PageUsage *u)
{
        return u->movable + u->unmovable + u->hugetlb + u->unknown;
}

static inline uint64_t page_usage_total(const PageUsage *u)
{
        return u->free + u->movable + u->unmovable + u->hugetlb + u->nopage + u->unknown;
}

/* Add one page of class c. Returns false (acc untouched) when c is no class. */
static inline bool page_usage_count(PageUsage *acc, PageClass c)
{
        switch (c) {
        case PAGE_FREE:
                acc->free++;
                return true;
        case PAGE_MOVABLE:
                acc->movable++;
                return true;
        case PAGE_UNMOVABLE:
                acc->unmovable++;
                return true;
        case PAGE_HUGETLB:
                acc->hugetlb++;
                return true;
        case PAGE_NOPAGE:
                acc->nopage++;
                return true;
        case PAGE_UNKNOWN:
                acc->unknown++;
                return true;
        default:
                return false;
        }
}

static inline bool page_usage_equal(const PageUsage *a, const PageUsage *b)
{
        return a->free == b->free && a->movable == b->movable && a->unmovable == b->unmovable &&
               a->hugetlb == b->hugetlb && a->nopage == b->nopage && a->unknown == b->unknown;
}

static inline void page_usage_add(PageUsage *acc, const PageUsage *u)
{
        acc->free += u->free;
        acc->movable += u->movable;
        acc->unmovable += u->unmovable;
        acc->hugetlb += u->hugetlb;
        acc->nopage += u->nopage;
        acc->unknown += u->unknown;
}
