/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpageflags.h"
#include "testutil.h"
#include "util.h"

#define K KPF_ZONE_KERNEL
#define M KPF_ZONE_MOVABLE

/* Flag words as the kernel reports them (seen in the QEMU guest and on the
 * development machine, see lib/kpageflags.c). */
#define W_THP_HEAD        UINT64_C(0x40040d828)
#define W_THP_TAIL        UINT64_C(0x411800)
#define W_HUGETLB_HEAD    UINT64_C(0x400029808)
#define W_HUGETLB_TAIL    UINT64_C(0x31800)
#define W_HUGETLB_POOL_HD UINT64_C(0x28000)
#define W_HUGETLB_POOL_TL UINT64_C(0x30000)
#define W_BUDDY           UINT64_C(0x400)
#define W_NOPAGE          UINT64_C(0x100000)
#define W_ZERO_PAGE       (KPF_BIT(KPF_ZERO_PAGE) | KPF_BIT(KPF_RESERVED))

static void check_class(uint64_t w, PageClass kernel, PageClass movable, int line)
{
        PageClass k = kpf_classify(w, K), m = kpf_classify(w, M);

        test_checks += 2;
        if (k != kernel) {
                test_failures++;
                fprintf(stderr, "%s:%d: 0x%" PRIx64 " in a kernel zone: %s, expected %s\n",
                        __FILE__, line, w, page_class_to_string(k), page_class_to_string(kernel));
        }
        if (m != movable) {
                test_failures++;
                fprintf(stderr, "%s:%d: 0x%" PRIx64 " in ZONE_MOVABLE: %s, expected %s\n", __FILE__,
                        line, w, page_class_to_string(m), page_class_to_string(movable));
        }
}
#define CLASS(w, k, m) check_class((w), (k), (m), __LINE__)

static void test_classify_documented(void)
{
        CLASS(W_THP_HEAD, PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(W_THP_TAIL, PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(W_HUGETLB_HEAD, PAGE_HUGETLB, PAGE_HUGETLB);
        CLASS(W_HUGETLB_TAIL, PAGE_HUGETLB, PAGE_HUGETLB);
        CLASS(W_HUGETLB_POOL_HD, PAGE_HUGETLB, PAGE_HUGETLB);
        CLASS(W_HUGETLB_POOL_TL, PAGE_HUGETLB, PAGE_HUGETLB);
        CLASS(W_BUDDY, PAGE_FREE, PAGE_FREE);
        CLASS(W_ZERO_PAGE, PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(W_NOPAGE, PAGE_NOPAGE, PAGE_NOPAGE);
        /* a zero word: a per-CPU free page in ZONE_MOVABLE; in a kernel zone
         * it may as well be uninitialised memory or vmalloc */
        CLASS(0, PAGE_UNKNOWN, PAGE_FREE);
}

static void test_classify_bits(void)
{
        /* The huge zero folio reads ZERO_PAGE|THP: not movable. */
        CLASS(KPF_BIT(KPF_ZERO_PAGE) | KPF_BIT(KPF_THP), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_SLAB), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        /* slab compound tail of a 6.x kernel: flags come from the folio */
        CLASS(KPF_BIT(KPF_SLAB) | KPF_BIT(KPF_COMPOUND_TAIL), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_PGTABLE), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_RESERVED), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_RESERVED) | KPF_BIT(KPF_MMAP), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_OFFLINE), PAGE_UNMOVABLE, PAGE_UNMOVABLE);
        CLASS(KPF_BIT(KPF_HWPOISON) | KPF_BIT(KPF_LRU), PAGE_UNMOVABLE, PAGE_UNMOVABLE);

        CLASS(KPF_BIT(KPF_LRU), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_LRU) | KPF_BIT(KPF_UPTODATE) | KPF_BIT(KPF_REFERENCED), PAGE_MOVABLE,
              PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_ANON), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_MMAP), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_SWAPCACHE), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_SWAPBACKED), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_KSM) | KPF_BIT(KPF_ANON), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_THP), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_LRU) | KPF_BIT(KPF_UNEVICTABLE) | KPF_BIT(KPF_MLOCKED), PAGE_MOVABLE,
              PAGE_MOVABLE);

        /* Stray bits without LRU: zone decides. */
        CLASS(KPF_BIT(KPF_UNEVICTABLE), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_MLOCKED), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_UPTODATE) | KPF_BIT(KPF_DIRTY), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_PRIVATE), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(KPF_COMPOUND_HEAD), PAGE_UNMOVABLE, PAGE_MOVABLE);

        /* Unknown bits are never fatal and never override known ones. */
        CLASS(KPF_BIT(63), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(KPF_BIT(50) | KPF_BIT(27), PAGE_UNMOVABLE, PAGE_MOVABLE);
        CLASS(W_BUDDY | KPF_BIT(63), PAGE_FREE, PAGE_FREE);
        CLASS(KPF_BIT(KPF_LRU) | KPF_BIT(60), PAGE_MOVABLE, PAGE_MOVABLE);
        CLASS(W_NOPAGE | KPF_BIT(45), PAGE_NOPAGE, PAGE_NOPAGE);
        CLASS(W_HUGETLB_POOL_TL | KPF_BIT(55), PAGE_HUGETLB, PAGE_HUGETLB);
        CLASS(UINT64_MAX, PAGE_NOPAGE, PAGE_NOPAGE);

        /* Priorities among the special classes. */
        CLASS(W_NOPAGE | W_BUDDY, PAGE_NOPAGE, PAGE_NOPAGE);
        CLASS(W_BUDDY | KPF_BIT(KPF_HUGE), PAGE_FREE, PAGE_FREE);
        CLASS(KPF_BIT(KPF_HUGE) | KPF_BIT(KPF_SLAB), PAGE_HUGETLB, PAGE_HUGETLB);

        CHECK_EQ_INT(kpf_classify(0, (KpfZoneKind)2), _PAGE_CLASS_INVALID);
        CHECK_EQ_INT(kpf_classify(W_BUDDY, (KpfZoneKind)-1), _PAGE_CLASS_INVALID);
}

