#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Figures for README.md, in one guest (not part of the vm test suite):
#  1. pages per second moved by move_pages, against the kernel's own offline
#     migration of the same amount of data (median of 3 each);
#  2. handshake latency: from the workload's free to a block going offline,
#     median of 5 cycles;
#  3. consolidation after those cycles: node-1 blocks offline / blocks the
#     free memory allowed.
# Run: meson compile -C build bench-vm  (or tests/vm/run-scenario BUILD bench)
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

mib=256
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- 1. move_pages against the kernel's offline migration (no daemon) ----
rates_mp=() rates_off=()
for i in 1 2 3; do
        out=$(mempowerd-workload --policy bind --nodes 1 --seed "$i" -e "alloc $mib" -e "migrate 0" -e verify)
        line=$(grep '^migrate ' <<<"$out")
        grep -q 'wrong_bytes=0 ' <<<"$out" || fail "move_pages run $i: $out"
        rates_mp+=("$(wl_field "$line" pages_per_s)")

        wl_start --policy bind --nodes 1 --seed "$((i + 10))"
        wl_cmd alloc "$mib" >/dev/null
        line=$(wl_cmd pfns)
        blocks=$(wl_field "$line" blocks)
        pages=0 list=()
        for bp in ${blocks//,/ }; do
                list+=("${bp%%:*}")
                pages=$((pages + ${bp##*:}))
        done
        read -r a _ </proc/uptime
        for b in "${list[@]}"; do
                echo offline >"$sysmem/memory$b/state" || fail "kernel offline of memory$b failed"
        done
        read -r z _ </proc/uptime
        for b in "${list[@]}"; do echo online_movable >"$sysmem/memory$b/state"; done
        line=$(wl_cmd verify)
        assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes after the kernel's migration"
        wl_stop
        rates_off+=("$(awk -v p="$pages" -v a="$a" -v z="$z" 'BEGIN { printf "%.0f", p / (z - a) }')")
        log "run $i: move_pages ${rates_mp[-1]} pages/s; offline of ${#list[@]} blocks ${rates_off[-1]} pages/s"
done
report move_pages_pages_per_s "$(printf '%s\n' "${rates_mp[@]}" | median)"
report offline_migration_pages_per_s "$(printf '%s\n' "${rates_off[@]}" | median)"

# ---- 2. handshake latency, 5 cycles ----
mp_start
mp_wait_consolidated 2
offline_since() { log_times ": offline after" | awk -v t="$1" '$1 >= t { f = 1 } END { exit !f }'; }
lat=()
for i in 1 2 3 4 5; do
        sleep 6 # past the quiet time after the last cycle's pressure
        wl_start --policy preferred --nodes 1 --seed "$((i + 20))"
        wl_cmd alloc 300 >/dev/null
        sleep 3
        wl_cmd free-part 90 >/dev/null
        read -r t _ </proc/uptime
        if wait_until 30 offline_since "$t"; then
                lat+=("$(log_times ': offline after' | awk -v t="$t" '$1 >= t { printf "%.1f\n", $1 - t; exit }')")
                log "cycle $i: ${lat[-1]} s from the free to a block offline"
        else
                log "cycle $i: no block offline within 30 s of the free"
        fi
        line=$(wl_cmd verify)
        assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes, cycle $i"
        wl_stop
done
((${#lat[@]} >= 3)) || fail "only ${#lat[@]} of 5 cycles went offline"
report handshake_latency_median_s "$(printf '%s\n' "${lat[@]}" | median)"
report handshake_latency_runs "$(IFS=,; echo "${lat[*]}")"

# ---- 3. consolidation ----
sleep 15
block_mib=$(($(printf '%d' "0x$(cat "$sysmem/block_size_bytes")") / 1048576))
off=$(node_count 1 offline)
avail=$(($(meminfo MemAvailable) / 1024 + off * block_mib))
reserve=$(($(mp_prop ReserveBytes) / 1048576))
allowed=$(awk -v a="$avail" -v r="$reserve" -v b="$block_mib" -v c="$((total - 1))" \
        'BEGIN { n = int((a - r) / b) - 1; if (n > c) n = c; print (n < 0 ? 0 : n) }')
report consolidation_offline "$off"
report consolidation_allowed "$allowed"
((allowed == 0)) || report consolidation_pct "$((off * 100 / allowed))"
report pages_migrated_by_daemon "$(mp_prop PagesMigrated)"
