/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "memblock.h"
#include "runstate.h"
#include "util.h"

void runstate_free(RunState *s)
{
        if (!s)
                return;
        free(s->blocks);
        *s = (RunState){ 0 };
}

int runstate_add(RunState *s, uint32_t index, unsigned zones)
{
        RunStateBlock *n;

        for (size_t i = 0; i < s->n_blocks; i++)
                if (s->blocks[i].index == index) {
                        s->blocks[i].zones = zones;
                        return 0;
                }
        n = realloc(s->blocks, (s->n_blocks + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->blocks = n;
        s->blocks[s->n_blocks++] = (RunStateBlock){ .index = index, .zones = zones };
        return 0;
}

/* Split the line [p, end) into up to max words (NUL-terminated copies in
 * words); returns how many, or -1 when there are more or they do not fit
 * (words[0] is then what fitted of the first). */
static int split(const char *p, const char *end, char words[][64], int max)
{
        int n = 0;

        words[0][0] = '\0';
        for (;;) {
                size_t len = 0;

                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if (p >= end || *p == '#')
                        return n;
                if (n == max)
                        return -1;
                while (p < end && *p != ' ' && *p != '\t') {
                        if (len + 1 >= sizeof(words[0])) {
                                words[n][len] = '\0';
                                return -1;
                        }
                        words[n][len++] = *p++;
                }
                words[n++][len] = '\0';
        }
}

static bool boot_id_valid(const char *s)
{
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}

int runstate_parse(const char *text, RunState *ret, unsigned *ret_line)
{
        RunState s = { 0 };
        const char *line = text;
        unsigned lineno = 0;
        int r = 0;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                const char *end = eol ? eol : line + strlen(line);
                char w[4][64];
                int n;

                lineno++;
                n = split(line, end, w, 4);
                line = eol ? eol + 1 : NULL;
                if (n == 0)
                        continue;
                if (n < 0) {
                        /* too many words, or too long: fatal for our own keywords */
                        if (strcmp(w[0], "boot-id") == 0 || strcmp(w[0], "offline") == 0) {
                                r = -EBADMSG;
                                break;
                        }
                        continue;
                }
                if (strcmp(w[0], "boot-id") == 0) {
                        if (n != 2 || !boot_id_valid(w[1])) {
                                r = -EBADMSG;
                                break;
                        }
                        snprintf(s.boot_id, sizeof(s.boot_id), "%s", w[1]);
                } else if (strcmp(w[0], "offline") == 0) {
                        uint32_t index;
                        unsigned zones = 0;
                        uint64_t v;

                        if (n != 3 || parse_u64(w[1], 10, &v) < 0 || v > UINT32_MAX) {
                                r = -EBADMSG;
                                break;
                        }
                        index = (uint32_t)v;
                        if (strcmp(w[2], "-") != 0 &&
                            (zones_from_string(w[2], &zones) < 0 || zones == 0 ||
                             (zones & (zones - 1)) != 0 || (zones & ZONE_OTHER_BIT))) {
                                r = -EBADMSG;
                                break;
                        }
                        r = runstate_add(&s, index, zones);
                        if (r < 0)
                                break;
                } else if (strcmp(w[0], "energy") == 0) {
                        double v[3];
                        bool ok = n == 4;

                        for (int k = 0; ok && k < 3; k++) {
                                char *e;

                                errno = 0;
                                v[k] = strtod(w[k + 1], &e);
                                ok = errno == 0 && *e == '\0' && e != w[k + 1] && v[k] >= 0 &&
                                     v[k] < 1e300;
                        }
                        if (ok) {
                                s.has_energy = true;
                                s.saved_joules = v[0];
                                s.spent_joules = v[1];
                                s.offline_byte_seconds = v[2];
                        }
                }
                /* other keywords: a newer version's, skipped */
        }
        if (r < 0) {
                runstate_free(&s);
                if (ret_line)
                        *ret_line = r == -EBADMSG ? lineno : 0;
                return r;
        }
        *ret = s;
        return 0;
}

int runstate_format(const RunState *s, char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;
        char zbuf[64];

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fputs("# mempowerd: the memory blocks it took offline, given back first under\n"
              "# pressure and when it stops. A reboot forgets them (boot-id).\n",
              f);
        if (s->boot_id[0])
                fprintf(f, "boot-id %s\n", s->boot_id);
        for (size_t i = 0; i < s->n_blocks; i++)
                fprintf(f, "offline %" PRIu32 " %s\n", s->blocks[i].index,
                        s->blocks[i].zones ? zones_to_string(s->blocks[i].zones, zbuf, sizeof(zbuf))
                                           : "-");
        if (s->has_energy)
                fprintf(f, "energy %.9g %.9g %.9g\n", s->saved_joules, s->spent_joules,
                        s->offline_byte_seconds);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

int runstate_read(int dir_fd, RunState *ret, unsigned *ret_line)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = file_read_all_at(dir_fd, RUNSTATE_FILE, 16 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        return runstate_parse(text, ret, ret_line);
}

int runstate_write(int dir_fd, const RunState *s)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        size_t len;
        int r;

        r = runstate_format(s, &text);
        if (r < 0)
                return r;
        len = strlen(text);
        fd = openat(dir_fd, RUNSTATE_FILE ".new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        goto fail;
                }
                done += (size_t)n;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (renameat(dir_fd, RUNSTATE_FILE ".new", dir_fd, RUNSTATE_FILE) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void)unlinkat(dir_fd, RUNSTATE_FILE ".new", 0);
        return r;
}
