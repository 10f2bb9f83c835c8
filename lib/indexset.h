/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A set of non-negative integers written as ranges: "0-7,12,40-41".
 * Used for excluded blocks and for node lists (sysfs "has_memory" uses the
 * same syntax). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IndexRange {
        uint32_t lo, hi; /* inclusive */
} IndexRange;

typedef struct IndexSet {
        IndexRange *ranges; /* sorted, merged, non-overlapping */
        size_t n;
} IndexSet;

#define INDEXSET_NULL ((IndexSet){ 0 })

/* Parse; an empty or blank string is the empty set. Whitespace around items
 * is allowed. Errors: -EINVAL (syntax, lo > hi), -ERANGE (above max). */
int indexset_parse(const char *s, uint32_t max, IndexSet *ret);
bool indexset_contains(const IndexSet *s, uint32_t i);
bool indexset_is_empty(const IndexSet *s);
int indexset_copy(const IndexSet *s, IndexSet *ret);
/* Format back into canonical form ("0-7,12"); "" for the empty set. */
const char *indexset_format(const IndexSet *s, char *buf, size_t size);
void indexset_free(IndexSet *s);
