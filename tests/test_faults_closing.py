"""The closing message arrives once whatever Telegram answers; an aborted queued job closes and
frees its community; the heartbeat outlives a Redis outage. Real processes and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.jobs import JobStatus
from redis.exceptions import ConnectionError as RedisConnectionError

from core import audit, storage
from core.catalog import CATALOG, AnalyzeTextArgs, BatchArgs, JobArgs, JobSpec, ParseArgs
from core.i18n import use_locale
from core.jobstate import JobFailed, worker_key
from core.queue import JobQueue, Origin, Submitted
from core.redis_server import RedisServer
from core.settings import Settings
from fakevk.api import FakeVK
from tests.conftest import ADMIN_ID, Process
from tests.databases import queue_door
from tests.fakes import FakeTelegram
from tests.faults import (
    BIG_NAME,
    FAST_SWEEP,
    WALL_METHODS,
    audit_row,
    closing_messages,
    processes,
    wait_until,
    wait_until_notified,
)
from tests.test_e2e_bot import start_job
from worker.context import after_job_end, heartbeat


async def test_final_message_survives_server_errors(
    services: list[Process], fake_tg: FakeTelegram, app_env: dict[str, str]
) -> None:
    """Two 5xx answers on the closing message: it backs off, then arrives once."""
    job_id = await start_job(fake_tg, "/parse taiga_demo 20")
    fake_tg.fail_next("sendMessage", error_code=502, times=2, matching=job_id)
    final = await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=90)
    await wait_until_notified(app_env, job_id)
    assert closing_messages(fake_tg, job_id) == [final.text]
    attempts = [c for c in fake_tg.calls_of("sendMessage") if job_id in str(c.params.get("text"))]
    assert [c.ok for c in attempts] == [True, False, False, True]  # the card, then the closing
    assert attempts[3].time - attempts[2].time >= 3.5  # backed off 2 s, then 4 s


async def test_refused_final_message_gets_a_short_plain_version(
    services: list[Process], fake_tg: FakeTelegram, app_env: dict[str, str]
) -> None:
    """Telegram refuses the closing text ("bad request"): a short plain version goes instead."""
    job_id = await start_job(fake_tg, "/parse taiga_demo 20")
    fake_tg.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: can't parse entities",
        matching=f"({job_id})",
    )
    short = await fake_tg.wait_for_message(ADMIN_ID, f"{job_id} has ended", timeout=90)
    assert f"/status {job_id}" in short.text
    await wait_until_notified(app_env, job_id)
    assert closing_messages(fake_tg, job_id) == [short.text]


async def test_abort_of_a_queued_job_closes_it_and_frees_the_community(
    app_env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """One job slot, busy: an aborted queued /parse ends at once, frees its community (the next
    /parse is a new job, not "Already running"), and its chat is told once, when the closing
    message gets a slot."""
    env = {**app_env, "ARQ_MAX_JOBS": "1", "AUTO_ANALYZE": "false"}
    fake_vk.pause(*WALL_METHODS)
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "w.log")
    ):
        busy = await start_job(fake_tg, f"/parse {BIG_NAME} 100000")
        await fake_tg.wait_for(lambda tg: fake_vk.stats.held > 0, timeout=60)
        queued = await start_job(fake_tg, "/parse taiga_demo 100000")
        sent = fake_tg.send_text(f"/abort {queued}", user_id=ADMIN_ID)
        await fake_tg.wait_for_message(ADMIN_ID, "Abort requested", after=sent)
        sent = fake_tg.send_text(f"/status {queued}", user_id=ADMIN_ID)
        status = await fake_tg.wait_for_message(ADMIN_ID, f"{queued}:", after=sent)
        assert "aborted" in status.text
        again = await start_job(fake_tg, "/parse taiga_demo 100000")
        assert again != queued
        fake_vk.resume()
        final = await fake_tg.wait_for_message(ADMIN_ID, f"aborted ({queued})", timeout=120)
        for job_id in (busy, again):
            await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=120)
        await wait_until_notified(env, queued)
        assert closing_messages(fake_tg, queued) == [final.text]
        card = next(m for m in fake_tg.messages(ADMIN_ID) if f"Job {queued}" in m.text)
        assert "aborted" in card.text and not card.buttons()
        row = audit_row(env, queued)
        assert (row["status"], row["tries"]) == ("aborted", 0), row


async def test_a_cut_off_closing_message_is_put_back_without_waiting_for_a_row(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stopped while it sends a closing message: the end hook marks the cut-off job
    "retrying" and returns. That message has no audit row, and the hook used to wait for one
    (ROW_WAIT_S, 10 s): every worker stopped mid-message took 10 s longer to stop, and the
    sweeper as long per message it put back. Here the wait is an hour, the bound 2 minutes."""
    monkeypatch.setattr(audit, "ROW_WAIT_S", 3600.0)
    async with direct_queue(app_env) as queue:
        job_id = "notify:cut-off"
        await queue.redis.enqueue_job(
            "send_notification", _job_id=job_id, chat_id=ADMIN_ID, text="done", job_id="cut-off"
        )
        ctx = {
            "redis": queue.redis,
            "sessions": queue.sessions,
            "settings": queue.settings,
            "job_id": job_id,
            "origin": Origin(chat_id=None, language="en"),
        }
        await asyncio.wait_for(after_job_end(ctx), 120)
        assert await queue.status(job_id) is JobStatus.queued  # there to run again
        assert await storage.get_job(queue.sessions, job_id) is None  # and still has no row


