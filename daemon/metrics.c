/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-build.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

void metrics_sample_take(const Manager *m, MetricsSample *ret)
{
        uint64_t ps = m->page_size;
        MetricsSample s = { 0 };

        s.version = PACKAGE_VERSION;
        s.ticks = m->counters.ticks;
        s.paused = m->paused;
        /* manager_dry_run(), spelled out: this file links without manager.c
         * (tests/unit/test-metrics). */
        s.dry_run = m->force_dry_run || m->config.dry_run;

        s.block_size_bytes = m->table.block_size_bytes;
        for (size_t i = 0; i < m->table.n; i++) {
                /* the kernel's states: a dry run's model is not offline */
                switch (m->table.blocks[i].track.modelled ? BLOCK_ONLINE
                                                          : m->table.blocks[i].state) {
                case BLOCK_OFFLINE:
                        s.blocks_offline++;
                        break;
                case BLOCK_GOING_OFFLINE:
                        s.blocks_going_offline++;
                        break;
                default:
                        s.blocks_online++;
                        break;
                }
        }
        s.offline_bytes = s.blocks_offline * m->table.block_size_bytes;
        s.offline_owned_bytes = manager_bytes_offlined(m);

        s.reserve_bytes = m->plan.reserve_pages * ps;
        s.available_bytes = m->plan.available_pages * ps;
        s.commit_headroom_bytes = m->plan.commit_headroom_pages == UINT64_MAX
                                          ? UINT64_MAX
                                          : m->plan.commit_headroom_pages * ps;
        s.psi_valid = m->has_psi;
        s.psi_some_avg10 = m->psi.some.avg10;
        s.psi_threshold = m->config.psi_some_avg10;
        s.pressure = m->pressure;
        s.nodes_short = m->plan.nodes_short;

        s.evacuations_started = m->counters.evacuations_started;
        s.evacuations_handshake = m->counters.evacuations_handshake;
        s.evacuations_succeeded = m->counters.evacuations_succeeded;
        s.evacuations_failed = m->counters.evacuations_failed;
        s.evacuations_aborted = m->counters.evacuations_aborted;
        s.migrated_bytes = m->counters.pages_migrated * ps;
        s.offline_migrated_bytes = m->counters.pages_offline_migrated * ps;
        s.blocks_offlined = m->counters.blocks_offlined;
        s.blocks_onlined = m->counters.blocks_onlined;
        s.scan_cpu_ns = m->counters.scan_cpu_ns;
        s.migrate_ns = m->counters.migrate_ns;
        power_figures(m, &s.power);
        *ret = s;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; labels is "" or "{name=\"value\",...}". */
static void u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
        fprintf(f, "%s%s %" PRIu64 "\n", name, labels, v);
}

static void dbl(FILE *f, const char *name, const char *labels, double v)
{
        fprintf(f, "%s%s %.6f\n", name, labels, v);
}

/* ns as seconds, exactly. */
static void seconds(FILE *f, const char *name, uint64_t ns)
{
        fprintf(f, "%s %" PRIu64 ".%09" PRIu64 "\n", name, ns / (uint64_t)NSEC_PER_SEC,
                ns % (uint64_t)NSEC_PER_SEC);
}

static void gauge_u64(FILE *f, const char *name, const char *help, uint64_t v)
{
        family(f, name, "gauge", help);
        u64(f, name, "", v);
}

static void counter_u64(FILE *f, const char *name, const char *help, uint64_t v)
{
        family(f, name, "counter", help);
        u64(f, name, "", v);
}

