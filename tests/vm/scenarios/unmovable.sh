#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A node-1 block holds pages the workload pinned (vmsplice into a pipe it
# keeps open), so the kernel's offline of that block loops. mempowerd ends
# each attempt within TimeoutSec, backs off (attempts are counted), and
# while the block is stuck a pressure spike still gets memory back online in
# time: no OOM kill, all data intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

timeout_s=5 backoff_s=10 watch_s=60
mp_config "[Offline]
TimeoutSec=$timeout_s
BackoffInitialSec=$backoff_s
BackoffMaxSec=40"
mp_start
total=$(node_blocks 1 | wc -l)
mp_wait 60 node_count_ge 1 offline $((total - 2)) ||
        fail "node-1 blocks not offlined at start: $(node_states 1 | tr '\n' ' ')"

# 200 MiB on node 1 spill past its lowest block; one page in 64 is pinned,
# so every block the workload uses holds pinned pages. Then most of it is
# freed: the blocks are worth emptying, and cannot be.
wl_start --policy bind --nodes 1 --seed 3
wl_cmd alloc 200 >/dev/null
wl_cmd pin 800 64 >/dev/null
wl_cmd pfns
wl_cmd free-part 50 >/dev/null
read -r t0 _ </proc/uptime

# Wait for an offline attempt that is stuck, then spike.
mp_wait 60 journalctl -u mempowerd -o cat --no-pager -q -g 'offline timed out' ||
        fail "no offline attempt timed out"
stuck=$(journalctl -u mempowerd -o cat --no-pager -g 'offline timed out' | head -n 1 |
        sed -n 's/^memory\([0-9]*\):.*/\1/p')
log "memory$stuck is stuck on pinned pages"
mp_wait 60 journalctl -u mempowerd -o cat --no-pager -q -g "memory$stuck: evacuating" --since "-2s" ||
        log "no second attempt within 60 s (back-off)"

# The spike: more than is available, default policy.
avail=$(($(meminfo MemAvailable) / 1024))
spike=$((avail + 300))
report spike_mib "$spike"
mempowerd-workload --seed 9 -e "alloc $spike" -e verify >/tmp/spike.out 2>&1 ||
        fail "spike workload failed: $(cat /tmp/spike.out)"
grep -q 'wrong_bytes=0' /tmp/spike.out || fail "spike workload: $(cat /tmp/spike.out)"
assert_eq "$(oom_kills)" 0 "OOM kills during the spike"

# Let the back-off run for the rest of the watch window, then count.
read -r t1 _ </proc/uptime
rest=$(awk -v a="$t0" -v b="$t1" -v w="$watch_s" 'BEGIN { r = w - (b - a); print (r > 0 ? int(r) : 0) }')
sleep "$rest"
read -r t2 _ </proc/uptime
attempts=$(journalctl -u mempowerd -o cat --no-pager | grep -c "^memory$stuck: evacuating" || true)
window=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%d", b - a }')
report attempts_on_stuck_block "$attempts"
report window_s "$window"
# Doubling from BackoffInitialSec: attempts at 0, 10, 30, 70 s... plus
# the time each attempt takes. Anything like one per tick is hammering.
max=$((2 + window / backoff_s))
((attempts >= 1 && attempts <= max)) || fail "$attempts attempts on memory$stuck in ${window}s (at most $max)"
# Every timed-out attempt was ended: no worker is left behind.
assert_eq "$(pgrep -c -x mempowerd || true)" 1 "mempowerd processes (no stuck worker)"
journalctl -u mempowerd -o cat --no-pager | grep -E "memory$stuck: (evacuation failed|offline timed out)" | head -6

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes of the pinned workload"
wl_cmd unpin >/dev/null
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
