#!/bin/sh
# End to end: the real portada-worker on generated uploads, its Delta tables
# read back by independent readers.  A private redis-server on a unix socket
# (no TCP port), fixtures from worker-e2e.mjs (fixed seed), queued exactly as
# the ingest API queues them, then the worker runs twice, each time on a
# fresh lake with the keys flushed and queued again:
#   default: default staging, TZ=KIR-14 (UTC+14)
#   small:   --stage-bytes 16k --commit-max-files 5 --archive-raw, TZ=HST10
#            (UTC-10); the raw copies are compared with the uploads
# (the time zones would shift epoch-ms dates if the worker used local time).
# After each run delta-check validates both tables (--expect, --dump) and
# worker-e2e.mjs verify compares Redis, the logs and every dumped row with
# the fixtures.  See README.md ("worker-e2e").
#
#   worker-e2e.sh <portada-worker> [<dest-dir>]
#
# <dest-dir> receives delta-check's npm readers (default
# $TMPDIR/portada-delta-check; meson passes build/tests/delta).
#
# With PW_S3_ENDPOINT set (tests/s3/s3-check.sh, the S3 suite) the lake is
# s3://lake/<unique prefix> instead, and each run is two workers at once
# on one queue and one lake (--max-inflight 4, so that both get uploads
# and race for versions):
#   s3:        through the clean endpoint
#   s3-faults: through PW_S3_FAULTY_ENDPOINT (dropped connections before
#              and after the server did the work, 503 SlowDown, delays),
#              --stage-bytes 16k --commit-max-files 5
#   s3-sources: the uploads' file_path are URLs: every other one on a file
#              server with faults (tests/s3/http-source.mjs: bodies cut
#              half way, 503, stalls, slow bodies), the rest s3:// objects
#              read through the faulty endpoint
# and the lake is copied to a local directory by s3-mirror.mjs (AWS's own
# signer, not src/s3.c) before the same checks.
# PW_E2E_SEED=N changes the fixtures; PW_E2E_KEEP=1 keeps the temp dir.
# Exit: 0 pass, 1 fail, 77 (skip) when node is missing.
set -u

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 <portada-worker> [<dest-dir>]" >&2; exit 2; }
worker=$1
here=$(cd "$(dirname "$0")" && pwd)
tables=$here/../../tables
dest=${2:-${TMPDIR:-/tmp}/portada-delta-check}
seed=${PW_E2E_SEED:-20240611}

if ! command -v node >/dev/null 2>&1; then
	echo "worker-e2e: SKIP: 'node' not found (./scripts/deps.sh --test)" >&2
	exit 77
