/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockmap.h"
#include "format.h"
#include "util.h"

#define BLOCKMAP_ROW_CELLS_MAX 64U
#define BLOCKMAP_GROUP         8U /* cells between two spaces */
#define BLOCKMAP_INDENT        2U

#define ANSI_RESET   "\033[0m"
#define ANSI_GREEN   "\033[32m"
#define ANSI_DIM     "\033[2m"
#define ANSI_BLUE    "\033[1;34m"
#define ANSI_MAGENTA "\033[35m"
#define ANSI_YELLOW  "\033[1;33m"
#define ANSI_CYAN    "\033[36m"

int blockmap_state_from_words(const char *state, const char *action, BlockMapState *ret)
{
        BlockMapState s;

        if (!state || !ret)
                return -EINVAL;
        if (!action)
                action = "";
        if (strcmp(state, "online") == 0) {
                if (strcmp(action, "evacuating") == 0)
                        s = BLOCKMAP_GOING_OFFLINE;
                else if (strcmp(action, "dry-run-offline") == 0)
                        s = BLOCKMAP_MODELLED;
                else
                        s = BLOCKMAP_ONLINE;
        } else if (strcmp(state, "going-offline") == 0)
                s = BLOCKMAP_GOING_OFFLINE;
        else if (strcmp(state, "offline") == 0)
                s = BLOCKMAP_OFFLINE;
        else
                return -EINVAL;
        *ret = s;
        return 0;
}

/* ---- counting ---- */

typedef struct Counts {
        size_t blocks;
        size_t online;  /* state online, counted or not */
        size_t counted; /* of those, with a count */
        double used;    /* sum of the counted ones' shares */
        size_t owned;   /* offline, mempowerd's */
        size_t other;   /* offline, someone else's */
        size_t going;
        size_t modelled;
} Counts;

static void counts_add(Counts *c, const BlockMapBlock *b)
{
        c->blocks++;
        switch (b->state) {
        case BLOCKMAP_ONLINE:
                c->online++;
                if (b->used >= 0) {
                        c->counted++;
                        c->used += b->used > 1 ? 1 : b->used;
                }
                break;
        case BLOCKMAP_OFFLINE:
                if (b->owned)
                        c->owned++;
                else
                        c->other++;
                break;
        case BLOCKMAP_GOING_OFFLINE:
                c->going++;
                break;
        default:
                c->modelled++;
                break;
        }
}

/* "180 online, 12% used, 4 offline by mempowerd": what there is of each */
static void counts_text(const Counts *c, char *buf, size_t size)
{
        size_t len = 0;

#define PART(...)                                                                                  \
        do {                                                                                       \
                if (len < size)                                                                    \
                        len += (size_t)snprintf(buf + len, size - len, "%s", len ? ", " : "");     \
                if (len < size)                                                                    \
                        len += (size_t)snprintf(buf + len, size - len, __VA_ARGS__);               \
        } while (0)

        buf[0] = '\0';
        if (c->online > 0)
                PART("%zu online", c->online);
        if (c->counted > 0) {
                double pct = 100.0 * c->used / (double)c->counted;

                if (pct > 0 && pct < 0.5)
                        PART("<1%% used");
                else
                        PART("%.0f%% used", pct);
        }
        if (c->online > c->counted)
                PART("%zu not counted", c->online - c->counted);
        if (c->owned > 0)
                PART("%zu offline by mempowerd", c->owned);
        if (c->other > 0)
                PART("%zu offline by others", c->other);
        if (c->going > 0)
                PART("%zu going offline", c->going);
        if (c->modelled > 0)
                PART("%zu offline in the dry run", c->modelled);
#undef PART
}

/* ---- cells ---- */

/* A cell of the grid counts its blocks as a node or domain does. */
typedef Counts Cell;

static char fill_glyph(double used)
{
        if (used <= 0)
                return '.';
        if (used <= 0.25)
                return ':';
        if (used <= 0.5)
                return '-';
        if (used <= 0.75)
                return '=';
        return '#';
}

static char cell_glyph(const Cell *c)
{
        if (c->blocks == 0)
                return ' ';
        if (c->going > 0)
                return '>';
        if (c->online > 0) {
                if (c->counted < c->online)
                        return '?';
                return fill_glyph(c->used / (double)c->online);
        }
        if (c->modelled > 0)
                return 'd';
        return c->owned >= c->other ? 'o' : 'x';
}

