#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The harness, not mempowerd: the kernel offlines a node-1 block through
# sysfs and onlines it back (online_movable); MemTotal follows by one block.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

block_kb=$((16#$(<"$sysmem/block_size_bytes") / 1024))
mapfile -t node1 < <(node_blocks 1)
assert_ge "${#node1[@]}" 2 "node 1 blocks"
# The highest block: the least likely to hold anything.
b=${node1[-1]}
state=$sysmem/memory$b/state
assert_eq "$(<"$state")" online "block $b state before"

total0=$(meminfo MemTotal)
t0=$(uptime_s)
echo offline >"$state" || fail "offlining block $b failed"
t1=$(uptime_s)
assert_eq "$(<"$state")" offline "block $b state after offline"
total1=$(meminfo MemTotal)
assert_eq "$((total0 - total1))" "$block_kb" "MemTotal drop (kB) after offlining block $b"
node1_total=$(awk '$3 == "MemTotal:" { print $4 }' /sys/devices/system/node/node1/meminfo)
report node1_total_kb_offline "$node1_total"

# Offline again is refused by the kernel (EINVAL) and changes nothing.
if (echo offline >"$state") 2>/dev/null; then
        fail "a second offline of block $b succeeded"
fi
assert_eq "$(<"$state")" offline "block $b still offline"

echo online_movable >"$state" || fail "onlining block $b failed"
t2=$(uptime_s)
assert_eq "$(<"$state")" online "block $b state after online_movable"
assert_eq "$(<"$sysmem/memory$b/valid_zones")" Movable "block $b zone after online_movable"
total2=$(meminfo MemTotal)
assert_eq "$((total2 - total1))" "$block_kb" "MemTotal rise (kB) after onlining block $b"
report offline_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
report online_s "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')"
