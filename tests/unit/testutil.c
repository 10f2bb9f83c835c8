/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

unsigned test_failures;
unsigned test_checks;

static void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "fixture error: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        exit(99); /* meson: hard error, not a test failure */
}

int test_summary(const char *name)
{
        fprintf(stderr, "%s: %u checks, %u failed\n", name, test_checks, test_failures);
        return test_failures == 0 ? 0 : 1;
}

char *tmpdir_make(void)
{
        const char *base = getenv("TMPDIR");
        char *p;

        if (asprintf(&p, "%s/mempowerd-test-XXXXXX", base && *base ? base : "/tmp") < 0)
                die("asprintf");
        if (!mkdtemp(p))
                die("mkdtemp %s: %s", p, strerror(errno));
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP)
                return rmdir(path);
        return unlink(path);
}

void tmpdir_remove(char *path)
{
        if (!path)
                return;
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(path);
}

static void mkdir_parents(const char *path)
{
        char buf[PATH_MAX];
        char *s;

        snprintf(buf, sizeof(buf), "%s", path);
        for (s = buf + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        die("mkdir %s: %s", buf, strerror(errno));
                *s = '/';
        }
}

void fake_write_bytes(const char *dir, const char *relpath, const void *data, size_t len)
{
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, relpath);
        mkdir_parents(path);
        f = fopen(path, "we");
        if (!f)
                die("open %s: %s", path, strerror(errno));
        if (len && fwrite(data, 1, len, f) != len)
                die("write %s", path);
        if (fclose(f) != 0)
                die("close %s", path);
}

void fake_write(const char *dir, const char *relpath, const char *content)
{
        fake_write_bytes(dir, relpath, content, strlen(content));
}

void fake_mkdir(const char *dir, const char *relpath)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s/", dir, relpath);
        mkdir_parents(path);
}

void fake_symlink(const char *dir, const char *relpath, const char *target)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, relpath);
        mkdir_parents(path);
        unlink(path);
        if (symlink(target, path) < 0)
                die("symlink %s: %s", path, strerror(errno));
}

void fake_unlink(const char *dir, const char *relpath)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, relpath);
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fake_read(const char *dir, const char *relpath, char *buf, size_t size)
{
        char path[PATH_MAX];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, relpath);
        f = fopen(path, "re");
        if (!f)
                die("open %s: %s", path, strerror(errno));
        n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
}

void fake_block(const char *sysfs_root, uint32_t index, int node, const char *state,
                const char *valid_zones)
{
        char rel[PATH_MAX], val[64];

        snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/state", index);
        snprintf(val, sizeof(val), "%s\n", state);
        fake_write(sysfs_root, rel, val);
        snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/online", index);
        fake_write(sysfs_root, rel, strcmp(state, "offline") == 0 ? "0\n" : "1\n");
        snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/phys_index", index);
        snprintf(val, sizeof(val), "%08" PRIx32 "\n", index);
        fake_write(sysfs_root, rel, val);
        snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/valid_zones", index);
        snprintf(val, sizeof(val), "%s\n", valid_zones);
        fake_write(sysfs_root, rel, val);
        snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/removable", index);
        fake_write(sysfs_root, rel, "1\n");
        if (node >= 0) {
                char target[64];

                snprintf(rel, sizeof(rel), "devices/system/memory/memory%" PRIu32 "/node%d",
                         index, node);
                snprintf(target, sizeof(target), "../../node/node%d", node);
                fake_symlink(sysfs_root, rel, target);
        }
}

void fake_block_size(const char *sysfs_root, uint64_t bytes)
{
        char val[32];

        snprintf(val, sizeof(val), "%" PRIx64 "\n", bytes);
        fake_write(sysfs_root, "devices/system/memory/block_size_bytes", val);
}

const char *fixtures_dir(void)
{
        const char *d = getenv("MEMPOWERD_FIXTURES");

        if (!d || !*d)
                die("MEMPOWERD_FIXTURES is not set (run through meson test)");
        return d;
}

void pm_set(FakePagemap *pm, uint64_t vpage, uint64_t entry)
{
        if (vpage >= pm->n) {
                size_t n = (size_t)vpage + 1;

                pm->e = realloc(pm->e, n * 8);
                if (!pm->e)
                        abort();
                memset(pm->e + pm->n, 0, (n - pm->n) * 8);
                pm->n = n;
        }
        pm->e[vpage] = entry;
}

void pm_write(FakePagemap *pm, const char *root, const char *pid)
{
        char rel[64];

        snprintf(rel, sizeof(rel), "%s/pagemap", pid);
        fake_write_bytes(root, rel, pm->e, pm->n * 8);
        free(pm->e);
        *pm = (FakePagemap){ 0 };
}

void maps_add(char *buf, size_t size, uint64_t vpage, uint64_t npages, const char *rest)
{
        uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
        size_t l = strlen(buf);

        snprintf(buf + l, size - l, "%08" PRIx64 "-%08" PRIx64 " %s\n", vpage * ps,
                 (vpage + npages) * ps, rest);
}
