/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "indexset.h"
#include "policy.h"
#include "testutil.h"
#include "util.h"

#define PPB 100 /* pages per block in these tests */

static void set_indexset(IndexSet *s, const char *text)
{
        IndexSet n = INDEXSET_NULL;

        if (indexset_parse(text, UINT32_MAX - 1, &n) < 0) {
                fprintf(stderr, "bad index set in test: %s\n", text);
                abort();
        }
        indexset_free(s);
        *s = n;
}

static MemBlock blk(uint32_t index, int node, BlockState state, unsigned zones)
{
        return (MemBlock){
                .index = index,
                .start_pfn = (uint64_t)index * PPB,
                .node = node,
                .state = state,
                .zones = zones,
                .usage_valid = state == BLOCK_ONLINE,
                .usage = { .free = PPB },
        };
}

static MemBlock used_blk(uint32_t index, int node, uint64_t movable)
{
        MemBlock b = blk(index, node, BLOCK_ONLINE, ZONE_MOVABLE_BIT);

        b.usage.movable = movable;
        b.usage.free = PPB - movable;
        return b;
}

static void test_strings(void)
{
        for (int r = 0; r < _PRESSURE_REASON_MAX; r++)
                CHECK(pressure_reason_to_string(r) != NULL);
        CHECK(pressure_reason_to_string(_PRESSURE_REASON_MAX) == NULL);
        CHECK(pressure_reason_to_string(_PRESSURE_REASON_INVALID) == NULL);
        CHECK_EQ_STR(pressure_reason_to_string(PRESSURE_RESERVE_PSI), "reserve+psi");

        for (int v = 0; v < _OFFLINE_VERDICT_MAX; v++) {
                const char *s = offline_verdict_to_string(v);

                CHECK(s != NULL);
                /* Unique names: the report prints them. */
                for (int w = 0; s && w < v; w++)
                        CHECK(strcmp(s, offline_verdict_to_string(w)) != 0);
        }
        CHECK(offline_verdict_to_string(_OFFLINE_VERDICT_MAX) == NULL);
        CHECK(offline_verdict_to_string(_OFFLINE_VERDICT_INVALID) == NULL);
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_OK), "offlinable");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_EXCLUDED), "excluded");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_LOWEST_OF_NODE), "lowest-of-node");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_KERNEL_DMA_ZONE), "kernel-dma-zone");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_SPANS_ZONES), "spans-zones");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_UNMOVABLE_PAGES), "unmovable-pages");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_HUGETLB), "hugetlb");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_NOT_ONLINE), "offline");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_BACKOFF), "backoff");
        CHECK_EQ_STR(offline_verdict_to_string(OFFLINE_UNKNOWN_USAGE), "unknown-usage");
}

