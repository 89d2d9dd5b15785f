#!/usr/bin/env bash
# The whole benchmark suite in one command (bench/README.md says what each
# section measures):
#   ./scripts/bench.sh                      every section (~15 min on 2 cores)
#   ./scripts/bench.sh queue conversion     only these sections
#   PW_BENCH_QUICK=1 ./scripts/bench.sh     small sizes, to check it works
#   PW_BENCH_WORKER=path ./scripts/bench.sh  measure that binary instead of build-bench's
# Sections: queue conversion memory latency scaling instructions.
# Installs what is missing (deps.sh --test --bench), builds a release build
# in build-bench/, installs DuckDB's Node API into build-bench/npm, then runs
# bench/suite.py against a private redis-server on a unix socket in a
# temporary directory (removed on exit).  Prints a table per section and a
# summary, writes build-bench/bench-results.json.  Fails only when work did
# not happen (a file not done, rows missing), never on speed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-bench
samples=${PW_SAMPLES_DIR:-$top/../shared/data/portada-samples}

"$top/scripts/deps.sh" --test
"$top/scripts/deps.sh" --bench
for tool in meson ninja node npm redis-server redis-cli redis-benchmark valgrind callgrind_annotate; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench: '$tool' not found" >&2; exit 1; }
done
/usr/bin/python3 -c 'import redis' 2>/dev/null || { echo "bench: /usr/bin/python3 lacks redis (python3-redis)" >&2; exit 1; }

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
echo "bench: building $build (release) ..." >&2
bench_build src/portada-worker
bench_npm bench
cp "$top/bench/duckdb-convert.mjs" "$npmdir/"

opts=()
[ "${PW_BENCH_QUICK:-0}" != 0 ] && opts+=(--quick)
[ -n "${PW_BENCH_WORKER:-}" ] && opts+=(--worker "$PW_BENCH_WORKER")
exec /usr/bin/python3 "$top/bench/suite.py" --top "$top" --build "$build" --npm "$npmdir" \
	--samples "$samples" --json "$build/bench-results.json" "${opts[@]}" "$@"
