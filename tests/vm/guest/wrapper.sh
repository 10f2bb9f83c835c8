#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs in the guest (mempowerd-scenario.service): times the boot, runs the
# scenario under a time limit, records its verdict and copies the journal
# and the kernel log to the run share for the host runner.
set -uo pipefail

out=/vmtest/out
mkdir -p "$out"
# shellcheck source=/dev/null
. /vmtest/env

read -r boot_s _ </proc/uptime
printf 'boot_to_scenario_s %s\n' "$boot_s" >>"$out/report"
echo "vmtest: scenario $VMTEST_SCENARIO starts at ${boot_s}s of uptime"

# The running kernel's modules must be where modprobe looks (a kernel from
# tests/vm/get-kernel's cache has them bind-mounted there by /init).
if modinfo -n 9pnet_virtio >/dev/null 2>&1; then
        timeout -k 10 "$VMTEST_SCENARIO_TIMEOUT" /bin/bash /vmtest/scenario.sh \
                > >(tee "$out/scenario.log") 2>&1
        rc=$?
else
        echo "the modules of $(uname -r) are not in /lib/modules/$(uname -r)" |
                tee -a "$out/failures" "$out/scenario.log"
        rc=1
fi
read -r end_s _ </proc/uptime
printf 'scenario_s %s\n' "$(awk -v a="$boot_s" -v b="$end_s" 'BEGIN { printf "%.1f", b - a }')" >>"$out/report"

case $rc in
0) verdict=pass ;;
77) verdict=skip ;;
124 | 137) verdict="fail timeout after ${VMTEST_SCENARIO_TIMEOUT}s" ;;
*) verdict="fail exit status $rc" ;;
esac
echo "vmtest: scenario $VMTEST_SCENARIO: $verdict"

journalctl -b --no-pager -o short-monotonic >"$out/journal.txt" 2>&1
dmesg >"$out/dmesg.txt" 2>&1
# The verdict goes last: its presence tells the host that everything is there.
printf '%s\n' "$verdict" >"$out/result.tmp" && mv "$out/result.tmp" "$out/result"
sync
exit 0
