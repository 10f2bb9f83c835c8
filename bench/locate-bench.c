/* SPDX-License-Identifier: GPL-2.0-or-later */
/* locate-bench: what page location costs on this machine.
 *
 * For a process with N MiB mapped (this one: anonymous memory, touched, 4 KiB
 * pages), locate the mapped pages of the memory block that holds one of its
 * pages: once in this process only, once in every process. Prints the time,
 * the pagemap entries walked and their rate. Needs root (PFNs are hidden
 * from pagemap without CAP_SYS_ADMIN).
 *
 * Usage: locate-bench [MiB ...]   (default: 16 64 256 1024 4096)
 *
 * locate-bench --sparse GIB MIB: a process with GIB GiB of address space of
 * which MIB MiB are touched, in three shapes (touched at the start of one
 * mapping; a PROT_NONE reservation of which the start was made writable, as
 * JVMs do; one page in every GIB*1024/MIB spread over one mapping), each
 * located three ways side by side: PAGEMAP_SCAN where the kernel has it, the
 * smaps fallback, and every virtual page read (PAGEMAP_LOCATE_FULL_WALK). */
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

static int time_self_flags(const Roots *roots, int kfd, uint64_t start, uint64_t count,
                           unsigned flags, Timing *t)
{
        *t = (Timing){.best_ns = UINT64_MAX};
        for (int i = 0; i < REPEAT; i++) {
                PageLocations l = {};
                uint64_t t0 = now_nsec();
                int r = pagemap_locate_pid(roots->procfs_fd, getpid(), kfd, start, count, flags,
                                           &l);
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

static int time_self(const Roots *roots, int kfd, uint64_t start, uint64_t count, Timing *t)
{
        return time_self_flags(roots, kfd, start, count, 0, t);
}

enum { SHAPE_HEAD, SHAPE_RESERVED, SHAPE_SPREAD, N_SHAPES };

static const char *const shape_names[N_SHAPES] = {
    [SHAPE_HEAD] = "touched at the start",
    [SHAPE_RESERVED] = "PROT_NONE reservation",
    [SHAPE_SPREAD] = "spread, 1 page in N",
};

static int sparse_bench(const Roots *roots, int kfd, uint64_t block_bytes, uint64_t page_size,
                        unsigned gib, unsigned mib)
{
        static const unsigned flags[] = {0, PAGEMAP_LOCATE_NO_SCAN, PAGEMAP_LOCATE_FULL_WALK};
        size_t size = (size_t)gib << 30, touched = (size_t)mib << 20;
        uint64_t count = block_bytes / page_size;

        if (gib == 0 || touched == 0 || touched > size) {
                fprintf(stderr, "--sparse GIB MIB: MIB must be between 1 and GIB * 1024\n");
                return 2;
        }
        printf("sparse process: %u GiB of address space, %u MiB touched (4 KiB pages); "
               "this process only, %d runs each, best shown\n\n",
               gib, mib, REPEAT);
        printf("%-22s | %10s %10s | %10s %10s %5s | %10s %10s | %8s\n", "shape", "scan ms",
               "read KiB", "smaps ms", "read KiB", "skip", "full ms", "read KiB", "found");
        for (int shape = 0; shape < N_SHAPES; shape++) {
                size_t stride = shape == SHAPE_SPREAD ? size / (touched / page_size) : page_size;
                Timing t[3] = {};
                uint64_t pfn, start;
                char *p;
                int r = 0;

                p = mmap(NULL, size, shape == SHAPE_RESERVED ? PROT_NONE : PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "mmap %u GiB: %s\n", gib, strerror(errno));
                        return 1;
                }
                madvise(p, size, MADV_NOHUGEPAGE);
                if (shape == SHAPE_RESERVED && mprotect(p, touched, PROT_READ | PROT_WRITE) < 0) {
                        fprintf(stderr, "mprotect: %s\n", strerror(errno));
                        munmap(p, size);
                        return 1;
                }
                for (size_t o = 0, n = 0; o < size && n < touched / page_size; o += stride, n++)
                        p[o] = 1;
                pfn = own_pfn(roots->procfs_fd, p, page_size);
                start = pfn - pfn % count;
                for (int k = 0; k < 3 && r >= 0; k++)
                        r = time_self_flags(roots, kfd, start, count, flags[k], &t[k]);
                if (r < 0)
                        fprintf(stderr, "locate: %s\n", strerror(-r));
                else
                        printf("%-22s | %10.2f %10" PRIu64 " | %10.2f %10" PRIu64 " %5" PRIu64
                               " | %10.2f %10" PRIu64 " | %8zu\n",
                               shape_names[shape], (double)t[0].best_ns / 1e6,
                               t[0].last.pagemap_bytes / 1024, (double)t[1].best_ns / 1e6,
                               t[1].last.pagemap_bytes / 1024, t[1].last.vmas_skipped,
                               (double)t[2].best_ns / 1e6, t[2].last.pagemap_bytes / 1024,
                               t[2].last.n_items);
                if (r >= 0 && t[0].last.pagemap_scans == 0)
                        printf("%-22s   (no PAGEMAP_SCAN in this kernel: the first column walked "
                               "as the second)\n",
                               "");
                fflush(stdout);
                for (int k = 0; k < 3; k++)
                        page_locations_free(&t[k].last);
                munmap(p, size);
                if (r < 0)
                        return 1;
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

        if (argc == 4 && strcmp(argv[1], "--sparse") == 0) {
                r = sparse_bench(&roots, kfd, block_bytes, page_size,
                                 (unsigned)strtoul(argv[2], NULL, 10),
                                 (unsigned)strtoul(argv[3], NULL, 10));
                roots_close(&roots);
                return r;
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
