#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-layout: DIMMS=2 DIMM_MIB=512
# EjectEmptyDevices=yes with Domains=device: a DIMM that mempowerd emptied
# and offlined whole is ejected, the guest kernel removes its blocks, and
# QEMU no longer lists it (info memory-devices): the host got it back.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

dimm_count() { vm_monitor "info memory-devices" | grep -c 'Memory device \[dimm\]'; }
before=$(dimm_count)
assert_eq "$before" 2 "DIMMs QEMU lists"
blocks_before=$(node_blocks 1 | wc -l)

mp_config '[Power]
Domains=device
EjectEmptyDevices=yes'
mp_start
wait_until 180 eval '(($(dimm_count) < 2))' ||
        fail "no DIMM ejected: $(node_states 1 | tr '\n' ' '); $(journalctl -u mempowerd -o cat --no-pager | tail -5)"
report dimms_after "$(dimm_count)"
journalctl -u mempowerd -o cat --no-pager -q -g "ejected" | head -2 | grep -q . || fail "no word of the eject"
wait_until 30 eval '(($(node_blocks 1 | wc -l) < blocks_before))' || fail "the DIMM's blocks are still there"
report node1_blocks_after "$(node_blocks 1 | wc -l)"
[[ "$(systemctl is-active mempowerd)" == active ]] || fail "mempowerd is not active"
assert_eq "$(oom_kills)" 0 "OOM kills"