static void test_pressure(void)
{
        Config c;
        Pressure p;
        MemSnapshot m = {
                .mem_total_kb = 1024 * 1024, /* 1 GiB */
                .page_size = 4096,
        };

        config_init(&c);
        c.reserve_mib = 64; /* 16384 pages */
        c.reserve_percent = 0;
        c.psi_some_avg10 = 10;

        /* Exactly at the reserve: no pressure. */
        m.mem_available_kb = 64 * 1024;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);
        CHECK(!pressure_is_on(&p));
        CHECK_EQ_INT(p.reserve_pages, 16384);
        CHECK_EQ_INT(p.reserve_pages, config_reserve_pages(&c, m.mem_total_kb, m.page_size));
        CHECK_EQ_INT(p.available_pages, 16384);

        /* One page over: none; one page under: pressure. */
        m.mem_available_kb = 64 * 1024 + 4;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);
        CHECK_EQ_INT(p.available_pages, 16385);
        m.mem_available_kb = 64 * 1024 - 4;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_RESERVE);
        CHECK(pressure_is_on(&p));
        CHECK_EQ_INT(p.available_pages, 16383);

        /* A partial page does not count: 3 kB short of the reserve rounds
         * down to a page short. */
        m.mem_available_kb = 64 * 1024 - 1;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.available_pages, 16383);
        CHECK_EQ_INT(p.reason, PRESSURE_RESERVE);

        /* PSI: strictly above the threshold. */
        m.mem_available_kb = 512 * 1024;
        m.psi_valid = true;
        m.psi_some_avg10 = 10.0;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);
        m.psi_some_avg10 = 10.01;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_PSI);
        /* No PSI on this kernel: the value is ignored. */
        m.psi_valid = false;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);
        /* Threshold 0 disables the PSI test. */
        m.psi_valid = true;
        m.psi_some_avg10 = 0.5;
        c.psi_some_avg10 = 0;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);
        c.psi_some_avg10 = 10;

        /* Both. */
        m.mem_available_kb = 1024;
        m.psi_some_avg10 = 80;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_RESERVE_PSI);

        /* The percentage, when larger, is the reserve. */
        c.reserve_percent = 10; /* 10 % of 1 GiB = 26214.4 pages */
        m.psi_valid = false;
        m.mem_available_kb = 26215 * 4;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reserve_pages, config_reserve_pages(&c, m.mem_total_kb, m.page_size));
        CHECK(p.reserve_pages > 16384);
        CHECK_EQ_INT(p.reason, p.available_pages < p.reserve_pages ? PRESSURE_RESERVE
                                                                    : PRESSURE_NONE);
        m.mem_available_kb = 20000 * 4;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.reason, PRESSURE_RESERVE);

        /* 64 KiB pages. */
        c.reserve_percent = 0;
        m.page_size = 65536;
        m.mem_available_kb = 64 * 1024; /* 1024 pages = reserve */
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), 0);
        CHECK_EQ_INT(p.available_pages, 1024);
        CHECK_EQ_INT(p.reserve_pages, 1024);
        CHECK_EQ_INT(p.reason, PRESSURE_NONE);

        /* Bad page size: ret untouched. */
        p.reason = PRESSURE_PSI;
        p.reserve_pages = 7;
        m.page_size = 0;
        CHECK_EQ_INT(policy_check_pressure(&c, &m, &p), -EINVAL);
        CHECK_EQ_INT(p.reason, PRESSURE_PSI);
        CHECK_EQ_INT(p.reserve_pages, 7);

        config_free(&c);
}

static void test_pick_online(void)
{
        Config c;
        uint32_t ret[16];
        MemBlock t[] = {
                blk(9, 1, BLOCK_OFFLINE, ZONE_MOVABLE_BIT),
                blk(0, 0, BLOCK_ONLINE, ZONE_DMA_BIT),
                blk(3, 0, BLOCK_OFFLINE, ZONE_NORMAL_BIT), /* cannot be movable */
                blk(4, 0, BLOCK_OFFLINE, ZONE_NORMAL_BIT | ZONE_MOVABLE_BIT),
                blk(5, 0, BLOCK_OFFLINE, ZONE_MOVABLE_BIT), /* excluded */
                blk(6, 0, BLOCK_GOING_OFFLINE, ZONE_MOVABLE_BIT),
                blk(7, 0, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
                blk(8, 1, BLOCK_OFFLINE, ZONE_MOVABLE_BIT),
                blk(2, 0, BLOCK_OFFLINE, 0), /* no zone to online into */
        };
        Pressure p = { .reason = PRESSURE_RESERVE, .reserve_pages = 1000 };
        size_t n;

        config_init(&c);
        set_indexset(&c.exclude_blocks, "5");

        /* Target: available + onlined ≥ reserve + one block = 1100. */
        p.available_pages = 1000; /* one block reaches 1100 exactly */
        n = policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret));
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(ret[0], 4);

        p.available_pages = 999; /* one page short after one block */
        n = policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret));
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(ret[0], 4);
        CHECK_EQ_INT(ret[1], 8);

        /* Not enough candidates: all of them, in order. */
        p.available_pages = 0;
        n = policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret));
        CHECK_EQ_INT(n, 3);
        CHECK_EQ_INT(ret[0], 4);
        CHECK_EQ_INT(ret[1], 8);
        CHECK_EQ_INT(ret[2], 9);

        /* ret_size caps. */
        n = policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, 2);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, 0), 0);

        /* PSI alone, plenty available: still one block. */
        p.reason = PRESSURE_PSI;
        p.available_pages = 100000;
        n = policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret));
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(ret[0], 4);
        /* PSI with MemAvailable inside the band: up to the target. */
        p.available_pages = 1050;
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret)), 1);
        p.available_pages = 950;
        p.reason = PRESSURE_RESERVE_PSI;
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret)), 2);

        /* No pressure: nothing, however low MemAvailable looks. */
        p.reason = PRESSURE_NONE;
        p.available_pages = 0;
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret)), 0);

        /* No candidate at all. */
        p.reason = PRESSURE_RESERVE;
        set_indexset(&c.exclude_blocks, "0-100");
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret)), 0);
        CHECK_EQ_INT(policy_pick_online(&c, &p, NULL, 0, PPB, ret, ELEMENTSOF(ret)), 0);

        /* A reserve near the top of the range does not overflow. */
        set_indexset(&c.exclude_blocks, "");
        p.reserve_pages = UINT64_MAX - 10;
        CHECK_EQ_INT(policy_pick_online(&c, &p, t, ELEMENTSOF(t), PPB, ret, ELEMENTSOF(ret)), 4);
        config_free(&c);
}

