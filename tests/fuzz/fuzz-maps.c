/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/maps lines and pagemap records.
 *
 * Input: maps text, then optionally a NUL and a binary part: an 8-byte
 * header (start PFN: bits 0-15, count - 1: bits 16-31, where the kpageflags
 * words begin, in words: bits 32-47), the pagemap bytes and the kpageflags
 * words. Every maps line is parsed on its own and written back; then a fake
 * procfs (tmpdir/PID/maps and pagemap) is walked with pagemap_locate_pid().
 * Without kpageflags the pages found must be exactly the present entries of
 * the range inside the VMAs, computed here independently; with kpageflags
 * (folio heads and tails, zero page) a subset by count, each inside a VMA. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "pagemap.h"

#define FAKE_PID     4242
#define PM_PRESENT   (UINT64_C(1) << 63)
#define PM_PFN_MASK  ((UINT64_C(1) << 55) - 1)
#define TEXT_MAX     (16 * 1024)

static char tmpdir[PATH_MAX];
static int procfs_fd = -1, kpf_fd = -1;
static uint64_t page_size;

static void cleanup_tree(void)
{
        char path[PATH_MAX + 32];

        snprintf(path, sizeof(path), "%s/%d/maps", tmpdir, FAKE_PID);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%d/pagemap", tmpdir, FAKE_PID);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%d", tmpdir, FAKE_PID);
        rmdir(path);
        rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        char pid[16];

        snprintf(tmpdir, sizeof(tmpdir), "%s/fuzz-maps.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                abort();
        }
        atexit(cleanup_tree);
        procfs_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(pid, sizeof(pid), "%d", FAKE_PID);
        if (procfs_fd < 0 || mkdirat(procfs_fd, pid, 0700) < 0) {
                perror(tmpdir);
                abort();
        }
        kpf_fd = memfd_create("fuzz-maps-kpageflags", MFD_CLOEXEC);
        if (kpf_fd < 0) {
                perror("memfd_create");
                abort();
        }
        page_size = (uint64_t)sysconf(_SC_PAGESIZE);
        return 0;
}

static void write_file(const char *name, const void *data, size_t size)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "%d/%s", FAKE_PID, name);
        fd = openat(procfs_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_ASSERT(fd >= 0);
        FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
        close(fd);
}

/* One line, alone and NUL-terminated, must parse as it does in place; what
 * parses is written back in the kernel's format and parses the same. */
static void check_line(const char *line, size_t len)
{
        MapsEntry in_place, e, again;
        char *copy = fuzz_strndup((const uint8_t *)line, len), *text;
        int r;

        if (!copy)
                return;
        r = maps_parse_line(copy, &e);
        FUZZ_ASSERT((maps_parse_line(line, &in_place) == 0) == (r == 0));
        if (r < 0) {
                free(copy);
                return;
        }
        FUZZ_ASSERT(e.start < e.end);
        FUZZ_ASSERT(strlen(e.perms) == 4);
        FUZZ_ASSERT(in_place.start == e.start && in_place.end == e.end &&
                    in_place.inode == e.inode && in_place.path_len == e.path_len);
        if (e.path) {
                FUZZ_ASSERT(e.path >= copy && e.path + e.path_len <= copy + len);
                FUZZ_ASSERT(e.path_len > 0 && e.path[0] != ' ' && e.path[0] != '\t');
        } else
                FUZZ_ASSERT(!e.deleted && e.path_len == 0);
        (void)maps_entry_is_migratable(&e);

        if (asprintf(&text, "%" PRIx64 "-%" PRIx64 " %s %08" PRIx64 " %02" PRIx32 ":%02" PRIx32
                            " %" PRIu64 "%s%.*s%s",
                     e.start, e.end, e.perms, e.offset, e.dev_major, e.dev_minor, e.inode,
                     e.path ? "    " : "", (int)e.path_len, e.path ? e.path : "",
                     e.deleted ? " (deleted)" : "") >= 0) {
                FUZZ_ASSERT(maps_parse_line(text, &again) == 0);
                FUZZ_ASSERT(again.start == e.start && again.end == e.end &&
                            again.offset == e.offset && again.dev_major == e.dev_major &&
                            again.dev_minor == e.dev_minor && again.inode == e.inode &&
                            strcmp(again.perms, e.perms) == 0 && again.deleted == e.deleted &&
                            again.path_len == e.path_len && !again.path == !e.path);
                if (e.path)
                        FUZZ_ASSERT(memcmp(again.path, e.path, e.path_len) == 0);
                free(text);
        }
        free(copy);
}

typedef struct Expect {
        uint64_t *addrs;
        size_t n, allocated;
        uint64_t present, reads, empty_reads, vmas;
        bool pfn_seen;
} Expect;

static void expect_add(Expect *x, uint64_t addr)
{
        if (x->n == x->allocated) {
                size_t na = x->allocated ? 2 * x->allocated : 64;
                uint64_t *v = realloc(x->addrs, na * sizeof(*v));

                FUZZ_ASSERT(v);
                x->addrs = v;
                x->allocated = na;
        }
        x->addrs[x->n++] = addr;
}

/* What the walk must find without kpageflags, from the documented rules:
 * every present entry whose PFN is in the range, VMA by VMA, in order; a
 * read that ends early (end of pagemap) ends the VMA. */
