/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "nodeinfo.h"
#include "roots.h"
#include "util.h"

/* Find "key:" at the start of a line (after an optional prefix such as
 * "Node 1 ") and parse the number after it. Whole-key match: "MemFree" does
 * not match "MemFreeX:". */
static int find_kb(const char *text, const char *prefix, const char *key, uint64_t *ret)
{
        size_t plen = prefix ? strlen(prefix) : 0, klen = strlen(key);
        const char *line = text;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                const char *p = line;

                if (len > plen + klen && (plen == 0 || strncmp(p, prefix, plen) == 0)) {
                        p += plen;
                        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
                                char num[32];
                                const char *s = p + klen + 1;
                                size_t n = 0;

                                while (s < line + len && (*s == ' ' || *s == '\t'))
                                        s++;
                                while (s < line + len && *s >= '0' && *s <= '9' &&
                                       n < sizeof(num) - 1)
                                        num[n++] = *s++;
                                num[n] = '\0';
                                if (n == 0 || (s < line + len && *s != ' '))
                                        return -EBADMSG;
                                if (parse_u64(num, 10, ret) < 0)
                                        return -EBADMSG;
                                return 0;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ENODATA;
}

int meminfo_parse(const char *text, MemInfo *ret)
{
        MemInfo m;
        int r;

        r = find_kb(text, NULL, "MemTotal", &m.total_kb);
        if (r < 0)
                return r;
        r = find_kb(text, NULL, "MemFree", &m.free_kb);
        if (r < 0)
                return r;
        /* MemAvailable exists since 3.14; estimate it by MemFree before. */
        r = find_kb(text, NULL, "MemAvailable", &m.available_kb);
        if (r == -ENODATA)
                m.available_kb = m.free_kb;
        else if (r < 0)
                return r;
        m.commit_valid = false;
        m.commit_limit_kb = m.committed_as_kb = m.swap_total_kb = 0;
        r = find_kb(text, NULL, "CommitLimit", &m.commit_limit_kb);
        if (r == 0)
                r = find_kb(text, NULL, "Committed_AS", &m.committed_as_kb);
        if (r == 0)
                r = find_kb(text, NULL, "SwapTotal", &m.swap_total_kb);
        if (r == 0)
                m.commit_valid = true;
        else if (r != -ENODATA)
                return r;
        else
                m.commit_limit_kb = m.committed_as_kb = m.swap_total_kb = 0;
        *ret = m;
        return 0;
}

int node_meminfo_parse(const char *text, int node, NodeMemInfo *ret)
{
        char prefix[32];
        NodeMemInfo m;
        int r;

        snprintf(prefix, sizeof(prefix), "Node %d ", node);
        r = find_kb(text, prefix, "MemTotal", &m.total_kb);
        if (r < 0)
                return r;
        r = find_kb(text, prefix, "MemFree", &m.free_kb);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

/* Find the field "key=" (key includes the '=') that starts a word. */
static const char *find_field(const char *s, const char *key)
{
        for (const char *p = strstr(s, key); p; p = strstr(p + 1, key))
                if (p == s || p[-1] == ' ')
                        return p + strlen(key);
        return NULL;
}

static int parse_double_field(const char *s, const char *key, double *ret)
{
        const char *p = find_field(s, key);
        char *end;
        double v;

        if (!p)
                return -EBADMSG;
        errno = 0;
        v = strtod(p, &end);
        if (errno || end == p || (*end != ' ' && *end != '\0' && *end != '\n') || v < 0 ||
            v != v)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int psi_parse_line(const char *line, PsiLine *ret)
{
        PsiLine l;
        const char *t;
        char num[32];
        size_t n = 0;

        if (parse_double_field(line, "avg10=", &l.avg10) < 0 ||
            parse_double_field(line, "avg60=", &l.avg60) < 0 ||
            parse_double_field(line, "avg300=", &l.avg300) < 0)
                return -EBADMSG;
        t = find_field(line, "total=");
        if (!t)
                return -EBADMSG;
        while (*t >= '0' && *t <= '9' && n < sizeof(num) - 1)
                num[n++] = *t++;
        num[n] = '\0';
        if (n == 0 || parse_u64(num, 10, &l.total_usec) < 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

int psi_parse(const char *text, Psi *ret)
{
        Psi p = { 0 };
        bool has_some = false;
        const char *line = text;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                char buf[256];

                if (len >= sizeof(buf))
                        return -EBADMSG;
                memcpy(buf, line, len);
                buf[len] = '\0';
                if (strncmp(buf, "some ", 5) == 0) {
                        if (psi_parse_line(buf + 5, &p.some) < 0)
                                return -EBADMSG;
                        has_some = true;
                } else if (strncmp(buf, "full ", 5) == 0) {
                        if (psi_parse_line(buf + 5, &p.full) < 0)
                                return -EBADMSG;
                        p.has_full = true;
                }
                line = eol ? eol + 1 : NULL;
        }
        if (!has_some)
                return -EBADMSG;
        *ret = p;
        return 0;
}

/* /proc/meminfo is about 1.5 KiB, a node's meminfo 1.2 KiB: room to grow. */
#define TEXT_STACK (16 * 1024)

int meminfo_read(int procfs_fd, MemInfo *ret)
{
        char text[TEXT_STACK];
        int r;

        r = attr_read_at(procfs_fd, "meminfo", text, sizeof(text));
        if (r < 0)
                return r;
        return meminfo_parse(text, ret);
}

int node_meminfo_read(int sysfs_fd, int node, NodeMemInfo *ret)
{
        char text[TEXT_STACK], path[128];
        int r;

        if (node < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), ROOTS_NODE_DIR "/node%d/meminfo", node);
        r = attr_read_at(sysfs_fd, path, text, sizeof(text));
        if (r < 0)
                return r;
        return node_meminfo_parse(text, node, ret);
}

int psi_read(int procfs_fd, Psi *ret)
{
        char text[1024];
        int r;

        r = attr_read_at(procfs_fd, "pressure/memory", text, sizeof(text));
        if (r < 0)
                /* psi=0 on the command line: the file exists, reads fail EOPNOTSUPP */
                return r == -EOPNOTSUPP ? -ENOENT : r;
        return psi_parse(text, ret);
}

int psi_trigger_open(int procfs_fd, uint64_t stall_usec, uint64_t window_usec)
{
        _cleanup_close_ int fd = -1;
        char buf[64];
        int len;
        ssize_t n;

        fd = openat(procfs_fd, "pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == EOPNOTSUPP ? -ENOENT : -errno;
        len = snprintf(buf, sizeof(buf), "some %" PRIu64 " %" PRIu64, stall_usec, window_usec);
        /* the kernel wants the terminating NUL as part of the write */
        n = write(fd, buf, (size_t)len + 1);
        if (n < 0)
                return -errno;
        if (n != len + 1)
                return -EIO;
        return TAKE_FD(fd);
}

int nodes_with_memory(int sysfs_fd, IndexSet *ret)
{
        char buf[4096];
        int r;

        r = attr_read_at(sysfs_fd, ROOTS_NODE_DIR "/has_memory", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = indexset_parse(buf, 4095, ret);
        return r < 0 ? -EBADMSG : r;
}

bool zone_name_is_kernel(const char *name)
{
        return strcmp(name, "DMA") == 0 || strcmp(name, "DMA32") == 0 || strcmp(name, "Normal") == 0;
}

/* The next whitespace-separated word of [*p, end) into buf; false at the end
 * of the line or when it does not fit. */
static bool next_word(const char **p, const char *end, char *buf, size_t size)
{
        size_t n = 0;

        while (*p < end && (**p == ' ' || **p == '\t' || **p == ','))
                (*p)++;
        if (*p >= end)
                return false;
        while (*p < end && **p != ' ' && **p != '\t' && **p != ',') {
                if (n + 1 >= size)
                        return false;
                buf[n++] = *(*p)++;
        }
        buf[n] = '\0';
        return n > 0;
}

int buddyinfo_parse(const char *text, uint64_t *ret_kernel_free, uint64_t *ret_other_free)
{
        uint64_t kernel = 0, other = 0;
        const char *line = text;
        bool any = false;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                const char *end = eol ? eol : line + strlen(line), *p = line;
                char w[32], zone[32];
                uint64_t sum = 0, count;
                unsigned order = 0;

                /* "Node" N "," "zone" NAME counts... */
                if (!next_word(&p, end, w, sizeof(w)) || strcmp(w, "Node") != 0 ||
                    !next_word(&p, end, w, sizeof(w)) || parse_u64(w, 10, &count) < 0 ||
                    !next_word(&p, end, w, sizeof(w)) || strcmp(w, "zone") != 0 ||
                    !next_word(&p, end, zone, sizeof(zone)))
                        return -EBADMSG;
                while (next_word(&p, end, w, sizeof(w))) {
                        if (order >= 64 || parse_u64(w, 10, &count) < 0 ||
                            count > (UINT64_MAX >> order) / 2)
                                return -EBADMSG;
                        sum = u64_add_sat(sum, count << order);
                        order++;
                }
                if (order == 0)
                        return -EBADMSG;
                if (zone_name_is_kernel(zone))
                        kernel = u64_add_sat(kernel, sum);
                else
                        other = u64_add_sat(other, sum);
                any = true;
                line = eol ? eol + 1 : NULL;
        }
        if (!any)
                return -EBADMSG;
        *ret_kernel_free = kernel;
        if (ret_other_free)
                *ret_other_free = other;
        return 0;
}

/* "  KEY VALUE" at the start of a zoneinfo line (after blanks). */
static bool zone_field(const char *p, const char *end, const char *key, uint64_t *ret)
{
        char w[64];

        if (!next_word(&p, end, w, sizeof(w)) || strcmp(w, key) != 0 ||
            !next_word(&p, end, w, sizeof(w)))
                return false;
        return parse_u64(w, 10, ret) >= 0;
}

int zoneinfo_parse(const char *text, ZoneInfo *ret, size_t size)
{
        const char *line = text;
        ZoneInfo cur = { 0 };
        bool have = false;
        size_t n = 0;

        for (;;) {
                const char *eol = line ? strchr(line, '\n') : NULL;
                const char *end = !line ? NULL : eol ? eol : line + strlen(line);
                const char *p = line;
                char w[32];
                uint64_t v;

                if (!line || !*line || strncmp(line, "Node ", 5) == 0) {
                        if (have) {
                                if (n < size)
                                        ret[n] = cur;
                                n++;
                        }
                        if (!line || !*line)
                                break;
                        /* "Node 0, zone   Normal" */
                        cur = (ZoneInfo){ 0 };
                        if (!next_word(&p, end, w, sizeof(w)) || !next_word(&p, end, w, sizeof(w)) ||
                            parse_u64(w, 10, &v) < 0 || v > 4095 ||
                            !next_word(&p, end, w, sizeof(w)) || strcmp(w, "zone") != 0 ||
                            !next_word(&p, end, cur.name, sizeof(cur.name)))
                                return -EBADMSG;
                        cur.node = (int)v;
                        have = true;
                } else if (have) {
                        if (zone_field(p, end, "present", &v))
                                cur.present = v;
                        else if (zone_field(p, end, "managed", &v))
                                cur.managed = v;
                        else if (zone_field(p, end, "nr_free_pages", &v))
                                cur.free = v;
                        else if (zone_field(p, end, "count:", &v))
                                cur.pcp = u64_add_sat(cur.pcp, v);
                }
                line = eol ? eol + 1 : NULL;
        }
        if (n == 0)
                return -EBADMSG;
        return (int)u64_min(n, INT_MAX);
}

int overcommit_read(int procfs_fd, OvercommitSettings *ret)
{
        uint64_t mode, ratio, kbytes;
        int r;

        r = attr_read_u64_at(procfs_fd, "sys/vm/overcommit_memory", 10, &mode);
        if (r < 0)
                return r;
        r = attr_read_u64_at(procfs_fd, "sys/vm/overcommit_ratio", 10, &ratio);
        if (r < 0)
                return r;
        r = attr_read_u64_at(procfs_fd, "sys/vm/overcommit_kbytes", 10, &kbytes);
        if (r < 0)
                return r;
        if (mode > 2 || ratio > UINT32_MAX)
                return -EBADMSG;
        *ret = (OvercommitSettings){ .mode = (int)mode, .ratio = (unsigned)ratio, .kbytes = kbytes };
        return 0;
}

int buddyinfo_read(int procfs_fd, uint64_t *ret_kernel_free, uint64_t *ret_other_free)
{
        char text[TEXT_STACK];
        int r;

        r = attr_read_at(procfs_fd, "buddyinfo", text, sizeof(text));
        if (r < 0)
                return r;
        return buddyinfo_parse(text, ret_kernel_free, ret_other_free);
}

int zoneinfo_read(int procfs_fd, ZoneInfo *ret, size_t size)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = file_read_all_at(procfs_fd, "zoneinfo", 64 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        return zoneinfo_parse(text, ret, size);
}

int boot_id_read(int procfs_fd, char *buf, size_t size)
{
        int r;

        r = attr_read_at(procfs_fd, "sys/kernel/random/boot_id", buf, size);
        if (r < 0)
                return r;
        return r == 36 ? 0 : -EBADMSG;
}
