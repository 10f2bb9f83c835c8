/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What `mempowerd --once` and `mempowerctl` print about blocks and power
 * domains, from one description of a row: the same columns in the human
 * tables (-o, --bytes) and the same JSON objects, so a script reads either
 * the same way. The JSON is snake_case with units in the names
 * (size_bytes, free_bytes, saving_watts); every list comes with its
 * totals ("blocks" and "blocks_total", "domains" and "domains_total").
 * tests/schema/mempowerd.schema.json is its schema. Strings are borrowed:
 * they live as long as the caller's data. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "table.h"

typedef struct OutBlock {
        uint32_t index;
        int32_t node;          /* -1: none */
        const char *state;     /* "online", "offline", "going-offline" */
        const char *zones;     /* "Movable", "DMA32", "none" */
        const char *domain;    /* its power domain, "" none */
        const char *action;    /* what mempowerd would do, or why not */
        uint64_t start_address, size_bytes, pages;
        bool counted;          /* the page counts below come from a count */
        uint64_t free_pages, movable_pages, unmovable_pages, unknown_pages, hugetlb_pages,
                nopage_pages;
        bool owned;            /* offline because mempowerd took it offline */
        bool offlinable;       /* would go offline from here */
} OutBlock;

typedef struct OutDomain {
        const char *name, *kind, *source, *action;
        int32_t node;          /* -1: several */
        uint32_t first_block, last_block, blocks, online_blocks, offline_blocks;
        uint64_t used_bytes, movable_bytes; /* in its online blocks */
        bool eligible;         /* would be emptied from here */
        double saving_watts;   /* its estimated saving offline whole */
        bool saving;           /* offline whole by mempowerd now */
} OutDomain;

typedef struct OutOptions {
        const char *columns; /* -o, NULL: the defaults */
        bool exact;          /* --bytes */
        bool legend;         /* header and footer */
        bool all;            /* blocks: one row per block, no ranges */
        uint64_t page_size;  /* blocks: bytes of a page */
} OutOptions;

/* Prepare the table of blocks or domains with o->columns. -EINVAL for an
 * unknown column (said on stderr with the list of known ones). */
int out_blocks_table(Table *t, const OutOptions *o);
int out_domains_table(Table *t, const OutOptions *o);
/* The column names and what they show, for --help. */
void out_columns_help(FILE *f);

/* The rows, then (legend) a line of totals. Neighbouring blocks with the
 * same state, node, zones, domain and action print as one range unless
 * o->all. -ENOMEM, -EIO. */
int out_blocks_print(FILE *f, const OutBlock *b, size_t n, const OutOptions *o);
int out_domains_print(FILE *f, const OutDomain *d, size_t n, const OutOptions *o);

/* "blocks": [...], "blocks_total": {...} (members of an object the caller
 * opened, no trailing comma); the same for domains. */
void out_blocks_json(FILE *f, const OutBlock *b, size_t n);
void out_domains_json(FILE *f, const OutDomain *d, size_t n);
