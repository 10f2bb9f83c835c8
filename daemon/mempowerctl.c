/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mempowerctl: a thin client of org.mempowerd1 on the system bus. Everything
 * it shows comes from the daemon; it never reads sysfs itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "blockmap.h"
#include "bus-names.h"
#include "format.h"
#include "output.h"
#include "config-build.h"
#include "util.h"

#define EXIT_USAGE       2
#define EXIT_NOT_RUNNING 3 /* LSB: program is not running */
#define EXIT_NOPERM      4 /* LSB: user had insufficient privilege */
#define EXIT_PARTIAL     64 /* online-all: some blocks onlined, not all (as chmem) */
#define EXIT_NOT_FOUND   EXIT_FAILURE /* explain: no such block */

static bool arg_json;
static OutOptions arg_out = { .legend = true }; /* -o, --bytes, --all, --no-legend */

static void help(void)
{
        printf("Usage: mempowerctl [OPTIONS] COMMAND\n"
               "\n"
               "Query and control mempowerd, the memory power daemon, over D-Bus.\n"
               "\n"
               "Commands:\n"
               "  status       Show the daemon's state and totals (the default)\n"
               "  blocks       List memory blocks with their usage and the daemon's intent\n"
               "  domains      List power domains: what each holds, would save, and the\n"
               "               daemon's intent\n"
               "  map          Draw the memory blocks as a grid by node and power domain:\n"
               "               state and how full each is\n"
               "  explain BLOCK\n"
               "               Why a block is not offline: its state, usage, back-off and\n"
               "               last failure, its unmovable pages and the processes that\n"
               "               map its pages (other users' only for root)\n"
               "  pause        Stop evacuating and offlining (pressure still onlines)\n"
               "  resume       Undo pause\n"
               "  rescan       Count every memory block again now\n"
               "  online-all   Bring every offline block online: mempowerd's own into the\n"
               "               zone they came from, others' as online_movable; exits\n"
               "               64 when some could not be onlined\n"
               "  reload       Reread the configuration; a broken one is reported and\n"
               "               the previous one stays\n"
               "\n"
               "Options:\n"
               "  -h --help       Show this help and exit\n"
               "     --version    Show the version and exit\n"
               "     --json       Print status, blocks and domains as JSON\n"
               "  -a --all        blocks: one row per block, no ranges\n"
               "     --no-legend  blocks, domains, map: no header and no footer\n"
               "  -o --output=LIST\n"
               "                  blocks, domains: these columns (BLOCK,ZONES,ACTION), or\n"
               "                  +COL to add one; --help-columns lists them\n"
               "     --bytes      blocks, domains: sizes in bytes, not 128M\n"
               "     --help-columns\n"
               "                  List the columns of blocks and domains and exit\n"
               "\n"
               "pause, resume, rescan, online-all and reload need root. The bus is the\n"
               "system bus, or $DBUS_SYSTEM_BUS_ADDRESS when set.\n"
               "See mempowerctl(1).\n");
}

/* ---- errors ---- */

static int bus_error_report(const sd_bus_error *e, int r, const char *what)
{
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                fprintf(stderr, "mempowerd is not running (" MEMPOWERD_BUS_NAME
                                " not on the system bus)\n");
                return EXIT_NOT_RUNNING;
        }
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) || r == -EACCES || r == -EPERM) {
                fprintf(stderr, "Permission denied: this needs root\n");
                return EXIT_NOPERM;
        }
        if (e && sd_bus_error_is_set(e) && e->message)
                fprintf(stderr, "Failed to %s: %s\n", what, e->message);
        else
                fprintf(stderr, "Failed to %s: %s\n", what, strerror(-r));
        return EXIT_FAILURE;
}

/* ---- JSON and sizes ---- */

/* ---- status ---- */

typedef enum PropType {
        PT_STR,
        PT_U32,
        PT_I32, /* in u, sign-extended */
        PT_U64,
        PT_BOOL,
        PT_DOUBLE,
} PropType;

typedef struct Prop {
        char name[64];
        PropType type;
        char *s;
        uint64_t u;
        double d;
} Prop;

typedef struct Props {
        Prop *v;
        size_t n;
} Props;

static void props_free(Props *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i].s);
        free(p->v);
        p->v = NULL;
        p->n = 0;
}

static const Prop *props_get(const Props *p, const char *name)
{
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->v[i].name, name) == 0)
                        return &p->v[i];
        return NULL;
}

static uint64_t props_u(const Props *p, const char *name)
{
        const Prop *x = props_get(p, name);

        return x ? x->u : 0;
}

static double props_d(const Props *p, const char *name)
{
        const Prop *x = props_get(p, name);

        return x ? x->d : 0;
}

static const char *props_s(const Props *p, const char *name)
{
        const Prop *x = props_get(p, name);

        return x && x->s ? x->s : "";
}

