"""The audit trail, written in batches, still ends right: each job's row has its final status,
its tries and times in order, however many jobs share a commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core import storage
from core.audit import audit_trail
from core.catalog import CATALOG, AnalyzeTextArgs, KeywordsArgs
from core.db import make_engine, make_sessionmaker, migrate
from core.queue import JobQueue
from core.redis_client import connect
from core.settings import Settings
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
    await migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    redis = await connect(settings)
    queue = JobQueue(redis, sessions, settings)
    analyze, keywords = CATALOG["analyze_text_morphology"], CATALOG["extract_keywords"]
    submitted = await asyncio.gather(
        *(
            queue.submit(analyze, AnalyzeTextArgs(text=f"Привет {n}"), user_id=7, chat_id=None)
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
    await redis.aclose()
    await engine.dispose()
