/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "ratelimit.h"
#include "util.h"

static int max_level = LOG_INFO;
static int journal_mode = -1; /* -1 not decided yet, 0 stderr, 1 journal */
static LogDomainLookup domain_lookup;
static void *domain_userdata;
static RateLimitTable ratelimit = {
        .interval_usec = LOG_RATELIMIT_INTERVAL_USEC,
        .burst = LOG_RATELIMIT_BURST,
};

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_domain_lookup(LogDomainLookup lookup, void *userdata)
{
        domain_lookup = lookup;
        domain_userdata = userdata;
}

/* Is stderr the stream systemd connected to the journal? */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int journal_send(int level, int error, const LogFields *fl, const char *domain,
                        const char *file, int line, const char *msg)
{
        char f_msg[2200], f_prio[32], f_file[256], f_line[32], f_errno[32], f_block[48],
                f_reason[96], f_domain[96], f_id[64];
        struct iovec iov[10];
        int n = 0;

#define ADD(buf, ...)                                                                              \
        do {                                                                                       \
                int _l = snprintf(buf, sizeof(buf), __VA_ARGS__);                                  \
                iov[n++] = (struct iovec){ buf, (size_t)_l < sizeof(buf) ? (size_t)_l : sizeof(buf) - 1 }; \
        } while (0)
        ADD(f_msg, "MESSAGE=%s", msg);
        ADD(f_prio, "PRIORITY=%d", level);
        ADD(f_file, "CODE_FILE=%s", file);
        ADD(f_line, "CODE_LINE=%d", line);
        if (error)
                ADD(f_errno, "ERRNO=%d", error);
        if (fl && fl->message_id)
                ADD(f_id, "MESSAGE_ID=%s", fl->message_id);
        if (fl && fl->block != LOG_NO_BLOCK)
                ADD(f_block, "MEMPOWERD_BLOCK=%" PRIu32, fl->block);
        if (fl && fl->reason)
                ADD(f_reason, "MEMPOWERD_REASON=%s", fl->reason);
        if (domain)
                ADD(f_domain, "MEMPOWERD_DOMAIN=%s", domain);
#undef ADD
        iov[n++] = (struct iovec){ (void *)"SYSLOG_IDENTIFIER=mempowerd",
                                   strlen("SYSLOG_IDENTIFIER=mempowerd") };
        return sd_journal_sendv(iov, n);
}

int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *fmt, ...)
{
        int saved = errno;
        int e = error < 0 ? -error : error;
        uint32_t block = fields ? fields->block : LOG_NO_BLOCK;
        const char *domain = NULL;
        unsigned held = 0;
        char msg[2100];
        va_list ap;
        size_t len;

        if (level > max_level)
                return -e;
        /* Catalogued events (a block offline or online, pressure, a failed
         * evacuation, a rejected configuration) are the record operators
         * search: never held back. Their numbers are bounded by the events. */
        if (level != LOG_DEBUG && !(fields && fields->message_id) &&
            !ratelimit_check(&ratelimit, ratelimit_key(file, line, block), now_usec(), &held))
                return -e;
        if (journal_mode < 0)
                journal_mode = stderr_is_journal();
        /* %m means the error passed in, not whatever errno is now. */
        errno = e;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg) - 64, fmt, ap);
        va_end(ap);
        len = strlen(msg);
        if (held > 0)
                snprintf(msg + len, sizeof(msg) - len, " (%u similar messages suppressed)", held);
        if (block != LOG_NO_BLOCK && domain_lookup)
                domain = domain_lookup(block, domain_userdata);
        if (journal_mode && journal_send(level, e, fields, domain, file, line, msg) >= 0) {
                errno = saved;
                return -e;
        }
        if (journal_mode)
                fprintf(stderr, "<%d>%s\n", level, msg); /* journald reads the prefix */
        else if (level == LOG_DEBUG)
                fprintf(stderr, "%s:%d: %s\n", file, line, msg);
        else
                fprintf(stderr, "%s\n", msg);
        errno = saved;
        return -e;
}
