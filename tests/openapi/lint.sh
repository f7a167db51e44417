#!/usr/bin/env bash
# tests/openapi/lint.sh — lints web/openapi.json (served at /openapi.json) with Redocly CLI's
# recommended rules (redocly.yaml says the one exception and why); any error or warning
# fails. Run by scripts/run-tests.sh (`make test`); a few seconds once installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/install.sh"
cd "$here"
out=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
      ./node_modules/.bin/redocly lint --config redocly.yaml --format=stylish \
      ../../web/openapi.json 2>&1) || { printf '%s\n' "$out"; echo "openapi lint: FAILED"; exit 1; }
# stylish lists each problem as "LINE:COL  warning|error  RULE  MESSAGE"
if printf '%s\n' "$out" | grep -qE '^[[:space:]]*[0-9]+:[0-9]+[[:space:]]+(warning|error)[[:space:]]'; then
  printf '%s\n' "$out"
  echo "openapi lint: FAILED (warnings)"
  exit 1
fi
echo "openapi lint: web/openapi.json is clean"
