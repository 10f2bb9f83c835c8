#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-layout: DIMMS=2 DIMM_MIB=512
# Power domains of ACPI memory devices (Domains=device). Node 1 is two
# pc-dimms of 512 MiB, four blocks each. A workload bound to node 1 puts
# data on both DIMMs, then frees most of it. mempowerd empties one DIMM
# entirely - all four of its blocks offline - before any block of the other
# goes; the other stays online, because the workload binds its memory to
# node 1 and that DIMM is now all node 1 has. ListDomains() and
# DomainsOffline match sysfs; the workload's data is intact.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

have_jq || fail "jq is missing on the guest root"
dimm_of() { # block → its ACPI memory device
        local l
        l=$(readlink "$sysmem/memory$1/firmware_node") || return 1
        printf '%s\n' "${l##*/}"
}
declare -A dimm
dimms=()
for i in $(node_blocks 1); do
        d=$(dimm_of "$i") || fail "memory$i has no firmware_node"
        dimm[$i]=$d
        [[ " ${dimms[*]} " == *" $d "* ]] || dimms+=("$d")
done
assert_eq "${#dimms[@]}" 2 "ACPI memory devices on node 1"
blocks_of() { # device → its blocks
        local i
        for i in "${!dimm[@]}"; do [[ "${dimm[$i]}" == "$1" ]] && printf '%s\n' "$i"; done | sort -n
}
offline_of() { # device → its offline blocks
        local i s n=0
        for i in $(blocks_of "$1"); do
                read -r s <"$sysmem/memory$i/state"
                [[ "$s" == offline ]] && n=$((n + 1))
        done
        printf '%s\n' "$n"
}
assert_eq "$(blocks_of "${dimms[0]}" | wc -l)" 4 "blocks of ${dimms[0]}"
assert_eq "$(blocks_of "${dimms[1]}" | wc -l)" 4 "blocks of ${dimms[1]}"

# Data on both DIMMs, most of it freed again: both hold some. (The kernel
# fills node 1 from its lowest block up; the oldest chunks go first.)
wl_start --policy bind --nodes 1 --seed 11
wl_cmd alloc 700 >/dev/null
wl_cmd free-part 60 >/dev/null
line=$(wl_cmd pfns)
held=$(wl_field "$line" blocks)
for d in "${dimms[@]}"; do
        n=0
        for i in $(blocks_of "$d"); do [[ ",$held," == *",$i:"* ]] && n=$((n + 1)); done
        ((n > 0)) || fail "the workload holds nothing on $d ($held): the layout this scenario needs"
done

mp_config '[Power]
Domains=device'
# what --once says the machine has, before the daemon starts (README.md shows it)
"$(mempowerd_bin)" --once | sed -n '/^Power domains/,/^Energy/p' | while read -r l; do log "once: $l"; done
mp_start

# Watch both DIMMs: never a block of each offline before one is offline whole.
first=
for ((t = 0; t < 240; t++)); do
        a=$(offline_of "${dimms[0]}")
        b=$(offline_of "${dimms[1]}")
        if ((a > 0 && b > 0 && a < 4 && b < 4)); then
                fail "blocks of both DIMMs offline before either was whole: ${dimms[0]} $a, ${dimms[1]} $b"
        fi
        if ((a == 4)); then first=${dimms[0]} other=${dimms[1]}; break; fi
        if ((b == 4)); then first=${dimms[1]} other=${dimms[0]}; break; fi
        sleep 0.5
done
[[ -n "$first" ]] || fail "no DIMM offline whole within 120 s: $(node_states 1 | tr '\n' ' ')"
report first_dimm_offline_s "$(uptime_s)"
log "$first offline whole; $other: $(offline_of "$other") of 4 offline"
assert_eq "$(offline_of "$other")" 0 "blocks of $other offline when $first was done"

# The other DIMM is all node 1 has now, and the workload binds to node 1.
wait_until 30 journalctl -u mempowerd -o cat -g "Node 1 stays online: process $wl_pid" --no-pager -q ||
        fail "no word that the workload keeps node 1: $(journalctl -u mempowerd -o cat --no-pager | tail -5)"
sleep 5
assert_eq "$(offline_of "$other")" 0 "blocks of $other offline while the workload binds node 1"

# The bus agrees with sysfs.
domains=$(busctl --system --json=short call org.mempowerd1 /org/mempowerd1 org.mempowerd1.Manager ListDomains)
for d in "$first" "$other"; do
        got=$(jq -c --arg d "$d" '.data[0][] | select(.[0] == $d) | [.[1], .[5], .[7]]' <<<"$domains")
        assert_eq "$got" "[\"device\",4,$(offline_of "$d")]" "ListDomains $d [kind, blocks, offline]"
done
assert_eq "$(mp_prop DomainsOffline)" 1 "DomainsOffline"
assert_eq "$(mp_prop DomainsTotal)" "$(jq '.data[0] | length' <<<"$domains")" "DomainsTotal"

# The journal's structured fields: one offline event (its MESSAGE_ID) per
# block of the first DIMM, each naming the DIMM as its domain.
offlined_id=6b6869c17c3f49d48aa2882c3ece93a9
got=$(journalctl -u mempowerd MESSAGE_ID=$offlined_id -o json --no-pager |
        jq -r 'select(.MEMPOWERD_DOMAIN != null) | "\(.MEMPOWERD_DOMAIN) \(.MEMPOWERD_BLOCK)"' | sort -u)
want=$(for i in $(blocks_of "$first"); do printf '%s %s\n' "$first" "$i"; done | sort -u)
assert_eq "$(printf '%s' "$got" | tr '\n' ' ')" "$(printf '%s' "$want" | tr '\n' ' ')" \
        "offline events (MESSAGE_ID=$offlined_id) by MEMPOWERD_DOMAIN and MEMPOWERD_BLOCK"

line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
wl_stop
assert_eq "$(oom_kills)" 0 "OOM kills"
