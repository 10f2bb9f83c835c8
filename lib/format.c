/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

const char *format_bytes(uint64_t bytes, char *buf, size_t size)
{
        static const char units[] = "BKMGTPE";
        size_t u = 0;
        double v = (double)bytes;

        while (v >= 1024 && u < sizeof(units) - 2) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 "B", bytes);
        else if (v == (double)(uint64_t)v)
                snprintf(buf, size, "%" PRIu64 "%c", (uint64_t)v, units[u]);
        else
                snprintf(buf, size, "%.1f%c", v, units[u]);
        return buf;
}

const char *format_size(uint64_t bytes, bool exact, char *buf, size_t size)
{
        if (exact) {
                snprintf(buf, size, "%" PRIu64, bytes);
                return buf;
        }
        return format_bytes(bytes, buf, size);
}

void format_json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

void format_wrap(FILE *f, const char *text, size_t indent, size_t first, size_t width)
{
        size_t col = first;
        bool words = false; /* a word is on the current line */

        for (const char *p = text;;) {
                size_t len;

                p += strspn(p, " ");
                len = strcspn(p, " ");
                if (len == 0)
                        break;
                if (words && col + 1 + len > width) {
                        fprintf(f, "\n%*s", (int)indent, "");
                        col = indent;
                        words = false;
                }
                if (words) {
                        fputc(' ', f);
                        col++;
                }
                fwrite(p, 1, len, f);
                col += len;
                words = true;
                p += len;
        }
        fputc('\n', f);
}

char *format_sanitize(char *s)
{
        unsigned char *p = (unsigned char *)s;

        while (*p) {
                size_t n = 0;
                uint32_t cp;

                if (*p < 0x20 || *p == 0x7f) {
                        *p++ = '?'; /* control characters: not for a terminal */
                        continue;
                }
                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if (*p >= 0xc2 && *p <= 0xdf)
                        n = 1, cp = *p & 0x1f;
                else if (*p >= 0xe0 && *p <= 0xef)
                        n = 2, cp = *p & 0x0f;
                else if (*p >= 0xf0 && *p <= 0xf4)
                        n = 3, cp = *p & 0x07;
                else {
                        *p++ = '?';
                        continue;
                }
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80) {
                                n = 0;
                                break;
                        }
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if (n == 0 || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0)) {
                        *p++ = '?';
                        continue;
                }
                p += n + 1;
        }
        return s;
}
