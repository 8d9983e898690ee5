"""The audit trail, written in batches, still ends right: each job's row has its final status,
its tries and times in order, however many jobs share a commit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix, result_key_prefix
from arq.jobs import serialize_result

from bot.handlers.control import abort_job
from core import jobstate, storage
from core.audit import audit_trail
from core.catalog import CATALOG, AnalyzeTextArgs, KeywordsArgs
from core.db import make_engine, make_sessionmaker, migrate
from core.jobstate import JobFailed
from core.queue import JobQueue
from core.settings import Settings
from tests.databases import queue_door
from worker.resilient import ResilientWorker
from worker.settings import worker_options

JOBS_AT_ONCE = 40


async def test_audit_rows_end_with_status_tries_and_times(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """40 jobs submitted at once (their rows share commits) and one that fails, run by the
    project's worker: rows end complete or failed, one try, enqueued <= started <= finished;
    on SQLite and on PostgreSQL."""
    settings = Settings(
        redis_url=redis_url, data_dir=tmp_path, database_url=database_url, arq_burst_mode=True
    )
    async with queue_door(settings) as queue:
        sessions = queue.sessions
        analyze, keywords = CATALOG["analyze_text_morphology"], CATALOG["extract_keywords"]
        submitted = await asyncio.gather(
            *(
                queue.submit(
                    analyze,
                    AnalyzeTextArgs(text=f"Привет {n}"),
                    user_id=7,
                    chat_id=None,
                    language=None,
                )
                for n in range(JOBS_AT_ONCE)
            )
        )
        failing = await queue.submit(
            keywords, KeywordsArgs(group="nobody"), user_id=7, chat_id=None, language="en"
        )

        worker = ResilientWorker(**worker_options(settings), handle_signals=False)
        await asyncio.wait_for(worker.async_run(), 120)  # burst: ends when the queue is empty
        await asyncio.wait_for(worker.close(), 60)
        await audit_trail(sessions).flush()

        rows = [await storage.get_job(sessions, job.job_id) for job in submitted]
        assert all(row is not None and row.status == "complete" for row in rows), rows
        failed = await storage.get_job(sessions, failing.job_id)
        assert failed is not None and failed.status == "failed"
        assert "no stored comments" in (failed.summary or "")
        for row in [*rows, failed]:
            assert row is not None and row.tries == 1 and row.user_id == 7
            assert row.started_at is not None and row.finished_at is not None
            assert row.enqueued_at <= row.started_at <= row.finished_at


def job_queue(
    tmp_path: Path, redis_url: str, database_url: str
) -> contextlib.AbstractAsyncContextManager[JobQueue]:
    settings = Settings(redis_url=redis_url, data_dir=tmp_path, database_url=database_url)
    return queue_door(settings)


def enqueued_row(job_id: str) -> dict[str, Any]:
    return storage.job_row(
        job_id=job_id, job_name="extract_keywords", user_id=7, chat_id=70,
        args={"group": "g"}, language="en", enqueued_at=storage.utcnow(),
    )  # fmt: skip


async def test_worker_writes_before_the_insert_keep_their_progress(database_url: str) -> None:
    """Bot and worker write the row with batches of their own (two processes, here two trails
    on two engines): the worker's start and end may be committed before the enqueue's insert.
    The start creates the row, the late insert overwrites nothing; a write of a job without
    an audit row (a closing message) creates none. In the other order, the same row."""
    await migrate(database_url)
    bot_engine, worker_engine = make_engine(database_url), make_engine(database_url)
    bot = audit_trail(make_sessionmaker(bot_engine))
    worker_sessions = make_sessionmaker(worker_engine)
    worker = audit_trail(worker_sessions)
    for job_id, insert_first in (("late-insert", False), ("early-insert", True)):
        row = enqueued_row(job_id)
        if insert_first:
            bot.insert(row)
            await bot.flush()
        started = storage.utcnow()
        worker.update(job_id, create=row, status="running", tries=1, started_at=started)
        await worker.flush()
        worker.update(job_id, status="complete", finished_at=storage.utcnow(), summary="done")
        await worker.flush()
        bot.insert(row)  # a second insert (or the first, late) changes nothing
        await bot.flush()
        audit = await storage.get_job(worker_sessions, job_id)
        assert audit is not None, job_id
        assert (audit.status, audit.tries, audit.summary) == ("complete", 1, "done"), job_id
        assert (audit.user_id, audit.chat_id, audit.language) == (7, 70, "en"), job_id
        assert audit.args == {"group": "g"} and audit.job_name == "extract_keywords"
        assert audit.started_at is not None and audit.finished_at is not None
        assert audit.enqueued_at <= audit.started_at <= audit.finished_at
    worker.update("notify:late-insert", status="running", tries=1)
    await worker.flush()
    assert await storage.get_job(worker_sessions, "notify:late-insert") is None
    await bot_engine.dispose()
    await worker_engine.dispose()


async def test_a_closing_message_is_recorded_on_a_row_written_later(database_url: str) -> None:
    """A worker records a closing message as sent (an awaited update) before the job's row is
    written by another process's batch: the record waits for the row instead of being lost
    (lost, a rerun of the notification sent the message again)."""
    await migrate(database_url)
    bot_engine, worker_engine = make_engine(database_url), make_engine(database_url)
    bot = audit_trail(make_sessionmaker(bot_engine))
    worker_sessions = make_sessionmaker(worker_engine)
    recording = asyncio.create_task(storage.mark_notified(worker_sessions, "written-later"))
    done, _pending = await asyncio.wait({recording}, timeout=0.5)
    assert not done  # waiting for the row, not finished against none
    bot.insert(enqueued_row("written-later"))
    await bot.flush()
    await asyncio.wait_for(recording, 60)
    audit = await storage.get_job(worker_sessions, "written-later")
    assert audit is not None and audit.notified_at is not None
    await bot_engine.dispose()
    await worker_engine.dispose()


async def test_a_stopping_process_gives_up_on_a_database_that_is_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At shutdown the trail writes what it holds, but a database that is away does not hold
    the process (a worker stopping during an outage waited for it forever): it gives up after
    its bound, saying so."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    trail = audit_trail(make_sessionmaker(engine))
    trail.insert(enqueued_row("unwritable"))
    await asyncio.wait_for(trail.flush_within(0.5), 60)
    assert "rows not written at shutdown" in caplog.text
    await engine.dispose()


async def test_a_failed_insert_is_retried_until_the_database_is_back(database_url: str) -> None:
    """Nobody waits for the insert now, so the trail keeps it: written by a later batch once
    the database answers (here: the table is missing until the schema is migrated)."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    trail = audit_trail(sessions)
    trail.insert(enqueued_row("kept"))
    await asyncio.wait_for(trail.caught_up(), 60)  # the first write, failed
    assert trail.failing_since is not None
    await migrate(database_url)
    await asyncio.wait_for(trail.flush(), 60)  # retried with backoff until written
    audit = await storage.get_job(sessions, "kept")
    assert audit is not None and audit.status == "queued" and audit.chat_id == 70
    await engine.dispose()


