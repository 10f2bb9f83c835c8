/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>

#include "energy.h"
#include "util.h"

double energy_saving_watts(const Config *c, DomainKind kind, uint64_t bytes)
{
        double per_gib;

        if (kind < 0 || kind >= _DOMAIN_KIND_MAX)
                return 0;
        per_gib = c->online_watts_per_gib - c->offline_watts_per_gib[kind];
        return per_gib > 0 ? per_gib * ((double)bytes / GIB) : 0;
}

double energy_migration_joules(const Config *c, uint64_t bytes)
{
        return c->migration_joules_per_gib * ((double)bytes / GIB);
}

bool energy_pays(const Config *c, DomainKind kind, uint64_t bytes, uint64_t movable_bytes,
                 uint64_t expected_usec)
{
        double cost = energy_migration_joules(c, movable_bytes);

        if (cost <= 0)
                return true; /* nothing to move: nothing to repay */
        return energy_saving_watts(c, kind, bytes) * ((double)expected_usec / USEC_PER_SEC) >= cost;
}
