/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "domain.h"
#include "util.h"

/* How the text of a file reaches us. inih (Debian's libinih 55) is used for
 * what it does well, the ini grammar: sections, Key=Value, comments, blank
 * lines, whitespace stripping, " ;" inline comments. It is fed through our
 * own reader function, which sees every physical line before inih does and
 * handles what inih cannot tell us or gets wrong:
 *
 *  - line numbers: the Debian build's handler has no line argument, so the
 *    reader counts lines; the handler runs right after the reader returned
 *    its line, so the count is the handler's line. inih's own return value
 *    (first line with an error, counted the same way) places syntax errors.
 *  - long lines: inih reads into a fixed buffer (ini_max_line, 200 bytes)
 *    and silently splits a longer line in two, the second half parsed as a
 *    line of its own ("x...Key=1" could set Key). The reader rejects a line
 *    that would not fit. We do not raise ini_max_line: it is a process-wide
 *    variable of the shared library, and lib/ keeps no global state.
 *  - continuation lines: this build has INI_ALLOW_MULTILINE, so an indented
 *    line after Key=Value (even after comments or blank lines) silently
 *    becomes a new value for that same key. The reader rejects it.
 *  - bytes: NUL bytes and invalid UTF-8 are rejected with the line.
 *  - unknown sections, also empty ones, at the line of their header.
 *
 * After the first error the reader reports end of file, so every error that
 * can be reported lies on or before that line and the earliest one wins. */

/* What a key holds, and so how it is parsed, stored and compared. */
typedef enum ConfigType {
        CONFIG_TIME,     /* seconds, decimals allowed → uint64_t microseconds */
        CONFIG_DECIMAL,  /* decimals allowed → double (percent, watts, joules) */
        CONFIG_U64,      /* whole number → uint64_t */
        CONFIG_UNSIGNED, /* whole number → unsigned */
        CONFIG_BOOL,     /* → bool */
        CONFIG_INDEXSET, /* "0-7,12" → IndexSet */
        CONFIG_PATH,     /* absolute file name → char * (NULL: none) */
        CONFIG_DOMAINS,  /* auto|node|device|region|block → DomainMode */
} ConfigType;

typedef struct ConfigKey {
        const char *section;
        const char *key;
        ConfigType type;
        size_t offset;
        double min, max; /* in the unit the file uses: seconds, percent, count, index */
} ConfigKey;

#define FIELD(f) offsetof(Config, f)

