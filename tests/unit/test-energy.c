/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The energy model: savings by kind, the cost of moving pages, break-even. */
#include <math.h>

#include "config.h"
#include "energy.h"
#include "testutil.h"
#include "util.h"

#define GiB (1024ULL * 1024 * 1024)
#define MiB (1024ULL * 1024)

static bool near(double a, double b)
{
        return fabs(a - b) < 1e-9;
}

static void test_defaults(void)
{
        Config c;

        config_init(&c);
        /* a node or device offline saves all it drew: 0.056 W per GiB */
        CHECK(near(energy_saving_watts(&c, DOMAIN_NODE, GiB), 0.056));
        CHECK(near(energy_saving_watts(&c, DOMAIN_DEVICE, 512 * MiB), 0.028));
        /* a region powered down saves the difference; a block alone nothing */
        CHECK(near(energy_saving_watts(&c, DOMAIN_REGION, 2 * GiB), 2 * (0.056 - 0.040)));
        CHECK(near(energy_saving_watts(&c, DOMAIN_BLOCK, 128 * MiB), 0));
        CHECK(near(energy_saving_watts(&c, _DOMAIN_KIND_MAX, GiB), 0));
        CHECK(near(energy_saving_watts(&c, (DomainKind)-1, GiB), 0));
        /* 15 J per GiB moved */
        CHECK(near(energy_migration_joules(&c, GiB / 4), 3.75));
        CHECK(near(energy_migration_joules(&c, 0), 0));
        config_free(&c);
}

static void test_break_even(void)
{
        Config c;

        config_init(&c);
        /* 512 MiB device, 600 s: saves 16.8 J; 1 GiB to move costs 15 J */
        CHECK(energy_pays(&c, DOMAIN_DEVICE, 512 * MiB, GiB, 600 * USEC_PER_SEC));
        /* 2 GiB to move: 30 J, more than it saves */
        CHECK(!energy_pays(&c, DOMAIN_DEVICE, 512 * MiB, 2 * GiB, 600 * USEC_PER_SEC));
        /* ... unless it stays offline long enough: 1200 s, 33.6 J */
        CHECK(energy_pays(&c, DOMAIN_DEVICE, 512 * MiB, 2 * GiB, 1200 * USEC_PER_SEC));
        /* nothing to move always pays, even for a block that saves nothing */
        CHECK(energy_pays(&c, DOMAIN_BLOCK, 128 * MiB, 0, 1));
        /* a block alone with anything to move never does */
        CHECK(!energy_pays(&c, DOMAIN_BLOCK, 128 * MiB, 4096, 86400 * USEC_PER_SEC));
        /* a figure set to 0: moving is free, everything pays */
        c.migration_joules_per_gib = 0;
        CHECK(energy_pays(&c, DOMAIN_BLOCK, 128 * MiB, GiB, 1));
        /* offline drawing more than online: no saving, never negative */
        c.migration_joules_per_gib = 15;
        c.offline_watts_per_gib[DOMAIN_REGION] = 0.1;
        CHECK(near(energy_saving_watts(&c, DOMAIN_REGION, GiB), 0));
        CHECK(!energy_pays(&c, DOMAIN_REGION, GiB, 1, 86400 * USEC_PER_SEC));
        config_free(&c);
}

int main(void)
{
        test_defaults();
        test_break_even();
        return test_summary("test-energy");
}
