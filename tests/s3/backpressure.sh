#!/bin/sh
# A store that falls behind slows intake instead of growing memory: the
# real worker with its lake on S3 (s3rver behind s3-server.mjs), one 24 MB
# upload written uncompressed into its own data file (8 MiB multipart
# parts) and 20 small ones, --memory-budget 4m so that every part cut puts
# the store behind until it is acknowledged.  Checks that readers paused
# for the store ("waiting for the store to catch up"), that every upload
# ends done with all its rows in the table (inspect on S3), and the peak
# RSS the worker reports.  Run by s3-check.sh (PW_S3_ENDPOINT).
#   tests/s3/backpressure.sh <portada-worker>
set -eu
worker=$1
[ -n "${PW_S3_ENDPOINT:-}" ] || { echo "backpressure: PW_S3_ENDPOINT is not set" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pw-bp.XXXXXX")
sock=$tmp/r.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" --daemonize yes
cleanup() {
	redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 1 50); do redis-cli -s "$sock" PING >/dev/null 2>&1 && break; sleep 0.1; done

mkdir -p "$tmp/ingest"
# Records with varied text, so the Parquet file stays large without compression.
node -e '
const fs = require("fs")
let seed = 7
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
const word = (n) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join("")
const rec = (i) => ({ ship_name: word(12), master_name: word(16), publication_date: "1850-01-0" + (1 + i % 9),
  cargo_list: word(200), obs: word(300), travel_departure_port: word(10) })
const write = (path, n) => {
  const fd = fs.openSync(path, "w")
  fs.writeSync(fd, "[")
  for (let i = 0; i < n; i++) fs.writeSync(fd, (i ? ",\n" : "\n") + JSON.stringify(rec(i)))
  fs.writeSync(fd, "\n]\n")
  fs.closeSync(fd)
}
write(process.argv[1] + "/big.json", 40000)
for (let k = 0; k < 20; k++) write(process.argv[1] + "/small-" + k + ".json", 50)
' "$tmp/ingest"
big_bytes=$(wc -c <"$tmp/ingest/big.json")
{
	printf 'HSET file:bp-big file_path %s file_type entry status 0 user bench timestamp %s\r\nRPUSH files:all bp-big\r\n' \
		"$tmp/ingest/big.json" "$(date +%s)"
	for k in $(seq 0 19); do
		printf 'HSET file:bp-%d file_path %s file_type entry status 0 user bench timestamp %s\r\nRPUSH files:all bp-%d\r\n' \
			"$k" "$tmp/ingest/small-$k.json" "$(date +%s)" "$k"
	done
} | redis-cli -s "$sock" --pipe >/dev/null

prefix=bp-$$-$(date +%s)
export AWS_ENDPOINT_URL=$PW_S3_ENDPOINT AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
timeout -k 5 300 "$worker" --redis "unix://$sock" --ingest-root "$tmp/ingest" \
	--lake "s3://lake/$prefix" --worker-id bp --exit-when-idle --log-format json \
	--log-level debug --codec none --stage-bytes 64k --memory-budget 4m >"$tmp/log" 2>&1 ||
	{ tail -n 30 "$tmp/log" >&2; echo "backpressure: the worker failed" >&2; exit 1; }

fail() { echo "backpressure: FAILED: $*" >&2; exit 1; }
paused=$(grep -c 'waiting for the store to catch up' "$tmp/log" || true)
[ "$paused" -gt 0 ] || fail "no reader paused for the store"
for k in big $(seq 0 19); do
	st=$(redis-cli -s "$sock" HGET "file:bp-$k" status)
	[ "$st" = 2 ] || fail "bp-$k has status $st"
done
rows=$("$worker" inspect --json "s3://lake/$prefix/ship_entries" |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).rows))')
[ "$rows" = $((40000 + 20 * 50)) ] || fail "the table has $rows rows, expected $((40000 + 20 * 50))"
rss=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' "$tmp/log" | tail -1)
echo "backpressure: $big_bytes-byte upload and 20 small ones through s3rver with --memory-budget 4m:" \
	"$paused pause(s) for the store, $rows rows, peak RSS $((rss / 1024)) MiB"
