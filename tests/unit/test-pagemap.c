/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pagemap: the maps parser on good and hostile lines, the locator on fake
 * procfs trees, and the locator on this process's own pages in the live
 * procfs (as root). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kernel-page-flags.h>

#include "pagemap.h"
#include "roots.h"
#include "testutil.h"
#include "util.h"

#define PRESENT (UINT64_C(1) << 63)
#define SWAPPED (UINT64_C(1) << 62)
#define KPF(b)  (UINT64_C(1) << (b))

static uint64_t page_size;

/* ---- the parser -------------------------------------------------------- */

static bool path_eq(const MapsEntry *e, const char *s)
{
        return e->path && e->path_len == strlen(s) && memcmp(e->path, s, e->path_len) == 0;
}

/* Parse a heap copy of exactly the line's length, so valgrind sees reads
 * past its end. */
static int parse(const char *line, MapsEntry *e)
{
        size_t l = strlen(line);
        char *copy = malloc(l + 1);
        int r;

        memcpy(copy, line, l + 1);
        r = maps_parse_line(copy, e);
        /* path points into copy: keep tests on it meaningful by re-pointing. */
        if (r == 0 && e->path)
                e->path = line + (e->path - copy);
        free(copy);
        return r;
}

static void test_parse_good(void)
{
        MapsEntry e;

        CHECK_EQ_INT(parse("00400000-00452000 r-xp 00001000 08:02 173521      "
                           "/usr/bin/dbus-daemon",
                           &e),
                     0);
        CHECK_EQ_INT(e.start, 0x400000);
        CHECK_EQ_INT(e.end, 0x452000);
        CHECK_EQ_STR(e.perms, "r-xp");
        CHECK_EQ_INT(e.offset, 0x1000);
        CHECK_EQ_INT(e.dev_major, 8);
        CHECK_EQ_INT(e.dev_minor, 2);
        CHECK_EQ_INT(e.inode, 173521);
        CHECK(path_eq(&e, "/usr/bin/dbus-daemon"));
        CHECK(!e.deleted);
        CHECK(maps_entry_is_migratable(&e));

        /* Anonymous, with and without the kernel's trailing blank. */
        CHECK_EQ_INT(parse("7f2c0a000000-7f2c0a021000 rw-p 00000000 00:00 0 ", &e), 0);
        CHECK(e.path == NULL);
        CHECK_EQ_INT(e.path_len, 0);
        CHECK_EQ_INT(parse("7f2c0a000000-7f2c0a021000 rw-p 00000000 00:00 0", &e), 0);
        CHECK(e.path == NULL);
        CHECK_EQ_INT(parse("7f2c0a000000-7f2c0a021000 rw-p 00000000 00:00 0\n", &e), 0);
        CHECK(e.path == NULL);
        CHECK(maps_entry_is_migratable(&e));

        /* Names with blanks and parentheses, as earlyoom's "foo) Z". */
        CHECK_EQ_INT(parse("1000-2000 rw-s 00000000 00:05 7  /tmp/foo) Z\nnext line", &e), 0);
        CHECK(path_eq(&e, "/tmp/foo) Z"));
        CHECK_EQ_STR(e.perms, "rw-s");
        CHECK_EQ_INT(parse("1000-2000 r--p 00000000 fd:01 99 /home/a b/c  d.so", &e), 0);
        CHECK(path_eq(&e, "/home/a b/c  d.so"));
        CHECK_EQ_INT(e.dev_major, 0xfd);

        /* Deleted files: the suffix is taken off, the flag set. */
        CHECK_EQ_INT(parse("1000-2000 rw-s 00000000 00:01 1024 /dev/shm/x (deleted)", &e), 0);
        CHECK(e.deleted);
        CHECK(path_eq(&e, "/dev/shm/x"));
        CHECK_EQ_INT(parse("1000-2000 rw-s 00000000 00:01 1 /memfd:a (deleted) (deleted)", &e), 0);
        CHECK(e.deleted);
        CHECK(path_eq(&e, "/memfd:a (deleted)"));
        CHECK_EQ_INT(parse("1000-2000 rw-s 00000000 00:01 1  (deleted)", &e), 0);
        CHECK(!e.deleted); /* a file named "(deleted)": nothing before the suffix */
        CHECK(path_eq(&e, "(deleted)"));

        /* Special mappings. */
        CHECK_EQ_INT(parse("7ffd1000-7ffd3000 r-xp 00000000 00:00 0   [vdso]", &e), 0);
        CHECK(!maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("7ffd1000-7ffd3000 r--p 00000000 00:00 0   [vvar]", &e), 0);
        CHECK(!maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("7ffd1000-7ffd3000 r--p 00000000 00:00 0   [vvar_vclock]", &e), 0);
        CHECK(!maps_entry_is_migratable(&e));
        CHECK_EQ_INT(
            parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", &e), 0);
        CHECK_EQ_INT(e.end, 0xffffffffff601000);
        CHECK(!maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("1000-2000 rw-p 00000000 00:00 0   [heap]", &e), 0);
        CHECK(maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("1000-2000 rw-p 00000000 00:00 0   [stack]", &e), 0);
        CHECK(maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("1000-2000 rw-p 00000000 00:00 0   [anon:[vdso]]", &e), 0);
        CHECK(maps_entry_is_migratable(&e));
        CHECK_EQ_INT(parse("1000-2000 r-xp 00000000 00:00 0   /tmp/[vdso]", &e), 0);
        CHECK(maps_entry_is_migratable(&e));
        CHECK(!maps_entry_is_migratable(NULL));
}

static void test_parse_hostile(void)
{
        static const char *const bad[] = {
            "",
            "\n",
            "hello world",
            "1000-2000",
            "1000-2000 ",
            "1000-2000 rw-p",
            "1000-2000 rw-p 0",
            "1000-2000 rw-p 0 00:00",
            "1000-2000 rw-p 0 00:00 ",
            "1000-2000 rw-p 0 0000 0",
            "1000-2000 rw-p 0 00:00 x",
            "1000-2000 rw-p 0 00:00 12x /a", /* junk glued to the inode */
            "1000-2000 rwxq 0 00:00 0",      /* bad share flag */
            "1000-2000 RW-P 0 00:00 0",      /* case */
            "1000-2000 rw-pp 0 00:00 0",
            "1000-2000  rw-p 0 00:00 0", /* two blanks */
            "2000-1000 rw-p 0 00:00 0",  /* start above end */
            "2000-2000 rw-p 0 00:00 0",  /* empty */
            "-2000 rw-p 0 00:00 0",
            "1000 -2000 rw-p 0 00:00 0",
            "+1000-2000 rw-p 0 00:00 0",
            "10000000000000000-20000000000000000 rw-p 0 00:00 0", /* 17 digits */
            "1000-2000 rw-p 0 100000000:00 0",                    /* major beyond 32 bits */
            "1000-2000 rw-p 0 00:00 99999999999999999999",        /* inode overflow */
            "1000-2000 rw-p 0 00:00 -1",
            "1000-2000\trw-p 0 00:00 0",
            "1000-2000 rw-p 0 00:00 0\t/a",
            "\xff\xfe-\x01 garbage",
        };
        MapsEntry e = {.start = 4242};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse(bad[i], &e);

                if (r != -EINVAL)
                        fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
                CHECK_EQ_INT(r, -EINVAL);
        }
        CHECK_EQ_INT(e.start, 4242); /* untouched */
        CHECK_EQ_INT(maps_parse_line(NULL, &e), -EINVAL);

        /* Every prefix of a good line parses or is refused, never overruns. */
        {
                const char *good = "7f2c0a000000-7f2c0a021000 rw-p 00000000 08:02 173521   "
                                   "/usr/lib/x (deleted)";
                size_t l = strlen(good);
                unsigned ok = 0;

                for (size_t n = 0; n <= l; n++) {
                        char *s = strndup(good, n);

                        if (maps_parse_line(s, &e) == 0)
                                ok++;
                        free(s);
                }
                /* From the first digit of the inode on. */
                CHECK_EQ_INT(ok, l - strlen("7f2c0a000000-7f2c0a021000 rw-p 00000000 08:02 1") + 1);
        }

        /* Random bytes, for the sanitizers and valgrind. */
        {
                unsigned seed = 12345;

                for (int i = 0; i < 20000; i++) {
                        char buf[96];
                        size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));

                        for (size_t j = 0; j < n; j++) {
                                static const char alphabet[] = "0123456789abcdef- :rwxps/[]()\n\t";
                                int c = rand_r(&seed);

                                buf[j] = (c & 1) ? alphabet[(c >> 1) % (sizeof(alphabet) - 1)]
                                                 : (char)(c >> 8);
                        }
                        buf[n] = '\0';
                        (void)parse(buf, &e);
                }
                CHECK(true);
        }
}

