/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Rate limits for repeated messages, one window per key (a call site and
 * the block it is about): at most burst messages per interval; when a new
 * window opens, the first message learns how many the last one held back.
 * A small direct-mapped table: two keys sharing a slot take turns, so a
 * collision only lets a few more messages through, never fewer. Pure: time
 * is an argument. */

#include <stdbool.h>
#include <stdint.h>

typedef struct RateLimitSlot {
        uint64_t key;          /* 0: free */
        uint64_t begin_usec;   /* window start */
        unsigned count;        /* messages in this window, passed or not */
        unsigned suppressed;   /* held back in this window */
} RateLimitSlot;

#define RATELIMIT_SLOTS 256

typedef struct RateLimitTable {
        uint64_t interval_usec;
        unsigned burst;
        RateLimitSlot slots[RATELIMIT_SLOTS];
} RateLimitTable;

/* A key for a call site (file, line) and a number (a block, or anything
 * else that makes two messages of one site different events). Never 0. */
uint64_t ratelimit_key(const char *file, int line, uint64_t n);

/* May a message with key go out at now_usec? When it may and an earlier
 * window held some back, *ret_suppressed says how many (else 0). */
bool ratelimit_check(RateLimitTable *t, uint64_t key, uint64_t now_usec, unsigned *ret_suppressed);
