/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "diagnose.h"
#include "manager.h"
#include "output.h"

/* What --once reports: every block with its usage and what the planner
 * would do with it or why not (as if the daemon ran on from here), why not
 * more and what would change it, the power domains and what they would
 * save, the zones as /proc/zoneinfo sees them against what kpageflags
 * counted, and why the two disagree when they do. Without root (no
 * kpageflags) what sysfs shows, and what needs root. */
typedef struct Report {
        PlanVerdict *verdicts; /* by table position */
        PlanVerdict *domain_verdicts; /* by power domain id */
        char (*zone_words)[32];       /* by table position: "Movable", "none" */
        size_t n_domains;
        PlanSummary summary;
        ZoneInfo zones[64];
        int n_zones;          /* < 0: zoneinfo not read (-errno) */
        Diagnosis diagnoses[DIAGNOSES_MAX]; /* why not more, and the remedies */
        size_t n_diagnoses;
} Report;

/* Everything a report needs, from the manager's current counts. -ENOMEM. */
int report_prepare(const Manager *m, Report *ret);
void report_done(Report *r);

/* Block ranges like lsmem's (o: -o, --bytes), then the totals, why not
 * more, the domains and the zones. */
int report_text(const Manager *m, const Report *r, const OutOptions *o, FILE *f);
/* The same as a JSON document (see mempowerd(8)): the schema of
 * output.h's rows, as mempowerctl --json prints them. */
int report_json(const Manager *m, const Report *r, FILE *f);