static void test_class_strings(void)
{
        CHECK_EQ_STR(page_class_to_string(PAGE_FREE), "free");
        CHECK_EQ_STR(page_class_to_string(PAGE_MOVABLE), "movable");
        CHECK_EQ_STR(page_class_to_string(PAGE_UNMOVABLE), "unmovable");
        CHECK_EQ_STR(page_class_to_string(PAGE_HUGETLB), "hugetlb");
        CHECK_EQ_STR(page_class_to_string(PAGE_NOPAGE), "nopage");
        CHECK_EQ_STR(page_class_to_string(PAGE_UNKNOWN), "unknown");
        CHECK(page_class_to_string(_PAGE_CLASS_MAX) == NULL);
        CHECK(page_class_to_string(_PAGE_CLASS_INVALID) == NULL);
}

/* Reference count with kpf_classify, one word at a time. */
static PageUsage ref_count(const uint64_t *w, size_t n, KpfZoneKind zone)
{
        PageUsage u = {0};

        for (size_t i = 0; i < n; i++)
                CHECK(page_usage_count(&u, kpf_classify(w[i], zone)));
        return u;
}

#define CHECK_USAGE(got, want)                                                                     \
        do {                                                                                       \
                const PageUsage *_g = (got), *_w = (want);                                         \
                test_checks++;                                                                     \
                if (!page_usage_equal(_g, _w)) {                                                   \
                        test_failures++;                                                           \
                        fprintf(stderr,                                                            \
                                "%s:%d: usage f/m/u/h/n/k %" PRIu64 "/%" PRIu64 "/%" PRIu64        \
                                "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 ", expected %" PRIu64          \
                                "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",   \
                                __FILE__, __LINE__, _g->free, _g->movable, _g->unmovable,          \
                                _g->hugetlb, _g->nopage, _g->unknown, _w->free, _w->movable,       \
                                _w->unmovable, _w->hugetlb, _w->nopage, _w->unknown);              \
                }                                                                                  \
        } while (0)

/* Runs longer than a packed lane holds (4095 words), of every class. */
static void test_long_runs(void)
{
        static const uint64_t kinds[] = { 0, W_BUDDY, W_THP_TAIL, KPF_BIT(KPF_SLAB), W_HUGETLB_TAIL,
                                          W_NOPAGE };
        size_t n = 3 * 4096 + 17;
        uint64_t *w = malloc(n * ELEMENTSOF(kinds) * sizeof(*w));

        if (!w)
                abort();
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                for (size_t i = 0; i < n; i++)
                        w[k * n + i] = kinds[k];
        for (int z = 0; z < 2; z++) {
                PageUsage got = { 0 }, want = ref_count(w, n * ELEMENTSOF(kinds), (KpfZoneKind)z);

                CHECK_EQ_INT(kpf_count_words(w, n * ELEMENTSOF(kinds), (KpfZoneKind)z, &got), 0);
                CHECK_USAGE(&got, &want);
                CHECK_EQ_INT(z == 0 ? got.unknown : got.free, z == 0 ? n : 2 * n);
        }
        free(w);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
        uint64_t x = rng_state;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return rng_state = x;
}

/* A word built from the bits that matter, so every rule gets exercised. */
static uint64_t rand_word(void)
{
        static const uint64_t pool[] = {
            W_THP_HEAD,
            W_THP_TAIL,
            W_HUGETLB_HEAD,
            W_HUGETLB_TAIL,
            W_HUGETLB_POOL_HD,
            W_HUGETLB_POOL_TL,
            W_BUDDY,
            W_NOPAGE,
            W_ZERO_PAGE,
            0,
            0,
            W_BUDDY,
            W_BUDDY,
        };
        uint64_t r = rng();

        switch (r % 4) {
        case 0:
                return pool[(r >> 8) % ELEMENTSOF(pool)];
        case 1:
                return rng() & rng() & rng(); /* sparse random bits */
        case 2:
                return KPF_BIT((r >> 8) % 64);
        default:
                return 0;
        }
}

static void test_count_words(void)
{
        enum { N = 200003 };
        uint64_t *w = malloc(N * sizeof(*w));
        uint64_t idx_words[64];

        if (!w)
                abort();

        /* All 64 index combinations of the fast path. */
        for (unsigned i = 0; i < 64; i++)
                idx_words[i] = (i & 32 ? W_NOPAGE : 0) | (i & 16 ? W_BUDDY : 0) |
                               (i & 8 ? KPF_BIT(KPF_HUGE) : 0) |
                               (i & 4 ? KPF_BIT(KPF_RESERVED) : 0) |
                               (i & 2 ? KPF_BIT(KPF_LRU) : 0) | (i & 1 ? KPF_BIT(KPF_UPTODATE) : 0);
        for (unsigned i = 0; i < 64; i++)
                for (int z = 0; z < 2; z++) {
                        PageUsage got = {0}, want = ref_count(&idx_words[i], 1, (KpfZoneKind)z);
                        CHECK_EQ_INT(kpf_count_words(&idx_words[i], 1, (KpfZoneKind)z, &got), 0);
                        CHECK_USAGE(&got, &want);
                }

        /* Long runs cross the packed-counter flush (65535 words): all of one
         * class, then random words. */
        for (size_t i = 0; i < N; i++)
                w[i] = KPF_BIT(KPF_HUGE);
        for (int z = 0; z < 2; z++) {
                PageUsage got = {0}, want = {.hugetlb = N};
                CHECK_EQ_INT(kpf_count_words(w, N, (KpfZoneKind)z, &got), 0);
                CHECK_USAGE(&got, &want);
        }
        for (size_t i = 0; i < N; i++)
                w[i] = rand_word();
        for (int z = 0; z < 2; z++) {
                PageUsage got = {.free = 7}, want = ref_count(w, N, (KpfZoneKind)z);
                want.free += 7; /* adds to what is there */
                CHECK_EQ_INT(kpf_count_words(w, N, (KpfZoneKind)z, &got), 0);
                CHECK_USAGE(&got, &want);
                CHECK_EQ_INT(page_usage_total(&got), N + 7);
        }

        /* Runs of random length (the fast path skips groups of four equal to
         * the last word), ending at every offset. */
        {
                size_t i = 0;
                while (i < N) {
                        uint64_t v = rand_word();
                        size_t len = 1 + rng() % (rng() % 2 ? 9 : 3000);
                        for (size_t j = 0; j < len && i < N; j++)
                                w[i++] = v;
                }
        }
        for (size_t n = 0; n < 40; n++)
                for (int z = 0; z < 2; z++) {
                        PageUsage got = {0}, want = ref_count(w + 1000, n, (KpfZoneKind)z);
                        CHECK_EQ_INT(kpf_count_words(w + 1000, n, (KpfZoneKind)z, &got), 0);
                        CHECK_USAGE(&got, &want);
                }
        for (int z = 0; z < 2; z++) {
                PageUsage got = {0}, want = ref_count(w, N, (KpfZoneKind)z);
                CHECK_EQ_INT(kpf_count_words(w, N, (KpfZoneKind)z, &got), 0);
                CHECK_USAGE(&got, &want);
        }

        /* Every word with one or two bits set, as a run and alone. */
        {
                size_t n = 0;
                for (unsigned a = 0; a < 64; a++)
                        for (unsigned b = a; b < 64; b++) {
                                uint64_t v = KPF_BIT(a) | KPF_BIT(b);
                                for (unsigned k = 0; k < 5; k++)
                                        w[n++] = v;
                                w[n++] = 0;
                        }
                for (int z = 0; z < 2; z++) {
                        PageUsage got = {0}, want = ref_count(w, n, (KpfZoneKind)z);
                        CHECK_EQ_INT(kpf_count_words(w, n, (KpfZoneKind)z, &got), 0);
                        CHECK_USAGE(&got, &want);
                }
        }

        {
                PageUsage got = {.free = 1}, want = {.free = 1};
                CHECK_EQ_INT(kpf_count_words(w, 10, (KpfZoneKind)5, &got), -EINVAL);
                CHECK_USAGE(&got, &want);
                CHECK_EQ_INT(kpf_count_words(NULL, 0, K, &got), 0);
                CHECK_USAGE(&got, &want);
        }
        free(w);
}

static int open_fake(const char *dir, const char *name)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "open %s: %m\n", path);
                abort();
        }
        return fd;
}

