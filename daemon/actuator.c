/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actuator.h"
#include "fileio.h"
#include "pagemap.h"
#include "util.h"

/* An offline past its timeout holds the hotplug lock: end it on time, not
 * up to 250 ms later (sd-event's default accuracy). */
#define WORKER_TIMER_ACCURACY_USEC (10 * USEC_PER_MSEC)

typedef enum WorkerKind {
        WORKER_NONE,
        WORKER_MIGRATE,
        WORKER_OFFLINE,
} WorkerKind;

/* What the migrate worker writes into its pipe before it exits. */
typedef struct WorkerReport {
        int error; /* locating or moving failed: errno */
        MigrateStats stats;
        uint64_t processes;
        uint64_t skipped;
} WorkerReport;

typedef struct Worker {
        WorkerKind kind;
        pid_t pid;
        uint32_t index;
        int report_fd;
        uint64_t started_usec;
        sd_event_source *child;
        sd_event_source *timer;
        const char *kill_reason; /* set when the worker was told to end */
        bool aborted;            /* by actuator_abort(), not by its timeout */
} Worker;

struct Actuator {
        ActuatorSetup setup;
        ActuatorNotify notify;
        void *userdata;
        Worker w;
};

static const char *const result_names[_ACT_RESULT_MAX] = {
        [ACT_ONLINED] = "onlined",
        [ACT_ONLINE_FAILED] = "online-failed",
        [ACT_MIGRATED] = "migrated",
        [ACT_MIGRATE_FAILED] = "migrate-failed",
        [ACT_OFFLINED] = "offlined",
        [ACT_OFFLINE_FAILED] = "offline-failed",
        [ACT_ABORTED] = "aborted",
};

const char *act_result_to_string(ActResult r)
{
        if (r < 0 || r >= _ACT_RESULT_MAX)
                return NULL;
        return result_names[r];
}

int actuator_new(const ActuatorSetup *setup, ActuatorNotify notify, void *userdata,
                 Actuator **ret)
{
        Actuator *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        a->setup = *setup;
        a->notify = notify;
        a->userdata = userdata;
        a->w = (Worker){ .report_fd = -1 };
        *ret = a;
        return 0;
}

static void worker_clear(Worker *w)
{
        w->child = sd_event_source_disable_unref(w->child);
        w->timer = sd_event_source_disable_unref(w->timer);
        if (w->report_fd >= 0)
                close(w->report_fd);
        *w = (Worker){ .report_fd = -1 };
}

Actuator *actuator_free(Actuator *a)
{
        if (!a)
                return NULL;
        if (a->w.pid > 0)
                (void)kill(a->w.pid, SIGKILL);
        worker_clear(&a->w);
        free(a);
        return NULL;
}

void actuator_attach(Actuator *a, sd_event *event, int kpf_fd)
{
        a->setup.event = event;
        a->setup.kpf_fd = kpf_fd;
}

void actuator_set_dry_run(Actuator *a, bool dry_run)
{
        a->setup.dry_run = dry_run;
}

bool actuator_busy(const Actuator *a)
{
        return a->w.kind != WORKER_NONE;
}

/* The block as sysfs has it now. */
static void read_back(const Actuator *a, uint32_t index, ActOutcome *o)
{
        int r = memblock_read(a->setup.memdir_fd, index, a->setup.pages_per_block, &o->now);

        o->read_back = r >= 0;
        o->gone = r == -ENOENT;
}

int actuator_eject(Actuator *a, const char *device, bool *ret_simulated)
{
        char path[128];
        int r;

        *ret_simulated = false;
        if (!device[0] || strchr(device, '/') || strlen(device) > 64)
                return -EINVAL;
        if (a->w.kind == WORKER_OFFLINE)
                return -EBUSY;
        if (a->setup.dry_run) {
                *ret_simulated = true;
                return 0;
        }
        snprintf(path, sizeof(path), "bus/acpi/devices/%s/eject", device);
        r = attr_write_at(a->setup.sysfs_fd, path, "1");
        return r < 0 ? r : 0;
}

