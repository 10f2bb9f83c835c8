/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The actuator: the only code that changes anything in the kernel. It writes
 * memory block states and runs the worker process that moves pages and
 * takes a block offline, checks dry-run in one place, and reports every
 * outcome as an ActOutcome: what the kernel says happened, read back from
 * sysfs. It decides nothing and keeps no table: the planner decided, the
 * manager applies the outcomes.
 *
 * The worker. The kernel's offline can loop for ever while it holds the
 * global hotplug lock, and since about Linux 6.5 only a fatal signal ends
 * it, so the offline write runs in a child process the daemon can SIGKILL.
 * The child starts with an empty signal mask (the daemon blocks SIGTERM and
 * friends for signalfd) and PR_SET_PDEATHSIG(SIGKILL), so it never outlives
 * the daemon, and it does nothing until the daemon has watched it: it waits
 * for a byte on a pipe, sent once its exit is watched (sd-event child
 * source) and its timeout armed; when either cannot be set up, it gets EOF,
 * exits without touching the kernel, and is reaped at once. Reaping never
 * blocks the event loop otherwise. One worker at a time:
 *   migrate: locate the block's mapped pages (pagemap) and move them with
 *            move_pages to the destination node; report what moved;
 *   offline: write "offline" to the block's state; exit with its errno.
 * Each is ended with SIGKILL when it outlives its timeout, or on
 * actuator_abort(). */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "memblock.h"
#include "migrate.h"
#include "planner.h"

typedef enum ActResult {
        ACT_ONLINED,        /* online; now holds it as sysfs has it */
        ACT_ONLINE_FAILED,  /* error */
        ACT_MIGRATED,       /* the pages were moved (stats), or locating them failed (error) */
        ACT_MIGRATE_FAILED, /* the worker did not finish: reason */
        ACT_OFFLINED,       /* offline, read back */
        ACT_OFFLINE_FAILED, /* error (EBUSY, ...) or reason ("offline timed out"); gone: removed */
        ACT_ABORTED,        /* ended by actuator_abort(): reason */
        _ACT_RESULT_MAX,
        _ACT_RESULT_INVALID = -22,
} ActResult;

typedef struct ActOutcome {
        ActResult result;
        uint32_t index;
        int error;           /* errno of a failure (positive), 0 none */
        const char *reason;  /* a failure or abort in words, NULL when error says it */
        bool simulated;      /* dry run: nothing was written */
        bool read_back;      /* now is the block as sysfs shows it after the step */
        bool gone;           /* the block no longer exists */
        bool timed_out;      /* the worker outlived its timeout and was killed */
        MemBlock now;
        MigrateStats stats;  /* ACT_MIGRATED */
        uint64_t processes;  /* ACT_MIGRATED: processes looked at */
        uint64_t skipped;    /* ACT_MIGRATED: processes that could not be read */
        uint64_t usec;       /* how long the step took */
} ActOutcome;

typedef void (*ActuatorNotify)(const ActOutcome *o, void *userdata);

typedef struct ActuatorSetup {
        sd_event *event;     /* NULL: only actuator_online() (no worker) */
        int memdir_fd;       /* devices/system/memory */
        int sysfs_fd;        /* the sysfs root: bus/acpi/devices (eject) */
        int procfs_fd;
        int kpf_fd;          /* kpageflags: THP heads, the zero page */
        uint64_t pages_per_block;
        bool dry_run;
} ActuatorSetup;

typedef struct Actuator Actuator;

const char *act_result_to_string(ActResult r);

/* The fds stay the caller's. -ENOMEM. */
int actuator_new(const ActuatorSetup *setup, ActuatorNotify notify, void *userdata,
                 Actuator **ret);
/* Kills a worker that is still running (it is reaped by its parent's exit
 * or by init; PR_SET_PDEATHSIG covers it too). */
Actuator *actuator_free(Actuator *a);
/* From now on workers can run: they are watched from event. */
void actuator_attach(Actuator *a, sd_event *event, int kpf_fd);
void actuator_set_dry_run(Actuator *a, bool dry_run);

/* A worker runs (until its exit has been reported). */
bool actuator_busy(const Actuator *a);

/* Online the block into zone, synchronously: 0 and *ret filled (ONLINED or
 * ONLINE_FAILED). -EBUSY while an offline worker runs (the write would wait
 * on the hotplug lock it may hold), -EINVAL for PLAN_ZONE_NONE. In a dry
 * run only a block offline in the model (modelled) is onlined in the model:
 * giving back memory that is really offline is never simulated. */
/* Ask the ACPI memory device (bus/acpi/devices/DEVICE, "PNP0C80:00") to be
 * ejected: the kernel removes its memory, the firmware (a hypervisor) takes
 * it back. Synchronous: the write only queues the ejection. -EBUSY while an
 * offline is in flight; *ret_simulated in a dry run (nothing written). */
int actuator_eject(Actuator *a, const char *device, bool *ret_simulated);

int actuator_online(Actuator *a, uint32_t index, PlanZone zone, bool modelled, ActOutcome *ret);

/* Start the migration of the block's pages to dest_node. 0: started, the
 * outcome comes through notify; 1: done already (dry run), *ret filled;
 * -EBUSY when a worker runs; other -errno when it could not start (nothing
 * was done). */
int actuator_migrate(Actuator *a, uint32_t index, uint64_t start_pfn, int src_node, int dest_node,
                     uint64_t batch_pages, uint64_t timeout_usec, ActOutcome *ret);
/* Start the offline of the block, ended after timeout_usec. As
 * actuator_migrate. */
int actuator_offline(Actuator *a, uint32_t index, uint64_t timeout_usec, ActOutcome *ret);

/* End the worker (SIGKILL); its ACT_ABORTED outcome (or what sysfs says:
 * the offline may have completed) comes through notify once it is gone.
 * 1 when a worker was told to end, 0 when none runs. */
int actuator_abort(Actuator *a, const char *why);
