#!/bin/sh
# Install delta-check.mjs's readers (DuckDB's Node API, hyparquet,
# hyparquet-compressors: exact versions from package-lock.json, the same as
# tests/interop's) into <dest-dir>/node_modules.  The same approach as
# tests/interop/npm-install.sh: nothing is done when <dest-dir> already holds
# an install made from the same lock file (the stamp records its checksum),
# and --prefer-offline takes everything from the npm cache once it is there.
#   tests/delta/npm-install.sh <dest-dir>
set -eu

[ $# -eq 1 ] || { echo "usage: $0 <dest-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "delta: '$tool' not found: delta-check needs Node.js >= 18 and npm" >&2
		echo "delta: install them with ./scripts/deps.sh --test (Debian: apt-get install nodejs npm)" >&2
		exit 1
	fi
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
	echo "delta: Node.js $(node --version) is too old: delta-check needs >= 18" >&2
	exit 1
fi

mkdir -p "$dest"
stamp="$dest/node_modules/.portada-delta-stamp"
want=$(cat "$here/package.json" "$here/package-lock.json" | cksum)
want="$want node $(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -d "$dest/node_modules/@duckdb/node-api" ] && [ -d "$dest/node_modules/hyparquet" ]; then
	exit 0
fi

cp "$here/package.json" "$here/package-lock.json" "$dest/"
rm -f "$stamp"
echo "delta: npm ci into $dest" >&2
if ! (cd "$dest" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2); then
	echo "delta: npm ci failed (no network and not in the npm cache?)" >&2
	exit 1
fi
printf '%s\n' "$want" >"$stamp"
