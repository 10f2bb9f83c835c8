/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * Classifying a /proc/kpageflags word
 * ===================================
 *
 * The first rule that matches wins (bit numbers from kernel-page-flags.h):
 *
 *  1. NOPAGE (20)                          -> NOPAGE   no struct page (hole,
 *                                                      offline section)
 *  2. BUDDY (10)                           -> FREE     every page of a free
 *     buddy chunk reads BUDDY, not only its head: stable_page_flags() also
 *     sets it when page_count() == 0 and is_free_buddy_page() finds the
 *     chunk containing the page.
 *  3. HUGE (17)                            -> HUGETLB  in use or free in the
 *     pool; head and tail both read HUGE (mapped head 0x400029808, tail
 *     0x31800; pool head 0x28000, tail 0x30000).
 *  4. SLAB (7), PGTABLE (26), RESERVED (32), ZERO_PAGE (24), OFFLINE (23),
 *     HWPOISON (19)                        -> UNMOVABLE
 *     Checked before the movable bits because they win over them: the zero
 *     page is "mapped" and RESERVED, the huge zero folio reads
 *     ZERO_PAGE|THP, a remap_pfn_range()d reserved page reads MMAP.
 *     OFFLINE marks logically offline pages (balloon, virtio-mem): a block
 *     full of them cannot be offlined. HWPOISON pages are skipped by the
 *     kernel's offline path, so calling them unmovable is conservative (a
 *     block holding one is left alone); they are rare.
 *  5. LRU (5), ANON (12), MMAP (11), SWAPCACHE (13), SWAPBACKED (14),
 *     KSM (21), THP (22)                   -> MOVABLE
 *     UNEVICTABLE (18) and MLOCKED (33) pages sit on the unevictable LRU and
 *     read LRU as well (mlocked pages are migrated); without LRU they mean
 *     nothing more than any other stray bit and fall to rule 7.
 *     A THP head reads 0x40040d828; a tail 0x411800 (MMAP|ANON|
 *     COMPOUND_TAIL|THP) on 6.1; since the folio conversion a tail reports
 *     its folio's flags (LRU, ...) too. THP covers any large rmappable
 *     folio, not only PMD-sized ones.
 *  6. flags == 0: in ZONE_MOVABLE -> FREE; in a kernel zone -> UNKNOWN.
 *     Free pages on the per-CPU lists read 0, not BUDDY. In ZONE_MOVABLE
 *     nothing else reads 0 for long (a page between allocation and its first
 *     mapping does, for microseconds). In kernel zones vmalloc pages, kernel
 *     stacks and other raw page allocations read 0 too, and so does memory
 *     whose struct pages the kernel has not initialised yet (deferred
 *     struct-page init: gigabytes on some machines). No flag tells them
 *     apart, so they get a class of their own: never free, never offlinable,
 *     and reconciled per zone against /proc/zoneinfo by the caller (present
 *     minus managed pages are not the allocator's; nr_free_pages minus the
 *     BUDDY count are per-CPU free pages).
 *  7. any other non-zero word: in ZONE_MOVABLE -> MOVABLE (only movable
 *     allocations live there, e.g. a page-cache page transiently off the LRU
 *     while it is migrated or sits in a per-CPU LRU-add batch); in a kernel
 *     zone -> UNMOVABLE (conservative: it may be kernel memory with
 *     PG_private or similar, and unmovable only makes us skip a block).
 *     Seen on a 6.18 host: 0x8000 / 0x10000 (head / tail of a kernel
 *     compound allocation, no other flag), 0x408 (BUDDY wins anyway).
 *
 * Bits this code does not know are ignored, never fatal: kernels add bits.
 *
 * Error bounds
 * ------------
 *  - Kernel zones, rule 6: UNKNOWN holds free pages on per-CPU lists (at
 *    most the sum of the "count:" lines under "pagesets" of the zone in
 *    /proc/zoneinfo: 4623 + 5046 pages, 38 MiB, in ZONE_NORMAL of a 2-CPU
 *    24 GiB host on 6.18), memory not handed to the allocator yet (present
 *    minus managed in /proc/zoneinfo: 19 GiB of that host's 21 GiB Normal
 *    zone), and kernel memory that carries no flag. UNMOVABLE no longer
 *    includes any of it.
 *  - PCI holes read 0 on some machines as well (UNKNOWN there); block
 *    state comes from sysfs.
 *  - MOVABLE counts pages the kernel *can* migrate in principle; pinned pages
 *    (DMA, io_uring fixed buffers) still read LRU/ANON. In kernel zones a
 *    driver page inserted into user space (vm_insert_page) reads MMAP without
 *    LRU and is counted movable. An offline attempt that fails with EBUSY is
 *    the ground truth.
 *  - ZONE_MOVABLE, rule 6: a page allocated but not yet mapped or put on the
 *    LRU reads 0 and counts free for that instant; movable_ops pages that
 *    are not on the LRU (zsmalloc) may read 0 or a stray bit.
 *  - The file is read in batches without any lock: a batch is a snapshot of
 *    nothing in particular; pages change class while we read. Counts are
 *    consistent in sum (every PFN is counted exactly once).
 *
 * Speed: kpf_count_words() turns six tests into a six-bit index and adds an
 * entry of a static table to a packed accumulator (four 16-bit counters in
 * one register; NOPAGE is the remainder): no data-dependent branch and no
 * store per page, except one branch per four words that skips groups equal
 * to the last word seen (flag words come in long runs). The kernel's cost
 * per word (30-120 ns) dwarfs it; bench/kpf-bench compares the scan with a
 * bare pread loop.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "kpageflags.h"
