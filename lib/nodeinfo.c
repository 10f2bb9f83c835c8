/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define TEXT_MAX (64 * 1024)

int meminfo_read(int procfs_fd, MemInfo *ret)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = file_read_all_at(procfs_fd, "meminfo", TEXT_MAX, &text, NULL);
        if (r < 0)
                return r;
        return meminfo_parse(text, ret);
}

int node_meminfo_read(int sysfs_fd, int node, NodeMemInfo *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[128];
        int r;

        if (node < 0)
                return -EINVAL;
        snprintf(path, sizeof(path), ROOTS_NODE_DIR "/node%d/meminfo", node);
        r = file_read_all_at(sysfs_fd, path, TEXT_MAX, &text, NULL);
        if (r < 0)
                return r;
        return node_meminfo_parse(text, node, ret);
}

int psi_read(int procfs_fd, Psi *ret)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = file_read_all_at(procfs_fd, "pressure/memory", 4096, &text, NULL);
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
