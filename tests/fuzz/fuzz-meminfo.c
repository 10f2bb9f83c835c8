/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pressure signals' text: /proc/meminfo, nodeN/meminfo (nodes 0-3) and
 * /proc/pressure/memory. What parses is written back in the kernel's format
 * and must parse to the same numbers. */
#include <inttypes.h>

#include "fuzz.h"
#include "nodeinfo.h"

static void check_meminfo(const char *s)
{
        char buf[256];
        MemInfo m, again;

        if (meminfo_parse(s, &m) < 0)
                return;
        snprintf(buf, sizeof(buf),
                 "MemTotal:       %" PRIu64 " kB\nMemFree:        %" PRIu64
                 " kB\nMemAvailable:   %" PRIu64 " kB\n",
                 m.total_kb, m.free_kb, m.available_kb);
        FUZZ_ASSERT(meminfo_parse(buf, &again) == 0);
        FUZZ_ASSERT(again.total_kb == m.total_kb && again.free_kb == m.free_kb &&
                    again.available_kb == m.available_kb);
}

static void check_node(const char *s, int node)
{
        char buf[256];
        NodeMemInfo m, again;

        if (node_meminfo_parse(s, node, &m) < 0)
                return;
        snprintf(buf, sizeof(buf),
                 "Node %d MemTotal:       %" PRIu64 " kB\nNode %d MemFree:        %" PRIu64
                 " kB\n",
                 node, m.total_kb, node, m.free_kb);
        FUZZ_ASSERT(node_meminfo_parse(buf, node, &again) == 0);
        FUZZ_ASSERT(again.total_kb == m.total_kb && again.free_kb == m.free_kb);
}

static void psi_line_format(char *buf, size_t size, const char *kind, const PsiLine *l)
{
        snprintf(buf, size, "%s avg10=%.17g avg60=%.17g avg300=%.17g total=%" PRIu64 "\n", kind,
                 l->avg10, l->avg60, l->avg300, l->total_usec);
}

static bool psi_line_equal(const PsiLine *a, const PsiLine *b)
{
        return a->avg10 == b->avg10 && a->avg60 == b->avg60 && a->avg300 == b->avg300 &&
               a->total_usec == b->total_usec;
}

static void check_psi(const char *s)
{
        char some[160], full[160], buf[330];
        Psi p, again;

        if (psi_parse(s, &p) < 0)
                return;
        FUZZ_ASSERT(p.some.avg10 >= 0 && p.some.avg60 >= 0 && p.some.avg300 >= 0);
        psi_line_format(some, sizeof(some), "some", &p.some);
        psi_line_format(full, sizeof(full), "full", &p.full);
        snprintf(buf, sizeof(buf), "%s%s", some, p.has_full ? full : "");
        FUZZ_ASSERT(psi_parse(buf, &again) == 0);
        FUZZ_ASSERT(psi_line_equal(&again.some, &p.some));
        FUZZ_ASSERT(again.has_full == p.has_full);
        if (p.has_full)
                FUZZ_ASSERT(psi_line_equal(&again.full, &p.full));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s;

        if (size > FUZZ_TEXT_MAX)
                return 0;
        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        check_meminfo(s);
        for (int node = 0; node < 4; node++)
                check_node(s, node);
        check_psi(s);
        free(s);
        return 0;
}
