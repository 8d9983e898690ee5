"""Putting catalog jobs on the arq queue and asking about it, for bot, scheduler and API."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import abort_jobs_ss, health_check_key_suffix, in_progress_key_prefix
from arq.jobs import Job, JobStatus
from pydantic import ValidationError
from sqlalchemy import text

from core import storage
from core.catalog import ARG_NAMES, JobArgs, JobSpec
from core.i18n import N_, _, current_language, ngettext
from core.jobstate import JobView, final_text, worker_key
from core.settings import Settings

ACTIVE = (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379/0")


async def connect(settings: Settings) -> ArqRedis:
    return await create_pool(redis_settings(settings), default_queue_name=settings.arq_queue_name)


def validation_context(settings: Settings) -> dict[str, Any]:
    return {"default_limit": settings.parse_default_limit, "max_limit": settings.parse_max_limit}


def validate_args(spec: JobSpec, data: dict[str, Any], settings: Settings) -> JobArgs:
    """Raises pydantic's ValidationError; callers turn it into a short message."""
    return spec.args.model_validate(data, context=validation_context(settings))


def explain(error: ValidationError) -> str:
    """One short line in the reader's language: which argument is wrong and why.

    Our own validators raise ValueError with a finished, translated text; pydantic's own
    wording never reaches a person. Values are not echoed (they could be secrets).
    """
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    name = _(ARG_NAMES[field]) if field in ARG_NAMES else field or _("arguments")
    kind, ctx = first["type"], first.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error") or first["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return _("missing <{field}>", field=name)
    if kind == "extra_forbidden":
        return _("unexpected argument {field}", field=name)
    if kind == "int_parsing_size":
        return _("{field} is too large a number", field=name)
    if kind.startswith("int_"):
        return _("{field} must be a whole number", field=name)
    if kind in _BOUNDS:
        return _(_BOUNDS[kind], field=name, limit=next(iter(ctx.values()), ""))
    if kind in ("string_too_short", "too_short"):
        return _("{field} must not be empty", field=name)
    if kind in ("string_too_long", "too_long"):
        most = int(ctx.get("max_length", 0))
        return ngettext(
            "{field} is too long: {n} character at most",
            "{field} is too long: {n} characters at most",
            most,
            field=name,
        )
    return _("{field} is not valid", field=name)


_BOUNDS = {
    "greater_than_equal": N_("{field} must be at least {limit}"),
    "greater_than": N_("{field} must be greater than {limit}"),
    "less_than_equal": N_("{field} must be at most {limit}"),
    "less_than": N_("{field} must be less than {limit}"),
}


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
        """Enqueue a job; a job with the same dedupe key still running is returned instead.

        The job is recorded with the current language, in which the worker will write its texts.
        """
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
            language=current_language(),
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
        async for _key in self.redis.scan_iter(match=in_progress_key_prefix + "*", count=500):
            running += 1
        workers = 0
        async for _key in self.redis.scan_iter(match=worker_key("*"), count=500):
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
