#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stress-ng's memory stressors, checked by stress-ng's own verification
# (--verify), while mempowerd gives memory back and consolidates again.
# mempowerd first offlines node 1 (all but 2 blocks). Then two stress-ng
# runs start together:
#   keep   `numactl --preferred=1 stress-ng --vm 1 --vm-keep`: 384 MiB
#          mapped once, on node 1 first, written and checked again and
#          again (every --vm-method in turn) for the whole scenario;
#   press  `stress-ng --vm 2 --mmap --malloc --bigheap` for STRESS_NG_SECONDS
#          (60): the vm workers map, fill, check and unmap MemAvailable
#          + 200 MiB - 384 MiB between them, round after round; with the
#          others, some 400 MiB more than is online.
# Blocks come back online for them (commit headroom, then MemAvailable).
# When press is done, mempowerd empties node-1 blocks again, and those hold
# keep's pages: its move_pages (and the kernel's offline migration) move
# them to node 0 while keep goes on writing and checking them. When keep is
# done too, node 1 is offline again (all but 2 blocks).
# Pass: both stress-ng runs exit 0 and report a successful run, no "fail:"
# line, no memory error, every stressor did work (bogo ops > 0); no OOM
# kill in the kernel log; node-1 blocks came online during the runs, and
# went offline (all but 2) after press and again after keep.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

command -v stress-ng >/dev/null || skip "stress-ng is not installed on the host (tools/deps)"
command -v numactl >/dev/null || skip "numactl is not installed on the host (tools/deps)"
press_s=${STRESS_NG_SECONDS:-60}
keep_mib=384
keep_s=$((press_s + 50)) # long enough for node 1 to be emptied under it

mp_start
mp_wait_consolidated 2
offline_before=$(node_count 1 offline)
report node1_blocks "$total"
report node1_offline_before "$offline_before"

