#!/usr/bin/env bash
# deb-smoke.sh — CI's check of the package as a Debian machine gets it (root only): builds
# the .deb, installs it with apt-get (which brings its Depends), starts the installed
# /usr/sbin/apikeyd once on the installed /etc/apikeyd/apikeyd.conf (with a temp data folder
# and a free loopback port, as no systemd runs here), asks /healthz, stops it, and purges the
# package again; the installed apikey client asks it once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "deb-smoke: needs root (dpkg)" >&2; exit 1; }
out=$(mktemp -d /tmp/apikeyd-deb-smoke-XXXXXX)
data=$(mktemp -d /tmp/apikeyd-deb-data-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  dpkg --purge apikeyd >/dev/null 2>&1 || true
  rm -rf "$out" "$data"
}
trap cleanup EXIT
make --no-print-directory -s -C "$root" deb DEB_OUT="$out" >/dev/null
deb=$(ls "$out"/apikeyd_*.deb)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
test -x /usr/sbin/apikeyd && test -f /etc/apikeyd/apikeyd.conf && test -f /lib/systemd/system/apikeyd.service
/usr/bin/apikey --version >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/apikeyd --config /etc/apikeyd/apikeyd.conf --data "$data" --listen "127.0.0.1:$port" \
  2>"$out/stderr" &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
answer=$(/usr/bin/apikey --server "http://127.0.0.1:$port" verify apk_unknown || true)
[ "$answer" = NOT_FOUND ] || { echo "deb-smoke: apikey verify said '$answer'" >&2; exit 1; }
kill -TERM "$pid"
wait "$pid"
pid=""
grep -q "Password: " "$out/stderr"
echo "deb-smoke: $(basename "$deb") installed, served /healthz, stopped cleanly"
