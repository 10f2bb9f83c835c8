# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shell library of the mempowerd VM scenarios (sourced inside the guest).
#
#   report KEY VALUE          record a figure (printed by the host runner)
#   fail MSG / skip MSG       end the scenario (exit 1 / exit 77)
#   assert_eq A B MSG         A = B (string compare)
#   assert_ge A B MSG         integer A >= B
#   assert_within V REF PCT MSG   |V - REF| <= PCT% of REF (numbers, may be fractional)
#   assert_cmd MSG CMD...     CMD succeeds
#   wait_until SECS CMD...    run CMD every 0.2 s until it succeeds; 1 after SECS
#                             tries' worth (SECS * 5 tries: longer when CMD is slow)
#   wait_clock SECS CMD...    the same, but 1 once SECS of uptime have passed
#   vm_monitor HMP-COMMAND    run a QEMU monitor (HMP) command on the host, print its output
#   vm_hotadd_dimm SIZE NODE  hot-add a pc-dimm of SIZE (e.g. 256M) to NODE, print its id
#   vm_hotremove_dimm ID      unplug it again (the guest offlines and removes its blocks)
#   mempowerd_json            run `mempowerd --once --json`, print the JSON
#   meminfo KEY               a /proc/meminfo value in kB
#   sysmem                    the memory sysfs directory

set -euo pipefail

VMTEST_DIR=${VMTEST_DIR:-/vmtest}
VMTEST_OUT=$VMTEST_DIR/out
# shellcheck disable=SC2034 # for the scenarios
sysmem=/sys/devices/system/memory

# Seconds of guest uptime, without a fork (each costs ~0.1 s under TCG).
uptime_s() {
        local up _
        read -r up _ </proc/uptime
        printf '%s\n' "$up"
}

# To stderr, so that helpers whose stdout is captured can log too.
log() {
        local up _
        read -r up _ </proc/uptime
        printf '[%s] %s\n' "$up" "$*" >&2
}

report() {
        printf '%s %s\n' "$1" "$2" >>"$VMTEST_OUT/report"
        log "report $1 = $2"
}

fail() {
        log "FAIL: $*"
        printf '%s\n' "$*" >>"$VMTEST_OUT/failures"
        exit 1
}

skip() {
        log "SKIP: $*"
        printf '%s\n' "$*" >>"$VMTEST_OUT/skip-reason"
        exit 77
}

assert_eq() {
        [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"
        log "ok: $3 ($1)"
}

assert_ge() {
        (( $1 >= $2 )) || fail "$3: got $1, expected >= $2"
        log "ok: $3 ($1 >= $2)"
}

assert_within() {
        if ! awk -v v="$1" -v r="$2" -v p="$3" \
                'BEGIN { d = v - r; if (d < 0) d = -d; exit !(d <= r * p / 100) }'; then
                fail "$4: got $1, expected $2 +- $3%"
        fi
        log "ok: $4 ($1 within $3% of $2)"
}

assert_cmd() {
        local msg=$1
        shift
        "$@" || fail "$msg: '$*' failed with status $?"
        log "ok: $msg"
}

wait_until() {
        local limit=$1 i
        shift
        for ((i = 0; i < limit * 5; i++)); do
                "$@" && return 0
                sleep 0.2
        done
        return 1
}

# wait_until counts tries: a CMD that forks a few times costs as much as
# the sleep under TCG, and its limit doubles. This one reads the clock.
wait_clock() {
        local limit=$1 t0 now _
        shift
        read -r t0 _ </proc/uptime
        while :; do
                "$@" && return 0
                read -r now _ </proc/uptime
                awk -v a="$t0" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a >= l) }' && return 1
                sleep 0.2
        done
}

meminfo() {
        awk -v k="$1:" '$1 == k { print $2; found = 1 } END { exit !found }' /proc/meminfo
}

# Guest -> host requests: the request is a file in $VMTEST_DIR/req (the
# writable 9p share); the runner executes it on QEMU's QMP socket and writes
# the answer next to it: N.out (the command's output) and N.status (0 or
# an error).
# Callers often run in a command substitution (a subshell), where a counter
# would not advance: the ids come from the clock and the subshell's pid.
vm_unique_id() {
        printf '%s%s\n' "$(date +%s%N)" "$BASHPID"
}

vm_monitor() {
        local dir=$VMTEST_DIR/req id i
        mkdir -p "$dir"
        id=$(vm_unique_id)
        printf '%s\n' "$*" >"$dir/$id.tmp"
        mv "$dir/$id.tmp" "$dir/$id.req"
        for ((i = 0; i < 600; i++)); do
                if [[ -e "$dir/$id.status" ]]; then
                        tr -d '\r' <"$dir/$id.out"
                        return "$(cat "$dir/$id.status")"
                fi
                sleep 0.1
        done
        fail "no answer from the host to monitor request '$*'"
}