/* ---- fake trees -------------------------------------------------------- */

static int open_dir(const char *path)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0) {
                perror(path);
                exit(99);
        }
        return fd;
}

static bool has(const PageLocations *l, pid_t pid, uint64_t addr)
{
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].pid == pid && l->items[i].addr == addr)
                        return true;
        return false;
}

/* The pages of the range the location maps, 0 when there is none. */
static unsigned pages_at(const PageLocations *l, pid_t pid, uint64_t addr)
{
        for (size_t i = 0; i < l->n_items; i++)
                if (l->items[i].pid == pid && l->items[i].addr == addr)
                        return l->items[i].pages;
        return 0;
}

#define R0 UINT64_C(0x1000) /* the fake block: PFNs [0x1000, 0x1010) */

static void build_tree(const char *root)
{
        char maps[2048] = "";
        FakePagemap pm = {};

        /* PID 100: a bit of everything. */
        maps_add(maps, sizeof(maps), 1, 4, "rw-p 00000000 00:00 0 ");
        maps_add(maps, sizeof(maps), 0x10, 2, "r--p 00000000 08:01 1234   /usr/lib/with space.so");
        strcat(maps, "garbage line that is not a mapping\n");
        maps_add(maps, sizeof(maps), 0x20, 1, "r-xp 00000000 00:00 0      [vdso]");
        maps_add(maps, sizeof(maps), 0x30, 1, "rw-p 00000000 00:05 77     /tmp/foo) Z (deleted)");
        fake_write(root, "100/maps", maps);
        pm_set(&pm, 1, PRESENT | (R0 + 0));
        pm_set(&pm, 2, PRESENT | 0x5000);                         /* outside */
        pm_set(&pm, 3, SWAPPED | (R0 + 9));                       /* swapped: the bits are no PFN */
        pm_set(&pm, 4, PRESENT | (UINT64_C(1) << 55) | (R0 + 1)); /* soft-dirty bit */
        pm_set(&pm, 0x10, PRESENT | (UINT64_C(1) << 61) | (R0 + 2));
        pm_set(&pm, 0x11, PRESENT | (R0 + 0x10)); /* one past the end */
        pm_set(&pm, 0x20, PRESENT | (R0 + 3));    /* in [vdso]: skipped */
        pm_set(&pm, 0x30, PRESENT | (R0 + 4));
        pm_write(&pm, root, "100");

        /* PID 7: one page; sorts before 100. */
        maps[0] = '\0';
        maps_add(maps, sizeof(maps), 1, 1, "rw-p 00000000 00:00 0");
        fake_write(root, "7/maps", maps);
        pm_set(&pm, 1, PRESENT | (R0 + 5));
        pm_write(&pm, root, "7");

        /* PID 200: exited between readdir and open: maps, no pagemap. */
        fake_write(root, "200/maps", maps);

        /* PID 300: a kernel thread: empty maps, and opening pagemap would
         * fail with ESRCH (here: it does not exist). */
        fake_write(root, "300/maps", "");

        /* PID 500: exited after open: pagemap reads nothing. */
        fake_write(root, "500/maps", maps);
        fake_write(root, "500/pagemap", "");

        /* Not processes. */
        fake_write(root, "self/maps", maps);
        fake_write(root, "123abc/maps", maps);
        fake_write(root, "0123/maps", maps);
        fake_write(root, "sys/kernel/x", "1\n");
        fake_write(root, "999", "a file, not a directory\n");
        fake_write(root, "meminfo", "MemTotal: 1 kB\n");
}

