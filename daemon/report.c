/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-build.h"
#include "format.h"
#include "report.h"
#include "util.h"

#define MIB (1024.0 * 1024.0)

int report_prepare(const Manager *m, Report *ret)
{
        int r;

        *ret = (Report){ .n_domains = m->power.domains.n };
        ret->verdicts = calloc(m->table.n ? m->table.n : 1, sizeof(*ret->verdicts));
        ret->domain_verdicts = calloc(ret->n_domains ? ret->n_domains : 1, sizeof(PlanVerdict));
        if (!ret->verdicts || !ret->domain_verdicts) {
                report_done(ret);
                return -ENOMEM;
        }
        r = power_explain(m, ret->verdicts, ret->domain_verdicts, &ret->summary);
        if (r < 0) {
                report_done(ret);
                return r;
        }
        ret->n_zones = zoneinfo_read(m->roots.procfs_fd, ret->zones, ELEMENTSOF(ret->zones));
        if (ret->n_zones > (int)ELEMENTSOF(ret->zones))
                ret->n_zones = (int)ELEMENTSOF(ret->zones);
        return 0;
}

void report_done(Report *r)
{
        free(r->verdicts);
        free(r->domain_verdicts);
        r->verdicts = NULL;
        r->domain_verdicts = NULL;
}

static const char *intent(const Report *r, const Manager *m, size_t i)
{
        return plan_verdict_word(r->verdicts[i], &m->table.blocks[i]);
}

typedef struct Totals {
        PageUsage usage;
        size_t online, offline;
} Totals;

static void totals_add(Totals *t, const MemBlock *b)
{
        if (b->state == BLOCK_OFFLINE)
                t->offline++;
        else
                t->online++;
        if (b->usage_valid)
                page_usage_add(&t->usage, &b->usage);
}

/* What kpageflags counted in one zone of /proc/zoneinfo. */
typedef struct ZoneCount {
        uint64_t free, unknown;
} ZoneCount;

static unsigned zone_bit(const char *name)
{
        unsigned bit = 0;

        (void)zones_from_string(name, &bit);
        return bit;
}

static ZoneCount zone_count(const Manager *m, const ZoneInfo *z)
{
        unsigned bit = zone_bit(z->name);
        ZoneCount c = { 0 };

        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *b = &m->table.blocks[i];

                if (b->state == BLOCK_OFFLINE || !b->usage_valid || b->node != z->node ||
                    b->zones != bit)
                        continue;
                c.free += b->usage.free;
                c.unknown += b->usage.unknown;
        }
        return c;
}

/* Two neighbouring blocks print as one range when everything shown is the
 * same and their indices are consecutive. */
static bool same_row(const Manager *m, const Report *r, size_t i, size_t j)
{
        const MemBlock *a = &m->table.blocks[i], *b = &m->table.blocks[j];

        return b->index == a->index + 1 && a->state == b->state && a->node == b->node &&
               a->zones == b->zones && strcmp(intent(r, m, i), intent(r, m, j)) == 0;
}

/* Why the free pages kpageflags classified and MemFree disagree, per zone. */
static void report_zones_text(const Manager *m, const Report *r, const Totals *tot, FILE *f)
{
        uint64_t ps = m->page_size, counted_free = tot->usage.free * ps / 1024;
        char a[32], b[32], c[32], d[32], e[32];
        bool header = false;

        if (r->n_zones <= 0) {
                fprintf(f, "Zones: %s/zoneinfo could not be read (%s)\n", m->roots.procfs_path,
                        strerror(-r->n_zones));
                return;
        }
        fprintf(f, "\n%-8s %4s %9s %9s %9s %9s %9s\n", "ZONE", "NODE", "PRESENT", "MANAGED",
                "FREE", "COUNTED", "UNKNOWN");
        for (int i = 0; i < r->n_zones; i++) {
                const ZoneInfo *z = &r->zones[i];
                ZoneCount zc = zone_count(m, z);

                if (z->present == 0)
                        continue;
                fprintf(f, "%-8s %4d %9s %9s %9s %9s %9s\n", z->name, z->node,
                        format_bytes(z->present * ps, a, sizeof(a)),
                        format_bytes(z->managed * ps, b, sizeof(b)),
                        format_bytes(z->free * ps, c, sizeof(c)),
                        format_bytes(zc.free * ps, d, sizeof(d)),
                        format_bytes(zc.unknown * ps, e, sizeof(e)));
        }
        fprintf(f, "(FREE: the zone's nr_free_pages; COUNTED: free pages kpageflags shows; UNKNOWN: "
                   "kernel-zone pages that read 0)\n");

        /* Agreement within 2 % of MemTotal needs no word. */
        if ((counted_free > m->meminfo.free_kb ? counted_free - m->meminfo.free_kb
                                               : m->meminfo.free_kb - counted_free) * 50 <=
            m->meminfo.total_kb)
                return;
        fprintf(f, "\nkpageflags shows %s free, MemFree says %s. Why:\n",
                format_bytes(counted_free * 1024, a, sizeof(a)),
                format_bytes(m->meminfo.free_kb * 1024, b, sizeof(b)));
        for (int i = 0; i < r->n_zones; i++) {
                const ZoneInfo *z = &r->zones[i];
                ZoneCount zc = zone_count(m, z);
                uint64_t unmanaged = u64_sub_sat(z->present, z->managed);

                if (zc.unknown == 0)
                        continue;
                header = true;
                fprintf(f, "  zone %s of node %d: %s of pages read 0. %s of the zone is not the page "
                           "allocator's yet (present minus managed: struct pages initialised on "
                           "demand, or memory not accepted yet), up to %s free pages sit on "
                           "per-CPU lists, the rest is kernel memory without flags (vmalloc, "
                           "kernel stacks). None of it can be offlined as it is.\n",
                        z->name, z->node, format_bytes(zc.unknown * ps, a, sizeof(a)),
                        format_bytes(unmanaged * ps, b, sizeof(b)),
                        format_bytes(z->pcp * ps, c, sizeof(c)));
        }
        if (!header)
                fprintf(f, "  free pages on per-CPU lists and pages freed or taken while this "
                           "report was counted.\n");
}

