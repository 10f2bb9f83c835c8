/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain.h"
#include "fileio.h"
#include "roots.h"
#include "util.h"

static const char *const kind_names[_DOMAIN_KIND_MAX] = {
        [DOMAIN_BLOCK] = "block",
        [DOMAIN_REGION] = "region",
        [DOMAIN_NODE] = "node",
        [DOMAIN_DEVICE] = "device",
};

static const char *const mode_names[_DOMAINS_MODE_MAX] = {
        [DOMAINS_AUTO] = "auto",     [DOMAINS_NODE] = "node",   [DOMAINS_DEVICE] = "device",
        [DOMAINS_REGION] = "region", [DOMAINS_BLOCK] = "block",
};

const char *domain_kind_to_string(DomainKind k)
{
        if (k < 0 || k >= _DOMAIN_KIND_MAX)
                return NULL;
        return kind_names[k];
}

const char *domain_mode_to_string(DomainMode m)
{
        if (m < 0 || m >= _DOMAINS_MODE_MAX)
                return NULL;
        return mode_names[m];
}

DomainMode domain_mode_from_string(const char *s)
{
        if (!s)
                return _DOMAINS_MODE_INVALID;
        for (int i = 0; i < _DOMAINS_MODE_MAX; i++)
                if (strcmp(s, mode_names[i]) == 0)
                        return (DomainMode)i;
        return _DOMAINS_MODE_INVALID;
}

/* ---- Sources ---- */

void domain_sources_free(DomainSources *s)
{
        if (!s)
                return;
        free(s->devices);
        free(s->block_device);
        *s = (DomainSources){ 0 };
}

