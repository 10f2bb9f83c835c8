/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The org.mempowerd1.Manager D-Bus interface: the vtable, its handlers, the
 * signals, and PropertiesChanged at the end of each tick. The handlers do not
 * look at the caller: the bus policy (org.mempowerd1.conf) lets only root call
 * the control methods. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "bus-names.h"
#include "config-build.h"
#include "log.h"
#include "manager-bus.h"
#include "planner.h"
#include "util.h"

/* Every property that can change, as last published. */
typedef struct BusSnapshot {
        const char *state;
        uint32_t blocks_total;
        uint32_t blocks_online;
        uint32_t blocks_offline;
        uint64_t bytes_offline;
        uint64_t bytes_offlined_by_daemon;
        uint64_t pages_migrated;
        uint64_t evacuations_started;
        uint64_t evacuations_succeeded;
        uint64_t evacuations_failed;
        uint64_t evacuations_aborted;
        uint64_t evacuations_handshake;
        char last_error[sizeof(((Manager *)NULL)->last_error)];
        uint64_t reserve_bytes;
        uint64_t tick_usec;
        int dry_run;
        uint32_t domains_total;
        uint32_t domains_offline;
        double watts_saved;
        double net_joules, net_joules_boot;
        double spent_joules, spent_joules_boot;
        double offline_byte_seconds, offline_byte_seconds_boot;
        double dram_watts;
} BusSnapshot;

typedef struct ManagerBusState {
        BusSnapshot last;
        sd_bus_slot *disconnect_slot;
} ManagerBusState;

/* A property's place in BusSnapshot; strings are stored inline (char[]) or as
 * a pointer (const char *). */
typedef enum PropKind {
        PROP_U32,
        PROP_U64,
        PROP_BOOL,
        PROP_DOUBLE,
        PROP_STR_PTR,
        PROP_STR_ARRAY,
} PropKind;

typedef struct BusProperty {
        const char *name;
        PropKind kind;
        size_t offset;
} BusProperty;

static const BusProperty bus_properties[] = {
        { "State", PROP_STR_PTR, offsetof(BusSnapshot, state) },
        { "BlocksTotal", PROP_U32, offsetof(BusSnapshot, blocks_total) },
        { "BlocksOnline", PROP_U32, offsetof(BusSnapshot, blocks_online) },
        { "BlocksOffline", PROP_U32, offsetof(BusSnapshot, blocks_offline) },
        { "BytesOffline", PROP_U64, offsetof(BusSnapshot, bytes_offline) },
        { "BytesOfflinedByDaemon", PROP_U64, offsetof(BusSnapshot, bytes_offlined_by_daemon) },
        { "PagesMigrated", PROP_U64, offsetof(BusSnapshot, pages_migrated) },
        { "EvacuationsStarted", PROP_U64, offsetof(BusSnapshot, evacuations_started) },
        { "EvacuationsSucceeded", PROP_U64, offsetof(BusSnapshot, evacuations_succeeded) },
        { "EvacuationsFailed", PROP_U64, offsetof(BusSnapshot, evacuations_failed) },
        { "EvacuationsAborted", PROP_U64, offsetof(BusSnapshot, evacuations_aborted) },
        { "EvacuationsHandshake", PROP_U64, offsetof(BusSnapshot, evacuations_handshake) },
        { "LastError", PROP_STR_ARRAY, offsetof(BusSnapshot, last_error) },
        { "ReserveBytes", PROP_U64, offsetof(BusSnapshot, reserve_bytes) },
        { "TickUSec", PROP_U64, offsetof(BusSnapshot, tick_usec) },
        { "DryRun", PROP_BOOL, offsetof(BusSnapshot, dry_run) },
        { "DomainsTotal", PROP_U32, offsetof(BusSnapshot, domains_total) },
        { "DomainsOffline", PROP_U32, offsetof(BusSnapshot, domains_offline) },
        { "WattsSavedEstimate", PROP_DOUBLE, offsetof(BusSnapshot, watts_saved) },
        { "NetEnergyJoules", PROP_DOUBLE, offsetof(BusSnapshot, net_joules) },
        { "NetEnergySinceBootJoules", PROP_DOUBLE, offsetof(BusSnapshot, net_joules_boot) },
        { "MigrationEnergyJoules", PROP_DOUBLE, offsetof(BusSnapshot, spent_joules) },
        { "MigrationEnergySinceBootJoules", PROP_DOUBLE, offsetof(BusSnapshot, spent_joules_boot) },
        { "OfflineByteSeconds", PROP_DOUBLE, offsetof(BusSnapshot, offline_byte_seconds) },
        { "OfflineByteSecondsSinceBoot", PROP_DOUBLE, offsetof(BusSnapshot, offline_byte_seconds_boot) },
        { "DramWattsMeasured", PROP_DOUBLE, offsetof(BusSnapshot, dram_watts) },
};

