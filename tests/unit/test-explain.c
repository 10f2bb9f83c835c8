/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What holds a block: ranges of unmovable pages from flag words, holders
 * summed by process and sorted, a cgroup path's unit, and the whole of it
 * on a fake procfs with a fake kpageflags. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"
#include "testutil.h"
#include "util.h"

#define KPF(b)    KPF_BIT(b)
#define PRESENT   (UINT64_C(1) << 63)
#define SLAB      KPF(KPF_SLAB)
#define RESERVED  KPF(KPF_RESERVED)
#define ANON_LRU  (KPF(KPF_ANON) | KPF(KPF_LRU) | KPF(KPF_MMAP))

static void test_ranges(void)
{
        uint64_t w[64] = { 0 };
        Explanation e = { 0 };
        char names[128];

        /* kernel zone: 4 slab, 2 free, 3 reserved, 1 reserved|zero_page,
         * 2 slab with REFERENCED (same range flags as slab), 5 movable, the
         * rest 0 (unknown in a kernel zone) */
        for (int i = 0; i < 4; i++)
                w[i] = SLAB;
        w[4] = w[5] = KPF(KPF_BUDDY);
        for (int i = 6; i < 9; i++)
                w[i] = RESERVED;
        w[9] = RESERVED | KPF(KPF_ZERO_PAGE);
        w[10] = w[11] = SLAB | KPF(KPF_REFERENCED);
        for (int i = 12; i < 17; i++)
                w[i] = ANON_LRU;
        CHECK_EQ_INT(explain_ranges(w, 64, 0x8000, KPF_ZONE_KERNEL, &e), 0);
        CHECK_EQ_INT(e.ranges_total, 5);
        CHECK_EQ_INT(e.n_ranges, 5);
        CHECK_EQ_INT(e.ranges[0].start_pfn, 0x8000);
        CHECK_EQ_INT(e.ranges[0].pages, 4);
        CHECK_EQ_INT(e.ranges[0].class, PAGE_UNMOVABLE);
        CHECK_EQ_INT(kpf_flags_to_string(e.ranges[0].flags, names, sizeof(names)), 0);
        CHECK_EQ_STR(names, "slab");
        CHECK_EQ_INT(e.ranges[1].start_pfn, 0x8006);
        CHECK_EQ_INT(e.ranges[1].pages, 3);
        (void)kpf_flags_to_string(e.ranges[2].flags, names, sizeof(names));
        CHECK_EQ_STR(names, "zero_page,reserved");
        CHECK_EQ_INT(e.ranges[2].pages, 1);
        CHECK_EQ_INT(e.ranges[3].start_pfn, 0x800a);
        CHECK_EQ_INT(e.ranges[3].pages, 2);
        CHECK_EQ_INT(e.ranges[4].start_pfn, 0x8000 + 17);
        CHECK_EQ_INT(e.ranges[4].pages, 64 - 17);
        CHECK_EQ_INT(e.ranges[4].class, PAGE_UNKNOWN);
        CHECK_EQ_INT(e.ranges[4].flags, 0);
        CHECK_EQ_INT(e.usage.free, 2);
        CHECK_EQ_INT(e.usage.movable, 5);
        CHECK_EQ_INT(e.usage.unmovable, 10);
        CHECK_EQ_INT(e.usage.unknown, 47);

        /* in ZONE_MOVABLE the zeros are free: one range less */
        CHECK_EQ_INT(explain_ranges(w, 64, 0x8000, KPF_ZONE_MOVABLE, &e), 0);
        CHECK_EQ_INT(e.ranges_total, 4);
        CHECK_EQ_INT(e.usage.free, 49);

        /* alternating slab and free: more ranges than are kept */
        for (int i = 0; i < 64; i++)
                w[i] = i % 2 ? KPF(KPF_BUDDY) : SLAB;
        {
                uint64_t *big = calloc(4 * EXPLAIN_RANGES_MAX, 8);

                for (int i = 0; i < 4 * EXPLAIN_RANGES_MAX; i++)
                        big[i] = i % 2 ? KPF(KPF_BUDDY) : SLAB;
                CHECK_EQ_INT(explain_ranges(big, 4 * EXPLAIN_RANGES_MAX, 0, KPF_ZONE_KERNEL, &e),
                             0);
                CHECK_EQ_INT(e.ranges_total, 2 * EXPLAIN_RANGES_MAX);
                CHECK_EQ_INT(e.n_ranges, EXPLAIN_RANGES_MAX);
                free(big);
        }
        /* hugetlb pages hold a block too */
        for (int i = 0; i < 64; i++)
                w[i] = KPF(KPF_HUGE) | (i ? KPF(KPF_COMPOUND_TAIL) : KPF(KPF_COMPOUND_HEAD));
        CHECK_EQ_INT(explain_ranges(w, 64, 0, KPF_ZONE_MOVABLE, &e), 0);
        CHECK_EQ_INT(e.ranges_total, 1);
        CHECK_EQ_INT(e.ranges[0].class, PAGE_HUGETLB);
        CHECK_EQ_INT(e.ranges[0].pages, 64);
        CHECK_EQ_INT(explain_ranges(w, 64, 0, (KpfZoneKind)7, &e), -EINVAL);
        explanation_free(&e);
}

