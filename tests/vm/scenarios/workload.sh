#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 300 MiB bound to node 1 appear in `mempowerd --once --json` as movable
# pages of node-1 blocks, and the data stays intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

have_jq || fail "jq is missing on the guest root"
command -v mempowerd-workload >/dev/null || fail "mempowerd-workload is not installed in the guest"
mib=300

node1_movable_pages() {
        jq '[.blocks[] | select(.node == 1) | .movable_pages // 0] | add'
}

json=$(mempowerd_json) || fail "mempowerd --once --json failed"
page_size=$(jq -r .page_size_bytes <<<"$json")
base=$(node1_movable_pages <<<"$json")
report node1_movable_before_mib "$((base * page_size / 1048576))"

wl_start --policy bind --nodes 1 --seed 42
line=$(wl_cmd alloc "$mib")
report alloc_s "$(wl_field "$line" seconds)"
line=$(wl_cmd nodes)
node1_pages=$(wl_field "$line" node1)
assert_eq "$node1_pages" "$((mib * 1048576 / page_size))" "workload pages on node 1"
wl_cmd pfns >/dev/null

json=$(mempowerd_json) || fail "mempowerd --once --json failed"
printf '%s\n' "$json" >"$VMTEST_OUT/report.json"
now=$(node1_movable_pages <<<"$json")
report node1_movable_after_mib "$((now * page_size / 1048576))"
expected=$((base + mib * 1048576 / page_size))
assert_within "$now" "$expected" 5 "node-1 movable pages vs baseline + ${mib} MiB"

line=$(wl_cmd verify)
report verify_s "$(wl_field "$line" seconds)"
assert_eq "$(wl_field "$line" checked_bytes)" "$((mib * 1048576))" "bytes verified"
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"

# The verifier itself: flipped bytes are counted.
wl_cmd corrupt 3 >/dev/null
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 3 "wrong bytes after flipping 3"
wl_stop
