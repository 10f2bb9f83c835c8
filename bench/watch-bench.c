/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * watch-bench: what one look of mempowerd's pressure watch costs, which it
 * takes every 20 ms while any block is offline. A look reads /proc/meminfo,
 * /proc/pressure/memory, /proc/buddyinfo and the meminfo of each node with
 * memory. In one run, interleaved:
 *   a. bare: open, one read, close of the same files (the floor);
 *   b. the daemon's readers: meminfo_read, psi_read, buddyinfo_read,
 *      node_meminfo_read (read and parse).
 * Prints CPU microseconds per look and the share of one core at 20 ms.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "nodeinfo.h"
#include "roots.h"
#include "util.h"

#define LOOKS 20000
#define ROUNDS 5
#define WATCH_USEC 20000.0

static uint64_t cpu_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void bare_read(int dirfd, const char *path)
{
        char buf[8192];
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return;
        (void)read(fd, buf, sizeof(buf));
        close(fd);
}

int main(int argc, char **argv)
{
        Roots roots = ROOTS_NULL;
        char paths[64][64];
        int nodes[64];
        size_t n_nodes = 0;
        double bare_best = 0, lib_best = 0;
        int r;

        if (argc > 1) {
                fprintf(stderr, "usage: %s\n(no options; see the comment at the top)\n", argv[0]);
                return 2;
        }
        r = roots_open(NULL, NULL, &roots);
        if (r < 0) {
                fprintf(stderr, "cannot open /sys and /proc: %s\n", strerror(-r));
                return 1;
        }
        for (int nd = 0; nd < 64 && n_nodes < 64; nd++) {
                NodeMemInfo nm;

                if (node_meminfo_read(roots.sysfs_fd, nd, &nm) < 0)
                        continue;
                nodes[n_nodes] = nd;
                snprintf(paths[n_nodes], sizeof(paths[0]), "devices/system/node/node%d/meminfo",
                         nd);
                n_nodes++;
        }
        for (int round = 0; round < ROUNDS; round++) {
                uint64_t t0 = cpu_ns();

                for (int i = 0; i < LOOKS; i++) {
                        bare_read(roots.procfs_fd, "meminfo");
                        bare_read(roots.procfs_fd, "pressure/memory");
                        bare_read(roots.procfs_fd, "buddyinfo");
                        for (size_t k = 0; k < n_nodes; k++)
                                bare_read(roots.sysfs_fd, paths[k]);
                }
                uint64_t t1 = cpu_ns();

                for (int i = 0; i < LOOKS; i++) {
                        MemInfo mi;
                        Psi psi;
                        NodeMemInfo nm;
                        uint64_t kfree;

                        (void)meminfo_read(roots.procfs_fd, &mi);
                        (void)psi_read(roots.procfs_fd, &psi);
                        (void)buddyinfo_read(roots.procfs_fd, &kfree, NULL);
                        for (size_t k = 0; k < n_nodes; k++)
                                (void)node_meminfo_read(roots.sysfs_fd, nodes[k], &nm);
                }
                uint64_t t2 = cpu_ns();
                double bare = (double)(t1 - t0) / LOOKS / 1000.0;
                double lib = (double)(t2 - t1) / LOOKS / 1000.0;

                if (round == 0 || bare < bare_best)
                        bare_best = bare;
                if (round == 0 || lib < lib_best)
                        lib_best = lib;
        }
        printf("pressure watch, one look (/proc/meminfo, /proc/pressure/memory, /proc/buddyinfo, "
               "%zu node meminfo), "
               "best of %d rounds of %d:\n",
               n_nodes, ROUNDS, LOOKS);
        printf("  bare open+read+close: %.2f us CPU\n", bare_best);
        printf("  mempowerd's readers:  %.2f us CPU (%.0f%% of bare)\n", lib_best,
               100.0 * lib_best / bare_best);
        printf("  every 20 ms: %.3f%% of one core\n", 100.0 * lib_best / WATCH_USEC);
        roots_close(&roots);
        return 0;
}
