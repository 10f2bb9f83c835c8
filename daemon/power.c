/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Power domains as the daemon follows them: grouping the block table,
 * the memory policies a whole node's offline waits for, and the energy
 * accounts. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "energy.h"
#include "format.h"
#include "log.h"
#include "manager.h"
#include "util.h"

/* The energy figures go to the state file this often (and at exit). */
#define ENERGY_SAVE_USEC (60 * USEC_PER_SEC)

/* How long a domain stayed offline, weighed with what it did before: the
 * mean of the last residency and the expectation before it. */
static uint64_t residency_update(uint64_t expected, uint64_t residency)
{
        return expected ? expected / 2 + residency / 2 : residency;
}

/* Wholly offline by mempowerd: every block there, offline, its own. */
static bool domain_saving(const DomainStat *s)
{
        return s->online == 0 && s->missing == 0 && s->offline > 0 && s->owned == s->offline;
}

void power_table_changed(Manager *m)
{
        m->power.regroup = 2;
}

static void power_arrays_free(Power *p)
{
        free(p->stats);
        free(p->tracks);
        free(p->expected_usec);
        p->stats = NULL;
        p->tracks = NULL;
        p->expected_usec = NULL;
}

void power_open(Manager *m)
{
        int r = rapl_open(m->roots.sysfs_fd, &m->power.rapl);

        if (r < 0)
                log_warning_errno(r, "Failed to look for RAPL DRAM energy counters, not measuring: %m");
        else if (m->power.rapl.n == 0)
                log_debug("No RAPL DRAM energy counter (%s/class/powercap): DRAM power is not measured",
                          m->roots.sysfs_path);
        else
                log_info("DRAM energy measured by %zu RAPL counters (%s first)", m->power.rapl.n,
                         m->power.rapl.zones[0].name);
}

int power_explain(const Manager *m, PlanVerdict *blocks, PlanVerdict *domains, PlanSummary *summary)
{
        _cleanup_free_ uint64_t *scratch = calloc(m->table.n ? m->table.n : 1, sizeof(uint64_t));
        PlanInput in;

        if (!scratch)
                return -ENOMEM;
        manager_snapshot(m, PLAN_STEP, &in);
        if (domains && !in.domains)
                domains = NULL;
        return planner_explain(&in, &m->planner, blocks, domains, scratch, summary);
}

void power_domain_row(const Manager *m, size_t i, PlanVerdict verdict, DomainRow *ret)
{
        const Domain *d = &m->power.domains.domains[i];
        DomainStat s;

        domain_stat(&m->power.domains, d, m->table.blocks, m->table.n, &s);
        *ret = (DomainRow){
                .d = d,
                .s = s,
                .eligible = verdict == VERDICT_OK,
                .used_bytes = page_usage_used(&s.usage) * m->page_size,
                .movable_bytes = s.usage.movable * m->page_size,
                .watts = energy_saving_watts(&m->config, d->kind,
                                             d->n_blocks * m->table.block_size_bytes),
                .saving = !manager_dry_run(m) && domain_saving(&s),
        };
        if (verdict == VERDICT_OK)
                ret->word = s.usage.movable > 0 ? "evacuate" : "offline";
        else
                ret->word = plan_verdict_to_string(verdict) ?: "unknown";
}

void power_free(Manager *m)
{
        rapl_free(&m->power.rapl);
        domain_table_free(&m->power.domains);
        power_arrays_free(&m->power);
        free(m->power.units);
        m->power.units = NULL;
        m->power.units_cap = 0;
}

static int track_compare(const void *a, const void *b)
{
        return strcmp(((const DomainTrack *)a)->name, ((const DomainTrack *)b)->name);
}

static void log_grouping(const Manager *m, const DomainTable *dt, size_t before)
{
        size_t kinds[_DOMAIN_KIND_MAX] = { 0 };
        char buf[160] = "";
        size_t used = 0;

        if (dt->n == before)
                return;
        for (size_t i = 0; i < dt->n; i++)
                kinds[dt->domains[i].kind]++;
        for (int k = _DOMAIN_KIND_MAX - 1; k >= 0; k--) {
                int n;

                if (kinds[k] == 0)
                        continue;
                n = snprintf(buf + used, sizeof(buf) - used, "%s%zu %s", used ? ", " : "", kinds[k],
                             domain_kind_to_string((DomainKind)k));
                if (n < 0 || (size_t)n >= sizeof(buf) - used)
                        break;
                used += (size_t)n;
        }
        log_info("Power domains (Domains=%s): %zu%s%s%s", domain_mode_to_string(m->config.domains), dt->n,
                 used ? " (" : "", buf, used ? ")" : "");
        for (size_t i = 0; i < dt->n; i++)
                log_debug("Power domain %s: %s, node %d, %zu blocks from memory%" PRIu32,
                          dt->domains[i].name, domain_kind_to_string(dt->domains[i].kind),
                          dt->domains[i].node, dt->domains[i].n_blocks,
                          dt->members[dt->domains[i].first]);
}