async def test_heartbeat_outlives_a_redis_outage(caplog: pytest.LogCaptureFixture) -> None:
    """Redis killed and started again on its port: the heartbeat comes back by itself, with one
    log line when it starts failing and one when it recovers."""
    server = RedisServer().start()
    pool = await create_pool(RedisSettings.from_dsn(server.url))
    beat = asyncio.create_task(heartbeat(pool, "test-worker", ttl=1.0))
    key = worker_key("test-worker")
    try:
        with caplog.at_level(logging.WARNING, logger="worker.resilience"):
            await wait_for_key(pool, key)
            server.kill()
            await wait_until("the outage noticed", lambda: "failing" in caplog.text, timeout=30)
            server.start()
            await wait_for_key(pool, key)
            assert not beat.done()
            await wait_until("recovery logged", lambda: "recovered" in caplog.text, timeout=30)
        lines = [r.getMessage() for r in caplog.records if r.name == "worker.resilience"]
        assert [line.split(" (")[0].split(" after")[0] for line in lines] == [
            "heartbeat failing",
            "heartbeat recovered",
        ], lines
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        await pool.aclose()
        server.stop()


async def wait_for_key(pool: ArqRedis, key: str) -> None:
    """The heartbeat key appears (while Redis comes back, a refused connection counts as no)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        with contextlib.suppress(RedisConnectionError):
            if await pool.exists(key):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} did not appear within 30 s")


@contextlib.asynccontextmanager
async def direct_queue(env: dict[str, str]) -> AsyncIterator[JobQueue]:
    """The product's own queue door, opened from the test on the processes' Redis and database."""
    settings = Settings(
        redis_url=env["REDIS_URL"], data_dir=Path(env["DATA_DIR"]),
        arq_queue_name=env["ARQ_QUEUE_NAME"], default_language=env.get("DEFAULT_LANGUAGE", "ru"),
    )  # fmt: skip
    async with queue_door(settings) as queue:
        yield queue


async def submit_as_admin(queue: JobQueue, spec: JobSpec, args: JobArgs) -> Submitted:
    """As the admin would from their English chat."""
    return await queue.submit(spec, args, user_id=ADMIN_ID, chat_id=ADMIN_ID, language="en")


async def test_sweeper_closes_jobs_that_ended_unclosed(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """A job that ended while nobody closed it (its worker died in the end hook), and one that
    Redis lost entirely: a worker's sweeper closes both in their chat, once each."""
    env = {**app_env, **FAST_SWEEP}
    async with direct_queue(env) as queue:
        spec, args = CATALOG["parse_vk_comments"], ParseArgs(group="taiga_demo", limit=5)
        ended = (await submit_as_admin(queue, spec, args)).job_id
        error = JobFailed("VK did not answer")
        assert await queue.finish_unstarted(ended, error, lost_worker=False)
        lost = (await submit_as_admin(queue, spec, args)).job_id
        await queue.redis.delete(job_key_prefix + lost)
        await queue.redis.zrem(queue.queue_name, lost)
    async with processes(Process("worker", env, tmp_path / "w.log")):
        for job_id, reason in ((ended, "VK did not answer"), (lost, "lost from the queue")):
            final = await fake_tg.wait_for_message(ADMIN_ID, f"failed ({job_id})", timeout=60)
            assert reason in final.text
            await wait_until_notified(env, job_id)
            assert closing_messages(fake_tg, job_id) == [final.text]
            assert audit_row(env, job_id)["status"] == "failed"


async def test_internal_jobs_speak_only_of_failures(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """Jobs nobody typed in a chat: a success says nothing, a failure goes to NOTIFY_CHAT_ID,
    in DEFAULT_LANGUAGE (Russian by default), not in the language the queuing code ran in."""
    env = {**app_env, "NOTIFY_CHAT_ID": str(ADMIN_ID), "DEFAULT_LANGUAGE": "ru"}
    async with direct_queue(env) as queue:
        text_spec, batch_spec = (
            CATALOG["analyze_text_morphology"],
            CATALOG["process_batch_comments"],
        )
        with use_locale("en"):  # as a job or an API request speaking English would queue them
            quiet = await queue.submit(
                text_spec,
                AnalyzeTextArgs(text="Щас спс"),
                user_id=None,
                chat_id=None,
                language=None,
            )
            loud = await queue.submit(
                batch_spec,
                BatchArgs(group="never_parsed"),
                user_id=None,
                chat_id=None,
                language=None,
            )
        async with processes(Process("worker", env, tmp_path / "w.log")):
            final = await fake_tg.wait_for_message(ADMIN_ID, f"не удалось ({loud.job_id})", 60)
            assert "сначала /parse never_parsed" in final.text
            assert audit_row(env, loud.job_id)["language"] == "ru"
            await wait_until(
                "the quiet job closed",
                lambda: audit_row(env, quiet.job_id).get("status") == "complete",
            )
            # Closed means its closing message, had it one, was already handed over.
            assert await queue.status(f"notify:{quiet.job_id}") is JobStatus.not_found
        assert closing_messages(fake_tg, loud.job_id) == [final.text]
        assert not [m for m in fake_tg.messages(ADMIN_ID) if quiet.job_id in m.text]
