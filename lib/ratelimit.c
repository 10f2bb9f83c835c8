/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>

#include "ratelimit.h"

uint64_t ratelimit_key(const char *file, int line, uint64_t n)
{
        /* FNV-1a over the file name, then the line and the number */
        uint64_t h = 14695981039346656037ULL;

        for (const char *p = file ? file : ""; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ (uint64_t)(unsigned)line) * 1099511628211ULL;
        h = (h ^ n) * 1099511628211ULL;
        h ^= h >> 29;
        return h ? h : 1;
}

bool ratelimit_check(RateLimitTable *t, uint64_t key, uint64_t now_usec, unsigned *ret_suppressed)
{
        RateLimitSlot *s = &t->slots[key % RATELIMIT_SLOTS];
        unsigned held = 0;

        if (ret_suppressed)
                *ret_suppressed = 0;
        if (s->key != key) {
                /* a new key, or another one took the slot: a fresh window */
                *s = (RateLimitSlot){ .key = key, .begin_usec = now_usec };
        } else if (now_usec < s->begin_usec || now_usec - s->begin_usec >= t->interval_usec) {
                held = s->suppressed;
                s->begin_usec = now_usec;
                s->count = 0;
                s->suppressed = 0;
        }
        if (s->count >= t->burst) {
                s->suppressed++;
                return false;
        }
        s->count++;
        if (ret_suppressed)
                *ret_suppressed = held;
        return true;
}