int metrics_format(const MetricsSample *s, FILE *f)
{
        /* The pressure kinds, as pressure_to_string() words, and "node". */
        static const struct {
                unsigned flag;
                const char *kind;
        } kinds[] = {
                { PRESSURE_RESERVE, "reserve" },       { PRESSURE_PSI, "psi" },
                { PRESSURE_COMMIT, "commit" },         { PRESSURE_KERNEL, "kernel" },
                { PRESSURE_UNREADABLE, "unreadable" },
        };
        char labels[64];

        family(f, "mempowerd_build_info", "gauge", "The running mempowerd's version (always 1).");
        fprintf(f, "mempowerd_build_info{version=\"%s\"} 1\n", s->version ?: "unknown");

        family(f, "mempowerd_last_tick_timestamp_seconds", "gauge",
               "Wall-clock time of the tick that wrote this file, seconds since the epoch.");
        fprintf(f, "mempowerd_last_tick_timestamp_seconds %" PRIu64 ".%06" PRIu64 "\n",
                s->last_tick_usec / (uint64_t)USEC_PER_SEC,
                s->last_tick_usec % (uint64_t)USEC_PER_SEC);

        counter_u64(f, "mempowerd_ticks_total", "Ticks since the daemon started.", s->ticks);
        gauge_u64(f, "mempowerd_paused", "1 while paused over D-Bus (nothing goes offline).",
                  s->paused);
        gauge_u64(f, "mempowerd_dry_run", "1 when the daemon changes nothing (DryRun).",
                  s->dry_run);
        gauge_u64(f, "mempowerd_block_size_bytes", "Size of one memory block.",
                  s->block_size_bytes);

        family(f, "mempowerd_blocks", "gauge", "Memory blocks by their state in sysfs.");
        u64(f, "mempowerd_blocks", "{state=\"online\"}", s->blocks_online);
        u64(f, "mempowerd_blocks", "{state=\"offline\"}", s->blocks_offline);
        u64(f, "mempowerd_blocks", "{state=\"going-offline\"}", s->blocks_going_offline);

        family(f, "mempowerd_offline_bytes", "gauge",
               "Memory in offline blocks: owner mempowerd took it offline, other did "
               "(an administrator, a hot-add left offline).");
        u64(f, "mempowerd_offline_bytes", "{owner=\"mempowerd\"}", s->offline_owned_bytes);
        u64(f, "mempowerd_offline_bytes", "{owner=\"other\"}",
            s->offline_bytes > s->offline_owned_bytes ? s->offline_bytes - s->offline_owned_bytes
                                                      : 0);

        gauge_u64(f, "mempowerd_reserve_bytes",
                  "Memory kept free and online (MinFreeMiB, MinFreePercent).", s->reserve_bytes);
        gauge_u64(f, "mempowerd_memory_available_bytes",
                  "MemAvailable as the daemon last compared it with the reserve.",
                  s->available_bytes);
        if (s->commit_headroom_bytes != UINT64_MAX)
                gauge_u64(f, "mempowerd_commit_headroom_bytes",
                          "Commit headroom the daemon keeps above the reserve (overcommit 0 "
                          "and 2; none with 1).",
                          s->commit_headroom_bytes);
        if (s->psi_valid) {
                family(f, "mempowerd_psi_memory_some_avg10_ratio", "gauge",
                       "PSI memory some avg10 as the daemon last read it.");
                dbl(f, "mempowerd_psi_memory_some_avg10_ratio", "", s->psi_some_avg10 / 100.0);
        }
        family(f, "mempowerd_psi_memory_some_avg10_threshold_ratio", "gauge",
               "PSISomeAvg10=: above it the daemon gives memory back.");
        dbl(f, "mempowerd_psi_memory_some_avg10_threshold_ratio", "", s->psi_threshold / 100.0);

        family(f, "mempowerd_under_pressure", "gauge",
               "1 while the daemon sees pressure of this kind and gives memory back.");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                snprintf(labels, sizeof(labels), "{kind=\"%s\"}", kinds[i].kind);
                u64(f, "mempowerd_under_pressure", labels, !!(s->pressure & kinds[i].flag));
        }
        u64(f, "mempowerd_under_pressure", "{kind=\"node\"}", s->nodes_short);

        family(f, "mempowerd_evacuations_started_total", "counter",
               "Evacuations started, by what started them.");
        u64(f, "mempowerd_evacuations_started_total", "{reason=\"handshake\"}",
            s->evacuations_handshake);
        u64(f, "mempowerd_evacuations_started_total", "{reason=\"sweep\"}",
            s->evacuations_started > s->evacuations_handshake
                    ? s->evacuations_started - s->evacuations_handshake
                    : 0);

        family(f, "mempowerd_evacuations_total", "counter", "Evacuations finished, by result.");
        u64(f, "mempowerd_evacuations_total", "{result=\"succeeded\"}", s->evacuations_succeeded);
        u64(f, "mempowerd_evacuations_total", "{result=\"failed\"}", s->evacuations_failed);
        u64(f, "mempowerd_evacuations_total", "{result=\"aborted\"}", s->evacuations_aborted);

        family(f, "mempowerd_migrated_bytes_total", "counter",
               "Memory moved out of blocks being emptied: by move_pages, or left to the "
               "kernel's offline (as last counted).");
        u64(f, "mempowerd_migrated_bytes_total", "{method=\"move_pages\"}", s->migrated_bytes);
        u64(f, "mempowerd_migrated_bytes_total", "{method=\"offline\"}", s->offline_migrated_bytes);

        counter_u64(f, "mempowerd_blocks_offlined_total", "Blocks mempowerd took offline.",
                    s->blocks_offlined);
        counter_u64(f, "mempowerd_blocks_onlined_total", "Blocks mempowerd brought online.",
                    s->blocks_onlined);

        family(f, "mempowerd_scan_cpu_seconds_total", "counter",
               "CPU time spent looking at memory (ticks, kpageflags counts).");
        seconds(f, "mempowerd_scan_cpu_seconds_total", s->scan_cpu_ns);
        family(f, "mempowerd_migration_seconds_total", "counter",
               "Wall time spent locating and moving pages.");
        seconds(f, "mempowerd_migration_seconds_total", s->migrate_ns);

        gauge_u64(f, "mempowerd_power_domains", "Power domains (Domains=).",
                  s->power.domains_total);
        gauge_u64(f, "mempowerd_power_domains_offline",
                  "Power domains mempowerd keeps offline whole.", s->power.domains_offline);

        family(f, "mempowerd_estimated_saving_watts", "gauge",
               "Power saved now by the domains offline whole, by the energy model.");
        dbl(f, "mempowerd_estimated_saving_watts", "", s->power.watts_saved);
        if (s->power.dram_watts >= 0) {
                family(f, "mempowerd_measured_dram_watts", "gauge",
                       "DRAM power measured by RAPL over the last tick.");
                dbl(f, "mempowerd_measured_dram_watts", "", s->power.dram_watts);
                family(f, "mempowerd_measured_dram_joules_total", "counter",
                       "DRAM energy measured by RAPL since the daemon started.");
                dbl(f, "mempowerd_measured_dram_joules_total", "", s->power.dram_joules);
        }

        family(f, "mempowerd_net_energy_joules", "gauge",
               "Estimated energy saved minus spent migrating, since the daemon started.");
        dbl(f, "mempowerd_net_energy_joules", "", s->power.net_joules);
        family(f, "mempowerd_net_energy_since_boot_joules", "gauge",
               "The same over every mempowerd of this boot (the state file).");
        dbl(f, "mempowerd_net_energy_since_boot_joules", "", s->power.net_joules_boot);
        family(f, "mempowerd_migration_energy_joules_total", "counter",
               "Estimated energy spent moving pages, since the daemon started.");
        dbl(f, "mempowerd_migration_energy_joules_total", "", s->power.spent_joules);
        family(f, "mempowerd_offline_byte_seconds_total", "counter",
               "Memory mempowerd kept offline times how long, since the daemon started.");
        dbl(f, "mempowerd_offline_byte_seconds_total", "", s->power.offline_byte_seconds);

        return ferror(f) ? -EIO : 0;
}

