# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers of the evacuation scenarios (sourced after lib.sh, in the guest).
#
#   mp_config TEXT        write TEXT as the scenario's drop-in of mempowerd.conf
#                         (after 50-tcg.conf, which mp_start writes)
#   mp_start              systemctl start mempowerd, fail unless active
#   mp_prop NAME          a property of org.mempowerd1.Manager (value only)
#   mp_wait_consolidated N   fail unless all node-1 blocks but N go offline
#                         within 60 s (the sweep at start); sets total to
#                         the number of node-1 blocks
#   node_states N         "INDEX STATE" per block of node N
#   node_count N STATE    how many blocks of node N are in STATE
#   node_count_ge N STATE MIN   at least MIN of them
#   log_times PATTERN     uptime (s) of each daemon log line containing PATTERN
#   oom_kills             OOM kills in the kernel log so far
#   mp_dump               the daemon's journal and block states (on failure)

# Emulation (TCG) runs 20-50 times slower than hardware: give the scanner
# the CPU share that buys the same counts per second as the default does
# on real hardware, and let an offline take as long as it does here.
# The scenarios of single blocks take them alone, energy aside ([Power]);
# those of domains say otherwise in their own drop-in (60-scenario.conf).
MP_TCG_CONFIG='[Daemon]
TickSec=1
[Scan]
ScanCPUPercent=20
[Offline]
TimeoutSec=30
BackoffInitialSec=5
BackoffMaxSec=60
[Power]
Domains=block
BreakEven=no
'

mp_config() {
        mkdir -p /etc/mempowerd/mempowerd.conf.d
        printf '%s\n' "$1" >/etc/mempowerd/mempowerd.conf.d/60-scenario.conf
}

mp_start() {
        mkdir -p /etc/mempowerd/mempowerd.conf.d
        printf '%s\n' "$MP_TCG_CONFIG" >/etc/mempowerd/mempowerd.conf.d/50-tcg.conf
        systemctl start mempowerd || fail "systemctl start mempowerd failed"
        [[ "$(systemctl is-active mempowerd)" == active ]] || fail "mempowerd is not active"
        log "mempowerd started: $(systemctl show -p StatusText --value mempowerd)"
}

mp_prop() {
        busctl --system get-property org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager "$1" |
                awk '{ $1 = ""; sub(/^ /, ""); gsub(/"/, ""); print }'
}

mp_wait_consolidated() {
        total=$(node_blocks 1 | wc -l)
        wait_until 60 node_count_ge 1 offline $((total - $1)) ||
                fail "node-1 blocks not offlined (all but $1 expected): $(node_states 1 | tr '\n' ' ')"
}

node_states() {
        local i s
        for i in $(node_blocks "$1"); do
                read -r s <"$sysmem/memory$i/state"
                printf '%s %s\n' "$i" "$s"
        done
}

node_count() {
        node_states "$1" | awk -v s="$2" '$2 == s { n++ } END { print n + 0 }'
}

# node_count_ge N STATE MIN: at least MIN blocks of node N are in STATE.
node_count_ge() {
        (($(node_count "$1" "$2") >= $3))
}

log_times() {
        journalctl -u mempowerd -o short-monotonic --no-pager |
                awk -v p="$1" 'index($0, p) && match($0, /[0-9]+\.[0-9]+/) { print substr($0, RSTART, RLENGTH) }'
}

oom_kills() {
        dmesg | grep -c -E 'Out of memory|oom-kill|Killed process' || true
}

mp_dump() {
        log "node 1 blocks: $(node_states 1 | tr '\n' ' ')"
        journalctl -u mempowerd --no-pager -o short-monotonic | tail -80 || true
}

mp_on_exit() {
        local rc=$?
        ((rc == 0)) || mp_dump >&2
}
trap mp_on_exit EXIT
