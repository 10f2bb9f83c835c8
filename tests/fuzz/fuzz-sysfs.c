/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysfs and uevent values as mempowerd parses them: numbers (decimal and
 * block_size_bytes' hex), a block's state, valid_zones, node and block lists
 * (has_memory, ExcludeBlocks) and a uevent's device path. Every value that
 * parses is formatted back and must parse to the same thing. */
#include <inttypes.h>
#include <stdbool.h>

#include "fileio.h"
#include "fuzz.h"
#include "indexset.h"
#include "memblock.h"
#include "memevents.h"

static void check_u64(const char *s, int base)
{
        char buf[32];
        uint64_t v, again;

        if (parse_u64(s, base, &v) < 0)
                return;
        snprintf(buf, sizeof(buf), base == 16 ? "%" PRIx64 : "%" PRIu64, v);
        FUZZ_ASSERT(parse_u64(buf, base, &again) == 0);
        FUZZ_ASSERT(again == v);
}

static void check_state(const char *s)
{
        BlockState st = block_state_from_string(s);
        const char *name;

        if (st == _BLOCK_STATE_INVALID)
                return;
        FUZZ_ASSERT(st >= 0 && st < _BLOCK_STATE_MAX);
        name = block_state_to_string(st);
        FUZZ_ASSERT(name && strcmp(name, s) == 0); /* exact match only */
}

static void check_zones(const char *s)
{
        char buf[64], small[8];
        unsigned zones, again;

        if (zones_from_string(s, &zones) < 0)
                return;
        FUZZ_ASSERT((zones & ~0x3fu) == 0);
        zones_to_string(zones, buf, sizeof(buf));
        FUZZ_ASSERT(zones_from_string(buf, &again) == 0);
        FUZZ_ASSERT(again == zones);
        /* A buffer too small cuts the text but stays terminated. */
        zones_to_string(zones, small, sizeof(small));
        FUZZ_ASSERT(memchr(small, '\0', sizeof(small)));
}

static void check_indexset(const char *s, uint32_t max)
{
        IndexSet set = INDEXSET_NULL, again = INDEXSET_NULL;
        char *buf, small[16];
        size_t size;

        if (indexset_parse(s, max, &set) < 0)
                return;
        for (size_t i = 0; i < set.n; i++) {
                FUZZ_ASSERT(set.ranges[i].lo <= set.ranges[i].hi);
                FUZZ_ASSERT(set.ranges[i].hi <= max);
                /* sorted, merged: a gap of at least one between ranges */
                if (i > 0)
                        FUZZ_ASSERT(set.ranges[i - 1].hi < UINT32_MAX &&
                                    set.ranges[i - 1].hi + 1 < set.ranges[i].lo);
        }
        /* ",4294967295-4294967295" is 22 characters */
        size = set.n * 22 + 1;
        buf = malloc(size);
        if (buf) {
                indexset_format(&set, buf, size);
                FUZZ_ASSERT(strlen(buf) < size);
                FUZZ_ASSERT(indexset_parse(buf, max, &again) == 0);
                FUZZ_ASSERT(again.n == set.n);
                for (size_t i = 0; i < set.n; i++) {
                        FUZZ_ASSERT(again.ranges[i].lo == set.ranges[i].lo);
                        FUZZ_ASSERT(again.ranges[i].hi == set.ranges[i].hi);
                }
                for (uint32_t probe = 0; probe < 64; probe++)
                        FUZZ_ASSERT(indexset_contains(&set, probe) ==
                                    indexset_contains(&again, probe));
                indexset_free(&again);
                free(buf);
        }
        /* Cut to fit: terminated, and within the buffer. */
        indexset_format(&set, small, sizeof(small));
        FUZZ_ASSERT(memchr(small, '\0', sizeof(small)));
        indexset_free(&set);
}

static void check_event(const char *s)
{
        char buf[32];
        uint32_t index, again;
        MemEventAction a;

        a = memevent_action_from_string(s);
        FUZZ_ASSERT(a >= 0 && a < _MEMEVENT_ACTION_MAX);
        FUZZ_ASSERT(memevent_action_to_string(a));

        if (memevent_parse_index(s, &index) < 0)
                return;
        snprintf(buf, sizeof(buf), "memory%" PRIu32, index);
        FUZZ_ASSERT(memevent_parse_index(buf, &again) == 0);
        FUZZ_ASSERT(again == index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s;

        if (size > 4096) /* sysfs values are at most a page */
                return 0;
        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        check_u64(s, 10);
        check_u64(s, 16);
        check_state(s);
        check_zones(s);
        check_indexset(s, UINT32_MAX);
        check_indexset(s, 1023);
        check_event(s);
        free(s);
        return 0;
}