#include "util.h"

#define W_NOPAGE KPF_BIT(KPF_NOPAGE)
#define W_BUDDY  KPF_BIT(KPF_BUDDY)
#define W_HUGE   KPF_BIT(KPF_HUGE)
#define W_UNMOVABLE                                                                                \
        (KPF_BIT(KPF_SLAB) | KPF_BIT(KPF_PGTABLE) | KPF_BIT(KPF_RESERVED) |                        \
         KPF_BIT(KPF_ZERO_PAGE) | KPF_BIT(KPF_OFFLINE) | KPF_BIT(KPF_HWPOISON))
#define W_MOVABLE                                                                                  \
        (KPF_BIT(KPF_LRU) | KPF_BIT(KPF_ANON) | KPF_BIT(KPF_MMAP) | KPF_BIT(KPF_SWAPCACHE) |       \
         KPF_BIT(KPF_SWAPBACKED) | KPF_BIT(KPF_KSM) | KPF_BIT(KPF_THP))

/* Largest PFN whose byte offset fits in off_t. */
#define PFN_LIMIT ((uint64_t)INT64_MAX / KPF_WORD_SIZE)

static bool zone_valid(KpfZoneKind zone)
{
        return zone == KPF_ZONE_KERNEL || zone == KPF_ZONE_MOVABLE;
}

PageClass kpf_classify(uint64_t flags, KpfZoneKind zone)
{
        if (!zone_valid(zone))
                return _PAGE_CLASS_INVALID;
        if (flags & W_NOPAGE)
                return PAGE_NOPAGE;
        if (flags & W_BUDDY)
                return PAGE_FREE;
        if (flags & W_HUGE)
                return PAGE_HUGETLB;
        if (flags & W_UNMOVABLE)
                return PAGE_UNMOVABLE;
        if (flags & W_MOVABLE)
                return PAGE_MOVABLE;
        if (flags == 0)
                return zone == KPF_ZONE_MOVABLE ? PAGE_FREE : PAGE_UNKNOWN;
        return zone == KPF_ZONE_MOVABLE ? PAGE_MOVABLE : PAGE_UNMOVABLE;
}

const char *page_class_to_string(PageClass c)
{
        static const char *const names[_PAGE_CLASS_MAX] = {
            [PAGE_FREE] = "free",       [PAGE_MOVABLE] = "movable", [PAGE_UNMOVABLE] = "unmovable",
            [PAGE_HUGETLB] = "hugetlb", [PAGE_NOPAGE] = "nopage",  [PAGE_UNKNOWN] = "unknown",
        };

        if (c < 0 || c >= _PAGE_CLASS_MAX)
                return NULL;
        return names[c];
}

