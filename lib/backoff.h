/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Per-block back-off after a failed evacuation or offline. Failures double
 * the wait, from initial_usec up to max_usec. A refusal because of unmovable
 * pages (EBUSY) also holds the block until its usage changes
 * (backoff_hold + backoff_observe). A usage change lifts that hold but keeps
 * the timed wait and the attempt count: a block with pinned pages (they look
 * movable) changes usage at every count, and a full reset would retry its
 * costly evacuation at every count. backoff_reset() after a success.
 * Pure: time is an argument (CLOCK_MONOTONIC µs). */

#include <stdbool.h>
#include <stdint.h>

#include "kpageflags.h"

typedef struct Backoff {
        unsigned attempts;      /* failures since the last reset */
        uint64_t next_try_usec; /* not before this; 0 = any time */
        bool held;              /* waiting for a usage change */
        PageUsage usage;        /* usage when held */
} Backoff;

#define BACKOFF_NULL ((Backoff){ 0 })

/* A failure at now_usec: attempts + 1, next try after
 * min(initial << (attempts - 1), max). initial 0 means no wait. */
void backoff_fail(Backoff *b, uint64_t now_usec, uint64_t initial_usec, uint64_t max_usec);
/* Leave the block alone until its used counts (movable, unmovable, hugetlb,
 * unknown) differ from usage. */
void backoff_hold(Backoff *b, const PageUsage *usage);
/* Feed a fresh count: lifts the hold when the used counts changed. Returns
 * true when it lifted it. */
bool backoff_observe(Backoff *b, const PageUsage *usage);
bool backoff_ready(const Backoff *b, uint64_t now_usec);
void backoff_reset(Backoff *b);