int actuator_online(Actuator *a, uint32_t index, PlanZone zone, bool modelled, ActOutcome *ret)
{
        const char *word = plan_zone_to_state_word(zone);
        uint64_t t0 = now_usec();
        char path[64];
        int r;

        if (!word)
                return -EINVAL;
        if (a->w.kind == WORKER_OFFLINE)
                return -EBUSY;
        *ret = (ActOutcome){ .result = ACT_ONLINED, .index = index };
        if (a->setup.dry_run && modelled) {
                ret->simulated = true;
                return 0;
        }
        snprintf(path, sizeof(path), "memory%" PRIu32 "/state", index);
        r = attr_write_at(a->setup.memdir_fd, path, word);
        read_back(a, index, ret);
        ret->usec = now_usec() - t0;
        /* The kernel's word: a failed write may still have raced with
         * another agent that onlined it, and a successful one is verified. */
        if (ret->read_back && ret->now.state == BLOCK_ONLINE)
                return 0;
        ret->result = ACT_ONLINE_FAILED;
        ret->error = r < 0 ? -r : EIO;
        if (r >= 0)
                ret->reason = ret->gone ? "the block is gone" : "still not online after the write";
        return 0;
}

/* ---- The worker ---- */

/* In the child, before anything else: no signal blocked (the parent blocks
 * SIGTERM and friends for its signalfd), killed with the parent, and the
 * parent still there. */
static void worker_prepare(pid_t parent)
{
        sigset_t none;

        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
}

typedef struct WorkerJob {
        WorkerKind kind;
        uint32_t index;
        uint64_t start_pfn;
        int src_node;
        int dest_node;
        uint64_t batch_pages;
} WorkerJob;

static void __attribute__((noreturn)) worker_run(const Actuator *a, const WorkerJob *job, int fd)
{
        if (job->kind == WORKER_MIGRATE) {
                PageLocations locs = { 0 };
                WorkerReport rep = { 0 };
                int r;

                r = pagemap_locate_range(a->setup.procfs_fd, a->setup.kpf_fd, job->start_pfn,
                                         a->setup.pages_per_block, PAGEMAP_LOCATE_SKIP_SELF, &locs);
                if (r >= 0)
                        r = migrate_locations(&locs, job->src_node, job->dest_node,
                                              job->batch_pages, NULL, &rep.stats);
                rep.error = r < 0 ? -r : 0;
                rep.processes = locs.processes_scanned;
                rep.skipped = page_locations_skipped(&locs);
                page_locations_free(&locs);
                if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                        _exit(EXIT_FAILURE);
                _exit(EXIT_SUCCESS);
        } else {
                char path[64];
                int r;

                snprintf(path, sizeof(path), "memory%" PRIu32 "/state", job->index);
                r = attr_write_at(a->setup.memdir_fd, path, "offline");
                /* the errno as the exit status: 0 wrote, else 1..255 */
                _exit(r < 0 ? (-r > 255 ? EIO : -r) : 0);
        }
}

static void worker_finish(Actuator *a, const siginfo_t *si)
{
        Worker w = a->w;
        ActOutcome o = { .index = w.index, .usec = now_usec() - w.started_usec };
        bool exited = si && si->si_code == CLD_EXITED;
        int status = si ? si->si_status : 0;

        if (w.kind == WORKER_MIGRATE) {
                WorkerReport rep;
                ssize_t n = w.report_fd >= 0 ? read(w.report_fd, &rep, sizeof(rep)) : -1;
                bool reported = exited && status == 0 && n == (ssize_t)sizeof(rep);

                if (reported) {
                        /* what moved moved, even when the abort came too late */
                        o.stats = rep.stats;
                        o.processes = rep.processes;
                        o.skipped = rep.skipped;
                }
                if (w.aborted) {
                        o.result = ACT_ABORTED;
                        o.reason = w.kill_reason;
                } else if (reported) {
                        o.result = ACT_MIGRATED;
                        o.error = rep.error;
                } else {
                        o.result = ACT_MIGRATE_FAILED;
                        o.reason = w.kill_reason ? w.kill_reason : "worker ended without an answer";
                }
        } else {
                read_back(a, w.index, &o);
                if (o.read_back && o.now.state == BLOCK_OFFLINE)
                        o.result = ACT_OFFLINED; /* whatever else happened: the kernel's word */
                else if (w.aborted) {
                        o.result = ACT_ABORTED;
                        o.reason = w.kill_reason;
                } else {
                        o.result = ACT_OFFLINE_FAILED;
                        o.timed_out = w.kill_reason != NULL;
                        if (w.kill_reason)
                                o.reason = w.kill_reason;
                        else if (!exited)
                                o.reason = "worker ended without an answer";
                        else if (status != 0)
                                o.error = status;
                        else
                                o.reason = o.gone ? "the block is gone"
                                                  : "state is not offline after the write";
                }
        }
        worker_clear(&a->w);
        a->notify(&o, a->userdata);
}

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        worker_finish(userdata, si);
        return 0;
}

