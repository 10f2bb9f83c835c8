/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mempowerctl map's drawing: a small machine to the character, 1,024 blocks
 * one cell each within 80 columns, 4,096 blocks four to a cell, colour that
 * takes no columns, narrow terminals, many domains, and the state words. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "testutil.h"
#include "util.h"

#define MiB (UINT64_C(1) << 20)
#define B(i, n, s, u, d, o)                                                                        \
        {                                                                                          \
                .index = i, .node = n, .state = BLOCKMAP_##s, .used = u, .domain = d, .owned = o   \
        }

static const BlockMapDomain small_domains[] = {
    {"node0", "node"},
    {"PNP0C80:00", "device"},
    {"node1", "node"},
};

/* Node 0: blocks 0-11 without 4 and 5, every glyph; node 1: a device
 * offline whole, the rest of the node, and a block in no domain. */
static const BlockMapBlock small[] = {
    B(0, 0, ONLINE, 1.0, "node0", false),         B(1, 0, ONLINE, 0.6, "node0", false),
    B(2, 0, ONLINE, 0.3, "node0", false),         B(3, 0, ONLINE, 0.1, "node0", false),
    B(6, 0, ONLINE, 0.0, "node0", false),         B(7, 0, ONLINE, -1, "node0", false),
    B(8, 0, OFFLINE, -1, "node0", true),          B(9, 0, OFFLINE, -1, "node0", false),
    B(10, 0, GOING_OFFLINE, 0.2, "node0", false), B(11, 0, MODELLED, -1, "node0", false),
    B(16, 1, OFFLINE, -1, "PNP0C80:00", true),    B(17, 1, OFFLINE, -1, "PNP0C80:00", true),
    B(18, 1, OFFLINE, -1, "PNP0C80:00", true),    B(19, 1, OFFLINE, -1, "PNP0C80:00", true),
    B(20, 1, ONLINE, 0.5, "node1", false),        B(21, 1, ONLINE, 0.0, "node1", false),
    B(22, 1, ONLINE, 0.0, "node1", false),        B(23, 1, ONLINE, 0.9, NULL, false),
};

static const char small_golden[] =
    "18 memory blocks of 128M (2.2G), 2 nodes, 3 power domains; one cell per block\n"
    "node 0: 10 blocks (1.2G): 6 online, 40% used, 1 not counted, 1 offline by\n"
    "  mempowerd, 1 offline by others, 1 going offline, 1 offline in the dry run\n"
    "  node0 (node): all 10 blocks\n"
    "   0 #=-:  .? ox>d\n"
    "node 1: 8 blocks (1G): 4 online, 35% used, 4 offline by mempowerd\n"
    "  PNP0C80:00 (device): 4 blocks: 4 offline by mempowerd\n"
    "   0                   oooo\n"
    "  node1 (node): 3 blocks: 3 online, 17% used\n"
    "   0                       -..\n"
    "  in no power domain: 1 block: 1 online, 90% used\n"
    "   0                          #\n"
    "\n"
    "Legend: . empty  : up to 1/4 used  - up to 1/2  = up to 3/4  # more\n"
    "        ? not counted  o offline by mempowerd  x offline by others\n"
    "        > going offline  d offline in the dry run\n";

/* The longest line, in columns (ANSI colour sequences take none). */
static size_t widest(const char *text)
{
        size_t max = 0, col = 0;

        for (const char *p = text; *p; p++) {
                if (*p == '\033') {
                        p += strcspn(p, "m");
                        if (!*p)
                                break;
                        continue;
                }
                if (*p == '\n') {
                        max = col > max ? col : max;
                        col = 0;
                } else
                        col++;
        }
        return col > max ? col : max;
}

/* The cells of the grid's rows: lines of spaces, a number, a space, cells. */
static size_t count_cells(const char *text, char glyph)
{
        size_t n = 0;

        for (const char *p = text; *p;) {
                const char *end = strchrnul(p, '\n'), *q = p + strspn(p, " ");

                if (q > p && *q >= '0' && *q <= '9') {
                        q += strspn(q, "0123456789");
                        if (*q == ' ')
                                for (q++; q < end; q++)
                                        if (*q != ' ' && (!glyph || *q == glyph))
                                                n++;
                }
                p = *end ? end + 1 : end;
        }
        return n;
}

