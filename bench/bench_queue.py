"""Queue throughput and latency: the project's path against raw arq, in one run.

Run from the project root::

    .venv/bin/python -m bench.bench_queue [--jobs 2000] [--submitters 10] [--latency-jobs 100]
        [--rounds 3]

Both sides run the same no-op job with the same arq settings (`worker_options`), against a
private redis-server, in this process:

* project: `JobQueue.submit` (audit row, then enqueue) and `ResilientWorker` with the
  project's hooks (the audit trail: started, tries, finished, status);
* raw arq: `ArqRedis.enqueue_job` and arq's `Worker`, no hooks, no audit.

Throughput: a running worker, N jobs submitted by --submitters concurrent senders (as the bot
handles many chats at once); the clock stops when the worker has finished the last one, hooks
included. Per-job overhead is the
project's time per job minus raw arq's. Latency: jobs submitted one at a time (at a random
point of the poll cycle) to an idle worker; from the call to `submit` to the job function's
first line. Each is measured with the shipped defaults and with the low-latency settings the
README documents; best of --rounds, alternating sides.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arq.worker import Worker, func

from core.catalog import CATALOG, JobArgs, JobSpec
from core.db import make_engine, make_sessionmaker, migrate
from core.queue import JobQueue
from core.redis_client import connect
from core.redis_server import RedisServer
from core.settings import Settings, load_settings
from worker import jobs
from worker.resilient import ResilientWorker
from worker.settings import worker_options

NOOP = "bench_noop"
HOOKS = ("on_startup", "on_shutdown", "on_job_start", "on_job_end", "after_job_end")
# The shipped defaults, and the low-latency settings the README documents.
PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "low latency": {"arq_poll_delay": 0.005},
}
DRAIN_BOUND_S = 600.0
STOP_BOUND_S = 30.0


class NoArgs(JobArgs):
    """The no-op takes nothing."""


# Closed like any job a person starts (audit row finished; no chat, so no message to send).
NOOP_SPEC = JobSpec(
    name=NOOP, args=NoArgs, title="Do nothing (queue benchmark)", describe=lambda _: "done",
    card=False,
)  # fmt: skip


@dataclass
class Probe:
    """What the no-op saw: when each job started, and how many ran."""

    started: dict[str, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Event] = field(default_factory=dict)

    def mark(self, job_id: str) -> None:
        self.started.setdefault(job_id, time.perf_counter())
        event = self.waiting.get(job_id)
        if event is not None:
            event.set()


PROBE = Probe()


async def bench_noop(ctx: dict[str, Any], _args: NoArgs) -> dict[str, Any]:
    """The project's no-op: a catalog-style job `(ctx, args) -> result`."""
    PROBE.mark(ctx["job_id"])
    return {}


async def raw_noop(ctx: dict[str, Any]) -> None:
    """Raw arq's no-op."""
    PROBE.mark(ctx["job_id"])


@dataclass
class Side:
    """One side of the comparison: how to build its worker and how to submit a job."""

    name: str
    make_worker: Callable[[Settings, asyncio.Event], Worker]
    submit: Callable[[Settings, Any], Awaitable[str]]


def project_worker(settings: Settings, ready: asyncio.Event) -> Worker:
    options = worker_options(settings)
    startup = options["on_startup"]

    async def started(ctx: dict[str, Any]) -> None:
        await startup(ctx)
        ready.set()

    options.update(on_startup=started, handle_signals=False)
    return ResilientWorker(**options)


def raw_worker(settings: Settings, ready: asyncio.Event) -> Worker:
    options = {k: v for k, v in worker_options(settings).items() if k not in HOOKS}

    async def started(_ctx: dict[str, Any]) -> None:
        ready.set()

    options.update(
        functions=[func(raw_noop, name=NOOP, keep_result=options["keep_result"])],
        on_startup=started,
        handle_signals=False,
    )
    return Worker(**options)


async def project_submit(_settings: Settings, queue: JobQueue) -> str:
    submitted = await queue.submit(NOOP_SPEC, NoArgs(), user_id=1, chat_id=None)
    return submitted.job_id


async def raw_submit(_settings: Settings, queue: JobQueue) -> str:
    job_id = uuid.uuid4().hex
    await queue.redis.enqueue_job(NOOP, _job_id=job_id)
    return job_id


SIDES = [Side("raw arq", raw_worker, raw_submit), Side("project", project_worker, project_submit)]


@dataclass
class Figures:
    jobs_per_s: float = 0.0
    latency_p50_ms: float = float("inf")


