/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roots.h"
#include "util.h"

const char *roots_default_sysfs(void)
{
        return "/sys";
}

const char *roots_default_procfs(void)
{
        return "/proc";
}

static const char *pick(const char *given, const char *env, const char *fallback)
{
        const char *e;

        if (given)
                return given;
        e = getenv(env);
        if (e && *e)
                return e;
        return fallback;
}

int roots_open(const char *sysfs, const char *procfs, Roots *ret)
{
        Roots r = ROOTS_NULL;
        const char *s = pick(sysfs, ROOTS_ENV_SYSFS, roots_default_sysfs());
        const char *p = pick(procfs, ROOTS_ENV_PROCFS, roots_default_procfs());
        int err;

        r.sysfs_fd = open(s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.sysfs_fd < 0)
                return -errno;
        r.procfs_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.procfs_fd < 0) {
                err = -errno;
                roots_close(&r);
                return err;
        }
        r.sysfs_path = strdup(s);
        r.procfs_path = strdup(p);
        if (!r.sysfs_path || !r.procfs_path) {
                roots_close(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

void roots_close(Roots *r)
{
        if (!r)
                return;
        if (r->sysfs_fd >= 0)
                close(r->sysfs_fd);
        if (r->procfs_fd >= 0)
                close(r->procfs_fd);
        free(r->sysfs_path);
        free(r->procfs_path);
        *r = ROOTS_NULL;
}
