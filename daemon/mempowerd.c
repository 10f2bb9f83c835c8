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
#include "manager-bus.h"
#include "output.h"
#include "report.h"
#include "util.h"

#define EXIT_USAGE  2
#define EXIT_CONFIG 78 /* EX_CONFIG: systemd shows it as "CONFIG" */

typedef struct Args {
        const char *config;
        const char *sysfs;
        const char *procfs;
        const char *state_dir;
        bool dry_run;
        bool once;
        bool json;
        OutOptions out; /* --once: -o, --bytes */
        bool give_back;
        bool check_config;
        bool cat_config;
        const char *bus_introspect; /* "": all of the object */
} Args;

/* Where the state file goes: --state-dir, $RUNTIME_DIRECTORY (systemd's
 * RuntimeDirectory=), or the compiled-in default. */
static const char *state_dir_of(const Args *a)
{
        const char *e = getenv("RUNTIME_DIRECTORY");

        if (a->state_dir)
                return a->state_dir;
        /* RuntimeDirectory= lists one directory per name, ":"-separated */
        if (e && *e && !strchr(e, ':'))
                return e;
        return MEMPOWERD_STATE_DIR;
}

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
               "                         %s\n"
               "                         and %s/*.conf\n"
               "  -n --dry-run           Decide and log against a model, take nothing\n"
               "                         offline (overrides DryRun= in the configuration;\n"
               "                         what an earlier run offlined is still given back)\n"
               "     --once              Count every block once, print what mempowerd would\n"
               "                         do with each from here and why not more, and exit\n"
               "                         (without root: what sysfs shows, nothing counted)\n"
               "     --json              With --once: print the report as JSON\n"
               "  -o --output=LIST       With --once: the block table's columns, e.g.\n"
               "                         BLOCK,ZONES,DOMAIN,ACTION, or +COL to add one\n"
               "                         (--help-columns lists them)\n"
               "     --bytes             With --once: sizes in bytes, not 128M or 1.5G\n"
               "     --help-columns      List the table columns and exit\n"
               "     --check-config      Read the configuration as the daemon would, print\n"
               "                         every key, its value and where it was set, warn\n"
               "                         about dangerous values, and exit (78: invalid)\n"
               "     --cat-config        Print the configuration files in the order they\n"
               "                         are read, and exit\n"
               "     --bus-introspect[=INTERFACE]\n"
               "                         Print the D-Bus introspection XML of mempowerd's\n"
               "                         object, or of INTERFACE, and exit; \"list\" lists\n"
               "                         the interfaces (no bus needed)\n"
               "     --give-back         Online the blocks an earlier mempowerd took offline\n"
               "                         (its state file) and exit; under ExecStopPost=,\n"
               "                         not when systemd is about to restart the service\n"
               "     --state-dir=PATH    Keep the state file in PATH instead of\n"
               "                         $RUNTIME_DIRECTORY or %s\n"
               "     --log-level=LEVEL   debug, info (default), notice, warning or err\n"
               "     --sysfs-root=PATH   Read sysfs from PATH instead of /sys (for tests;\n"
               "                         also $%s)\n"
               "     --procfs-root=PATH  Read procfs from PATH instead of /proc (for tests;\n"
               "                         also $%s)\n"
               "\n"
               "Exit status: 0 on success, 1 on a runtime failure (--give-back: a block\n"
               "could not be onlined), 2 on bad options, 78 when the configuration is\n"
               "invalid (the blocks an earlier instance took offline are given back first).\n"
               "See mempowerd(8) and mempowerd.conf(5).\n",
               CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, MEMPOWERD_STATE_DIR, ROOTS_ENV_SYSFS,
               ROOTS_ENV_PROCFS);
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
        enum {
                ARG_VERSION = 0x100,
                ARG_ONCE,
                ARG_JSON,
                ARG_BYTES,
                ARG_HELP_COLUMNS,
                ARG_SYSFS,
                ARG_PROCFS,
                ARG_LOG_LEVEL,
                ARG_GIVE_BACK,
                ARG_STATE_DIR,
                ARG_CHECK_CONFIG,
                ARG_CAT_CONFIG,
                ARG_BUS_INTROSPECT,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "json", no_argument, NULL, ARG_JSON },
                { "output", required_argument, NULL, 'o' },
                { "bytes", no_argument, NULL, ARG_BYTES },
                { "help-columns", no_argument, NULL, ARG_HELP_COLUMNS },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "sysfs-root", required_argument, NULL, ARG_SYSFS },
                { "procfs-root", required_argument, NULL, ARG_PROCFS },
                { "give-back", no_argument, NULL, ARG_GIVE_BACK },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "cat-config", no_argument, NULL, ARG_CAT_CONFIG },
                { "bus-introspect", optional_argument, NULL, ARG_BUS_INTROSPECT },
                {},
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "hc:no:", options, NULL)) >= 0) {
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
                case 'o': {
                        _cleanup_(table_free) Table t = { 0 };

                        a->out.columns = optarg;
                        if (out_blocks_table(&t, &a->out) < 0)
                                return -EXIT_USAGE;
                        break;
                }
                case ARG_BYTES:
                        a->out.exact = true;
                        break;
                case ARG_HELP_COLUMNS:
                        out_columns_help(stdout);
                        return 0;
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
                case ARG_GIVE_BACK:
                        a->give_back = true;
                        break;
                case ARG_CHECK_CONFIG:
                        a->check_config = true;
                        break;
                case ARG_CAT_CONFIG:
                        a->cat_config = true;
                        break;
                case ARG_BUS_INTROSPECT:
                        a->bus_introspect = optarg ? optarg : "";
                        break;
                case ARG_STATE_DIR:
                        if (!*optarg || optarg[0] != '/') {
                                log_error("--state-dir needs an absolute path");
                                return -EXIT_USAGE;
                        }
                        a->state_dir = optarg;
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
        if ((a->out.columns || a->out.exact) && (!a->once || a->json)) {
                log_error("-o and --bytes go with --once, without --json");
                return -EXIT_USAGE;
        }
        if (a->json && !a->once) {
                log_error("--json only goes with --once");
                return -EXIT_USAGE;
        }
        if (a->once && a->give_back) {
                log_error("--once and --give-back do not go together");
                return -EXIT_USAGE;
        }
        if ((a->check_config || a->cat_config) &&
            (a->once || a->give_back || a->check_config == a->cat_config)) {
                log_error("--check-config and --cat-config go alone (with --config)");
                return -EXIT_USAGE;
        }
        if (a->bus_introspect && (a->once || a->give_back || a->check_config || a->cat_config)) {
                log_error("--bus-introspect goes alone");
                return -EXIT_USAGE;
        }
        return 1;
}