static const PageUsage SENTINEL = {11, 22, 33, 44, 55, 66};

static void test_count_range_file(const char *dir)
{
        enum { N = 5000 };
        uint64_t *w = malloc(N * sizeof(*w));
        uint64_t buf[513];
        static const size_t bufsizes[] = {8, 24, 4096, 8 * 513};
        static const struct {
                uint64_t start, count;
        } ranges[] = {
            {0, N},         {1, N - 1}, {3, 700}, {511, 1025},
            {4999, 1},      {0, 0},     {N, 0},   {4000, 2000}, /* runs 1000 past the end */
            {N, 10},                                            /* starts at the end */
            {N + 100, 300},                                     /* entirely past the end */
        };
        int fd;

        if (!w)
                abort();
        for (size_t i = 0; i < N; i++)
                w[i] = rand_word();
        fake_write_bytes(dir, "kpageflags", w, N * sizeof(*w));
        fd = open_fake(dir, "kpageflags");

        for (size_t r = 0; r < ELEMENTSOF(ranges); r++)
                for (size_t b = 0; b < ELEMENTSOF(bufsizes); b++)
                        for (int z = 0; z < 2; z++) {
                                uint64_t s = ranges[r].start, c = ranges[r].count;
                                uint64_t in = s >= N ? 0 : u64_min(c, N - s);
                                PageUsage got = SENTINEL, want = {0};

                                if (in > 0)
                                        want = ref_count(w + s, in, (KpfZoneKind)z);
                                want.nopage += c - in;
                                CHECK_EQ_INT(kpf_count_range(fd, s, c, (KpfZoneKind)z, buf,
                                                             bufsizes[b], &got),
                                             0);
                                CHECK_USAGE(&got, &want);
                        }
        close(fd);

        /* A saved copy cut in the middle of a word: the partial word and all
         * after it are no page. */
        fake_write_bytes(dir, "short", w, 100 * sizeof(*w) + 3);
        fd = open_fake(dir, "short");
        {
                PageUsage got = SENTINEL, want = ref_count(w, 100, K);
                want.nopage += 50;
                CHECK_EQ_INT(kpf_count_range(fd, 0, 150, K, buf, sizeof(buf) - 8, &got), 0);
                CHECK_USAGE(&got, &want);
        }
        close(fd);

        /* An empty file: everything is no page. */
        fake_write_bytes(dir, "empty", w, 0);
        fd = open_fake(dir, "empty");
        {
                PageUsage got = SENTINEL, want = {.nopage = 12345};
                CHECK_EQ_INT(kpf_count_range(fd, 777, 12345, M, buf, 64, &got), 0);
                CHECK_USAGE(&got, &want);
        }
        close(fd);
        free(w);
}