static int props_read(sd_bus_message *reply, Props *ret)
{
        Props p = { 0 };
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *contents;
                char type;
                Prop *v, x = { 0 };

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_peek_type(reply, &type, &contents);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_enter_container(reply, 'v', contents);
                if (r < 0)
                        goto fail;
                snprintf(x.name, sizeof(x.name), "%s", name);
                if (strcmp(contents, "s") == 0) {
                        const char *s;

                        x.type = PT_STR;
                        r = sd_bus_message_read(reply, "s", &s);
                        if (r >= 0 && !(x.s = strdup(s)))
                                r = -ENOMEM;
                } else if (strcmp(contents, "u") == 0) {
                        uint32_t u;

                        x.type = PT_U32;
                        r = sd_bus_message_read(reply, "u", &u);
                        x.u = u;
                } else if (strcmp(contents, "i") == 0) {
                        int32_t i;

                        x.type = PT_I32;
                        r = sd_bus_message_read(reply, "i", &i);
                        x.u = (uint64_t)(int64_t)i;
                } else if (strcmp(contents, "t") == 0) {
                        x.type = PT_U64;
                        r = sd_bus_message_read(reply, "t", &x.u);
                } else if (strcmp(contents, "b") == 0) {
                        int b;

                        x.type = PT_BOOL;
                        r = sd_bus_message_read(reply, "b", &b);
                        x.u = !!b;
                } else if (strcmp(contents, "d") == 0) {
                        x.type = PT_DOUBLE;
                        r = sd_bus_message_read(reply, "d", &x.d);
                } else {
                        /* a property this client does not know: skip it */
                        r = sd_bus_message_skip(reply, contents);
                        x.name[0] = '\0';
                }
                if (r < 0)
                        goto fail;
                if (x.name[0]) {
                        v = realloc(p.v, (p.n + 1) * sizeof(*v));
                        if (!v) {
                                free(x.s);
                                r = -ENOMEM;
                                goto fail;
                        }
                        p.v = v;
                        p.v[p.n++] = x;
                } else
                        free(x.s); /* a nameless property is not kept */
                r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        props_free(&p);
        return r;
}

static int get_all(sd_bus *bus, Props *ret)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                               "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s",
                               MEMPOWERD_BUS_INTERFACE);
        if (r < 0) {
                r = bus_error_report(&error, r, "read the daemon's properties");
                sd_bus_error_free(&error);
                return -r;
        }
        r = props_read(reply, ret);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the daemon's properties: %s\n", strerror(-r));
                return -EXIT_FAILURE;
        }
        return 0;
}

/* The properties' names in the JSON: snake_case, the unit last, as
 * mempowerd --once --json names its figures. */
static const struct {
        const char *property, *key;
} json_names[] = {
        { "Version", "version" },
        { "State", "state" },
        { "DryRun", "dry_run" },
        { "BlockSizeBytes", "block_size_bytes" },
        { "BlocksTotal", "blocks" },
        { "BlocksOnline", "online_blocks" },
        { "BlocksOffline", "offline_blocks" },
        { "BytesOffline", "offline_bytes" },
        { "BytesOfflinedByDaemon", "offlined_by_daemon_bytes" },
        { "PagesMigrated", "migrated_pages" },
        { "EvacuationsStarted", "evacuations_started" },
        { "EvacuationsSucceeded", "evacuations_succeeded" },
        { "EvacuationsFailed", "evacuations_failed" },
        { "EvacuationsAborted", "evacuations_aborted" },
        { "EvacuationsHandshake", "evacuations_handshake" },
        { "LastError", "last_error" },
        { "ReserveBytes", "reserve_bytes" },
        { "TickUSec", "tick_usec" },
        { "DomainsTotal", "domains" },
        { "DomainsOffline", "saving_domains" },
        { "WattsSavedEstimate", "saving_watts" },
        { "NetEnergyJoules", "net_energy_joules" },
        { "NetEnergySinceBootJoules", "net_energy_since_boot_joules" },
        { "MigrationEnergyJoules", "migration_energy_joules" },
        { "MigrationEnergySinceBootJoules", "migration_energy_since_boot_joules" },
        { "OfflineByteSeconds", "offline_byte_seconds" },
        { "OfflineByteSecondsSinceBoot", "offline_byte_seconds_since_boot" },
        { "DramWattsMeasured", "dram_watts_measured" },
};

static void status_json(const Props *p)
{
        bool first = true;

        printf("{");
        for (size_t k = 0; k < ELEMENTSOF(json_names); k++) {
                const Prop *x = props_get(p, json_names[k].property);

                if (!x)
                        continue; /* an older daemon */
                printf("%s\"%s\": ", first ? "" : ", ", json_names[k].key);
                first = false;
                if (x->type == PT_STR)
                        format_json_string(stdout, x->s ? x->s : "");
                else if (x->type == PT_BOOL)
                        printf("%s", x->u ? "true" : "false");
                else if (x->type == PT_DOUBLE && strcmp(x->name, "DramWattsMeasured") == 0 && x->d < 0)
                        printf("null"); /* not measured */
                else if (x->type == PT_DOUBLE)
                        printf("%.6f", x->d);
                else if (x->type == PT_I32)
                        printf("%" PRId64, (int64_t)x->u);
                else
                        printf("%" PRIu64, x->u);
        }
        printf("}\n");
}

