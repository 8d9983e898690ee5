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
    import asyncio

    from core.logs import setup_logging
    from core.settings import load_settings
    from core.startup import require_services
    from worker.resilient import ResilientWorker
    from worker.settings import worker_options

    settings = load_settings()
    setup_logging(settings.log_level, settings.secrets())
    asyncio.run(require_services(settings))
    ResilientWorker(**worker_options(settings)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
