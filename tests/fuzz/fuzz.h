/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the libFuzzer targets: a NUL-terminated copy of the input and
 * an assertion that stays on in every build type (a failed oracle must
 * abort so that libFuzzer saves the input). */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                          \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond);  \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* The input as a C string (cut at the first NUL, as the parsers see it).
 * Returns NULL only when out of memory; free() it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* Largest input the text parsers are fed: the kernel files they read are
 * smaller, and longer inputs only slow the fuzzer down. */
#define FUZZ_TEXT_MAX (64 * 1024)
