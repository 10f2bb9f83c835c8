# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# promtool, from Debian's prometheus package (tools/deps installs it), for
# the metrics suite.
#
#   promtool_require   returns when promtool is there; otherwise exits 77
#                      (SKIP) when no prometheus package can be installed on
#                      this machine, and 1 (FAIL) when one could: then the
#                      test dependencies were not installed (tools/deps).
#   promql_names       reads PromQL expressions, one a line, and prints the
#                      metric names they select, one a line (not functions,
#                      labels, keywords or Grafana's $variables).

promtool_require() {
        command -v promtool >/dev/null && return 0
        if command -v apt-cache >/dev/null &&
                apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
                echo "FAIL: promtool is missing, but Debian's prometheus package can be" \
                        "installed here: run tools/deps (as root)" >&2
                exit 1
        fi
        echo "SKIP: promtool is not installed and no prometheus package is available here"
        exit 77
}

promql_names() {
        perl -ne '
                chomp;
                s/"(?:[^"\\]|\\.)*"//g;                  # strings (label values)
                s/\{[^}]*\}//g;                           # label matchers
                s/\[[^\]]*\]//g;                          # ranges, subqueries
                s/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)//g;
                s/\$\w+//g;                               # Grafana variables
                s/(?<![\w:])[0-9.][\w.]*//g;                # numbers, durations (5m, 1e3)
                while (/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g) {
                        next if defined $2;               # a function
                        next if $1 =~ /^(?:and|or|unless|bool|offset|by|without|on|ignoring|group_left|group_right|inf|nan)$/i;
                        print "$1\n";
                }'
}
