"""`python -m worker` runs the arq worker; `analyze` lemmatises stdin; `restore` brings a
backup back; `--check` is the health check of a container's worker."""

from __future__ import annotations

import argparse
import sys


def parse_command(argv: list[str]) -> argparse.Namespace:
    """The subcommand asked for (`run` when none, `check` for --check); --help lists them, a
    wrong one exits 2."""
    parser = argparse.ArgumentParser(
        prog="python -m worker",
        usage="%(prog)s [-h] [--check] [run | analyze | restore FILE [--force]]",
        description="Run the job worker (the default), or one of its tools.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if a worker of this host (container) has a fresh heartbeat in Redis, else 1",
    )
    commands = parser.add_subparsers(dest="command", metavar="command", title="commands")
    commands.add_parser(
        "run",
        help="take jobs from the queue (REDIS_URL, ARQ_QUEUE_NAME) and run them; the default",
        description="Run the arq worker with the job catalog's functions until stopped.",
    )
    commands.add_parser(
        "analyze",
        help="read text from stdin, print form<TAB>lemma<TAB>part of speech per word",
        description="Lemmatise stdin with the bot's analyser: form, lemma, part of speech.",
    )
    restore = commands.add_parser(
        "restore",
        help="replace the database (DATABASE_URL) with a backup made by backup_database",
        description="Bring a backup back: a .sqlite3.gz into the SQLite database (checked "
        "first, replaced in one transaction), a .pgdump into PostgreSQL (pg_restore --clean). "
        "Stop the bot and the workers first: it refuses while a worker's heartbeat is in Redis.",
    )
    restore.add_argument("file", help="the backup file, e.g. data/backups/vkcomments-....gz")
    restore.add_argument(
        "--force", action="store_true", help="restore even while workers are running"
    )
    found = parser.parse_args(argv)
    if found.check and found.command:
        parser.error("--check takes no command")
    found.command = "check" if found.check else found.command or "run"
    return found


def main(argv: list[str]) -> int:
    command = parse_command(argv)
    if command.command == "check":
        from worker.health import check

        return check()
    if command.command == "analyze":
        from core.text.cli import run_analyze

        return run_analyze(sys.stdin, sys.stdout)
    if command.command == "restore":
        from worker.restore import run_restore

        return run_restore(command.file, force=command.force)
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
