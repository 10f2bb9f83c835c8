/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The two kernel file systems mempowerd reads, opened once as directory fds.
 * This is the only module that knows their default locations: everything
 * else opens relative to these fds, so tests point the whole daemon at fake
 * trees by passing other paths. */

typedef struct Roots {
        int sysfs_fd;  /* "/sys" or a fake tree standing in for it */
        int procfs_fd; /* "/proc" or a fake tree */
        char *sysfs_path;
        char *procfs_path;
} Roots;

#define ROOTS_NULL ((Roots){ .sysfs_fd = -1, .procfs_fd = -1 })

/* Environment variables consulted by roots_resolve() when no path is given. */
#define ROOTS_ENV_SYSFS  "MEMPOWERD_SYSFS_ROOT"
#define ROOTS_ENV_PROCFS "MEMPOWERD_PROCFS_ROOT"

const char *roots_default_sysfs(void);
const char *roots_default_procfs(void);

/* Open both roots. NULL means: the environment variable, else the default. */
int roots_open(const char *sysfs, const char *procfs, Roots *ret);
void roots_close(Roots *r);

/* Paths of the directories below the roots, relative to them. */
#define ROOTS_MEMORY_DIR "devices/system/memory"
#define ROOTS_NODE_DIR   "devices/system/node"
