/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tables: default columns, -o as lsmem takes it, widths, alignment. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "table.h"
#include "testutil.h"
#include "util.h"

enum { C_NAME, C_SIZE, C_STATE, C_NODE };
static const TableColumn columns[] = {
        [C_NAME] = { "NAME" },
        [C_SIZE] = { "SIZE", true },
        [C_STATE] = { "STATE" },
        [C_NODE] = { "NODE", true },
};

static char *print(const Table *t, bool header)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        CHECK_EQ_INT(table_print(t, f, header), 0);
        fclose(f);
        return buf;
}

int main(void)
{
        Table t;
        char bad[64], sz[32], *out;

        CHECK_EQ_INT(table_init(&t, columns, ELEMENTSOF(columns), "NAME,SIZE,STATE"), 0);
        CHECK_EQ_INT(table_add_row(&t), 0);
        CHECK_EQ_INT(table_set(&t, C_NAME, "memory%d", 0), 0);
        CHECK_EQ_INT(table_set(&t, C_SIZE, "%s", format_size(128 << 20, false, sz, sizeof(sz))), 0);
        CHECK_EQ_INT(table_set(&t, C_STATE, "online"), 0);
        CHECK_EQ_INT(table_set(&t, C_NODE, "0"), 0);
        CHECK_EQ_INT(table_add_row(&t), 0);
        CHECK_EQ_INT(table_set(&t, C_NAME, "memory100"), 0);
        CHECK_EQ_INT(table_set(&t, C_SIZE, "%s", format_size(128 << 20, true, sz, sizeof(sz))), 0);
        CHECK_EQ_INT(table_set(&t, C_STATE, "offline"), 0);
        CHECK_EQ_INT(table_set(&t, 99, "x"), -EINVAL);

        out = print(&t, true);
        CHECK_EQ_STR(out, "NAME           SIZE STATE\n"
                          "memory0        128M online\n"
                          "memory100 134217728 offline\n");
        free(out);
        out = print(&t, false);
        CHECK_EQ_STR(out, "memory0        128M online\nmemory100 134217728 offline\n");
        free(out);

        /* -o: exactly these, any case; +: added to what is shown */
        CHECK_EQ_INT(table_select(&t, "state,node", bad), 0);
        out = print(&t, true);
        CHECK_EQ_STR(out, "STATE   NODE\nonline     0\noffline     \n");
        free(out);
        CHECK_EQ_INT(table_select(&t, "+NAME", bad), 0);
        out = print(&t, false);
        CHECK_EQ_STR(out, "online  0 memory0\noffline   memory100\n");
        free(out);
        /* unknown names leave the selection as it was */
        CHECK_EQ_INT(table_select(&t, "NAME,ZONES", bad), -EINVAL);
        CHECK_EQ_STR(bad, "ZONES");
        CHECK_EQ_INT(table_select(&t, "", bad), -EINVAL);
        CHECK_EQ_INT(table_select(&t, "NAME,,SIZE", bad), -EINVAL);
        CHECK_EQ_INT(t.n_shown, 3);
        table_free(&t);

        CHECK_EQ_INT(table_init(&t, columns, ELEMENTSOF(columns), "NAME,BOGUS"), -EINVAL);
        CHECK_EQ_STR(format_size(1536, false, sz, sizeof(sz)), "1.5K");
        CHECK_EQ_STR(format_size(1536, true, sz, sizeof(sz)), "1536");
        return test_summary("test-table");
}
