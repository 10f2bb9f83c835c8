/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "table.h"
#include "util.h"

static int column_find(const Table *t, const char *name, size_t len)
{
        for (size_t i = 0; i < t->n_columns; i++)
                if (strlen(t->columns[i].name) == len && strncasecmp(t->columns[i].name, name, len) == 0)
                        return (int)i;
        return -ENOENT;
}

/* Append the columns of list to shown; -EINVAL as table_select. */
static int parse_list(const Table *t, const char *list, size_t *shown, size_t *n, char bad[64])
{
        for (const char *p = list; *p;) {
                size_t len = strcspn(p, ",");
                int c = column_find(t, p, len);

                if (c < 0 || *n >= ELEMENTSOF(t->shown)) {
                        if (bad)
                                snprintf(bad, 64, "%.*s", (int)(len > 63 ? 63 : len), p);
                        return -EINVAL;
                }
                shown[(*n)++] = (size_t)c;
                p += len;
                if (*p == ',')
                        p++;
        }
        return 0;
}

int table_init(Table *t, const TableColumn *columns, size_t n_columns, const char *defaults)
{
        *t = (Table){ .columns = columns, .n_columns = n_columns };
        return parse_list(t, defaults, t->shown, &t->n_shown, NULL);
}

void table_free(Table *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        t->cells = NULL;
        t->n_rows = t->allocated_rows = 0;
}

int table_select(Table *t, const char *spec, char bad[64])
{
        size_t shown[ELEMENTSOF(t->shown)], n = 0;
        int r;

        if (*spec == '+') {
                memcpy(shown, t->shown, t->n_shown * sizeof(shown[0]));
                n = t->n_shown;
                spec++;
        }
        r = parse_list(t, spec, shown, &n, bad);
        if (r < 0)
                return r;
        if (n == 0) {
                if (bad)
                        snprintf(bad, 64, "%s", "");
                return -EINVAL;
        }
        memcpy(t->shown, shown, n * sizeof(shown[0]));
        t->n_shown = n;
        return 0;
}

int table_add_row(Table *t)
{
        if (t->n_rows == t->allocated_rows) {
                size_t n = t->allocated_rows ? t->allocated_rows * 2 : 16;
                char **c = reallocarray(t->cells, n * t->n_columns, sizeof(*c));

                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated_rows = n;
        }
        memset(t->cells + t->n_rows * t->n_columns, 0, t->n_columns * sizeof(*t->cells));
        t->n_rows++;
        return 0;
}

int table_set(Table *t, size_t column, const char *fmt, ...)
{
        char **cell;
        va_list ap;
        int r;

        if (t->n_rows == 0 || column >= t->n_columns)
                return -EINVAL;
        cell = &t->cells[(t->n_rows - 1) * t->n_columns + column];
        free(*cell);
        va_start(ap, fmt);
        r = vasprintf(cell, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *cell = NULL;
                return -ENOMEM;
        }
        return 0;
}

static const char *cell_of(const Table *t, size_t row, size_t column)
{
        const char *s = t->cells[row * t->n_columns + column];

        return s ? s : "";
}

int table_print(const Table *t, FILE *f, bool header)
{
        size_t width[ELEMENTSOF(t->shown)];

        for (size_t k = 0; k < t->n_shown; k++) {
                size_t c = t->shown[k];

                width[k] = header ? strlen(t->columns[c].name) : 0;
                for (size_t row = 0; row < t->n_rows; row++)
                        width[k] = u64_max(width[k], strlen(cell_of(t, row, c)));
        }
        for (size_t row = 0; row < t->n_rows + (header ? 1 : 0); row++) {
                for (size_t k = 0; k < t->n_shown; k++) {
                        size_t c = t->shown[k];
                        const char *s = header && row == 0 ? t->columns[c].name
                                                           : cell_of(t, row - (header ? 1 : 0), c);
                        bool last = k + 1 == t->n_shown;

                        if (k > 0)
                                fputc(' ', f);
                        if (t->columns[c].right)
                                fprintf(f, "%*s", (int)width[k], s);
                        else if (last)
                                fputs(s, f);
                        else
                                fprintf(f, "%-*s", (int)width[k], s);
                }
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}