static const ConfigKey config_keys[] = {
    {"Daemon", "TickSec", CONFIG_TIME, FIELD(tick_usec), 0.1, 3600},
    {"Daemon", "DryRun", CONFIG_BOOL, FIELD(dry_run), 0, 1},

    {"Scan", "ScanCPUPercent", CONFIG_DECIMAL, FIELD(scan_cpu_percent), 0.01, 100},
    {"Scan", "RescanMaxSec", CONFIG_TIME, FIELD(rescan_max_usec), 10, 86400},

    {"Reserve", "MinFreeMiB", CONFIG_U64, FIELD(reserve_mib), 0, 1048576},
    {"Reserve", "MinFreePercent", CONFIG_DECIMAL, FIELD(reserve_percent), 0, 90},
    {"Reserve", "PSISomeAvg10", CONFIG_DECIMAL, FIELD(psi_some_avg10), 0, 100},
    {"Reserve", "NodeMinFreeMiB", CONFIG_U64, FIELD(node_reserve_mib), 0, 1048576},

    {"Policy", "ExcludeBlocks", CONFIG_INDEXSET, FIELD(exclude_blocks), 0,
     CONFIG_EXCLUDE_BLOCKS_MAX},
    {"Policy", "DestinationNodes", CONFIG_INDEXSET, FIELD(destination_nodes), 0,
     CONFIG_DESTINATION_NODES_MAX},
    {"Policy", "MaxEvacuationsPerTick", CONFIG_UNSIGNED, FIELD(max_evacuations_per_tick), 1, 64},
    {"Policy", "OnlineHotAdded", CONFIG_BOOL, FIELD(online_hot_added), 0, 1},
    {"Policy", "OfflineKernelZones", CONFIG_BOOL, FIELD(offline_kernel_zones), 0, 1},
    {"Policy", "OnlineOthers", CONFIG_BOOL, FIELD(online_others), 0, 1},
    {"Policy", "KeepOfflineOnExit", CONFIG_BOOL, FIELD(keep_offline_on_exit), 0, 1},

    {"Offline", "TimeoutSec", CONFIG_TIME, FIELD(offline_timeout_usec), 0.1, 600},
    {"Offline", "BackoffInitialSec", CONFIG_TIME, FIELD(backoff_initial_usec), 1, 86400},
    {"Offline", "BackoffMaxSec", CONFIG_TIME, FIELD(backoff_max_usec), 1, 604800},
    {"Offline", "MigrateBatchPages", CONFIG_U64, FIELD(migrate_batch_pages), 1, 1048576},

    {"Power", "Domains", CONFIG_DOMAINS, FIELD(domains), 0, 0},
    {"Power", "RegionMiB", CONFIG_U64, FIELD(region_mib), 1, 1048576},
    {"Power", "OnlineWattsPerGiB", CONFIG_DECIMAL, FIELD(online_watts_per_gib), 0, 100},
    {"Power", "NodeOfflineWattsPerGiB", CONFIG_DECIMAL, FIELD(offline_watts_per_gib[DOMAIN_NODE]), 0, 100},
    {"Power", "DeviceOfflineWattsPerGiB", CONFIG_DECIMAL, FIELD(offline_watts_per_gib[DOMAIN_DEVICE]), 0, 100},
    {"Power", "RegionOfflineWattsPerGiB", CONFIG_DECIMAL, FIELD(offline_watts_per_gib[DOMAIN_REGION]), 0, 100},
    {"Power", "BlockOfflineWattsPerGiB", CONFIG_DECIMAL, FIELD(offline_watts_per_gib[DOMAIN_BLOCK]), 0, 100},
    {"Power", "MigrationJoulesPerGiB", CONFIG_DECIMAL, FIELD(migration_joules_per_gib), 0, 100000},
    {"Power", "BreakEven", CONFIG_BOOL, FIELD(break_even), 0, 1},
    {"Power", "ExpectedOfflineSec", CONFIG_TIME, FIELD(expected_offline_usec), 1, 604800},
    {"Power", "EjectEmptyDevices", CONFIG_BOOL, FIELD(eject_empty_devices), 0, 1},

    {"Metrics", "TextFile", CONFIG_PATH, FIELD(metrics_textfile), 0, 0},
};

#define N_KEYS ELEMENTSOF(config_keys)

static size_t key_index(size_t offset)
{
        size_t i;

        for (i = 0; i < N_KEYS; i++)
                if (config_keys[i].offset == offset)
                        break;
        return i;
}

void config_init(Config *c)
{
        *c = (Config){
            .tick_usec = 2 * USEC_PER_SEC,
            .dry_run = false,
            .scan_cpu_percent = 0.25,
            .rescan_max_usec = 600 * USEC_PER_SEC,
            .reserve_mib = 256,
            .reserve_percent = 5,
            .psi_some_avg10 = 10,
            .node_reserve_mib = 64,
            .exclude_blocks = INDEXSET_NULL,
            .destination_nodes = INDEXSET_NULL,
            .max_evacuations_per_tick = 1,
            .online_hot_added = false,
            .offline_kernel_zones = false,
            .online_others = false,
            .keep_offline_on_exit = false,
            .offline_timeout_usec = 10 * USEC_PER_SEC,
            .backoff_initial_usec = 30 * USEC_PER_SEC,
            .backoff_max_usec = 3600 * USEC_PER_SEC,
            .migrate_batch_pages = 4096,
            .domains = DOMAINS_AUTO,
            .region_mib = 512,
            .online_watts_per_gib = CONFIG_ONLINE_WATTS_PER_GIB,
            .offline_watts_per_gib = {
                [DOMAIN_BLOCK] = CONFIG_ONLINE_WATTS_PER_GIB, /* still refreshed: saves nothing */
                [DOMAIN_REGION] = CONFIG_POWER_DOWN_WATTS_PER_GIB,
                [DOMAIN_NODE] = 0,
                [DOMAIN_DEVICE] = 0,
            },
            .migration_joules_per_gib = CONFIG_MIGRATION_JOULES_PER_GIB,
            .break_even = true,
            .expected_offline_usec = 600 * USEC_PER_SEC,
            .eject_empty_devices = false,
            .metrics_textfile = NULL,
        };
}

