#!/bin/sh
# Run a test against s3rver behind s3-server.mjs (signatures checked with
# AWS's own signer, If-None-Match implemented), both on 127.0.0.1 ports
# chosen by the kernel, with a fresh data directory; stops them after.  The
# test finds them in PW_S3_ENDPOINT, PW_S3_FAULTY_ENDPOINT and
# PW_S3_PLAIN_ENDPOINT (If-None-Match ignored, as some servers do), and the
# independent S3 client in PW_S3_MIRROR (s3-mirror.mjs, beside its npm
# packages).
#   tests/s3/s3-check.sh <dest-dir> <command> [<arg>...]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 <dest-dir> <command> [<arg>...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dest=$1
shift
"$here/npm-install.sh" "$dest" || exit $?
cp "$here/s3-server.mjs" "$here/s3-mirror.mjs" "$dest/"
work=$(mktemp -d "${TMPDIR:-/tmp}/pw-s3-XXXXXX")
mkfifo "$work/in"
# --openssl-legacy-provider: s3rver 3.7.1 makes its ListObjectsV2
# continuation tokens with DES, which Node 17+ (OpenSSL 3) refuses otherwise.
node --openssl-legacy-provider "$dest/s3-server.mjs" "$work/data" lake <"$work/in" \
	>"$work/port" 2>"$work/server.log" &
pid=$!
exec 3>"$work/in"	# the server stops when this closes
cleanup() {
	exec 3>&-
	wait "$pid" 2>/dev/null || true
	cat "$work/server.log" >&2
	rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
	grep -q '^port ' "$work/port" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { echo "s3-check: the S3 server did not start" >&2; exit 1; }
	sleep 0.1
done
port=$(sed -n 's/^port \([0-9]*\) .*/\1/p' "$work/port")
faulty=$(sed -n 's/^port [0-9]* \([0-9]*\) .*/\1/p' "$work/port")
plain=$(sed -n 's/^port [0-9]* [0-9]* \([0-9]*\)$/\1/p' "$work/port")
[ -n "$port" ] && [ -n "$faulty" ] && [ -n "$plain" ] ||
	{ echo "s3-check: no ports from the S3 server" >&2; exit 1; }
PW_S3_ENDPOINT=http://127.0.0.1:$port PW_S3_FAULTY_ENDPOINT=http://127.0.0.1:$faulty \
	PW_S3_PLAIN_ENDPOINT=http://127.0.0.1:$plain \
	PW_S3_MIRROR=$dest/s3-mirror.mjs "$@"
