/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Memory blocks as /sys/devices/system/memory shows them, kept in a table
 * sorted by index (indices can have holes). Reading only; policy lives
 * elsewhere. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "kpageflags.h"

typedef enum BlockState {
        BLOCK_ONLINE,
        BLOCK_OFFLINE,
        BLOCK_GOING_OFFLINE,
        _BLOCK_STATE_MAX,
        _BLOCK_STATE_INVALID = -22,
} BlockState;

/* Zone bits, from valid_zones. An online block has exactly one zone, or none
 * ("none": it spans zones and can never be offlined). An offline block lists
 * the zones it could be onlined into. */
enum {
        ZONE_DMA_BIT = 1u << 0,
        ZONE_DMA32_BIT = 1u << 1,
        ZONE_NORMAL_BIT = 1u << 2,
        ZONE_MOVABLE_BIT = 1u << 3,
        ZONE_DEVICE_BIT = 1u << 4,
        ZONE_OTHER_BIT = 1u << 5, /* a name this code does not know */
};

/* What the daemon remembers of a block beyond what sysfs shows. Kept when
 * the block is read again (blocktable_update, blocktable_carry), whatever
 * changed. */
typedef struct BlockTrack {
        Backoff backoff;            /* after a failed evacuation */
        uint64_t online_retry_usec; /* an online failed: other blocks first until then */
        bool owned;          /* offline because mempowerd took it offline (or kept it
                              * offline after a hot-add): it gives it back */
        unsigned origin_zones; /* owned: the zone it was online in (ZONE_*_BIT), 0 unknown */
        bool hot_added;      /* owned: it appeared offline by a hot-add while the daemon ran */
        bool modelled;       /* dry run: offline in the model only, online in the kernel */
        uint64_t model_free;    /* modelled: free pages it took from its node */
        uint64_t model_movable; /* modelled: movable pages it put on model_dest */
        int model_dest;         /* modelled: their node, -1 its own */
        bool rescan;         /* Rescan(): count it now, whatever the budget */
        bool eject_sent;     /* owned: its memory device was asked to go (EjectEmptyDevices) */
        char last_failure[96];      /* the last failed evacuation, in words; "" none */
        uint64_t last_failure_usec; /* and when (CLOCK_MONOTONIC), 0 never */
} BlockTrack;

typedef struct MemBlock {
        uint32_t index;
        uint64_t start_pfn;
        int node; /* -1 when no nodeN link */
        BlockState state;
        unsigned zones; /* ZONE_*_BIT; 0 = "none" */
        bool removable;

        /* Filled by the scanner. */
        PageUsage usage;
        bool usage_valid;     /* usage comes from a full count */
        uint64_t scanned_ns;  /* CLOCK_MONOTONIC of the last full count, 0 = never */
        uint64_t node_free_at_scan; /* node free pages when last counted */
        bool was_empty;       /* the count before the last one found no used page */
        bool stale;           /* due for a count this tick */

        BlockTrack track;
} MemBlock;

/* How kpageflags reads the block's zero words (see kpageflags.h). */
static inline KpfZoneKind memblock_kpf_zone(const MemBlock *b)
{
        return b->zones == ZONE_MOVABLE_BIT ? KPF_ZONE_MOVABLE : KPF_ZONE_KERNEL;
}

typedef struct BlockTable {
        uint64_t block_size_bytes;
        uint64_t pages_per_block;
        MemBlock *blocks; /* sorted by index */
        size_t n;
        size_t cap;
} BlockTable;

const char *block_state_to_string(BlockState s);
BlockState block_state_from_string(const char *s); /* exact match */

/* Parse a valid_zones value ("Normal", "Movable Normal", "none", ...). */
int zones_from_string(const char *s, unsigned *ret);
/* Format zone bits, space separated ("none" for 0), into buf. */
const char *zones_to_string(unsigned zones, char *buf, size_t size);

/* "memory32" → 32; anything else ("memory", "memory01", "memoryX") is
 * -EINVAL. */
int memblock_parse_name(const char *name, uint32_t *ret);

/* Open ROOTS_MEMORY_DIR below sysfs_fd. */
int memblock_open_dir(int sysfs_fd);

/* Read block_size_bytes (hex). */
int memblock_read_block_size(int memdir_fd, uint64_t *ret);

/* Read one block's attributes. -ENOENT when the block does not exist (it may
 * have been removed between listing and reading); -EBADMSG for a malformed
 * value. */
int memblock_read(int memdir_fd, uint32_t index, uint64_t pages_per_block, MemBlock *ret);

/* Read the whole table. Blocks that vanish while it is read are skipped;
 * a malformed block is an error (-EBADMSG) so the caller can say which
 * (ret_bad_index). */
int blocktable_load(int memdir_fd, BlockTable *ret, uint32_t *ret_bad_index);

/* Reread one block (after a uevent): updated in place, inserted when new,
 * removed when gone (returns 0 then, and ret_removed is set). As
 * blocktable_update. */
int blocktable_refresh(BlockTable *t, int memdir_fd, uint32_t index, bool *ret_removed);
/* Put a block just read (memblock_read) into the table: inserted when new;
 * otherwise its usage is kept when state, zones and node are unchanged and
 * invalidated when not, and its track is kept either way. -ENOMEM. */
int blocktable_update(BlockTable *t, const MemBlock *fresh);
/* After a full reread into fresh: what old knew of each block that is still
 * there, as blocktable_update would keep it. */
void blocktable_carry(BlockTable *fresh, const BlockTable *old);

MemBlock *blocktable_find(const BlockTable *t, uint32_t index);
/* The first block whose index is index or more, NULL when none. */
MemBlock *blocktable_find_from(const BlockTable *t, uint64_t index);
int blocktable_insert(BlockTable *t, const MemBlock *b); /* replaces same index */
bool blocktable_remove(BlockTable *t, uint32_t index);
void blocktable_clear(BlockTable *t);

/* Write "offline" / "online_movable" (or another word) to the block's state
 * and read the state back. */
int memblock_write_state(int memdir_fd, uint32_t index, const char *word, BlockState *ret_now);
