#!/usr/bin/env bash
# tests/oidc/install.sh — installs the test provider's npm dependencies (oidc-provider, pinned
# in package-lock.json) with `npm ci` when node_modules is missing or older than the lock file.
# Called by tests/browser/run.sh before the browser tests and by suite_oidc_provider.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/node_modules/oidc-provider/package.json" ] \
   || [ ! -f "$here/node_modules/.package-lock.json" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && timeout 600 npm ci --no-audit --no-fund >&2)
fi
