"""A batch's tries as arq makes them, on a real Redis and SQLite or PostgreSQL: the batch
queues its parts, waits outside its slot with `Retry`, agrees with itself across tries, and a
batch whose tries keep dying is failed instead of looping (its function is called here as arq
calls it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from arq import Retry
from arq.connections import ArqRedis
from arq.jobs import Job

from core import analysis, storage
from core.catalog import BatchArgs, ChunkArgs
from core.db import make_engine, make_sessionmaker, migrate
from core.jobstate import JobFailed
from core.redis_client import connect
from core.settings import load_settings
from worker.jobs import analyze_comment_chunk, process_batch_comments
from worker.jobs.analysis import _count_start

GROUP = 4242
COMMENTS = 250


@pytest.fixture
async def ctx(database_url: str, redis_url: str) -> AsyncIterator[dict[str, Any]]:
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    settings = load_settings(
        redis_url=redis_url, analysis_chunk_size=100, arq_max_jobs=2, arq_max_tries=3
    )
    redis: ArqRedis = await connect(settings)
    await storage.save_group(sessions, GROUP, "batch_club", "Batch club")
    date = datetime(2026, 11, 1, tzinfo=UTC)
    await storage.save_comments(
        sessions,
        [{"owner_id": -GROUP, "post_id": 1, "comment_id": n, "parent_id": None, "from_id": 1,
          "date": date, "text": "Щука клюёт на блесну", "deleted": False, "first_job_id": "p"}
         for n in range(1, COMMENTS + 1)],
    )  # fmt: skip
    yield {"redis": redis, "sessions": sessions, "settings": settings, "job_id": "batch1"}
    await redis.aclose()
    await engine.dispose()


async def run_try(ctx: dict[str, Any], job_try: int) -> dict[str, Any]:
    return await process_batch_comments({**ctx, "job_try": job_try}, BatchArgs(group="batch_club"))


async def run_parts(ctx: dict[str, Any]) -> None:
    """Run the queued parts the way a worker would: their stored arguments, validated."""
    for index in range(3):
        definition = await Job(f"{ctx['job_id']}:part:{index}", ctx["redis"]).info()
        assert definition is not None
        await analyze_comment_chunk(ctx, ChunkArgs.model_validate(definition.kwargs))


async def test_a_batch_waits_outside_its_slot_and_agrees_with_itself(
    ctx: dict[str, Any],
) -> None:
    with pytest.raises(Retry):
        await run_try(ctx, 1)  # plans 3 parts, queues them, gives the slot back
    queued = await ctx["redis"].queued_jobs()
    assert sorted(job.job_id for job in queued) == [f"batch1:part:{i}" for i in range(3)]
    with pytest.raises(Retry):
        await run_try(ctx, 2)  # parts not run yet: nothing queued twice
    assert len(await ctx["redis"].queued_jobs()) == 3
    # The parts' key ranges cover every comment once.
    await run_parts(ctx)
    scope = analysis.Scope(-GROUP)
    assert await analysis.count_unanalysed(ctx["sessions"], scope) == 0
    assert await analysis.count_analysed(ctx["sessions"], scope) == COMMENTS


async def test_a_batch_whose_tries_keep_dying_fails_instead_of_looping(
    ctx: dict[str, Any],
) -> None:
    """Tries that start and never wait (their worker was killed; the sweeper gives the try
    number back, so it may repeat) are counted; waits are not."""
    with pytest.raises(Retry):
        await run_try(ctx, 1)
    with pytest.raises(Retry):
        await run_try(ctx, 2)  # a wait: no interruption
    for _ in range(ctx["settings"].arq_max_tries):
        await _count_start({**ctx, "job_try": 3})  # a start whose worker died right after
    with pytest.raises(JobFailed, match="interrupted too often"):
        await run_try(ctx, 3)
