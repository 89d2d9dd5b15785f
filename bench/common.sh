# Shared by the benchmark scripts (sourced, bash): a release build in
# build-bench/ and DuckDB's Node API from bench/package-lock.json in
# build-bench/npm, each made once.  Expects $top and $build; $1 of
# bench_npm names the caller in messages.

# Configure build-bench/ (release, no tests) once, then build the targets.
bench_build() {
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" --buildtype=release -Dtests=false >"$build.setup.log" 2>&1 ||
			{ cat "$build.setup.log" >&2; exit 1; }
		rm -f "$build.setup.log"
	fi
	ninja -C "$build" "$@" >/dev/null
}

# npm ci into $build/npm when the lock file or node changed; sets $npmdir.
bench_npm() {
	local stamp want
	npmdir=$build/npm
	stamp=$npmdir/node_modules/.portada-bench-stamp
	want="$(cat "$top/bench/package.json" "$top/bench/package-lock.json" | cksum) node $(node --version)"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		mkdir -p "$npmdir"
		cp "$top/bench/package.json" "$top/bench/package-lock.json" "$npmdir/"
		echo "$1: npm ci into $npmdir" >&2
		(cd "$npmdir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2)
		printf '%s\n' "$want" >"$stamp"
	fi
}
