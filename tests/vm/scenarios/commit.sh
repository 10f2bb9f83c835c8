#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm.overcommit_memory=2 (overcommit_ratio=50): every offline block lowers
# CommitLimit by half its size. With part of the headroom committed before
# mempowerd starts, offlining all it could by MemAvailable (7 node-1 blocks)
# would leave less headroom than the reserve; the commit headroom must stop
# the consolidation earlier. A program that then commits (maps, without
# touching) what the reserve promises gets it; after it did, mempowerd sees
# the headroom short (commit pressure) and gives memory back until it is
# there again: a second such commit succeeds too.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

echo 2 >/proc/sys/vm/overcommit_memory
echo 50 >/proc/sys/vm/overcommit_ratio
headroom_mib() { echo $((($(meminfo CommitLimit) - $(meminfo Committed_AS)) / 1024)); }
report headroom_mib_before "$(headroom_mib)"
# Leave twice the reserve (256 MiB) and a bit: 7 offline blocks take 448 MiB.
reserve_mib=256
pre=$(($(headroom_mib) - 2 * reserve_mib - 30))
((pre > 0)) || skip "too little commit headroom in this guest ($(headroom_mib) MiB)"
report committed_before_start_mib "$pre"
mempowerd-workload --seed 2 -e "commit $pre" -e hold >/tmp/pre.out 2>&1 &
pre_pid=$!
wait_until 10 grep -q '^commit' /tmp/pre.out || fail "pre-commit: $(cat /tmp/pre.out)"
mp_start
settled() { # no evacuation for 4 s
        local a b
        a=$(mp_prop EvacuationsStarted)
        sleep 4
        b=$(mp_prop EvacuationsStarted)
        [[ "$a" == "$b" ]]
}
wait_until 60 settled || fail "mempowerd did not settle"
assert_eq "$(($(mp_prop ReserveBytes) >> 20))" "$reserve_mib" "ReserveBytes"
report node1_offline "$(node_count 1 offline)"
assert_ge "$(node_count 1 offline)" 1 "node-1 blocks offline (the headroom allows some)"
(($(node_count 1 offline) < 7)) || fail "all 7 blocks offline: the commit headroom did not stop the consolidation"
report headroom_mib_settled "$(headroom_mib)"
assert_ge "$(headroom_mib)" "$reserve_mib" "commit headroom kept by mempowerd"

wl_start --seed 4
line=$(wl_cmd commit "$reserve_mib")
log "first commit: $line"
headroom_back() { (($(headroom_mib) >= reserve_mib)); }
read -r t0 _ </proc/uptime
wait_until 20 headroom_back || fail "commit headroom not given back: $(headroom_mib) MiB"
read -r t1 _ </proc/uptime
report headroom_back_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
journalctl -u mempowerd -o cat --no-pager | grep -q 'Memory pressure (commit' ||
        fail "no commit pressure logged"
line=$(wl_cmd commit "$reserve_mib")
log "second commit: $line"
wl_stop
kill "$pre_pid" 2>/dev/null || true
assert_eq "$(oom_kills)" 0 "OOM kills"
