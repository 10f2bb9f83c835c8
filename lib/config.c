/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
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
        CONFIG_TIME,     /* a time span, bare numbers are seconds → uint64_t microseconds */
        CONFIG_SIZE,     /* a size, bare numbers are MiB → uint64_t MiB */
        CONFIG_PERCENT,  /* "5", "5%", decimals allowed → double percent */
        CONFIG_DECIMAL,  /* decimals allowed → double (watts, joules) */
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
        double min, max; /* in the key's unit: seconds, MiB, percent, count, index */
} ConfigKey;

#define FIELD(f) offsetof(Config, f)

static const ConfigKey config_keys[] = {
    {"Daemon", "TickSec", CONFIG_TIME, FIELD(tick_usec), 0.1, 3600},
    {"Daemon", "DryRun", CONFIG_BOOL, FIELD(dry_run), 0, 1},

    {"Scan", "ScanCPUPercent", CONFIG_PERCENT, FIELD(scan_cpu_percent), 0.01, 100},
    {"Scan", "RescanMaxSec", CONFIG_TIME, FIELD(rescan_max_usec), 10, 86400},

    {"Reserve", "MinFreeMiB", CONFIG_SIZE, FIELD(reserve_mib), 0, 1048576},
    {"Reserve", "MinFreePercent", CONFIG_PERCENT, FIELD(reserve_percent), 0, 90},
    {"Reserve", "PSISomeAvg10", CONFIG_PERCENT, FIELD(psi_some_avg10), 0, 100},
    {"Reserve", "NodeMinFreeMiB", CONFIG_SIZE, FIELD(node_reserve_mib), 0, 1048576},

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
    {"Power", "RegionMiB", CONFIG_SIZE, FIELD(region_mib), 1, 1048576},
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
        case CONFIG_SIZE:
        case CONFIG_U64:
                return *(const uint64_t *)fa == *(const uint64_t *)fb;
        case CONFIG_PERCENT:
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

int config_key_find(const char *section, const char *key)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (strcmp(config_keys[i].section, section) == 0 &&
                    strcmp(config_keys[i].key, key) == 0)
                        return (int)i;
        return -ENOENT;
}

/* ---- value parsers ------------------------------------------------------ */

/* Values are written as systemd writes them (systemd.time(7), the sizes of
 * systemd.resource-control(5)), with this parser's strictness: decimal
 * digits, an optional '.' followed by at least one digit, no sign, no
 * exponent, no locale, and no rounding: a value that is not a whole number
 * of the key's resolution (a microsecond, a MiB, a millionth) is refused. */

#define MICRO     1000000ULL
#define MIB_BYTES (UINT64_C(1) << 20)

/* Digits after the point kept, trailing zeros aside: 10^18 fits in 64 bits. */
#define FRACTION_DIGITS_MAX 18

/* What the error messages say a key's value looks like. */
static const char *syntax_hint(ConfigType t)
{
        switch (t) {
        case CONFIG_TIME:
                return "seconds, or a time span like 500ms, 5min, 1h 30min, 1d";
        case CONFIG_SIZE:
                return "MiB, or a size like 1024K, 512M, 1G, 2T (base 1024)";
        case CONFIG_PERCENT:
                return "a percentage like 5 or 5%";
        case CONFIG_DECIMAL:
                return "a decimal number like 0.25";
        default:
                return "a whole number";
        }
}

