"""`python -m bot` runs the Telegram bot; `--console` runs it on stdin/stdout with no Telegram;
`--check` is the health check of a container's bot (Redis and the database answer)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.db import engine_for, make_sessionmaker, migrate
from core.logs import setup_logging
from core.redis_client import connect
from core.settings import Settings, load_settings
from core.shutdown import skip_final_collection
from core.startup import require_services, services_problem

if TYPE_CHECKING:
    from bot.scheduler import BotScheduler
    from core.queue import JobQueue

# aiogram and the job catalog are imported where they are used: `--check`, Docker's health
# check every 30 s, stays a light process.


@contextlib.asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """Database (migrated) and Redis, closed on the way out; each gets STARTUP_TIMEOUT to answer."""
    from core.queue import JobQueue

    await require_services(settings)
    engine = engine_for(settings)
    await migrate(settings.db_url)
    redis = await connect(settings)
    queue = JobQueue(redis, make_sessionmaker(engine), settings)
    try:
        yield queue
    finally:
        await queue.write_audit()
        await redis.aclose()
        await engine.dispose()


@contextlib.asynccontextmanager
async def scheduling(queue: JobQueue) -> AsyncIterator[BotScheduler]:
    """The recurring jobs and the watches, enqueued while the bot runs."""
    from bot.scheduler import BotScheduler

    scheduler = BotScheduler(queue)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()


async def run_polling(settings: Settings) -> None:
    from bot.app import announce_commands, build_dispatcher
    from core.telegram import make_bot

    bot = make_bot(settings)
    async with open_queue(settings) as queue, scheduling(queue) as scheduler:
        dp = build_dispatcher(settings, queue, scheduler)
        await announce_commands(bot)
        await dp.start_polling(bot, handle_signals=True)


def check(settings: Settings) -> int:
    problem = asyncio.run(services_problem(settings))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options; a wrong one exits 2 with the usage line."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--console", action="store_true", help="read messages from stdin, print replies"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="console with the bundled sample VK wall, a private Redis and a new data directory",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if Redis and the database answer (a container's health check), else 1",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="console: database and log go to DIR (the demo's default: a new temporary one)",
    )
    options = parser.parse_args(argv)
    console = options.console or options.demo
    if options.data_dir is not None and not console:
        parser.error("--data-dir is for --console and --demo; set DATA_DIR for the bot")
    if options.check and console:
        parser.error("--check is for the bot, not the console")
    return options


def main() -> int:
    options = parse_options()
    if options.console or options.demo:
        from bot.console import ConsoleOptions, console_main  # starts private services

        return console_main(ConsoleOptions(options.demo, options.data_dir))
    settings = load_settings()
    if options.check:
        return check(settings)
    setup_logging(settings.log_level, settings.secrets())
    asyncio.run(run_polling(settings))
    skip_final_collection()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
