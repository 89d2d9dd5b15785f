#!/usr/bin/env bash
# Install the Debian packages portada-worker needs to build, test and run,
# skipping those already installed.  Used by quickstart.sh and test.sh.
#   ./scripts/deps.sh            build + run
#   ./scripts/deps.sh --test     also what the test suites need
#   ./scripts/deps.sh --fuzz     also clang and libFuzzer (scripts/fuzz.sh)
#   ./scripts/deps.sh --bench    also what scripts/bench.sh needs (after --test)
set -euo pipefail

# libsnappy-dev and check are for the tests, which a default build includes.
packages=(gcc pkg-config meson ninja-build libhiredis-dev libevent-dev
	libjansson-dev libyaml-dev libcurl4-openssl-dev libzstd-dev libsnappy-dev zlib1g-dev
	check redis-server redis-tools)
if [ "${1:-}" = "--test" ]; then
	packages+=(valgrind)
	# tests/interop reads Parquet back with DuckDB and hyparquet from npm.
	# Only when node is absent: a nodejs from elsewhere brings its own npm.
	command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
elif [ "${1:-}" = "--bench" ]; then
	# redis-benchmark is in redis-tools; the reference consumer and the
	# latency driver use Debian's redis-py; DuckDB comes from npm.
	packages+=(valgrind python3 python3-redis)
	command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
elif [ "${1:-}" = "--fuzz" ]; then
	packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a system-wide redis-server on install; the project never uses
# it (tests and the quickstart start private ones), so leave it as it is.
