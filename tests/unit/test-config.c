/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"
#include "util.h"

static char *tmp;

#define CHECK_CONTAINS(haystack, needle)                                                           \
        do {                                                                                       \
                const char *_h = (haystack), *_n = (needle);                                       \
                test_checks++;                                                                     \
                if (!strstr(_h, _n)) {                                                             \
                        test_failures++;                                                           \
                        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
                                __LINE__, _h, _n);                                                 \
                }                                                                                  \
        } while (0)

static const char *tmp_path(const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", tmp, rel);
        return buf;
}

/* Parse content (as file rel) over defaults; return r and fill c and err. */
static int parse_text(const char *rel, const char *content, Config *c, ConfigError *err)
{
        char path[PATH_MAX];

        fake_write(tmp, rel, content);
        config_init(c);
        return config_parse_file(c, tmp_path(rel, path, sizeof(path)), err);
}

/* A file must fail with r at line, and the reason must contain every
 * non-NULL needle. */
static void check_error_at(int line_of_caller, const char *content, int expect_r,
                           unsigned expect_line, const char *needle1, const char *needle2)
{
        ConfigError err;
        char path[PATH_MAX];
        Config c;
        int r;

        r = parse_text("err.conf", content, &c, &err);
        config_free(&c);
        test_checks++;
        if (r != expect_r || err.line != expect_line || (needle1 && !strstr(err.reason, needle1)) ||
            (needle2 && !strstr(err.reason, needle2)) ||
            strcmp(err.path, tmp_path("err.conf", path, sizeof(path))) != 0) {
                test_failures++;
                fprintf(stderr,
                        "%s:%d: got r=%d line=%u reason=\"%s\"; expected r=%d line=%u "
                        "containing \"%s\" \"%s\"\n",
                        __FILE__, line_of_caller, r, err.line, err.reason, expect_r, expect_line,
                        needle1 ? needle1 : "", needle2 ? needle2 : "");
        }
}

#define CHECK_ERROR(content, r, line, n1, n2) check_error_at(__LINE__, content, r, line, n1, n2)

static void test_defaults(void)
{
        Config c;

        config_init(&c);
        CHECK_EQ_INT(c.tick_usec, 2000000);
        CHECK(!c.dry_run);
        CHECK(c.scan_cpu_percent == 0.25);
        CHECK_EQ_INT(c.rescan_max_usec, 600000000);
        CHECK_EQ_INT(c.reserve_mib, 256);
        CHECK(c.reserve_percent == 5);
        CHECK(c.psi_some_avg10 == 10);
        CHECK_EQ_INT(c.node_reserve_mib, 64);
        CHECK(indexset_is_empty(&c.exclude_blocks));
        CHECK(indexset_is_empty(&c.destination_nodes));
        CHECK_EQ_INT(c.max_evacuations_per_tick, 1);
        CHECK(!c.online_hot_added);
        CHECK(!c.offline_kernel_zones);
        CHECK(!c.online_others);
        CHECK(!c.keep_offline_on_exit);
        CHECK_EQ_INT(c.offline_timeout_usec, 10000000);
        CHECK_EQ_INT(c.backoff_initial_usec, 30000000);
        CHECK_EQ_INT(c.backoff_max_usec, 3600000000ULL);
        CHECK_EQ_INT(c.migrate_batch_pages, 4096);
        CHECK(c.metrics_textfile == NULL);
        CHECK_EQ_INT(c.domains, DOMAINS_AUTO);
        CHECK_EQ_INT(c.region_mib, 512);
        CHECK(c.online_watts_per_gib == 0.056);
        CHECK(c.offline_watts_per_gib[DOMAIN_NODE] == 0);
        CHECK(c.offline_watts_per_gib[DOMAIN_DEVICE] == 0);
        CHECK(c.offline_watts_per_gib[DOMAIN_REGION] == 0.040);
        CHECK(c.offline_watts_per_gib[DOMAIN_BLOCK] == c.online_watts_per_gib);
        CHECK(c.migration_joules_per_gib == 15);
        CHECK(c.break_even);
        CHECK_EQ_INT(c.expected_offline_usec, 600000000);
        CHECK(!c.eject_empty_devices);
        config_free(&c);
        config_free(NULL);

        /* paths derive from meson's sysconfdir */
        CHECK_EQ_STR(CONFIG_MAIN_PATH, SYSCONFDIR "/mempowerd/mempowerd.conf");
        CHECK_EQ_STR(CONFIG_DROPIN_DIR, SYSCONFDIR "/mempowerd/mempowerd.conf.d");
        CHECK(SYSCONFDIR[0] == '/');
}

static void test_full_file(void)
{
        ConfigError err;
        Config c;
        char buf[64];

        CHECK_EQ_INT(parse_text("full.conf",
                                "# comment\n"
                                "; another comment\n"
                                "\n"
                                "[Daemon]\n"
                                "TickSec=0.5\n"
                                "DryRun=yes\n"
                                "[Scan]\n"
                                "ScanCPUPercent = 1.5\n"
                                "RescanMaxSec=3600\n"
                                "[Reserve]\n"
                                "MinFreeMiB=1024 ; inline comment\n"
                                "MinFreePercent=0\n"
                                "PSISomeAvg10=25.125\n"
                                "NodeMinFreeMiB=0\n"
                                "[Policy]\n"
                                "ExcludeBlocks=0-7, 12\n"
                                "DestinationNodes=1,0\n"
                                "MaxEvacuationsPerTick=64\n"
                                "OnlineHotAdded=on\n"
                                "OfflineKernelZones=1\n"
                                "OnlineOthers=yes\n"
                                "KeepOfflineOnExit=TRUE\n"
                                "[Offline]\n"
                                "TimeoutSec=0.1\n"
                                "BackoffInitialSec=1\n"
                                "BackoffMaxSec=604800\n"
                                "MigrateBatchPages=1048576\n"
                                "[Metrics]\n"
                                "TextFile=/var/lib/node_exporter/mempowerd.prom\n",
                                &c, &err),
                     0);
        CHECK_EQ_INT(c.tick_usec, 500000);
        CHECK(c.dry_run);
        CHECK(c.scan_cpu_percent == 1.5);
        CHECK_EQ_INT(c.rescan_max_usec, 3600ULL * 1000000);
        CHECK_EQ_INT(c.reserve_mib, 1024);
        CHECK(c.reserve_percent == 0);
        CHECK(c.psi_some_avg10 == 25.125);
        CHECK_EQ_INT(c.node_reserve_mib, 0);
        CHECK_EQ_STR(indexset_format(&c.exclude_blocks, buf, sizeof(buf)), "0-7,12");
        CHECK_EQ_STR(indexset_format(&c.destination_nodes, buf, sizeof(buf)), "0-1");
        CHECK_EQ_INT(c.max_evacuations_per_tick, 64);
        CHECK(c.online_hot_added);
        CHECK(c.offline_kernel_zones);
        CHECK(c.online_others);
        CHECK(c.keep_offline_on_exit);
        CHECK_EQ_INT(c.offline_timeout_usec, 100000);
        CHECK_EQ_INT(c.backoff_initial_usec, 1000000);
        CHECK_EQ_INT(c.backoff_max_usec, 604800ULL * 1000000);
        CHECK_EQ_INT(c.migrate_batch_pages, 1048576);
        CHECK_EQ_STR(c.metrics_textfile, "/var/lib/node_exporter/mempowerd.prom");
        config_free(&c);
}

static void test_values(void)
{
        ConfigError err;
        Config c;
        static const struct {
                const char *text;
                uint64_t tick_usec;
        } ticks[] = {
            {"[Daemon]\nTickSec=2\n", 2000000},
            {"[Daemon]\nTickSec=0.1\n", 100000},
            {"[Daemon]\nTickSec=3600\n", 3600000000ULL},
            {"[Daemon]\nTickSec=1.000001\n", 1000001},
            {"[Daemon]\nTickSec=2.5000000\n", 2500000}, /* trailing zeros are harmless */
            {"[Daemon]\nTickSec=007\n", 7000000},
            {"[Daemon]\nTickSec=\n", 2000000}, /* empty: default */
            {"[Daemon]\nTickSec=  3  \n", 3000000},
            {"[Daemon]\r\nTickSec=4\r\n", 4000000},         /* CRLF */
            {"\xef\xbb\xbf[Daemon]\nTickSec=5\n", 5000000}, /* UTF-8 BOM */
            {"[Daemon]\nTickSec=6", 6000000},               /* no final newline */
            {"[Daemon]\n# café ✓\nTickSec=7\n", 7000000},   /* UTF-8 in a comment */
        };

        for (size_t i = 0; i < ELEMENTSOF(ticks); i++) {
                int r = parse_text("v.conf", ticks[i].text, &c, &err);

                CHECK_EQ_INT(r, 0);
                CHECK_EQ_INT(c.tick_usec, ticks[i].tick_usec);
                if (r < 0 || c.tick_usec != ticks[i].tick_usec)
                        fprintf(stderr, "  case %zu: %s\n", i, err.reason);
                config_free(&c);
        }

        static const struct {
                const char *value;
                bool expect;
        } bools[] = {
            {"yes", true}, {"no", false}, {"true", true}, {"false", false}, {"1", true},
            {"0", false},  {"on", true},  {"off", false}, {"Yes", true},    {"OFF", false},
        };
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                char text[64];

                snprintf(text, sizeof(text), "[Daemon]\nDryRun=%s\n", bools[i].value);
                CHECK_EQ_INT(parse_text("b.conf", text, &c, &err), 0);
                CHECK(c.dry_run == bools[i].expect);
                config_free(&c);
        }

        /* an empty value resets to the default for every type */
        CHECK_EQ_INT(parse_text("e.conf",
                                "[Daemon]\nDryRun=\n[Scan]\nScanCPUPercent=\n"
                                "[Reserve]\nMinFreeMiB=\n[Policy]\nExcludeBlocks=\n"
                                "MaxEvacuationsPerTick=\n[Metrics]\nTextFile=\n",
                                &c, &err),
                     0);
        {
                Config d;

                config_init(&d);
                CHECK(config_equal(&c, &d));
                config_free(&d);
        }
        config_free(&c);

        /* an empty file, a file of comments: defaults */
        {
                Config d;

                config_init(&d);
                CHECK_EQ_INT(parse_text("empty.conf", "", &c, &err), 0);
                CHECK(config_equal(&c, &d));
                config_free(&c);
                CHECK_EQ_INT(parse_text("comments.conf", "# x\n\n; y\n   \n[Daemon]\n", &c, &err),
                             0);
                CHECK(config_equal(&c, &d));
                config_free(&c);
                config_free(&d);
        }

        /* a line of exactly the longest allowed length (197 characters) */
        {
                char text[512] = "[Metrics]\nTextFile=/";
                size_t len = strlen("TextFile=/");

                memset(text + strlen(text), 'a', 197 - len);
                strcat(text, "\n");
                CHECK_EQ_INT(parse_text("max.conf", text, &c, &err), 0);
                CHECK_EQ_INT(c.metrics_textfile ? strlen(c.metrics_textfile) : 0, 197 - 9);
                config_free(&c);
        }
}

