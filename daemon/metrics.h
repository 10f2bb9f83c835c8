/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's figures as a text file for node_exporter's textfile
 * collector (Prometheus text exposition format 0.0.4, which the collector
 * parses). Names follow Prometheus' conventions: the mempowerd_ prefix,
 * base units as suffixes (_bytes, _seconds, _joules, _watts, _ratio),
 * counters end in _total and only go up (they start again at 0 with the
 * daemon), what can go down is a gauge, one family per name with its
 * # HELP and # TYPE, label values in lower case. mempowerd(8) lists them. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "manager.h"

typedef struct MetricsSample {
        const char *version;               /* mempowerd_build_info{version=} */
        uint64_t last_tick_usec;           /* CLOCK_REALTIME of the tick, 0 none */
        uint64_t ticks;
        bool paused;
        bool dry_run;

        uint64_t block_size_bytes;
        uint64_t blocks_online;
        uint64_t blocks_offline;
        uint64_t blocks_going_offline;
        uint64_t offline_bytes;            /* every offline block, whoever offlined it */
        uint64_t offline_owned_bytes;      /* of which offline because mempowerd did it */

        /* What the last plan compared (a dry run's model taken off). */
        uint64_t reserve_bytes;
        uint64_t available_bytes;          /* MemAvailable */
        uint64_t commit_headroom_bytes;    /* UINT64_MAX: no commit limit */
        bool psi_valid;
        double psi_some_avg10;             /* PSI memory "some avg10", % */
        double psi_threshold;              /* PSISomeAvg10=, % */
        unsigned pressure;                 /* PRESSURE_* */
        bool nodes_short;                  /* a node with blocks to give back is below its floor */

        uint64_t evacuations_started;
        uint64_t evacuations_handshake;    /* of those, started by the handshake */
        uint64_t evacuations_succeeded;
        uint64_t evacuations_failed;
        uint64_t evacuations_aborted;
        uint64_t migrated_bytes;           /* by move_pages */
        uint64_t offline_migrated_bytes;   /* left to the kernel's offline (by the last count) */
        uint64_t blocks_offlined;
        uint64_t blocks_onlined;
        uint64_t scan_cpu_ns;
        uint64_t migrate_ns;

        PowerFigures power;
} MetricsSample;

/* Take the figures from the manager (last_tick_usec is left 0: the caller
 * knows when the tick was). */
void metrics_sample_take(const Manager *m, MetricsSample *ret);

/* Write the exposition text of s to f. Pure: no clock, no file names.
 * Returns 0, or -EIO when f reports an error. */
int metrics_format(const MetricsSample *s, FILE *f);

/* Replace path atomically with the exposition text: a temporary file in the
 * same directory (mode 0644, node_exporter runs as another user), fsync,
 * rename. Returns 0 or -errno; nothing is left behind on failure. */
int metrics_write_file(const MetricsSample *s, const char *path);

/* End of a tick: write m->config.metrics_textfile if set, with the tick's
 * time. A file written before under another name (TextFile= changed by a
 * reload, or emptied) is removed first. A failure is logged once as a
 * warning (again when it recovers) and kept in LastError; it never stops
 * the daemon. Returns 0 or the -errno of the failed write. */
int metrics_write(Manager *m);

/* A clean stop: remove the file metrics_write() wrote, so that
 * node_exporter does not go on exporting its last figures. (After a crash
 * the file stays; mempowerd_last_tick_timestamp_seconds tells.) Returns 0
 * or -errno, logged as a warning. */
int metrics_remove(Manager *m);