int metrics_write_file(const MetricsSample *s, const char *path)
{
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        int fd, r;

        if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0) {
                r = -errno;
                close(fd);
                goto fail;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                goto fail;
        }
        r = metrics_format(s, f);
        if (fflush(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r < 0)
                goto fail;
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void)unlink(tmp);
        return r;
}

/* The file written before, if it is not path (NULL: none now). */
static void metrics_remove_old(Manager *m, const char *path)
{
        if (!m->metrics_path || (path && strcmp(m->metrics_path, path) == 0))
                return;
        (void)metrics_remove(m);
}

int metrics_write(Manager *m)
{
        const char *path = m->config.metrics_textfile;
        MetricsSample s;
        int r;

        if (!path || !*path) {
                metrics_remove_old(m, NULL);
                m->metrics_failing = false;
                return 0;
        }
        metrics_remove_old(m, path);
        /* Known before it exists, so that a clean stop removes it. */
        if (!m->metrics_path) {
                m->metrics_path = strdup(path);
                if (!m->metrics_path)
                        return log_oom();
        }
        metrics_sample_take(m, &s);
        s.last_tick_usec = clock_ns(CLOCK_REALTIME) / NSEC_PER_USEC;
        r = metrics_write_file(&s, path);
        if (r < 0) {
                if (!m->metrics_failing) {
                        log_warning_errno(r, "Failed to write metrics to %s, ignoring: %m", path);
                        snprintf(m->last_error, sizeof(m->last_error),
                                 "Failed to write metrics to %s: %s", path, strerror(-r));
                }
                m->metrics_failing = true;
                return r;
        }
        if (m->metrics_failing)
                log_info("Metrics written to %s again", path);
        m->metrics_failing = false;
        return 0;
}

int metrics_remove(Manager *m)
{
        _cleanup_free_ char *path = TAKE_PTR(m->metrics_path);

        if (!path)
                return 0;
        if (unlink(path) < 0 && errno != ENOENT)
                return log_warning_errno(errno, "Failed to remove the metrics file %s: %m", path);
        log_debug("Metrics file %s removed", path);
        return 0;
}
