#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mempowerd.service as shipped, on the real system bus: start, status line,
# properties against sysfs, the sandbox lets the daemon write block states
# (OnlineAll), uevents arrive despite PrivateNetwork=; --check-config and
# --cat-config; systemctl reload with a good and a broken drop-in (ExecReload=
# through the bus); clean stop.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

command -v mempowerctl >/dev/null || fail "mempowerctl is not installed in the guest"
systemctl cat mempowerd.service >/dev/null 2>&1 || fail "mempowerd.service is not installed"

prop() {
        busctl --system get-property org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager "$1" |
                awk '{ print $2 }'
}
sysfs_count() { # state → number of blocks in that state
        local n=0 s d
        for d in "$sysmem"/memory[0-9]*; do
                read -r s <"$d/state"
                [[ "$s" == "$1" ]] && n=$((n + 1))
        done
        printf '%s\n' "$n"
}
journal_since() { # cursor file → the daemon's journal after it
        journalctl -u mempowerd --no-pager -o cat --after-cursor="$(cat "$1")" 2>/dev/null
}
cursor=/tmp/service.cursor
mark() {
        journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p' >"$cursor"
}
on_exit() {
        local rc=$?
        if ((rc != 0)); then
                systemctl status mempowerd --no-pager -l >&2 || true
                journalctl -u mempowerd --no-pager -o short-monotonic >&2 || true
        fi
}
trap on_exit EXIT

# ---- start ----
mark
assert_cmd "systemctl start mempowerd" systemctl start mempowerd
assert_eq "$(systemctl is-active mempowerd)" active "mempowerd.service state"
pid=$(systemctl show -p MainPID --value mempowerd)
# CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21),
# CAP_SYS_NICE (23) and nothing else.
assert_eq "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")" 0000000000a80004 \
        "the daemon's effective capabilities"
status=$(systemctl show -p StatusText --value mempowerd)
log "StatusText: $status"
[[ "$status" =~ ^[0-9]+\ blocks\ online,\ [0-9]+\ offline ]] || fail "STATUS= line: '$status'"
systemctl status mempowerd --no-pager | grep -q "Status: \"[0-9]* blocks online" ||
        fail "systemctl status shows no Status: line"
journal_since "$cursor" | grep -q 'Failed to watch memory uevents' &&
        fail "no uevents under the unit's sandbox: $(journal_since "$cursor" | grep uevents)"

# ---- properties against sysfs ----
blocks=("$sysmem"/memory[0-9]*)
assert_eq "$(prop BlocksTotal)" "${#blocks[@]}" "BlocksTotal = memory blocks in sysfs"
assert_eq "$(prop BlockSizeBytes)" "$((16#$(cat "$sysmem/block_size_bytes")))" "BlockSizeBytes"
# The daemon may be offlining node 1 right now: compare when both agree.
wait_until 30 eval '[[ "$(prop BlocksOffline)" == "$(sysfs_count offline)" ]]' ||
        fail "BlocksOffline $(prop BlocksOffline) != sysfs $(sysfs_count offline)"
log "ok: BlocksOffline = sysfs offline blocks ($(prop BlocksOffline))"
json=$(mempowerctl --json status) || fail "mempowerctl --json status exited $?"
assert_eq "$(jq .blocks <<<"$json")" "${#blocks[@]}" "mempowerctl --json status blocks"
assert_eq "$(jq -r .state <<<"$json")" running "mempowerctl --json status state"
mempowerctl status | grep -q "of ${#blocks[@]} (128M each)" || fail "mempowerctl status: $(mempowerctl status)"
rows=$(mempowerctl --all --no-legend blocks | wc -l)
assert_eq "$rows" "${#blocks[@]}" "mempowerctl blocks --all rows"
report blocks_offline_by_daemon_at_start "$(prop BlocksOffline)"

# ---- the sandbox lets the daemon write memory block states ----
assert_cmd "mempowerctl pause" mempowerctl pause
assert_eq "$(prop State)" '"paused"' "State after pause"
target=
for b in $(node_blocks 1 | sort -rn); do
        if [[ "$(cat "$sysmem/memory$b/state")" == online ]]; then
                target=$b
                break
        fi