async def run_side(
    side: Side, settings: Settings, jobs_n: int, submitters: int, latency_n: int
) -> Figures:
    """Start the side's worker on a fresh queue, measure throughput, then latency; stop it."""
    settings = settings.model_copy(update={"arq_queue_name": f"bench:{uuid.uuid4().hex[:8]}"})
    redis = await connect(settings)
    engine = make_engine(settings.db_url)
    queue = JobQueue(redis, make_sessionmaker(engine), settings)
    ready = asyncio.Event()
    worker = side.make_worker(settings, ready)
    worker_task = asyncio.create_task(worker.async_run())
    try:
        await asyncio.wait_for(ready.wait(), 60)
        figures = Figures()
        started = time.perf_counter()

        async def sender(count: int) -> None:
            for _ in range(count):
                await side.submit(settings, queue)

        shares = [jobs_n // submitters + (i < jobs_n % submitters) for i in range(submitters)]
        await asyncio.gather(*(sender(share) for share in shares))
        await drained(worker, jobs_n)
        figures.jobs_per_s = jobs_n / (time.perf_counter() - started)
        figures.latency_p50_ms = await latency_p50(side, settings, queue, worker, latency_n)
        return figures
    finally:
        worker_task.cancel()
        # Bounded: a cancelled Redis command can leave redis-py waiting (seen once in 20 runs).
        await asyncio.wait({worker_task}, timeout=STOP_BOUND_S)
        await asyncio.wait_for(worker.close(), STOP_BOUND_S)
        await redis.aclose()
        await engine.dispose()


async def drained(worker: Worker, total: int) -> None:
    """Until the worker has finished `total` jobs and every job task (hooks too) is done."""
    async with asyncio.timeout(DRAIN_BOUND_S):
        while worker.jobs_complete + worker.jobs_failed < total or any(  # noqa: ASYNC110
            not task.done() for task in worker.tasks.values()
        ):  # arq offers no job-finished event to wait on
            await asyncio.sleep(0.002)
    if worker.jobs_failed:
        raise RuntimeError(f"{worker.jobs_failed} no-op jobs failed")


async def latency_p50(
    side: Side, settings: Settings, queue: JobQueue, worker: Worker, count: int
) -> float:
    """Median ms from `submit` to the job's first line, one job at a time, idle worker."""
    pick = random.Random(7)
    waits = []
    finished_before = worker.jobs_complete + worker.jobs_failed
    for number in range(1, count + 1):
        await asyncio.sleep(pick.uniform(0, settings.arq_poll_delay))
        event = asyncio.Event()
        before = time.perf_counter()
        job_id = await side.submit(settings, queue)
        PROBE.waiting[job_id] = event
        if job_id not in PROBE.started:
            await asyncio.wait_for(event.wait(), 60)
        waits.append((PROBE.started[job_id] - before) * 1000)
        await drained(worker, finished_before + number)
    return statistics.median(waits)


async def bench(args: argparse.Namespace) -> int:
    setattr(jobs, NOOP, bench_noop)  # registered like any job of worker.jobs
    CATALOG[NOOP] = NOOP_SPEC
    redis_server = RedisServer().start()
    results: dict[tuple[str, str], Figures] = {}
    polls: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-queue-") as data:
            base = load_settings(
                redis_url=redis_server.url, data_dir=Path(data), bot_token=None, log_level="WARNING"
            )
            await migrate(base.db_url)
            for profile, overrides in PROFILES.items():
                settings = base.model_copy(update=overrides)
                polls[profile] = settings.arq_poll_delay
                for round_no in range(args.rounds):
                    for side in SIDES if round_no % 2 == 0 else SIDES[::-1]:
                        got = await run_side(
                            side, settings, args.jobs, args.submitters, args.latency_jobs
                        )
                        best = results.setdefault((profile, side.name), Figures())
                        best.jobs_per_s = max(best.jobs_per_s, got.jobs_per_s)
                        best.latency_p50_ms = min(best.latency_p50_ms, got.latency_p50_ms)
                        print(
                            f"{profile}, {side.name}, round {round_no + 1}: "
                            f"{got.jobs_per_s:,.0f} jobs/s, p50 {got.latency_p50_ms:.1f} ms",
                            flush=True,
                        )
    finally:
        redis_server.stop()
    print()
    print(table(results, polls, args.jobs, args.submitters))
    return 0


def table(
    results: dict[tuple[str, str], Figures], polls: dict[str, float], jobs_n: int, submitters: int
) -> str:
    lines = [
        f"{jobs_n} no-op jobs per throughput run, {submitters} concurrent senders",
        "| settings | raw arq jobs/s | project jobs/s | ratio | overhead ms/job "
        "| p50 enqueue-to-start raw / project |",
        "|---|---|---|---|---|---|",
    ]
    for profile in PROFILES:
        raw, ours = results[(profile, "raw arq")], results[(profile, "project")]
        overhead_ms = (1 / ours.jobs_per_s - 1 / raw.jobs_per_s) * 1000
        lines.append(
            f"| {profile} (poll {polls[profile]} s) "
            f"| {raw.jobs_per_s:,.0f} | {ours.jobs_per_s:,.0f} | "
            f"{ours.jobs_per_s / raw.jobs_per_s:.2f}x | {overhead_ms:.2f} | "
            f"{raw.latency_p50_ms:.1f} ms / {ours.latency_p50_ms:.1f} ms |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_queue", description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="no-op jobs per throughput run")
    parser.add_argument("--submitters", type=int, default=10, help="concurrent senders")
    parser.add_argument("--latency-jobs", type=int, default=100, help="jobs timed one by one")
    parser.add_argument("--rounds", type=int, default=3, help="runs per side; the best counts")
    return asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
