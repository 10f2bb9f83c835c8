/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config-build.h"
#include "format.h"
#include "report.h"
#include "util.h"

#define MIB (1024.0 * 1024.0)

typedef struct Totals {
        PageUsage usage;
        size_t online, offline, offlinable;
} Totals;

static void totals_add(Totals *t, const MemBlock *b, bool offlinable)
{
        if (b->state == BLOCK_OFFLINE)
                t->offline++;
        else
                t->online++;
        if (offlinable)
                t->offlinable++;
        if (b->usage_valid)
                page_usage_add(&t->usage, &b->usage);
}

/* Two neighbouring blocks print as one range when everything shown is the
 * same and their indices are consecutive. */
static bool same_row(const Manager *m, const MemBlock *a, const MemBlock *b)
{
        bool oa, ob;

        return b->index == a->index + 1 && a->state == b->state && a->node == b->node &&
               a->zones == b->zones &&
               strcmp(manager_block_intent(m, a, &oa), manager_block_intent(m, b, &ob)) == 0;
}

int report_text(const Manager *m, FILE *f)
{
        const BlockTable *t = &m->table;
        uint64_t ps = m->page_size;
        Totals tot = { 0 };
        char zbuf[64], sbuf[32], blocks[32];

        fprintf(f, "%-37s %6s %-13s %4s %-8s %-9s %9s %9s %9s  %s\n", "RANGE", "SIZE", "STATE",
                "NODE", "ZONES", "BLOCK", "USED", "FREE", "UNMOVABLE", "ACTION");
        for (size_t i = 0; i < t->n;) {
                const MemBlock *first = &t->blocks[i];
                PageUsage u = { 0 };
                bool valid = true, offlinable;
                size_t j = i;
                const char *intent = manager_block_intent(m, first, &offlinable);

                for (;;) {
                        const MemBlock *b = &t->blocks[j];
                        bool ob;

                        totals_add(&tot, b, (manager_block_intent(m, b, &ob), ob));
                        if (b->usage_valid)
                                page_usage_add(&u, &b->usage);
                        else
                                valid = false;
                        if (j + 1 >= t->n || !same_row(m, b, &t->blocks[j + 1]))
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
                        fprintf(f, " %8.0fM %8.0fM %8.0fM", (double)page_usage_used(&u) * ps / MIB,
                                (double)u.free * ps / MIB, (double)u.unmovable * ps / MIB);
                else
                        fprintf(f, " %9s %9s %9s", "-", "-", "-");
                fprintf(f, "  %s\n", intent);
                i = j + 1;
        }

        fprintf(f, "\nMemory block size: %s\n",
                format_bytes(t->block_size_bytes, sbuf, sizeof(sbuf)));
        fprintf(f, "Blocks: %zu online, %zu offline, %zu offlinable now\n", tot.online,
                tot.offline, tot.offlinable);
        fprintf(f, "Pages: %.0f MiB free, %.0f MiB movable, %.0f MiB unmovable, %.0f MiB hugetlb\n",
                (double)tot.usage.free * ps / MIB, (double)tot.usage.movable * ps / MIB,
                (double)tot.usage.unmovable * ps / MIB, (double)tot.usage.hugetlb * ps / MIB);
        fprintf(f, "MemFree: %" PRIu64 " MiB, MemAvailable: %" PRIu64 " MiB%s\n",
                m->meminfo.free_kb / 1024, m->meminfo.available_kb / 1024,
                manager_dry_run(m) ? " (dry run: nothing is changed)" : "");
        return ferror(f) ? -EIO : 0;
}

int report_json(const Manager *m, FILE *f)
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
                bool offlinable;
                const char *intent = manager_block_intent(m, b, &offlinable);

                totals_add(&tot, b, offlinable);
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
                                ", \"unmovable\": %" PRIu64 ", \"hugetlb\": %" PRIu64
                                ", \"nopage\": %" PRIu64 ", ",
                                b->usage.free, b->usage.movable, b->usage.unmovable,
                                b->usage.hugetlb, b->usage.nopage);
                else
                        fprintf(f, "\"free\": null, \"movable\": null, \"unmovable\": null, "
                                   "\"hugetlb\": null, \"nopage\": null, ");
                fprintf(f, "\"offlinable\": %s, \"action\": \"%s\"}", offlinable ? "true" : "false",
                        intent);
        }
        fprintf(f, "\n  ],\n");
        fprintf(f,
                "  \"totals\": {\"blocks_online\": %zu, \"blocks_offline\": %zu, "
                "\"blocks_offlinable\": %zu, \"free\": %" PRIu64 ", \"movable\": %" PRIu64
                ", \"unmovable\": %" PRIu64 ", \"hugetlb\": %" PRIu64 "},\n",
                tot.online, tot.offline, tot.offlinable, tot.usage.free, tot.usage.movable,
                tot.usage.unmovable, tot.usage.hugetlb);
        fprintf(f,
                "  \"meminfo\": {\"MemTotal\": %" PRIu64 ", \"MemFree\": %" PRIu64
                ", \"MemAvailable\": %" PRIu64 "}\n}\n",
                m->meminfo.total_kb, m->meminfo.free_kb, m->meminfo.available_kb);
        return ferror(f) ? -EIO : 0;
}
