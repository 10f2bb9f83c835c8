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
#define RISE     10 /* pages: the smallest rise that is a free here */

typedef struct World {
        Handshake h;
        HandshakeUnit blocks[N_BLOCKS];
        bool ineligible[N_BLOCKS];
        size_t n_blocks;
        uint64_t node_free[N_NODES];
        bool hold;
        int busy_node;
        HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];
        int n_ev;
} World;

static void world_init(World *w)
{
        memset(w, 0, sizeof(*w));
        CHECK_EQ_INT(handshake_init(&w->h, N_NODES), 0);
        for (size_t i = 0; i < N_NODES; i++)
                w->node_free[i] = 1000;
        w->busy_node = -1;
}

/* Block index on node, eligible, counted, empty now and before. */
static HandshakeUnit *world_add(World *w, uint32_t index, int node)
{
        HandshakeUnit *b = &w->blocks[w->n_blocks++];

        *b = (HandshakeUnit){
                .id = index,
                .node = node,
                .usage_valid = true,
                .was_empty = true,
                .usage = { .free = 100 },
        };
        return b;
}

static HandshakeUnit *world_find(World *w, uint32_t index)
{
        for (size_t i = 0; i < w->n_blocks; i++)
                if (w->blocks[i].id == index)
                        return &w->blocks[i];
        return NULL;
}

static void set_eligible(World *w, uint32_t index, bool yes)
{
        w->ineligible[world_find(w, index) - w->blocks] = !yes;
}

static void world_remove(World *w, uint32_t index)
{
        HandshakeUnit *b = world_find(w, index);
        size_t i = (size_t)(b - w->blocks);

        memmove(b, b + 1, (w->n_blocks - i - 1) * sizeof(*b));
        memmove(&w->ineligible[i], &w->ineligible[i + 1], (w->n_blocks - i - 1) * sizeof(bool));
        w->n_blocks--;
}

/* Set a block's usage at this look. */
static void use(World *w, uint32_t index, uint64_t movable, uint64_t unmovable, uint64_t hugetlb)
{
        HandshakeUnit *b = world_find(w, index);

        b->usage.movable = movable;
        b->usage.unmovable = unmovable;
        b->usage.hugetlb = hugetlb;
        b->usage.free = 100 - movable - unmovable - hugetlb;
}

static bool world_eligible(const HandshakeUnit *b, void *userdata)
{
        const World *w = userdata;

        return !w->ineligible[b - w->blocks];
}

static HandshakeInput world_input(World *w)
{
        return (HandshakeInput){
                .units = w->blocks,
                .n_units = w->n_blocks,
                .eligible = world_eligible,
                .userdata = w,
                .node_free = w->node_free,
                .n_nodes = N_NODES,
                .hold = w->hold,
                .busy_node = w->busy_node,
                .rise_pages = RISE,
        };
}

/* One look; afterwards was_empty follows the usage just seen, as the daemon
 * would keep it. */
