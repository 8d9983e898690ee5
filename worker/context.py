"""What every job sees in `ctx`, and the hooks that keep the audit trail and close jobs in chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

from aiogram import Bot
from arq.connections import ArqRedis
from arq.jobs import Job

from core import jobstate, storage
from core.catalog import CATALOG
from core.db import make_engine, make_sessionmaker, migrate
from core.i18n import set_language
from core.queue import JobQueue
from core.settings import Settings, load_settings
from core.telegram import make_bot
from worker.progress import finish_progress_message

log = logging.getLogger(__name__)

Ctx = dict[str, Any]


async def startup(ctx: Ctx) -> None:
    """Open the database, the Bot API client and announce this worker (ctx may be pre-filled)."""
    settings: Settings = ctx.setdefault("settings", load_settings())
    engine = make_engine(settings.db_url)
    await migrate(settings.db_url)
    ctx["engine"] = engine
    ctx["sessions"] = make_sessionmaker(engine)
    if "bot" not in ctx:
        ctx["bot"] = make_bot(settings) if settings.bot_token else None
        ctx["own_bot"] = True
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    ctx["heartbeat"] = asyncio.create_task(_heartbeat(ctx["redis"], worker_id))
    log.info("worker %s ready", worker_id)


async def shutdown(ctx: Ctx) -> None:
    task: asyncio.Task[None] | None = ctx.get("heartbeat")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    bot: Bot | None = ctx.get("bot")
    if bot is not None and ctx.get("own_bot"):
        await bot.session.close()
    if "engine" in ctx:
        await ctx["engine"].dispose()


async def _heartbeat(redis: ArqRedis, worker_id: str) -> None:
    """A key per live worker (arq's health key is one per queue, so it cannot count workers)."""
    key = jobstate.worker_key(worker_id)
    try:
        while True:
            await redis.set(key, "alive", ex=jobstate.WORKER_TTL)
            await asyncio.sleep(jobstate.WORKER_TTL / 3)
    finally:
        with contextlib.suppress(Exception):
            await redis.delete(key)


async def on_job_start(ctx: Ctx) -> None:
    # The job's task and this end hook share this context: both speak the requester's language.
    audit = await storage.get_job(ctx["sessions"], ctx["job_id"])
    set_language(audit.language if audit and audit.language else ctx["settings"].default_language)
    await storage.update_job(
        ctx["sessions"],
        ctx["job_id"],
        status="running",
        tries=ctx["job_try"],
        started_at=storage.utcnow(),
    )


async def after_job_end(ctx: Ctx) -> None:
    """Record how a job ended and, once it has really ended, notify its chat once.

    arq has stored the result by now; no result means the job will be retried.
    """
    redis: ArqRedis = ctx["redis"]
    settings: Settings = ctx["settings"]
    job_id: str = ctx["job_id"]
    info = await Job(job_id, redis, _queue_name=settings.arq_queue_name).result_info()
    if info is None:
        await storage.update_job(ctx["sessions"], job_id, status="retrying")
        return
    spec = CATALOG.get(info.function)
    if spec is None or not spec.notify:
        return
    await close_job(ctx, job_id)


async def close_job(ctx: Ctx, job_id: str) -> None:
    """Write the final status and hand the closing message to `send_notification`."""
    settings: Settings = ctx["settings"]
    sessions: storage.Sessions = ctx["sessions"]
    view = await jobstate.job_view(ctx["redis"], sessions, job_id, settings.arq_queue_name)
    summary = (
        jobstate.describe_result(view.job_name, view.result)
        if view.status == "complete"
        else view.error
    )
    await storage.update_job(
        sessions,
        job_id,
        status=view.status,
        finished_at=storage.utcnow(),
        summary=summary,
        result=view.result,
    )
    audit = await storage.get_job(sessions, job_id)
    chat_id = audit.chat_id if audit and audit.chat_id else settings.notify_chat_id
    if chat_id is None:
        return
    await finish_progress_message(ctx, audit, view)
    await JobQueue(ctx["redis"], sessions, settings).notify_end(view, chat_id)