static void test_backoff(void)
{
        Backoff b = BACKOFF_NULL;
        PageUsage u = { .free = 10, .movable = 80, .unmovable = 10 };
        const uint64_t now = 1000;

        CHECK(backoff_ready(&b, 0));
        CHECK(backoff_ready(&b, now));

        /* Doubling from 10 µs, capped at 100. */
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.attempts, 1);
        CHECK_EQ_INT(b.next_try_usec, now + 10);
        CHECK(!backoff_ready(&b, now + 9));
        CHECK(backoff_ready(&b, now + 10));
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.next_try_usec, now + 20);
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.next_try_usec, now + 40);
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.next_try_usec, now + 80);
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.next_try_usec, now + 100);
        backoff_fail(&b, now, 10, 100);
        CHECK_EQ_INT(b.next_try_usec, now + 100);
        CHECK_EQ_INT(b.attempts, 6);

        backoff_reset(&b);
        CHECK_EQ_INT(b.attempts, 0);
        CHECK(backoff_ready(&b, 0));

        /* No initial wait; max below initial; saturation. */
        backoff_fail(&b, now, 0, 100);
        CHECK(backoff_ready(&b, now));
        backoff_reset(&b);
        backoff_fail(&b, now, 50, 20);
        CHECK_EQ_INT(b.next_try_usec, now + 20);
        b.attempts = UINT32_MAX;
        backoff_fail(&b, now, 10, UINT64_MAX);
        CHECK_EQ_INT(b.attempts, UINT32_MAX);
        CHECK(b.next_try_usec == UINT64_MAX);
        CHECK(!backoff_ready(&b, UINT64_MAX - 1));
        backoff_reset(&b);
        backoff_fail(&b, UINT64_MAX - 5, 10, 100);
        CHECK(b.next_try_usec == UINT64_MAX);

        /* Held until the usage changes: time alone does not help; a change
         * in free pages only is not a change; a change in used counts lifts
         * the hold and keeps the timed wait. */
        backoff_reset(&b);
        CHECK(!backoff_observe(&b, &u)); /* not held */
        backoff_fail(&b, now, 10, 100);
        backoff_hold(&b, &u);
        CHECK(!backoff_ready(&b, now + 1000000));
        u.free = 11;
        CHECK(!backoff_observe(&b, &u));
        CHECK(!backoff_ready(&b, now + 1000000));
        u.movable = 79;
        CHECK(backoff_observe(&b, &u));
        CHECK(!backoff_observe(&b, &u));
        CHECK_EQ_INT(b.attempts, 1);
        CHECK(!backoff_ready(&b, now + 9));
        CHECK(backoff_ready(&b, now + 10));

        backoff_hold(&b, &u);
        u.unmovable = 0;
        CHECK(backoff_observe(&b, &u));
        backoff_hold(&b, &u);
        u.hugetlb = 1;
        CHECK(backoff_observe(&b, &u));
        backoff_hold(&b, &u);
        backoff_reset(&b);
        CHECK(backoff_ready(&b, 0));
}

