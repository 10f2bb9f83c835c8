/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config-build.h"
#include "config.h"
#include "log.h"
#include "manager.h"
#include "report.h"
#include "util.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78 /* EX_CONFIG: systemd shows it as "CONFIG" */

typedef struct Args {
        const char *config;
        const char *sysfs;
        const char *procfs;
        bool dry_run;
        bool once;
        bool json;
} Args;

static void help(void)
{
        printf("Usage: mempowerd [OPTIONS]\n"
               "\n"
               "Packs used memory into few memory blocks, offlines the emptied blocks\n"
               "through memory hotplug so they can be powered down, and onlines them\n"
               "again before the machine runs short.\n"
               "\n"
               "  -h --help              Show this help and exit\n"
               "     --version           Show the version and exit\n"
               "  -c --config=PATH       Read only this configuration file instead of\n"
               "                         %s and %s/*.conf\n"
               "  -n --dry-run           Decide and log, but never change anything in the\n"
               "                         kernel (overrides DryRun= in the configuration)\n"
               "     --once              Count every block once, print a report and exit\n"
               "     --json              With --once: print the report as JSON\n"
               "     --log-level=LEVEL   debug, info (default), notice, warning or err\n"
               "     --sysfs-root=PATH   Read sysfs from PATH instead of /sys (for tests;\n"
               "                         also $%s)\n"
               "     --procfs-root=PATH  Read procfs from PATH instead of /proc (for tests;\n"
               "                         also $%s)\n"
               "\n"
               "Exit status: 0 on success, 1 on a runtime failure, 2 on bad options,\n"
               "78 when the configuration is invalid.\n"
               "See mempowerd(8) and mempowerd.conf(5).\n",
               CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, ROOTS_ENV_SYSFS, ROOTS_ENV_PROCFS);
}

static int parse_level(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "debug", LOG_DEBUG },     { "info", LOG_INFO }, { "notice", LOG_NOTICE },
                { "warning", LOG_WARNING }, { "err", LOG_ERR },   { "error", LOG_ERR },
        };

        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (strcmp(s, levels[i].name) == 0)
                        return levels[i].level;
        return -EINVAL;
}

/* Returns 1 to go on, 0 to exit successfully, or an exit code < 0 negated. */
static int parse_args(int argc, char *argv[], Args *a)
{
        enum { ARG_VERSION = 0x100, ARG_ONCE, ARG_JSON, ARG_SYSFS, ARG_PROCFS, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "json", no_argument, NULL, ARG_JSON },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "sysfs-root", required_argument, NULL, ARG_SYSFS },
                { "procfs-root", required_argument, NULL, ARG_PROCFS },
                {},
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "hc:n", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("mempowerd %s\n", PACKAGE_VERSION);
                        return 0;
                case 'c':
                        a->config = optarg;
                        break;
                case 'n':
                        a->dry_run = true;
                        break;
                case ARG_ONCE:
                        a->once = true;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = parse_level(optarg);
                        if (level < 0) {
                                log_error("Unknown log level '%s'", optarg);
                                return -EXIT_USAGE;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_SYSFS:
                        a->sysfs = optarg;
                        break;
                case ARG_PROCFS:
                        a->procfs = optarg;
                        break;
                default:
                        fprintf(stderr, "Try 'mempowerd --help'.\n");
                        return -EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument '%s'. Try 'mempowerd --help'.", argv[optind]);
                return -EXIT_USAGE;
        }
        if (a->json && !a->once) {
                log_error("--json only goes with --once");
                return -EXIT_USAGE;
        }
        return 1;
}

int main(int argc, char *argv[])
{
        Manager *m = NULL;
        ConfigError err = { 0 };
        Args a = { 0 };
        int r, ret = EXIT_FAILURE;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return -r;

        r = manager_new(&m);
        if (r < 0) {
                log_error_errno(r, "Out of memory");
                return EXIT_FAILURE;
        }
        m->force_dry_run = a.dry_run;
        if (a.config) {
                m->config_path = strdup(a.config);
                if (!m->config_path)
                        goto out;
        }

        r = config_load(a.config, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &m->config, &err);
        if (r < 0) {
                char msg[PATH_MAX + 300];

                config_error_format(&err, msg, sizeof(msg));
                log_error("%s", msg);
                ret = EXIT_CONFIG;
                goto out;
        }

        r = manager_open(m, a.sysfs, a.procfs);
        if (r < 0)
                goto out;

        if (a.once) {
                r = manager_count_all(m);
                if (r < 0)
                        log_warning("Some blocks could not be counted; they show no usage.");
                r = a.json ? report_json(m, stdout) : report_text(m, stdout);
                if (fflush(stdout) != 0 || r < 0) {
                        log_error("Failed to write the report");
                        goto out;
                }
                ret = EXIT_SUCCESS;
                goto out;
        }

        r = manager_run(m);
        ret = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
out:
        manager_free(m);
        return ret;
}
