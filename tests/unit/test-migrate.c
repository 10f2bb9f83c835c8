/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate: what the code makes of every answer move_pages(2) is known to give
 * (move_pages(2), and what the QEMU guest showed: lib/migrate.h), injected
 * through MigrateOps; then the real
 * system call on this machine's own pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <numa.h>
#include <numaif.h>

#include "migrate.h"
#include "testutil.h"
#include "util.h"

#define NPAGES 64
#define SRC    1
#define DEST   0

/* A scripted kernel. Page i of a test has address (i + 1) << 12. */
typedef struct FakeKernel {
        int answer[NPAGES]; /* status a move call stores for page i */
        int where[NPAGES];  /* node a query reports for page i */
        int fail_call;      /* 1-based move call that misbehaves, 0 none */
        int fail_errno;     /* ... failing whole with this errno */
        int stop_after;     /* ... or, if fail_errno == 0, storing this many statuses and
                               returning the count of the rest (the kernel's positive return) */
        pid_t gone_pid;     /* move calls for this pid fail with ESRCH */
        int query_errno;    /* queries fail with this errno */

        int move_calls, query_calls;
        unsigned long move_sizes[32], query_sizes[32];
        void *query_pages[NPAGES];
        pid_t pids[32];
        bool bad_flags, bad_nodes, status_not_prefilled;
} FakeKernel;

static size_t page_index(const void *p)
{
        return ((size_t)(uintptr_t)p >> 12) - 1;
}

static void *page_addr(size_t i)
{
        return (void *)(uintptr_t)((i + 1) << 12);
}

static int fake_move_pages(void *userdata, int pid, unsigned long count, void **pages,
                           const int *nodes, int *status, int flags)
{
        FakeKernel *k = userdata;

        for (unsigned long i = 0; i < count; i++)
                if (status[i] != MIGRATE_STATUS_UNSET)
                        k->status_not_prefilled = true;

        if (!nodes) {
                if (k->query_calls < 32)
                        k->query_sizes[k->query_calls] = count;
                k->query_calls++;
                if (k->query_errno) {
                        errno = k->query_errno;
                        return -1;
                }
                for (unsigned long i = 0; i < count && i < NPAGES; i++) {
                        k->query_pages[i] = pages[i];
                        status[i] = k->where[page_index(pages[i])];
                }
                return 0;
        }

        if (k->move_calls < 32) {
                k->move_sizes[k->move_calls] = count;
                k->pids[k->move_calls] = pid;
        }
        k->move_calls++;
        if (flags != MPOL_MF_MOVE_ALL)
                k->bad_flags = true;
        for (unsigned long i = 0; i < count; i++)
                if (nodes[i] != DEST)
                        k->bad_nodes = true;

        if (pid == k->gone_pid) {
                errno = ESRCH;
                return -1;
        }
        if (k->move_calls == k->fail_call) {
                if (k->fail_errno) {
                        /* ENOMEM included: status left untouched though pages moved. */
                        errno = k->fail_errno;
                        return -1;
                }
                for (int i = 0; i < k->stop_after; i++)
                        status[i] = k->answer[page_index(pages[i])];
                return (int)count - k->stop_after;
        }
        for (unsigned long i = 0; i < count; i++)
                status[i] = k->answer[page_index(pages[i])];
        return 0;
}

static void fake_init(FakeKernel *k)
{
        *k = (FakeKernel){.gone_pid = -1};
        for (size_t i = 0; i < NPAGES; i++) {
                k->answer[i] = DEST;
                k->where[i] = DEST;
        }
}

static void addrs_fill(uint64_t *a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                a[i] = (uint64_t)(uintptr_t)page_addr(i);
}

static void test_all_moved_in_batches(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        uint64_t a[10];
        MigrateStats st;

        fake_init(&k);
        addrs_fill(a, 10);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 10, SRC, DEST, 3, &ops, &st), 0);
        CHECK_EQ_INT(st.requested, 10);
        CHECK_EQ_INT(st.moved, 10);
        CHECK_EQ_INT(st.stayed + st.elsewhere + st.busy + st.gone + st.failed + st.not_tried, 0);
        CHECK_EQ_INT(st.calls, 4);
        CHECK_EQ_INT(k.move_calls, 4);
        CHECK_EQ_INT(k.move_sizes[0], 3);
        CHECK_EQ_INT(k.move_sizes[3], 1);
        CHECK_EQ_INT(k.pids[2], 42);
        CHECK_EQ_INT(k.query_calls, 0);
        CHECK(!k.bad_flags);
        CHECK(!k.bad_nodes);
        CHECK(!k.status_not_prefilled);
}

