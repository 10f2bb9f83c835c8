/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kernel-page-flags.h>

#include "fileio.h"
#include "pagemap.h"
#include "util.h"

#define PM_PRESENT  (UINT64_C(1) << 63)
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)

#define KPF(bit) (UINT64_C(1) << (bit))

/* A /proc/PID/maps larger than this is not a maps file. The kernel's default
 * vm.max_map_count (65530) gives a few MiB at most. */
#define MAPS_MAX_BYTES (256u * 1024u * 1024u)

/* PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h), spelled out here for
 * older headers: the ioctl returns the ranges of a process's address space
 * whose pages match a category, here "present". */
typedef struct PmPageRegion {
        uint64_t start, end, categories;
} PmPageRegion;

typedef struct PmScanArg {
        uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
        uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} PmScanArg;

#define PM_PAGE_IS_PRESENT (UINT64_C(1) << 3)
#define PM_PAGEMAP_SCAN    _IOWR('f', 16, PmScanArg)

/* Regions returned by one PAGEMAP_SCAN call (48 KiB); the most pages (256
 * MiB) and the widest span (1 GiB) one call walks, holding the process's
 * mmap_lock; and the largest hole between two ranges that is read rather
 * than skipped (2 KiB of pagemap). */
#define PM_SCAN_REGIONS   2048u
#define PM_SCAN_MAX_PAGES (64u * 1024u)
#define PM_SCAN_MAX_SPAN  (UINT64_C(1) << 30)
#define PM_SCAN_MERGE_GAP 256u

/* A process is walked through smaps (skipping VMAs with nothing resident)
 * when PAGEMAP_SCAN is not there and its address space is more than
 * SPARSE_RATIO times what it has resident and larger by SPARSE_MIN_PAGES. */
#define SPARSE_RATIO     4u
#define SPARSE_MIN_PAGES (16u * 1024u)

/* Largest folio whose head is looked for before the start of the range:
 * PMD order on 4 KiB pages. */
#define FOLIO_MAX_PAGES 512u

/* ---- maps parsing ---------------------------------------------------- */

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parse 1..16 hex digits at *p, advance *p. */
static int parse_hex(const char **p, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;
        unsigned n = 0;
        int d;

        while ((d = hexval(*s)) >= 0) {
                if (++n > 16)
                        return -EINVAL;
                v = (v << 4) | (uint64_t)d;
                s++;
        }
        if (n == 0)
                return -EINVAL;
        *p = s;
        *ret = v;
        return 0;
}