int kpf_flags_to_string(uint64_t flags, char *buf, size_t size)
{
        /* page-types' names (tools/mm/page-types.c), lower case */
        static const char *const names[64] = {
                [KPF_LOCKED] = "locked",         [KPF_ERROR] = "error",
                [KPF_REFERENCED] = "referenced", [KPF_UPTODATE] = "uptodate",
                [KPF_DIRTY] = "dirty",           [KPF_LRU] = "lru",
                [KPF_ACTIVE] = "active",         [KPF_SLAB] = "slab",
                [KPF_WRITEBACK] = "writeback",   [KPF_RECLAIM] = "reclaim",
                [KPF_BUDDY] = "buddy",           [KPF_MMAP] = "mmap",
                [KPF_ANON] = "anonymous",        [KPF_SWAPCACHE] = "swapcache",
                [KPF_SWAPBACKED] = "swapbacked", [KPF_COMPOUND_HEAD] = "compound_head",
                [KPF_COMPOUND_TAIL] = "compound_tail", [KPF_HUGE] = "huge",
                [KPF_UNEVICTABLE] = "unevictable", [KPF_HWPOISON] = "hwpoison",
                [KPF_NOPAGE] = "nopage",         [KPF_KSM] = "ksm",
                [KPF_THP] = "thp",               [KPF_OFFLINE] = "offline",
                [KPF_ZERO_PAGE] = "zero_page",   [KPF_IDLE] = "idle",
                [KPF_PGTABLE] = "pgtable",       [KPF_RESERVED] = "reserved",
                [KPF_MLOCKED] = "mlocked",       [KPF_MAPPEDTODISK] = "mappedtodisk",
                [KPF_PRIVATE] = "private",       [KPF_PRIVATE_2] = "private_2",
                [KPF_OWNER_PRIVATE] = "owner_private", [KPF_ARCH] = "arch",
                [KPF_UNCACHED] = "uncached",     [KPF_SOFTDIRTY] = "softdirty",
                [KPF_ARCH_2] = "arch_2",         [KPF_ARCH_3] = "arch_3",
        };
        size_t used = 0;
        int r = 0;

        if (!buf || size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (unsigned bit = 0; bit < 64; bit++) {
                char unknown[8];
                const char *name;
                int n;

                if (!(flags & KPF_BIT(bit)))
                        continue;
                name = names[bit];
                if (!name) {
                        snprintf(unknown, sizeof(unknown), "bit%u", bit);
                        name = unknown;
                }
                n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", name);
                if (n < 0 || (size_t)n >= size - used) {
                        buf[used] = '\0';
                        r = -ENOBUFS;
                        break;
                }
                used += (size_t)n;
        }
        return r;
}

/*
 * The fast path. Index bits, highest priority first:
 *   5 NOPAGE, 4 BUDDY, 3 HUGE, 2 any unmovable bit, 1 any movable bit,
 *   0 word != 0.
 * An entry is the increment of a packed accumulator: 12 bits each for free
 * (bits 0-11), movable (12-23), unmovable (24-35), hugetlb (36-47) and
 * unknown (48-59). NOPAGE adds nothing and is recovered as the remainder.
 */
#define LANE_BITS     12
#define LANE_MASK     ((UINT64_C(1) << LANE_BITS) - 1)
#define INC_FREE      (UINT64_C(1) << (0 * LANE_BITS))
#define INC_MOVABLE   (UINT64_C(1) << (1 * LANE_BITS))
#define INC_UNMOVABLE (UINT64_C(1) << (2 * LANE_BITS))
#define INC_HUGETLB   (UINT64_C(1) << (3 * LANE_BITS))
#define INC_UNKNOWN   (UINT64_C(1) << (4 * LANE_BITS))
#define INC_NOPAGE    UINT64_C(0)
#define PACKED_MAX    ((size_t)LANE_MASK) /* words per packed run */

/* Rules 1-7 on the index bits; zero/other are the zone-dependent rules 6/7. */
#define LUT_ENTRY(i, zero, other)                                                                  \
        ((i)&32   ? INC_NOPAGE                                                                     \
         : (i)&16 ? INC_FREE                                                                       \
         : (i)&8  ? INC_HUGETLB                                                                    \
         : (i)&4  ? INC_UNMOVABLE                                                                  \
         : (i)&2  ? INC_MOVABLE                                                                    \
         : (i)&1  ? (other)                                                                        \
                  : (zero))
#define LUT4(i, z, o)                                                                              \
        LUT_ENTRY((i), z, o), LUT_ENTRY((i) + 1, z, o), LUT_ENTRY((i) + 2, z, o),                  \
            LUT_ENTRY((i) + 3, z, o)
#define LUT16(i, z, o)                                                                             \
        LUT4((i), z, o), LUT4((i) + 4, z, o), LUT4((i) + 8, z, o), LUT4((i) + 12, z, o)
#define LUT64(z, o) LUT16(0, z, o), LUT16(16, z, o), LUT16(32, z, o), LUT16(48, z, o)

static const uint64_t lut[2][64] = {
    [KPF_ZONE_KERNEL] = {LUT64(INC_UNKNOWN, INC_UNMOVABLE)},
    [KPF_ZONE_MOVABLE] = {LUT64(INC_FREE, INC_MOVABLE)},
};

/* The three single-bit tests (NOPAGE 20, BUDDY 10, HUGE 17) gathered into
 * index bits 5, 4, 3 with one multiply: 2^43 moves bit 20 to 63, 2^52 bit 10
 * to 62, 2^44 bit 17 to 61; the cross products land on bits 53, 54 and 60
 * or beyond bit 63, so nothing carries into the top three bits. */
#define GATHER_MASK  (W_NOPAGE | W_BUDDY | W_HUGE)
#define GATHER_MAGIC ((UINT64_C(1) << 43) | (UINT64_C(1) << 52) | (UINT64_C(1) << 44))

static inline unsigned word_index(uint64_t f)
{
        unsigned hi = (unsigned)(((f & GATHER_MASK) * GATHER_MAGIC) >> 61);

        return hi << 3 | (unsigned)((f & W_UNMOVABLE) != 0) << 2 |
               (unsigned)((f & W_MOVABLE) != 0) << 1 | (unsigned)(f != 0);
}

/* Flag words come in long runs (a free max-order chunk is 1024 x 0x400, a
 * 2 MiB THP 512 near-identical words, uninitialised memory a long run of 0):
 * 6.5 M words of a 24 GiB host held 92 k runs. So four words at a time are
 * compared with the last word classified, and a group equal to it costs one
 * well-predicted branch; other groups take the branch-free table path (in
 * mixed regions the branch is just as predictable the other way). */
static void count_words(const uint64_t *restrict w, size_t n, const uint64_t *restrict table,
                        PageUsage *restrict acc)
{
        uint64_t last = 0, last_inc = table[word_index(0)];

        while (n > 0) {
                size_t m = n < PACKED_MAX ? n : PACKED_MAX;
                uint64_t p0 = 0, p1 = 0;
                uint64_t fr, mv, um, ht, uk;
                size_t i = 0;

                /* Two accumulators so consecutive adds do not wait on each
                 * other; together they hold m <= PACKED_MAX per field. */
                for (; i + 4 <= m; i += 4) {
                        uint64_t a = w[i], b = w[i + 1], c = w[i + 2], d = w[i + 3];

                        if (((a ^ last) | (b ^ last) | (c ^ last) | (d ^ last)) == 0) {
                                p0 += 4 * last_inc;
                                continue;
                        }
                        p0 += table[word_index(a)];
                        p1 += table[word_index(b)];
                        p0 += table[word_index(c)];
                        last_inc = table[word_index(d)];
                        p1 += last_inc;
                        last = d;
                }
                for (; i < m; i++)
                        p0 += table[word_index(w[i])];

#define LANE(p, k) ((p) >> ((k)*LANE_BITS) & LANE_MASK)
                fr = LANE(p0, 0) + LANE(p1, 0);
                mv = LANE(p0, 1) + LANE(p1, 1);
                um = LANE(p0, 2) + LANE(p1, 2);
                ht = LANE(p0, 3) + LANE(p1, 3);
                uk = LANE(p0, 4) + LANE(p1, 4);
#undef LANE
                acc->free += fr;
                acc->movable += mv;
                acc->unmovable += um;
                acc->hugetlb += ht;
                acc->unknown += uk;
                acc->nopage += m - (fr + mv + um + ht + uk);
                w += m;
                n -= m;
        }
}

int kpf_count_words(const uint64_t *words, size_t n, KpfZoneKind zone, PageUsage *acc)
{
        if (!zone_valid(zone) || !acc || (n > 0 && !words))
                return -EINVAL;
        count_words(words, n, lut[zone], acc);
        return 0;
}

int kpf_count_range(int fd, uint64_t start_pfn, uint64_t count, KpfZoneKind zone, uint64_t *buf,
                    size_t bufsize, PageUsage *ret)
{
        PageUsage u = {0};
        uint64_t pfn = start_pfn, left = count;
        size_t words;

        if (!zone_valid(zone) || !buf || !ret)
                return -EINVAL;
        /* The kernel rejects reads whose length or offset is not a multiple
         * of 8; a bad size here is the caller's bug. */
        if (bufsize < KPF_WORD_SIZE || bufsize % KPF_WORD_SIZE != 0 || bufsize > SSIZE_MAX)
                return -EINVAL;
        if (start_pfn > PFN_LIMIT || count > PFN_LIMIT - start_pfn)
                return -EINVAL;

        words = bufsize / KPF_WORD_SIZE;
        while (left > 0) {
                size_t want = (size_t)u64_min(left, words);
                ssize_t got = pread_full(fd, buf, want * KPF_WORD_SIZE, pfn * KPF_WORD_SIZE);
                size_t n;

                if (got < 0)
                        return (int)got;
                n = (size_t)got / KPF_WORD_SIZE;
                count_words(buf, n, lut[zone], &u);
                pfn += n;
                left -= n;
                if (n < want) {
                        /* End of file (past the last section, or a saved copy
                         * that is shorter; a trailing partial word too): no
                         * struct pages there. */
                        u.nopage += left;
                        left = 0;
                }
        }

        *ret = u;
        return 0;
}

/*
 * Why one PFN per 1024: on x86-64 the buddy allocator's largest order is 10
 * (MAX_PAGE_ORDER, formerly MAX_ORDER - 1), so a block that is entirely free
 * is a run of 1024-page chunks, each aligned to 1024 PFNs. Allocation takes
 * the smallest free chunk that fits (__rmqueue_smallest, or the fallback
 * path), and when it must split a larger one, expand() in mm/page_alloc.c
 * hands the upper halves (&page[size]) back to the free lists and returns
 * the low half: the caller gets the chunk's first page. A per-CPU list refill
 * (rmqueue_bulk) splits the same way and hands its pages out lowest first;
 * compaction_alloc() splits low-half first too. So the first use of an empty
 * block lands on a 1024-aligned PFN. We are confident of this for the
 * allocator as of 6.1-6.18 (high); it is still a statistical pre-filter, not
 * a proof of empty: once a chunk has been split, its first page can be
 * freed again while later pages stay in use, and the probe misses them. With
 * memory_hotplug.memmap_on_memory the first pages of a block hold its own
 * memmap and read as used, so such a block never probes empty (safe
 * direction: it is counted in full). Other architectures with a different
 * largest order need a different stride: the caller passes it.
 */
int kpf_probe_range(int fd, uint64_t start_pfn, uint64_t count, uint64_t stride, KpfZoneKind zone)
{
        uint64_t end, pfn;
        int used = 0;

        if (stride == 0 || !zone_valid(zone))
                return -EINVAL;
        if (start_pfn > PFN_LIMIT || count > PFN_LIMIT - start_pfn)
                return -EINVAL;
        if (count == 0)
                return 0;

        end = start_pfn + count;
        pfn = start_pfn % stride == 0 ? start_pfn : start_pfn + (stride - start_pfn % stride);
        if (pfn < start_pfn || pfn >= end)
                pfn = start_pfn; /* no aligned PFN in range (or overflow) */

        for (;;) {
                uint64_t w = 0;
                ssize_t n = pread_full(fd, &w, sizeof(w), pfn * KPF_WORD_SIZE);
                PageClass c;

                if (n < 0)
                        return (int)n;
                if (n < (ssize_t)sizeof(w))
                        break; /* past the end: no pages from here on */
                c = kpf_classify(w, zone);
                if (c != PAGE_FREE && c != PAGE_NOPAGE && used < INT_MAX)
                        used++;
                if (end - pfn <= stride)
                        break;
                pfn += stride;
        }
        return used;
}
