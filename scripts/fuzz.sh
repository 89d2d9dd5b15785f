#!/usr/bin/env bash
# Run the libFuzzer targets of tests/fuzz/ under ASan + UBSan.
#   ./scripts/fuzz.sh [SECONDS] [libFuzzer options...]     (default 60 s)
#   PW_FUZZ_TARGET=jsonscan ./scripts/fuzz.sh 600
#   PW_FUZZ_TARGET=all ./scripts/fuzz.sh 45     (every target, 45 s each)
# PW_FUZZ_TARGET is parquet (the default: the Parquet writer), jtree (the
# record parser against jansson), jsonscan (the streaming record scanner),
# records (records to rows), deltalog (the Delta log reader) or all.
# Configures build-fuzz (clang, -Db_sanitize=address,undefined -Dfuzz=true),
# builds tests/fuzz/fuzz_<target> and runs it on a working copy of
# tests/fuzz/corpus/<target> (build-fuzz/corpus-<target>, kept between runs
# so each run starts where the last one stopped; parquet's is
# build-fuzz/corpus).  Crash inputs land in build-fuzz/artifacts/<target>/.
# Each run ends with a line "fuzz: <target> ...: runs, exec/s, cov, ft".
# Exits 1 if any target found something (all targets run first).
# More workers: ./scripts/fuzz.sh 600 -jobs=4 -workers=4
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

secs=${1:-60}
shift || true
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [libFuzzer options...]" >&2; exit 2 ;;
esac

all_targets=(parquet jtree jsonscan records deltalog)
case ${PW_FUZZ_TARGET:-parquet} in
all) targets=("${all_targets[@]}") ;;
parquet|jtree|jsonscan|records|deltalog) targets=("${PW_FUZZ_TARGET:-parquet}") ;;
*) echo "fuzz: PW_FUZZ_TARGET is one of ${all_targets[*]} or all" >&2; exit 2 ;;
esac

./scripts/deps.sh --fuzz

dir=build-fuzz
opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true --buildtype=debugoptimized)
if [ -f "$dir/build.ninja" ]; then
	meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
else
	CC=clang meson setup "$dir" "${opts[@]}" >/dev/null
fi
if ! grep -q '"command": "clang' "$dir/compile_commands.json"; then
	echo "fuzz: $dir was configured with another compiler; remove it and run again" >&2
	exit 1
fi
meson compile -C "$dir" "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
found=()
for target in "${targets[@]}"; do
	case $target in
	parquet) work=$dir/corpus; max_len=4096 ;;
	jtree) work=$dir/corpus-jtree; max_len=65536 ;;
	jsonscan|records) work=$dir/corpus-$target; max_len=8192 ;;
	deltalog) work=$dir/corpus-$target; max_len=16384 ;;
	esac
	seeds=tests/fuzz/corpus/$target
	artifacts=$dir/artifacts/$target
	log=$dir/fuzz-$target.log
	mkdir -p "$work" "$artifacts"
	cp -n "$seeds"/* "$work"/ 2>/dev/null || true

	echo "fuzz: $target for ${secs}s on $work (seeds from $seeds), crashes to $artifacts/" >&2
	rc=0
	# From inside $dir, so the fuzz-N.log files of -jobs=N land there too;
	# the output is kept in $log for the figures below.
	(cd "$dir" && "./tests/fuzz/fuzz_$target" -max_len="$max_len" -timeout=30 -rss_limit_mb=4096 \
		-max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="artifacts/$target/" "$@" "${work#"$dir"/}") >"$log" 2>&1 || rc=$?
	# The final figures: runs and coverage from the DONE line, exec/s from the stats.
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
	eps=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -1)
	if [ -n "$done_line" ]; then
		echo "fuzz: $target ${secs}s: $(sed -E 's/^#([0-9]+).*cov: ([0-9]+) ft: ([0-9]+).*/\1 runs, cov \2, ft \3/' <<<"$done_line"), ${eps:-?} exec/s" >&2
	fi
	if [ $rc -ne 0 ] || compgen -G "$artifacts/crash-*" >/dev/null ||
	    compgen -G "$artifacts/leak-*" >/dev/null || compgen -G "$artifacts/timeout-*" >/dev/null ||
	    compgen -G "$artifacts/oom-*" >/dev/null; then
		# What went wrong, from libFuzzer's and the sanitizers' output.
		grep -E 'fuzz oracle failed|ERROR:|SUMMARY:|runtime error' "$log" | head -20 >&2 || true
		found+=("$target")
		cat >&2 <<EOF

fuzz: $target found something (exit $rc); its output is in $log, the inputs in $artifacts/:
$(ls -1 "$artifacts" | sed 's/^/  /')
To keep one as a regression test:
  1. see it fail:   $dir/tests/fuzz/fuzz_$target $artifacts/crash-XXXX
     (parquet: PW_FUZZ_VERBOSE=1 prints the decoded schema, options and rows)
  2. minimise it:   $dir/tests/fuzz/fuzz_$target -minimize_crash=1 -runs=20000 \\
                      -exact_artifact_path=$seeds/crash-SHORT-NAME $artifacts/crash-XXXX
  3. check it:      meson test -C build-test --suite unit --print-errorlogs
     (its fuzz-*-corpus test fails until the bug is fixed; then it guards
     against the bug coming back)
EOF
	fi
done
if [ ${#found[@]} -gt 0 ]; then
	echo "fuzz: found something in: ${found[*]} (see above)" >&2
	exit 1
fi
echo "fuzz: no crash in ${secs}s each: ${targets[*]}" >&2