/* A key's value as a number: microseconds, MiB, millionths (percent,
 * decimals), counts. */
static uint64_t field_number(const Config *c, const char *key)
{
        static const struct {
                const char *key;
                size_t offset;
                char kind; /* u: uint64_t, d: double, i: unsigned */
        } fields[] = {
            {"TickSec", offsetof(Config, tick_usec), 'u'},
            {"RescanMaxSec", offsetof(Config, rescan_max_usec), 'u'},
            {"TimeoutSec", offsetof(Config, offline_timeout_usec), 'u'},
            {"BackoffInitialSec", offsetof(Config, backoff_initial_usec), 'u'},
            {"BackoffMaxSec", offsetof(Config, backoff_max_usec), 'u'},
            {"ExpectedOfflineSec", offsetof(Config, expected_offline_usec), 'u'},
            {"MinFreeMiB", offsetof(Config, reserve_mib), 'u'},
            {"NodeMinFreeMiB", offsetof(Config, node_reserve_mib), 'u'},
            {"RegionMiB", offsetof(Config, region_mib), 'u'},
            {"MigrateBatchPages", offsetof(Config, migrate_batch_pages), 'u'},
            {"ScanCPUPercent", offsetof(Config, scan_cpu_percent), 'd'},
            {"MinFreePercent", offsetof(Config, reserve_percent), 'd'},
            {"PSISomeAvg10", offsetof(Config, psi_some_avg10), 'd'},
            {"OnlineWattsPerGiB", offsetof(Config, online_watts_per_gib), 'd'},
            {"MaxEvacuationsPerTick", offsetof(Config, max_evacuations_per_tick), 'i'},
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *p = (const char *)c + fields[i].offset;

                if (strcmp(fields[i].key, key) != 0)
                        continue;
                if (fields[i].kind == 'u')
                        return *(const uint64_t *)p;
                if (fields[i].kind == 'i')
                        return *(const unsigned *)p;
                return (uint64_t)llround(*(const double *)p * 1e6);
        }
        fprintf(stderr, "field_number: no key %s\n", key);
        abort();
}

#define S   1000000ULL
#define MIN (60 * S)
#define H   (60 * MIN)
#define D   (24 * H)

