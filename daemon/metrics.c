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

#include "log.h"
#include "metrics.h"
#include "util.h"

void metrics_sample_take(const Manager *m, MetricsSample *ret)
{
        MetricsSample s = { 0 };

        s.block_size_bytes = m->table.block_size_bytes;
        for (size_t i = 0; i < m->table.n; i++) {
                /* the kernel's states: a dry run's model is not offline */
                switch (m->table.blocks[i].track.modelled ? BLOCK_ONLINE : m->table.blocks[i].state) {
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
        s.bytes_offline = s.blocks_offline * m->table.block_size_bytes;
        s.bytes_offlined_by_daemon = manager_bytes_offlined(m);
        s.pages_migrated = m->counters.pages_migrated;
        s.evacuations_started = m->counters.evacuations_started;
        s.evacuations_succeeded = m->counters.evacuations_succeeded;
        s.evacuations_failed = m->counters.evacuations_failed;
        s.evacuations_aborted = m->counters.evacuations_aborted;
        s.blocks_offlined = m->counters.blocks_offlined;
        s.blocks_onlined = m->counters.blocks_onlined;
        s.scan_cpu_ns = m->counters.scan_cpu_ns;
        s.migrate_ns = m->counters.migrate_ns;
        s.paused = m->paused;
        /* manager_dry_run(), spelled out: this file links without manager.c
         * (tests/unit/test-metrics). */
        s.dry_run = m->force_dry_run || m->config.dry_run;
        power_figures(m, &s.power);
        *ret = s;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void seconds(FILE *f, const char *name, uint64_t ns)
{
        fprintf(f, "%s %" PRIu64 ".%09" PRIu64 "\n", name, ns / (uint64_t)NSEC_PER_SEC,
                ns % (uint64_t)NSEC_PER_SEC);
}

int metrics_format(const MetricsSample *s, FILE *f)
{
        family(f, "mempowerd_block_size_bytes", "gauge", "Size of one memory block.");
        fprintf(f, "mempowerd_block_size_bytes %" PRIu64 "\n", s->block_size_bytes);

        family(f, "mempowerd_blocks", "gauge", "Memory blocks by state.");
        fprintf(f, "mempowerd_blocks{state=\"online\"} %" PRIu64 "\n", s->blocks_online);
        fprintf(f, "mempowerd_blocks{state=\"offline\"} %" PRIu64 "\n", s->blocks_offline);
        fprintf(f, "mempowerd_blocks{state=\"going-offline\"} %" PRIu64 "\n",
                s->blocks_going_offline);

        family(f, "mempowerd_bytes_offline", "gauge",
               "Memory in offline blocks, whoever offlined them.");
        fprintf(f, "mempowerd_bytes_offline %" PRIu64 "\n", s->bytes_offline);

        family(f, "mempowerd_bytes_offlined_by_daemon", "gauge",
               "Memory offline now because mempowerd offlined it.");
        fprintf(f, "mempowerd_bytes_offlined_by_daemon %" PRIu64 "\n",
                s->bytes_offlined_by_daemon);

        family(f, "mempowerd_pages_migrated_total", "counter",
               "Pages moved out of blocks being emptied (move_pages).");
        fprintf(f, "mempowerd_pages_migrated_total %" PRIu64 "\n", s->pages_migrated);

        family(f, "mempowerd_evacuations_started_total", "counter", "Evacuations started.");
        fprintf(f, "mempowerd_evacuations_started_total %" PRIu64 "\n", s->evacuations_started);

        family(f, "mempowerd_evacuations_total", "counter", "Evacuations finished, by result.");
        fprintf(f, "mempowerd_evacuations_total{result=\"succeeded\"} %" PRIu64 "\n",
                s->evacuations_succeeded);
        fprintf(f, "mempowerd_evacuations_total{result=\"failed\"} %" PRIu64 "\n",
                s->evacuations_failed);
        fprintf(f, "mempowerd_evacuations_total{result=\"aborted\"} %" PRIu64 "\n",
                s->evacuations_aborted);

        family(f, "mempowerd_blocks_offlined_total", "counter", "Blocks mempowerd took offline.");
        fprintf(f, "mempowerd_blocks_offlined_total %" PRIu64 "\n", s->blocks_offlined);

        family(f, "mempowerd_blocks_onlined_total", "counter", "Blocks mempowerd brought online.");
        fprintf(f, "mempowerd_blocks_onlined_total %" PRIu64 "\n", s->blocks_onlined);

        family(f, "mempowerd_scan_cpu_seconds_total", "counter",
               "CPU time spent looking at memory (ticks, kpageflags counts).");
        seconds(f, "mempowerd_scan_cpu_seconds_total", s->scan_cpu_ns);

        family(f, "mempowerd_migrate_seconds_total", "counter",
               "Wall time spent locating and moving pages.");
        seconds(f, "mempowerd_migrate_seconds_total", s->migrate_ns);

        family(f, "mempowerd_paused", "gauge", "1 when paused over D-Bus.");
        fprintf(f, "mempowerd_paused %d\n", s->paused ? 1 : 0);

        family(f, "mempowerd_dry_run", "gauge", "1 when the daemon changes nothing (DryRun).");
        fprintf(f, "mempowerd_dry_run %d\n", s->dry_run ? 1 : 0);

        family(f, "mempowerd_domains", "gauge", "Power domains, and those offline whole.");
        fprintf(f, "mempowerd_domains{state=\"total\"} %zu\n", s->power.domains_total);
        fprintf(f, "mempowerd_domains{state=\"offline\"} %zu\n", s->power.domains_offline);

        family(f, "mempowerd_saving_watts", "gauge",
               "Estimated power saved now by domains offline whole (the energy model).");
        fprintf(f, "mempowerd_saving_watts %.6f\n", s->power.watts_saved);

        family(f, "mempowerd_net_energy_joules", "gauge",
               "Estimated energy saved minus spent migrating, since start and this boot.");
        fprintf(f, "mempowerd_net_energy_joules{since=\"start\"} %.6f\n", s->power.net_joules);
        fprintf(f, "mempowerd_net_energy_joules{since=\"boot\"} %.6f\n", s->power.net_joules_boot);

        family(f, "mempowerd_migration_energy_joules_total", "counter",
               "Estimated energy spent moving pages, since start.");
        fprintf(f, "mempowerd_migration_energy_joules_total %.6f\n", s->power.spent_joules);

        family(f, "mempowerd_offline_byte_seconds_total", "counter",
               "Memory mempowerd kept offline, times how long, since start.");
        fprintf(f, "mempowerd_offline_byte_seconds_total %.6f\n", s->power.offline_byte_seconds);

        if (s->power.dram_watts >= 0) {
                family(f, "mempowerd_dram_watts", "gauge",
                       "DRAM power measured by RAPL over the last tick.");
                fprintf(f, "mempowerd_dram_watts %.6f\n", s->power.dram_watts);
        }

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

int metrics_write(Manager *m)
{
        const char *path = m->config.metrics_textfile;
        MetricsSample s;
        int r;

        if (!path || !*path) {
                m->metrics_failing = false;
                return 0;
        }
        metrics_sample_take(m, &s);
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
