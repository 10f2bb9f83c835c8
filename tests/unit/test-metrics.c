/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "testutil.h"

static const MetricsSample sample = {
        .block_size_bytes = 134217728,
        .blocks_online = 190,
        .blocks_offline = 2,
        .blocks_going_offline = 0,
        .bytes_offline = 2 * 134217728ULL,
        .bytes_offlined_by_daemon = 134217728,
        .pages_migrated = 12345,
        .evacuations_started = 4,
        .evacuations_succeeded = 2,
        .evacuations_failed = 1,
        .evacuations_aborted = 1,
        .blocks_offlined = 3,
        .blocks_onlined = 1,
        .scan_cpu_ns = 1500000001ULL,
        .migrate_ns = 42,
        .paused = true,
        .dry_run = false,
        .power = { .domains_total = 3, .domains_offline = 1, .watts_saved = 0.028,
                   .net_joules = 16.5, .net_joules_boot = 20.25, .spent_joules = 0.5,
                   .offline_byte_seconds = 5368709120.0, .dram_watts = -1 },
};

static const char expected[] =
        "# HELP mempowerd_block_size_bytes Size of one memory block.\n"
        "# TYPE mempowerd_block_size_bytes gauge\n"
        "mempowerd_block_size_bytes 134217728\n"
        "# HELP mempowerd_blocks Memory blocks by state.\n"
        "# TYPE mempowerd_blocks gauge\n"
        "mempowerd_blocks{state=\"online\"} 190\n"
        "mempowerd_blocks{state=\"offline\"} 2\n"
        "mempowerd_blocks{state=\"going-offline\"} 0\n"
        "# HELP mempowerd_bytes_offline Memory in offline blocks, whoever offlined them.\n"
        "# TYPE mempowerd_bytes_offline gauge\n"
        "mempowerd_bytes_offline 268435456\n"
        "# HELP mempowerd_bytes_offlined_by_daemon Memory offline now because mempowerd offlined "
        "it.\n"
        "# TYPE mempowerd_bytes_offlined_by_daemon gauge\n"
        "mempowerd_bytes_offlined_by_daemon 134217728\n"
        "# HELP mempowerd_pages_migrated_total Pages moved out of blocks being emptied "
        "(move_pages).\n"
        "# TYPE mempowerd_pages_migrated_total counter\n"
        "mempowerd_pages_migrated_total 12345\n"
        "# HELP mempowerd_evacuations_started_total Evacuations started.\n"
        "# TYPE mempowerd_evacuations_started_total counter\n"
        "mempowerd_evacuations_started_total 4\n"
        "# HELP mempowerd_evacuations_total Evacuations finished, by result.\n"
        "# TYPE mempowerd_evacuations_total counter\n"
        "mempowerd_evacuations_total{result=\"succeeded\"} 2\n"
        "mempowerd_evacuations_total{result=\"failed\"} 1\n"
        "mempowerd_evacuations_total{result=\"aborted\"} 1\n"
        "# HELP mempowerd_blocks_offlined_total Blocks mempowerd took offline.\n"
        "# TYPE mempowerd_blocks_offlined_total counter\n"
        "mempowerd_blocks_offlined_total 3\n"
        "# HELP mempowerd_blocks_onlined_total Blocks mempowerd brought online.\n"
        "# TYPE mempowerd_blocks_onlined_total counter\n"
        "mempowerd_blocks_onlined_total 1\n"
        "# HELP mempowerd_scan_cpu_seconds_total CPU time spent looking at memory (ticks, "
        "kpageflags counts).\n"
        "# TYPE mempowerd_scan_cpu_seconds_total counter\n"
        "mempowerd_scan_cpu_seconds_total 1.500000001\n"
        "# HELP mempowerd_migrate_seconds_total Wall time spent locating and moving pages.\n"
        "# TYPE mempowerd_migrate_seconds_total counter\n"
        "mempowerd_migrate_seconds_total 0.000000042\n"
        "# HELP mempowerd_paused 1 when paused over D-Bus.\n"
        "# TYPE mempowerd_paused gauge\n"
        "mempowerd_paused 1\n"
        "# HELP mempowerd_dry_run 1 when the daemon changes nothing (DryRun).\n"
        "# TYPE mempowerd_dry_run gauge\n"
        "mempowerd_dry_run 0\n"
        "# HELP mempowerd_domains Power domains, and those offline whole.\n"
        "# TYPE mempowerd_domains gauge\n"
        "mempowerd_domains{state=\"total\"} 3\n"
        "mempowerd_domains{state=\"offline\"} 1\n"
        "# HELP mempowerd_saving_watts Estimated power saved now by domains offline whole (the "
        "energy model).\n"
        "# TYPE mempowerd_saving_watts gauge\n"
        "mempowerd_saving_watts 0.028000\n"
        "# HELP mempowerd_net_energy_joules Estimated energy saved minus spent migrating, since "
        "start and this boot.\n"
        "# TYPE mempowerd_net_energy_joules gauge\n"
        "mempowerd_net_energy_joules{since=\"start\"} 16.500000\n"
        "mempowerd_net_energy_joules{since=\"boot\"} 20.250000\n"
        "# HELP mempowerd_migration_energy_joules_total Estimated energy spent moving pages, "
        "since start.\n"
        "# TYPE mempowerd_migration_energy_joules_total counter\n"
        "mempowerd_migration_energy_joules_total 0.500000\n"
        "# HELP mempowerd_offline_byte_seconds_total Memory mempowerd kept offline, times how "
        "long, since start.\n"
        "# TYPE mempowerd_offline_byte_seconds_total counter\n"
        "mempowerd_offline_byte_seconds_total 5368709120.000000\n";