void config_free(Config *c)
{
        if (!c)
                return;
        indexset_free(&c->exclude_blocks);
        indexset_free(&c->destination_nodes);
        free(c->metrics_textfile);
        *c = (Config){0};
}

int config_copy(const Config *src, Config *ret)
{
        Config t = *src;

        t.exclude_blocks = INDEXSET_NULL;
        t.destination_nodes = INDEXSET_NULL;
        t.metrics_textfile = NULL;

        if (indexset_copy(&src->exclude_blocks, &t.exclude_blocks) < 0 ||
            indexset_copy(&src->destination_nodes, &t.destination_nodes) < 0)
                goto fail;
        if (src->metrics_textfile) {
                t.metrics_textfile = strdup(src->metrics_textfile);
                if (!t.metrics_textfile)
                        goto fail;
        }
        *ret = t;
        return 0;
fail:
        config_free(&t);
        return -ENOMEM;
}

static bool indexset_equal(const IndexSet *a, const IndexSet *b)
{
        return a->n == b->n &&
               (a->n == 0 || memcmp(a->ranges, b->ranges, a->n * sizeof(a->ranges[0])) == 0);
}

static bool field_equal(const ConfigKey *k, const Config *a, const Config *b)
{
        const void *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;

        switch (k->type) {
        case CONFIG_TIME:
        case CONFIG_U64:
                return *(const uint64_t *)fa == *(const uint64_t *)fb;
        case CONFIG_DECIMAL:
                return *(const double *)fa == *(const double *)fb;
        case CONFIG_UNSIGNED:
                return *(const unsigned *)fa == *(const unsigned *)fb;
        case CONFIG_BOOL:
                return *(const bool *)fa == *(const bool *)fb;
        case CONFIG_DOMAINS:
                return *(const DomainMode *)fa == *(const DomainMode *)fb;
        case CONFIG_INDEXSET:
                return indexset_equal(fa, fb);
        case CONFIG_PATH: {
                const char *x = *(char *const *)fa, *y = *(char *const *)fb;

                return (!x && !y) || (x && y && strcmp(x, y) == 0);
        }
        }
        return false;
}

/* Every field of Config is a key of the table, so comparing through the
 * table compares everything. */
bool config_equal(const Config *a, const Config *b)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (!field_equal(&config_keys[i], a, b))
                        return false;
        return true;
}

size_t config_key_count(void)
{
        return N_KEYS;
}

int config_key_get(size_t i, const char **ret_section, const char **ret_key)
{
        if (i >= N_KEYS)
                return -ERANGE;
        if (ret_section)
                *ret_section = config_keys[i].section;
        if (ret_key)
                *ret_key = config_keys[i].key;
        return 0;
}

/* ---- value parsers ------------------------------------------------------ */

#define MICRO 1000000ULL

/* "12", "0.25": digits, optionally '.' and 1..6 more digits; no sign, no
 * exponent, no locale. Result scaled by 10^6. -EINVAL: not a number;
 * -EDOM: more than 6 decimals; -ERANGE: too large. *ret_frac tells whether
 * there was a decimal point. */
static int parse_decimal(const char *s, uint64_t *ret, bool *ret_frac)
{
        uint64_t ip = 0, fp = 0, scale = MICRO;
        const char *p = s;
        bool frac = false;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (ip > (UINT64_MAX / MICRO - 9) / 10)
                        return -ERANGE;
                ip = ip * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                unsigned nd = 0;

                frac = true;
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (++nd > 6) {
                                if (*p != '0') /* 2.5000000 is fine, 2.0000001 is not */
                                        return -EDOM;
                                continue;
                        }
                        scale /= 10;
                        fp += (uint64_t)(*p - '0') * scale;
                }
        }
        if (*p != '\0')
                return -EINVAL;
        *ret = ip * MICRO + fp;
        *ret_frac = frac;
        return 0;
}

/* 0.1 -> "0.1", 1048576 -> "1048576" */
static const char *format_bound(double v, char *buf, size_t size)
{
        if (v == floor(v))
                snprintf(buf, size, "%.0f", v);
        else
                snprintf(buf, size, "%g", v);
        return buf;
}

