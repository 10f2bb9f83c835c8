/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "memblock.h"
#include "roots.h"
#include "util.h"

static const char *const block_state_table[_BLOCK_STATE_MAX] = {
        [BLOCK_ONLINE] = "online",
        [BLOCK_OFFLINE] = "offline",
        [BLOCK_GOING_OFFLINE] = "going-offline",
};

const char *block_state_to_string(BlockState s)
{
        if (s < 0 || s >= _BLOCK_STATE_MAX)
                return NULL;
        return block_state_table[s];
}

BlockState block_state_from_string(const char *s)
{
        if (!s)
                return _BLOCK_STATE_INVALID;
        for (int i = 0; i < _BLOCK_STATE_MAX; i++)
                if (strcmp(s, block_state_table[i]) == 0)
                        return (BlockState)i;
        return _BLOCK_STATE_INVALID;
}

static const struct {
        const char *name;
        unsigned bit;
} zone_names[] = {
        { "DMA", ZONE_DMA_BIT },       { "DMA32", ZONE_DMA32_BIT },
        { "Normal", ZONE_NORMAL_BIT }, { "Movable", ZONE_MOVABLE_BIT },
        { "Device", ZONE_DEVICE_BIT },
};

int zones_from_string(const char *s, unsigned *ret)
{
        unsigned zones = 0;
        size_t words = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "none") == 0) {
                *ret = 0;
                return 0;
        }
        while (*p) {
                size_t len;
                bool known = false;

                p += strspn(p, " \t");
                len = strcspn(p, " \t");
                if (len == 0)
                        break;
                words++;
                for (size_t i = 0; i < ELEMENTSOF(zone_names); i++)
                        if (strlen(zone_names[i].name) == len &&
                            strncmp(p, zone_names[i].name, len) == 0) {
                                zones |= zone_names[i].bit;
                                known = true;
                        }
                if (!known)
                        zones |= ZONE_OTHER_BIT;
                p += len;
        }
        if (words == 0)
                return -EINVAL;
        *ret = zones;
        return 0;
}

const char *zones_to_string(unsigned zones, char *buf, size_t size)
{
        size_t used = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (zones == 0) {
                snprintf(buf, size, "none");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(zone_names); i++) {
                if (!(zones & zone_names[i].bit))
                        continue;
                int n = snprintf(buf + used, size - used, "%s%s", used ? " " : "",
                                 zone_names[i].name);
                if (n < 0 || (size_t)n >= size - used)
                        return buf;
                used += (size_t)n;
        }
        if (zones & ZONE_OTHER_BIT)
                snprintf(buf + used, size - used, "%sother", used ? " " : "");
        return buf;
}

