#!/bin/sh
# Install the independent readers the interop and delta suites use (DuckDB's
# Node API, hyparquet, hyparquet-compressors: exact versions from
# package-lock.json) into <dest-dir>/node_modules.  Nothing is done when <dest-dir> already holds
# an install made from the same lock file (the stamp records its checksum),
# and --prefer-offline takes everything from the npm cache once it is there.
#   tests/interop/npm-install.sh <dest-dir>
set -eu

[ $# -eq 1 ] || { echo "usage: $0 <dest-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "npm-install: '$tool' not found: the interop and delta suites need Node.js >= 18 and npm" >&2
		echo "npm-install: install them with ./scripts/deps.sh --test (Debian: apt-get install nodejs npm)" >&2
		exit 1
	fi
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
	echo "npm-install: Node.js $(node --version) is too old: the readers need >= 18" >&2
	exit 1
fi

mkdir -p "$dest"
stamp="$dest/node_modules/.portada-interop-stamp"
want=$(cat "$here/package.json" "$here/package-lock.json" | cksum)
want="$want node $(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -d "$dest/node_modules/@duckdb/node-api" ] && [ -d "$dest/node_modules/hyparquet" ]; then
	exit 0
fi

cp "$here/package.json" "$here/package-lock.json" "$dest/"
rm -f "$stamp"
echo "npm-install: npm ci into $dest" >&2
if ! (cd "$dest" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2); then
	echo "npm-install: npm ci failed (no network and not in the npm cache?)" >&2
	exit 1
fi
printf '%s\n' "$want" >"$stamp"
