"""What every job sees in `ctx`; the hooks that keep the audit trail and close jobs in chat."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from arq import Retry
from arq.connections import ArqRedis
from arq.constants import retry_key_prefix

from core import jobstate, storage
from core.audit import audit_trail
from core.catalog import JobArgs, JobSpec
from core.db import engine_for, make_sessionmaker, migrate
from core.i18n import set_language
from core.queue import JobQueue, Origin
from core.settings import Settings, load_settings
from core.telegram import make_bot
from worker.health import new_worker_id
from worker.resilience import Condition, is_transient, patiently
from worker.sweeper import OWNER_TTL_S, owner_key, sweep_forever

log = logging.getLogger(__name__)

Ctx = dict[str, Any]
# How long a stopping worker tries to write its last audit events (a database may be away).
SHUTDOWN_WRITE_S = 10.0
JobFunction = Callable[[Ctx, Any], Awaitable[Any]]


async def startup(ctx: Ctx) -> None:
    """Open the database, the Bot API client, announce this worker and start its sweeper."""
    settings: Settings = ctx.setdefault("settings", load_settings())
    engine = engine_for(settings)
    await migrate(settings.db_url)
    ctx["engine"] = engine
    ctx["sessions"] = make_sessionmaker(engine)
    if "bot" not in ctx:
        ctx["bot"] = make_bot(settings) if settings.bot_token else None
        ctx["own_bot"] = True
    worker_id = ctx["worker_id"] = new_worker_id()
    ctx["sweeper"] = asyncio.create_task(sweep_forever(ctx, worker_id))
    # The jobs this worker runs (job id -> its task), whose owner the heartbeat records.
    running: dict[str, asyncio.Task[Any]] = {}
    ctx["running"] = running
    # Set last: console mode waits for this key to know the worker has started.
    ctx["heartbeat"] = asyncio.create_task(
        heartbeat(ctx["redis"], worker_id, settings.worker_lost_after, running)
    )
    freeze_startup_heap()
    log.info("worker %s ready", worker_id)


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, models, the catalog: ~300,000 objects) out of the
    garbage collector's full passes. A parse allocates fast enough to start one every few
    thousand comments, and each pass walked all of them again: ~15 % of a parse's CPU."""
    gc.collect()
    gc.freeze()


async def shutdown(ctx: Ctx) -> None:
    """Stop the heartbeat and sweeper, close the Bot API session and the database."""
    for task in (ctx.get("heartbeat"), ctx.get("sweeper")):
        if task is None:
            continue
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    bot: Bot | None = ctx.get("bot")
    if bot is not None and ctx.get("own_bot"):
        await bot.session.close()
    if "engine" in ctx:
        await audit_trail(ctx["sessions"]).flush_within(SHUTDOWN_WRITE_S)
        await ctx["engine"].dispose()


async def heartbeat(
    redis: ArqRedis, worker_id: str, ttl: float, running: dict[str, asyncio.Task[Any]] | None = None
) -> None:
    """A key per live worker (arq's health key is one per queue, so it cannot count workers),
    and with it the owner of each job it runs: the sweeper's evidence, written here in one
    round trip per beat rather than one per job on the job's path. A job younger than the first
    beat has no owner yet; the sweeper tells its age by arq's in-progress key instead.

    It outlives any Redis error: a worker that stopped beating would have its jobs taken away.
    """
    key = jobstate.worker_key(worker_id)
    running = {} if running is None else running
    condition = Condition("heartbeat")
    try:
        while True:
            for job_id in [job_id for job_id, task in running.items() if task.done()]:
                del running[job_id]
            try:
                async with redis.pipeline(transaction=False) as pipe:
                    pipe.set(key, "alive", px=int(ttl * 1000))
                    for job_id in running:
                        pipe.set(owner_key(job_id), worker_id, ex=int(OWNER_TTL_S))
                    await pipe.execute()
            except Exception as error:
                condition.failed(error)
            else:
                condition.recovered()
            await asyncio.sleep(ttl / 4)
    finally:
        with contextlib.suppress(Exception):
            await redis.delete(key)


