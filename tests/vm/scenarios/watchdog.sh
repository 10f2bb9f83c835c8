#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd's watchdog and Restart=on-failure: a stopped (SIGSTOP) daemon is
# killed and restarted when WatchdogSec= expires; a SIGKILLed one is
# restarted and finds the real block states again.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

prop() {
        busctl --system get-property org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager "$1" |
                awk '{ print $2 }'
}
sysfs_offline() {
        local n=0 s d
        for d in "$sysmem"/memory[0-9]*; do
                read -r s <"$d/state"
                [[ "$s" == offline ]] && n=$((n + 1))
        done
        printf '%s\n' "$n"
}
main_pid() {
        systemctl show -p MainPID --value mempowerd
}
# Wait (at most $1 seconds) for a new, running main process other than $2.
wait_restarted() {
        local limit=$1 old=$2 i pid
        for ((i = 0; i < limit * 5; i++)); do
                pid=$(main_pid)
                if [[ "$pid" != 0 && "$pid" != "$old" && "$(systemctl is-active mempowerd)" == active ]] &&
                        busctl --system status org.mempowerd1 >/dev/null 2>&1; then
                        printf '%s\n' "$pid"
                        return 0
                fi
                sleep 0.2
        done
        return 1
}
on_exit() {
        (($? == 0)) || journalctl -u mempowerd --no-pager -o short-monotonic >&2 || true
}
trap on_exit EXIT

# A short watchdog, and a short wait between the watchdog's SIGABRT (which
# a stopped process cannot act on) and SIGKILL.
mkdir -p /run/systemd/system/mempowerd.service.d
cat >/run/systemd/system/mempowerd.service.d/50-watchdog-test.conf <<EOT
[Service]
WatchdogSec=4s
TimeoutAbortSec=2s
RestartSec=500ms
EOT
systemctl daemon-reload
assert_cmd "systemctl start mempowerd" systemctl start mempowerd
assert_eq "$(systemctl show -p WatchdogUSec --value mempowerd)" 4s "WatchdogUSec from the drop-in"

# ---- alive: the watchdog is fed ----
pid=$(main_pid)
sleep 10
assert_eq "$(main_pid)" "$pid" "same process after 2.5 watchdog periods"
assert_eq "$(systemctl show -p NRestarts --value mempowerd)" 0 "no restart while healthy"

# ---- SIGSTOP: the watchdog expires ----
t0=$(uptime_s)
kill -STOP "$pid"
new=$(wait_restarted 40 "$pid") || fail "not restarted within 40 s of SIGSTOP"
t1=$(uptime_s)
report watchdog_restart_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
journalctl -u mempowerd --no-pager -o cat | grep -q 'Watchdog timeout' ||
        fail "no 'Watchdog timeout' in the journal"
log "ok: watchdog timeout, restarted as $new"
assert_ge "$(systemctl show -p NRestarts --value mempowerd)" 1 "NRestarts after the watchdog"

# ---- SIGKILL: restarted, state found again ----
# Take a node-1 block offline behind the daemon's back while it is dead:
# the new instance must count it from sysfs, not remember anything.
mempowerctl pause
target=
for b in $(node_blocks 1 | sort -rn); do
        [[ "$(cat "$sysmem/memory$b/state")" == online ]] && { target=$b; break; }
done
kill -KILL "$new"
if [[ -n "$target" ]]; then
        echo offline >"$sysmem/memory$target/state" 2>/dev/null && log "memory$target offlined while the daemon was dead"
fi
new2=$(wait_restarted 30 "$new") || fail "not restarted within 30 s of SIGKILL"
log "ok: restarted after SIGKILL as $new2"
assert_eq "$(prop State)" '"running"' "a restarted daemon is not paused"
mempowerctl pause # hold its own offlining so the counts settle
ok=0
for ((i = 0; i < 50; i++)); do
        if [[ "$(prop BlocksOffline)" == "$(sysfs_offline)" ]]; then
                ok=1
                break
        fi
        sleep 0.2
done
((ok)) || fail "BlocksOffline $(prop BlocksOffline) != offline blocks in sysfs $(sysfs_offline)"
log "ok: BlocksOffline = sysfs ($(sysfs_offline)) after the restart"
assert_eq "$(prop BlocksTotal)" "$(ls -d "$sysmem"/memory[0-9]* | wc -l)" "BlocksTotal after the restart"

assert_cmd "systemctl stop mempowerd" systemctl stop mempowerd
rm -rf /run/systemd/system/mempowerd.service.d
systemctl daemon-reload
