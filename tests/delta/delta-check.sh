#!/bin/sh
# Run delta-check.mjs from another test suite or by hand: install its readers
# into <dest-dir> (tests/interop/npm-install.sh: once per lock file, offline once the npm
# cache has them), copy the script there (Node resolves the packages from the
# script's own folder) and run it.  Its exit status: 0 no errors, 1 errors,
# 2 usage or internal failure.
#   tests/delta/delta-check.sh <dest-dir> <table-dir> [--expect e.json] [--json] [--dump rows.ndjson] [--quiet]
set -u

[ $# -ge 2 ] || { echo "usage: $0 <dest-dir> <table-dir> [delta-check options]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
shift
if ! command -v node >/dev/null 2>&1; then
	echo "delta: 'node' not found: delta-check runs under Node.js >= 18 (./scripts/deps.sh --test; Debian: apt-get install nodejs npm)" >&2
	exit 2
fi
"$here/../interop/npm-install.sh" "$dest" || exit 2
cp "$here/delta-check.mjs" "$dest/delta-check.mjs" || exit 2
exec node "$dest/delta-check.mjs" "$@"