/* Every kind of value, good and bad, at the bounds and past them. */
static void test_values_table(void)
{
        static const struct {
                const char *section, *key, *value;
                int r;              /* 0, -EINVAL, -ERANGE */
                uint64_t expect;    /* r == 0: field_number() */
                const char *needle; /* r < 0: in the reason */
        } cases[] = {
            /* time spans, as systemd.time(7); a bare number is seconds */
            {"Daemon", "TickSec", "10s", 0, 10 * S, NULL},
            {"Daemon", "TickSec", "5min", 0, 5 * MIN, NULL},
            {"Daemon", "TickSec", "500ms", 0, 500000, NULL},
            {"Daemon", "TickSec", "2.5s", 0, 2500000, NULL},
            {"Daemon", "TickSec", "2.5", 0, 2500000, NULL},
            {"Daemon", "TickSec", "1.5min", 0, 90 * S, NULL},
            {"Daemon", "TickSec", "55s500ms", 0, 55500000, NULL},
            {"Daemon", "TickSec", "300ms20s", 0, 20300000, NULL}, /* any order, as systemd */
            {"Daemon", "TickSec", "1s 1s", 0, 2 * S, NULL},
            {"Daemon", "TickSec", "2 s", 0, 2 * S, NULL},
            {"Daemon", "TickSec", "1h", 0, H, NULL}, /* the upper bound */
            {"Daemon", "TickSec", "3600", 0, H, NULL},
            {"Daemon", "TickSec", "59min 60s", 0, H, NULL},
            {"Daemon", "TickSec", "100ms", 0, 100000, NULL}, /* the lower bound */
            {"Daemon", "TickSec", "0.1", 0, 100000, NULL},
            {"Daemon", "TickSec", "0.1000000000000000000000s", 0, 100000, NULL},
            {"Daemon", "TickSec", "100000us", 0, 100000, NULL},
            {"Daemon", "TickSec", "100000usec", 0, 100000, NULL},
            {"Daemon", "TickSec", "100000\xc2\xb5s", 0, 100000, NULL}, /* µs, MICRO SIGN */
            {"Daemon", "TickSec", "100000\xce\xbcs", 0, 100000, NULL}, /* μs, GREEK MU */
            {"Daemon", "TickSec", "100msec", 0, 100000, NULL},
            {"Daemon", "TickSec", "3sec", 0, 3 * S, NULL},
            {"Daemon", "TickSec", "3second", 0, 3 * S, NULL},
            {"Daemon", "TickSec", "3seconds", 0, 3 * S, NULL},
            {"Daemon", "TickSec", "2m", 0, 2 * MIN, NULL},
            {"Daemon", "TickSec", "2minute", 0, 2 * MIN, NULL},
            {"Daemon", "TickSec", "2minutes", 0, 2 * MIN, NULL},
            {"Daemon", "TickSec", "1hr", 0, H, NULL},
            {"Daemon", "TickSec", "1hour", 0, H, NULL},
            {"Daemon", "TickSec", "1hours", 0, H, NULL},
            {"Daemon", "TickSec", "0.0001h", 0, 360000, NULL},
            {"Offline", "BackoffMaxSec", "1h 30min", 0, 90 * MIN, NULL},
            {"Offline", "BackoffMaxSec", "1h30min", 0, 90 * MIN, NULL},
            {"Offline", "BackoffMaxSec", "2 h", 0, 2 * H, NULL},
            {"Offline", "BackoffMaxSec", "48hr", 0, 48 * H, NULL},
            {"Offline", "BackoffMaxSec", "1d", 0, D, NULL},
            {"Offline", "BackoffMaxSec", "1day", 0, D, NULL},
            {"Offline", "BackoffMaxSec", "2days", 0, 2 * D, NULL},
            {"Offline", "BackoffMaxSec", "1w", 0, 7 * D, NULL}, /* the upper bound */
            {"Offline", "BackoffMaxSec", "1week", 0, 7 * D, NULL},
            {"Offline", "BackoffMaxSec", "1weeks", 0, 7 * D, NULL},
            {"Offline", "BackoffMaxSec", "604800", 0, 7 * D, NULL},
            {"Offline", "BackoffMaxSec", "6d 23h 59min 59s 999ms 999us", 0, 7 * D - 1, NULL},
            {"Offline", "TimeoutSec", "10min", 0, 10 * MIN, NULL},
            {"Scan", "RescanMaxSec", "1d", 0, D, NULL},
            {"Power", "ExpectedOfflineSec", "1w", 0, 7 * D, NULL},
            /* time spans out of range, with the value in seconds */
            {"Daemon", "TickSec", "99ms", -ERANGE, 0,
             "TickSec=99ms: 0.099 s, out of range: 0.1..3600 s"},
            {"Daemon", "TickSec", "99999us", -ERANGE, 0, "0.099999 s, out of range"},
            {"Daemon", "TickSec", "1h 1us", -ERANGE, 0, "3600.000001 s, out of range: 0.1..3600 s"},
            {"Daemon", "TickSec", "3600.000001", -ERANGE, 0, "TickSec=3600.000001: out of range"},
            {"Daemon", "TickSec", "0", -ERANGE, 0, "out of range: 0.1..3600 s"},
            {"Offline", "BackoffMaxSec", "1w 1us", -ERANGE, 0,
             "604800.000001 s, out of range: 1..604800 s"},
            {"Offline", "BackoffMaxSec", "1M", -ERANGE, 0, "2629800 s, out of range"}, /* a month */
            {"Offline", "BackoffMaxSec", "1month", -ERANGE, 0, "2629800 s"},
            {"Offline", "BackoffMaxSec", "1y", -ERANGE, 0, "31557600 s"},
            {"Offline", "TimeoutSec", "601", -ERANGE, 0, "out of range: 0.1..600 s"},
            {"Offline", "TimeoutSec", "-1s", -ERANGE, 0, "TimeoutSec=-1s: out of range"},
            /* every time key at its bounds */
            {"Scan", "RescanMaxSec", "10s", 0, 10 * S, NULL},
            {"Scan", "RescanMaxSec", "9s", -ERANGE, 0, "9 s, out of range: 10..86400 s"},
            {"Scan", "RescanMaxSec", "1d 1us", -ERANGE, 0, "out of range: 10..86400 s"},
            {"Offline", "TimeoutSec", "100ms", 0, 100000, NULL},
            {"Offline", "TimeoutSec", "10min 1us", -ERANGE, 0, "out of range: 0.1..600 s"},
            {"Offline", "BackoffInitialSec", "1s", 0, S, NULL},
            {"Offline", "BackoffInitialSec", "999ms", -ERANGE, 0, "out of range: 1..86400 s"},
            {"Offline", "BackoffInitialSec", "1d", 0, D, NULL},
            {"Offline", "BackoffInitialSec", "86401", -ERANGE, 0, "out of range: 1..86400 s"},
            {"Offline", "BackoffMaxSec", "999999us", -ERANGE, 0, "out of range: 1..604800 s"},
            {"Power", "ExpectedOfflineSec", "1", 0, S, NULL},
            {"Power", "ExpectedOfflineSec", "0s", -ERANGE, 0, "out of range: 1..604800 s"},
            {"Power", "ExpectedOfflineSec", "1w 1s", -ERANGE, 0, "out of range: 1..604800 s"},
            /* overflow of 64 bits of microseconds */
            {"Daemon", "TickSec", "18446744073709551615us", -ERANGE, 0, "0.1..3600 s"},
            {"Daemon", "TickSec", "18446744073709551616us", -ERANGE, 0, "out of range"},
            {"Daemon", "TickSec", "99999999999w", -ERANGE, 0, "out of range"},
            {"Daemon", "TickSec", "18446744073709551615us 1us", -ERANGE, 0, "out of range"},
            {"Daemon", "TickSec", "99999999999999999999999", -ERANGE, 0, "out of range"},
            /* bad time spans */
            {"Daemon", "TickSec", "1 2", -EINVAL, 0, "TickSec=1 2: not a time span"},
            {"Daemon", "TickSec", "1s 2", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "2 # not an inline comment", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", ".5s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "5.s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "1..5s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "+1s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "1,5s", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "5x", -EINVAL, 0, "unknown time unit \"x\""},
            {"Daemon", "TickSec", "5S", -EINVAL, 0, "unknown time unit \"S\""},
            {"Daemon", "TickSec", "5secs", -EINVAL, 0, "unknown time unit \"secs\""},
            {"Daemon", "TickSec", "1e3", -EINVAL, 0, "unknown time unit \"e\""},
            {"Daemon", "TickSec", "0x10", -EINVAL, 0, "unknown time unit \"x\""},
            {"Daemon", "TickSec", "5ns", -EINVAL, 0, "unknown time unit \"ns\""},
            {"Daemon", "TickSec", "infinity", -EINVAL, 0, "not a time span"},
            {"Daemon", "TickSec", "0.0000001", -EINVAL, 0, "finer than a microsecond"},
            {"Daemon", "TickSec", "1.0000005ms", -EINVAL, 0, "finer than a microsecond"},
            {"Offline", "BackoffMaxSec", "0.5us", -EINVAL, 0, "finer than a microsecond"},
            /* sizes, base 1024; a bare number is MiB */
            {"Reserve", "MinFreeMiB", "512M", 0, 512, NULL},
            {"Reserve", "MinFreeMiB", "1G", 0, 1024, NULL},
            {"Reserve", "MinFreeMiB", "1T", 0, 1048576, NULL}, /* the upper bound */
            {"Reserve", "MinFreeMiB", "1048576", 0, 1048576, NULL},
            {"Reserve", "MinFreeMiB", "1024K", 0, 1, NULL},
            {"Reserve", "MinFreeMiB", "1048576K", 0, 1024, NULL},
            {"Reserve", "MinFreeMiB", "1073741824B", 0, 1024, NULL},
            {"Reserve", "MinFreeMiB", "1.5G", 0, 1536, NULL},
            {"Reserve", "MinFreeMiB", "0.5G", 0, 512, NULL},
            {"Reserve", "MinFreeMiB", "0.0009765625T", 0, 1024, NULL},
            {"Reserve", "MinFreeMiB", "2 G", 0, 2048, NULL},
            {"Reserve", "MinFreeMiB", "256", 0, 256, NULL},
            {"Reserve", "MinFreeMiB", "0", 0, 0, NULL},
            {"Reserve", "MinFreeMiB", "0G", 0, 0, NULL},
            {"Reserve", "MinFreeMiB", "0.0E", 0, 0, NULL},
            {"Reserve", "NodeMinFreeMiB", "64M", 0, 64, NULL},
            {"Power", "RegionMiB", "1M", 0, 1, NULL}, /* its lower bound */
            {"Power", "RegionMiB", "2G", 0, 2048, NULL},
            {"Reserve", "MinFreeMiB", "2T", -ERANGE, 0,
             "2097152 MiB, out of range: 0..1048576 MiB"},
            {"Reserve", "MinFreeMiB", "1048577", -ERANGE, 0, "MinFreeMiB=1048577: out of range"},
            {"Reserve", "MinFreeMiB", "1073742848K", -ERANGE, 0, "1048577 MiB, out of range"},
            {"Reserve", "MinFreeMiB", "1P", -ERANGE, 0, "1073741824 MiB, out of range"},
            {"Reserve", "MinFreeMiB", "16E", -ERANGE, 0, "out of range"},
            {"Reserve", "MinFreeMiB", "18446744073709551616", -ERANGE, 0, "out of range"},
            {"Reserve", "MinFreeMiB", "-1M", -ERANGE, 0, "out of range"},
            {"Power", "RegionMiB", "0", -ERANGE, 0, "out of range: 1..1048576 MiB"},
            {"Power", "RegionMiB", "1T", 0, 1048576, NULL},
            {"Power", "RegionMiB", "1025G", -ERANGE, 0,
             "1049600 MiB, out of range: 1..1048576 MiB"},
            {"Reserve", "NodeMinFreeMiB", "1T", 0, 1048576, NULL},
            {"Reserve", "NodeMinFreeMiB", "1048577M", -ERANGE, 0, "out of range: 0..1048576 MiB"},
            {"Power", "RegionMiB", "1023K", -EINVAL, 0, "not a whole number of MiB"},
            {"Reserve", "MinFreeMiB", "1.5", -EINVAL, 0,
             "MinFreeMiB=1.5: not a whole number of MiB"},
            {"Reserve", "MinFreeMiB", "1536K", -EINVAL, 0, "not a whole number of MiB"},
            {"Reserve", "MinFreeMiB", "1B", -EINVAL, 0, "not a whole number of MiB"},
            {"Reserve", "MinFreeMiB", "0.1M", -EINVAL, 0, "not a whole number of MiB"},
            {"Reserve", "MinFreeMiB", "512MB", -EINVAL, 0, "unknown size suffix \"MB\""},
            {"Reserve", "MinFreeMiB", "1GiB", -EINVAL, 0, "unknown size suffix \"GiB\""},
            {"Reserve", "MinFreeMiB", "1KB", -EINVAL, 0, "unknown size suffix \"KB\""},
            {"Reserve", "MinFreeMiB", "512m", -EINVAL, 0, "unknown size suffix \"m\""},
            {"Reserve", "MinFreeMiB", "1e3", -EINVAL, 0, "unknown size suffix \"e\""},
            {"Reserve", "MinFreeMiB", "1G 512M", -EINVAL, 0, "MinFreeMiB=1G 512M: not a size"},
            {"Reserve", "MinFreeMiB", "+1M", -EINVAL, 0, "not a size"},
            {"Reserve", "MinFreeMiB", "M", -EINVAL, 0, "not a size"},
            /* percentages */
            {"Reserve", "MinFreePercent", "5%", 0, 5 * S, NULL},
            {"Reserve", "MinFreePercent", "5", 0, 5 * S, NULL},
            {"Reserve", "MinFreePercent", "0%", 0, 0, NULL},
            {"Reserve", "MinFreePercent", "90%", 0, 90 * S, NULL}, /* the upper bound */
            {"Reserve", "PSISomeAvg10", "25.125%", 0, 25125000, NULL},
            {"Reserve", "PSISomeAvg10", "100%", 0, 100 * S, NULL},
            {"Scan", "ScanCPUPercent", "0.01%", 0, 10000, NULL}, /* the lower bound */
            {"Scan", "ScanCPUPercent", "0.25", 0, 250000, NULL},
            {"Scan", "ScanCPUPercent", "0.009999%", -ERANGE, 0, "out of range: 0.01..100%"},
            {"Scan", "ScanCPUPercent", "100%", 0, 100 * S, NULL},
            {"Scan", "ScanCPUPercent", "100.000001%", -ERANGE, 0, "out of range: 0.01..100%"},
            {"Reserve", "MinFreePercent", "90.000001%", -ERANGE, 0,
             "out of range: 0..90%; expected a percentage like 5 or 5%"},
            {"Reserve", "PSISomeAvg10", "101", -ERANGE, 0, "out of range: 0..100%"},
            {"Reserve", "MinFreePercent", "-5%", -ERANGE, 0, "out of range"},
            {"Reserve", "MinFreePercent", "5 %", -EINVAL, 0, "not a number"},
            {"Reserve", "MinFreePercent", "5%%", -EINVAL, 0, "not a number"},
            {"Reserve", "MinFreePercent", "%", -EINVAL, 0, "not a number"},
            {"Reserve", "MinFreePercent", "1.0000001%", -EINVAL, 0, "too many decimal places"},
            /* other numbers keep their plain syntax: no units */
            {"Power", "OnlineWattsPerGiB", "0.5", 0, 500000, NULL},
            {"Power", "OnlineWattsPerGiB", "5%", -EINVAL, 0, "not a number; expected a decimal"},
            {"Offline", "MigrateBatchPages", "4096", 0, 4096, NULL},
            {"Offline", "MigrateBatchPages", "1", 0, 1, NULL},
            {"Offline", "MigrateBatchPages", "0", -ERANGE, 0, "out of range: 1..1048576;"},
            {"Offline", "MigrateBatchPages", "4K", -EINVAL, 0,
             "not a number; expected a whole number"},
            {"Offline", "MigrateBatchPages", "1.0", -EINVAL, 0, "not a whole number"},
            {"Offline", "MigrateBatchPages", "1048577", -ERANGE, 0, "out of range: 1..1048576;"},
            {"Policy", "MaxEvacuationsPerTick", "64", 0, 64, NULL},
            {"Policy", "MaxEvacuationsPerTick", "1.5", -EINVAL, 0, "not a whole number"},
            {"Policy", "MaxEvacuationsPerTick", "0", -ERANGE, 0, "out of range: 1..64;"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[256];
                ConfigError err;
                Config c;
                int r;

                snprintf(text, sizeof(text), "[%s]\n%s=%s\n", cases[i].section, cases[i].key,
                         cases[i].value);
                r = parse_text("t.conf", text, &c, &err);
                test_checks++;
                if (r != cases[i].r ||
                    (r == 0 && field_number(&c, cases[i].key) != cases[i].expect) ||
                    (r < 0 && (err.line != 2 || !strstr(err.reason, cases[i].needle) ||
                               strncmp(err.reason, cases[i].key, strlen(cases[i].key)) != 0))) {
                        test_failures++;
                        fprintf(stderr,
                                "%s:%d: %s=%s: got r=%d value=%llu reason=\"%s\"; expected r=%d "
                                "value=%llu reason containing \"%s\"\n",
                                __FILE__, __LINE__, cases[i].key, cases[i].value, r,
                                r == 0 ? (unsigned long long)field_number(&c, cases[i].key) : 0,
                                r < 0 ? err.reason : "", cases[i].r,
                                (unsigned long long)cases[i].expect,
                                cases[i].needle ? cases[i].needle : "");
                }
                config_free(&c);
        }
}

#undef S
#undef MIN
#undef H
#undef D

static void test_errors(void)
{
        /* the exact reason format for a bad number */
        {
                ConfigError err;
                Config c;

                CHECK_EQ_INT(parse_text("n.conf", "[Daemon]\nTickSec=abc\n", &c, &err), -EINVAL);
                CHECK_EQ_STR(err.reason, "TickSec=abc: not a time span; expected seconds, or a "
                                         "time span like 500ms, 5min, 1h 30min, 1d");
                CHECK_EQ_INT(err.line, 2);
                config_free(&c);
        }

        /* numbers: the reasons name the value, the range in the key's unit and the
         * syntax (test_values_table has every kind of value) */
        CHECK_ERROR("[Daemon]\nTickSec=abc\n", -EINVAL, 2, "TickSec=abc: not a time span",
                    "expected seconds, or a time span like 500ms, 5min, 1h 30min, 1d");
        CHECK_ERROR("[Daemon]\nTickSec=0.05\n", -ERANGE, 2,
                    "TickSec=0.05: out of range: 0.1..3600 s; expected seconds, or a time span",
                    NULL);
        CHECK_ERROR("[Daemon]\nTickSec=2h\n", -ERANGE, 2,
                    "TickSec=2h: 7200 s, out of range: 0.1..3600 s; expected seconds", NULL);
        CHECK_ERROR("[Reserve]\nMinFreeMiB=2T\n", -ERANGE, 2,
                    "MinFreeMiB=2T: 2097152 MiB, out of range: 0..1048576 MiB; expected MiB, or a "
                    "size like 1024K, 512M, 1G, 2T (base 1024)",
                    NULL);
        CHECK_ERROR("[Reserve]\nMinFreeMiB=1536K\n", -EINVAL, 2,
                    "MinFreeMiB=1536K: not a whole number of MiB; expected MiB", NULL);
        CHECK_ERROR("[Reserve]\nMinFreePercent=90.5\n", -ERANGE, 2,
                    "MinFreePercent=90.5: out of range: 0..90%; expected a percentage like 5 or 5%",
                    NULL);
        CHECK_ERROR("[Policy]\nMaxEvacuationsPerTick=65\n", -ERANGE, 2,
                    "MaxEvacuationsPerTick=65: out of range: 1..64; expected a whole number", NULL);
        CHECK_ERROR("[Power]\nOnlineWattsPerGiB=abc\n", -EINVAL, 2,
                    "OnlineWattsPerGiB=abc: not a number; expected a decimal number like 0.25",
                    NULL);
        CHECK_ERROR("[Daemon]\nTickSec=-1\n", -ERANGE, 2, "TickSec=-1", "out of range");

        /* booleans */
        CHECK_ERROR("[Daemon]\nDryRun=maybe\n", -EINVAL, 2, "DryRun=maybe", "not a boolean");
        CHECK_ERROR("[Policy]\nOnlineHotAdded=2\n", -EINVAL, 2, "OnlineHotAdded", "not a boolean");
        CHECK_ERROR("[Policy]\nKeepOfflineOnExit=yess\n", -EINVAL, 2, "KeepOfflineOnExit",
                    "not a boolean");
        /* the key of 0.1.0 is gone, and says so */
        CHECK_ERROR("[Policy]\nOnlineAllOnExit=yes\n", -EINVAL, 2, "OnlineAllOnExit",
                    "unknown key");

        /* index sets */
        CHECK_ERROR("[Policy]\nExcludeBlocks=7-3\n", -EINVAL, 2, "ExcludeBlocks=7-3",
                    "not an index set");
        CHECK_ERROR("[Policy]\nExcludeBlocks=1,,2\n", -EINVAL, 2, "ExcludeBlocks",
                    "not an index set");
        CHECK_ERROR("[Policy]\nExcludeBlocks=16777217\n", -ERANGE, 2, "ExcludeBlocks",
                    "(0..16777216)");
        CHECK_ERROR("[Policy]\nDestinationNodes=1024\n", -ERANGE, 2, "DestinationNodes",
                    "(0..1023)");
        CHECK_ERROR("[Policy]\nDestinationNodes=node0\n", -EINVAL, 2, "DestinationNodes",
                    "not an index set");

        /* paths */
        CHECK_ERROR("[Metrics]\nTextFile=metrics.prom\n", -EINVAL, 2, "TextFile=metrics.prom",
                    "absolute");
        CHECK_ERROR("[Metrics]\nTextFile=/var/lib/\n", -EINVAL, 2, "TextFile", "directory");

        /* sections and keys */
        CHECK_ERROR("# c\n[Foo]\nBar=1\n", -EINVAL, 2, "unknown section [Foo]", NULL);
        CHECK_ERROR("[Daemon]\nTickSec=1\n[Empty]\n", -EINVAL, 3, "unknown section [Empty]", NULL);
        CHECK_ERROR("[daemon]\nTickSec=1\n", -EINVAL, 1, "unknown section [daemon]", NULL);
        CHECK_ERROR("[Daemon]\n\nFoo=1\n", -EINVAL, 3, "unknown key Foo=", "[Daemon]");
        CHECK_ERROR("[Daemon]\nticksec=1\n", -EINVAL, 2,
                    "unknown key ticksec=", "did you mean [Daemon] TickSec=");
        CHECK_ERROR("[Scan]\nTickSec=1\n", -EINVAL, 2, "unknown key TickSec= in section [Scan]",
                    "did you mean [Daemon] TickSec=");
        CHECK_ERROR("TickSec=1\n[Daemon]\n", -EINVAL, 1, "TickSec=", "outside of any [Section]");
        CHECK_ERROR("[Daemon]\n=5\n", -EINVAL, 2, "missing key name", NULL);
        CHECK_ERROR("[Daemon] junk\nTickSec=1\n", -EINVAL, 1, "unexpected text after [Daemon]",
                    "junk");

        /* syntax errors found by inih, with the right line */
        CHECK_ERROR("[Daemon]\nTickSec=1\n\n# c\nnotkeyvalue\nDryRun=yes\n", -EINVAL, 5,
                    "\"notkeyvalue\"", "expected Key=Value or [Section]");
        CHECK_ERROR("[Daemon\nTickSec=1\n", -EINVAL, 1, "[Daemon", "closing ']'");
        /* the first error wins, whichever kind */
        CHECK_ERROR("[Daemon]\nbroken\nTickSec=abc\n", -EINVAL, 2, "\"broken\"", NULL);
        CHECK_ERROR("[Daemon]\nTickSec=abc\nbroken\n", -EINVAL, 2, "TickSec=abc", NULL);
        CHECK_ERROR("[Daemon]\nbroken\n\xff\n", -EINVAL, 2, "\"broken\"", NULL);
        CHECK_ERROR("[Daemon]\nbroken\n[Nope]\n", -EINVAL, 2, "\"broken\"", NULL);

        /* duplicates within one file are an error naming both lines */
        CHECK_ERROR("[Daemon]\nTickSec=1\n# c\nTickSec=2\n", -EINVAL, 4,
                    "TickSec=", "first on line 2");
        CHECK_ERROR("[Daemon]\nTickSec=1\n[Scan]\n[Daemon]\nTickSec=1\n", -EINVAL, 5,
                    "TickSec= is set twice", "first on line 2");
        CHECK_ERROR("[Policy]\nExcludeBlocks=1\nExcludeBlocks=2\n", -EINVAL, 3, "ExcludeBlocks",
                    "twice");

        /* continuation lines (inih would silently append them to the key) */
        CHECK_ERROR("[Daemon]\nTickSec=1\n  DryRun=yes\n", -EINVAL, 3,
                    "continue TickSec=", "indentation");
        CHECK_ERROR("[Daemon]\nTickSec=1\n\n# c\n\t5\n", -EINVAL, 5, "continue TickSec=", NULL);
        CHECK_ERROR("[Daemon]\nTickSec=1\n  [Scan]\n", -EINVAL, 3, "continue TickSec=", NULL);
        {
                /* indentation right after a section header is fine */
                ConfigError err;
                Config c;

                CHECK_EQ_INT(parse_text("i.conf",
                                        "[Daemon]\n  TickSec=3\n[Scan]\n\tRescanMaxSec=20\n", &c,
                                        &err),
                             0);
                CHECK_EQ_INT(c.tick_usec, 3000000);
                CHECK_EQ_INT(c.rescan_max_usec, 20000000);
                config_free(&c);
        }

        /* long lines: inih would split them; we name the line */
        {
                char text[1024];
                size_t len;

                strcpy(text, "[Daemon]\nTickSec=1\n[Metrics]\nTextFile=/");
                len = strlen(text);
                memset(text + len, 'x', 300);
                strcpy(text + len + 300, "DryRun=yes\n[Daemon]\nDryRun=no\n");
                CHECK_ERROR(text, -EINVAL, 4, "longer than 197 characters", NULL);

                /* 198 characters: one too many */
                strcpy(text, "[Metrics]\nTextFile=/");
                len = strlen(text);
                memset(text + len, 'y', 198 - strlen("TextFile=/"));
                strcpy(text + len + 198 - strlen("TextFile=/"), "\n");
                CHECK_ERROR(text, -EINVAL, 2, "longer than 197", NULL);

                /* a long comment is still a long line */
                text[0] = '#';
                memset(text + 1, 'c', 400);
                strcpy(text + 401, "\n[Daemon]\n");
                CHECK_ERROR(text, -EINVAL, 1, "longer than", NULL);
        }

        /* bytes */
        CHECK_ERROR("[Daemon]\n# caf\xe9 (latin-1)\nTickSec=1\n", -EINVAL, 2, "not valid UTF-8",
                    "byte 6");
        CHECK_ERROR("[Daemon]\nTickSec=1\nDryRun=\xc0\xaf\n", -EINVAL, 3, "UTF-8", NULL);
        CHECK_ERROR("[Daemon]\nDryRun=\xed\xa0\x80\n", -EINVAL, 2, "UTF-8", NULL); /* surrogate */
        CHECK_ERROR("[Daemon]\nDryRun=\xf4\x90\x80\x80\n", -EINVAL, 2, "UTF-8", NULL);
        CHECK_ERROR("[Daemon]\nDryRun=\xe2\x9c\n", -EINVAL, 2, "UTF-8", NULL); /* truncated */
        {
                static const char nul[] = "[Daemon]\nTick\0Sec=1\n";

                fake_write_bytes(tmp, "err.conf", nul, sizeof(nul) - 1);
                ConfigError err;
                Config c;
                char path[PATH_MAX];

                config_init(&c);
                CHECK_EQ_INT(config_parse_file(&c, tmp_path("err.conf", path, sizeof(path)), &err),
                             -EINVAL);
                CHECK_EQ_INT(err.line, 2);
                CHECK_CONTAINS(err.reason, "NUL");
                config_free(&c);
        }
}

static void test_file_errors(void)
{
        ConfigError err;
        Config c;
        char path[PATH_MAX];

        config_init(&c);
        CHECK_EQ_INT(config_parse_file(&c, tmp_path("missing.conf", path, sizeof(path)), &err),
                     -ENOENT);
        CHECK_EQ_STR(err.path, path);
        CHECK_EQ_INT(err.line, 0);
        CHECK_CONTAINS(err.reason, strerror(ENOENT));

        fake_mkdir(tmp, "adir.conf");
        CHECK_EQ_INT(config_parse_file(&c, tmp_path("adir.conf", path, sizeof(path)), &err),
                     -EISDIR);
        CHECK_EQ_STR(err.path, path);
        CHECK_EQ_INT(err.line, 0);
        CHECK_CONTAINS(err.reason, strerror(EISDIR));

        fake_write(tmp, "secret.conf", "[Daemon]\n");
        tmp_path("secret.conf", path, sizeof(path));
        CHECK_EQ_INT(chmod(path, 0), 0);
        if (geteuid() != 0) {
                CHECK_EQ_INT(config_parse_file(&c, path, &err), -EACCES);
                CHECK_CONTAINS(err.reason, strerror(EACCES));
                CHECK_EQ_STR(err.path, path);
        } else
                fprintf(stderr, "running as root: EACCES case not checked\n");
        chmod(path, 0644);

        /* err may be NULL */
        CHECK_EQ_INT(config_parse_file(&c, tmp_path("missing.conf", path, sizeof(path)), NULL),
                     -ENOENT);
        config_free(&c);
}

static void test_load(void)
{
        ConfigError err;
        Config c, d;
        char main_path[PATH_MAX], dropins[PATH_MAX], path[PATH_MAX];

        config_init(&d);
        tmp_path("load/mempowerd.conf", main_path, sizeof(main_path));
        tmp_path("load/mempowerd.conf.d", dropins, sizeof(dropins));

        /* nothing at all: defaults */
        config_init(&c);
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK(config_equal(&c, &d));

        /* main only; missing drop-in dir is fine */
        fake_write(tmp, "load/mempowerd.conf", "[Daemon]\nTickSec=3\nDryRun=yes\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.tick_usec, 3000000);
        CHECK(c.dry_run);

        /* drop-ins in lexical order, later ones win; other names ignored */
        fake_write(tmp, "load/mempowerd.conf.d/20-b.conf", "[Daemon]\nTickSec=5\n");
        fake_write(tmp, "load/mempowerd.conf.d/10-a.conf",
                   "[Daemon]\nTickSec=4\n[Reserve]\nMinFreeMiB=1\n");
        fake_write(tmp, "load/mempowerd.conf.d/30-c.conf", "[Daemon]\nDryRun=\n");
        fake_write(tmp, "load/mempowerd.conf.d/README", "not ini at all\n");
        fake_write(tmp, "load/mempowerd.conf.d/99-z.conf.bak", "garbage\n");
        fake_write(tmp, "load/mempowerd.conf.d/.99-hidden.conf", "garbage\n");
        fake_write(tmp, "load/mempowerd.conf.d/99-zconf", "garbage\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.tick_usec, 5000000);
        CHECK_EQ_INT(c.reserve_mib, 1);
        CHECK(!c.dry_run); /* 30-c.conf put the default back */

        /* main file missing, drop-ins still read */
        fake_unlink(tmp, "load/mempowerd.conf");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.tick_usec, 5000000);

        /* a broken drop-in names itself and its line */
        fake_write(tmp, "load/mempowerd.conf.d/15-bad.conf", "# x\n[Scan]\nRescanMaxSec=1\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), -ERANGE);
        CHECK_EQ_STR(err.path, tmp_path("load/mempowerd.conf.d/15-bad.conf", path, sizeof(path)));
        CHECK_EQ_INT(err.line, 3);
        CHECK_CONTAINS(err.reason, "RescanMaxSec=1");
        fake_unlink(tmp, "load/mempowerd.conf.d/15-bad.conf");

        /* duplicates across files are overrides, not errors */
        fake_write(tmp, "load/mempowerd.conf", "[Daemon]\nTickSec=9\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.tick_usec, 5000000);

        /* an explicit path replaces the main file and the drop-ins */
        fake_write(tmp, "explicit.conf", "[Daemon]\nTickSec=7\n");
        CHECK_EQ_INT(config_load(tmp_path("explicit.conf", path, sizeof(path)), main_path, dropins,
                                 &c, &err),
                     0);
        CHECK_EQ_INT(c.tick_usec, 7000000);
        CHECK_EQ_INT(c.reserve_mib, 256);

        /* an explicit path must exist */
        CHECK_EQ_INT(config_load(tmp_path("nonexistent.conf", path, sizeof(path)), main_path,
                                 dropins, &c, &err),
                     -ENOENT);
        CHECK_EQ_STR(err.path, path);
        CHECK_EQ_INT(err.line, 0);
        CHECK_CONTAINS(err.reason, "No such file");
        CHECK_EQ_INT(c.tick_usec, 7000000); /* untouched */

        /* the main path may be a directory by mistake: that is an error */
        CHECK_EQ_INT(config_load(NULL, dropins, NULL, &c, &err), -EISDIR);
        CHECK_EQ_STR(err.path, dropins);

        /* the drop-in "directory" is a file: error */
        CHECK_EQ_INT(config_load(NULL, NULL, main_path, &c, &err), -ENOTDIR);
        CHECK_EQ_STR(err.path, main_path);

        /* NULL paths: just defaults */
        CHECK_EQ_INT(config_load(NULL, NULL, NULL, &c, &err), 0);
        CHECK(config_equal(&c, &d));
        CHECK_EQ_INT(config_load(NULL, NULL, NULL, &c, NULL), 0);

        config_free(&c);
        config_free(&d);
}

static void test_backoff_cross_check(void)
{
        ConfigError err;
        Config c;
        char main_path[PATH_MAX], dropins[PATH_MAX], path[PATH_MAX];

        tmp_path("bo/main.conf", main_path, sizeof(main_path));
        tmp_path("bo/d", dropins, sizeof(dropins));
        config_init(&c);

        /* max below the default initial (30) */
        fake_write(tmp, "bo/main.conf", "[Offline]\n\nBackoffMaxSec=20\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), -EINVAL);
        CHECK_EQ_STR(err.path, main_path);
        CHECK_EQ_INT(err.line, 3);
        CHECK_CONTAINS(err.reason, "BackoffMaxSec=20");
        CHECK_CONTAINS(err.reason, "BackoffInitialSec=30");

        /* both in one file, consistent: fine, also equal */
        fake_write(tmp, "bo/main.conf", "[Offline]\nBackoffMaxSec=20\nBackoffInitialSec=20\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.backoff_max_usec, 20000000);

        /* a drop-in raises the initial above the main file's max: blame the drop-in */
        fake_write(tmp, "bo/d/50-x.conf", "[Offline]\nBackoffInitialSec=25.5\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), -EINVAL);
        CHECK_EQ_STR(err.path, tmp_path("bo/d/50-x.conf", path, sizeof(path)));
        CHECK_EQ_INT(err.line, 2);
        CHECK_CONTAINS(err.reason, "BackoffInitialSec=25.5 must not exceed BackoffMaxSec=20");
        CHECK_EQ_INT(c.backoff_max_usec, 20000000); /* untouched */

        /* the order of a file and its drop-ins decides: checked after all files */
        fake_write(tmp, "bo/d/60-y.conf", "[Offline]\nBackoffMaxSec=26\n");
        CHECK_EQ_INT(config_load(NULL, main_path, dropins, &c, &err), 0);
        CHECK_EQ_INT(c.backoff_initial_usec, 25500000);
        CHECK_EQ_INT(c.backoff_max_usec, 26000000);

        /* config_parse_file alone does no cross check (one file of several) */
        {
                Config t;

                config_init(&t);
                CHECK_EQ_INT(config_parse_file(&t, main_path, &err), 0);
                fake_write(tmp, "bo/lone.conf", "[Offline]\nBackoffMaxSec=1\n");
                CHECK_EQ_INT(
                    config_parse_file(&t, tmp_path("bo/lone.conf", path, sizeof(path)), &err), 0);
                config_free(&t);
        }
        config_free(&c);
}

static void test_reload_keeps_old(void)
{
        ConfigError err;
        Config c, saved;
        char path[PATH_MAX];
        char buf[64];

        fake_write(tmp, "reload.conf",
                   "[Daemon]\nTickSec=7\n[Policy]\nExcludeBlocks=1-3\n[Metrics]\nTextFile=/x\n");
        config_init(&c);
        CHECK_EQ_INT(config_load(tmp_path("reload.conf", path, sizeof(path)), NULL, NULL, &c, &err),
                     0);
        CHECK_EQ_INT(config_copy(&c, &saved), 0);

        /* a bad file, even one whose first lines are good, changes nothing */
        fake_write(tmp, "reload.conf",
                   "[Daemon]\nTickSec=1\n[Policy]\nExcludeBlocks=5\n[Metrics]\nTextFile=/y\n"
                   "[Daemon]\nDryRun=perhaps\n");
        CHECK_EQ_INT(config_load(path, NULL, NULL, &c, &err), -EINVAL);
        CHECK_EQ_INT(err.line, 8);
        CHECK_CONTAINS(err.reason, "DryRun=perhaps");
        CHECK(config_equal(&c, &saved));
        CHECK_EQ_INT(c.tick_usec, 7000000);
        CHECK_EQ_STR(indexset_format(&c.exclude_blocks, buf, sizeof(buf)), "1-3");
        CHECK_EQ_STR(c.metrics_textfile, "/x");

        /* a good one replaces it (the old sets and path are freed: valgrind) */
        fake_write(tmp, "reload.conf", "[Policy]\nExcludeBlocks=9\n");
        CHECK_EQ_INT(config_load(path, NULL, NULL, &c, &err), 0);
        CHECK(!config_equal(&c, &saved));
        CHECK_EQ_STR(indexset_format(&c.exclude_blocks, buf, sizeof(buf)), "9");
        CHECK(c.metrics_textfile == NULL);
        CHECK_EQ_INT(c.tick_usec, 2000000);
        CHECK_EQ_STR(err.reason, ""); /* cleared on success */

        config_free(&c);
        config_free(&saved);
}

static void test_copy_equal(void)
{
        ConfigError err;
        Config a, b, d;
        char buf[64];

        CHECK_EQ_INT(parse_text("copy.conf",
                                "[Policy]\nExcludeBlocks=0-7,12\nDestinationNodes=1\n"
                                "[Metrics]\nTextFile=/run/m.prom\n",
                                &a, &err),
                     0);
        CHECK_EQ_INT(config_copy(&a, &b), 0);
        CHECK(config_equal(&a, &b));
        CHECK(a.exclude_blocks.ranges != b.exclude_blocks.ranges);
        CHECK(a.destination_nodes.ranges != b.destination_nodes.ranges);
        CHECK(a.metrics_textfile != b.metrics_textfile);
        config_free(&a); /* b must survive it */
        CHECK_EQ_STR(indexset_format(&b.exclude_blocks, buf, sizeof(buf)), "0-7,12");
        CHECK_EQ_STR(indexset_format(&b.destination_nodes, buf, sizeof(buf)), "1");
        CHECK_EQ_STR(b.metrics_textfile, "/run/m.prom");

        /* each field matters to config_equal */
        config_init(&d);
        CHECK(!config_equal(&b, &d));
        CHECK_EQ_INT(config_copy(&d, &a), 0);
        CHECK(config_equal(&a, &d));
        a.psi_some_avg10 = 11;
        CHECK(!config_equal(&a, &d));
        a.psi_some_avg10 = d.psi_some_avg10;
        a.keep_offline_on_exit = true;
        CHECK(!config_equal(&a, &d));
        a.keep_offline_on_exit = false;
        a.offline_kernel_zones = true;
        CHECK(!config_equal(&a, &d));
        a.offline_kernel_zones = false;
        a.migrate_batch_pages++;
        CHECK(!config_equal(&a, &d));
        a.migrate_batch_pages--;
        a.max_evacuations_per_tick++;
        CHECK(!config_equal(&a, &d));
        a.max_evacuations_per_tick--;
        CHECK(config_equal(&a, &d));
        config_free(&a);
        config_free(&b);
        config_free(&d);

        /* keys: listed, known, and past the end is -ERANGE */
        {
                const char *s, *k;

                CHECK_EQ_INT(config_key_count(), 31);
                CHECK_EQ_INT(config_key_get(0, &s, &k), 0);
                CHECK_EQ_STR(s, "Daemon");
                CHECK_EQ_STR(k, "TickSec");
                CHECK_EQ_INT(config_key_get(config_key_count(), &s, &k), -ERANGE);
        }
}

static void test_power(void)
{
        ConfigError err;
        Config c;

        CHECK_EQ_INT(parse_text("power.conf",
                                "[Power]\nDomains=device\nRegionMiB=1024\nOnlineWattsPerGiB=0.1\n"
                                "NodeOfflineWattsPerGiB=0.01\nDeviceOfflineWattsPerGiB=0.02\n"
                                "RegionOfflineWattsPerGiB=0.03\nBlockOfflineWattsPerGiB=0.04\n"
                                "MigrationJoulesPerGiB=7.5\nBreakEven=no\nExpectedOfflineSec=60\n"
                                "EjectEmptyDevices=yes\n",
                                &c, &err),
                     0);
        CHECK_EQ_INT(c.domains, DOMAINS_DEVICE);
        CHECK_EQ_INT(c.region_mib, 1024);
        CHECK(c.online_watts_per_gib == 0.1);
        CHECK(c.offline_watts_per_gib[DOMAIN_NODE] == 0.01);
        CHECK(c.offline_watts_per_gib[DOMAIN_DEVICE] == 0.02);
        CHECK(c.offline_watts_per_gib[DOMAIN_REGION] == 0.03);
        CHECK(c.offline_watts_per_gib[DOMAIN_BLOCK] == 0.04);
        CHECK(c.migration_joules_per_gib == 7.5);
        CHECK(!c.break_even);
        CHECK_EQ_INT(c.expected_offline_usec, 60000000);
        CHECK(c.eject_empty_devices);
        config_free(&c);

        for (DomainMode m = 0; m < _DOMAINS_MODE_MAX; m++) {
                char text[64];

                snprintf(text, sizeof(text), "[Power]\nDomains=%s\n", domain_mode_to_string(m));
                CHECK_EQ_INT(parse_text("power.conf", text, &c, &err), 0);
                CHECK_EQ_INT(c.domains, m);
                config_free(&c);
        }
        /* an empty value is the default again */
        CHECK_EQ_INT(parse_text("power.conf", "[Power]\nDomains=\n", &c, &err), 0);
        CHECK_EQ_INT(c.domains, DOMAINS_AUTO);
        config_free(&c);
        CHECK_ERROR("[Power]\nDomains=Node\n", -EINVAL, 2, "Domains=Node", "auto, node, device");
        CHECK_ERROR("[Power]\nDomains=dimm\n", -EINVAL, 2, "not one of", NULL);
        CHECK_ERROR("[Power]\nRegionMiB=0\n", -ERANGE, 2, "RegionMiB=0", "out of range");
        CHECK_ERROR("[Power]\nOnlineWattsPerGiB=-1\n", -ERANGE, 2, "OnlineWattsPerGiB", NULL);
        CHECK_ERROR("[Power]\nMigrationJoulesPerGiB=abc\n", -EINVAL, 2, "not a number", NULL);
        CHECK_ERROR("[Power]\nExpectedOfflineSec=0\n", -ERANGE, 2, "ExpectedOfflineSec", NULL);
}

static void test_error_format(void)
{
        ConfigError e = {.path = "/etc/mempowerd/mempowerd.conf", .line = 12};
        char buf[256];

        snprintf(e.reason, sizeof(e.reason), "TickSec=abc: not a number");
        CHECK_EQ_INT(config_error_format(&e, buf, sizeof(buf)), 0);
        CHECK_EQ_STR(buf, "/etc/mempowerd/mempowerd.conf:12: TickSec=abc: not a number");

        e.line = 0;
        snprintf(e.reason, sizeof(e.reason), "cannot open: Permission denied");
        CHECK_EQ_INT(config_error_format(&e, buf, sizeof(buf)), 0);
        CHECK_EQ_STR(buf, "/etc/mempowerd/mempowerd.conf: cannot open: Permission denied");

        e.path[0] = '\0';
        CHECK_EQ_INT(config_error_format(&e, buf, sizeof(buf)), 0);
        CHECK_EQ_STR(buf, "cannot open: Permission denied");

        CHECK_EQ_INT(config_error_format(&e, buf, 7), -ENOBUFS);
        CHECK_EQ_STR(buf, "cannot");
        CHECK_EQ_INT(config_error_format(&e, buf, 0), -ENOBUFS);

        /* what a real failure looks like end to end */
        {
                Config c;
                ConfigError err;
                char expect[PATH_MAX + 64];

                CHECK_EQ_INT(parse_text("fmt.conf", "[Reserve]\n\nMinFreeMiB=1536K\n", &c, &err),
                             -EINVAL);
                snprintf(expect, sizeof(expect),
                         "%s/fmt.conf:3: MinFreeMiB=1536K: not a whole number of MiB; expected "
                         "MiB, or a size like 1024K, 512M, 1G, 2T (base 1024)",
                         tmp);
                CHECK_EQ_INT(config_error_format(&err, buf, sizeof(buf)), 0);
                CHECK_EQ_STR(buf, expect);
                config_free(&c);
        }
}

/* Every value written back by config_format_value() as the parser reads it. */
static void test_format_value(void)
{
        static const struct {
                const char *text, *key, *expect;
        } cases[] = {
            {"[Daemon]\nTickSec=2\n", "TickSec", "2s"},
            {"[Daemon]\nTickSec=0.1\n", "TickSec", "100ms"},
            {"[Daemon]\nTickSec=2.5\n", "TickSec", "2s 500ms"},
            {"[Daemon]\nTickSec=3600\n", "TickSec", "1h"},
            {"[Offline]\nBackoffMaxSec=1h 30min\n", "BackoffMaxSec", "1h 30min"},
            {"[Offline]\nBackoffMaxSec=6d 23h 59min 59s 999ms 999us\n", "BackoffMaxSec",
             "6d 23h 59min 59s 999ms 999us"},
            {"[Offline]\nBackoffMaxSec=604800\n", "BackoffMaxSec", "1w"},
            {"[Reserve]\nMinFreeMiB=256\n", "MinFreeMiB", "256M"},
            {"[Reserve]\nMinFreeMiB=1024\n", "MinFreeMiB", "1G"},
            {"[Reserve]\nMinFreeMiB=1536\n", "MinFreeMiB", "1536M"},
            {"[Reserve]\nMinFreeMiB=1T\n", "MinFreeMiB", "1T"},
            {"[Reserve]\nMinFreeMiB=0\n", "MinFreeMiB", "0"},
            {"[Reserve]\nMinFreePercent=5\n", "MinFreePercent", "5%"},
            {"[Scan]\nScanCPUPercent=0.25\n", "ScanCPUPercent", "0.25%"},
            {"[Reserve]\nPSISomeAvg10=0.000001\n", "PSISomeAvg10", "0.000001%"},
            {"[Power]\nOnlineWattsPerGiB=0.056\n", "OnlineWattsPerGiB", "0.056"},
            {"[Power]\nMigrationJoulesPerGiB=100000\n", "MigrationJoulesPerGiB", "100000"},
            {"[Offline]\nMigrateBatchPages=4096\n", "MigrateBatchPages", "4096"},
            {"[Policy]\nMaxEvacuationsPerTick=3\n", "MaxEvacuationsPerTick", "3"},
            {"[Daemon]\nDryRun=on\n", "DryRun", "yes"},
            {"[Daemon]\nDryRun=0\n", "DryRun", "no"},
            {"[Power]\nDomains=region\n", "Domains", "region"},
            {"[Policy]\nExcludeBlocks=12, 0-7,3\n", "ExcludeBlocks", "0-7,12"},
            {"[Policy]\nExcludeBlocks=\n", "ExcludeBlocks", ""},
            {"[Metrics]\nTextFile=/x/y.prom\n", "TextFile", "/x/y.prom"},
            {"[Metrics]\nTextFile=\n", "TextFile", ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *v = NULL;
                ConfigError err;
                Config c;
                int k = -1;

                CHECK_EQ_INT(parse_text("f.conf", cases[i].text, &c, &err), 0);
                for (size_t j = 0; j < config_key_count(); j++) {
                        const char *key;

                        config_key_get(j, NULL, &key);
                        if (strcmp(key, cases[i].key) == 0)
                                k = (int)j;
                }
                CHECK(k >= 0);
                CHECK_EQ_INT(config_format_value(&c, (size_t)k, &v), 0);
                CHECK_EQ_STR(v, cases[i].expect);
                config_free(&c);
        }

        {
                char *v = NULL;
                Config c;

                config_init(&c);
                CHECK_EQ_INT(config_format_value(&c, config_key_count(), &v), -ERANGE);
                CHECK(v == NULL);
                config_free(&c);
        }
        CHECK_EQ_INT(config_key_find("Reserve", "MinFreeMiB") >= 0, 1);
        CHECK_EQ_INT(config_key_find("Daemon", "MinFreeMiB"), -ENOENT);
        CHECK_EQ_INT(config_key_find("Daemon", "TickSec"), 0);
}

static char *read_all(const char *path)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = fopen(path, "re"), *out;
        int ch;

        if (!f)
                return NULL;
        out = open_memstream(&text, &len);
        if (!out) {
                fclose(f);
                return NULL;
        }
        while ((ch = fgetc(f)) != EOF)
                fputc(ch, out);
        fclose(f);
        fclose(out);
        return text;
}

/* Dump c with sources into dump.conf, check every line fits the parser,
 * parse it back with --config and compare. Returns the text (free it). */
static char *dump_and_reparse(const Config *c, const ConfigSources *src)
{
        char path[PATH_MAX], *text;
        ConfigError err;
        Config back;
        FILE *f;
        int r;

        f = fopen(tmp_path("dump.conf", path, sizeof(path)), "we");
        CHECK(f != NULL);
        if (!f)
                return NULL;
        CHECK_EQ_INT(config_dump(c, src, f), 0);
        fclose(f);
        text = read_all(path);
        CHECK(text != NULL);
        if (!text)
                return NULL;
        for (char *line = text, *nl; *line; line = nl + 1) {
                nl = strchrnul(line, '\n');
                CHECK((size_t)(nl - line) <= 197);
                if (!*nl)
                        break;
        }
        config_init(&back);
        r = config_load(path, NULL, NULL, &back, &err);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                fprintf(stderr, "  dump does not parse back: %s:%u: %s\n%s", err.path, err.line,
                        err.reason, text);
        CHECK(config_equal(c, &back));
        config_free(&back);
        return text;
}

/* Which file set each key; the files in order; the dump parses back. */
static void test_sources_and_dump(void)
{
        char main_path[PATH_MAX], dropins[PATH_MAX], path[PATH_MAX], expect[PATH_MAX + 64];
        ConfigSources src = {0}, list;
        ConfigError err;
        Config c, d;
        char *text;
        int k;

        tmp_path("src/mempowerd.conf", main_path, sizeof(main_path));
        tmp_path("src/mempowerd.conf.d", dropins, sizeof(dropins));
        config_init(&c);
        config_init(&d);

        /* nothing: the main file is listed, missing; every key is a default */
        CHECK_EQ_INT(config_list_files(NULL, main_path, dropins, &list, &err), 0);
        CHECK_EQ_INT(list.n_files, 1);
        CHECK_EQ_STR(list.files[0], main_path);
        CHECK(list.main_missing);
        CHECK(list.origins == NULL);
        config_sources_free(&list);
        CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), 0);
        CHECK(config_equal(&c, &d));
        CHECK(src.main_missing);
        CHECK_EQ_INT(src.n_files, 1);
        for (size_t i = 0; i < config_key_count(); i++)
                CHECK(src.origins[i].path == NULL);
        text = dump_and_reparse(&c, &src);
        if (text) {
                snprintf(expect, sizeof(expect), "#   %s (missing)\n", main_path);
                CHECK_CONTAINS(text, expect);
                CHECK_CONTAINS(text, "\n[Daemon]\nTickSec=2s                       ; default\n");
                CHECK_CONTAINS(text, "\nMinFreeMiB=256M                  ; default\n");
                CHECK_CONTAINS(text, "\nMinFreePercent=5%                ; default\n");
                CHECK_CONTAINS(text, "\nTextFile=                        ; default\n");
                free(text);
        }

        /* a main file and drop-ins: each key names the last file that set it */
        fake_write(tmp, "src/mempowerd.conf",
                   "[Daemon]\nTickSec=500ms\n[Reserve]\nMinFreeMiB=1G\nMinFreePercent=2%\n");
        fake_write(tmp, "src/mempowerd.conf.d/50-a.conf", "[Reserve]\n\nMinFreeMiB=2G\n");
        fake_write(tmp, "src/mempowerd.conf.d/60-b.conf", "[Policy]\nExcludeBlocks=0-7,12\n");
        CHECK_EQ_INT(config_list_files(NULL, main_path, dropins, &list, &err), 0);
        CHECK_EQ_INT(list.n_files, 3);
        CHECK(!list.main_missing);
        CHECK_EQ_STR(list.files[1], tmp_path("src/mempowerd.conf.d/50-a.conf", path, sizeof(path)));
        CHECK_EQ_STR(list.files[2], tmp_path("src/mempowerd.conf.d/60-b.conf", path, sizeof(path)));
        config_sources_free(&list);

        CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), 0);
        CHECK(!src.main_missing);
        k = config_key_find("Daemon", "TickSec");
        CHECK_EQ_STR(src.origins[k].path, main_path);
        CHECK_EQ_INT(src.origins[k].line, 2);
        k = config_key_find("Reserve", "MinFreeMiB");
        CHECK_EQ_STR(src.origins[k].path,
                     tmp_path("src/mempowerd.conf.d/50-a.conf", path, sizeof(path)));
        CHECK_EQ_INT(src.origins[k].line, 3);
        k = config_key_find("Reserve", "MinFreePercent");
        CHECK_EQ_STR(src.origins[k].path, main_path);
        CHECK_EQ_INT(src.origins[k].line, 5);
        k = config_key_find("Daemon", "DryRun");
        CHECK(src.origins[k].path == NULL);
        text = dump_and_reparse(&c, &src);
        if (text) {
                snprintf(expect, sizeof(expect), "\nTickSec=500ms                    ; %s:2\n",
                         main_path);
                CHECK_CONTAINS(text, expect);
                snprintf(expect, sizeof(expect), "\nMinFreeMiB=2G                    ; %s:3\n",
                         tmp_path("src/mempowerd.conf.d/50-a.conf", path, sizeof(path)));
                CHECK_CONTAINS(text, expect);
                snprintf(expect, sizeof(expect), "\nExcludeBlocks=0-7,12             ; %s:2\n",
                         tmp_path("src/mempowerd.conf.d/60-b.conf", path, sizeof(path)));
                CHECK_CONTAINS(text, expect);
                CHECK_CONTAINS(text, "\nDryRun=no                        ; default\n");
                snprintf(expect, sizeof(expect), "#   %s\n#   ", main_path);
                CHECK_CONTAINS(text, expect);
                free(text);
        }

        /* a failed load leaves *ret and the sources alone */
        fake_write(tmp, "src/mempowerd.conf.d/70-bad.conf", "[Daemon]\nTickSec=1y\n");
        CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), -ERANGE);
        CHECK_EQ_INT(src.n_files, 3);
        CHECK_EQ_INT(c.reserve_mib, 2048);
        fake_unlink(tmp, "src/mempowerd.conf.d/70-bad.conf");

        /* --config: that file alone */
        fake_write(tmp, "src/explicit.conf", "[Power]\nRegionMiB=1G\n");
        CHECK_EQ_INT(config_load_sources(tmp_path("src/explicit.conf", path, sizeof(path)),
                                         main_path, dropins, &c, &src, &err),
                     0);
        CHECK_EQ_INT(src.n_files, 1);
        CHECK_EQ_STR(src.files[0], path);
        CHECK(!src.main_missing);
        k = config_key_find("Power", "RegionMiB");
        CHECK_EQ_STR(src.origins[k].path, path);
        CHECK_EQ_INT(c.region_mib, 1024);
        CHECK_EQ_INT(config_list_files(path, main_path, dropins, &list, &err), 0);
        CHECK_EQ_INT(list.n_files, 1);
        config_sources_free(&list);

        /* the drop-in directory unreadable as one: an error, nothing listed */
        CHECK_EQ_INT(config_list_files(NULL, NULL, main_path, &list, &err), -ENOTDIR);
        CHECK_EQ_STR(err.path, main_path);

        /* no paths at all: nothing read, no file listed */
        CHECK_EQ_INT(config_load_sources(NULL, NULL, NULL, &c, &src, &err), 0);
        CHECK_EQ_INT(src.n_files, 0);
        text = dump_and_reparse(&c, &src);
        if (text)
                CHECK_CONTAINS(text, "# No file is read");
        free(text);

        /* a value set in every key, a path so long that the origin cannot
         * follow on the line: it goes above, shortened; still parses back */
        {
                char name[256], rel[300];

                memset(name, 'n', 200);
                strcpy(name + 200, ".conf");
                snprintf(rel, sizeof(rel), "src/mempowerd.conf.d/%s", name);
                fake_write(tmp, rel,
                           "[Daemon]\nTickSec=1h\nDryRun=yes\n[Scan]\nScanCPUPercent=100%\n"
                           "RescanMaxSec=1d\n[Reserve]\nMinFreeMiB=1T\nMinFreePercent=90%\n"
                           "PSISomeAvg10=0.000001%\nNodeMinFreeMiB=0\n[Policy]\n"
                           "ExcludeBlocks=0-7,12,16777216\nDestinationNodes=0,1023\n"
                           "MaxEvacuationsPerTick=64\nOnlineHotAdded=yes\nOfflineKernelZones=yes\n"
                           "OnlineOthers=yes\nKeepOfflineOnExit=yes\n[Offline]\nTimeoutSec=0.1\n"
                           "BackoffInitialSec=1d\nBackoffMaxSec=1w\nMigrateBatchPages=1\n"
                           "[Power]\nDomains=block\nRegionMiB=1M\nOnlineWattsPerGiB=99.999999\n"
                           "NodeOfflineWattsPerGiB=0.000001\nDeviceOfflineWattsPerGiB=1\n"
                           "RegionOfflineWattsPerGiB=2\nBlockOfflineWattsPerGiB=3\n"
                           "MigrationJoulesPerGiB=100000\nBreakEven=no\nExpectedOfflineSec=1\n"
                           "EjectEmptyDevices=yes\n[Metrics]\nTextFile=/var/lib/x.prom\n");
                CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), 0);
                if (err.reason[0])
                        fprintf(stderr, "  %s:%u: %s\n", err.path, err.line, err.reason);
                for (size_t i = 0; i < config_key_count(); i++) {
                        const char *key;

                        config_key_get(i, NULL, &key);
                        CHECK(src.origins[i].path != NULL);
                        if (!src.origins[i].path)
                                fprintf(stderr, "  %s kept its default\n", key);
                }
                text = dump_and_reparse(&c, &src);
                if (text) {
                        CHECK_CONTAINS(text, "\nTickSec=1h\n");
                        CHECK_CONTAINS(text, ".conf:2\nTickSec=1h\n");
                        CHECK_CONTAINS(text, "\n; ...nnnn");
                        CHECK_CONTAINS(text, "\nScanCPUPercent=100%\n");
                        CHECK_CONTAINS(text, "\nExcludeBlocks=0-7,12,16777216\n");
                        CHECK_CONTAINS(text, "\nOnlineWattsPerGiB=99.999999\n");
                        CHECK_CONTAINS(text, "\nBackoffInitialSec=1d\n");
                        CHECK_CONTAINS(text, "\n#   ...nnnn");
                        free(text);
                }
                /* without sources: no origins, no header of files */
                text = dump_and_reparse(&c, NULL);
                if (text) {
                        CHECK(strstr(text, "default") == NULL);
                        CHECK(strstr(text, " ; ") == NULL);
                        CHECK_CONTAINS(text, "\n[Daemon]\nTickSec=1h\nDryRun=yes\n");
                        free(text);
                }
                fake_unlink(tmp, rel);
        }

        config_sources_free(&src);
        config_sources_free(&src); /* twice is fine */
        config_sources_free(NULL);
        config_free(&c);
        config_free(&d);
}