/* Every per-page status of the man page and of lib/migrate.h. */
static void test_per_page_statuses(void)
{
        static const int answers[] = {
            DEST,    /* moved */
            SRC,     /* not moved: still on the block's node */
            2,       /* on a third node: not ours */
            -EBUSY,  /* could not isolate */
            -ENOENT, /* not present (untouched anon on 6.18, freed meanwhile) */
            -EFAULT, /* unmapped since location, zero page, unmovable VMA */
            -EACCES, /* shared, without MOVE_ALL */
            -ENOMEM, /* per-page allocation failure */
            -EIO,    /* anything else */
        };
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        uint64_t a[ELEMENTSOF(answers)];
        MigrateStats st;

        fake_init(&k);
        for (size_t i = 0; i < ELEMENTSOF(answers); i++)
                k.answer[i] = answers[i];
        addrs_fill(a, ELEMENTSOF(answers));
        CHECK_EQ_INT(migrate_pid_pages(42, a, ELEMENTSOF(a), SRC, DEST, 100, &ops, &st), 0);
        CHECK_EQ_INT(st.requested, 9);
        CHECK_EQ_INT(st.moved, 1);
        CHECK_EQ_INT(st.stayed, 1);
        CHECK_EQ_INT(st.elsewhere, 1);
        CHECK_EQ_INT(st.busy, 1);
        CHECK_EQ_INT(st.gone, 2);
        CHECK_EQ_INT(st.failed, 3);
        CHECK_EQ_INT(st.calls, 1);
        CHECK_EQ_INT(k.query_calls, 0);
}

/* Whole-call ENOMEM: status untouched although pages moved. The code must
 * ask where they are, count from that, and try nothing more. */
static void test_enomem_requeries(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        uint64_t a[20];
        MigrateStats st;

        fake_init(&k);
        k.fail_call = 2;
        k.fail_errno = ENOMEM;
        for (size_t i = 8; i < 20; i++)
                k.where[i] = SRC; /* pages 5..7 of the failed batch moved, 8..9 did not */
        k.where[9] = -ENOENT;     /* freed meanwhile */
        addrs_fill(a, 20);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 20, SRC, DEST, 5, &ops, &st), 0);
        CHECK_EQ_INT(k.move_calls, 2);
        CHECK_EQ_INT(k.query_calls, 1);
        CHECK_EQ_INT(k.query_sizes[0], 5);
        CHECK(k.query_pages[0] == page_addr(5));
        CHECK_EQ_INT(st.nomem, 1);
        CHECK_EQ_INT(st.calls, 3);
        CHECK_EQ_INT(st.moved, 5 + 3);
        CHECK_EQ_INT(st.stayed, 1);
        CHECK_EQ_INT(st.gone, 1);
        CHECK_EQ_INT(st.not_tried, 10);
        CHECK_EQ_INT(st.failed, 0);
        CHECK(!k.status_not_prefilled);

        /* The query itself fails: the batch's pages are unknown. */
        fake_init(&k);
        k.fail_call = 1;
        k.fail_errno = ENOMEM;
        k.query_errno = EIO;
        CHECK_EQ_INT(migrate_pid_pages(42, a, 20, SRC, DEST, 5, &ops, &st), 0);
        CHECK_EQ_INT(st.failed, 5);
        CHECK_EQ_INT(st.not_tried, 15);
        CHECK_EQ_INT(st.moved, 0);

        /* The process exits between the move and the query. */
        fake_init(&k);
        k.fail_call = 1;
        k.fail_errno = ENOMEM;
        k.query_errno = ESRCH;
        CHECK_EQ_INT(migrate_pid_pages(42, a, 20, SRC, DEST, 5, &ops, &st), 0);
        CHECK_EQ_INT(st.gone, 20);
        CHECK_EQ_INT(st.not_tried + st.moved + st.failed, 0);
}

