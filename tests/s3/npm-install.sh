#!/bin/sh
# Install the S3 suite's npm packages (exact versions from package-lock.json:
# @smithy/signature-v4 and friends, s3rver) into <dest-dir>, once per lock
# file; exits 77 (skip) without node or npm.
#   tests/s3/npm-install.sh <dest-dir>
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <dest-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
	echo "npm-install: node and npm are needed (./scripts/deps.sh --test)" >&2
	exit 77
}
mkdir -p "$dest"
stamp="$dest/node_modules/.portada-s3-stamp"
want="$(cat "$here/package.json" "$here/package-lock.json" | cksum) node $(node --version)"
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
cp "$here/package.json" "$here/package-lock.json" "$dest/"
echo "npm-install: npm ci into $dest" >&2
(cd "$dest" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2) || {
	echo "npm-install: npm ci failed (no network and not in the npm cache?)" >&2
	exit 1
}
printf '%s\n' "$want" >"$stamp"