/* The unit the range of a key is given in. */
static const char *range_unit(ConfigType t)
{
        switch (t) {
        case CONFIG_TIME:
                return " s";
        case CONFIG_SIZE:
                return " MiB";
        case CONFIG_PERCENT:
                return "%";
        default:
                return "";
        }
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

typedef struct Number {
        uint64_t whole;
        uint64_t frac;   /* the digits after the point, trailing zeros dropped */
        unsigned digits; /* how many of them */
        bool point;      /* there was a decimal point */
} Number;

/* "12", "0.25" at *p. -EINVAL: no number there (or "5.", ".5"); -ERANGE:
 * the whole part does not fit; -EDOM: more than FRACTION_DIGITS_MAX digits
 * after the point that matter. *p is moved past the number. */
static int scan_number(const char **p, Number *ret)
{
        const char *s = *p;
        Number n = {0};

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                if (n.whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                n.whole = n.whole * 10 + (uint64_t)(*s - '0');
        }
        if (*s == '.') {
                const char *start = ++s, *end;

                if (!is_digit(*s))
                        return -EINVAL;
                while (is_digit(*s))
                        s++;
                for (end = s; end > start && end[-1] == '0'; end--)
                        ;
                if (end - start > FRACTION_DIGITS_MAX)
                        return -EDOM;
                for (const char *q = start; q < end; q++)
                        n.frac = n.frac * 10 + (uint64_t)(*q - '0');
                n.digits = (unsigned)(end - start);
                n.point = true;
        }
        *p = s;
        *ret = n;
        return 0;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
        while (b) {
                uint64_t t = a % b;

                a = b;
                b = t;
        }
        return a;
}

/* n times unit, exactly. -ERANGE: it does not fit in 64 bits; -EDOM: it is
 * not a whole number (a fraction of the unit's resolution). */
static int number_scale(const Number *n, uint64_t unit, uint64_t *ret)
{
        uint64_t v, f = 0;

        if (__builtin_mul_overflow(n->whole, unit, &v))
                return -ERANGE;
        if (n->digits > 0) {
                /* frac * unit / 10^digits: reduce the fraction first, so that
                 * nothing overflows that would not overflow the result. */
                uint64_t den = 1, g;

                for (unsigned i = 0; i < n->digits; i++)
                        den *= 10;
                g = gcd_u64(n->frac, den);
                den /= g;
                if (unit % den != 0)
                        return -EDOM;
                if (__builtin_mul_overflow(n->frac / g, unit / den, &f))
                        return -ERANGE;
        }
        if (__builtin_add_overflow(v, f, &v))
                return -ERANGE;
        *ret = v;
        return 0;
}

/* The word after a number ("min", "µs", "G"): letters and the two micro
 * signs. Returns its length. */
static size_t unit_word(const char *s)
{
        size_t i = 0;

        for (;;) {
                unsigned char c = (unsigned char)s[i];

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                        i++;
                else if ((c == 0xc2 && (unsigned char)s[i + 1] == 0xb5) ||
                         (c == 0xce && (unsigned char)s[i + 1] == 0xbc))
                        i += 2; /* µ (MICRO SIGN), μ (GREEK SMALL LETTER MU) */
                else
                        return i;
        }
}

#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK   (7 * USEC_PER_DAY)
#define USEC_PER_MONTH  (2629800 * USEC_PER_SEC)  /* 30.44 days, as systemd */
#define USEC_PER_YEAR   (31557600 * USEC_PER_SEC) /* 365.25 days */

/* The factor of the unit word p[0..len) in a {name, factor} table, 0 when
 * it is none of them. */
#define UNIT_FACTOR(table, p, len)                                                                 \
        ({                                                                                         \
                uint64_t _f = 0;                                                                   \
                for (size_t _i = 0; _i < ELEMENTSOF(table); _i++)                                  \
                        if (strlen(table[_i].name) == (len) &&                                     \
                            strncmp(table[_i].name, (p), (len)) == 0) {                            \
                                _f = table[_i].factor;                                             \
                                break;                                                             \
                        }                                                                          \
                _f;                                                                                \
        })

/* systemd.time(7)'s units, case-sensitive ("M" is a month, "m" a minute). */
static const struct {
        const char *name;
        uint64_t factor; /* microseconds */
} time_units[] = {
    {"us", 1},
    {"usec", 1},
    {"\xc2\xb5s", 1},
    {"\xce\xbcs", 1},
    {"ms", USEC_PER_MSEC},
    {"msec", USEC_PER_MSEC},
    {"s", USEC_PER_SEC},
    {"sec", USEC_PER_SEC},
    {"second", USEC_PER_SEC},
    {"seconds", USEC_PER_SEC},
    {"m", USEC_PER_MINUTE},
    {"min", USEC_PER_MINUTE},
    {"minute", USEC_PER_MINUTE},
    {"minutes", USEC_PER_MINUTE},
    {"h", USEC_PER_HOUR},
    {"hr", USEC_PER_HOUR},
    {"hour", USEC_PER_HOUR},
    {"hours", USEC_PER_HOUR},
    {"d", USEC_PER_DAY},
    {"day", USEC_PER_DAY},
    {"days", USEC_PER_DAY},
    {"w", USEC_PER_WEEK},
    {"week", USEC_PER_WEEK},
    {"weeks", USEC_PER_WEEK},
    {"M", USEC_PER_MONTH},
    {"month", USEC_PER_MONTH},
    {"months", USEC_PER_MONTH},
    {"y", USEC_PER_YEAR},
    {"year", USEC_PER_YEAR},
    {"years", USEC_PER_YEAR},
};

/* "2", "2.5", "500ms", "1h 30min", "1h30min", "2 h": a bare number alone
 * is seconds; otherwise every number has its unit and they add up.
 * -EINVAL: syntax; -ENOENT: an unknown unit (*ret_bad says where); -EDOM:
 * finer than a microsecond; -ERANGE: too large. *ret_unit: a unit was
 * written. */
static int parse_timespan(const char *s, uint64_t *ret, bool *ret_unit, const char **ret_bad)
{
        const char *p = s;
        uint64_t total = 0;
        bool unit = false;

        for (bool first = true;; first = false) {
                uint64_t mult = 0, v;
                Number n;
                size_t len;
                int r;

                r = scan_number(&p, &n);
                if (r < 0)
                        return r;
                while (is_blank(*p))
                        p++;
                len = unit_word(p);
                if (len == 0) {
                        if (!first || *p != '\0')
                                return -EINVAL; /* "1 2", "1s 2", "2 # x" */
                        mult = USEC_PER_SEC;    /* a bare number alone: seconds */
                } else {
                        mult = UNIT_FACTOR(time_units, p, len);
                        if (mult == 0) {
                                *ret_bad = p;
                                return -ENOENT;
                        }
                        unit = true;
                        p += len;
                }
                r = number_scale(&n, mult, &v);
                if (r < 0)
                        return r;
                if (__builtin_add_overflow(total, v, &total))
                        return -ERANGE;
                while (is_blank(*p))
                        p++;
                if (*p == '\0')
                        break;
        }
        *ret = total;
        *ret_unit = unit;
        return 0;
}

/* systemd's parse_size() with base 1024: K, M, G, T, P, E, or B for bytes. */
static const struct {
        const char *name;
        uint64_t factor; /* bytes */
} size_units[] = {
    {"B", 1},
    {"K", UINT64_C(1) << 10},
    {"M", UINT64_C(1) << 20},
    {"G", UINT64_C(1) << 30},
    {"T", UINT64_C(1) << 40},
    {"P", UINT64_C(1) << 50},
    {"E", UINT64_C(1) << 60},
};

/* "256" (MiB), "512M", "1G", "1.5G", "1024K", "2 T": one number and at
 * most one suffix, in whole MiB. -EINVAL: syntax; -ENOENT: an unknown
 * suffix (*ret_bad); -EDOM: not a whole number of MiB; -ERANGE: too large.
 * *ret_unit: a suffix was written. */
static int parse_size_mib(const char *s, uint64_t *ret, bool *ret_unit, const char **ret_bad)
{
        const char *p = s;
        uint64_t mult = MIB_BYTES, bytes;
        Number n;
        size_t len;
        int r;

        r = scan_number(&p, &n);
        if (r < 0)
                return r;
        while (is_blank(*p))
                p++;
        len = unit_word(p);
        if (len > 0) {
                mult = 0;
                mult = UNIT_FACTOR(size_units, p, len);
                if (mult == 0) {
                        *ret_bad = p;
                        return -ENOENT;
                }
                p += len;
        }
        if (*p != '\0')
                return -EINVAL;
        r = number_scale(&n, mult, &bytes);
        if (r < 0)
                return r;
        if (bytes % MIB_BYTES != 0)
                return -EDOM;
        *ret = bytes / MIB_BYTES;
        *ret_unit = len > 0;
        return 0;
}

/* "5", "0.25", and for percentages "5%": in millionths. -EINVAL, -ERANGE,
 * -EDOM (more than 6 decimal places that matter). */
static int parse_micro(const char *s, bool percent, uint64_t *ret, bool *ret_point)
{
        const char *p = s;
        Number n;
        int r;

        r = scan_number(&p, &n);
        if (r < 0)
                return r;
        if (percent && *p == '%')
                p++;
        if (*p != '\0')
                return -EINVAL;
        r = number_scale(&n, MICRO, ret);
        if (r < 0)
                return r;
        *ret_point = n.point;
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

/* millionths as a decimal: 2500000 -> "2.5", 3000000 -> "3" */
static const char *format_micro(uint64_t v, char *buf, size_t size)
{
        uint64_t w = v / MICRO, f = v % MICRO;
        int digits = 6;

        if (f == 0) {
                snprintf(buf, size, "%" PRIu64, w);
                return buf;
        }
        while (f % 10 == 0) {
                f /= 10;
                digits--;
        }
        snprintf(buf, size, "%" PRIu64 ".%0*" PRIu64, w, digits, f);
        return buf;
}

/* "TickSec=2h: 7200 s, out of range: 0.1..3600 s; expected a time span: ..."
 * converted (NULL: none) is the value in the key's unit when a unit was
 * written. */
static int range_error(const ConfigKey *k, const char *value, const char *converted, char *reason,
                       size_t size)
{
        char lo[32], hi[32];

        snprintf(reason, size, "%s=%.64s: %s%s%sout of range: %s..%s%s; expected %s", k->key, value,
                 converted ? converted : "", converted ? range_unit(k->type) : "",
                 converted ? ", " : "", format_bound(k->min, lo, sizeof(lo)),
                 format_bound(k->max, hi, sizeof(hi)), range_unit(k->type), syntax_hint(k->type));
        return -ERANGE;
}

static int syntax_error(const ConfigKey *k, const char *value, const char *what, char *reason,
                        size_t size)
{
        snprintf(reason, size, "%s=%.64s: %s; expected %s", k->key, value, what,
                 syntax_hint(k->type));
        return -EINVAL;
}

/* A number of any kind, checked against the key's range and stored in the
 * field's own type. */
static int parse_number(const ConfigKey *k, const char *value, void *field, char *reason,
                        size_t size)
{
        const char *bad = NULL;
        char conv[48];
        uint64_t v = 0;
        bool unit = false, point = false;
        int r;

        if (value[0] == '-' && is_digit(value[1]))
                return range_error(k, value, NULL, reason, size);

        switch (k->type) {
        case CONFIG_TIME:
                r = parse_timespan(value, &v, &unit, &bad);
                break;
        case CONFIG_SIZE:
                r = parse_size_mib(value, &v, &unit, &bad);
                break;
        default:
                r = parse_micro(value, k->type == CONFIG_PERCENT, &v, &point);
                break;
        }
        if (r == -ERANGE)
                return range_error(k, value, NULL, reason, size);
        if (r == -ENOENT) {
                char what[64];

                snprintf(what, sizeof(what), "unknown %s \"%.*s\"",
                         k->type == CONFIG_TIME ? "time unit" : "size suffix",
                         (int)u64_min(unit_word(bad), 16), bad);
                return syntax_error(k, value, what, reason, size);
        }
        if (r == -EDOM)
                return syntax_error(k, value,
                                    k->type == CONFIG_TIME ? "finer than a microsecond"
                                    : k->type == CONFIG_SIZE
                                        ? "not a whole number of MiB"
                                        : "too many decimal places (at most 6)",
                                    reason, size);
        if (r < 0)
                return syntax_error(k, value,
                                    k->type == CONFIG_TIME   ? "not a time span"
                                    : k->type == CONFIG_SIZE ? "not a size"
                                                             : "not a number",
                                    reason, size);

        switch (k->type) {
        case CONFIG_TIME:
                if (v < (uint64_t)llround(k->min * MICRO) || v > (uint64_t)llround(k->max * MICRO))
                        return range_error(k, value,
                                           unit ? format_micro(v, conv, sizeof(conv)) : NULL,
                                           reason, size);
                *(uint64_t *)field = v;
                return 0;
        case CONFIG_SIZE:
                if (v < (uint64_t)k->min || v > (uint64_t)k->max) {
                        snprintf(conv, sizeof(conv), "%" PRIu64, v);
                        return range_error(k, value, unit ? conv : NULL, reason, size);
                }
                *(uint64_t *)field = v;
                return 0;
        default:
                break;
        }
        if ((k->type == CONFIG_U64 || k->type == CONFIG_UNSIGNED) && point)
                return syntax_error(k, value, "not a whole number", reason, size);
        if (v < (uint64_t)llround(k->min * MICRO) || v > (uint64_t)llround(k->max * MICRO))
                return range_error(k, value, NULL, reason, size);
        switch (k->type) {
        case CONFIG_DECIMAL:
        case CONFIG_PERCENT:
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
        case CONFIG_SIZE:
        case CONFIG_U64:
                return sizeof(uint64_t);
        case CONFIG_PERCENT:
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

/* ---- values written back ------------------------------------------------ */

/* "2s", "1h 30min", "2s 500ms", "0": what parse_timespan() reads back. */
static const char *format_timespan(uint64_t usec, char *buf, size_t size)
{
        static const struct {
                const char *name;
                uint64_t usec;
        } parts[] = {
            {"w", USEC_PER_WEEK},
            {"d", USEC_PER_DAY},
            {"h", USEC_PER_HOUR},
            {"min", USEC_PER_MINUTE},
            {"s", USEC_PER_SEC},
            {"ms", USEC_PER_MSEC},
            {"us", 1},
        };
        size_t len = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (usec == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(parts) && len < size; i++) {
                int k;

                if (usec < parts[i].usec)
                        continue;
                k = snprintf(buf + len, size - len, "%s%" PRIu64 "%s", len ? " " : "",
                             usec / parts[i].usec, parts[i].name);
                if (k < 0)
                        break;
                len += (size_t)k;
                usec %= parts[i].usec;
        }
        return buf;
}

/* MiB with the largest suffix that keeps it whole: "256M", "1G", "0". */
static const char *format_size_mib(uint64_t mib, char *buf, size_t size)
{
        static const char suffix[] = "MGTPE";
        unsigned i = 0;

        if (mib == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        while (i + 1 < sizeof(suffix) - 1 && mib % 1024 == 0) {
                mib /= 1024;
                i++;
        }
        snprintf(buf, size, "%" PRIu64 "%c", mib, suffix[i]);
        return buf;
}

/* A double the parser stored from millionths. */
static const char *format_double(double d, char *buf, size_t size)
{
        if (d >= 0 && d < 1e12)
                return format_micro((uint64_t)llround(d * (double)MICRO), buf, size);
        snprintf(buf, size, "%.17g", d); /* never from a file: not in any range */
        return buf;
}

static int format_indexset(const IndexSet *set, char **ret)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < set->n; i++) {
                if (set->ranges[i].lo == set->ranges[i].hi)
                        fprintf(f, "%s%" PRIu32, i ? "," : "", set->ranges[i].lo);
                else
                        fprintf(f, "%s%" PRIu32 "-%" PRIu32, i ? "," : "", set->ranges[i].lo,
                                set->ranges[i].hi);
        }
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int config_format_value(const Config *c, size_t i, char **ret)
{
        const ConfigKey *k;
        const void *field;
        char buf[64];
        const char *s;
        char *t;

        if (i >= N_KEYS)
                return -ERANGE;
        k = &config_keys[i];
        field = (const char *)c + k->offset;
        switch (k->type) {
        case CONFIG_TIME:
                s = format_timespan(*(const uint64_t *)field, buf, sizeof(buf));
                break;
        case CONFIG_SIZE:
                s = format_size_mib(*(const uint64_t *)field, buf, sizeof(buf));
                break;
        case CONFIG_PERCENT: {
                size_t len;

                format_double(*(const double *)field, buf, sizeof(buf) - 1);
                len = strlen(buf);
                buf[len] = '%';
                buf[len + 1] = '\0';
                s = buf;
                break;
        }
        case CONFIG_DECIMAL:
                s = format_double(*(const double *)field, buf, sizeof(buf));
                break;
        case CONFIG_U64:
                snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)field);
                s = buf;
                break;
        case CONFIG_UNSIGNED:
                snprintf(buf, sizeof(buf), "%u", *(const unsigned *)field);
                s = buf;
                break;
        case CONFIG_BOOL:
                s = *(const bool *)field ? "yes" : "no";
                break;
        case CONFIG_DOMAINS:
                s = domain_mode_to_string(*(const DomainMode *)field);
                if (!s)
                        s = "";
                break;
        case CONFIG_INDEXSET:
                return format_indexset(field, ret);
        case CONFIG_PATH:
                s = *(char *const *)field ? *(char *const *)field : "";
                break;
        default:
                return -EINVAL;
        }
        t = strdup(s);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

/* The longest line the reader accepts (inih's buffer of 200 bytes holds the
 * text, "\r\n" and the NUL). */
#define LINE_MAX_CHARS 197

/* s, or its end after "..." so that it fits in max characters. */
static void print_shortened(FILE *f, const char *s, size_t max)
{
        size_t len = strlen(s);

        if (len <= max || max < 4)
                fputs(s, f);
        else
                fprintf(f, "...%s", s + len - (max - 3));
}

int config_dump(const Config *c, const ConfigSources *sources, FILE *f)
{
        const char *section = NULL;
        int r = 0;

        fputs("# The configuration in force, as mempowerd reads it.\n", f);
        if (sources && sources->n_files > 0) {
                fputs("# Files, in the order they are read:\n", f);
                for (size_t i = 0; i < sources->n_files; i++) {
                        bool missing = i == 0 && sources->main_missing;
                        const char *tail = missing ? " (missing)" : "";

                        fputs("#   ", f);
                        print_shortened(f, sources->files[i], LINE_MAX_CHARS - 4 - strlen(tail));
                        fprintf(f, "%s\n", tail);
                }
        } else if (sources)
                fputs("# No file is read: every key has its compiled-in default.\n", f);
        if (sources && sources->origins)
                fputs("# After each key: the file and line that set it, or \"default\".\n", f);

        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                _cleanup_free_ char *value = NULL;
                char line[LINE_MAX_CHARS * 2], origin[PATH_MAX + 16];
                int len;

                r = config_format_value(c, i, &value);
                if (r < 0)
                        return r;
                if (!section || strcmp(section, k->section) != 0) {
                        fprintf(f, "\n[%s]\n", k->section);
                        section = k->section;
                }
                len = snprintf(line, sizeof(line), "%s=%s", k->key, value);
                if (len < 0 || (size_t)len >= sizeof(line))
                        return -ENOBUFS;
                if (!sources || !sources->origins) {
                        fprintf(f, "%s\n", line);
                        continue;
                }
                if (sources->origins[i].path)
                        snprintf(origin, sizeof(origin), "%s:%u", sources->origins[i].path,
                                 sources->origins[i].line);
                else
                        snprintf(origin, sizeof(origin), "default");
                if ((size_t)(len < 32 ? 32 : len) + 3 + strlen(origin) <= LINE_MAX_CHARS)
                        fprintf(f, "%-32s ; %s\n", line, origin);
                else {
                        /* too long for one line: the origin goes above, as a comment */
                        fputs("; ", f);
                        print_shortened(f, origin, LINE_MAX_CHARS - 2);
                        fprintf(f, "\n%s\n", line);
                }
        }
        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* ---- warnings ----------------------------------------------------------- */

/* Above these the daemon warns (the defaults are far below). */
#define WARN_SCAN_CPU_PERCENT 10.0
#define WARN_PSI_SOME_AVG10   50.0
#define WARN_TIMEOUT_USEC     (60 * USEC_PER_SEC)
/* Below this the quiet time after pressure is short enough to flap. */
#define WARN_BACKOFF_INITIAL_USEC (10 * USEC_PER_SEC)

static void warn_add(ConfigWarning *ret, size_t max, size_t *n, size_t key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void warn_add(ConfigWarning *ret, size_t max, size_t *n, size_t key, const char *fmt, ...)
{
        va_list ap;

        if (*n >= CONFIG_WARNINGS_MAX)
                return;
        if (*n < max) {
                ret[*n].key = key;
                va_start(ap, fmt);
                vsnprintf(ret[*n].text, sizeof(ret[*n].text), fmt, ap);
                va_end(ap);
        }
        (*n)++;
}

static const ConfigOrigin *origin_of(const ConfigSources *s, size_t key)
{
        return s && s->origins ? &s->origins[key] : NULL;
}

static size_t file_order(const ConfigSources *s, const char *path)
{
        for (size_t i = 0; i < s->n_files; i++)
                if (s->files[i] == path)
                        return i;
        return s->n_files;
}

/* a was set after b */
static bool origin_after(const ConfigSources *s, const ConfigOrigin *a, const ConfigOrigin *b)
{
        size_t ia, ib;

        if (!a || !a->path)
                return false;
        if (!b || !b->path)
                return true;
        ia = file_order(s, a->path);
        ib = file_order(s, b->path);
        return ia != ib ? ia > ib : a->line > b->line;
}

size_t config_warnings(const Config *c, const ConfigSources *sources, ConfigWarning *ret,
                       size_t max)
{
        char v[64];
        size_t n = 0;

#define WARN(field, ...) warn_add(ret, max, &n, key_index(FIELD(field)), __VA_ARGS__)

        if (c->scan_cpu_percent > WARN_SCAN_CPU_PERCENT)
                WARN(scan_cpu_percent,
                     "ScanCPUPercent=%s%%: the page scanner may keep that much of a core busy "
                     "(the default is 0.25%%)",
                     format_double(c->scan_cpu_percent, v, sizeof(v)));

        if (c->reserve_mib == 0 && c->reserve_percent == 0) {
                /* blame the one set last: the other may be the package's file */
                const ConfigOrigin *om = origin_of(sources, key_index(FIELD(reserve_mib)));
                const ConfigOrigin *op = origin_of(sources, key_index(FIELD(reserve_percent)));
                bool percent_last = origin_after(sources, op, om);

                warn_add(ret, max, &n,
                         percent_last ? key_index(FIELD(reserve_percent))
                                      : key_index(FIELD(reserve_mib)),
                         "MinFreeMiB=0 and MinFreePercent=0: no reserve; memory is taken offline "
                         "down to one block of MemAvailable, and neither MemAvailable nor the "
                         "commit headroom ever counts as running short");
        }
        if (c->psi_some_avg10 == 0)
                WARN(psi_some_avg10,
                     "PSISomeAvg10=0 turns the PSI check off: memory stalls do not bring blocks "
                     "back, only the reserve and the node floors do");
        else if (c->psi_some_avg10 > WARN_PSI_SOME_AVG10)
                WARN(psi_some_avg10,
                     "PSISomeAvg10=%s%%: tasks must stall on memory more than half of the time "
                     "before blocks come back",
                     format_double(c->psi_some_avg10, v, sizeof(v)));
        if (c->node_reserve_mib == 0)
                WARN(node_reserve_mib,
                     "NodeMinFreeMiB=0: no node floor; a process bound to one node can run out "
                     "of memory there, and be killed, while the machine has plenty");
        if (c->offline_kernel_zones)
                WARN(offline_kernel_zones,
                     "OfflineKernelZones=yes: ZONE_NORMAL blocks go offline too; the kernel's own "
                     "allocations cannot use ZONE_MOVABLE and run short first");
        if (c->keep_offline_on_exit)
                WARN(keep_offline_on_exit,
                     "KeepOfflineOnExit=yes: when mempowerd stops, the memory it took offline "
                     "stays offline with nothing to give it back under pressure");
        if (c->offline_timeout_usec > WARN_TIMEOUT_USEC)
                WARN(offline_timeout_usec,
                     "TimeoutSec=%s: an offline that cannot finish holds the kernel's memory "
                     "hotplug lock and a CPU this long before it is ended",
                     format_timespan(c->offline_timeout_usec, v, sizeof(v)));
        if (c->backoff_initial_usec < WARN_BACKOFF_INITIAL_USEC)
                WARN(backoff_initial_usec,
                     "BackoffInitialSec=%s: after pressure, memory goes offline again that soon, "
                     "while the workload that needed it may still need it",
                     format_timespan(c->backoff_initial_usec, v, sizeof(v)));
        if (c->eject_empty_devices)
                WARN(eject_empty_devices,
                     "EjectEmptyDevices=yes: an ejected memory device does not come back under "
                     "pressure; only the host can add it again");
#undef WARN
        return n;
}

int config_warning_format(const ConfigWarning *w, const ConfigSources *sources, char *buf,
                          size_t size)
{
        const ConfigOrigin *o = origin_of(sources, w->key);
        int n;

        if (!buf || size == 0)
                return -ENOBUFS;
        if (o && o->path)
                n = snprintf(buf, size, "%s:%u: %s", o->path, o->line, w->text);
        else
                n = snprintf(buf, size, "%s", w->text);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
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

void config_sources_free(ConfigSources *s)
{
        if (!s)
                return;
        strv_free(s->files, s->n_files);
        free(s->origins);
        *s = (ConfigSources){0};
}

int config_list_files(const char *explicit_path, const char *main_path, const char *dropin_dir,
                      ConfigSources *ret, ConfigError *err)
{
        ConfigSources t = {0};
        ConfigError scratch;
        char **dropins = NULL;
        size_t n_dropins = 0;
        int r;

        if (!err)
                err = &scratch;
        *err = (ConfigError){0};
        if (!explicit_path && dropin_dir) {
                r = dropins_list(dropin_dir, &dropins, &n_dropins, err);
                if (r < 0)
                        return r;
        }
        t.files = calloc(n_dropins + 1, sizeof(t.files[0]));
        if (!t.files)
                goto oom;
        if (explicit_path || main_path) {
                t.files[0] = strdup(explicit_path ? explicit_path : main_path);
                if (!t.files[0])
                        goto oom;
                t.n_files = 1;
                t.main_missing = !explicit_path && access(main_path, F_OK) < 0 && errno == ENOENT;
        }
        for (size_t i = 0; i < n_dropins; i++)
                t.files[t.n_files++] = TAKE_PTR(dropins[i]);
        free(dropins);
        *ret = t;
        return 0;
oom:
        strv_free(dropins, n_dropins);
        config_sources_free(&t);
        error_set(err, dropin_dir ? dropin_dir : "", 0, "out of memory");
        return -ENOMEM;
}

int config_load_sources(const char *explicit_path, const char *main_path, const char *dropin_dir,
                        Config *ret, ConfigSources *ret_sources, ConfigError *err)
{
        KeyOrigin origins[N_KEYS] = {{0}};
        ConfigSources src = {0};
        ConfigError scratch;
        Config t;
        int r;

        if (!err)
                err = &scratch;
        *err = (ConfigError){0};
        config_init(&t);

        /* --config replaces the default file and its drop-ins */
        r = config_list_files(explicit_path, main_path, dropin_dir, &src, err);
        if (r < 0)
                goto out;
        src.main_missing = false; /* what parsing finds is what counts */
        for (size_t i = 0; i < src.n_files; i++) {
                r = parse_file_internal(&t, src.files[i], err, origins, (unsigned)i + 1);
                if (r == -ENOENT && err->line == 0 && i == 0 && !explicit_path && main_path) {
                        *err = (ConfigError){0}; /* no main file: fine */
                        src.main_missing = true;
                        continue;
                }
                if (r < 0)
                        goto out;
        }

        r = check_cross(&t, origins, err);
        if (r < 0)
                goto out;

        if (ret_sources) {
                src.origins = calloc(N_KEYS, sizeof(src.origins[0]));
                if (!src.origins) {
                        error_set(err, "", 0, "out of memory");
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < N_KEYS; i++)
                        src.origins[i] =
                            (ConfigOrigin){.path = origins[i].path, .line = origins[i].line};
                config_sources_free(ret_sources);
                *ret_sources = src;
                src = (ConfigSources){0};
        }
        config_free(ret);
        *ret = t;
        t = (Config){0};
        *err = (ConfigError){0};
        r = 0;
out:
        config_free(&t);
        config_sources_free(&src);
        return r;
}

int config_load(const char *explicit_path, const char *main_path, const char *dropin_dir,
                Config *ret, ConfigError *err)
{
        return config_load_sources(explicit_path, main_path, dropin_dir, ret, NULL, err);
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