static void test_mark_lowest(void)
{
        MemBlock t[] = {
                blk(40, 1, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
                blk(33, 1, BLOCK_OFFLINE, ZONE_MOVABLE_BIT), /* lowest of 1, though offline */
                blk(5, 0, BLOCK_ONLINE, ZONE_NORMAL_BIT),
                blk(0, 0, BLOCK_ONLINE, ZONE_DMA_BIT),
                blk(50, -1, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
                blk(60, POLICY_NODES_MAX, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
                blk(34, 1, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
                blk(UINT32_MAX, 2, BLOCK_ONLINE, ZONE_MOVABLE_BIT),
        };
        bool low[ELEMENTSOF(t)];

        memset(low, 0xaa, sizeof(low));
        policy_mark_lowest_of_node(t, ELEMENTSOF(t), low);
        CHECK(!low[0]);
        CHECK(low[1]);
        CHECK(!low[2]);
        CHECK(low[3]);
        CHECK(low[4]);
        CHECK(low[5]);
        CHECK(!low[6]);
        CHECK(low[7]);
        policy_mark_lowest_of_node(NULL, 0, NULL);
}

static void test_offlinable(void)
{
        Config c;
        MemBlock b;
        Backoff bo = BACKOFF_NULL;

        config_init(&c);
        set_indexset(&c.exclude_blocks, "12,20-21");

        b = used_blk(10, 0, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OK);
        CHECK(policy_is_target(&c, &b, false));
        b.zones = ZONE_NORMAL_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OK);
        b.usage.movable = 0;
        b.usage.free = PPB;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OK);

        /* State. */
        b = used_blk(10, 0, 40);
        b.state = BLOCK_OFFLINE;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_NOT_ONLINE);
        CHECK(!policy_is_target(&c, &b, false));
        b.state = BLOCK_GOING_OFFLINE;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_GOING_OFFLINE);
        b.state = _BLOCK_STATE_INVALID;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_NOT_ONLINE);

        /* Excluded; an offline excluded block reports offline first. */
        b = used_blk(12, 0, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_EXCLUDED);
        CHECK(!policy_is_target(&c, &b, false));
        b = used_blk(21, 0, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_EXCLUDED);
        b = used_blk(22, 0, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OK);
        b = used_blk(20, 0, 40);
        b.state = BLOCK_OFFLINE;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_NOT_ONLINE);

        /* Node. */
        b = used_blk(10, -1, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, true, NULL, 0), OFFLINE_NO_NODE);

        /* Zones. */
        b = used_blk(10, 0, 40);
        b.zones = 0;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_SPANS_ZONES);
        CHECK(!policy_is_target(&c, &b, false));
        b.zones = ZONE_DMA_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_KERNEL_DMA_ZONE);
        CHECK(!policy_is_target(&c, &b, false));
        b.zones = ZONE_DMA32_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_KERNEL_DMA_ZONE);
        b.zones = ZONE_DMA32_BIT | ZONE_NORMAL_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_KERNEL_DMA_ZONE);
        b.zones = ZONE_NORMAL_BIT | ZONE_MOVABLE_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OTHER_ZONE);
        b.zones = ZONE_DEVICE_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OTHER_ZONE);
        b.zones = ZONE_OTHER_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_OTHER_ZONE);
        /* Zone reasons come before lowest-of-node (node 0's first block is
         * usually DMA). */
        b.zones = ZONE_DMA_BIT;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, true, NULL, 0), OFFLINE_KERNEL_DMA_ZONE);

        /* Lowest of node. */
        b = used_blk(10, 0, 40);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, true, NULL, 0), OFFLINE_LOWEST_OF_NODE);
        CHECK(!policy_is_target(&c, &b, true));

        /* Usage. */
        b = used_blk(10, 0, 40);
        b.usage_valid = false;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_UNKNOWN_USAGE);
        CHECK(!policy_is_target(&c, &b, false));
        b.usage_valid = true;
        b.usage.unmovable = 1;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_UNMOVABLE_PAGES);
        CHECK(policy_is_target(&c, &b, false)); /* its contents are the handshake's */
        b.usage.hugetlb = 1;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_UNMOVABLE_PAGES);
        b.usage.unmovable = 0;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_HUGETLB);
        b.usage.hugetlb = 0;
        b.usage.nopage = 1;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, NULL, 0), OFFLINE_HOLES);
        b.usage.nopage = 0;

        /* Back-off: last, and only while it lasts. */
        backoff_fail(&bo, 1000, 10, 100);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, &bo, 1009), OFFLINE_BACKOFF);
        CHECK(policy_is_target(&c, &b, false));
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, &bo, 1010), OFFLINE_OK);
        backoff_hold(&bo, &b.usage);
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, &bo, 99999), OFFLINE_BACKOFF);
        b.usage.unmovable = 2;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, false, &bo, 99999), OFFLINE_UNMOVABLE_PAGES);
        b.state = BLOCK_OFFLINE;
        CHECK_EQ_INT(policy_check_offlinable(&c, &b, true, &bo, 0), OFFLINE_NOT_ONLINE);

        config_free(&c);
}