static void test_count_range_errors(const char *dir)
{
        uint64_t buf[16];
        uint64_t one = W_BUDDY;
        PageUsage got = SENTINEL;
        char path[4096];
        int fd;

        fake_write_bytes(dir, "one", &one, sizeof(one));
        fd = open_fake(dir, "one");
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, K, buf, 0, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, K, buf, 4, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, K, buf, 12, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, K, NULL, 8, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, (KpfZoneKind)9, buf, 8, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, UINT64_MAX / 8, 1, K, buf, 8, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 1, UINT64_MAX, K, buf, 8, &got), -EINVAL);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 1, K, buf, 8, NULL), -EINVAL);
        CHECK_USAGE(&got, &SENTINEL);
        close(fd);

        /* A directory opens but does not read. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 10, K, buf, sizeof(buf), &got), -EISDIR);
        CHECK_USAGE(&got, &SENTINEL);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, 4096, 1024, K), -EISDIR);
        close(fd);

        /* A write-only fd. */
        snprintf(path, sizeof(path), "%s/one", dir);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK_EQ_INT(kpf_count_range(fd, 0, 10, M, buf, sizeof(buf), &got), -EBADF);
        CHECK_USAGE(&got, &SENTINEL);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, 4096, 1024, M), -EBADF);
        close(fd);

        /* A pipe cannot pread. */
        {
                int p[2];
                CHECK(pipe2(p, O_CLOEXEC) == 0);
                CHECK_EQ_INT(kpf_count_range(p[0], 0, 10, K, buf, sizeof(buf), &got), -ESPIPE);
                CHECK_USAGE(&got, &SENTINEL);
                close(p[0]);
                close(p[1]);
        }

        /* A closed fd. */
        CHECK_EQ_INT(kpf_count_range(-1, 0, 10, K, buf, sizeof(buf), &got), -EBADF);
        CHECK_USAGE(&got, &SENTINEL);
}

