#!/bin/sh
# Tables written by src/table.c, read back by delta-check (DuckDB and
# hyparquet): write_tables builds them in a fresh lake, then each table
# must pass every check and match its expectations.
#   table-check.sh <write_tables> <source-dir> <build-dir>
set -u
[ $# -eq 3 ] || { echo "usage: $0 <write_tables> <source-dir> <build-dir>" >&2; exit 2; }
lake=$3/lake
rm -rf "$lake"
mkdir -p "$lake" || exit 1
"$1" "$lake" || exit 1
rc=0
for t in ship_entries known_entities; do
	"$2/delta-check.sh" "$3" "$lake/$t" --expect "$lake/$t.expect.json" || rc=1
done
exit $rc