static bool starts_with(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t count_lines(const char *text)
{
        size_t n = 0;

        for (const char *p = text; *p; p++)
                n += *p == '\n';
        return n;
}

static void strip_ansi(char *s)
{
        char *w = s;

        for (char *p = s; *p; p++) {
                if (*p == '\033') {
                        p += strcspn(p, "m");
                        if (!*p)
                                break;
                        continue;
                }
                *w++ = *p;
        }
        *w = '\0';
}

static void test_small(void)
{
        BlockMapOptions o = {.width = 80, .block_size = 128 * MiB, .legend = true};
        BlockMapBlock shuffled[ELEMENTSOF(small)];
        _cleanup_free_ char *text = NULL, *again = NULL, *bare = NULL, *color = NULL;

        CHECK_EQ_INT(blockmap_render(small, ELEMENTSOF(small), small_domains,
                                     ELEMENTSOF(small_domains), &o, &text),
                     0);
        CHECK_EQ_STR(text, small_golden);
        if (text && strcmp(text, small_golden) != 0)
                fprintf(stderr, "---- got ----\n%s-------------\n", text);

        /* the order of the input does not matter */
        for (size_t i = 0; i < ELEMENTSOF(small); i++)
                shuffled[i] = small[(i * 7) % ELEMENTSOF(small)];
        CHECK_EQ_INT(blockmap_render(shuffled, ELEMENTSOF(shuffled), small_domains,
                                     ELEMENTSOF(small_domains), &o, &again),
                     0);
        CHECK_EQ_STR(again, small_golden);

        /* --no-legend: the node and domain lines and the grid only */
        o.legend = false;
        CHECK_EQ_INT(blockmap_render(small, ELEMENTSOF(small), small_domains,
                                     ELEMENTSOF(small_domains), &o, &bare),
                     0);
        CHECK(bare && starts_with(bare, "node 0: 10 blocks"));
        CHECK(bare && !strstr(bare, "Legend"));
        CHECK(bare && strstr(bare, "   0                   oooo\n"));
        CHECK_EQ_INT(count_lines(bare), 11);

        /* colour: escapes around the glyphs, nothing else changes */
        o.legend = true;
        o.color = true;
        CHECK_EQ_INT(blockmap_render(small, ELEMENTSOF(small), small_domains,
                                     ELEMENTSOF(small_domains), &o, &color),
                     0);
        CHECK(color && strstr(color, "\033[1;34mo"));  /* mempowerd's: bold blue */
        CHECK(color && strstr(color, "\033[35mx"));    /* others': magenta */
        CHECK(color && strstr(color, "\033[1;33m>"));  /* going: yellow */
        CHECK(color && strstr(color, "\033[32m#=-:")); /* used: green, one sequence */
        if (color) {
                CHECK_EQ_INT(widest(color), widest(small_golden));
                strip_ansi(color);
                CHECK_EQ_STR(color, small_golden);
        }
}

/* n blocks, 2 GiB each, half on each node; node 1 ends in a 4-block device
 * of which 2 are offline; every 10th block offline by mempowerd, every 25th
 * by someone else. */
static BlockMapBlock *big_machine(size_t n)
{
        BlockMapBlock *b = calloc(n, sizeof(*b));

        if (!b)
                abort();
        for (size_t i = 0; i < n; i++) {
                b[i] = (BlockMapBlock){
                    .index = (uint32_t)i,
                    .node = i < n / 2 ? 0 : 1,
                    .state = BLOCKMAP_ONLINE,
                    .used = (double)(i % 5) / 4.0,
                    .domain = i < n / 2 ? "node0" : "node1",
                };
                if (i % 10 == 9)
                        b[i].state = BLOCKMAP_OFFLINE, b[i].owned = true;
                else if (i % 25 == 24)
                        b[i].state = BLOCKMAP_OFFLINE;
                if (i >= n - 4)
                        b[i].domain = "PNP0C80:00";
        }
        b[n - 1].state = b[n - 2].state = BLOCKMAP_OFFLINE;
        b[n - 1].owned = b[n - 2].owned = true;
        return b;
}

static void test_1024(void)
{
        _cleanup_free_ BlockMapBlock *b = big_machine(1024);
        _cleanup_free_ char *text = NULL;
        BlockMapOptions o = {.width = 80, .block_size = 2048 * MiB, .legend = true};

        CHECK_EQ_INT(blockmap_render(b, 1024, small_domains, ELEMENTSOF(small_domains), &o, &text),
                     0);
        if (!text)
                return;
        CHECK(starts_with(text, "1024 memory blocks of 2G (2T), 2 nodes, 3 power domains; one "
                                "cell per block\n"));
        CHECK(widest(text) <= 80);
        CHECK_EQ_INT(count_cells(text, 0), 1024);
        /* 64 cells a row: 8 rows for node 0, 8 for node 1 and one for the device */
        CHECK(strstr(text, "\n     0 ") && strstr(text, "\n   448 ") && strstr(text, "\n   960 "));
        CHECK_EQ_INT(count_cells(text, 'o'), 102 + 2); /* i % 10 == 9, 1022 and 1023 */
        CHECK_EQ_INT(count_cells(text, 'x'), 40 - 20); /* i % 25 == 24 but not i % 10 == 9 */
        /* 1020 is empty, 1021 a quarter used */
        CHECK(strstr(text, "\n  PNP0C80:00 (device): 4 blocks: 2 online, 12% used, 2 offline "
                           "by mempowerd\n   960                                               "
                           "                     .:oo\n"));
        CHECK(strstr(text, "\n  node0 (node): all 512 blocks\n"));
        CHECK(!strstr(text, "A cell is"));
        if (widest(text) > 80)
                fprintf(stderr, "---- too wide ----\n%s", text);
}

static void test_4096(void)
{
        _cleanup_free_ BlockMapBlock *b = big_machine(4096);
        _cleanup_free_ char *text = NULL, *narrow = NULL;
        BlockMapOptions o = {.width = 80, .block_size = 128 * MiB, .legend = true};

        CHECK_EQ_INT(blockmap_render(b, 4096, small_domains, ELEMENTSOF(small_domains), &o, &text),
                     0);
        if (!text)
                return;
        CHECK(starts_with(text, "4096 memory blocks of 128M (512G), 2 nodes, 3 power domains; "
                                "one cell per 4\n  blocks (512M)\n"));
        CHECK(widest(text) <= 80);
        /* 1,024 cells of 4 blocks; the device's 4 blocks make one */
        CHECK_EQ_INT(count_cells(text, 0), 1024);
        /* a row is 256 blocks: 8 for node 0, 8 for node 1, 1 for the device */
        CHECK(strstr(text, "\n     0 ") && strstr(text, "\n  1792 ") && strstr(text, "\n  3840 "));
        CHECK(!strstr(text, "\n  4096 "));
        /* the counts stay exact: of node 1 (2048-4095), 205 with i % 10 == 9
         * and 4094, 4095 are mempowerd's, 82 with i % 25 == 24 less the 41
         * of those that are also i % 10 == 9 someone else's */
        CHECK(strstr(text, "\nnode 1: 2048 blocks (256G): 1800 online, 43% used, 207 offline by "
                           "mempowerd, 41\n  offline by others\n"));
        CHECK(strstr(text, "A cell is 4 blocks (512M): it shows how much of its online blocks is"));
        /* the device: 2 online (4092 half used, 4093 3/4), 2 offline: the
         * online ones' use */
        CHECK(strstr(text, "\n  PNP0C80:00 (device): 4 blocks: 2 online, 62% used, 2 offline by "
                           "mempowerd\n  3840                                                   "
                           "                    =\n"));

        /* 40 columns: still within them */
        o.width = 40;
        CHECK_EQ_INT(
            blockmap_render(b, 4096, small_domains, ELEMENTSOF(small_domains), &o, &narrow), 0);
        CHECK(narrow && widest(narrow) <= 40);
        CHECK_EQ_INT(count_cells(narrow, 0), 1024);
}

/* 8192 blocks: eight to a cell; 1025: two. The last cell of node 1,
 * 8184-8191, holds 4 blocks of node1 and the device's 4: drawn in both. */
static void test_summarised_sizes(void)
{
        _cleanup_free_ BlockMapBlock *b = big_machine(8192);
        _cleanup_free_ char *text = NULL, *just = NULL;
        BlockMapOptions o = {.width = 80, .legend = true};

        CHECK_EQ_INT(blockmap_render(b, 8192, NULL, 0, &o, &text), 0);
        CHECK(text && strstr(text, "one cell per 8 blocks"));
        CHECK(text && widest(text) <= 80);
        CHECK_EQ_INT(count_cells(text ?: "", 0), 1025);
        CHECK_EQ_INT(blockmap_render(b, 1025, NULL, 0, &o, &just), 0);
        CHECK(just && strstr(just, "one cell per 2 blocks"));
        CHECK(just && widest(just) <= 80);
}

/* A summarised cell: > when one is going offline, else the online ones'
 * use, else o or x (whose most), or d. */
static void test_cell_rules(void)
{
        BlockMapBlock b[16];
        _cleanup_free_ char *text = NULL;
        BlockMapOptions o = {.width = 80, .cells_max = 4};

        for (size_t i = 0; i < 16; i++)
                b[i] = (BlockMapBlock){
                    .index = (uint32_t)i, .state = BLOCKMAP_OFFLINE, .used = -1, .domain = "node0"};
        /* cell 0: offline, 3 of 4 by mempowerd: o */
        b[0].owned = b[1].owned = b[2].owned = true;
        /* cell 1: 1 by mempowerd, 3 by others: x; cell 2: one online, 60% used: = */
        b[4].owned = true;
        b[8].state = BLOCKMAP_ONLINE;
        b[8].used = 0.6;
        /* cell 3: one going offline among online blocks: > */
        b[12].state = b[13].state = BLOCKMAP_ONLINE;
        b[12].used = b[13].used = 0;
        b[14].state = BLOCKMAP_GOING_OFFLINE;
        CHECK_EQ_INT(blockmap_render(b, 16, NULL, 0, &o, &text), 0);
        CHECK_EQ_STR(text, "node 0: 16 blocks: 3 online, 20% used, 4 offline by mempowerd, 8 "
                           "offline by\n"
                           "  others, 1 going offline\n"
                           "  node0: all 16 blocks\n"
                           "   0 ox=>\n");
}

/* Domains=block: more domains than a node shows apart */
static void test_many_domains(void)
{
        static char names[64][16];
        BlockMapBlock b[64];
        _cleanup_free_ char *text = NULL;
        BlockMapOptions o = {.width = 80};

        for (size_t i = 0; i < 64; i++) {
                snprintf(names[i], sizeof(names[i]), "memory%zu", i);
                b[i] = (BlockMapBlock){
                    .index = (uint32_t)i, .state = BLOCKMAP_ONLINE, .used = 0, .domain = names[i]};
        }
        CHECK_EQ_INT(blockmap_render(b, 64, NULL, 0, &o, &text), 0);
        CHECK_EQ_STR(text, "node 0: 64 blocks: 64 online, 0% used\n"
                           "  more than 16 power domains: drawn together\n"
                           "   0 ........ ........ ........ ........ ........ ........ ........ "
                           "........\n");
}

static void test_no_blocks(void)
{
        _cleanup_free_ char *text = NULL;
        BlockMapOptions o = {.legend = true};
        BlockMapBlock bad = {.state = _BLOCKMAP_STATE_MAX};

        CHECK_EQ_INT(blockmap_render(NULL, 0, NULL, 0, &o, &text), 0);
        CHECK_EQ_STR(text, "0 memory blocks, 0 nodes; one cell per block\n\n"
                           "Legend: . empty  : up to 1/4 used  - up to 1/2  = up to 3/4  # more\n"
                           "        ? not counted  o offline by mempowerd  x offline by others\n"
                           "        > going offline\n");
        CHECK_EQ_INT(blockmap_render(&bad, 1, NULL, 0, &o, &text), -EINVAL);
}

static void test_state_words(void)
{
        static const struct {
                const char *state, *action;
                int r;
                BlockMapState want;
        } t[] = {
            {"online", "offline", 0, BLOCKMAP_ONLINE},
            {"online", "evacuating", 0, BLOCKMAP_GOING_OFFLINE},
            {"online", "dry-run-offline", 0, BLOCKMAP_MODELLED},
            {"online", NULL, 0, BLOCKMAP_ONLINE},
            {"going-offline", "going-offline", 0, BLOCKMAP_GOING_OFFLINE},
            {"offline", "offlined", 0, BLOCKMAP_OFFLINE},
            {"offline", "offline-other", 0, BLOCKMAP_OFFLINE},
            {"online_movable", "", -EINVAL, _BLOCKMAP_STATE_INVALID},
            {"unknown", "", -EINVAL, _BLOCKMAP_STATE_INVALID},
            {"", "", -EINVAL, _BLOCKMAP_STATE_INVALID},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                BlockMapState s = _BLOCKMAP_STATE_INVALID;

                CHECK_EQ_INT(blockmap_state_from_words(t[i].state, t[i].action, &s), t[i].r);
                CHECK_EQ_INT(s, t[i].want);
        }
        CHECK_EQ_INT(blockmap_state_from_words(NULL, "", &(BlockMapState){0}), -EINVAL);
}

int main(void)
{
        test_small();
        test_1024();
        test_4096();
        test_summarised_sizes();
        test_cell_rules();
        test_many_domains();
        test_no_blocks();
        test_state_words();
        return test_summary("test-blockmap");
}