static void status_text(const Props *p)
{
        char a[32], b[32], c[32];
        const char *err = props_s(p, "LastError");

        printf("     State: %s%s\n", props_s(p, "State"),
               props_u(p, "DryRun") && strcmp(props_s(p, "State"), MEMPOWERD_STATE_DRY_RUN) != 0
                       ? " (dry run)"
                       : "");
        printf("    Blocks: %" PRIu64 " online, %" PRIu64 " offline of %" PRIu64 " (%s each)\n",
               props_u(p, "BlocksOnline"), props_u(p, "BlocksOffline"), props_u(p, "BlocksTotal"),
               format_bytes(props_u(p, "BlockSizeBytes"), a, sizeof(a)));
        printf("   Offline: %s, %s of it by mempowerd\n",
               format_bytes(props_u(p, "BytesOffline"), b, sizeof(b)),
               format_bytes(props_u(p, "BytesOfflinedByDaemon"), c, sizeof(c)));
        printf("  Migrated: %" PRIu64 " pages\n", props_u(p, "PagesMigrated"));
        printf("Evacuation: %" PRIu64 " started, %" PRIu64 " succeeded, %" PRIu64
               " failed, %" PRIu64 " aborted\n",
               props_u(p, "EvacuationsStarted"), props_u(p, "EvacuationsSucceeded"),
               props_u(p, "EvacuationsFailed"), props_u(p, "EvacuationsAborted"));
        printf("   Reserve: %s free\n", format_bytes(props_u(p, "ReserveBytes"), a, sizeof(a)));
        printf("   Domains: %" PRIu64 " of %" PRIu64 " offline whole (partly offline ones save "
               "nothing)\n",
               props_u(p, "DomainsOffline"), props_u(p, "DomainsTotal"));
        printf("    Saving: %.3f W now (estimated); net %.1f J since start, %.1f J this boot "
               "(migrations cost %.1f J, %.1f J)\n",
               props_d(p, "WattsSavedEstimate"), props_d(p, "NetEnergyJoules"),
               props_d(p, "NetEnergySinceBootJoules"), props_d(p, "MigrationEnergyJoules"),
               props_d(p, "MigrationEnergySinceBootJoules"));
        printf("  Off time: %.3f GiB-hours since start, %.3f this boot\n",
               props_d(p, "OfflineByteSeconds") / (3600.0 * 1024 * 1024 * 1024),
               props_d(p, "OfflineByteSecondsSinceBoot") / (3600.0 * 1024 * 1024 * 1024));
        if (props_d(p, "DramWattsMeasured") >= 0)
                printf("      DRAM: %.2f W measured (RAPL)\n", props_d(p, "DramWattsMeasured"));
        else
                printf("      DRAM: not measured (no RAPL DRAM counter)\n");
        printf("      Tick: %.1fs\n", (double)props_u(p, "TickUSec") / 1e6);
        printf("Last error: %s\n", *err ? err : "-");
        printf("   Version: %s\n", props_s(p, "Version"));
}

static int verb_status(sd_bus *bus)
{
        Props p = { 0 };
        int r;

        r = get_all(bus, &p);
        if (r < 0)
                return -r;
        if (arg_json)
                status_json(&p);
        else
                status_text(&p);
        props_free(&p);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- blocks ---- */

/* An array of structs: each read by read_one into a new element of size
 * bytes (read_one returns 1, 0 at the end, or -errno). Strings stay the
 * reply's: keep it while the elements are used. */
static int array_read(sd_bus_message *reply, const char *element, size_t size,
                      int (*read_one)(sd_bus_message *reply, void *ret), void **ret, size_t *ret_n)
{
        _cleanup_free_ char *v = NULL;
        char sig[64];
        size_t n = 0;
        int r;

        snprintf(sig, sizeof(sig), "%s", element);
        r = sd_bus_message_enter_container(reply, 'a', sig);
        if (r < 0)
                return r;
        for (;;) {
                char *nv = realloc(v, (n + 1) * size);

                if (!nv)
                        return -ENOMEM;
                v = nv;
                memset(v + n * size, 0, size);
                r = read_one(reply, v + n * size);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                n++;
        }
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int block_read(sd_bus_message *reply, void *ret)
{
        OutBlock *b = ret;
        int counted, offlinable, owned, r;

        r = sd_bus_message_read(reply, MEMPOWERD_BLOCK_SIGNATURE, &b->index, &b->node, &b->state,
                                &b->zones, &counted, &b->pages, &b->free_pages, &b->movable_pages,
                                &b->unmovable_pages, &b->hugetlb_pages, &offlinable, &b->action,
                                &b->start_address, &b->unknown_pages, &b->nopage_pages, &owned,
                                &b->domain);
        b->counted = counted;
        b->offlinable = offlinable;
        b->owned = owned;
        return r;
}

/* The blocks of a ListBlocks() reply (strings: the reply's). */
static int blocks_read(sd_bus_message *reply, OutBlock **ret, size_t *ret_n)
{
        return array_read(reply, MEMPOWERD_BLOCK_SIGNATURE, sizeof(OutBlock), block_read,
                          (void **)ret, ret_n);
}

static void blocks_json(const OutBlock *v, size_t n, uint64_t block_size)
{
        printf("{\"block_size_bytes\": %" PRIu64 ",\n  ", block_size);
        out_blocks_json(stdout, v, n);
        printf("\n}\n");
}

static int blocks_text(OutBlock *v, size_t n, uint64_t block_size)
{
        for (size_t i = 0; i < n; i++)
                v[i].size_bytes = block_size;
        arg_out.page_size = n > 0 && v[0].pages ? block_size / v[0].pages : 4096;
        return out_blocks_print(stdout, v, n, &arg_out);
}

static int verb_blocks(sd_bus *bus)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ OutBlock *v = NULL;
        uint64_t block_size;
        size_t n = 0;
        int r;

        r = sd_bus_get_property_trivial(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                        MEMPOWERD_BUS_INTERFACE, "BlockSizeBytes", &error, 't',
                                        &block_size);
        if (r >= 0)
                r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                       MEMPOWERD_BUS_INTERFACE, "ListBlocks", &error, &reply, "");
        if (r < 0) {
                r = bus_error_report(&error, r, "list the memory blocks");
                sd_bus_error_free(&error);
                return r;
        }
        r = blocks_read(reply, &v, &n);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the block list: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++)
                v[i].size_bytes = block_size;
        if (arg_json)
                blocks_json(v, n, block_size);
        else if ((r = blocks_text(v, n, block_size)) < 0)
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- domains ---- */