static void report_domains_text(const Manager *m, const Report *r, FILE *f)
{
        const DomainTable *dt = &m->power.domains;
        double would = 0;
        size_t n_would = 0;
        PowerFigures pf;
        char a[32], b[32], c[32], blocks[32];

        fprintf(f, "\nPower domains (Domains=%s): %zu\n", domain_mode_to_string(m->config.domains),
                dt->n);
        if (dt->n > 0)
                fprintf(f, "%-20s %-7s %4s %-11s %7s %7s %8s %8s %7s  %s\n", "DOMAIN", "KIND", "NODE",
                        "BLOCKS", "ONLINE", "OFFLINE", "USED", "MOVABLE", "WATTS", "ACTION");
        for (size_t i = 0; i < dt->n && i < r->n_domains; i++) {
                DomainRow row;

                power_domain_row(m, i, r->domain_verdicts[i], &row);
                if (row.d->n_blocks == 1)
                        snprintf(blocks, sizeof(blocks), "%" PRIu32, dt->members[row.d->first]);
                else
                        snprintf(blocks, sizeof(blocks), "%" PRIu32 "-%" PRIu32,
                                 dt->members[row.d->first],
                                 dt->members[row.d->first + row.d->n_blocks - 1]);
                fprintf(f, "%-20s %-7s %4d %-11s %7zu %7zu %8s %8s %7.3f  %s\n", row.d->name,
                        domain_kind_to_string(row.d->kind), row.d->node, blocks, row.s.online,
                        row.s.offline, format_bytes(row.used_bytes, a, sizeof(a)),
                        format_bytes(row.movable_bytes, b, sizeof(b)), row.watts, row.word);
                if (row.eligible || row.saving) {
                        would += row.watts;
                        n_would++;
                }
        }
        power_figures(m, &pf);
        fprintf(f, "(WATTS: the estimated saving of the domain offline whole; a domain partly "
                   "offline saves nothing)\n");
        fprintf(f, "Energy: an estimated %.3f W saved by the domains offline whole or to go "
                   "offline from here (%zu); DRAM power %s\n",
                would, n_would,
                pf.dram_watts >= 0 ? (snprintf(c, sizeof(c), "measured %.2f W", pf.dram_watts), c)
                : m->power.rapl.n > 0 ? "measured by RAPL (one reading is no interval)"
                                      : "not measured (no RAPL DRAM counter)");
}

