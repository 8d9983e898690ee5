#!/usr/bin/env bash
# Quick start 1: the console demo. Parses the bundled sample wall offline and prints the replies.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
[ -t 0 ] && echo "Type commands (try /help, /parse taiga_demo), Ctrl-D to finish." >&2
exec .venv/bin/python -m bot --demo