async def test_a_just_queued_job_shows_at_once(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """`submit` does not wait for its row's commit; this process's reads (/jobs, /status)
    wait for the trail, so the job shows as soon as `submit` returns."""
    async with job_queue(tmp_path, redis_url, database_url) as queue:
        sessions = queue.sessions
        submitted = await queue.submit(
            CATALOG["analyze_text_morphology"], AnalyzeTextArgs(text="Привет"),
            user_id=7, chat_id=70, language="en",
        )  # fmt: skip
        shown = await storage.recent_jobs(sessions, chat_id=70)
        assert [row.job_id for row in shown] == [submitted.job_id]
        audit = await storage.get_job(sessions, submitted.job_id)
        assert audit is not None and (audit.status, audit.user_id) == ("queued", 7)


async def test_lists_say_what_status_says_before_the_workers_last_write(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """A worker stores a job's result in arq, then writes its end to the audit trail in its
    next batch. In between, /jobs and the dashboard (which list audit rows) said "running" of
    a job /status called complete (a soak run caught it). Rows still open ask arq, as
    /status does; rows that ended, or whose arq state is gone, keep what they say."""
    async with job_queue(tmp_path, redis_url, database_url) as queue:
        sessions, redis = queue.sessions, queue.redis
        trail = audit_trail(sessions)
        for job_id in ("ended", "ended-badly", "started", "waiting", "ended-long-ago"):
            trail.insert(enqueued_row(job_id))
        trail.update("ended-long-ago", status="complete", summary="done")
        await trail.flush()
        now_ms = int(time.time() * 1000)
        for job_id, success, result in (
            ("ended", True, {"group_id": 1, "comments": 3, "keywords": []}),
            ("ended-badly", False, JobFailed("no stored comments")),
        ):
            stored = serialize_result(
                "extract_keywords", (), {}, 1, now_ms, success, result, now_ms - 1500, now_ms,
                "extract_keywords", queue.queue_name, job_id,
            )  # fmt: skip
            assert stored is not None
            await redis.set(result_key_prefix + job_id, stored, ex=3600)
        await redis.set(in_progress_key_prefix + "started", b"1", ex=3600)
        await redis.zadd(queue.queue_name, {"waiting": now_ms})

        rows = await storage.recent_jobs(sessions, chat_id=70)
        listed = {v.job_id: v for v in await jobstate.listed(redis, queue.queue_name, rows)}
        assert {job_id: view.status for job_id, view in listed.items()} == {
            "ended": "complete",
            "ended-badly": "failed",
            "started": "running",
            "waiting": "queued",
            "ended-long-ago": "complete",
        }
        assert listed["ended-badly"].error == "no stored comments"
        # How long they ran, for the dashboard: arq's times until the audit has its own.
        for job_id in ("ended", "ended-badly"):
            ran = listed[job_id].ran
            assert ran is not None and (ran[1] - ran[0]).total_seconds() == 1.5
        assert listed["started"].ran is None and listed["ended-long-ago"].ran is None
        for job_id in ("ended", "ended-badly"):
            shown = await jobstate.job_view(redis, sessions, job_id, queue.queue_name)
            assert (shown.status, shown.error) == (listed[job_id].status, listed[job_id].error)
        # /abort of it says why not in the same words (it said "not running (it is queued)").
        _requested, answer = await abort_job(queue, "ended", user_id=7, chat_id=70, is_admin=True)
        assert answer == "Job ended is not running (it is complete).", answer
