/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

static const char *const action_names[_HANDSHAKE_ACTION_MAX] = {
        [HANDSHAKE_NOTE] = "note",
        [HANDSHAKE_DROP] = "drop",
        [HANDSHAKE_FREED] = "freed",
};

static const char *const drop_names[_HANDSHAKE_DROP_MAX] = {
        [HANDSHAKE_DROP_NONE] = "none",
        [HANDSHAKE_DROP_VANISHED] = "vanished",
        [HANDSHAKE_DROP_INELIGIBLE] = "ineligible",
        [HANDSHAKE_DROP_UNMOVABLE] = "unmovable-pages",
        [HANDSHAKE_DROP_HUGETLB] = "hugetlb",
        [HANDSHAKE_DROP_EMPTY] = "empty-again",
        [HANDSHAKE_DROP_REPLACED] = "replaced",
        [HANDSHAKE_DROP_REFUSED] = "refused",
};

const char *handshake_action_to_string(HandshakeAction a)
{
        if (a < 0 || a >= _HANDSHAKE_ACTION_MAX)
                return NULL;
        return action_names[a];
}

const char *handshake_drop_to_string(HandshakeDrop d)
{
        if (d < 0 || d >= _HANDSHAKE_DROP_MAX)
                return NULL;
        return drop_names[d];
}

static void slot_init(HandshakeSlot *s)
{
        *s = (HandshakeSlot){ .low_free = HANDSHAKE_FREE_UNKNOWN };
}

int handshake_init(Handshake *h, size_t n_nodes)
{
        *h = (Handshake){ 0 };
        return handshake_set_nodes(h, n_nodes);
}

int handshake_set_nodes(Handshake *h, size_t n_nodes)
{
        HandshakeSlot *slots;

        if (n_nodes == h->n_slots)
                return 0;
        if (n_nodes == 0) {
                handshake_free(h);
                return 0;
        }
        if (n_nodes > SIZE_MAX / sizeof(HandshakeSlot))
                return -ENOMEM;

        slots = realloc(h->slots, n_nodes * sizeof(HandshakeSlot));
        if (!slots)
                return -ENOMEM;
        for (size_t i = h->n_slots; i < n_nodes; i++)
                slot_init(&slots[i]);
        h->slots = slots;
        h->n_slots = n_nodes;
        return 0;
}

void handshake_free(Handshake *h)
{
        if (!h)
                return;
        free(h->slots);
        *h = (Handshake){ 0 };
}

static HandshakeSlot *slot_of(const Handshake *h, int node)
{
        if (node < 0 || (size_t)node >= h->n_slots)
                return NULL;
        return &h->slots[node];
}

/* Holds movable pages and nothing else that is used: a first use the
 * handshake may note. */
static bool usage_is_first_use(const PageUsage *u)
{
        return u->movable > 0 && u->unmovable == 0 && u->hugetlb == 0 && u->unknown == 0;
}

/* Better first-use candidate: fewer movable pages, then the higher index. */
static bool candidate_better(const HandshakeUnit *a, const HandshakeUnit *b)
{
        if (a->usage.movable != b->usage.movable)
                return a->usage.movable < b->usage.movable;
        return a->id > b->id;
}

static bool eligible(const HandshakeInput *in, const HandshakeUnit *b)
{
        return b->usage_valid && in->eligible(b, in->userdata);
}

static HandshakeDrop noted_drop_reason(const HandshakeInput *in, const HandshakeUnit *b)
{
        if (!b)
                return HANDSHAKE_DROP_VANISHED;
        if (!eligible(in, b))
                return HANDSHAKE_DROP_INELIGIBLE;
        if (b->usage.unmovable > 0 || b->usage.unknown > 0)
                return HANDSHAKE_DROP_UNMOVABLE;
        if (b->usage.hugetlb > 0)
                return HANDSHAKE_DROP_HUGETLB;
        if (page_usage_used(&b->usage) == 0)
                return HANDSHAKE_DROP_EMPTY;
        return HANDSHAKE_DROP_NONE;
}

static void emit(HandshakeEvent *ev, size_t *n, HandshakeAction a, size_t node, uint32_t block,
                 HandshakeDrop reason)
{
        if (!ev) {
                (*n)++;
                return;
        }
        ev[(*n)++] = (HandshakeEvent){
                .action = a,
                .node = (int)node,
                .block = block,
                .reason = reason,
        };
}

static void slot_note(HandshakeSlot *s, uint32_t block, uint64_t now_free)
{
        s->noted = true;
        s->block = block;
        s->freed = false;
        s->low_free = now_free;
}

