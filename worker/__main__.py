"""`python -m worker` runs the arq worker; `python -m worker analyze` lemmatises stdin."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["analyze"]:
        from core.text.cli import run_analyze

        return run_analyze(sys.stdin, sys.stdout)
    if argv:
        print("usage: python -m worker [analyze]", file=sys.stderr)
        return 2
    from arq.worker import run_worker

    from core.logs import setup_logging
    from worker.settings import WorkerSettings

    settings = WorkerSettings["ctx"]["settings"]
    setup_logging(settings.log_level, settings.secrets())
    run_worker(WorkerSettings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