fi
for tool in redis-server redis-cli timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "worker-e2e: '$tool' not found" >&2; exit 1; }
done
[ -x "$worker" ] || { echo "worker-e2e: $worker is not an executable" >&2; exit 1; }

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/portada-e2e.XXXXXX") || exit 1
sock=$tmp/redis.sock
sockdir=
if [ ${#sock} -gt 100 ]; then # sun_path holds 108 bytes
	sockdir=$(mktemp -d /tmp/pw-e2e.XXXXXX) || exit 1
	sock=$sockdir/redis.sock
fi
redis_pid=
cleanup() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
	if [ "${PW_E2E_KEEP:-0}" = 1 ]; then
		echo "worker-e2e: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	[ -z "$sockdir" ] || rm -rf "$sockdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "worker-e2e: FAILED: $*" >&2
	exit 1
}

redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
	--dir "$tmp" --logfile "$tmp/redis.log" &
redis_pid=$!
cli() { redis-cli -s "$sock" "$@"; }
i=0
until [ "$(cli PING 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$tmp/redis.log" >&2; fail "redis-server did not start"; }
	kill -0 "$redis_pid" 2>/dev/null || { cat "$tmp/redis.log" >&2; fail "redis-server exited"; }
	sleep 0.1
done

node "$here/worker-e2e.mjs" gen --dir "$tmp" --seed "$seed" || fail "fixture generation"

now_ms() { node -p 'Date.now()'; }

# run <name> <TZ> [worker options...]
run() {
	name=$1
	tz=$2
	shift 2
	out=$tmp/$name
	lake=$out/lake
	mkdir -p "$out"
	[ "$(cli FLUSHALL)" = OK ] || fail "FLUSHALL"
	cli --pipe <"$tmp/queue.resp" >"$out/pipe.txt" 2>&1 || { cat "$out/pipe.txt" >&2; fail "redis-cli --pipe"; }
	grep -q 'errors: 0,' "$out/pipe.txt" || { cat "$out/pipe.txt" >&2; fail "queueing the uploads"; }
	paths_opt=
	case " $* " in *" --archive-raw "*) paths_opt="--raw 1" ;; esac
	if [ "$name" = s3-sources ]; then
		node "$here/worker-e2e.mjs" remote --dir "$tmp" --socket "$sock" \
			--http "http://127.0.0.1:$http_port/" --s3 "s3://lake/e2e-$$-src/" ||
			fail "pointing the uploads at URLs"
		cp "$tmp/paths.json" "$out/paths.json"
		paths_opt="$paths_opt --paths $out/paths.json"
	fi
	t0=$(now_ms)
	if [ -z "${PW_S3_ENDPOINT:-}" ]; then
		ids=e2e-$name
		TZ=$tz timeout -k 5 60 "$worker" --redis "unix://$sock" --ingest-root "$tmp/ingest" \
			--lake "$lake" --worker-id "e2e-$name" --exit-when-idle --log-format json \
			--commit-interval-ms 200 "$@" >"$out/worker.log" 2>&1
		rc=$?
	else
		ids=e2e-$name-a,e2e-$name-b
		prefix=e2e-$$-$name
		endpoint=$PW_S3_ENDPOINT
		[ "$name" = s3 ] || endpoint=$PW_S3_FAULTY_ENDPOINT
		for w in a b; do
			AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
			AWS_REGION=us-east-1 TZ=$tz timeout -k 5 120 "$worker" --redis "unix://$sock" \
				--ingest-root "$tmp/ingest" --lake "s3://lake/$prefix" \
				--worker-id "e2e-$name-$w" --exit-when-idle --log-format json \
				--commit-interval-ms 200 --max-inflight 4 "$@" >"$out/worker-$w.log" 2>&1 &
			eval "pid_$w=\$!"
		done
		wait "$pid_a"
		rc=$?
		wait "$pid_b"
		rcb=$?
		[ $rc -ne 0 ] || rc=$rcb
		cat "$out/worker-a.log" "$out/worker-b.log" >"$out/worker.log"
	fi
	t1=$(now_ms)
	if [ $rc -ne 0 ]; then
		tail -n 30 "$out/worker.log" >&2
		fail "run $name: portada-worker exited $rc"
	fi
	if [ -n "${PW_S3_ENDPOINT:-}" ]; then
		node "$PW_S3_MIRROR" "$PW_S3_ENDPOINT" lake "$prefix/" "$lake" ||
			fail "run $name: copying the lake out of S3"
		# inspect reads the table on S3 as it reads the copy.
		for t in ship_entries known_entities; do
			AWS_ENDPOINT_URL=$PW_S3_ENDPOINT AWS_ACCESS_KEY_ID=S3RVER \
				AWS_SECRET_ACCESS_KEY=S3RVER "$worker" inspect --json \
				"s3://lake/$prefix/$t" >"$out/$t.inspect-s3.json" ||
				fail "run $name: inspect s3://lake/$prefix/$t"
			"$worker" inspect --json "$lake/$t" >"$out/$t.inspect.json" ||
				fail "run $name: inspect $lake/$t"
			# The same but for the name given.
			sed -i 's/^{"table":"[^"]*",//' "$out/$t.inspect-s3.json" "$out/$t.inspect.json"
			cmp -s "$out/$t.inspect-s3.json" "$out/$t.inspect.json" ||
				{ diff "$out/$t.inspect-s3.json" "$out/$t.inspect.json" >&2
				  fail "run $name: inspect differs on S3 and on the copy"; }
		done
	fi
	for t in ship_entries known_entities; do
		"$here/delta-check.sh" "$dest" "$lake/$t" --expect "$tmp/expect-$t.json" --json \
			--dump "$out/$t.ndjson" >"$out/$t.check.json"
		crc=$?
		# 1 = errors found: verify prints them with the rest.
		[ $crc -le 1 ] || fail "run $name: delta-check $t exited $crc"
	done
	node "$here/worker-e2e.mjs" verify --dir "$tmp" --run "$name" --lake "$lake" \
		--socket "$sock" --worker-id "$ids" --t0 "$t0" --t1 "$t1" --tables "$tables" $paths_opt ||
		{ PW_E2E_KEEP=1; fail "run $name (worker log: $out/worker.log)"; }
}

if [ -z "${PW_S3_ENDPOINT:-}" ]; then
	run default KIR-14
	run small HST10 --stage-bytes 16k --commit-max-files 5 --archive-raw
else
	# A store that ignores If-None-Match is refused at start, naming why.
	AWS_ENDPOINT_URL=$PW_S3_PLAIN_ENDPOINT AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
		timeout -k 5 60 "$worker" --redis "unix://$sock" --ingest-root "$tmp/ingest" \
		--lake "s3://lake/e2e-$$-plain" --exit-when-idle >"$tmp/plain.log" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q 'the store ignores If-None-Match' "$tmp/plain.log" ||
		{ cat "$tmp/plain.log" >&2; fail "a store without conditional writes: exit $rc"; }
	run s3 KIR-14
	run s3-faults HST10 --stage-bytes 16k --commit-max-files 5
	# The uploads themselves at URLs: every other one from the faulty HTTP
	# server, the rest from the bucket through the faulty S3 endpoint.
	node "$PW_S3_MIRROR" put "$PW_S3_ENDPOINT" lake "e2e-$$-src/" "$tmp/ingest" ||
		fail "putting the uploads into S3"
	mkfifo "$tmp/http.in"
	node "$here/../s3/http-source.mjs" "$tmp/ingest" <"$tmp/http.in" >"$tmp/http.port" \
		2>"$tmp/http.log" &
	http_pid=$!
	exec 4>"$tmp/http.in"
	for _ in $(seq 1 100); do
		grep -q '^port ' "$tmp/http.port" 2>/dev/null && break
		sleep 0.1
	done
	http_port=$(sed -n 's/^port //p' "$tmp/http.port")
	[ -n "$http_port" ] || fail "the HTTP file server did not start"
	run s3-sources UTC --allow-source-host "127.0.0.1:$http_port" --allow-source-host s3://lake \
		--stage-bytes 64k --archive-raw
	exec 4>&-
	wait "$http_pid"
	cat "$tmp/http.log" >&2
fi

echo "worker-e2e: OK (2 runs, $(($(date +%s) - start)) s)"
