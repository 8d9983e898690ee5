#!/usr/bin/env bash
# Quick start 1: the console demo. Parses the bundled sample wall offline and prints the replies.
# Arguments go to `python -m bot --demo` (e.g. --data-dir DIR to keep the demo's data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m bot --demo "$@"
