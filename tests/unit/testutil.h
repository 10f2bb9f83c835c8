/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A minimal test harness: CHECK macros that count failures and say where,
 * and helpers to build fake sysfs/procfs trees in a temporary directory. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern unsigned test_failures;
extern unsigned test_checks;

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                test_checks++;                                                                     \
                if (!(cond)) {                                                                     \
                        test_failures++;                                                           \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
                }                                                                                  \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                test_checks++;                                                                     \
                if (_a != _b) {                                                                    \
                        test_failures++;                                                           \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
                                __LINE__, #a, _a, #b, _b);                                         \
                }                                                                                  \
        } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                test_checks++;                                                                     \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
                        test_failures++;                                                           \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
                                __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
                }                                                                                  \
        } while (0)

/* Print a summary and return the process exit code (0 or 1). */
int test_summary(const char *name);

/* A temporary directory removed (recursively) by tmpdir_remove(). */
char *tmpdir_make(void);
void tmpdir_remove(char *path);

/* Write content to dir/relpath, creating parent directories. Aborts the test
 * program on failure (a broken fixture is not a test result). */
void fake_write(const char *dir, const char *relpath, const char *content);
/* Write len raw bytes. */
void fake_write_bytes(const char *dir, const char *relpath, const void *data, size_t len);
void fake_mkdir(const char *dir, const char *relpath);
void fake_symlink(const char *dir, const char *relpath, const char *target);
void fake_unlink(const char *dir, const char *relpath);
/* Read dir/relpath into buf (NUL-terminated, newline kept). */
void fake_read(const char *dir, const char *relpath, char *buf, size_t size);

/* A fake memory block below sysfs_root/devices/system/memory. */
void fake_block(const char *sysfs_root, uint32_t index, int node, const char *state,
                const char *valid_zones);
/* Write block_size_bytes (hex, as the kernel does). */
void fake_block_size(const char *sysfs_root, uint64_t bytes);
/* Path of the captured fixtures directory (MEMPOWERD_FIXTURES). */
const char *fixtures_dir(void);

/* A fake /proc/PID/pagemap: entries set one virtual page at a time, the
 * rest 0 (not present). pm_write writes root/PID/pagemap and resets pm. */
typedef struct FakePagemap {
        uint64_t *e;
        size_t n;
} FakePagemap;
void pm_set(FakePagemap *pm, uint64_t vpage, uint64_t entry);
void pm_write(FakePagemap *pm, const char *root, const char *pid);
/* Append a /proc/PID/maps line for npages pages from vpage ("rw-p ..."). */
void maps_add(char *buf, size_t size, uint64_t vpage, uint64_t npages, const char *rest);
