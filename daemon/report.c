/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-build.h"
#include "format.h"
#include "output.h"
#include "report.h"
#include "util.h"

static void report_diagnose(const Manager *m, Report *r)
{
        DiagnoseInput in = {
                .blocks = m->table.blocks,
                .verdicts = r->verdicts,
                .n_blocks = m->table.n,
                .block_size_bytes = m->table.block_size_bytes,
                .counted = m->kpf_fd >= 0,
        };

        for (int i = 0; i < r->n_zones; i++)
                if (strcmp(r->zones[i].name, "Movable") != 0)
                        in.unmanaged_bytes +=
                                u64_sub_sat(r->zones[i].present, r->zones[i].managed) * m->page_size;
        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].usage_valid)
                        in.unknown_bytes += m->table.blocks[i].usage.unknown * m->page_size;
        r->n_diagnoses = diagnose(&in, r->diagnoses, ELEMENTSOF(r->diagnoses));
}

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
        ret->zone_words = calloc(m->table.n ? m->table.n : 1, sizeof(*ret->zone_words));
        if (!ret->zone_words) {
                report_done(ret);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->table.n; i++)
                zones_to_string(m->table.blocks[i].zones, ret->zone_words[i],
                                sizeof(ret->zone_words[i]));
        report_diagnose(m, ret);
        return 0;
}

void report_done(Report *r)
{
        free(r->verdicts);
        free(r->domain_verdicts);
        free(r->zone_words);
        r->verdicts = NULL;
        r->domain_verdicts = NULL;
        r->zone_words = NULL;
}

static const char *intent(const Report *r, const Manager *m, size_t i)
{
        return plan_verdict_word(r->verdicts[i], &m->table.blocks[i]);
}

/* The rows mempowerctl shows from ListBlocks() and ListDomains(), here
 * from the manager: one schema for both (output.h). */
