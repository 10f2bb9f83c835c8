#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# memcached serving while mempowerd moves its memory. memcached never gives
# memory back: its items live in 1 MiB slab pages that it mallocs as they
# fill and keeps, deleted items or not. So mempowerd can only offline the
# node-1 blocks that hold them by moving memcached's pages, live.
#   1. memcached -M (an error, not an eviction, when full) on node 1 first
#      (numactl --preferred=1), mempowerd not running: MC_KEYS (16000)
#      values of 1-63 KiB (some 520 MiB), each derived from its key (the
#      key, its length and a window of a fixed pseudo-random pool chosen by
#      the key), written over TCP; three keys in four deleted again.
#   2. mempowerd starts; while it consolidates, a client keeps asking for
#      random keys, kept and deleted, and checks every answer.
#   3. Once the offline blocks hold still, every key is asked for: each
#      kept key returns exactly its value, each deleted key misses;
#      memcached evicted nothing and holds as many items as were kept.
#   4. memcached stops; its memory is free, and more of node 1 goes
#      offline (all but its lowest block, at most).
# Pass: all of that, node-1 blocks offline while memcached held its data,
# at least a block's worth of memcached's pages moved off node 1, no OOM
# kill in the kernel log. The client is Python (the host's python3).
# shellcheck source=SCRIPTDIR/../lib.sh
. /vmtest/lib.sh
# shellcheck source=SCRIPTDIR/../evac.sh
. /vmtest/evac.sh

command -v memcached >/dev/null || skip "memcached is not installed on the host (tools/deps)"
command -v numactl >/dev/null || skip "numactl is not installed on the host (tools/deps)"
command -v python3 >/dev/null || skip "python3 is not installed on the host"
keys=${MC_KEYS:-16000}
port=11311
block_mib=$(($(printf '%d' "0x$(cat "$sysmem/block_size_bytes")") >> 20))
total=$(node_blocks 1 | wc -l)

# The client: MODE load|delete|verify|serve|stats, one result line.
cat >/tmp/mc.py <<'EOF'
import random, socket, sys, time, os

HOST, PORT = "127.0.0.1", int(os.environ.get("MC_PORT", "11311"))
POOL = random.Random(20240611).randbytes(1 << 21)


def key(i):
    return b"k%07d" % i


def value(i):
    n = 1024 + (i * 40503) % 63488
    head = b"%s:%d:" % (key(i), n)
    off = (i * 2654435761) % (1 << 20)
    return head + POOL[off:off + n - len(head)]


def kept(i):
    return i % 4 == 0


class Conn:
    def __init__(self):
        self.s = socket.create_connection((HOST, PORT))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb", buffering=1 << 20)

    def line(self):
        l = self.f.readline()
        if not l:
            raise SystemExit("error connection closed by memcached")
        return l.rstrip(b"\r\n")

    def send(self, parts):
        self.s.sendall(b"".join(parts))

    def get(self, ids):
        self.send([b"get " + b" ".join(key(i) for i in ids) + b"\r\n"])
        got = {}
        while True:
            l = self.line()
            if l == b"END":
                return got
            w = l.split()
            if w[0] != b"VALUE":
                raise SystemExit("error get: %r" % l)
            data = self.f.read(int(w[3]) + 2)
            got[w[1]] = data[:-2]


def batches(seq, n):
    for j in range(0, len(seq), n):
        yield seq[j:j + n]


def load(n):
    c, t, total = Conn(), time.time(), 0
    for b in batches(range(n), 32):
        parts = []
        for i in b:
            v = value(i)
            total += len(v)
            parts += [b"set %s 0 0 %d\r\n" % (key(i), len(v)), v, b"\r\n"]
        c.send(parts)
        for i in b:
            l = c.line()
            if l != b"STORED":
                raise SystemExit("error set %s: %r" % (key(i).decode(), l))
    print("stored=%d bytes=%d seconds=%.1f" % (n, total, time.time() - t))


