/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Power domains: detection from fake sysfs/procfs trees, and grouping. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain.h"
#include "memblock.h"
#include "roots.h"
#include "testutil.h"
#include "util.h"

#define MiB (1024ULL * 1024)

static char *tmp;

/* A machine: blocks 0-7 on node 0 (boot memory), two ACPI DIMMs of four
 * blocks each on node 1 (32-35, 36-39; only the first can be ejected), a
 * dax-kmem device at 48-49 and a CXL region at 56-59 on node 2, and
 * virtio-mem at 64-65 on node 3 named only by /proc/iomem. 128 MiB blocks. */
static void build_tree(const char *root, bool with_iomem)
{
        char sys[512], proc[512];
        static const uint32_t node0[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        fake_mkdir(root, "proc");
        fake_block_size(sys, 128 * MiB);
        for (size_t i = 0; i < ELEMENTSOF(node0); i++)
                fake_block(sys, node0[i], 0, "online", i < 4 ? "DMA32" : "Normal");
        for (uint32_t b = 32; b < 40; b++) {
                char link[128], target[128];

                fake_block(sys, b, 1, b == 33 ? "offline" : "online", "Movable");
                snprintf(link, sizeof(link), "devices/system/memory/memory%u/firmware_node", b);
                snprintf(target, sizeof(target),
                         "../../../LNXSYSTM:00/LNXSYBUS:00/PNP0A06:04/PNP0C80:%02u", b < 36 ? 0 : 1);
                fake_symlink(sys, link, target);
        }
        fake_write(sys, "bus/acpi/devices/PNP0C80:00/eject", "");
        fake_mkdir(sys, "bus/acpi/devices/PNP0C80:01");
        /* a firmware node that is no memory device is not a domain */
        fake_block(sys, 40, 1, "online", "Movable");
        fake_symlink(sys, "devices/system/memory/memory40/firmware_node", "../../../LNXSYSTM:00/ACPI0004:00");

        for (uint32_t b = 48; b < 50; b++)
                fake_block(sys, b, 2, "online", "Movable");
        fake_write(sys, "bus/dax/devices/dax0.0/resource", "0x180000000\n");
        fake_write(sys, "bus/dax/devices/dax0.0/size", "268435456\n");
        fake_write(sys, "bus/dax/devices/dax1.0/resource", "0x9000000000\n"); /* no block there */
        fake_write(sys, "bus/dax/devices/dax1.0/size", "268435456\n");
        fake_write(sys, "bus/dax/devices/broken/resource", "zzz\n");
        for (uint32_t b = 56; b < 60; b++)
                fake_block(sys, b, 2, "online", "Movable");
        fake_write(sys, "bus/cxl/devices/region0/resource", "0x1c0000000\n");
        fake_write(sys, "bus/cxl/devices/region0/size", "0x20000000\n");
        fake_write(sys, "bus/cxl/devices/decoder0.0/size", "0x20000000\n"); /* not a region */
        for (uint32_t b = 64; b < 66; b++)
                fake_block(sys, b, 3, "online", "Movable");

        if (with_iomem)
                fake_write(proc, "iomem",
                           "00000000-00000fff : Reserved\n"
                           "00001000-3fffffff : System RAM\n"
                           "  2aa00000-2b801d31 : Kernel code\n"
                           "100000000-1ffffffff : PNP0A06:04\n"
                           "180000000-18fffffff : dax0.0\n"
                           "  180000000-18fffffff : System RAM (kmem)\n"
                           "200000000-20fffffff : virtio0\n"
                           "  200000000-207ffffff : System RAM (virtio_mem)\n"
                           "  208000000-20fffffff : System RAM (virtio_mem)\n");
        else /* as a user other than root reads it */
                fake_write(proc, "iomem",
                           "00000000-00000000 : Reserved\n"
                           "00000000-00000000 : virtio0\n"
                           "  00000000-00000000 : System RAM (virtio_mem)\n");
}

static void load(const char *root, BlockTable *t, DomainSources *src)
{
        char sys[512], proc[512];
        Roots r;
        int memdir;

        snprintf(sys, sizeof(sys), "%s/sys", root);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        CHECK_EQ_INT(roots_open(sys, proc, &r), 0);
        memdir = memblock_open_dir(r.sysfs_fd);
        CHECK(memdir >= 0);
        *t = (BlockTable){ 0 };
        CHECK_EQ_INT(blocktable_load(memdir, t, NULL), 0);
        close(memdir);
        CHECK_EQ_INT(domain_sources_read(r.sysfs_fd, r.procfs_fd, t, src), 0);
        roots_close(&r);
}

static const Domain *find_name(const DomainTable *dt, const char *name)
{
        for (size_t i = 0; i < dt->n; i++)
                if (strcmp(dt->domains[i].name, name) == 0)
                        return &dt->domains[i];
        return NULL;
}

/* The domain called name; a failure (and an empty domain) when none. */
static const Domain *by_name_at(int line, const DomainTable *dt, const char *name)
{
        static const Domain none = { .id = DOMAIN_NONE, .kind = _DOMAIN_KIND_INVALID, .node = -2 };
        const Domain *d = find_name(dt, name);

        if (d)
                return d;
        test_failures++;
        fprintf(stderr, "%s:%d: no domain %s; there are:", __FILE__, line, name);
        for (size_t i = 0; i < dt->n; i++)
                fprintf(stderr, " %s", dt->domains[i].name);
        fputc('\n', stderr);
        return &none;
}

#define by_name(dt, name) by_name_at(__LINE__, dt, name)

static void check_members(const DomainTable *dt, const Domain *d, uint32_t lo, uint32_t hi)
{
        CHECK_EQ_INT(d->n_blocks, hi - lo + 1);
        for (uint32_t b = lo; b <= hi && b - lo < d->n_blocks; b++) {
                CHECK_EQ_INT(dt->members[d->first + (b - lo)], b);
                CHECK_EQ_INT(domain_of(dt, b), d->id);
        }
}

static void test_sources(void)
{
        BlockTable t;
        DomainSources src;
        DomainTable dt = { 0 };
        const Domain *d;

        load(tmp, &t, &src);
        CHECK_EQ_INT(t.n, 8 + 9 + 6 + 2);

        /* auto: devices where there are, nodes elsewhere */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_AUTO, 512 * MiB, &dt), 0);
        d = by_name(&dt, "node0");
        check_members(&dt, d, 0, 7);
        CHECK_EQ_INT(d->kind, DOMAIN_NODE);
        CHECK_EQ_INT(d->node, 0);
        CHECK_EQ_STR(d->source, "node");
        d = by_name(&dt, "PNP0C80:00");
        check_members(&dt, d, 32, 35);
        CHECK_EQ_INT(d->kind, DOMAIN_DEVICE);
        CHECK_EQ_STR(d->source, "acpi");
        CHECK(d->ejectable);
        CHECK_EQ_INT(d->node, 1);
        d = by_name(&dt, "PNP0C80:01");
        check_members(&dt, d, 36, 39);
        CHECK(!d->ejectable);
        /* block 40: firmware node of another kind; in node 1's domain */
        d = by_name(&dt, "node1");
        check_members(&dt, d, 40, 40);
        d = by_name(&dt, "dax0.0");
        check_members(&dt, d, 48, 49);
        CHECK_EQ_STR(d->source, "dax");
        d = by_name(&dt, "region0");
        check_members(&dt, d, 56, 59);
        CHECK_EQ_STR(d->source, "cxl");
        CHECK_EQ_INT(d->node, 2);
        d = by_name(&dt, "virtio0");
        check_members(&dt, d, 64, 65);
        CHECK_EQ_STR(d->source, "virtio_mem");
        CHECK_EQ_INT(dt.n, 7);
        CHECK(find_name(&dt, "dax1.0") == NULL);
        CHECK(find_name(&dt, "broken") == NULL);
        /* ordered by lowest block, ids are positions */
        for (size_t i = 0; i < dt.n; i++) {
                CHECK_EQ_INT(dt.domains[i].id, i);
                if (i > 0)
                        CHECK(dt.members[dt.domains[i - 1].first] < dt.members[dt.domains[i].first]);
        }
        CHECK_EQ_INT(domain_of(&dt, 8), DOMAIN_NONE);
        CHECK_EQ_INT(domain_of(&dt, 1000), DOMAIN_NONE);

        /* device: blocks outside a device are in no domain */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_DEVICE, 512 * MiB, &dt), 0);
        CHECK_EQ_INT(dt.n, 5);
        CHECK_EQ_INT(domain_of(&dt, 0), DOMAIN_NONE);
        CHECK_EQ_INT(domain_of(&dt, 40), DOMAIN_NONE);
        check_members(&dt, by_name(&dt, "PNP0C80:01"), 36, 39);

        /* node */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_NODE, 512 * MiB, &dt), 0);
        CHECK_EQ_INT(dt.n, 4);
        check_members(&dt, by_name(&dt, "node1"), 32, 40);
        d = by_name(&dt, "node2");
        CHECK(d && d->n_blocks == 6);

        /* region: 512 MiB = 4 blocks, aligned, within a node */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_REGION, 512 * MiB, &dt), 0);
        check_members(&dt, by_name(&dt, "region@0x0"), 0, 3);
        check_members(&dt, by_name(&dt, "region@0x20000000"), 4, 7);
        check_members(&dt, by_name(&dt, "region@0x100000000"), 32, 35);
        check_members(&dt, by_name(&dt, "region@0x120000000"), 36, 39);
        check_members(&dt, by_name(&dt, "region@0x140000000"), 40, 40);
        CHECK_EQ_INT(by_name(&dt, "region@0x100000000")->kind, DOMAIN_REGION);
        /* smaller than a block: one block each */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_REGION, 64 * MiB, &dt), 0);
        CHECK_EQ_INT(dt.n, t.n);
        check_members(&dt, by_name(&dt, "region@0x108000000"), 33, 33);

        /* block */
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_BLOCK, 512 * MiB, &dt), 0);
        CHECK_EQ_INT(dt.n, t.n);
        d = by_name(&dt, "memory33");
        check_members(&dt, d, 33, 33);
        CHECK_EQ_INT(d->kind, DOMAIN_BLOCK);

        /* no sources at all: auto is by node */
        CHECK_EQ_INT(domain_group(NULL, &t, DOMAINS_AUTO, 512 * MiB, &dt), 0);
        CHECK_EQ_INT(dt.n, 4);

        /* bad input leaves the table */
        CHECK_EQ_INT(domain_group(&src, &t, _DOMAINS_MODE_MAX, 0, &dt), -EINVAL);
        CHECK_EQ_INT(dt.n, 4);
        src.n_blocks--;
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_AUTO, 0, &dt), -EINVAL);
        src.n_blocks++;

        /* stats: block 33 is offline */
        {
                DomainStat st;

                for (size_t i = 0; i < t.n; i++)
                        if (t.blocks[i].index >= 32 && t.blocks[i].index < 36) {
                                t.blocks[i].usage_valid = t.blocks[i].index != 35;
                                t.blocks[i].usage = (PageUsage){ .free = 100, .movable = 10 };
                        }
                CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_AUTO, 512 * MiB, &dt), 0);
                domain_stat(&dt, by_name(&dt, "PNP0C80:00"), t.blocks, t.n, &st);
                CHECK_EQ_INT(st.online, 3);
                CHECK_EQ_INT(st.offline, 1);
                CHECK_EQ_INT(st.counted, 2);
                CHECK_EQ_INT(st.missing, 0);
                CHECK_EQ_INT(st.usage.movable, 20);
                CHECK_EQ_INT(st.usage.free, 200);
                /* a member gone from the table */
                CHECK(blocktable_remove(&t, 34));
                domain_stat(&dt, by_name(&dt, "PNP0C80:00"), t.blocks, t.n, &st);
                CHECK_EQ_INT(st.missing, 1);
                CHECK_EQ_INT(st.online, 2);
        }

        domain_table_free(&dt);
        domain_table_free(&dt); /* twice is fine */
        domain_sources_free(&src);
        blocktable_clear(&t);
}

