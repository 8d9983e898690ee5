"""Shared fixtures: a private Redis, fake Telegram and VK servers, bot and worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from core.catalog import CATALOG
from core.redis_server import RedisServer
from fakevk.api import FakeVK, load_demo_groups
from fakevk.wall import FakeGroup, build_synthetic_wall
from tests.databases import (  # noqa: F401  (fixtures: every database test runs on both)
    app_database,
    database_url,
    postgres_admin_url,
    sessions,
)
from tests.fakes import FakeTelegram
from tests.report_fixture import ZONE, report_group

ROOT = Path(__file__).resolve().parents[1]
ADMIN_ID = 1001
ALLOWED_ID = 1002
STRANGER_ID = 4242
BOT_TOKEN = "123456:TEST-TOKEN"
VK_TOKEN = "vk-secret-token-0123456789"


def count_comments(
    group_id: int,
    groups: list | None = None,  # type: ignore[type-arg]
    *,
    readable: bool = False,
) -> int:
    """Comments of a fake group on posts whose comments are open (`readable`: not deleted)."""

    def walk(comments: list) -> int:  # type: ignore[type-arg]
        return sum(int(not (readable and c.deleted)) + walk(c.replies) for c in comments)

    for group in groups or load_demo_groups():
        if group.id == group_id:
            return sum(walk(p.comments) for p in group.posts if not p.comments_closed)
    raise KeyError(group_id)


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped by SIGTERM (a CI or soak time bound) unwinds like Ctrl-C: the fixtures'
    # servers run in sessions of their own (so tests can kill them) and would outlive it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


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
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


FISHING_GROUP = 777001
# A community with one clear topic, for the keyword story.
FISHING_TEXTS = [
    "Вчера ездили на рыбалку, щука клевала на спиннинг с утра до обеда!",
    "Какую удочку посоветуете для рыбалки на карася?",
    "Клёв сегодня отличный, поймал трёх щук и окуня.",
    "На озере опять клёв, берите спиннинг и блёсны.",
    "Лучшая наживка для карася — червь или опарыш, проверено на рыбалке.",
    "Щука взяла на воблер у самого берега, удочка чуть не сломалась.",
    "Кто знает, где зимняя рыбалка на окуня хорошая?",
    "Новый спиннинг показал себя отлично: две щуки за час.",
    "Поплавок ушёл под воду, и я вытащил огромного карася!",
    "Рыбалка с лодки на водохранилище — лучший отдых, клёв был весь день.",
]


def fishing_group() -> FakeGroup:
    return build_synthetic_wall(
        FISHING_GROUP, "fishing_club", posts=6, comments_per_post=20, texts=FISHING_TEXTS,
        pinned=False,
    )  # fmt: skip


BIG_GROUP = 777002


def big_group() -> FakeGroup:
    """120 posts of 10 comments: several `execute` rounds, so a parse can be caught halfway."""
    return build_synthetic_wall(
        BIG_GROUP, "big_wall", posts=120, comments_per_post=10, texts=FISHING_TEXTS,
        pinned=False,
    )  # fmt: skip


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    private = FakeGroup(id=555, screen_name="secret_club", name="Secret", posts=[], private=True)
    groups = [*load_demo_groups(), fishing_group(), private, big_group(), report_group(ZONE)]
    server = FakeVK(groups, rps=3.0, tokens={VK_TOKEN: "user"})
    await server.start()
    yield server
    server.resume()  # requests a test held are answered before the server goes
    await server.stop()


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API; afterwards, nothing the bot showed a person named a job function."""
    async with FakeTelegram(token=BOT_TOKEN) as server:
        yield server
    leaks = function_names_shown(server)
    assert not leaks, f"a job function's name shown to a person: {leaks[0]!r}"


# What the bot sends that a person reads: messages, their edits, captions, button alerts.
READ_TEXT_FIELDS = ("text", "caption")