/* Dangerous settings warn, each naming its key; the defaults do not. */
static void test_warnings(void)
{
        static const struct {
                const char *text;
                const char *key;    /* the key blamed; NULL: no warning */
                const char *needle; /* in the text */
        } cases[] = {
            {"", NULL, NULL},
            {"[Reserve]\nMinFreeMiB=0\n", NULL, NULL},     /* 5% still */
            {"[Reserve]\nMinFreePercent=0\n", NULL, NULL}, /* 256M still */
            {"[Reserve]\nMinFreeMiB=0\nMinFreePercent=0\n", "MinFreeMiB",
             "MinFreeMiB=0 and MinFreePercent=0: no reserve"},
            {"[Reserve]\nPSISomeAvg10=0\n", "PSISomeAvg10",
             "PSISomeAvg10=0 turns the PSI check off"},
            {"[Reserve]\nPSISomeAvg10=50\n", NULL, NULL},
            {"[Reserve]\nPSISomeAvg10=50.5%\n", "PSISomeAvg10",
             "PSISomeAvg10=50.5%: tasks must stall"},
            {"[Reserve]\nNodeMinFreeMiB=0\n", "NodeMinFreeMiB", "NodeMinFreeMiB=0: no node floor"},
            {"[Reserve]\nNodeMinFreeMiB=1M\n", NULL, NULL},
            {"[Policy]\nKeepOfflineOnExit=yes\n", "KeepOfflineOnExit",
             "KeepOfflineOnExit=yes: when mempowerd stops"},
            {"[Policy]\nOfflineKernelZones=yes\n", "OfflineKernelZones",
             "OfflineKernelZones=yes: ZONE_NORMAL"},
            {"[Offline]\nTimeoutSec=1min\n", NULL, NULL},
            {"[Offline]\nTimeoutSec=61\n", "TimeoutSec",
             "TimeoutSec=1min 1s: an offline that cannot finish holds the kernel's memory "
             "hotplug lock"},
            {"[Offline]\nBackoffInitialSec=10\n", NULL, NULL},
            {"[Offline]\nBackoffInitialSec=9\n", "BackoffInitialSec", "BackoffInitialSec=9s"},
            {"[Power]\nEjectEmptyDevices=yes\n", "EjectEmptyDevices",
             "EjectEmptyDevices=yes: an ejected memory device"},
            {"[Scan]\nScanCPUPercent=10\n", NULL, NULL},
            {"[Scan]\nScanCPUPercent=10.5\n", "ScanCPUPercent", "ScanCPUPercent=10.5%"},
        };
        ConfigWarning w[CONFIG_WARNINGS_MAX];
        ConfigError err;
        Config c;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t n;
                const char *key = NULL;

                CHECK_EQ_INT(parse_text("w.conf", cases[i].text, &c, &err), 0);
                n = config_warnings(&c, NULL, w, ELEMENTSOF(w));
                CHECK_EQ_INT(n, cases[i].key ? 1 : 0);
                if (n == 1) {
                        config_key_get(w[0].key, NULL, &key);
                        CHECK_EQ_STR(key, cases[i].key);
                        CHECK_CONTAINS(w[0].text, cases[i].needle);
                }
                if (n != (cases[i].key ? 1u : 0u))
                        fprintf(stderr, "  case %zu: %zu warnings, first \"%s\"\n", i, n,
                                n ? w[0].text : "");
                config_free(&c);
        }

        /* all at once: in table order; max bounds what is filled, not the count */
        CHECK_EQ_INT(parse_text("w.conf",
                                "[Scan]\nScanCPUPercent=50\n[Reserve]\nMinFreeMiB=0\n"
                                "MinFreePercent=0\nPSISomeAvg10=0\nNodeMinFreeMiB=0\n[Policy]\n"
                                "OfflineKernelZones=yes\nKeepOfflineOnExit=yes\n[Offline]\n"
                                "TimeoutSec=10min\nBackoffInitialSec=1\n[Power]\n"
                                "EjectEmptyDevices=yes\n",
                                &c, &err),
                     0);
        CHECK_EQ_INT(config_warnings(&c, NULL, w, ELEMENTSOF(w)), 9);
        for (size_t i = 1; i < 9; i++)
                CHECK(w[i].key > w[i - 1].key);
        memset(w, 0, sizeof(w));
        CHECK_EQ_INT(config_warnings(&c, NULL, w, 2), 9);
        CHECK_CONTAINS(w[1].text, "MinFreeMiB=0 and MinFreePercent=0");
        CHECK(w[2].text[0] == '\0'); /* past max: untouched */
        CHECK_EQ_INT(config_warnings(&c, NULL, NULL, 0), 9);
        config_free(&c);

        /* the defaults: none */
        config_init(&c);
        CHECK_EQ_INT(config_warnings(&c, NULL, w, ELEMENTSOF(w)), 0);
        config_free(&c);

        /* with sources: the key set last of a pair, and where */
        {
                char main_path[PATH_MAX], dropins[PATH_MAX], path[PATH_MAX], buf[PATH_MAX + 256],
                    expect[PATH_MAX + 256];
                ConfigSources src = {0};
                const char *key;

                tmp_path("warn/mempowerd.conf", main_path, sizeof(main_path));
                tmp_path("warn/mempowerd.conf.d", dropins, sizeof(dropins));
                fake_write(tmp, "warn/mempowerd.conf", "[Reserve]\nMinFreePercent=0\n");
                fake_write(tmp, "warn/mempowerd.conf.d/50-x.conf",
                           "[Reserve]\n# none\nMinFreeMiB=0\n");
                config_init(&c);
                CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), 0);
                CHECK_EQ_INT(config_warnings(&c, &src, w, ELEMENTSOF(w)), 1);
                config_key_get(w[0].key, NULL, &key);
                CHECK_EQ_STR(key, "MinFreeMiB");
                CHECK_EQ_INT(config_warning_format(&w[0], &src, buf, sizeof(buf)), 0);
                snprintf(expect, sizeof(expect),
                         "%s:3: MinFreeMiB=0 and MinFreePercent=0: no reserve",
                         tmp_path("warn/mempowerd.conf.d/50-x.conf", path, sizeof(path)));
                CHECK(strncmp(buf, expect, strlen(expect)) == 0);
                if (strncmp(buf, expect, strlen(expect)) != 0)
                        fprintf(stderr, "  got \"%s\"\n", buf);

                /* the other way round */
                fake_write(tmp, "warn/mempowerd.conf", "[Reserve]\nMinFreeMiB=0\n");
                fake_write(tmp, "warn/mempowerd.conf.d/50-x.conf",
                           "[Reserve]\nMinFreePercent=0%\n");
                CHECK_EQ_INT(config_load_sources(NULL, main_path, dropins, &c, &src, &err), 0);
                CHECK_EQ_INT(config_warnings(&c, &src, w, ELEMENTSOF(w)), 1);
                config_key_get(w[0].key, NULL, &key);
                CHECK_EQ_STR(key, "MinFreePercent");
                /* without sources: plain text */
                CHECK_EQ_INT(config_warning_format(&w[0], NULL, buf, sizeof(buf)), 0);
                CHECK_EQ_STR(buf, w[0].text);
                CHECK_EQ_INT(config_warning_format(&w[0], &src, buf, 8), -ENOBUFS);
                CHECK_EQ_INT(strlen(buf), 7);
                config_sources_free(&src);
                config_free(&c);
        }
}

