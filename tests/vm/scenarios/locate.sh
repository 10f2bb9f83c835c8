#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Figures for README.md on the guest's kernel (not part of the vm test
# suite): locating a block's pages in a sparse process, PAGEMAP_SCAN (where
# the kernel has it), the smaps fallback and the full walk side by side.
# Run: meson compile -C build bench-vm-locate  (or tests/vm/run-scenario BUILD locate)
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh

command -v locate-bench >/dev/null || skip "locate-bench was not built"
log "kernel $(uname -r)"
# 16 GiB of address space with 256 MiB touched: the guest has 2 GiB.
out=$(locate-bench --sparse 16 256) || fail "locate-bench --sparse failed: $out"
printf '%s\n' "$out"
while read -r line; do
        case $line in
        "touched at the start"*) key=head ;;
        "PROT_NONE reservation"*) key=reserved ;;
        "spread, 1 page in N"*) key=spread ;;
        *) continue ;;
        esac
        read -r scan _ smaps _ _ full _ <<<"$(awk -F'|' '{ print $2, $3, $4 }' <<<"$line")"
        report "locate_${key}_scan_ms" "$scan"
        report "locate_${key}_smaps_ms" "$smaps"
        report "locate_${key}_full_ms" "$full"
done <<<"$out"
