/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config-build.h"
#include "metrics.h"
#include "testutil.h"
#include "util.h"

/* 128 MiB blocks, 4 KiB pages; every figure chosen so that what the
 * formatter derives can be checked by hand below. */
static const MetricsSample sample = {
        .version = "1.2.3",
        .last_tick_usec = 1700000000123456ULL,
        .ticks = 77,
        .paused = true,
        .dry_run = false,
        .block_size_bytes = 134217728,
        .blocks_online = 190,
        .blocks_offline = 2,
        .blocks_going_offline = 1,
        .offline_bytes = 2 * 134217728ULL,
        .offline_owned_bytes = 134217728,
        .reserve_bytes = 268435456,
        .available_bytes = 1073741824,
        .commit_headroom_bytes = UINT64_MAX, /* no limit: no family */
        .psi_valid = true,
        .psi_some_avg10 = 12.5,
        .psi_threshold = 10,
        .pressure = PRESSURE_RESERVE | PRESSURE_PSI,
        .nodes_short = true,
        .evacuations_started = 4,
        .evacuations_handshake = 1,
        .evacuations_succeeded = 2,
        .evacuations_failed = 1,
        .evacuations_aborted = 1,
        .migrated_bytes = 12345 * 4096ULL,
        .offline_migrated_bytes = 100 * 4096ULL,
        .blocks_offlined = 3,
        .blocks_onlined = 1,
        .scan_cpu_ns = 1500000001ULL,
        .migrate_ns = 42,
        .power = { .domains_total = 3, .domains_offline = 1, .watts_saved = 0.028,
                   .net_joules = -16.5, .net_joules_boot = 20.25, .spent_joules = 0.5,
                   .offline_byte_seconds = 5368709120.0, .dram_watts = -1 },
};