static int on_worker_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        Actuator *a = userdata;
        Worker *w = &a->w;

        if (w->pid <= 0 || w->kill_reason)
                return 0;
        w->kill_reason = w->kind == WORKER_OFFLINE ? "offline timed out" : "migration timed out";
        (void)kill(w->pid, SIGKILL);
        return 0;
}

static int worker_start(Actuator *a, const WorkerJob *job, uint64_t timeout_usec)
{
        int go[2] = { -1, -1 }, rep[2] = { -1, -1 }, r;
        Worker *w = &a->w;
        pid_t parent = getpid(), pid;

        if (!a->setup.event)
                return -EOPNOTSUPP;
        if (actuator_busy(a))
                return -EBUSY;
        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail_pipes;
        }

        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail_pipes;
        }
        if (pid == 0) {
                char c;
                ssize_t n;

                worker_prepare(parent);
                close(go[1]);
                close(rep[0]);
                do
                        n = read(go[0], &c, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(EXIT_SUCCESS); /* not watched: do nothing */
                worker_run(a, job, rep[1]);
        }
        close(go[0]);
        close(rep[1]);
        *w = (Worker){
                .kind = job->kind,
                .pid = pid,
                .index = job->index,
                .report_fd = rep[0],
                .started_usec = now_usec(),
        };
        (void)fcntl(w->report_fd, F_SETFL, O_NONBLOCK);

        r = sd_event_add_child(a->setup.event, &w->child, pid, WEXITED, on_worker_exit, a);
        if (r >= 0) {
                (void)sd_event_source_set_priority(w->child, SD_EVENT_PRIORITY_IMPORTANT);
                r = sd_event_add_time_relative(a->setup.event, &w->timer, CLOCK_MONOTONIC,
                                               timeout_usec, WORKER_TIMER_ACCURACY_USEC,
                                               on_worker_timeout, a);
        }
        if (r >= 0 && write(go[1], "g", 1) != 1)
                r = -errno;
        close(go[1]);
        if (r < 0) {
                int status;

                /* Unwatched, the worker must not run: it sits in read() and
                 * sees EOF, or dies here; either way it did nothing. */
                w->child = sd_event_source_disable_unref(w->child);
                (void)kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                worker_clear(w);
                return r;
        }
        return 0;

fail_pipes:
        for (int i = 0; i < 2; i++) {
                if (go[i] >= 0)
                        close(go[i]);
                if (rep[i] >= 0)
                        close(rep[i]);
        }
        return r;
}

/* Start job; in a dry run it succeeded at once (done: its outcome). */
static int worker_run_job(Actuator *a, const WorkerJob *job, uint64_t timeout_usec, ActResult done,
                          ActOutcome *ret)
{
        int r;

        if (actuator_busy(a))
                return -EBUSY;
        if (a->setup.dry_run) {
                *ret = (ActOutcome){ .result = done, .index = job->index, .simulated = true };
                return 1;
        }
        r = worker_start(a, job, timeout_usec);
        return r < 0 ? r : 0;
}

int actuator_migrate(Actuator *a, uint32_t index, uint64_t start_pfn, int src_node, int dest_node,
                     uint64_t batch_pages, uint64_t timeout_usec, ActOutcome *ret)
{
        WorkerJob job = {
                .kind = WORKER_MIGRATE,
                .index = index,
                .start_pfn = start_pfn,
                .src_node = src_node,
                .dest_node = dest_node,
                .batch_pages = batch_pages,
        };

        return worker_run_job(a, &job, timeout_usec, ACT_MIGRATED, ret);
}

int actuator_offline(Actuator *a, uint32_t index, uint64_t timeout_usec, ActOutcome *ret)
{
        WorkerJob job = { .kind = WORKER_OFFLINE, .index = index };

        return worker_run_job(a, &job, timeout_usec, ACT_OFFLINED, ret);
}

int actuator_abort(Actuator *a, const char *why)
{
        Worker *w = &a->w;

        if (w->pid <= 0)
                return 0;
        if (!w->kill_reason) {
                w->kill_reason = why;
                w->aborted = true;
        }
        (void)kill(w->pid, SIGKILL);
        return 1;
}
