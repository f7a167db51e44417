#!/usr/bin/env bash
# run-tests.sh BUILD_DIR — every test of `make test`: the unit tests (cmocka; the store suite
# also against PostgreSQL), the HTTP tests against real daemons (SQLite, several nodes on
# PostgreSQL, nginx auth_request; every response checked against web/openapi.json), the
# OpenAPI document's lint (tests/openapi/lint.sh, Redocly CLI), then the portal in Debian's
# chromium (tests/browser).
# Starts a throwaway PostgreSQL on loopback for the store suite unless APIKEYD_TEST_PG_URL is
# already set, and stops it at the end.
set -uo pipefail
build=${1:?build dir}
root=$(cd "$(dirname "$0")/.." && pwd)
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then
    bash "$root/scripts/pg-test-cluster.sh" stop "$pg_dir/cluster"
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT
if [ -z "${APIKEYD_TEST_PG_URL:-}" ]; then
  pg_dir=$(mktemp -d /tmp/apikeyd-pg-XXXXXX)
  chmod 755 "$pg_dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if url=$(bash "$root/scripts/pg-test-cluster.sh" start "$pg_dir/cluster" "$port"); then
    export APIKEYD_TEST_PG_URL=$url
  else
    echo "run-tests: could not start PostgreSQL; see $pg_dir/cluster/*.log" >&2
    exit 1
  fi
fi
status=0
"$root/$build/unit-tests" || status=1
# the HTTP test files run side by side in one worker per core (APIKEYD_TEST_JOBS to choose)
jobs=${APIKEYD_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
APIKEYD_BIN="$root/$build/apikeyd" python3 "$root/tests/http/run.py" --jobs "$jobs" || status=1
bash "$root/tests/openapi/lint.sh" || status=1
if [ -f "$root/tests/browser/run.sh" ]; then
  # the sanitizer pass reviews each view at its own size only (the portal is the same files;
  # the plain pass reviews all three widths): tests/browser/review.mjs
  sizes=all
  case "$build" in */san) sizes=current ;; esac
  APIKEYD_REVIEW_SIZES=$sizes APIKEYD_BIN="$root/$build/apikeyd" bash "$root/tests/browser/run.sh" || status=1
fi
exit $status
