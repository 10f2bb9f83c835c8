#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# With node-1 blocks offline, a workload allocates more than the online
# free memory. mempowerd onlines blocks in time: the workload finishes, its
# data is intact, the kernel log has no OOM kill and nothing was killed.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

mp_start
mp_wait_consolidated 2
offline_before=$(node_count 1 offline)
report node1_offline_before "$offline_before"

# 300 MiB more than is available online. (Not much more: this guest's
# kernel zones are node 0's 1 GiB, and the workload's own page tables must
# come from there whatever is online on node 1.)
avail_kb=$(meminfo MemAvailable)
want_mib=$((avail_kb / 1024 + 300))
report memavailable_mib_before "$((avail_kb / 1024))"
report workload_mib "$want_mib"

# Default policy: the allocation may use whatever node has memory.
wl_start --seed 5
line=$(wl_cmd alloc "$want_mib")
report alloc_s "$(wl_field "$line" seconds)"
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
assert_eq "$(wl_field "$line" checked_bytes)" "$((want_mib * 1048576))" "bytes verified"
kill -0 "$wl_pid" || fail "the workload was killed"
wl_stop

report node1_offline_after "$(node_count 1 offline)"
((offline_before > $(node_count 1 offline))) || fail "no node-1 block was onlined"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log"
journalctl -u mempowerd -o cat --no-pager | grep -E 'Memory pressure|ran short' | head -5
