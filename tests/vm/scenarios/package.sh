#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-payload: deb
# mempowerd's Debian package (tests/package/build-deb) on the guest's stock
# system, twice: installed with dpkg -i, the service enabled and started by
# the package, on the bus and in mempowerctl status, node-1 blocks taken
# offline; then purged, and nothing is left: none of the package's files or
# its own directories, no unit (list-unit-files, systemctl status), no bus
# name, no /etc/mempowerd, no /run/mempowerd, no enablement symlink, and
# every block online again. The first time the stop gives the memory back;
# the second time KeepOfflineOnExit=yes keeps it offline through the stop
# and the package's prerm gives it back before the daemon is gone. A third
# time the daemon's binary is gone before the stop (removed under a running
# service): the stop still gives the memory back and ExecStopPost='s
# give-back, which cannot run, does not fail the unit.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

debs=(/vmtest/deb/mempowerd_*.deb)
deb=${debs[0]}
[[ -f "$deb" ]] || fail "no mempowerd .deb in /vmtest/deb (vm-payload: deb)"
log "package: ${deb##*/}"

# The guest is the host's root: a host with mempowerd installed has no
# clean system to install the package on.
if dpkg-query -W -f='${Status}' mempowerd 2>/dev/null | grep -q 'installed'; then
        skip "mempowerd is installed on the host; this scenario needs a system without it"
fi
# mempowerd's units, less the harness's own (mempowerd-test.target,
# mempowerd-scenario.service).
mp_unit_files() {
        systemctl list-unit-files --no-legend 'mempowerd*' |
                awk '$1 != "mempowerd-test.target" && $1 != "mempowerd-scenario.service"'
}
command -v mempowerd >/dev/null && fail "a mempowerd is on the guest before the package: $(command -v mempowerd)"
[[ -z "$(mp_unit_files)" ]] || fail "mempowerd units before the package: $(mp_unit_files)"

# man-db's trigger rebuilds its index over 9p, which takes minutes under
# TCG: not what is tested here.
rm -f /var/lib/man-db/auto-update

sysfs_offline() { # offline blocks of the whole machine
        local n=0 s d
        for d in "$sysmem"/memory[0-9]*; do
                read -r s <"$d/state"
                [[ "$s" == offline ]] && n=$((n + 1))
        done
        printf '%s\n' "$n"
}
elapsed() { # since $1 (uptime s)
        awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'
}

install_and_offline() { # round
        local t0 out status blocks
        # The drop-in goes first: the package starts the daemon at once.
        mkdir -p /etc/mempowerd/mempowerd.conf.d
        printf '%s\n' "$MP_TCG_CONFIG" >/etc/mempowerd/mempowerd.conf.d/50-tcg.conf
        t0=$(uptime_s)
        out=$(dpkg -i "$deb" 2>&1) || fail "dpkg -i ${deb##*/}: $out"
        report "install_s_$1" "$(elapsed "$t0")"
        log "dpkg -i: $(tr '\n' '|' <<<"$out")"
        assert_eq "$(dpkg-query -W -f='${Status}' mempowerd)" "install ok installed" "package status"
        assert_eq "$(systemctl is-enabled mempowerd.service)" enabled "mempowerd.service enabled by the package"
        assert_eq "$(systemctl is-active mempowerd.service)" active "mempowerd.service started by the package"
        [[ "$(systemctl is-enabled mempowerd-giveback.service 2>&1)" == static ]] ||
                fail "mempowerd-giveback.service: $(systemctl is-enabled mempowerd-giveback.service 2>&1), expected static"
        [[ "$(systemctl show -p ActiveEnterTimestampMonotonic --value mempowerd-giveback.service)" == 0 ]] ||
                fail "mempowerd-giveback.service ran at install"

        # the bus and mempowerctl
        blocks=("$sysmem"/memory[0-9]*)
        assert_eq "$(mp_prop BlocksTotal)" "${#blocks[@]}" "BlocksTotal on the bus = sysfs"
        assert_eq "$(mp_prop State)" running "State on the bus"
        status=$(mempowerctl status) || fail "mempowerctl status exited $?"
        grep -q "of ${#blocks[@]} (128M each)" <<<"$status" || fail "mempowerctl status: $status"
        log "mempowerctl status: $(head -3 <<<"$status" | tr '\n' '|')"

        # the daemon takes node-1 blocks offline, and says so
        mp_wait_consolidated 2
        wait_until 30 eval '[[ "$(mp_prop BlocksOffline)" == "$(sysfs_offline)" ]]' ||
                fail "BlocksOffline $(mp_prop BlocksOffline) != sysfs $(sysfs_offline)"
        offline=$(node_count 1 offline)
        assert_ge "$offline" 1 "node-1 blocks offline while the packaged daemon runs"
        assert_eq "$(mp_prop BlocksOffline)" "$(sysfs_offline)" "BlocksOffline on the bus = sysfs"
        report "offline_before_purge_$1" "$offline"
}

