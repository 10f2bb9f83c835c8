#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mempowerd-workload's pin really pins: a node-1 block holding a page the
# workload vmspliced into a pipe cannot be offlined (the kernel retries
# until interrupted); once unpinned it goes offline, its pages migrate
# and the data is intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

command -v mempowerd-workload >/dev/null || fail "mempowerd-workload is not installed in the guest"

wl_start --policy bind --nodes 1 --thp never --seed 7
wl_cmd alloc 64 >/dev/null
line=$(wl_cmd pin 1)
blocks=$(wl_field "$line" blocks)
[[ "$blocks" =~ ^([0-9]+):1$ ]] || fail "pinned page in unexpected blocks '$blocks'"
b=${BASH_REMATCH[1]}
assert_eq "$(block_node "$b")" 1 "node of the block holding the pinned page"
state=$sysmem/memory$b/state

# Offline loops while the page is pinned: bound it, SIGTERM ends it (EINTR on 6.1).
t0=$(uptime_s)
if timeout 5 bash -c "echo offline >'$state'" 2>/dev/null; then
        fail "block $b went offline with a pinned page"
fi
t1=$(uptime_s)
report pinned_offline_attempt_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
assert_eq "$(<"$state")" online "block $b after the refused offline"

wl_cmd unpin >/dev/null
t0=$(uptime_s)
echo offline >"$state" || fail "offline of block $b failed after unpin"
t1=$(uptime_s)
report unpinned_offline_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
assert_eq "$(<"$state")" offline "block $b after unpin and offline"

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes after migration"
line=$(wl_cmd pfns)
[[ ",$(wl_field "$line" blocks)" != *",$b:"* ]] || fail "workload pages still in offline block $b"
echo online_movable >"$state" || fail "online_movable of block $b failed"
wl_stop
