"""Shared fixtures: a private Redis, fake Telegram and VK servers, bot and worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from core.redis_server import RedisServer
from core.vk.fake_api import FakeVK, load_demo_groups
from tests.fakes import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
ADMIN_ID = 1001
ALLOWED_ID = 1002
STRANGER_ID = 4242
BOT_TOKEN = "123456:TEST-TOKEN"
VK_TOKEN = "vk-secret-token-0123456789"


def count_comments(group_id: int, groups: list | None = None) -> int:  # type: ignore[type-arg]
    """Comments of a fake group on posts whose comments are open."""

    def walk(comments: list) -> int:  # type: ignore[type-arg]
        return sum(1 + walk(c.replies) for c in comments)

    for group in groups or load_demo_groups():
        if group.id == group_id:
            return sum(walk(p.comments) for p in group.posts if not p.comments_closed)
    raise KeyError(group_id)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    client = aioredis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    yield redis_server.url


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    server = FakeVK(load_demo_groups(), rps=3.0, tokens={VK_TOKEN: "user"})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
def app_env(
    tmp_path: Path, redis_url: str, fake_vk: FakeVK, fake_tg: FakeTelegram
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "VK_", "BOT_"))}
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_URL=fake_tg.base_url,
        VK_TOKEN=VK_TOKEN,
        VK_API_URL=str(fake_vk.url),
        REDIS_URL=redis_url,
        DATA_DIR=str(tmp_path / "data"),
        ADMIN_IDS=str(ADMIN_ID),
        ALLOWED_USER_IDS=str(ALLOWED_ID),
        ARQ_QUEUE_NAME=f"arq:test:{uuid.uuid4().hex[:8]}",
        PROGRESS_INTERVAL="0.2",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


class Process:
    """A `python -m ...` child with its output in a file, stopped with SIGINT like Ctrl-C."""

    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        if not self.handle.closed:
            self.handle.flush()
        return self.log.read_text(errors="replace")

    async def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            for _ in range(100):
                if self.popen.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.popen.kill()
        self.handle.close()


@pytest.fixture
async def services(app_env: dict[str, str], tmp_path: Path) -> AsyncIterator[list[Process]]:
    """`python -m worker` and `python -m bot` as real processes against the fakes."""
    worker = Process("worker", app_env, tmp_path / "worker.log")
    bot = Process("bot", app_env, tmp_path / "bot.log")
    processes = [worker, bot]
    yield processes
    for process in processes:
        await process.stop()
    for process in processes:
        text = process.output()
        assert BOT_TOKEN not in text and VK_TOKEN not in text, "a secret leaked into the log"
