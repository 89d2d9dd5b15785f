#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a real run: install what is
# missing, build, start a private redis-server on a free loopback port (unless
# REDIS_URL is set), queue the bundled example files the way the ingest API
# does, run the worker until the queue is empty, and print every file's
# final status.  Exits non-zero if any file ends other than expected.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

./scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null || { meson setup --wipe build; exit 1; }
fi
meson compile -C build >/dev/null

work=$top/.quickstart
rm -rf "$work"
mkdir -p "$work/ingest"

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

if [ -z "${REDIS_URL:-}" ]; then
	port=$(free_port)
	redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--dir "$work" --daemonize yes --pidfile "$work/redis.pid" \
		--logfile "$work/redis.log"
	trap 'kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
	REDIS_URL=redis://127.0.0.1:$port
	for _ in $(seq 1 50); do
		redis-cli -u "$REDIS_URL" PING >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo "quickstart: private redis-server on 127.0.0.1:$port"
else
	echo "quickstart: using REDIS_URL (the worker consumes everything queued in files:all there)"
fi
case "$REDIS_URL" in
unix://*) cli=(redis-cli -s "${REDIS_URL#unix://}") ;;
*) cli=(redis-cli -u "$REDIS_URL") ;;
esac

# file, shape of the hash, file_type, expected status
examples=(
	"db-1850-structured.json older entry 2"
	"dm-1861-flat.json newer entry 2"
	"entity-flag.json newer entity_flag 2"
	"entity-port.json older entity_port 2"
	"entity-ship_type.yaml newer entity_ship_type 2"
	"broken-truncated.json newer entry -1"
)
ids=()
for e in "${examples[@]}"; do
	read -r file shape type _ <<<"$e"
	ids+=("$(examples/enqueue.sh "$REDIS_URL" "$shape" quickstart "$type" \
		"examples/files/$file" "$work/ingest")")
done
echo "quickstart: queued ${#ids[@]} files; running the worker"

build/src/portada-worker --redis "$REDIS_URL" --ingest-root "$work/ingest" \
	--lake "$work/lake" --worker-id quickstart --exit-when-idle

echo
printf '%-38s %-28s %-6s %s\n' ID FILE STATUS "RECORDS / ERROR"
bad=0
for i in "${!ids[@]}"; do
	read -r file _ _ want <<<"${examples[$i]}"
	id=${ids[$i]}
	status=$("${cli[@]}" HGET "file:$id" status)
	if [ "$status" = 2 ]; then
		detail="$("${cli[@]}" HGET "file:$id" records) records in $("${cli[@]}" HGET "file:$id" delta_table) version $("${cli[@]}" HGET "file:$id" delta_version)"
	else
		detail=$("${cli[@]}" HGET "file:$id" error_message)
	fi
	printf '%-38s %-28s %-6s %s\n' "$id" "$file" "$status" "$detail"
	[ "$status" = "$want" ] || bad=1
done
if [ $bad -ne 0 ]; then
	echo "quickstart: some files did not end with the expected status" >&2
	exit 1
fi
echo
echo "quickstart: every file ended as expected (the truncated one is meant to fail)."
for t in ship_entries known_entities; do
	echo
	build/src/portada-worker inspect "$work/lake/$t"
done