static char *format(const MetricsSample *s)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        CHECK(f != NULL);
        if (!f)
                return NULL;
        CHECK_EQ_INT(metrics_format(s, f), 0);
        fclose(f);
        return buf;
}

static void test_format(void)
{
        char *text = format(&sample);

        CHECK_EQ_STR(text, expected);
        free(text);
}

/* Every sample follows its family's # HELP and # TYPE lines; counters end
 * in _total; every line is "name[{labels}] value". */
static void test_format_shape(void)
{
        MetricsSample zero = { 0 };
        char *text = format(&zero), *save = NULL, family[128] = "", type[16] = "";
        unsigned samples = 0;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[128];

                if (strncmp(line, "# HELP ", 7) == 0) {
                        CHECK(sscanf(line + 7, "%127s", family) == 1);
                        type[0] = '\0';
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        CHECK(sscanf(line + 7, "%127s %15s", name, type) == 2);
                        CHECK_EQ_STR(name, family);
                        if (strcmp(type, "counter") == 0) {
                                size_t n = strlen(name);
                                CHECK(n > 6 && strcmp(name + n - 6, "_total") == 0);
                        } else
                                CHECK_EQ_STR(type, "gauge");
                        continue;
                }
                CHECK(line[0] != '#');
                CHECK(sscanf(line, "%127[a-z_]", name) == 1);
                CHECK_EQ_STR(name, family);
                CHECK(type[0] != '\0');
                CHECK(strchr(line, ' ') != NULL && strchr(line, ' ')[1] != '\0');
                samples++;
        }
        CHECK_EQ_INT(samples, 25); /* dram_watts 0: measured, so shown */
        free(text);
}

static unsigned count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static char *slurp(const char *path)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re"), *out = open_memstream(&buf, &size);
        int c;

        if (f) {
                while ((c = fgetc(f)) != EOF)
                        fputc(c, out);
                fclose(f);
        }
        fclose(out);
        return buf;
}

static void test_write_file(void)
{
        char *dir = tmpdir_make(), *path, *bad, *text;
        struct stat st;

        CHECK(asprintf(&path, "%s/mempowerd.prom", dir) > 0);
        CHECK(asprintf(&bad, "%s/missing/mempowerd.prom", dir) > 0);

        CHECK_EQ_INT(metrics_write_file(&sample, path), 0);
        text = slurp(path);
        CHECK_EQ_STR(text, expected);
        free(text);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
        CHECK_EQ_INT(count_entries(dir), 1); /* no temporary left */

        /* replaced, not appended */
        CHECK_EQ_INT(metrics_write_file(&sample, path), 0);
        text = slurp(path);
        CHECK_EQ_STR(text, expected);
        free(text);
        CHECK_EQ_INT(count_entries(dir), 1);

        CHECK_EQ_INT(metrics_write_file(&sample, bad), -ENOENT);
        CHECK_EQ_INT(count_entries(dir), 1);

        free(path);
        free(bad);
        tmpdir_remove(dir);
}

static void test_write_manager(void)
{
        char *dir = tmpdir_make(), *path, *bad;
        Manager m = { 0 };

        CHECK(asprintf(&path, "%s/m.prom", dir) > 0);
        CHECK(asprintf(&bad, "%s/missing/m.prom", dir) > 0);

        /* off */
        CHECK_EQ_INT(metrics_write(&m), 0);
        CHECK_EQ_INT(count_entries(dir), 0);

        /* a failure: not fatal, remembered in LastError */
        m.config.metrics_textfile = bad;
        CHECK(metrics_write(&m) < 0);
        CHECK(m.metrics_failing);
        CHECK(strstr(m.last_error, bad) != NULL);
        /* a second failure does not overwrite a newer error */
        strcpy(m.last_error, "something newer");
        CHECK(metrics_write(&m) < 0);
        CHECK_EQ_STR(m.last_error, "something newer");

        /* recovery */
        m.config.metrics_textfile = path;
        m.paused = true;
        CHECK_EQ_INT(metrics_write(&m), 0);
        CHECK(!m.metrics_failing);
        CHECK_EQ_INT(count_entries(dir), 1);
        {
                char *text = slurp(path);
                CHECK(text && strstr(text, "\nmempowerd_paused 1\n") != NULL);
                CHECK(text && strstr(text, "\nmempowerd_blocks{state=\"online\"} 0\n") != NULL);
                free(text);
        }

        free(path);
        free(bad);
        tmpdir_remove(dir);
}

int main(void)
{
        test_format();
        test_format_shape();
        test_write_file();
        test_write_manager();
        return test_summary("test-metrics");
}
