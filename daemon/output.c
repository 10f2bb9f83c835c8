/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "output.h"
#include "util.h"

enum {
        B_RANGE, B_SIZE, B_STATE, B_NODE, B_ZONES, B_BLOCK, B_DOMAIN, B_USED, B_FREE, B_MOVABLE,
        B_UNMOVABLE, B_UNKNOWN, B_HUGETLB, B_OWNED, B_ACTION,
};
static const TableColumn block_columns[] = {
        [B_RANGE] = { "RANGE", false, "physical addresses of the blocks" },
        [B_SIZE] = { "SIZE", true, "size of the range" },
        [B_STATE] = { "STATE", false, "online, offline or going-offline" },
        [B_NODE] = { "NODE", true, "NUMA node" },
        [B_ZONES] = { "ZONES", false, "the zone the memory is in" },
        [B_BLOCK] = { "BLOCK", false, "block indices (memoryN)" },
        [B_DOMAIN] = { "DOMAIN", false, "power domain" },
        [B_USED] = { "USED", true, "memory in use (movable, unmovable, unknown, hugetlb)" },
        [B_FREE] = { "FREE", true, "free memory" },
        [B_MOVABLE] = { "MOVABLE", true, "memory migration can move" },
        [B_UNMOVABLE] = { "UNMOVABLE", true, "memory no migration moves (slab, page tables)" },
        [B_UNKNOWN] = { "UNKNOWN", true, "kernel-zone pages without flags" },
        [B_HUGETLB] = { "HUGETLB", true, "hugetlbfs pages" },
        [B_OWNED] = { "OWNED", false, "offline because mempowerd took it offline" },
        [B_ACTION] = { "ACTION", false, "what mempowerd would do, or why not" },
};
#define BLOCK_DEFAULTS "RANGE,SIZE,STATE,NODE,ZONES,BLOCK,USED,FREE,UNMOVABLE,UNKNOWN,ACTION"

enum {
        D_DOMAIN, D_KIND, D_SOURCE, D_NODE, D_BLOCKS, D_ONLINE, D_OFFLINE, D_USED, D_MOVABLE,
        D_WATTS, D_ACTION,
};
static const TableColumn domain_columns[] = {
        [D_DOMAIN] = { "DOMAIN", false, "name of the power domain" },
        [D_KIND] = { "KIND", false, "node, device, region or block" },
        [D_SOURCE] = { "SOURCE", false, "what found it: acpi, dax, cxl, a driver, or the kind" },
        [D_NODE] = { "NODE", true, "NUMA node (-1: several)" },
        [D_BLOCKS] = { "BLOCKS", false, "its first and last block" },
        [D_ONLINE] = { "ONLINE", true, "blocks online" },
        [D_OFFLINE] = { "OFFLINE", true, "blocks offline" },
        [D_USED] = { "USED", true, "memory in use in its online blocks" },
        [D_MOVABLE] = { "MOVABLE", true, "movable memory in its online blocks" },
        [D_WATTS] = { "WATTS", true, "estimated saving when offline whole" },
        [D_ACTION] = { "ACTION", false, "what mempowerd would do, saving, or why not" },
};
#define DOMAIN_DEFAULTS "DOMAIN,KIND,NODE,BLOCKS,ONLINE,OFFLINE,USED,MOVABLE,WATTS,ACTION"

static int table_prepare(Table *t, const TableColumn *c, size_t n, const char *defaults,
                         const OutOptions *o)
{
        char bad[64];
        int r;

        r = table_init(t, c, n, defaults);
        if (r < 0)
                return r;
        if (o->columns && table_select(t, o->columns, bad) < 0) {
                fprintf(stderr, "Unknown column '%s'; the columns are:", bad);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "%s%s", i ? "," : " ", c[i].name);
                fputc('\n', stderr);
                return -EINVAL;
        }
        return 0;
}

int out_blocks_table(Table *t, const OutOptions *o)
{
        return table_prepare(t, block_columns, ELEMENTSOF(block_columns), BLOCK_DEFAULTS, o);
}

int out_domains_table(Table *t, const OutOptions *o)
{
        return table_prepare(t, domain_columns, ELEMENTSOF(domain_columns), DOMAIN_DEFAULTS, o);
}