done
if [[ -n "$target" ]]; then
        if echo offline >"$sysmem/memory$target/state" 2>/dev/null; then
                log "memory$target offlined by the test"
                wait_until 10 eval '[[ "$(prop BlocksOffline)" == "$(sysfs_count offline)" ]]' ||
                        fail "the offline of memory$target did not reach BlocksOffline (uevents?)"
                log "ok: uevent seen under PrivateNetwork= (BlocksOffline $(prop BlocksOffline))"
        else
                log "memory$target refused offline (in use?), relying on the daemon's own"
        fi
fi
offline_before=$(sysfs_count offline)
if ((offline_before > 0)); then
        out=$(mempowerctl online-all) || fail "mempowerctl online-all exited $?"
        log "online-all: $out"
        assert_eq "$out" "$offline_before block$( ((offline_before == 1)) || echo s) onlined" \
                "OnlineAll() onlined every offline block"
        assert_eq "$(sysfs_count offline)" 0 "offline blocks in sysfs after OnlineAll()"
        journal_since "$cursor" | grep -q 'Read-only file system' && fail "sysfs read-only in the sandbox"
else
        log "no offline block to online (node 1 busy): OnlineAll() write not exercised"
fi

assert_cmd "mempowerctl resume" mempowerctl resume

# ---- configuration: --check-config, --cat-config, reload ----
# ExecReload= calls Reload() on the bus: a bad drop-in fails "systemctl
# reload" with PATH:LINE: reason in the journal and systemctl status,
# LastError says it, the daemon runs on with the configuration it had; a
# good one applies. Values as systemd writes them (3s, 512M).
confd=/etc/mempowerd/mempowerd.conf.d
dropin=$confd/50-test.conf
mkdir -p "$confd"
assert_eq "$(prop ReserveBytes)" $((256 << 20)) "ReserveBytes at the default MinFreeMiB=256"
printf '[Daemon]\nTickSec=3s\n[Reserve]\nMinFreeMiB=512M\n' >"$dropin"
out=$(mempowerd --check-config) || fail "mempowerd --check-config exited $?: $out"
grep -qx "TickSec=3s *; $dropin:2" <<<"$out" || fail "--check-config TickSec: $out"
grep -qx "MinFreeMiB=512M *; $dropin:4" <<<"$out" || fail "--check-config MinFreeMiB: $out"
grep -qx "DryRun=no *; default" <<<"$out" || fail "--check-config DryRun: $out"
log "ok: mempowerd --check-config names $dropin:2 and :4"
out=$(mempowerd --cat-config) || fail "mempowerd --cat-config exited $?"
[[ "$(head -1 <<<"$out")" == "# /etc/mempowerd/mempowerd.conf" ]] || fail "--cat-config: $out"
[[ "$out" == *$'\n# '"$dropin"$'\n[Daemon]\nTickSec=3s\n'* ]] || fail "--cat-config: $out"
log "ok: mempowerd --cat-config lists the main file, then $dropin"
assert_cmd "systemctl reload (TickSec=3s, MinFreeMiB=512M)" systemctl reload mempowerd
assert_eq "$(prop TickUSec)" 3000000 "TickUSec after systemctl reload"
assert_eq "$(prop ReserveBytes)" $((512 << 20)) "ReserveBytes after systemctl reload"

