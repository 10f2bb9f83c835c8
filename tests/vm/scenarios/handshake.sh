#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The first-use / next-free handshake on node 1: the workload fills node 1
# past its first block (blocks mempowerd onlines for it are first used),
# then frees most of it (the next free). Within 30 s of the free mempowerd
# has moved the remaining pages off with move_pages and offlined every
# node-1 block that holds no unmovable page but the node's lowest; the
# workload's data is intact.
# The handshake, not the sweep, must have started the evacuations after the
# free: the journal's MEMPOWERD_REASON= field of their "offline after"
# messages says so, and EvacuationsHandshake counts them.
# It also checks the D-Bus signals: `busctl monitor` sees BlockOffline
# (and BlockOnline) for each block that changed state while it watched.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

have_jq || fail "jq is missing on the guest root"
mp_start
lowest=$(node_blocks 1 | head -n 1)
assert_ge "$(node_blocks 1 | wc -l)" 8 "node-1 blocks"

# At start the consolidation sweep takes the empty node-1 blocks offline,
# keeping NodeMinFreeMiB free on the node.
mp_wait_consolidated 2
report node1_offline_at_start "$(node_count 1 offline)"

# Every BlockOffline/BlockOnline signal from here on. The monitor is
# surely subscribed from t_sub on; it can have seen nothing before t_start.
read -r t_start _ </proc/uptime
busctl --system monitor --json=short \
        --match "type='signal',interface='org.mempowerd1.Manager'" >/tmp/signals.json 2>/dev/null &
monitor_pid=$!
sleep 1
read -r t_sub _ </proc/uptime

# First use: 400 MiB bound to node 1 need blocks the daemon brings back.
wl_start --policy bind --nodes 1 --seed 7
line=$(wl_cmd alloc 400)
report alloc_s "$(wl_field "$line" seconds)"
assert_eq "$(oom_kills)" 0 "OOM kills while filling node 1"
wait_until 20 journalctl -u mempowerd -o cat -g "first use noted" --no-pager -q ||
        fail "no first use noted"
log "node 1 after the fill: $(node_states 1 | tr '\n' ' ')"
migrated_before=$(mp_prop PagesMigrated)

# Next free: 90 % of it goes back.
line=$(wl_cmd free-part 90)
read -r t_free _ </proc/uptime
all_off() {
        local i s
        for i in $(node_blocks 1); do
                [[ "$i" == "$lowest" ]] && continue
                read -r s <"$sysmem/memory$i/state"
                [[ "$s" == offline ]] || return 1
        done
}
if wait_until 30 all_off; then
        read -r t_done _ </proc/uptime
        report free_to_all_offline_s "$(awk -v a="$t_free" -v b="$t_done" 'BEGIN { printf "%.1f", b - a }')"
else
        # A block left online must hold unmovable pages to be excused.
        json=$(mempowerd_json)
        for i in $(node_blocks 1); do
                [[ "$i" == "$lowest" ]] && continue
                read -r s <"$sysmem/memory$i/state"
                [[ "$s" == offline ]] && continue
                u=$(jq ".blocks[] | select(.index == $i) | .unmovable_pages" <<<"$json")
                ((u > 0)) || fail "memory$i still online 30 s after the free with no unmovable page"
        done
fi
# When the first block went offline after the free: the handshake latency.
first_off=$(log_times ': offline after' | awk -v t="$t_free" '$1 >= t { printf "%.1f\n", $1 - t; exit }')
[[ -z "$first_off" ]] || report free_to_first_offline_s "$first_off"

# Who started the evacuations that ended after the free: the structured
# field, not the message text.
by_reason() { # reason → "offline after" messages with that field since the free
        journalctl -u mempowerd -o json --no-pager MEMPOWERD_REASON="$1" |
                jq -r --argjson t "$t_free" 'select((.__MONOTONIC_TIMESTAMP | tonumber) / 1e6 >= $t)
                        | .MESSAGE | select(test(": offline after"))' | wc -l
}
hs=$(by_reason handshake) sw=$(by_reason sweep)
report offlined_by_handshake "$hs"
report offlined_by_sweep "$sw"
assert_ge "$hs" 1 "blocks the handshake offlined after the free"
assert_ge "$(mp_prop EvacuationsHandshake)" "$hs" "EvacuationsHandshake"

migrated=$(mp_prop PagesMigrated)
report pages_migrated "$((migrated - migrated_before))"
assert_ge "$((migrated - migrated_before))" 1 "pages moved by move_pages after the free"
report evacuations_succeeded "$(mp_prop EvacuationsSucceeded)"
report node1_offline_at_end "$(node_count 1 offline)"

# Signals: one BlockOffline per block the daemon offlined while the
# monitor ran, one BlockOnline per block it onlined.
sleep 1
kill "$monitor_pid" 2>/dev/null || true
wait "$monitor_pid" 2>/dev/null || true
signalled() { # member → block indices, sorted as comm wants
        jq -r --arg m "$1" 'select(.member == $m) | .payload.data[0]' /tmp/signals.json | sort
}
logged() { # since, pattern → block indices the daemon logged after since
        journalctl -u mempowerd -o short-monotonic --no-pager |
                awk -v t="$1" -v p="$2" 'index($0, p) && match($0, /[0-9]+\.[0-9]+/) &&
                        substr($0, RSTART, RLENGTH) + 0 >= t + 0' |
                sed -n 's/.* memory\([0-9]*\): .*/\1/p' | sort
}
# multisets: what was logged while subscribed was signalled, and what was
# signalled was logged since the monitor started
check_signals() { # member, log pattern
        local missing extra
        missing=$(comm -23 <(logged "$t_sub" "$2") <(signalled "$1") | tr '\n' ' ')
        extra=$(comm -13 <(logged "$t_start" "$2") <(signalled "$1") | tr '\n' ' ')
        [[ -z "$missing" ]] || fail "$1 missing for blocks: $missing"
        [[ -z "$extra" ]] || fail "$1 without a state change, or twice, for blocks: $extra"
        log "ok: $1 signals match the state changes ($(signalled "$1" | tr '\n' ' '))"
}
check_signals BlockOffline ': offline after'
check_signals BlockOnline ': online ('
report block_offline_signals "$(signalled BlockOffline | wc -l)"
((${#lowest} > 0 && $(signalled BlockOffline | wc -l) > 0)) || fail "no BlockOffline signal seen"

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes after the evacuation"
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