static const char *manager_state_string(const Manager *m)
{
        if (m->paused)
                return MEMPOWERD_STATE_PAUSED;
        if (manager_dry_run(m))
                return MEMPOWERD_STATE_DRY_RUN;
        return MEMPOWERD_STATE_RUNNING;
}

static void bus_snapshot_take(const Manager *m, BusSnapshot *ret)
{
        const BlockTable *t = &m->table;
        uint32_t offline = 0;

        memset(ret, 0, sizeof(*ret));
        for (size_t i = 0; i < t->n; i++)
                if (t->blocks[i].state == BLOCK_OFFLINE && !t->blocks[i].track.modelled)
                        offline++;
        ret->state = manager_state_string(m);
        ret->blocks_total = (uint32_t)t->n;
        ret->blocks_offline = offline;
        ret->blocks_online = (uint32_t)t->n - offline;
        ret->bytes_offline = (uint64_t)offline * t->block_size_bytes;
        ret->bytes_offlined_by_daemon = manager_bytes_offlined(m);
        ret->pages_migrated = m->counters.pages_migrated;
        ret->evacuations_started = m->counters.evacuations_started;
        ret->evacuations_succeeded = m->counters.evacuations_succeeded;
        ret->evacuations_failed = m->counters.evacuations_failed;
        ret->evacuations_aborted = m->counters.evacuations_aborted;
        ret->evacuations_handshake = m->counters.evacuations_handshake;
        snprintf(ret->last_error, sizeof(ret->last_error), "%s", m->last_error);
        ret->reserve_bytes = config_reserve_pages(&m->config, m->meminfo.total_kb, m->page_size) *
                             m->page_size;
        ret->tick_usec = m->config.tick_usec;
        ret->dry_run = manager_dry_run(m);
        {
                PowerFigures pf;

                power_figures(m, &pf);
                ret->domains_total = (uint32_t)pf.domains_total;
                ret->domains_offline = (uint32_t)pf.domains_offline;
                ret->watts_saved = pf.watts_saved;
                ret->net_joules = pf.net_joules;
                ret->net_joules_boot = pf.net_joules_boot;
                ret->spent_joules = pf.spent_joules;
                ret->spent_joules_boot = pf.spent_joules_boot;
                ret->offline_byte_seconds = pf.offline_byte_seconds;
                ret->offline_byte_seconds_boot = pf.offline_byte_seconds_boot;
                ret->dram_watts = pf.dram_watts;
        }
}

static const BusProperty *bus_property_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(bus_properties); i++)
                if (strcmp(bus_properties[i].name, name) == 0)
                        return &bus_properties[i];
        return NULL;
}

static int bus_property_append(sd_bus_message *reply, const BusProperty *p, const BusSnapshot *s)
{
        const char *field = (const char *)s + p->offset;

        switch (p->kind) {
        case PROP_U32:
                return sd_bus_message_append_basic(reply, 'u', field);
        case PROP_U64:
                return sd_bus_message_append_basic(reply, 't', field);
        case PROP_BOOL:
                return sd_bus_message_append_basic(reply, 'b', field);
        case PROP_DOUBLE:
                return sd_bus_message_append_basic(reply, 'd', field);
        case PROP_STR_PTR:
                return sd_bus_message_append_basic(reply, 's', *(const char *const *)field);
        case PROP_STR_ARRAY:
                return sd_bus_message_append_basic(reply, 's', field);
        }
        return -EINVAL;
}

