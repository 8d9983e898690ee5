#!/usr/bin/env bash
# Soak: the whole test suite five times in a row while a CPU-burning process runs beside it,
# to show that no test depends on timing. Prints PASS/FAIL per run; exit code 1 if any failed.
#   scripts/soak.sh [runs] [extra pytest arguments...]
# Each run is bounded (SOAK_RUN_TIMEOUT seconds, default 1800); the burner is stopped on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
shift || true
run_timeout="${SOAK_RUN_TIMEOUT:-1800}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")"

scripts/bootstrap.sh >/dev/null || exit 1

# A busy loop on one core for as long as the runs may take at most.
timeout "$((runs * run_timeout))" .venv/bin/python -c 'while True: pass' &
burner=$!
trap 'kill "$burner" 2>/dev/null' EXIT

failed=0
for run in $(seq 1 "$runs"); do
    started=$(date +%s)
    if timeout "$run_timeout" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" \
        >"$logs/run$run.log" 2>&1; then
        verdict=PASS
    else
        verdict=FAIL
        failed=$((failed + 1))
    fi
    summary=$(tail -n 1 "$logs/run$run.log")
    echo "run $run/$runs: $verdict in $(($(date +%s) - started)) s: $summary (log: $logs/run$run.log)"
done
echo "soak: $((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