/* Without root /proc/iomem has no addresses: virtio-mem is not found, the
 * rest is. */
static void test_no_iomem_addresses(void)
{
        char *root = tmpdir_make();
        BlockTable t;
        DomainSources src;
        DomainTable dt = { 0 };

        build_tree(root, false);
        load(root, &t, &src);
        CHECK_EQ_INT(domain_group(&src, &t, DOMAINS_AUTO, 512 * MiB, &dt), 0);
        CHECK(find_name(&dt, "virtio0") == NULL);
        check_members(&dt, by_name(&dt, "node3"), 64, 65);
        check_members(&dt, by_name(&dt, "dax0.0"), 48, 49);
        domain_table_free(&dt);
        domain_sources_free(&src);
        blocktable_clear(&t);
        tmpdir_remove(root);
}

/* /proc/iomem alone: nesting, top-level driver ranges, malformed lines. */
static void test_iomem(void)
{
        BlockTable t = { .block_size_bytes = 128 * MiB, .pages_per_block = 32768 };
        DomainSources s = { 0 };
        uint32_t dev[4];

        for (uint32_t i = 0; i < 4; i++) {
                MemBlock b = { .index = 16 + i, .node = 0, .state = BLOCK_ONLINE };

                CHECK_EQ_INT(blocktable_insert(&t, &b), 0);
        }
        s.n_blocks = t.n;
        s.block_device = dev;
        for (size_t i = 0; i < 4; i++)
                dev[i] = DOMAIN_NONE;
        CHECK_EQ_INT(domain_sources_add_iomem(&s, &t,
                                              "garbage line\n"
                                              "80000000-87ffffff : System RAM (kmem)\n"
                                              "88000000-8fffffff : hv0\n"
                                              "      88000000-8fffffff : System RAM (hv_balloon)\n"
                                              "90000000-97ffffff : System RAM\n"
                                              "98000000-9fffffff : System RAM (x\n"
                                              "a0000000-a0000000 : System RAM ()\n"),
                     0);
        CHECK_EQ_INT(s.n_devices, 2);
        CHECK_EQ_INT(dev[0], 0);
        CHECK_EQ_STR(s.devices[0].name, "kmem@0x80000000");
        CHECK_EQ_STR(s.devices[0].source, "kmem");
        CHECK_EQ_INT(dev[1], 1);
        /* indented deeper than one level: the nearest range it sits in */
        CHECK_EQ_STR(s.devices[1].name, "hv0");
        CHECK_EQ_STR(s.devices[1].source, "hv_balloon");
        CHECK_EQ_INT(dev[2], DOMAIN_NONE);
        CHECK_EQ_INT(dev[3], DOMAIN_NONE);
        s.block_device = NULL;
        domain_sources_free(&s);
        blocktable_clear(&t);
}

static void test_names(void)
{
        CHECK_EQ_STR(domain_kind_to_string(DOMAIN_DEVICE), "device");
        CHECK(domain_kind_to_string(_DOMAIN_KIND_MAX) == NULL);
        CHECK_EQ_INT(domain_mode_from_string("region"), DOMAINS_REGION);
        CHECK_EQ_INT(domain_mode_from_string("Region"), _DOMAINS_MODE_INVALID);
        CHECK_EQ_INT(domain_mode_from_string(NULL), _DOMAINS_MODE_INVALID);
        CHECK_EQ_STR(domain_mode_to_string(DOMAINS_AUTO), "auto");
}

int main(void)
{
        tmp = tmpdir_make();
        build_tree(tmp, true);
        test_names();
        test_sources();
        test_no_iomem_addresses();
        test_iomem();
        tmpdir_remove(tmp);
        return test_summary("test-domain");
}
