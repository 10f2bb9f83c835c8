/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Reading and writing single-value kernel attribute files (sysfs, procfs)
 * relative to a directory fd. Every function returns >= 0 on success or a
 * negative errno; output parameters are untouched on failure. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* read(2) / pread(2) until size bytes, end of file or an error (EINTR is
 * retried). Returns the bytes read (less than size only at end of file) or
 * -errno. */
ssize_t read_full(int fd, void *buf, size_t size);
ssize_t pread_full(int fd, void *buf, size_t size, uint64_t off);

/* Read the whole attribute at dirfd/path into buf (NUL-terminated, one
 * trailing newline stripped). A value that fills buf is reported as -EFBIG
 * rather than silently truncated. Returns the length. */
int attr_read_at(int dirfd, const char *path, char *buf, size_t size);

/* Read a whole (possibly multi-line) text file of at most max bytes into a
 * freshly allocated NUL-terminated buffer, grown as the file turns out
 * longer (so max may be large). -EFBIG when larger. */
int file_read_all_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

/* Write value to dirfd/path with a single write(2); a short write is -EIO. */
int attr_write_at(int dirfd, const char *path, const char *value);

/* Strict unsigned parse: the whole string (leading/trailing blanks
 * excluded) must be a number in the given base; no sign, no overflow. */
int parse_u64(const char *s, int base, uint64_t *ret);

/* attr_read_at() + parse_u64(). */
int attr_read_u64_at(int dirfd, const char *path, int base, uint64_t *ret);