static void test_fake_tree(void)
{
        char *root = tmpdir_make();
        PageLocations l = {}, acc = {};
        int fd, r;

        build_tree(root);
        fd = open_dir(root);

        r = pagemap_locate_range(fd, -1, R0, 16, 0, &l);
        CHECK_EQ_INT(r, 5);
        CHECK_EQ_INT(l.n_items, 5);
        CHECK_EQ_INT(l.pages_found, 5);
        CHECK_EQ_INT(l.processes_scanned, 3); /* 7, 100, 300 */
        CHECK_EQ_INT(l.processes_gone, 2);    /* 200, 500 */
        CHECK_EQ_INT(l.processes_denied, 0);
        CHECK_EQ_INT(page_locations_skipped(&l), 2);
        CHECK(l.pagemap_bytes >= 8 * (4 + 2 + 1 + 1));
        if (l.n_items == 5) {
                CHECK_EQ_INT(l.items[0].pid, 7);
                CHECK_EQ_INT(l.items[0].addr, 1 * page_size);
                CHECK_EQ_INT(l.items[1].pid, 100);
                CHECK_EQ_INT(l.items[1].addr, 1 * page_size);
                CHECK_EQ_INT(l.items[2].addr, 4 * page_size);
                CHECK_EQ_INT(l.items[3].addr, 0x10 * page_size);
                CHECK_EQ_INT(l.items[4].pid, 100);
                CHECK_EQ_INT(l.items[4].addr, 0x30 * page_size);
        }
        page_locations_free(&l);
        CHECK(l.items == NULL && l.n_items == 0 && l.processes_scanned == 0);
        page_locations_free(NULL);

        /* A narrower range. */
        r = pagemap_locate_range(fd, -1, R0 + 2, 3, 0, &l);
        CHECK_EQ_INT(r, 2);
        CHECK(has(&l, 100, 0x10 * page_size));
        CHECK(has(&l, 100, 0x30 * page_size));
        page_locations_free(&l);

        /* Nothing there. */
        r = pagemap_locate_range(fd, -1, 0x9000, 32768, 0, &l);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(l.processes_scanned, 3);
        page_locations_free(&l);

        /* One process at a time. */
        CHECK_EQ_INT(pagemap_locate_pid(fd, 100, -1, R0, 16, 0, &acc), 4);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 7, -1, R0, 16, 0, &acc), 1);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 200, -1, R0, 16, 0, &acc), -ESRCH);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 500, -1, R0, 16, 0, &acc), -ESRCH);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 4242, -1, R0, 16, 0, &acc), -ESRCH);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 300, -1, R0, 16, 0, &acc), 0);
        CHECK_EQ_INT(acc.n_items, 5);
        CHECK_EQ_INT(acc.processes_scanned, 3);
        page_locations_free(&acc);

        /* Bad ranges and arguments; ret untouched. */
        l.processes_scanned = 99;
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R0, 0, 0, &l), -EINVAL);
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, UINT64_C(1) << 55, 1, 0, &l), -EINVAL);
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, (UINT64_C(1) << 55) - 1, 2, 0, &l), -EINVAL);
        CHECK_EQ_INT(pagemap_locate_range(-1, -1, R0, 16, 0, &l), -EINVAL);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 0, -1, R0, 16, 0, &acc), -EINVAL);
        CHECK_EQ_INT(l.processes_scanned, 99);

        close(fd);
        tmpdir_remove(root);
}

