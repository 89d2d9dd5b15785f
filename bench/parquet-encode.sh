#!/usr/bin/env bash
# Parquet encode speed and file size of src/parquet.c beside DuckDB.  A
# benchmark, not a test: it prints figures and fails only if something does
# not build or the two files do not hold the same rows.
#
#   bench/parquet-encode.sh            both measures below
#   bench/parquet-encode.sh REPS RUNS  one measure: REPS repetitions, best of RUNS
#
# The rows are those of the future ship_entries table, built from the real
# PortAda samples (structured-db-1850.json, flat-dm-1861-cabotage.json in
# shared/data/portada-samples, or $PW_SAMPLES_DIR): see bench/pq_bench.c.
# With no arguments it measures twice:
#   1. the rows of the two samples once (1,767 rows), best of 30: the
#      issue's measure.
#   2. the same rows 32 times over (56,544 rows, 69 MB of JSON), best of 5:
#      every record then appears 32 times, which real uploads never do; a
#      writer whose dictionary takes the whole `record` column (DuckDB's
#      limit is far above 1 MiB) stores it once, ours (1 MiB, like Arrow and
#      parquet-mr) falls back to PLAIN, so this shows the dictionaries at
#      work more than the encoder.
# Each measure cuts the rows into files two ways, both timed:
#   one file:   all rows in one Parquet file.
#   per upload: one Parquet file per sample and repetition, as the worker
#               writes them (one data file per ingested file).
#   ours:   bench/pq_bench.c links build-bench/src/libportada.a (release
#           build), builds all rows in memory, then times pw_pq_open +
#           pw_pq_write_row ... + pw_pq_close with default options (zstd
#           level 3) into files, and into a sink that discards; best of RUNS
#           (default 5).
#   DuckDB: @duckdb/node-api (bench/package-lock.json, installed into
#           build-bench/npm) loads the same rows from NDJSON into in-memory
#           tables with explicit types (not timed), then times
#           COPY t TO ... (FORMAT parquet, COMPRESSION zstd) with threads=1
#           (one COPY per upload in the per-upload case), best of RUNS.
#           Its zstd level is also 3.
# All files are then read back by DuckDB: row count, a hash over every
# column, EXCEPT ALL both ways, column names and types must all agree.
# With valgrind installed it also counts our encode's instructions for one
# repetition (one file) under callgrind (PW_BENCH_CALLGRIND=0 skips that).
#
# Needs what ./scripts/deps.sh installs, plus node >= 18 and npm (Debian:
# nodejs, npm).  Everything it builds or installs stays in build-bench/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-1}
runs=${2:-30}
samples=${PW_SAMPLES_DIR:-$top/../shared/data/portada-samples}
build=$top/build-bench
run=$build/run
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"

inputs=("$samples/structured-db-1850.json" "$samples/flat-dm-1861-cabotage.json")
for f in "${inputs[@]}"; do
	[ -r "$f" ] || { echo "parquet-encode: sample $f not found (set PW_SAMPLES_DIR)" >&2; exit 1; }
done
for tool in cc pkg-config meson ninja node npm; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "parquet-encode: '$tool' not found (./scripts/deps.sh; Debian: apt-get install nodejs npm)" >&2
		exit 1
	}
done

# --- ours: a release build of the library, and the bench program against it.
# (Built here with cc rather than from meson.build, so the top-level build
# stays as it is; the flags match meson's release build.)
bench_build src/libportada.a
cc -std=c11 -O3 -g -D_GNU_SOURCE -Wall -Wextra -I"$top/include" \
	"$top/bench/pq_bench.c" -o "$build/pq_bench" "$build/src/libportada.a" \
	$(pkg-config --cflags --libs jansson libzstd zlib yaml-0.1) -lm

# --- DuckDB: exact versions from bench/package-lock.json, once.
bench_npm parquet-encode
# Node resolves imports next to the script, so it runs from there.
cp "$top/bench/duckdb-parquet.mjs" "$npmdir/"

