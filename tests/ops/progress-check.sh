#!/bin/sh
# --exit-when-idle progress: under a real terminal (script(1)) a live line
# (files done/failed/left, MB/s, ETA) redrawn in place under the log, and a
# last "progress" log line with the totals; without a terminal no live line.
#   tests/ops/progress-check.sh <portada-worker>
set -eu
worker=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pw-progress.XXXXXX")
sock=$tmp/r.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" --daemonize yes
cleanup() {
	redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.1; done
fail() { echo "progress-check: FAILED: $*" >&2; exit 1; }

mkdir -p "$tmp/ingest"
node -e '
const fs = require("fs")
for (let k = 0; k < 60; k++) {
  const recs = Array.from({ length: 3000 }, (_, i) => ({ ship_name: "S" + i + "-" + k, master_name: "M" + (i * 7 % 101), publication_date: "1850-01-02", obs: "x".repeat(i % 50) }))
  fs.writeFileSync(process.argv[1] + "/f" + k + ".json", JSON.stringify(recs))
}
' "$tmp/ingest"
queue() {
	redis-cli -s "$sock" FLUSHALL >/dev/null
	for k in $(seq 0 59); do
		printf 'HSET file:g%d file_path %s file_type entry status 0 user u timestamp %s\r\nRPUSH files:all g%d\r\n' \
			"$k" "$tmp/ingest/f$k.json" "$(date +%s)" "$k"
	done | redis-cli -s "$sock" --pipe >/dev/null
}

queue
script -qec "'$worker' --redis unix://$sock --ingest-root $tmp/ingest --lake $tmp/lake1 \
	--worker-id p --exit-when-idle --read-chunk 4k" /dev/null >"$tmp/tty.txt" 2>&1 ||
	fail "the worker under script(1): $(tail -5 "$tmp/tty.txt")"
esc=$(printf '\033')
grep -q "${esc}\[K[0-9]* done, [0-9]* failed, [0-9]* left ([0-9]* in flight) | [0-9.]* MB/s | ETA " \
	"$tmp/tty.txt" || fail "no live progress line: $(head -c 600 "$tmp/tty.txt")"
grep -q 'progress: 60 done, 0 failed, 0 left (0 in flight)' "$tmp/tty.txt" ||
	fail "no final progress line"

queue
"$worker" --redis "unix://$sock" --ingest-root "$tmp/ingest" --lake "$tmp/lake2" --worker-id p \
	--exit-when-idle >"$tmp/plain.txt" 2>&1 || fail "the worker without a terminal"
if grep -q "$esc" "$tmp/plain.txt"; then fail "escape codes without a terminal"; fi
grep -q 'progress: 60 done, 0 failed, 0 left (0 in flight)' "$tmp/plain.txt" ||
	fail "no final progress line without a terminal"
echo "progress-check: OK ($(grep -o "${esc}\[K[0-9]* done" "$tmp/tty.txt" | wc -l) live redraw(s))"
