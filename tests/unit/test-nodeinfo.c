/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Machine/node counters and PSI: real captured text, hostile text, fake trees. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodeinfo.h"
#include "testutil.h"
#include "util.h"

static const char meminfo_text[] = "MemTotal:       24627356 kB\n"
                                   "MemFree:        23855212 kB\n"
                                   "MemAvailable:   23902048 kB\n"
                                   "Buffers:            2216 kB\n"
                                   "HugePages_Total:       0\n";

static const char node_text[] = "Node 1 MemTotal:        1048576 kB\n"
                                "Node 1 MemFree:          996000 kB\n"
                                "Node 1 MemUsed:           52576 kB\n"
                                "Node 1 HugePages_Free:      0\n";

static void test_meminfo(void)
{
        MemInfo m = { 0 };

        CHECK_EQ_INT(meminfo_parse(meminfo_text, &m), 0);
        CHECK_EQ_INT(m.total_kb, 24627356);
        CHECK_EQ_INT(m.free_kb, 23855212);
        CHECK_EQ_INT(m.available_kb, 23902048);

        /* whole keys only: MemFreeX must not be read as MemFree */
        CHECK_EQ_INT(meminfo_parse("MemTotal: 10 kB\nMemFreeX: 5 kB\nMemFree: 7 kB\n", &m), 0);
        CHECK_EQ_INT(m.free_kb, 7);
        /* old kernels have no MemAvailable */
        CHECK_EQ_INT(meminfo_parse("MemTotal: 10 kB\nMemFree: 7 kB\n", &m), 0);
        CHECK_EQ_INT(m.available_kb, 7);
        /* missing, malformed, overflowing */
        m.total_kb = 42;
        CHECK_EQ_INT(meminfo_parse("MemFree: 7 kB\n", &m), -ENODATA);
        CHECK_EQ_INT(m.total_kb, 42);
        CHECK_EQ_INT(meminfo_parse("MemTotal: x kB\nMemFree: 7 kB\n", &m), -EBADMSG);
        CHECK_EQ_INT(meminfo_parse("MemTotal: 99999999999999999999999 kB\nMemFree: 7\n", &m),
                     -EBADMSG);
        CHECK_EQ_INT(meminfo_parse("MemTotal: 12abc kB\nMemFree: 7 kB\n", &m), -EBADMSG);
        CHECK_EQ_INT(meminfo_parse("", &m), -ENODATA);
}

static void test_node_meminfo(void)
{
        NodeMemInfo n = { 0 };

        CHECK_EQ_INT(node_meminfo_parse(node_text, 1, &n), 0);
        CHECK_EQ_INT(n.total_kb, 1048576);
        CHECK_EQ_INT(n.free_kb, 996000);
        /* the node number must match: node 11's file is not node 1's */
        CHECK_EQ_INT(node_meminfo_parse(node_text, 0, &n), -ENODATA);
        CHECK_EQ_INT(node_meminfo_parse("Node 11 MemTotal: 5 kB\nNode 11 MemFree: 1 kB\n", 1, &n),
                     -ENODATA);
}

static void test_psi(void)
{
        Psi p = { 0 };

        CHECK_EQ_INT(psi_parse("some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\n"
                               "full avg10=0.25 avg60=0.00 avg300=0.00 total=678\n",
                               &p),
                     0);
        CHECK(p.some.avg10 > 1.49 && p.some.avg10 < 1.51);
        CHECK(p.some.avg60 > 0.19 && p.some.avg60 < 0.21);
        CHECK_EQ_INT(p.some.total_usec, 12345);
        CHECK(p.has_full);
        CHECK(p.full.avg10 > 0.24 && p.full.avg10 < 0.26);
        CHECK_EQ_INT(p.full.total_usec, 678);
        /* "full" is absent on old kernels' CPU files; accept a "some" alone */
        CHECK_EQ_INT(psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), 0);
        CHECK(!p.has_full);
        CHECK_EQ_INT(psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), -EBADMSG);
        CHECK_EQ_INT(psi_parse("some avg10=abc avg60=0.00 avg300=0.00 total=0\n", &p), -EBADMSG);
        CHECK_EQ_INT(psi_parse("some avg10=-1 avg60=0.00 avg300=0.00 total=0\n", &p), -EBADMSG);
        CHECK_EQ_INT(psi_parse("some avg10=1 avg60=0.00 avg300=0.00\n", &p), -EBADMSG);
        CHECK_EQ_INT(psi_parse("some xavg10=1 avg10=2 avg60=0 avg300=0 total=1\n", &p), 0);
        CHECK(p.some.avg10 > 1.99 && p.some.avg10 < 2.01);
        CHECK_EQ_INT(psi_parse("", &p), -EBADMSG);
}

