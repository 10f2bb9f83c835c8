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
total=$(node_blocks 1 | wc -l)
mp_wait 60 node_count_ge 1 offline $((total - 2)) ||
        fail "node-1 blocks not offlined at start: $(node_states 1 | tr '\n' ' ')"
blocks_before=$(mp_prop BlocksTotal)
last=$(node_blocks 1 | tail -n 1)

vm_hotadd_dimm 256M 1 >/dev/null &
# When the kernel created the first new block: poll sysfs.
for ((i = 0; i < 600; i++)); do
        new=$(node_blocks 1 | awk -v l="$last" '$1 > l' | head -n 1)
        [[ -n "$new" ]] && break
        sleep 0.1
done
read -r t_add _ </proc/uptime
[[ -n "$new" ]] || fail "no new node-1 block after device_add"
wait
mp_wait 10 journalctl -u mempowerd -o cat --no-pager -q -g "memory$new: added" ||
        fail "mempowerd did not see memory$new"
t_seen=$(journalctl -u mempowerd -o short-monotonic --no-pager -g "memory$new: added" |
        awk '{ gsub(/[\[\]]/, "", $1); print $1; exit }')
delay=$(awk -v a="$t_add" -v b="$t_seen" 'BEGIN { d = b - a; printf "%.2f", d < 0 ? 0 : d }')
report uevent_delay_s "$delay"
awk -v d="$delay" 'BEGIN { exit !(d <= 2) }' || fail "memory$new seen after ${delay}s (> 2 s)"
mp_wait 5 test "$(mp_prop BlocksTotal)" -eq $((blocks_before + 2)) 2>/dev/null ||
        { sleep 2; assert_eq "$(mp_prop BlocksTotal)" $((blocks_before + 2)) "BlocksTotal after the hot-add"; }
mapfile -t added < <(node_blocks 1 | awk -v l="$last" '$1 > l')
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
