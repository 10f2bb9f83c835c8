/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's counters as a text file for node_exporter's textfile
 * collector (Prometheus text exposition format 0.0.4, which the collector
 * parses; # HELP and # TYPE for every family, counters end in _total). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "manager.h"

typedef struct MetricsSample {
        uint64_t block_size_bytes;
        uint64_t blocks_online;
        uint64_t blocks_offline;
        uint64_t blocks_going_offline;
        uint64_t bytes_offline;            /* every offline block, whoever offlined it */
        uint64_t bytes_offlined_by_daemon; /* offline now because mempowerd did it */
        uint64_t pages_migrated;
        uint64_t evacuations_started;
        uint64_t evacuations_succeeded;
        uint64_t evacuations_failed;
        uint64_t evacuations_aborted;
        uint64_t blocks_offlined;
        uint64_t blocks_onlined;
        uint64_t scan_cpu_ns;
        uint64_t migrate_ns;
        bool paused;
        bool dry_run;
        PowerFigures power;
} MetricsSample;

/* Take the numbers from the manager. */
void metrics_sample_take(const Manager *m, MetricsSample *ret);

/* Write the exposition text of s to f. Pure: no clock, no file names.
 * Returns 0, or -EIO when f reports an error. */
int metrics_format(const MetricsSample *s, FILE *f);

/* Replace path atomically with the exposition text: a temporary file in the
 * same directory (mode 0644, node_exporter runs as another user), fsync,
 * rename. Returns 0 or -errno; nothing is left behind on failure. */
int metrics_write_file(const MetricsSample *s, const char *path);

/* End of a tick: write m->config.metrics_textfile if set. A failure is
 * logged once as a warning (again when it recovers) and kept in LastError;
 * it never stops the daemon. Returns 0 or the -errno of the failed write. */
int metrics_write(Manager *m);