static void test_holders(void)
{
        PageLocation items[] = {
                { .pid = 10, .pages = 1, .addr = 0x1000 }, { .pid = 10, .pages = 512, .addr = 0x200000 },
                { .pid = 20, .pages = 3, .addr = 0x1000 }, { .pid = 30, .pages = 513, .addr = 0x5000 },
                { .pid = 40, .pages = 513, .addr = 0x5000 },
        };
        PageLocations l = { .items = items, .n_items = ELEMENTSOF(items) };
        Explanation e = { 0 };

        CHECK_EQ_INT(explain_holders(&l, &e), 0);
        CHECK_EQ_INT(e.holders_total, 4);
        CHECK_EQ_INT(e.n_holders, 4);
        /* largest first, ties by pid */
        CHECK_EQ_INT(e.holders[0].pid, 10);
        CHECK_EQ_INT(e.holders[0].pages, 513);
        CHECK_EQ_INT(e.holders[1].pid, 30);
        CHECK_EQ_INT(e.holders[2].pid, 40);
        CHECK_EQ_INT(e.holders[3].pid, 20);
        CHECK_EQ_INT(e.holders[3].pages, 3);
        CHECK_EQ_INT(e.holders_pages, 1 + 512 + 3 + 513 + 513);
        CHECK_EQ_INT(e.holders[0].uid, (uid_t)-1);

        /* nobody */
        l.n_items = 0;
        CHECK_EQ_INT(explain_holders(&l, &e), 0);
        CHECK_EQ_INT(e.holders_total, 0);
        CHECK_EQ_INT(e.n_holders, 0);
        explanation_free(&e);

        /* more than are kept */
        {
                size_t n = EXPLAIN_HOLDERS_MAX + 5;
                PageLocation *v = calloc(n, sizeof(*v));

                for (size_t i = 0; i < n; i++)
                        v[i] = (PageLocation){ .pid = (pid_t)(100 + i), .pages = (uint32_t)(i + 1) };
                l = (PageLocations){ .items = v, .n_items = n };
                CHECK_EQ_INT(explain_holders(&l, &e), 0);
                CHECK_EQ_INT(e.holders_total, n);
                CHECK_EQ_INT(e.n_holders, EXPLAIN_HOLDERS_MAX);
                CHECK_EQ_INT(e.holders[0].pid, (pid_t)(100 + n - 1));
                free(v);
                explanation_free(&e);
        }
}

