/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block discovery against fake sysfs trees and the tree captured from a real
 * 24 GiB machine (tests/fixtures/host-kvm-24g.tar.gz). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memblock.h"
#include "roots.h"
#include "testutil.h"
#include "util.h"

static int open_memdir(const char *root)
{
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        CHECK(fd >= 0);
        return memblock_open_dir(fd);
}

static void test_state_and_zones(void)
{
        unsigned z;
        char buf[64];

        CHECK_EQ_INT(block_state_from_string("online"), BLOCK_ONLINE);
        CHECK_EQ_INT(block_state_from_string("offline"), BLOCK_OFFLINE);
        CHECK_EQ_INT(block_state_from_string("going-offline"), BLOCK_GOING_OFFLINE);
        /* exact compares: a prefix is not a state */
        CHECK_EQ_INT(block_state_from_string("online_movable"), _BLOCK_STATE_INVALID);
        CHECK_EQ_INT(block_state_from_string("onlin"), _BLOCK_STATE_INVALID);
        CHECK_EQ_INT(block_state_from_string(""), _BLOCK_STATE_INVALID);
        CHECK_EQ_INT(block_state_from_string(NULL), _BLOCK_STATE_INVALID);

        CHECK_EQ_INT(zones_from_string("Movable", &z), 0);
        CHECK_EQ_INT(z, ZONE_MOVABLE_BIT);
        CHECK_EQ_INT(zones_from_string("Movable Normal", &z), 0);
        CHECK_EQ_INT(z, ZONE_MOVABLE_BIT | ZONE_NORMAL_BIT);
        CHECK_EQ_INT(zones_from_string("none", &z), 0);
        CHECK_EQ_INT(z, 0);
        CHECK_EQ_INT(zones_from_string("DMA32", &z), 0);
        CHECK_EQ_INT(z, ZONE_DMA32_BIT);
        CHECK_EQ_INT(zones_from_string("Normal Weird", &z), 0);
        CHECK_EQ_INT(z, ZONE_NORMAL_BIT | ZONE_OTHER_BIT);
        CHECK(zones_from_string("", &z) < 0);
        CHECK(zones_from_string("   ", &z) < 0);
        CHECK_EQ_STR(zones_to_string(ZONE_NORMAL_BIT | ZONE_MOVABLE_BIT, buf, sizeof(buf)),
                     "Normal Movable");
        CHECK_EQ_STR(zones_to_string(0, buf, sizeof(buf)), "none");
}

static void test_holes_nodes_offline(void)
{
        char *root = tmpdir_make();
        BlockTable t = { 0 };
        uint32_t bad = 0;
        int memdir;

        fake_block_size(root, 0x8000000);
        fake_block(root, 0, 0, "online", "none");
        fake_block(root, 1, 0, "online", "DMA32");
        fake_block(root, 2, 0, "online", "Normal");
        /* hole: 3-31 missing */
        fake_block(root, 32, 1, "online", "Movable");
        fake_block(root, 33, 1, "offline", "Movable Normal");
        fake_block(root, 34, 1, "going-offline", "Movable");
        fake_block(root, 100, -1, "online", "Normal"); /* no node link */
        fake_mkdir(root, "devices/system/memory/power");  /* not a block */
        fake_mkdir(root, "devices/system/memory/memoryX"); /* not a block either */

        memdir = open_memdir(root);
        CHECK(memdir >= 0);
        CHECK_EQ_INT(blocktable_load(memdir, &t, &bad), 0);
        CHECK_EQ_INT(t.block_size_bytes, 0x8000000);
        CHECK_EQ_INT(t.pages_per_block, 0x8000000 / sysconf(_SC_PAGESIZE));
        CHECK_EQ_INT(t.n, 7);
        if (t.n == 7) {
                /* natural order, not readdir or string order */
                CHECK_EQ_INT(t.blocks[0].index, 0);
                CHECK_EQ_INT(t.blocks[2].index, 2);
                CHECK_EQ_INT(t.blocks[3].index, 32);
                CHECK_EQ_INT(t.blocks[6].index, 100);
                CHECK_EQ_INT(t.blocks[0].zones, 0);
                CHECK_EQ_INT(t.blocks[3].node, 1);
                CHECK_EQ_INT(t.blocks[3].zones, ZONE_MOVABLE_BIT);
                CHECK_EQ_INT(t.blocks[3].start_pfn, 32 * t.pages_per_block);
                CHECK_EQ_INT(t.blocks[4].state, BLOCK_OFFLINE);
                CHECK_EQ_INT(t.blocks[5].state, BLOCK_GOING_OFFLINE);
                CHECK_EQ_INT(t.blocks[6].node, -1);
                CHECK(t.blocks[3].removable);
                CHECK(!t.blocks[3].usage_valid);
        }
        CHECK(blocktable_find(&t, 3) == NULL);
        CHECK(blocktable_find(&t, 33) != NULL);
        /* the first from an index on */
        CHECK(blocktable_find_from(&t, 0) == &t.blocks[0]);
        CHECK(blocktable_find_from(&t, 33) == blocktable_find(&t, 33));
        CHECK(blocktable_find_from(&t, 101) == NULL);
        CHECK(blocktable_find_from(&t, UINT64_C(1) << 33) == NULL);
        CHECK_EQ_INT(blocktable_find_from(&t, 99)->index, 100);

        blocktable_clear(&t);
        close(memdir);
        tmpdir_remove(root);
}

