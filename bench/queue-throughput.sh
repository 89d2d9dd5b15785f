#!/usr/bin/env bash
# Queue throughput: files/s and peak RSS of portada-worker draining N
# one-record entry files (default 10,000) from a private redis-server on a
# unix socket, in both fetch modes, side by side with PortAda's reference
# consumer (bench/reference_worker.py, needs Debian's python3-redis).  A
# benchmark, not a test: it prints figures and checks only that every file
# ended with status 2.
#
#   bench/queue-throughput.sh [N] [MAX_INFLIGHT]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
inflight=${2:-1024}
worker=${PW_WORKER:-$top/build/src/portada-worker}
[ -x "$worker" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }

work=$(mktemp -d)
trap 'redis-cli -s "$work/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/ingest"
redis-server --port 0 --unixsocket "$work/r.sock" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$work" --daemonize yes --logfile "$work/redis.log"
for _ in $(seq 1 50); do redis-cli -s "$work/r.sock" PING >/dev/null 2>&1 && break; sleep 0.1; done

record='[{"model_version":"boat_fact-00.00.01","publication_name":"DM","publication_date":"1861-01-01","ship_type":"gol.","ship_name":"Conchita","master_name":"Perrer","cargo_list":[{"cargo_name":"miel","cargo_units":"cuartos","cargo_count":"38"}],"quarantine":false,"obs":null}]'
for i in $(seq 1 "$n"); do printf '%s\n' "$record" > "$work/ingest/f$i.json"; done

enqueue() {
	for i in $(seq 1 "$n"); do
		printf 'HSET file:f%d file_path %s/ingest/f%d.json file_type entry status 0 user bench timestamp 1738843718.5\r\nRPUSH files:all f%d\r\n' \
			"$i" "$work" "$i" "$i"
	done | redis-cli -s "$work/r.sock" --pipe >/dev/null
}


run() {
	local mode=$1 start end rss
	redis-cli -s "$work/r.sock" FLUSHALL >/dev/null
	enqueue
	start=$(date +%s.%N)
	if [ "$mode" = reference ]; then
		# The reference waits one 1 s BLPOP timeout before it notices the end.
		/usr/bin/python3 "$top/bench/reference_worker.py" "$work/r.sock" 2>"$work/log.txt"
		end=$(echo "$(date +%s.%N)" | awk '{ printf "%.9f", $1 - 1 }')
	else
		"$worker" --redis "unix://$work/r.sock" --ingest-root "$work/ingest" \
			--worker-id bench --fetch "$mode" --max-inflight "$inflight" \
			--exit-when-idle 2>"$work/log.txt" || { cat "$work/log.txt" >&2; exit 1; }
		end=$(date +%s.%N)
	fi
	# Both log their own peak RSS (getrusage) in their last line.
	rss=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' "$work/log.txt")
	done_count=$(for i in $(seq 1 "$n"); do echo "HGET file:f$i status"; done |
		redis-cli -s "$work/r.sock" | grep -c '^2$' || true)
	[ "$done_count" -eq "$n" ] || { echo "only $done_count of $n files done" >&2; exit 1; }
	awk -v m="$mode" -v n="$n" -v s="$start" -v e="$end" -v r="$rss" 'BEGIN {
		printf "%-9s %6d files  %6.2f s  %8.0f files/s", m, n, e - s, n / (e - s)
		if (r > 0) printf "  peak RSS %5.1f MiB", r / 1024
		printf "\n" }'

}

echo "portada-worker queue throughput: $n one-record files, --max-inflight $inflight, $(nproc) cores"
run blmove
run blpop
if /usr/bin/python3 -c 'import redis' 2>/dev/null; then
	run reference
else
	echo "reference: skipped (apt-get install python3-redis to compare)"
fi
