/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What holds a block, looked at in a child process: walking every
 * process's pagemap takes tens of milliseconds on a small machine and
 * seconds on a large one, and the event loop must keep watching pressure
 * meanwhile. The child reads only (kpageflags, /proc/PID/{maps,pagemap,
 * comm,cgroup}), at the lowest CPU and I/O priority and first in line for
 * the OOM killer; it writes its Explanation into a pipe large enough to
 * hold all of it and exits; it dies with the daemon (PR_SET_PDEATHSIG).
 * Nothing here waits: the child's exit is an sd-event child source (which
 * reaps it), and one that outlives EXPLAIN_TIMEOUT_USEC is killed, its
 * caller answered at once and the child reaped whenever it goes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "explain.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "util.h"

#define EXPLAIN_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define EXPLAIN_WIRE_MAX                                                                           \
        (sizeof(Explanation) + EXPLAIN_RANGES_MAX * sizeof(ExplainRange) +                         \
         EXPLAIN_HOLDERS_MAX * sizeof(ExplainHolder))
/* ioprio_set(2): the idle class, for the calling process */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE  3
#define IOPRIO_CLASS_SHIFT 13

struct ExplainJob {
        Manager *m;
        uint32_t index;
        uid_t caller;      /* whose processes it looks at ((uid_t)-1: everyone's) */
        pid_t pid;
        int fd;            /* the pipe's read end */
        sd_event_source *child, *timer;
        ExplainDone done;  /* NULL once answered */
        void *userdata;
        ExplainJob *next;
};

static void job_unlink(Manager *m, ExplainJob *j)
{
        for (ExplainJob **p = &m->explain_jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        m->n_explain_jobs--;
                        return;
                }
}

/* Answer the caller, once. */
static void job_answer(ExplainJob *j, int error, const Explanation *e)
{
        ExplainDone done = j->done;

        j->done = NULL;
        if (done)
                done(j->m, j->index, error, e, j->userdata);
}

static void job_free(ExplainJob *j)
{
        job_unlink(j->m, j);
        sd_event_source_disable_unref(j->child);
        sd_event_source_disable_unref(j->timer);
        if (j->fd >= 0)
                close(j->fd);
        free(j);
}

/* The wire: the Explanation with its pointers cleared, then its ranges and
 * its holders. One binary on both ends. */
static int wire_decode(const uint8_t *buf, size_t len, Explanation *ret)
{
        Explanation e;
        size_t need;

        if (len < sizeof(e))
                return -EBADMSG;
        memcpy(&e, buf, sizeof(e));
        if (e.n_ranges > EXPLAIN_RANGES_MAX || e.n_holders > EXPLAIN_HOLDERS_MAX)
                return -EBADMSG;
        need = sizeof(e) + e.n_ranges * sizeof(ExplainRange) + e.n_holders * sizeof(ExplainHolder);
        if (len != need)
                return -EBADMSG;
        e.ranges = calloc(e.n_ranges ? e.n_ranges : 1, sizeof(ExplainRange));
        e.holders = calloc(e.n_holders ? e.n_holders : 1, sizeof(ExplainHolder));
        if (!e.ranges || !e.holders) {
                free(e.ranges);
                free(e.holders);
                return -ENOMEM;
        }
        memcpy(e.ranges, buf + sizeof(e), e.n_ranges * sizeof(ExplainRange));
        memcpy(e.holders, buf + sizeof(e) + e.n_ranges * sizeof(ExplainRange),
               e.n_holders * sizeof(ExplainHolder));
        for (size_t i = 0; i < e.n_holders; i++) {
                ExplainHolder *h = &e.holders[i];

                h->comm[sizeof(h->comm) - 1] = h->unit[sizeof(h->unit) - 1] =
                        h->cgroup[sizeof(h->cgroup) - 1] = '\0';
        }
        *ret = e;
        return 0;
}