static void test_reserve_pages(void)
{
        Config c;

        config_init(&c);
        /* 4 GiB: 5% = 204.8 MiB < 256 MiB */
        CHECK_EQ_INT(config_reserve_pages(&c, 4ULL << 20, 4096), 256 * 256);
        /* 64 GiB: 5% = 3276.8 MiB > 256 MiB, rounded up to whole pages */
        CHECK_EQ_INT(config_reserve_pages(&c, 64ULL << 20, 4096), (64ULL << 30) / 20 / 4096 + 1);
        c.reserve_percent = 0;
        CHECK_EQ_INT(config_reserve_pages(&c, 64ULL << 20, 4096), 65536);
        c.reserve_mib = 0;
        CHECK_EQ_INT(config_reserve_pages(&c, 64ULL << 20, 4096), 0);
        c.reserve_percent = 50;
        CHECK_EQ_INT(config_reserve_pages(&c, 1024, 4096), 128);
        CHECK_EQ_INT(config_reserve_pages(&c, 1024, 65536), 8); /* 512 KiB in 64 KiB pages */
        CHECK_EQ_INT(config_reserve_pages(&c, 1024, 0), 0);
        c.reserve_percent = 0;
        c.reserve_mib = 1;
        CHECK_EQ_INT(config_reserve_pages(&c, 1024, 3 << 20), 1); /* rounded up */
        config_free(&c);
}