int memblock_open_dir(int sysfs_fd)
{
        int fd = openat(sysfs_fd, ROOTS_MEMORY_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

int memblock_read_block_size(int memdir_fd, uint64_t *ret)
{
        uint64_t v;
        int r;

        r = attr_read_u64_at(memdir_fd, "block_size_bytes", 16, &v);
        if (r < 0)
                return r == -EINVAL || r == -ERANGE ? -EBADMSG : r;
        /* A block is a whole number of sections; anything not a multiple of
         * the page size, or absurdly small, is not a kernel value. */
        if (v < 4096 || v % 4096 != 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* The node a block belongs to is only visible as a "nodeN" link in its
 * directory. */
static int block_find_node(int blockdir_fd, int *ret)
{
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int node = -1;

        fd = openat(blockdir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        while ((de = readdir(d))) {
                uint64_t n;

                if (strncmp(de->d_name, "node", 4) != 0)
                        continue;
                if (parse_u64(de->d_name + 4, 10, &n) < 0 || n > 4095)
                        continue;
                node = (int)n;
                break;
        }
        closedir(d);
        *ret = node;
        return 0;
}

static int map_parse_error(int r)
{
        return r == -EINVAL || r == -ERANGE || r == -EFBIG ? -EBADMSG : r;
}

int memblock_read(int memdir_fd, uint32_t index, uint64_t pages_per_block, MemBlock *ret)
{
        _cleanup_close_ int fd = -1;
        char name[32], buf[128];
        MemBlock b = { .index = index, .node = -1 };
        uint64_t v;
        int r;

        snprintf(name, sizeof(name), "memory%" PRIu32, index);
        fd = openat(memdir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;

        r = attr_read_at(fd, "state", buf, sizeof(buf));
        if (r < 0)
                return map_parse_error(r);
        b.state = block_state_from_string(buf);
        if (b.state < 0)
                return -EBADMSG;

        /* phys_index is the first section of the block (hex); cross-check it
         * against the directory name rather than trusting either blindly. */
        r = attr_read_u64_at(fd, "phys_index", 16, &v);
        if (r < 0)
                return map_parse_error(r);
        if (v != index)
                return -EBADMSG;
        b.start_pfn = (uint64_t)index * pages_per_block;

        r = attr_read_u64_at(fd, "removable", 10, &v);
        b.removable = r >= 0 && v == 1;

        r = block_find_node(fd, &b.node);
        if (r < 0)
                return r;

        /* A block just hot-added has no node yet when its "add" uevent
         * arrives, and reading valid_zones then crashes 6.1 kernels
         * (zone_for_pfn_range with NUMA_NO_NODE). The node link is made after
         * the node is set, so without it the zones are left unknown (0, never
         * touched) until the block is read again. */
        if (b.node < 0 && b.state == BLOCK_OFFLINE) {
                b.zones = 0;
                *ret = b;
                return 0;
        }
        /* valid_zones appeared in 4.5 and is absent where a block spans
         * nodes on some kernels: treat absent as "none" (never touched). */
        r = attr_read_at(fd, "valid_zones", buf, sizeof(buf));
        if (r == -ENOENT)
                b.zones = 0;
        else if (r < 0)
                return map_parse_error(r);
        else if (zones_from_string(buf, &b.zones) < 0)
                return -EBADMSG;

        *ret = b;
        return 0;
}

int memblock_parse_name(const char *name, uint32_t *ret)
{
        uint64_t v;

        if (strncmp(name, "memory", 6) != 0)
                return -EINVAL;
        /* reject "memory", "memory+1", "memory 1" and leading zeros */
        if (name[6] < '0' || name[6] > '9' || (name[6] == '0' && name[7] != '\0'))
                return -EINVAL;
        for (const char *p = name + 6; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        if (parse_u64(name + 6, 10, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int blocktable_reserve(BlockTable *t, size_t want)
{
        MemBlock *n;
        size_t cap;

        if (want <= t->cap)
                return 0;
        cap = t->cap ? t->cap * 2 : 64;
        while (cap < want)
                cap *= 2;
        n = realloc(t->blocks, cap * sizeof(*n));
        if (!n)
                return -ENOMEM;
        t->blocks = n;
        t->cap = cap;
        return 0;
}

/* Binary search: position of index, or where it would be inserted. */
static size_t blocktable_pos(const BlockTable *t, uint32_t index)
{
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (t->blocks[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

MemBlock *blocktable_find(const BlockTable *t, uint32_t index)
{
        size_t pos = blocktable_pos(t, index);

        if (pos < t->n && t->blocks[pos].index == index)
                return &t->blocks[pos];
        return NULL;
}

MemBlock *blocktable_find_from(const BlockTable *t, uint64_t index)
{
        size_t pos;

        if (index > UINT32_MAX)
                return NULL;
        pos = blocktable_pos(t, (uint32_t)index);
        return pos < t->n ? &t->blocks[pos] : NULL;
}

int blocktable_insert(BlockTable *t, const MemBlock *b)
{
        size_t pos = blocktable_pos(t, b->index);
        int r;

        if (pos < t->n && t->blocks[pos].index == b->index) {
                t->blocks[pos] = *b;
                return 0;
        }
        r = blocktable_reserve(t, t->n + 1);
        if (r < 0)
                return r;
        memmove(&t->blocks[pos + 1], &t->blocks[pos], (t->n - pos) * sizeof(MemBlock));
        t->blocks[pos] = *b;
        t->n++;
        return 0;
}

bool blocktable_remove(BlockTable *t, uint32_t index)
{
        size_t pos = blocktable_pos(t, index);

        if (pos >= t->n || t->blocks[pos].index != index)
                return false;
        memmove(&t->blocks[pos], &t->blocks[pos + 1], (t->n - pos - 1) * sizeof(MemBlock));
        t->n--;
        return true;
}

void blocktable_clear(BlockTable *t)
{
        if (!t)
                return;
        free(t->blocks);
        *t = (BlockTable){ 0 };
}

int blocktable_load(int memdir_fd, BlockTable *ret, uint32_t *ret_bad_index)
{
        BlockTable t = { 0 };
        _cleanup_close_ int fd = -1;
        struct dirent *de;
        DIR *d;
        int r;

        r = memblock_read_block_size(memdir_fd, &t.block_size_bytes);
        if (r < 0)
                return r;
        t.pages_per_block = t.block_size_bytes / (uint64_t)sysconf(_SC_PAGESIZE);

        fd = openat(memdir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;

        r = 0;
        while ((de = readdir(d))) {
                MemBlock b;
                uint32_t index;

                if (memblock_parse_name(de->d_name, &index) < 0)
                        continue;
                r = memblock_read(memdir_fd, index, t.pages_per_block, &b);
                if (r == -ENOENT) {
                        /* removed while we were listing */
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        if (ret_bad_index)
                                *ret_bad_index = index;
                        break;
                }
                r = blocktable_insert(&t, &b);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0) {
                blocktable_clear(&t);
                return r;
        }
        blocktable_clear(ret);
        *ret = t;
        return 0;
}

/* What of old survives in fresh, a new reading of the same block. */
static void memblock_carry(MemBlock *fresh, const MemBlock *old)
{
        if (old->state == fresh->state && old->zones == fresh->zones && old->node == fresh->node) {
                bool removable = fresh->removable;

                *fresh = *old;
                fresh->removable = removable;
                return;
        }
        fresh->track = old->track;
}

int blocktable_update(BlockTable *t, const MemBlock *fresh)
{
        MemBlock b = *fresh, *old = blocktable_find(t, fresh->index);

        if (old) {
                memblock_carry(&b, old);
                *old = b;
                return 0;
        }
        return blocktable_insert(t, &b);
}

void blocktable_carry(BlockTable *fresh, const BlockTable *old)
{
        for (size_t i = 0; i < fresh->n; i++) {
                const MemBlock *ob = blocktable_find(old, fresh->blocks[i].index);

                if (ob)
                        memblock_carry(&fresh->blocks[i], ob);
        }
}

int blocktable_refresh(BlockTable *t, int memdir_fd, uint32_t index, bool *ret_removed)
{
        MemBlock b;
        int r;

        r = memblock_read(memdir_fd, index, t->pages_per_block, &b);
        if (r == -ENOENT) {
                bool removed = blocktable_remove(t, index);
                if (ret_removed)
                        *ret_removed = removed;
                return 0;
        }
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = false;
        return blocktable_update(t, &b);
}

int memblock_write_state(int memdir_fd, uint32_t index, const char *word, BlockState *ret_now)
{
        char path[64], buf[64];
        int r, rr;

        snprintf(path, sizeof(path), "memory%" PRIu32 "/state", index);
        r = attr_write_at(memdir_fd, path, word);
        /* Read back whatever happened: a failed write may still have raced
         * with another agent, and a successful one is verified, not assumed. */
        rr = attr_read_at(memdir_fd, path, buf, sizeof(buf));
        if (rr >= 0 && ret_now)
                *ret_now = block_state_from_string(buf);
        if (r < 0)
                return r;
        return rr < 0 ? rr : 0;
}