static void test_cgroup_unit(void)
{
        char u[64];

        CHECK_EQ_INT(cgroup_path_unit("/system.slice/postgresql@15-main.service", u, sizeof(u)), 0);
        CHECK_EQ_STR(u, "postgresql@15-main.service");
        CHECK_EQ_INT(cgroup_path_unit("/user.slice/user-1000.slice/session-3.scope", u, sizeof(u)),
                     0);
        CHECK_EQ_STR(u, "session-3.scope");
        /* a unit's own sub-cgroups name the unit */
        CHECK_EQ_INT(cgroup_path_unit("/system.slice/foo.service/worker/a", u, sizeof(u)), 0);
        CHECK_EQ_STR(u, "foo.service");
        /* a user's units: the innermost */
        CHECK_EQ_INT(cgroup_path_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                      "dbus.service",
                                      u, sizeof(u)),
                     0);
        CHECK_EQ_STR(u, "dbus.service");
        /* only a slice: the slice */
        CHECK_EQ_INT(cgroup_path_unit("/machine.slice", u, sizeof(u)), 0);
        CHECK_EQ_STR(u, "machine.slice");
        CHECK_EQ_INT(cgroup_path_unit("/", u, sizeof(u)), -ENOENT);
        CHECK_EQ_INT(cgroup_path_unit("", u, sizeof(u)), -ENOENT);
        CHECK_EQ_INT(cgroup_path_unit("/init.scope", u, sizeof(u)), 0);
        CHECK_EQ_STR(u, "init.scope");
        CHECK_EQ_INT(cgroup_path_unit("/.service", u, sizeof(u)), -ENOENT);
}

/* The whole thing on a fake tree: block [0x3000, 0x3040), two processes
 * (42 maps 6 pages, 7 maps 2 of them too), a slab range and a hole. */