/* A sweep over table t with the given numbers. */
static size_t sweep(const Config *c, const MemBlock *t, size_t n, const Backoff *bo,
                    const bool *busy, size_t n_nodes, uint64_t available, uint32_t *ret,
                    size_t ret_size)
{
        bool low[32];
        SweepInput in;

        if (n > ELEMENTSOF(low))
                abort();
        policy_mark_lowest_of_node(t, n, low);
        in = (SweepInput){
                .blocks = t,
                .n_blocks = n,
                .lowest_of_node = low,
                .backoffs = bo,
                .node_busy = busy,
                .n_nodes = n_nodes,
                .available_pages = available,
                .reserve_pages = 1000,
                .pages_per_block = PPB,
                .now_usec = 5000,
        };
        return policy_sweep(c, &in, ret, ret_size);
}

static void test_can_spare(void)
{
        CHECK(!policy_can_spare_block(1100, 1000, 100));
        CHECK(policy_can_spare_block(1101, 1000, 100));
        CHECK(!policy_can_spare_block(0, 0, 0));
        CHECK(policy_can_spare_block(1, 0, 0));
        CHECK(!policy_can_spare_block(UINT64_MAX, UINT64_MAX, 1));
        CHECK(!policy_can_spare_block(UINT64_MAX, 1, UINT64_MAX));
        CHECK(policy_can_spare_block(UINT64_MAX, UINT64_MAX - 2, 1));
}

/* A node keeps its floor without the block: the block's free pages leave the
 * node, its used pages go elsewhere. The cheapest block whose node cannot
 * spare it gives way to the next one that can. */
