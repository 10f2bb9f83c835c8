#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest -> host request channel: a QEMU monitor command issued from the
# guest runs on the host, and a pc-dimm hot-added that way shows up as new
# node-1 memory blocks, onlined movable by the kernel
# (memhp_default_state=online_movable).
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

out=$(vm_monitor "info status")
assert_eq "$out" 'VM status: running' "monitor answers 'info status'"

if vm_monitor "device_add no-such-device" >/dev/null; then
        fail "a failing monitor command reported success"
fi
log "ok: a failing monitor command reports failure"

block_size=$((16#$(cat "$sysmem/block_size_bytes")))
mapfile -t before < <(node_blocks 1)
total_before=$(meminfo MemTotal)
report node1_blocks_before "${#before[@]}"

t0=$(uptime_s)
id=$(vm_hotadd_dimm 256M 1)
log "hot-added $id"
want=$((${#before[@]} + 256 * 1024 * 1024 / block_size))
# The ACPI event is handled asynchronously: wait for the blocks.
for ((i = 0; i < 300; i++)); do
        mapfile -t after < <(node_blocks 1)
        online=0
        for b in "${after[@]}"; do
                [[ "$(cat "$sysmem/memory$b/state")" == online ]] && online=$((online + 1))
        done
        ((online >= want)) && break
        sleep 0.1
done
t1=$(uptime_s)
report hotadd_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
assert_eq "${#after[@]}" "$want" "node 1 blocks after hot-adding 256M"
assert_eq "$online" "$want" "online node 1 blocks"
for b in "${after[@]}"; do
        assert_eq "$(cat "$sysmem/memory$b/valid_zones")" Movable "zone of block $b"
done
assert_eq "$(($(meminfo MemTotal) - total_before))" $((256 * 1024)) "MemTotal grew by 256 MiB (kB)"
devices=$(vm_monitor "info memory-devices")
[[ "$devices" == *"\"$id\""* ]] || fail "QEMU does not list $id: $devices"
log "ok: QEMU lists $id"

# And unplug it: the kernel offlines and removes its blocks.
t0=$(uptime_s)
vm_hotremove_dimm "$id"
t1=$(uptime_s)
report hotremove_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
mapfile -t final < <(node_blocks 1)
assert_eq "${#final[@]}" "${#before[@]}" "node 1 blocks after unplugging $id"
assert_eq "$(meminfo MemTotal)" "$total_before" "MemTotal after unplugging $id (kB)"
