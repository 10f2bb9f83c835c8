/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging. Under systemd, when stderr is the journal's stream
 * ($JOURNAL_STREAM names it), every message goes to the journal through
 * sd-journal with its priority and structured fields: MESSAGE_ID= for the
 * events catalogued in catalog/mempowerd.catalog, and for messages about a
 * block MEMPOWERD_BLOCK= (the index), MEMPOWERD_DOMAIN= (its power domain)
 * and MEMPOWERD_REASON= (why: "handshake", "sweep", "pressure", ...).
 * Should sd-journal fail, the message goes to that stream with an sd-daemon
 * "<N>" priority prefix, which journald reads. Elsewhere (a terminal, a
 * pipe, a file) messages are plain lines on stderr.
 *
 * Repeated messages are rate limited: at most LOG_RATELIMIT_BURST per
 * LOG_RATELIMIT_INTERVAL_USEC from one call site about one block; the next
 * message that goes out says how many were held back. Debug messages and
 * catalogued events (MESSAGE_ID=) are not limited. */

#include <errno.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_NO_BLOCK UINT32_MAX

#define LOG_RATELIMIT_BURST         10
#define LOG_RATELIMIT_INTERVAL_USEC (60ULL * 1000000ULL)

/* MESSAGE_ID= of the catalogued events (catalog/mempowerd.catalog). */
#define MEMPOWERD_MESSAGE_OFFLINED          "6b6869c17c3f49d48aa2882c3ece93a9"
#define MEMPOWERD_MESSAGE_ONLINED           "9fad0147a504403cacb5de852769807e"
#define MEMPOWERD_MESSAGE_EVACUATION_FAILED "e7756c4064744db39057ae425cc22d9e"
#define MEMPOWERD_MESSAGE_PRESSURE          "ec3827abbfdc46279546da092105373c"
#define MEMPOWERD_MESSAGE_CONFIG_REJECTED   "f87e232371d346ff92ccee7dc088d3c9"
#define MEMPOWERD_MESSAGE_HOLDERS           "ba2c1f13481f410e95da39810b1e69d2"

void log_set_max_level(int level);
int log_get_max_level(void);

/* The power domain of a block, for MEMPOWERD_DOMAIN=: NULL when none. */
typedef const char *(*LogDomainLookup)(uint32_t block, void *userdata);
void log_set_domain_lookup(LogDomainLookup lookup, void *userdata);

typedef struct LogFields {
        const char *message_id; /* NULL: none */
        uint32_t block;         /* LOG_NO_BLOCK: none */
        const char *reason;     /* NULL: none */
} LogFields;

/* Log; %m is strerror(error) when error != 0. Returns -abs(error). */
int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define log_full_errno(level, error, ...)                                                          \
        log_internal(level, error, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)   (void)log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    (void)log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  (void)log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) (void)log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   (void)log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* A catalogued event (MESSAGE_ID=), about a block or not (LOG_NO_BLOCK). */
#define log_event_errno(level, error, id, block, reason, ...)                                      \
        log_internal(level, error, &(const LogFields){ id, block, reason }, __FILE__, __LINE__,    \
                     __VA_ARGS__)
#define log_event(level, id, block, reason, ...)                                                   \
        (void)log_event_errno(level, 0, id, block, reason, __VA_ARGS__)

/* A message about one block, with the reason as a field. */
#define log_block(level, block, reason, ...) log_event(level, NULL, block, reason, __VA_ARGS__)
#define log_block_errno(level, error, block, reason, ...)                                          \
        log_event_errno(level, error, NULL, block, reason, __VA_ARGS__)

/* The one out-of-memory message: logs and returns -ENOMEM. */
#define log_oom() log_error_errno(-ENOMEM, "Out of memory")