static int look(World *w)
{
        HandshakeInput in = world_input(w);

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
#define HAS_FREED(w, node, block) has_event(w, HANDSHAKE_FREED, node, block, HANDSHAKE_DROP_NONE)
#define HAS_DROP(w, node, block, r) has_event(w, HANDSHAKE_DROP, node, block, HANDSHAKE_DROP_##r)

static int64_t noted(const World *w, int node)
{
        uint32_t b = 0;
        int r = handshake_get_noted(&w->h, node, &b);

        return r == 1 ? (int64_t)b : r == 0 ? -1 : r;
}

/* Take the ready note of node: its block, -1 when none. */
static int64_t take(World *w, int node)
{
        uint32_t b = 0;
        int r = handshake_take(&w->h, node, &b);

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
        CHECK_EQ_STR(handshake_action_to_string(HANDSHAKE_FREED), "freed");
        CHECK_EQ_STR(handshake_drop_to_string(HANDSHAKE_DROP_EMPTY), "empty-again");
        CHECK_EQ_STR(handshake_drop_to_string(HANDSHAKE_DROP_UNMOVABLE), "unmovable-pages");
        CHECK_EQ_STR(handshake_drop_to_string(HANDSHAKE_DROP_REFUSED), "refused");
}

static void test_init_resize(void)
{
        Handshake h;

        CHECK_EQ_INT(handshake_init(&h, 2), 0);
        CHECK_EQ_INT(h.n_slots, 2);
        CHECK_EQ_INT(handshake_max_events(&h), 4);
        CHECK_EQ_INT(handshake_get_noted(&h, 1, NULL), 0);
        CHECK_EQ_INT(handshake_get_noted(&h, 2, NULL), -EINVAL);
        CHECK_EQ_INT(handshake_get_noted(&h, -1, NULL), -EINVAL);
        CHECK_EQ_INT(handshake_take(&h, 2, NULL), -EINVAL);
        CHECK_EQ_INT(handshake_drop(&h, -1), -EINVAL);
        CHECK(!handshake_is_freed(&h, 0));
        CHECK(!handshake_is_freed(&h, 7));

        /* Growing keeps the existing slots' state. */
        h.slots[1].noted = true;
        h.slots[1].block = 7;
        CHECK_EQ_INT(handshake_set_nodes(&h, 5), 0);
        CHECK_EQ_INT(h.n_slots, 5);
        CHECK_EQ_INT(handshake_get_noted(&h, 1, NULL), 1);
        CHECK_EQ_INT(h.slots[4].low_free, HANDSHAKE_FREE_UNKNOWN);
        CHECK_EQ_INT(handshake_set_nodes(&h, 2), 0);
        CHECK_EQ_INT(h.n_slots, 2);
        CHECK_EQ_INT(handshake_get_noted(&h, 1, NULL), 1);
        CHECK_EQ_INT(handshake_set_nodes(&h, 0), 0);
        CHECK_EQ_INT(h.n_slots, 0);
        CHECK(h.slots == NULL);
        handshake_free(&h);
        handshake_free(&h);
        handshake_free(NULL);
}

/* The plain cycle: empty block gets movable pages → noted; node free rises
 * by RISE → freed; the planner takes it. */
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
        CHECK_EQ_INT(take(&w, 0), -1); /* not freed yet */

        /* No free since: unchanged, then falling. */
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 950;
        use(&w, 11, 50, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11);

        /* Hysteresis: a rise short of RISE from the lowest count is not a
         * free, however it comes (here in two steps of 5 and 4). */
        w.node_free[0] = 955;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 959;
        CHECK_EQ_INT(look(&w), 0);
        CHECK(!handshake_is_freed(&w.h, 0));
        /* 950 + 10: the two small rises add up. */
        w.node_free[0] = 960;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 11));
        CHECK(handshake_is_freed(&w.h, 0));

        /* Freed stays until taken; more frees add nothing. */
        w.node_free[0] = 990;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(take(&w, 0), 11);
        CHECK_EQ_INT(noted(&w, 0), -1);
        CHECK_EQ_INT(take(&w, 0), -1);

        /* Nothing noted: a free does nothing. */
        w.node_free[0] = 999;
        CHECK_EQ_INT(look(&w), 0);
        handshake_free(&w.h);
}

/* What a first use must be: eligible, empty before, movable now, nothing
 * unmovable, unknown or hugetlb. */
static void test_first_use_conditions(void)
{
        World w;

        world_init(&w);
        world_add(&w, 1, 0);
        set_eligible(&w, 1, false);
        world_add(&w, 2, 0);
        world_add(&w, 3, 0);
        world_add(&w, 4, 0);
        world_add(&w, 5, 0);
        world_add(&w, 6, 0);
        world_add(&w, 7, 0)->usage_valid = false;
        CHECK_EQ_INT(look(&w), 0);

        use(&w, 1, 10, 0, 0); /* not eligible */
        use(&w, 2, 10, 1, 0); /* one unmovable page */
        use(&w, 3, 10, 0, 1); /* one hugetlb page */
        use(&w, 4, 0, 1, 0);  /* unmovable only */
        use(&w, 5, 0, 0, 0);  /* still empty */
        use(&w, 6, 10, 0, 0);
        world_find(&w, 6)->usage.unknown = 1; /* a page that read 0 in a kernel zone */
        use(&w, 7, 10, 0, 0); /* not counted */
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

/* Race: a first use while an evacuation is in progress on the node is not
 * noted, and stays unnoted once it ends (it is no first use any more). */
static void test_first_use_while_busy(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        world_add(&w, 20, 1);
        CHECK_EQ_INT(look(&w), 0);

        w.busy_node = 0;
        use(&w, 11, 5, 0, 0);
        use(&w, 20, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 1, 20)); /* node 1 is not busy */
        CHECK_EQ_INT(noted(&w, 0), -1);

        w.busy_node = -1;
        w.node_free[0] = 2000;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);
        handshake_free(&w.h);
}