void out_columns_help(FILE *f)
{
        fprintf(f, "Block columns (default %s):\n", BLOCK_DEFAULTS);
        for (size_t i = 0; i < ELEMENTSOF(block_columns); i++)
                fprintf(f, "  %-10s %s\n", block_columns[i].name, block_columns[i].help);
        fprintf(f, "Domain columns (default %s):\n", DOMAIN_DEFAULTS);
        for (size_t i = 0; i < ELEMENTSOF(domain_columns); i++)
                fprintf(f, "  %-10s %s\n", domain_columns[i].name, domain_columns[i].help);
}

static bool is_offline(const OutBlock *b)
{
        return strcmp(b->state, "offline") == 0;
}

static bool same_row(const OutBlock *a, const OutBlock *b)
{
        return b->index == a->index + 1 && b->start_address == a->start_address + a->size_bytes &&
               a->node == b->node && a->counted == b->counted && a->owned == b->owned &&
               strcmp(a->state, b->state) == 0 && strcmp(a->zones, b->zones) == 0 &&
               strcmp(a->domain, b->domain) == 0 && strcmp(a->action, b->action) == 0;
}

static uint64_t used_pages(const OutBlock *b)
{
        return b->movable_pages + b->unmovable_pages + b->unknown_pages + b->hugetlb_pages;
}

int out_blocks_print(FILE *f, const OutBlock *v, size_t n, const OutOptions *o)
{
        _cleanup_(table_free) Table t = { 0 };
        size_t online = 0, offline = 0, offlinable = 0;
        uint64_t ps = o->page_size, sum[5] = { 0 }; /* used, free, movable, unmovable, unknown */
        char a[32], buf[64];
        int r;

        r = out_blocks_table(&t, o);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n;) {
                const OutBlock *first = &v[i];
                uint64_t pages[6] = { 0 }; /* used, free, movable, unmovable, unknown, hugetlb */
                size_t j = i;

                for (;;) {
                        const OutBlock *b = &v[j];

                        pages[0] += used_pages(b);
                        pages[1] += b->free_pages;
                        pages[2] += b->movable_pages;
                        pages[3] += b->unmovable_pages;
                        pages[4] += b->unknown_pages;
                        pages[5] += b->hugetlb_pages;
                        if (is_offline(b))
                                offline++;
                        else
                                online++;
                        offlinable += b->offlinable;
                        if (o->all || j + 1 >= n || !same_row(b, &v[j + 1]))
                                break;
                        j++;
                }
                for (size_t k = 0; k < 5; k++)
                        sum[k] += pages[k];
                r = table_add_row(&t);
                if (r < 0)
                        return r;
                (void)table_set(&t, B_RANGE, "0x%016" PRIx64 "-0x%016" PRIx64, first->start_address,
                                v[j].start_address + v[j].size_bytes - 1);
                (void)table_set(&t, B_SIZE, "%s",
                                format_size(v[j].start_address + v[j].size_bytes -
                                                    first->start_address,
                                            o->exact, a, sizeof(a)));
                (void)table_set(&t, B_STATE, "%s", first->state);
                (void)table_set(&t, B_NODE, "%" PRId32, first->node);
                (void)table_set(&t, B_ZONES, "%s", first->zones);
                if (j == i)
                        snprintf(buf, sizeof(buf), "%" PRIu32, first->index);
                else
                        snprintf(buf, sizeof(buf), "%" PRIu32 "-%" PRIu32, first->index, v[j].index);
                (void)table_set(&t, B_BLOCK, "%s", buf);
                (void)table_set(&t, B_DOMAIN, "%s", *first->domain ? first->domain : "-");
                for (size_t k = 0; k < 6; k++)
                        (void)table_set(&t, B_USED + k, "%s",
                                        first->counted && !is_offline(first)
                                                ? format_size(pages[k] * ps, o->exact, a, sizeof(a))
                                                : "-");
                (void)table_set(&t, B_OWNED, "%s", first->owned ? "yes" : "no");
                r = table_set(&t, B_ACTION, "%s", first->action);
                if (r < 0)
                        return r;
                i = j + 1;
        }
        r = table_print(&t, f, o->legend);
        if (r < 0 || !o->legend)
                return r;
        fprintf(f, "\nBlocks: %zu online, %zu offline, %zu would go offline from here\n", online,
                offline, offlinable);
        fprintf(f, "Online memory: %s used, %s free (%s movable, %s unmovable, %s unknown)\n",
                format_size(sum[0] * ps, o->exact, a, sizeof(a)),
                format_size(sum[1] * ps, o->exact, buf, sizeof(buf)),
                format_size(sum[2] * ps, o->exact, (char[32]){ 0 }, 32),
                format_size(sum[3] * ps, o->exact, (char[32]){ 0 }, 32),
                format_size(sum[4] * ps, o->exact, (char[32]){ 0 }, 32));
        return ferror(f) ? -EIO : 0;
}