static const char expected[] =
        "# HELP mempowerd_build_info The running mempowerd's version (always 1).\n"
        "# TYPE mempowerd_build_info gauge\n"
        "mempowerd_build_info{version=\"1.2.3\"} 1\n"
        "# HELP mempowerd_last_tick_timestamp_seconds Wall-clock time of the tick that wrote this "
        "file, seconds since the epoch.\n"
        "# TYPE mempowerd_last_tick_timestamp_seconds gauge\n"
        "mempowerd_last_tick_timestamp_seconds 1700000000.123456\n"
        "# HELP mempowerd_ticks_total Ticks since the daemon started.\n"
        "# TYPE mempowerd_ticks_total counter\n"
        "mempowerd_ticks_total 77\n"
        "# HELP mempowerd_paused 1 while paused over D-Bus (nothing goes offline).\n"
        "# TYPE mempowerd_paused gauge\n"
        "mempowerd_paused 1\n"
        "# HELP mempowerd_dry_run 1 when the daemon changes nothing (DryRun).\n"
        "# TYPE mempowerd_dry_run gauge\n"
        "mempowerd_dry_run 0\n"
        "# HELP mempowerd_block_size_bytes Size of one memory block.\n"
        "# TYPE mempowerd_block_size_bytes gauge\n"
        "mempowerd_block_size_bytes 134217728\n"
        "# HELP mempowerd_blocks Memory blocks by their state in sysfs.\n"
        "# TYPE mempowerd_blocks gauge\n"
        "mempowerd_blocks{state=\"online\"} 190\n"
        "mempowerd_blocks{state=\"offline\"} 2\n"
        "mempowerd_blocks{state=\"going-offline\"} 1\n"
        "# HELP mempowerd_offline_bytes Memory in offline blocks: owner mempowerd took it offline, "
        "other did (an administrator, a hot-add left offline).\n"
        "# TYPE mempowerd_offline_bytes gauge\n"
        "mempowerd_offline_bytes{owner=\"mempowerd\"} 134217728\n"
        "mempowerd_offline_bytes{owner=\"other\"} 134217728\n"
        "# HELP mempowerd_reserve_bytes Memory kept free and online (MinFreeMiB, MinFreePercent).\n"
        "# TYPE mempowerd_reserve_bytes gauge\n"
        "mempowerd_reserve_bytes 268435456\n"
        "# HELP mempowerd_memory_available_bytes MemAvailable as the daemon last compared it with "
        "the reserve.\n"
        "# TYPE mempowerd_memory_available_bytes gauge\n"
        "mempowerd_memory_available_bytes 1073741824\n"
        "# HELP mempowerd_psi_memory_some_avg10_ratio PSI memory some avg10 as the daemon last "
        "read it.\n"
        "# TYPE mempowerd_psi_memory_some_avg10_ratio gauge\n"
        "mempowerd_psi_memory_some_avg10_ratio 0.125000\n"
        "# HELP mempowerd_psi_memory_some_avg10_threshold_ratio PSISomeAvg10=: above it the daemon "
        "gives memory back.\n"
        "# TYPE mempowerd_psi_memory_some_avg10_threshold_ratio gauge\n"
        "mempowerd_psi_memory_some_avg10_threshold_ratio 0.100000\n"
        "# HELP mempowerd_under_pressure 1 while the daemon sees pressure of this kind and gives "
        "memory back.\n"
        "# TYPE mempowerd_under_pressure gauge\n"
        "mempowerd_under_pressure{kind=\"reserve\"} 1\n"
        "mempowerd_under_pressure{kind=\"psi\"} 1\n"
        "mempowerd_under_pressure{kind=\"commit\"} 0\n"
        "mempowerd_under_pressure{kind=\"kernel\"} 0\n"
        "mempowerd_under_pressure{kind=\"unreadable\"} 0\n"
        "mempowerd_under_pressure{kind=\"node\"} 1\n"
        "# HELP mempowerd_evacuations_started_total Evacuations started, by what started them.\n"
        "# TYPE mempowerd_evacuations_started_total counter\n"
        "mempowerd_evacuations_started_total{reason=\"handshake\"} 1\n"
        "mempowerd_evacuations_started_total{reason=\"sweep\"} 3\n"
        "# HELP mempowerd_evacuations_total Evacuations finished, by result.\n"
        "# TYPE mempowerd_evacuations_total counter\n"
        "mempowerd_evacuations_total{result=\"succeeded\"} 2\n"
        "mempowerd_evacuations_total{result=\"failed\"} 1\n"
        "mempowerd_evacuations_total{result=\"aborted\"} 1\n"
        "# HELP mempowerd_migrated_bytes_total Memory moved out of blocks being emptied: by "
        "move_pages, or left to the kernel's offline (as last counted).\n"
        "# TYPE mempowerd_migrated_bytes_total counter\n"
        "mempowerd_migrated_bytes_total{method=\"move_pages\"} 50565120\n"
        "mempowerd_migrated_bytes_total{method=\"offline\"} 409600\n"
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
        "# HELP mempowerd_migration_seconds_total Wall time spent locating and moving pages.\n"
        "# TYPE mempowerd_migration_seconds_total counter\n"
        "mempowerd_migration_seconds_total 0.000000042\n"
        "# HELP mempowerd_power_domains Power domains (Domains=).\n"
        "# TYPE mempowerd_power_domains gauge\n"
        "mempowerd_power_domains 3\n"
        "# HELP mempowerd_power_domains_offline Power domains mempowerd keeps offline whole.\n"
        "# TYPE mempowerd_power_domains_offline gauge\n"
        "mempowerd_power_domains_offline 1\n"
        "# HELP mempowerd_estimated_saving_watts Power saved now by the domains offline whole, by "
        "the energy model.\n"
        "# TYPE mempowerd_estimated_saving_watts gauge\n"
        "mempowerd_estimated_saving_watts 0.028000\n"
        "# HELP mempowerd_net_energy_joules Estimated energy saved minus spent migrating, since "
        "the daemon started.\n"
        "# TYPE mempowerd_net_energy_joules gauge\n"
        "mempowerd_net_energy_joules -16.500000\n"
        "# HELP mempowerd_net_energy_since_boot_joules The same over every mempowerd of this boot "
        "(the state file).\n"
        "# TYPE mempowerd_net_energy_since_boot_joules gauge\n"
        "mempowerd_net_energy_since_boot_joules 20.250000\n"
        "# HELP mempowerd_migration_energy_joules_total Estimated energy spent moving pages, since "
        "the daemon started.\n"
        "# TYPE mempowerd_migration_energy_joules_total counter\n"
        "mempowerd_migration_energy_joules_total 0.500000\n"
        "# HELP mempowerd_offline_byte_seconds_total Memory mempowerd kept offline times how long, "
        "since the daemon started.\n"
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

/* The conventions, on a sample of zeros and on one with every optional
 * family: every sample follows its family's # HELP and # TYPE lines, one
 * family per name, counters and only counters end in _total, names and
 * label values are lower case. Returns the number of samples. */
