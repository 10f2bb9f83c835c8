#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A DIMM hot-added to the running guest (QEMU monitor device_add pc-dimm)
# is seen by mempowerd through udev within 2 s; the new memory is left
# offline until it is needed (OnlineHotAdded=no, the default; the kernel is
# told not to online it either), and pressure on its node brings it online.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

echo offline >"$sysmem/auto_online_blocks"
mp_start
mp_wait_consolidated 2
blocks_before=$(mp_prop BlocksTotal)
last=$(node_blocks 1 | tail -n 1)

vm_hotadd_dimm 256M 1 >/dev/null &
# When the kernel created the first new block: poll sysfs for its directory
# (its node link comes later).
all_blocks() { local d; for d in "$sysmem"/memory[0-9]*; do echo "${d##*/memory}"; done | sort -n; }
before=$(all_blocks | tail -n 1)
for ((i = 0; i < 600; i++)); do
        new=$(all_blocks | awk -v l="$before" '$1 > l' | head -n 1)
        [[ -n "$new" ]] && break
        sleep 0.05
done
read -r t_add _ </proc/uptime
[[ -n "$new" ]] || fail "no new memory block after device_add"
wait
wait_until 10 journalctl -u mempowerd -o cat --no-pager -q -g "memory$new: added" ||
        fail "mempowerd did not see memory$new"
t_seen=$(log_times "memory$new: added" | head -n 1)
[[ -n "$t_seen" ]] || fail "no time for memory$new: added"
# Slightly negative when the daemon logged it before this poll saw it.
delay=$(awk -v a="$t_add" -v b="$t_seen" 'BEGIN { printf "%.2f", b - a }')
report uevent_delay_s "$delay"
awk -v d="$delay" 'BEGIN { exit !(d <= 2) }' || fail "memory$new seen after ${delay}s (> 2 s)"
blocks_total_is() { [[ "$(mp_prop BlocksTotal)" == "$1" ]]; }
wait_until 5 blocks_total_is $((blocks_before + 2)) ||
        assert_eq "$(mp_prop BlocksTotal)" $((blocks_before + 2)) "BlocksTotal after the hot-add"
new_node1_blocks() { node_blocks 1 | awk -v l="$last" '$1 > l'; }
two_new() { (($(new_node1_blocks | wc -l) == 2)); }
wait_until 10 two_new || true
mapfile -t added < <(new_node1_blocks)
assert_eq "${#added[@]}" 2 "new node-1 blocks"

# Left offline while nothing needs it.
sleep 5
for b in "${added[@]}"; do
        read -r s <"$sysmem/memory$b/state"
        assert_eq "$s" offline "memory$b state without pressure"
done

# Needed: more than node 1 had before is bound to node 1.
wl_start --policy bind --nodes 1 --seed 21
line=$(wl_cmd alloc 1100)
report alloc_s "$(wl_field "$line" seconds)"
for b in "${added[@]}"; do
        read -r s <"$sysmem/memory$b/state"
        assert_eq "$s" online "memory$b state after node-1 pressure"
        assert_eq "$(cat "$sysmem/memory$b/valid_zones")" Movable "memory$b zone"
done
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
