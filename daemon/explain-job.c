/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What holds a block, looked at in a child process: walking every
 * process's pagemap takes tens of milliseconds on a small machine and
 * seconds on a large one, and the event loop must keep watching pressure
 * meanwhile. The child reads only (kpageflags, /proc/PID/{maps,pagemap,
 * comm,cgroup}), writes its Explanation to a pipe and exits; it dies with
 * the daemon (PR_SET_PDEATHSIG) and is killed after EXPLAIN_TIMEOUT_USEC. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

struct ExplainJob {
        Manager *m;
        uint32_t index;
        pid_t pid;
        int fd;
        sd_event_source *io, *timer;
        uint8_t *buf;
        size_t len;
        ExplainDone done;
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

/* End the child (killed unless it is gone), answer once, free. */
static void job_finish(ExplainJob *j, int error, const Explanation *e)
{
        Manager *m = j->m;
        int status;

        j->io = sd_event_source_disable_unref(j->io);
        j->timer = sd_event_source_disable_unref(j->timer);
        if (j->fd >= 0)
                close(j->fd);
        if (j->pid > 0) {
                if (error)
                        (void)kill(j->pid, SIGKILL);
                while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        job_unlink(m, j);
        j->done(m, j->index, error, e, j->userdata);
        free(j->buf);
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

static void __attribute__((noreturn)) child_run(const Manager *m, uint64_t start_pfn,
                                                KpfZoneKind zone, int fd)
{
        Explanation e = { 0 };
        ExplainRange *ranges;
        ExplainHolder *holders;
        int r;

        r = explain_block(m->roots.procfs_fd, m->kpf_fd, start_pfn, m->table.pages_per_block, zone,
                          true, &e);
        if (r < 0)
                _exit(-r > 255 ? EIO : -r);
        ranges = e.ranges;
        holders = e.holders;
        e.ranges = NULL;
        e.holders = NULL;
        if (write(fd, &e, sizeof(e)) != (ssize_t)sizeof(e) ||
            (e.n_ranges && write(fd, ranges, e.n_ranges * sizeof(*ranges)) !=
                                   (ssize_t)(e.n_ranges * sizeof(*ranges))) ||
            (e.n_holders && write(fd, holders, e.n_holders * sizeof(*holders)) !=
                                    (ssize_t)(e.n_holders * sizeof(*holders))))
                _exit(EIO);
        _exit(EXIT_SUCCESS);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        ExplainJob *j = userdata;
        Explanation e;
        ssize_t n;
        int status = 0, r;

        if (j->len >= EXPLAIN_WIRE_MAX) {
                job_finish(j, -EBADMSG, NULL);
                return 0;
        }
        n = read(fd, j->buf + j->len, EXPLAIN_WIRE_MAX - j->len);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                        return 0;
                job_finish(j, -errno, NULL);
                return 0;
        }
        if (n > 0) {
                j->len += (size_t)n;
                return 0;
        }
        /* EOF: the child wrote everything and exited, or failed */
        j->io = sd_event_source_disable_unref(j->io);
        while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
                ;
        j->pid = 0;
        if (!WIFEXITED(status))
                r = -ECHILD;
        else if (WEXITSTATUS(status) != 0)
                r = -WEXITSTATUS(status);
        else
                r = wire_decode(j->buf, j->len, &e);
        if (r < 0) {
                job_finish(j, r, NULL);
                return 0;
        }
        job_finish(j, 0, &e);
        explanation_free(&e);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        job_finish(userdata, -ETIMEDOUT, NULL);
        return 0;
}

int explain_start(Manager *m, uint32_t index, ExplainDone done, void *userdata)
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
        j->buf = malloc(EXPLAIN_WIRE_MAX);
        if (!j->buf)
                return -ENOMEM;
        if (pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                free(j->buf);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                free(j->buf);
                return r;
        }
        if (pid == 0) {
                sigset_t none;

                sigemptyset(&none);
                (void)sigprocmask(SIG_SETMASK, &none, NULL);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(EXIT_FAILURE);
                close(p[0]);
                child_run(m, b->start_pfn, memblock_kpf_zone(b), p[1]);
        }
        close(p[1]);
        *j = (ExplainJob){ .m = m, .index = index, .pid = pid, .fd = p[0], .buf = j->buf,
                           .done = done, .userdata = userdata };
        r = sd_event_add_io(m->event, &j->io, j->fd, EPOLLIN, on_readable, j);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &j->timer, CLOCK_MONOTONIC,
                                               EXPLAIN_TIMEOUT_USEC, USEC_PER_SEC, on_timeout, j);
        if (r < 0) {
                int status;

                j->io = sd_event_source_disable_unref(j->io);
                (void)kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                close(j->fd);
                free(j->buf);
                return r;
        }
        j->next = m->explain_jobs;
        m->explain_jobs = TAKE_PTR(j);
        m->n_explain_jobs++;
        return 0;
}

void explain_stop_all(Manager *m)
{
        while (m->explain_jobs)
                job_finish(m->explain_jobs, -ECANCELED, NULL);
}