/* A positive return: the kernel stopped, the status of the rest is unset. */
static void test_positive_return_requeries_unset(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        uint64_t a[8];
        MigrateStats st;

        fake_init(&k);
        k.fail_call = 1;
        k.stop_after = 3;
        k.answer[1] = -EBUSY;
        k.where[1] = SRC; /* a query would lose the -EBUSY: must not be asked */
        k.where[3] = SRC;
        k.where[4] = SRC;
        addrs_fill(a, 8);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 8, SRC, DEST, 8, &ops, &st), 0);
        CHECK_EQ_INT(k.query_calls, 1);
        CHECK_EQ_INT(k.query_sizes[0], 5);
        CHECK(k.query_pages[0] == page_addr(3));
        CHECK_EQ_INT(st.moved, 2 + 3);
        CHECK_EQ_INT(st.busy, 1);
        CHECK_EQ_INT(st.stayed, 2);
        CHECK_EQ_INT(st.nomem, 0);
        CHECK_EQ_INT(st.not_tried, 0);
}

/* ESRCH: the process exited between location and migration. */
static void test_process_gone(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
#define LOC(p, a) {.pid = (p), .pages = 1, .addr = (a)}
        PageLocation items[] = {
            LOC(10, 0x1000), LOC(10, 0x2000), LOC(20, 0x3000), LOC(20, 0x4000),
            LOC(20, 0x5000), LOC(30, 0x6000), LOC(30, 0x7000),
        };
#undef LOC
        PageLocations locs = {.items = items, .n_items = ELEMENTSOF(items)};
        MigrateStats st;

        fake_init(&k);
        k.gone_pid = 20;
        CHECK_EQ_INT(migrate_locations(&locs, SRC, DEST, 2, &ops, &st), 0);
        CHECK_EQ_INT(st.requested, 7);
        CHECK_EQ_INT(st.moved, 4);
        CHECK_EQ_INT(st.gone, 3);
        /* pid 10: one call; pid 20: one call, then its rest counted gone;
         * pid 30: one call. */
        CHECK_EQ_INT(k.move_calls, 3);
        CHECK_EQ_INT(k.pids[0], 10);
        CHECK_EQ_INT(k.pids[1], 20);
        CHECK_EQ_INT(k.pids[2], 30);
        CHECK_EQ_INT(k.move_sizes[0], 2);
        CHECK_EQ_INT(k.move_sizes[2], 2);
}

/* Whole-call errors that are the caller's to handle. */
static void test_whole_call_errors(void)
{
        static const int errs[] = {EPERM, EACCES, ENODEV, EINVAL, E2BIG};
        uint64_t a[4];

        addrs_fill(a, 4);
        for (size_t i = 0; i < ELEMENTSOF(errs); i++) {
                FakeKernel k;
                MigrateOps ops = {fake_move_pages, &k};
                MigrateStats st = {.requested = 777};

                fake_init(&k);
                k.fail_call = 2;
                k.fail_errno = errs[i];
                CHECK_EQ_INT(migrate_pid_pages(42, a, 4, SRC, DEST, 2, &ops, &st), -errs[i]);
                CHECK_EQ_INT(st.requested, 777); /* untouched */
                CHECK_EQ_INT(k.query_calls, 0);
        }
}

static void test_arguments(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        MigrateOps no_fn = {NULL, NULL};
        uint64_t a[1] = {0x1000};
        PageLocations empty = {};
        MigrateStats st;

        fake_init(&k);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 1, SRC, DEST, 0, &ops, &st), -EINVAL);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 1, SRC, -1, 4, &ops, &st), -EINVAL);
        CHECK_EQ_INT(migrate_pid_pages(42, NULL, 1, SRC, DEST, 4, &ops, &st), -EINVAL);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 1, SRC, DEST, 4, &no_fn, &st), -EINVAL);
        CHECK_EQ_INT(migrate_locations(NULL, SRC, DEST, 4, &ops, &st), -EINVAL);
        CHECK_EQ_INT(k.move_calls, 0);

        CHECK_EQ_INT(migrate_locations(&empty, SRC, DEST, 4, &ops, &st), 0);
        CHECK_EQ_INT(st.requested, 0);
        CHECK_EQ_INT(st.calls, 0);
}

/* Source and destination the same node (a one-node machine): the kernel
 * answers the node for every present page and moves nothing. */
