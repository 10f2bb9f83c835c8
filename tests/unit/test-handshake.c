/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "handshake.h"
#include "testutil.h"
#include "util.h"

/* A little world: blocks and node free counts the tests change between
 * looks, as the scanner would. */
#define N_NODES  3
#define N_BLOCKS 8

typedef struct World {
        Handshake h;
        HandshakeBlock blocks[N_BLOCKS];
        size_t n_blocks;
        uint64_t node_free[N_NODES];
        bool hold;
        HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];
        int n_ev;
} World;

static void world_init(World *w)
{
        memset(w, 0, sizeof(*w));
        CHECK_EQ_INT(handshake_init(&w->h, N_NODES), 0);
        for (size_t i = 0; i < N_NODES; i++)
                w->node_free[i] = 1000;
}

/* Block index on node, eligible, empty now and before. */
static HandshakeBlock *world_add(World *w, uint32_t index, int node)
{
        HandshakeBlock *b = &w->blocks[w->n_blocks++];

        *b = (HandshakeBlock){
                .index = index,
                .node = node,
                .eligible = true,
                .was_empty = true,
                .usage = { .free = 100 },
        };
        return b;
}

static HandshakeBlock *world_find(World *w, uint32_t index)
{
        for (size_t i = 0; i < w->n_blocks; i++)
                if (w->blocks[i].index == index)
                        return &w->blocks[i];
        return NULL;
}

static void world_remove(World *w, uint32_t index)
{
        HandshakeBlock *b = world_find(w, index);
        size_t i = (size_t)(b - w->blocks);

        memmove(b, b + 1, (w->n_blocks - i - 1) * sizeof(*b));
        w->n_blocks--;
}

/* Set a block's usage at this look. */
static void use(World *w, uint32_t index, uint64_t movable, uint64_t unmovable, uint64_t hugetlb)
{
        HandshakeBlock *b = world_find(w, index);

        b->usage.movable = movable;
        b->usage.unmovable = unmovable;
        b->usage.hugetlb = hugetlb;
        b->usage.free = 100 - movable - unmovable - hugetlb;
}

/* One look; afterwards was_empty follows the usage just seen, as the daemon
 * would keep it. */
static int look(World *w)
{
        HandshakeInput in = {
                .blocks = w->blocks,
                .n_blocks = w->n_blocks,
                .node_free = w->node_free,
                .n_nodes = N_NODES,
                .hold = w->hold,
        };

        w->n_ev = handshake_look(&w->h, &in, w->ev, ELEMENTSOF(w->ev));
        for (size_t i = 0; i < w->n_blocks; i++)
                w->blocks[i].was_empty = page_usage_used(&w->blocks[i].usage) == 0;
        return w->n_ev;
}

static bool has_event(const World *w, HandshakeAction a, int node, uint32_t block,
                      HandshakeDrop reason)
{
        for (int i = 0; i < w->n_ev; i++)
                if (w->ev[i].action == a && w->ev[i].node == node && w->ev[i].block == block &&
                    w->ev[i].reason == reason)
                        return true;
        return false;
}

#define HAS_NOTE(w, node, block)  has_event(w, HANDSHAKE_NOTE, node, block, HANDSHAKE_DROP_NONE)
#define HAS_EVAC(w, node, block)  has_event(w, HANDSHAKE_EVACUATE, node, block, HANDSHAKE_DROP_NONE)
#define HAS_DROP(w, node, block, r) has_event(w, HANDSHAKE_DROP, node, block, HANDSHAKE_DROP_##r)

static int64_t noted(const World *w, int node)
{
        uint32_t b = 0;
        int r = handshake_get_noted(&w->h, node, &b);

        return r == 1 ? (int64_t)b : r == 0 ? -1 : r;
}

