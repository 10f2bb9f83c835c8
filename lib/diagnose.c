/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "util.h"

typedef struct VerdictText {
        const char *why;
        const char *remedy; /* NULL: nothing to do */
} VerdictText;

/* Only verdicts that keep a block online; NULL why: no finding. */
static const VerdictText verdict_texts[_PLAN_VERDICT_MAX] = {
        [VERDICT_OFFLINE_OTHER] = {
                "offline, but not by mempowerd (an administrator, chmem, daxctl, a balloon "
                "driver): mempowerd leaves it to them",
                "OnlineOthers=yes lets mempowerd online them under pressure" },
        [VERDICT_GOING_OFFLINE] = { "someone else's offline of it is in flight", NULL },
        [VERDICT_EXCLUDED] = { "excluded by ExcludeBlocks=", "remove them from ExcludeBlocks=" },
        [VERDICT_NO_NODE] = { "the kernel shows no NUMA node for it", NULL },
        [VERDICT_SPANS_ZONES] = {
                "it spans two zones (valid_zones reads none): the kernel cannot offline it",
                NULL },
        [VERDICT_KERNEL_DMA_ZONE] = {
                "ZONE_DMA/DMA32: memory for devices that address only the low 4 GiB; "
                "never offlined",
                NULL },
        [VERDICT_KERNEL_ZONE] = {
                "ZONE_NORMAL: the kernel's own allocations (slab, page tables) may land "
                "anywhere in it, so mempowerd leaves it alone by default",
                "give memory to ZONE_MOVABLE at boot (movable_node, kernelcore= or "
                "movablecore=, see mempowerd(8), REQUIREMENTS), or set OfflineKernelZones=yes "
                "(a block goes only while nothing unmovable sits in it; the kernel's memory "
                "shrinks for good)" },
        [VERDICT_OTHER_ZONE] = { "in a zone mempowerd does not offline (ZONE_DEVICE, ...)", NULL },
        [VERDICT_LOWEST_OF_NODE] = {
                "the lowest block of its node stays (Domains=block): the kernel fills a node "
                "from its lowest block up",
                "Domains=node or Domains=device let a whole node or memory device go" },
        [VERDICT_UNKNOWN_USAGE] = { "not counted yet", NULL },
        [VERDICT_UNMOVABLE_PAGES] = {
                "it holds pages no migration moves (slab, page tables, reserved pages)",
                "mempowerctl explain BLOCK shows them; in ZONE_MOVABLE they are rare and "
                "usually short-lived" },
        [VERDICT_UNKNOWN_PAGES] = {
                "kernel-zone pages that carry no flag: memory not initialised yet (deferred "
                "struct-page init), vmalloc or kernel stacks",
                "on a large machine the kernel initialises memory for minutes after boot: "
                "look again later" },
        [VERDICT_HUGETLB] = {
                "hugetlbfs pages (in use or in the pool) sit in it",
                "shrink the pool (vm.nr_hugepages) or give hugetlb a node of its own" },
        [VERDICT_HOLES] = { "it has holes (pages without struct page): the kernel refuses", NULL },
        [VERDICT_BACKOFF] = {
                "an offline of it failed recently: mempowerd waits before trying again",
                "mempowerctl explain BLOCK says why it failed and what holds it" },
        [VERDICT_PAUSED] = { "mempowerd is paused", "mempowerctl resume" },
        [VERDICT_PRESSURE] = { "memory is short: mempowerd is giving memory back", NULL },
        [VERDICT_QUIET] = {
                "memory was short a moment ago: nothing goes offline for BackoffInitialSec=",
                NULL },
        [VERDICT_NO_COUNTERS] = {
                "meminfo could not be read: mempowerd offlines nothing without it", NULL },
        [VERDICT_NODE_BUSY] = { "its node ran short or its free memory is falling", NULL },
        [VERDICT_NODE_FLOOR] = {
                "its node would fall below NodeMinFreeMiB=",
                "this is the memory the node's processes use; lower NodeMinFreeMiB= only when "
                "nothing is bound to the node" },
        [VERDICT_RESERVE] = {
                "MemAvailable would come within a block of the reserve: the memory is in use",
                "MinFreeMiB= and MinFreePercent= set the reserve; lower it only if the machine "
                "can spare it" },
        [VERDICT_COMMIT] = {
                "the commit headroom (CommitLimit minus Committed_AS, vm.overcommit_memory=2) "
                "would fall below the reserve",
                NULL },
        [VERDICT_KERNEL_FLOOR] = { "the kernel zones would fall below their reserve", NULL },
        [VERDICT_KERNEL_RATIO] = {
                "MOVABLE:KERNEL would exceed 3:1: the kernel would run short of memory for "
                "its own structures",
                NULL },
        [VERDICT_NO_DESTINATION] = {
                "no allowed node can take its pages",
                "DestinationNodes= lists the nodes pages may go to" },
        [VERDICT_NO_DOMAIN] = {
                "in no power domain (Domains=device takes only memory devices)",
                "Domains=auto also groups the rest by node" },
        [VERDICT_KERNEL_MEMORY] = {
                "its power domain (a node or device) holds kernel-zone memory, which cannot all "
                "go offline: the domain can never be powered down whole",
                "only nodes and devices entirely in ZONE_MOVABLE can go: hot-pluggable memory "
                "with memhp_default_state=online_movable, or movable_node at boot (see "
                "README.md \"Requirements\")" },
        [VERDICT_BREAK_EVEN] = {
                "moving its pages would cost more energy than its time offline is expected to "
                "save",
                "BreakEven=no, or ExpectedOfflineSec= when the domain stays empty longer" },
        [VERDICT_BOUND] = {
                "a process binds its memory to this node alone", NULL },
        [VERDICT_CHECKING] = { "the processes' memory policies are being read", NULL },
};

