/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RAPL DRAM energy from a fake powercap tree: which zones count, the
 * counter's wrap, watts over an interval. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "rapl.h"
#include "testutil.h"
#include "util.h"

#define CAP "class/powercap/"

static void zone(const char *root, const char *dir, const char *name, const char *max)
{
        char path[256];

        snprintf(path, sizeof(path), CAP "%s/name", dir);
        fake_write(root, path, name);
        snprintf(path, sizeof(path), CAP "%s/max_energy_range_uj", dir);
        fake_write(root, path, max);
}

static void energy(const char *root, const char *dir, const char *uj)
{
        char path[256];

        snprintf(path, sizeof(path), CAP "%s/energy_uj", dir);
        fake_unlink(root, path);
        fake_write(root, path, uj);
}

static void test_delta(void)
{
        CHECK_EQ_INT(rapl_delta_uj(100, 350, 1000), 250);
        CHECK_EQ_INT(rapl_delta_uj(900, 50, 1000), 150);
        CHECK_EQ_INT(rapl_delta_uj(5, 5, 1000), 0);
        /* a reading above the range it claims: no negative energy */
        CHECK_EQ_INT(rapl_delta_uj(2000, 50, 1000), 50);
}

static void test_tree(void)
{
        char *root = tmpdir_make();
        Rapl r;
        int fd;

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        /* no powercap class: nothing to measure, no error */
        CHECK_EQ_INT(rapl_open(fd, &r), 0);
        CHECK_EQ_INT(r.n, 0);
        CHECK_EQ_INT(rapl_sample(fd, &r, 1000000), -ENODATA);
        CHECK(r.watts < 0);
        rapl_free(&r);

        zone(root, "intel-rapl:0", "package-0", "262143328850");
        energy(root, "intel-rapl:0", "5");
        zone(root, "intel-rapl:0:0", "core", "262143328850");
        zone(root, "intel-rapl:0:2", "dram", "1000000000");
        energy(root, "intel-rapl:0:2", "999000000");
        zone(root, "intel-rapl:1", "dram", "262143328850");
        energy(root, "intel-rapl:1", "100");
        zone(root, "intel-rapl:2", "dram", "0"); /* no range: not used */
        CHECK_EQ_INT(rapl_open(fd, &r), 0);
        CHECK_EQ_INT(r.n, 2);
        CHECK_EQ_STR(r.zones[0].name, "intel-rapl:0:2");
        CHECK_EQ_STR(r.zones[1].name, "intel-rapl:1");

        /* the first sample only starts the count */
        CHECK_EQ_INT(rapl_sample(fd, &r, 10000000), 0);
        CHECK(r.watts < 0);
        CHECK(r.joules == 0);
        /* 2 s later: zone 0 wrapped (3 J), zone 1 counted 1 J: 2 W */
        energy(root, "intel-rapl:0:2", "2000000");
        energy(root, "intel-rapl:1", "1000100");
        CHECK_EQ_INT(rapl_sample(fd, &r, 12000000), 0);
        CHECK(fabs(r.joules - 4.0) < 1e-9);
        CHECK(fabs(r.watts - 2.0) < 1e-9);
        /* a zone that cannot be read counts nothing, and starts again */
        fake_unlink(root, CAP "intel-rapl:1/energy_uj");
        energy(root, "intel-rapl:0:2", "3000000");
        CHECK_EQ_INT(rapl_sample(fd, &r, 13000000), 0);
        CHECK(fabs(r.watts - 1.0) < 1e-9);
        CHECK(fabs(r.joules - 5.0) < 1e-9);
        energy(root, "intel-rapl:1", "5000000");
        energy(root, "intel-rapl:0:2", "4000000");
        CHECK_EQ_INT(rapl_sample(fd, &r, 14000000), 0);
        CHECK(fabs(r.watts - 1.0) < 1e-9); /* zone 1's first reading again */
        /* 2 kJ in a second: nonsense, not counted */
        energy(root, "intel-rapl:1", "2005000000");
        energy(root, "intel-rapl:0:2", "5000000");
        CHECK_EQ_INT(rapl_sample(fd, &r, 15000000), 0);
        CHECK_EQ_INT(r.implausible, 1);
        CHECK(fabs(r.watts - 1.0) < 1e-9);
        CHECK(fabs(r.joules - 7.0) < 1e-9);
        rapl_free(&r);
        close(fd);
        tmpdir_remove(root);
}

int main(void)
{
        test_delta();
        test_tree();
        return test_summary("test-rapl");
}