measure() {
	mkdir -p "$run"
	rm -f "$run"/*.parquet "$run"/rows.ndjson
	echo "parquet-encode: building $1 repetition(s) of the samples, encoding best of $2 ..." >&2
	"$build/pq_bench" -n "$1" -r "$2" -o "$run/ours.parquet" -O "$run" -j "$run/rows.ndjson" \
		-s "$run/schema.json" "${inputs[@]}" >"$run/ours.txt"
	echo "parquet-encode: DuckDB ..." >&2
	node "$npmdir/duckdb-parquet.mjs" "$run/rows.ndjson" "$run/schema.json" \
		"$run/duckdb.parquet" "$run/ours.parquet" "$run" "$2" >"$run/duckdb.txt" 2>"$run/columns.txt"

	o=$run/ours.txt d=$run/duckdb.txt
	get() { sed -n "s/^$1=//p" "$2"; }
	input=$(get input_bytes "$o")
	rows=$(get rows "$o")

	echo
	echo "Parquet encode: $1× the two PortAda samples = $rows rows × $(get columns "$o") columns; $(nproc) cores; best of $2 runs"
	echo "DuckDB $(get duckdb_version "$d") threads=$(get duckdb_threads "$d"); zstd level 3 on both sides; MB = 10^6 bytes"
	awk -v in_b="$input" -v row_b="$(get row_bytes "$o")" -v ups="$(get uploads "$o")" \
		-v sfs="$(get single_file_s "$o")" -v sfb="$(get single_file_bytes "$o")" \
		-v sns="$(get single_null_s "$o")" -v snb="$(get single_null_bytes "$o")" \
		-v ufs="$(get upload_file_s "$o")" -v ufb="$(get upload_file_bytes "$o")" \
		-v uns="$(get upload_null_s "$o")" -v unb="$(get upload_null_bytes "$o")" \
		-v sds="$(get duckdb_s "$d")" -v sdb="$(get duckdb_bytes "$d")" \
		-v uds="$(get duckdb_upload_s "$d")" -v udb="$(get duckdb_upload_bytes "$d")" '
		function line(name, s, b) {
			printf "  %-24s %9.3f %10.1f %10.1f %12d\n", name, s, in_b / 1e6 / s, row_b / 1e6 / s, b
		}
		function ratios(fs, fb, ns, ds, db) {
			printf "  %-24s size %.3f (goal <= 1.10)   time %.3f (goal <= 1.00; discarding sink %.3f)\n",
			    "ours / DuckDB", fb / db, fs / ds, ns / ds
		}
		BEGIN {
			printf "input: %.1f MB of JSON; row data %.1f MB (string bytes + 8 per long/timestamp + 4 per date)\n", in_b / 1e6, row_b / 1e6
			printf "MB/s: JSON = input JSON MB / encode s; row = row-data MB / encode s\n\n"
			printf "  %-24s %9s %10s %10s %12s\n", "", "encode s", "JSON MB/s", "row MB/s", "file bytes"
			printf "one file\n"
			line("ours, file sink", sfs, sfb)
			line("ours, discarding sink", sns, snb)
			line("DuckDB COPY", sds, sdb)
			ratios(sfs, sfb, sns, sds, sdb)
			printf "per upload (%d files)\n", ups
			line("ours, file sink", ufs, ufb)
			line("ours, discarding sink", uns, unb)
			line("DuckDB COPY", uds, udb)
			ratios(ufs, ufb, uns, uds, udb)
		}'
	echo "row groups in one file: ours $(get ours_row_groups "$d"), default row_group_bytes 64 MiB;" \
		"DuckDB $(get duckdb_row_groups "$d"), default ROW_GROUP_SIZE 122880 rows"
	echo "same rows, one file:   $(get check_single "$d")"
	echo "same rows, per upload: $(get check_upload "$d")"
	echo "per-column sizes (one file): $run/columns.txt"
	if [ "$(get check_ok "$d")" != 1 ]; then
		echo "parquet-encode: the files do not hold the same rows" >&2
		exit 1
	fi
}

# The issue's measure: the rows of the two samples, once, in one file (and
# one file per sample).  Then the same rows 32 times over, which shows what
# repeated rows do to each writer's dictionaries.
measure "$reps" "$runs"
if [ "$#" -eq 0 ]; then
	echo
	measure 32 5
fi

if [ "${PW_BENCH_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
	rm -f "$run"/callgrind.out*
	valgrind --tool=callgrind --dump-instr=no --toggle-collect='encode_rows*' \
		--callgrind-out-file="$run/callgrind.out" \
		"$build/pq_bench" -n 1 -1 "${inputs[@]}" >/dev/null 2>"$run/callgrind.log"
	ir=$(callgrind_annotate "$run/callgrind.out" 2>/dev/null |
		sed -n 's/^ *\([0-9,]*\) *(100.0%) *PROGRAM TOTALS.*/\1/p' | tr -d ,)
	one=$(stat -c %s "${inputs[@]}" | awk '{ s += $1 } END { print s }')
	awk -v ir="$ir" -v b="$one" 'BEGIN {
		printf "callgrind, one repetition (%.2f MB JSON): %.0f M instructions in encode, %.0f per input byte\n", b / 1e6, ir / 1e6, ir / b }'
	echo "  top functions by own instructions (callgrind_annotate $run/callgrind.out):"
	callgrind_annotate "$run/callgrind.out" 2>/dev/null | awk '
		/PROGRAM TOTALS/ || !/^ *[0-9,]+ +\( *[0-9.]+%\) / { next }
		{ pct = $0; sub(/^[^(]*\( */, "", pct); sub(/\).*/, "", pct)
		  fn = $0; sub(/^[^)]*\) +/, "", fn); lib = fn; sub(/ \[.*/, "", fn); sub(/.*:/, "", fn)
		  sub(/.*\//, "", lib); sub(/\]$/, "", lib)
		  printf "    %6s  %s (%s)\n", pct, fn, lib; if (++n == 8) exit }'
fi