static int domain_read(sd_bus_message *reply, void *ret)
{
        OutDomain *d = ret;
        int eligible, saving, r;

        r = sd_bus_message_read(reply, MEMPOWERD_DOMAIN_SIGNATURE, &d->name, &d->kind, &d->source,
                                &d->node, &d->first_block, &d->blocks, &d->online_blocks,
                                &d->offline_blocks, &d->used_bytes, &d->movable_bytes, &eligible,
                                &d->action, &d->saving_watts, &saving, &d->last_block);
        d->eligible = eligible;
        d->saving = saving;
        return r;
}

/* The domains of a ListDomains() reply (strings: the reply's). */
static int domains_read(sd_bus_message *reply, OutDomain **ret, size_t *ret_n)
{
        return array_read(reply, MEMPOWERD_DOMAIN_SIGNATURE, sizeof(OutDomain), domain_read,
                          (void **)ret, ret_n);
}

static int verb_domains(sd_bus *bus)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ OutDomain *v = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH, MEMPOWERD_BUS_INTERFACE,
                               "ListDomains", &error, &reply, "");
        if (r < 0) {
                r = bus_error_report(&error, r, "list the power domains");
                sd_bus_error_free(&error);
                return r;
        }
        r = domains_read(reply, &v, &n);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the domain list: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (arg_json) {
                printf("{");
                out_domains_json(stdout, v, n);
                printf("\n}\n");
        } else if ((r = out_domains_print(stdout, v, n, &arg_out)) < 0)
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- map ---- */

/* The map's width: the terminal's, $COLUMNS, or 80. Colour only on a
 * terminal, and not with $NO_COLOR set (https://no-color.org) or TERM=dumb. */
static void map_terminal(BlockMapOptions *o)
{
        struct winsize ws = { 0 };
        const char *e = getenv("COLUMNS"), *nc = getenv("NO_COLOR"), *term = getenv("TERM");
        bool tty = isatty(STDOUT_FILENO) > 0;

        o->width = 80;
        if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                o->width = ws.ws_col;
        else if (e && atoi(e) > 0)
                o->width = (size_t)atoi(e);
        o->color = tty && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
}

