/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Text for people: sizes the way lsmem prints them; strings as JSON. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "128M", "2.9G", "21G", "512B": binary units, one decimal when not whole. */
const char *format_bytes(uint64_t bytes, char *buf, size_t size);

/* Exact ("134217728") or as format_bytes ("128M"). */
const char *format_size(uint64_t bytes, bool exact, char *buf, size_t size);

/* s as a JSON string, quoted and escaped. */
void format_json_string(FILE *f, const char *s);

/* s made fit for a terminal and for D-Bus, in place: bytes that are not
 * valid UTF-8 and control characters (C0, DEL, C1) become '?'. Returns s. */
char *format_sanitize(char *s);

/* text as lines of at most width columns (a word longer than that stands
 * alone), continuation lines indented by indent; the first line starts at
 * column first (what the caller printed before). Ends with a newline. */
void format_wrap(FILE *f, const char *text, size_t indent, size_t first, size_t width);
