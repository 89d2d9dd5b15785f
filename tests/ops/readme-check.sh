#!/bin/sh
# The README's option table stays true: every flag and every environment
# twin that `portada-worker --help` lists appears in it.
#   tests/ops/readme-check.sh <portada-worker> <README.md>
set -eu
worker=$1
readme=$2
missing=
for flag in $("$worker" --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p'); do
	case $flag in --help|--version) continue ;; esac
	grep -q "\`$flag\` |\|\`$flag\`," "$readme" || missing="$missing $flag"
done
for var in $("$worker" --help | sed -n 's/.*\[env \([A-Z_]*\)\].*/\1/p'); do
	grep -q "\`$var\`" "$readme" || missing="$missing $var"
done
[ -z "$missing" ] || { echo "readme-check: not in README.md's option table:$missing" >&2; exit 1; }
echo "readme-check: OK (every flag and variable of --help is in README.md)"