static int power_regroup(Manager *m)
{
        _cleanup_(domain_sources_free) DomainSources src = { 0 };
        DomainTable fresh = { 0 };
        Power *p = &m->power;
        _cleanup_free_ DomainTrack *old = NULL, *tracks = NULL;
        _cleanup_free_ DomainStat *stats = NULL;
        _cleanup_free_ uint64_t *expected = NULL;
        size_t n, n_old = p->domains.n;
        int r;

        r = domain_sources_read(m->roots.sysfs_fd, m->roots.procfs_fd, &m->table, &src);
        if (r < 0)
                return r;
        r = domain_group(&src, &m->table, m->config.domains, m->config.region_mib << 20, &fresh);
        if (r < 0)
                return r;
        n = fresh.n ? fresh.n : 1;
        stats = calloc(n, sizeof(*stats));
        tracks = calloc(n, sizeof(*tracks));
        expected = calloc(n, sizeof(*expected));
        if (!stats || !tracks || !expected) {
                /* the old grouping stays, whole */
                domain_table_free(&fresh);
                return -ENOMEM;
        }

        /* the history goes with the name */
        old = TAKE_PTR(p->tracks);
        power_arrays_free(p);
        p->stats = TAKE_PTR(stats);
        p->tracks = TAKE_PTR(tracks);
        p->expected_usec = TAKE_PTR(expected);
        if (old)
                qsort(old, n_old, sizeof(*old), track_compare);
        for (size_t i = 0; i < fresh.n; i++) {
                DomainTrack *t = &p->tracks[i], *o;

                snprintf(t->name, sizeof(t->name), "%s", fresh.domains[i].name);
                o = old ? bsearch(t, old, n_old, sizeof(*old), track_compare) : NULL;
                if (o)
                        *t = *o;
                p->expected_usec[i] = t->expected_usec;
        }
        log_grouping(m, &fresh, n_old);
        /* the target was a domain of the old grouping */
        if (fresh.mode != p->domains.mode || fresh.region_bytes != p->domains.region_bytes)
                m->planner.target_block = UINT32_MAX;
        domain_table_free(&p->domains);
        p->domains = fresh;
        return 0;
}

void power_refresh(Manager *m)
{
        Power *p = &m->power;
        int r;

        if (p->domains.mode != m->config.domains ||
            p->domains.region_bytes != m->config.region_mib << 20)
                p->regroup = p->regroup ? p->regroup : 1;
        if (p->regroup > 0) {
                r = power_regroup(m);
                if (r < 0) {
                        if (!p->regroup_failed)
                                log_warning_errno(r, "Failed to group the memory blocks into power "
                                                     "domains, keeping %zu: %m",
                                                  p->domains.n);
                        p->regroup_failed = true;
                } else {
                        p->regroup_failed = false;
                        p->regroup--;
                }
        }
        if (p->units_cap < m->table.n) {
                HandshakeUnit *u = realloc(p->units, m->table.n * sizeof(*u));

                if (!u) {
                        /* no scratch: the handshake does not look */
                        free(p->units);
                        p->units = NULL;
                        p->units_cap = 0;
                        (void)log_oom();
                        return;
                }
                p->units = u;
                p->units_cap = m->table.n;
        }
}

void power_snapshot(const Manager *m, PlanInput *in)
{
        static const DomainTable none = { .mode = DOMAINS_AUTO };
        const Power *p = &m->power;

        in->units = p->units_cap >= m->table.n ? p->units : NULL;
        if (!p->stats) {
                /* never grouped: blocks alone only if that is what is
                 * configured, else no domain at all (nothing is a target) */
                if (m->config.domains != DOMAINS_BLOCK)
                        in->domains = &none;
                return;
        }
        domain_stats_compute(&p->domains, m->table.blocks, m->table.n, p->stats);
        in->domains = &p->domains;
        in->domain_stats = p->stats;
        in->domain_expected_usec = p->expected_usec;
}

