/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Power domains: the sets of memory blocks that hardware can power down, or
 * a hypervisor take back, only together. Offlining scattered blocks saves
 * nothing when firmware interleaves every block over all DIMMs of a node;
 * what can go is a whole node (an interleave set, a CXL expander onlined as
 * a node), a whole memory device, or a region the operator knows the
 * hardware powers separately.
 *
 * Kinds, and where each is found:
 *
 * - device: a memory device that was added as a whole.
 *   - an ACPI memory device (PNP0C80: QEMU's pc-dimm, hot-pluggable ranges
 *     of physical servers): the block's firmware_node link
 *     (devices/system/memory/memoryN/firmware_node -> .../PNP0C80:XX); it
 *     can be ejected when bus/acpi/devices/PNP0C80:XX/eject exists;
 *   - a dax device onlined by kmem: bus/dax/devices/daxX.Y/{resource,size};
 *   - a CXL region: bus/cxl/devices/regionN/{resource,size};
 *   - any other driver that added memory of its own (virtio-mem): in
 *     /proc/iomem a "System RAM (DRIVER)" range, named by the range it sits
 *     in ("virtio0"). /proc/iomem shows real addresses only to root.
 *   When several match, the first in this order wins.
 * - node: a NUMA node's blocks.
 * - region: fixed-size regions aligned to their size in physical memory,
 *   within a node (RegionMiB).
 * - block: every memory block alone.
 *
 * DomainMode chooses: auto puts a block in its device's domain, and a block
 * outside any device in its node's; device puts blocks outside any device
 * in no domain (never a target); node, region and block as named.
 *
 * Reading (domain_sources_read: I/O) is apart from grouping (domain_group:
 * none), so grouping is tested on its own and the planner only ever sees a
 * DomainTable. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memblock.h"

typedef enum DomainKind {
        DOMAIN_BLOCK,
        DOMAIN_REGION,
        DOMAIN_NODE,
        DOMAIN_DEVICE,
        _DOMAIN_KIND_MAX,
        _DOMAIN_KIND_INVALID = -22,
} DomainKind;

typedef enum DomainMode {
        DOMAINS_AUTO,
        DOMAINS_NODE,
        DOMAINS_DEVICE,
        DOMAINS_REGION,
        DOMAINS_BLOCK,
        _DOMAINS_MODE_MAX,
        _DOMAINS_MODE_INVALID = -22,
} DomainMode;

/* No domain: a block outside every domain, or unknown to the table. */
#define DOMAIN_NONE UINT32_MAX

#define DOMAIN_NAME_MAX 48

const char *domain_kind_to_string(DomainKind k);
const char *domain_mode_to_string(DomainMode m);
DomainMode domain_mode_from_string(const char *s); /* exact match */

/* A memory device found by domain_sources_read. */
typedef struct DomainDevice {
        char name[DOMAIN_NAME_MAX]; /* "PNP0C80:00", "dax0.0", "region0", "virtio0" */
        char source[16];            /* "acpi", "dax", "cxl", or the driver ("virtio_mem") */
        bool ejectable;             /* ACPI, with an eject attribute */
} DomainDevice;

/* What the machine says about devices, for a block table: the device of
 * every block (by position in the table the sources were read for). */
typedef struct DomainSources {
        DomainDevice *devices;
        size_t n_devices;
        uint32_t *block_device; /* by block position: index into devices, DOMAIN_NONE */
        size_t n_blocks;
} DomainSources;

/* Read the device of every block of t. Sources that cannot be read (no
 * such bus, no permission, /proc/iomem without addresses) are skipped: a
 * block whose device is not known is outside any device. -ENOMEM. */
int domain_sources_read(int sysfs_fd, int procfs_fd, const BlockTable *t, DomainSources *ret);
void domain_sources_free(DomainSources *s);

/* One /proc/iomem text: the "System RAM (DRIVER)" ranges, each as a device
 * named by the range it sits in (or "DRIVER@0xSTART" at the top level),
 * added to s for every block of t that starts in it and has no device yet.
 * Exposed for tests and the fuzzer. -ENOMEM. */
int domain_sources_add_iomem(DomainSources *s, const BlockTable *t, const char *text);

typedef struct Domain {
        uint32_t id;      /* its position in DomainTable.domains */
        DomainKind kind;
        int node;         /* its blocks' node; -1 when on several or none */
        char name[DOMAIN_NAME_MAX]; /* "node1", "PNP0C80:00", "region@0x100000000", "memory32" */
        char source[16];  /* device: as DomainDevice.source; else the kind */
        bool ejectable;
        size_t first;     /* its blocks: DomainTable.members[first .. first + n_blocks) */
        size_t n_blocks;
} Domain;

typedef struct DomainMember {
        uint32_t index;  /* memoryN */
        uint32_t domain; /* its domain's id */
} DomainMember;

typedef struct DomainTable {
        DomainMode mode;
        uint64_t region_bytes;
        uint64_t block_size_bytes;
        Domain *domains;         /* ordered by their lowest block index */
        size_t n;
        uint32_t *members;       /* block indices, by domain, ascending within one */
        size_t n_members;
        DomainMember *by_index;  /* every grouped block, by index (lookup) */
} DomainTable;

/* Group t's blocks into domains. src: the devices (may be NULL: none).
 * region_bytes: RegionMiB in bytes (region mode; smaller than a block: one
 * block each). *ret is replaced on success (the old table freed); -ENOMEM
 * or -EINVAL (mode out of range, sources for another table) leave it. */
int domain_group(const DomainSources *src, const BlockTable *t, DomainMode mode,
                 uint64_t region_bytes, DomainTable *ret);
void domain_table_free(DomainTable *dt);

/* The domain of block index, DOMAIN_NONE when it is in none. */
uint32_t domain_of(const DomainTable *dt, uint32_t index);
/* Its name, "" when it is in none. */
const char *domain_name_of(const DomainTable *dt, uint32_t index);

/* What a domain's blocks hold now, from the block table. */
typedef struct DomainStat {
        size_t online;        /* blocks online (or going offline) */
        size_t offline;       /* blocks offline */
        size_t missing;       /* members no longer in the block table */
        size_t counted;       /* online blocks with a full count */
        size_t owned;         /* offline blocks mempowerd took offline */
        size_t empty_before;  /* online blocks empty at the count before the last */
        PageUsage usage;      /* summed over the online blocks */
} DomainStat;

void domain_stat(const DomainTable *dt, const Domain *d, const MemBlock *blocks, size_t n_blocks,
                 DomainStat *ret);
/* domain_stat of every domain at once, one pass over the blocks: ret has
 * dt->n entries. */
void domain_stats_compute(const DomainTable *dt, const MemBlock *blocks, size_t n_blocks,
                          DomainStat *ret);