/* Without CAP_SYS_ADMIN every PFN reads 0: an error, not "nothing here". */
static void test_fake_hidden_pfns(void)
{
        char *root = tmpdir_make();
        char maps[256] = "";
        FakePagemap pm = {};
        PageLocations l = {.processes_scanned = 99}, acc = {};
        int fd;

        maps_add(maps, sizeof(maps), 1, 3, "rw-p 00000000 00:00 0");
        fake_write(root, "400/maps", maps);
        pm_set(&pm, 1, PRESENT);
        pm_set(&pm, 3, PRESENT | SWAPPED);
        pm_write(&pm, root, "400");
        /* Not present at all: no verdict possible, just empty. */
        fake_write(root, "401/maps", maps);
        pm_set(&pm, 3, SWAPPED | 0x1234);
        pm_write(&pm, root, "401");
        fd = open_dir(root);

        CHECK_EQ_INT(pagemap_locate_pid(fd, 400, -1, 0, 16, 0, &acc), -EPERM);
        CHECK_EQ_INT(acc.n_items, 0);
        CHECK_EQ_INT(acc.processes_scanned, 0);
        CHECK_EQ_INT(pagemap_locate_pid(fd, 401, -1, 0, 16, 0, &acc), 0);
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, 0, 16, 0, &l), -EPERM);
        CHECK_EQ_INT(l.processes_scanned, 99);
        page_locations_free(&acc);

        close(fd);
        tmpdir_remove(root);
}

/* A sparse process on a kernel without PAGEMAP_SCAN: walked through smaps,
 * VMAs with no Rss skipped (here one holds a present entry the kernel would
 * not show there, so skipping is visible); FULL_WALK reads maps and finds it. */
static void smaps_add(char *buf, size_t size, uint64_t vpage, uint64_t npages, unsigned rss_kb,
                      unsigned hugetlb_kb)
{
        size_t l;

        maps_add(buf, size, vpage, npages, "rw-p 00000000 00:00 0");
        l = strlen(buf);
        snprintf(buf + l, size - l,
                 "Size:           %8" PRIu64 " kB\nRss:            %8u kB\n"
                 "AnonHugePages:         0 kB\nShared_Hugetlb:        0 kB\n"
                 "Private_Hugetlb: %7u kB\nVmFlags: rd wr mr mw me ac\n",
                 npages * page_size / 1024, rss_kb, hugetlb_kb);
}

static void test_fake_sparse(void)
{
        char *root = tmpdir_make();
        char maps[1024] = "", smaps[2048] = "";
        FakePagemap pm = {};
        PageLocations l = {};
        int fd;

        maps_add(maps, sizeof(maps), 1, 1, "rw-p 00000000 00:00 0");
        maps_add(maps, sizeof(maps), 0x100, 0x4000, "rw-p 00000000 00:00 0");
        maps_add(maps, sizeof(maps), 0x5000, 1, "rw-p 00000000 00:00 0");
        maps_add(maps, sizeof(maps), 0x6000, 1, "rw-p 00000000 00:00 0");
        smaps_add(smaps, sizeof(smaps), 1, 1, 4, 0);
        smaps_add(smaps, sizeof(smaps), 0x100, 0x4000, 0, 0);
        smaps_add(smaps, sizeof(smaps), 0x5000, 1, 4, 0);
        smaps_add(smaps, sizeof(smaps), 0x6000, 1, 0, 2048); /* hugetlb: not in Rss */
        pm_set(&pm, 1, PRESENT | R0);
        pm_set(&pm, 0x200, PRESENT | (R0 + 1));
        pm_set(&pm, 0x5000, PRESENT | (R0 + 2));
        pm_set(&pm, 0x6000, PRESENT | (R0 + 5));
        fake_write(root, "42/maps", maps);
        fake_write(root, "42/smaps", smaps);
        fake_write(root, "42/statm", "16386 2 0 0 0 2 0\n");
        pm_write(&pm, root, "42");
        /* The same VMAs, not sparse (resident more than a quarter). */
        fake_write(root, "43/maps", maps);
        fake_write(root, "43/smaps", smaps);
        fake_write(root, "43/statm", "16386 8000 0 0 0 2 0\n");
        pm_set(&pm, 1, PRESENT | (R0 + 3));
        pm_set(&pm, 0x200, PRESENT | (R0 + 4));
        pm_write(&pm, root, "43");
        fd = open_dir(root);

        CHECK_EQ_INT(pagemap_locate_pid(fd, 42, -1, R0, 16, PAGEMAP_LOCATE_NO_SCAN, &l), 3);
        CHECK(has(&l, 42, 1 * page_size));
        CHECK(has(&l, 42, 0x5000 * page_size));
        CHECK(has(&l, 42, 0x6000 * page_size));
        CHECK(!has(&l, 42, 0x200 * page_size));
        CHECK_EQ_INT(l.processes_smaps, 1);
        CHECK_EQ_INT(l.vmas_skipped, 1);
        CHECK_EQ_INT(l.pagemap_bytes, 24); /* three one-page VMAs */
        CHECK_EQ_INT(l.pagemap_scans, 0);
        page_locations_free(&l);

        CHECK_EQ_INT(pagemap_locate_pid(fd, 42, -1, R0, 16, PAGEMAP_LOCATE_FULL_WALK, &l), 4);
        CHECK(has(&l, 42, 0x200 * page_size));
        CHECK_EQ_INT(l.processes_smaps, 0);
        CHECK_EQ_INT(l.vmas_skipped, 0);
        page_locations_free(&l);

        CHECK_EQ_INT(pagemap_locate_pid(fd, 43, -1, R0, 16, PAGEMAP_LOCATE_NO_SCAN, &l), 2);
        CHECK(has(&l, 43, 0x200 * page_size));
        CHECK_EQ_INT(l.processes_smaps, 0);
        page_locations_free(&l);

        /* A walk of all, not told: the ioctl fails on these regular files
         * (ENOTTY), as on a kernel before 6.7, and the sparse one is read
         * through smaps. */
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R0, 16, 0, &l), 5);
        CHECK(!has(&l, 42, 0x200 * page_size));
        CHECK(has(&l, 43, 0x200 * page_size));
        CHECK_EQ_INT(l.processes_smaps, 1);
        CHECK_EQ_INT(l.vmas_skipped, 1);
        CHECK_EQ_INT(l.pagemap_scans, 0);
        page_locations_free(&l);

        close(fd);
        tmpdir_remove(root);
}