/* In the child: out of everyone's way, the first the OOM killer takes. */
static void child_deprioritise(const Manager *m)
{
        int fd = openat(m->roots.procfs_fd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);

        if (fd >= 0) {
                (void)!write(fd, "1000", 4);
                close(fd);
        }
        (void)setpriority(PRIO_PROCESS, 0, 19);
        (void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
}

static void __attribute__((noreturn)) child_run(const Manager *m, uint64_t start_pfn,
                                                KpfZoneKind zone, uid_t only, int fd)
{
        Explanation e = { 0 };
        ExplainRange *ranges;
        ExplainHolder *holders;
        int r;

        child_deprioritise(m);
        r = explain_block(m->roots.procfs_fd, m->kpf_fd, start_pfn, m->table.pages_per_block, zone,
                          only, &e);
        if (r < 0)
                _exit(-r > 255 ? EIO : -r);
        ranges = e.ranges;
        holders = e.holders;
        e.ranges = NULL;
        e.holders = NULL;
        /* the pipe holds all of it: these never block */
        if (write(fd, &e, sizeof(e)) != (ssize_t)sizeof(e) ||
            (e.n_ranges && write(fd, ranges, e.n_ranges * sizeof(*ranges)) !=
                                   (ssize_t)(e.n_ranges * sizeof(*ranges))) ||
            (e.n_holders && write(fd, holders, e.n_holders * sizeof(*holders)) !=
                                    (ssize_t)(e.n_holders * sizeof(*holders))))
                _exit(EIO);
        _exit(EXIT_SUCCESS);
}

/* The child is gone (sd-event reaps it after this): read what it wrote. */
static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        _cleanup_free_ uint8_t *buf = NULL;
        ExplainJob *j = userdata;
        Explanation e;
        size_t len = 0;
        int r;

        if (!j->done) { /* answered already (timeout): only the reaping was left */
                job_free(j);
                return 0;
        }
        if (si->si_code != CLD_EXITED)
                r = -ECHILD;
        else if (si->si_status != 0)
                r = -si->si_status;
        else if (!(buf = malloc(EXPLAIN_WIRE_MAX + 1)))
                r = -ENOMEM;
        else {
                ssize_t n = read_full(j->fd, buf, EXPLAIN_WIRE_MAX + 1);

                r = n < 0 ? (int)n : 0;
                len = n > 0 ? (size_t)n : 0;
        }
        if (r >= 0)
                r = wire_decode(buf, len, &e);
        if (r < 0)
                job_answer(j, r, NULL);
        else {
                job_answer(j, 0, &e);
                explanation_free(&e);
        }
        job_free(j);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        ExplainJob *j = userdata;

        /* Killed; reaped by the child source whenever it goes (a process
         * stuck in the kernel dies when it leaves it). */
        (void)kill(j->pid, SIGKILL);
        job_answer(j, -ETIMEDOUT, NULL);
        return 0;
}

size_t explain_jobs_of(const Manager *m, uid_t caller)
{
        size_t n = 0;

        for (const ExplainJob *j = m->explain_jobs; j; j = j->next)
                if (j->done && j->caller == caller)
                        n++;
        return n;
}

int explain_start(Manager *m, uint32_t index, uid_t only, ExplainDone done, void *userdata)
{
        _cleanup_free_ ExplainJob *j = NULL;
        const MemBlock *b = blocktable_find(&m->table, index);
        int p[2], r;
        pid_t parent = getpid(), pid;

        if (!b)
                return -ENXIO;
        if (m->kpf_fd < 0 || !m->event)
                return -EOPNOTSUPP;
        if (m->n_explain_jobs >= EXPLAIN_JOBS_MAX)
                return -EBUSY;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        /* all of the answer fits: the child never waits for us */
        r = fcntl(p[1], F_SETPIPE_SZ, (int)EXPLAIN_WIRE_MAX);
        if (r >= 0 && r < (int)EXPLAIN_WIRE_MAX)
                r = -ENOBUFS;
        else if (r < 0)
                r = -errno;
        if (r < 0)
                goto fail_pipe;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail_pipe;
        }
        if (pid == 0) {
                sigset_t none;

                sigemptyset(&none);
                (void)sigprocmask(SIG_SETMASK, &none, NULL);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(EXIT_FAILURE);
                close(p[0]);
                child_run(m, b->start_pfn, memblock_kpf_zone(b), only, p[1]);
        }
        close(p[1]);
        *j = (ExplainJob){ .m = m, .index = index, .caller = only, .pid = pid, .fd = p[0],
                           .done = done, .userdata = userdata };
        r = sd_event_add_child(m->event, &j->child, pid, WEXITED, on_child_exit, j);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &j->timer, CLOCK_MONOTONIC,
                                               EXPLAIN_TIMEOUT_USEC, USEC_PER_SEC, on_timeout, j);
        if (r < 0) {
                /* not watched: killed, and left to init (PR_SET_PDEATHSIG
                 * covers the rest); nothing waits for it here */
                (void)kill(pid, SIGKILL);
                j->child = sd_event_source_disable_unref(j->child);
                close(j->fd);
                return r;
        }
        j->next = m->explain_jobs;
        m->explain_jobs = TAKE_PTR(j);
        m->n_explain_jobs++;
        return 0;

fail_pipe:
        close(p[0]);
        close(p[1]);
        return r;
}

void explain_stop_all(Manager *m)
{
        /* the daemon is going: every child is killed with it */
        while (m->explain_jobs) {
                ExplainJob *j = m->explain_jobs;

                (void)kill(j->pid, SIGKILL);
                job_answer(j, -ECANCELED, NULL);
                job_free(j);
        }
}