def delete(n):
    c, t, d = Conn(), time.time(), 0
    for b in batches([i for i in range(n) if not kept(i)], 128):
        c.send([b"delete %s\r\n" % key(i) for i in b])
        for i in b:
            l = c.line()
            if l != b"DELETED":
                raise SystemExit("error delete %s: %r" % (key(i).decode(), l))
            d += 1
    print("deleted=%d kept=%d seconds=%.1f" % (d, n - d, time.time() - t))


def check(c, ids, r):
    got = c.get(ids)
    for i in ids:
        v = got.get(key(i))
        if kept(i):
            if v is None:
                r["missing"] += 1
            elif v != value(i):
                r["wrong"] += 1
                if r["wrong"] <= 5:
                    exp = value(i)
                    at = next((j for j in range(min(len(v), len(exp))) if v[j] != exp[j]), min(len(v), len(exp)))
                    print("wrong value for %s: %d bytes, expected %d, first difference at %d"
                          % (key(i).decode(), len(v), len(exp), at), file=sys.stderr)
            else:
                r["ok"] += 1
                r["bytes"] += len(v)
        elif v is not None:
            r["unexpected"] += 1
    r["gets"] += len(ids)


def summary(r, t):
    bad = r["missing"] + r["wrong"] + r["unexpected"]
    print("ok=%d wrong=%d missing=%d unexpected=%d gets=%d checked_bytes=%d seconds=%.1f"
          % (r["ok"], r["wrong"], r["missing"], r["unexpected"], r["gets"], r["bytes"], time.time() - t))
    sys.exit(1 if bad or r["ok"] == 0 else 0)


def new_r():
    return dict(ok=0, wrong=0, missing=0, unexpected=0, gets=0, bytes=0)


def verify(n):
    c, t, r = Conn(), time.time(), new_r()
    for b in batches(range(n), 64):
        check(c, b, r)
    summary(r, t)


def serve(n, stop):
    # random batches, every fourth a deleted key, until STOP exists
    c, t, r, rnd = Conn(), time.time(), new_r(), random.Random(7)
    while not os.path.exists(stop):
        check(c, [rnd.randrange(n) for _ in range(32)], r)
    summary(r, t)


def stats():
    c = Conn()
    for cmd in (b"stats\r\n", b"stats slabs\r\n"):
        c.send([cmd])
        out = {}
        while True:
            l = c.line()
            if l == b"END":
                break
            w = l.split()
            out[w[1].decode()] = w[2].decode()
        if cmd == b"stats\r\n":
            s = out
        else:
            s["total_malloced"] = out.get("total_malloced", "0")
            s["active_slabs"] = out.get("active_slabs", "0")
    print(" ".join("%s=%s" % (k, s[k]) for k in
                   ("curr_items", "bytes", "limit_maxbytes", "evictions", "total_malloced",
                    "active_slabs", "get_hits", "get_misses", "cmd_set")))


mode = sys.argv[1]
if mode == "load":
    load(int(sys.argv[2]))
elif mode == "delete":
    delete(int(sys.argv[2]))
elif mode == "verify":
    verify(int(sys.argv[2]))
elif mode == "serve":
    serve(int(sys.argv[2]), sys.argv[3])
elif mode == "stats":
    stats()
EOF
mc() { # MODE ARGS... -> its result line (fails on a nonzero exit)
        local line rc=0
        line=$(MC_PORT=$port python3 /tmp/mc.py "$@") || rc=$?
        log "mc $*: $line"
        ((rc == 0)) || fail "client '$*' failed (status $rc): $line"
        printf '%s\n' "$line"
}
field() { wl_field "$@"; }
mc_node_mib() { # MiB memcached holds on node $1 (numa_maps)
        awk -v k="N$1" '{ for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) n += a[2] } }
                END { printf "%d\n", n * 4 / 1024 }' "/proc/$mc_pid/numa_maps"
}
mc_ready() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# 1. memcached, filled and thinned out.
numactl --preferred=1 memcached -u root -l 127.0.0.1 -p "$port" -U 0 -m 1024 -M -t 2 -c 64 \
        >/tmp/memcached.log 2>&1 &
