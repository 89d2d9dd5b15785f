#!/usr/bin/env bash
# End to end: MB/s of JSON from the queue to a committed Delta table, on the
# real PortAda samples, beside DuckDB (threads=1) converting the same files
# to Parquet.  A benchmark, not a test: it prints figures and fails only if
# something does not build or a file does not end done with all its rows.
#
#   bench/end-to-end.sh [COPIES] [RUNS]
#
# COPIES (default 40) copies of each sample (structured-db-1850.json,
# flat-dm-1861-cabotage.json from shared/data/portada-samples or
# $PW_SAMPLES_DIR) are queued like the ingest API does (hash + RPUSH) in a
# private redis-server on a unix socket; portada-worker (release build in
# build-bench/) runs with its defaults and --exit-when-idle into an empty
# local lake; the time is from its start to its exit: opening the tables,
# every file read, mapped, written to Parquet, committed (fsync'd) and its
# status written, including the last --commit-interval-ms wait.  Best of RUNS
# (default 3).  DuckDB (@duckdb/node-api, bench/package-lock.json, in
# build-bench/npm) then converts the same files with threads=1: one
# read_json → COPY ... (FORMAT parquet, COMPRESSION zstd) per file, and all
# files in one query; best of RUNS.  DuckDB does less: no queue, no status,
# no Delta log, no fsync, no resolved columns or `record` column; its
# columns are what read_json infers (structs for the structured sample).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
copies=${1:-40}
runs=${2:-3}
samples=${PW_SAMPLES_DIR:-$top/../shared/data/portada-samples}
build=$top/build-bench
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
inputs=("$samples/structured-db-1850.json" "$samples/flat-dm-1861-cabotage.json")
for f in "${inputs[@]}"; do
	[ -r "$f" ] || { echo "end-to-end: sample $f not found (set PW_SAMPLES_DIR)" >&2; exit 1; }
done
for tool in meson ninja node npm redis-server redis-cli; do
	command -v "$tool" >/dev/null 2>&1 || { echo "end-to-end: '$tool' not found (./scripts/deps.sh)" >&2; exit 1; }
done

bench_build src/portada-worker
worker=$build/src/portada-worker
bench_npm end-to-end
cp "$top/bench/duckdb-convert.mjs" "$npmdir/"

work=$(mktemp -d)
trap 'redis-cli -s "$work/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/ingest"
redis-server --port 0 --unixsocket "$work/r.sock" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$work" --daemonize yes --logfile "$work/redis.log"
for _ in $(seq 1 50); do redis-cli -s "$work/r.sock" PING >/dev/null 2>&1 && break; sleep 0.1; done

files=()
for c in $(seq 1 "$copies"); do
	for f in "${inputs[@]}"; do
		dest=$work/ingest/$c-$(basename "$f")
		cp "$f" "$dest"
		files+=("$dest")
	done
done
json_bytes=$(cat "${files[@]}" | wc -c)

enqueue() {
	local i=0
	for f in "${files[@]}"; do
		i=$((i + 1))
		printf 'HSET file:e%d file_path %s file_type entry status 0 user bench original_filename %s timestamp %s\r\nRPUSH files:all e%d\r\n' \
			"$i" "$f" "$(basename "$f")" "$(date +%s.%N)" "$i"
	done | redis-cli -s "$work/r.sock" --pipe >/dev/null
}

best_s= best_rss= commits=
for r in $(seq 1 "$runs"); do
	redis-cli -s "$work/r.sock" FLUSHALL >/dev/null
	rm -rf "$work/lake"
	enqueue
	start=$(date +%s.%N)
	"$worker" --redis "unix://$work/r.sock" --ingest-root "$work/ingest" --lake "$work/lake" \
		--worker-id bench --exit-when-idle 2>"$work/log.txt" || { cat "$work/log.txt" >&2; exit 1; }
	end=$(date +%s.%N)
	s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
	done_n=$(grep -c ' done ' "$work/log.txt" || true)
	[ "$done_n" -eq "${#files[@]}" ] || { echo "end-to-end: $done_n of ${#files[@]} files done" >&2; tail "$work/log.txt" >&2; exit 1; }
	rss=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' "$work/log.txt" | tail -1)
	if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
		best_s=$s best_rss=$rss
		commits=$(grep -c ' commit: ship_entries' "$work/log.txt" || true)
	fi
	echo "end-to-end: worker run $r: $s s" >&2
done
records=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' "$work/log.txt" | tail -1)
table=$("$worker" inspect --json "$work/lake/ship_entries")
rows=$(printf '%s' "$table" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).rows))')
tbytes=$(printf '%s' "$table" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).bytes))')
[ "$rows" = "$records" ] || { echo "end-to-end: table has $rows rows, the files $records records" >&2; exit 1; }

echo "end-to-end: DuckDB ..." >&2
node "$npmdir/duckdb-convert.mjs" "$work/duck" "$runs" "${files[@]}" >"$work/duck.txt"
get() { sed -n "s/^$1=//p" "$work/duck.txt"; }
[ "$(get per_file_rows)" = "$records" ] || { echo "end-to-end: DuckDB wrote $(get per_file_rows) rows" >&2; exit 1; }

echo
echo "End to end: ${#files[@]} files ($copies × the two PortAda samples), $(awk -v b="$json_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of JSON, $records records; $(nproc) cores; best of $runs"
echo "DuckDB $(get duckdb_version) threads=1; MB = 10^6 bytes"
awk -v b="$json_bytes" -v ws="$best_s" -v wr="$best_rss" -v wb="$tbytes" -v c="$commits" \
	-v ps="$(get per_file_s)" -v pb="$(get per_file_bytes)" \
	-v os="$(get one_query_s)" -v ob="$(get one_query_bytes)" -v dr="$(get peak_rss_kb)" '
	function line(name, s, bytes, rss) {
		printf "  %-44s %8.3f %9.1f %12d %9.1f\n", name, s, b / 1e6 / s, bytes, rss / 1024
	}
	BEGIN {
		printf "  %-44s %8s %9s %12s %9s\n", "", "s", "JSON MB/s", "out bytes", "RSS MiB"
		line("portada-worker: queue → Delta table (" c " commits)", ws, wb, wr)
		line("DuckDB: read_json → Parquet, one COPY per file", ps, pb, dr)
		line("DuckDB: read_json → Parquet, one query", os, ob, dr)
		printf "  worker MB/s ÷ DuckDB per file: %.2f; ÷ DuckDB one query: %.2f\n", ps / ws, os / ws
		printf "  (DuckDB RSS is the node process peak over both ways)\n"
	}'