int out_domains_print(FILE *f, const OutDomain *v, size_t n, const OutOptions *o)
{
        _cleanup_(table_free) Table t = { 0 };
        size_t offline = 0, eligible = 0;
        double watts = 0;
        char a[32];
        int r;

        r = out_domains_table(&t, o);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const OutDomain *d = &v[i];

                offline += d->saving;
                eligible += d->eligible;
                if (d->saving || d->eligible)
                        watts += d->saving_watts;
                r = table_add_row(&t);
                if (r < 0)
                        return r;
                (void)table_set(&t, D_DOMAIN, "%s", d->name);
                (void)table_set(&t, D_KIND, "%s", d->kind);
                (void)table_set(&t, D_SOURCE, "%s", d->source);
                (void)table_set(&t, D_NODE, "%" PRId32, d->node);
                if (d->blocks > 1)
                        (void)table_set(&t, D_BLOCKS, "%" PRIu32 "-%" PRIu32, d->first_block,
                                        d->last_block);
                else
                        (void)table_set(&t, D_BLOCKS, "%" PRIu32, d->first_block);
                (void)table_set(&t, D_ONLINE, "%" PRIu32, d->online_blocks);
                (void)table_set(&t, D_OFFLINE, "%" PRIu32, d->offline_blocks);
                (void)table_set(&t, D_USED, "%s", format_size(d->used_bytes, o->exact, a, sizeof(a)));
                (void)table_set(&t, D_MOVABLE, "%s",
                                format_size(d->movable_bytes, o->exact, a, sizeof(a)));
                (void)table_set(&t, D_WATTS, "%.3f", d->saving_watts);
                r = table_set(&t, D_ACTION, "%s", d->saving ? "saving" : d->action);
                if (r < 0)
                        return r;
        }
        r = table_print(&t, f, o->legend);
        if (r < 0 || !o->legend)
                return r;
        fprintf(f, "\n%zu domains, %zu offline whole (saving), %zu to empty from here: an "
                   "estimated %.3f W.\n"
                   "WATTS: the estimated saving of the domain offline whole; a domain partly "
                   "offline saves nothing.\n",
                n, offline, eligible, watts);
        return ferror(f) ? -EIO : 0;
}

static void json_str(FILE *f, const char *key, const char *value, bool comma)
{
        fprintf(f, "\"%s\": ", key);
        format_json_string(f, value);
        if (comma)
                fputs(", ", f);
}

static void json_pages(FILE *f, const char *key, uint64_t v, bool counted)
{
        if (counted)
                fprintf(f, ", \"%s\": %" PRIu64, key, v);
        else
                fprintf(f, ", \"%s\": null", key);
}