mark
printf '[Daemon]\nTickSec=banana\n' >"$dropin"
reason="$dropin:2: TickSec=banana: not a time span"
rc=0
out=$(mempowerd --check-config 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 78 "mempowerd --check-config exit with a broken drop-in"
[[ "$out" == "$reason;"* ]] || fail "mempowerd --check-config: $out"
rc=0
out=$(systemctl reload mempowerd 2>&1) || rc=$?
((rc != 0)) || fail "systemctl reload of a broken drop-in exited 0"
log "ok: systemctl reload exited $rc: $out"
# busctl (ExecReload=) writes the bus error to the journal, the daemon its own line
wait_until 10 eval 'journal_since "$cursor" | grep -qF "Call failed: $reason"' ||
        fail "no 'Call failed: $reason' in the journal: $(journal_since "$cursor")"
journal_since "$cursor" | grep -qF "$reason; expected seconds, or a time span like 500ms, 5min, 1h 30min, 1d; keeping the previous configuration" ||
        fail "the daemon did not log $reason: $(journal_since "$cursor")"
log "ok: the journal says: $(journal_since "$cursor" | grep -F "Call failed:" | head -1)"
status=$(systemctl status mempowerd --no-pager -l -n 20 2>&1 || true)
grep -qF "$reason" <<<"$status" || fail "systemctl status does not show $reason: $status"
grep -q "ExecReload=[^ ]*busctl .*status=1/FAILURE" <<<"$status" ||
        fail "systemctl status does not show the failed ExecReload=: $status"
log "ok: systemctl status shows the failed reload and $dropin:2"
last=$(busctl --system get-property org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager LastError)
[[ "$last" == "s \"$reason;"* ]] || fail "LastError after a broken reload: $last"
log "ok: LastError: $last"
assert_eq "$(systemctl is-active mempowerd)" active "still active after a broken reload"
assert_eq "$(systemctl show -p MainPID --value mempowerd)" "$pid" "same process after a broken reload"
assert_eq "$(prop TickUSec)" 3000000 "TickUSec kept after a broken reload"
assert_eq "$(prop ReserveBytes)" $((512 << 20)) "ReserveBytes kept after a broken reload"
err=$(mempowerctl reload 2>&1) && fail "mempowerctl reload of a broken file succeeded"
[[ "$err" == *"$reason"* ]] || fail "mempowerctl reload error: $err"
log "ok: mempowerctl reload: $err"

# a good file afterwards applies
printf '[Daemon]\nTickSec=2500ms\n[Reserve]\nMinFreeMiB=0.375G\n' >"$dropin"
assert_cmd "systemctl reload (TickSec=2500ms, MinFreeMiB=0.375G)" systemctl reload mempowerd
assert_eq "$(prop TickUSec)" 2500000 "TickUSec after a good reload"
assert_eq "$(prop ReserveBytes)" $((384 << 20)) "ReserveBytes after a good reload"
rm "$dropin"
assert_cmd "mempowerctl reload (defaults)" mempowerctl reload
assert_eq "$(prop TickUSec)" 2000000 "TickUSec back to the default"
assert_eq "$(systemctl show -p MainPID --value mempowerd)" "$pid" "same process after reloads"

# ---- no sandbox errors ----
errors=$(journalctl -u mempowerd --no-pager -o cat -p warning |
        grep -E 'Permission denied|Operation not permitted|Read-only file system|Bad system call' || true)
[[ -z "$errors" ]] || fail "sandbox errors in the journal: $errors"

# ---- hot-add: uevents through PrivateNetwork=, the daemon survives ----
# Last: on 6.1 reading valid_zones of a block just added, before its node
# is set, oopses the kernel in the reader (zone_for_pfn_range, nid -1).
total=$(prop BlocksTotal)
vm_hotadd_dimm 256M 1 >/dev/null
wait_until 30 eval '[[ "$(prop BlocksTotal)" == "$((total + 2))" ]]' ||
        fail "BlocksTotal after hot-adding 256M: $(prop BlocksTotal), expected $((total + 2))"
log "ok: hot-added blocks seen (BlocksTotal $(prop BlocksTotal))"
if [[ "$(systemctl show -p MainPID --value mempowerd)" != "$pid" ]]; then
        dmesg | grep -A12 -E 'BUG:|Oops' >&2 || true
        fail "mempowerd died during the hot-add (a kernel oops in its read() of a new block?)"
fi

# ---- stop ----
assert_cmd "systemctl stop mempowerd" systemctl stop mempowerd
assert_eq "$(systemctl show -p Result --value mempowerd)" success "Result after stop"
assert_eq "$(systemctl show -p ExecMainStatus --value mempowerd)" 0 "exit status after stop"
rc=0
err=$(mempowerctl status 2>&1) || rc=$?
assert_eq "$rc" 3 "mempowerctl status exit without the daemon"
assert_eq "$err" "mempowerd is not running (org.mempowerd1 not on the system bus)" \
        "mempowerctl status message without the daemon"
