#!/bin/sh
# `meson install --destdir` into a temporary folder: the binary, the
# systemd unit with this install's paths, its sysusers file, the example
# environment file and the table specs land where the unit expects them;
# the installed binary runs; the unit keeps the promises the README makes
# (own user, read-only system, the lake the only writable place, restart on
# failure, SIGTERM with a stop timeout above the drain timeout).  Where
# systemd-analyze exists, `verify` must accept the unit and `security
# --offline` must rate it 3.0 or better.
#   tests/ops/install-check.sh <build-dir>
set -eu
build=$1
dest=$(mktemp -d "${TMPDIR:-/tmp}/pw-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
fail() { echo "install-check: FAILED: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild >"$dest.log" 2>&1 ||
	{ cat "$dest.log" >&2; rm -f "$dest.log"; fail "meson install"; }
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).find(o=>o.name==="prefix").value))')
root=$dest$prefix
for f in bin/portada-worker lib/systemd/system/portada-worker.service \
	lib/sysusers.d/portada-worker.conf share/portada-worker/portada-worker.env \
	share/portada-worker/tables/ship_entries.json share/portada-worker/tables/known_entities.json \
	share/doc/portada-worker/README.md; do
	[ -f "$root/$f" ] || fail "$prefix/$f was not installed"
done
"$root/bin/portada-worker" --version | grep -q '^portada-worker ' || fail "the installed binary does not run"

unit=$root/lib/systemd/system/portada-worker.service
grep -qx "ExecStart=$prefix/bin/portada-worker" "$unit" || fail "ExecStart is not $prefix/bin/portada-worker"
for line in User=portada-worker KillSignal=SIGTERM Restart=on-failure ProtectSystem=strict \
	StateDirectory=portada-worker NoNewPrivileges=yes ProtectHome=yes \
	EnvironmentFile=-/etc/portada-worker/portada-worker.env; do
	grep -qx "$line" "$unit" || fail "the unit has no $line"
done
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
drain=$("$root/bin/portada-worker" --help | grep -A1 -- '--drain-timeout=' | sed -n 's/.*(default \([0-9]*\)s).*/\1/p' | head -1)
[ -n "$stop" ] && [ -n "$drain" ] && [ "$stop" -gt "$drain" ] ||
	fail "TimeoutStopSec=$stop is not above the drain timeout ($drain s)"
grep -q '^u portada-worker ' "$root/lib/sysusers.d/portada-worker.conf" || fail "sysusers has no user"

if command -v systemd-analyze >/dev/null 2>&1; then
	# The unit as installed, but run from the destdir so that its binary exists.
	sed "s|^ExecStart=.*|ExecStart=$root/bin/portada-worker|" "$unit" >"$dest/portada-worker.service"
	systemd-analyze verify "$dest/portada-worker.service" || fail "systemd-analyze verify"
	score=$(systemd-analyze security --offline=yes "$dest/portada-worker.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for portada-worker.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
		fail "systemd-analyze security rates the unit ${score:-?} (want 3.0 or better)"
	echo "install-check: OK (systemd-analyze verify passes, exposure $score)"
else
	echo "install-check: OK (systemd-analyze not installed: the unit was not verified)"
fi
