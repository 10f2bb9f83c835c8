#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bus policy (org.mempowerd1.conf) on the real system bus: an
# unprivileged user reads the status and the block list, and is refused
# every control method and the bus name; nothing changes.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

command -v mempowerctl >/dev/null || fail "mempowerctl is not installed in the guest"
command -v setpriv >/dev/null || skip "no setpriv in the guest"

prop() {
        busctl --system get-property org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager "$1" |
                awk '{ print $2 }'
}
# As nobody, with no supplementary groups and no capabilities.
nobody() {
        setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
}
on_exit() {
        (($? == 0)) || journalctl -u mempowerd -u dbus --no-pager -o short-monotonic >&2 || true
}
trap on_exit EXIT

assert_cmd "systemctl start mempowerd" systemctl start mempowerd
# A known state: paused, so that the daemon itself changes nothing while
# the refused calls are checked.
assert_cmd "root: mempowerctl pause" mempowerctl pause
assert_eq "$(prop State)" '"paused"' "State after root's pause"
offline=$(prop BlocksOffline)

# ---- reading is for everyone ----
total=$(nobody busctl --system get-property org.mempowerd1 /org/mempowerd1 \
        org.mempowerd1.Manager BlocksTotal) || fail "nobody cannot read BlocksTotal"
assert_eq "$total" "u $(prop BlocksTotal)" "nobody reads BlocksTotal"
assert_cmd "nobody: GetAll" nobody busctl --system call org.mempowerd1 /org/mempowerd1 \
        org.freedesktop.DBus.Properties GetAll s org.mempowerd1.Manager
assert_cmd "nobody: introspect" nobody busctl --system introspect org.mempowerd1 /org/mempowerd1
assert_cmd "nobody: Peer.Ping" nobody busctl --system call org.mempowerd1 /org/mempowerd1 \
        org.freedesktop.DBus.Peer Ping
n=$(nobody busctl --system --json=short call org.mempowerd1 /org/mempowerd1 \
        org.mempowerd1.Manager ListBlocks | jq '.data[0] | length') || fail "nobody: ListBlocks failed"
assert_eq "$n" "$(prop BlocksTotal)" "nobody: ListBlocks entries"
out=$(nobody mempowerctl status) || fail "nobody: mempowerctl status exited $?"
grep -q 'State: paused' <<<"$out" || fail "nobody: mempowerctl status: $out"
log "ok: nobody: mempowerctl status"
assert_cmd "nobody: mempowerctl blocks" nobody mempowerctl blocks
assert_cmd "nobody: mempowerctl --json blocks" nobody mempowerctl --json blocks

# ---- control is for root ----
for verb in pause resume rescan online-all reload; do
        rc=0
        err=$(nobody mempowerctl "$verb" 2>&1) || rc=$?
        assert_eq "$rc" 4 "nobody: mempowerctl $verb exit status"
        assert_eq "$err" "Permission denied: this needs root" "nobody: mempowerctl $verb message"
done
for method in Pause Resume Rescan OnlineAll Reload; do
        rc=0
        err=$(nobody busctl --system call org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager \
                "$method" 2>&1) || rc=$?
        ((rc != 0)) || fail "nobody could call $method()"
        [[ "$err" == *"Access denied"* ]] || fail "nobody: $method(): '$err', expected Access denied"
        log "ok: nobody: $method() refused ($err)"
done
# The bus policy refuses them, before the daemon (sd-bus would too: the
# methods are not marked unprivileged) sees the call.
rc=0
err=$(nobody dbus-send --system --print-reply --dest=org.mempowerd1 /org/mempowerd1 \
        org.mempowerd1.Manager.OnlineAll 2>&1) || rc=$?
((rc != 0)) || fail "nobody could call OnlineAll() (dbus-send)"
[[ "$err" == *"Rejected send message"* ]] || fail "OnlineAll() not refused by the bus policy: $err"
log "ok: the bus policy refuses nobody's OnlineAll()"
rc=0
err=$(nobody busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        RequestName su org.mempowerd1 4 2>&1) || rc=$?
((rc != 0)) || fail "nobody could request the name org.mempowerd1"
log "ok: nobody: RequestName(org.mempowerd1) refused ($err)"

# Nothing changed.
assert_eq "$(prop State)" '"paused"' "State after the refused calls"
assert_eq "$(prop BlocksOffline)" "$offline" "BlocksOffline after the refused calls"
assert_eq "$(systemctl is-active mempowerd)" active "mempowerd still active"

# ---- root may ----
assert_cmd "root: mempowerctl resume" mempowerctl resume
assert_eq "$(prop State)" '"running"' "State after root's resume"
assert_cmd "root: mempowerctl rescan" mempowerctl rescan
assert_cmd "systemctl stop mempowerd" systemctl stop mempowerd
