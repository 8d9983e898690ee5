"""Load, through real processes: 200 users sending commands at once all get answers (p50/p99
printed), and 10,000 queued jobs drain with exact counts: none lost, none run twice."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from pathlib import Path

import pytest
from arq.constants import result_key_prefix

from core.catalog import CATALOG, AnalyzeTextArgs
from core.db import make_engine, make_sessionmaker
from core.queue import JobQueue
from core.redis_client import connect
from core.settings import Settings
from tests.conftest import ALLOWED_ID, Process, running
from tests.fakes import FakeTelegram
from tests.test_startup import wait_for_text

USERS = 200
FIRST_USER = 500_000
COMMANDS = (
    "/analyze Привет, мир",  # a job of its own per user
    "/parse taiga_demo 10",  # one job, shared by everyone who asks (dedupe)
    "/queue",
    "/status 0123456789abcdef0123456789abcdef",
)
DRAIN_JOBS = 10_000
SUBMIT_AT_ONCE = 200


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def test_200_users_at_once_all_answered(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """Every one of 200 users, all sending at the same moment, gets an answer to the command."""
    users = [FIRST_USER + i for i in range(USERS)]
    env = {**app_env, "ALLOWED_USER_IDS": ",".join(map(str, [ALLOWED_ID, *users]))}
    async with running(env, tmp_path) as (worker, _bot):
        await fake_tg.wait_for_call("setMyCommands", timeout=180)  # the bot is up
        await wait_for_text(worker, "ready")
        sent_at = {}
        for number, user in enumerate(users):
            sent_at[user] = time.monotonic()
            fake_tg.send_text(COMMANDS[number % len(COMMANDS)], user_id=user)

        def answered(tg: FakeTelegram) -> bool:
            chats = {call.params.get("chat_id") for call in tg.calls_of("sendMessage")}
            return all(user in chats for user in users)

        await fake_tg.wait_for(answered, timeout=180, description="an answer to every user")
    first_answer: dict[int, float] = {}
    for call in fake_tg.calls_of("sendMessage"):
        first_answer.setdefault(call.params["chat_id"], call.time)
    waits = [first_answer[user] - sent_at[user] for user in users]
    p50, p99 = statistics.median(waits), percentile(waits, 0.99)
    print(f"\n{USERS} users at once: answer p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    for user in users:
        texts = [m.text or "" for m in fake_tg.messages(user)]
        assert texts and not any("went wrong" in text for text in texts), (user, texts)


@pytest.mark.slow
async def test_10000_jobs_drain_exactly_once(app_env: dict[str, str], tmp_path: Path) -> None:
    """10,000 cheap catalog jobs queued at once, two workers: all complete, each ran once."""
    workers = [Process("worker", app_env, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        for worker in workers:
            await wait_for_text(worker, "ready")
        settings = Settings(
            redis_url=app_env["REDIS_URL"],
            data_dir=Path(app_env["DATA_DIR"]),
            arq_queue_name=app_env["ARQ_QUEUE_NAME"],
        )
        redis = await connect(settings)
        engine = make_engine(settings.db_url)
        queue = JobQueue(redis, make_sessionmaker(engine), settings)
        spec, args = CATALOG["analyze_text_morphology"], AnalyzeTextArgs(text="Привет, мир")
        started = time.monotonic()
        for _ in range(DRAIN_JOBS // SUBMIT_AT_ONCE):
            await asyncio.gather(
                *(
                    queue.submit(spec, args, user_id=None, chat_id=None)
                    for _ in range(SUBMIT_AT_ONCE)
                )
            )
        queued_s = time.monotonic() - started
        database = settings.data_dir / "vkcomments.sqlite3"
        async with asyncio.timeout(900):
            while audit_counts(database).get(("complete", 1), 0) < DRAIN_JOBS:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
        drained_s = time.monotonic() - started
        print(
            f"\n{DRAIN_JOBS} jobs: queued in {queued_s:.1f} s, drained in {drained_s:.1f} s "
            f"({DRAIN_JOBS / drained_s:.0f} jobs/s, two workers)"
        )
        assert audit_counts(database) == {("complete", 1): DRAIN_JOBS}
        assert await redis.zcard(settings.arq_queue_name) == 0
        results = [key async for key in redis.scan_iter(match=result_key_prefix + "*", count=1000)]
        assert len(results) == DRAIN_JOBS
        await redis.aclose()
        await engine.dispose()
    finally:
        for worker in workers:
            await worker.stop()
    assert all("Traceback" not in worker.output() for worker in workers)


def audit_counts(database: Path) -> dict[tuple[str, int], int]:
    """Audit rows by (status, tries): a job run twice would show tries 2."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT status, tries, count(*) FROM job_audit GROUP BY status, tries")
        return {(status, tries): count for status, tries, count in rows}