static const char *glyph_color(char g)
{
        switch (g) {
        case ':':
        case '-':
        case '=':
        case '#':
                return ANSI_GREEN;
        case '?':
                return ANSI_DIM;
        case 'o':
                return ANSI_BLUE;
        case 'x':
                return ANSI_MAGENTA;
        case '>':
                return ANSI_YELLOW;
        case 'd':
                return ANSI_CYAN;
        default:
                return NULL;
        }
}

/* ---- layout ---- */

typedef struct Layout {
        size_t width;
        size_t per_cell;  /* blocks per cell, a power of two */
        size_t row_cells; /* cells per row, a multiple of BLOCKMAP_GROUP */
        int label_width;  /* digits of the largest row label */
        bool color;
} Layout;

static int digits(uint64_t v)
{
        int d = 1;

        while (v >= 10) {
                v /= 10;
                d++;
        }
        return d;
}

/* A heading: words wrapped at the width, continued 2 columns further in. */
static void put_heading(FILE *f, size_t indent, const char *s, size_t width)
{
        fprintf(f, "%*s", (int)indent, "");
        format_wrap(f, s, indent + 2, indent, width);
}

/* The rows of one group: blocks (pointers, ascending index) in rows of
 * row_cells cells of per_cell blocks, each row labelled by its first index. */
static int draw_rows(FILE *f, const Layout *l, const BlockMapBlock *const *v, size_t n)
{
        uint64_t span = (uint64_t)l->row_cells * l->per_cell;
        _cleanup_free_ Cell *cells = calloc(l->row_cells, sizeof(Cell));

        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < n;) {
                uint64_t start = v[i]->index / span * span;
                const char *cur = NULL;
                size_t last = 0;

                memset(cells, 0, l->row_cells * sizeof(Cell));
                for (; i < n && v[i]->index < start + span; i++) {
                        const BlockMapBlock *b = v[i];
                        Cell *c = &cells[(b->index - start) / l->per_cell];

                        counts_add(c, b);
                }
                for (size_t k = 0; k < l->row_cells; k++)
                        if (cells[k].blocks > 0)
                                last = k;
                fprintf(f, "%*s%*" PRIu64 " ", (int)BLOCKMAP_INDENT, "", l->label_width, start);
                for (size_t k = 0; k <= last; k++) {
                        char g = cell_glyph(&cells[k]);

                        if (k > 0 && k % BLOCKMAP_GROUP == 0)
                                fputc(' ', f);
                        if (l->color && g != ' ') {
                                const char *want = glyph_color(g);

                                if (want != cur) {
                                        if (cur)
                                                fputs(ANSI_RESET, f);
                                        if (want)
                                                fputs(want, f);
                                        cur = want;
                                }
                        }
                        fputc(g, f);
                }
                if (cur)
                        fputs(ANSI_RESET, f);
                fputc('\n', f);
        }
        return 0;
}

static int index_compare(const void *a, const void *b)
{
        const BlockMapBlock *x = *(const BlockMapBlock *const *)a,
                            *y = *(const BlockMapBlock *const *)b;

        return x->index < y->index ? -1 : x->index > y->index;
}

/* Nodes ascending, no node (-1) last. */
static int node_compare(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;

        if (x < 0 || y < 0)
                return (x < 0) - (y < 0);
        return x < y ? -1 : x > y;
}

static void legend(FILE *f, const Layout *l, bool modelled)
{
        static const struct {
                char glyph;
                const char *text;
        } items[] = {
            {'.', "empty"},
            {':', "up to 1/4 used"},
            {'-', "up to 1/2"},
            {'=', "up to 3/4"},
            {'#', "more"},
            {'?', "not counted"},
            {'o', "offline by mempowerd"},
            {'x', "offline by others"},
            {'>', "going offline"},
            {'d', "offline in the dry run"},
        };
        const size_t indent = 8;
        size_t col;

        fputs("Legend:", f);
        col = 7;
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                size_t len = 2 + strlen(items[i].text);
                const char *c = l->color ? glyph_color(items[i].glyph) : NULL;

                if (items[i].glyph == 'd' && !modelled)
                        continue;
                if (col > indent && col + 2 + len > l->width) {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                } else {
                        fputs(col == 7 ? " " : "  ", f);
                        col += col == 7 ? 1 : 2;
                }
                fprintf(f, "%s%c%s %s", c ? c : "", items[i].glyph, c ? ANSI_RESET : "",
                        items[i].text);
                col += len;
        }
        fputc('\n', f);
}

