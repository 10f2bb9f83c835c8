#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PostgreSQL, checked by its own means, while mempowerd moves its memory.
# A cluster with data checksums in /tmp (tmpfs: its files are memory too),
# started on node 1 first (numactl --preferred=1), mempowerd not running:
# a ballast table (PG_BALLAST_ROWS, 500 000 rows, ~140 MiB), pgbench -i at
# scale PG_SCALE (5), a timed pgbench run (TPC-B, 2 clients). Each table's
# row count and a sum of its rows' hashes are taken. Then mempowerd starts
# and consolidates while pgbench -S (select only) runs: the database's
# files in tmpfs (page cache that no process maps: the kernel's offline
# migration moves it) and its shared buffers (mapped: mempowerd's
# move_pages) leave node-1 blocks. Once the offline blocks hold still, the
# tables are read again (a sequential scan reads their pages from tmpfs,
# and PostgreSQL checks each page's checksum as it does) and checked by
# pg_amcheck (heap and B-tree, every index entry against the heap). Then
# the ballast is dropped: node 1's lowest block held it, which frees room
# there, and one more node-1 block goes offline (NodeMinFreeMiB kept it:
# the lowest block was full). The pgbench tables are checked again, and
# with the server stopped pg_checksums --check reads every page of the
# cluster.
# Pass: every PostgreSQL tool exits 0 (pgbench with no failed transaction,
# pg_amcheck with no finding, pg_checksums with 0 bad checksums), the
# counts and hashes equal those taken before mempowerd ran, node-1 blocks
# went offline while the database held its data there and one more after
# the drop, and no OOM kill in the kernel log.
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x "$pgbin/postgres" && -x "$pgbin/pgbench" && -x "$pgbin/pg_amcheck" ]] ||
        skip "PostgreSQL (postgres, pgbench, pg_amcheck) is not installed on the host (tools/deps)"
command -v numactl >/dev/null || skip "numactl is not installed on the host (tools/deps)"
getent passwd postgres >/dev/null || skip "no postgres user"
scale=${PG_SCALE:-5}
ballast_rows=${PG_BALLAST_ROWS:-500000}
block_mib=$(($(printf '%d' "0x$(cat "$sysmem/block_size_bytes")") >> 20))
total=$(node_blocks 1 | wc -l)
pgdir=/tmp/pg
data=$pgdir/data