/* Race: a free on one node does not free another node's note; a freed note
 * waits for the planner while another node is busy. */
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
        CHECK(HAS_FREED(&w, 1, 20));
        CHECK(!handshake_is_freed(&w.h, 0));
        CHECK_EQ_INT(noted(&w, 0), 10);

        /* The worker busy on node 2 keeps neither node from being freed, and
         * the freed notes stay through further looks. */
        w.busy_node = 2;
        w.node_free[0] = 5000;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 10));
        CHECK_EQ_INT(look(&w), 0);
        CHECK(handshake_is_freed(&w.h, 0));
        CHECK(handshake_is_freed(&w.h, 1));
        CHECK_EQ_INT(take(&w, 1), 20);
        CHECK_EQ_INT(take(&w, 0), 10);
        handshake_free(&w.h);
}

/* A note made at this look is not freed at this same look, even when free
 * pages rose in the same interval. */
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
        CHECK(!handshake_is_freed(&w.h, 0));

        CHECK_EQ_INT(look(&w), 0); /* no rise since */
        w.node_free[0] = 1500 + RISE;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 10));
        handshake_free(&w.h);
}

/* Drops of a noted block, each reason; a drop takes precedence over a free
 * at the same look. Freed notes drop the same way. */
static void test_drops(void)
{
        static const struct {
                HandshakeDrop reason;
                uint64_t movable, unmovable, hugetlb, unknown;
                bool ineligible, vanish, move_node, uncounted;
        } cases[] = {
                { HANDSHAKE_DROP_EMPTY, 0, 0, 0, 0, false, false, false, false },
                { HANDSHAKE_DROP_UNMOVABLE, 5, 1, 0, 0, false, false, false, false },
                { HANDSHAKE_DROP_UNMOVABLE, 0, 3, 0, 0, false, false, false, false },
                { HANDSHAKE_DROP_UNMOVABLE, 5, 0, 0, 1, false, false, false, false },
                { HANDSHAKE_DROP_HUGETLB, 5, 0, 2, 0, false, false, false, false },
                { HANDSHAKE_DROP_INELIGIBLE, 5, 0, 0, 0, true, false, false, false },
                { HANDSHAKE_DROP_INELIGIBLE, 5, 0, 0, 0, false, false, false, true },
                { HANDSHAKE_DROP_VANISHED, 5, 0, 0, 0, false, true, false, false },
                { HANDSHAKE_DROP_VANISHED, 5, 0, 0, 0, false, false, true, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (int freed = 0; freed < 2; freed++) {
                        World w;

                        world_init(&w);
                        world_add(&w, 10, 0);
                        world_add(&w, 11, 0);
                        CHECK_EQ_INT(look(&w), 0);
                        use(&w, 10, 5, 0, 0);
                        CHECK_EQ_INT(look(&w), 1);
                        CHECK_EQ_INT(noted(&w, 0), 10);
                        if (freed) {
                                w.node_free[0] += RISE;
                                CHECK_EQ_INT(look(&w), 1);
                                CHECK(handshake_is_freed(&w.h, 0));
                        }

                        /* The change, and a free at the same look. */
                        use(&w, 10, cases[i].movable, cases[i].unmovable, cases[i].hugetlb);
                        world_find(&w, 10)->usage.unknown = cases[i].unknown;
                        if (cases[i].ineligible)
                                set_eligible(&w, 10, false);
                        if (cases[i].uncounted)
                                world_find(&w, 10)->usage_valid = false;
                        if (cases[i].vanish)
                                world_remove(&w, 10);
                        if (cases[i].move_node)
                                world_find(&w, 10)->node = 1;
                        w.node_free[0] = 2000;
                        CHECK_EQ_INT(look(&w), 1);
                        CHECK(has_event(&w, HANDSHAKE_DROP, 0, 10, cases[i].reason));
                        CHECK_EQ_INT(noted(&w, 0), -1);
                        CHECK(!handshake_is_freed(&w.h, 0));

                        /* A later free finds nothing to do. */
                        w.node_free[0] = 3000;
                        CHECK_EQ_INT(look(&w), 0);
                        handshake_free(&w.h);
                }
}

/* A newer first use replaces a note that is not freed; in one look, the
 * candidate with the fewest movable pages wins, the highest index on ties.
 * A freed note is not replaced. */
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
        world_add(&w, 12, 0);
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

        /* Freed: a new first use waits (it is not noted). */
        w.node_free[0] += RISE;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(handshake_is_freed(&w.h, 0));
        use(&w, 12, 1, 0, 0);
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11);
        CHECK_EQ_INT(take(&w, 0), 11);
        handshake_free(&w.h);
}

