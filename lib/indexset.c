/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexset.h"
#include "util.h"

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *skip_blanks(const char *p)
{
        while (is_blank(*p))
                p++;
        return p;
}

/* Decimal digits only: no sign, no base prefix. Values above UINT32_MAX are
 * -ERANGE, like values above the caller's max. */
static int parse_index(const char **p, uint32_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;
        bool overflow = false;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (!overflow) {
                        v = v * 10 + (uint64_t)(*s - '0');
                        if (v > UINT32_MAX)
                                overflow = true;
                }
        }
        *p = s;
        if (overflow)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

static int range_cmp(const void *a, const void *b)
{
        const IndexRange *x = a, *y = b;

        if (x->lo != y->lo)
                return x->lo < y->lo ? -1 : 1;
        if (x->hi != y->hi)
                return x->hi < y->hi ? -1 : 1;
        return 0;
}

/* Sort and merge overlapping or adjacent ranges in place; returns the new count. */
static size_t ranges_normalize(IndexRange *r, size_t n)
{
        size_t out = 0;

        if (n == 0)
                return 0;
        qsort(r, n, sizeof(r[0]), range_cmp);
        for (size_t i = 1; i < n; i++) {
                /* hi + 1 cannot overflow a meaningful way: use 64-bit arithmetic. */
                if ((uint64_t)r[i].lo <= (uint64_t)r[out].hi + 1) {
                        if (r[i].hi > r[out].hi)
                                r[out].hi = r[i].hi;
                } else
                        r[++out] = r[i];
        }
        return out + 1;
}

int indexset_parse(const char *s, uint32_t max, IndexSet *ret)
{
        _cleanup_free_ IndexRange *ranges = NULL;
        size_t n = 0, allocated = 0;
        const char *p;
        int r;

        if (!ret)
                return -EINVAL;
        if (!s)
                s = "";

        p = skip_blanks(s);
        if (*p == '\0') {
                *ret = INDEXSET_NULL;
                return 0;
        }

        for (;;) {
                uint32_t lo, hi;

                p = skip_blanks(p);
                r = parse_index(&p, &lo);
                if (r < 0)
                        return r;
                p = skip_blanks(p);
                if (*p == '-') {
                        p = skip_blanks(p + 1);
                        r = parse_index(&p, &hi);
                        if (r < 0)
                                return r;
                        p = skip_blanks(p);
                } else
                        hi = lo;

                if (lo > max || hi > max)
                        return -ERANGE;
                if (lo > hi)
                        return -EINVAL;

                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 8;
                        IndexRange *nr = realloc(ranges, na * sizeof(ranges[0]));

                        if (!nr)
                                return -ENOMEM;
                        ranges = nr;
                        allocated = na;
                }
                ranges[n++] = (IndexRange){.lo = lo, .hi = hi};

                if (*p == '\0')
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++; /* an item must follow: "1," and "1,,2" are errors */
        }

        n = ranges_normalize(ranges, n);
        *ret = (IndexSet){.ranges = TAKE_PTR(ranges), .n = n};
        return 0;
}

bool indexset_contains(const IndexSet *s, uint32_t i)
{
        size_t lo = 0, hi;

        if (!s || s->n == 0)
                return false;
        hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (i < s->ranges[mid].lo)
                        hi = mid;
                else if (i > s->ranges[mid].hi)
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

bool indexset_is_empty(const IndexSet *s)
{
        return !s || s->n == 0;
}

int indexset_copy(const IndexSet *s, IndexSet *ret)
{
        IndexRange *r;

        if (!ret)
                return -EINVAL;
        if (indexset_is_empty(s)) {
                *ret = INDEXSET_NULL;
                return 0;
        }
        r = malloc(s->n * sizeof(r[0]));
        if (!r)
                return -ENOMEM;
        memcpy(r, s->ranges, s->n * sizeof(r[0]));
        *ret = (IndexSet){.ranges = r, .n = s->n};
        return 0;
}

/* When buf is too small, the output stops after the last whole item that
 * fits, followed by "..." if there is room for it; it is always terminated. */
const char *indexset_format(const IndexSet *s, char *buf, size_t size)
{
        size_t len = 0;

        if (!buf || size == 0)
                return buf;
        buf[0] = '\0';
        if (indexset_is_empty(s))
                return buf;

        for (size_t i = 0; i < s->n; i++) {
                char item[2 * 10 + 3];
                int k;

                if (s->ranges[i].lo == s->ranges[i].hi)
                        k = snprintf(item, sizeof(item), "%s%u", i > 0 ? "," : "", s->ranges[i].lo);
                else
                        k = snprintf(item, sizeof(item), "%s%u-%u", i > 0 ? "," : "",
                                     s->ranges[i].lo, s->ranges[i].hi);
                if (k < 0 || len + (size_t)k >= size) {
                        /* Does not fit: mark the cut, trimming whole items if needed. */
                        while (len > 0 && len + 3 >= size) {
                                char *comma = strrchr(buf, ',');

                                len = comma ? (size_t)(comma - buf) : 0;
                                buf[len] = '\0';
                        }
                        if (len + 3 < size) {
                                memcpy(buf + len, "...", 4);
                                len += 3;
                        }
                        return buf;
                }
                memcpy(buf + len, item, (size_t)k + 1);
                len += (size_t)k;
        }
        return buf;
}

void indexset_free(IndexSet *s)
{
        if (!s)
                return;
        free(s->ranges);
        *s = INDEXSET_NULL;
}
