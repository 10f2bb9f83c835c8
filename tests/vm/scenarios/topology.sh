#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest looks as designed (2 nodes, node 1 movable-only, >= 16 blocks)
# and `mempowerd --once --json` reports exactly what sysfs shows, with a
# free total that matches MemFree.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

have_jq || fail "jq is missing on the guest root"
nodes=(/sys/devices/system/node/node[0-9]*)
assert_eq "${#nodes[@]}" 2 "NUMA nodes"
blocks=("$sysmem"/memory[0-9]*)
assert_ge "${#blocks[@]}" 16 "memory blocks"
report blocks "${#blocks[@]}"

mapfile -t node1 < <(node_blocks 1)
assert_ge "${#node1[@]}" 8 "node 1 blocks"
for b in "${node1[@]}"; do
        [[ "$(<"$sysmem/memory$b/state")" == online ]] || fail "node 1 block $b is not online"
        [[ "$(<"$sysmem/memory$b/valid_zones")" == Movable ]] ||
                fail "node 1 block $b is in zone $(<"$sysmem/memory$b/valid_zones"), not Movable"
done
log "ok: node 1 blocks ${node1[0]}-${node1[-1]} online and Movable"
[[ ! -e /sys/devices/system/node/node1/cpulist || -z "$(</sys/devices/system/node/node1/cpulist)" ]] ||
        fail "node 1 has CPUs: $(</sys/devices/system/node/node1/cpulist)"

# The report, with MemFree read right before and after it.
free_before=$(meminfo MemFree)
t0=$(uptime_s)
json=$(mempowerd_json) || fail "mempowerd --once --json failed"
t1=$(uptime_s)
free_after=$(meminfo MemFree)
printf '%s\n' "$json" >"$VMTEST_OUT/report.json"
report once_json_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"

assert_eq "$(jq -r .page_size_bytes <<<"$json")" "$(getconf PAGESIZE)" "page size"
assert_eq "$(jq -r .block_size_bytes <<<"$json")" "$((16#$(<"$sysmem/block_size_bytes")))" "block size"

sysfs_blocks >"$VMTEST_OUT/blocks.sysfs"
json_blocks <<<"$json" >"$VMTEST_OUT/blocks.json"
if ! diff -u "$VMTEST_OUT/blocks.sysfs" "$VMTEST_OUT/blocks.json"; then
        fail "blocks in the JSON report differ from sysfs (index node state zones)"
fi
log "ok: JSON blocks = sysfs blocks ($(wc -l <"$VMTEST_OUT/blocks.sysfs") blocks)"

page_size=$(jq -r .page_size_bytes <<<"$json")
free_kb=$(jq -r --argjson ps "$page_size" '[.blocks[].free_pages // 0] | add * $ps / 1024 | floor' <<<"$json")
memfree_kb=$(((free_before + free_after) / 2))
report json_free_kb "$free_kb"
report memfree_kb "$memfree_kb"
report memfree_drift_kb "$((free_after - free_before))"
assert_within "$free_kb" "$memfree_kb" 2 "free pages of the report vs MemFree"

# Every counted block: its pages add up to the block; in ZONE_MOVABLE no
# page is of unknown kind (a zero word there is a free per-CPU page).
while read -r idx pages free movable unmovable unknown hugetlb nopage zones; do
        sum=$((free + movable + unmovable + unknown + hugetlb + nopage))
        assert_eq "$sum" "$pages" "memory$idx: free+movable+unmovable+unknown+hugetlb+nopage"
        [[ "$zones" != Movable ]] || assert_eq "$unknown" 0 "memory$idx (Movable): unknown pages"
done < <(jq -r '.blocks[] | select(.free_pages != null) | "\(.index) \(.pages) \(.free_pages) \(.movable_pages) \(.unmovable_pages) \(.unknown_pages) \(.hugetlb_pages) \(.nopage_pages) \(.zones)"' <<<"$json")
log "ok: every counted block adds up"