static int range_error(const ConfigKey *k, const char *value, char *reason, size_t size)
{
        char lo[32], hi[32];

        snprintf(reason, size, "%s=%.64s: out of range (%s..%s)", k->key, value,
                 format_bound(k->min, lo, sizeof(lo)), format_bound(k->max, hi, sizeof(hi)));
        return -ERANGE;
}

/* Parse a number into micro-units and check it against the key's range. */
static int parse_scaled(const ConfigKey *k, const char *value, bool whole, uint64_t *ret,
                        char *reason, size_t size)
{
        uint64_t v;
        bool frac;
        int r;

        r = parse_decimal(value, &v, &frac);
        if (r == -EINVAL && value[0] == '-' && value[1] >= '0' && value[1] <= '9')
                return range_error(k, value, reason, size);
        if (r == -EINVAL) {
                snprintf(reason, size, "%s=%.64s: not a number", k->key, value);
                return r;
        }
        if (r == -EDOM) {
                snprintf(reason, size, "%s=%.64s: too many decimal places (at most 6)", k->key,
                         value);
                return -EINVAL;
        }
        if (r == -ERANGE)
                return range_error(k, value, reason, size);
        if (whole && frac) {
                snprintf(reason, size, "%s=%.64s: not a whole number", k->key, value);
                return -EINVAL;
        }
        if (v < (uint64_t)llround(k->min * MICRO) || v > (uint64_t)llround(k->max * MICRO))
                return range_error(k, value, reason, size);
        *ret = v;
        return 0;
}

/* A number, stored in the field's own type. */
static int parse_number(const ConfigKey *k, const char *value, void *field, char *reason,
                        size_t size)
{
        uint64_t v = 0;
        int r;

        r = parse_scaled(k, value, k->type == CONFIG_U64 || k->type == CONFIG_UNSIGNED, &v, reason,
                         size);
        if (r < 0)
                return r;
        switch (k->type) {
        case CONFIG_TIME:
                *(uint64_t *)field = v; /* micro-units of a second are microseconds */
                break;
        case CONFIG_DECIMAL:
                *(double *)field = (double)v / (double)MICRO;
                break;
        case CONFIG_U64:
                *(uint64_t *)field = v / MICRO;
                break;
        default:
                *(unsigned *)field = (unsigned)(v / MICRO); /* max is far below UINT_MAX */
                break;
        }
        return 0;
}

static int parse_bool(const ConfigKey *k, const char *value, void *field, char *reason, size_t size)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *(bool *)field = true;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0) {
                        *(bool *)field = false;
                        return 0;
                }
        }
        snprintf(reason, size, "%s=%.64s: not a boolean (yes/no, true/false, on/off, 1/0)", k->key,
                 value);
        return -EINVAL;
}

static int parse_domains(const ConfigKey *k, const char *value, void *field, char *reason,
                         size_t size)
{
        DomainMode m = domain_mode_from_string(value);

        if (m < 0) {
                snprintf(reason, size, "%s=%.64s: not one of auto, node, device, region, block",
                         k->key, value);
                return -EINVAL;
        }
        *(DomainMode *)field = m;
        return 0;
}

static int parse_indexset(const ConfigKey *k, const char *value, void *field, const void *dflt,
                          char *reason, size_t size)
{
        IndexSet *set = field, n = INDEXSET_NULL;
        int r;

        if (!*value)
                r = indexset_copy(dflt, &n);
        else
                r = indexset_parse(value, (uint32_t)k->max, &n);
        if (r == -ERANGE) {
                snprintf(reason, size, "%s=%.64s: index out of range (0..%.0f)", k->key, value,
                         k->max);
                return r;
        }
        if (r == -ENOMEM) {
                snprintf(reason, size, "out of memory");
                return r;
        }
        if (r < 0) {
                snprintf(reason, size, "%s=%.64s: not an index set (expected a list like 0-7,12)",
                         k->key, value);
                return -EINVAL;
        }
        indexset_free(set);
        *set = n;
        return 0;
}

