#!/usr/bin/env bash
# ensure-deps.sh — installs the Debian packages apikeyd needs to build and test, when missing.
# Usage: scripts/ensure-deps.sh [build|test|bench]   (test and bench add what they need)
# Runs apt-get as root, or through sudo; does nothing when everything is present.
set -euo pipefail
want=(build-essential pkg-config libhttp-parser-dev libjansson-dev libsodium-dev libssl-dev
      libsqlite3-dev zlib1g-dev liboath-dev libqrencode-dev libpq-dev libcjose-dev libcurl4-openssl-dev
      libldap-dev liblasso3-dev jq)
case "${1:-build}" in
  test) want+=(libcmocka-dev python3 curl postgresql nginx-light clang libclang-rt-14-dev slapd ldap-utils openssl xmlsec1
              mandoc systemd python3-aiosmtpd python3-jsonschema
              prometheus) ;;
  bench) want+=(python3 wrk nginx-light openssl) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-jsonschema: the HTTP tests check every response against web/openapi.json.
# node and npm (the OpenID Connect provider of the HTTP tests, the browser tests, the OpenAPI
# lint): Debian's
# packages only when the commands are missing (a machine may have node from elsewhere)
if [ "${1:-build}" = test ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
