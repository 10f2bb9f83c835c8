/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "manager.h"

/* What --once reports: every block with its usage and what the planner
 * would do with it or why not (as if the daemon ran on from here), the
 * power domains and what they would save, the zones as /proc/zoneinfo sees
 * them against what kpageflags counted, and why the two disagree when they
 * do. */
typedef struct Report {
        PlanVerdict *verdicts; /* by table position */
        PlanVerdict *domain_verdicts; /* by power domain id */
        size_t n_domains;
        PlanSummary summary;
        ZoneInfo zones[64];
        int n_zones;          /* < 0: zoneinfo not read (-errno) */
} Report;

/* Everything a report needs, from the manager's current counts. -ENOMEM. */
int report_prepare(const Manager *m, Report *ret);
void report_done(Report *r);

/* Block ranges like lsmem's, then the totals and the notes. */
int report_text(const Manager *m, const Report *r, FILE *f);
/* The same as a JSON document (see mempowerd(8)). */
int report_json(const Manager *m, const Report *r, FILE *f);
