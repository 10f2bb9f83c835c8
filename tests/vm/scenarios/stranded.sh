#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Memory is never left offline with nobody watching: a stop gives back what
# mempowerd offlined; so does a start that fails on a bad configuration
# (exit 78: systemd will not restart it); KeepOfflineOnExit=yes keeps the
# blocks offline across a stop, and the next instance knows them.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

node1_offline() { node_count 1 offline; }
none_offline() { (($(node1_offline) == 0)); }

# ---- a stop ----
mp_start
mp_wait_consolidated 2
n=$(node1_offline)
report offline_before_stop "$n"
read -r t0 _ </proc/uptime
systemctl stop mempowerd
read -r t1 _ </proc/uptime
report stop_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
assert_eq "$(node1_offline)" 0 "node-1 blocks offline after the stop"
assert_eq "$(systemctl show -p Result --value mempowerd)" success "Result of the stop"
assert_eq "$(awk '$1 == "offline"' /run/mempowerd/state)" "" "state file after the stop"

# ---- a restart into a bad configuration ----
mp_start
mp_wait_consolidated 2
report offline_before_bad_config "$(node1_offline)"
mp_config "[Daemon]
TickSec=banana"
main=$(systemctl show -p MainPID --value mempowerd)
kill -KILL "$main" # a crash: systemd restarts it, into the bad file
failed_for_good() { [[ "$(systemctl is-failed mempowerd)" == failed ]]; }
wait_until 30 failed_for_good || fail "mempowerd is $(systemctl is-active mempowerd), expected failed"
assert_eq "$(systemctl show -p ExecMainStatus --value mempowerd)" 78 "exit status with the bad file"
wait_until 10 none_offline || fail "node-1 blocks still offline after the bad start: $(node_states 1 | tr '\n' ' ')"
journalctl -u mempowerd -o cat --no-pager | grep -q 'TickSec' || fail "the bad line was not reported"
log "ok: exit 78, and everything given back"
systemctl reset-failed mempowerd

# ---- KeepOfflineOnExit=yes ----
mp_config "[Policy]
KeepOfflineOnExit=yes"
mp_start
mp_wait_consolidated 2
n=$(node1_offline)
systemctl stop mempowerd
assert_eq "$(node1_offline)" "$n" "offline blocks kept with KeepOfflineOnExit=yes"
assert_eq "$(awk '$1 == "offline"' /run/mempowerd/state | wc -l)" "$n" "state file lines"
mp_config ""
mp_start
journalctl -u mempowerd -o cat --no-pager | grep -q "$n offline blocks are mempowerd's own" ||
        fail "the next instance did not take the kept blocks over"
systemctl stop mempowerd
assert_eq "$(node1_offline)" 0 "node-1 blocks offline after the last stop"