int handshake_look(Handshake *h, const HandshakeInput *in, HandshakeEvent *ret_events,
                   size_t ret_size)
{
        uint64_t rise = in->rise_pages > 0 ? in->rise_pages : 1;
        size_t n = 0;

        if (ret_events && ret_size < handshake_max_events(h))
                return -ENOBUFS;

        for (size_t i = 0; i < h->n_slots; i++) {
                h->slots[i].seen = NULL;
                h->slots[i].candidate = NULL;
        }

        /* One pass over the units: find each noted one, and each node's
         * best first use. A noted unit seen on another node than the one
         * it was noted on is not found (it is dropped as vanished). */
        for (size_t i = 0; i < in->n_units; i++) {
                const HandshakeUnit *b = &in->units[i];
                HandshakeSlot *s = slot_of(h, b->node);

                if (!s)
                        continue;
                if (s->noted && s->block == b->id)
                        s->seen = b;
                if (b->was_empty && usage_is_first_use(&b->usage) && eligible(in, b) &&
                    (!s->candidate || candidate_better(b, s->candidate)))
                        s->candidate = b;
        }

        for (size_t node = 0; node < h->n_slots; node++) {
                HandshakeSlot *s = &h->slots[node];
                uint64_t now_free = node < in->n_nodes && in->node_free ? in->node_free[node]
                                                                         : HANDSHAKE_FREE_UNKNOWN;
                bool known = now_free != HANDSHAKE_FREE_UNKNOWN;
                bool busy = in->busy_node >= 0 && (size_t)in->busy_node == node;
                bool hold = in->hold || (in->node_hold && node < in->n_nodes && in->node_hold[node]);

                /* 1. Drop a note whose block no longer qualifies. */
                if (s->noted) {
                        HandshakeDrop reason = noted_drop_reason(in, s->seen);

                        if (reason != HANDSHAKE_DROP_NONE) {
                                emit(ret_events, &n, HANDSHAKE_DROP, node, s->block, reason);
                                s->noted = false;
                                s->freed = false;
                        }
                }

                /* 2. next-free: a rise from the lowest count since a note made
                 * at an earlier look. Holding or busy: the count restarts. */
                if (known) {
                        if (hold || busy) {
                                s->freed = false;
                                s->low_free = now_free;
                        } else if (s->low_free == HANDSHAKE_FREE_UNKNOWN || now_free < s->low_free) {
                                s->low_free = now_free;
                        } else if (s->noted && !s->freed && now_free - s->low_free >= rise) {
                                s->freed = true;
                                emit(ret_events, &n, HANDSHAKE_FREED, node, s->block,
                                     HANDSHAKE_DROP_NONE);
                        }
                }

                /* 3. first-use, not while an evacuation is in progress on this
                 * node, and not over a note the next free has made ready. */
                if (s->candidate && !busy && !s->freed &&
                    !(s->noted && s->block == s->candidate->id)) {
                        const HandshakeUnit *c = s->candidate;

                        if (s->noted)
                                emit(ret_events, &n, HANDSHAKE_DROP, node, s->block,
                                     HANDSHAKE_DROP_REPLACED);
                        emit(ret_events, &n, HANDSHAKE_NOTE, node, c->id, HANDSHAKE_DROP_NONE);
                        slot_note(s, c->id, now_free);
                }
        }

        for (size_t i = 0; i < h->n_slots; i++) {
                h->slots[i].seen = NULL;
                h->slots[i].candidate = NULL;
        }

        return (int)n;
}

int handshake_take(Handshake *h, int node, uint32_t *ret_block)
{
        HandshakeSlot *s = slot_of(h, node);

        if (!s)
                return -EINVAL;
        if (!s->noted || !s->freed)
                return 0;
        if (ret_block)
                *ret_block = s->block;
        s->noted = false;
        s->freed = false;
        return 1;
}

int handshake_drop(Handshake *h, int node)
{
        HandshakeSlot *s = slot_of(h, node);
        bool was;

        if (!s)
                return -EINVAL;
        was = s->noted;
        s->noted = false;
        s->freed = false;
        return was ? 1 : 0;
}

bool handshake_is_freed(const Handshake *h, int node)
{
        const HandshakeSlot *s = slot_of(h, node);

        return s && s->noted && s->freed;
}

int handshake_get_noted(const Handshake *h, int node, uint32_t *ret_block)
{
        const HandshakeSlot *s = slot_of(h, node);

        if (!s)
                return -EINVAL;
        if (!s->noted)
                return 0;
        if (ret_block)
                *ret_block = s->block;
        return 1;
}
