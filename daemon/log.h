/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging. Under systemd, when stderr is the journal's stream
 * ($JOURNAL_STREAM names it), every message goes to the journal through
 * sd-journal with its priority and, for messages about a block, structured
 * fields: MEMPOWERD_BLOCK= (the index), MEMPOWERD_REASON= (why: "handshake",
 * "sweep", "pressure", ...). Elsewhere messages go to stderr, with sd-daemon
 * "<N>" priority prefixes when stderr is not a terminal. */

#include <errno.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_NO_BLOCK UINT32_MAX

void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefixes are printed when stderr is not a terminal, or when forced. */
void log_set_prefix(int mode); /* -1 auto, 0 never, 1 always */

/* Log; %m is strerror(error) when error != 0. Returns -abs(error). block
 * (LOG_NO_BLOCK: none) and reason (NULL: none) become journal fields. */
int log_internal(int level, int error, uint32_t block, const char *reason, const char *file,
                 int line, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#define log_full_errno(level, error, ...)                                                          \
        log_internal(level, error, LOG_NO_BLOCK, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)   (void)log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    (void)log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  (void)log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) (void)log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   (void)log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* A message about one block, with the reason as a field. */
#define log_block(level, block, reason, ...)                                                       \
        (void)log_internal(level, 0, block, reason, __FILE__, __LINE__, __VA_ARGS__)
#define log_block_errno(level, error, block, reason, ...)                                          \
        log_internal(level, error, block, reason, __FILE__, __LINE__, __VA_ARGS__)

/* The one out-of-memory message: logs and returns -ENOMEM. */
#define log_oom() log_error_errno(-ENOMEM, "Out of memory")