static void test_fake_skip_self(void)
{
        char *root = tmpdir_make();
        char maps[256] = "", self[16];
        FakePagemap pm = {};
        PageLocations l = {};
        int fd;

        snprintf(self, sizeof(self), "%d", (int)getpid());
        maps_add(maps, sizeof(maps), 2, 1, "rw-p 00000000 00:00 0");
        fake_write(root, "1/maps", maps);
        pm_set(&pm, 2, PRESENT | R0);
        pm_write(&pm, root, "1");
        snprintf(maps, sizeof(maps), "%s/maps", self);
        fake_write(root, maps, "00002000-00003000 rw-p 00000000 00:00 0\n");
        pm_set(&pm, 2, PRESENT | (R0 + 1));
        pm_write(&pm, root, self);
        fd = open_dir(root);

        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R0, 2, 0, &l), 2);
        CHECK(has(&l, getpid(), 2 * page_size));
        page_locations_free(&l);
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R0, 2, PAGEMAP_LOCATE_SKIP_SELF, &l), 1);
        CHECK(has(&l, 1, 2 * page_size));
        CHECK_EQ_INT(l.processes_scanned, 1);
        page_locations_free(&l);

        close(fd);
        tmpdir_remove(root);
}

/* Large folios and the zero page, with a fake kpageflags file. */
#define R1 UINT64_C(0x2000) /* block [0x2000, 0x2040) */

static void test_fake_folios(void)
{
        char *root = tmpdir_make();
        char maps[256] = "", path[512];
        FakePagemap pm = {};
        uint64_t *kpf;
        size_t kpf_n = (size_t)R1 + 0x40;
        PageLocations l = {};
        int fd, kfd;
        uint64_t thp = KPF(KPF_THP) | KPF(KPF_LRU) | KPF(KPF_ANON) | KPF(KPF_MMAP);

        kpf = calloc(kpf_n, 8);
        /* A 4-page folio inside the block, mapped at 0x100..0x103. */
        kpf[R1 + 8] = thp | KPF(KPF_COMPOUND_HEAD);
        for (int i = 9; i < 12; i++)
                kpf[R1 + i] = thp | KPF(KPF_COMPOUND_TAIL);
        /* The zero page at 0x104 (read-only anon page never written). */
        kpf[R1 + 0x10] = KPF(KPF_ZERO_PAGE) | (UINT64_C(1) << 32);
        /* An ordinary page at 0x105. */
        kpf[R1 + 0x11] = KPF(KPF_LRU) | KPF(KPF_ANON);
        /* A folio straddling the block's start: head 0x1ffe (outside), tails
         * 0x1fff (outside), 0x2000 and 0x2001 (inside), mapped at 0x106..0x109. */
        kpf[R1 - 2] = thp | KPF(KPF_COMPOUND_HEAD);
        kpf[R1 - 1] = thp | KPF(KPF_COMPOUND_TAIL);
        kpf[R1 + 0] = thp | KPF(KPF_COMPOUND_TAIL);
        kpf[R1 + 1] = thp | KPF(KPF_COMPOUND_TAIL);
        /* A tail mapped alone at 0x10c (its head not mapped here). */
        kpf[R1 + 0x20] = thp | KPF(KPF_COMPOUND_TAIL);
        /* Two adjacent folios mapped back to back at 0x10d..0x110: two heads. */
        kpf[R1 + 0x30] = thp | KPF(KPF_COMPOUND_HEAD);
        kpf[R1 + 0x31] = thp | KPF(KPF_COMPOUND_TAIL);
        kpf[R1 + 0x32] = thp | KPF(KPF_COMPOUND_HEAD);
        kpf[R1 + 0x33] = thp | KPF(KPF_COMPOUND_TAIL);
        fake_write_bytes(root, "kpageflags", kpf, kpf_n * 8);
        free(kpf);

        maps_add(maps, sizeof(maps), 0x100, 0x20, "rw-p 00000000 00:00 0");
        fake_write(root, "10/maps", maps);
        for (int i = 0; i < 4; i++)
                pm_set(&pm, 0x100 + i, PRESENT | (R1 + 8 + i));
        pm_set(&pm, 0x104, PRESENT | (R1 + 0x10));
        pm_set(&pm, 0x105, PRESENT | (R1 + 0x11));
        for (int i = 0; i < 4; i++)
                pm_set(&pm, 0x106 + i, PRESENT | (R1 - 2 + i));
        pm_set(&pm, 0x10c, PRESENT | (R1 + 0x20));
        for (int i = 0; i < 4; i++)
                pm_set(&pm, 0x10d + i, PRESENT | (R1 + 0x30 + i));
        pm_write(&pm, root, "10");

        fd = open_dir(root);
        snprintf(path, sizeof(path), "%s/kpageflags", root);
        kfd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(kfd >= 0);

        CHECK_EQ_INT(pagemap_locate_range(fd, kfd, R1, 0x40, 0, &l), 6);
        CHECK(has(&l, 10, 0x100 * page_size)); /* the folio's head only */
        CHECK(!has(&l, 10, 0x101 * page_size));
        CHECK(!has(&l, 10, 0x104 * page_size)); /* zero page */
        CHECK(has(&l, 10, 0x105 * page_size));
        CHECK(has(&l, 10, 0x106 * page_size)); /* head outside the block, its address */
        CHECK(!has(&l, 10, 0x108 * page_size));
        CHECK(has(&l, 10, 0x10c * page_size)); /* lone tail */
        CHECK(has(&l, 10, 0x10d * page_size));
        CHECK(has(&l, 10, 0x10f * page_size));
        /* each with the pages of the block it maps: a folio's in-block pages */
        CHECK_EQ_INT(pages_at(&l, 10, 0x100 * page_size), 4);
        CHECK_EQ_INT(pages_at(&l, 10, 0x105 * page_size), 1);
        CHECK_EQ_INT(pages_at(&l, 10, 0x106 * page_size), 2); /* 2 of its 4 in the block */
        CHECK_EQ_INT(pages_at(&l, 10, 0x10c * page_size), 1);
        CHECK_EQ_INT(pages_at(&l, 10, 0x10d * page_size), 2);
        CHECK_EQ_INT(pages_at(&l, 10, 0x10f * page_size), 2);
        page_locations_free(&l);

        /* Without kpageflags: every present page of the block. */
        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R1, 0x40, 0, &l), 4 + 1 + 1 + 2 + 1 + 4);
        CHECK(has(&l, 10, 0x104 * page_size));
        CHECK(has(&l, 10, 0x108 * page_size));
        page_locations_free(&l);

        close(kfd);
        close(fd);
        tmpdir_remove(root);
}