/* --bus-introspect: the XML of a Manager that opened nothing. */
static int bus_introspect(const char *interface)
{
        Manager *m = NULL;
        int r;

        r = manager_new(&m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_bus_introspect(m, interface, stdout);
        manager_free(m);
        if (fflush(stdout) != 0 && r >= 0)
                r = log_error_errno(-EIO, "Failed to write the introspection data");
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Under ExecStopPost=, systemd says how the service ended. With
 * Restart=on-failure and RestartPreventExitStatus=78 as shipped, it starts
 * mempowerd again after any failure but a bad configuration: the next
 * instance then finds its blocks in the state file. Whatever this guesses
 * wrong (a start limit hit, Restart= changed, a failed stop) leaves the
 * unit failed, and OnFailure= runs --give-back once more, unconditionally. */
static bool restart_expected(void)
{
        const char *result = getenv("SERVICE_RESULT"), *code = getenv("EXIT_CODE"),
                   *status = getenv("EXIT_STATUS");

        if (!result || strcmp(result, "success") == 0)
                return false;
        if (code && strcmp(code, "exited") == 0 && status && strcmp(status, "78") == 0)
                return false;
        return getenv("MONITOR_SERVICE_RESULT") == NULL; /* an OnFailure= unit: never */
}

/* --check-config: the files the daemon would read, the configuration they
 * make and where each key was set; or PATH:LINE: reason and 78, as the
 * daemon's start would. Touches nothing in the kernel, needs no root. */
static int check_config(const Args *a)
{
        ConfigWarning w[CONFIG_WARNINGS_MAX];
        ConfigSources src = { 0 };
        ConfigError err = { 0 };
        char msg[PATH_MAX + 300];
        size_t n;
        Config c;
        int r;

        config_init(&c);
        r = config_load_sources(a->config, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &c, &src, &err);
        if (r < 0) {
                config_error_format(&err, msg, sizeof(msg));
                fprintf(stderr, "%s\n", msg);
                config_free(&c);
                return EXIT_CONFIG;
        }
        r = config_dump(&c, &src, stdout);
        if (r < 0)
                log_error_errno(r, "Failed to print the configuration: %m");
        n = config_warnings(&c, &src, w, ELEMENTSOF(w));
        for (size_t i = 0; i < n; i++) {
                const ConfigOrigin *o = &src.origins[w[i].key];

                if (o->path)
                        fprintf(stderr, "%s:%u: warning: %s\n", o->path, o->line, w[i].text);
                else
                        fprintf(stderr, "warning: %s\n", w[i].text);
        }
        config_sources_free(&src);
        config_free(&c);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* --cat-config: each file the daemon reads, in its order, after a "# PATH"
 * line, as systemctl cat does. 1 when a file could not be read. */
static int cat_config(const Args *a)
{
        ConfigSources src = { 0 };
        ConfigError err = { 0 };
        char msg[PATH_MAX + 300];
        int ret = EXIT_SUCCESS;

        if (config_list_files(a->config, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &src, &err) < 0) {
                config_error_format(&err, msg, sizeof(msg));
                fprintf(stderr, "%s\n", msg);
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < src.n_files; i++) {
                _cleanup_fclose_ FILE *f = NULL;
                char buf[4096];
                size_t k;
                bool nl = true;

                if (i > 0)
                        putchar('\n');
                printf("# %s\n", src.files[i]);
                if (i == 0 && src.main_missing) {
                        printf("# (missing: the compiled-in defaults stand)\n");
                        continue;
                }
                f = fopen(src.files[i], "re");
                if (!f) {
                        fprintf(stderr, "%s: cannot open: %s\n", src.files[i], strerror(errno));
                        ret = EXIT_FAILURE;
                        continue;
                }
                while ((k = fread(buf, 1, sizeof(buf), f)) > 0) {
                        fwrite(buf, 1, k, stdout);
                        nl = buf[k - 1] == '\n';
                }
                if (ferror(f)) {
                        fprintf(stderr, "%s: cannot read\n", src.files[i]);
                        ret = EXIT_FAILURE;
                }
                if (!nl)
                        putchar('\n');
        }
        if (src.n_files == 0)
                printf("# no configuration file: the compiled-in defaults stand\n");
        config_sources_free(&src);
        if (fflush(stdout) != 0)
                ret = EXIT_FAILURE;
        return ret;
}

/* Online every block the state file lists, with m->config as it is. */
static int give_back(Manager *m, const Args *a)
{
        int r, left;

        r = manager_open(m, a->sysfs, a->procfs, state_dir_of(a));
        if (r < 0)
                return r;
        left = manager_give_back_now(m);
        if (left < 0)
                return left;
        if (left > 0) {
                if (m->config.keep_offline_on_exit)
                        log_info("%d blocks stay offline (KeepOfflineOnExit=yes)", left);
                else
                        return log_error_errno(-EIO, "%d blocks could not be onlined", left);
        }
        return 0;
}

int main(int argc, char *argv[])
{
        Manager *m = NULL;
        ConfigSources src = { 0 };
        ConfigError err = { 0 };
        Args a = { .out = { .legend = true } };
        int r, ret = EXIT_FAILURE;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return -r;
        if (a.check_config)
                return check_config(&a);
        if (a.cat_config)
                return cat_config(&a);
        if (a.bus_introspect)
                return bus_introspect(a.bus_introspect);

        r = manager_new(&m);
        if (r < 0)
                return EXIT_FAILURE;
        m->force_dry_run = a.dry_run;
        if (a.config) {
                m->config_path = strdup(a.config);
                if (!m->config_path)
                        goto out;
        }

        r = config_load_sources(a.config, CONFIG_MAIN_PATH, CONFIG_DROPIN_DIR, &m->config, &src,
                                &err);
        if (r < 0) {
                char msg[PATH_MAX + 300];

                config_error_format(&err, msg, sizeof(msg));
                log_event(LOG_ERR, MEMPOWERD_MESSAGE_CONFIG_REJECTED, LOG_NO_BLOCK, NULL, "%s",
                          msg);
                ret = EXIT_CONFIG;
                /* systemd will not restart us: nobody would watch the blocks
                 * an earlier instance took offline. Give them back, with the
                 * compiled-in defaults. */
                if (!a.once) {
                        config_free(&m->config);
                        config_init(&m->config);
                        m->state_create = false;
                        if (give_back(m, &a) < 0)
                                log_error("Some blocks mempowerd took offline stay offline");
                }
                goto out;
        }

        if (!a.give_back)
                manager_warn_config(&m->config, &src);
        config_sources_free(&src);

        if (a.give_back) {
                if (restart_expected()) {
                        log_info("systemd restarts mempowerd after this stop (%s): the blocks it "
                                 "took offline are left to the next instance",
                                 getenv("SERVICE_RESULT"));
                        ret = EXIT_SUCCESS;
                        goto out;
                }
                ret = give_back(m, &a) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                goto out;
        }

        m->state_create = !a.once;
        r = manager_open(m, a.sysfs, a.procfs, state_dir_of(&a));
        if (r < 0)
                goto out;
        /* --once without root: what sysfs shows, and what needs root */
        r = manager_open_scanner(m, a.once);
        if (r < 0)
                goto out;

        if (a.once) {
                Report rep;

                r = m->kpf_fd >= 0 ? scanner_count_all(m) : 0;
                if (r < 0)
                        log_warning("Some blocks could not be counted; they show no usage.");
                power_refresh(m);
                power_read_all_bindings(m);
                r = report_prepare(m, &rep);
                if (r < 0) {
                        log_error_errno(r, "Failed to prepare the report: %m");
                        goto out;
                }
                r = a.json ? report_json(m, &rep, stdout) : report_text(m, &rep, &a.out, stdout);
                report_done(&rep);
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