as_pg() { runuser -u postgres -- "$@"; }
psql_q() { as_pg "$pgbin/psql" -h "$pgdir" -U postgres -X -q -v ON_ERROR_STOP=1 -At "$@" postgres; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
timed() { # KEY CMD... : run CMD, report KEY_s, fail with its output if it fails
        local key=$1 t0 t1 rc=0
        shift
        read -r t0 _ </proc/uptime
        "$@" >"/tmp/$key.out" 2>&1 || rc=$?
        read -r t1 _ </proc/uptime
        report "${key}_s" "$(elapsed "$t0" "$t1")"
        ((rc == 0)) || fail "$key: '$*' exited with $rc: $(tail -20 "/tmp/$key.out")"
}
# MiB the server's processes hold on node $1 (numa_maps of the postmaster
# and its children).
pg_node_mib() {
        local pm
        read -r pm <"$data/postmaster.pid"
        for p in "$pm" $(pgrep -P "$pm" || true); do
                cat "/proc/$p/numa_maps" 2>/dev/null || true
        done | awk -v k="N$1" '{ for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) n += a[2] } }
                END { printf "%d\n", n * 4 / 1024 }'
}
node1_used_mib() {
        awk '$3 == "MemUsed:" { print int($4 / 1024) }' /sys/devices/system/node/node1/meminfo
}
diag() {
        log "MemAvailable $(($(meminfo MemAvailable) / 1024)) MiB, MemFree $(($(meminfo MemFree) / 1024)) MiB, Shmem $(($(meminfo Shmem) / 1024)) MiB, MemTotal $(($(meminfo MemTotal) / 1024)) MiB, Committed_AS $(($(meminfo Committed_AS) / 1024)) MiB, reserve $(($(mp_prop ReserveBytes) >> 20)) MiB"
        mempowerctl blocks >&2 || true
}
# "TABLE ROWS HASHSUM" per table, sorted.
table_sums() {
        local t q=
        for t in "$@"; do
                q+="${q:+ UNION ALL }SELECT '$t', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM $t x"
        done
        psql_q -F ' ' -c "$q" | sort
}
# The server's log goes with the run's output, pass or fail.
# shellcheck disable=SC2154 # rc is set in the trap
trap 'rc=$?; cp -f "$pgdir/server.log" "$VMTEST_OUT/postgres.log" 2>/dev/null; (exit $rc); mp_on_exit' EXIT
pgbench_tables=(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history)

# ---- The cluster, on node 1 first, before mempowerd.
mkdir -p "$pgdir"
chown postgres: "$pgdir"
timed initdb as_pg "$pgbin/initdb" -D "$data" --data-checksums -A trust -U postgres \
        --locale=C -E UTF8 --no-sync
pg_opts="-c listen_addresses= -c unix_socket_directories=$pgdir -c shared_buffers=128MB"
pg_opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off"
pg_opts+=" -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=256MB"
timed pg_start numactl --preferred=1 runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -w -t 120 \
        -l "$pgdir/server.log" -o "$pg_opts" start
# The ballast first: node 1 fills from its lowest block up, and that block
# (which Domains=block never offlines) holds the ballast when it is dropped.
timed ballast psql_q -c "CREATE TABLE ballast AS SELECT g AS id, md5(g::text) AS h,
        repeat(md5((g * 7)::text), 6) AS pad FROM generate_series(1, $ballast_rows) g"
timed pgbench_init as_pg "$pgbin/pgbench" -h "$pgdir" -U postgres -i -s "$scale" -I dtGvp postgres
timed pgbench_run as_pg "$pgbin/pgbench" -h "$pgdir" -U postgres -c 2 -j 2 -T 15 postgres
grep -E 'actually processed|failed trans|^tps' /tmp/pgbench_run.out >&2 || true
grep -q 'number of failed transactions: 0 ' /tmp/pgbench_run.out || fail "pgbench: $(cat /tmp/pgbench_run.out)"
report pgbench_tps "$(awk '$1 == "tps" { print int($3) }' /tmp/pgbench_run.out)"
timed sums_before table_sums "${pgbench_tables[@]}" ballast
cp /tmp/sums_before.out /tmp/sums0
cat /tmp/sums0 >&2
report db_mib "$(psql_q -c "SELECT pg_database_size('postgres') >> 20")"
report cluster_mib "$(du -sm "$data" | cut -f1)"
pg_node1_before=$(pg_node_mib 1)
report pg_mapped_node1_mib_before "$pg_node1_before"
report node1_used_mib_before "$(node1_used_mib)"
((${#pgbench_tables[@]} + 1 == $(wc -l </tmp/sums0))) || fail "table sums: $(cat /tmp/sums0)"
used=$(node1_used_mib)
((used >= 2 * block_mib)) || fail "node 1 holds only $used MiB"

# ---- mempowerd consolidates while pgbench -S reads.
as_pg "$pgbin/pgbench" -h "$pgdir" -U postgres -S -n -c 1 -T 40 postgres >/tmp/pgbench_s.out 2>&1 &
reader=$!
read -r t0 _ </proc/uptime
mp_start
settle() { # until the number offline held still for 10 s (within 90 s); prints it
        local last=-1 since now off t0
        read -r t0 _ </proc/uptime
        since=$t0
        while :; do
                off=$(node_count 1 offline)
                read -r now _ </proc/uptime
                if ((off != last)); then
                        last=$off since=$now
                elif ((off > 0)) && awk -v a="$since" -v b="$now" 'BEGIN { exit !(b - a >= 10) }'; then
                        break
                fi
                awk -v a="$t0" -v b="$now" 'BEGIN { exit !(b - a >= 90) }' && break
                sleep 0.5
        done
        printf '%s %s\n' "$last" "$since"
}
read -r offline since < <(settle)
report consolidation_s "$(elapsed "$t0" "$since")"
report node1_offline_with_db "$offline"
diag
report node1_used_mib_after "$(node1_used_mib)"
report pg_mapped_node1_mib_after "$(pg_node_mib 1)"
report pages_migrated "$(mp_prop PagesMigrated)"
report evacuations_succeeded "$(mp_prop EvacuationsSucceeded)"
assert_ge "$offline" 1 "node-1 blocks offline while the database held its data there"
rc=0
wait "$reader" || rc=$?
grep -E 'actually processed|failed trans|^tps' /tmp/pgbench_s.out >&2 || true
((rc == 0)) || fail "pgbench -S exited with $rc: $(tail -20 /tmp/pgbench_s.out)"
grep -q 'number of failed transactions: 0 ' /tmp/pgbench_s.out || fail "pgbench -S: $(cat /tmp/pgbench_s.out)"
report pgbench_select_tps "$(awk '$1 == "tps" { print int($3) }' /tmp/pgbench_s.out)"

# ---- Read back: the same rows, checksums, amcheck.
timed sums_after table_sums "${pgbench_tables[@]}" ballast
diff /tmp/sums0 /tmp/sums_after.out >&2 || fail "table contents changed across the consolidation"
log "ok: row counts and hashes of ${#pgbench_tables[@]} pgbench tables and the ballast unchanged"
timed amcheck as_pg "$pgbin/pg_amcheck" -h "$pgdir" -U postgres --install-missing --heapallindexed postgres
[[ ! -s /tmp/amcheck.out ]] || fail "pg_amcheck: $(cat /tmp/amcheck.out)"

# ---- Drop the ballast: more of node 1 goes.
timed drop psql_q -c "DROP TABLE ballast"
more=$((offline + 1 < total - 1 ? offline + 1 : total - 1))
wait_clock 60 node_count_ge 1 offline "$more" || diag
node_count_ge 1 offline "$more" ||
        fail "no more node-1 blocks offline after the drop (expected $more): $(node_states 1 | tr '\n' ' ')"
read -r offline2 _ < <(settle)
report node1_offline_after_drop "$offline2"
grep -v '^ballast ' /tmp/sums0 >/tmp/sums1
timed sums_after_drop table_sums "${pgbench_tables[@]}"
diff /tmp/sums1 /tmp/sums_after_drop.out >&2 || fail "pgbench tables changed after the drop"
timed amcheck_after_drop as_pg "$pgbin/pg_amcheck" -h "$pgdir" -U postgres --heapallindexed postgres
[[ ! -s /tmp/amcheck_after_drop.out ]] || fail "pg_amcheck: $(cat /tmp/amcheck_after_drop.out)"
if grep -E 'ERROR:|PANIC:|invalid page|verification failed' "$pgdir/server.log" >&2; then
        fail "the server log reports a problem (above)"
fi

# ---- Every page on disk (tmpfs) against its checksum.
timed pg_stop as_pg "$pgbin/pg_ctl" -D "$data" -w -m fast stop
timed pg_checksums as_pg "$pgbin/pg_checksums" --check -D "$data"
cat /tmp/pg_checksums.out >&2
grep -q '^Bad checksums: *0$' /tmp/pg_checksums.out || fail "pg_checksums: $(cat /tmp/pg_checksums.out)"
report checksummed_blocks "$(awk -F: '/^Blocks scanned/ { print $2 + 0 }' /tmp/pg_checksums.out)"
report pages_migrated_end "$(mp_prop PagesMigrated)"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log"