static void test_sweep_node_floor(void)
{
        Config c;
        uint32_t ret[4];
        MemBlock t[] = {
                used_blk(10, 1, 50), /* lowest of node 1 */
                used_blk(11, 1, 0),  /* empty: cheapest, all its pages are free */
                used_blk(12, 1, 60), /* PPB - 60 free */
        };
        bool low[ELEMENTSOF(t)];
        uint64_t node_free[2] = { POLICY_FREE_UNKNOWN, 0 };
        SweepInput in;

        config_init(&c);
        c.max_evacuations_per_tick = 4;
        policy_mark_lowest_of_node(t, ELEMENTSOF(t), low);
        in = (SweepInput){
                .blocks = t,
                .n_blocks = ELEMENTSOF(t),
                .lowest_of_node = low,
                .n_nodes = 2,
                .node_free = node_free,
                .node_floor_pages = 30,
                .available_pages = 100 * PPB,
                .reserve_pages = 1000,
                .pages_per_block = PPB,
                .now_usec = 5000,
        };
        /* exactly floor + the empty block's free pages: it may go */
        node_free[1] = 30 + PPB;
        CHECK_EQ_INT(policy_sweep(&c, &in, ret, 4), 1);
        CHECK_EQ_INT(ret[0], 11);
        /* one page less: not the empty block, but block 12 frees fewer */
        node_free[1] = 30 + PPB - 1;
        CHECK_EQ_INT(policy_sweep(&c, &in, ret, 4), 1);
        CHECK_EQ_INT(ret[0], 12);
        node_free[1] = 30 + PPB - 60 - 1;
        CHECK_EQ_INT(policy_sweep(&c, &in, ret, 4), 0);
        /* unknown free count: no floor applies */
        node_free[1] = POLICY_FREE_UNKNOWN;
        CHECK_EQ_INT(policy_sweep(&c, &in, ret, 4), 1);
        CHECK_EQ_INT(ret[0], 11);
        CHECK(policy_node_can_spare(100, 40, &t[2]) == (100 >= 40 + PPB - 60));
        config_free(&c);
}

static void test_sweep(void)
{
        Config c;
        uint32_t ret[8];
        MemBlock t[] = {
                used_blk(0, 0, 90),  /* lowest of node 0 */
                used_blk(1, 0, 30),
                used_blk(2, 0, 10),
                used_blk(3, 0, 10), /* ties with 2: the higher index wins */
                used_blk(4, 0, 5),  /* cheapest, but unmovable pages */
                used_blk(10, 1, 50), /* lowest of node 1 */
                used_blk(11, 1, 60),
                used_blk(12, 1, 20),
                used_blk(20, 2, 95), /* lowest of node 2 */
                used_blk(21, 2, 0),  /* empty, but excluded */
                used_blk(22, 2, 70),
        };
        Backoff bo[ELEMENTSOF(t)];
        bool busy[3] = { false, false, false };

        memset(bo, 0, sizeof(bo));
        t[4].usage.unmovable = 1;
        config_init(&c);
        set_indexset(&c.exclude_blocks, "21");
        c.max_evacuations_per_tick = 8;

        /* available must exceed reserve + one block (1100). */
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 1100, ret, 8), 0);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 1101, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 3);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 0, ret, 8), 0);

        /* Each pick costs a block: 1201 allows two, 1301 three; one per
         * node, the cheapest of each node in cost order. */
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 1201, ret, 8), 2);
        CHECK_EQ_INT(ret[0], 3);
        CHECK_EQ_INT(ret[1], 12);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 1300, ret, 8), 2);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 1301, ret, 8), 3);
        CHECK_EQ_INT(ret[2], 22);
        /* Plenty: still one per node. */
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 100000, ret, 8), 3);

        /* MaxEvacuationsPerTick and ret_size cap. */
        c.max_evacuations_per_tick = 1;
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 100000, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 3);
        c.max_evacuations_per_tick = 0;
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 100000, ret, 8), 0);
        c.max_evacuations_per_tick = 8;
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 100000, ret, 2), 2);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, NULL, 0, 100000, ret, 0), 0);

        /* Busy nodes are skipped; a node beyond n_nodes is not busy. */
        busy[0] = true;
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, busy, 3, 100000, ret, 8), 2);
        CHECK_EQ_INT(ret[0], 12);
        CHECK_EQ_INT(ret[1], 22);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), NULL, busy, 1, 1101, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 12);
        busy[0] = false;

        /* Backing-off blocks are skipped, the next cheapest taken. */
        backoff_fail(&bo[3], 4000, 10000, 10000);
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), bo, NULL, 0, 1101, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 2);
        backoff_fail(&bo[2], 4000, 2000, 10000); /* until 6000 */
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), bo, NULL, 0, 1101, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 12);
        backoff_fail(&bo[2], 0, 10, 10); /* its wait ended (at 5000) */
        CHECK_EQ_INT(sweep(&c, t, ELEMENTSOF(t), bo, NULL, 0, 1101, ret, 8), 1);
        CHECK_EQ_INT(ret[0], 2);

        /* Nothing offlinable. */
        CHECK_EQ_INT(sweep(&c, t, 1, NULL, NULL, 0, 100000, ret, 8), 0);
        CHECK_EQ_INT(sweep(&c, NULL, 0, NULL, NULL, 0, 100000, ret, 8), 0);

        /* A reserve near the top does not overflow into picks. */
        {
                bool low[ELEMENTSOF(t)];
                SweepInput in = {
                        .blocks = t,
                        .n_blocks = ELEMENTSOF(t),
                        .lowest_of_node = low,
                        .available_pages = UINT64_MAX,
                        .reserve_pages = UINT64_MAX - 10,
                        .pages_per_block = PPB,
                };

                policy_mark_lowest_of_node(t, ELEMENTSOF(t), low);
                CHECK_EQ_INT(policy_sweep(&c, &in, ret, 8), 0);
                in.reserve_pages = UINT64_MAX - 2 * PPB;
                CHECK_EQ_INT(policy_sweep(&c, &in, ret, 8), 1);
        }
        config_free(&c);
}

