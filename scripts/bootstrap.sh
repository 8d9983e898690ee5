#!/usr/bin/env bash
# Create .venv and install the project into it. Needs only Python 3.11+.
#   scripts/bootstrap.sh         what the bot, the worker and the demo need
#   scripts/bootstrap.sh --dev   that, plus the test and lint tools (pytest, ruff, mypy)
# A plain editable install (no setuptools "compat" mode, which warns on every install); pip's
# output goes to .venv/install.log and is shown only when the install fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
target=.
marker=.venv/.installed
if [ "${1:-}" = "--dev" ]; then
  target=.[dev]
  marker=.venv/.installed-dev
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$marker" ] || [ pyproject.toml -nt "$marker" ]; then
  echo "Installing into .venv (first run only)..." >&2
  if ! .venv/bin/python -m pip install -e "$target" >.venv/install.log 2>&1; then
    cat .venv/install.log >&2
    exit 1
  fi
  touch "$marker" .venv/.installed  # the dev install includes the runtime one
fi