static int parse_path(const ConfigKey *k, const char *value, void *field, const void *dflt,
                      char *reason, size_t size)
{
        const char *d = *(char *const *)dflt;
        char **p = field, *n = NULL;

        if (!*value) {
                if (d && !(n = strdup(d)))
                        goto oom;
        } else {
                if (value[0] != '/') {
                        snprintf(reason, size, "%s=%.64s: not an absolute path", k->key, value);
                        return -EINVAL;
                }
                if (value[strlen(value) - 1] == '/') {
                        snprintf(reason, size, "%s=%.64s: names a directory, not a file", k->key,
                                 value);
                        return -EINVAL;
                }
                if (!(n = strdup(value)))
                        goto oom;
        }
        free(*p);
        *p = n;
        return 0;
oom:
        snprintf(reason, size, "out of memory");
        return -ENOMEM;
}

static size_t config_type_size(ConfigType t)
{
        switch (t) {
        case CONFIG_TIME:
        case CONFIG_U64:
                return sizeof(uint64_t);
        case CONFIG_DECIMAL:
                return sizeof(double);
        case CONFIG_UNSIGNED:
                return sizeof(unsigned);
        case CONFIG_BOOL:
                return sizeof(bool);
        case CONFIG_DOMAINS:
                return sizeof(DomainMode);
        default:
                return 0; /* owns memory: copied by its parser */
        }
}

/* An empty value (Key=) puts the compiled-in default back, as in systemd. */
static int parse_value(const ConfigKey *k, const char *value, void *field, const void *dflt,
                       char *reason, size_t size)
{
        switch (k->type) {
        case CONFIG_INDEXSET:
                return parse_indexset(k, value, field, dflt, reason, size);
        case CONFIG_PATH:
                return parse_path(k, value, field, dflt, reason, size);
        default:
                break;
        }
        if (!*value) {
                memcpy(field, dflt, config_type_size(k->type));
                return 0;
        }
        if (k->type == CONFIG_BOOL)
                return parse_bool(k, value, field, reason, size);
        if (k->type == CONFIG_DOMAINS)
                return parse_domains(k, value, field, reason, size);
        return parse_number(k, value, field, reason, size);
}

/* ---- reading a file ----------------------------------------------------- */

typedef struct KeyOrigin {
        const char *path; /* NULL: still the compiled-in default */
        unsigned line;
        unsigned seq; /* which file, in load order */
} KeyOrigin;

typedef struct ParseState {
        Config *config;
        Config defaults;
        const char *path;
        FILE *f;
        char *buf;
        size_t bufsize;
        unsigned line; /* physical line last handed to inih */
        bool in_key;   /* inih would take an indented line as a continuation */
        char last_key[64];
        unsigned seen[N_KEYS]; /* line where each key was set in this file */
        KeyOrigin *origins;
        unsigned seq;

        int error; /* first error, negative errno; 0: none */
        unsigned error_line;
        char reason[256];
} ParseState;

static void state_error(ParseState *st, int error, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void state_error(ParseState *st, int error, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (st->error)
                return;
        st->error = error;
        st->error_line = line;
        va_start(ap, fmt);
        vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
        va_end(ap);
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* 0 when valid, else the 1-based position of the first bad byte. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return i + 1;
                if (i + n >= len) /* truncated sequence */
                        return i + 1;
                for (size_t j = 1; j <= n; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return i + 1;
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return i + 1;
                i += n + 1;
        }
        return 0;
}

static bool section_known(const char *name)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (strcmp(config_keys[i].section, name) == 0)
                        return true;
        return false;
}

/* Look at a line before inih does; false stops the parse (error recorded). */
static bool check_line(ParseState *st, const char *text)
{
        const char *p = text;

        if (st->line == 1 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
            (unsigned char)p[2] == 0xbf)
                p += 3; /* inih skips a UTF-8 byte order mark */
        const char *start = p;

        while (is_space(*p))
                p++;
        if (*p == '\0' || *p == ';' || *p == '#')
                return true; /* blank or comment: inih keeps its state */

        if (p > start && st->in_key) {
                state_error(st, -EINVAL, st->line,
                            "indented line would continue %s=: continuation lines are not "
                            "supported (remove the indentation)",
                            st->last_key);
                return false;
        }

        if (*p == '[') {
                const char *end = strchr(p + 1, ']');
                const char *q;
                char name[64];

                if (!end)
                        return true; /* inih reports it */
                snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
                if (!section_known(name)) {
                        state_error(st, -EINVAL, st->line, "unknown section [%.*s]",
                                    (int)(end - p - 1) > 64 ? 64 : (int)(end - p - 1), p + 1);
                        return false;
                }
                for (q = end + 1; is_space(*q); q++)
                        ;
                if (*q != '\0' && *q != ';' && *q != '#') {
                        state_error(st, -EINVAL, st->line, "unexpected text after [%s]: %.64s",
                                    name, q);
                        return false;
                }
                st->in_key = false;
        }
        return true;
}