static void test_strings(void)
{
        for (int a = 0; a < _HANDSHAKE_ACTION_MAX; a++)
                CHECK(handshake_action_to_string(a) != NULL);
        for (int d = 0; d < _HANDSHAKE_DROP_MAX; d++)
                CHECK(handshake_drop_to_string(d) != NULL);
        CHECK(handshake_action_to_string(_HANDSHAKE_ACTION_MAX) == NULL);
        CHECK(handshake_action_to_string(_HANDSHAKE_ACTION_INVALID) == NULL);
        CHECK(handshake_drop_to_string(_HANDSHAKE_DROP_MAX) == NULL);
        CHECK(handshake_drop_to_string(-1) == NULL);
        CHECK_EQ_STR(handshake_action_to_string(HANDSHAKE_EVACUATE), "evacuate");
        CHECK_EQ_STR(handshake_drop_to_string(HANDSHAKE_DROP_EMPTY), "empty-again");
        CHECK_EQ_STR(handshake_drop_to_string(HANDSHAKE_DROP_UNMOVABLE), "unmovable-pages");
}

static void test_init_resize(void)
{
        Handshake h;

        CHECK_EQ_INT(handshake_init(&h, 2), 0);
        CHECK_EQ_INT(h.n_slots, 2);
        CHECK_EQ_INT(handshake_max_events(&h), 4);
        CHECK(!handshake_work_in_progress(&h, 0));
        CHECK(!handshake_work_in_progress(&h, 5));
        CHECK(!handshake_work_in_progress(&h, -1));
        CHECK_EQ_INT(handshake_get_noted(&h, 1, NULL), 0);
        CHECK_EQ_INT(handshake_get_noted(&h, 2, NULL), -EINVAL);
        CHECK_EQ_INT(handshake_get_noted(&h, -1, NULL), -EINVAL);

        /* Growing keeps the existing slots' state. */
        CHECK_EQ_INT(handshake_work_start(&h, 1, 7), 0);
        CHECK_EQ_INT(handshake_set_nodes(&h, 5), 0);
        CHECK_EQ_INT(h.n_slots, 5);
        CHECK(handshake_work_in_progress(&h, 1));
        CHECK(!handshake_work_in_progress(&h, 4));
        CHECK_EQ_INT(h.slots[4].last_free, HANDSHAKE_FREE_UNKNOWN);
        CHECK_EQ_INT(handshake_set_nodes(&h, 2), 0);
        CHECK_EQ_INT(h.n_slots, 2);
        CHECK(handshake_work_in_progress(&h, 1));
        CHECK_EQ_INT(handshake_set_nodes(&h, 0), 0);
        CHECK_EQ_INT(h.n_slots, 0);
        CHECK(h.slots == NULL);
        handshake_free(&h);
        handshake_free(&h);
        handshake_free(NULL);
}

/* The plain cycle: empty block gets movable pages → noted; node free rises
 * → EVACUATE, in progress; work done → idle. */
static void test_cycle(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);

        /* First look: nothing used, no baseline yet. */
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 11, 40, 0, 0);
        w.node_free[0] = 960;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 11));
        CHECK_EQ_INT(noted(&w, 0), 11);
        CHECK_EQ_INT(w.ev[0].reason, HANDSHAKE_DROP_NONE);

        /* No free since: free count unchanged, then falling. */
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 950;
        use(&w, 11, 50, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11);

        /* A free of one page is a free. */
        w.node_free[0] = 951;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 11));
        CHECK(handshake_work_in_progress(&w.h, 0));
        CHECK_EQ_INT(w.h.slots[0].target, 11);
        CHECK_EQ_INT(noted(&w, 0), -1);

        /* More frees while in progress: nothing more. */
        w.node_free[0] = 990;
        CHECK_EQ_INT(look(&w), 0);

        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        CHECK(!handshake_work_in_progress(&w.h, 0));
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 0);
        CHECK_EQ_INT(handshake_work_done(&w.h, 3), -EINVAL);
        CHECK_EQ_INT(handshake_work_done(&w.h, -1), -EINVAL);

        /* Nothing noted: a free does nothing. */
        w.node_free[0] = 999;
        CHECK_EQ_INT(look(&w), 0);
        handshake_free(&w.h);
}

/* What a first use must be: eligible, empty before, movable now, nothing
 * unmovable or hugetlb. */
static void test_first_use_conditions(void)
{
        World w;

        world_init(&w);
        world_add(&w, 1, 0)->eligible = false;
        world_add(&w, 2, 0);
        world_add(&w, 3, 0);
        world_add(&w, 4, 0);
        world_add(&w, 5, 0);
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 1, 10, 0, 0); /* not eligible */
        use(&w, 2, 10, 1, 0); /* one unmovable page */
        use(&w, 3, 10, 0, 1); /* one hugetlb page */
        use(&w, 4, 0, 1, 0);  /* unmovable only */
        use(&w, 5, 0, 0, 0);  /* still empty */
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);

        /* Not empty at the previous look (was already used): not a first
         * use, even once it holds only movable pages. */
        use(&w, 2, 10, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);

        /* An empty block that went to movable-only from empty. */
        use(&w, 5, 1, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 5));
        handshake_free(&w.h);
}

