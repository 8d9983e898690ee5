"""Worker scale-out: 1, 2 and 4 `python -m worker` processes drain 10,000 queued jobs against one
Redis and one PostgreSQL.

Run from the project root::

    .venv/bin/python -m bench.bench_scale [--jobs 10000] [--workers 1 2 4]

The job is the product's own `analyze_comment_chunk` over a key range holding one stored
comment (a community of `--jobs` real Russian comments from the demo wall, one job per
comment), submitted through `JobQueue.submit` (audit row, then arq), as a batch analysis
queues its parts. PostgreSQL: `TEST_POSTGRES_URL` when it answers, else a private server (see
tests/postgres.py); each run gets a fresh database and a flushed private Redis.

All jobs are queued first, on a staging queue, while the workers start; once every worker is
up, the staging queue is renamed to theirs (one Redis command), so the clock covers the drain
alone. It stops when every audit row is complete. Then: none lost (10,000 complete audit rows,
10,000 arq results, every comment analysed, the queue empty) and none run to completion twice
(every row one try, every result one comment analysed).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from arq.jobs import Job
from sqlalchemy import func, select

from core import storage
from core.catalog import CATALOG, ChunkArgs
from core.db import make_engine, make_sessionmaker, migrate
from core.models import Comment, JobAudit
from core.queue import JobQueue
from core.redis_client import connect
from core.redis_server import RedisServer
from core.settings import Settings
from fakevk.api import load_demo_groups
from tests.conftest import Process
from tests.postgres import find_or_start, fresh_database

GROUP = 424242
PER_POST = 100
SUBMIT_AT_ONCE = 200
DRAIN_BOUND_S = 1800.0
STAGING = "bench:staging"


@dataclass
class Run:
    workers: int
    jobs: int
    drain_s: float
    load_before: float
    load_after: float

    @property
    def rate(self) -> float:
        return self.jobs / self.drain_s


def demo_texts() -> list[str]:
    def walk(comments: list) -> list[str]:  # type: ignore[type-arg]
        return [t for c in comments for t in [c.text, *walk(c.replies)] if t]

    return [t for group in load_demo_groups() for post in group.posts for t in walk(post.comments)]


async def seed(sessions: storage.Sessions, jobs: int) -> None:
    """`jobs` unanalysed comments of one community, `PER_POST` per post."""
    texts = itertools.cycle(demo_texts())
    date = datetime(2026, 11, 1, tzinfo=UTC)
    await storage.save_group(sessions, GROUP, "scale_bench", "Scale bench")
    rows = [
        {"owner_id": -GROUP, "post_id": n // PER_POST + 1, "comment_id": n + 1, "parent_id": None,
         "from_id": 1 + n % 500, "date": date, "text": next(texts), "deleted": False,
         "first_job_id": "seed"}
        for n in range(jobs)
    ]  # fmt: skip
    for start in range(0, jobs, 2000):
        await storage.save_comments(sessions, rows[start : start + 2000])


def one_comment(n: int) -> ChunkArgs:
    post, comment = n // PER_POST + 1, n + 1
    return ChunkArgs(owner_id=-GROUP, start=(post, comment), end=(post, comment + 1))


async def submit_all(queue: JobQueue, jobs: int) -> list[str]:
    spec = CATALOG["analyze_comment_chunk"]
    ids: list[str] = []
    for first in range(0, jobs, SUBMIT_AT_ONCE):
        numbers = range(first, min(jobs, first + SUBMIT_AT_ONCE))
        done = await asyncio.gather(
            *(queue.submit(spec, one_comment(n), user_id=None, chat_id=None) for n in numbers)
        )
        ids.extend(job.job_id for job in done)
    return ids


async def audit_counts(sessions: storage.Sessions) -> dict[tuple[str, int], int]:
    query = select(JobAudit.status, JobAudit.tries, func.count()).group_by(
        JobAudit.status, JobAudit.tries
    )
    async with sessions() as session:
        return {(s, t): n for s, t, n in (await session.execute(query)).all()}


async def check_exactly_once(
    sessions: storage.Sessions, queue: JobQueue, ids: list[str], queue_name: str
) -> None:
    """None lost, none run to completion twice; raises AssertionError saying which."""
    jobs = len(ids)
    counts = await audit_counts(sessions)
    assert counts == {("complete", 1): jobs}, f"audit rows by (status, tries): {counts}"
    analysed = []
    for first in range(0, jobs, 500):
        infos = await asyncio.gather(
            *(Job(job_id, queue.redis).result_info() for job_id in ids[first : first + 500])
        )
        analysed += [
            info.result["comments_analyzed"] if info and info.success else None for info in infos
        ]
    assert analysed == [1] * jobs, f"results: {sum(a is None for a in analysed)} missing"
    query = select(func.count()).where(Comment.owner_id == -GROUP, Comment.terms.is_not(None))
    async with sessions() as session:
        assert await session.scalar(query) == jobs
    assert await queue.redis.zcard(queue_name) == 0


def worker_env(redis_url: str, database_url: str, queue_name: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "VK_", "BOT_"))}
    keep.pop("DATABASE_URL", None)
    return {
        **keep,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "ARQ_QUEUE_NAME": queue_name,
        "DATA_DIR": tempfile.mkdtemp(prefix="vkc-scale-"),
        "PYTHONUNBUFFERED": "1",
    }


async def one_run(workers: int, jobs: int, redis: RedisServer, admin_url: str) -> Run:
    queue_name = f"arq:scale:{uuid.uuid4().hex[:8]}"
    async with fresh_database(admin_url) as url:
        await migrate(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        # The jobs go to a staging queue the workers do not read (see the module's text).
        staging = Settings(_env_file=None, redis_url=redis.url, arq_queue_name=STAGING)  # type: ignore[call-arg]
        client = await connect(staging)
        await client.flushall()
        await seed(sessions, jobs)
        queue = JobQueue(client, sessions, staging)
        env = worker_env(redis.url, url, queue_name)
        logs = Path(env["DATA_DIR"])
        processes = [Process("worker", env, logs / f"worker{i}.log") for i in range(workers)]
        try:
            started = time.monotonic()
            ids = await submit_all(queue, jobs)
            print(f"  {jobs} jobs queued in {time.monotonic() - started:.1f} s", file=sys.stderr)
            for process in processes:
                await process.wait_until_up()
            load_before = os.getloadavg()[0]
            await client.rename(STAGING, queue_name)
            released = time.monotonic()
            while (await audit_counts(sessions)).get(("complete", 1), 0) < jobs:
                if time.monotonic() - released > DRAIN_BOUND_S:
                    raise AssertionError(f"not drained in {DRAIN_BOUND_S} s")
                if any(p.popen.poll() is not None for p in processes):
                    raise AssertionError("a worker exited")
                await asyncio.sleep(0.2)
            drain_s = time.monotonic() - released
            load_after = os.getloadavg()[0]
            await check_exactly_once(sessions, queue, ids, queue_name)
        finally:
            for process in processes:
                await process.stop()
            await client.aclose()
            await engine.dispose()
    return Run(workers, jobs, drain_s, load_before, load_after)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    options = parser.parse_args()
    admin_url, private = await asyncio.to_thread(find_or_start)
    redis = RedisServer().start()
    runs = []
    try:
        for workers in options.workers:
            print(f"{workers} worker(s)...", file=sys.stderr)
            runs.append(await one_run(workers, options.jobs, redis, admin_url))
            print(f"  {runs[-1].rate:.0f} jobs/s", file=sys.stderr)
    finally:
        redis.stop()
        if private is not None:
            private.stop()
    where = "a private PostgreSQL" if private else "PostgreSQL at TEST_POSTGRES_URL"
    print(f"\n{options.jobs} analyze_comment_chunk jobs (one comment each), {where}, "
          f"{os.cpu_count()} CPUs; none lost, none run twice in every run\n")  # fmt: skip
    print("| workers | drain time | jobs/s | x one worker | load average (1 min) before / after |")
    print("|---|---|---|---|---|")
    for run in runs:
        ratio = run.rate / runs[0].rate
        print(f"| {run.workers} | {run.drain_s:.1f} s | {run.rate:.0f} | {ratio:.2f}x | "
              f"{run.load_before:.1f} / {run.load_after:.1f} |")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