static unsigned check_shape(const MetricsSample *s)
{
        char *text = format(s), *save = NULL, family[128] = "", type[16] = "";
        char seen[64][128];
        unsigned samples = 0, families = 0;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[128], *labels;

                if (strncmp(line, "# HELP ", 7) == 0) {
                        CHECK(sscanf(line + 7, "%127s", family) == 1);
                        CHECK(strncmp(family, "mempowerd_", 10) == 0);
                        for (unsigned i = 0; i < families; i++)
                                CHECK(strcmp(seen[i], family) != 0);
                        CHECK(families < ELEMENTSOF(seen));
                        if (families < ELEMENTSOF(seen))
                                snprintf(seen[families++], sizeof(seen[0]), "%s", family);
                        type[0] = '\0';
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        size_t n;

                        CHECK(sscanf(line + 7, "%127s %15s", name, type) == 2);
                        CHECK_EQ_STR(name, family);
                        n = strlen(name);
                        if (strcmp(type, "counter") == 0)
                                CHECK(n > 6 && strcmp(name + n - 6, "_total") == 0);
                        else {
                                CHECK_EQ_STR(type, "gauge");
                                CHECK(n <= 6 || strcmp(name + n - 6, "_total") != 0);
                        }
                        continue;
                }
                CHECK(line[0] != '#');
                CHECK(sscanf(line, "%127[a-z0-9_]", name) == 1);
                CHECK_EQ_STR(name, family);
                CHECK(type[0] != '\0');
                labels = line + strlen(name);
                if (*labels == '{') {
                        char *end = strchr(labels, '}');

                        CHECK(end != NULL);
                        for (char *c = labels; end && c < end; c++)
                                CHECK(!(*c >= 'A' && *c <= 'Z'));
                        labels = end ? end + 1 : labels;
                }
                CHECK(labels[0] == ' ' && labels[1] != '\0' && !strchr(labels + 1, ' '));
                samples++;
        }
        free(text);
        return samples;
}

static void test_format_shape(void)
{
        MetricsSample zero = { 0 }, all = sample;

        /* zeros: a commit limit (0 bytes of headroom), no PSI, DRAM measured at 0 W (two
         * families) */
        CHECK_EQ_INT(check_shape(&zero), 41);
        all.commit_headroom_bytes = 0;
        all.power.dram_watts = 2.5;
        CHECK_EQ_INT(check_shape(&all), 42);
        CHECK_EQ_INT(check_shape(&sample), 39); /* PSI, no commit limit, no RAPL */
}

/* What is there only when the daemon has it. */
static void test_format_optional(void)
{
        MetricsSample s = sample;
        char *text;

        s.commit_headroom_bytes = 3ULL << 30;
        s.psi_valid = false;
        s.power.dram_watts = 2.5;
        s.power.dram_joules = 1234.5;
        s.version = NULL;
        text = format(&s);
        CHECK(text && strstr(text, "\nmempowerd_commit_headroom_bytes 3221225472\n"));
        CHECK(text && !strstr(text, "mempowerd_psi_memory_some_avg10_ratio"));
        /* the threshold is the configuration's: there without PSI */
        CHECK(text && strstr(text, "\nmempowerd_psi_memory_some_avg10_threshold_ratio 0.100000\n"));
        CHECK(text && strstr(text, "# TYPE mempowerd_measured_dram_watts gauge\n"
                                   "mempowerd_measured_dram_watts 2.500000\n"));
        CHECK(text && strstr(text, "# TYPE mempowerd_measured_dram_joules_total counter\n"
                                   "mempowerd_measured_dram_joules_total 1234.500000\n"));
        CHECK(text && strstr(text, "\nmempowerd_build_info{version=\"unknown\"} 1\n"));
        free(text);

        /* counters that the formatter derives never go below 0 */
        s = sample;
        s.evacuations_handshake = s.evacuations_started + 1;
        s.offline_owned_bytes = s.offline_bytes + 1;
        text = format(&s);
        CHECK(text && strstr(text, "\nmempowerd_evacuations_started_total{reason=\"sweep\"} 0\n"));
        CHECK(text && strstr(text, "\nmempowerd_offline_bytes{owner=\"other\"} 0\n"));
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

static bool exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0;
}