static int verb_map(sd_bus *bus)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *breply = NULL, *dreply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ OutBlock *v = NULL;
        _cleanup_free_ OutDomain *d = NULL;
        _cleanup_free_ BlockMapBlock *cells = NULL;
        _cleanup_free_ BlockMapDomain *doms = NULL;
        _cleanup_free_ char *text = NULL;
        BlockMapOptions o = { .legend = arg_out.legend };
        size_t n = 0, n_d = 0;
        int r;

        if (arg_json) {
                fprintf(stderr, "map is for people; blocks --json and domains --json hold the "
                                "same for scripts.\n");
                return EXIT_USAGE;
        }
        r = sd_bus_get_property_trivial(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                        MEMPOWERD_BUS_INTERFACE, "BlockSizeBytes", &error, 't',
                                        &o.block_size);
        if (r >= 0)
                r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                       MEMPOWERD_BUS_INTERFACE, "ListBlocks", &error, &breply, "");
        if (r >= 0)
                r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                                       MEMPOWERD_BUS_INTERFACE, "ListDomains", &error, &dreply, "");
        if (r < 0) {
                r = bus_error_report(&error, r, "read the memory blocks");
                sd_bus_error_free(&error);
                return r;
        }
        r = blocks_read(breply, &v, &n);
        if (r >= 0)
                r = domains_read(dreply, &d, &n_d);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the daemon's lists: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        cells = calloc(n ? n : 1, sizeof(*cells));
        doms = calloc(n_d ? n_d : 1, sizeof(*doms));
        if (!cells || !doms) {
                fprintf(stderr, "Out of memory\n");
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n_d; i++)
                doms[i] = (BlockMapDomain){ .name = d[i].name, .kind = d[i].kind };
        for (size_t i = 0; i < n; i++) {
                const OutBlock *b = &v[i];
                uint64_t used = b->movable_pages + b->unmovable_pages + b->hugetlb_pages +
                                b->unknown_pages;

                cells[i] = (BlockMapBlock){
                        .index = b->index,
                        .node = b->node,
                        .used = -1,
                        .domain = b->domain,
                        .owned = b->owned,
                };
                if (blockmap_state_from_words(b->state, b->action, &cells[i].state) < 0)
                        cells[i].state = BLOCKMAP_ONLINE; /* a state this client does not know */
                if (b->counted && b->pages > 0 && cells[i].state == BLOCKMAP_ONLINE)
                        cells[i].used = used >= b->pages ? 1 : (double)used / (double)b->pages;
        }
        map_terminal(&o);
        r = blockmap_render(cells, n, doms, n_d, &o, &text);
        if (r < 0) {
                fprintf(stderr, "Failed to draw the map: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        fputs(text, stdout);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- explain ---- */

/* "32" or "memory32" */
static int parse_block(const char *s, uint32_t *ret)
{
        char *end;
        unsigned long v;

        if (strncmp(s, "memory", 6) == 0)
                s += 6;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

typedef struct Range {
        uint64_t start_pfn, pages, flags;
        const char *class, *names; /* the reply's */
} Range;

typedef struct Holder {
        uint32_t pid, uid;
        const char *comm, *unit, *cgroup; /* the reply's */
        uint64_t bytes;
} Holder;

typedef struct Explained {
        Props info;
        Range *ranges;
        size_t n_ranges;
        Holder *holders;
        size_t n_holders;
} Explained;

static void explained_free(Explained *x)
{
        props_free(&x->info);
        free(x->ranges);
        free(x->holders);
        *x = (Explained){ 0 };
}

static int range_read(sd_bus_message *reply, void *ret)
{
        Range *v = ret;

        return sd_bus_message_read(reply, MEMPOWERD_EXPLAIN_RANGE_SIGNATURE, &v->start_pfn,
                                   &v->pages, &v->flags, &v->class, &v->names);
}

static int holder_read(sd_bus_message *reply, void *ret)
{
        Holder *v = ret;

        return sd_bus_message_read(reply, MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE, &v->pid, &v->uid,
                                   &v->comm, &v->unit, &v->cgroup, &v->bytes);
}

/* An ExplainBlock() reply; strings stay the reply's. */
static int explained_read(sd_bus_message *reply, Explained *ret)
{
        Explained x = { 0 };
        int r;

        r = props_read(reply, &x.info);
        if (r >= 0)
                r = array_read(reply, MEMPOWERD_EXPLAIN_RANGE_SIGNATURE, sizeof(Range), range_read,
                               (void **)&x.ranges, &x.n_ranges);
        if (r >= 0)
                r = array_read(reply, MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE, sizeof(Holder),
                               holder_read, (void **)&x.holders, &x.n_holders);
        if (r < 0) {
                explained_free(&x);
                return r;
        }
        *ret = x;
        return 0;
}

static void explain_json(const Explained *x)
{
        const Props *p = &x->info;
        uint64_t ps = props_u(p, "PageSize");

        printf("{\"block\": {\"index\": %" PRIu64 ", \"state\": ", props_u(p, "Index"));
        format_json_string(stdout, props_s(p, "State"));
        printf(", \"node\": %" PRId64 ", \"zones\": ", (int64_t)(int32_t)props_u(p, "Node"));
        format_json_string(stdout, props_s(p, "Zones"));
        printf(", \"domain\": ");
        format_json_string(stdout, props_s(p, "Domain"));
        printf(", \"action\": ");
        format_json_string(stdout, props_s(p, "Action"));
        printf(", \"start_address\": %" PRIu64 ", \"size_bytes\": %" PRIu64
               ", \"counted\": %s, \"free_bytes\": %" PRIu64 ", \"movable_bytes\": %" PRIu64
               ", \"unmovable_bytes\": %" PRIu64 ", \"unknown_bytes\": %" PRIu64
               ", \"hugetlb_bytes\": %" PRIu64 ", \"owned\": %s, \"held\": %s"
               ", \"failed_attempts\": %" PRIu64 ", \"next_try_usec\": %" PRIu64
               ", \"last_failure\": ",
               props_u(p, "StartAddress"), props_u(p, "SizeBytes"),
               props_u(p, "Counted") ? "true" : "false", props_u(p, "FreeBytes"),
               props_u(p, "MovableBytes"), props_u(p, "UnmovableBytes"),
               props_u(p, "UnknownBytes"), props_u(p, "HugetlbBytes"),
               props_u(p, "Owned") ? "true" : "false", props_u(p, "Held") ? "true" : "false",
               props_u(p, "FailedAttempts"), props_u(p, "NextTryUSec"));
        format_json_string(stdout, props_s(p, "LastFailure"));
        printf(", \"last_failure_ago_usec\": %" PRIu64 "}", props_u(p, "LastFailureAgoUSec"));
        printf(",\n \"looked\": %s, \"look_error\": ", props_u(p, "Looked") ? "true" : "false");
        format_json_string(stdout, props_s(p, "LookError"));
        printf(", \"processes_scanned\": %" PRIu64 ", \"processes_denied\": %" PRIu64,
               props_u(p, "ProcessesScanned"), props_u(p, "ProcessesDenied"));
        printf(",\n \"ranges\": [");
        for (size_t i = 0; i < x->n_ranges; i++) {
                const Range *r = &x->ranges[i];

                printf("%s\n  {\"start_pfn\": %" PRIu64 ", \"pages\": %" PRIu64
                       ", \"bytes\": %" PRIu64 ", \"class\": ",
                       i ? "," : "", r->start_pfn, r->pages, r->pages * ps);
                format_json_string(stdout, r->class);
                printf(", \"flags\": ");
                format_json_string(stdout, r->names);
                printf("}");
        }
        printf("],\n \"ranges_total\": {\"ranges\": %" PRIu64 ", \"unmovable_bytes\": %" PRIu64
               ", \"unknown_bytes\": %" PRIu64 ", \"hugetlb_bytes\": %" PRIu64 "}",
               props_u(p, "RangesTotal"), props_u(p, "UnmovableBytes"), props_u(p, "UnknownBytes"),
               props_u(p, "HugetlbBytes"));
        printf(",\n \"holders\": [");
        for (size_t i = 0; i < x->n_holders; i++) {
                const Holder *h = &x->holders[i];

                printf("%s\n  {\"pid\": %" PRIu32 ", \"uid\": %" PRIu32 ", \"command\": ",
                       i ? "," : "", h->pid, h->uid);
                format_json_string(stdout, h->comm);
                printf(", \"unit\": ");
                format_json_string(stdout, h->unit);
                printf(", \"cgroup\": ");
                format_json_string(stdout, h->cgroup);
                printf(", \"bytes\": %" PRIu64 "}", h->bytes);
        }
        printf("],\n \"holders_total\": {\"processes\": %" PRIu64 ", \"bytes\": %" PRIu64
               ", \"own_processes_only\": %s}}\n",
               props_u(p, "HoldersTotal"), props_u(p, "HoldersBytes"),
               props_u(p, "OwnProcessesOnly") ? "true" : "false");
}

static const char *ago(uint64_t usec, char *buf, size_t size)
{
        uint64_t s = usec / USEC_PER_SEC;

        if (s < 120)
                snprintf(buf, size, "%" PRIu64 " s", s);
        else if (s < 7200)
                snprintf(buf, size, "%" PRIu64 " min", s / 60);
        else
                snprintf(buf, size, "%" PRIu64 " h", s / 3600);
        return buf;
}

static void explain_text(const Explained *x)
{
        const Props *p = &x->info;
        uint64_t ps = props_u(p, "PageSize"), shown = 0;
        char a[32], b[32], c[32], d[32], e[32], f[32];
        const char *domain = props_s(p, "Domain"), *err = props_s(p, "LookError");

        printf("memory%" PRIu64 ": %s, zone %s, node %" PRId32 "%s%s, 0x%" PRIx64 " (%s)%s\n",
               props_u(p, "Index"), props_s(p, "State"), props_s(p, "Zones"),
               (int32_t)props_u(p, "Node"), *domain ? ", power domain " : "", domain,
               props_u(p, "StartAddress"), format_bytes(props_u(p, "SizeBytes"), a, sizeof(a)),
               props_u(p, "Owned") ? ", offlined by mempowerd" : "");
        if (props_u(p, "Counted"))
                printf("   Pages: %s free, %s movable, %s unmovable, %s unknown, %s hugetlb%s\n",
                       format_bytes(props_u(p, "FreeBytes"), a, sizeof(a)),
                       format_bytes(props_u(p, "MovableBytes"), b, sizeof(b)),
                       format_bytes(props_u(p, "UnmovableBytes"), c, sizeof(c)),
                       format_bytes(props_u(p, "UnknownBytes"), d, sizeof(d)),
                       format_bytes(props_u(p, "HugetlbBytes"), e, sizeof(e)),
                       props_u(p, "Looked") ? " (counted now)" : "");
        printf("  Action: %s\n", props_s(p, "Action"));
        if (props_u(p, "FailedAttempts") > 0)
                printf(" Backoff: %" PRIu64 " failed attempt%s, next try %s%s\n",
                       props_u(p, "FailedAttempts"), props_u(p, "FailedAttempts") == 1 ? "" : "s",
                       props_u(p, "NextTryUSec") ? "in " : "any time",
                       props_u(p, "NextTryUSec") ? ago(props_u(p, "NextTryUSec"), f, sizeof(f)) : "");
        if (props_u(p, "Held"))
                printf("    Held: the kernel refused it (unmovable pages); not tried again "
                       "until its usage changes\n");
        if (*props_s(p, "LastFailure"))
                printf(" Failure: %s, %s ago\n", props_s(p, "LastFailure"),
                       ago(props_u(p, "LastFailureAgoUSec"), f, sizeof(f)));
        if (!props_u(p, "Looked")) {
                if (*err)
                        printf("\nWhat holds it could not be looked at: %s\n", err);
                else
                        printf("\nAn offline block holds no pages.\n");
                return;
        }
        if (*err)
                printf("    Note: %s\n", err);

        if (x->n_ranges == 0 && props_u(p, "RangesTotal") > 0)
                printf("\nPages no migration moves: %" PRIu64 " range%s (only root is shown "
                       "where: physical addresses)\n",
                       props_u(p, "RangesTotal"), props_u(p, "RangesTotal") == 1 ? "" : "s");
        else if (x->n_ranges > 0) {
                printf("\nPages no migration moves (%" PRIu64 " range%s", props_u(p, "RangesTotal"),
                       props_u(p, "RangesTotal") == 1 ? "" : "s");
                if (props_u(p, "RangesTotal") > x->n_ranges)
                        printf(", the first %zu shown", x->n_ranges);
                printf("):\n");
                if (arg_out.legend)
                        printf("  %-31s %8s %9s  %-9s %s\n", "PFNS", "PAGES", "SIZE", "CLASS",
                               "FLAGS");
                for (size_t i = 0; i < x->n_ranges; i++) {
                        const Range *r = &x->ranges[i];
                        char pfns[40];

                        snprintf(pfns, sizeof(pfns), "0x%" PRIx64 "-0x%" PRIx64, r->start_pfn,
                                 r->start_pfn + r->pages - 1);
                        printf("  %-31s %8" PRIu64 " %9s  %-9s %s\n", pfns, r->pages,
                               format_bytes(r->pages * ps, a, sizeof(a)), r->class,
                               *r->names ? r->names : "(no flags)");
                }
        } else
                printf("\nNo unmovable, unknown or hugetlb page.\n");

        if (x->n_holders > 0) {
                printf("\nProcesses that map its pages (%zu%s):\n", x->n_holders,
                       props_u(p, "HoldersTotal") > x->n_holders ? ", the largest" : "");
                if (arg_out.legend)
                        printf("  %7s %6s %-16s %-36s %9s\n", "PID", "UID", "COMMAND", "UNIT",
                               "SIZE");
                for (size_t i = 0; i < x->n_holders; i++) {
                        const Holder *h = &x->holders[i];
                        char comm[64], unit[256];

                        /* the names are other users' to choose: printable only */
                        snprintf(comm, sizeof(comm), "%s", *h->comm ? h->comm : "?");
                        snprintf(unit, sizeof(unit), "%s",
                                 *h->unit ? h->unit : *h->cgroup ? h->cgroup : "-");
                        shown += h->bytes;
                        printf("  %7" PRIu32 " %6" PRId32 " %-16s %-36s %9s\n", h->pid,
                               (int32_t)h->uid, format_sanitize(comm), format_sanitize(unit),
                               format_bytes(h->bytes, a, sizeof(a)));
                }
                printf("  %s mapped by these processes (a page two of them map counts twice)\n",
                       format_bytes(shown, a, sizeof(a)));
        } else if (!props_u(p, "OwnProcessesOnly"))
                printf("\nNo process maps its pages (%" PRIu64 " looked at)%s\n",
                       props_u(p, "ProcessesScanned"),
                       props_u(p, "MovableBytes") ? ": its movable pages are page cache or kernel "
                                                   "buffers, which the offline migrates"
                                                 : "");
        else
                printf("\nNone of your processes maps its pages.\n");
        if (props_u(p, "OwnProcessesOnly"))
                printf("Only your own processes were looked at; root is shown every "
                       "process's.\n");
        if (props_u(p, "ProcessesDenied") > 0)
                printf("%" PRIu64 " processes could not be read.\n", props_u(p, "ProcessesDenied"));
}

static int verb_explain(sd_bus *bus, int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        Explained x = { 0 };
        uint32_t index;
        int r;

        if (parse_block(argv[0], &index) < 0) {
                fprintf(stderr, "Not a memory block: '%s' (a number, or memoryN).\n", argv[0]);
                return EXIT_USAGE;
        }
        /* the daemon walks every process's pagemap: seconds on a big machine */
        r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH, MEMPOWERD_BUS_INTERFACE,
                               "ExplainBlock", &error, &reply, "u", index);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, MEMPOWERD_ERROR_NO_SUCH_BLOCK)) {
                        fprintf(stderr, "%s\n", error.message);
                        sd_bus_error_free(&error);
                        return EXIT_NOT_FOUND;
                }
                r = bus_error_report(&error, r, "explain the block");
                sd_bus_error_free(&error);
                return r;
        }
        r = explained_read(reply, &x);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the ExplainBlock() reply: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (arg_json)
                explain_json(&x);
        else
                explain_text(&x);
        explained_free(&x);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- control ---- */

