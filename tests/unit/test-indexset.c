/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexset.h"
#include "testutil.h"

/* Parse s and compare the canonical form with expect. */
static void check_roundtrip(const char *s, uint32_t max, const char *expect)
{
        IndexSet set = INDEXSET_NULL;
        char buf[256];
        int r;

        r = indexset_parse(s, max, &set);
        CHECK_EQ_INT(r, 0);
        if (r < 0) {
                fprintf(stderr, "  while parsing \"%s\"\n", s);
                return;
        }
        CHECK_EQ_STR(indexset_format(&set, buf, sizeof(buf)), expect);
        indexset_free(&set);
}

static void check_error(const char *s, uint32_t max, int expect)
{
        IndexSet set = {.ranges = (IndexRange *)0x1, .n = 42}; /* must stay untouched */
        int r;

        r = indexset_parse(s, max, &set);
        CHECK_EQ_INT(r, expect);
        if (r != expect)
                fprintf(stderr, "  while parsing \"%s\"\n", s);
        CHECK(set.ranges == (IndexRange *)0x1 && set.n == 42);
}

static void test_parse_valid(void)
{
        check_roundtrip("", 100, "");
        check_roundtrip("   ", 100, "");
        check_roundtrip(" \t\n", 100, "");
        check_roundtrip("0", 100, "0");
        check_roundtrip("7", 100, "7");
        check_roundtrip("0-7", 100, "0-7");
        check_roundtrip("0-7,12", 100, "0-7,12");
        check_roundtrip("0-7,12,40-41", 100, "0-7,12,40-41");
        check_roundtrip("3-3", 100, "3");
        /* whitespace around items and around the dash */
        check_roundtrip(" 0-7 , 12 ", 100, "0-7,12");
        check_roundtrip("1 - 3,\t5", 100, "1-3,5");
        check_roundtrip("4\n", 100, "4"); /* sysfs files end in a newline */
        /* sorted, merged (overlapping and adjacent), duplicates removed */
        check_roundtrip("12,0-7", 100, "0-7,12");
        check_roundtrip("5,4,3,2,1", 100, "1-5");
        check_roundtrip("0-3,4-7", 100, "0-7");
        check_roundtrip("0-5,3-9", 100, "0-9");
        check_roundtrip("0-9,3-4", 100, "0-9");
        check_roundtrip("1,1,1", 100, "1");
        check_roundtrip("10-20,0-2,15-30,3", 100, "0-3,10-30");
        check_roundtrip("0,2,4", 100, "0,2,4");
        /* bounds: max is inclusive */
        check_roundtrip("100", 100, "100");
        check_roundtrip("0-100", 100, "0-100");
        check_roundtrip("16777216", 1u << 24, "16777216");
        check_roundtrip("4294967295", UINT32_MAX, "4294967295");
        check_roundtrip("0-4294967295", UINT32_MAX, "0-4294967295");
        check_roundtrip("4294967294,4294967295", UINT32_MAX, "4294967294-4294967295");
        check_roundtrip("007", 100, "7");
        check_roundtrip("0", 0, "0");
}

static void test_parse_null(void)
{
        IndexSet set = INDEXSET_NULL;

        CHECK_EQ_INT(indexset_parse(NULL, 10, &set), 0);
        CHECK(indexset_is_empty(&set));
        CHECK_EQ_INT(indexset_parse("1", 10, NULL), -EINVAL);
}

static void test_parse_errors(void)
{
        check_error(",", 100, -EINVAL);
        check_error("1,", 100, -EINVAL);
        check_error(",1", 100, -EINVAL);
        check_error("1,,2", 100, -EINVAL);
        check_error("1, ,2", 100, -EINVAL);
        check_error("-", 100, -EINVAL);
        check_error("-1", 100, -EINVAL);
        check_error("1-", 100, -EINVAL);
        check_error("1--2", 100, -EINVAL);
        check_error("1-2-3", 100, -EINVAL);
        check_error("+1", 100, -EINVAL);
        check_error("0x10", 100, -EINVAL);
        check_error("a", 100, -EINVAL);
        check_error("1a", 100, -EINVAL);
        check_error("1 2", 100, -EINVAL);
        check_error("1;2", 100, -EINVAL);
        check_error("1.5", 100, -EINVAL);
        check_error("7-3", 100, -EINVAL); /* lo > hi */
        check_error("101", 100, -ERANGE);
        check_error("0-101", 100, -ERANGE);
        check_error("1,200", 100, -ERANGE);
        check_error("16777217", 1u << 24, -ERANGE);
        check_error("4294967296", UINT32_MAX, -ERANGE);
        check_error("99999999999999999999999", UINT32_MAX, -ERANGE);
        check_error("1", 0, -ERANGE);
}

