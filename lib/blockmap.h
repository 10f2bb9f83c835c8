/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The memory map of `mempowerctl map`: the machine's memory blocks drawn as
 * a grid, one cell per block, grouped by NUMA node and, within a node, by
 * power domain. A cell shows a block's state, and for an online block how
 * much of it is used:
 *
 *   .  online, nothing used       ?  online, not counted
 *   :  up to 1/4 used             o  offline, taken by mempowerd
 *   -  up to 1/2                  x  offline, taken by someone else
 *   =  up to 3/4                  >  going offline (being evacuated)
 *   #  more                       d  offline in a dry run's model only
 *
 * Rows are aligned to block indices: a row starts at a multiple of its
 * length and is labelled with that index, a cell sits at its block's index
 * (blank where a block is missing or belongs to another group), and rows
 * with no block of the group are left out. Up to BLOCKMAP_CELLS_MAX blocks
 * a cell is one block; beyond, a cell is the smallest power of two of
 * blocks that brings them within it (a 16 TiB machine of 2 GiB blocks:
 * 8192 blocks, 8 per cell), and shows its online blocks' use, or o, x or d
 * when none of its blocks is online, or > when one is going offline. Each
 * node and domain line counts its blocks exactly, whatever a cell holds.
 *
 * Pure text: no I/O, no terminal handling. The caller says how wide and
 * whether to colour. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One cell per block up to this many blocks. */
#define BLOCKMAP_CELLS_MAX 1024U
/* A node with more domains than this is drawn as one group. */
#define BLOCKMAP_DOMAINS_MAX 16U

typedef enum BlockMapState {
        BLOCKMAP_ONLINE,
        BLOCKMAP_OFFLINE,
        BLOCKMAP_GOING_OFFLINE, /* the kernel's going-offline, or mempowerd evacuating it */
        BLOCKMAP_MODELLED,      /* online, offline in a dry run's model */
        _BLOCKMAP_STATE_MAX,
        _BLOCKMAP_STATE_INVALID = -22,
} BlockMapState;

typedef struct BlockMapBlock {
        uint32_t index; /* memoryN */
        int node;       /* -1: none */
        BlockMapState state;
        double used;        /* share of the block in use, 0..1; < 0: not counted */
        const char *domain; /* its power domain's name; NULL or "": none */
        bool owned;         /* offline: mempowerd took it offline */
} BlockMapBlock;

/* A power domain, for the kind its heading shows. */
typedef struct BlockMapDomain {
        const char *name; /* "node1", "PNP0C80:00", "region@0x100000000", "memory32" */
        const char *kind; /* "node", "device", "region", "block" */
} BlockMapDomain;

typedef struct BlockMapOptions {
        size_t width;        /* columns; 0: 80 */
        uint64_t block_size; /* bytes, for the sizes shown; 0: none shown */
        size_t cells_max;    /* one cell per block up to this many; 0: BLOCKMAP_CELLS_MAX */
        bool color;          /* ANSI colours (they take no columns) */
        bool legend;         /* the summary line above and the legend below */
} BlockMapOptions;

/* A block's state from ListBlocks()' state and action words: "online"
 * (action "evacuating": going offline; "dry-run-offline": modelled),
 * "offline", "going-offline". -EINVAL for a state word it does not know;
 * *ret is then untouched. */
int blockmap_state_from_words(const char *state, const char *action, BlockMapState *ret);

/* The map as text, every line ending in a newline, none wider than the
 * width when it is 40 columns or more. blocks need not be sorted. domains
 * (may be NULL) give the kinds of the domains named by blocks. *ret is the
 * caller's to free. -ENOMEM, -EINVAL (a block state out of range). */
int blockmap_render(const BlockMapBlock *blocks, size_t n, const BlockMapDomain *domains,
                    size_t n_domains, const BlockMapOptions *o, char **ret);