purge_and_check() { # round
        local t0 out f owners d rc
        # What the package owns, and which of its directories no other
        # package shares (those must go with it).
        mapfile -t paths < <(dpkg -L mempowerd)
        ((${#paths[@]} > 10)) || fail "dpkg -L mempowerd lists ${#paths[@]} paths"
        files=() own_dirs=() dirs=()
        for f in "${paths[@]}"; do
                [[ "$f" == /. ]] && continue
                # (/lib is a symbolic link to usr/lib here: a directory too)
                if [[ -d "$f" ]]; then
                        dirs+=("$f")
                else
                        files+=("$f")
                fi
        done
        while IFS= read -r line; do
                owners=${line%%: /*}
                d=/${line#*: /}
                [[ "$owners" == mempowerd ]] && own_dirs+=("$d")
        done < <(dpkg -S "${dirs[@]}" 2>/dev/null)
        log "package: ${#files[@]} files, its own directories: ${own_dirs[*]}"
        [[ " ${own_dirs[*]} " == *" /etc/mempowerd "* ]] || fail "/etc/mempowerd is not the package's own"

        t0=$(uptime_s)
        out=$(dpkg --purge mempowerd 2>&1) || fail "dpkg --purge mempowerd: $out"
        report "purge_s_$1" "$(elapsed "$t0")"
        log "dpkg --purge: $(tr '\n' '|' <<<"$out")"
        purge_out=$out

        rc=0
        dpkg-query -W -f='${Status}' mempowerd >/dev/null 2>&1 || rc=$?
        if ((rc == 0)); then
                st=$(dpkg-query -W -f='${Status}' mempowerd)
                [[ "$st" == *not-installed* ]] || fail "package status after the purge: $st"
        fi
        for f in "${files[@]}"; do
                [[ -e "$f" || -L "$f" ]] && fail "left behind by the purge: $f"
        done
        for d in "${own_dirs[@]}"; do
                [[ -e "$d" ]] && fail "directory left behind by the purge: $d ($(ls -A "$d" | head -5 | tr '\n' ' '))"
        done
        log "ok: none of the ${#files[@]} files and ${#own_dirs[@]} own directories is left"
        for d in /etc/mempowerd /run/mempowerd; do
                [[ -e "$d" ]] && fail "$d left behind by the purge"
        done
        for f in /etc/systemd/system/multi-user.target.wants/mempowerd.service \
                /var/lib/systemd/deb-systemd-helper-enabled/mempowerd.service.dsh-also \
                /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/mempowerd.service \
                /var/lib/systemd/deb-systemd-helper-masked/mempowerd.service; do
                [[ -e "$f" || -L "$f" ]] && fail "left behind by the purge: $f"
        done
        hash -r
        command -v mempowerd mempowerctl && fail "mempowerd or mempowerctl still in PATH"
        assert_eq "$(mp_unit_files)" "" "systemctl list-unit-files mempowerd* (the harness's aside)"
        rc=0
        out=$(systemctl status mempowerd.service 2>&1) || rc=$?
        assert_eq "$rc" 4 "systemctl status mempowerd exit status (no such unit)"
        [[ "$out" == *"could not be found"* ]] || fail "systemctl status mempowerd: $out"
        if busctl --system status org.mempowerd1 >/dev/null 2>&1; then
                fail "org.mempowerd1 still on the system bus"
        fi
        log "ok: no unit, no bus name"
        assert_eq "$(node_count 1 offline)" 0 "node-1 blocks offline after the purge"
        assert_eq "$(sysfs_offline)" 0 "blocks offline after the purge"
}

# ---- 1: the stop gives the memory back ----
install_and_offline 1
purge_and_check 1
# The daemon itself, on SIGTERM from the prerm's stop: "memoryN: online (exit)".
n=$(journalctl -u mempowerd -o cat --no-pager | grep -c ': online (exit)' || true)
assert_ge "$n" "$offline" "blocks the stopping daemon onlined"

# ---- 2: KeepOfflineOnExit=yes: the stop keeps it, the prerm gives it back ----
install_and_offline 2
printf '[Policy]\nKeepOfflineOnExit=yes\n' >/etc/mempowerd/mempowerd.conf.d/60-keep.conf
assert_cmd "mempowerctl reload (KeepOfflineOnExit=yes)" mempowerctl reload
assert_ge "$(node_count 1 offline)" "$offline" "node-1 blocks offline before the purge"
purge_and_check 2
journalctl --no-pager -o cat | grep -q "blocks stay offline (KeepOfflineOnExit=yes)" ||
        fail "the stop did not keep the blocks offline (KeepOfflineOnExit=yes): the prerm's give-back was not tested"
# The prerm's mempowerd --give-back, in dpkg's output.
n=$(grep -c ': online (exit)' <<<"$purge_out" || true)
assert_ge "$n" "$offline" "blocks the package's prerm onlined after the stop kept them"
log "ok: the stop kept them offline, the package's prerm gave them back"

# ---- 3: the binary gone before the stop ----
install_and_offline 3
mv /usr/sbin/mempowerd /tmp/mempowerd.aside
assert_cmd "systemctl stop with the binary gone" systemctl stop mempowerd
assert_eq "$(systemctl show -p Result --value mempowerd)" success "Result of the stop (ExecStopPost=- ignores the missing binary)"
assert_eq "$(systemctl is-failed mempowerd-giveback.service)" inactive "mempowerd-giveback.service not started"
assert_eq "$(node_count 1 offline)" 0 "node-1 blocks offline after the stop (the daemon's own give-back)"
journalctl -u mempowerd -o cat --no-pager | grep -E 'mempowerd.*(No such file|EXEC)' | tail -2 >&2 || true
mv /tmp/mempowerd.aside /usr/sbin/mempowerd
purge_and_check 3