/* Race: a first use while work is in progress on the node is not noted,
 * and stays unnoted once the work ends (it is no first use any more). */
static void test_first_use_while_in_progress(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        world_add(&w, 20, 1);
        CHECK_EQ_INT(look(&w), 0);

        CHECK_EQ_INT(handshake_work_start(&w.h, 0, 99), 0);
        use(&w, 11, 5, 0, 0);
        use(&w, 20, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 1, 20)); /* node 1 is not busy */
        CHECK_EQ_INT(noted(&w, 0), -1);

        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        w.node_free[0] = 2000;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);
        handshake_free(&w.h);
}

/* Race: a free on one node does not trigger another node's slot. */
static void test_free_other_node(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 20, 1);
        world_add(&w, 30, 2);
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 10, 5, 0, 0);
        use(&w, 20, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 2);
        CHECK(HAS_NOTE(&w, 0, 10));
        CHECK(HAS_NOTE(&w, 1, 20));

        w.node_free[2] = 5000; /* node 2 has nothing noted */
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[1] = 5000;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 1, 20));
        CHECK(!handshake_work_in_progress(&w.h, 0));
        CHECK_EQ_INT(noted(&w, 0), 10);

        /* Node 1 busy does not stop node 0. */
        w.node_free[0] = 5000;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));
        CHECK_EQ_INT(w.ev[0].node, 0);
        handshake_free(&w.h);
}

/* A note made at this look is not evacuated at this same look, even when
 * free pages rose in the same interval. */
static void test_note_and_free_same_look(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 10, 5, 0, 0);
        w.node_free[0] = 1500;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 10));
        CHECK(!handshake_work_in_progress(&w.h, 0));

        CHECK_EQ_INT(look(&w), 0); /* no rise since */
        w.node_free[0] = 1501;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));
        handshake_free(&w.h);
}

/* Drops of a noted block, each reason; a drop takes precedence over a free
 * at the same look. */
static void test_drops(void)
{
        static const struct {
                HandshakeDrop reason;
                uint64_t movable, unmovable, hugetlb;
                bool ineligible, vanish, move_node;
        } cases[] = {
                { HANDSHAKE_DROP_EMPTY, 0, 0, 0, false, false, false },
                { HANDSHAKE_DROP_UNMOVABLE, 5, 1, 0, false, false, false },
                { HANDSHAKE_DROP_UNMOVABLE, 0, 3, 0, false, false, false },
                { HANDSHAKE_DROP_HUGETLB, 5, 0, 2, false, false, false },
                { HANDSHAKE_DROP_INELIGIBLE, 5, 0, 0, true, false, false },
                { HANDSHAKE_DROP_VANISHED, 5, 0, 0, false, true, false },
                { HANDSHAKE_DROP_VANISHED, 5, 0, 0, false, false, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                World w;

                world_init(&w);
                world_add(&w, 10, 0);
                world_add(&w, 11, 0);
                CHECK_EQ_INT(look(&w), 0);
                use(&w, 10, 5, 0, 0);
                CHECK_EQ_INT(look(&w), 1);
                CHECK_EQ_INT(noted(&w, 0), 10);

                /* The change, and a free at the same look. */
                use(&w, 10, cases[i].movable, cases[i].unmovable, cases[i].hugetlb);
                if (cases[i].ineligible)
                        world_find(&w, 10)->eligible = false;
                if (cases[i].vanish)
                        world_remove(&w, 10);
                if (cases[i].move_node)
                        world_find(&w, 10)->node = 1;
                w.node_free[0] = 2000;
                CHECK_EQ_INT(look(&w), 1);
                CHECK(has_event(&w, HANDSHAKE_DROP, 0, 10, cases[i].reason));
                CHECK_EQ_INT(noted(&w, 0), -1);
                CHECK(!handshake_work_in_progress(&w.h, 0));

                /* A later free finds nothing to do. */
                w.node_free[0] = 3000;
                CHECK_EQ_INT(look(&w), 0);
                handshake_free(&w.h);
        }
}

/* A newer first use replaces the note; in one look, the candidate with the
 * fewest movable pages wins, the highest index on ties. */
static void test_replace_and_ties(void)
{
        World w;

        world_init(&w);
        for (uint32_t i = 10; i < 15; i++)
                world_add(&w, i, 0);
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 10, 50, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK_EQ_INT(noted(&w, 0), 10);

        use(&w, 11, 30, 0, 0);
        use(&w, 12, 20, 0, 0);
        use(&w, 13, 20, 0, 0);
        use(&w, 14, 25, 0, 0);
        CHECK_EQ_INT(look(&w), 2);
        CHECK(HAS_DROP(&w, 0, 10, REPLACED));
        CHECK(HAS_NOTE(&w, 0, 13));
        CHECK_EQ_INT(w.ev[0].action, HANDSHAKE_DROP); /* drop comes first */
        CHECK_EQ_INT(w.ev[1].action, HANDSHAKE_NOTE);
        CHECK_EQ_INT(noted(&w, 0), 13);

        /* The noted block going empty and another first use in one look:
         * dropped as empty, the other noted. */
        handshake_free(&w.h);
        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        use(&w, 10, 0, 0, 0);
        use(&w, 11, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 2);
        CHECK(HAS_DROP(&w, 0, 10, EMPTY));
        CHECK(HAS_NOTE(&w, 0, 11));
        CHECK_EQ_INT(noted(&w, 0), 11);

        /* A caller that claims the noted block was empty again does not
         * make it replace itself. */
        world_find(&w, 11)->was_empty = true;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11);
        handshake_free(&w.h);
}

