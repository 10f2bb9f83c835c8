#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The handshake workload with DryRun=yes: mempowerd logs what it would do
# and changes nothing: every block's sysfs state is the same before and
# after, and the decisions are in the journal. The plan runs against a model
# in which each decision succeeded, so it converges: each block is decided
# once, and what it would do in all is said once per change.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

mp_config "[Daemon]
DryRun=yes"
states() {
        local d s
        for d in "$sysmem"/memory[0-9]*; do
                read -r s <"$d/state"
                printf '%s %s\n' "${d##*/}" "$s"
        done
}
before=$(states)
mp_start
assert_eq "$(mp_prop State)" dry-run "State property"

wl_start --policy bind --nodes 1 --seed 11
wl_cmd alloc 400 >/dev/null
wl_cmd free-part 90 >/dev/null
# Long enough for everything the real run did (it was done in ~10 s).
wait_until 30 journalctl -u mempowerd -o cat -g 'would (evacuate|offline)' --no-pager -q ||
        fail "no dry-run decision logged"
sleep 10
line=$(wl_cmd verify)
assert_eq "$(wl_field "$line" wrong_bytes)" 0 "wrong bytes"
wl_stop
systemctl stop mempowerd

after=$(states)
assert_eq "$after" "$before" "sysfs block states before and after"
report decisions_logged "$(journalctl -u mempowerd -o cat --no-pager | grep -c 'would ')"
summary=$(journalctl -u mempowerd -o cat --no-pager | grep 'Dry run: would offline' | tail -n 1)
[[ -n "$summary" ]] || fail "no dry-run summary"
log "summary: $summary"
# each block decided at most once per model change (no cycling through back-off)
dup=$(journalctl -u mempowerd -o cat --no-pager | sed -n 's/^memory\([0-9]*\): would \(offline\|evacuate\).*/\1/p' |
        sort | uniq -c | awk '$1 > 1 { print $2 }' | tr '\n' ' ')
# a block the model onlined under pressure may be decided again: count those
onl=$(journalctl -u mempowerd -o cat --no-pager | sed -n 's/^memory\([0-9]*\): would online.*/\1/p' | sort -u | tr '\n' ' ')
for b in $dup; do
        [[ " $onl " == *" $b "* ]] || fail "memory$b decided more than once without the model onlining it"
done
assert_eq "$(journalctl -u mempowerd -o cat --no-pager | grep -c -E ': (online|offline) after|-> offline')" 0 \
        "state changes made by the daemon"
