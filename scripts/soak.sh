#!/usr/bin/env bash
# Soak: the whole test suite several times in a row (default 5) while a process burns a CPU core
# beside it, to show that no test depends on timing.
#   scripts/soak.sh [runs] [extra pytest arguments...]     e.g. scripts/soak.sh 2 tests/test_groups.py
# Prints PASS/FAIL, seconds and pytest's last line per run, and stops at the first failing run
# (exit code 1). Everything printed also goes to a summary file (SOAK_SUMMARY, default
# summary.txt in the run's log directory, whose path is printed). Each run is bounded
# (SOAK_RUN_TIMEOUT seconds, default 3600: a run beside the burner has taken 35 minutes);
# the burner is stopped on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
shift || true
run_timeout="${SOAK_RUN_TIMEOUT:-3600}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")"
summary="${SOAK_SUMMARY:-$logs/summary.txt}"
: >"$summary"

say() { echo "$*" | tee -a "$summary"; }

# What scripts/test.sh prepares, so each run is the README's test command.
scripts/bootstrap.sh --dev >/dev/null || exit 1
scripts/browser.sh
scripts/deploy_tools.sh

# A busy loop on one core for as long as the runs may take at most.
timeout "$((runs * run_timeout))" .venv/bin/python -c 'while True: pass' &
burner=$!
trap 'kill "$burner" 2>/dev/null' EXIT

say "soak: $runs runs of pytest $*, beside a process burning one core; logs in $logs"
passed=0
for run in $(seq 1 "$runs"); do
    started=$(date +%s)
    timeout "$run_timeout" .venv/bin/python -m pytest -v -p no:cacheprovider "$@" \
        >"$logs/run$run.log" 2>&1
    code=$?
    verdict=$([ "$code" -eq 0 ] && echo PASS || echo FAIL)
    last=$(tail -n 1 "$logs/run$run.log")
    # -v names each test as it starts: a run stopped by its bound says where it was.
    [ "$code" -eq 124 ] && last="timed out after $run_timeout s in $(grep -o '^tests/[^ ]*' "$logs/run$run.log" | tail -n 1)"
    say "run $run/$runs: $verdict in $(($(date +%s) - started)) s: $last (log: $logs/run$run.log)"
    if [ "$verdict" = FAIL ]; then
        say "soak: stopped at the first failure: $passed of $runs runs passed"
        exit 1
    fi
    passed=$((passed + 1))
done
say "soak: $passed of $runs runs passed"
echo "summary: $summary"
