#!/usr/bin/env bash
# Queue one file exactly as PortAda's ingest API does: store the file, write
# the metadata hash, then RPUSH the id onto files:all and files:user:<user>.
#
#   examples/enqueue.sh REDIS_URL older|newer USER FILE_TYPE FILE INGEST_DIR
#
# older: py_cub_front_data_ingestion (fields id, filename; path keeps the
#        original name under <dir>/ship_entries/<user>/)
# newer: portada_ingestion_docker (original_filename, stored_filename; the
#        file is stored as <uuid>.<its extension>)
# Prints the new id.
set -euo pipefail
[ $# -eq 6 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
url=$1 shape=$2 user=$3 file_type=$4 src=$5 ingest=$6

case "$url" in
unix://*) cli=(redis-cli -s "${url#unix://}") ;;
*) cli=(redis-cli -u "$url") ;;
esac

id=$(cat /proc/sys/kernel/random/uuid)
name=$(basename "$src")
case "$file_type" in
entry) sub=ship_entries ;;
entity_*) sub=entity/${file_type#entity_} ;;
*) sub=other ;;
esac
ts=$(date +%s.%6N)

if [ "$shape" = older ]; then
	dest=$ingest/$sub/$user/$name
	mkdir -p "$(dirname "$dest")"
	cp "$src" "$dest"
	"${cli[@]}" HSET "file:$id" id "$id" filename "$name" file_path "$dest" \
		file_type "$file_type" status 0 user "$user" timestamp "$ts" >/dev/null
else
	ext=${name##*.}
	dest=$ingest/$sub/$user/$id.$ext
	mkdir -p "$(dirname "$dest")"
	cp "$src" "$dest"
	"${cli[@]}" HSET "file:$id" original_filename "$name" stored_filename "$id.$ext" \
		file_path "$dest" file_type "$file_type" status 0 user "$user" \
		timestamp "$ts" >/dev/null
fi
"${cli[@]}" SADD users "$user" >/dev/null
"${cli[@]}" RPUSH files:all "$id" >/dev/null
"${cli[@]}" RPUSH "files:user:$user" "$id" >/dev/null
echo "$id"
