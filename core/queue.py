"""Putting catalog jobs on the arq queue and asking about it, for bot, scheduler and API."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.constants import (
    abort_jobs_ss,
    health_check_key_suffix,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.jobs import Job, JobStatus, deserialize_job_raw, serialize_result
from pydantic import ValidationError
from redis.exceptions import WatchError
from sqlalchemy import text

from core import storage
from core.audit import audit_trail
from core.catalog import ARG_NAMES, CATALOG, JobArgs, JobSpec
from core.i18n import N_, _, current_language, ngettext, use_locale
from core.jobstate import JobView, describe_result, final_text, job_view, worker_key
from core.models import ENDED_STATUSES
from core.settings import Settings
from core.vk.tokens import TokenPool

log = logging.getLogger(__name__)

ACTIVE = (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)
KEEP_RESULT_S = 7 * 24 * 3600


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
    if kind == "too_long" and ctx.get("field_type") == "List":
        most = int(ctx.get("max_length", 0))
        return ngettext("{field}: {n} item at most", "{field}: {n} items at most", most, field=name)
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


# The job argument that carries its `Origin`; the worker takes it out before the job's own.
ORIGIN = "_origin"


@dataclass(frozen=True)
class Origin:
    """Where a job closes and in which language, and who asked: carried in the job itself (as a
    dict under ORIGIN), so the worker learns it without reading the job's audit row, and can
    write that row itself if its enqueue's insert is not written yet (`audited`: the job has
    an audit row; a closing message has none)."""

    chat_id: int | None
    language: str | None
    user_id: int | None = None
    audited: bool = False

    def carried(self) -> dict[str, Any]:
        return {ORIGIN: {"chat_id": self.chat_id, "language": self.language} | self._audit()}

    def _audit(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "audited": True} if self.audited else {}

    @classmethod
    def of(cls, carried: Any) -> Origin | None:
        if not isinstance(carried, dict):
            return None
        return cls(
            chat_id=carried.get("chat_id"),
            language=carried.get("language"),
            user_id=carried.get("user_id"),
            audited=bool(carried.get("audited")),
        )


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
        self,
        spec: JobSpec,
        args: JobArgs,
        *,
        user_id: int | None,
        chat_id: int | None,
        language: str | None,
        job_id: str | None = None,
    ) -> Submitted:
        """Enqueue a job; a job with the same dedupe key still running is returned instead.

        A given `job_id` (the scheduler's slot ids) is enqueued at most once, whoever asks:
        the second asker gets it back as existing. The job is recorded with `language`, in
        which the worker will write its texts: the language of the person who asked for it.
        A job nobody asked for (a recount after a parse, a scheduled run) passes None and speaks
        DEFAULT_LANGUAGE, whatever language the code that queued it ran in. `language` has no
        default so that no caller forgets the person (a forgotten one spoke DEFAULT_LANGUAGE).
        """
        language = language or self.settings.default_language
        if spec.dedupe is None:
            return await self._enqueue(spec, args, user_id, chat_id, job_id, language)
        key = f"vkc:dedupe:{spec.dedupe(args)}"
        async with self.redis.lock(f"{key}:lock", timeout=30, blocking_timeout=30):
            current = await self.redis.get(key)
            if current:
                running = current.decode()
                if await Job(running, self.redis, _queue_name=self.queue_name).status() in ACTIVE:
                    return Submitted(running, existing=True)
            submitted = await self._enqueue(spec, args, user_id, chat_id, job_id, language)
            if not submitted.existing:
                await self.redis.set(key, submitted.job_id, ex=7 * 24 * 3600)
            return submitted

    async def _enqueue(
        self,
        spec: JobSpec,
        args: JobArgs,
        user_id: int | None,
        chat_id: int | None,
        job_id: str | None,
        language: str,
    ) -> Submitted:
        claim = None
        if job_id is None:
            job_id = uuid.uuid4().hex
        else:
            # A given id is claimed only once its job is really enqueued: an asker that failed
            # or died on the way (Redis out, the process killed) leaves no claim behind, so the
            # next asker enqueues the slot instead of being told it exists.
            claim = f"vkc:claimed:{job_id}"
            if await self.redis.exists(claim):
                return Submitted(job_id, existing=True)
        payload = args.model_dump(mode="json")
        origin = Origin(chat_id=chat_id, language=language, user_id=user_id, audited=True)
        row = storage.job_row(
            job_id=job_id,
            job_name=spec.name,
            user_id=user_id,
            chat_id=chat_id,
            args=payload,
            language=language,
            enqueued_at=storage.utcnow(),  # before arq's enqueue time, so before the start
        )
        # Two askers of one id at the same moment both get here; arq enqueues an id atomically
        # while its job or result exists, so exactly one of them enqueues it (and records it).
        job = await self.redis.enqueue_job(spec.name, _job_id=job_id, **payload, **origin.carried())
        if job is None:
            if claim is None:  # a uuid collided: worth seeing
                raise RuntimeError(f"job id {job_id} already exists")
            return Submitted(job_id, existing=True)
        if claim is not None:
            # As long as arq keeps the job's result (arq alone refuses the id only that long).
            await self.redis.set(claim, 1, ex=KEEP_RESULT_S)
        # After the enqueue, so a job Redis refused leaves no row; not waited for, since nothing
        # needs it first: its worker writes the row itself if it comes first (the job carries
        # it), and this process's reads of job rows wait for the trail.
        audit_trail(self.sessions).insert(row)
        return Submitted(job_id, existing=False)

    async def write_audit(self, bound: float = 10.0) -> None:
        """Write what this process's audit trail still holds: at shutdown, so that a job just
        queued keeps its row. A database away for `bound` s is given up on: the worker writes
        the row of every job it starts anyway."""
        await audit_trail(self.sessions).flush_within(bound)

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
            **Origin(chat_id=None, language=current_language()).carried(),
        )

    async def close(
        self, job_id: str, origin: Origin | None = None, ended: JobView | None = None
    ) -> bool:
        """Close an ended job: hand its closing message over, then record how it ended.

        False while the job has not ended. In this order a crash anywhere leaves the audit row
        open, so the sweeper calls this again; the message's fixed job id keeps it single.
        `origin`: the job's, when the caller has it (the worker); else read from the audit row.
        `ended`: how the job ended, when the caller knows (the worker, of a job that returned:
        arq stored its result before the end hook); else read from arq.
        """
        read_audit = origin is None
        if origin is None:
            audit = await storage.get_job(self.sessions, job_id)
            origin = Origin(audit.chat_id, audit.language) if audit else Origin(None, None)
        # Whoever closes it (worker, sweeper, the bot for an aborted queued job), the job closes
        # in the language of the person who asked for it: the reason of a failure the view reads
        # from arq ("aborted", a time limit) too, so the view is read in that language.
        with use_locale(origin.language or self.settings.default_language):
            view = ended or await job_view(
                self.redis, self.sessions, job_id, self.queue_name, read_audit=read_audit
            )
            if view.status == "lost":  # arq holds nothing of it any more (Redis lost its data)
                view.status, view.error = "failed", _("lost from the queue")
            if view.status not in ENDED_STATUSES:
                return False
            chat_id = self._recipient(view, origin)
            if chat_id is not None:
                await self.notify_end(view, chat_id)
            complete = view.status == "complete"
            summary = describe_result(view.job_name, view.result) if complete else view.error
        # With the audit trail's next batch, off the job's path: if this process dies first,
        # the row stays open and the sweeper closes the job again (the message stays single).
        audit_trail(self.sessions).update(
            job_id,
            status=view.status,
            finished_at=storage.utcnow(),
            summary=summary,
            result=view.result,
        )
        return True

    def _recipient(self, view: JobView, origin: Origin) -> int | None:
        """A person's job closes in its chat; an internal one speaks of a failure, to admins."""
        if origin.chat_id:
            return origin.chat_id
        spec = CATALOG.get(view.job_name or "")
        if view.status == "failed" and spec is not None and spec.notify:
            return self.settings.notify_chat_id
        return None

    async def status(self, job_id: str) -> JobStatus:
        return await Job(job_id, self.redis, _queue_name=self.queue_name).status()

    async def abort(self, job_id: str) -> None:
        """Stop a job: one still waiting ends at once as aborted (and is closed); a running one
        is cancelled by its worker through arq's abort set."""
        if await self.finish_unstarted(job_id, asyncio.CancelledError(), lost_worker=False):
            await self.close(job_id)
            return
        await self.redis.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)})

    async def finish_unstarted(
        self, job_id: str, error: BaseException, *, lost_worker: bool
    ) -> bool:
        """End a job no live worker is running, as arq ends a failed one: result stored, keys gone.

        `lost_worker=False`: only a job waiting in the queue (a worker taking it first wins);
        `lost_worker=True`: a job whose in-progress key a dead worker left behind.
        """
        in_progress, job_key = in_progress_key_prefix + job_id, job_key_prefix + job_id
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(in_progress, job_key)
            if bool(await pipe.exists(in_progress)) != lost_worker:
                return False
            raw = await pipe.get(job_key)
            if raw is None or await pipe.zscore(self.queue_name, job_id) is None:
                return False
            function, args, kwargs, job_try, enqueued_ms = deserialize_job_raw(raw)
            now_ms = int(time.time() * 1000)
            result = serialize_result(
                function, args, kwargs, job_try or 1, enqueued_ms, False, error, now_ms, now_ms,
                f"{job_id}:{function}", self.queue_name, job_id=job_id,
            )  # fmt: skip
            if result is None:  # arq could not pickle the error; never expected for ours
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(retry_key_prefix + job_id, in_progress, job_key)
            pipe.zrem(self.queue_name, job_id)
            pipe.zrem(abort_jobs_ss, job_id)
            pipe.set(result_key_prefix + job_id, result, px=KEEP_RESULT_S * 1000)
            try:
                await pipe.execute()
            except WatchError:
                return False
        return True

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
            if self.settings.vk_pool:
                pool = TokenPool(self.redis, self.settings.vk_pool, self.settings.vk_rps)
                report["vk_tokens"] = await pool.states()
        except Exception as exc:  # a health check reports, it does not raise
            report["redis_error"] = type(exc).__name__
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
            report["database"] = True
        except Exception as exc:
            report["database_error"] = type(exc).__name__
        return report