static int power_read_bindings(Manager *m, int node, bool quiet)
{
        NodeState *n = &m->nodes[node];
        BindingsResult res;
        int r;

        r = bindings_read(m->roots.procfs_fd, (uint32_t)node, &m->has_memory, &res);
        if (r < 0) {
                /* fail closed: as if a process were bound there, until the
                 * next reading (a target emptying the node is given up) */
                if (!n->bound || n->bindings_usec == 0)
                        log_warning_errno(r, "Failed to read the memory policies of the processes; "
                                             "node %d stays online: %m",
                                          node);
                n->bindings_usec = now_usec();
                n->bound = true;
                return r;
        }
        if (quiet)
                log_debug("Node %d: %s", node, res.bound ? res.what : "no process depends on it alone");
        else if (res.bound && (!n->bound || !n->bindings_usec))
                log_notice("Node %d stays online: process %d depends on it alone (%s)", node,
                           (int)res.pid, res.what);
        else if (!res.bound && (n->bound || !n->bindings_usec))
                log_info("Node %d may go offline whole: none of %u processes depends on it alone",
                         node, res.processes);
        n->bindings_usec = now_usec();
        n->bound = res.bound;
        return 0;
}

bool power_check_bindings(Manager *m, const Plan *plan)
{
        int node = plan->check_bindings_node;
        uint64_t now = now_usec();

        if (node < 0 || (size_t)node >= m->n_nodes)
                return false;
        /* once a second at most, also when a reading failed */
        if (m->power.bindings_try_usec && now - m->power.bindings_try_usec < USEC_PER_SEC)
                return false;
        m->power.bindings_try_usec = now;
        (void)power_read_bindings(m, node, false);
        return true; /* read or failed closed: plan again with it */
}

void power_read_all_bindings(Manager *m)
{
        for (size_t i = 0; i < m->n_nodes; i++)
                if (indexset_contains(&m->has_memory, (uint32_t)i))
                        (void)power_read_bindings(m, (int)i, true);
}


void power_account(Manager *m)
{
        Power *p = &m->power;
        uint64_t now = now_usec();
        double dt = p->account_usec && now > p->account_usec ? (double)(now - p->account_usec) / USEC_PER_SEC
                                                             : 0;
        bool dry = manager_dry_run(m);
        double watts = 0;
        size_t n_off = 0;
        char a[32];

        p->start.saved_joules += p->watts_now * dt;
        if (!dry)
                p->start.offline_byte_seconds += (double)manager_bytes_offlined(m) * dt;
        {
                uint64_t moved = m->counters.pages_migrated + m->counters.pages_offline_migrated;

                p->start.spent_joules += energy_migration_joules(
                        &m->config, (moved - p->migrated_pages) * m->page_size);
                p->migrated_pages = moved;
        }

        if (p->stats) {
                domain_stats_compute(&p->domains, m->table.blocks, m->table.n, p->stats);
                for (size_t i = 0; i < p->domains.n; i++) {
                        const Domain *d = &p->domains.domains[i];
                        DomainTrack *t = &p->tracks[i];
                        bool saving = !dry && domain_saving(&p->stats[i]);
                        double w = energy_saving_watts(&m->config, d->kind,
                                                       d->n_blocks * m->table.block_size_bytes);
                        /* a block alone is no news (Domains=block) */
                        int level = d->kind == DOMAIN_BLOCK ? LOG_DEBUG : LOG_INFO;

                        if (saving) {
                                watts += w;
                                n_off++;
                        }

                        if (saving && !t->offline_since_usec) {
                                t->offline_since_usec = now;
                                log_full_errno(level, 0,
                                         "Power domain %s (%s, %s) is offline whole: saves an "
                                         "estimated %.3f W",
                                         d->name, domain_kind_to_string(d->kind),
                                         format_bytes(d->n_blocks * m->table.block_size_bytes, a,
                                                      sizeof(a)),
                                         w);
                        } else if (!saving && t->offline_since_usec) {
                                uint64_t stay = now - t->offline_since_usec;

                                /* the daemon's own exit says nothing of the demand */
                                if (!m->exiting) {
                                        t->expected_usec = residency_update(t->expected_usec, stay);
                                        p->expected_usec[i] = t->expected_usec;
                                }
                                t->offline_since_usec = 0;
                                log_full_errno(level, 0,
                                               "Power domain %s is back in use after %" PRIu64
                                               " s offline",
                                               d->name, stay / (uint64_t)USEC_PER_SEC);
                        }
                }
        }
        p->watts_now = watts;
        p->domains_offline = n_off;
        if (p->rapl.n > 0)
                (void)rapl_sample(m->roots.sysfs_fd, &p->rapl, now);
        if (!p->account_usec || now / ENERGY_SAVE_USEC != p->account_usec / ENERGY_SAVE_USEC)
                m->state_dirty = true;
        p->account_usec = now;
}