async def begin_job(ctx: Ctx, job_name: str, carried: Origin | None, args: dict[str, Any]) -> None:
    """Adopt the job's origin, and record that it started (with the next batch of the audit
    trail, off the job's path; retried there). Called in the job's own task.

    A job with an audit row carries what its row holds: if its enqueue's insert is not written
    yet (another process, batches of its own), this write creates the row.
    """
    await adopt_origin(ctx, carried)
    job_id, row = ctx["job_id"], None
    if carried is not None and carried.audited:
        row = storage.job_row(
            job_id=job_id,
            job_name=job_name,
            user_id=carried.user_id,
            chat_id=carried.chat_id,
            args=args,
            language=carried.language,
            enqueued_at=ctx["enqueue_time"],
        )
    audit_trail(ctx["sessions"]).update(
        job_id, create=row, status="running", tries=ctx["job_try"], started_at=storage.utcnow()
    )


async def adopt_origin(ctx: Ctx, carried: Origin | None) -> None:
    """Speak the language of the person who asked for the job, and remember where it closes.

    The job carries its origin; one enqueued without it (by an older version, or an internal
    job with no audit row) is looked up in the audit trail. The language then holds for the
    job's texts (progress, failure reasons).
    """
    job_id, origin = ctx["job_id"], carried
    if origin is None:
        audit = await patiently(
            f"reading job {job_id}", lambda: storage.get_job(ctx["sessions"], job_id)
        )
        origin = Origin(audit.chat_id, audit.language) if audit is not None else None
    ctx["origin"] = origin
    language = origin.language if origin is not None else None
    set_language(language or ctx["settings"].default_language)


async def on_job_start(ctx: Ctx) -> None:
    """Record which worker runs the job (the sweeper's evidence; the job function records
    that it started, see `begin_job`).

    Never raises: a hook error would end the worker process, and every job in it. Nothing here
    waits for the database or Redis: at queue speed a round trip per job cost more than the job.
    """
    task = asyncio.current_task()  # arq's task running this job, hooks included
    if task is not None:
        ctx["running"][ctx["job_id"]] = task  # the heartbeat records this worker as its owner


async def after_job_end(ctx: Ctx) -> None:
    """Close the job once it has really ended (arq stored its result); else it runs again.

    Never raises; what a long outage leaves undone, the sweeper closes later.
    """
    await patiently(f"closing job {ctx['job_id']}", lambda: _close_or_mark_retrying(ctx))


async def _close_or_mark_retrying(ctx: Ctx) -> None:
    sessions: storage.Sessions = ctx["sessions"]
    queue = JobQueue(ctx["redis"], sessions, ctx["settings"])
    if not await queue.close(ctx["job_id"], ctx.get("origin"), ctx.get("completed")):
        await storage.mark_retrying(sessions, ctx["job_id"])


async def run_job(ctx: Ctx, spec: JobSpec, function: JobFunction, args: JobArgs) -> Any:
    """Run a job function; a database or Redis blip becomes a retry, a shutdown costs no try.

    arq counts a try when it starts a job. A job cut off by SIGTERM (cancelled, not aborted:
    an abort ends the job and arq drops its try counter anyway) gets that try back.
    """
    try:
        result = await function(ctx, args)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(_give_back_try(ctx["redis"], ctx["job_id"]), 2)
        raise
    except Exception as error:
        settings: Settings = ctx["settings"]
        if is_transient(error) and ctx["job_try"] < (spec.max_tries or settings.arq_max_tries):
            log.warning("job %s: %s, retrying", ctx["job_id"], type(error).__name__)
            raise Retry(defer=min(60, 5 * ctx["job_try"])) from None
        raise
    # How it ended, for the end hook: arq stores this result first, so closing the job need
    # not read it back (a Redis round trip on the job's path, holding its slot).
    ctx["completed"] = jobstate.completed(ctx["job_id"], spec.name, result)
    return result


async def _give_back_try(redis: ArqRedis, job_id: str) -> None:
    key = retry_key_prefix + job_id
    if int(await redis.get(key) or 0) > 0:
        await redis.decr(key)
