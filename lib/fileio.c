/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

ssize_t read_full(int fd, void *buf, size_t size)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, (char *)buf + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

ssize_t pread_full(int fd, void *buf, size_t size, uint64_t off)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)(off + done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

int attr_read_at(int dirfd, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (size < 2)
                return -EINVAL;
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read_full(fd, buf, size);
        if (n < 0)
                return (int)n;
        if ((size_t)n == size)
                return -EFBIG;
        if (memchr(buf, '\0', (size_t)n))
                return -EBADMSG;
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        return (int)n;
}

int file_read_all_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t cap = max < 16384 ? max : 16384, len = 0;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* cap + 1 bytes: a full buffer means there is more */
        for (;;) {
                char *p = realloc(buf, cap + 1);
                ssize_t n;

                if (!p)
                        return -ENOMEM;
                buf = p;
                n = read_full(fd, buf + len, cap + 1 - len);
                if (n < 0)
                        return (int)n;
                len += (size_t)n;
                if (len <= cap)
                        break;
                if (cap >= max)
                        return -EFBIG;
                cap = cap > max / 2 ? max : 2 * cap;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int attr_write_at(int dirfd, const char *path, const char *value)
{
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t n;

        fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = write(fd, value, len);
        if (n < 0)
                return -errno;
        if ((size_t)n != len)
                return -EIO;
        return 0;
}

int parse_u64(const char *s, int base, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (!s)
                return -EINVAL;
        while (isspace((unsigned char)*s))
                s++;
        if (*s == '\0' || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == s)
                return -EINVAL;
        while (isspace((unsigned char)*end))
                end++;
        if (*end != '\0')
                return -EINVAL;
        *ret = (uint64_t)v;
        return 0;
}

int attr_read_u64_at(int dirfd, const char *path, int base, uint64_t *ret)
{
        char buf[64];
        int r;

        r = attr_read_at(dirfd, path, buf, sizeof(buf));
        if (r < 0)
                return r;
        return parse_u64(buf, base, ret);
}
