/* SPDX-License-Identifier: GPL-2.0-or-later */
/* locate-bench: what page location costs on this machine.
 *
 * For a process with N MiB mapped (this one: anonymous memory, touched, 4 KiB
 * pages), locate the mapped pages of the memory block that holds one of its
 * pages: once in this process only, once in every process. Prints the time,
 * the pagemap entries walked and their rate. Needs root (PFNs are hidden
 * from pagemap without CAP_SYS_ADMIN).
 *
 * Usage: locate-bench [MiB ...]   (default: 16 64 256 1024 4096) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "pagemap.h"
#include "roots.h"
#include "util.h"

#define REPEAT 3

static uint64_t now_nsec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t own_pfn(int procfs_fd, const void *p, uint64_t page_size)
{
        _cleanup_close_ int fd = openat(procfs_fd, "self/pagemap", O_RDONLY | O_CLOEXEC);
        uint64_t e = 0;

        if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / page_size * 8)) != 8)
                return 0;
        if (!(e & (UINT64_C(1) << 63)))
                return 0;
        return e & ((UINT64_C(1) << 55) - 1);
}

typedef struct Timing {
        uint64_t best_ns;
        PageLocations last;
} Timing;

static int time_self(const Roots *roots, int kfd, uint64_t start, uint64_t count, Timing *t)
{
        *t = (Timing){.best_ns = UINT64_MAX};
        for (int i = 0; i < REPEAT; i++) {
                PageLocations l = {};
                uint64_t t0 = now_nsec();
                int r = pagemap_locate_pid(roots->procfs_fd, getpid(), kfd, start, count, &l);
                uint64_t dt = now_nsec() - t0;

                if (r < 0) {
                        page_locations_free(&l);
                        return r;
                }
                t->best_ns = u64_min(t->best_ns, dt);
                page_locations_free(&t->last);
                t->last = l;
        }
        return 0;
}

static int time_all(const Roots *roots, int kfd, uint64_t start, uint64_t count, Timing *t)
{
        *t = (Timing){.best_ns = UINT64_MAX};
        for (int i = 0; i < REPEAT; i++) {
                PageLocations l;
                uint64_t t0 = now_nsec();
                int r = pagemap_locate_range(roots->procfs_fd, kfd, start, count, 0, &l);
                uint64_t dt = now_nsec() - t0;

                if (r < 0)
                        return r;
                t->best_ns = u64_min(t->best_ns, dt);
                page_locations_free(&t->last);
                t->last = l;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const unsigned defaults[] = {16, 64, 256, 1024, 4096};
        _cleanup_close_ int kfd = -1;
        Roots roots = ROOTS_NULL;
        uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE), block_bytes = 128u << 20;
        unsigned n_sizes = argc > 1 ? (unsigned)argc - 1 : ELEMENTSOF(defaults);
        int r;

        r = roots_open(NULL, NULL, &roots);
        if (r < 0) {
                fprintf(stderr, "Failed to open the sysfs and procfs roots: %s\n", strerror(-r));
                return 1;
        }
        if (attr_read_u64_at(roots.sysfs_fd, ROOTS_MEMORY_DIR "/block_size_bytes", 16,
                             &block_bytes) < 0)
                fprintf(stderr, "No memory block size, assuming 128 MiB\n");
        kfd = openat(roots.procfs_fd, "kpageflags", O_RDONLY | O_CLOEXEC);
        if (kfd < 0 || geteuid() != 0) {
                fprintf(stderr, "locate-bench needs root (kpageflags, PFNs in pagemap)\n");
                roots_close(&roots);
                return 77;
        }

        printf("block %" PRIu64 " MiB, %d runs each, best shown; 4 KiB anonymous pages, "
               "touched\n\n",
               block_bytes >> 20, REPEAT);
        /* this process: ms without kpageflags (the pagemap walk alone), ms
         * with it (adds one read of the block's flag words); all processes:
         * with kpageflags. Mpages/s: pagemap entries walked per second. */
        printf("%8s | %8s %8s %8s %9s %8s | %8s %8s %8s %6s\n", "mapped", "self", "self+kpf",
               "walked", "walk rate", "in block", "all+kpf", "walked", "in block", "procs");
        printf("%8s | %8s %8s %8s %9s %8s | %8s %8s %8s %6s\n", "MiB", "ms", "ms", "Mpages",
               "Mpages/s", "pages", "ms", "Mpages", "pages", "");

        for (unsigned i = 0; i < n_sizes; i++) {
                unsigned mib = argc > 1 ? (unsigned)strtoul(argv[i + 1], NULL, 10) : defaults[i];
                size_t size = (size_t)mib << 20;
                Timing bare = {}, self = {}, all = {};
                uint64_t pfn, start, count = block_bytes / page_size;
                char *p;

                if (mib == 0)
                        continue;
                p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "mmap %u MiB: %s\n", mib, strerror(errno));
                        continue;
                }
                madvise(p, size, MADV_NOHUGEPAGE);
                for (size_t o = 0; o < size; o += page_size)
                        p[o] = 1;
                pfn = own_pfn(roots.procfs_fd, p + size / 2, page_size);
                if (pfn == 0) {
                        fprintf(stderr, "no PFN for the mapping\n");
                        munmap(p, size);
                        continue;
                }
                start = pfn - pfn % count;

                r = time_self(&roots, -1, start, count, &bare);
                if (r >= 0)
                        r = time_self(&roots, kfd, start, count, &self);
                if (r >= 0)
                        r = time_all(&roots, kfd, start, count, &all);
                if (r < 0) {
                        fprintf(stderr, "locate: %s\n", strerror(-r));
                        page_locations_free(&bare.last);
                        page_locations_free(&self.last);
                        munmap(p, size);
                        continue;
                }
                {
                        double b_ms = (double)bare.best_ns / 1e6, s_ms = (double)self.best_ns / 1e6;
                        double a_ms = (double)all.best_ns / 1e6;
                        double s_pages = (double)self.last.pagemap_bytes / 8;
                        double a_pages = (double)all.last.pagemap_bytes / 8;

                        printf("%8u | %8.2f %8.2f %8.2f %9.1f %8zu | %8.2f %8.2f %8zu %6" PRIu64
                               "\n",
                               mib, b_ms, s_ms, s_pages / 1e6, s_pages / 1e6 / (b_ms / 1e3),
                               self.last.n_items, a_ms, a_pages / 1e6, all.last.n_items,
                               all.last.processes_scanned);
                }
                fflush(stdout);
                page_locations_free(&bare.last);
                page_locations_free(&self.last);
                page_locations_free(&all.last);
                munmap(p, size);
        }
        roots_close(&roots);
        return 0;
}