static void test_refresh_appear_vanish(void)
{
        char *root = tmpdir_make();
        BlockTable t = { 0 };
        bool removed = true;
        int memdir;

        fake_block_size(root, 0x8000000);
        fake_block(root, 8, 0, "online", "Normal");
        fake_block(root, 9, 0, "online", "Normal");
        memdir = open_memdir(root);
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), 0);
        CHECK_EQ_INT(t.n, 2);

        /* usage survives a refresh that changes nothing */
        blocktable_find(&t, 9)->usage_valid = true;
        blocktable_find(&t, 9)->usage.movable = 7;
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 9, &removed), 0);
        CHECK(!removed);
        CHECK(blocktable_find(&t, 9)->usage_valid);
        CHECK_EQ_INT(blocktable_find(&t, 9)->usage.movable, 7);

        /* a state change drops it */
        fake_write(root, "devices/system/memory/memory9/state", "offline\n");
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 9, &removed), 0);
        CHECK_EQ_INT(blocktable_find(&t, 9)->state, BLOCK_OFFLINE);
        CHECK(!blocktable_find(&t, 9)->usage_valid);

        /* a block appears (hot add) */
        fake_block(root, 40, 1, "offline", "Movable Normal");
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 40, &removed), 0);
        CHECK(!removed);
        CHECK_EQ_INT(t.n, 3);
        CHECK_EQ_INT(t.blocks[2].index, 40);
        CHECK_EQ_INT(t.blocks[2].node, 1);

        /* and vanishes (hot remove) */
        fake_unlink(root, "devices/system/memory/memory8");
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 8, &removed), 0);
        CHECK(removed);
        CHECK_EQ_INT(t.n, 2);
        CHECK(blocktable_find(&t, 8) == NULL);

        /* removing what is not there is not an error */
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 8, &removed), 0);
        CHECK(!removed);

        /* a full reload sees the same */
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), 0);
        CHECK_EQ_INT(t.n, 2);

        blocktable_clear(&t);
        close(memdir);
        tmpdir_remove(root);
}

static void expect_bad(const char *what, const char *attr, const char *value, int expect,
                       size_t expect_n)
{
        char *root = tmpdir_make();
        char rel[128];
        BlockTable t = { 0 };
        uint32_t bad = 12345;
        int memdir, r;

        fake_block_size(root, 0x8000000);
        fake_block(root, 0, 0, "online", "Normal");
        fake_block(root, 5, 0, "online", "Normal");
        snprintf(rel, sizeof(rel), "devices/system/memory/memory5/%s", attr);
        if (value)
                fake_write(root, rel, value);
        else
                fake_unlink(root, rel);
        memdir = open_memdir(root);
        t.n = 99; /* untouched on failure */
        r = blocktable_load(memdir, &t, &bad);
        if (r != expect)
                fprintf(stderr, "case %s: got %d\n", what, r);
        CHECK_EQ_INT(r, expect);
        if (expect < 0) {
                CHECK_EQ_INT(bad, 5);
                CHECK_EQ_INT(t.n, 99);
        } else {
                CHECK_EQ_INT(t.n, expect_n);
                blocktable_clear(&t);
        }
        close(memdir);
        tmpdir_remove(root);
}

static void test_malformed(void)
{
        char *root;
        BlockTable t = { 0 };
        int memdir;

        expect_bad("state garbage", "state", "onlinexyz\n", -EBADMSG, 0);
        expect_bad("state prefix", "state", "online_movable\n", -EBADMSG, 0);
        expect_bad("state empty", "state", "", -EBADMSG, 0);
        expect_bad("phys_index not hex", "phys_index", "zz\n", -EBADMSG, 0);
        expect_bad("phys_index mismatch", "phys_index", "00000006\n", -EBADMSG, 0);
        expect_bad("zones empty", "valid_zones", "\n", -EBADMSG, 0);
        /* a block whose state vanished is one being removed: skipped */
        expect_bad("state missing", "state", NULL, 0, 1);
        /* optional attributes */
        expect_bad("valid_zones missing", "valid_zones", NULL, 0, 2);
        expect_bad("removable garbage", "removable", "maybe\n", 0, 2);

        /* block_size_bytes: missing, not hex, not page aligned */
        root = tmpdir_make();
        fake_block(root, 0, 0, "online", "Normal");
        memdir = open_memdir(root);
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), -ENOENT);
        fake_write(root, "devices/system/memory/block_size_bytes", "lots\n");
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), -EBADMSG);
        fake_write(root, "devices/system/memory/block_size_bytes", "1001\n");
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), -EBADMSG);
        fake_write(root, "devices/system/memory/block_size_bytes", "8000000\n");
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), 0);
        CHECK_EQ_INT(t.n, 1);
        blocktable_clear(&t);
        close(memdir);
        tmpdir_remove(root);
}

