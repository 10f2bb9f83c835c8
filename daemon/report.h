/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "manager.h"

/* The --once report: block ranges like lsmem's, with usage and intent. */
int report_text(const Manager *m, FILE *f);
/* The same as a JSON document (see mempowerd(8)). */
int report_json(const Manager *m, FILE *f);