/* conf/mempowerd.conf, with its "#Key=" lines uncommented, must set every key
 * exactly once to the compiled-in default. */
static void test_shipped_conf_matches_defaults(void)
{
        char src[PATH_MAX], line[1024], path[PATH_MAX];
        FILE *in, *out;
        unsigned n_keys = 0;
        ConfigError err;
        Config c, d;
        int r;

        snprintf(src, sizeof(src), "%s/../../conf/mempowerd.conf", fixtures_dir());
        in = fopen(src, "re");
        CHECK(in != NULL);
        if (!in) {
                fprintf(stderr, "  %s: %s\n", src, strerror(errno));
                return;
        }
        out = fopen(tmp_path("uncommented.conf", path, sizeof(path)), "we");
        CHECK(out != NULL);
        if (!out) {
                fclose(in);
                return;
        }
        while (fgets(line, sizeof(line), in)) {
                /* "#Key=value": a commented-out setting */
                if (line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && strchr(line, '=')) {
                        fputs(line + 1, out);
                        n_keys++;
                } else
                        fputs(line, out);
        }
        fclose(in);
        fclose(out);

        CHECK_EQ_INT(n_keys, config_key_count());
        config_init(&d);
        config_init(&c);
        r = config_parse_file(&c, path, &err);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                fprintf(stderr, "  %s:%u: %s\n", src, err.line, err.reason);
        CHECK(config_equal(&c, &d));
        config_free(&c);

        /* and the shipped file as it is parses too (all comments) */
        config_init(&c);
        CHECK_EQ_INT(config_parse_file(&c, src, &err), 0);
        CHECK(config_equal(&c, &d));
        config_free(&c);
        config_free(&d);
}

