/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging to stderr with sd-daemon "<N>" priority prefixes, so the journal
 * keeps each line's level when mempowerd runs under systemd. */

#include <errno.h>
#include <syslog.h>

void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefixes are printed when stderr is not a terminal, or when forced. */
void log_set_prefix(int mode); /* -1 auto, 0 never, 1 always */

/* Log; %m is strerror(error) when error != 0. Returns -abs(error). */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

#define log_full_errno(level, error, ...) log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)   (void)log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    (void)log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  (void)log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) (void)log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   (void)log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