vm_hotadd_dimm() {
        local size=$1 node=$2 id
        id=hp$(vm_unique_id)
        vm_monitor "object_add memory-backend-ram,id=mem-$id,size=$size" >/dev/null ||
                fail "object_add of $size failed"
        vm_monitor "device_add pc-dimm,id=dimm-$id,memdev=mem-$id,node=$node" >/dev/null ||
                fail "device_add pc-dimm on node $node failed"
        printf 'dimm-%s\n' "$id"
}

# Asks QEMU to unplug a DIMM (ACPI eject): the guest kernel offlines its
# blocks, then removes them. Returns once QEMU no longer lists it (the
# guest may refuse, e.g. when a block cannot be offlined: then it fails).
vm_hotremove_dimm() {
        local id=$1 i
        vm_monitor "device_del $id" >/dev/null || fail "device_del $id failed"
        for ((i = 0; i < 300; i++)); do
                [[ "$(vm_monitor "info memory-devices")" == *"\"$id\""* ]] || return 0
                sleep 0.2
        done
        fail "DIMM $id still present 60 s after device_del"
}

mempowerd_bin() {
        command -v mempowerd || fail "mempowerd is not installed in the guest"
}

mempowerd_json() {
        "$(mempowerd_bin)" --once --json
}

# Block indices (numbers) of a node, sorted.
node_blocks() {
        local b
        for b in /sys/devices/system/node/node"$1"/memory[0-9]*; do
                [[ -e "$b" ]] && printf '%s\n' "${b##*/memory}"
        done | sort -n
}

have_jq() {
        command -v jq >/dev/null
}

# Node of a memory block (from its nodeN link), -1 when it has none.
block_node() {
        local l
        for l in "$sysmem/memory$1"/node[0-9]*; do
                if [[ -e "$l" ]]; then
                        printf '%s\n' "${l##*/node}"
                        return
                fi
        done
        printf '%s\n' -1
}

# Normalizes "INDEX NODE STATE ZONE..." lines: zone words sorted (commas
# count as spaces), lines sorted by index. One awk, no fork per block.
normalize_block_lines() {
        awk '{
                gsub(/,/, " ")
                n = 0
                for (i = 4; i <= NF; i++) z[++n] = $i
                for (i = 2; i <= n; i++)
                        for (j = i; j > 1 && z[j - 1] > z[j]; j--) { t = z[j]; z[j] = z[j - 1]; z[j - 1] = t }
                line = $1 " " $2 " " $3
                for (i = 1; i <= n; i++) line = line " " z[i]
                print line
        }' | sort -n
}

# One line per block from sysfs: "INDEX NODE STATE ZONES".
sysfs_blocks() {
        local d i state zones
        for d in "$sysmem"/memory[0-9]*; do
                i=${d##*/memory}
                read -r state <"$d/state"
                read -r zones <"$d/valid_zones"
                printf '%s %s %s %s\n' "$i" "$(block_node "$i")" "$state" "$zones"
        done | normalize_block_lines
}

# The same lines from a `mempowerd --once --json` report on stdin.
json_blocks() {
        jq -r '.blocks[] | "\(.index) \(.node) \(.state) \(.zones)"' | normalize_block_lines
}

# Workload in the background, driven through a FIFO:
#   wl_start ARGS...   start mempowerd-workload ARGS (reads commands from the FIFO)
#   wl_cmd COMMAND     send a command, print its one result line (fails on "error")
#   wl_field LINE KEY  the value of KEY=VALUE in a result line
#   wl_stop            send exit and wait for it
wl_dir=
wl_pid=
wl_start() {
        wl_dir=$(mktemp -d /tmp/workload.XXXXXX)
        mkfifo "$wl_dir/in"
        : >"$wl_dir/out"
        mempowerd-workload "$@" <"$wl_dir/in" >"$wl_dir/out" 2>&1 &
        wl_pid=$!
        # Keep the FIFO open for writing on fd 9 for the whole scenario.
        exec 9>"$wl_dir/in"
        log "workload started (pid $wl_pid): $*"
}

wl_cmd() {
        local before line i
        before=$(wc -l <"$wl_dir/out")
        printf '%s\n' "$*" >&9
        for ((i = 0; ; i++)); do
                if (($(wc -l <"$wl_dir/out") > before)); then
                        line=$(sed -n "$((before + 1))p" "$wl_dir/out")
                        break
                fi
                kill -0 "$wl_pid" 2>/dev/null || fail "workload died during '$*': $(cat "$wl_dir/out")"
                sleep 0.2
        done
        log "workload: $line"
        [[ "$line" != error* ]] || fail "workload command '$*': $line"
        printf '%s\n' "$line"
}

wl_field() {
        local w
        for w in $1; do
                if [[ "$w" == "$2="* ]]; then
                        printf '%s\n' "${w#*=}"
                        return
                fi
        done
        fail "no $2= in '$1'"
}

wl_stop() {
        [[ -n "$wl_pid" ]] || return 0
        printf 'exit\n' >&9 || true
        exec 9>&-
        wait "$wl_pid" || true
        wl_pid=
}
