/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Tables for people, as lsmem prints them: named columns, a default set,
 * "-o LIST" to pick others ("-o +COL" adds to the defaults), every cell
 * text, widths from the widest cell. The caller formats numbers, so one
 * table uses one unit style (format_size: human sizes, or exact bytes with
 * --bytes). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct TableColumn {
        const char *name; /* upper case, as printed and as -o takes it */
        bool right;       /* right-aligned (numbers) */
        const char *help; /* one line for --help / the man page */
} TableColumn;

typedef struct Table {
        const TableColumn *columns;
        size_t n_columns;
        size_t shown[32]; /* column indices, in order */
        size_t n_shown;
        char **cells;     /* row-major, n_columns per row; NULL prints empty */
        size_t n_rows, allocated_rows;
} Table;

/* defaults: the columns shown without -o, comma-separated. -EINVAL for a
 * name that is not a column (a programming error). */
int table_init(Table *t, const TableColumn *columns, size_t n_columns, const char *defaults);
void table_free(Table *t);

/* "-o" as lsmem takes it: "A,B" shows exactly those, "+A,B" adds them to
 * what is shown. Case does not matter. -EINVAL for an unknown name (its
 * first 63 characters in *bad) or more than 32 columns; t is unchanged
 * then. */
int table_select(Table *t, const char *spec, char bad[64]);

/* A new row, all cells empty. -ENOMEM. */
int table_add_row(Table *t);
/* Set a cell of the last row. -ENOMEM, -EINVAL (no row, bad column). */
int table_set(Table *t, size_t column, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print the shown columns; header: the column names first. Columns are
 * separated by one space, the last one not padded. */
int table_print(const Table *t, FILE *f, bool header);
