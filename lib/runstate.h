/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The blocks mempowerd took offline, kept in a small text file in its
 * runtime directory (/run/mempowerd): a restarted daemon knows which offline
 * blocks are its own to give back, and a reboot (a new boot id) forgets
 * them. Format, one item per line, '#' starts a comment:
 *
 *   boot-id 7402e539-fa05-4caa-9a30-ed0e3c4d8de5
 *   offline 35 Movable      a block mempowerd offlined, and the zone it was in
 *   offline 40 -            a hot-added block it keeps offline (no zone yet)
 *   energy 812.5 30.1 5.5e12  estimated joules saved, joules spent migrating,
 *                           and offline byte-seconds of this boot so far
 *
 * Unknown keywords are skipped (a newer version may add some); a malformed
 * line of a known keyword makes the whole file invalid (-EBADMSG with the
 * line), since a half-read list would leave blocks nobody gives back; a
 * malformed energy line only loses the figures (they start again at 0). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNSTATE_FILE "state"

typedef struct RunStateBlock {
        uint32_t index;
        unsigned zones; /* ZONE_*_BIT it was online in; 0 unknown */
} RunStateBlock;

typedef struct RunState {
        char boot_id[40]; /* "" when not given */
        bool has_energy;
        double saved_joules, spent_joules, offline_byte_seconds;
        RunStateBlock *blocks;
        size_t n_blocks;
} RunState;

void runstate_free(RunState *s);
/* -EBADMSG (ret_line says where), -ENOMEM; *ret untouched on failure. */
int runstate_parse(const char *text, RunState *ret, unsigned *ret_line);
/* The file's text, malloc'd. -ENOMEM. */
int runstate_format(const RunState *s, char **ret);
/* -ENOMEM */
int runstate_add(RunState *s, uint32_t index, unsigned zones);

/* Read dir_fd/state: -ENOENT when there is none. */
int runstate_read(int dir_fd, RunState *ret, unsigned *ret_line);
/* Write dir_fd/state whole (a temporary file renamed over it). */
int runstate_write(int dir_fd, const RunState *s);