static char *reader(char *str, int num, void *stream)
{
        ParseState *st = stream;
        size_t len, bad;
        ssize_t n;

        if (st->error)
                return NULL; /* stop at the first error */

        errno = 0;
        n = getline(&st->buf, &st->bufsize, st->f);
        if (n < 0) {
                if (ferror(st->f)) {
                        int e = errno > 0 ? errno : EIO;

                        state_error(st, -e, 0, "cannot read: %s", strerror(e));
                } else if (errno == ENOMEM)
                        state_error(st, -ENOMEM, 0, "out of memory");
                return NULL;
        }
        st->line++;

        len = (size_t)n;
        if (memchr(st->buf, '\0', len)) {
                state_error(st, -EINVAL, st->line, "line contains a NUL byte");
                return NULL;
        }
        if (len > 0 && st->buf[len - 1] == '\n')
                len--;
        if (len > 0 && st->buf[len - 1] == '\r')
                len--;
        bad = utf8_check((const unsigned char *)st->buf, len);
        if (bad > 0) {
                state_error(st, -EINVAL, st->line, "not valid UTF-8 (byte %zu of the line)", bad);
                return NULL;
        }
        /* inih's buffer holds num bytes: the text, "\r\n" and the NUL. */
        if (num < 4 || len > (size_t)num - 3 || (size_t)n >= (size_t)num) {
                state_error(st, -EINVAL, st->line, "line is longer than %d characters",
                            num < 4 ? 0 : num - 3);
                return NULL;
        }
        if (!check_line(st, st->buf))
                return NULL;

        memcpy(str, st->buf, (size_t)n + 1);
        return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        ParseState *st = user;
        const ConfigKey *k = NULL;
        const char *hint_section = NULL, *hint_key = NULL;
        size_t i;
        int r;

        if (st->error)
                return 0;
        if (!*name) {
                state_error(st, -EINVAL, st->line, "missing key name before '='");
                return 0;
        }
        st->in_key = true;
        snprintf(st->last_key, sizeof(st->last_key), "%s", name);

        if (!*section) {
                state_error(st, -EINVAL, st->line, "%.64s= is outside of any [Section]", name);
                return 0;
        }
        if (!section_known(section)) { /* the reader catches these first */
                state_error(st, -EINVAL, st->line, "unknown section [%.64s]", section);
                return 0;
        }
        for (i = 0; i < N_KEYS; i++) {
                if (strcmp(config_keys[i].section, section) == 0 &&
                    strcmp(config_keys[i].key, name) == 0) {
                        k = &config_keys[i];
                        break;
                }
                if (!hint_key && strcasecmp(config_keys[i].key, name) == 0) {
                        hint_section = config_keys[i].section;
                        hint_key = config_keys[i].key;
                }
        }
        if (!k) {
                if (hint_key)
                        state_error(st, -EINVAL, st->line,
                                    "unknown key %.64s= in section [%s] (did you mean [%s] %s=?)",
                                    name, section, hint_section, hint_key);
                else
                        state_error(st, -EINVAL, st->line, "unknown key %.64s= in section [%s]",
                                    name, section);
                return 0;
        }
        if (st->seen[i]) {
                state_error(st, -EINVAL, st->line,
                            "%s= is set twice in this file (first on line %u); use one line, "
                            "or a drop-in to override",
                            k->key, st->seen[i]);
                return 0;
        }

        r = parse_value(k, value, (char *)st->config + k->offset,
                        (const char *)&st->defaults + k->offset, st->reason, sizeof(st->reason));
        if (r < 0) {
                st->error = r;
                st->error_line = st->line;
                return 0;
        }
        st->seen[i] = st->line;
        if (st->origins)
                st->origins[i] = (KeyOrigin){.path = st->path, .line = st->line, .seq = st->seq};
        return 1;
}