/* A VMA larger than one read: entries are read in chunks of 64 Ki. */
static void test_fake_chunks(void)
{
        char *root = tmpdir_make();
        char maps[256] = "";
        FakePagemap pm = {};
        PageLocations l = {};
        uint64_t n = PAGEMAP_CHUNK_ENTRIES * 2 + 10;
        int fd;

        maps_add(maps, sizeof(maps), 0, n, "rw-p 00000000 00:00 0");
        fake_write(root, "33/maps", maps);
        pm_set(&pm, 0, PRESENT | R0);
        pm_set(&pm, PAGEMAP_CHUNK_ENTRIES - 1, PRESENT | (R0 + 1));
        pm_set(&pm, PAGEMAP_CHUNK_ENTRIES, PRESENT | (R0 + 2));
        pm_set(&pm, n - 1, PRESENT | (R0 + 3));
        pm_write(&pm, root, "33");
        fd = open_dir(root);

        CHECK_EQ_INT(pagemap_locate_range(fd, -1, R0, 4, 0, &l), 4);
        CHECK(has(&l, 33, (n - 1) * page_size));
        CHECK(has(&l, 33, PAGEMAP_CHUNK_ENTRIES * page_size));
        CHECK_EQ_INT(l.pagemap_bytes, n * 8);
        page_locations_free(&l);

        close(fd);
        tmpdir_remove(root);
}

/* ---- the live procfs --------------------------------------------------- */

