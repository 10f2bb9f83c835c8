#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What mempowerd says it saves, checked against the model by hand. Node 1
# (one 1 GiB DIMM) goes offline whole (Domains=node) after the pages a
# workload put there (preferred, not bound) are moved off. With the
# scenario's own figures (0.5 W/GiB online, 0.1 offline, 20 J per GiB
# moved), the bus's WattsSavedEstimate must be 0.4 W x the GiB sysfs shows
# offline, MigrationEnergyJoules 20 J x the GiB the kernel counted as
# migrated (/proc/vmstat pgmigrate_success), and NetEnergyJoules the saving
# over the time sysfs showed the node offline, less that. After a restart
# NetEnergySinceBootJoules goes on from where it was (the /run state).
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

have_jq || fail "jq is missing on the guest root"
GIB=1073741824
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
approx() { # got want tolerance what
        awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }' ||
                fail "$4: $1, expected $2 (within $3)"
        log "ok: $4: $1 (model $2)"
}
total=$(node_blocks 1 | wc -l)
block_size=$((16#$(cat "$sysmem/block_size_bytes")))

wl_start --policy preferred --nodes 1 --seed 3
wl_cmd alloc 200 >/dev/null
line=$(wl_cmd nodes)
log "workload pages by node: $line"
migrated0=$(vmstat pgmigrate_success)

mp_config '[Power]
Domains=node
OnlineWattsPerGiB=0.5
NodeOfflineWattsPerGiB=0.1
MigrationJoulesPerGiB=20
ExpectedOfflineSec=3600'
mp_start
for ((t = 0; t < 240; t++)); do
        (($(node_count 1 offline) == total)) && break
        sleep 0.5
done
(($(node_count 1 offline) == total)) || fail "node 1 not offline whole: $(node_states 1 | tr '\n' ' ')"
read -r t_off _ </proc/uptime
migrated=$(($(vmstat pgmigrate_success) - migrated0))
report pages_migrated_kernel "$migrated"
report pages_migrated_daemon "$(mp_prop PagesMigrated)"
sleep 20

# Read together: the figures change every tick.
props=$(busctl --system --json=short call org.mempowerd1 /org/mempowerd1 org.freedesktop.DBus.Properties \
        GetAll s org.mempowerd1.Manager)
read -r t_read _ </proc/uptime
p() { jq -r --arg k "$1" '.data[0][$k].data' <<<"$props"; }
offline_bytes=$(($(node_count 1 offline) * block_size))
watts=$(awk -v b="$offline_bytes" -v g=$GIB 'BEGIN { printf "%.6f", 0.4 * b / g }')
spent=$(awk -v n="$migrated" -v g=$GIB 'BEGIN { printf "%.6f", 20 * n * 4096 / g }')
report watts_saved "$(p WattsSavedEstimate)"
report migration_joules "$(p MigrationEnergyJoules)"
report net_joules "$(p NetEnergyJoules)"
approx "$(p WattsSavedEstimate)" "$watts" 0.000001 "WattsSavedEstimate"
assert_eq "$(p DomainsOffline)" 1 "DomainsOffline"
# the kernel also counts what compaction moved meanwhile: 10 % and a block
approx "$(p MigrationEnergyJoules)" "$spent" "$(awk -v s="$spent" 'BEGIN { print s / 10 + 20 * 128 / 1024 }')" \
        "MigrationEnergyJoules"
# offline for (t_read - t_off) s, give or take two ticks
net=$(awk -v w="$watts" -v a="$t_off" -v b="$t_read" -v s="$(p MigrationEnergyJoules)" \
        'BEGIN { printf "%.6f", w * (b - a) - s }')
approx "$(p NetEnergyJoules)" "$net" "$(awk -v w="$watts" 'BEGIN { print w * 2.5 }')" "NetEnergyJoules"
approx "$(p NetEnergySinceBootJoules)" "$(p NetEnergyJoules)" 0.000001 "NetEnergySinceBootJoules (first daemon)"
approx "$(p DramWattsMeasured)" -1 0 "DramWattsMeasured (no RAPL in a VM)"
mempowerctl status | grep -E 'Domains:|Saving:|DRAM:' | while read -r l; do log "mempowerctl: $l"; done

# A restart: since-boot figures go on.
before=$(p NetEnergySinceBootJoules)
systemctl restart mempowerd || fail "restart failed"
wait_until 60 eval '[[ "$(mp_prop NetEnergySinceBootJoules)" != "" ]]' || fail "no figures after restart"
after=$(mp_prop NetEnergySinceBootJoules)
awk -v a="$after" -v b="$before" 'BEGIN { exit !(a >= b - 0.5) }' ||
        fail "NetEnergySinceBootJoules fell from $before to $after across a restart"
log "ok: NetEnergySinceBootJoules $before before the restart, $after after"

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
