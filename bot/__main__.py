"""`python -m bot` runs the Telegram bot; `--console` runs it on stdin/stdout with no Telegram."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import announce_commands, build_dispatcher
from bot.scheduler import BotScheduler
from core.db import make_engine, make_sessionmaker, migrate
from core.logs import setup_logging
from core.queue import JobQueue, connect
from core.settings import Settings, load_settings
from core.startup import require_services
from core.telegram import make_bot


@contextlib.asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """Database (migrated) and Redis, closed on the way out; each gets STARTUP_TIMEOUT to answer."""
    await require_services(settings)
    engine = make_engine(settings.db_url)
    await migrate(settings.db_url)
    redis = await connect(settings)
    try:
        yield JobQueue(redis, make_sessionmaker(engine), settings)
    finally:
        await redis.aclose()
        await engine.dispose()


@contextlib.asynccontextmanager
async def scheduling(queue: JobQueue) -> AsyncIterator[BotScheduler]:
    """The recurring jobs and the watches, enqueued while the bot runs."""
    scheduler = BotScheduler(queue)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()


async def run_polling(settings: Settings) -> None:
    bot = make_bot(settings)
    async with open_queue(settings) as queue, scheduling(queue) as scheduler:
        dp = build_dispatcher(settings, queue, scheduler)
        await announce_commands(bot)
        await dp.start_polling(bot, handle_signals=True)


def main() -> int:
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
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="console: database and log go to DIR (the demo's default: a new temporary one)",
    )
    options = parser.parse_args()
    if options.console or options.demo:
        from bot.console import ConsoleOptions, console_main  # starts private services

        return console_main(ConsoleOptions(options.demo, options.data_dir))
    if options.data_dir is not None:
        parser.error("--data-dir is for --console and --demo; set DATA_DIR for the bot")
    settings = load_settings()
    setup_logging(settings.log_level, settings.secrets())
    asyncio.run(run_polling(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
