/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* mempowerd's settings. Defaults are compiled in (config_init), files are
 * overlaid on top with inih, and a reload parses into a fresh Config that is
 * swapped in only when the whole set parsed. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "indexset.h"

typedef struct Config {
        /* [Daemon] */
        uint64_t tick_usec;   /* TickSec: how often the daemon looks (0.1 s .. 1 h) */
        bool dry_run;         /* DryRun: decide and log, never write to the kernel */

        /* [Scan] */
        double scan_cpu_percent; /* ScanCPUPercent: CPU budget of the scanner, % of one core */
        uint64_t rescan_max_usec; /* RescanMaxSec: every block is counted at least this often */

        /* [Reserve] */
        uint64_t reserve_mib;      /* MinFreeMiB */
        double reserve_percent;    /* MinFreePercent of MemTotal; the larger wins */
        double psi_some_avg10;     /* PSISomeAvg10: memory "some avg10" threshold, % */

        /* [Policy] */
        IndexSet exclude_blocks;    /* ExcludeBlocks: never offlined ("0-7,12") */
        IndexSet destination_nodes; /* DestinationNodes: empty = every node with memory */
} Config;

typedef struct ConfigError {
        char path[PATH_MAX];
        unsigned line; /* 0 when the error is not tied to a line */
        char reason[256];
} ConfigError;

#define CONFIG_MAIN_PATH   "/etc/mempowerd/mempowerd.conf"
#define CONFIG_DROPIN_DIR  "/etc/mempowerd/mempowerd.conf.d"

void config_init(Config *c);
void config_free(Config *c);
/* Deep copy (the index sets are owned). */
int config_copy(const Config *src, Config *ret);

/* Overlay one ini file on c. On error c may be partly updated: callers parse
 * into a temporary (config_load does). -ENOENT when the file is missing. */
int config_parse_file(Config *c, const char *path, ConfigError *err);

/* Defaults, then explicit_path if given (must exist), else main_path (may be
 * missing) followed by dropin_dir/\*.conf in lexical order (the directory may
 * be missing). On success *ret is replaced (the old value freed); on error
 * *ret is untouched and err says path, line and reason. */
int config_load(const char *explicit_path, const char *main_path, const char *dropin_dir,
                Config *ret, ConfigError *err);

/* Reserve in pages for a machine with mem_total_kb, given page size. */
uint64_t config_reserve_pages(const Config *c, uint64_t mem_total_kb, uint64_t page_size);
