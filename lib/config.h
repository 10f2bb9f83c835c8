/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* mempowerd's settings. Defaults are compiled in (config_init), files are
 * overlaid on top with inih, and a reload parses into a fresh Config that is
 * swapped in only when the whole set parsed. */

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config-build.h" /* SYSCONFDIR, from meson's prefix and sysconfdir */
#include "domain.h"
#include "indexset.h"

#ifndef SYSCONFDIR
#error "SYSCONFDIR must come from the generated config-build.h"
#endif

typedef struct Config {
        /* [Daemon] */
        uint64_t tick_usec; /* TickSec: how often the daemon looks (0.1 s .. 1 h) */
        bool dry_run;       /* DryRun: decide and log, never write to the kernel */

        /* [Scan] */
        double scan_cpu_percent;  /* ScanCPUPercent: CPU budget of the scanner, % of one core */
        uint64_t rescan_max_usec; /* RescanMaxSec: every block is counted at least this often */

        /* [Reserve] */
        uint64_t reserve_mib;   /* MinFreeMiB */
        double reserve_percent; /* MinFreePercent of MemTotal; the larger wins */
        double psi_some_avg10;  /* PSISomeAvg10: memory "some avg10" threshold, % */
        uint64_t node_reserve_mib; /* NodeMinFreeMiB: free memory kept on each node that has offline blocks */

        /* [Policy] */
        IndexSet exclude_blocks;           /* ExcludeBlocks: never offlined ("0-7,12") */
        IndexSet destination_nodes;        /* DestinationNodes: empty = every node with memory */
        unsigned max_evacuations_per_tick; /* MaxEvacuationsPerTick: blocks emptied per tick */
        bool online_hot_added;     /* OnlineHotAdded: online newly hot-added blocks (movable) */
        bool offline_kernel_zones; /* OfflineKernelZones: ZONE_NORMAL blocks are targets too */
        bool online_others;        /* OnlineOthers: under pressure, online blocks others offlined */
        bool keep_offline_on_exit; /* KeepOfflineOnExit: do not give blocks back when exiting */

        /* [Offline] */
        uint64_t offline_timeout_usec; /* TimeoutSec: a single offline write is killed after this */
        uint64_t backoff_initial_usec; /* BackoffInitialSec: first wait after a failed offline */
        uint64_t backoff_max_usec;    /* BackoffMaxSec: the doubling wait stops here (>= initial) */
        uint64_t migrate_batch_pages; /* MigrateBatchPages: pages per move_pages() call */

        /* [Power] */
        DomainMode domains;          /* Domains: how blocks are grouped into power domains */
        uint64_t region_mib;         /* RegionMiB: region size for Domains=region */
        double online_watts_per_gib; /* OnlineWattsPerGiB: what online memory draws */
        double offline_watts_per_gib[_DOMAIN_KIND_MAX]; /* {Node,Device,Region,Block}OfflineWattsPerGiB */
        double migration_joules_per_gib; /* MigrationJoulesPerGiB: energy to move a GiB */
        bool break_even;             /* BreakEven: evacuate only what repays its migration */
        uint64_t expected_offline_usec; /* ExpectedOfflineSec: residency assumed without history */
        bool eject_empty_devices;    /* EjectEmptyDevices: eject fully offline ACPI memory devices */

        /* [Metrics] */
        char *metrics_textfile; /* TextFile: OpenMetrics file for node_exporter; NULL = off */
} Config;

/* The energy model's defaults (README.md "Energy" gives their sources):
 * DDR4 standby current, about 52 mW per GB (56 mW per GiB), is what online
 * memory draws and what powering a domain off saves; power-down, about
 * 37 mW per GB, what a region the controller can power down still draws.
 * Moving a GiB is an assumption, not a measurement: one core at about 15 W
 * for the second or so move_pages takes per GiB of 4 KiB pages, DRAM's
 * reads and writes included. */
#define CONFIG_ONLINE_WATTS_PER_GIB      0.056
#define CONFIG_POWER_DOWN_WATTS_PER_GIB  0.040
#define CONFIG_MIGRATION_JOULES_PER_GIB  15.0

typedef struct ConfigError {
        char path[PATH_MAX];
        unsigned line; /* 0 when the error is not tied to a line */
        char reason[256];
} ConfigError;

/* With prefix=/usr meson's sysconfdir is /etc: /etc/mempowerd/mempowerd.conf. */
#define CONFIG_MAIN_PATH  SYSCONFDIR "/mempowerd/mempowerd.conf"
#define CONFIG_DROPIN_DIR SYSCONFDIR "/mempowerd/mempowerd.conf.d"

/* Bounds the daemon may rely on after a successful load. */
#define CONFIG_EXCLUDE_BLOCKS_MAX    (UINT32_C(1) << 24)
#define CONFIG_DESTINATION_NODES_MAX UINT32_C(1023)

/* Compiled-in defaults; never fails (the index sets start empty, TextFile off). */
void config_init(Config *c);
/* Frees what c owns and leaves it as a zeroed Config. Takes NULL. */
void config_free(Config *c);
/* Deep copy (the index sets and the path are owned). *ret is overwritten,
 * not freed; untouched on failure (-ENOMEM). */