static void test_destination(void)
{
        Config c;
        IndexSet mem = INDEXSET_NULL;
        uint64_t free[5] = { 1000, 50, 1000, 1000, 1000 };

        config_init(&c);
        set_indexset(&mem, "0-3");

        /* Reserve 400 over 4 nodes: share 100. Node 1 is short; node 2 has
         * room for exactly 900. */
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 900, 400), 2);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 901, 400), -ENOSPC);
        /* The share rounds up: 401 / 4 → 101. */
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 900, 401), -ENOSPC);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 899, 401), 2);
        /* Lowest first; the source is never the destination. */
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 3, 10, 400), 0);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 0, 200), 1);
        /* Node 4 has no memory (not in has_memory). */
        {
                uint64_t f[5] = { 0, 0, 0, 0, 100000 };

                CHECK_EQ_INT(policy_pick_destination(&c, &mem, f, 5, 3, 1, 0), -ENOSPC);
        }
        free[1] = 2000;
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 1500, 400), 1);
        free[1] = 50;

        /* Unknown counts are not room; nodes beyond n_nodes are unknown. */
        free[2] = POLICY_FREE_UNKNOWN;
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 900, 400), 3);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 3, 0, 900, 400), -ENOSPC);
        free[2] = 1000;

        /* DestinationNodes. */
        set_indexset(&c.destination_nodes, "3-4");
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 900, 400), 3);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 3, 10, 400), -ENOSPC);
        set_indexset(&c.destination_nodes, "");

        /* A single memory node has nowhere to send pages. */
        set_indexset(&mem, "0");
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 0, 0), -ENOSPC);
        /* No memory node known. */
        set_indexset(&mem, "");
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, 0, 0, 0), -ENOSPC);

        /* A source outside the table (a block without node). */
        set_indexset(&mem, "0-3");
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, -1, 900, 400), 0);
        /* No overflow with huge pages counts or reserves. */
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, -1, UINT64_MAX, 0), -ENOSPC);
        CHECK_EQ_INT(policy_pick_destination(&c, &mem, free, 5, -1, 0, UINT64_MAX), -ENOSPC);

        indexset_free(&mem);
        config_free(&c);
}

int main(void)
{
        test_strings();
        test_pressure();
        test_pick_online();
        test_backoff();
        test_mark_lowest();
        test_offlinable();
        test_can_spare();
        test_sweep();
        test_sweep_node_floor();
        test_destination();
        return test_summary("test-policy");
}
