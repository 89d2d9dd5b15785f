#!/bin/sh
# Install the ops tests' npm reader (parse-prometheus-text-format, exact
# version from package-lock.json) into <dest-dir> once per lock file, then
# run metrics-check.mjs there.  Exits 77 (skip) without node or npm.
#   tests/ops/metrics-check.sh <dest-dir> <portada-worker>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
	echo "metrics-check: node and npm are needed (./scripts/deps.sh --test)" >&2
	exit 77
}
mkdir -p "$dest"
stamp="$dest/node_modules/.portada-ops-stamp"
want="$(cat "$here/package.json" "$here/package-lock.json" | cksum) node $(node --version)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	cp "$here/package.json" "$here/package-lock.json" "$dest/"
	(cd "$dest" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2)
	printf '%s\n' "$want" >"$stamp"
fi
cp "$here/metrics-check.mjs" "$dest/"
exec node "$dest/metrics-check.mjs" "$2"