/* A hot-added block has no node link for a moment after its "add" event;
 * reading its valid_zones then would crash a 6.1 kernel. It is not read: a
 * directory in its place would fail the read. */
static void test_hot_added_without_node(void)
{
        char *root = tmpdir_make();
        BlockTable t = { 0 };
        bool removed = true;
        int memdir;

        fake_block_size(root, 0x8000000);
        fake_block(root, 8, 0, "online", "Normal");
        fake_block(root, 40, -1, "offline", "Movable Normal");
        fake_unlink(root, "devices/system/memory/memory40/valid_zones");
        fake_mkdir(root, "devices/system/memory/memory40/valid_zones");
        memdir = open_memdir(root);
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), 0);
        CHECK_EQ_INT(t.n, 2);
        CHECK_EQ_INT(blocktable_find(&t, 40)->node, -1);
        CHECK_EQ_INT(blocktable_find(&t, 40)->zones, 0);

        /* the node link appears: the next read has node and zones */
        fake_unlink(root, "devices/system/memory/memory40/valid_zones");
        fake_write(root, "devices/system/memory/memory40/valid_zones", "Movable Normal\n");
        fake_symlink(root, "devices/system/memory/memory40/node1", "../../node/node1");
        CHECK_EQ_INT(blocktable_refresh(&t, memdir, 40, &removed), 0);
        CHECK(!removed);
        CHECK_EQ_INT(blocktable_find(&t, 40)->node, 1);
        CHECK_EQ_INT(blocktable_find(&t, 40)->zones, ZONE_MOVABLE_BIT | ZONE_NORMAL_BIT);

        blocktable_clear(&t);
        close(memdir);
        tmpdir_remove(root);
}

static void test_write_state(void)
{
        char *root = tmpdir_make();
        BlockState now = _BLOCK_STATE_INVALID;
        char buf[64];
        int memdir;

        fake_block_size(root, 0x8000000);
        fake_block(root, 3, 0, "online", "Movable");
        memdir = open_memdir(root);
        CHECK_EQ_INT(memblock_write_state(memdir, 3, "offline", &now), 0);
        fake_read(root, "devices/system/memory/memory3/state", buf, sizeof(buf));
        CHECK_EQ_STR(buf, "offline");
        CHECK_EQ_INT(now, BLOCK_OFFLINE);
        CHECK_EQ_INT(memblock_write_state(memdir, 4, "offline", &now), -ENOENT);
        close(memdir);
        tmpdir_remove(root);
}

static void test_captured_tree(void)
{
        char *dir = tmpdir_make();
        char cmd[PATH_MAX * 2 + 64], sys[PATH_MAX];
        BlockTable t = { 0 };
        int memdir;
        size_t dma32 = 0, normal = 0, none = 0;

        snprintf(cmd, sizeof(cmd), "tar -xzf '%s/host-kvm-24g.tar.gz' -C '%s'", fixtures_dir(),
                 dir);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(sys, sizeof(sys), "%s/sys", dir);
        memdir = open_memdir(sys);
        CHECK_EQ_INT(blocktable_load(memdir, &t, NULL), 0);
        /* lsmem on that machine: blocks 0-23 and 32-199, 128 MiB each, node 0 */
        CHECK_EQ_INT(t.n, 24 + 168);
        CHECK_EQ_INT(t.block_size_bytes, 128 << 20);
        CHECK(blocktable_find(&t, 23) != NULL);
        CHECK(blocktable_find(&t, 24) == NULL);
        CHECK(blocktable_find(&t, 31) == NULL);
        CHECK(blocktable_find(&t, 32) != NULL);
        CHECK(blocktable_find(&t, 199) != NULL);
        for (size_t i = 0; i < t.n; i++) {
                CHECK_EQ_INT(t.blocks[i].node, 0);
                CHECK_EQ_INT(t.blocks[i].state, BLOCK_ONLINE);
                dma32 += t.blocks[i].zones == ZONE_DMA32_BIT;
                normal += t.blocks[i].zones == ZONE_NORMAL_BIT;
                none += t.blocks[i].zones == 0;
        }
        CHECK_EQ_INT(none, 1);
        CHECK_EQ_INT(dma32, 23);
        CHECK_EQ_INT(normal, 168);
        blocktable_clear(&t);
        close(memdir);
        tmpdir_remove(dir);
}

int main(void)
{
        test_state_and_zones();
        test_holes_nodes_offline();
        test_refresh_appear_vanish();
        test_malformed();
        test_hot_added_without_node();
        test_write_state();
        test_captured_tree();
        return test_summary("test-memblock");
}
