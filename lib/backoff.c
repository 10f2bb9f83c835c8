/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "backoff.h"
#include "util.h"

void backoff_fail(Backoff *b, uint64_t now_usec, uint64_t initial_usec, uint64_t max_usec)
{
        uint64_t delay = initial_usec;

        if (b->attempts < UINT32_MAX)
                b->attempts++;

        for (unsigned i = 1; i < b->attempts && delay < max_usec; i++)
                delay = delay > UINT64_MAX / 2 ? UINT64_MAX : delay * 2;
        delay = u64_min(delay, max_usec);

        b->next_try_usec = u64_add_sat(now_usec, delay);
}

void backoff_hold(Backoff *b, const PageUsage *usage)
{
        b->held = true;
        b->usage = *usage;
}

bool backoff_observe(Backoff *b, const PageUsage *usage)
{
        if (!b->held)
                return false;
        if (usage->movable == b->usage.movable && usage->unmovable == b->usage.unmovable &&
            usage->hugetlb == b->usage.hugetlb && usage->unknown == b->usage.unknown)
                return false;
        b->held = false;
        return true;
}

bool backoff_ready(const Backoff *b, uint64_t now_usec)
{
        return !b->held && now_usec >= b->next_try_usec;
}

void backoff_reset(Backoff *b)
{
        *b = BACKOFF_NULL;
}
