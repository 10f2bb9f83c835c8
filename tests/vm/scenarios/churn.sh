#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Three minutes of two workloads allocating and freeing random sizes, one
# preferring node 1 and one on the default policy, with mempowerd running:
# zero bytes wrong, no OOM kill, and at the end the blocks offline are what
# the free memory allowed (at least 90 %).
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

duration=${CHURN_SECONDS:-180}
cap_mib=320 # per workload: both together stay well inside the guest's memory
vmstat_migrated() { awk '$1 == "pgmigrate_success" { print $2 }' /proc/vmstat; }
migrated0=$(vmstat_migrated)
mp_start
mp_wait_consolidated 2

# Two workloads on two FIFOs (lib.sh's wl_* drive one; this drives two).
start_wl() { # name, args...
        local n=$1
        shift
        mkfifo "/tmp/$n.in"
        : >"/tmp/$n.out"
        mempowerd-workload --chunk 8 "$@" <"/tmp/$n.in" >"/tmp/$n.out" 2>&1 &
        eval "${n}_pid=$!"
}
cmd() { # name, command → its result line
        local n=$1 before i line
        shift
        before=$(wc -l <"/tmp/$n.out")
        printf '%s\n' "$*" >>"/tmp/$n.fifo.log"
        printf '%s\n' "$*" >&"$(fd_of "$n")"
        for ((i = 0; i < 3000; i++)); do
                if (($(wc -l <"/tmp/$n.out") > before)); then
                        line=$(sed -n "$((before + 1))p" "/tmp/$n.out")
                        [[ "$line" != error* ]] || fail "$n: '$*': $line"
                        printf '%s\n' "$line"
                        return
                fi
                sleep 0.1
        done
        fail "$n: no answer to '$*'"
}
fd_of() { [[ "$1" == a ]] && echo 7 || echo 8; }

start_wl a --policy preferred --nodes 1 --seed 101
start_wl b --seed 202
exec 7>/tmp/a.in 8>/tmp/b.in
# held_a and held_b are read and set through held_$n (indirection).
# shellcheck disable=SC2034
held_a=0 held_b=0 steps=0 verifies=0
RANDOM=4242
read -r t0 _ </proc/uptime
while :; do
        read -r now _ </proc/uptime
        awk -v a="$t0" -v b="$now" -v d="$duration" 'BEGIN { exit !(b - a >= d) }' && break
        for n in a b; do
                held_var=held_$n
                held=${!held_var}
                size=$((8 + RANDOM % 121))
                if ((RANDOM % 2 == 0 && held + size <= cap_mib)); then
                        cmd "$n" alloc "$size" >/dev/null
                        held=$((held + size))
                elif ((held > 0)); then
                        size=$(( (RANDOM % held) + 1 ))
                        line=$(cmd "$n" free "$size")
                        held=$(cmd "$n" status | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
                        held=$((held / 1048576))
                fi
                printf -v "$held_var" '%s' "$held"
        done
        steps=$((steps + 1))
        if ((steps % 10 == 0)); then
                for n in a b; do
                        line=$(cmd "$n" verify)
                        [[ "$line" == *"wrong_bytes=0 "* ]] || fail "$n: $line"
                done
                verifies=$((verifies + 2))
        fi
done
report churn_steps "$steps"
report churn_verifies "$verifies"
for n in a b; do
        line=$(cmd "$n" verify)
        [[ "$line" == *"wrong_bytes=0 "* ]] || fail "$n at the end: $line"
done
assert_eq "$(oom_kills)" 0 "OOM kills during the churn"
report evacuations_succeeded "$(mp_prop EvacuationsSucceeded)"
report evacuations_failed "$(mp_prop EvacuationsFailed)"
report evacuations_aborted "$(mp_prop EvacuationsAborted)"
report pages_migrated "$(mp_prop PagesMigrated)"
# Migration efficiency: bytes the kernel migrated (move_pages and the
# offlines' own migration, from /proc/vmstat) per byte offlined, and the share
# of evacuations the handshake started (the rest: the sweep, domains).
offlines=$(journalctl -u mempowerd -o cat --no-pager | grep -c ': offline after ')
moved_pages=$(($(vmstat_migrated) - migrated0))
report offlines "$offlines"
report moved_bytes_per_offlined_byte "$(awk -v m="$moved_pages" -v o="$offlines" \
        -v p="$(getconf PAGESIZE)" -v b="$(printf '%d' "0x$(cat "$sysmem/block_size_bytes")")" \
        'BEGIN { printf "%.3f", o ? m * p / (o * b) : 0 }')"
started=$(mp_prop EvacuationsStarted)
report handshake_share_pct "$(awk -v h="$(mp_prop EvacuationsHandshake)" -v s="$started" \
        'BEGIN { printf "%.0f", s ? h * 100 / s : 0 }')"
printf 'exit\n' >&7
printf 'exit\n' >&8
exec 7>&- 8>&-
wait

# Consolidation: with the workloads gone, how many node-1 blocks (all but
# the node's lowest) could be offline while MemAvailable stays above the
# reserve, and how many are.
block_mib=$(($(printf '%d' "0x$(cat "$sysmem/block_size_bytes")") / 1048576))
allowed() {
        local off avail reserve cand
        off=$(node_count 1 offline)
        avail=$(($(meminfo MemAvailable) / 1024 + off * block_mib))
        reserve=$(($(mp_prop ReserveBytes) / 1048576))
        cand=$((total - 1))
        awk -v a="$avail" -v r="$reserve" -v b="$block_mib" -v c="$cand" \
                'BEGIN { n = int((a - r) / b) - 1; if (n > c) n = c; if (n < 0) n = 0; print n }'
}
ratio_ok() {
        local a
        a=$(allowed)
        ((a == 0 || $(node_count 1 offline) * 100 >= a * 90))
}
wait_until 60 ratio_ok || true
a=$(allowed)
o=$(node_count 1 offline)
report blocks_offline_end "$o"
report blocks_allowed_end "$a"
((a == 0)) || report consolidation_pct "$((o * 100 / a))"
ratio_ok || fail "only $o node-1 blocks offline where the free memory allowed $a"