/* man/mempowerd.conf.5 documents every key and section. */
static void test_man_page_lists_keys(void)
{
        char path[PATH_MAX], *text;
        FILE *f;
        long size;

        snprintf(path, sizeof(path), "%s/../../man/mempowerd.conf.5", fixtures_dir());
        f = fopen(path, "re");
        CHECK(f != NULL);
        if (!f)
                return;
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = calloc(1, (size_t)size + 1);
        if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
                CHECK(false);
                free(text);
                fclose(f);
                return;
        }
        fclose(f);
        for (size_t i = 0; i < config_key_count(); i++) {
                const char *s, *k;
                char needle[128];

                config_key_get(i, &s, &k);
                snprintf(needle, sizeof(needle), "%s=", k);
                CHECK_CONTAINS(text, needle);
                snprintf(needle, sizeof(needle), "[%s]", s);
                CHECK_CONTAINS(text, needle);
        }
        free(text);
}

int main(void)
{
        tmp = tmpdir_make();

        test_defaults();
        test_full_file();
        test_values();
        test_values_table();
        test_errors();
        test_file_errors();
        test_load();
        test_backoff_cross_check();
        test_reload_keeps_old();
        test_copy_equal();
        test_power();
        test_error_format();
        test_reserve_pages();
        test_format_value();
        test_sources_and_dump();
        test_warnings();
        test_shipped_conf_matches_defaults();
        test_man_page_lists_keys();

        tmpdir_remove(tmp);
        return test_summary("test-config");
}