/* Race: the evacuation target itself goes empty (as it should), while in
 * progress: nothing happens; used again after the work ended, it is a fresh
 * first use. */
static void test_target_goes_empty(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        w.node_free[0] = 1100;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));

        use(&w, 10, 0, 0, 0);
        w.node_free[0] = 1105;
        CHECK_EQ_INT(look(&w), 0);
        /* Used again while still in progress (the offline has not run yet):
         * not noted. */
        use(&w, 10, 3, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 0, 0, 0);
        CHECK_EQ_INT(look(&w), 0);

        /* The offline failed, the block stayed online and empty. */
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 4, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 10));

        /* The offline succeeded this time: the block goes offline
         * (ineligible, then gone from the usage) and nothing is left. */
        w.node_free[0] = 1200;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));
        world_find(&w, 10)->eligible = false;
        use(&w, 10, 0, 0, 0);
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        CHECK_EQ_INT(look(&w), 0);
        handshake_free(&w.h);
}

/* Free counts: the baseline follows every look, in progress or not; an
 * unknown count keeps the old baseline; a node beyond the given counts is
 * unknown. */
static void test_free_baseline(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);

        /* Unknown, then known and above the last known value: a rise. */
        w.node_free[0] = HANDSHAKE_FREE_UNKNOWN;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(w.h.slots[0].last_free, 1000);
        w.node_free[0] = 1001;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));

        /* The rise during the work (pages leaving the node) is absorbed in
         * the baseline: after the work, no rise, no evacuation of a new
         * note. */
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        use(&w, 11, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 11));
        CHECK_EQ_INT(handshake_work_start(&w.h, 0, 10), 0); /* sweep work elsewhere */
        w.node_free[0] = 1500;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11); /* kept: another block's work */
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 1400;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 1401;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 11));
        handshake_free(&w.h);

        /* The first known count is only a baseline. */
        world_init(&w);
        world_add(&w, 10, 0);
        w.node_free[0] = HANDSHAKE_FREE_UNKNOWN;
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        w.node_free[0] = 1000;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 10);
        w.node_free[0] = 1010;
        CHECK_EQ_INT(look(&w), 1);
        handshake_free(&w.h);

        /* n_nodes shorter than the slots, and no counts at all. */
        world_init(&w);
        world_add(&w, 20, 2);
        {
                HandshakeInput in = {
                        .blocks = w.blocks,
                        .n_blocks = w.n_blocks,
                        .node_free = w.node_free,
                        .n_nodes = 2,
                };
                HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];

                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
                w.blocks[0].usage.movable = 5;
                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 1);
                CHECK_EQ_INT(ev[0].action, HANDSHAKE_NOTE);
                w.blocks[0].was_empty = false;
                in.node_free = NULL;
                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
                CHECK_EQ_INT(w.h.slots[2].last_free, HANDSHAKE_FREE_UNKNOWN);
        }
        handshake_free(&w.h);
}

