/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain.h"
#include "fileio.h"
#include "format.h"
#include "util.h"

void explanation_free(Explanation *e)
{
        if (!e)
                return;
        free(e->ranges);
        free(e->holders);
        *e = (Explanation){ 0 };
}

int explain_ranges(const uint64_t *words, size_t n, uint64_t start_pfn, KpfZoneKind zone,
                   Explanation *e)
{
        _cleanup_free_ ExplainRange *v = NULL;
        PageUsage usage = { 0 };
        size_t kept = 0, total = 0;
        ExplainRange cur = { 0 };
        bool open = false;

        if (zone != KPF_ZONE_KERNEL && zone != KPF_ZONE_MOVABLE)
                return -EINVAL;
        v = calloc(EXPLAIN_RANGES_MAX, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i <= n; i++) {
                PageClass c = i < n ? kpf_classify(words[i], zone) : PAGE_NOPAGE;
                uint64_t f = i < n ? words[i] & EXPLAIN_RANGE_FLAGS : 0;
                bool holds = c == PAGE_UNMOVABLE || c == PAGE_UNKNOWN || c == PAGE_HUGETLB;

                if (i < n)
                        (void)page_usage_count(&usage, c);
                if (open && (!holds || c != cur.class || f != cur.flags)) {
                        if (kept < EXPLAIN_RANGES_MAX)
                                v[kept++] = cur;
                        total++;
                        open = false;
                }
                if (holds && !open) {
                        cur = (ExplainRange){ .start_pfn = start_pfn + i, .flags = f, .class = c };
                        open = true;
                }
                if (open)
                        cur.pages++;
        }
        free(e->ranges);
        e->ranges = TAKE_PTR(v);
        e->n_ranges = kept;
        e->ranges_total = total;
        e->usage = usage;
        e->start_pfn = start_pfn;
        e->pages = n;
        return 0;
}

static int holder_cmp(const void *a, const void *b)
{
        const ExplainHolder *x = a, *y = b;

        if (x->pages != y->pages)
                return x->pages > y->pages ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int explain_holders(const PageLocations *l, Explanation *e)
{
        _cleanup_free_ ExplainHolder *v = NULL;
        size_t n = 0;
        uint64_t sum = 0;

        /* items are sorted by pid: one holder per run */
        for (size_t i = 0; i < l->n_items; i++)
                if (i == 0 || l->items[i].pid != l->items[i - 1].pid)
                        n++;
        v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < l->n_items; i++) {
                if (i == 0 || l->items[i].pid != l->items[i - 1].pid)
                        v[n++] = (ExplainHolder){ .pid = l->items[i].pid, .uid = (uid_t)-1 };
                v[n - 1].pages += l->items[i].pages;
                sum += l->items[i].pages;
        }
        qsort(v, n, sizeof(*v), holder_cmp);
        free(e->holders);
        e->holders_total = n;
        e->n_holders = n < EXPLAIN_HOLDERS_MAX ? n : EXPLAIN_HOLDERS_MAX;
        e->holders = TAKE_PTR(v);
        e->holders_pages = sum;
        return 0;
}

static bool is_unit_name(const char *s, size_t len)
{
        static const char *const suffixes[] = { ".service", ".scope", ".socket",
                                                ".mount",   ".swap",  ".slice" };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);

                if (len > k && memcmp(s + len - k, suffixes[i], k) == 0)
                        return true;
        }
        return false;
}

int cgroup_path_unit(const char *path, char *ret, size_t size)
{
        const char *best = NULL, *p = path;
        size_t best_len = 0;
        bool best_slice = true;

        /* the last unit that is not a slice wins; a slice only when the
         * process sits in one directly */
        while (p && *p) {
                const char *e;
                size_t len;

                while (*p == '/')
                        p++;
                e = strchr(p, '/');
                len = e ? (size_t)(e - p) : strlen(p);
                if (len > 0 && is_unit_name(p, len)) {
                        bool slice = len > 6 && memcmp(p + len - 6, ".slice", 6) == 0;

                        if (!slice || best_slice) {
                                best = p;
                                best_len = len;
                                best_slice = slice;
                        }
                }
                p = e;
        }
        if (!best || size == 0)
                return -ENOENT;
        snprintf(ret, size, "%.*s", (int)best_len, best);
        return 0;
}

void explain_holder_describe(int procfs_fd, ExplainHolder *h)
{
        char path[64], buf[512];
        struct stat st;
        _cleanup_free_ char *cg = NULL;
        size_t len;

        snprintf(path, sizeof(path), "%d", (int)h->pid);
        if (fstatat(procfs_fd, path, &st, 0) == 0)
                h->uid = st.st_uid;
        snprintf(path, sizeof(path), "%d/comm", (int)h->pid);
        if (attr_read_at(procfs_fd, path, buf, sizeof(buf)) >= 0)
                snprintf(h->comm, sizeof(h->comm), "%.31s", buf); /* TASK_COMM_LEN is 16 */
        /* a user names its processes (PR_SET_NAME) and cgroups: whatever
         * bytes, cut anywhere, go out as text */
        format_sanitize(h->comm);
        /* cgroup v2: the "0::PATH" line */
        snprintf(path, sizeof(path), "%d/cgroup", (int)h->pid);
        if (file_read_all_at(procfs_fd, path, 64 * 1024, &cg, &len) < 0)
                return;
        for (char *line = cg, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                snprintf(h->cgroup, sizeof(h->cgroup), "%s", line + 3);
                (void)cgroup_path_unit(line + 3, h->unit, sizeof(h->unit));
                format_sanitize(h->cgroup);
                format_sanitize(h->unit);
                break;
        }
}

static int read_words(int kpf_fd, uint64_t start_pfn, uint64_t n, uint64_t *buf)
{
        ssize_t got = pread_full(kpf_fd, buf, n * KPF_WORD_SIZE, start_pfn * KPF_WORD_SIZE);

        if (got < 0)
                return (int)got;
        /* past the end of the file: no page */
        for (uint64_t i = (uint64_t)got / KPF_WORD_SIZE; i < n; i++)
                buf[i] = KPF_BIT(KPF_NOPAGE);
        return 0;
}

int explain_block(int procfs_fd, int kpf_fd, uint64_t start_pfn, uint64_t pages, KpfZoneKind zone,
                  uid_t owner, Explanation *ret)
{
        _cleanup_free_ uint64_t *words = NULL;
        Explanation e = { 0 };
        PageLocations l = { 0 };
        int r;

        if (pages == 0 || pages > SIZE_MAX / KPF_WORD_SIZE)
                return -EINVAL;
        words = malloc(pages * KPF_WORD_SIZE);
        if (!words)
                return -ENOMEM;
        r = read_words(kpf_fd, start_pfn, pages, words);
        if (r < 0)
                return r;
        r = explain_ranges(words, pages, start_pfn, zone, &e);
        if (r < 0)
                return r;

        r = pagemap_locate_range_of(procfs_fd, kpf_fd, start_pfn, pages, PAGEMAP_LOCATE_SKIP_SELF,
                                    owner, &l);
        if (r == -ENOMEM) {
                explanation_free(&e);
                return r;
        }
        if (r < 0)
                e.locate_error = r;
        else {
                r = explain_holders(&l, &e);
                if (r < 0) {
                        page_locations_free(&l);
                        explanation_free(&e);
                        return r;
                }
                e.processes_scanned = l.processes_scanned;
                e.processes_denied = l.processes_denied;
                for (size_t i = 0; i < e.n_holders; i++)
                        explain_holder_describe(procfs_fd, &e.holders[i]);
        }
        page_locations_free(&l);
        *ret = e;
        return 0;
}