int report_text(const Manager *m, const Report *r, FILE *f)
{
        const BlockTable *t = &m->table;
        uint64_t ps = m->page_size;
        Totals tot = { 0 };
        char zbuf[64], sbuf[32], blocks[32], a[32], b[32];

        fprintf(f, "%-37s %6s %-13s %4s %-8s %-9s %9s %9s %9s %9s  %s\n", "RANGE", "SIZE", "STATE",
                "NODE", "ZONES", "BLOCK", "USED", "FREE", "UNMOVABLE", "UNKNOWN", "ACTION");
        for (size_t i = 0; i < t->n;) {
                const MemBlock *first = &t->blocks[i];
                PageUsage u = { 0 };
                bool valid = true;
                size_t j = i;

                for (;;) {
                        const MemBlock *bl = &t->blocks[j];

                        totals_add(&tot, bl);
                        if (bl->usage_valid)
                                page_usage_add(&u, &bl->usage);
                        else
                                valid = false;
                        if (j + 1 >= t->n || !same_row(m, r, j, j + 1))
                                break;
                        j++;
                }
                uint64_t start = first->start_pfn * ps;
                uint64_t end = (t->blocks[j].start_pfn + t->pages_per_block) * ps - 1;

                if (j == i)
                        snprintf(blocks, sizeof(blocks), "%" PRIu32, first->index);
                else
                        snprintf(blocks, sizeof(blocks), "%" PRIu32 "-%" PRIu32, first->index,
                                 t->blocks[j].index);
                fprintf(f, "0x%016" PRIx64 "-0x%016" PRIx64 " %6s %-13s %4d %-8s %-9s", start, end,
                        format_bytes((uint64_t)(j - i + 1) * t->block_size_bytes, sbuf,
                                     sizeof(sbuf)),
                        block_state_to_string(first->state), first->node,
                        zones_to_string(first->zones, zbuf, sizeof(zbuf)), blocks);
                if (valid && first->state != BLOCK_OFFLINE)
                        fprintf(f, " %8.0fM %8.0fM %8.0fM %8.0fM",
                                (double)page_usage_used(&u) * ps / MIB, (double)u.free * ps / MIB,
                                (double)u.unmovable * ps / MIB, (double)u.unknown * ps / MIB);
                else
                        fprintf(f, " %9s %9s %9s %9s", "-", "-", "-", "-");
                fprintf(f, "  %s\n", intent(r, m, i));
                i = j + 1;
        }

        fprintf(f, "\nMemory block size: %s\n",
                format_bytes(t->block_size_bytes, sbuf, sizeof(sbuf)));
        fprintf(f, "Blocks: %zu online, %zu offline; %zu would go offline from here (%s), "
                   "keeping %s available (reserve %s)\n",
                tot.online, tot.offline, r->summary.offlinable,
                format_bytes((uint64_t)r->summary.offlinable * t->block_size_bytes, sbuf,
                             sizeof(sbuf)),
                format_bytes(r->summary.available_after * ps, a, sizeof(a)),
                format_bytes(r->summary.reserve_pages * ps, b, sizeof(b)));
        fprintf(f, "Pages: %.0f MiB free, %.0f MiB movable, %.0f MiB unmovable, %.0f MiB unknown, "
                   "%.0f MiB hugetlb\n",
                (double)tot.usage.free * ps / MIB, (double)tot.usage.movable * ps / MIB,
                (double)tot.usage.unmovable * ps / MIB, (double)tot.usage.unknown * ps / MIB,
                (double)tot.usage.hugetlb * ps / MIB);
        fprintf(f, "MemFree: %" PRIu64 " MiB, MemAvailable: %" PRIu64 " MiB%s\n",
                m->meminfo.free_kb / 1024, m->meminfo.available_kb / 1024,
                manager_dry_run(m) ? " (dry run: nothing is changed)" : "");
        report_domains_text(m, r, f);
        report_zones_text(m, r, &tot, f);
        return ferror(f) ? -EIO : 0;
}