static void test_contains(void)
{
        IndexSet set = INDEXSET_NULL;

        CHECK(!indexset_contains(&set, 0));
        CHECK(!indexset_contains(NULL, 0));
        CHECK(indexset_is_empty(&set));
        CHECK(indexset_is_empty(NULL));

        CHECK_EQ_INT(indexset_parse("0-7,12,40-41,100", 1000, &set), 0);
        CHECK(!indexset_is_empty(&set));
        CHECK_EQ_INT(set.n, 4);
        for (uint32_t i = 0; i <= 7; i++)
                CHECK(indexset_contains(&set, i));
        CHECK(!indexset_contains(&set, 8));
        CHECK(!indexset_contains(&set, 11));
        CHECK(indexset_contains(&set, 12));
        CHECK(!indexset_contains(&set, 13));
        CHECK(!indexset_contains(&set, 39));
        CHECK(indexset_contains(&set, 40));
        CHECK(indexset_contains(&set, 41));
        CHECK(!indexset_contains(&set, 42));
        CHECK(!indexset_contains(&set, 99));
        CHECK(indexset_contains(&set, 100));
        CHECK(!indexset_contains(&set, 101));
        CHECK(!indexset_contains(&set, UINT32_MAX));
        indexset_free(&set);

        /* compare with a brute-force membership table over many items */
        {
                char s[4096];
                bool member[600] = {false};
                size_t len = 0;

                srand(1);
                for (int k = 0; k < 150; k++) {
                        uint32_t lo = (uint32_t)(rand() % 500), hi = lo + (uint32_t)(rand() % 8);

                        len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%u-%u", k ? "," : "",
                                                lo, hi);
                        for (uint32_t i = lo; i <= hi; i++)
                                member[i] = true;
                }
                CHECK_EQ_INT(indexset_parse(s, 1000, &set), 0);
                for (uint32_t i = 0; i < 600; i++)
                        if (indexset_contains(&set, i) != member[i]) {
                                CHECK(indexset_contains(&set, i) == member[i]);
                                fprintf(stderr, "  index %u\n", i);
                        }
                /* normalized: sorted, neither overlapping nor adjacent */
                for (size_t i = 1; i < set.n; i++)
                        CHECK(set.ranges[i].lo > set.ranges[i - 1].hi + 1);
                for (size_t i = 0; i < set.n; i++)
                        CHECK(set.ranges[i].lo <= set.ranges[i].hi);
                indexset_free(&set);
        }
}

static void test_copy(void)
{
        IndexSet a = INDEXSET_NULL, b = INDEXSET_NULL, e = INDEXSET_NULL;
        char buf[64];

        CHECK_EQ_INT(indexset_parse("1-3,9", 100, &a), 0);
        CHECK_EQ_INT(indexset_copy(&a, &b), 0);
        CHECK(b.ranges != a.ranges);
        indexset_free(&a);
        CHECK(a.ranges == NULL && a.n == 0);
        CHECK_EQ_STR(indexset_format(&b, buf, sizeof(buf)), "1-3,9");
        indexset_free(&b);

        CHECK_EQ_INT(indexset_copy(&e, &b), 0);
        CHECK(indexset_is_empty(&b));
        CHECK(b.ranges == NULL);
        CHECK_EQ_INT(indexset_copy(NULL, &b), 0);
        CHECK(indexset_is_empty(&b));
        CHECK_EQ_INT(indexset_copy(&e, NULL), -EINVAL);

        indexset_free(NULL); /* takes NULL */
        indexset_free(&e);   /* and an empty set, twice */
        indexset_free(&e);
}

static void test_format_small_buffer(void)
{
        IndexSet set = INDEXSET_NULL;
        char buf[64];

        CHECK_EQ_INT(indexset_parse("0-7,12,40-41", 100, &set), 0);
        /* exact fit: 12 characters + NUL */
        CHECK_EQ_STR(indexset_format(&set, buf, 13), "0-7,12,40-41");
        CHECK_EQ_STR(indexset_format(&set, buf, 12), "0-7,12...");
        CHECK_EQ_STR(indexset_format(&set, buf, 10), "0-7,12...");
        CHECK_EQ_STR(indexset_format(&set, buf, 9), "0-7...");
        CHECK_EQ_STR(indexset_format(&set, buf, 7), "0-7...");
        CHECK_EQ_STR(indexset_format(&set, buf, 6), "...");
        CHECK_EQ_STR(indexset_format(&set, buf, 4), "...");
        CHECK_EQ_STR(indexset_format(&set, buf, 3), "");
        CHECK_EQ_STR(indexset_format(&set, buf, 1), "");
        CHECK(indexset_format(&set, buf, 0) == buf);
        CHECK(indexset_format(&set, NULL, 10) == NULL);
        for (size_t size = 1; size <= 20; size++) {
                memset(buf, 'X', sizeof(buf));
                indexset_format(&set, buf, size);
                CHECK(strlen(buf) < size);
        }
        indexset_free(&set);

        CHECK_EQ_INT(indexset_parse("4294967290-4294967295", UINT32_MAX, &set), 0);
        CHECK_EQ_STR(indexset_format(&set, buf, sizeof(buf)), "4294967290-4294967295");
        indexset_free(&set);
}

int main(void)
{
        test_parse_valid();
        test_parse_null();
        test_parse_errors();
        test_contains();
        test_copy();
        test_format_small_buffer();
        return test_summary("test-indexset");
}