static int call_simple(sd_bus *bus, const char *method, const char *what,
                       sd_bus_message **ret_reply)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, MEMPOWERD_BUS_NAME, MEMPOWERD_BUS_PATH,
                               MEMPOWERD_BUS_INTERFACE, method, &error, ret_reply, "");
        if (r < 0) {
                r = bus_error_report(&error, r, what);
                sd_bus_error_free(&error);
                return r;
        }
        return EXIT_SUCCESS;
}

static int verb_pause(sd_bus *bus)
{
        return call_simple(bus, "Pause", "pause", NULL);
}

static int verb_resume(sd_bus *bus)
{
        return call_simple(bus, "Resume", "resume", NULL);
}

static int verb_rescan(sd_bus *bus)
{
        return call_simple(bus, "Rescan", "rescan", NULL);
}

static int verb_reload(sd_bus *bus)
{
        return call_simple(bus, "Reload", "reload the configuration", NULL);
}

static int verb_online_all(sd_bus *bus)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t n = 0, failed = 0;
        int r;

        r = call_simple(bus, "OnlineAll", "online every block", &reply);
        if (r != EXIT_SUCCESS)
                return r;
        r = sd_bus_message_read(reply, "uu", &n, &failed);
        if (r < 0) {
                fprintf(stderr, "Failed to parse the OnlineAll() reply: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        printf("%" PRIu32 " block%s onlined\n", n, n == 1 ? "" : "s");
        if (failed > 0) {
                /* partial success, as chmem(8) reports it */
                fprintf(stderr, "%" PRIu32 " block%s could not be onlined (see mempowerd's log)\n",
                        failed, failed == 1 ? "" : "s");
                return EXIT_PARTIAL;
        }
        return EXIT_SUCCESS;
}

static const struct {
        const char *name;
        int (*run)(sd_bus *bus);
        int (*run_args)(sd_bus *bus, int argc, char **argv); /* with n_args arguments */
        int n_args;
} verbs[] = {
        { "status", .run = verb_status },
        { "blocks", .run = verb_blocks },
        { "domains", .run = verb_domains },
        { "map", .run = verb_map },
        { "explain", .run_args = verb_explain, .n_args = 1 },
        { "pause", .run = verb_pause },
        { "resume", .run = verb_resume },
        { "rescan", .run = verb_rescan },
        { "online-all", .run = verb_online_all },
        { "reload", .run = verb_reload },
};

int main(int argc, char *argv[])
{
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_LEGEND, ARG_BYTES, ARG_HELP_COLUMNS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "all", no_argument, NULL, 'a' },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "output", required_argument, NULL, 'o' },
                { "bytes", no_argument, NULL, ARG_BYTES },
                { "help-columns", no_argument, NULL, ARG_HELP_COLUMNS },
                {},
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *verb = "status";
        int c, r;

        while ((c = getopt_long(argc, argv, "hao:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("mempowerctl %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case 'a':
                        arg_out.all = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_out.legend = false;
                        break;
                case 'o':
                        arg_out.columns = optarg;
                        break;
                case ARG_BYTES:
                        arg_out.exact = true;
                        break;
                case ARG_HELP_COLUMNS:
                        out_columns_help(stdout);
                        return EXIT_SUCCESS;
                default:
                        fprintf(stderr, "Try 'mempowerctl --help'.\n");
                        return EXIT_USAGE;
                }
        }
        if (optind < argc)
                verb = argv[optind++];

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (strcmp(verb, verbs[i].name) != 0)
                        continue;
                if (argc - optind < verbs[i].n_args) {
                        fprintf(stderr, "'%s' needs an argument. Try 'mempowerctl --help'.\n",
                                verb);
                        return EXIT_USAGE;
                }
                if (argc - optind > verbs[i].n_args) {
                        fprintf(stderr, "Unexpected argument '%s'. Try 'mempowerctl --help'.\n",
                                argv[optind + verbs[i].n_args]);
                        return EXIT_USAGE;
                }
                r = sd_bus_open_system(&bus);
                if (r < 0) {
                        fprintf(stderr, "Failed to connect to the system bus: %s\n",
                                strerror(-r));
                        return r == -ENOENT || r == -ECONNREFUSED ? EXIT_NOT_RUNNING
                                                                  : EXIT_FAILURE;
                }
                if (verbs[i].run_args)
                        return verbs[i].run_args(bus, argc - optind, argv + optind);
                return verbs[i].run(bus);
        }
        fprintf(stderr, "Unknown command '%s'. Try 'mempowerctl --help'.\n", verb);
        return EXIT_USAGE;
}
