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

        close(sfd);
        close(pfd);
        tmpdir_remove(root);
}

int main(void)
{
        test_meminfo();
        test_node_meminfo();
        test_psi();
        test_readers();
        return test_summary("test-nodeinfo");
}
