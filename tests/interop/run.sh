#!/bin/sh
# The interop test: install the readers (once), write every case with gen,
# read them back with check.mjs.  Called by meson (tests/interop/meson.build):
#   run.sh <gen> <source-dir> <build-dir> [case-name-substring]
# Keeps its output in <build-dir>/out for a look afterwards.
set -u

[ $# -ge 3 ] || { echo "usage: $0 <gen> <source-dir> <build-dir> [case]" >&2; exit 2; }
gen=$1
src=$2
build=$3
only=${4:-${PW_INTEROP_CASE:-}}

if ! command -v node >/dev/null 2>&1; then
	echo "interop: FAIL: 'node' not found: this suite reads the files back with DuckDB and hyparquet under Node.js." >&2
	echo "interop: install Node.js >= 18 and npm (./scripts/deps.sh --test; Debian: apt-get install nodejs npm)" >&2
	exit 1
fi
"$src/npm-install.sh" "$build" || exit 1
# Node resolves the readers from the script's own folder.
cp "$src/check.mjs" "$build/check.mjs" || exit 1

out="$build/out"
rm -rf "$out"
mkdir -p "$out" || exit 1
if [ -n "$only" ]; then
	"$gen" "$out" "$only"
else
	"$gen" "$out"
fi
gen_rc=$?
[ $gen_rc -eq 0 ] || echo "interop: gen exited $gen_rc (its FAIL lines are above)" >&2
if [ -n "$only" ]; then
	node "$build/check.mjs" "$out" "$only"
else
	node "$build/check.mjs" "$out"
fi
check_rc=$?
[ $gen_rc -eq 0 ] && [ $check_rc -eq 0 ]
