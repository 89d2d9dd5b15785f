#!/bin/sh
# Tables written by src/table.c, read back by delta-check (DuckDB and
# hyparquet): write_tables builds them in a fresh lake, then each table
# must pass every check and match its expectations.
# `portada-worker inspect` must then agree with what was written.
#   table-check.sh <write_tables> <source-dir> <build-dir> <portada-worker>
set -u
[ $# -eq 4 ] || { echo "usage: $0 <write_tables> <source-dir> <build-dir> <portada-worker>" >&2; exit 2; }
lake=$3/lake
worker=$4
rm -rf "$lake"
mkdir -p "$lake" || exit 1
"$1" "$lake" || exit 1
rc=0
for t in ship_entries known_entities; do
	"$2/delta-check.sh" "$3" "$lake/$t" --expect "$lake/$t.expect.json" || rc=1
done
inspect() {
	out=$("$worker" inspect --json "$lake/$1") || { echo "inspect $1 failed" >&2; rc=1; return; }
	case $out in
	*"$2"*) ;;
	*) echo "inspect $1: expected $2 in: $out" >&2; rc=1 ;;
	esac
}
inspect ship_entries '"version":2,'
inspect ship_entries '"files":3,"rows":6,'
inspect known_entities '"files":1,"rows":2,'
"$worker" inspect "$lake/ship_entries" || rc=1
exit $rc
