#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A node-1 block holds pages the workload pinned (vmsplice into a pipe it
# keeps open), so the kernel's offline of that block loops. mempowerd ends
# each attempt within TimeoutSec, backs off (attempts are counted), and
# while the block is stuck a pressure spike still gets memory back online in
# time: no OOM kill, all data intact. After a timed-out attempt the journal
# names the workload as holding the block, and so does mempowerctl explain
# (for root only).
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

timeout_s=5 backoff_s=5 watch_s=20
mp_config "[Offline]
TimeoutSec=$timeout_s
BackoffInitialSec=$backoff_s
BackoffMaxSec=20"
mp_start
mp_wait_consolidated 2

# 200 MiB on node 1 spill past its lowest block; half of it is freed (the
# oldest chunks), and one page in 32 of the rest is pinned, so the blocks
# still holding the workload hold pinned pages: worth emptying, and not
# possible.
lowest=$(node_blocks 1 | head -n 1)
wl_start --policy bind --nodes 1 --seed 3
wl_cmd alloc 200 >/dev/null
wl_cmd free-part 50 >/dev/null
read -r t0 _ </proc/uptime
line=$(wl_cmd pin 736 32)
wl_cmd pfns
pinned_blocks=$(wl_field "$line" blocks | tr ',' '\n' | cut -d: -f1 | grep -vx "$lowest" || true)
[[ -n "$pinned_blocks" ]] || skip "the pinned pages all landed in the lowest node-1 block"
log "pinned pages in blocks: $(wl_field "$line" blocks)"

# Phase 1: every attempt is ended after TimeoutSec and backed off.
wait_until 60 journalctl -u mempowerd -o cat --no-pager -q -g 'offline timed out' ||
        fail "no offline attempt timed out"
stuck=$(journalctl -u mempowerd -o cat --no-pager -g 'offline timed out' | head -n 1 |
        sed -n 's/^memory\([0-9]*\):.*/\1/p')
grep -qx "$stuck" <<<"$pinned_blocks" || fail "memory$stuck timed out but holds no pinned page"
log "memory$stuck is stuck on pinned pages"

# What holds it: the journal names the workload after the timeout
# (MESSAGE_ID= of "held by"), and so does ExplainBlock(), for root; for
# another user the workload (root's) is counted, not named.
held_id=ba2c1f13481f410e95da39810b1e69d2
held_by() {
        journalctl -u mempowerd MESSAGE_ID=$held_id MEMPOWERD_BLOCK="$stuck" -o cat --no-pager |
                grep -q "\[$wl_pid\]"
}
wait_until 30 held_by || fail "the journal does not name pid $wl_pid as holding memory$stuck: $(journalctl -u mempowerd MESSAGE_ID=$held_id -o cat --no-pager | tail -3)"
journalctl -u mempowerd MESSAGE_ID=$held_id -o cat --no-pager | head -n 1 | while read -r l; do log "journal: $l"; done
mempowerctl explain "$stuck" >/tmp/explain.txt || fail "mempowerctl explain $stuck exited $?"
sed 's/^/explain: /' /tmp/explain.txt >&2
json=$(mempowerctl --json explain "$stuck") || fail "mempowerctl --json explain exited $?"
wl_bytes=$(jq --argjson p "$wl_pid" '[.holders[] | select(.pid == $p) | .bytes] | add // 0' <<<"$json")
report explain_workload_bytes "$wl_bytes"
assert_ge "$wl_bytes" 4096 "bytes of memory$stuck the workload maps, by ExplainBlock()"
assert_eq "$(jq -r --argjson p "$wl_pid" '.holders[] | select(.pid == $p) | .command' <<<"$json")" \
        mempowerd-workl "the workload's command in ExplainBlock()"
json=$(setpriv --reuid=65534 --regid=65534 --clear-groups mempowerctl --json explain "$stuck") ||
        fail "nobody: mempowerctl explain exited $?"
assert_eq "$(jq --argjson p "$wl_pid" '[.holders[] | select(.pid == $p)] | length' <<<"$json")" 0 \
        "root's workload among the holders shown to nobody"
