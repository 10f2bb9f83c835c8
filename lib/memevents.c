/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>

#include "fileio.h"
#include "memblock.h"
#include "memevents.h"
#include "util.h"

struct MemEvents {
        struct udev *udev;
        struct udev_monitor *monitor;
};

static const char *const action_table[_MEMEVENT_ACTION_MAX] = {
        [MEMEVENT_ADD] = "add",
        [MEMEVENT_REMOVE] = "remove",
        [MEMEVENT_ONLINE] = "online",
        [MEMEVENT_OFFLINE] = "offline",
        [MEMEVENT_OTHER] = "other",
};

MemEventAction memevent_action_from_string(const char *s)
{
        if (!s)
                return _MEMEVENT_ACTION_INVALID;
        for (int i = 0; i < MEMEVENT_OTHER; i++)
                if (strcmp(s, action_table[i]) == 0)
                        return (MemEventAction)i;
        return MEMEVENT_OTHER;
}

const char *memevent_action_to_string(MemEventAction a)
{
        if (a < 0 || a >= _MEMEVENT_ACTION_MAX)
                return NULL;
        return action_table[a];
}

int memevent_parse_index(const char *s, uint32_t *ret)
{
        const char *name;

        if (!s)
                return -EINVAL;
        name = strrchr(s, '/');
        return memblock_parse_name(name ? name + 1 : s, ret);
}

MemEvents *memevents_free(MemEvents *m)
{
        if (!m)
                return NULL;
        udev_monitor_unref(m->monitor);
        udev_unref(m->udev);
        free(m);
        return NULL;
}

int memevents_open(MemEvents **ret)
{
        MemEvents *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->udev = udev_new();
        if (!m->udev) {
                r = -errno ? -errno : -ENOMEM;
                goto fail;
        }
        /* "kernel" events come straight from the kernel; "udev" ones only
         * after udevd processed them, and not at all where it does not run. */
        m->monitor = udev_monitor_new_from_netlink(m->udev, "kernel");
        if (!m->monitor) {
                r = errno ? -errno : -EIO;
                goto fail;
        }
        r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "memory", NULL);
        if (r < 0)
                goto fail;
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        memevents_free(m);
        return r < 0 ? r : -EIO;
}

int memevents_get_fd(const MemEvents *m)
{
        return udev_monitor_get_fd(m->monitor);
}

int memevents_receive(MemEvents *m, MemEvent *ret)
{
        struct udev_device *d;
        MemEvent e = { 0 };
        int r;

        errno = 0;
        d = udev_monitor_receive_device(m->monitor);
        if (!d)
                return errno == EAGAIN || errno == 0 ? 0 : -errno;
        e.action = memevent_action_from_string(udev_device_get_action(d));
        e.seqnum = udev_device_get_seqnum(d);
        r = memevent_parse_index(udev_device_get_sysname(d), &e.index);
        udev_device_unref(d);
        if (r < 0 || e.action < 0)
                return 0; /* "memory" subsystem but not a block (e.g. the root) */
        *ret = e;
        return 1;
}
