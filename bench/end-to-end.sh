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
#
# The worker also runs with its lake on S3: s3rver (npm) behind the S3
# suite's proxy (tests/s3/s3-server.mjs: every signature checked with AWS's
# signer, If-None-Match), on loopback, a fresh prefix per run; that lake is
# copied out with tests/s3/s3-mirror.mjs and its rows counted like the
# local one.  s3rver is a JavaScript server storing each object in a local
# file, so this measures the worker and that server together.
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
s3dir=$build/s3
"$top/tests/s3/npm-install.sh" "$s3dir"
cp "$top/tests/s3/s3-server.mjs" "$top/tests/s3/s3-mirror.mjs" "$s3dir/"

work=$(mktemp -d)
s3pid=
cleanup() {
	redis-cli -s "$work/r.sock" shutdown nosave >/dev/null 2>&1 || true
	if [ -n "$s3pid" ]; then
		exec 3>&-
		wait "$s3pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
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

# run_worker NAME LAKE: best of $runs into best_s_NAME, best_rss_NAME, commits_NAME
run_worker() {
	local name=$1 lake=$2 r s rss done_n best_s= best_rss= commits=
	for r in $(seq 1 "$runs"); do
		redis-cli -s "$work/r.sock" FLUSHALL >/dev/null
		rm -rf "$work/lake"
		enqueue
		start=$(date +%s.%N)
		"$worker" --redis "unix://$work/r.sock" --ingest-root "$work/ingest" \
			--lake "${lake//@RUN@/$r}" --worker-id bench --exit-when-idle 2>"$work/log.txt" ||
			{ cat "$work/log.txt" >&2; exit 1; }
		end=$(date +%s.%N)
		s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
		done_n=$(grep -c ' done ' "$work/log.txt" || true)
		[ "$done_n" -eq "${#files[@]}" ] || { echo "end-to-end: $done_n of ${#files[@]} files done" >&2; tail "$work/log.txt" >&2; exit 1; }
		rss=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' "$work/log.txt" | tail -1)
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s best_rss=$rss
			commits=$(grep -c ' commit: ship_entries' "$work/log.txt" || true)
		fi
		echo "end-to-end: worker ($name lake) run $r: $s s" >&2
	done
	printf -v "best_s_$name" '%s' "$best_s"
	printf -v "best_rss_$name" '%s' "$best_rss"
	printf -v "commits_$name" '%s' "$commits"
}

# table_figures DIR: rows and bytes of the table in DIR
table_figures() {
	local table
	table=$("$worker" inspect --json "$1")
	rows=$(printf '%s' "$table" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).rows))')
	tbytes=$(printf '%s' "$table" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).bytes))')
}

run_worker local "$work/lake"
records=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' "$work/log.txt" | tail -1)
table_figures "$work/lake/ship_entries"
[ "$rows" = "$records" ] || { echo "end-to-end: table has $rows rows, the files $records records" >&2; exit 1; }
tbytes_local=$tbytes

# The S3 server, as tests/s3/s3-check.sh starts it.
mkfifo "$work/s3in"
node --openssl-legacy-provider "$s3dir/s3-server.mjs" "$work/s3data" lake <"$work/s3in" \
	>"$work/s3port" 2>"$work/s3.log" &
s3pid=$!
exec 3>"$work/s3in"
for _ in $(seq 1 100); do
	grep -q '^port ' "$work/s3port" 2>/dev/null && break
	kill -0 "$s3pid" 2>/dev/null || { cat "$work/s3.log" >&2; echo "end-to-end: the S3 server did not start" >&2; exit 1; }
	sleep 0.1
done
s3port=$(sed -n 's/^port \([0-9]*\) .*/\1/p' "$work/s3port")
export AWS_ENDPOINT_URL=http://127.0.0.1:$s3port AWS_ACCESS_KEY_ID=S3RVER \
	AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
run_worker s3 "s3://lake/bench-@RUN@"
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
node "$s3dir/s3-mirror.mjs" "http://127.0.0.1:$s3port" lake "bench-$runs/" "$work/s3copy" >&2
table_figures "$work/s3copy/ship_entries"
[ "$rows" = "$records" ] || { echo "end-to-end: the S3 table has $rows rows, the files $records records" >&2; exit 1; }
tbytes_s3=$tbytes

echo "end-to-end: DuckDB ..." >&2
node "$npmdir/duckdb-convert.mjs" "$work/duck" "$runs" "${files[@]}" >"$work/duck.txt"
get() { sed -n "s/^$1=//p" "$work/duck.txt"; }
[ "$(get per_file_rows)" = "$records" ] || { echo "end-to-end: DuckDB wrote $(get per_file_rows) rows" >&2; exit 1; }

echo
echo "End to end: ${#files[@]} files ($copies × the two PortAda samples), $(awk -v b="$json_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of JSON, $records records; $(nproc) cores; best of $runs"
echo "DuckDB $(get duckdb_version) threads=1; MB = 10^6 bytes"
awk -v b="$json_bytes" -v ws="$best_s_local" -v wr="$best_rss_local" -v wb="$tbytes_local" \
	-v c="$commits_local" -v ss="$best_s_s3" -v sr="$best_rss_s3" -v sb="$tbytes_s3" -v sc="$commits_s3" \
	-v ps="$(get per_file_s)" -v pb="$(get per_file_bytes)" \
	-v os="$(get one_query_s)" -v ob="$(get one_query_bytes)" -v dr="$(get peak_rss_kb)" '
	function line(name, s, bytes, rss) {
		printf "  %-44s %8.3f %9.1f %12d %9.1f\n", name, s, b / 1e6 / s, bytes, rss / 1024
	}
	BEGIN {
		printf "  %-44s %8s %9s %12s %9s\n", "", "s", "JSON MB/s", "out bytes", "RSS MiB"
		line("portada-worker: queue → Delta table (" c " commits)", ws, wb, wr)
		line("portada-worker: queue → s3rver table (" sc " commits)", ss, sb, sr)
		line("DuckDB: read_json → Parquet, one COPY per file", ps, pb, dr)
		line("DuckDB: read_json → Parquet, one query", os, ob, dr)
		printf "  worker MB/s ÷ DuckDB per file: %.2f; ÷ DuckDB one query: %.2f\n", ps / ws, os / ws
		printf "  worker MB/s with the lake on s3rver ÷ on the local disk: %.2f\n", ws / ss
		printf "  (DuckDB RSS is the node process peak over both ways)\n"
	}'