void out_blocks_json(FILE *f, const OutBlock *v, size_t n)
{
        uint64_t sum[6] = { 0 }, size = 0;
        size_t online = 0, offline = 0, offlinable = 0, counted = 0;

        fputs("\"blocks\": [", f);
        for (size_t i = 0; i < n; i++) {
                const OutBlock *b = &v[i];

                fprintf(f, "%s\n    {\"index\": %" PRIu32 ", \"node\": %" PRId32 ", ", i ? "," : "",
                        b->index, b->node);
                json_str(f, "state", b->state, true);
                json_str(f, "zones", b->zones, true);
                json_str(f, "domain", b->domain, true);
                fprintf(f,
                        "\"start_address\": %" PRIu64 ", \"size_bytes\": %" PRIu64
                        ", \"pages\": %" PRIu64 ", \"counted\": %s",
                        b->start_address, b->size_bytes, b->pages, b->counted ? "true" : "false");
                json_pages(f, "free_pages", b->free_pages, b->counted);
                json_pages(f, "movable_pages", b->movable_pages, b->counted);
                json_pages(f, "unmovable_pages", b->unmovable_pages, b->counted);
                json_pages(f, "unknown_pages", b->unknown_pages, b->counted);
                json_pages(f, "hugetlb_pages", b->hugetlb_pages, b->counted);
                json_pages(f, "nopage_pages", b->nopage_pages, b->counted);
                fprintf(f, ", \"owned\": %s, \"offlinable\": %s, ", b->owned ? "true" : "false",
                        b->offlinable ? "true" : "false");
                json_str(f, "action", b->action, false);
                fputc('}', f);
                if (is_offline(b))
                        offline++;
                else
                        online++;
                offlinable += b->offlinable;
                size += b->size_bytes;
                if (b->counted) {
                        counted++;
                        sum[0] += b->free_pages;
                        sum[1] += b->movable_pages;
                        sum[2] += b->unmovable_pages;
                        sum[3] += b->unknown_pages;
                        sum[4] += b->hugetlb_pages;
                        sum[5] += b->nopage_pages;
                }
        }
        fprintf(f,
                "\n  ],\n  \"blocks_total\": {\"blocks\": %zu, \"online_blocks\": %zu, "
                "\"offline_blocks\": %zu, \"offlinable_blocks\": %zu, \"counted_blocks\": %zu, "
                "\"size_bytes\": %" PRIu64 ", \"free_pages\": %" PRIu64 ", \"movable_pages\": %" PRIu64
                ", \"unmovable_pages\": %" PRIu64 ", \"unknown_pages\": %" PRIu64
                ", \"hugetlb_pages\": %" PRIu64 ", \"nopage_pages\": %" PRIu64 "}",
                n, online, offline, offlinable, counted, size, sum[0], sum[1], sum[2], sum[3],
                sum[4], sum[5]);
}

void out_domains_json(FILE *f, const OutDomain *v, size_t n)
{
        size_t offline = 0, eligible = 0;
        uint64_t used = 0, movable = 0;
        double watts = 0;

        fputs("\"domains\": [", f);
        for (size_t i = 0; i < n; i++) {
                const OutDomain *d = &v[i];

                fprintf(f, "%s\n    {", i ? "," : "");
                json_str(f, "name", d->name, true);
                json_str(f, "kind", d->kind, true);
                json_str(f, "source", d->source, true);
                fprintf(f,
                        "\"node\": %" PRId32 ", \"first_block\": %" PRIu32 ", \"last_block\": %" PRIu32
                        ", \"blocks\": %" PRIu32 ", \"online_blocks\": %" PRIu32
                        ", \"offline_blocks\": %" PRIu32 ", \"used_bytes\": %" PRIu64
                        ", \"movable_bytes\": %" PRIu64 ", \"eligible\": %s, ",
                        d->node, d->first_block, d->last_block, d->blocks, d->online_blocks,
                        d->offline_blocks, d->used_bytes, d->movable_bytes,
                        d->eligible ? "true" : "false");
                json_str(f, "action", d->action, true);
                fprintf(f, "\"saving_watts\": %.6f, \"saving\": %s}", d->saving_watts,
                        d->saving ? "true" : "false");
                offline += d->saving;
                eligible += d->eligible;
                used += d->used_bytes;
                movable += d->movable_bytes;
                if (d->saving || d->eligible)
                        watts += d->saving_watts;
        }
        fprintf(f,
                "\n  ],\n  \"domains_total\": {\"domains\": %zu, \"saving_domains\": %zu, "
                "\"eligible_domains\": %zu, \"used_bytes\": %" PRIu64 ", \"movable_bytes\": %" PRIu64
                ", \"saving_watts\": %.6f}",
                n, offline, eligible, used, movable, watts);
}
