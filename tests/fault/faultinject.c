/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An LD_PRELOAD shim for tests/fault/fault-daemon: makes write(2) to chosen
 * files fail the way the kernel's memory hotplug can, and makes plain files
 * in a fake sysfs tree answer like the kernel's attributes.
 *
 * Environment (read once, at load):
 *   MEMPOWERD_FAULT_PATH   fail writes to a file whose path ends with this
 *                          ("memory35/state"); unset: no fault
 *   MEMPOWERD_FAULT_VALUE  only writes of exactly this value ("offline");
 *                          unset: any value
 *   MEMPOWERD_FAULT_ERRNO  EBUSY, EIO, EINVAL, EINTR, ENOENT, or HANG: the
 *                          write never returns (only SIGKILL ends it, like
 *                          the kernel's offline since 6.5)
 *   MEMPOWERD_FAULT_COUNT  fail only the first N matching writes (counted
 *                          across fork: the evacuation worker is a child)
 *   MEMPOWERD_FAULT_LOG    append one line per write to a file whose path
 *                          ends with "/state" (or MEMPOWERD_FAULT_LOG_SUFFIX):
 *                          "MS PID PATH VALUE OUTCOME", MS from CLOCK_MONOTONIC
 *   MEMPOWERD_FAULT_SYSFS  "1": a write that is not failed acts like the
 *                          kernel's: memoryN/state becomes "online" or
 *                          "offline" (rewritten whole; "online_movable" also
 *                          sets valid_zones to "Movable"), an unknown word
 *                          fails with EINVAL, and writes to pressure/memory
 *                          (a PSI trigger) leave the file alone.
 *
 * The write path uses only async-signal-safe calls (readlink, open, write,
 * pwrite, ftruncate, clock_gettime, pause): it runs in the daemon's forked
 * worker as well. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HANG (-1)

typedef ssize_t (*write_fn)(int, const void *, size_t);

static write_fn real_write;
static const char *fault_path, *fault_value, *log_path, *log_suffix = "/state";
static int fault_errno;
static long fault_count = -1; /* -1: every matching write */
static long *fault_done;      /* shared with forked children */
static bool emulate_sysfs;

static int errno_from_name(const char *s)
{
        static const struct {
                const char *name;
                int value;
        } names[] = {
                { "EBUSY", EBUSY },   { "EIO", EIO },       { "EINVAL", EINVAL },
                { "EINTR", EINTR },   { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
                { "EAGAIN", EAGAIN }, { "HANG", HANG },
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(s, names[i].name) == 0)
                        return names[i].value;
        return 0;
}

__attribute__((constructor)) static void faultinject_init(void)
{
        const char *s;

        real_write = (write_fn)dlsym(RTLD_NEXT, "write");
        fault_path = getenv("MEMPOWERD_FAULT_PATH");
        if (fault_path && !*fault_path)
                fault_path = NULL;
        fault_value = getenv("MEMPOWERD_FAULT_VALUE");
        log_path = getenv("MEMPOWERD_FAULT_LOG");
        s = getenv("MEMPOWERD_FAULT_LOG_SUFFIX");
        if (s && *s)
                log_suffix = s;
        s = getenv("MEMPOWERD_FAULT_ERRNO");
        fault_errno = s ? errno_from_name(s) : EIO;
        if (fault_errno == 0)
                fault_errno = EIO;
        s = getenv("MEMPOWERD_FAULT_COUNT");
        if (s && *s)
                fault_count = strtol(s, NULL, 10);
        s = getenv("MEMPOWERD_FAULT_SYSFS");
        emulate_sysfs = s && strcmp(s, "1") == 0;

        fault_done = mmap(NULL, sizeof(*fault_done), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (fault_done == MAP_FAILED)
                fault_done = NULL;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
        size_t n = strlen(suffix);

        return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* buf without a trailing newline or NUL, at most size - 1 bytes, terminated. */
static size_t copy_value(char *dst, size_t size, const void *buf, size_t len)
{
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(dst, buf, n);
        while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\0'))
                n--;
        dst[n] = '\0';
        return n;
}

static size_t put_str(char *p, size_t at, size_t size, const char *s)
{
        while (*s && at + 1 < size)
                p[at++] = *s++;
        return at;
}

static size_t put_u64(char *p, size_t at, size_t size, uint64_t v)
{
        char tmp[24];
        size_t n = 0;

        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v && n < sizeof(tmp));
        while (n > 0 && at + 1 < size)
                p[at++] = tmp[--n];
        return at;
}

static void log_write(const char *path, const char *value, const char *outcome)
{
        char line[PATH_MAX + 128];
        struct timespec ts;
        size_t at = 0;
        int fd;

        if (!log_path)
                return;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        at = put_u64(line, at, sizeof(line),
                     (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
        at = put_str(line, at, sizeof(line), " ");
        at = put_u64(line, at, sizeof(line), (uint64_t)getpid());
        at = put_str(line, at, sizeof(line), " ");
        at = put_str(line, at, sizeof(line), path);
        at = put_str(line, at, sizeof(line), " ");
        at = put_str(line, at, sizeof(line), *value ? value : "(empty)");
        at = put_str(line, at, sizeof(line), " ");
        at = put_str(line, at, sizeof(line), outcome);
        line[at++] = '\n';
        fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        (void)real_write(fd, line, at);
        close(fd);
}

static const char *errno_name(int e)
{
        switch (e) {
        case EBUSY:
                return "EBUSY";
        case EIO:
                return "EIO";
        case EINVAL:
                return "EINVAL";
        case EINTR:
                return "EINTR";
        case ENOENT:
                return "ENOENT";
        case ENOMEM:
                return "ENOMEM";
        case EAGAIN:
                return "EAGAIN";
        default:
                return "error";
        }
}

/* Overwrite the file at fd with text, as reading a sysfs attribute would
 * show it after the kernel acted. */
static int replace_contents(int fd, const char *text)
{
        size_t len = strlen(text);

        if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) < 0)
                return -1;
        return 0;
}

/* memoryN/state as the kernel takes it: a known word changes the state. */
static ssize_t sysfs_state_write(int fd, const char *path, size_t plen, const char *value,
                                 size_t len)
{
        bool online = strcmp(value, "online") == 0 || strcmp(value, "online_movable") == 0 ||
                      strcmp(value, "online_kernel") == 0;
        char zones[PATH_MAX];
        size_t dlen = plen - strlen("state");

        if (!online && strcmp(value, "offline") != 0) {
                errno = EINVAL;
                return -1;
        }
        if (replace_contents(fd, online ? "online\n" : "offline\n") < 0)
                return -1;
        if (strcmp(value, "online_movable") == 0 && dlen + sizeof("valid_zones") <= sizeof(zones)) {
                int zfd;

                memcpy(zones, path, dlen);
                memcpy(zones + dlen, "valid_zones", sizeof("valid_zones"));
                zfd = open(zones, O_WRONLY | O_CLOEXEC);
                if (zfd >= 0) {
                        (void)replace_contents(zfd, "Movable\n");
                        close(zfd);
                }
        }
        return (ssize_t)len;
}

ssize_t write(int fd, const void *buf, size_t count)
{
        char link[32] = "/proc/self/fd/", path[PATH_MAX], value[64];
        bool match, logged;
        ssize_t plen;
        int saved = errno;

        if (!real_write) {
                errno = ENOSYS;
                return -1;
        }
        if (!fault_path && !log_path && !emulate_sysfs)
                return real_write(fd, buf, count);

        put_u64(link, strlen(link), sizeof(link), (uint64_t)(fd < 0 ? 0 : fd));
        plen = fd < 0 ? -1 : readlink(link, path, sizeof(path) - 1);
        if (plen <= 0) {
                errno = saved;
                return real_write(fd, buf, count);
        }
        path[plen] = '\0';
        copy_value(value, sizeof(value), buf, count);

        match = fault_path && ends_with(path, (size_t)plen, fault_path) &&
                (!fault_value || strcmp(value, fault_value) == 0);
        if (match && fault_count >= 0 && fault_done &&
            __atomic_fetch_add(fault_done, 1, __ATOMIC_SEQ_CST) >= fault_count)
                match = false;
        logged = ends_with(path, (size_t)plen, log_suffix);

        if (match && fault_errno == HANG) {
                if (logged)
                        log_write(path, value, "HANG");
                for (;;)
                        pause();
        }
        if (match) {
                if (logged)
                        log_write(path, value, errno_name(fault_errno));
                errno = fault_errno;
                return -1;
        }

        errno = saved;
        if (emulate_sysfs && ends_with(path, (size_t)plen, "/pressure/memory"))
                return (ssize_t)count; /* a PSI trigger: nothing to store */
        if (emulate_sysfs && ends_with(path, (size_t)plen, "/state") && strstr(path, "/memory")) {
                ssize_t n = sysfs_state_write(fd, path, (size_t)plen, value, count);

                if (logged)
                        log_write(path, value, n < 0 ? errno_name(errno) : "ok");
                return n;
        }
        if (logged) {
                ssize_t n = real_write(fd, buf, count);
                int e = errno;

                log_write(path, value, n < 0 ? errno_name(e) : "ok");
                errno = e;
                return n;
        }
        return real_write(fd, buf, count);
}
