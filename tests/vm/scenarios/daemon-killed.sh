#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon SIGKILLed while its worker's offline loops (a block with pinned
# pages) and holds the hotplug lock. Afterwards no block is going-offline and
# no worker is left (it dies with its parent), systemd has restarted the
# daemon at once (not after TimeoutStopSec), and the new instance knows the
# blocks the old one offlined (its state file in /run/mempowerd) and gives
# them back under pressure: no OOM kill, all data intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

# A long TimeoutSec: the offline must still be looping when the kill comes.
mp_config "[Offline]
TimeoutSec=120
BackoffInitialSec=5"
mp_start
mp_wait_consolidated 2
# the sweep may go on with one more: wait until nothing changes for 3 s
settled() {
        local a
        a=$(node_states 1)
        sleep 3
        [[ "$a" == "$(node_states 1)" ]]
}
wait_until 60 settled || fail "node 1 did not settle: $(node_states 1 | tr '\n' ' ')"
mapfile -t owned < <(node_states 1 | awk '$2 == "offline" { print $1 }')
report offline_before_kill "${#owned[@]}"
grep -c '^offline ' /run/mempowerd/state >/dev/null || fail "no state file: $(cat /run/mempowerd/state)"
assert_eq "$(awk '$1 == "offline" { print $2 }' /run/mempowerd/state | sort -n | tr '\n' ' ')" \
        "$(printf '%s\n' "${owned[@]}" | sort -n | tr '\n' ' ')" "blocks in the state file"

# Pinned pages in the node-1 blocks still online, as in the unmovable scenario.
lowest=$(node_blocks 1 | head -n 1)
wl_start --policy bind --nodes 1 --seed 3
wl_cmd alloc 200 >/dev/null
wl_cmd free-part 50 >/dev/null
line=$(wl_cmd pin 736 32)
pinned=$(wl_field "$line" blocks | tr ',' '\n' | cut -d: -f1 | grep -vx "$lowest" || true)
[[ -n "$pinned" ]] || skip "the pinned pages all landed in the lowest node-1 block"
stuck_block() {
        local i s
        for i in $pinned; do
                read -r s <"$sysmem/memory$i/state"
                if [[ "$s" == going-offline ]]; then
                        printf '%s\n' "$i"
                        return 0
                fi
        done
        return 1
}
wait_until 90 stuck_block >/dev/null || fail "no pinned block went going-offline"
stuck=$(stuck_block)
main=$(systemctl show -p MainPID --value mempowerd)
mapfile -t workers < <(pgrep -P "$main" || true)
((${#workers[@]} > 0)) || fail "no worker under the daemon while memory$stuck is going-offline"
log "memory$stuck is going-offline (worker ${workers[*]}); SIGKILL to the daemon $main"

read -r t0 _ </proc/uptime
kill -KILL "$main"
not_going_offline() { [[ "$(cat "$sysmem/memory$stuck/state")" != going-offline ]]; }
wait_until 10 not_going_offline || fail "memory$stuck still going-offline 10 s after the kill"
read -r t1 _ </proc/uptime
report kill_to_offline_ended_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
for w in "${workers[@]}"; do
        kill -0 "$w" 2>/dev/null && fail "worker $w outlived the daemon"
done
restarted() {
        local pid
        pid=$(systemctl show -p MainPID --value mempowerd)
        [[ "$pid" != 0 && "$pid" != "$main" && "$(systemctl is-active mempowerd)" == active ]]
}
wait_until 30 restarted || fail "not restarted within 30 s of the kill"
read -r t2 _ </proc/uptime
report kill_to_restarted_s "$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')"
awk -v a="$t0" -v b="$t2" 'BEGIN { exit !(b - a < 15) }' ||
        fail "restart took $(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }') s (a worker holding the stop?)"
assert_ge "$(systemctl show -p NRestarts --value mempowerd)" 1 "NRestarts"
journalctl -u mempowerd -o cat --no-pager | grep -q "blocks are mempowerd's own" ||
        fail "the restarted daemon did not read its state file"
mempowerctl pause # nothing more goes offline: what is offline now is the old instance's

# Pressure: more than is available, on any node.
still_offline=()
for b in "${owned[@]}"; do
        [[ "$(cat "$sysmem/memory$b/state")" == offline ]] && still_offline+=("$b")
done
((${#still_offline[@]} > 0)) || fail "none of the old instance's blocks is offline any more"
spike=$(($(meminfo MemAvailable) / 1024 + 200))
report spike_mib "$spike"
mempowerd-workload --seed 9 -e "alloc $spike" -e verify >/tmp/spike.out 2>&1 ||
        fail "spike workload failed: $(cat /tmp/spike.out)"
grep -q 'wrong_bytes=0' /tmp/spike.out || fail "spike workload: $(cat /tmp/spike.out)"
back=0
for b in "${still_offline[@]}"; do
        [[ "$(cat "$sysmem/memory$b/state")" == online ]] && back=$((back + 1))
done
report given_back_of_old "$back of ${#still_offline[@]}"
((back > 0)) || fail "no block of the old instance was given back under pressure"
assert_eq "$(oom_kills)" 0 "OOM kills"
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes of the pinned workload"
wl_cmd unpin >/dev/null
wl_stop
