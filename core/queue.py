"""Putting catalog jobs on the arq queue and asking about it, for bot, scheduler and API."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.constants import abort_jobs_ss, health_check_key_suffix, in_progress_key_prefix
from arq.jobs import Job, JobStatus
from pydantic import ValidationError
from redis.asyncio import ConnectionPool
from sqlalchemy import text

from core import storage
from core.catalog import JobArgs, JobSpec
from core.jobstate import JobView, final_text, worker_key
from core.settings import Settings

ACTIVE = (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_settings(settings: Settings) -> RedisSettings:
    found = RedisSettings.from_dsn(settings.redis_url or DEFAULT_REDIS_URL)
    found.conn_timeout = settings.redis_timeout  # type: ignore[assignment]  # arq types it int
    return found


async def connect(settings: Settings) -> ArqRedis:
    """An arq Redis client whose every connect and command is bounded by REDIS_TIMEOUT.

    arq's `create_pool` passes no socket timeout to redis-py: a command to a Redis that stopped
    answering would wait forever, and a chat command would never get its "queue unavailable"
    answer. Connections are made lazily, and remade after an outage.
    """
    connections = ConnectionPool.from_url(
        settings.redis_url or DEFAULT_REDIS_URL,
        socket_connect_timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
    )
    redis = ArqRedis(connections, default_queue_name=settings.arq_queue_name)
    redis.auto_close_connection_pool = True  # aclose() closes the connections it made
    return redis


def validation_context(settings: Settings) -> dict[str, Any]:
    return {"default_limit": settings.parse_default_limit, "max_limit": settings.parse_max_limit}


def validate_args(spec: JobSpec, data: dict[str, Any], settings: Settings) -> JobArgs:
    """Raises pydantic's ValidationError; callers turn it into a short message."""
    return spec.args.model_validate(data, context=validation_context(settings))


def explain(error: ValidationError) -> str:
    """One short line saying which argument is wrong and why (never echoing secrets)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "arguments"
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        return f"missing <{where}>"
    if first["type"] == "extra_forbidden":
        return f"unexpected argument {where}"
    if first["type"] == "int_parsing":
        return f"{where} must be a whole number"
    return f"{where}: {message[0].lower()}{message[1:]}" if message else where


@dataclass(frozen=True)
class Submitted:
    job_id: str
    existing: bool


class JobQueue:
    """Enqueue, inspect and abort catalog jobs."""

    def __init__(self, redis: ArqRedis, sessions: storage.Sessions, settings: Settings) -> None:
        self.redis = redis
        self.sessions = sessions
        self.settings = settings
        self.queue_name = settings.arq_queue_name

    async def submit(
        self, spec: JobSpec, args: JobArgs, *, user_id: int | None, chat_id: int | None
    ) -> Submitted:
        """Enqueue a job; a job with the same dedupe key still running is returned instead."""
        if spec.dedupe is None:
            return Submitted(await self._enqueue(spec, args, user_id, chat_id), existing=False)
        key = f"vkc:dedupe:{spec.dedupe(args)}"
        async with self.redis.lock(f"{key}:lock", timeout=30, blocking_timeout=30):
            current = await self.redis.get(key)
            if current:
                job_id = current.decode()
                if await Job(job_id, self.redis, _queue_name=self.queue_name).status() in ACTIVE:
                    return Submitted(job_id, existing=True)
            job_id = await self._enqueue(spec, args, user_id, chat_id)
            await self.redis.set(key, job_id, ex=7 * 24 * 3600)
            return Submitted(job_id, existing=False)

    async def _enqueue(
        self, spec: JobSpec, args: JobArgs, user_id: int | None, chat_id: int | None
    ) -> str:
        job_id = uuid.uuid4().hex
        payload = args.model_dump(mode="json")
        await storage.record_enqueued(
            self.sessions,
            job_id=job_id,
            job_name=spec.name,
            user_id=user_id,
            chat_id=chat_id,
            args=payload,
        )
        job = await self.redis.enqueue_job(spec.name, _job_id=job_id, **payload)
        if job is None:  # only if the uuid collided, which would be a bug worth seeing
            raise RuntimeError(f"job id {job_id} already exists")
        return job_id

    async def notify_end(self, view: JobView, chat_id: int) -> None:
        """Hand a job's closing message to `send_notification`, at most once per job.

        A fixed job id makes a second enqueue (a rerun, or bot and worker both closing) a no-op.
        """
        await self.redis.enqueue_job(
            "send_notification",
            _job_id=f"notify:{view.job_id}",
            chat_id=chat_id,
            text=final_text(view),
            job_id=view.job_id,
        )

    async def status(self, job_id: str) -> JobStatus:
        return await Job(job_id, self.redis, _queue_name=self.queue_name).status()

    async def abort(self, job_id: str) -> None:
        """Ask the worker to cancel the job (arq's abort set); it ends as "aborted"."""
        await self.redis.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)})

    async def queue_info(self) -> dict[str, int]:
        now_ms = int(time.time() * 1000)
        queued = await self.redis.zcount(self.queue_name, "-inf", now_ms)
        deferred = await self.redis.zcount(self.queue_name, now_ms + 1, "+inf")
        running = 0
        async for _ in self.redis.scan_iter(match=in_progress_key_prefix + "*", count=500):
            running += 1
        workers = 0
        async for _ in self.redis.scan_iter(match=worker_key("*"), count=500):
            workers += 1
        return {
            "queued": max(0, queued - running),
            "running": running,
            "deferred": deferred,
            "workers": workers,
        }

    async def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"redis": False, "database": False, "workers": 0, "queue": 0}
        try:
            await self.redis.ping()
            report["redis"] = True
            info = await self.queue_info()
            report["workers"] = info["workers"]
            report["queue"] = info["queued"] + info["deferred"]
            check = await self.redis.get(self.queue_name + health_check_key_suffix)
            report["arq_health"] = check.decode() if check else None
        except Exception as exc:  # a health check reports, it does not raise
            report["redis_error"] = type(exc).__name__
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
            report["database"] = True
        except Exception as exc:
            report["database_error"] = type(exc).__name__
        return report