/* Commit figures: optional, all three or none. */
static void test_meminfo_commit(void)
{
        MemInfo m = { 0 };

        CHECK_EQ_INT(meminfo_parse("MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n"
                                   "SwapTotal: 64 kB\nCommitLimit: 564 kB\nCommitted_AS: 400 kB\n",
                                   &m),
                     0);
        CHECK(m.commit_valid);
        CHECK_EQ_INT(m.commit_limit_kb, 564);
        CHECK_EQ_INT(m.committed_as_kb, 400);
        CHECK_EQ_INT(m.swap_total_kb, 64);
        CHECK_EQ_INT(meminfo_parse(meminfo_text, &m), 0);
        CHECK(!m.commit_valid);
        CHECK_EQ_INT(m.commit_limit_kb, 0);
        CHECK_EQ_INT(meminfo_parse("MemTotal: 1 kB\nMemFree: 1 kB\nCommitLimit: x kB\n", &m),
                     -EBADMSG);
}

/* Captured from the 24 GiB development machine (6.18). */
static const char buddyinfo_text[] =
        "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
        "Node 0, zone    DMA32      2      2      3      1      2      2      1      4      4      2    752 \n"
        "Node 0, zone   Normal   1902   1406   1275    823    510    587    341    215    155     95    591 \n"
        "Node 1, zone  Movable     10      0      0      0      0      0      0      0      0      0      2 \n";

static void test_buddyinfo(void)
{
        uint64_t k = 0, o = 0;

        CHECK_EQ_INT(buddyinfo_parse(buddyinfo_text, &k, &o), 0);
        /* DMA: 256 + 512 + 3 * 1024 */
        CHECK_EQ_INT(k, (256 + 512 + 3072) +
                                (2 + 4 + 12 + 8 + 32 + 64 + 64 + 512 + 1024 + 1024 + 752 * 1024) +
                                (1902 + 1406 * 2 + 1275 * 4 + 823 * 8 + 510 * 16 + 587 * 32 +
                                 341 * 64 + 215 * 128 + 155 * 256 + 95 * 512 + 591 * 1024));
        CHECK_EQ_INT(o, 10 + 2 * 1024);
        CHECK_EQ_INT(buddyinfo_parse("", &k, &o), -EBADMSG);
        CHECK_EQ_INT(buddyinfo_parse("Node 0, zone Normal\n", &k, &o), -EBADMSG);
        CHECK_EQ_INT(buddyinfo_parse("Node 0, zone Normal 1 x\n", &k, &o), -EBADMSG);
        CHECK_EQ_INT(buddyinfo_parse("Nod 0, zone Normal 1\n", &k, &o), -EBADMSG);
        CHECK_EQ_INT(buddyinfo_parse("Node 0, zone Normal 18446744073709551615 1\n", &k, &o),
                     -EBADMSG);
        CHECK(zone_name_is_kernel("DMA32"));
        CHECK(!zone_name_is_kernel("Movable"));
}

static const char zoneinfo_text[] = "Node 0, zone      DMA\n"
                                    "  per-node stats\n"
                                    "      nr_inactive_anon 107789\n"
                                    "  pages free     3840\n"
                                    "        spanned  4095\n"
                                    "        present  3998\n"
                                    "        managed  3840\n"
                                    "      nr_free_pages 3840\n"
                                    "  pagesets\n"
                                    "    cpu: 0\n"
                                    "              count: 0\n"
                                    "Node 0, zone   Normal\n"
                                    "  pages free     344057\n"
                                    "        present  5505024\n"
                                    "        managed  557056\n"
                                    "      nr_free_pages 344057\n"
                                    "  pagesets\n"
                                    "    cpu: 0\n"
                                    "              count: 4623\n"
                                    "              high:  5000\n"
                                    "    cpu: 1\n"
                                    "              count: 5046\n"
                                    "Node 1, zone  Movable\n"
                                    "        present  262144\n"
                                    "        managed  262144\n"
                                    "      nr_free_pages 100\n";

static void test_zoneinfo(void)
{
        ZoneInfo z[4];

        CHECK_EQ_INT(zoneinfo_parse(zoneinfo_text, z, 4), 3);
        CHECK_EQ_STR(z[0].name, "DMA");
        CHECK_EQ_INT(z[0].present, 3998);
        CHECK_EQ_INT(z[1].node, 0);
        CHECK_EQ_STR(z[1].name, "Normal");
        CHECK_EQ_INT(z[1].managed, 557056);
        CHECK_EQ_INT(z[1].free, 344057);
        CHECK_EQ_INT(z[1].pcp, 4623 + 5046);
        CHECK_EQ_INT(z[2].node, 1);
        CHECK_EQ_INT(z[2].free, 100);
        /* more zones than room: counted, not stored */
        CHECK_EQ_INT(zoneinfo_parse(zoneinfo_text, z, 1), 3);
        CHECK_EQ_INT(zoneinfo_parse("", z, 4), -EBADMSG);
        CHECK_EQ_INT(zoneinfo_parse("Node x, zone Normal\n", z, 4), -EBADMSG);
        CHECK_EQ_INT(zoneinfo_parse("Node 0, zon Normal\n", z, 4), -EBADMSG);
}

