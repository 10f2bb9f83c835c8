/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * kpf-bench: what does classifying /proc/kpageflags cost on top of reading
 * it? In one run, on the same PFN range and with the same buffer:
 *   a. a bare pread loop (it keeps one word per batch in a checksum, nothing
 *      else: the strictest baseline);
 *   b. the full classification scan, kpf_count_range();
 * rounds interleaved a, b, a, b, ... after one warm-up of each. Also:
 *   c. kpf_count_words() over an in-memory copy of the range, one buffer at
 *      a time (the userspace part alone, no kernel);
 *   d. kpf_probe_range() at stride 1024, per GiB.
 * Needs root (the file is mode 0400); exits 77 when it cannot read it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "kpageflags.h"
#include "roots.h"
#include "util.h"

typedef struct Options {
        const char *file;
        uint64_t start;
        uint64_t count; /* 0 = to the end of the file */
        size_t bufsize;
        unsigned rounds;
        KpfZoneKind zone;
        bool json;
        double min_ratio; /* percent; 0 = no check */
} Options;

static uint64_t now_ns(void)
{
        return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of this thread, user + system: what the scan costs the machine,
 * less disturbed than wall time by other work on a busy machine. */
static uint64_t cpu_ns(void)
{
        return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_u64);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_double(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int pread_word(int fd, uint64_t pfn)
{
        uint64_t w;
        ssize_t n;

        do
                n = pread(fd, &w, sizeof(w), (off_t)(pfn * KPF_WORD_SIZE));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n == (ssize_t)sizeof(w);
}

/* One past the last PFN the file returns a word for (binary search: the
 * kernel returns 0 bytes past the last section). */
static int find_end_pfn(int fd, uint64_t *ret)
{
        uint64_t lo = 0, hi = UINT64_C(1) << 44; /* 64 PiB of 4 KiB pages */
        int r;

        r = pread_word(fd, 0);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENODATA;
        while (hi - lo > 1) {
                uint64_t mid = lo + (hi - lo) / 2;
                r = pread_word(fd, mid);
                if (r < 0)
                        return r;
                if (r)
                        lo = mid;
                else
                        hi = mid;
        }
        *ret = lo + 1;
        return 0;
}

/* (a) The baseline: same reads, same batches, no classification. */
static int bare_scan(int fd, uint64_t start, uint64_t count, uint64_t *buf, size_t bufsize,
                     uint64_t *checksum)
{
        uint64_t pfn = start, left = count, sum = 0;
        size_t words = bufsize / KPF_WORD_SIZE;

        while (left > 0) {
                size_t want = (size_t)u64_min(left, words) * KPF_WORD_SIZE;
                ssize_t n = pread_full(fd, buf, want, pfn * KPF_WORD_SIZE);
                size_t got;

                if (n < 0)
                        return (int)n;
                got = (size_t)n;
                if (got >= KPF_WORD_SIZE)
                        sum += buf[0];
                if (got < want)
                        break;
                pfn += want / KPF_WORD_SIZE;
                left -= want / KPF_WORD_SIZE;
        }
        *checksum += sum;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: kpf-bench [OPTIONS]\n"
                   "Compare a bare pread loop over /proc/kpageflags with the full\n"
                   "classification scan, interleaved, on the same range.\n\n"
                   "  --file PATH       flag file (default /proc/kpageflags)\n"
                   "  --start PFN       first PFN (default 0)\n"
                   "  --count N         PFNs (default: to the end of the file)\n"
                   "  --bufsize BYTES   read size, multiple of 8 (default 262144)\n"
                   "  --rounds N        timed rounds per method (default 7)\n"
                   "  --zone KIND       kernel|movable: how a 0 word is read (default kernel)\n"
                   "  --json            machine-readable output\n"
                   "  --min-ratio PCT   exit 1 when classification is below PCT %% of bare\n");
}

static int parse_args(int argc, char **argv, Options *o)
{
        enum {
                OPT_FILE = 256,
                OPT_START,
                OPT_COUNT,
                OPT_BUFSIZE,
                OPT_ROUNDS,
                OPT_ZONE,
                OPT_JSON,
                OPT_MIN_RATIO
        };
        static const struct option longopts[] = {
            {"file", required_argument, NULL, OPT_FILE},
            {"start", required_argument, NULL, OPT_START},
            {"count", required_argument, NULL, OPT_COUNT},
            {"bufsize", required_argument, NULL, OPT_BUFSIZE},
            {"rounds", required_argument, NULL, OPT_ROUNDS},
            {"zone", required_argument, NULL, OPT_ZONE},
            {"json", no_argument, NULL, OPT_JSON},
            {"min-ratio", required_argument, NULL, OPT_MIN_RATIO},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        uint64_t v;
        int c;

        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_FILE:
                        o->file = optarg;
                        break;
                case OPT_START:
                        if (parse_u64(optarg, 0, &o->start) < 0)
                                goto bad;
                        break;
                case OPT_COUNT:
                        if (parse_u64(optarg, 0, &o->count) < 0 || o->count == 0)
                                goto bad;
                        break;
                case OPT_BUFSIZE:
                        if (parse_u64(optarg, 0, &v) < 0 || v < 8 || v % 8 || v > (1u << 30))
                                goto bad;
                        o->bufsize = (size_t)v;
                        break;
                case OPT_ROUNDS:
                        if (parse_u64(optarg, 0, &v) < 0 || v == 0 || v > 1000)
                                goto bad;
                        o->rounds = (unsigned)v;
                        break;
                case OPT_ZONE:
                        if (strcmp(optarg, "kernel") == 0)
                                o->zone = KPF_ZONE_KERNEL;
                        else if (strcmp(optarg, "movable") == 0)
                                o->zone = KPF_ZONE_MOVABLE;
                        else
                                goto bad;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_MIN_RATIO: {
                        char *end;
                        o->min_ratio = strtod(optarg, &end);
                        if (end == optarg || *end || o->min_ratio < 0)
                                goto bad;
                        break;
                }
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "kpf-bench: unexpected argument %s\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
bad:
        fprintf(stderr, "kpf-bench: bad value for --%s: %s\n", argv[optind - 1] + 2, optarg);
        return -EINVAL;
}

typedef struct Stat {
        uint64_t median_ns;
        double ns_per_page;
        double mpages_per_s;
        double ms_per_gib;
} Stat;

static Stat stat_of(uint64_t *ns, size_t n, uint64_t pages, double gib)
{
        Stat s;

        s.median_ns = median_u64(ns, n);
        s.ns_per_page = (double)s.median_ns / (double)pages;
        s.mpages_per_s = (double)pages / ((double)s.median_ns / 1e9) / 1e6;
        s.ms_per_gib = (double)s.median_ns / 1e6 / gib;
        return s;
}

int main(int argc, char **argv)
{
        _cleanup_free_ char *default_file = NULL;
        Options o = {
            .bufsize = 256 * 1024,
            .rounds = 7,
            .zone = KPF_ZONE_KERNEL,
        };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint64_t *buf = NULL, *mem = NULL, *ta = NULL, *tb = NULL, *tc = NULL,
                                *tp = NULL, *ca = NULL, *cb = NULL;
        _cleanup_free_ double *pair = NULL;
        uint64_t end_pfn, checksum = 0, nprobes, t0;
        long page_size = sysconf(_SC_PAGESIZE);
        PageUsage usage = {0}, mem_usage = {0};
        Stat a, b, c, p;
        double gib, ratio, pair_ratio, cpu_a, cpu_b, cpu_ratio;
        int r, probe_used = 0;

        if (parse_args(argc, argv, &o) < 0)
                return 2;
        if (!o.file) {
                if (asprintf(&default_file, "%s/kpageflags", roots_default_procfs()) < 0)
                        return 1;
                o.file = default_file;
        }

        fd = open(o.file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "kpf-bench: cannot open %s: %m (needs root), skipping\n", o.file);
                return 77;
        }
        r = find_end_pfn(fd, &end_pfn);
        if (r < 0) {
                fprintf(stderr, "kpf-bench: cannot read %s: %s, skipping\n", o.file, strerror(-r));
                return 77;
        }
        if (o.start >= end_pfn) {
                fprintf(stderr, "kpf-bench: --start %" PRIu64 " is past the last PFN %" PRIu64 "\n",
                        o.start, end_pfn - 1);
                return 2;
        }
        if (o.count == 0)
                o.count = end_pfn - o.start;
        if (o.count > end_pfn - o.start) {
                fprintf(stderr, "kpf-bench: range ends past the last PFN %" PRIu64 ", clamped\n",
                        end_pfn - 1);
                o.count = end_pfn - o.start;
        }
        gib = (double)o.count * (double)page_size / (double)(1ULL << 30);

        buf = aligned_alloc(4096, (o.bufsize + 4095) / 4096 * 4096);
        mem = malloc(o.count * KPF_WORD_SIZE);
        ta = calloc(o.rounds, sizeof(*ta));
        tb = calloc(o.rounds, sizeof(*tb));
        tc = calloc(o.rounds, sizeof(*tc));
        tp = calloc(o.rounds, sizeof(*tp));
        ca = calloc(o.rounds, sizeof(*ca));
        cb = calloc(o.rounds, sizeof(*cb));
        pair = calloc(o.rounds, sizeof(*pair));
        if (!buf || !mem || !ta || !tb || !tc || !tp || !ca || !cb || !pair) {
                fprintf(stderr, "kpf-bench: out of memory\n");
                return 1;
        }

        /* Warm-up: fault the buffer in, warm caches and the kernel's paths. */
        r = bare_scan(fd, o.start, o.count, buf, o.bufsize, &checksum);
        if (r >= 0)
                r = kpf_count_range(fd, o.start, o.count, o.zone, buf, o.bufsize, &usage);
        if (r < 0) {
                fprintf(stderr, "kpf-bench: reading %s: %s\n", o.file, strerror(-r));
                return 1;
        }

        /* Interleaved; the order within a pair alternates (a b, b a, a b,
         * ...) so that neither method always runs right after the other. */
        for (unsigned i = 0; i < o.rounds && r >= 0; i++)
                for (unsigned k = 0; k < 2 && r >= 0; k++) {
                        bool bare = (k == 0) == (i % 2 == 0);
                        uint64_t c0 = cpu_ns();
                        t0 = now_ns();
                        if (bare)
                                r = bare_scan(fd, o.start, o.count, buf, o.bufsize, &checksum);
                        else
                                r = kpf_count_range(fd, o.start, o.count, o.zone, buf, o.bufsize,
                                                    &usage);
                        (bare ? ta : tb)[i] = now_ns() - t0;
                        (bare ? ca : cb)[i] = cpu_ns() - c0;
                        if (k == 1)
                                pair[i] = (double)ta[i] / (double)tb[i] * 100.0;
                }
        if (r < 0) {
                fprintf(stderr, "kpf-bench: reading %s: %s\n", o.file, strerror(-r));
                return 1;
        }

        /* (c) userspace only: classify an in-memory copy of the range. */
        {
                PageUsage snap;
                r = kpf_count_range(fd, o.start, o.count, o.zone, buf, o.bufsize, &snap);
                if (r < 0) {
                        fprintf(stderr, "kpf-bench: reading %s: %s\n", o.file, strerror(-r));
                        return 1;
                }
                /* The copy itself, in the same batches. */
                for (uint64_t done = 0; done < o.count;) {
                        size_t want = (size_t)u64_min(o.count - done, 1u << 20);
                        ssize_t n = pread(fd, mem + done, want * KPF_WORD_SIZE,
                                          (off_t)((o.start + done) * KPF_WORD_SIZE));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                memset(mem + done, 0, (o.count - done) * KPF_WORD_SIZE);
                                break;
                        }
                        done += (uint64_t)n / KPF_WORD_SIZE;
                }
        }
        /* Classified in bufsize chunks copied into buf first, as the scan
         * sees them (hot in cache after the kernel wrote them); only the
         * classification is timed. */
        for (unsigned i = 0; i < o.rounds; i++) {
                PageUsage u = {0};
                uint64_t words = o.bufsize / KPF_WORD_SIZE;
                tc[i] = 0;
                for (uint64_t done = 0; done < o.count; done += words) {
                        size_t n = (size_t)u64_min(words, o.count - done);
                        memcpy(buf, mem + done, n * KPF_WORD_SIZE);
                        t0 = now_ns();
                        kpf_count_words(buf, n, o.zone, &u);
                        tc[i] += now_ns() - t0;
                }
                mem_usage = u;
        }

        /* (d) the probe at the buddy allocator's chunk size. */
        nprobes = 0;
        for (uint64_t pfn = (o.start + KPF_PROBE_STRIDE - 1) / KPF_PROBE_STRIDE * KPF_PROBE_STRIDE;
             pfn < o.start + o.count; pfn += KPF_PROBE_STRIDE)
                nprobes++;
        if (nprobes == 0)
                nprobes = 1;
        for (unsigned i = 0; i < o.rounds; i++) {
                t0 = now_ns();
                probe_used = kpf_probe_range(fd, o.start, o.count, KPF_PROBE_STRIDE, o.zone);
                tp[i] = now_ns() - t0;
                if (probe_used < 0) {
                        fprintf(stderr, "kpf-bench: probing %s: %s\n", o.file,
                                strerror(-probe_used));
                        return 1;
                }
        }

        a = stat_of(ta, o.rounds, o.count, gib);
        b = stat_of(tb, o.rounds, o.count, gib);
        c = stat_of(tc, o.rounds, o.count, gib);
        p = stat_of(tp, o.rounds, o.count, gib);
        ratio = (double)a.median_ns / (double)b.median_ns * 100.0;
        pair_ratio = median_double(pair, o.rounds);
        cpu_a = (double)median_u64(ca, o.rounds) / (double)o.count;
        cpu_b = (double)median_u64(cb, o.rounds) / (double)o.count;
        cpu_ratio = cpu_a / cpu_b * 100.0;

        if (o.json) {
                printf("{\"file\": \"%s\", \"start_pfn\": %" PRIu64 ", \"count\": %" PRIu64
                       ", \"gib\": %.3f, \"bufsize\": %zu, \"rounds\": %u, \"zone\": \"%s\",\n",
                       o.file, o.start, o.count, gib, o.bufsize, o.rounds,
                       o.zone == KPF_ZONE_MOVABLE ? "movable" : "kernel");
                printf(
                    " \"bare_pread\": {\"median_ms\": %.3f, \"ns_per_page\": %.2f, "
                    "\"mpages_per_s\": %.2f, \"ms_per_gib\": %.2f, \"cpu_ns_per_page\": %.2f},\n",
                    a.median_ns / 1e6, a.ns_per_page, a.mpages_per_s, a.ms_per_gib, cpu_a);
                printf(
                    " \"classify_scan\": {\"median_ms\": %.3f, \"ns_per_page\": %.2f, "
                    "\"mpages_per_s\": %.2f, \"ms_per_gib\": %.2f, \"cpu_ns_per_page\": %.2f},\n",
                    b.median_ns / 1e6, b.ns_per_page, b.mpages_per_s, b.ms_per_gib, cpu_b);
                printf(" \"classify_in_memory\": {\"median_ms\": %.3f, \"ns_per_page\": %.3f, "
                       "\"mpages_per_s\": %.1f},\n",
                       c.median_ns / 1e6, c.ns_per_page, c.mpages_per_s);
                printf(" \"ratio_percent\": %.1f, \"pair_ratio_percent\": %.1f, "
                       "\"cpu_ratio_percent\": %.1f,\n",
                       ratio, pair_ratio, cpu_ratio);
                printf(" \"probe\": {\"stride\": %u, \"probes\": %" PRIu64
                       ", \"median_ms\": %.3f, \"ns_per_probe\": %.0f, \"ms_per_gib\": %.4f, "
                       "\"used\": %d},\n",
                       KPF_PROBE_STRIDE, nprobes, p.median_ns / 1e6,
                       (double)p.median_ns / (double)nprobes, p.ms_per_gib, probe_used);
                printf(" \"usage\": {\"free\": %" PRIu64 ", \"movable\": %" PRIu64
                       ", \"unmovable\": %" PRIu64 ", \"hugetlb\": %" PRIu64
                       ", \"nopage\": %" PRIu64 "}, \"checksum\": %" PRIu64 "}\n",
                       usage.free, usage.movable, usage.unmovable, usage.hugetlb, usage.nopage,
                       checksum);
        } else {
                printf("kpf-bench: %s PFN %" PRIu64 "-%" PRIu64 " (%.2f GiB), bufsize %zu, "
                       "%u rounds interleaved, zone %s\n\n",
                       o.file, o.start, o.start + o.count - 1, gib, o.bufsize, o.rounds,
                       o.zone == KPF_ZONE_MOVABLE ? "movable" : "kernel");
                printf("%-34s %10s %9s %9s %9s %10s\n", "method", "median ms", "ns/page",
                       "Mpages/s", "ms/GiB", "CPU ns/pg");
                printf("%-34s %10.2f %9.2f %9.2f %9.2f %10.2f\n", "a  bare pread loop",
                       a.median_ns / 1e6, a.ns_per_page, a.mpages_per_s, a.ms_per_gib, cpu_a);
                printf("%-34s %10.2f %9.2f %9.2f %9.2f %10.2f\n", "b  kpf_count_range (full scan)",
                       b.median_ns / 1e6, b.ns_per_page, b.mpages_per_s, b.ms_per_gib, cpu_b);
                printf("%-34s %10.2f %9.3f %9.1f %9.2f\n", "c  kpf_count_words (in memory)",
                       c.median_ns / 1e6, c.ns_per_page, c.mpages_per_s, c.ms_per_gib);
                printf("\nb/a throughput: %.1f %% of bare pread (ratio of medians); "
                       "median of per-round ratios %.1f %%; CPU time %.1f %%\n",
                       ratio, pair_ratio, cpu_ratio);
                printf("probe, stride %u: %" PRIu64 " preads of 8 bytes, median %.3f ms, "
                       "%.0f ns/probe, %.4f ms/GiB; %d probed pages used\n",
                       KPF_PROBE_STRIDE, nprobes, p.median_ns / 1e6,
                       (double)p.median_ns / (double)nprobes, p.ms_per_gib, probe_used);
                printf("last scan: free %" PRIu64 ", movable %" PRIu64 ", unmovable %" PRIu64
                       ", hugetlb %" PRIu64 ", nopage %" PRIu64 " (in memory: used %" PRIu64 ")\n",
                       usage.free, usage.movable, usage.unmovable, usage.hugetlb, usage.nopage,
                       page_usage_used(&mem_usage));
        }

        if (o.min_ratio > 0 && ratio < o.min_ratio) {
                fprintf(stderr,
                        "kpf-bench: classification at %.1f %% of bare pread, below %.1f %%\n",
                        ratio, o.min_ratio);
                return 1;
        }
        return 0;
}