static void test_write_manager(void)
{
        char *dir = tmpdir_make(), *path, *moved, *bad;
        Manager m = { 0 };
        struct timespec before, after;

        CHECK(asprintf(&path, "%s/m.prom", dir) > 0);
        CHECK(asprintf(&moved, "%s/moved.prom", dir) > 0);
        CHECK(asprintf(&bad, "%s/missing/m.prom", dir) > 0);

        /* off */
        CHECK_EQ_INT(metrics_write(&m), 0);
        CHECK_EQ_INT(count_entries(dir), 0);
        CHECK_EQ_INT(metrics_remove(&m), 0);

        /* a failure: not fatal, remembered in LastError */
        m.config.metrics_textfile = bad;
        CHECK(metrics_write(&m) < 0);
        CHECK(m.metrics_failing);
        CHECK(strstr(m.last_error, bad) != NULL);
        /* a second failure does not overwrite a newer error */
        strcpy(m.last_error, "something newer");
        CHECK(metrics_write(&m) < 0);
        CHECK_EQ_STR(m.last_error, "something newer");

        /* recovery, with the tick's wall-clock time */
        m.config.metrics_textfile = path;
        m.paused = true;
        m.counters.ticks = 5;
        m.pressure = PRESSURE_COMMIT;
        m.page_size = 4096;
        m.counters.pages_migrated = 3;
        m.plan.reserve_pages = 10;
        m.plan.commit_headroom_pages = UINT64_MAX;
        m.has_psi = true;
        m.psi.some.avg10 = 1.25;
        clock_gettime(CLOCK_REALTIME, &before);
        CHECK_EQ_INT(metrics_write(&m), 0);
        clock_gettime(CLOCK_REALTIME, &after);
        CHECK(!m.metrics_failing);
        CHECK_EQ_INT(count_entries(dir), 1);
        {
                char *text = slurp(path), *p;
                double t;

                CHECK(text && strstr(text, "\nmempowerd_paused 1\n") != NULL);
                CHECK(text && strstr(text, "\nmempowerd_ticks_total 5\n") != NULL);
                CHECK(text && strstr(text, "\nmempowerd_blocks{state=\"online\"} 0\n") != NULL);
                CHECK(text && strstr(text, "\nmempowerd_under_pressure{kind=\"commit\"} 1\n"));
                CHECK(text && strstr(text, "\nmempowerd_under_pressure{kind=\"reserve\"} 0\n"));
                CHECK(text && strstr(text, "\nmempowerd_migrated_bytes_total"
                                           "{method=\"move_pages\"} 12288\n"));
                CHECK(text && strstr(text, "\nmempowerd_reserve_bytes 40960\n"));
                CHECK(text && !strstr(text, "mempowerd_commit_headroom_bytes"));
                CHECK(text && strstr(text, "\nmempowerd_psi_memory_some_avg10_ratio 0.012500\n"));
                CHECK(text && strstr(text, "\nmempowerd_build_info{version=\"" PACKAGE_VERSION
                                           "\"} 1\n"));
                p = text ? strstr(text, "\nmempowerd_last_tick_timestamp_seconds ") : NULL;
                CHECK(p && sscanf(p + strlen("\nmempowerd_last_tick_timestamp_seconds "), "%lf",
                                  &t) == 1);
                CHECK(p && t >= (double)before.tv_sec && t <= (double)after.tv_sec + 1);
                free(text);
        }

        /* TextFile= moved by a reload: the old file goes, the new one is written */
        m.config.metrics_textfile = moved;
        CHECK_EQ_INT(metrics_write(&m), 0);
        CHECK(!exists(path));
        CHECK(exists(moved));
        CHECK_EQ_INT(count_entries(dir), 1);

        /* emptied: no file */
        m.config.metrics_textfile = NULL;
        CHECK_EQ_INT(metrics_write(&m), 0);
        CHECK_EQ_INT(count_entries(dir), 0);

        /* a clean stop removes what was written, and only that */
        m.config.metrics_textfile = path;
        CHECK_EQ_INT(metrics_write(&m), 0);
        fake_write(dir, "other.prom", "x 1\n");
        CHECK_EQ_INT(metrics_remove(&m), 0);
        CHECK(!exists(path));
        CHECK_EQ_INT(count_entries(dir), 1);
        CHECK(m.metrics_path == NULL);
        /* twice, or after someone removed it: nothing to say */
        CHECK_EQ_INT(metrics_remove(&m), 0);
        CHECK_EQ_INT(metrics_write(&m), 0);
        fake_unlink(dir, "m.prom");
        CHECK_EQ_INT(metrics_remove(&m), 0);

        free(path);
        free(moved);
        free(bad);
        tmpdir_remove(dir);
}

int main(void)
{
        test_format();
        test_format_shape();
        test_format_optional();
        test_write_file();
        test_write_manager();
        return test_summary("test-metrics");
}
