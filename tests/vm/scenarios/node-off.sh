#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A memory-only node offline whole (Domains=node). Node 1 holds no process's
# binding and node 0 has room: all 8 of node 1's blocks go offline (the
# lowest block of a node used to stay). Then a workload needs more than
# node 0 has: pressure brings node 1 back, the workload's data is intact and
# nothing is OOM-killed.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

total=$(node_blocks 1 | wc -l)
assert_ge "$total" 8 "node-1 blocks"
mp_config '[Power]
Domains=node'
mp_start
wait_until 120 node_count_ge 1 offline "$total" ||
        fail "node 1 not offline whole: $(node_states 1 | tr '\n' ' ')"
report node1_offline "$(node_count 1 offline)"
journalctl -u mempowerd -o cat --no-pager -q -g "may go offline whole" | head -1 | grep -q . ||
        fail "the memory policies were not read before node 1 went"
# accounted at the end of a tick: a tick after sysfs at most
wait_until 5 eval '[[ "$(mp_prop DomainsOffline)" == 1 ]]' ||
        fail "DomainsOffline: got '$(mp_prop DomainsOffline)', expected 1"
[[ "$(cat /sys/devices/system/node/has_memory)" == 0 ]] || fail "has_memory: $(cat /sys/devices/system/node/has_memory)"

# Pressure: 300 MiB more than is available.
avail_kb=$(meminfo MemAvailable)
want_mib=$((avail_kb / 1024 + 300))
report workload_mib "$want_mib"
wl_start --seed 5
line=$(wl_cmd alloc "$want_mib")
report alloc_s "$(wl_field "$line" seconds)"
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
assert_eq "$(wl_field "$line" checked_bytes)" "$((want_mib * 1048576))" "bytes verified"
kill -0 "$wl_pid" || fail "the workload was killed"
wl_stop
online=$(node_count 1 online)
report node1_online_after "$online"
((online > 0)) || fail "no node-1 block came back"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log"
journalctl -u mempowerd -o cat --no-pager | grep -E 'Memory pressure|back in use' | head -5
