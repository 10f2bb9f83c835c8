/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory policies that tie a process to one node: numa_maps lines, and a
 * fake procfs tree read whole. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bindings.h"
#include "indexset.h"
#include "testutil.h"
#include "util.h"

static void test_lines(void)
{
        _cleanup_(indexset_free) IndexSet mem = INDEXSET_NULL, two = INDEXSET_NULL;
        char what[32] = "";

        CHECK_EQ_INT(indexset_parse("0-1", 63, &mem), 0);
        CHECK_EQ_INT(indexset_parse("1", 63, &two), 0);

        CHECK_EQ_INT(bindings_numa_maps_line("7f00 default anon=1 dirty=1 N0=1 kernelpagesize_kB=4",
                                             1, &mem, what, sizeof(what)), 0);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 prefer:1 anon=1", 1, &mem, what, sizeof(what)), 0);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 interleave:1 anon=1", 1, &mem, what, sizeof(what)), 0);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:1 anon=1 N1=1", 1, &mem, what, sizeof(what)), 1);
        CHECK_EQ_STR(what, "bind:1");
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind=static:1 anon=1", 1, &mem, what, sizeof(what)), 1);
        CHECK_EQ_STR(what, "bind=static:1");
        /* node 0 has memory too: the process can still allocate */
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:0-1 anon=1", 1, &mem, what, sizeof(what)), 0);
        /* ... unless node 0 has none */
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:0-1 anon=1", 1, &two, what, sizeof(what)), 1);
        /* bound elsewhere: not this node's business */
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:0", 1, &mem, what, sizeof(what)), 0);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:", 1, &mem, what, sizeof(what)), -EINVAL);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 bind:x", 1, &mem, what, sizeof(what)), -EINVAL);
        CHECK_EQ_INT(bindings_numa_maps_line("nospace", 1, &mem, what, sizeof(what)), -EINVAL);
        CHECK_EQ_INT(bindings_numa_maps_line("7f00 ", 1, &mem, what, sizeof(what)), -EINVAL);
}

static void test_tree(void)
{
        _cleanup_(indexset_free) IndexSet mem = INDEXSET_NULL;
        char *root = tmpdir_make();
        BindingsResult res;
        int fd;

        CHECK_EQ_INT(indexset_parse("0-1", 63, &mem), 0);
        fake_write(root, "1/status", "Name:\tinit\nMems_allowed_list:\t0-1\n");
        fake_write(root, "1/numa_maps", "55d0 default file=/sbin/init mapped=1 N0=1\n");
        fake_write(root, "2/status", "Name:\tkthreadd\nMems_allowed_list:\t0-1\n");
        fake_write(root, "2/numa_maps", "");
        fake_write(root, "self", "not a process");
        fake_mkdir(root, "sys");
        fake_mkdir(root, "77"); /* vanished: no files */
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);

        CHECK_EQ_INT(bindings_read(fd, 1, &mem, &res), 0);
        CHECK(!res.bound);
        CHECK_EQ_INT(res.processes, 2);

        fake_write(root, "300/status", "Name:\tdb\nMems_allowed_list:\t0-1\n");
        fake_write(root, "300/numa_maps",
                   "7f00 default anon=1 N0=1\n7f10 bind:1 anon=5 dirty=5 N1=5 kernelpagesize_kB=4\n");
        CHECK_EQ_INT(bindings_read(fd, 1, &mem, &res), 0);
        CHECK(res.bound);
        CHECK_EQ_INT(res.pid, 300);
        CHECK_EQ_STR(res.what, "bind:1");
        /* node 0 has no such process */
        CHECK_EQ_INT(bindings_read(fd, 0, &mem, &res), 0);
        CHECK(!res.bound);

        fake_unlink(root, "300/numa_maps");
        fake_write(root, "300/numa_maps", "7f00 default anon=1 N0=1\n");
        fake_unlink(root, "300/status");
        fake_write(root, "300/status", "Name:\tdb\nMems_allowed_list:\t1\n");
        CHECK_EQ_INT(bindings_read(fd, 1, &mem, &res), 0);
        CHECK(res.bound);
        CHECK_EQ_STR(res.what, "cpuset 1");

        /* a thread's own policy shows in its task's numa_maps only */
        fake_unlink(root, "300/status");
        fake_write(root, "300/status", "Name:\tdb\nMems_allowed_list:\t0-1\n");
        fake_write(root, "300/task/300/numa_maps", "7f00 default anon=1 N0=1\n");
        CHECK_EQ_INT(bindings_read(fd, 1, &mem, &res), 0);
        CHECK(!res.bound);
        fake_write(root, "300/task/301/numa_maps", "7f00 bind:1 anon=1 N1=1\n7f10 bind:1 an");
        CHECK_EQ_INT(bindings_read(fd, 1, &mem, &res), 0);
        CHECK(res.bound);
        CHECK_EQ_INT(res.pid, 300);
        CHECK_EQ_STR(res.what, "bind:1");

        close(fd);
        /* no procfs to read: an error, never "none bound" */
        CHECK(bindings_read(-1, 1, &mem, &res) < 0);
        tmpdir_remove(root);
}

int main(void)
{
        test_lines();
        test_tree();
        return test_summary("test-bindings");
}