static int report_rows(const Manager *m, const Report *r, OutBlock **ret_blocks,
                       OutDomain **ret_domains)
{
        _cleanup_free_ OutBlock *b = calloc(m->table.n ? m->table.n : 1, sizeof(*b));
        _cleanup_free_ OutDomain *d = calloc(r->n_domains ? r->n_domains : 1, sizeof(*d));
        const DomainTable *dt = &m->power.domains;

        if (!b || !d)
                return -ENOMEM;
        for (size_t i = 0; i < m->table.n; i++) {
                const MemBlock *x = &m->table.blocks[i];
                bool counted = x->usage_valid && m->kpf_fd >= 0;

                b[i] = (OutBlock){
                        .index = x->index,
                        .node = x->node,
                        .state = block_state_to_string(x->state) ?: "unknown",
                        .zones = r->zone_words[i],
                        .domain = domain_name_of(dt, x->index),
                        .action = intent(r, m, i),
                        .start_address = x->start_pfn * m->page_size,
                        .size_bytes = m->table.block_size_bytes,
                        .pages = m->table.pages_per_block,
                        .counted = counted,
                        .free_pages = counted ? x->usage.free : 0,
                        .movable_pages = counted ? x->usage.movable : 0,
                        .unmovable_pages = counted ? x->usage.unmovable : 0,
                        .unknown_pages = counted ? x->usage.unknown : 0,
                        .hugetlb_pages = counted ? x->usage.hugetlb : 0,
                        .nopage_pages = counted ? x->usage.nopage : 0,
                        .owned = x->track.owned && !x->track.modelled,
                        .offlinable = r->verdicts[i] == VERDICT_OK,
                };
        }
        for (size_t i = 0; i < dt->n && i < r->n_domains; i++) {
                DomainRow row;

                power_domain_row(m, i, r->domain_verdicts[i], &row);
                d[i] = (OutDomain){
                        .name = row.d->name,
                        .kind = domain_kind_to_string(row.d->kind),
                        .source = row.d->source,
                        .action = row.word,
                        .node = row.d->node,
                        .first_block = dt->members[row.d->first],
                        .last_block = dt->members[row.d->first + row.d->n_blocks - 1],
                        .blocks = (uint32_t)row.d->n_blocks,
                        .online_blocks = (uint32_t)row.s.online,
                        .offline_blocks = (uint32_t)row.s.offline,
                        .used_bytes = row.used_bytes,
                        .movable_bytes = row.movable_bytes,
                        .eligible = row.eligible,
                        .saving_watts = row.watts,
                        .saving = row.saving,
                };
        }
        *ret_blocks = TAKE_PTR(b);
        *ret_domains = TAKE_PTR(d);
        return 0;
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

static uint64_t counted_free_pages(const Manager *m)
{
        uint64_t n = 0;

        for (size_t i = 0; i < m->table.n; i++)
                if (m->table.blocks[i].state != BLOCK_OFFLINE && m->table.blocks[i].usage_valid)
                        n += m->table.blocks[i].usage.free;
        return n;
}

/* The zones as /proc/zoneinfo has them beside what kpageflags counted, and
 * why the free pages counted and MemFree disagree. */
static int report_zones_text(const Manager *m, const Report *r, const OutOptions *o, FILE *f)
{
        enum { Z_ZONE, Z_NODE, Z_PRESENT, Z_MANAGED, Z_FREE, Z_COUNTED, Z_UNKNOWN };
        static const TableColumn columns[] = {
                [Z_ZONE] = { "ZONE" },          [Z_NODE] = { "NODE", true },
                [Z_PRESENT] = { "PRESENT", true }, [Z_MANAGED] = { "MANAGED", true },
                [Z_FREE] = { "FREE", true },    [Z_COUNTED] = { "COUNTED", true },
                [Z_UNKNOWN] = { "UNKNOWN", true },
        };
        _cleanup_(table_free) Table t = { 0 };
        uint64_t ps = m->page_size, counted_free = counted_free_pages(m) * ps / 1024;
        char a[32], b[32], c[32];
        bool header = false;
        int k;

        if (r->n_zones <= 0) {
                fprintf(f, "Zones: %s/zoneinfo could not be read (%s)\n", m->roots.procfs_path,
                        strerror(-r->n_zones));
                return 0;
        }
        k = table_init(&t, columns, ELEMENTSOF(columns),
                       m->kpf_fd >= 0 ? "ZONE,NODE,PRESENT,MANAGED,FREE,COUNTED,UNKNOWN"
                                      : "ZONE,NODE,PRESENT,MANAGED,FREE");
        for (int i = 0; k >= 0 && i < r->n_zones; i++) {
                const ZoneInfo *z = &r->zones[i];
                ZoneCount zc = zone_count(m, z);

                if (z->present == 0)
                        continue;
                k = table_add_row(&t);
                if (k < 0)
                        break;
                (void)table_set(&t, Z_ZONE, "%s", z->name);
                (void)table_set(&t, Z_NODE, "%d", z->node);
                (void)table_set(&t, Z_PRESENT, "%s", format_size(z->present * ps, o->exact, a, sizeof(a)));
                (void)table_set(&t, Z_MANAGED, "%s", format_size(z->managed * ps, o->exact, a, sizeof(a)));
                (void)table_set(&t, Z_FREE, "%s", format_size(z->free * ps, o->exact, a, sizeof(a)));
                (void)table_set(&t, Z_COUNTED, "%s", format_size(zc.free * ps, o->exact, a, sizeof(a)));
                k = table_set(&t, Z_UNKNOWN, "%s", format_size(zc.unknown * ps, o->exact, a, sizeof(a)));
        }
        if (k < 0)
                return k;
        fputc('\n', f);
        k = table_print(&t, f, true);
        if (k < 0)
                return k;
        fprintf(f, "(FREE: the zone's nr_free_pages%s)\n",
                m->kpf_fd >= 0 ? "; COUNTED: free pages kpageflags shows; UNKNOWN: kernel-zone "
                                 "pages that read 0"
                               : "");
        if (m->kpf_fd < 0)
                return 0; /* nothing counted to reconcile */

        /* Agreement within 2 % of MemTotal needs no word. */
        if ((counted_free > m->meminfo.free_kb ? counted_free - m->meminfo.free_kb
                                               : m->meminfo.free_kb - counted_free) * 50 <=
            m->meminfo.total_kb)
                return 0;
        fprintf(f, "\nkpageflags shows %s free, MemFree says %s. Why:\n",
                format_size(counted_free * 1024, o->exact, a, sizeof(a)),
                format_size(m->meminfo.free_kb * 1024, o->exact, b, sizeof(b)));
        for (int i = 0; i < r->n_zones; i++) {
                const ZoneInfo *z = &r->zones[i];
                ZoneCount zc = zone_count(m, z);
                uint64_t unmanaged = u64_sub_sat(z->present, z->managed);
                char text[1024];

                if (zc.unknown == 0)
                        continue;
                header = true;
                snprintf(text, sizeof(text),
                         "zone %s of node %d: %s of pages read 0. %s of the zone is not the page "
                         "allocator's yet (present minus managed: struct pages initialised on "
                         "demand, or memory not accepted yet), up to %s free pages sit on "
                         "per-CPU lists, the rest is kernel memory without flags (vmalloc, "
                         "kernel stacks). None of it can be offlined as it is.",
                         z->name, z->node, format_size(zc.unknown * ps, o->exact, a, sizeof(a)),
                         format_size(unmanaged * ps, o->exact, b, sizeof(b)),
                         format_size(z->pcp * ps, o->exact, c, sizeof(c)));
                fputs("  ", f);
                format_wrap(f, text, 4, 2, 80);
        }
        if (!header)
                fprintf(f, "  free pages on per-CPU lists and pages freed or taken while this "
                           "report was counted.\n");
        return ferror(f) ? -EIO : 0;
}

/* Why not more, each finding with its remedy, wrapped to 80 columns. */
static void report_diagnoses_text(const Report *r, FILE *f)
{
        char size[32], head[96];

        if (r->n_diagnoses == 0)
                return;
        fprintf(f, "\n%s:\n", r->summary.offlinable > 0 ? "Why not more" : "Why nothing goes offline");
        for (size_t i = 0; i < r->n_diagnoses; i++) {
                const Diagnosis *d = &r->diagnoses[i];

                if (d->blocks > 0)
                        snprintf(head, sizeof(head), "  %s (%zu block%s, %s): ", d->code, d->blocks,
                                 d->blocks == 1 ? "" : "s", format_bytes(d->bytes, size, sizeof(size)));
                else
                        snprintf(head, sizeof(head), "  %s: ", d->code);
                fputs(head, f);
                format_wrap(f, d->why, 4, strlen(head), 80);
                if (d->remedy) {
                        fputs("    Remedy: ", f);
                        format_wrap(f, d->remedy, 4, 12, 80);
                }
        }
}

static const char *dram_words(const Manager *m, char *buf, size_t size)
{
        PowerFigures pf;

        power_figures(m, &pf);
        if (pf.dram_watts >= 0) {
                snprintf(buf, size, "measured %.2f W", pf.dram_watts);
                return buf;
        }
        return m->power.rapl.n > 0 ? "measured by RAPL (one reading is no interval)"
                                   : "not measured (no RAPL DRAM counter)";
}

int report_text(const Manager *m, const Report *r, const OutOptions *opts, FILE *f)
{
        _cleanup_free_ OutBlock *blocks = NULL;
        _cleanup_free_ OutDomain *domains = NULL;
        OutOptions o = *opts;
        uint64_t ps = m->page_size;
        char a[32], b[32], c[32];
        int k;

        k = report_rows(m, r, &blocks, &domains);
        if (k < 0)
                return k;
        o.page_size = ps;
        k = out_blocks_print(f, blocks, m->table.n, &o);
        if (k < 0)
                return k;
        fprintf(f, "Memory block size: %s; taking what would go offline (%zu blocks, %s) leaves "
                   "%s available (reserve %s)\n",
                format_size(m->table.block_size_bytes, o.exact, a, sizeof(a)), r->summary.offlinable,
                format_size((uint64_t)r->summary.offlinable * m->table.block_size_bytes, o.exact, b,
                            sizeof(b)),
                format_size(r->summary.available_after * ps, o.exact, c, sizeof(c)),
                format_size(r->summary.reserve_pages * ps, o.exact, (char[32]){ 0 }, 32));
        fprintf(f, "MemFree: %s, MemAvailable: %s%s%s\n",
                format_size(m->meminfo.free_kb * 1024, o.exact, a, sizeof(a)),
                format_size(m->meminfo.available_kb * 1024, o.exact, b, sizeof(b)),
                manager_dry_run(m) ? " (dry run: nothing is changed)" : "",
                m->kpf_fd < 0 ? "; pages not counted (reading /proc/kpageflags needs root)" : "");
        report_diagnoses_text(r, f);

        fprintf(f, "\nPower domains (Domains=%s):\n", domain_mode_to_string(m->config.domains));
        o.columns = NULL; /* -o picks the block columns */
        k = out_domains_print(f, domains, r->n_domains, &o);
        if (k < 0)
                return k;
        fprintf(f, "DRAM power %s\n", dram_words(m, a, sizeof(a)));
        k = report_zones_text(m, r, &o, f);
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

int report_json(const Manager *m, const Report *r, FILE *f)
{
        _cleanup_free_ OutBlock *blocks = NULL;
        _cleanup_free_ OutDomain *domains = NULL;
        uint64_t ps = m->page_size, zt[6] = { 0 };
        PowerFigures pf;
        int k;

        k = report_rows(m, r, &blocks, &domains);
        if (k < 0)
                return k;
        power_figures(m, &pf);
        fprintf(f, "{\n  \"version\": \"%s\",\n", PACKAGE_VERSION);
        fprintf(f, "  \"block_size_bytes\": %" PRIu64 ",\n", m->table.block_size_bytes);
        fprintf(f, "  \"page_size_bytes\": %" PRIu64 ",\n", ps);
        fprintf(f, "  \"dry_run\": %s,\n", manager_dry_run(m) ? "true" : "false");
        fprintf(f, "  \"counted\": %s,\n", m->kpf_fd >= 0 ? "true" : "false");
        fprintf(f, "  \"reserve_bytes\": %" PRIu64 ",\n", r->summary.reserve_pages * ps);
        fprintf(f, "  \"available_after_bytes\": %" PRIu64 ",\n", r->summary.available_after * ps);
        fputs("  ", f);
        out_blocks_json(f, blocks, m->table.n);
        fprintf(f, ",\n  \"domains_mode\": \"%s\",\n  ", domain_mode_to_string(m->config.domains));
        out_domains_json(f, domains, r->n_domains);
        if (pf.dram_watts >= 0)
                fprintf(f, ",\n  \"dram_watts_measured\": %.6f", pf.dram_watts);
        else
                fprintf(f, ",\n  \"dram_watts_measured\": null");
        fprintf(f, ",\n  \"zones\": [");
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
                zt[0] += z->present;
                zt[1] += z->managed;
                zt[2] += z->free;
                zt[3] += z->pcp;
                zt[4] += zc.free;
                zt[5] += zc.unknown;
        }
        fprintf(f,
                "\n  ],\n  \"zones_total\": {\"zones\": %d, \"present_pages\": %" PRIu64
                ", \"managed_pages\": %" PRIu64 ", \"free_pages\": %" PRIu64 ", \"pcp_pages\": %" PRIu64
                ", \"counted_free_pages\": %" PRIu64 ", \"unknown_pages\": %" PRIu64 "},\n",
                r->n_zones > 0 ? r->n_zones : 0, zt[0], zt[1], zt[2], zt[3], zt[4], zt[5]);
        fprintf(f,
                "  \"meminfo\": {\"mem_total_kib\": %" PRIu64 ", \"mem_free_kib\": %" PRIu64
                ", \"mem_available_kib\": %" PRIu64 "},\n",
                m->meminfo.total_kb, m->meminfo.free_kb, m->meminfo.available_kb);
        fputs("  \"diagnoses\": [", f);
        for (size_t i = 0; i < r->n_diagnoses; i++) {
                const Diagnosis *d = &r->diagnoses[i];

                fprintf(f, "%s\n    {\"code\": ", i ? "," : "");
                format_json_string(f, d->code);
                fprintf(f, ", \"blocks\": %zu, \"bytes\": %" PRIu64 ", \"why\": ", d->blocks, d->bytes);
                format_json_string(f, d->why);
                fputs(", \"remedy\": ", f);
                if (d->remedy)
                        format_json_string(f, d->remedy);
                else
                        fputs("null", f);
                fputc('}', f);
        }
        fputs("\n  ]\n}\n", f);
        return ferror(f) ? -EIO : 0;
}
