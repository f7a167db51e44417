#!/usr/bin/env bash
# pg-test-cluster.sh — a throwaway PostgreSQL server for the tests, on loopback only.
#   scripts/pg-test-cluster.sh start DIR PORT   initdb (as the postgres user) + start; prints the URL
#   scripts/pg-test-cluster.sh stop DIR         stops it (the caller removes DIR)
# DIR's parent must be searchable by the postgres user (e.g. mode 0755).
# PostgreSQL refuses to run as root, so the cluster runs as "postgres" with its data in DIR.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg-test-cluster: PostgreSQL server binaries not installed" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
  port=${3:?port}
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres apikeyd
  echo "postgresql://postgres@127.0.0.1:$port/apikeyd"
  ;;
stop)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
