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
        l->items[l->n_items++] = (PageLocation){.pid = pid, .addr = addr};
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
        for (size_t r = 1; r < l->n_items; r++)
                if (location_cmp(&l->items[w], &l->items[r]) != 0)
                        l->items[++w] = l->items[r];
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
        uint64_t page_size;
} Target;

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
} PidScan;

static int scan_vma(const Target *t, int pagemap_fd, pid_t pid, const MapsEntry *m,
                    PageLocations *acc, PidScan *s)
{
        uint64_t first = m->start / t->page_size;
        uint64_t last = m->end / t->page_size + (m->end % t->page_size != 0); /* exclusive */
        /* PFN of the previous virtual page, if it was reported or covered. */
        uint64_t prev_pfn = UINT64_MAX;
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
                if (entries < n)
                        return 0; /* short read: the end of the address space */
                vp += n;
        }
        return 0;
}

static int classify_open_error(int err)
{
        /* ESRCH from a zombie's files, ENOENT once the directory is gone. */
        if (err == -ENOENT || err == -ESRCH)
                return -ESRCH;
        return err;
}

static int locate_pid(int procfs_fd, pid_t pid, const Target *t, PageLocations *acc)
{
        _cleanup_close_ int dirfd = -1, pagemap_fd = -1;
        _cleanup_free_ char *maps = NULL;
        size_t maps_len = 0, before = acc->n_items;
        uint64_t vmas = 0;
        PidScan s = {};
        char name[16];
        int r = 0;

        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int)pid);
        /* Open the files through the PID directory so that both belong to
         * the same process even if the PID is reused meanwhile. maps first:
         * it is empty for kernel threads and zombies. */
        dirfd = openat(procfs_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return classify_open_error(-errno);
        r = file_read_all_at(dirfd, "maps", MAPS_MAX_BYTES, &maps, &maps_len);
        if (r < 0)
                return classify_open_error(r);

        for (const char *line = maps, *end = maps + maps_len; line < end;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                MapsEntry m;

                if (maps_parse_line(line, &m) >= 0 && maps_entry_is_migratable(&m)) {
                        /* Opened only now: a kernel thread (empty maps) has
                         * no pagemap to open (ESRCH). */
                        if (pagemap_fd < 0) {
                                pagemap_fd =
                                    openat(dirfd, "pagemap", O_RDONLY | O_CLOEXEC | O_NOCTTY);
                                if (pagemap_fd < 0) {
                                        r = classify_open_error(-errno);
                                        goto fail;
                                }
                        }
                        vmas++;
                        r = scan_vma(t, pagemap_fd, pid, &m, acc, &s);
                        if (r < 0)
                                goto fail;
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
        acc->pages_found += acc->n_items - before;
        return (int)u64_min(acc->n_items - before, INT_MAX);

fail:
        acc->n_items = before;
        return r;
}

static int target_init(Target *t, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                       uint64_t **ret_kpf, uint64_t **ret_buf)
{
        _cleanup_free_ uint64_t *kpf = NULL, *buf = NULL;
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
        if (!buf)
                return -ENOMEM;
        *t = (Target){
            .start_pfn = start_pfn,
            .count = count,
            .kpf = kpf,
            .kpf_fd = kpageflags_fd,
            .buf = buf,
            .page_size = ps > 0 ? (uint64_t)ps : 4096,
        };
        *ret_kpf = TAKE_PTR(kpf);
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

int pagemap_locate_pid(int procfs_fd, pid_t pid, int kpageflags_fd, uint64_t start_pfn,
                       uint64_t count, PageLocations *acc)
{
        _cleanup_free_ uint64_t *kpf = NULL, *buf = NULL;
        Target t;
        int r;

        if (procfs_fd < 0 || !acc)
                return -EINVAL;
        r = target_init(&t, kpageflags_fd, start_pfn, count, &kpf, &buf);
        if (r < 0)
                return r;
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
        _cleanup_free_ uint64_t *kpf = NULL, *buf = NULL;
        _cleanup_(page_locations_free) PageLocations acc = {};
        pid_t self = getpid();
        struct dirent *de;
        Target t;
        DIR *d;
        int fd, r;

        if (procfs_fd < 0 || !ret)
                return -EINVAL;
        r = target_init(&t, kpageflags_fd, start_pfn, count, &kpf, &buf);
        if (r < 0)
                return r;

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