# Node 1's state, sampled every 0.2 s without a fork: "UPTIME ONLINE" at
# each change.
mapfile -t blocks1 < <(node_blocks 1)
sample_node1() {
        local prev=-1 on b s up _
        while :; do
                on=0
                for b in "${blocks1[@]}"; do
                        read -r s <"$sysmem/memory$b/state"
                        [[ "$s" != online ]] || on=$((on + 1))
                done
                if ((on != prev)); then
                        read -r up _ </proc/uptime
                        printf '%s %s\n' "$up" "$on"
                        prev=$on
                fi
                sleep 0.2
        done
}
vmstat() {
        awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat
}
# MiB that process PID and its descendants hold on NODE (numa_maps).
tree_node_mib() {
        local pids=("$1") i=0 c
        while ((i < ${#pids[@]})); do
                for c in $(pgrep -P "${pids[i]}" || true); do
                        pids+=("$c")
                done
                i=$((i + 1))
        done
        for c in "${pids[@]}"; do
                cat "/proc/$c/numa_maps" 2>/dev/null || true
        done | awk -v k="N$2" '{ for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) n += a[2] } }
                END { printf "%d\n", n * 4 / 1024 }'
}
elapsed() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}
# stress-ng's verdict on its own run: LOG NAME RC STRESSORS...
check_stress_ng() {
        local slog=$1 name=$2 rc=$3 s ops
        shift 3
        grep -v ' debug: ' "$slog" | tail -12 >&2 || true
        report "${name}_exit" "$rc"
        ((rc == 0)) || fail "stress-ng $name exited with status $rc"
        grep -q 'successful run completed' "$slog" || fail "stress-ng $name did not report a successful run"
        if grep -E ' fail: |unsuccessful run|memory errors?|bit errors' "$slog" >&2; then
                fail "stress-ng $name reported a verification failure (above)"
        fi
        if grep -E 'OOM killer|out of memory' "$slog" >&2; then
                fail "stress-ng $name: a stressor was killed or short of memory (above)"
        fi
        for s in "$@"; do
                ops=$(awk -v s="$s" '$2 == "metrc:" && $4 == s && $5 ~ /^[0-9]+$/ { print $5 }' "$slog")
                [[ -n "$ops" ]] || fail "stress-ng $name: no metrics line for stressor $s"
                report "${name}_${s}_bogo_ops" "$ops"
                assert_ge "$ops" 1 "stress-ng $name: bogo ops of $s"
        done
}

avail_mib=$(($(meminfo MemAvailable) / 1024))
press_vm_mib=$((avail_mib + 200 - keep_mib))
report memavailable_mib_before "$avail_mib"
report keep_vm_mib "$keep_mib"
report press_vm_mib "$press_vm_mib"
migrated0=$(mp_prop PagesMigrated)
pgmigrate0=$(vmstat pgmigrate_success)

sample_node1 >/tmp/node1.samples &
sampler=$!
keep_args=(--vm 1 --vm-bytes "${keep_mib}M" --vm-keep
        --verify --timeout "${keep_s}s" --metrics-brief -v
        --yaml "$VMTEST_OUT/stress-ng-keep.yaml")
press_args=(--vm 2 --vm-bytes "${press_vm_mib}M"
        --mmap 1 --mmap-bytes 64M
        --malloc 1 --malloc-bytes 1M --malloc-max 64
        --bigheap 1 --bigheap-growth 1M --bigheap-ops 128
        --verify --timeout "${press_s}s" --metrics-brief -v
        --yaml "$VMTEST_OUT/stress-ng-press.yaml")
log "keep: numactl --preferred=1 stress-ng ${keep_args[*]}"
log "press: stress-ng ${press_args[*]}"
read -r t0 _ </proc/uptime
numactl --preferred=1 stress-ng "${keep_args[@]}" >"$VMTEST_OUT/stress-ng-keep.log" 2>&1 &
keep_pid=$!
press_rc=0
stress-ng "${press_args[@]}" >"$VMTEST_OUT/stress-ng-press.log" 2>&1 || press_rc=$?
read -r t1 _ </proc/uptime
log "press exited with $press_rc after $(elapsed "$t0" "$t1") s"
keep_node1=$(tree_node_mib "$keep_pid" 1)
report keep_node1_mib_after_press "$keep_node1"
report keep_node0_mib_after_press "$(tree_node_mib "$keep_pid" 0)"
report press_s "$(elapsed "$t0" "$t1")"
check_stress_ng "$VMTEST_OUT/stress-ng-press.log" press "$press_rc" vm mmap malloc bigheap
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log after press"

# Node 1 during press: blocks came back online.
online_before=$((total - offline_before))
max_online=$(awk -v a="$t0" -v b="$t1" -v m="$online_before" \
        '$1 >= a && $1 <= b && $2 > m { m = $2 } END { print m }' /tmp/node1.samples)
report node1_online_max_during "$max_online"
((max_online > online_before)) ||
        fail "no node-1 block came online during stress-ng (online before: $online_before)"
journalctl -u mempowerd -o cat --no-pager | grep -E 'Memory pressure' | head -3 >&2 || true

# keep goes on: node 1 is emptied under it.
kill -0 "$keep_pid" 2>/dev/null || fail "stress-ng keep ended before press did"
wait_clock $((keep_s - press_s)) node_count_ge 1 offline $((total - 2)) ||
        fail "node 1 not offline again under stress-ng keep: $(node_states 1 | tr '\n' ' ')"
read -r t2 _ </proc/uptime
report reoffline_under_keep_s "$(elapsed "$t1" "$t2")"
report node1_offline_under_keep "$(node_count 1 offline)"
keep_node1_end=$(tree_node_mib "$keep_pid" 1)
report keep_node1_mib_under_offline "$keep_node1_end"
report keep_node0_mib_under_offline "$(tree_node_mib "$keep_pid" 0)"
report pages_migrated_under_keep "$(($(mp_prop PagesMigrated) - migrated0))"
kill -0 "$keep_pid" 2>/dev/null || fail "stress-ng keep ended before node 1 was offline again"

keep_rc=0
wait "$keep_pid" || keep_rc=$?
read -r t3 _ </proc/uptime
log "keep exited with $keep_rc after $(elapsed "$t0" "$t3") s"
check_stress_ng "$VMTEST_OUT/stress-ng-keep.log" keep "$keep_rc" vm
report bytes_migrated_during "$((($(vmstat pgmigrate_success) - pgmigrate0) * 4096))"
report mp_bytes_migrated_during "$((($(mp_prop PagesMigrated) - migrated0) * 4096))"

# And offline again once keep has freed its memory too.
wait_clock 60 node_count_ge 1 offline $((total - 2)) ||
        fail "node 1 not offline after stress-ng: $(node_states 1 | tr '\n' ' ')"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
report node1_state_changes "$(wc -l </tmp/node1.samples)"
report node1_offline_end "$(node_count 1 offline)"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log at the end"