/* The device named name from source, added when new. Its index, or -ENOMEM. */
static int64_t device_get(DomainSources *s, const char *name, const char *source, bool ejectable)
{
        DomainDevice *d;

        /* blocks of one device are neighbours: the last one first */
        for (size_t i = s->n_devices; i > 0; i--)
                if (strcmp(s->devices[i - 1].name, name) == 0 &&
                    strcmp(s->devices[i - 1].source, source) == 0)
                        return (int64_t)(i - 1);
        d = reallocarray(s->devices, s->n_devices + 1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        s->devices = d;
        d = &s->devices[s->n_devices];
        *d = (DomainDevice){ .ejectable = ejectable };
        snprintf(d->name, sizeof(d->name), "%s", name);
        snprintf(d->source, sizeof(d->source), "%s", source);
        return (int64_t)s->n_devices++;
}

/* Every block of t starting in [start, end) without a device gets name. */
static int add_range(DomainSources *s, const BlockTable *t, uint64_t start, uint64_t end,
                     const char *name, const char *source)
{
        int64_t dev = -1;

        if (t->block_size_bytes == 0 || end <= start)
                return 0;
        for (size_t i = 0; i < t->n && i < s->n_blocks; i++) {
                uint64_t addr = (uint64_t)t->blocks[i].index * t->block_size_bytes;

                if (addr < start || addr >= end || s->block_device[i] != DOMAIN_NONE)
                        continue;
                if (dev < 0) {
                        dev = device_get(s, name, source, false);
                        if (dev < 0)
                                return (int)dev;
                }
                s->block_device[i] = (uint32_t)dev;
        }
        return 0;
}

static int add_firmware_nodes(DomainSources *s, const BlockTable *t, int sysfs_fd, int memdir_fd)
{
        for (size_t i = 0; i < t->n; i++) {
                char link[PATH_MAX], path[64], eject[DOMAIN_NAME_MAX + 40];
                const char *base;
                int64_t dev;
                ssize_t k;

                snprintf(path, sizeof(path), "memory%" PRIu32 "/firmware_node",
                         t->blocks[i].index);
                k = readlinkat(memdir_fd, path, link, sizeof(link) - 1);
                if (k <= 0)
                        continue; /* no ACPI device (or not readable) */
                link[k] = '\0';
                base = strrchr(link, '/');
                base = base ? base + 1 : link;
                if (strncmp(base, "PNP0C80:", 8) != 0 || strlen(base) >= DOMAIN_NAME_MAX)
                        continue; /* a firmware node that is not a memory device */
                snprintf(eject, sizeof(eject), "bus/acpi/devices/%s/eject", base);
                dev = device_get(s, base, "acpi", faccessat(sysfs_fd, eject, F_OK, 0) == 0);
                if (dev < 0)
                        return (int)dev;
                s->block_device[i] = (uint32_t)dev;
        }
        return 0;
}

/* bus/dax/devices/daxX.Y or bus/cxl/devices/regionN: resource and size
 * (hex or decimal, as the kernel prints them). */
static int add_bus_ranges(DomainSources *s, const BlockTable *t, int sysfs_fd, const char *bus,
                          const char *prefix, const char *source)
{
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(sysfs_fd, bus, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0; /* no such bus */
        d = fdopendir(fd);
        if (!d)
                return errno == ENOMEM ? -ENOMEM : 0;
        fd = -1; /* owned by d */
        while ((de = readdir(d))) {
                char path[300];
                uint64_t start, size;

                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
                    strlen(de->d_name) >= DOMAIN_NAME_MAX)
                        continue;
                snprintf(path, sizeof(path), "%s/resource", de->d_name);
                if (attr_read_u64_at(dirfd(d), path, 0, &start) < 0)
                        continue;
                snprintf(path, sizeof(path), "%s/size", de->d_name);
                if (attr_read_u64_at(dirfd(d), path, 0, &size) < 0 || size == 0)
                        continue;
                r = add_range(s, t, start, u64_add_sat(start, size), de->d_name, source);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

#define IOMEM_DEPTH_MAX 8

int domain_sources_add_iomem(DomainSources *s, const BlockTable *t, const char *text)
{
        char parents[IOMEM_DEPTH_MAX][DOMAIN_NAME_MAX];
        const char *p = text;

        memset(parents, 0, sizeof(parents));
        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char line[256], name[200];
                unsigned long long start, end;
                size_t indent = strspn(p, " "), depth = indent / 2, len = (size_t)(eol - p);
                int used = 0;

                if (len < sizeof(line)) {
                        memcpy(line, p, len);
                        line[len] = '\0';
                        if (sscanf(line, " %llx-%llx : %n", &start, &end, &used) == 2 && used > 0) {
                                snprintf(name, sizeof(name), "%s", line + used);
                                if (depth >= IOMEM_DEPTH_MAX)
                                        depth = IOMEM_DEPTH_MAX - 1;
                                snprintf(parents[depth], sizeof(parents[depth]), "%.*s",
                                         DOMAIN_NAME_MAX - 1, name);
                                for (size_t d = depth + 1; d < IOMEM_DEPTH_MAX; d++)
                                        parents[d][0] = '\0';
                                len = strlen(name);
                                if (strncmp(name, "System RAM (", 12) == 0 && len > 13 &&
                                    name[len - 1] == ')' && end > start) {
                                        const char *parent = NULL;
                                        char driver[16], dev[DOMAIN_NAME_MAX];
                                        int r;

                                        snprintf(driver, sizeof(driver), "%.*s", (int)(len - 13),
                                                 name + 12);
                                        /* the nearest range it sits in */
                                        for (size_t d = depth; d > 0 && !parent; d--)
                                                if (parents[d - 1][0])
                                                        parent = parents[d - 1];
                                        if (parent)
                                                snprintf(dev, sizeof(dev), "%s", parent);
                                        else
                                                snprintf(dev, sizeof(dev), "%s@0x%llx", driver,
                                                         start);
                                        r = add_range(s, t, start, (uint64_t)end + 1, dev, driver);
                                        if (r < 0)
                                                return r;
                                }
                        }
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}

int domain_sources_read(int sysfs_fd, int procfs_fd, const BlockTable *t, DomainSources *ret)
{
        DomainSources s = { 0 };
        _cleanup_close_ int memdir = -1;
        _cleanup_free_ char *iomem = NULL;
        int r;

        s.n_blocks = t->n;
        s.block_device = malloc((t->n ? t->n : 1) * sizeof(uint32_t));
        if (!s.block_device)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                s.block_device[i] = DOMAIN_NONE;

        memdir = memblock_open_dir(sysfs_fd);
        if (memdir >= 0) {
                r = add_firmware_nodes(&s, t, sysfs_fd, memdir);
                if (r < 0)
                        goto fail;
        }
        r = add_bus_ranges(&s, t, sysfs_fd, "bus/dax/devices", "dax", "dax");
        if (r < 0)
                goto fail;
        r = add_bus_ranges(&s, t, sysfs_fd, "bus/cxl/devices", "region", "cxl");
        if (r < 0)
                goto fail;
        /* Without root every address reads 0: nothing is found. */
        if (procfs_fd >= 0 && file_read_all_at(procfs_fd, "iomem", 16 << 20, &iomem, NULL) >= 0) {
                r = domain_sources_add_iomem(&s, t, iomem);
                if (r < 0)
                        goto fail;
        }
        *ret = s;
        return 0;
fail:
        domain_sources_free(&s);
        return r;
}

/* ---- Grouping ---- */

typedef struct Keyed {
        uint64_t kind, a, b; /* the domain's key */
        uint32_t index;      /* the block */
        int node;
} Keyed;

static bool key_equal(const Keyed *p, const Keyed *q)
{
        return p->kind == q->kind && p->a == q->a && p->b == q->b;
}

static int keyed_compare(const void *x, const void *y)
{
        const Keyed *p = x, *q = y;

        if (p->kind != q->kind)
                return p->kind < q->kind ? -1 : 1;
        if (p->a != q->a)
                return p->a < q->a ? -1 : 1;
        if (p->b != q->b)
                return p->b < q->b ? -1 : 1;
        return p->index < q->index ? -1 : p->index > q->index;
}

typedef struct Group {
        size_t first, n; /* in the sorted Keyed array */
        uint32_t lowest;
} Group;

static int group_compare(const void *x, const void *y)
{
        const Group *p = x, *q = y;

        return p->lowest < q->lowest ? -1 : p->lowest > q->lowest;
}

static int member_compare(const void *x, const void *y)
{
        const DomainMember *p = x, *q = y;

        return p->index < q->index ? -1 : p->index > q->index;
}

/* The key of block i, false when it is in no domain. */
static bool block_key(const DomainSources *src, const BlockTable *t, size_t i, DomainMode mode,
                      uint64_t region_bytes, Keyed *k)
{
        const MemBlock *b = &t->blocks[i];
        uint32_t dev = src && i < src->n_blocks ? src->block_device[i] : DOMAIN_NONE;

        *k = (Keyed){ .index = b->index, .node = b->node };
        if ((mode == DOMAINS_AUTO || mode == DOMAINS_DEVICE) && dev != DOMAIN_NONE) {
                k->kind = DOMAIN_DEVICE;
                k->a = dev;
                return true;
        }
        switch (mode) {
        case DOMAINS_AUTO:
        case DOMAINS_NODE:
                if (b->node < 0)
                        return false;
                k->kind = DOMAIN_NODE;
                k->a = (uint64_t)b->node;
                return true;
        case DOMAINS_REGION: {
                uint64_t addr = (uint64_t)b->index * t->block_size_bytes;

                if (b->node < 0)
                        return false;
                k->kind = DOMAIN_REGION;
                k->a = (uint64_t)b->node;
                k->b = region_bytes > t->block_size_bytes ? addr / region_bytes : b->index;
                return true;
        }
        case DOMAINS_BLOCK:
                k->kind = DOMAIN_BLOCK;
                k->a = b->index;
                return true;
        default:
                return false;
        }
}

static void domain_name(const DomainSources *src, const BlockTable *t, const Keyed *k,
                        uint64_t region_bytes, Domain *d)
{
        switch (k->kind) {
        case DOMAIN_DEVICE: {
                const DomainDevice *dev = &src->devices[k->a];

                snprintf(d->name, sizeof(d->name), "%s", dev->name);
                snprintf(d->source, sizeof(d->source), "%s", dev->source);
                d->ejectable = dev->ejectable;
                return;
        }
        case DOMAIN_NODE:
                snprintf(d->name, sizeof(d->name), "node%" PRIu64, k->a);
                break;
        case DOMAIN_REGION: {
                uint64_t start = region_bytes > t->block_size_bytes
                                         ? k->b * region_bytes
                                         : (uint64_t)k->index * t->block_size_bytes;

                snprintf(d->name, sizeof(d->name), "region@0x%" PRIx64, start);
                break;
        }
        default:
                snprintf(d->name, sizeof(d->name), "memory%" PRIu64, k->a);
                break;
        }
        snprintf(d->source, sizeof(d->source), "%s", domain_kind_to_string((DomainKind)k->kind));
}

void domain_table_free(DomainTable *dt)
{
        if (!dt)
                return;
        free(dt->domains);
        free(dt->members);
        free(dt->by_index);
        *dt = (DomainTable){ 0 };
}

int domain_group(const DomainSources *src, const BlockTable *t, DomainMode mode,
                 uint64_t region_bytes, DomainTable *ret)
{
        _cleanup_free_ Keyed *keys = NULL;
        _cleanup_free_ Group *groups = NULL;
        DomainTable dt = { .mode = mode, .region_bytes = region_bytes,
                           .block_size_bytes = t->block_size_bytes };
        size_t n_keys = 0, n_groups = 0, m = 0;

        if (mode < 0 || mode >= _DOMAINS_MODE_MAX || (src && src->n_blocks != t->n))
                return -EINVAL;
        keys = malloc((t->n ? t->n : 1) * sizeof(*keys));
        groups = malloc((t->n ? t->n : 1) * sizeof(*groups));
        dt.members = malloc((t->n ? t->n : 1) * sizeof(uint32_t));
        dt.by_index = malloc((t->n ? t->n : 1) * sizeof(DomainMember));
        if (!keys || !groups || !dt.members || !dt.by_index)
                goto oom;

        for (size_t i = 0; i < t->n; i++)
                if (block_key(src, t, i, mode, region_bytes, &keys[n_keys]))
                        n_keys++;
        qsort(keys, n_keys, sizeof(*keys), keyed_compare);
        for (size_t i = 0; i < n_keys; i++) {
                if (i == 0 || !key_equal(&keys[i - 1], &keys[i]))
                        groups[n_groups++] = (Group){ .first = i, .lowest = keys[i].index };
                groups[n_groups - 1].n++;
        }
        qsort(groups, n_groups, sizeof(*groups), group_compare);

        dt.domains = calloc(n_groups ? n_groups : 1, sizeof(Domain));
        if (!dt.domains)
                goto oom;
        for (size_t g = 0; g < n_groups; g++) {
                Domain *d = &dt.domains[g];
                const Keyed *k0 = &keys[groups[g].first];

                *d = (Domain){
                        .id = (uint32_t)g,
                        .kind = (DomainKind)k0->kind,
                        .node = k0->node,
                        .first = m,
                        .n_blocks = groups[g].n,
                };
                domain_name(src, t, k0, region_bytes, d);
                for (size_t j = 0; j < groups[g].n; j++) {
                        const Keyed *k = &keys[groups[g].first + j];

                        if (k->node != d->node)
                                d->node = -1;
                        dt.by_index[m] = (DomainMember){ .index = k->index, .domain = (uint32_t)g };
                        dt.members[m++] = k->index;
                }
        }
        dt.n = n_groups;
        dt.n_members = m;
        qsort(dt.by_index, m, sizeof(DomainMember), member_compare);

        domain_table_free(ret);
        *ret = dt;
        return 0;
oom:
        domain_table_free(&dt);
        return -ENOMEM;
}

uint32_t domain_of(const DomainTable *dt, uint32_t index)
{
        size_t lo = 0, hi = dt ? dt->n_members : 0;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (dt->by_index[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (dt && lo < dt->n_members && dt->by_index[lo].index == index)
                return dt->by_index[lo].domain;
        return DOMAIN_NONE;
}

const char *domain_name_of(const DomainTable *dt, uint32_t index)
{
        uint32_t id = domain_of(dt, index);

        return id != DOMAIN_NONE && id < dt->n ? dt->domains[id].name : "";
}

static const MemBlock *lookup(const MemBlock *blocks, size_t n, uint32_t index)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (blocks[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && blocks[lo].index == index ? &blocks[lo] : NULL;
}

static void stat_add(DomainStat *s, const MemBlock *b)
{
        if (b->state == BLOCK_OFFLINE) {
                s->offline++;
                if (b->track.owned)
                        s->owned++;
                return;
        }
        s->online++;
        if (b->was_empty)
                s->empty_before++;
        if (b->usage_valid) {
                s->counted++;
                page_usage_add(&s->usage, &b->usage);
        }
}

void domain_stat(const DomainTable *dt, const Domain *d, const MemBlock *blocks, size_t n_blocks,
                 DomainStat *ret)
{
        *ret = (DomainStat){ 0 };
        for (size_t j = 0; j < d->n_blocks; j++) {
                const MemBlock *b = lookup(blocks, n_blocks, dt->members[d->first + j]);

                if (b)
                        stat_add(ret, b);
                else
                        ret->missing++;
        }
}

void domain_stats_compute(const DomainTable *dt, const MemBlock *blocks, size_t n_blocks,
                          DomainStat *ret)
{
        size_t k = 0;

        for (size_t i = 0; i < dt->n; i++)
                ret[i] = (DomainStat){ .missing = dt->domains[i].n_blocks };
        /* both sorted by index: one merge */
        for (size_t i = 0; i < n_blocks; i++) {
                while (k < dt->n_members && dt->by_index[k].index < blocks[i].index)
                        k++;
                if (k == dt->n_members)
                        break;
                if (dt->by_index[k].index != blocks[i].index)
                        continue;
                ret[dt->by_index[k].domain].missing--;
                stat_add(&ret[dt->by_index[k].domain], &blocks[i]);
        }
}
