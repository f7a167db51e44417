#!/usr/bin/env bash
# tests/saml/install.sh — installs what the SAML end-to-end test (tests/browser/saml.test.mjs)
# runs its identity provider with: Debian's simplesamlphp, php-cli, php-xml and php-mbstring
# (served by `php -S` on loopback, configured by tests/saml/idp.mjs in a temporary directory).
# Does nothing when all are present. Called by tests/browser/run.sh.
set -euo pipefail
missing=()
for p in simplesamlphp php-cli php-xml php-mbstring; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
  { as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
