#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the dashboard's browser test, installed when missing
# (as the tests get Redis themselves). Needs root and apt-get; the test fails, with this reason,
# when the browser still cannot be had.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "browser.sh: chromium/chromedriver missing and cannot install them (needs root and apt-get)" >&2
  exit 0  # the browser test itself fails with a clear message
fi
log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >"$log" 2>&1; then
  echo "browser.sh: installing chromium failed; see $log" >&2
fi
