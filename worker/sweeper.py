"""The sweeper, run by every worker: jobs of dead workers go back on the queue, ended jobs close.

arq marks a running job with an in-progress key that lives as long as the longest job timeout,
so a job whose worker was killed would wait hours. Each worker keeps a heartbeat key and records
which jobs it runs; a job whose worker's heartbeat is gone is put back (a parse resumes from its
checkpoint), and after more than ARQ_MAX_TRIES losses it ends as failed, "worker lost".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix, retry_key_prefix
from arq.worker import JobExecutionFailed
from redis.exceptions import WatchError

from core import storage
from core.catalog import CATALOG
from core.jobstate import worker_key
from core.queue import JobQueue
from core.settings import Settings
from worker.resilience import Condition, is_transient

log = logging.getLogger(__name__)

SWEEP_LOCK = "vkc:sweep:lock"
LOST_TTL = 7 * 24 * 3600
# A job's owner key: renewed by its worker's heartbeat while the job runs, kept a day after.
OWNER_TTL_S = 24 * 3600
RECONCILE_BATCH = 200


def owner_key(job_id: str) -> str:
    return f"vkc:runs:{job_id}"


def lost_key(job_id: str) -> str:
    return f"vkc:lost:{job_id}"


def in_progress_timeout(settings: Settings) -> float:
    """How long arq's in-progress key lives: the longest job timeout + 10 s, as arq sets it."""
    return max(spec.timeout or settings.arq_job_timeout for spec in CATALOG.values()) + 10


async def sweep_forever(ctx: dict[str, Any], worker_id: str) -> None:
    """Sweep every SWEEP_INTERVAL; a Redis or database outage is logged once and waited out."""
    settings: Settings = ctx["settings"]
    condition = Condition("sweeper")
    while True:
        try:
            await sweep(ctx, worker_id)
        except Exception as error:
            if not is_transient(error):
                log.exception("sweep failed")
            condition.failed(error)
        else:
            condition.recovered()
        await asyncio.sleep(settings.sweep_interval)


async def sweep(ctx: dict[str, Any], worker_id: str) -> None:
    """One pass: recover the jobs of dead workers, then close ended jobs left open by a crash."""
    redis: ArqRedis = ctx["redis"]
    settings: Settings = ctx["settings"]
    # One worker sweeps per interval; with several, the turns just come more evenly.
    lock_ms = max(1, int(settings.sweep_interval * 900))
    if not await redis.set(SWEEP_LOCK, worker_id, nx=True, px=lock_ms):
        return
    queue = JobQueue(redis, ctx["sessions"], settings)
    async for key in redis.scan_iter(match=in_progress_key_prefix + "*", count=500):
        job_id = key.decode().removeprefix(in_progress_key_prefix)
        if await _worker_gone(redis, settings, job_id):
            await recover(queue, job_id)
    before = storage.utcnow() - timedelta(seconds=settings.worker_lost_after)
    for job_id in await storage.open_jobs(ctx["sessions"], before, RECONCILE_BATCH):
        await queue.close(job_id)


async def _worker_gone(redis: ArqRedis, settings: Settings, job_id: str) -> bool:
    owner = await redis.get(owner_key(job_id))
    if owner is not None:
        return not bool(await redis.exists(worker_key(owner.decode())))
    # No owner recorded: a worker between taking the job and its start hook, or one that died
    # right there. The in-progress key's age tells which.
    left_ms = int(await redis.pttl(in_progress_key_prefix + job_id))
    age_s = in_progress_timeout(settings) - left_ms / 1000
    return left_ms > 0 and age_s > settings.worker_lost_after


async def recover(queue: JobQueue, job_id: str) -> None:
    """Put a dead worker's job back on the queue, or end it when it is aborted or out of tries."""
    redis = queue.redis
    if not await redis.exists(job_key_prefix + job_id):
        return
    if await redis.zscore(abort_jobs_ss, job_id) is not None:
        error: BaseException | None = asyncio.CancelledError()
    # ARQ_MAX_TRIES, not the job's own tries: a batch has thousands, for waiting on its parts.
    elif await redis.incr(lost_key(job_id)) > queue.settings.arq_max_tries:
        error = JobExecutionFailed("worker lost")
    else:
        await redis.expire(lost_key(job_id), LOST_TTL)
        error = None
    if error is not None:
        if await queue.finish_unstarted(job_id, error, lost_worker=True):
            log.warning("job %s ended (%s): its worker is gone", job_id, error or "aborted")
            await queue.close(job_id)
        return
    if await _requeue(redis, job_id):
        log.warning("job %s re-queued: its worker is gone", job_id)
        await storage.mark_retrying(queue.sessions, job_id)


async def _requeue(redis: ArqRedis, job_id: str) -> bool:
    """Drop the dead worker's in-progress mark; the job, still in the queue, runs again.

    The try the lost worker started is given back: losing a worker is not the job's fault.
    """
    in_progress, retries = in_progress_key_prefix + job_id, retry_key_prefix + job_id
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(in_progress, owner_key(job_id), retries)
        if not await pipe.exists(in_progress):
            return False
        tries = int(await pipe.get(retries) or 0)
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.delete(in_progress, owner_key(job_id))
        if tries > 0:
            pipe.decr(retries)
        try:
            await pipe.execute()
        except WatchError:
            return False
    return True