/* hold: notes and drops go on, no evacuation starts, and the rise seen
 * under hold is consumed. */
static void test_hold(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        CHECK_EQ_INT(look(&w), 0);

        w.hold = true;
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 10));
        w.node_free[0] = 3000; /* blocks onlined under pressure */
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 10);
        CHECK(!handshake_work_in_progress(&w.h, 0));

        w.hold = false;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 3001;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_EVAC(&w, 0, 10));
        handshake_free(&w.h);
}

/* Blocks without a node or on nodes without a slot are ignored. */
static void test_unknown_nodes(void)
{
        World w;

        world_init(&w);
        world_add(&w, 1, -1);
        world_add(&w, 2, N_NODES);
        world_add(&w, 3, 1000);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 1, 5, 0, 0);
        use(&w, 2, 5, 0, 0);
        use(&w, 3, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        handshake_free(&w.h);
}

static void test_work_start(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);

        CHECK_EQ_INT(handshake_work_start(&w.h, N_NODES, 1), -EINVAL);
        CHECK_EQ_INT(handshake_work_start(&w.h, -1, 1), -EINVAL);
        /* The sweep takes the noted block itself: the note goes. */
        CHECK_EQ_INT(handshake_work_start(&w.h, 0, 10), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);
        CHECK_EQ_INT(handshake_work_start(&w.h, 0, 10), -EBUSY);
        CHECK_EQ_INT(w.h.slots[0].target, 10);
        w.node_free[0] = 5000;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(handshake_work_done(&w.h, 0), 1);
        handshake_free(&w.h);
}

static void test_nobufs(void)
{
        World w;
        HandshakeInput in;
        HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];

        world_init(&w);
        world_add(&w, 10, 0);
        in = (HandshakeInput){
                .blocks = w.blocks,
                .n_blocks = w.n_blocks,
                .node_free = w.node_free,
                .n_nodes = N_NODES,
        };
        CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
        w.blocks[0].usage.movable = 5;
        CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev) - 1), -ENOBUFS);
        CHECK_EQ_INT(noted(&w, 0), -1);
        CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 1);
        CHECK_EQ_INT(noted(&w, 0), 10);
        handshake_free(&w.h);
}

/* Every node at once at its maximum: two events each. */
static void test_max_events(void)
{
        World w;

        world_init(&w);
        for (int node = 0; node < N_NODES; node++) {
                world_add(&w, 10 + 10 * node, node);
                world_add(&w, 11 + 10 * node, node);
        }
        CHECK_EQ_INT(look(&w), 0);
        for (int node = 0; node < N_NODES; node++)
                use(&w, 10 + 10 * node, 5, 0, 0);
        CHECK_EQ_INT(look(&w), N_NODES);
        for (int node = 0; node < N_NODES; node++) {
                use(&w, 10 + 10 * node, 5, 1, 0);
                use(&w, 11 + 10 * node, 5, 0, 0);
        }
        CHECK_EQ_INT(look(&w), 2 * N_NODES);
        for (int node = 0; node < N_NODES; node++) {
                CHECK(HAS_DROP(&w, node, 10 + 10 * node, UNMOVABLE));
                CHECK(HAS_NOTE(&w, node, 11 + 10 * node));
                /* Node order. */
                CHECK_EQ_INT(w.ev[2 * node].node, node);
                CHECK_EQ_INT(w.ev[2 * node + 1].node, node);
        }
        handshake_free(&w.h);
}

int main(void)
{
        test_strings();
        test_init_resize();
        test_cycle();
        test_first_use_conditions();
        test_first_use_while_in_progress();
        test_free_other_node();
        test_note_and_free_same_look();
        test_drops();
        test_replace_and_ties();
        test_target_goes_empty();
        test_free_baseline();
        test_hold();
        test_unknown_nodes();
        test_work_start();
        test_nobufs();
        test_max_events();
        return test_summary("test-handshake");
}
