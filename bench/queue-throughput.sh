#!/usr/bin/env bash
# Queue throughput: files/s and peak RSS of portada-worker draining N
# one-record entry files (default 20,000) from a private redis-server on a
# unix socket into a fresh local Delta lake, in both fetch modes, side by
# side with PortAda's reference consumer (bench/reference_worker.py, needs
# Debian's python3-redis), then the ceiling: redis-benchmark running the
# worker's own per-file command mix, pipelined, on the same server.  A
# benchmark, not a test: it prints figures and checks only that every file
# ended with status 2.
#
#   bench/queue-throughput.sh [N] [MAX_INFLIGHT]
#
# PW_WORKER: the binary (default build/src/portada-worker; use a release
# build).  PW_BENCH_REPS: runs of each mode (default 3); the machine may be
# shared, so the best run and the spread are shown, and the ratio to the
# reference uses the best of each.  PW_BENCH_MODES: which runs (default
# "blmove blpop reference"; empty for the ceiling alone).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
inflight=${2:-1024}
reps=${PW_BENCH_REPS:-3}
worker=${PW_WORKER:-$top/build/src/portada-worker}
[ -x "$worker" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }

work=$(mktemp -d)
trap 'redis-cli -s "$work/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/ingest"
redis-server --port 0 --unixsocket "$work/r.sock" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$work" --daemonize yes --logfile "$work/redis.log"
for _ in $(seq 1 50); do redis-cli -s "$work/r.sock" PING >/dev/null 2>&1 && break; sleep 0.1; done
rcli() { redis-cli -s "$work/r.sock" "$@"; }

record='[{"model_version":"boat_fact-00.00.01","publication_name":"DM","publication_date":"1861-01-01","ship_type":"gol.","ship_name":"Conchita","master_name":"Perrer","cargo_list":[{"cargo_name":"miel","cargo_units":"cuartos","cargo_count":"38"}],"quarantine":false,"obs":null}]'
for i in $(seq 1 "$n"); do printf '%s\n' "$record" > "$work/ingest/f$i.json"; done

enqueue() {
	rcli FLUSHALL >/dev/null
	for i in $(seq 1 "$n"); do
		printf 'HSET file:f%d file_path %s/ingest/f%d.json file_type entry status 0 user bench timestamp 1738843718.5\r\nRPUSH files:all f%d\r\n' \
			"$i" "$work" "$i" "$i"
	done | rcli --pipe >/dev/null
	rcli CONFIG RESETSTAT >/dev/null
}

# Commands per file and server time per file (INFO commandstats; a
# script's usec include the commands it calls, which are listed too).
commandstats() {
	rcli INFO commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$n" '
		/^cmdstat_/ && $1 !~ /config|info|client|ping|select|auth|^cmdstat_set$|llen|hget$/ {
			sub("cmdstat_", "", $1)
			printf "    %-12s %6.3f calls/file  %6.2f usec/file\n", $1, $3 / n, $5 / n }'
}

declare -A best worst
run() {
	local mode=$1 start end rss rate
	enqueue
	rm -rf "$work/lake"
	start=$(date +%s.%N)
	if [ "$mode" = reference ]; then
		# The reference waits one 1 s BLPOP timeout before it notices the end.
		/usr/bin/python3 "$top/bench/reference_worker.py" "$work/r.sock" 2>"$work/log.txt"
		end=$(echo "$(date +%s.%N)" | awk '{ printf "%.9f", $1 - 1 }')
	else
		# A fresh lake each run: in a lake that holds them already, files
		# are found committed and not read again (a different, faster path).
		"$worker" --redis "unix://$work/r.sock" --ingest-root "$work/ingest" \
			--lake "$work/lake" --worker-id bench --fetch "$mode" \
			--max-inflight "$inflight" --exit-when-idle 2>"$work/log.txt" ||
			{ cat "$work/log.txt" >&2; exit 1; }
		end=$(date +%s.%N)
	fi
	# Both log their own peak RSS (getrusage) in their last line.
	rss=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' "$work/log.txt")
	done_count=$(rcli EVAL "local n = 0 for i = 1, $n do if redis.call('HGET', 'file:f' .. i, 'status') == '2' then n = n + 1 end end return n" 0)
	[ "$done_count" -eq "$n" ] || { echo "only $done_count of $n files done" >&2; exit 1; }
	rate=$(awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
	awk -v m="$mode" -v n="$n" -v s="$start" -v e="$end" -v r="$rss" 'BEGIN {
		printf "%-9s %6d files  %6.2f s  %8.0f files/s", m, n, e - s, n / (e - s)
		if (r > 0) printf "  peak RSS %5.1f MiB", r / 1024
		printf "\n" }'
	if [ -z "${best[$mode]:-}" ] || [ "$rate" -gt "${best[$mode]}" ]; then best[$mode]=$rate; fi
	if [ -z "${worst[$mode]:-}" ] || [ "$rate" -lt "${worst[$mode]}" ]; then worst[$mode]=$rate; fi
}

