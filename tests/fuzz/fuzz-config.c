/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ini configuration. Input: the main file, then optionally a NUL and a
 * drop-in (which may itself hold NULs). Both are written to a temporary
 * directory and read with config_parse_file() and config_load_sources(), as
 * the daemon does. A loaded Config must respect the documented bounds of
 * every key, copy equal, and what --check-config prints of it must parse
 * back to an equal Config; a failed load leaves the target untouched; the
 * error text fits any buffer it is formatted into. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "util.h"

static char tmpdir[PATH_MAX], main_path[PATH_MAX + 16], dropin_dir[PATH_MAX + 16],
    dropin_path[PATH_MAX + 32], dump_path[PATH_MAX + 16];

static void cleanup_tree(void)
{
        unlink(dropin_path);
        unlink(dump_path);
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
        snprintf(dump_path, sizeof(dump_path), "%s/dump.conf", tmpdir);
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
        FUZZ_ASSERT(c->rescan_max_usec >= UINT64_C(10000000) &&
                    c->rescan_max_usec <= UINT64_C(86400000000));
        FUZZ_ASSERT(c->reserve_mib <= 1048576);
        FUZZ_ASSERT(c->reserve_percent >= 0 && c->reserve_percent <= 90);
        FUZZ_ASSERT(c->psi_some_avg10 >= 0 && c->psi_some_avg10 <= 100);
        FUZZ_ASSERT(c->node_reserve_mib <= 1048576);
        FUZZ_ASSERT(c->max_evacuations_per_tick >= 1 && c->max_evacuations_per_tick <= 64);
        FUZZ_ASSERT(c->offline_timeout_usec >= 100000 &&
                    c->offline_timeout_usec <= UINT64_C(600000000));
        FUZZ_ASSERT(c->backoff_initial_usec >= 1000000 &&
                    c->backoff_initial_usec <= UINT64_C(86400000000));
        FUZZ_ASSERT(c->backoff_max_usec >= 1000000 &&
                    c->backoff_max_usec <= UINT64_C(604800000000));
        FUZZ_ASSERT(c->backoff_max_usec >= c->backoff_initial_usec);
        FUZZ_ASSERT(c->migrate_batch_pages >= 1 && c->migrate_batch_pages <= 1048576);
        FUZZ_ASSERT(c->region_mib >= 1 && c->region_mib <= 1048576);
        FUZZ_ASSERT(c->online_watts_per_gib >= 0 && c->online_watts_per_gib <= 100);
        for (size_t i = 0; i < ELEMENTSOF(c->offline_watts_per_gib); i++)
                FUZZ_ASSERT(c->offline_watts_per_gib[i] >= 0 && c->offline_watts_per_gib[i] <= 100);
        FUZZ_ASSERT(c->migration_joules_per_gib >= 0 && c->migration_joules_per_gib <= 100000);
        FUZZ_ASSERT(c->expected_offline_usec >= 1000000 &&
                    c->expected_offline_usec <= UINT64_C(604800000000));
        FUZZ_ASSERT(c->domains >= 0 && c->domains < _DOMAINS_MODE_MAX);
        FUZZ_ASSERT(!c->metrics_textfile || c->metrics_textfile[0] == '/');
        for (size_t i = 0; i < c->exclude_blocks.n; i++)
                FUZZ_ASSERT(c->exclude_blocks.ranges[i].hi <= CONFIG_EXCLUDE_BLOCKS_MAX);
        for (size_t i = 0; i < c->destination_nodes.n; i++)
                FUZZ_ASSERT(c->destination_nodes.ranges[i].hi <= CONFIG_DESTINATION_NODES_MAX);
        /* Any machine size: no overflow trap, at least MinFreeMiB. */
        FUZZ_ASSERT(config_reserve_pages(c, 0, 4096) >= c->reserve_mib * 256);
        (void)config_reserve_pages(c, UINT64_C(24) << 20, 4096);
        (void)config_reserve_pages(c, UINT64_MAX / 1024, 65536);
}

/* What --check-config prints parses back, with --config, to an equal
 * Config; the warnings fit their array and say something. */
static void check_dump(const Config *c, const ConfigSources *src)
{
        ConfigWarning w[CONFIG_WARNINGS_MAX];
        char *text = NULL, buf[PATH_MAX + 300];
        size_t len = 0, n;
        ConfigError err;
        Config back;
        FILE *f;

        f = open_memstream(&text, &len);
        FUZZ_ASSERT(f);
        FUZZ_ASSERT(config_dump(c, src, f) == 0);
        FUZZ_ASSERT(fclose(f) == 0);
        write_file(dump_path, (const uint8_t *)text, len);
        free(text);
        config_init(&back);
        FUZZ_ASSERT(config_load(dump_path, NULL, NULL, &back, &err) == 0);
        FUZZ_ASSERT(config_equal(c, &back));
        config_free(&back);

        n = config_warnings(c, src, w, ELEMENTSOF(w));
        FUZZ_ASSERT(n <= CONFIG_WARNINGS_MAX);
        for (size_t i = 0; i < n; i++) {
                FUZZ_ASSERT(w[i].key < config_key_count());
                FUZZ_ASSERT(memchr(w[i].text, '\0', sizeof(w[i].text)));
                FUZZ_ASSERT(w[i].text[0]);
                FUZZ_ASSERT(config_warning_format(&w[i], src, buf, sizeof(buf)) == 0);
        }
}

static void check_load(const char *explicit_path, const char *main, const char *dir)
{
        ConfigSources src = {0};
        Config c, copy, pristine;
        ConfigError err;
        int r;

        config_init(&c);
        config_init(&pristine);
        r = config_load_sources(explicit_path, main, dir, &c, &src, &err);
        if (r < 0) {
                FUZZ_ASSERT(config_equal(&c, &pristine)); /* untouched */
                FUZZ_ASSERT(src.n_files == 0 && !src.files && !src.origins);
                check_error(&err);
        } else {
                check_bounds(&c);
                FUZZ_ASSERT(src.n_files >= 1 && src.origins);
                check_dump(&c, &src);
                config_sources_free(&src);
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