int config_copy(const Config *src, Config *ret);
/* Every setting equal (index sets by content). */
bool config_equal(const Config *a, const Config *b);

/* Where the value of a key came from. */
typedef struct ConfigOrigin {
        const char *path; /* NULL: the compiled-in default; else one of ConfigSources.files */
        unsigned line;
} ConfigOrigin;

/* The files a load reads, in order, and where each key got its value. */
typedef struct ConfigSources {
        char **files; /* --config alone, or the main file then the drop-ins */
        size_t n_files;
        bool main_missing;     /* files[0] is the main file, and it does not exist */
        ConfigOrigin *origins; /* config_key_count() entries in table order; NULL from
                                * config_list_files() */
} ConfigSources;

/* Frees what s owns and zeroes it. Takes NULL. */
void config_sources_free(ConfigSources *s);

/* Overlay one ini file on c. On error c may be partly updated: callers parse
 * into a temporary (config_load does). -ENOENT when the file is missing.
 * Errors: -ENOENT/-EACCES/-EISDIR/... (open, read), -EINVAL (anything wrong
 * in the text: err->line says where), -ENOMEM. err may be NULL. */
int config_parse_file(Config *c, const char *path, ConfigError *err);

/* Defaults, then explicit_path if given (must exist), else main_path (may be
 * missing) followed by dropin_dir/\*.conf in lexical order (the directory may
 * be missing). On success *ret is replaced (the old value freed); on error
 * *ret is untouched and err says path, line and reason. */
int config_load(const char *explicit_path, const char *main_path, const char *dropin_dir,
                Config *ret, ConfigError *err);
/* The same, and on success *ret_sources (may be NULL; freed first) says
 * which files were read and where each key got its value. */
int config_load_sources(const char *explicit_path, const char *main_path, const char *dropin_dir,
                        Config *ret, ConfigSources *ret_sources, ConfigError *err);
/* The files config_load() would read, in its order, without reading them:
 * explicit_path alone, else main_path (listed even when missing;
 * main_missing says so) and dropin_dir/\*.conf. *ret is overwritten, not
 * freed; untouched on error (err says why: the drop-in directory cannot be
 * read, -ENOMEM). */
int config_list_files(const char *explicit_path, const char *main_path, const char *dropin_dir,
                      ConfigSources *ret, ConfigError *err);

/* Reserve in pages for a machine with mem_total_kb, given page size:
 * the larger of MinFreeMiB and MinFreePercent of MemTotal, rounded up. */
uint64_t config_reserve_pages(const Config *c, uint64_t mem_total_kb, uint64_t page_size);

/* "PATH:LINE: reason", "PATH: reason" when line is 0, or just the reason
 * when there is no path. Always NUL-terminated; returns 0, or -ENOBUFS when
 * the text had to be cut to fit size. */
int config_error_format(const ConfigError *e, char *buf, size_t size);

/* The keys the parser knows, in table order: for tests and documentation
 * checks. -ERANGE when i is past the end. */
size_t config_key_count(void);
int config_key_get(size_t i, const char **ret_section, const char **ret_key);
/* The index of [section] key, or -ENOENT. */
int config_key_find(const char *section, const char *key);

/* The value of key i of c as the parser reads it back: "2s", "1h 30min",
 * "256M", "5%", "yes", "0-7,12", "" for no path or an empty set. *ret is
 * allocated; -ERANGE past the last key, -ENOMEM. */
int config_format_value(const Config *c, size_t i, char **ret);

/* The whole configuration as an ini file that parses back to an equal
 * Config: every key in table order under its section, each followed by
 * " ; PATH:LINE" or " ; default" when sources (may be NULL) is given, and a
 * header listing the files read. Lines stay within the parser's length
 * limit (a long origin is shortened: it is a comment). 0 or -errno. */
int config_dump(const Config *c, const ConfigSources *sources, FILE *f);

/* A valid setting that can hurt the machine or hide trouble: no reserve,
 * the PSI check or the node floors turned off, memory left offline with
 * nobody watching, ... Never an error: the daemon logs them at start and
 * reload, --check-config prints them. */
typedef struct ConfigWarning {
        size_t key;     /* config_key_get() index of the key to look at */
        char text[224]; /* "Key=value: what it does" */
} ConfigWarning;

#define CONFIG_WARNINGS_MAX 16

/* Fills ret[0..max) with the warnings about c, in table order, and returns
 * how many there are (at most CONFIG_WARNINGS_MAX). A warning about two
 * keys names the one set last when sources (may be NULL) says which. Pure:
 * no I/O, no allocation. */
size_t config_warnings(const Config *c, const ConfigSources *sources, ConfigWarning *ret,
                       size_t max);
/* "PATH:LINE: text", or "text" when the key kept its default or sources is
 * NULL. As config_error_format(). */
int config_warning_format(const ConfigWarning *w, const ConfigSources *sources, char *buf,
                          size_t size);