static void test_probe(const char *dir)
{
        enum { N = 8192 };
        uint64_t *w = calloc(N, sizeof(*w));
        int fd;

        if (!w)
                abort();
        for (size_t i = 0; i < N; i++)
                w[i] = W_BUDDY;
        w[2049] = KPF_BIT(KPF_LRU); /* not on a probed PFN: missed */
        w[3072] = W_THP_HEAD;       /* probed */
        w[5000] = W_NOPAGE;         /* hole in the middle */
        w[6144] = W_NOPAGE;         /* probed, no page: not used */
        w[7168] = 0;                /* probed: zone decides */
        fake_write_bytes(dir, "probe", w, N * sizeof(*w));
        fd = open_fake(dir, "probe");

        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 1024, M), 1);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 1024, K), 2);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, 3072, 1024, K), 0);    /* 0, 1024, 2048 */
        CHECK_EQ_INT(kpf_probe_range(fd, 0, 3073, 1024, K), 1);    /* reaches 3072 */
        CHECK_EQ_INT(kpf_probe_range(fd, 2049, 1, 1024, K), 1);    /* no aligned PFN: start */
        CHECK_EQ_INT(kpf_probe_range(fd, 2049, 1000, 1024, K), 1); /* ditto */
        CHECK_EQ_INT(kpf_probe_range(fd, 2049, 1023, 1024, K), 1); /* 3072 is outside: start */
        CHECK_EQ_INT(kpf_probe_range(fd, 2049, 1024, 1024, K),
                     1); /* 3072 inside, 2049 not probed */
        CHECK_EQ_INT(kpf_probe_range(fd, 2050, 1024, 1024, K), 1);
        CHECK_EQ_INT(kpf_probe_range(fd, 100, 2000, 1024, K), 0); /* 1024, 2048 */
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 1, K), 3);         /* every page */
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 1, M), 2);         /* 0 reads free */
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 2049, K), 1);      /* 0, 2049, 4098, 6147 */
        CHECK_EQ_INT(kpf_probe_range(fd, 0, 0, 1024, K), 0);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, UINT64_MAX, K), 0); /* probes 0 only */
        CHECK_EQ_INT(kpf_probe_range(fd, N, 100000, 1024, K), 0);  /* past the end */
        CHECK_EQ_INT(kpf_probe_range(fd, 7168, 100000, 1024, K), 1);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 0, K), -EINVAL);
        CHECK_EQ_INT(kpf_probe_range(fd, 0, N, 1024, (KpfZoneKind)3), -EINVAL);
        CHECK_EQ_INT(kpf_probe_range(fd, UINT64_MAX - 5, 2, 1024, K), -EINVAL);
        close(fd);
        free(w);
}

