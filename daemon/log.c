/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static int prefix_mode = -1;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_prefix(int mode)
{
        prefix_mode = mode;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
        int saved = errno;
        int e = error < 0 ? -error : error;
        char msg[2048];
        va_list ap;
        bool prefix;

        if (level > max_level)
                return -e;
        prefix = prefix_mode < 0 ? !isatty(STDERR_FILENO) : prefix_mode;
        /* %m means the error passed in, not whatever errno is now. */
        errno = e;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (prefix)
                fprintf(stderr, "<%d>%s\n", level, msg);
        else if (level == LOG_DEBUG)
                fprintf(stderr, "%s:%d: %s\n", file, line, msg);
        else
                fprintf(stderr, "%s\n", msg);
        errno = saved;
        return -e;
}