static int diagnosis_cmp(const void *a, const void *b)
{
        const Diagnosis *x = a, *y = b;

        if (x->bytes != y->bytes)
                return x->bytes > y->bytes ? -1 : 1;
        return strcmp(x->code, y->code);
}

size_t diagnose(const DiagnoseInput *in, Diagnosis *ret, size_t max)
{
        size_t counts[_PLAN_VERDICT_MAX] = { 0 }, n = 0, first_verdict, movable = 0, online = 0;

        for (size_t i = 0; i < in->n_blocks; i++) {
                PlanVerdict v = in->verdicts[i];

                if (v >= 0 && v < _PLAN_VERDICT_MAX)
                        counts[v]++;
                if (in->blocks[i].state == BLOCK_OFFLINE)
                        continue;
                online++;
                if (in->blocks[i].zones == ZONE_MOVABLE_BIT)
                        movable++;
        }

#define ADD(...)                                                                                   \
        do {                                                                                       \
                if (n < max)                                                                       \
                        ret[n++] = (Diagnosis){ __VA_ARGS__ };                                     \
        } while (0)
        if (!in->counted)
                ADD(.code = DIAGNOSIS_NOT_ROOT,
                    .why = "pages were not counted: reading /proc/kpageflags needs root, so "
                           "what each block holds, and whether it could go, is not known",
                    .remedy = "run mempowerd --once as root");
        if (online > 0 && movable == 0)
                ADD(.code = DIAGNOSIS_NO_MOVABLE_ZONE,
                    .why = "no online memory is in ZONE_MOVABLE: every block may hold the "
                           "kernel's unmovable allocations, and the kernel gives no guarantee "
                           "that any can go offline",
                    .remedy = "boot with movable_node (hot-pluggable NUMA nodes), "
                              "kernelcore= or movablecore= (part of every node movable), or "
                              "online hot-added memory with memhp_default_state=online_movable "
                              "(mempowerd(8), REQUIREMENTS)");
        if (in->unmanaged_bytes >= in->block_size_bytes && in->unknown_bytes > 0)
                ADD(.code = DIAGNOSIS_DEFERRED_INIT, .bytes = in->unmanaged_bytes,
                    .why = "memory in the kernel zones is not the page allocator's yet (its "
                           "struct pages are initialised on demand): it reads as unknown, and "
                           "MemFree counts it while the page flags cannot",
                    .remedy = "nothing to do; it becomes ordinary free memory as the kernel "
                              "needs it");
#undef ADD
        first_verdict = n;
        for (PlanVerdict v = 0; v < _PLAN_VERDICT_MAX; v++) {
                if (counts[v] == 0 || !verdict_texts[v].why || n >= max)
                        continue;
                /* "not counted" said it already for every block */
                if (v == VERDICT_UNKNOWN_USAGE && !in->counted)
                        continue;
                ret[n++] = (Diagnosis){
                        .code = plan_verdict_to_string(v),
                        .blocks = counts[v],
                        .bytes = counts[v] * in->block_size_bytes,
                        .why = verdict_texts[v].why,
                        .remedy = verdict_texts[v].remedy,
                };
        }
        qsort(ret + first_verdict, n - first_verdict, sizeof(*ret), diagnosis_cmp);
        return n;
}
