#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The harness itself: systemd is PID 1, the system bus answers, the
# overlay is writable, results reach the host.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

assert_eq "$(cat /proc/1/comm)" systemd "PID 1"
assert_cmd "system bus answers" busctl --system --no-pager list >/dev/null
touch /etc/vmtest-writable
assert_cmd "overlay root is writable" test -e /etc/vmtest-writable
nodes=(/sys/devices/system/node/node[0-9]*)
report nodes "${#nodes[@]}"
report mem_total_kb "$(meminfo MemTotal)"