static void test_same_node(void)
{
        FakeKernel k;
        MigrateOps ops = {fake_move_pages, &k};
        uint64_t a[6];
        MigrateStats st;

        fake_init(&k);
        addrs_fill(a, 6);
        CHECK_EQ_INT(migrate_pid_pages(42, a, 6, DEST, DEST, 4, &ops, &st), 0);
        CHECK_EQ_INT(st.stayed, 6);
        CHECK_EQ_INT(st.moved, 0);
}

static int where_is(void *page)
{
        int status = MIGRATE_STATUS_UNSET;

        if (numa_move_pages(0, 1, &page, NULL, &status, 0) < 0)
                return -errno;
        return status;
}

/* The real system call on this process's own pages. */
static void test_real(void)
{
        enum { N = 64 };
        long ps = sysconf(_SC_PAGESIZE);
        int memory_nodes = 0, other = -1, src;
        uint64_t a[N + 3];
        MigrateStats st;
        char *p;

        if (geteuid() != 0) {
                fprintf(stderr,
                        "real move_pages: skipped, not root (MOVE_ALL needs CAP_SYS_NICE)\n");
                return;
        }
        if (numa_available() < 0) {
                fprintf(stderr, "real move_pages: skipped, no NUMA support in this kernel\n");
                return;
        }
        p = mmap(NULL, (size_t)ps * (N + 4), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
        CHECK(p != MAP_FAILED);
        if (p == MAP_FAILED)
                return;
        for (int i = 0; i < N; i++) {
                p[(size_t)i * ps] = (char)i;
                a[i] = (uint64_t)(uintptr_t)(p + (size_t)i * ps);
        }
        src = where_is(p);
        CHECK(src >= 0);

        for (int n = 0; n <= numa_max_node(); n++)
                if (numa_node_size64(n, NULL) > 0) {
                        memory_nodes++;
                        if (n != src && other < 0)
                                other = n;
                }

        /* Three pages that cannot move: never touched (-ENOENT on 6.18,
         * -EFAULT on 6.1), the zero page (read, never written: -EFAULT), and
         * an unmapped address (-EFAULT). */
        volatile char sink = p[(size_t)(N + 1) * ps];
        (void)sink;
        a[N] = (uint64_t)(uintptr_t)(p + (size_t)N * ps);
        a[N + 1] = (uint64_t)(uintptr_t)(p + (size_t)(N + 1) * ps);
        a[N + 2] = (uint64_t)(uintptr_t)(p + (size_t)(N + 3) * ps);
        munmap(p + (size_t)(N + 3) * ps, (size_t)ps);

        if (memory_nodes >= 2 && other >= 0) {
                fprintf(stderr, "real move_pages: %d memory nodes, node %d -> %d\n", memory_nodes,
                        src, other);
                CHECK_EQ_INT(migrate_pid_pages(getpid(), a, N + 3, src, other, 16, NULL, &st), 0);
                CHECK_EQ_INT(st.moved + st.busy, N);
                CHECK_EQ_INT(st.gone, 3);
                for (int i = 0; i < N; i++)
                        CHECK(where_is(p + (size_t)i * ps) == other || st.busy > 0);
        } else {
                fprintf(stderr, "real move_pages: one memory node, move to the same node\n");
                CHECK_EQ_INT(migrate_pid_pages(getpid(), a, N + 3, src, src, 16, NULL, &st), 0);
                CHECK_EQ_INT(st.requested, N + 3);
                CHECK_EQ_INT(st.stayed, N); /* "a page already on the target node stays" */
                CHECK_EQ_INT(st.moved, 0);
                CHECK_EQ_INT(st.gone, 3);
                CHECK_EQ_INT(st.busy + st.failed + st.elsewhere + st.not_tried, 0);
                CHECK_EQ_INT(st.calls, 5);
                for (int i = 0; i < N; i++)
                        CHECK_EQ_INT(where_is(p + (size_t)i * ps), src);
        }
        for (int i = 0; i < N; i++)
                CHECK_EQ_INT(p[(size_t)i * ps], (char)i);
        munmap(p, (size_t)ps * (N + 4));
}

int main(void)
{
        test_all_moved_in_batches();
        test_per_page_statuses();
        test_enomem_requeries();
        test_positive_return_requeries_unset();
        test_process_gone();
        test_whole_call_errors();
        test_arguments();
        test_same_node();
        test_real();
        return test_summary("test-migrate");
}