static bool bus_property_equal(const BusProperty *p, const BusSnapshot *a, const BusSnapshot *b)
{
        const char *fa = (const char *)a + p->offset, *fb = (const char *)b + p->offset;

        switch (p->kind) {
        case PROP_U32:
                return memcmp(fa, fb, sizeof(uint32_t)) == 0;
        case PROP_U64:
                return memcmp(fa, fb, sizeof(uint64_t)) == 0;
        case PROP_BOOL:
                return memcmp(fa, fb, sizeof(int)) == 0;
        case PROP_DOUBLE:
                return memcmp(fa, fb, sizeof(double)) == 0;
        case PROP_STR_PTR:
                return strcmp(*(const char *const *)fa, *(const char *const *)fb) == 0;
        case PROP_STR_ARRAY:
                return strcmp(fa, fb) == 0;
        }
        return false;
}

static int property_get(sd_bus *bus, const char *path, const char *interface,
                        const char *property, sd_bus_message *reply, void *userdata,
                        sd_bus_error *error)
{
        const BusProperty *p = bus_property_find(property);
        BusSnapshot s;

        if (!p)
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY,
                                         "Unknown property %s", property);
        bus_snapshot_take(userdata, &s);
        return bus_property_append(reply, p, &s);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_block_size(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error)
{
        const Manager *m = userdata;

        return sd_bus_message_append(reply, "t", m->table.block_size_bytes);
}

