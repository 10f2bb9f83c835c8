/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindings.h"
#include "fileio.h"
#include "util.h"

/* numa_maps of a large process runs to megabytes; reading stops here (what
 * was read counts). */
#define NUMA_MAPS_MAX (64u << 20)
#define STATUS_MAX    (64u << 10)

bool bindings_set_depends(const IndexSet *nodes, uint32_t node, const IndexSet *has_memory)
{
        if (!indexset_contains(nodes, node))
                return false;
        for (size_t i = 0; i < nodes->n; i++)
                for (uint64_t n = nodes->ranges[i].lo; n <= nodes->ranges[i].hi; n++) {
                        if (n != node && indexset_contains(has_memory, (uint32_t)n))
                                return false;
                        if (n - nodes->ranges[i].lo > 4096)
                                return false; /* absurd range: not a real node set */
                }
        return true;
}

static int depends_on_list(const char *list, size_t len, uint32_t node, const IndexSet *has_memory,
                           bool *ret)
{
        _cleanup_(indexset_free) IndexSet set = INDEXSET_NULL;
        char buf[256];
        int r;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, list, len);
        buf[len] = '\0';
        r = indexset_parse(buf, UINT32_MAX - 1, &set);
        if (r < 0)
                return r;
        *ret = bindings_set_depends(&set, node, has_memory);
        return 0;
}

int bindings_numa_maps_line(const char *line, uint32_t node, const IndexSet *has_memory,
                            char *ret_what, size_t what_size)
{
        const char *policy, *colon, *end;
        bool dep = false;
        int r;

        /* "ADDRESS POLICY k=v ..." */
        policy = strchr(line, ' ');
        if (!policy || policy == line)
                return -EINVAL;
        policy++;
        end = policy + strcspn(policy, " \n");
        if (end == policy)
                return -EINVAL;
        if (strncmp(policy, "bind", 4) != 0 || (policy[4] != ':' && policy[4] != '='))
                return 0;
        colon = memchr(policy, ':', (size_t)(end - policy));
        if (!colon)
                return -EINVAL;
        r = depends_on_list(colon + 1, (size_t)(end - colon - 1), node, has_memory, &dep);
        if (r < 0)
                return r;
        if (dep && ret_what && what_size > 0)
                snprintf(ret_what, what_size, "%.*s", (int)(end - policy), policy);
        return dep;
}

/* Does a line of text (numa_maps) bind to node alone? complete_only: the
 * text was cut, its last line may be half. */
static bool scan_lines(char *text, bool complete_only, uint32_t node, const IndexSet *has_memory,
                       BindingsResult *res)
{
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');

                if (!nl && complete_only)
                        break;
                if (nl)
                        *nl = '\0';
                if (bindings_numa_maps_line(line, node, has_memory, res->what, sizeof(res->what)) > 0)
                        return true;
                line = nl ? nl + 1 : NULL;
        }
        return false;
}

/* A thread's own policy (set_mempolicy) shows only in its task's numa_maps,
 * on every mapping without a policy of its own: the first lines say it,
 * and reading no further spares walking the whole address space again. */
#define TASK_PREFIX 4096

static int read_threads(int procfs_fd, const char *pid, uint32_t node, const IndexSet *has_memory,
                        BindingsResult *res)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        char path[300];
        int fd;

        snprintf(path, sizeof(path), "%s/task", pid);
        fd = openat(procfs_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;

                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int tfd = -1;
                char buf[TASK_PREFIX + 1];
                ssize_t n;

                if (de->d_name[0] < '1' || de->d_name[0] > '9' || strcmp(de->d_name, pid) == 0)
                        continue;
                snprintf(path, sizeof(path), "%s/task/%s/numa_maps", pid, de->d_name);
                tfd = openat(procfs_fd, path, O_RDONLY | O_CLOEXEC);
                if (tfd < 0) {
                        if (errno == ENOENT || errno == ESRCH)
                                continue; /* the thread ended */
                        return -errno;
                }
                n = read_full(tfd, buf, TASK_PREFIX);
                if (n < 0) {
                        if (n == -ESRCH || n == -ENOENT)
                                continue;
                        return (int)n;
                }
                buf[n] = '\0';
                if (scan_lines(buf, n == TASK_PREFIX, node, has_memory, res))
                        return 1;
        }
        return 0;
}

/* 1: pid depends on node alone, 0 not, <0 could not be read. */
static int read_process(int procfs_fd, const char *pid, uint32_t node, const IndexSet *has_memory,
                        BindingsResult *res)
{
        _cleanup_free_ char *status = NULL, *maps = NULL;
        char path[300];
        const char *p;
        int r;

        snprintf(path, sizeof(path), "%s/status", pid);
        r = file_read_all_at(procfs_fd, path, STATUS_MAX, &status, NULL);
        if (r < 0)
                return r;
        p = strstr(status, "\nMems_allowed_list:");
        if (p) {
                bool dep = false;

                p += strlen("\nMems_allowed_list:");
                p += strspn(p, " \t");
                r = depends_on_list(p, strcspn(p, "\n"), node, has_memory, &dep);
                if (r >= 0 && dep) {
                        snprintf(res->what, sizeof(res->what), "cpuset %.*s", (int)strcspn(p, "\n"),
                                 p);
                        return 1;
                }
        }

        snprintf(path, sizeof(path), "%s/numa_maps", pid);
        r = file_read_all_at(procfs_fd, path, NUMA_MAPS_MAX, &maps, NULL);
        if (r == -EFBIG)
                return -EFBIG;
        if (r < 0)
                return r;
        if (scan_lines(maps, false, node, has_memory, res))
                return 1;
        return read_threads(procfs_fd, pid, node, has_memory, res);
}

int bindings_read(int procfs_fd, uint32_t node, const IndexSet *has_memory, BindingsResult *ret)
{
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        BindingsResult res = { 0 };
        struct dirent *de;

        fd = openat(procfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1; /* d has it */
        for (;;) {
                int r;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }

                if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
                    strspn(de->d_name, "0123456789") != strlen(de->d_name))
                        continue;
                r = read_process(procfs_fd, de->d_name, node, has_memory, &res);
                if (r == -ENOMEM)
                        return r;
                if (r == -EFBIG) {
                        /* too large to read whole: it may bind, count it so */
                        res.bound = true;
                        res.pid = (pid_t)atoi(de->d_name);
                        snprintf(res.what, sizeof(res.what), "numa_maps too large");
                        break;
                }
                if (r == -ENOENT || r == -ESRCH)
                        continue; /* gone meanwhile */
                if (r < 0) {
                        /* unreadable (permissions, an LSM): it may bind */
                        res.bound = true;
                        res.pid = (pid_t)atoi(de->d_name);
                        snprintf(res.what, sizeof(res.what), "unreadable: %s", strerror(-r));
                        break;
                }
                res.processes++;
                if (r > 0) {
                        res.bound = true;
                        res.pid = (pid_t)atoi(de->d_name);
                        break;
                }
        }
        *ret = res;
        return 0;
}