static int parse_dec(const char **p, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;
        unsigned n = 0;

        while (*s >= '0' && *s <= '9') {
                unsigned d = (unsigned)(*s - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
                s++;
                n++;
        }
        if (n == 0)
                return -EINVAL;
        *p = s;
        *ret = v;
        return 0;
}

static bool is_eol(char c)
{
        return c == '\0' || c == '\n';
}

int maps_parse_line(const char *line, MapsEntry *ret)
{
        static const char perm_ok[4][2] = {{'r', '-'}, {'w', '-'}, {'x', '-'}, {'p', 's'}};
        MapsEntry e = {};
        const char *p = line, *end;
        uint64_t v;

        if (!line || !ret)
                return -EINVAL;

        if (parse_hex(&p, &e.start) < 0 || *p++ != '-')
                return -EINVAL;
        if (parse_hex(&p, &e.end) < 0 || *p++ != ' ')
                return -EINVAL;
        if (e.start >= e.end)
                return -EINVAL;

        for (unsigned i = 0; i < 4; i++) {
                if (p[i] != perm_ok[i][0] && p[i] != perm_ok[i][1])
                        return -EINVAL;
                e.perms[i] = p[i];
        }
        e.perms[4] = '\0';
        p += 4;
        if (*p++ != ' ')
                return -EINVAL;

        if (parse_hex(&p, &e.offset) < 0 || *p++ != ' ')
                return -EINVAL;

        if (parse_hex(&p, &v) < 0 || v > UINT32_MAX || *p++ != ':')
                return -EINVAL;
        e.dev_major = (uint32_t)v;
        if (parse_hex(&p, &v) < 0 || v > UINT32_MAX || *p++ != ' ')
                return -EINVAL;
        e.dev_minor = (uint32_t)v;

        if (parse_dec(&p, &e.inode) < 0)
                return -EINVAL;

        /* The kernel pads with spaces up to a column, then writes the name.
         * Names of files start with '/', the others with '[' or a word
         * ("anon_inode:…"), so no name begins with a blank. */
        if (!is_eol(*p)) {
                if (*p != ' ')
                        return -EINVAL;
                while (*p == ' ' || *p == '\t')
                        p++;
        }
        if (!is_eol(*p)) {
                static const char deleted[] = " (deleted)";
                const size_t dl = sizeof(deleted) - 1;

                end = p;
                while (!is_eol(*end))
                        end++;
                e.path = p;
                e.path_len = (size_t)(end - p);
                if (e.path_len > dl && memcmp(end - dl, deleted, dl) == 0) {
                        e.deleted = true;
                        e.path_len -= dl;
                }
        }

        *ret = e;
        return 0;
}

static bool path_is(const MapsEntry *e, const char *name)
{
        size_t l = strlen(name);

        return e->path && !e->deleted && e->path_len == l && memcmp(e->path, name, l) == 0;
}

bool maps_entry_is_migratable(const MapsEntry *e)
{
        static const char *const special[] = {
            "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]",
        };

        if (!e)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                if (path_is(e, special[i]))
                        return false;
        return true;
}

/* ---- results --------------------------------------------------------- */

void page_locations_free(PageLocations *l)
{
        if (!l)
                return;
        free(l->items);
        *l = (PageLocations){};
}

static int locations_append(PageLocations *l, pid_t pid, uint64_t addr)
{
        if (l->n_items == l->n_allocated) {
                size_t n = l->n_allocated ? l->n_allocated * 2 : 256;
                PageLocation *p;

                if (n > SIZE_MAX / sizeof(PageLocation))
                        return -ENOMEM;
                p = realloc(l->items, n * sizeof(PageLocation));
                if (!p)
                        return -ENOMEM;
                l->items = p;
                l->n_allocated = n;
        }
        l->items[l->n_items++] = (PageLocation){.pid = pid, .pages = 1, .addr = addr};
        return 0;
}

static int location_cmp(const void *a, const void *b)
{
        const PageLocation *x = a, *y = b;

        if (x->pid != y->pid)
                return x->pid < y->pid ? -1 : 1;
        if (x->addr != y->addr)
                return x->addr < y->addr ? -1 : 1;
        return 0;
}

static void locations_sort_unique(PageLocations *l)
{
        size_t w = 0;

        if (l->n_items == 0)
                return;
        qsort(l->items, l->n_items, sizeof(PageLocation), location_cmp);
        for (size_t r = 1; r < l->n_items; r++) {
                if (location_cmp(&l->items[w], &l->items[r]) != 0)
                        l->items[++w] = l->items[r];
                else if (l->items[r].pages > l->items[w].pages)
                        l->items[w].pages = l->items[r].pages; /* one folio, seen twice */
        }
        l->n_items = w + 1;
}

/* ---- kpageflags ------------------------------------------------------ */

static int kpf_read_words(int fd, uint64_t start_pfn, uint64_t count, uint64_t *buf)
{
        uint64_t done = 0;

        while (done < count) {
                uint64_t n = u64_min(count - done, PAGEMAP_CHUNK_ENTRIES);
                ssize_t r = pread_full(fd, buf + done, n * 8, (start_pfn + done) * 8);

                if (r < 0)
                        return (int)r;
                /* Past the end of the file: no page. */
                memset((char *)(buf + done) + r, 0, n * 8 - (size_t)r);
                done += n;
        }
        return 0;
}

static int range_check(uint64_t start_pfn, uint64_t count)
{
        if (count == 0 || start_pfn > PM_PFN_MASK || count > PM_PFN_MASK + 1 - start_pfn)
                return -EINVAL;
        /* The flag array is indexed with size_t. */
        if (count > SIZE_MAX / 8)
                return -EINVAL;
        return 0;
}

static int kpf_read_range(int fd, uint64_t start_pfn, uint64_t count, uint64_t **ret)
{
        _cleanup_free_ uint64_t *buf = NULL;
        int r;

        buf = malloc(count * 8);
        if (!buf)
                return -ENOMEM;
        r = kpf_read_words(fd, start_pfn, count, buf);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ---- the walk -------------------------------------------------------- */

typedef struct Target {
        uint64_t start_pfn;
        uint64_t count;
        const uint64_t *kpf; /* flag words of the range, or NULL */
        int kpf_fd;          /* for flag words outside the range, or -1 */
        uint64_t *buf;       /* PAGEMAP_CHUNK_ENTRIES pagemap entries */
        PmPageRegion *regions; /* PM_SCAN_REGIONS, for PAGEMAP_SCAN */
        uint64_t page_size;
        unsigned flags;        /* PagemapLocateFlags */
        int scan_state;        /* SCAN_UNKNOWN, SCAN_WORKS or SCAN_UNSUPPORTED */
} Target;

enum {
        SCAN_UNKNOWN,
        SCAN_WORKS,
        SCAN_UNSUPPORTED,
};

static bool target_has(const Target *t, uint64_t pfn)
{
        return pfn - t->start_pfn < t->count;
}

/* Flag word of pfn, from the range array or read; 0 when unknown. */
static uint64_t target_flags(const Target *t, uint64_t pfn)
{
        uint64_t w = 0;

        if (target_has(t, pfn))
                return t->kpf ? t->kpf[pfn - t->start_pfn] : 0;
        if (t->kpf_fd < 0 || pfn > PM_PFN_MASK)
                return 0;
        if (pread_full(t->kpf_fd, &w, 8, pfn * 8) != 8)
                return 0;
        return w;
}

/* Entry i of buf is a tail page of a folio not yet reported. Walk back over
 * the entries that map the preceding PFNs (the folio's head and earlier
 * tails lie before the range) and return the index of the head, or of the
 * earliest tail reachable in this buffer. Any address of a folio makes
 * move_pages move it whole; the head's is what the design asks for. */
static size_t folio_head_index(const Target *t, size_t i)
{
        uint64_t pfn = t->buf[i] & PM_PFN_MASK;
        size_t best = i;

        for (size_t k = 1; k <= i && k < FOLIO_MAX_PAGES; k++) {
                uint64_t e = t->buf[i - k], f;

                if (!(e & PM_PRESENT) || (e & PM_PFN_MASK) != pfn - k)
                        break;
                f = target_flags(t, pfn - k);
                if (f & KPF(KPF_COMPOUND_HEAD))
                        return i - k;
                if (!(f & KPF(KPF_COMPOUND_TAIL)))
                        break;
                best = i - k;
        }
        return best;
}

typedef struct PidScan {
        uint64_t present;     /* present entries seen */
        bool pfn_seen;        /* some present entry had a PFN != 0 */
        uint64_t reads;       /* preads that returned data */
        uint64_t empty_reads; /* preads that returned nothing */
        uint64_t bytes;
        uint64_t scans;        /* PAGEMAP_SCAN calls */
        uint64_t vmas_skipped; /* VMAs smaps showed with nothing resident */
} PidScan;

/* Read the pagemap entries of virtual pages [first, last) and report those
 * in the range. *prev_pfn: the PFN of the virtual page before first, if it
 * was reported or covered, else UINT64_MAX; updated. Returns 0, 1 at the end
 * of the address space (a short read), or -errno that ends the process. */
static int scan_range(const Target *t, int pagemap_fd, pid_t pid, uint64_t first, uint64_t last,
                      PageLocations *acc, PidScan *s, uint64_t *ret_prev_pfn)
{
        uint64_t prev_pfn = *ret_prev_pfn;
        int r;

        for (uint64_t vp = first; vp < last;) {
                uint64_t n = u64_min(last - vp, PAGEMAP_CHUNK_ENTRIES);
                ssize_t got;
                size_t entries;

                if (vp > (uint64_t)INT64_MAX / 8)
                        return 0;
                got = pread_full(pagemap_fd, t->buf, n * 8, vp * 8);
                if (got < 0) {
                        if (got == -ENOMEM || got == -ESRCH || got == -ENOENT)
                                return (int)got;
                        return 0; /* the VMA went away or cannot be read: skip it */
                }
                s->bytes += (uint64_t)got;
                if (got == 0) {
                        s->empty_reads++;
                        return 0;
                }
                s->reads++;
                entries = (size_t)got / 8;

                for (size_t i = 0; i < entries; i++) {
                        uint64_t e = t->buf[i], pfn, flags;
                        size_t at = i;

                        if (!(e & PM_PRESENT)) {
                                prev_pfn = UINT64_MAX;
                                continue;
                        }
                        s->present++;
                        pfn = e & PM_PFN_MASK;
                        if (pfn != 0)
                                s->pfn_seen = true;
                        if (!target_has(t, pfn)) {
                                prev_pfn = UINT64_MAX;
                                continue;
                        }
                        if (t->kpf) {
                                flags = t->kpf[pfn - t->start_pfn];
                                if (flags & KPF(KPF_ZERO_PAGE)) {
                                        prev_pfn = UINT64_MAX;
                                        continue;
                                }
                                if (flags & KPF(KPF_COMPOUND_TAIL)) {
                                        if (prev_pfn != UINT64_MAX && pfn == prev_pfn + 1) {
                                                /* Same folio as the page before. */
                                                if (acc->n_items > 0 &&
                                                    acc->items[acc->n_items - 1].pid == pid)
                                                        acc->items[acc->n_items - 1].pages++;
                                                prev_pfn = pfn;
                                                continue;
                                        }
                                        at = folio_head_index(t, i);
                                }
                        }
                        r = locations_append(acc, pid, (vp + at) * t->page_size);
                        if (r < 0)
                                return r;
                        prev_pfn = pfn;
                }
                *ret_prev_pfn = prev_pfn;
                if (entries < n)
                        return 1; /* short read: the end of the address space */
                vp += n;
        }
        return 0;
}

/* Only the present ranges of [first, last), as PAGEMAP_SCAN gives them.
 * Ranges less than PM_SCAN_MERGE_GAP pages apart are read as one: a pread
 * costs more than the entries of a small hole. Returns 0, -EOPNOTSUPP when
 * the ioctl failed and the VMA is to be read whole, or -errno that ends the
 * process. */
static int scan_present(Target *t, int pagemap_fd, pid_t pid, uint64_t first, uint64_t last,
                        PageLocations *acc, PidScan *s)
{
        uint64_t at = first * t->page_size, end = last * t->page_size;
        uint64_t run_start = 0, run_end = 0; /* pages, [run_start, run_end) not yet read */
        uint64_t prev_pfn;
        int r;

        while (at < end) {
                PmScanArg a = {
                    .size = sizeof(a),
                    .start = at,
                    .end = end,
                    .vec = (uint64_t)(uintptr_t)t->regions,
                    .vec_len = PM_SCAN_REGIONS,
                    .max_pages = PM_SCAN_MAX_PAGES,
                    .category_mask = PM_PAGE_IS_PRESENT,
                    .return_mask = PM_PAGE_IS_PRESENT,
                };
                long n;

                /* One call holds the process's mmap_lock for its whole
                 * walk: bounded by pages found and by span. */
                if (a.end - a.start > PM_SCAN_MAX_SPAN)
                        a.end = a.start + PM_SCAN_MAX_SPAN;
                n = ioctl(pagemap_fd, PM_PAGEMAP_SCAN, &a);
                if (n < 0) {
                        r = -errno;
                        if (r == -ENOMEM || r == -ESRCH || r == -ENOENT)
                                return r;
                        /* Anything else (an LSM, a seccomp filter): read this
                         * VMA's pagemap whole rather than miss its pages
                         * (what is reported twice, move_pages tolerates). */
                        return -EOPNOTSUPP;
                }
                s->scans++;
                for (long i = 0; i < n && i < (long)PM_SCAN_REGIONS; i++) {
                        const PmPageRegion *g = &t->regions[i];
                        uint64_t gs = g->start / t->page_size, ge = g->end / t->page_size;

                        if (gs >= ge || g->start < at || g->end > a.end)
                                continue;
                        /* A call that stopped at a full vector may give the
                         * last range again, whole or in part. */
                        if (ge <= run_end)
                                continue;
                        gs = u64_max(gs, run_end);
                        if (run_end > run_start && gs < run_end + PM_SCAN_MERGE_GAP &&
                            gs >= run_end) {
                                run_end = ge;
                                continue;
                        }
                        if (run_end > run_start) {
                                prev_pfn = UINT64_MAX; /* a hole before: no folio spans it */
                                r = scan_range(t, pagemap_fd, pid, run_start, run_end, acc, s,
                                               &prev_pfn);
                                if (r != 0)
                                        return r < 0 ? r : 0;
                        }
                        run_start = gs;
                        run_end = ge;
                }
                if (a.walk_end <= at || a.walk_end > a.end)
                        break; /* no progress: do not spin */
                at = a.walk_end;
        }
        if (run_end > run_start) {
                prev_pfn = UINT64_MAX;
                r = scan_range(t, pagemap_fd, pid, run_start, run_end, acc, s, &prev_pfn);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether the kernel has PAGEMAP_SCAN: one call on this process's own
 * pagemap (never another's: see locate_pid) over the first page of the
 * address space, which nothing maps. Any failure, or no "self" below the
 * procfs root, means without. */
static void scan_probe(Target *t, int procfs_fd)
{
        _cleanup_close_ int fd = -1;
        PmScanArg a = {
            .size = sizeof(a),
            .start = 0,
            .end = t->page_size,
            .vec = (uint64_t)(uintptr_t)t->regions,
            .vec_len = 1,
            .category_mask = PM_PAGE_IS_PRESENT,
            .return_mask = PM_PAGE_IS_PRESENT,
        };

        t->scan_state = SCAN_UNSUPPORTED;
        if (t->flags & (PAGEMAP_LOCATE_FULL_WALK | PAGEMAP_LOCATE_NO_SCAN))
                return;
        fd = openat(procfs_fd, "self/pagemap", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 && ioctl(fd, PM_PAGEMAP_SCAN, &a) >= 0)
                t->scan_state = SCAN_WORKS;
}

static int scan_vma(Target *t, int pagemap_fd, pid_t pid, const MapsEntry *m, PageLocations *acc,
                    PidScan *s)
{
        uint64_t first = m->start / t->page_size;
        uint64_t last = m->end / t->page_size + (m->end % t->page_size != 0); /* exclusive */
        uint64_t prev_pfn = UINT64_MAX;
        int r;

        if (!(t->flags & (PAGEMAP_LOCATE_FULL_WALK | PAGEMAP_LOCATE_NO_SCAN)) &&
            t->scan_state == SCAN_WORKS) {
                r = scan_present(t, pagemap_fd, pid, first, last, acc, s);
                if (r != -EOPNOTSUPP)
                        return r;
        }
        r = scan_range(t, pagemap_fd, pid, first, last, acc, s, &prev_pfn);
        return r < 0 ? r : 0;
}

static int classify_open_error(int err)
{
        /* ESRCH from a zombie's files, ENOENT once the directory is gone. */
        if (err == -ENOENT || err == -ESRCH)
                return -ESRCH;
        return err;
}

/* Whether /proc/PID/statm shows an address space much larger than what is
 * resident: then smaps, which says per VMA what is resident, costs less than
 * reading pagemap for every virtual page. False when statm cannot be read. */
static bool process_is_sparse(int dirfd)
{
        char buf[256];
        uint64_t size = 0, resident = 0;
        ssize_t n;
        int fd;

        fd = openat(dirfd, "statm", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        n = pread_full(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        if (sscanf(buf, "%" SCNu64 " %" SCNu64, &size, &resident) != 2)
                return false;
        return size > resident && size - resident >= SPARSE_MIN_PAGES &&
               size / SPARSE_RATIO > resident;
}

/* The kB of an smaps field line "NAME:   123 kB" whose name is one of
 * those that say pages are mapped (Rss, and the hugetlb pages Rss leaves
 * out), or -1 for any other line. */
static int64_t smaps_resident_kb(const char *line, const char *end)
{
        static const char *const fields[] = {"Rss:", "Private_Hugetlb:", "Shared_Hugetlb:"};
        const char *p = NULL;
        uint64_t v;

        for (size_t k = 0; k < ELEMENTSOF(fields) && !p; k++) {
                size_t n = strlen(fields[k]);

                if ((size_t)(end - line) > n && memcmp(line, fields[k], n) == 0)
                        p = line + n;
        }
        if (!p)
                return -1;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (p >= end || *p < '0' || *p > '9')
                return -1;
        if (parse_dec(&p, &v) < 0 || v > INT64_MAX)
                return -1;
        return (int64_t)v;
}

static int walk_vma(Target *t, int pagemap_fd, int pagemap_err, pid_t pid, const MapsEntry *m,
                    PageLocations *acc, PidScan *s, uint64_t *vmas)
{
        if (pagemap_fd < 0)
                return classify_open_error(pagemap_err);
        (*vmas)++;
        return scan_vma(t, pagemap_fd, pid, m, acc, s);
}

static int locate_pid(int procfs_fd, pid_t pid, Target *t, PageLocations *acc)
{
        _cleanup_close_ int dirfd = -1, pagemap_fd = -1;
        _cleanup_free_ char *maps = NULL;
        size_t maps_len = 0, before = acc->n_items;
        uint64_t vmas = 0, resident_kb = 0;
        bool smaps, pending = false;
        MapsEntry m = {};
        PidScan s = {};
        char name[16];
        int r = 0, pagemap_err = 0;

        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int)pid);
        /* Open the files through the PID directory so that both belong to
         * the same process even if the PID is reused meanwhile. pagemap
         * before maps: a pagemap opened once the process has no memory (a
         * kernel thread, an exiting process) goes with an empty maps, so it
         * is never handed to PAGEMAP_SCAN (on 6.7-6.14 that oopses). Opening
         * it may fail for kernel threads (ESRCH): only an error if maps
         * lists anything. */
        dirfd = openat(procfs_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return classify_open_error(-errno);
        pagemap_fd = openat(dirfd, "pagemap", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (pagemap_fd < 0)
                pagemap_err = -errno;

        /* Without PAGEMAP_SCAN (or asked to do without), a sparse process is
         * read through smaps: its lines are maps lines, each followed by the
         * VMA's fields; a VMA with no Rss and no hugetlb pages is skipped.
         * An smaps too large to hold is read as maps, every page. */
        smaps = !(t->flags & PAGEMAP_LOCATE_FULL_WALK) &&
                (t->scan_state == SCAN_UNSUPPORTED || (t->flags & PAGEMAP_LOCATE_NO_SCAN)) &&
                process_is_sparse(dirfd);
        if (smaps) {
                r = file_read_all_at(dirfd, "smaps", MAPS_MAX_BYTES / 4, &maps, &maps_len);
                if (r == -EFBIG || r == -ENOMEM) {
                        smaps = false;
                        free(TAKE_PTR(maps));
                }
        }
        if (!smaps)
                r = file_read_all_at(dirfd, "maps", MAPS_MAX_BYTES, &maps, &maps_len);
        if (r < 0)
                return classify_open_error(r);

        for (const char *line = maps, *end = maps + maps_len; line <= end;) {
                const char *nl = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;
                const char *eol = nl ? nl : end;
                MapsEntry next;
                bool header = line < end && maps_parse_line(line, &next) >= 0;

                if (smaps && pending && (header || line == end)) {
                        /* The fields of the VMA before are all read. */
                        pending = false;
                        if (resident_kb == 0)
                                s.vmas_skipped++;
                        else {
                                r = walk_vma(t, pagemap_fd, pagemap_err, pid, &m, acc, &s, &vmas);
                                if (r < 0)
                                        goto fail;
                        }
                }
                if (header) {
                        m = next;
                        resident_kb = 0;
                        pending = smaps && maps_entry_is_migratable(&m);
                        if (!smaps && maps_entry_is_migratable(&m)) {
                                r = walk_vma(t, pagemap_fd, pagemap_err, pid, &m, acc, &s, &vmas);
                                if (r < 0)
                                        goto fail;
                        }
                } else if (pending) {
                        int64_t kb = smaps_resident_kb(line, eol);

                        if (kb > 0)
                                resident_kb += (uint64_t)kb;
                }
                if (!nl)
                        break;
                line = nl + 1;
        }

        /* Without CAP_SYS_ADMIN every PFN reads 0; PFN 0 itself is never
         * user memory. */
        if (s.present > 0 && !s.pfn_seen) {
                r = -EPERM;
                goto fail;
        }
        /* The mm went away: pagemap reads nothing once the process exited. */
        if (vmas > 0 && s.reads == 0 && s.empty_reads > 0) {
                r = -ESRCH;
                goto fail;
        }

        acc->processes_scanned++;
        acc->pagemap_bytes += s.bytes;
        acc->pagemap_scans += s.scans;
        acc->vmas_skipped += s.vmas_skipped;
        acc->processes_smaps += smaps;
        acc->pages_found += acc->n_items - before;
        return (int)u64_min(acc->n_items - before, INT_MAX);

fail:
        acc->n_items = before;
        return r;
}

static void target_done(Target *t)
{
        free((uint64_t *)t->kpf);
        free(t->buf);
        free(t->regions);
        *t = (Target){};
}

static int target_init(Target *t, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                       unsigned flags)
{
        _cleanup_free_ uint64_t *kpf = NULL, *buf = NULL;
        _cleanup_free_ PmPageRegion *regions = NULL;
        long ps = sysconf(_SC_PAGESIZE);
        int r;

        r = range_check(start_pfn, count);
        if (r < 0)
                return r;
        if (kpageflags_fd >= 0) {
                r = kpf_read_range(kpageflags_fd, start_pfn, count, &kpf);
                if (r < 0)
                        return r;
        }
        buf = malloc(PAGEMAP_CHUNK_ENTRIES * 8);
        regions = calloc(PM_SCAN_REGIONS, sizeof(PmPageRegion));
        if (!buf || !regions)
                return -ENOMEM;
        *t = (Target){
            .start_pfn = start_pfn,
            .count = count,
            .kpf = TAKE_PTR(kpf),
            .kpf_fd = kpageflags_fd,
            .buf = TAKE_PTR(buf),
            .regions = TAKE_PTR(regions),
            .page_size = ps > 0 ? (uint64_t)ps : 4096,
            .flags = flags,
        };
        return 0;
}

int pagemap_locate_pid(int procfs_fd, pid_t pid, int kpageflags_fd, uint64_t start_pfn,
                       uint64_t count, unsigned flags, PageLocations *acc)
{
        _cleanup_(target_done) Target t = {};
        int r;

        if (procfs_fd < 0 || !acc)
                return -EINVAL;
        r = target_init(&t, kpageflags_fd, start_pfn, count, flags);
        if (r < 0)
                return r;
        scan_probe(&t, procfs_fd);
        return locate_pid(procfs_fd, pid, &t, acc);
}

static bool parse_pid(const char *s, pid_t *ret)
{
        uint64_t v = 0;

        if (*s == '\0' || *s == '0')
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
                if (v > INT_MAX)
                        return false;
        }
        *ret = (pid_t)v;
        return true;
}

int pagemap_locate_range(int procfs_fd, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                         unsigned flags, PageLocations *ret)
{
        return pagemap_locate_range_of(procfs_fd, kpageflags_fd, start_pfn, count, flags,
                                       (uid_t)-1, ret);
}

int pagemap_locate_range_of(int procfs_fd, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                            unsigned flags, uid_t owner, PageLocations *ret)
{
        _cleanup_(page_locations_free) PageLocations acc = {};
        _cleanup_(target_done) Target t = {};
        pid_t self = getpid();
        struct dirent *de;
        DIR *d;
        int fd, r;

        if (procfs_fd < 0 || !ret)
                return -EINVAL;
        r = target_init(&t, kpageflags_fd, start_pfn, count, flags);
        if (r < 0)
                return r;
        scan_probe(&t, procfs_fd);

        fd = openat(procfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }

        for (;;) {
                pid_t pid;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = errno ? -errno : 0;
                        break;
                }
                /* A link to a process directory counts too: a root made of
                 * a few such links stands for a procfs with only them. */
                if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
                        continue;
                if (!parse_pid(de->d_name, &pid))
                        continue;
                if ((flags & PAGEMAP_LOCATE_SKIP_SELF) && pid == self)
                        continue;
                if (owner != (uid_t)-1) {
                        struct stat st;

                        /* the owner of /proc/PID is the process's user */
                        if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || st.st_uid != owner)
                                continue;
                }

                r = locate_pid(procfs_fd, pid, &t, &acc);
                if (r >= 0)
                        continue;
                if (r == -ESRCH || r == -ENOENT)
                        acc.processes_gone++;
                else if (r == -ENOMEM || r == -EPERM)
                        break; /* EPERM: the caller lacks CAP_SYS_ADMIN, all would read 0 */
                else
                        acc.processes_denied++; /* EACCES, or any other unreadable file */
                r = 0;
        }
        closedir(d);
        if (r < 0)
                return r;

        locations_sort_unique(&acc);
        acc.pages_found = acc.n_items;
        *ret = acc;
        acc = (PageLocations){};
        return (int)u64_min(ret->n_items, INT_MAX);
}
