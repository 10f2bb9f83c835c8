/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The energy model ([Power] in mempowerd.conf): what memory draws online and
 * offline, by kind of power domain, and what moving pages costs. Pure
 * arithmetic; the daemon's accounting over time is in daemon/. */

#include <stdint.h>

#include "config.h"
#include "domain.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* What bytes of a wholly offline domain of kind save: (online - offline) W
 * per GiB, never below 0. */
double energy_saving_watts(const Config *c, DomainKind kind, uint64_t bytes);

/* The energy to migrate bytes of pages, J. */
double energy_migration_joules(const Config *c, uint64_t bytes);

/* Break-even: does a domain of kind and size bytes, with movable_bytes to
 * move, save at least that energy in expected_usec offline? */
bool energy_pays(const Config *c, DomainKind kind, uint64_t bytes, uint64_t movable_bytes,
                 uint64_t expected_usec);
