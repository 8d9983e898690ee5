"""Console mode: the same dispatcher and handlers, with stdin as the chat and stdout as the bot.

Each input line is a message from a local admin. A worker runs in this process, and a private
Redis is started when REDIS_URL is not set. With --demo, or with no VK_TOKEN, a bundled sample
wall is served by the fake VK API on 127.0.0.1, so parsing goes through the real VK client code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, Chat, FSInputFile, Message, Update, User
from arq.jobs import Job, JobStatus
from arq.utils import import_string
from arq.worker import Worker

from bot.__main__ import open_queue
from bot.app import build_dispatcher
from core import storage
from core.logs import guard_secrets, setup_logging
from core.redis_server import RedisServer
from core.settings import Settings, load_settings

CONSOLE_USER_ID = 1
CONSOLE_TOKEN = "1:console"
DEMO_VK_TOKEN = "demo-token"
FINISH_TIMEOUT = 120.0
STARTUP_TIMEOUT = 30.0


class ConsoleSession(BaseSession):
    """A Bot API session that prints what the bot sends instead of calling Telegram."""

    def __init__(self, out_dir: Path) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.ids = itertools.count(1)
        self.chat = Chat(id=CONSOLE_USER_ID, type="private")
        self.me = User(id=1_000_000, is_bot=True, first_name="VK comments", username="console")

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - signature fixed by BaseSession
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - signature fixed by BaseSession
    ) -> TelegramType:
        result: Any = True
        if isinstance(method, SendMessage):
            print(method.text, flush=True)
            result = self._message(text=method.text)
        elif isinstance(method, EditMessageText):
            print(f"(edited) {method.text}", flush=True)
            result = self._message(text=method.text, message_id=method.message_id)
        elif isinstance(method, EditMessageReplyMarkup):
            result = self._message(message_id=method.message_id)
        elif isinstance(method, (SendDocument, SendPhoto)):
            media = method.document if isinstance(method, SendDocument) else method.photo
            path = self._save(media)
            print(f"[file] {path}", flush=True)
            result = self._message(text=method.caption)
        elif method.__api_method__ == "getMe":
            result = self.me
        return result  # type: ignore[no-any-return]

    def _message(self, text: str | None = None, message_id: int | None = None) -> Message:
        return Message(
            message_id=message_id or next(self.ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.me,
            text=text,
        )

    def _save(self, media: Any) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(media, BufferedInputFile):
            path = self.out_dir / (media.filename or "file.bin")
            path.write_bytes(media.data)
            return path
        if isinstance(media, FSInputFile):
            return Path(media.path)
        return self.out_dir / str(media)


@contextlib.asynccontextmanager
async def private_services(demo: bool) -> AsyncIterator[None]:
    """Start what the console needs that is not configured: Redis and the sample VK wall."""
    redis = None
    fake_vk = None
    if not os.environ.get("REDIS_URL"):
        redis = RedisServer().start()
        os.environ["REDIS_URL"] = redis.url
    if demo or not os.environ.get("VK_TOKEN"):
        from fakevk.api import FakeVK, load_demo_groups

        fake_vk = FakeVK(load_demo_groups(), rps=float(os.environ.get("VK_RPS", "3")))
        os.environ["VK_API_URL"] = await fake_vk.start()
        os.environ["VK_TOKEN"] = DEMO_VK_TOKEN
        print("Demo mode: the sample wall is the VK community taiga_demo. Try /parse taiga_demo")
    try:
        yield
    finally:
        if fake_vk is not None:
            await fake_vk.stop()
        if redis is not None:
            redis.stop()


async def run_console(demo: bool) -> int:
    guard_secrets(load_settings().secrets())  # before the private services can fail
    async with private_services(demo):
        base = load_settings()
        settings = base.model_copy(
            update={"admin_ids": base.admin_ids | {CONSOLE_USER_ID}, "progress_interval": 0.0}
        )
        setup_logging("WARNING", settings.secrets())
        bot = Bot(CONSOLE_TOKEN, session=ConsoleSession(settings.data_dir / "console"))
        async with open_queue(settings) as queue:
            # Loaded by name, as arq's CLI does, so that `bot` does not import `worker`.
            options = import_string("worker.settings.worker_options")(settings)
            options["ctx"] = {"settings": settings, "bot": bot}
            worker = Worker(**options, redis_pool=queue.redis, handle_signals=False)
            worker_task = asyncio.create_task(worker.async_run())
            await wait_until_started(worker)
            dp = build_dispatcher(settings, queue)
            started = storage.utcnow()
            await feed_stdin(dp, bot)
            await wait_for_jobs(queue.redis, settings, queue.sessions, started)
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            await worker.close()
    return 0


async def wait_until_started(worker: Worker) -> None:
    """Let the in-process worker finish its start-up (bounded), so the first command sees it."""
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while "heartbeat" not in worker.ctx:  # noqa: ASYNC110 - arq offers no start-up event
            await asyncio.sleep(0.05)


async def feed_stdin(dp: Any, bot: Bot) -> None:
    user = User(id=CONSOLE_USER_ID, is_bot=False, first_name="Console")
    chat = Chat(id=CONSOLE_USER_ID, type="private")
    for number in itertools.count(1):
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        text = line.strip()
        if not text:
            continue
        message = Message(
            message_id=number, date=datetime.now(UTC), chat=chat, from_user=user, text=text
        )
        await dp.feed_update(bot, Update(update_id=number, message=message))


async def wait_for_jobs(redis: Any, settings: Settings, sessions: Any, started: datetime) -> None:
    """Wait (bounded) until every job of this run has ended and its message is printed."""
    deadline = time.monotonic() + FINISH_TIMEOUT
    jobs = await storage.recent_jobs(sessions, CONSOLE_USER_ID, limit=1000, since=started)
    pending = {row.job_id for row in jobs}
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            done = await _ended(redis, settings, job_id)
            notified = await _ended(redis, settings, f"notify:{job_id}")
            if done and notified:
                pending.discard(job_id)
        if pending:
            await asyncio.sleep(0.2)
    if pending:
        print(f"Gave up waiting for {len(pending)} job(s) after {int(FINISH_TIMEOUT)} s.")


async def _ended(redis: Any, settings: Settings, job_id: str) -> bool:
    status = await Job(job_id, redis, _queue_name=settings.arq_queue_name).status()
    return status is JobStatus.complete
