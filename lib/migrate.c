/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <numa.h>
#include <numaif.h>

#include "migrate.h"
#include "util.h"

static int default_move_pages(void *userdata, int pid, unsigned long count, void **pages,
                              const int *nodes, int *status, int flags)
{
        return numa_move_pages(pid, count, pages, nodes, status, flags);
}

void migrate_count_status(int status, int src_node, int dest_node, MigrateStats *stats)
{
        if (status >= 0) {
                if (status == src_node)
                        stats->stayed++;
                else if (status == dest_node)
                        stats->moved++;
                else
                        stats->elsewhere++;
                return;
        }
        switch (status) {
        case -EBUSY:
                stats->busy++;
                break;
        case -ENOENT: /* not present (any more) */
        case -EFAULT: /* no VMA (unmapped), zero page, unmovable VMA */
                stats->gone++;
                break;
        default: /* -EACCES, -ENOMEM, -EIO, …, and MIGRATE_STATUS_UNSET */
                stats->failed++;
                break;
        }
}

typedef struct Run {
        MovePagesFn move_pages;
        void *userdata;
        int src_node;
        int dest_node;
        size_t batch;
        void **pages;
        int *nodes;
        int *status;
        void **requery_pages;
        int *requery_status;
        size_t *requery_index;
        bool dest_full;
        MigrateStats st;
} Run;

static int run_alloc(Run *r, size_t batch)
{
        r->pages = calloc(batch, sizeof(void *));
        r->nodes = calloc(batch, sizeof(int));
        r->status = calloc(batch, sizeof(int));
        r->requery_pages = calloc(batch, sizeof(void *));
        r->requery_status = calloc(batch, sizeof(int));
        r->requery_index = calloc(batch, sizeof(size_t));
        if (!r->pages || !r->nodes || !r->status || !r->requery_pages || !r->requery_status ||
            !r->requery_index)
                return -ENOMEM;
        for (size_t i = 0; i < batch; i++)
                r->nodes[i] = r->dest_node;
        return 0;
}

static void run_free(Run *r)
{
        free(r->pages);
        free(r->nodes);
        free(r->status);
        free(r->requery_pages);
        free(r->requery_status);
        free(r->requery_index);
}

/* Ask where the pages whose status the kernel left unset really are, and
 * fill their status in. Returns 0, -ESRCH, or -errno of the query (then the
 * status stays unset and counts as failed). */
static int run_requery(Run *r, int pid, size_t k)
{
        size_t m = 0;
        int q;

        for (size_t i = 0; i < k; i++)
                if (r->status[i] == MIGRATE_STATUS_UNSET) {
                        r->requery_pages[m] = r->pages[i];
                        r->requery_status[m] = MIGRATE_STATUS_UNSET;
                        r->requery_index[m] = i;
                        m++;
                }
        if (m == 0)
                return 0;

        errno = 0;
        q = r->move_pages(r->userdata, pid, m, r->requery_pages, NULL, r->requery_status, 0);
        r->st.calls++;
        if (q < 0)
                return errno > 0 ? -errno : -EIO;
        for (size_t j = 0; j < m; j++)
                r->status[r->requery_index[j]] = r->requery_status[j];
        return 0;
}

/* addr(i) is locs[i].addr or addrs[i]. */
static int run_pid(Run *r, int pid, const PageLocation *locs, const uint64_t *addrs, size_t n)
{
        for (size_t off = 0; off < n;) {
                size_t k = n - off < r->batch ? n - off : r->batch;
                int ret, err, q;

                if (r->dest_full) {
                        r->st.not_tried += n - off;
                        return 0;
                }

                for (size_t i = 0; i < k; i++) {
                        uint64_t a = locs ? locs[off + i].addr : addrs[off + i];

                        r->pages[i] = (void *)(uintptr_t)a;
                        r->status[i] = MIGRATE_STATUS_UNSET;
                }

                errno = 0;
                ret = r->move_pages(r->userdata, pid, k, r->pages, r->nodes, r->status,
                                    MPOL_MF_MOVE_ALL);
                err = ret < 0 ? (errno > 0 ? errno : EIO) : 0;
                r->st.calls++;

                if (ret < 0 && err == ESRCH) {
                        /* Exited between location and migration. */
                        r->st.gone += n - off;
                        return 0;
                }
                if (ret < 0 && err != ENOMEM)
                        return -err; /* EPERM, EACCES, ENODEV, EINVAL, …: the caller's */

                if (ret < 0) {
                        r->st.nomem++;
                        r->dest_full = true;
                }
                /* A positive count or ENOMEM: the pages queued when the kernel
                 * stopped, and all after them, have no status. */
                if (ret != 0) {
                        q = run_requery(r, pid, k);
                        if (q == -ESRCH) {
                                r->st.gone += n - off;
                                return 0;
                        }
                }
                for (size_t i = 0; i < k; i++)
                        migrate_count_status(r->status[i], r->src_node, r->dest_node, &r->st);
                off += k;
        }
        return 0;
}

static int run_init(Run *r, int src_node, int dest_node, size_t batch_pages, size_t n,
                    const MigrateOps *ops)
{
        if (dest_node < 0 || batch_pages == 0 || (ops && !ops->move_pages))
                return -EINVAL;
        *r = (Run){
            .move_pages = ops ? ops->move_pages : default_move_pages,
            .userdata = ops ? ops->userdata : NULL,
            .src_node = src_node,
            .dest_node = dest_node,
            .batch = n < batch_pages ? (n ? n : 1) : batch_pages,
            .st.requested = n,
        };
        return run_alloc(r, r->batch);
}

int migrate_pid_pages(int pid, const uint64_t *addrs, size_t n, int src_node, int dest_node,
                      size_t batch_pages, const MigrateOps *ops, MigrateStats *ret)
{
        uint64_t t0 = now_usec();
        Run r = {};
        int err;

        if (pid < 0 || (!addrs && n > 0) || !ret)
                return -EINVAL;
        err = run_init(&r, src_node, dest_node, batch_pages, n, ops);
        if (err == 0)
                err = run_pid(&r, pid, NULL, addrs, n);
        run_free(&r);
        if (err < 0)
                return err;
        r.st.usec = now_usec() - t0;
        *ret = r.st;
        return 0;
}

int migrate_locations(const PageLocations *locs, int src_node, int dest_node, size_t batch_pages,
                      const MigrateOps *ops, MigrateStats *ret)
{
        uint64_t t0 = now_usec();
        Run r = {};
        int err;

        if (!locs || (!locs->items && locs->n_items > 0) || !ret)
                return -EINVAL;
        err = run_init(&r, src_node, dest_node, batch_pages, locs->n_items, ops);
        for (size_t i = 0; err == 0 && i < locs->n_items;) {
                size_t j = i + 1;

                while (j < locs->n_items && locs->items[j].pid == locs->items[i].pid)
                        j++;
                err = run_pid(&r, locs->items[i].pid, locs->items + i, NULL, j - i);
                i = j;
        }
        run_free(&r);
        if (err < 0)
                return err;
        r.st.usec = now_usec() - t0;
        *ret = r.st;
        return 0;
}