static void test_readers(void)
{
        char *root = tmpdir_make();
        char sys[512], proc[512];
        MemInfo m;
        NodeMemInfo n;
        Psi p;
        IndexSet s = INDEXSET_NULL;
        int sfd, pfd;

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        fake_write(proc, "meminfo", meminfo_text);
        fake_write(sys, "devices/system/node/node1/meminfo", node_text);
        fake_write(sys, "devices/system/node/has_memory", "0-1\n");
        sfd = open(sys, O_RDONLY | O_DIRECTORY);
        pfd = open(proc, O_RDONLY | O_DIRECTORY);

        CHECK_EQ_INT(meminfo_read(pfd, &m), 0);
        CHECK_EQ_INT(m.total_kb, 24627356);
        CHECK_EQ_INT(node_meminfo_read(sfd, 1, &n), 0);
        CHECK_EQ_INT(n.free_kb, 996000);
        CHECK_EQ_INT(node_meminfo_read(sfd, 2, &n), -ENOENT);
        CHECK_EQ_INT(node_meminfo_read(sfd, -1, &n), -EINVAL);
        /* no PSI (older kernels): a clean -ENOENT the daemon can live with */
        CHECK_EQ_INT(psi_read(pfd, &p), -ENOENT);
        fake_write(proc, "pressure/memory", "some avg10=3.00 avg60=0 avg300=0 total=9\n");
        CHECK_EQ_INT(psi_read(pfd, &p), 0);
        CHECK_EQ_INT(p.some.total_usec, 9);
        CHECK_EQ_INT(nodes_with_memory(sfd, &s), 0);
        CHECK(indexset_contains(&s, 0));
        CHECK(indexset_contains(&s, 1));
        CHECK(!indexset_contains(&s, 2));
        indexset_free(&s);
        fake_write(sys, "devices/system/node/has_memory", "zero\n");
        CHECK_EQ_INT(nodes_with_memory(sfd, &s), -EBADMSG);

        {
                OvercommitSettings oc = { 0 };
                char id[40];
                uint64_t k, o;
                ZoneInfo z[4];

                CHECK_EQ_INT(overcommit_read(pfd, &oc), -ENOENT);
                fake_write(proc, "sys/vm/overcommit_memory", "2\n");
                fake_write(proc, "sys/vm/overcommit_ratio", "80\n");
                fake_write(proc, "sys/vm/overcommit_kbytes", "0\n");
                CHECK_EQ_INT(overcommit_read(pfd, &oc), 0);
                CHECK_EQ_INT(oc.mode, 2);
                CHECK_EQ_INT(oc.ratio, 80);
                fake_write(proc, "sys/vm/overcommit_memory", "3\n");
                CHECK_EQ_INT(overcommit_read(pfd, &oc), -EBADMSG);
                CHECK_EQ_INT(boot_id_read(pfd, id, sizeof(id)), -ENOENT);
                fake_write(proc, "sys/kernel/random/boot_id", "7402e539-fa05-4caa-9a30-ed0e3c4d8de5\n");
                CHECK_EQ_INT(boot_id_read(pfd, id, sizeof(id)), 0);
                CHECK_EQ_STR(id, "7402e539-fa05-4caa-9a30-ed0e3c4d8de5");
                fake_write(proc, "sys/kernel/random/boot_id", "short\n");
                CHECK_EQ_INT(boot_id_read(pfd, id, sizeof(id)), -EBADMSG);
                fake_write(proc, "buddyinfo", buddyinfo_text);
                CHECK_EQ_INT(buddyinfo_read(pfd, &k, &o), 0);
                CHECK_EQ_INT(o, 10 + 2048);
                fake_write(proc, "zoneinfo", zoneinfo_text);
                CHECK_EQ_INT(zoneinfo_read(pfd, z, 4), 3);
        }

        close(sfd);
        close(pfd);
        tmpdir_remove(root);
}

int main(void)
{
        test_meminfo();
        test_meminfo_commit();
        test_buddyinfo();
        test_zoneinfo();
        test_node_meminfo();
        test_psi();
        test_readers();
        return test_summary("test-nodeinfo");
}
