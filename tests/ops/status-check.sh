#!/bin/sh
# `portada-worker status` against a known queue state in a private
# redis-server: --json compared field by field, the text's lines, and
# --watch under a real terminal (script(1)) refreshing the screen.
#   tests/ops/status-check.sh <portada-worker>
set -eu
worker=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pw-status.XXXXXX")
sock=$tmp/r.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" --daemonize yes
cleanup() {
	redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.1; done
fail() { echo "status-check: FAILED: $*" >&2; exit 1; }
r() { redis-cli -s "$sock" "$@" >/dev/null; }

now=$(date +%s)
r RPUSH files:all q1 q2 q3
r RPUSH files:processing:edge-1 p1 p2
r RPUSH files:processing:edge-2 p3
r HSET file:q1 status 0
r HSET file:p1 status 1 started_at $((now - 42))
r HSET file:p2 status 1 started_at $((now - 7))
r HSET file:p3 status 1 started_at $((now - 3))
r HSET file:d1 status 2 records 5
r HSET file:d2 status 2 records 1
for k in $(seq 1 12); do
	r HSET "file:f$k" status -1 error_message "invalid JSON at line $k, column 2" \
		finished_at $((now - 100 + k)) original_filename "f$k.json"
done
r SET file:not-a-hash x		# under the prefix, but not an upload
# edge-1 is alive, edge-2 holds ids but stopped beating (dead), edge-3 is
# alive with nothing in flight.
r SET portada:heartbeat:edge-1 $((now - 2)) EX 30
r SET portada:heartbeat:edge-3 $((now - 1)) EX 30

"$worker" status --redis "unix://$sock" --json >"$tmp/out.json" || fail "status --json exited $?"
node -e '
const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
const now = Number(process.argv[2])
const want = (c, m) => { if (!c) { console.error("status-check: " + m + ": " + JSON.stringify(o)); process.exit(1) } }
want(o.queue.key === "files:all" && o.queue.waiting === 3, "queue")
const w = Object.fromEntries(o.workers.map((x) => [x.worker, x]))
want(Object.keys(w).sort().join() === "edge-1,edge-2,edge-3", "workers")
want(w["edge-1"].in_flight === 2 && w["edge-1"].oldest_started_at === now - 42 &&
  w["edge-1"].heartbeat_at === now - 2, "edge-1")
want(w["edge-2"].in_flight === 1 && w["edge-2"].oldest_started_at === now - 3 &&
  w["edge-2"].heartbeat_at === null, "edge-2")
want(w["edge-3"].in_flight === 0 && w["edge-3"].oldest_started_at === null &&
  w["edge-3"].heartbeat_at === now - 1, "edge-3")
want(o.statuses["0"].count === 1 && o.statuses["1"].count === 3 && o.statuses["2"].count === 2 &&
  o.statuses["-1"].count === 12 && o.statuses["-1"].meaning === "failed", "statuses")
want(o.uploads_scanned === 18 && o.truncated === false, "scanned")
want(o.last_errors.length === 10, "ten last errors")
want(o.last_errors[0].id === "f12" && o.last_errors[0].file === "f12.json" &&
  o.last_errors[0].error_message === "invalid JSON at line 12, column 2" &&
  o.last_errors[0].finished_at === now - 88, "newest error first")
want(o.last_errors[9].id === "f3", "the ten newest")
' "$tmp/out.json" "$now" || exit 1

"$worker" status --redis "unix://$sock" >"$tmp/out.txt" || fail "status exited $?"
grep -q '^queue      files:all: 3 waiting$' "$tmp/out.txt" || fail "text: queue line"
grep -q '^  edge-1  *heartbeat [2-4] s ago  *2   oldest started 4[2-4] s ago$' "$tmp/out.txt" ||
	fail "text: edge-1: $(grep edge-1 "$tmp/out.txt")"
grep -q '^  edge-2  *NO HEARTBEAT (stopped or dead)  *1' "$tmp/out.txt" || fail "text: edge-2"
grep -q '^uploads    18 by status:.*-1 (failed) 12' "$tmp/out.txt" || fail "text: statuses"
grep -q '^  .*  f12  f12.json$' "$tmp/out.txt" || fail "text: last error"

# --watch in a real terminal: the screen is cleared and redrawn.
timeout -s INT 2 script -qec "'$worker' status --redis unix://$sock --watch=0.3" /dev/null \
	>"$tmp/watch.txt" 2>&1 || true
redraws=$(grep -o "$(printf '\033')\[2J" "$tmp/watch.txt" | wc -l)
[ "$redraws" -ge 3 ] || fail "--watch redrew the screen $redraws time(s) in 2 s"
# A Redis that is not there: a clear one-line error, exit 1.
if "$worker" status --redis unix://$tmp/nothing.sock >"$tmp/err.txt" 2>&1; then
	fail "status succeeded without Redis"
fi
grep -q "cannot reach Redis at unix://$tmp/nothing.sock" "$tmp/err.txt" || fail "$(cat "$tmp/err.txt")"
echo "status-check: OK (--json, text, --watch under script(1) with $redraws redraws)"
