/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* DRAM energy as the CPU measures it (RAPL), through the powercap class:
 * class/powercap/ZONE/{name,energy_uj,max_energy_range_uj}, the zones named
 * "dram" (a package's subzone intel-rapl:N:M, or a top-level zone on some
 * servers). energy_uj counts microjoules up to max_energy_range_uj and
 * starts again at 0. It is readable by root only. Most machines without
 * Intel server parts, and every VM, have no dram zone: then nothing is
 * measured, and the daemon says so. Some parts report nonsense: an interval
 * in which a zone claims more than RAPL_ZONE_WATTS_MAX is not counted. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No DRAM zone draws this much (a socket's DIMMs draw tens of watts). */
#define RAPL_ZONE_WATTS_MAX 1000.0

typedef struct RaplZone {
        char name[64];     /* the zone's directory: "intel-rapl:0:2" */
        uint64_t max_uj;   /* max_energy_range_uj: where energy_uj wraps */
        uint64_t last_uj;  /* at the last sample */
        bool valid;        /* last_uj was read */
} RaplZone;

typedef struct Rapl {
        RaplZone *zones;
        size_t n;
        uint64_t last_usec; /* the last sample, 0 none */
        double joules;      /* measured since the first sample */
        double watts;       /* over the last interval; < 0 before there is one */
        uint64_t implausible; /* zone intervals not counted (above RAPL_ZONE_WATTS_MAX) */
} Rapl;

/* Find the dram zones under sysfs_fd. 0 with n == 0: none (or no powercap
 * class); -ENOMEM. */
int rapl_open(int sysfs_fd, Rapl *ret);
/* Read every zone at now_usec (CLOCK_MONOTONIC): adds what was spent since
 * the last sample to joules, and sets watts. A zone that could not be read
 * counts nothing this time and starts again. 0, or -ENODATA when no zone
 * could be read. */
int rapl_sample(int sysfs_fd, Rapl *r, uint64_t now_usec);
void rapl_free(Rapl *r);

/* The energy between two readings of a counter that wraps at max_uj. */
uint64_t rapl_delta_uj(uint64_t before, uint64_t after, uint64_t max_uj);