static void error_set(ConfigError *err, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_set(ConfigError *err, const char *path, unsigned line, const char *fmt, ...)
{
        va_list ap;

        snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
        va_end(ap);
}

/* inih found a line it cannot parse: fetch it again to say what is wrong. */
static void describe_syntax_error(ParseState *st, unsigned line, char *reason, size_t size)
{
        unsigned i = 0;
        ssize_t n = -1;

        snprintf(reason, size, "syntax error");
        clearerr(st->f);
        if (fseek(st->f, 0, SEEK_SET) < 0)
                return;
        while (i < line && (n = getline(&st->buf, &st->bufsize, st->f)) >= 0)
                i++;
        if (i != line || n < 0)
                return;

        char *p = st->buf, *e;

        if (line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        while (is_space(*p))
                p++;
        e = p + strlen(p);
        while (e > p && is_space(e[-1]))
                *--e = '\0';
        if (*p == '[')
                snprintf(reason, size, "\"%.64s\": section header without closing ']'", p);
        else
                snprintf(reason, size, "\"%.64s\": expected Key=Value or [Section]", p);
}

static int parse_file_internal(Config *c, const char *path, ConfigError *err, KeyOrigin *origins,
                               unsigned seq)
{
        _cleanup_fclose_ FILE *f = NULL;
        ParseState *st = NULL;
        struct stat sb;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                error_set(err, path, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &sb) < 0)
                r = -errno;
        else if (S_ISDIR(sb.st_mode))
                r = -EISDIR;
        else
                r = 0;
        if (r < 0) {
                close(fd);
                error_set(err, path, 0, "cannot read: %s", strerror(-r));
                return r;
        }
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                error_set(err, path, 0, "out of memory");
                return -ENOMEM;
        }

        st = calloc(1, sizeof(*st)); /* large (seen[], reason): keep it off the stack */
        if (!st) {
                error_set(err, path, 0, "out of memory");
                return -ENOMEM;
        }
        st->config = c;
        config_init(&st->defaults);
        st->path = path;
        st->f = f;
        st->origins = origins;
        st->seq = seq;

        r = ini_parse_stream(reader, st, handler, st);
        if (r == -2) {
                error_set(err, path, 0, "out of memory");
                r = -ENOMEM;
        } else if (r > 0 && (!st->error || (unsigned)r < st->error_line)) {
                char reason[256];

                describe_syntax_error(st, (unsigned)r, reason, sizeof(reason));
                error_set(err, path, (unsigned)r, "%s", reason);
                r = -EINVAL;
        } else if (st->error) {
                error_set(err, path, st->error_line, "%s", st->reason);
                r = st->error;
        } else
                r = 0;

        free(st->buf);
        free(st);
        return r;
}

int config_parse_file(Config *c, const char *path, ConfigError *err)
{
        ConfigError scratch;

        if (!err)
                err = &scratch;
        *err = (ConfigError){0};
        return parse_file_internal(c, path, err, NULL, 0);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_free(char **l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

/* dir/\*.conf (not hidden), sorted bytewise. A missing dir is an empty list. */
static int dropins_list(const char *dir, char ***ret, size_t *ret_n, ConfigError *err)
{
        DIR *d;
        struct dirent *de;
        char **l = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                r = -errno;
                error_set(err, dir, 0, "cannot open directory: %s", strerror(-r));
                return r;
        }
        for (;;) {
                size_t len;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno) {
                                r = -errno;
                                error_set(err, dir, 0, "cannot read directory: %s", strerror(-r));
                        }
                        break;
                }
                len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
                        continue;
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 16;
                        char **nl = realloc(l, na * sizeof(l[0]));

                        if (!nl) {
                                r = -ENOMEM;
                                break;
                        }
                        l = nl;
                        allocated = na;
                }
                if (asprintf(&l[n], "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0) {
                if (r == -ENOMEM)
                        error_set(err, dir, 0, "out of memory");
                strv_free(l, n);
                return r;
        }
        if (n > 0)
                qsort(l, n, sizeof(l[0]), name_cmp);
        *ret = l;
        *ret_n = n;
        return 0;
}

