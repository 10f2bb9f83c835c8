/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ini configuration. Input: the main file, then optionally a NUL and a
 * drop-in (which may itself hold NULs). Both are written to a temporary
 * directory and read with config_parse_file() and config_load(), as the
 * daemon does. A loaded Config must respect the documented bounds and copy
 * equal; a failed load leaves the target untouched; the error text fits any
 * buffer it is formatted into. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char tmpdir[PATH_MAX], main_path[PATH_MAX + 16], dropin_dir[PATH_MAX + 16],
        dropin_path[PATH_MAX + 32];

static void cleanup_tree(void)
{
        unlink(dropin_path);
        rmdir(dropin_dir);
        unlink(main_path);
        rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

        snprintf(tmpdir, sizeof(tmpdir), "%s/fuzz-config.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                abort();
        }
        snprintf(main_path, sizeof(main_path), "%s/mempowerd.conf", tmpdir);
        snprintf(dropin_dir, sizeof(dropin_dir), "%s/mempowerd.conf.d", tmpdir);
        snprintf(dropin_path, sizeof(dropin_path), "%s/50-fuzz.conf", dropin_dir);
        if (mkdir(dropin_dir, 0700) < 0) {
                perror(dropin_dir);
                abort();
        }
        atexit(cleanup_tree);
        return 0;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
        FILE *f = fopen(path, "we");

        FUZZ_ASSERT(f);
        FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
        FUZZ_ASSERT(fclose(f) == 0);
}

/* Formatting into exactly size bytes (ASan sees any write past them). */
static void check_format_size(const ConfigError *e, const char *full, size_t size)
{
        size_t len = strlen(full);
        char *buf = malloc(size);
        int r;

        if (!buf)
                return;
        r = config_error_format(e, buf, size);
        if (size > len) {
                FUZZ_ASSERT(r == 0);
                FUZZ_ASSERT(strcmp(buf, full) == 0);
        } else {
                FUZZ_ASSERT(r == -ENOBUFS);
                FUZZ_ASSERT(strlen(buf) == size - 1);
                FUZZ_ASSERT(strncmp(buf, full, size - 1) == 0);
        }
        free(buf);
}

static void check_error(const ConfigError *e)
{
        char full[PATH_MAX + 300];
        size_t len;

        FUZZ_ASSERT(memchr(e->path, '\0', sizeof(e->path)));
        FUZZ_ASSERT(memchr(e->reason, '\0', sizeof(e->reason)));
        FUZZ_ASSERT(e->reason[0]); /* a failure always says why */
        FUZZ_ASSERT(config_error_format(e, full, sizeof(full)) == 0);
        FUZZ_ASSERT(config_error_format(e, full, 0) == -ENOBUFS);
        len = strlen(full);
        check_format_size(e, full, 1);
        check_format_size(e, full, len / 2 + 1);
        check_format_size(e, full, len);
        check_format_size(e, full, len + 1);
}

static void check_bounds(const Config *c)
{
        FUZZ_ASSERT(c->tick_usec >= 100000 && c->tick_usec <= UINT64_C(3600000000));
        FUZZ_ASSERT(c->scan_cpu_percent >= 0.01 && c->scan_cpu_percent <= 100);
        FUZZ_ASSERT(c->reserve_percent >= 0 && c->reserve_percent <= 90);
        FUZZ_ASSERT(c->psi_some_avg10 >= 0 && c->psi_some_avg10 <= 100);
        FUZZ_ASSERT(c->max_evacuations_per_tick >= 1 && c->max_evacuations_per_tick <= 64);
        FUZZ_ASSERT(c->backoff_max_usec >= c->backoff_initial_usec);
        for (size_t i = 0; i < c->exclude_blocks.n; i++)
                FUZZ_ASSERT(c->exclude_blocks.ranges[i].hi <= CONFIG_EXCLUDE_BLOCKS_MAX);
        for (size_t i = 0; i < c->destination_nodes.n; i++)
                FUZZ_ASSERT(c->destination_nodes.ranges[i].hi <= CONFIG_DESTINATION_NODES_MAX);
        /* Any machine size: no overflow trap, at least MinFreeMiB. */
        FUZZ_ASSERT(config_reserve_pages(c, 0, 4096) >= c->reserve_mib * 256);
        (void)config_reserve_pages(c, UINT64_C(24) << 20, 4096);
        (void)config_reserve_pages(c, UINT64_MAX / 1024, 65536);
}

static void check_load(const char *explicit_path, const char *main, const char *dir)
{
        Config c, copy, pristine;
        ConfigError err;
        int r;

        config_init(&c);
        config_init(&pristine);
        r = config_load(explicit_path, main, dir, &c, &err);
        if (r < 0) {
                FUZZ_ASSERT(config_equal(&c, &pristine)); /* untouched */
                check_error(&err);
        } else {
                check_bounds(&c);
                FUZZ_ASSERT(config_copy(&c, &copy) == 0);
                FUZZ_ASSERT(config_equal(&c, &copy));
                config_free(&copy);
        }
        config_free(&c);
        config_free(&pristine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul;
        size_t main_len;
        ConfigError err;
        Config c;

        if (size > FUZZ_TEXT_MAX)
                return 0;
        nul = memchr(data, '\0', size);
        main_len = nul ? (size_t)(nul - data) : size;
        write_file(main_path, data, main_len);
        if (nul)
                write_file(dropin_path, nul + 1, size - main_len - 1);
        else
                unlink(dropin_path);

        config_init(&c);
        if (config_parse_file(&c, main_path, &err) < 0)
                check_error(&err);
        config_free(&c);

        check_load(NULL, main_path, dropin_dir); /* the default file and drop-ins */
        check_load(main_path, NULL, NULL);       /* --config */
        return 0;
}