/* The baseline: our own evacuation (pages leave a busy node) and memory
 * onlined under pressure (hold) are not frees; the count restarts from
 * where it is. An unknown count keeps the state; a node beyond the given
 * counts is unknown. */
static void test_free_baseline(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);

        /* Unknown, then known and RISE above the last known value: a free. */
        w.node_free[0] = HANDSHAKE_FREE_UNKNOWN;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(w.h.slots[0].low_free, 1000);
        w.node_free[0] = 1000 + RISE;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 10));
        CHECK_EQ_INT(take(&w, 0), 10);

        /* While busy, the rise (our evacuation moves pages off the node) is
         * absorbed: after the work, no free. A note of another block, made
         * before, is kept. */
        use(&w, 11, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 11));
        w.busy_node = 0;
        w.node_free[0] = 1500;
        CHECK_EQ_INT(look(&w), 0);
        CHECK_EQ_INT(noted(&w, 0), 11);
        CHECK(!handshake_is_freed(&w.h, 0));
        w.busy_node = -1;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 1400;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 1400 + RISE - 1;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 1400 + RISE;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 11));
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
        w.node_free[0] = 1000 + RISE;
        CHECK_EQ_INT(look(&w), 1);
        handshake_free(&w.h);

        /* n_nodes shorter than the slots, and no counts at all. */
        world_init(&w);
        world_add(&w, 20, 2);
        {
                HandshakeInput in = world_input(&w);
                HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];

                in.n_nodes = 2;
                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
                w.blocks[0].usage.movable = 5;
                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 1);
                CHECK_EQ_INT(ev[0].action, HANDSHAKE_NOTE);
                w.blocks[0].was_empty = false;
                in.node_free = NULL;
                CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
                CHECK_EQ_INT(w.h.slots[2].low_free, HANDSHAKE_FREE_UNKNOWN);
        }
        handshake_free(&w.h);
}

/* hold: notes and drops go on, nothing is freed, a freed note is unfreed,
 * and the rise seen under hold is consumed. */
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
        CHECK(!handshake_is_freed(&w.h, 0));

        w.hold = false;
        CHECK_EQ_INT(look(&w), 0);
        w.node_free[0] = 3000 + RISE;
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_FREED(&w, 0, 10));
        w.hold = true;
        CHECK_EQ_INT(look(&w), 0);
        CHECK(!handshake_is_freed(&w.h, 0));
        CHECK_EQ_INT(noted(&w, 0), 10);
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

/* The planner refuses a freed note: dropped, and the next first use may be
 * noted. */
static void test_drop(void)
{
        World w;

        world_init(&w);
        world_add(&w, 10, 0);
        world_add(&w, 11, 0);
        CHECK_EQ_INT(look(&w), 0);
        use(&w, 10, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK_EQ_INT(handshake_drop(&w.h, 0), 1);
        CHECK_EQ_INT(handshake_drop(&w.h, 0), 0);
        CHECK_EQ_INT(noted(&w, 0), -1);
        use(&w, 11, 5, 0, 0);
        CHECK_EQ_INT(look(&w), 1);
        CHECK(HAS_NOTE(&w, 0, 11));
        handshake_free(&w.h);
}

static void test_nobufs(void)
{
        World w;
        HandshakeInput in;
        HandshakeEvent ev[N_NODES * HANDSHAKE_EVENTS_PER_NODE];

        world_init(&w);
        world_add(&w, 10, 0);
        in = world_input(&w);
        CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev)), 0);
        w.blocks[0].usage.movable = 5;
        CHECK_EQ_INT(handshake_look(&w.h, &in, ev, ELEMENTSOF(ev) - 1), -ENOBUFS);
        CHECK_EQ_INT(noted(&w, 0), -1);
        /* no buffer: counted only */
        CHECK_EQ_INT(handshake_look(&w.h, &in, NULL, 0), 1);
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
        /* a drop and a freed on every node */
        for (int node = 0; node < N_NODES; node++)
                w.node_free[node] += RISE;
        CHECK_EQ_INT(look(&w), N_NODES);
        handshake_free(&w.h);
}

int main(void)
{
        test_strings();
        test_init_resize();
        test_cycle();
        test_first_use_conditions();
        test_first_use_while_busy();
        test_free_other_node();
        test_note_and_free_same_look();
        test_drops();
        test_replace_and_ties();
        test_free_baseline();
        test_hold();
        test_unknown_nodes();
        test_drop();
        test_nobufs();
        test_max_events();
        return test_summary("test-handshake");
}
