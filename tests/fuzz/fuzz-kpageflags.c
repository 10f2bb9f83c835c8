/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/kpageflags records. The input is a run of flag words (native byte
 * order); the batched counters must agree with kpf_classify() word by word:
 * kpf_count_words() on the words in memory, kpf_count_range() and
 * kpf_probe_range() on the same bytes in a memfd, read with the buffer size,
 * start PFN and stride taken from the input's trailing partial word. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kpageflags.h"

/* Words per input: a memory block of 128 MiB is 32768 words. */
#define WORDS_MAX 32768u

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        memfd = memfd_create("fuzz-kpageflags", MFD_CLOEXEC);
        if (memfd < 0) {
                perror("memfd_create");
                abort();
        }
        return 0;
}

static bool class_used(PageClass c)
{
        return c == PAGE_MOVABLE || c == PAGE_UNMOVABLE || c == PAGE_HUGETLB || c == PAGE_UNKNOWN;
}

static void check_zone(const uint64_t *w, size_t n, KpfZoneKind zone, const uint8_t *tail,
                       size_t tail_len)
{
        /* Parameters from the partial word at the end (it reads as no page). */
        size_t bufwords = tail_len > 0 ? 1 + tail[0] % 64 : 512;
        uint64_t start = tail_len > 1 ? tail[1] % (n + 1) : 0;
        uint64_t beyond = tail_len > 2 ? tail[2] % 16 : 0;
        uint64_t stride = tail_len > 3 ? 1 + tail[3] % 32 : KPF_PROBE_STRIDE;
        uint64_t count = n - start + beyond;
        PageUsage expect = {0}, range_expect = {0}, got = {0}, got_range;
        uint64_t *buf;
        int used = 0, r;

        for (size_t i = 0; i < n; i++) {
                PageClass c = kpf_classify(w[i], zone);

                FUZZ_ASSERT(page_usage_count(&expect, c));
                if (i >= start)
                        (void)page_usage_count(&range_expect, c);
        }
        range_expect.nopage += beyond;

        FUZZ_ASSERT(kpf_count_words(w, n, zone, &got) == 0);
        FUZZ_ASSERT(page_usage_equal(&got, &expect));
        FUZZ_ASSERT(page_usage_total(&got) == n);

        buf = malloc(bufwords * KPF_WORD_SIZE);
        if (!buf)
                return;
        r = kpf_count_range(memfd, start, count, zone, buf, bufwords * KPF_WORD_SIZE, &got_range);
        FUZZ_ASSERT(r == 0);
        FUZZ_ASSERT(page_usage_equal(&got_range, &range_expect));
        free(buf);

        /* The probe reads the first stride-aligned PFN of each chunk of the
         * range (start itself when none is aligned) until the end of file. */
        if (count > 0) {
                uint64_t end = start + count, first = (start + stride - 1) / stride * stride;

                if (first >= end)
                        first = start;
                for (uint64_t pfn = first; pfn < end && pfn < n; pfn += stride)
                        if (class_used(kpf_classify(w[pfn], zone)))
                                used++;
        }
        FUZZ_ASSERT(kpf_probe_range(memfd, start, count, stride, zone) == used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t n = size / KPF_WORD_SIZE;
        uint64_t *w;

        if (n > WORDS_MAX)
                return 0;
        w = malloc(n ? n * KPF_WORD_SIZE : 1);
        if (!w)
                return 0;
        memcpy(w, data, n * KPF_WORD_SIZE);

        for (size_t i = 0; i < n; i++) {
                PageClass k = kpf_classify(w[i], KPF_ZONE_KERNEL);
                PageClass m = kpf_classify(w[i], KPF_ZONE_MOVABLE);

                FUZZ_ASSERT(k >= 0 && k < _PAGE_CLASS_MAX && page_class_to_string(k));
                FUZZ_ASSERT(m >= 0 && m < _PAGE_CLASS_MAX && page_class_to_string(m));
                /* The zones differ only on words no rule recognises: a zero
                 * word (unknown / free) and any other (unmovable / movable). */
                if (k != m)
                        FUZZ_ASSERT(w[i] == 0 ? k == PAGE_UNKNOWN && m == PAGE_FREE
                                              : k == PAGE_UNMOVABLE && m == PAGE_MOVABLE);
                FUZZ_ASSERT((k == PAGE_UNKNOWN) == (w[i] == 0));
        }
        FUZZ_ASSERT(kpf_classify(0, (KpfZoneKind)2) == _PAGE_CLASS_INVALID);

        FUZZ_ASSERT(ftruncate(memfd, 0) == 0);
        FUZZ_ASSERT(pwrite(memfd, data, size, 0) == (ssize_t)size);
        check_zone(w, n, KPF_ZONE_KERNEL, data + n * KPF_WORD_SIZE, size % KPF_WORD_SIZE);
        check_zone(w, n, KPF_ZONE_MOVABLE, data + n * KPF_WORD_SIZE, size % KPF_WORD_SIZE);
        free(w);
        return 0;
}
