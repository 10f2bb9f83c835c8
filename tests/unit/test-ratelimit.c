/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The message rate limiter: a burst per window and key, the count of what
 * a window held back handed to the first message of the next, keys of one
 * call site apart by block, and slot collisions that never hold back more. */
#include <stdlib.h>

#include "ratelimit.h"
#include "testutil.h"

#define SEC 1000000ULL

static RateLimitTable *table_new(unsigned burst, uint64_t interval)
{
        RateLimitTable *t = calloc(1, sizeof(*t));

        if (!t)
                abort();
        t->burst = burst;
        t->interval_usec = interval;
        return t;
}

static void test_burst_and_window(void)
{
        RateLimitTable *t = table_new(3, 60 * SEC);
        uint64_t k = ratelimit_key("manager.c", 1119, UINT32_MAX);
        unsigned held = 99, passed = 0;

        /* a warning at every 20 ms look for 10 s: 500 tries, 3 go out */
        for (unsigned i = 0; i < 500; i++) {
                if (ratelimit_check(t, k, 1000 * SEC + i * 20000, &held)) {
                        passed++;
                        CHECK_EQ_INT(held, 0);
                }
        }
        CHECK_EQ_INT(passed, 3);
        /* still within the window */
        CHECK(!ratelimit_check(t, k, 1059 * SEC, &held));
        /* a new window: the first message hears of the 498 held back */
        CHECK(ratelimit_check(t, k, 1060 * SEC, &held));
        CHECK_EQ_INT(held, 498);
        CHECK(ratelimit_check(t, k, 1060 * SEC + 1, &held));
        CHECK_EQ_INT(held, 0);
        /* a clock that went back opens a window too, never stalls */
        CHECK(ratelimit_check(t, k, 1060 * SEC, &held));
        CHECK(!ratelimit_check(t, k, 1060 * SEC, &held));
        CHECK(ratelimit_check(t, k, 5 * SEC, &held));
        CHECK_EQ_INT(held, 1);
        free(t);
}

static void test_keys(void)
{
        RateLimitTable *t = table_new(1, 60 * SEC);
        uint64_t a = ratelimit_key("manager.c", 400, 32), b = ratelimit_key("manager.c", 400, 33),
                 c = ratelimit_key("manager.c", 401, 32), d = ratelimit_key("watch.c", 400, 32);

        CHECK(a != 0 && a != b && a != c && a != d && b != c);
        CHECK_EQ_INT(ratelimit_key("x", 1, 2), ratelimit_key("x", 1, 2));
        CHECK(ratelimit_key(NULL, 0, 0) != 0);
        /* one message per key: a block's flood does not silence another's */
        CHECK(ratelimit_check(t, a, SEC, NULL));
        CHECK(!ratelimit_check(t, a, SEC, NULL));
        if ((a % RATELIMIT_SLOTS) != (b % RATELIMIT_SLOTS)) {
                CHECK(ratelimit_check(t, b, SEC, NULL));
                CHECK(!ratelimit_check(t, b, SEC, NULL));
                CHECK(!ratelimit_check(t, a, SEC, NULL));
        }
        free(t);
}

static void test_collision(void)
{
        RateLimitTable *t = table_new(2, 60 * SEC);
        uint64_t a = 5, b = 5 + RATELIMIT_SLOTS; /* the same slot */
        unsigned passed = 0;

        /* two keys sharing a slot, alternating: each fresh every time, so
         * both pass — a collision lets more through, never fewer */
        for (unsigned i = 0; i < 20; i++)
                passed += ratelimit_check(t, i % 2 ? a : b, SEC + i, NULL);
        CHECK_EQ_INT(passed, 20);
        free(t);
}

int main(void)
{
        test_burst_and_window();
        test_keys();
        test_collision();
        return test_summary("test-ratelimit");
}
