/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Why not more: verdicts summed by reason, largest first, machine-wide
 * findings before them, blocks that would go and offline ones no finding. */
#include <string.h>

#include "diagnose.h"
#include "testutil.h"
#include "util.h"

#define BLOCK (128ULL << 20)

static MemBlock block(uint32_t index, unsigned zones, BlockState state)
{
        return (MemBlock){ .index = index, .zones = zones, .state = state, .node = 0 };
}

static const Diagnosis *find(const Diagnosis *d, size_t n, const char *code)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(d[i].code, code) == 0)
                        return &d[i];
        return NULL;
}

int main(void)
{
        MemBlock b[8];
        PlanVerdict v[8];
        Diagnosis d[DIAGNOSES_MAX];
        DiagnoseInput in = { .blocks = b, .verdicts = v, .n_blocks = 8, .block_size_bytes = BLOCK,
                             .counted = true };
        size_t n;

        /* a machine without ZONE_MOVABLE: 1 DMA32, 5 Normal, 1 spanning, 1
         * offline by someone else */
        b[0] = block(0, ZONE_DMA32_BIT, BLOCK_ONLINE), v[0] = VERDICT_KERNEL_DMA_ZONE;
        for (int i = 1; i < 6; i++)
                b[i] = block(i, ZONE_NORMAL_BIT, BLOCK_ONLINE), v[i] = VERDICT_KERNEL_ZONE;
        b[6] = block(6, 0, BLOCK_ONLINE), v[6] = VERDICT_SPANS_ZONES;
        b[7] = block(7, ZONE_MOVABLE_BIT, BLOCK_OFFLINE), v[7] = VERDICT_OFFLINE_OTHER;
        n = diagnose(&in, d, ELEMENTSOF(d));
        CHECK_EQ_INT(n, 5);
        CHECK_EQ_STR(d[0].code, DIAGNOSIS_NO_MOVABLE_ZONE);
        CHECK_EQ_INT(d[0].blocks, 0);
        CHECK(d[0].remedy && strstr(d[0].remedy, "movable_node"));
        /* then by bytes, largest first */
        CHECK_EQ_STR(d[1].code, "kernel-zone");
        CHECK_EQ_INT(d[1].blocks, 5);
        CHECK_EQ_INT(d[1].bytes, 5 * BLOCK);
        CHECK(d[1].remedy && strstr(d[1].remedy, "OfflineKernelZones=yes"));
        CHECK(find(d, n, "kernel-dma-zone") && !find(d, n, "kernel-dma-zone")->remedy);
        CHECK(find(d, n, "spans-zones") != NULL);
        CHECK(find(d, n, "offline-other") && find(d, n, "offline-other")->blocks == 1);

        /* the movable block online: no machine-wide finding; blocks that
         * would go and blocks mempowerd offlined are none */
        b[7] = block(7, ZONE_MOVABLE_BIT, BLOCK_ONLINE), v[7] = VERDICT_OK;
        v[6] = VERDICT_OFFLINED;
        n = diagnose(&in, d, ELEMENTSOF(d));
        CHECK_EQ_INT(n, 2);
        CHECK(!find(d, n, DIAGNOSIS_NO_MOVABLE_ZONE));
        CHECK(!find(d, n, "offline") && !find(d, n, "offlined"));

        /* without root: said once, and "not counted yet" is not said again */
        in.counted = false;
        for (int i = 0; i < 8; i++)
                v[i] = VERDICT_UNKNOWN_USAGE;
        n = diagnose(&in, d, ELEMENTSOF(d));
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_STR(d[0].code, DIAGNOSIS_NOT_ROOT);
        CHECK(strstr(d[0].why, "root") != NULL);

        /* memory not initialised yet: only when it is at least a block and
         * pages read unknown */
        in.counted = true;
        in.unmanaged_bytes = 3 * BLOCK;
        in.unknown_bytes = 0;
        CHECK(!find(d, diagnose(&in, d, ELEMENTSOF(d)), DIAGNOSIS_DEFERRED_INIT));
        in.unknown_bytes = BLOCK;
        n = diagnose(&in, d, ELEMENTSOF(d));
        CHECK(find(d, n, DIAGNOSIS_DEFERRED_INIT) && find(d, n, DIAGNOSIS_DEFERRED_INIT)->bytes == 3 * BLOCK);
        in.unmanaged_bytes = BLOCK - 1;
        CHECK(!find(d, diagnose(&in, d, ELEMENTSOF(d)), DIAGNOSIS_DEFERRED_INIT));

        /* room for fewer findings than there are: the first ones */
        in.unmanaged_bytes = 0;
        v[0] = VERDICT_RESERVE, v[1] = VERDICT_RESERVE, v[2] = VERDICT_HUGETLB;
        CHECK_EQ_INT(diagnose(&in, d, 1), 1);
        CHECK_EQ_INT(diagnose(&in, d, 0), 0);

        /* every verdict that keeps a block online has words; the others none */
        for (PlanVerdict x = 0; x < _PLAN_VERDICT_MAX; x++) {
                bool silent = x == VERDICT_OK || x == VERDICT_EVACUATING || x == VERDICT_OFFLINED;

                for (int i = 0; i < 8; i++)
                        v[i] = x, b[i].zones = ZONE_MOVABLE_BIT;
                n = diagnose(&in, d, ELEMENTSOF(d));
                CHECK_EQ_INT(n, silent ? 0 : 1);
                if (n == 1)
                        CHECK(d[0].why && *d[0].why && d[0].blocks == 8);
        }
        return test_summary("test-diagnose");
}
