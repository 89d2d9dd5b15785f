#!/bin/sh
# delta-check's own test: build a small valid Delta table by hand (Parquet
# files from DuckDB's COPY, the log and its stats written by selftest.mjs),
# check that delta-check passes it, then break copies of it in every way
# delta-check looks for and check that each is reported.
#   tests/delta/selftest.sh [<dest-dir>]
# <dest-dir> (default: $TMPDIR/portada-delta-check) receives node_modules
# (tests/interop/npm-install.sh, once per lock file) and copies of the two scripts: Node
# resolves the packages from the script's own folder.  Set
# PW_DELTA_SELFTEST_KEEP=1 to keep the tables it builds.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-${TMPDIR:-/tmp}/portada-delta-check}

if ! command -v node >/dev/null 2>&1; then
	echo "delta: FAIL: 'node' not found: delta-check runs under Node.js >= 18 (./scripts/deps.sh --test; Debian: apt-get install nodejs npm)" >&2
	exit 1
fi
"$here/../interop/npm-install.sh" "$dest" || exit 1
cp "$here/delta-check.mjs" "$here/selftest.mjs" "$dest/" || exit 1
exec node "$dest/selftest.mjs" "$dest/delta-check.mjs"
