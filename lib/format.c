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
