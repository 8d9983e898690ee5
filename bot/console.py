"""Console mode: the same dispatcher and handlers, with stdin as the chat and stdout as the bot.

Each input line is a message from a local admin, and the next line waits until everything the
previous one started has ended, so a piped `/parse` then `/keywords` answers both, in order. A
worker runs in this process, and a private Redis is started when REDIS_URL is not set. With
--demo, or with no VK token (neither VK_TOKEN nor VK_TOKENS), a bundled sample wall is served by
the fake VK API on 127.0.0.1, so parsing goes through the real VK client code. The demo keeps
nothing from earlier runs: its data directory is a new temporary one unless --data-dir names one.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import itertools
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from arq.utils import import_string
from arq.worker import Worker

from bot.__main__ import open_queue, scheduling
from bot.app import build_dispatcher
from bot.console_logs import setup_console_logging
from bot.console_session import (
    CONSOLE_USER_ID,
    ConsoleSession,
    console_language_code,
    typed_update,
)
from core.i18n import _, language_of, use_locale
from core.logs import guard_secrets
from core.preferences import language_for
from core.queue import JobQueue
from core.redis_server import RedisServer
from core.settings import Settings, load_settings
from core.shutdown import skip_final_collection

CONSOLE_TOKEN = "1:console"
DEMO_VK_TOKEN = "demo-token"
DEMO_COMMUNITY = "taiga_demo"
STARTUP_TIMEOUT = 30.0
IDLE_POLL_S = 0.1
STOP_TRIES = 50
SCHEDULED_AFTER_S = 300.0
STDIN_FD = 0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class ConsoleOptions:
    demo: bool
    data_dir: Path | None


@dataclass
class ConsoleVoice:
    """The language of the console's own lines on stderr: the console user's, as in the replies
    (their /language choice once the database is open, else the terminal's, else
    DEFAULT_LANGUAGE)."""

    language: str


def console_main(options: ConsoleOptions) -> int:
    """Run the console; the exit code is 0 at the end of input, 128 + signal number if stopped."""
    base = load_settings()  # a bad setting stops here, with one line and exit code 2
    guard_secrets(base.secrets())  # before the private services can fail
    try:
        code = asyncio.run(run_console(options, base))
    except KeyboardInterrupt:  # Ctrl-C before the console took the signal over
        code = 130
    skip_final_collection()  # so that Ctrl-C ends within 2 s
    return code


async def run_console(options: ConsoleOptions, base: Settings) -> int:
    """Run until the end of input (exit 0) or Ctrl-C / SIGTERM (exit 128 + signal number).

    A signal cancels the conversation; the clean-up (worker, database, Redis, fake VK) still
    runs, and a second signal interrupts even that.
    """
    loop = asyncio.get_running_loop()
    voice = ConsoleVoice(language_of(console_language_code(), base.default_language))
    conversation = asyncio.create_task(console_conversation(options, base, voice))
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
        conversation.cancel()

    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop, number)
    try:
        await conversation
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
    if received:
        with use_locale(voice.language):
            print(_("Stopped."), file=sys.stderr, flush=True)
        return 128 + received[0]
    return 0


async def console_conversation(
    options: ConsoleOptions, base: Settings, voice: ConsoleVoice
) -> None:
    """Start the services, the in-process worker and the dispatcher, then read stdin to its end."""
    data_dir = options.data_dir or (
        Path(tempfile.mkdtemp(prefix="vkc-demo-")) if options.demo else base.data_dir
    )
    async with private_services(options.demo, base) as overrides:
        settings = load_settings(
            **overrides,
            data_dir=data_dir,
            admin_ids=base.admin_ids | {CONSOLE_USER_ID},
            progress_interval=0.0,
        )
        log_file = data_dir / "console.log"
        setup_console_logging(log_file, settings.log_level, settings.secrets())
        bot = Bot(CONSOLE_TOKEN, session=ConsoleSession(data_dir / "console"))
        async with open_queue(settings) as queue:
            voice.language = await language_for(
                queue.sessions, CONSOLE_USER_ID, console_language_code(), settings.default_language
            )
            with use_locale(voice.language):
                greet(options.demo, "vk_token" in overrides, data_dir, log_file)
            async with (
                in_process_worker(settings, queue, bot) as worker,
                scheduling(queue) as scheduler,
            ):
                await converse(build_dispatcher(settings, queue, scheduler), bot, worker, queue)


@contextlib.asynccontextmanager
async def private_services(demo: bool, base: Settings) -> AsyncIterator[dict[str, Any]]:
    """Start what the console needs and is not configured with: Redis and the sample VK wall.

    Yields the settings that point at them. The demo always uses its own, so it never touches
    a configured Redis, database or VK token.
    """
    overrides: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        if demo:
            overrides["database_url"] = None
        if demo or not (base.redis_url or base.redis_sentinels):
            redis = RedisServer().start()
            stack.callback(redis.stop)
            overrides.update(redis_url=redis.url, redis_sentinels=())
        if demo or not base.vk_pool:
            from fakevk.api import FakeVK, load_demo_groups  # imported only when served

            fake_vk = FakeVK(load_demo_groups(), rps=base.vk_rps)
            overrides["vk_api_url"] = await fake_vk.start()
            stack.push_async_callback(fake_vk.stop)
            overrides["vk_token"] = DEMO_VK_TOKEN
            overrides["vk_tokens"] = None  # a configured pool is not touched either
        yield overrides


def greet(demo: bool, sample_wall: bool, data_dir: Path, log_file: Path) -> None:
    """Say, on stderr (stdout carries only the bot's replies), what this run works on."""
    lines = []
    if sample_wall:
        lines.append(
            _(
                "The VK community {name} is a sample wall served offline. "
                "Try /parse {name}, then /keywords {name}.",
                name=DEMO_COMMUNITY,
            )
        )
    if demo:
        lines.append(_("This run's data is in {path} (log: {log}).", path=data_dir, log=log_file))
    else:
        lines.append(_("Log: {log}", log=log_file))
    if os.isatty(STDIN_FD):
        lines.append(_("Type a command (/help lists them). Ctrl-D ends, Ctrl-C stops."))
    print("\n".join(lines), file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def in_process_worker(settings: Settings, queue: JobQueue, bot: Bot) -> AsyncIterator[Worker]:
    """An arq worker in this process, sending through the console's bot; cancelled on exit."""
    # Loaded by name, as arq's CLI does, so that `bot` does not import `worker`.
    options = import_string("worker.settings.worker_options")(settings)
    options["ctx"] = {"settings": settings, "bot": bot}
    worker = Worker(**options, redis_pool=queue.redis, handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        await wait_until_started(worker, running)
        yield worker
    finally:
        await stop_polling(running)
        # Jobs cut short are logged as "will be run again"; a job cancelled while closing
        # ends its task with CancelledError, which must not stop the rest of the clean-up.
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()


async def stop_polling(running: asyncio.Task[None]) -> None:
    """End the worker's polling loop before its Redis client is closed under it.

    arq's `close()` only asks the loop to stop, and a cancellation that lands inside a Redis
    call can be taken for that call's timeout and retried: the loop then polls on with the
    client gone. So the loop is cancelled until it has really ended (a few tries at most).
    """
    for _try in range(STOP_TRIES):
        if running.done():
            break
        running.cancel()
        await asyncio.wait({running}, timeout=IDLE_POLL_S)
    if running.done() and not running.cancelled():
        running.result()  # the worker failed: raise why


async def wait_until_started(worker: Worker, running: asyncio.Task[None]) -> None:
    """Let the worker finish its start-up (bounded), so the first command sees it."""
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while "heartbeat" not in worker.ctx:
            if running.done():
                running.result()  # its start-up failed: raise why
                raise RuntimeError("the in-process worker stopped during start-up")
            await asyncio.sleep(0.05)


async def converse(dp: Dispatcher, bot: Bot, worker: Worker, queue: JobQueue) -> None:
    """Feed each typed line to the dispatcher; the next waits until this one's jobs have ended."""
    lines = stdin_lines()
    prompt = os.isatty(STDIN_FD)
    for number in itertools.count(1):
        if prompt:
            print("> ", end="", flush=True)
        line = await lines.get()
        if line is None:
            return
        text = line.strip()
        if text:
            await dp.feed_update(bot, typed_update(number, text))
            await wait_until_idle(worker, queue)


def stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of stdin as they come, then None at its end.

    A daemon thread reads them with `os.read`: a thread of asyncio's executor blocked in a read
    would hold up the exit after Ctrl-C (`asyncio.run` waits for those threads), and one blocked
    in `sys.stdin` holds its buffer's lock, which the interpreter's exit waits for.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the console has ended
            for line in read_lines(STDIN_FD):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return lines


def read_lines(fd: int) -> Iterator[str]:
    """The UTF-8 lines of a file descriptor as they arrive; an unreadable one (closed) is empty."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 65536):
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            yield from complete
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


async def wait_until_idle(worker: Worker, queue: JobQueue) -> None:
    """Wait until no job is due or running here: everything a command started has ended.

    A job enqueues its follow-ups (the analysis after a parse, its closing message) before its
    own run ends, and arq keeps a job in the queue until it has finished, so no due job and no
    job task left in this worker mean nothing is pending. A retry deferred by seconds counts; a
    job scheduled further ahead than SCHEDULED_AFTER_S is not the command's. Jobs have
    timeouts, so this ends; Ctrl-C ends it sooner.
    """
    while await due_jobs(queue) or any(  # noqa: ASYNC110 - Redis offers no event for it
        not task.done() for task in worker.tasks.values()
    ):
        await asyncio.sleep(IDLE_POLL_S)


async def due_jobs(queue: JobQueue) -> int:
    horizon_ms = (time.time() + SCHEDULED_AFTER_S) * 1000
    return int(await queue.redis.zcount(queue.queue_name, "-inf", horizon_ms))