static bool origin_later(const KeyOrigin *a, const KeyOrigin *b)
{
        if (!a->path)
                return false;
        if (!b->path)
                return true;
        return a->seq != b->seq ? a->seq > b->seq : a->line > b->line;
}

static int check_cross(const Config *c, const KeyOrigin *origins, ConfigError *err)
{
        if (c->backoff_max_usec < c->backoff_initial_usec) {
                const KeyOrigin *oi = &origins[key_index(FIELD(backoff_initial_usec))];
                const KeyOrigin *om = &origins[key_index(FIELD(backoff_max_usec))];
                char reason[256];

                if (origin_later(oi, om)) {
                        snprintf(reason, sizeof(reason),
                                 "BackoffInitialSec=%g must not exceed BackoffMaxSec=%g",
                                 (double)c->backoff_initial_usec / USEC_PER_SEC,
                                 (double)c->backoff_max_usec / USEC_PER_SEC);
                        error_set(err, oi->path, oi->line, "%s", reason);
                } else {
                        snprintf(reason, sizeof(reason),
                                 "BackoffMaxSec=%g must not be less than BackoffInitialSec=%g",
                                 (double)c->backoff_max_usec / USEC_PER_SEC,
                                 (double)c->backoff_initial_usec / USEC_PER_SEC);
                        error_set(err, om->path, om->line, "%s", reason);
                }
                return -EINVAL;
        }
        return 0;
}

int config_load(const char *explicit_path, const char *main_path, const char *dropin_dir,
                Config *ret, ConfigError *err)
{
        KeyOrigin origins[N_KEYS] = {{0}};
        ConfigError scratch;
        char **dropins = NULL;
        size_t n_dropins = 0;
        unsigned seq = 0;
        Config t;
        int r;

        if (!err)
                err = &scratch;
        *err = (ConfigError){0};
        config_init(&t);

        if (explicit_path) {
                /* --config replaces the default file and its drop-ins */
                r = parse_file_internal(&t, explicit_path, err, origins, ++seq);
                if (r < 0)
                        goto out;
        } else {
                if (main_path) {
                        r = parse_file_internal(&t, main_path, err, origins, ++seq);
                        if (r == -ENOENT && err->line == 0)
                                *err = (ConfigError){0}; /* no main file: fine */
                        else if (r < 0)
                                goto out;
                }
                if (dropin_dir) {
                        r = dropins_list(dropin_dir, &dropins, &n_dropins, err);
                        if (r < 0)
                                goto out;
                        for (size_t i = 0; i < n_dropins; i++) {
                                r = parse_file_internal(&t, dropins[i], err, origins, ++seq);
                                if (r < 0)
                                        goto out;
                        }
                }
        }

        r = check_cross(&t, origins, err);
        if (r < 0)
                goto out;

        config_free(ret);
        *ret = t;
        t = (Config){0};
        *err = (ConfigError){0};
        r = 0;
out:
        config_free(&t);
        strv_free(dropins, n_dropins);
        return r;
}

uint64_t config_reserve_pages(const Config *c, uint64_t mem_total_kb, uint64_t page_size)
{
        uint64_t mib_pages, pct_pages;
        double pct;

        if (page_size == 0)
                return 0;
        if (c->reserve_mib > UINT64_MAX / (1024 * 1024))
                mib_pages = UINT64_MAX / page_size;
        else
                mib_pages = (c->reserve_mib * 1024 * 1024 + page_size - 1) / page_size;

        pct = ceil((double)mem_total_kb * 1024.0 * c->reserve_percent / 100.0 / (double)page_size);
        if (!(pct >= 0))
                pct_pages = 0;
        else if (pct >= 18446744073709551616.0)
                pct_pages = UINT64_MAX;
        else
                pct_pages = (uint64_t)pct;
        return u64_max(mib_pages, pct_pages);
}

int config_error_format(const ConfigError *e, char *buf, size_t size)
{
        int n;

        if (!buf || size == 0)
                return -ENOBUFS;
        if (!e->path[0])
                n = snprintf(buf, size, "%s", e->reason);
        else if (e->line > 0)
                n = snprintf(buf, size, "%s:%u: %s", e->path, e->line, e->reason);
        else
                n = snprintf(buf, size, "%s: %s", e->path, e->reason);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}
