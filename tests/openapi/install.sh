#!/usr/bin/env bash
# tests/openapi/install.sh — installs Redocly CLI (pinned in package-lock.json) with `npm ci`
# when node_modules is missing or older than the lock file. Called by lint.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/node_modules/@redocly/cli/package.json" ] \
   || [ ! -f "$here/node_modules/.package-lock.json" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && timeout 600 npm ci --no-audit --no-fund >&2)
fi