def function_names_shown(tg: FakeTelegram) -> list[str]:
    """Every text the bot sent (each edit too, refused attempts too) that names a catalog job
    function: job titles are what people read. A name a person typed (a community called
    `extract_keywords`: hypothesis draws words from our own source) and the bot echoes back is
    their word, not a leak."""
    typed = "\n".join(str(message.get("text", "")) for message in tg.user_messages)
    names = [name for name in CATALOG if name not in typed]
    texts = [
        str(call.params[key])
        for call in tg.calls
        for key in READ_TEXT_FIELDS
        if call.params.get(key) is not None
    ]
    return [text for text in texts if any(name in text for name in names)]


@pytest.fixture
def app_env(
    tmp_path: Path,
    redis_url: str,
    fake_vk: FakeVK,
    fake_tg: FakeTelegram,
    app_database: str,  # noqa: F811  (the fixture imported above)
) -> dict[str, str]:
    prefixes = ("ARQ_", "VK_", "BOT_", "DB_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        DATABASE_URL=app_database,
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
        # A job waits for the worker's next poll: half the shipped 0.5 s on average, at each
        # step of a chain (parse, analysis, statistics, the closing message).
        ARQ_POLL_DELAY="0.1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # No recurring job fires in the middle of a test that did not ask for one.
        SCHEDULE_STATISTICS="",
        SCHEDULE_BACKUP="",
        SCHEDULE_CLEANUP="",
        SCHEDULE_DIGEST="",
    )
    return env


# The line each long-running process logs once it serves: the worker's own, aiogram's.
READY_MARKERS = {"worker": " ready", "bot": "Start polling"}
# A generous bound for a process to start on a busy machine (imports alone take seconds there).
START_BOUND_S = 180.0


def start_services(env: dict[str, str], tmp_path: Path, workers: int = 1) -> list[Process]:
    processes = [Process("worker", env, tmp_path / f"worker{i}.log") for i in range(workers)]
    return [*processes, Process("bot", env, tmp_path / "bot.log")]


class Process:
    """A `python -m ...` child with its output in a file, stopped with SIGINT like Ctrl-C."""

    def __init__(
        self,
        module: str,
        env: dict[str, str],
        log: Path,
        args: tuple[str, ...] = (),
        *,
        python: str = sys.executable,
        cwd: Path = ROOT,
    ) -> None:
        self.module = module
        self.log = log
        self.handle = log.open("wb")
        self.popen = subprocess.Popen(
            [python, "-m", module, *args],
            cwd=cwd,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    async def wait_until_up(self, bound: float = START_BOUND_S) -> None:
        """Wait for the process's own "I am up" log line; fail at once if it exits instead."""
        marker = READY_MARKERS[self.module]
        deadline = asyncio.get_running_loop().time() + bound
        while marker not in self.output():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.module} exited: {self.output()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{self.module} not up after {bound} s: {self.output()[-3000:]}"
                )
            await asyncio.sleep(0.1)

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


@contextlib.asynccontextmanager
async def running(
    env: dict[str, str], tmp_path: Path, workers: int = 1
) -> AsyncIterator[list[Process]]:
    """`python -m worker` (x `workers`) and `python -m bot` as real processes, yielded once each
    has said it is up, so the bounds of a test's own waits never include a slow start."""
    processes = start_services(env, tmp_path, workers)
    try:
        for process in processes:
            await process.wait_until_up()
        yield processes
    finally:
        for process in processes:
            await process.stop()
        for process in processes:
            text = process.output()
            assert BOT_TOKEN not in text and VK_TOKEN not in text, "a secret leaked into a log"


@pytest.fixture
async def services(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> AsyncIterator[list[Process]]:
    """Bot and worker, yielded once the bot is up (a busy machine may take long to start it)."""
    async with running(app_env, tmp_path) as processes:
        await fake_tg.wait_for_call("setMyCommands", timeout=180)
        yield processes
