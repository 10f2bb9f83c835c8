/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "rapl.h"
#include "util.h"

#define POWERCAP_DIR "class/powercap"

uint64_t rapl_delta_uj(uint64_t before, uint64_t after, uint64_t max_uj)
{
        if (after >= before)
                return after - before;
        /* wrapped: up to the range, then from 0 */
        return max_uj >= before ? max_uj - before + after : after;
}

void rapl_free(Rapl *r)
{
        if (!r)
                return;
        free(r->zones);
        *r = (Rapl){ .watts = -1 };
}

static int zone_compare(const void *a, const void *b)
{
        return strcmp(((const RaplZone *)a)->name, ((const RaplZone *)b)->name);
}

int rapl_open(int sysfs_fd, Rapl *ret)
{
        _cleanup_(closedirp) DIR *d = NULL;
        Rapl r = { .watts = -1 };
        struct dirent *de;
        int fd;

        fd = openat(sysfs_fd, POWERCAP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                *ret = r;
                return 0; /* no powercap: nothing to measure */
        }
        d = fdopendir(fd);
        if (!d) {
                int e = -errno;

                close(fd);
                return e;
        }
        while ((de = readdir(d))) {
                char path[sizeof(POWERCAP_DIR) + 300], name[64];
                uint64_t max;
                RaplZone *z;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(((RaplZone *)0)->name))
                        continue;
                snprintf(path, sizeof(path), POWERCAP_DIR "/%s/name", de->d_name);
                if (attr_read_at(sysfs_fd, path, name, sizeof(name)) < 0 || strcmp(name, "dram") != 0)
                        continue;
                snprintf(path, sizeof(path), POWERCAP_DIR "/%s/max_energy_range_uj", de->d_name);
                if (attr_read_u64_at(sysfs_fd, path, 10, &max) < 0 || max == 0)
                        continue;
                z = realloc(r.zones, (r.n + 1) * sizeof(*z));
                if (!z) {
                        free(r.zones);
                        return -ENOMEM;
                }
                r.zones = z;
                r.zones[r.n] = (RaplZone){ .max_uj = max };
                snprintf(r.zones[r.n].name, sizeof(r.zones[r.n].name), "%s", de->d_name);
                r.n++;
        }
        if (r.n > 1)
                qsort(r.zones, r.n, sizeof(*r.zones), zone_compare);
        *ret = r;
        return 0;
}

int rapl_sample(int sysfs_fd, Rapl *r, uint64_t now_usec)
{
        uint64_t total_uj = 0;
        size_t read = 0, counted = 0;

        for (size_t i = 0; i < r->n; i++) {
                RaplZone *z = &r->zones[i];
                char path[sizeof(POWERCAP_DIR) + 100];
                uint64_t uj;

                snprintf(path, sizeof(path), POWERCAP_DIR "/%s/energy_uj", z->name);
                if (attr_read_u64_at(sysfs_fd, path, 10, &uj) < 0) {
                        z->valid = false;
                        continue;
                }
                read++;
                if (z->valid && r->last_usec && now_usec > r->last_usec) {
                        uint64_t d = rapl_delta_uj(z->last_uj, uj, z->max_uj);

                        /* µJ per µs is watts */
                        if ((double)d / (double)(now_usec - r->last_usec) > RAPL_ZONE_WATTS_MAX)
                                r->implausible++;
                        else {
                                total_uj += d;
                                counted++;
                        }
                }
                z->last_uj = uj;
                z->valid = true;
        }
        if (read == 0) {
                r->watts = -1;
                r->last_usec = 0;
                return -ENODATA;
        }
        if (counted > 0 && r->last_usec && now_usec > r->last_usec) {
                r->joules += (double)total_uj / 1e6;
                r->watts = (double)total_uj / (double)(now_usec - r->last_usec);
        }
        r->last_usec = now_usec;
        return 0;
}
