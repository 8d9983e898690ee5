"""Riding out a Redis outage: Redis stopped for 10 s and started again on the same port while
the bot and a worker run. Commands meanwhile get a short answer at once; afterwards everything
works with no restart, and the worker never exited: `python -m worker` and arq's own CLI form
alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.redis_server import RedisServer
from tests.conftest import ADMIN_ID, BOT_TOKEN, VK_TOKEN, Process, count_comments, running
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import DEMO_GROUP, parse_and_wait
from tests.test_startup import wait_for_text

OUTAGE_S = 10.0
ANSWER_BOUND_S = 2.0
UNAVAILABLE = "job queue is unavailable"
# Each way to start a worker: the module `python -m` runs, and its arguments.
WORKER_ENTRY_POINTS = {
    "python -m worker": ("worker", ()),
    "arq worker.settings.WorkerSettings": ("arq", ("worker.settings.WorkerSettings",)),
}


@pytest.fixture
def own_redis() -> AsyncIterator[RedisServer]:
    """A Redis of this test's own (the shared one must not go down), keeping its data on restart."""
    server = RedisServer(persistent=True).start()
    yield server
    server.stop()


async def health_shows(tg: FakeTelegram, text: str) -> None:
    """Ask /health until its answer contains `text` (bounded: a busy machine starts slowly)."""
    await tg.wait_for_call("setMyCommands", timeout=180)  # the bot is up
    async with asyncio.timeout(180):
        while True:
            sent = tg.send_text("/health", user_id=ADMIN_ID)
            answer = await tg.wait_for_message(ADMIN_ID, "Redis", after=sent, timeout=30)
            if text in (answer.text or ""):
                return
            await asyncio.sleep(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("entry", list(WORKER_ENTRY_POINTS))
async def test_redis_outage_is_ridden_out(
    app_env: dict[str, str],
    tmp_path: Path,
    fake_tg: FakeTelegram,
    own_redis: RedisServer,
    entry: str,
) -> None:
    env = {**app_env, "REDIS_URL": own_redis.url}
    module, args = WORKER_ENTRY_POINTS[entry]
    worker = Process(module, env, tmp_path / "worker.log", args)
    try:
        async with running(env, tmp_path, workers=0) as (bot,):
            # The worker is up once /health counts it (arq's CLI does not show our INFO lines).
            await health_shows(fake_tg, "Workers alive: 1")

            own_redis.stop()
            down_at = time.monotonic()
            await wait_for_text(worker, "Redis failing")
            waits = []
            for command in ("/parse taiga_demo 10", "/queue"):
                sent_at = time.monotonic()
                sent = fake_tg.send_text(command, user_id=ADMIN_ID)
                await fake_tg.wait_for_message(ADMIN_ID, UNAVAILABLE, after=sent, timeout=30)
                waits.append(time.monotonic() - sent_at)
            print(f"answers during the outage came in {', '.join(f'{w:.2f} s' for w in waits)}")
            assert max(waits) <= ANSWER_BOUND_S
            # The outage lasts OUTAGE_S in all, however long the checks above took.
            await asyncio.sleep(max(0.0, down_at + OUTAGE_S - time.monotonic()))
            own_redis.start()

            await wait_for_text(worker, "Redis recovered")
            _, final = await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
            assert f"{count_comments(DEMO_GROUP, readable=True)} new comments" in final
            await health_shows(fake_tg, "Workers alive: 1")
            assert worker.popen.poll() is None, worker.output()[-3000:]
            assert bot.popen.poll() is None
    finally:
        await worker.stop()
    log = worker.output()
    assert BOT_TOKEN not in log and VK_TOKEN not in log, "a secret leaked into the worker's log"