static void test_block(void)
{
        char *root = tmpdir_make(), maps[256] = "", path[512];
        size_t kpf_n = 0x3040;
        uint64_t *kpf = calloc(kpf_n, 8);
        FakePagemap pm = { 0 };
        Explanation e = { 0 };
        int fd, kfd;

        for (int i = 0; i < 6; i++)
                kpf[0x3000 + i] = ANON_LRU;
        for (int i = 0x20; i < 0x28; i++)
                kpf[0x3000 + i] = SLAB;
        for (int i = 0x28; i < 0x40; i++)
                kpf[0x3000 + i] = KPF(KPF_BUDDY);
        fake_write_bytes(root, "kpageflags", kpf, kpf_n * 8);
        free(kpf);

        maps_add(maps, sizeof(maps), 0x100, 0x10, "rw-p 00000000 00:00 0");
        fake_write(root, "42/maps", maps);
        for (int i = 0; i < 6; i++)
                pm_set(&pm, 0x100 + i, PRESENT | (0x3000 + i));
        pm_write(&pm, root, "42");
        fake_write(root, "42/comm", "postgres\n");
        fake_write(root, "42/cgroup", "0::/system.slice/postgresql@15-main.service\n");
        fake_write(root, "7/maps", maps);
        pm_set(&pm, 0x100, PRESENT | 0x3000);
        pm_set(&pm, 0x101, PRESENT | 0x3001);
        pm_write(&pm, root, "7");
        fake_write(root, "7/comm", "helper\n");
        fake_write(root, "7/cgroup", "12:pids:/\n0::/user.slice/user-1000.slice/session-3.scope\n");
        snprintf(path, sizeof(path), "%s/42", root);
        CHECK_EQ_INT(chown(path, 1000, 1000), 0);

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/kpageflags", root);
        kfd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && kfd >= 0);

        CHECK_EQ_INT(explain_block(fd, kfd, 0x3000, 0x40, KPF_ZONE_MOVABLE, (uid_t)-1, &e), 0);
        CHECK_EQ_INT(e.locate_error, 0);
        CHECK_EQ_INT(e.usage.movable, 6);
        CHECK_EQ_INT(e.usage.unmovable, 8);
        CHECK_EQ_INT(e.usage.free, 0x40 - 14);
        CHECK_EQ_INT(e.ranges_total, 1);
        CHECK_EQ_INT(e.ranges[0].start_pfn, 0x3020);
        CHECK_EQ_INT(e.ranges[0].pages, 8);
        CHECK_EQ_INT(e.holders_total, 2);
        CHECK_EQ_INT(e.holders[0].pid, 42);
        CHECK_EQ_INT(e.holders[0].pages, 6);
        CHECK_EQ_INT(e.holders[0].uid, 1000);
        CHECK_EQ_STR(e.holders[0].comm, "postgres");
        CHECK_EQ_STR(e.holders[0].unit, "postgresql@15-main.service");
        CHECK_EQ_STR(e.holders[0].cgroup, "/system.slice/postgresql@15-main.service");
        CHECK_EQ_INT(e.holders[1].pid, 7);
        CHECK_EQ_INT(e.holders[1].pages, 2);
        CHECK_EQ_STR(e.holders[1].unit, "session-3.scope");
        CHECK_EQ_INT(e.holders_pages, 8);
        CHECK_EQ_INT(e.processes_scanned, 2);
        explanation_free(&e);

        /* only one user's processes: 42 is uid 1000's, 7 root's */
        CHECK_EQ_INT(explain_block(fd, kfd, 0x3000, 0x40, KPF_ZONE_MOVABLE, 1000, &e), 0);
        CHECK_EQ_INT(e.holders_total, 1);
        CHECK_EQ_INT(e.holders[0].pid, 42);
        CHECK_EQ_INT(e.processes_scanned, 1);
        CHECK_EQ_INT(e.ranges_total, 1); /* the pages are the block's, whoever asks */
        explanation_free(&e);
        CHECK_EQ_INT(explain_block(fd, kfd, 0x3000, 0x40, KPF_ZONE_MOVABLE, 4242, &e), 0);
        CHECK_EQ_INT(e.holders_total, 0);
        explanation_free(&e);

        /* past the end of kpageflags: no page, nothing held */
        CHECK_EQ_INT(explain_block(fd, kfd, 0x3040, 0x40, KPF_ZONE_MOVABLE, (uid_t)-1, &e), 0);
        CHECK_EQ_INT(e.usage.nopage, 0x40);
        CHECK_EQ_INT(e.ranges_total, 0);
        CHECK_EQ_INT(e.holders_total, 0);
        explanation_free(&e);

        /* names are the process's to choose: no control character, no
         * invalid UTF-8 goes out */
        {
                ExplainHolder h = { .pid = 77, .uid = (uid_t)-1 };

                fake_write(root, "77/comm", "\xff\x1b[2Jx\xc3\n");
                fake_write(root, "77/cgroup", "0::/system.slice/b\xe2\x82" "ad.service\n");
                explain_holder_describe(fd, &h);
                CHECK_EQ_STR(h.comm, "??[2Jx?");
                CHECK_EQ_STR(h.unit, "b??ad.service");
                CHECK_EQ_STR(h.cgroup, "/system.slice/b??ad.service");
        }

        /* a process gone between the walk and its description keeps empty
         * fields */
        {
                ExplainHolder h = { .pid = 999, .uid = (uid_t)-1 };

                explain_holder_describe(fd, &h);
                CHECK_EQ_STR(h.comm, "");
                CHECK_EQ_STR(h.unit, "");
                CHECK_EQ_INT(h.uid, (uid_t)-1);
        }
        close(kfd);
        close(fd);
        tmpdir_remove(root);
}

int main(void)
{
        test_ranges();
        test_holders();
        test_cgroup_unit();
        if (geteuid() == 0 && sysconf(_SC_PAGESIZE) == 4096)
                test_block();
        else
                fprintf(stderr, "test_block skipped: needs root (chown) and 4 KiB pages\n");
        return test_summary("test-explain");
}