mc_pid=$!
wait_clock 30 mc_ready || fail "memcached does not listen: $(cat /tmp/memcached.log)"
line=$(mc load "$keys")
report mc_load_s "$(field "$line" seconds)"
report mc_stored_bytes "$(field "$line" bytes)"
line=$(mc delete "$keys")
kept=$(field "$line" kept)
report mc_kept_keys "$kept"
line=$(mc stats)
report mc_malloced_mib "$(($(field "$line" total_malloced) >> 20))"
node1_before=$(mc_node_mib 1)
report mc_node1_mib_before "$node1_before"
report mc_node0_mib_before "$(mc_node_mib 0)"
((node1_before >= 3 * block_mib)) || fail "memcached holds only $node1_before MiB on node 1"
assert_eq "$(node_count 1 offline)" 0 "node-1 blocks offline before mempowerd"

# 2. mempowerd consolidates under a client.
rm -f /tmp/mc.stop
MC_PORT=$port python3 /tmp/mc.py serve "$keys" /tmp/mc.stop >/tmp/mc.serve 2>&1 &
serve_pid=$!
read -r t0 _ </proc/uptime
mp_start
# Held still: the same number offline for 15 s (the sweep starts one block
# every other tick), within 150 s.
last=-1 since=$t0 settled=0
for ((i = 0; i < 300; i++)); do
        off=$(node_count 1 offline)
        read -r now _ </proc/uptime
        if ((off != last)); then
                last=$off since=$now
        elif ((off > 0)) && awk -v a="$since" -v b="$now" 'BEGIN { exit !(b - a >= 15) }'; then
                settled=1
                break
        fi
        kill -0 "$mc_pid" 2>/dev/null || fail "memcached died: $(cat /tmp/memcached.log)"
        kill -0 "$serve_pid" 2>/dev/null || fail "the client stopped: $(cat /tmp/mc.serve)"
        sleep 0.5
done
((settled)) || log "offline blocks still changing after 150 s"
offline=$(node_count 1 offline)
report node1_offline_with_memcached "$offline"
report consolidation_s "$(awk -v a="$t0" -v b="$since" 'BEGIN { printf "%.1f", b - a }')"
node1_after=$(mc_node_mib 1)
report mc_node1_mib_after "$node1_after"
report mc_node0_mib_after "$(mc_node_mib 0)"
report mc_moved_off_node1_mib "$((node1_before - node1_after))"
report pages_migrated "$(mp_prop PagesMigrated)"
report evacuations_succeeded "$(mp_prop EvacuationsSucceeded)"
report evacuations_failed "$(mp_prop EvacuationsFailed)"
assert_ge "$offline" 1 "node-1 blocks offline while memcached holds its data"
assert_ge "$((node1_before - node1_after))" "$block_mib" "MiB of memcached's pages moved off node 1"
touch /tmp/mc.stop
rc=0
wait "$serve_pid" || rc=$?
line=$(tail -1 /tmp/mc.serve)
log "client during the consolidation: $line"
((rc == 0)) || fail "the client saw wrong answers during the consolidation: $(cat /tmp/mc.serve)"
report serve_gets "$(field "$line" gets)"
report serve_checked_mib "$(($(field "$line" checked_bytes) >> 20))"

# 3. Every key, byte for byte.
line=$(mc verify "$keys")
assert_eq "$(field "$line" ok)" "$kept" "kept keys that returned their value"
report verify_checked_bytes "$(field "$line" checked_bytes)"
line=$(mc stats)
assert_eq "$(field "$line" evictions)" 0 "memcached evictions"
assert_eq "$(field "$line" curr_items)" "$kept" "items memcached holds"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log"

# 4. memcached stops: its memory goes, and node 1 with it.
kill "$mc_pid"
wait "$mc_pid" || true
read -r t1 _ </proc/uptime
# One block more (up to all but node 1's lowest, which Domains=block keeps).
more=$((offline + 1 < total - 1 ? offline + 1 : total - 1))
wait_clock 60 node_count_ge 1 offline "$more" ||
        fail "node 1 not further offline after memcached stopped (expected $more): $(node_states 1 | tr '\n' ' ')"
read -r t2 _ </proc/uptime
report node1_offline_end "$(node_count 1 offline)"
report offline_after_stop_s "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')"
assert_eq "$(oom_kills)" 0 "OOM kills in the kernel log at the end"
