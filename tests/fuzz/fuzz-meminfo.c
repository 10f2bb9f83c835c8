/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory counters' text: /proc/meminfo, nodeN/meminfo (nodes 0-3),
 * /proc/pressure/memory, /proc/buddyinfo, /proc/zoneinfo, and mempowerd's
 * own state file. What parses is written back in the kernel's (or the
 * daemon's) format and must parse to the same numbers. */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "memblock.h"
#include "nodeinfo.h"
#include "runstate.h"

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
        if (m.commit_valid)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
                         "SwapTotal: %" PRIu64 " kB\nCommitLimit: %" PRIu64
                         " kB\nCommitted_AS: %" PRIu64 " kB\n",
                         m.swap_total_kb, m.commit_limit_kb, m.committed_as_kb);
        FUZZ_ASSERT(meminfo_parse(buf, &again) == 0);
        FUZZ_ASSERT(again.total_kb == m.total_kb && again.free_kb == m.free_kb &&
                    again.available_kb == m.available_kb && again.commit_valid == m.commit_valid &&
                    again.commit_limit_kb == m.commit_limit_kb &&
                    again.committed_as_kb == m.committed_as_kb &&
                    again.swap_total_kb == m.swap_total_kb);
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

/* buddyinfo: the free pages of a zone written back as order-0 chunks. */
static void check_buddyinfo(const char *s)
{
        uint64_t k, o, k2, o2;
        char buf[200];

        if (buddyinfo_parse(s, &k, &o) < 0)
                return;
        snprintf(buf, sizeof(buf), "Node 0, zone Normal %" PRIu64 "\nNode 0, zone Movable %" PRIu64 "\n",
                 k, o);
        FUZZ_ASSERT(buddyinfo_parse(buf, &k2, &o2) == 0);
        FUZZ_ASSERT(k2 == k && o2 == o);
}

static void check_zoneinfo(const char *s)
{
        ZoneInfo z[8], again[8];
        char buf[8 * 200];
        size_t len = 0;
        int n = zoneinfo_parse(s, z, 8);

        if (n < 0)
                return;
        FUZZ_ASSERT(n > 0);
        if (n > 8)
                n = 8;
        for (int i = 0; i < n; i++) {
                FUZZ_ASSERT(z[i].node >= 0 && z[i].node <= 4095 && z[i].name[0]);
                FUZZ_ASSERT(strlen(z[i].name) < sizeof(z[i].name));
                len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                        "Node %d, zone %s\n present %" PRIu64 "\n managed %" PRIu64
                                        "\n nr_free_pages %" PRIu64 "\n count: %" PRIu64 "\n",
                                        z[i].node, z[i].name, z[i].present, z[i].managed,
                                        z[i].free, z[i].pcp);
        }
        FUZZ_ASSERT(zoneinfo_parse(buf, again, 8) == n);
        for (int i = 0; i < n; i++)
                FUZZ_ASSERT(again[i].node == z[i].node && strcmp(again[i].name, z[i].name) == 0 &&
                            again[i].present == z[i].present && again[i].managed == z[i].managed &&
                            again[i].free == z[i].free && again[i].pcp == z[i].pcp);
}

/* The state file: formatted and parsed again, the same list. */
static void check_runstate(const char *s)
{
        RunState st = { 0 }, again = { 0 };
        char *text = NULL;
        unsigned line = 0;

        if (runstate_parse(s, &st, &line) < 0) {
                FUZZ_ASSERT(line > 0);
                return;
        }
        for (size_t i = 0; i < st.n_blocks; i++) {
                unsigned z = st.blocks[i].zones;

                FUZZ_ASSERT((z & (z - 1)) == 0 && !(z & ZONE_OTHER_BIT));
                for (size_t j = 0; j < i; j++)
                        FUZZ_ASSERT(st.blocks[j].index != st.blocks[i].index);
        }
        if (runstate_format(&st, &text) == 0) {
                FUZZ_ASSERT(runstate_parse(text, &again, NULL) == 0);
                FUZZ_ASSERT(again.n_blocks == st.n_blocks && strcmp(again.boot_id, st.boot_id) == 0);
                for (size_t i = 0; i < st.n_blocks; i++)
                        FUZZ_ASSERT(again.blocks[i].index == st.blocks[i].index &&
                                    again.blocks[i].zones == st.blocks[i].zones);
                free(text);
        }
        runstate_free(&again);
        runstate_free(&st);
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
        check_buddyinfo(s);
        check_zoneinfo(s);
        check_runstate(s);
        free(s);
        return 0;
}
