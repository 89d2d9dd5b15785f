#!/usr/bin/env bash
# Fuzz the Parquet writer (or, with PW_FUZZ_TARGET=jtree, the record parser
# against jansson) with libFuzzer under ASan + UBSan.
#   ./scripts/fuzz.sh [SECONDS] [libFuzzer options...]     (default 60 s)
# Configures build-fuzz (clang, -Db_sanitize=address,undefined -Dfuzz=true),
# builds tests/fuzz/fuzz_parquet and runs it on a working copy of
# tests/fuzz/corpus/parquet (build-fuzz/corpus, kept between runs so each
# run starts where the last one stopped).  Crash inputs land in
# build-fuzz/artifacts/.  More workers: ./scripts/fuzz.sh 600 -jobs=4 -workers=4
# PW_FUZZ_TARGET=jtree: tests/fuzz/fuzz_jtree, corpus/jtree, build-fuzz/corpus-jtree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

secs=${1:-60}
shift || true
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [libFuzzer options...]" >&2; exit 2 ;;
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
target=${PW_FUZZ_TARGET:-parquet}
case $target in
parquet) work=$dir/corpus; max_len=4096 ;;
jtree) work=$dir/corpus-jtree; max_len=65536 ;;
*) echo "fuzz: PW_FUZZ_TARGET is parquet or jtree" >&2; exit 2 ;;
esac
meson compile -C "$dir" "fuzz_$target"

seeds=tests/fuzz/corpus/$target
artifacts=$dir/artifacts
mkdir -p "$work" "$artifacts"
cp -n "$seeds"/* "$work"/ 2>/dev/null || true

echo "fuzz: ${secs}s on $work (seeds from $seeds), crashes to $artifacts/" >&2
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
# From inside $dir, so the fuzz-N.log files of -jobs=N land there too.
(cd "$dir" && "./tests/fuzz/fuzz_$target" -max_len="$max_len" -timeout=30 -rss_limit_mb=4096 \
	-max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix=artifacts/ "$@" "${work#"$dir"/}") || rc=$?

if [ $rc -ne 0 ] || compgen -G "$artifacts/crash-*" >/dev/null ||
    compgen -G "$artifacts/leak-*" >/dev/null || compgen -G "$artifacts/timeout-*" >/dev/null; then
	cat >&2 <<EOF

fuzz: found something (exit $rc); inputs in $artifacts/:
$(ls -1 "$artifacts" | sed 's/^/  /')
To keep one as a regression test:
  1. see it fail:   $dir/tests/fuzz/fuzz_$target $artifacts/crash-XXXX
     (PW_FUZZ_VERBOSE=1 prints the decoded schema, options and rows)
  2. minimise it:   $dir/tests/fuzz/fuzz_$target -minimize_crash=1 -runs=20000 \\
                      -exact_artifact_path=$seeds/crash-SHORT-NAME $artifacts/crash-XXXX
  3. check it:      meson test -C build-test fuzz-corpus fuzz-jtree-corpus --print-errorlogs
     (fails until the bug is fixed; then it guards against the bug coming back)
EOF
	exit 1
fi
echo "fuzz: no crash in ${secs}s" >&2
