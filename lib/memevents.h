/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Memory block uevents through libudev: add, remove, online, offline on
 * subsystem "memory". The kernel's netlink source is used so events arrive
 * even where udevd does not run; events carry no state, so the receiver
 * rereads the block's sysfs directory. */

#include <stdbool.h>
#include <stdint.h>

typedef enum MemEventAction {
        MEMEVENT_ADD,
        MEMEVENT_REMOVE,
        MEMEVENT_ONLINE,
        MEMEVENT_OFFLINE,
        MEMEVENT_OTHER,
        _MEMEVENT_ACTION_MAX,
        _MEMEVENT_ACTION_INVALID = -22,
} MemEventAction;

typedef struct MemEvent {
        MemEventAction action;
        uint32_t index; /* block index from the device path */
        uint64_t seqnum;
} MemEvent;

typedef struct MemEvents MemEvents;

int memevents_open(MemEvents **ret);
MemEvents *memevents_free(MemEvents *m);
/* The fd to poll for input. */
int memevents_get_fd(const MemEvents *m);
/* Receive one event without blocking: 1 = got one, 0 = nothing (or not a
 * memory block), -errno on error. */
int memevents_receive(MemEvents *m, MemEvent *ret);

/* Pure helpers, exposed for tests and fuzzing. */
MemEventAction memevent_action_from_string(const char *s);
const char *memevent_action_to_string(MemEventAction a);
/* "…/memory/memory32" or a sysname "memory32" → 32. */
int memevent_parse_index(const char *devpath_or_sysname, uint32_t *ret);