static const char *domain_of(const BlockMapBlock *b)
{
        return b->domain && b->domain[0] ? b->domain : NULL;
}

static bool domain_equal(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *domain_kind(const BlockMapDomain *domains, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (domains[i].name && strcmp(domains[i].name, name) == 0)
                        return domains[i].kind;
        return NULL;
}

static int render(FILE *f, const BlockMapBlock *const *v, size_t n, const BlockMapDomain *domains,
                  size_t n_domains, const BlockMapOptions *o)
{
        _cleanup_free_ const BlockMapBlock **group = NULL;
        _cleanup_free_ int *nodes = NULL;
        size_t n_nodes = 0, cells_max = o->cells_max ? o->cells_max : BLOCKMAP_CELLS_MAX, avail;
        bool modelled = false;
        char line[512], text[256], a[32], b[32];
        Layout l = {
            .width = o->width ? o->width : 80,
            .per_cell = 1,
            .row_cells = BLOCKMAP_ROW_CELLS_MAX,
            .color = o->color,
        };
        int r;

        group = calloc(n ? n : 1, sizeof(*group));
        nodes = calloc(n ? n : 1, sizeof(*nodes));
        if (!group || !nodes)
                return -ENOMEM;

        while (n / l.per_cell + (n % l.per_cell ? 1 : 0) > cells_max)
                l.per_cell *= 2;
        l.label_width = n > 0 ? digits(v[n - 1]->index) : 1;
        avail = l.width > BLOCKMAP_INDENT + (size_t)l.label_width + 1
                    ? l.width - BLOCKMAP_INDENT - (size_t)l.label_width - 1
                    : 0;
        while (l.row_cells > BLOCKMAP_GROUP &&
               l.row_cells + l.row_cells / BLOCKMAP_GROUP - 1 > avail)
                l.row_cells -= BLOCKMAP_GROUP;

        for (size_t i = 0; i < n; i++) {
                int node = v[i]->node < 0 ? -1 : v[i]->node;
                bool seen = false;

                modelled = modelled || v[i]->state == BLOCKMAP_MODELLED;
                for (size_t k = 0; k < n_nodes && !seen; k++)
                        seen = nodes[k] == node;
                if (!seen)
                        nodes[n_nodes++] = node;
        }
        qsort(nodes, n_nodes, sizeof(*nodes), node_compare);

        if (o->legend) {
                size_t len;

                len = (size_t)snprintf(line, sizeof(line), "%zu memory block%s", n,
                                       n == 1 ? "" : "s");
                if (o->block_size)
                        len += (size_t)snprintf(line + len, sizeof(line) - len, " of %s (%s)",
                                                format_bytes(o->block_size, a, sizeof(a)),
                                                format_bytes(o->block_size * n, b, sizeof(b)));
                len += (size_t)snprintf(line + len, sizeof(line) - len, ", %zu node%s", n_nodes,
                                        n_nodes == 1 ? "" : "s");
                if (n_domains > 0)
                        len +=
                            (size_t)snprintf(line + len, sizeof(line) - len, ", %zu power domain%s",
                                             n_domains, n_domains == 1 ? "" : "s");
                len += (size_t)snprintf(line + len, sizeof(line) - len, "; ");
                if (l.per_cell == 1)
                        snprintf(line + len, sizeof(line) - len, "one cell per block");
                else if (o->block_size)
                        snprintf(line + len, sizeof(line) - len, "one cell per %zu blocks (%s)",
                                 l.per_cell,
                                 format_bytes(o->block_size * l.per_cell, a, sizeof(a)));
                else
                        snprintf(line + len, sizeof(line) - len, "one cell per %zu blocks",
                                 l.per_cell);
                put_heading(f, 0, line, l.width);
        }

        for (size_t k = 0; k < n_nodes; k++) {
                const char *doms[BLOCKMAP_DOMAINS_MAX + 1];
                size_t n_doms = 0, n_node = 0;
                Counts c = {0};

                for (size_t i = 0; i < n; i++) {
                        const char *d = domain_of(v[i]);
                        bool seen = false;

                        if ((v[i]->node < 0 ? -1 : v[i]->node) != nodes[k])
                                continue;
                        counts_add(&c, v[i]);
                        group[n_node++] = v[i];
                        for (size_t j = 0; j < n_doms && !seen; j++)
                                seen = domain_equal(doms[j], d);
                        if (!seen && n_doms <= BLOCKMAP_DOMAINS_MAX)
                                doms[n_doms++] = d; /* in order of their lowest block */
                }
                counts_text(&c, text, sizeof(text));
                if (nodes[k] < 0)
                        snprintf(line, sizeof(line), "no node: %zu block%s", c.blocks,
                                 c.blocks == 1 ? "" : "s");
                else
                        snprintf(line, sizeof(line), "node %d: %zu block%s", nodes[k], c.blocks,
                                 c.blocks == 1 ? "" : "s");
                if (o->block_size)
                        snprintf(line + strlen(line), sizeof(line) - strlen(line), " (%s)",
                                 format_bytes(o->block_size * c.blocks, a, sizeof(a)));
                snprintf(line + strlen(line), sizeof(line) - strlen(line), ": %s", text);
                put_heading(f, 0, line, l.width);

                if (n_doms > BLOCKMAP_DOMAINS_MAX) {
                        snprintf(line, sizeof(line), "more than %u power domains: drawn together",
                                 BLOCKMAP_DOMAINS_MAX);
                        put_heading(f, 2, line, l.width);
                        r = draw_rows(f, &l, group, n_node);
                        if (r < 0)
                                return r;
                        continue;
                }
                for (size_t j = 0; j < n_doms; j++) {
                        const char *kind;
                        size_t m = 0;
                        Counts dc = {0};

                        for (size_t i = 0; i < n; i++) {
                                if ((v[i]->node < 0 ? -1 : v[i]->node) != nodes[k] ||
                                    !domain_equal(domain_of(v[i]), doms[j]))
                                        continue;
                                counts_add(&dc, v[i]);
                                group[m++] = v[i];
                        }
                        /* a domain that is all of the node: its counts are the node's */
                        if (dc.blocks == c.blocks)
                                snprintf(text, sizeof(text), "all %zu block%s", dc.blocks,
                                         dc.blocks == 1 ? "" : "s");
                        else {
                                size_t len =
                                    (size_t)snprintf(text, sizeof(text), "%zu block%s: ", dc.blocks,
                                                     dc.blocks == 1 ? "" : "s");

                                counts_text(&dc, text + len, sizeof(text) - len);
                        }
                        kind = doms[j] ? domain_kind(domains, n_domains, doms[j]) : NULL;
                        if (!doms[j])
                                snprintf(line, sizeof(line), "in no power domain: %s", text);
                        else if (kind)
                                /* a name fits the narrowest width promised (40) */
                                snprintf(line, sizeof(line), "%.24s (%s): %s", doms[j], kind, text);
                        else
                                snprintf(line, sizeof(line), "%.24s: %s", doms[j], text);
                        put_heading(f, 2, line, l.width);
                        r = draw_rows(f, &l, group, m);
                        if (r < 0)
                                return r;
                }
        }

        if (o->legend) {
                fputc('\n', f);
                legend(f, &l, modelled);
                if (l.per_cell > 1) {
                        if (o->block_size)
                                snprintf(line, sizeof(line),
                                         "A cell is %zu blocks (%s):", l.per_cell,
                                         format_bytes(o->block_size * l.per_cell, a, sizeof(a)));
                        else
                                snprintf(line, sizeof(line), "A cell is %zu blocks:", l.per_cell);
                        snprintf(text, sizeof(text),
                                 "%s it shows how much of its online blocks is used; o, x or d "
                                 "when none is online; > when one is going offline.",
                                 line);
                        format_wrap(f, text, 0, 0, l.width);
                }
        }
        return 0;
}

int blockmap_render(const BlockMapBlock *blocks, size_t n, const BlockMapDomain *domains,
                    size_t n_domains, const BlockMapOptions *o, char **ret)
{
        _cleanup_free_ const BlockMapBlock **v = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if ((!blocks && n > 0) || (!domains && n_domains > 0) || !o || !ret)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (blocks[i].state < 0 || blocks[i].state >= _BLOCKMAP_STATE_MAX)
                        return -EINVAL;
        v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = &blocks[i];
        qsort(v, n, sizeof(*v), index_compare);

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        r = render(f, v, n, domains, n_domains, o);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(text);
                return r;
        }
        *ret = text;
        return 0;
}