static uint64_t own_pagemap_entry(int procfs_fd, const void *p)
{
        uint64_t e = 0;
        int fd = openat(procfs_fd, "self/pagemap", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return 0;
        if (pread(fd, &e, 8, (off_t)((uintptr_t)p / page_size * 8)) != 8)
                e = 0;
        close(fd);
        return e;
}

static bool kernel_at_least(int major, int minor)
{
        struct utsname u;
        int a = 0, b = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
                return false;
        return a > major || (a == major && b >= minor);
}

/* Whether x and y hold the same pages of [lo, hi): the walks' own buffers
 * may land in the block too, and differ from walk to walk. */
static bool same_locations(const PageLocations *x, const PageLocations *y, uintptr_t lo,
                           uintptr_t hi)
{
        size_t i = 0, j = 0;

        for (;;) {
                while (i < x->n_items && (x->items[i].addr < lo || x->items[i].addr >= hi))
                        i++;
                while (j < y->n_items && (y->items[j].addr < lo || y->items[j].addr >= hi))
                        j++;
                if (i == x->n_items || j == y->n_items)
                        return i == x->n_items && j == y->n_items;
                if (x->items[i].pid != y->items[j].pid || x->items[i].addr != y->items[j].addr)
                        return false;
                i++, j++;
        }
}

/* Two sparse shapes: one 4 GiB mapping with a page touched every 16 MiB,
 * and a 4 GiB PROT_NONE reservation of which the first 4 MiB were made
 * writable and touched (as JVMs and malloc arenas do); and a dense one, 32
 * MiB with every other page touched (more ranges than one PAGEMAP_SCAN
 * call returns, merged across calls). All three ways of walking find
 * the same pages; PAGEMAP_SCAN reads pagemap only where pages are, smaps
 * skips the untouched reservation. */
static void test_live_sparse(int procfs_fd, int kfd, uint64_t block_pages)
{
        const size_t big = UINT64_C(4) << 30, step = 16u << 20, head = 4u << 20;
        const size_t dense = 32u << 20;
        PageLocations scan = {}, smaps = {}, full = {};
        char *a, *b, *c;
        uint64_t pfn, start;

        a = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
        b = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        c = mmap(NULL, dense, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED) {
                fprintf(stderr, "live pagemap: no room for 8 GiB of address space, sparse case skipped\n");
                goto out;
        }
        madvise(a, big, MADV_NOHUGEPAGE);
        madvise(b, big, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < big; i += step)
                a[i] = 1;
        CHECK(mprotect(b, head, PROT_READ | PROT_WRITE) == 0);
        for (size_t i = 0; i < head; i += page_size)
                b[i] = 1;
        madvise(c, dense, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < dense; i += 2 * page_size)
                c[i] = 1;

        /* The block of b's first page, then of c's. */
        for (int target = 0; target < 2; target++) {
                const char *mark = target == 0 ? b : c;

                pfn = own_pagemap_entry(procfs_fd, mark) & ((UINT64_C(1) << 55) - 1);
                CHECK(pfn != 0);
                start = pfn - pfn % block_pages;
                CHECK(pagemap_locate_pid(procfs_fd, getpid(), kfd, start, block_pages, 0,
                                         &scan) >= 1);
                CHECK(pagemap_locate_pid(procfs_fd, getpid(), kfd, start, block_pages,
                                         PAGEMAP_LOCATE_NO_SCAN, &smaps) >= 1);
                CHECK(pagemap_locate_pid(procfs_fd, getpid(), kfd, start, block_pages,
                                         PAGEMAP_LOCATE_FULL_WALK, &full) >= 1);
                CHECK(has(&full, getpid(), (uintptr_t)mark));
                for (int k = 0; k < 3; k++) {
                        uintptr_t lo = (uintptr_t)(k == 0 ? a : k == 1 ? b : c);
                        uintptr_t hi = lo + (k == 2 ? dense : big);

                        CHECK(same_locations(&scan, &full, lo, hi));
                        CHECK(same_locations(&smaps, &full, lo, hi));
                }
                /* Both big mappings read whole: 8 bytes per 4 KiB of 8 GiB. */
                CHECK(full.pagemap_bytes >= 2 * big / page_size * 8);
                CHECK_EQ_INT(full.processes_smaps, 0);
                CHECK_EQ_INT(smaps.processes_smaps, 1);
                CHECK(smaps.vmas_skipped >= 1);
                CHECK(smaps.pagemap_bytes < full.pagemap_bytes - big / page_size * 8 / 2);
                if (kernel_at_least(6, 7)) {
                        CHECK(scan.pagemap_scans > 0);
                        /* Saves (nearly) all of the two big mappings'
                         * 16 MiB; what else is resident here (valgrind's
                         * own memory, say) both read alike. */
                        CHECK(scan.pagemap_bytes + 2 * big / page_size * 8 * 9 / 10 <
                              full.pagemap_bytes);
                }
                if (target == 0)
                        fprintf(stderr,
                                "live pagemap: sparse process: %" PRIu64
                                " KiB of pagemap read with PAGEMAP_SCAN (%" PRIu64
                                " calls), %" PRIu64 " KiB via smaps (%" PRIu64
                                " VMAs skipped), %" PRIu64 " KiB walking everything\n",
                                scan.pagemap_bytes / 1024, scan.pagemap_scans,
                                smaps.pagemap_bytes / 1024, smaps.vmas_skipped,
                                full.pagemap_bytes / 1024);
                page_locations_free(&scan);
                page_locations_free(&smaps);
                page_locations_free(&full);
        }
out:
        if (a != MAP_FAILED)
                munmap(a, big);
        if (b != MAP_FAILED)
                munmap(b, big);
        if (c != MAP_FAILED)
                munmap(c, dense);
}

static void test_live(void)
{
        const size_t size = 8u << 20;
        const uint64_t block_pages = (128u << 20) / page_size;
        Roots roots = ROOTS_NULL;
        PageLocations l = {};
        uint64_t e, pfn, start;
        char *p;
        int kfd, r;

        if (geteuid() != 0) {
                fprintf(stderr, "live pagemap: skipped, not root (PFNs need CAP_SYS_ADMIN)\n");
                return;
        }
#if defined(__SANITIZE_ADDRESS__)
        /* AddressSanitizer maps terabytes of shadow memory into this very
         * process: walking its pagemap reads tens of GB. The live walk runs
         * in the plain build and under valgrind. */
        fprintf(stderr, "live pagemap: skipped under AddressSanitizer\n");
        return;
#endif
        if (roots_open(NULL, NULL, &roots) < 0) {
                fprintf(stderr, "live pagemap: skipped, no procfs\n");
                return;
        }

        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED);
        if (p == MAP_FAILED)
                goto out;
        madvise(p, size, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < size; i += page_size)
                p[i] = 1;

        char *page = p + 1000 * page_size;
        e = own_pagemap_entry(roots.procfs_fd, page);
        CHECK(e & PRESENT);
        pfn = e & ((UINT64_C(1) << 55) - 1);
        CHECK(pfn != 0);
        start = pfn - pfn % block_pages;

        /* This process alone, without and with kpageflags. */
        r = pagemap_locate_pid(roots.procfs_fd, getpid(), -1, start, block_pages, 0, &l);
        CHECK(r >= 1);
        CHECK(has(&l, getpid(), (uintptr_t)page));
        CHECK_EQ_INT(l.processes_scanned, 1);
        CHECK(l.pagemap_bytes >= size / page_size * 8);
        page_locations_free(&l);

        kfd = openat(roots.procfs_fd, "kpageflags", O_RDONLY | O_CLOEXEC);
        CHECK(kfd >= 0);
        r = pagemap_locate_pid(roots.procfs_fd, getpid(), kfd, start, block_pages, 0, &l);
        CHECK(r >= 1);
        CHECK(has(&l, getpid(), (uintptr_t)page));
        page_locations_free(&l);

        /* Every process of a procfs that holds this one and its parent:
         * the machine's real procfs may hold processes with terabytes of
         * sparse mappings (sanitizers, emulators), whose walk is not this
         * test's business. */
        char *few = tmpdir_make(), link[64], target[PATH_MAX];
        int few_fd;

        snprintf(link, sizeof(link), "%d", (int)getpid());
        snprintf(target, sizeof(target), "%s/%d", roots.procfs_path, (int)getpid());
        fake_symlink(few, link, target);
        snprintf(link, sizeof(link), "%d", (int)getppid());
        snprintf(target, sizeof(target), "%s/%d", roots.procfs_path, (int)getppid());
        fake_symlink(few, link, target);
        few_fd = open(few, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(few_fd >= 0);

        r = pagemap_locate_range(few_fd, kfd, start, block_pages, 0, &l);
        CHECK(r >= 1);
        CHECK(has(&l, getpid(), (uintptr_t)page));
        CHECK(l.processes_scanned >= 2);
        fprintf(stderr,
                "live pagemap: block at PFN 0x%" PRIx64 ": %zu pages in %" PRIu64
                " processes (%" PRIu64 " gone, %" PRIu64 " denied), %" PRIu64
                " KiB of pagemap read\n",
                start, l.n_items, l.processes_scanned, l.processes_gone, l.processes_denied,
                l.pagemap_bytes / 1024);
        for (size_t i = 1; i < l.n_items; i++)
                CHECK(l.items[i - 1].pid < l.items[i].pid ||
                      (l.items[i - 1].pid == l.items[i].pid &&
                       l.items[i - 1].addr < l.items[i].addr));
        page_locations_free(&l);

        r = pagemap_locate_range(few_fd, kfd, start, block_pages, PAGEMAP_LOCATE_SKIP_SELF, &l);
        CHECK(r >= 0);
        CHECK(!has(&l, getpid(), (uintptr_t)page));
        page_locations_free(&l);
        close(few_fd);
        tmpdir_remove(few);

        /* A THP, when the kernel gives one: reported once, by its head. */
        {
                const size_t huge = 2u << 20;
                char *q = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
                char *h = (char *)(((uintptr_t)q + huge - 1) & ~(uintptr_t)(huge - 1));
                uint64_t flags = 0, hpfn;

                if (q != MAP_FAILED && madvise(h, huge, MADV_HUGEPAGE) == 0) {
                        memset(h, 2, huge);
                        hpfn = own_pagemap_entry(roots.procfs_fd, h) & ((UINT64_C(1) << 55) - 1);
                        if (hpfn && pread(kfd, &flags, 8, (off_t)(hpfn * 8)) == 8 &&
                            (flags & KPF(KPF_THP)) && (flags & KPF(KPF_COMPOUND_HEAD))) {
                                size_t n = 0;

                                start = hpfn - hpfn % block_pages;
                                r = pagemap_locate_pid(roots.procfs_fd, getpid(), kfd, start,
                                                       block_pages, 0, &l);
                                CHECK(r >= 1);
                                for (size_t i = 0; i < l.n_items; i++)
                                        if (l.items[i].addr >= (uintptr_t)h &&
                                            l.items[i].addr < (uintptr_t)h + huge)
                                                n++;
                                CHECK_EQ_INT(n, 1);
                                CHECK(has(&l, getpid(), (uintptr_t)h));
                                fprintf(stderr,
                                        "live pagemap: THP at PFN 0x%" PRIx64
                                        " reported once, by its head\n",
                                        hpfn);
                                page_locations_free(&l);
                        } else
                                fprintf(stderr, "live pagemap: no THP given, THP case skipped\n");
                }
                if (q != MAP_FAILED)
                        munmap(q, 2 * huge);
        }

        /* Without CAP_SYS_ADMIN: PFNs read 0 and the locator says so. */
        {
                pid_t child = fork();
                int status = 0;

                CHECK(child >= 0);
                if (child == 0) {
                        PageLocations c = {};

                        /* Dumpable again, or our own /proc files stay root's. */
                        if (setgid(65534) < 0 || setuid(65534) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0)
                                _exit(3);
                        r = pagemap_locate_pid(roots.procfs_fd, getpid(), -1, start, block_pages,
                                               0, &c);
                        page_locations_free(&c);
                        if (r != -EPERM) {
                                fprintf(stderr, "unprivileged locate_pid: %d\n", r);
                                _exit(1);
                        }
                        r = pagemap_locate_range(roots.procfs_fd, -1, start, block_pages, 0, &c);
                        if (r != -EPERM)
                                fprintf(stderr, "unprivileged locate_range: %d\n", r);
                        _exit(r == -EPERM ? 0 : 2);
                }
                if (child > 0) {
                        CHECK(waitpid(child, &status, 0) == child);
                        CHECK(WIFEXITED(status));
                        CHECK_EQ_INT(WEXITSTATUS(status), 0);
                }
        }

        test_live_sparse(roots.procfs_fd, kfd, block_pages);
        close(kfd);
        munmap(p, size);
out:
        roots_close(&roots);
}

int main(void)
{
        long ps = sysconf(_SC_PAGESIZE);

        page_size = ps > 0 ? (uint64_t)ps : 4096;
        test_parse_good();
        test_parse_hostile();
        test_fake_tree();
        test_fake_hidden_pfns();
        test_fake_skip_self();
        test_fake_sparse();
        test_fake_folios();
        test_fake_chunks();
        test_live();
        return test_summary("test-pagemap");
}
