#!/usr/bin/env bash
# Install what is missing, then build and run every test suite three ways
# (and fuzz every libFuzzer target for a bounded time):
#   1. build-test:  warnings as errors, every suite (unit + integration)
#   2. build-asan:  AddressSanitizer + UndefinedBehaviorSanitizer, every suite
#   3. build-fuzz:  every libFuzzer target of tests/fuzz/ for PW_TEST_FUZZ_SECONDS
#                   (default 40) each, clang with ASan + UBSan (scripts/fuzz.sh)
#   4. valgrind:    the test setup of build-test (worker and tests under memcheck)
# Set PW_TEST_QUICK=1 to run only step 1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

./scripts/deps.sh --test

setup() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

step() { printf '\n=== %s ===\n' "$*"; }

step "build with warnings as errors; every suite"
setup build-test --werror -Dfault_hooks=true
meson compile -C build-test
meson test -C build-test --print-errorlogs

[ "${PW_TEST_QUICK:-0}" = 1 ] && exit 0

step "AddressSanitizer + UndefinedBehaviorSanitizer; every suite"
setup build-asan --werror -Dfault_hooks=true -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug
meson compile -C build-asan
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

step "libFuzzer targets, ${PW_TEST_FUZZ_SECONDS:-40}s each, clang with ASan + UBSan"
./scripts/deps.sh --fuzz
# A crash fails the script; fuzz.sh names the target and the input's path.
PW_FUZZ_TARGET=all ./scripts/fuzz.sh "${PW_TEST_FUZZ_SECONDS:-40}"

step "valgrind memcheck"
meson test -C build-test --setup valgrind --print-errorlogs --suite unit --suite valgrind