static void expect_walk(const char *maps, size_t maps_len, const uint8_t *pm, size_t pm_len,
                        uint64_t start_pfn, uint64_t count, Expect *x)
{
        for (const char *line = maps, *end = maps + maps_len; line < end;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                MapsEntry m;

                if (maps_parse_line(line, &m) == 0 && maps_entry_is_migratable(&m)) {
                        uint64_t first = m.start / page_size;
                        uint64_t last = m.end / page_size + (m.end % page_size != 0);

                        x->vmas++;
                        for (uint64_t vp = first; vp < last;) {
                                uint64_t n = last - vp < PAGEMAP_CHUNK_ENTRIES
                                                     ? last - vp
                                                     : PAGEMAP_CHUNK_ENTRIES;
                                uint64_t got, entries;

                                if (vp > (uint64_t)INT64_MAX / 8)
                                        break;
                                got = vp * 8 >= pm_len ? 0 : pm_len - vp * 8;
                                if (got > n * 8)
                                        got = n * 8;
                                if (got == 0) {
                                        x->empty_reads++;
                                        break;
                                }
                                x->reads++;
                                entries = got / 8;
                                for (uint64_t i = 0; i < entries; i++) {
                                        uint64_t e;

                                        memcpy(&e, pm + (vp + i) * 8, 8);
                                        if (!(e & PM_PRESENT))
                                                continue;
                                        x->present++;
                                        if ((e & PM_PFN_MASK) != 0)
                                                x->pfn_seen = true;
                                        if ((e & PM_PFN_MASK) - start_pfn < count)
                                                expect_add(x, (vp + i) * page_size);
                                }
                                if (entries < n)
                                        break;
                                vp += n;
                        }
                }
                if (!nl)
                        break;
                line = nl + 1;
        }
}

/* addr lies in a migratable VMA of maps and its pagemap entry is present. */
static bool addr_mapped(const char *maps, size_t maps_len, const uint8_t *pm, size_t pm_len,
                        uint64_t addr)
{
        uint64_t vp = addr / page_size, e;
        bool in_vma = false;

        for (const char *line = maps, *end = maps + maps_len; line < end && !in_vma;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                MapsEntry m;

                if (maps_parse_line(line, &m) == 0 && maps_entry_is_migratable(&m) &&
                    vp >= m.start / page_size && addr < m.end)
                        in_vma = true;
                if (!nl)
                        break;
                line = nl + 1;
        }
        if (!in_vma || vp >= pm_len / 8)
                return false;
        memcpy(&e, pm + vp * 8, 8);
        return (e & PM_PRESENT) != 0;
}

static void check_walk(const char *maps, size_t maps_len, const uint8_t *bin, size_t bin_len)
{
        uint64_t h = 0, start_pfn, count;
        size_t pm_len, kpf_off;
        const uint8_t *pm;
        PageLocations acc = { 0 };
        Expect x = { 0 };
        int r, expect_r;

        memcpy(&h, bin, bin_len < 8 ? bin_len : 8);
        pm = bin_len > 8 ? bin + 8 : bin + bin_len;
        pm_len = bin_len > 8 ? bin_len - 8 : 0;
        start_pfn = h & 0xffff;
        count = 1 + ((h >> 16) & 0xffff);
        kpf_off = (size_t)((h >> 32) & 0xffff) * 8;
        if (kpf_off == 0 || kpf_off > pm_len)
                kpf_off = pm_len;

        write_file("maps", maps, maps_len);
        write_file("pagemap", pm, kpf_off);
        FUZZ_ASSERT(ftruncate(kpf_fd, 0) == 0);
        FUZZ_ASSERT(pwrite(kpf_fd, pm + kpf_off, pm_len - kpf_off, 0) ==
                    (ssize_t)(pm_len - kpf_off));

        expect_walk(maps, maps_len, pm, kpf_off, start_pfn, count, &x);
        if (x.present > 0 && !x.pfn_seen)
                expect_r = -EPERM;
        else if (x.vmas > 0 && x.reads == 0 && x.empty_reads > 0)
                expect_r = -ESRCH;
        else
                expect_r = x.n > INT_MAX ? INT_MAX : (int)x.n;

        r = pagemap_locate_pid(procfs_fd, FAKE_PID, -1, start_pfn, count, 0, &acc);
        FUZZ_ASSERT(r == expect_r);
        if (r >= 0) {
                FUZZ_ASSERT(acc.n_items == x.n && acc.processes_scanned == 1);
                for (size_t i = 0; i < x.n; i++)
                        FUZZ_ASSERT(acc.items[i].pid == FAKE_PID &&
                                    acc.items[i].addr == x.addrs[i]);
        } else
                FUZZ_ASSERT(acc.n_items == 0);
        page_locations_free(&acc);

        r = pagemap_locate_pid(procfs_fd, FAKE_PID, kpf_fd, start_pfn, count, 0, &acc);
        if (expect_r < 0)
                FUZZ_ASSERT(r == expect_r);
        else {
                FUZZ_ASSERT(r >= 0 && (size_t)r <= x.n && acc.n_items == (size_t)r);
                for (size_t i = 0; i < acc.n_items; i++) {
                        FUZZ_ASSERT(acc.items[i].addr % page_size == 0);
                        FUZZ_ASSERT(addr_mapped(maps, maps_len, pm, kpf_off, acc.items[i].addr));
                }
        }
        page_locations_free(&acc);
        free(x.addrs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul;
        size_t text_len;
        char *text;

        if (size > 2 * TEXT_MAX)
                return 0;
        nul = memchr(data, '\0', size);
        text_len = nul ? (size_t)(nul - data) : size;
        if (text_len > TEXT_MAX)
                return 0;
        text = fuzz_strndup(data, text_len); /* the parsers stop at '\n' or NUL */
        if (!text)
                return 0;

        for (const char *line = text, *end = text + text_len; line < end;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

                check_line(line, len);
                if (!nl)
                        break;
                line = nl + 1;
        }
        check_walk(text, text_len, nul ? nul + 1 : data + size, nul ? size - text_len - 1 : 0);
        free(text);
        return 0;
}