# The ceiling: what this redis-server does per second of the worker's
# per-file commands (blmove mode), each pipelined on its own by
# redis-benchmark; files/s = 1 / sum over commands of (calls per file /
# calls per second).  The scripts are copies of src/status.c's and
# src/queue.c's, sent by SHA1 as the worker does; status writes and acks
# are counted in batches of 256 (the worker sends those of one turn of its
# loop together: up to 256 ids taken, up to 1000 finished by a commit).
# PW_BENCH_OLD_MIX=1 measures the mix of the worker before it batched them
# (per file: EVAL processing, EVAL done, LREM, HGETALL).
ceiling() {
	local status_script status_batch_script batch_script ack_script sb ba ac rps total=0
	local k=file:__rand_int__ ids keys proc_args done_args
	status_script="if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"
	batch_script="local r = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not v then break end
  r[#r + 1] = v
end
return r
"
	status_batch_script="local r, j = {}, 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[j])
  if redis.call('EXISTS', KEYS[i]) == 0 then
    r[i] = 0
  else
    if ARGV[j + 1] ~= '' then redis.call('HDEL', KEYS[i], ARGV[j + 1]) end
    redis.call('HSET', KEYS[i], unpack(ARGV, j + 2, j + 1 + n))
    r[i] = 1
  end
  j = j + 2 + n
end
return r
"
	ack_script="for i = 1, #ARGV do
  redis.call('LREM', KEYS[1], 1, ARGV[i])
end
return #ARGV
"
	rcli FLUSHALL >/dev/null
	for i in $(seq 0 $((n - 1))); do
		printf 'HSET file:%012d file_path %s/ingest/f%d.json file_type entry status 0 user bench timestamp 1738843718.5\r\n' \
			"$i" "$work" "$i"
	done | rcli --pipe >/dev/null
	ba=$(rcli SCRIPT LOAD "$batch_script")
	ac=$(rcli SCRIPT LOAD "$ack_script")
	sb=$(rcli SCRIPT LOAD "$status_batch_script")
	# 256 status writes in one call: their keys, then each one's arguments.
	keys=$(for _ in $(seq 1 256); do printf '%s ' "$k"; done)
	proc_args=$(for _ in $(seq 1 256); do printf '8 error_message status 1 worker bench started_at 1764400000 first_started_at 1764400000 '; done)
	done_args=$(for _ in $(seq 1 256); do printf '10 error_message status 2 finished_at 1764400001 records 1 delta_table ship_entries delta_version 7 '; done)
	# A batch moves ids from a list into itself, so it keeps its length;
	# an ack finds its id at the head of the processing list (oldest
	# first): LREM of an id missing from a one-id list scans as far.
	for i in $(seq 1 1024); do echo "RPUSH files:all x$i"; done | rcli >/dev/null
	rcli RPUSH files:processing:bench y >/dev/null
	ids=$(seq -f 'x%g' 1 256 | tr '\n' ' ')
	echo "ceiling (redis-benchmark -c 2 -P 64, blmove mode's commands per file):"
	while IFS='|' read -r per name count cmd; do
		# The test's name (the command) may span lines: rps is the 9th field.
		rps=$(eval "bm_args=($cmd)"; redis-benchmark -s "$work/r.sock" -c 2 -P 64 \
			-n "$count" -r "$n" --csv "${bm_args[@]}" | tr '\n' ' ' |
			awk -F'","' '{ print $9 + 0 }')
		printf '    %-22s %8.5f/file  %9.0f per s\n' "$name" "$per" "$rps"
		total=$(awk -v t="$total" -v p="$per" -v r="$rps" 'BEGIN { printf "%.9f", t + p / r }')
	done <<-EOF
	$(if [ -n "${PW_BENCH_OLD_MIX:-}" ]; then
	echo "0.00390625|EVAL batch of 256 LMOVE|4000|EVAL \"\$batch_script\" 2 files:all files:all 256"
	echo "1|HGETALL|200000|HGETALL $k"
	echo "1|EVAL status processing|200000|EVAL \"\$status_script\" 1 $k error_message status 1 worker bench started_at 1764400000 first_started_at 1764400000"
	echo "1|EVAL status done|200000|EVAL \"\$status_script\" 1 $k error_message status 2 finished_at 1764400001 records 1 delta_table ship_entries delta_version 7"
	echo "1|LREM|200000|LREM files:processing:bench 1 x"
	else
	echo "0.00390625|EVALSHA batch of 256 LMOVE|4000|EVALSHA $ba 2 files:all files:all 256"
	echo "1|HGETALL|200000|HGETALL $k"
	echo "0.00390625|EVALSHA 256 status processing|4000|EVALSHA $sb 256 $keys $proc_args"
	echo "0.00390625|EVALSHA 256 status done|4000|EVALSHA $sb 256 $keys $done_args"
	echo "0.00390625|EVALSHA ack of 256 ids|4000|EVALSHA $ac 1 files:processing:bench $ids"
	fi)
	EOF
	ceil=$(awk -v t="$total" 'BEGIN { printf "%.0f", 1 / t }')
	echo "    ceiling $ceil files/s"
}

echo "portada-worker queue throughput: $n one-record files, --max-inflight $inflight, $(nproc) cores, $reps run(s) each"
read -r -a modes <<<"${PW_BENCH_MODES-blmove blpop reference}"
if [[ " ${modes[*]} " == *" reference "* ]] && ! /usr/bin/python3 -c 'import redis' 2>/dev/null; then
	echo "reference: skipped (apt-get install python3-redis to compare)"
	read -r -a modes <<<"${modes[*]/reference/}"
fi
for mode in "${modes[@]}"; do
	for _ in $(seq 1 "$reps"); do run "$mode"; done
	[ "$mode" = reference ] || commandstats
done
ceiling
echo "summary (best of $reps, spread best..worst):"
for mode in "${modes[@]}"; do
	awk -v m="$mode" -v b="${best[$mode]}" -v w="${worst[$mode]}" -v r="${best[reference]:-0}" \
	    -v c="$ceil" 'BEGIN {
		printf "    %-9s %8d files/s  (%d..%d)", m, b, b, w
		if (m != "reference" && r > 0) printf "  %5.1fx reference", b / r
		if (m != "reference") printf "  %3.0f%% of ceiling", 100 * b / c
		printf "\n" }'
done
