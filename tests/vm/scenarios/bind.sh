#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two workloads bound to node 1 (MPOL_BIND) allocate more than node 1 has
# online. Nothing but node 1 may serve it and the kernel OOM-kills them
# within milliseconds of the node running out, so mempowerd must see the
# node's free memory fall (its 20 ms watch while a block is offline) and online
# node-1 blocks before then: no OOM kill, all data intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

mp_start
mp_wait_consolidated 1
offline_before=$(node_count 1 offline)
report node1_offline_before "$offline_before"

node1_free_mib() {
        awk '$3 == "MemFree:" { print int($4 / 1024) }' /sys/devices/system/node/node1/meminfo
}
# Two blocks more than node 1 has free online.
block_mib=$(($(printf '%d' "0x$(cat "$sysmem/block_size_bytes")") >> 20))
want_mib=$(($(node1_free_mib) + 2 * block_mib))
report node1_free_mib_before "$(node1_free_mib)"
report workload_mib "$want_mib"

# Two allocators at once (one per vCPU): twice the rate of one.
half=$((want_mib / 2))
for i in 1 2; do
        mempowerd-workload --policy bind --nodes 1 --seed "1$i" -e "alloc $half" -e verify \
                >"/tmp/bind$i.out" 2>&1 &
        pids[i]=$!
done
for i in 1 2; do
        wait "${pids[i]}" || fail "bound workload $i failed (status $?): $(cat "/tmp/bind$i.out")"
        cat "/tmp/bind$i.out"
        report "alloc${i}_s" "$(wl_field "$(grep '^alloc' "/tmp/bind$i.out")" seconds)"
        line=$(grep '^verify' "/tmp/bind$i.out")
        assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes of workload $i"
        assert_eq "$(wl_field "$line" checked_bytes)" "$((half * 1048576))" "bytes verified of workload $i"
done
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log"

offline_after=$(node_count 1 offline)
report node1_offline_after "$offline_after"
((offline_before - offline_after >= 2)) ||
        fail "only $((offline_before - offline_after)) node-1 blocks onlined for $want_mib MiB bound"
short=$(journalctl -u mempowerd -o cat --no-pager | grep -m1 'ran short') ||
        fail "the daemon did not log the node running short"
log "$short"
report node1_free_when_seen_mib "$(sed -n 's/.*(free \([0-9]*\) MiB.*/\1/p' <<<"$short")"
