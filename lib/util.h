/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small helpers shared by the library, the daemon and the tests: cleanup
 * attributes, array sizes, clocks. Nothing here does I/O. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL
#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL

/* A clock's reading in ns: CLOCK_MONOTONIC for time, CLOCK_PROCESS_CPUTIME_ID
 * for CPU spent. */
static inline uint64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in µs: the planner's clock. */
static inline uint64_t now_usec(void)
{
        return clock_ns(CLOCK_MONOTONIC) / NSEC_PER_USEC;
}

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

#define _cleanup_(x)     __attribute__((cleanup(x)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand a cleanup-managed value over to the caller. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _fd;                                                                               \
        })

static inline uint64_t u64_min(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static inline uint64_t u64_max(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t u64_add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* a - b, or 0 when b > a. */
static inline uint64_t u64_sub_sat(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}
