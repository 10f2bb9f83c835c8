#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ZONE_NORMAL is the kernel's own memory: a Normal block is never offlined
# by default; with OfflineKernelZones=yes it is, and it comes back into
# ZONE_NORMAL (read back from valid_zones), not Movable.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

# A DIMM hot-added offline, onlined by hand into ZONE_NORMAL.
echo offline >"$sysmem/auto_online_blocks"
last=$(node_blocks 1 | tail -n 1)
vm_hotadd_dimm 256M 1 >/dev/null
two_new() { (($(node_blocks 1 | awk -v l="$last" '$1 > l' | wc -l) == 2)); }
wait_until 20 two_new || fail "the hot-added blocks did not appear on node 1"
mapfile -t normal < <(node_blocks 1 | awk -v l="$last" '$1 > l')
for b in "${normal[@]}"; do
        echo online_kernel >"$sysmem/memory$b/state" || skip "memory$b cannot be onlined into a kernel zone here"
        assert_eq "$(cat "$sysmem/memory$b/valid_zones")" Normal "memory$b zone"
done
log "ZONE_NORMAL blocks: ${normal[*]}"

# ---- default: never a target ----
mp_start
mp_wait_consolidated 3 # the lowest and the two Normal blocks stay
sleep 5
for b in "${normal[@]}"; do
        assert_eq "$(cat "$sysmem/memory$b/state")" online "memory$b (Normal) by default"
done
action=$(mempowerctl --json blocks | jq -r --argjson b "${normal[0]}" '.blocks[] | select(.index == $b) | .action')
assert_eq "$action" kernel-zone "the daemon's word for memory${normal[0]}"

# ---- OfflineKernelZones=yes ----
mp_config "[Policy]
OfflineKernelZones=yes"
systemctl reload mempowerd
# The kernel may have put a page of its own in one of them (then it is
# unmovable-pages): at least one must go.
offlined=()
some_normal_offline() {
        local b
        offlined=()
        for b in "${normal[@]}"; do
                [[ "$(cat "$sysmem/memory$b/state")" == offline ]] && offlined+=("$b")
        done
        ((${#offlined[@]} > 0))
}
if ! wait_until 60 some_normal_offline; then
        mempowerctl --json blocks | jq -c --argjson a "${normal[0]}" --argjson b "${normal[1]}" \
                '.blocks[] | select(.index == $a or .index == $b)' >&2
        fail "no Normal block was offlined with OfflineKernelZones=yes"
fi
sleep 3
some_normal_offline || true
report normal_blocks_offline "${#offlined[@]} of ${#normal[@]}"
for b in "${offlined[@]}"; do
        grep -qx "offline $b Normal" /run/mempowerd/state ||
                fail "the state file does not remember memory$b's zone: $(cat /run/mempowerd/state)"
done
for b in "${normal[@]}"; do
        [[ " ${offlined[*]} " == *" $b "* ]] && continue
        action=$(mempowerctl --json blocks | jq -r --argjson b "$b" '.blocks[] | select(.index == $b) | .action')
        [[ "$action" == unmovable-pages || "$action" == unidentified-pages ]] ||
                fail "memory$b (Normal) stayed online: $action"
done

# Back: the stop gives everything back, each into the zone it came from.
systemctl stop mempowerd
for b in "${normal[@]}"; do
        assert_eq "$(cat "$sysmem/memory$b/state")" online "memory$b after the stop"
        assert_eq "$(cat "$sysmem/memory$b/valid_zones")" Normal "memory$b zone after the stop"
done
for b in $(node_blocks 1 | awk -v l="$last" '$1 <= l'); do
        assert_eq "$(cat "$sysmem/memory$b/valid_zones")" Movable "memory$b zone after the stop"
done
journalctl -u mempowerd -o cat --no-pager | grep -q "memory${offlined[0]}: online (exit), zone Normal" ||
        fail "no online into Normal logged for memory${offlined[0]}"
