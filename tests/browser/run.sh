#!/usr/bin/env bash
# tests/browser/run.sh — the portal's browser tests (docs/PORTAL.md) in Debian's chromium,
# driven by playwright-core (npm, pinned in package-lock.json) under node's test runner.
# Installs chromium (apt) and the npm dependencies when they are missing; never downloads a
# browser of its own. The tests start their own daemons from $APIKEYD_BIN (default
# build/apikeyd). Screenshots go to $APIKEYD_TEST_OUTPUT/screenshots (default
# test-output/screenshots). Exit code: the test result.
#
#   bash tests/browser/run.sh                    # every test file
#   bash tests/browser/run.sh keys               # files whose name contains "keys"
#   bash tests/browser/run.sh --script readme-shot.mjs   # retake the README's screenshot
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export APIKEYD_BIN=${APIKEYD_BIN:-$root/build/apikeyd}
export APIKEYD_TEST_OUTPUT=${APIKEYD_TEST_OUTPUT:-$root/test-output}
mkdir -p "$APIKEYD_TEST_OUTPUT/screenshots"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "run.sh: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq chromium >/dev/null; then
    as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null || {
      echo "run.sh: could not install chromium" >&2; exit 1; }
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh: installing nodejs and npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  { as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm >/dev/null; } || {
    echo "run.sh: could not install node" >&2; exit 1; }
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f "$here/node_modules/playwright-core/package.json" ] \
   || [ ! -f "$here/node_modules/.package-lock.json" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && timeout 600 npm ci --no-audit --no-fund) || { echo "run.sh: npm ci failed" >&2; exit 1; }
fi

# the OpenID Connect provider sso.test.mjs starts (npm oidc-provider, tests/oidc)
bash "$root/tests/oidc/install.sh" || { echo "run.sh: npm ci in tests/oidc failed" >&2; exit 1; }
# the SAML identity provider saml.test.mjs starts (Debian simplesamlphp under php -S, tests/saml)
bash "$root/tests/saml/install.sh" || { echo "run.sh: installing simplesamlphp failed" >&2; exit 1; }

if [ ! -x "$APIKEYD_BIN" ]; then
  echo "run.sh: $APIKEYD_BIN not found; build it first (make build/apikeyd)" >&2
  exit 1
fi

# --script NAME runs one of the scripts beside the tests (readme-shot.mjs) instead.
if [ "${1:-}" = "--script" ]; then
  cd "$root" && exec timeout --kill-after=30 300 node "$here/${2:?script name}"
fi

files=()
for f in "$here"/*.test.mjs; do
  case "$(basename "$f")" in *"${1:-}"*) files+=("$f") ;; esac
done
[ ${#files[@]} -gt 0 ] || { echo "run.sh: no test file matches ${1:-}" >&2; exit 1; }

start=$(date +%s)
cd "$root"
timeout --kill-after=30 1500 node --test --test-reporter=tap --test-concurrency=1 "${files[@]}"
status=$?
echo "# browser tests took $(( $(date +%s) - start )) s; screenshots in $APIKEYD_TEST_OUTPUT/screenshots"
exit $status
