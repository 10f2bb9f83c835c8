/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "scansched.h"
#include "testutil.h"

static MemBlock block(uint32_t index, BlockState state, bool valid, uint64_t used)
{
        MemBlock b = { .index = index, .state = state, .usage_valid = valid };

        b.usage.movable = used;
        b.scanned_ns = valid ? 1000 : 0;
        b.node_free_at_scan = 5000;
        return b;
}

static void test_stale(void)
{
        MemBlock b = block(1, BLOCK_ONLINE, true, 10);
        const uint64_t max = 600 * 1000000000ULL;

        CHECK(!scansched_block_stale(&b, 5000, 2000, max));
        /* node free drift within the threshold: still fresh */
        CHECK(!scansched_block_stale(&b, 5000 + SCANSCHED_NODE_DRIFT_PAGES, 2000, max));
        CHECK(!scansched_block_stale(&b, 5000 - SCANSCHED_NODE_DRIFT_PAGES, 2000, max));
        /* one page more in either direction: stale */
        CHECK(scansched_block_stale(&b, 5001 + SCANSCHED_NODE_DRIFT_PAGES, 2000, max));
        CHECK(scansched_block_stale(&b, 4999 - SCANSCHED_NODE_DRIFT_PAGES, 2000, max));
        /* too old */
        CHECK(scansched_block_stale(&b, 5000, 1000 + max, max));
        CHECK(!scansched_block_stale(&b, 5000, 999 + max, max));
        /* never counted, or invalidated */
        b.usage_valid = false;
        CHECK(scansched_block_stale(&b, 5000, 2000, max));
        /* offline blocks are never counted */
        b = block(2, BLOCK_OFFLINE, false, 0);
        CHECK(!scansched_block_stale(&b, 0, 2000, max));
}

static void test_probe(void)
{
        MemBlock b = block(1, BLOCK_ONLINE, true, 0);

        CHECK(scansched_block_probe(&b));
        b.usage.unmovable = 1;
        CHECK(!scansched_block_probe(&b));
        b = block(1, BLOCK_ONLINE, false, 0);
        CHECK(!scansched_block_probe(&b));
        b = block(1, BLOCK_OFFLINE, true, 0);
        CHECK(!scansched_block_probe(&b));
}

static void test_budget(void)
{
        ScanSched s;
        const uint64_t sec = 1000000000ULL;

        scansched_init(&s);
        CHECK(!scansched_may_scan(&s));
        /* 1% of 2 s = 20 ms of credit */
        scansched_refill(&s, 1.0, 2 * sec, 2 * sec, 4000000);
        CHECK_EQ_INT(s.credit_ns, 20000000);
        CHECK(scansched_may_scan(&s));
        scansched_charge(&s, 20000000);
        CHECK(!scansched_may_scan(&s));
        /* an hour between ticks buys no more than the cap: 2 ticks + one block */
        scansched_refill(&s, 1.0, 3600 * sec, 2 * sec, 4000000);
        CHECK_EQ_INT(s.cap_ns, 2 * 20000000 + 4000000);
        CHECK_EQ_INT(s.credit_ns, s.cap_ns);
        /* overspending leaves a debt that later ticks pay back */
        scansched_init(&s);
        scansched_refill(&s, 0.25, 2 * sec, 2 * sec, 4000000);
        CHECK_EQ_INT(s.credit_ns, 5000000);
        scansched_charge(&s, 9000000);
        CHECK_EQ_INT(s.credit_ns, -4000000);
        scansched_refill(&s, 0.25, 2 * sec, 2 * sec, 4000000);
        CHECK(scansched_may_scan(&s));
        CHECK_EQ_INT(s.credit_ns, 1000000);
        /* but a pathological charge cannot stall scanning for ever */
        scansched_charge(&s, UINT64_MAX);
        CHECK(s.credit_ns >= -4 * (s.cap_ns + 1));
}

static void test_average_rate(void)
{
        /* Over many ticks, CPU spent on counts tracks the budget: 0.25% of a
         * core with 2 s ticks and 4 ms per block = one block every 1.6 ticks. */
        ScanSched s;
        const uint64_t tick = 2000000000ULL, cost = 4000000;
        uint64_t spent = 0;

        scansched_init(&s);
        for (int i = 0; i < 1000; i++) {
                scansched_refill(&s, 0.25, tick, tick, cost);
                while (scansched_may_scan(&s)) {
                        scansched_charge(&s, cost);
                        spent += cost;
                }
        }
        /* 1000 ticks * 2 s * 0.25% = 5 s of CPU; within one block of it */
        CHECK(spent <= 5000000000ULL + cost);
        CHECK(spent >= 5000000000ULL - cost);
}

static void test_next(void)
{
        MemBlock blocks[5] = {
                block(0, BLOCK_ONLINE, true, 1),  block(3, BLOCK_ONLINE, true, 1),
                block(4, BLOCK_ONLINE, false, 0), block(9, BLOCK_ONLINE, true, 1),
                block(10, BLOCK_ONLINE, true, 1),
        };
        BlockTable t = { .blocks = blocks, .n = 5 };
        const bool stale[5] = { true, true, true, false, true };
        ScanSched s;

        for (size_t i = 0; i < 5; i++)
                blocks[i].stale = stale[i];
        scansched_init(&s);
        /* never-counted blocks come first */
        CHECK_EQ_INT(scansched_next(&s, &t), 2);
        blocks[2].stale = false;
        /* then round-robin from the cursor, past it */
        CHECK_EQ_INT(scansched_next(&s, &t), 4); /* 9 is fresh */
        CHECK_EQ_INT(scansched_next(&s, &t), 0); /* wraps */
        CHECK_EQ_INT(scansched_next(&s, &t), 1);
        CHECK_EQ_INT(scansched_next(&s, &t), 4);
        s.cursor = 5; /* a cursor in a hole resumes at the next block */
        CHECK_EQ_INT(scansched_next(&s, &t), 4);
        /* a never-counted block anywhere wins over counted ones before it */
        s.cursor = 0;
        blocks[3].stale = true;
        blocks[3].usage_valid = false;
        CHECK_EQ_INT(scansched_next(&s, &t), 3);
        CHECK_EQ_INT(s.cursor, 10);
        blocks[3].usage_valid = true;
        blocks[3].stale = false;
        for (size_t i = 0; i < 5; i++)
                blocks[i].stale = false;
        CHECK_EQ_INT(scansched_next(&s, &t), -1);
        t.n = 0;
        CHECK_EQ_INT(scansched_next(&s, &t), -1);
}

int main(void)
{
        test_stale();
        test_probe();
        test_budget();
        test_average_rate();
        test_next();
        return test_summary("test-scansched");
}
