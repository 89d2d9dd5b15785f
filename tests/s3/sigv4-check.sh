#!/bin/sh
# Recompute tests/unit/sigv4-vectors.json with AWS's own signer
# (@smithy/signature-v4, exact versions from this folder's package-lock.json,
# installed into <dest-dir>) and fail if it differs from the file the unit
# test checks src/sigv4.c against: the vectors stay the signer's, not ours.
#   tests/s3/sigv4-check.sh <dest-dir>
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <dest-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
"$here/npm-install.sh" "$dest" || exit $?
# Node resolves imports next to the script, so it runs from there.
cp "$here/sigv4-vectors.mjs" "$dest/"
node "$dest/sigv4-vectors.mjs" >"$dest/sigv4-vectors.json"
if ! cmp -s "$dest/sigv4-vectors.json" "$here/../unit/sigv4-vectors.json"; then
	diff -u "$here/../unit/sigv4-vectors.json" "$dest/sigv4-vectors.json" | head -40 >&2
	echo "sigv4-check: the signer now gives other vectors than tests/unit/sigv4-vectors.json" >&2
	exit 1
fi
echo "sigv4-check: $(node -p "require('$dest/sigv4-vectors.json').length") vectors agree with @smithy/signature-v4"