/* The live file, when we may read it: every PFN counted exactly once. */
static void test_real_kpageflags(void)
{
        const uint64_t count = (64ULL << 20) / 4096;
        _cleanup_free_ uint64_t *buf = NULL;
        PageUsage u = SENTINEL;
        int fd, r;

        if (geteuid() != 0) {
                fprintf(stderr, "not root, skipping the /proc/kpageflags part\n");
                return;
        }
        fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "/proc/kpageflags: %m, skipping that part\n");
                return;
        }
        buf = malloc(64 * 1024);
        if (!buf)
                abort();
        for (int z = 0; z < 2; z++) {
                r = kpf_count_range(fd, 0, count, (KpfZoneKind)z, buf, 64 * 1024, &u);
                CHECK_EQ_INT(r, 0);
                CHECK_EQ_INT(page_usage_total(&u), count);
                CHECK(z == 0 || u.unknown == 0);
                fprintf(stderr,
                        "/proc/kpageflags PFN 0-%" PRIu64 " (%s): free %" PRIu64 " movable %" PRIu64
                        " unmovable %" PRIu64 " unknown %" PRIu64 " hugetlb %" PRIu64
                        " nopage %" PRIu64 "\n",
                        count, z ? "as movable" : "as kernel", u.free, u.movable, u.unmovable,
                        u.unknown, u.hugetlb, u.nopage);
        }
        r = kpf_probe_range(fd, 0, count, KPF_PROBE_STRIDE, K);
        CHECK(r >= 0 && (uint64_t)r <= count / KPF_PROBE_STRIDE);
        /* Far past the last PFN: no page. */
        r = kpf_count_range(fd, UINT64_C(1) << 50, 100, K, buf, 4096, &u);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(u.nopage, 100);
        close(fd);
}

int main(void)
{
        test_long_runs();
        char *dir = tmpdir_make();

        test_classify_documented();
        test_classify_bits();
        test_class_strings();
        test_count_words();
        test_count_range_file(dir);
        test_count_range_errors(dir);
        test_probe(dir);
        test_real_kpageflags();

        tmpdir_remove(dir);
        return test_summary("test-kpageflags");
}