int report_json(const Manager *m, const Report *r, FILE *f)
{
        const BlockTable *t = &m->table;
        Totals tot = { 0 };
        char zbuf[64];

        fprintf(f, "{\n  \"version\": \"%s\",\n", PACKAGE_VERSION);
        fprintf(f, "  \"block_size_bytes\": %" PRIu64 ",\n", t->block_size_bytes);
        fprintf(f, "  \"page_size\": %" PRIu64 ",\n", m->page_size);
        fprintf(f, "  \"dry_run\": %s,\n", manager_dry_run(m) ? "true" : "false");
        fprintf(f, "  \"blocks\": [");
        for (size_t i = 0; i < t->n; i++) {
                const MemBlock *b = &t->blocks[i];

                totals_add(&tot, b);
                /* zone names and intents are fixed words: no escaping needed */
                fprintf(f,
                        "%s\n    {\"index\": %" PRIu32 ", \"start\": %" PRIu64 ", \"node\": %d, "
                        "\"state\": \"%s\", \"zones\": \"%s\", \"pages\": %" PRIu64 ", ",
                        i ? "," : "", b->index, b->start_pfn * m->page_size, b->node,
                        block_state_to_string(b->state),
                        zones_to_string(b->zones, zbuf, sizeof(zbuf)), t->pages_per_block);
                if (b->usage_valid)
                        fprintf(f,
                                "\"free\": %" PRIu64 ", \"movable\": %" PRIu64
                                ", \"unmovable\": %" PRIu64 ", \"unknown\": %" PRIu64
                                ", \"hugetlb\": %" PRIu64 ", \"nopage\": %" PRIu64 ", ",
                                b->usage.free, b->usage.movable, b->usage.unmovable,
                                b->usage.unknown, b->usage.hugetlb, b->usage.nopage);
                else
                        fprintf(f, "\"free\": null, \"movable\": null, \"unmovable\": null, "
                                   "\"unknown\": null, \"hugetlb\": null, \"nopage\": null, ");
                fprintf(f, "\"owned\": %s, \"offlinable\": %s, \"action\": \"%s\"}",
                        b->track.owned ? "true" : "false",
                        r->verdicts[i] == VERDICT_OK ? "true" : "false", intent(r, m, i));
        }
        fprintf(f, "\n  ],\n");
        fprintf(f,
                "  \"totals\": {\"blocks_online\": %zu, \"blocks_offline\": %zu, "
                "\"blocks_offlinable\": %zu, \"free\": %" PRIu64 ", \"movable\": %" PRIu64
                ", \"unmovable\": %" PRIu64 ", \"unknown\": %" PRIu64 ", \"hugetlb\": %" PRIu64
                ", \"available_after_pages\": %" PRIu64 ", \"reserve_pages\": %" PRIu64 "},\n",
                tot.online, tot.offline, r->summary.offlinable, tot.usage.free, tot.usage.movable,
                tot.usage.unmovable, tot.usage.unknown, tot.usage.hugetlb,
                r->summary.available_after, r->summary.reserve_pages);
        fprintf(f, "  \"domains_mode\": \"%s\",\n  \"domains\": [",
                domain_mode_to_string(m->config.domains));
        for (size_t i = 0; i < m->power.domains.n && i < r->n_domains; i++) {
                const DomainTable *dt = &m->power.domains;
                DomainRow row;

                power_domain_row(m, i, r->domain_verdicts[i], &row);
                fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
                format_json_string(f, row.d->name);
                fprintf(f, ", \"kind\": \"%s\", \"source\": ", domain_kind_to_string(row.d->kind));
                format_json_string(f, row.d->source);
                fprintf(f,
                        ", \"node\": %d, \"first_block\": %" PRIu32 ", \"last_block\": %" PRIu32
                        ", \"blocks\": %zu, \"online\": %zu, \"offline\": %zu, \"used_bytes\": %" PRIu64
                        ", \"movable_bytes\": %" PRIu64 ", \"eligible\": %s, \"action\": \"%s\", "
                        "\"saving_watts\": %.6f, \"ejectable\": %s}",
                        row.d->node, dt->members[row.d->first],
                        dt->members[row.d->first + row.d->n_blocks - 1], row.d->n_blocks,
                        row.s.online, row.s.offline, row.used_bytes, row.movable_bytes,
                        row.eligible ? "true" : "false", row.word, row.watts,
                        row.d->ejectable ? "true" : "false");
        }
        fprintf(f, "\n  ],\n");
        {
                PowerFigures pf;

                power_figures(m, &pf);
                if (pf.dram_watts >= 0)
                        fprintf(f, "  \"dram_watts_measured\": %.6f,\n", pf.dram_watts);
                else
                        fprintf(f, "  \"dram_watts_measured\": null,\n");
        }
        fprintf(f, "  \"zones\": [");
        for (int i = 0; i < r->n_zones; i++) {
                const ZoneInfo *z = &r->zones[i];
                ZoneCount zc = zone_count(m, z);

                fprintf(f,
                        "%s\n    {\"node\": %d, \"zone\": \"%s\", \"present_pages\": %" PRIu64
                        ", \"managed_pages\": %" PRIu64 ", \"free_pages\": %" PRIu64
                        ", \"pcp_pages\": %" PRIu64 ", \"counted_free_pages\": %" PRIu64
                        ", \"unknown_pages\": %" PRIu64 "}",
                        i ? "," : "", z->node, z->name, z->present, z->managed, z->free, z->pcp,
                        zc.free, zc.unknown);
        }
        fprintf(f, "\n  ],\n");
        fprintf(f,
                "  \"meminfo\": {\"MemTotal\": %" PRIu64 ", \"MemFree\": %" PRIu64
                ", \"MemAvailable\": %" PRIu64 "}\n}\n",
                m->meminfo.total_kb, m->meminfo.free_kb, m->meminfo.available_kb);
        return ferror(f) ? -EIO : 0;
}