assert_eq "$(jq '.holders_total.own_processes_only' <<<"$json")" true "nobody is shown only its own processes"
sleep "$watch_s"
read -r t1 _ </proc/uptime
since_t0() { # pattern → how many daemon log lines with it came after t0
        log_times "$1" | awk -v t="$t0" '$1 >= t { n++ } END { print n + 0 }'
}
attempts=$(since_t0 "memory$stuck: evacuating")
timeouts=$(since_t0 "memory$stuck: evacuation failed: offline timed out")
window=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", b - a }')
report attempts_on_stuck_block "$attempts"
report window_s "$window"
# Doubling from BackoffInitialSec: attempts at 0, 10, 30, 70 s... plus the
# time each takes. One per tick would be hammering.
max=$((2 + window / backoff_s))
((attempts >= 2 && attempts <= max)) || fail "$attempts attempts on memory$stuck in ${window}s (expected 2..$max)"
# all but one still in flight were ended by the timeout
((timeouts >= attempts - 1)) || fail "$timeouts of $attempts attempts ended by the timeout"
# Every attempt was ended: no worker is older than TimeoutSec (one may be
# in flight right now).
main_pid=$(systemctl show -p MainPID --value mempowerd)
for p in $(pgrep -x mempowerd); do
        [[ "$p" == "$main_pid" ]] && continue
        age=$(ps -o etimes= -p "$p" | tr -d ' ')
        [[ -z "$age" ]] || ((age <= timeout_s + 2)) || fail "worker $p is ${age}s old (TimeoutSec=$timeout_s)"
done

# Phase 2: an attempt left stuck (long timeout) and a pressure spike: the
# daemon must end the offline (it holds the hotplug lock) and online blocks.
mp_config "[Offline]
TimeoutSec=300
BackoffInitialSec=$backoff_s
BackoffMaxSec=10"
read -r t_reload _ </proc/uptime
systemctl reload mempowerd
# An attempt in flight keeps the timeout it started with: wait for one
# started after the reload.
going_offline() { [[ "$(cat "$sysmem/memory$stuck/state")" == going-offline ]]; }
tried_again() {
        log_times "memory$stuck: evacuating" | awk -v t="$t_reload" '$1 >= t { n++ } END { exit !n }' &&
                going_offline
}
wait_until 90 tried_again || fail "memory$stuck was not tried again"
log "memory$stuck is going-offline, stuck; spiking"
avail=$(($(meminfo MemAvailable) / 1024))
spike=$((avail + 300))
report spike_mib "$spike"
read -r s0 _ </proc/uptime
mempowerd-workload --seed 9 -e "alloc $spike" -e verify >/tmp/spike.out 2>&1 ||
        fail "spike workload failed: $(cat /tmp/spike.out)"
read -r s1 _ </proc/uptime
report spike_s "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.1f", b - a }')"
grep -q 'wrong_bytes=0' /tmp/spike.out || fail "spike workload: $(cat /tmp/spike.out)"
assert_eq "$(oom_kills)" 0 "OOM kills during the spike"
t_end=$(log_times "ending the evacuation of memory$stuck" | head -n 1)
[[ -n "$t_end" ]] || fail "the stuck offline was not ended for the pressure"
# Once the offline (which holds the hotplug lock) is ended, blocks come online
# at once; a later attempt on the stuck block after the quiet time is fine.
t_on=$(log_times ": online (" | awk -v t="$t_end" '$1 >= t { print; exit }')
[[ -n "$t_on" ]] || fail "no block onlined after the stuck offline was ended"
report stuck_end_to_online_s "$(awk -v a="$t_end" -v b="$t_on" 'BEGIN { printf "%.2f", b - a }')"
awk -v a="$t_end" -v b="$t_on" 'BEGIN { exit !(b - a <= 2) }' ||
        fail "blocks came online $(awk -v a="$t_end" -v b="$t_on" 'BEGIN { print b - a }')s after the offline was ended"

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes of the pinned workload"
wl_cmd unpin >/dev/null
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