static int method_list_blocks(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ PlanVerdict *verdicts = NULL;
        const Manager *m = userdata;
        int r;

        verdicts = calloc(m->table.n ? m->table.n : 1, sizeof(*verdicts));
        if (!verdicts)
                return -ENOMEM;
        r = power_explain(m, verdicts, NULL, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', MEMPOWERD_BLOCK_SIGNATURE);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];
                /* the kernel's state; a dry run's model shows in the intent */
                const char *intent = b->track.modelled ? "dry-run-offline"
                                                       : plan_verdict_word(verdicts[i], b),
                           *state = block_state_to_string(b->track.modelled ? BLOCK_ONLINE : b->state);
                PageUsage u = b->usage_valid && !b->track.modelled ? b->usage : (PageUsage){ 0 };
                bool offlinable = verdicts[i] == VERDICT_OK;
                char zones[64];

                r = sd_bus_message_append(reply, MEMPOWERD_BLOCK_SIGNATURE, b->index,
                                          (int32_t)b->node, state ? state : "unknown",
                                          zones_to_string(b->zones, zones, sizeof(zones)),
                                          (int)(b->usage_valid && !b->track.modelled),
                                          m->table.pages_per_block, u.free,
                                          u.movable, u.unmovable, u.hugetlb, (int)offlinable,
                                          intent, b->start_pfn * m->page_size, u.unknown, u.nopage,
                                          (int)(b->track.owned && !b->track.modelled),
                                          domain_name_of(&m->power.domains, b->index));
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_domains(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ PlanVerdict *verdicts = NULL, *domains = NULL;
        const Manager *m = userdata;
        const DomainTable *dt = &m->power.domains;
        int r;

        verdicts = calloc(m->table.n ? m->table.n : 1, sizeof(*verdicts));
        domains = calloc(dt->n ? dt->n : 1, sizeof(*domains));
        if (!verdicts || !domains)
                return -ENOMEM;
        r = power_explain(m, verdicts, domains, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', MEMPOWERD_DOMAIN_SIGNATURE);
        if (r < 0)
                return r;
        for (size_t i = 0; i < dt->n; i++) {
                DomainRow row;

                power_domain_row(m, i, domains[i], &row);
                r = sd_bus_message_append(reply, MEMPOWERD_DOMAIN_SIGNATURE, row.d->name,
                                          domain_kind_to_string(row.d->kind), row.d->source,
                                          (int32_t)row.d->node, dt->members[row.d->first],
                                          (uint32_t)row.d->n_blocks, (uint32_t)row.s.online,
                                          (uint32_t)row.s.offline, row.used_bytes,
                                          row.movable_bytes, (int)row.eligible, row.word, row.watts,
                                          (int)row.saving,
                                          dt->members[row.d->first + row.d->n_blocks - 1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- ExplainBlock ---- */

typedef struct ExplainCall {
        sd_bus_message *msg;
        uid_t caller; /* effective uid of the caller */
} ExplainCall;

static int dict_append(sd_bus_message *m, const char *key, const char *type, ...)
{
        va_list ap;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, 's', key);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', type);
        if (r < 0)
                return r;
        va_start(ap, type);
        r = sd_bus_message_appendv(m, type, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* The answer: the block as the daemon knows it, and e (NULL: not looked
 * at). For a caller other than root e holds only its own processes, and
 * the ranges of unmovable pages are not sent: physical addresses and
 * kernel page flags are root's, as /proc/kpageflags is. */
static int explain_reply(Manager *m, sd_bus_message *msg, uid_t caller, uint32_t index,
                         const Explanation *e, const char *look_error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ PlanVerdict *verdicts = NULL;
        const MemBlock *b = blocktable_find(&m->table, index);
        const PageUsage *u;
        uint64_t ps = m->page_size, now = now_usec(), holders_bytes = 0;
        char zones[64];
        size_t pos;
        int r;

        if (!b)
                return sd_bus_reply_method_errorf(msg, MEMPOWERD_ERROR_NO_SUCH_BLOCK,
                                                  "memory%" PRIu32 " is gone", index);
        pos = (size_t)(b - m->table.blocks);
        verdicts = calloc(m->table.n ? m->table.n : 1, sizeof(*verdicts));
        if (!verdicts)
                return -ENOMEM;
        r = power_explain(m, verdicts, NULL, NULL);
        if (r < 0)
                return r;
        u = e ? &e->usage : &b->usage;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        if (e)
                holders_bytes = e->holders_pages * ps;
#define APPEND(key, type, ...)                                                                     \
        do {                                                                                       \
                r = dict_append(reply, key, type, __VA_ARGS__);                                    \
                if (r < 0)                                                                         \
                        return r;                                                                  \
        } while (0)
        APPEND("Index", "u", index);
        APPEND("State", "s", block_state_to_string(b->state) ?: "unknown");
        APPEND("Node", "i", (int32_t)b->node);
        APPEND("Zones", "s", zones_to_string(b->zones, zones, sizeof(zones)));
        APPEND("Domain", "s", domain_name_of(&m->power.domains, index));
        APPEND("Action", "s", b->track.modelled ? "dry-run-offline"
                                                : plan_verdict_word(verdicts[pos], b));
        APPEND("PageSize", "t", ps);
        APPEND("SizeBytes", "t", m->table.block_size_bytes);
        APPEND("StartAddress", "t", b->start_pfn * ps);
        APPEND("Counted", "b", (int)(e || b->usage_valid));
        APPEND("FreeBytes", "t", u->free * ps);
        APPEND("MovableBytes", "t", u->movable * ps);
        APPEND("UnmovableBytes", "t", u->unmovable * ps);
        APPEND("UnknownBytes", "t", u->unknown * ps);
        APPEND("HugetlbBytes", "t", u->hugetlb * ps);
        APPEND("Owned", "b", (int)b->track.owned);
        APPEND("Held", "b", (int)b->track.backoff.held);
        APPEND("FailedAttempts", "u", (uint32_t)b->track.backoff.attempts);
        APPEND("NextTryUSec", "t", u64_sub_sat(b->track.backoff.next_try_usec, now));
        APPEND("LastFailure", "s", b->track.last_failure);
        APPEND("LastFailureAgoUSec", "t",
               b->track.last_failure_usec ? u64_sub_sat(now, b->track.last_failure_usec) : 0);
        APPEND("Looked", "b", (int)!!e);
        APPEND("LookError", "s", look_error ? look_error : "");
        APPEND("ProcessesScanned", "t", e ? e->processes_scanned : 0);
        APPEND("ProcessesDenied", "t", e ? e->processes_denied : 0);
        APPEND("RangesTotal", "u", (uint32_t)(e ? e->ranges_total : 0));
        APPEND("HoldersTotal", "u", (uint32_t)(e ? e->holders_total : 0));
        APPEND("HoldersBytes", "t", holders_bytes);
        APPEND("OwnProcessesOnly", "b", (int)(caller != 0));
#undef APPEND
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(reply, 'a', MEMPOWERD_EXPLAIN_RANGE_SIGNATURE);
        if (r < 0)
                return r;
        for (size_t i = 0; e && caller == 0 && i < e->n_ranges; i++) {
                const ExplainRange *x = &e->ranges[i];
                char names[256];

                (void)kpf_flags_to_string(x->flags, names, sizeof(names));
                r = sd_bus_message_append(reply, MEMPOWERD_EXPLAIN_RANGE_SIGNATURE, x->start_pfn,
                                          x->pages, x->flags, page_class_to_string(x->class) ?: "",
                                          names);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(reply, 'a', MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE);
        if (r < 0)
                return r;
        for (size_t i = 0; e && i < e->n_holders; i++) {
                const ExplainHolder *h = &e->holders[i];

                r = sd_bus_message_append(reply, MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE, (uint32_t)h->pid,
                                          (uint32_t)h->uid, h->comm, h->unit, h->cgroup,
                                          h->pages * ps);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void explain_done(Manager *m, uint32_t index, int error, const Explanation *e,
                         void *userdata)
{
        ExplainCall *c = userdata;
        char why[128];
        int r;

        if (error == -ECANCELED)
                r = sd_bus_reply_method_errorf(c->msg, SD_BUS_ERROR_FAILED, "mempowerd is stopping");
        else if (error < 0) {
                snprintf(why, sizeof(why), "%s", strerror(-error));
                r = explain_reply(m, c->msg, c->caller, index, NULL, why);
        } else {
                if (e->locate_error)
                        snprintf(why, sizeof(why), "processes not looked at: %s",
                                 strerror(-e->locate_error));
                r = explain_reply(m, c->msg, c->caller, index, e, e->locate_error ? why : NULL);
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to answer ExplainBlock(%" PRIu32 "): %m", index);
                (void)sd_bus_reply_method_errnof(c->msg, r, "Failed to answer: %m");
        }
        sd_bus_message_unref(c->msg);
        free(c);
}

/* Anyone may ask; the answer is sent once a child has looked. */
static int method_explain_block(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        Manager *m = userdata;
        const MemBlock *b;
        ExplainCall *c;
        uint32_t index;
        uid_t caller;
        int r;

        r = sd_bus_message_read(msg, "u", &index);
        if (r < 0)
                return r;
        b = blocktable_find(&m->table, index);
        if (!b)
                return sd_bus_error_setf(error, MEMPOWERD_ERROR_NO_SUCH_BLOCK,
                                         "No memory block %" PRIu32, index);
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &caller);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to learn who is asking: %m");
        /* an offline block holds nothing: its state is the answer */
        if (b->state == BLOCK_OFFLINE)
                return explain_reply(m, msg, caller, index, NULL, NULL);
        /* A user other than root has one look at a time, and leaves a slot
         * to root and to the daemon's own look after a refused offline. */
        if (caller != 0 && (explain_jobs_of(m, caller) > 0 ||
                            m->n_explain_jobs >= EXPLAIN_JOBS_MAX - 1))
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "A block is being looked at already; try again");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->msg = sd_bus_message_ref(msg);
        c->caller = caller;
        r = explain_start(m, index, caller == 0 ? (uid_t)-1 : caller, explain_done, c);
        if (r < 0) {
                sd_bus_message_unref(c->msg);
                free(c);
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                                 "%d blocks are being looked at already; try "
                                                 "again",
                                                 EXPLAIN_JOBS_MAX);
                return sd_bus_error_set_errnof(error, r, "Failed to look at memory%" PRIu32 ": %m",
                                               index);
        }
        return 1;
}

static int method_pause(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        if (!m->paused)
                log_info("Paused over D-Bus: looking and onlining under pressure only");
        m->paused = true;
        manager_bus_flush_properties(m);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_resume(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        if (m->paused)
                log_info("Resumed over D-Bus");
        m->paused = false;
        manager_bus_flush_properties(m);
        return sd_bus_reply_method_return(msg, NULL);
}

/* The answer comes once every block is counted (by the scanner, at idle
 * priority: the pressure watch is never held up by it). */
static int method_rescan(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        log_info("Rescan requested over D-Bus");
        r = manager_rescan(m, msg);
        manager_bus_flush_properties(m);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to reread the memory blocks: %m");
        if (r > 0)
                return 1; /* answered later */
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_online_all(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        r = manager_online_all_request(m, msg);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to online every block: %m");
        return 1; /* answered by manager_online_all_request() or later */
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        ConfigError err = { 0 };
        char reason[PATH_MAX + 300];

        r = manager_reload(m, &err);
        manager_bus_flush_properties(m);
        if (r < 0) {
                (void)config_error_format(&err, reason, sizeof(reason)); /* cut if long */
                if (!reason[0])
                        snprintf(reason, sizeof(reason), "%s", strerror(-r));
                return sd_bus_error_setf(error, MEMPOWERD_ERROR_BAD_CONFIG,
                                         "%s (the previous configuration stays)", reason);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

#define PROP_CHANGING(name, sig) \
        SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BlockSizeBytes", "t", property_get_block_size, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        PROP_CHANGING("State", "s"),
        PROP_CHANGING("BlocksTotal", "u"),
        PROP_CHANGING("BlocksOnline", "u"),
        PROP_CHANGING("BlocksOffline", "u"),
        PROP_CHANGING("BytesOffline", "t"),
        PROP_CHANGING("BytesOfflinedByDaemon", "t"),
        PROP_CHANGING("PagesMigrated", "t"),
        PROP_CHANGING("EvacuationsStarted", "t"),
        PROP_CHANGING("EvacuationsSucceeded", "t"),
        PROP_CHANGING("EvacuationsFailed", "t"),
        PROP_CHANGING("EvacuationsAborted", "t"),
        PROP_CHANGING("EvacuationsHandshake", "t"),
        PROP_CHANGING("LastError", "s"),
        PROP_CHANGING("ReserveBytes", "t"),
        PROP_CHANGING("TickUSec", "t"),
        PROP_CHANGING("DryRun", "b"),
        PROP_CHANGING("DomainsTotal", "u"),
        PROP_CHANGING("DomainsOffline", "u"),
        PROP_CHANGING("WattsSavedEstimate", "d"),
        PROP_CHANGING("NetEnergyJoules", "d"),
        PROP_CHANGING("NetEnergySinceBootJoules", "d"),
        PROP_CHANGING("MigrationEnergyJoules", "d"),
        PROP_CHANGING("MigrationEnergySinceBootJoules", "d"),
        PROP_CHANGING("OfflineByteSeconds", "d"),
        PROP_CHANGING("OfflineByteSecondsSinceBoot", "d"),
        PROP_CHANGING("DramWattsMeasured", "d"),

        /* sd-bus itself refuses methods not marked UNPRIVILEGED to callers
         * without CAP_SYS_ADMIN: a second lock behind the bus policy on the
         * control methods. ListBlocks() and ListDomains() are for everyone. */
        SD_BUS_METHOD_WITH_NAMES("ListBlocks", "", , MEMPOWERD_BLOCKS_SIGNATURE, SD_BUS_PARAM(blocks),
                                 method_list_blocks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListDomains", "", , MEMPOWERD_DOMAINS_SIGNATURE,
                                 SD_BUS_PARAM(domains), method_list_domains,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ExplainBlock", "u", SD_BUS_PARAM(index),
                                 MEMPOWERD_EXPLAIN_SIGNATURE,
                                 SD_BUS_PARAM(block) SD_BUS_PARAM(ranges) SD_BUS_PARAM(holders),
                                 method_explain_block, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Pause", "", "", method_pause, 0),
        SD_BUS_METHOD("Resume", "", "", method_resume, 0),
        SD_BUS_METHOD("Rescan", "", "", method_rescan, 0),
        SD_BUS_METHOD_WITH_NAMES("OnlineAll", "", , "uu", SD_BUS_PARAM(onlined) SD_BUS_PARAM(failed),
                                 method_online_all, 0),
        SD_BUS_METHOD("Reload", "", "", method_reload, 0),

        SD_BUS_SIGNAL_WITH_NAMES("BlockOffline", "u", SD_BUS_PARAM(index), 0),
        SD_BUS_SIGNAL_WITH_NAMES("BlockOnline", "u", SD_BUS_PARAM(index), 0),
        SD_BUS_SIGNAL_WITH_NAMES("EvacuationFailed", "us", SD_BUS_PARAM(index) SD_BUS_PARAM(reason),
                                 0),

        SD_BUS_VTABLE_END,
};

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        /* Without the bus nobody can see or control the daemon: fail, so
         * that systemd restarts it (Restart=on-failure) once the bus is back. */
        log_error("Disconnected from the system bus, exiting");
        return sd_event_exit(m->event, -ECONNRESET);
}

int manager_bus_setup(Manager *m)
{
        ManagerBusState *st;
        int r;

        st = calloc(1, sizeof(*st));
        if (!st)
                return log_error_errno(-ENOMEM, "Out of memory");
        m->bus_state = st;

        /* sd_bus_open_system() honours $DBUS_SYSTEM_BUS_ADDRESS: tests point
         * it at a private dbus-daemon. */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus%s%s: %m",
                                       getenv("DBUS_SYSTEM_BUS_ADDRESS") ? " at " : "",
                                       getenv("DBUS_SYSTEM_BUS_ADDRESS") ?: "");
        (void)sd_bus_set_description(m->bus, "mempowerd");

        r = sd_bus_add_object_vtable(m->bus, NULL, MEMPOWERD_BUS_PATH, MEMPOWERD_BUS_INTERFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to publish " MEMPOWERD_BUS_PATH ": %m");

        r = sd_bus_match_signal(m->bus, &st->disconnect_slot, "org.freedesktop.DBus.Local",
                                "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        /* Synchronous, without queueing: a second daemon must not start. */
        r = sd_bus_request_name(m->bus, MEMPOWERD_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Failed to take the bus name " MEMPOWERD_BUS_NAME
                                          ": another mempowerd owns it");
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "Failed to take the bus name " MEMPOWERD_BUS_NAME
                                          ": not allowed by the bus policy (org.mempowerd1.conf "
                                          "installed? running as root?): %m");
        if (r < 0)
                return log_error_errno(r, "Failed to take the bus name " MEMPOWERD_BUS_NAME ": %m");

        bus_snapshot_take(m, &st->last);
        log_debug("Published " MEMPOWERD_BUS_PATH " as " MEMPOWERD_BUS_NAME);
        return 0;
}

void manager_bus_close(Manager *m)
{
        if (m->bus_state) {
                sd_bus_slot_unref(m->bus_state->disconnect_slot);
                free(m->bus_state);
                m->bus_state = NULL;
        }
        m->bus = sd_bus_flush_close_unref(m->bus);
}

void manager_bus_emit_block_state(Manager *m, uint32_t index, BlockState state)
{
        const char *member;
        int r;

        if (!m->bus)
                return;
        if (state == BLOCK_OFFLINE)
                member = "BlockOffline";
        else if (state == BLOCK_ONLINE)
                member = "BlockOnline";
        else
                return; /* going-offline is a step, not a state change worth a signal */
        r = sd_bus_emit_signal(m->bus, MEMPOWERD_BUS_PATH, MEMPOWERD_BUS_INTERFACE, member, "u",
                               index);
        if (r < 0)
                log_warning_errno(r, "Failed to emit %s(%" PRIu32 "), ignoring: %m", member,
                                  index);
}

void manager_bus_emit_evacuation_failed(Manager *m, uint32_t index, const char *reason)
{
        int r;

        if (!m->bus)
                return;
        r = sd_bus_emit_signal(m->bus, MEMPOWERD_BUS_PATH, MEMPOWERD_BUS_INTERFACE,
                               "EvacuationFailed", "us", index, reason ? reason : "");
        if (r < 0)
                log_warning_errno(r, "Failed to emit EvacuationFailed(%" PRIu32 "), ignoring: %m",
                                  index);
}

void manager_bus_flush_properties(Manager *m)
{
        const char *changed[ELEMENTSOF(bus_properties) + 1];
        size_t n = 0;
        BusSnapshot now;
        int r;

        if (!m->bus || !m->bus_state)
                return;
        bus_snapshot_take(m, &now);
        for (size_t i = 0; i < ELEMENTSOF(bus_properties); i++)
                if (!bus_property_equal(&bus_properties[i], &m->bus_state->last, &now))
                        changed[n++] = bus_properties[i].name;
        if (n == 0)
                return;
        changed[n] = NULL;
        r = sd_bus_emit_properties_changed_strv(m->bus, MEMPOWERD_BUS_PATH,
                                                MEMPOWERD_BUS_INTERFACE, (char **)changed);
        if (r < 0) {
                log_warning_errno(r, "Failed to emit PropertiesChanged, ignoring: %m");
                return;
        }
        m->bus_state->last = now;
}

/* ---- --bus-introspect ---- */

typedef struct IntrospectCall {
        sd_event *event;
        char *xml;
        int error;
} IntrospectCall;

static int introspect_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        IntrospectCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *xml;
        int r;

        if (e)
                r = -sd_bus_error_get_errno(e);
        else {
                r = sd_bus_message_read(reply, "s", &xml);
                if (r >= 0 && !(c->xml = strdup(xml)))
                        r = -ENOMEM;
        }
        c->error = r < 0 ? r : 0;
        return sd_event_exit(c->event, 0);
}

static int introspect_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        IntrospectCall *c = userdata;

        c->error = -ETIMEDOUT;
        return sd_event_exit(c->event, 0);
}

/* libsystemd renders a vtable as XML only for a caller: the object is served
 * on one end of a socket pair (an anonymous server, as on no bus) and asked
 * for org.freedesktop.DBus.Introspectable.Introspect from the other, both
 * ends on a private event loop. No handler and no property getter runs. */
int manager_bus_introspect(Manager *m, const char *interface, FILE *out)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *server = NULL, *client = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *timer = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_close_ int fd_server = -1, fd_client = -1;
        IntrospectCall c = { 0 };
        sd_id128_t id;
        uint64_t now;
        int fds[2], r;

        if (!m || !out)
                return -EINVAL;
        if (interface && strcmp(interface, "list") == 0) {
                fputs(MEMPOWERD_BUS_INTERFACE "\n", out);
                return 0;
        }
        if (interface && *interface && strcmp(interface, MEMPOWERD_BUS_INTERFACE) != 0)
                return log_error_errno(-ENOENT,
                                       "Interface %s not found (--bus-introspect=list lists them)",
                                       interface);

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return log_error_errno(-errno, "Failed to make a socket pair: %m");
        fd_server = fds[0];
        fd_client = fds[1];

        r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_new(&server);
        if (r >= 0)
                r = sd_bus_set_fd(server, fd_server, fd_server);
        if (r >= 0) {
                fd_server = -1; /* the bus closes it */
                r = sd_bus_set_server(server, 1, id);
        }
        if (r >= 0)
                r = sd_bus_set_anonymous(server, 1);
        if (r >= 0)
                r = sd_bus_add_object_vtable(server, NULL, MEMPOWERD_BUS_PATH,
                                             MEMPOWERD_BUS_INTERFACE, manager_vtable, m);
        if (r >= 0)
                r = sd_bus_new(&client);
        if (r >= 0)
                r = sd_bus_set_fd(client, fd_client, fd_client);
        if (r >= 0) {
                fd_client = -1;
                r = sd_bus_set_anonymous(client, 1);
        }
        if (r >= 0)
                r = sd_event_new(&e);
        if (r >= 0)
                r = sd_bus_attach_event(server, e, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_attach_event(client, e, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_start(server);
        if (r >= 0)
                r = sd_bus_start(client);
        if (r < 0)
                return log_error_errno(r, "Failed to set up a private connection: %m");

        c.event = e;
        r = sd_bus_call_method_async(client, NULL, NULL, MEMPOWERD_BUS_PATH,
                                     "org.freedesktop.DBus.Introspectable", "Introspect",
                                     introspect_reply, &c, "");
        if (r >= 0)
                r = sd_event_now(e, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(e, &timer, CLOCK_MONOTONIC, now + 10 * USEC_PER_SEC, 0,
                                      introspect_timeout, &c);
        if (r >= 0)
                r = sd_event_loop(e);
        if (r >= 0)
                r = c.error;
        if (r < 0) {
                free(c.xml);
                return log_error_errno(r, "Failed to introspect " MEMPOWERD_BUS_PATH ": %m");
        }
        fputs(c.xml, out);
        free(c.xml);
        return 0;
}
