/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Why nothing, or only so much, can go offline on this machine, and what
 * would change it: the planner's verdicts of every block, summed by
 * reason, each with its cause in words and the remedy, after what is true
 * of the machine as a whole (no ZONE_MOVABLE, counts that need root, memory
 * the kernel has not initialised yet). Pure: `mempowerd --once` prints what
 * this returns. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memblock.h"
#include "planner.h"

typedef struct DiagnoseInput {
        const MemBlock *blocks;      /* the table's blocks ... */
        const PlanVerdict *verdicts; /* ... and the planner's verdict of each */
        size_t n_blocks;
        uint64_t block_size_bytes;
        bool counted;               /* kpageflags could be read (root) */
        uint64_t unmanaged_bytes;   /* kernel zones' present minus managed pages */
        uint64_t unknown_bytes;     /* kernel-zone pages that read 0 */
} DiagnoseInput;

/* Machine-wide findings; the rest are verdict words (plan_verdict_to_string). */
#define DIAGNOSIS_NOT_ROOT        "not-counted"
#define DIAGNOSIS_NO_MOVABLE_ZONE "no-movable-zone"
#define DIAGNOSIS_DEFERRED_INIT   "memory-not-initialised"

typedef struct Diagnosis {
        const char *code;   /* a DIAGNOSIS_* word or a verdict word */
        size_t blocks;      /* blocks it keeps online (0: machine-wide) */
        uint64_t bytes;
        const char *why;    /* one sentence */
        const char *remedy; /* what would change it; NULL: nothing to do */
} Diagnosis;

/* Up to DIAGNOSES_MAX findings, machine-wide first, then by the bytes they
 * keep online, largest first. Blocks that would go offline, and those
 * offline already, are no finding. Returns how many were written. */
#define DIAGNOSES_MAX (4 + _PLAN_VERDICT_MAX)
size_t diagnose(const DiagnoseInput *in, Diagnosis *ret, size_t max);
