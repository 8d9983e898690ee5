"""What a job looks like from outside: status, progress, result, in words.

The bot's /status and the worker's progress message read the same view, so both say the same.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.jobs import Job, JobResult, JobStatus
from arq.worker import JobExecutionFailed

from core import storage
from core.catalog import CATALOG
from core.i18n import N_, _, ngettext
from core.models import ENDED_STATUSES, OPEN_STATUSES, JobAudit
from core.redis_client import worker_key as worker_key  # a health check imports only that module
from core.vk.errors import VkError

PROGRESS_TTL = 24 * 3600
MESSAGE_LIMIT = 4096


def progress_key(job_id: str) -> str:
    return f"vkc:progress:{job_id}"


async def set_progress(redis: ArqRedis, job_id: str, progress: dict[str, Any]) -> None:
    fields = {k: str(v) for k, v in progress.items()}
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(progress_key(job_id), mapping=fields)
        pipe.expire(progress_key(job_id), PROGRESS_TTL)
        await pipe.execute()


async def get_progress(redis: ArqRedis, job_id: str) -> dict[str, str]:
    raw = await redis.hgetall(progress_key(job_id))  # type: ignore[misc]
    return {k.decode(): v.decode() for k, v in raw.items()}


@dataclass
class JobView:
    job_id: str
    status: str  # queued, deferred, in_progress, complete, failed, aborted, not_found
    job_name: str | None = None
    progress: dict[str, str] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    audit: JobAudit | None = None
    # When an ended job started and finished: from arq's result, else from the audit row.
    ran: tuple[datetime, datetime] | None = None


def completed(job_id: str, job_name: str | None, result: Any) -> JobView:
    """A job that returned `result`, as `job_view` shows it from arq's stored result."""
    shown = result if isinstance(result, dict) else {"value": result}
    return JobView(job_id, "complete", job_name=job_name, result=shown)


async def job_view(
    redis: ArqRedis,
    sessions: storage.Sessions,
    job_id: str,
    queue: str,
    *,
    read_audit: bool = True,
) -> JobView:
    """Combine arq's view of a job with our audit row (which outlives arq's result TTL).

    `read_audit=False`: arq's view alone, for a caller that knows the rest (the worker closing
    the job it has just run): the stored result first, one Redis round trip when there is one,
    and no wait for the database on the job's path.
    """
    job = Job(job_id, redis, _queue_name=queue)
    if read_audit:
        status, audit = await asyncio.gather(job.status(), storage.get_job(sessions, job_id))
        return await _combined(redis, job, status, audit)
    info = await job.result_info()
    status = JobStatus.complete if info is not None else await job.status()
    return await _combined(redis, job, status, None, info)


async def listed(redis: ArqRedis, queue: str, rows: Sequence[JobAudit]) -> list[JobView]:
    """Audit rows (/jobs, the dashboard) as /status shows their jobs now.

    A worker writes a job's end to the audit trail in its next batch, after arq stored the
    result: a row still open asks arq, so a list never says "running" of a job that /status
    calls complete. Open states keep the list's own words (running, waiting to retry).
    """

    async def view_of(row: JobAudit) -> JobView:
        if row.status not in OPEN_STATUSES:
            return ended_view(row)
        job = Job(row.job_id, redis, _queue_name=queue)
        view = await _combined(redis, job, await job.status(), row)
        if view.status == "in_progress":
            view.status = "running"
        elif view.status not in (*ENDED_STATUSES, "lost"):
            view.status = row.status
        return view

    return list(await asyncio.gather(*(view_of(row) for row in rows)))


def ended_view(audit: JobAudit) -> JobView:
    """An ended job as its audit row tells it (arq's result may have expired)."""
    error = None if audit.status == "complete" else audit.summary
    view = JobView(audit.job_id, audit.status, audit.job_name, None, audit.result, error, audit)
    if audit.started_at is not None and audit.finished_at is not None:
        view.ran = (audit.started_at, audit.finished_at)
    return view


async def _combined(
    redis: ArqRedis,
    job: Job,
    status: JobStatus,
    audit: JobAudit | None,
    info: JobResult | None = None,
) -> JobView:
    view = JobView(job.job_id, status.value, job_name=audit.job_name if audit else None)
    view.audit = audit
    if status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress):
        if status is JobStatus.in_progress:
            view.progress = await get_progress(redis, job.job_id)
        return view
    if status is JobStatus.complete:
        info = info or await job.result_info()
        if info is not None:
            view.job_name, view.ran = info.function, (info.start_time, info.finish_time)
            if info.success:
                done = completed(job.job_id, info.function, info.result)
                view.status, view.result = done.status, done.result
            else:
                view.status, view.error = failure_of(info.result)
            return view
    if audit is not None and audit.status in ENDED_STATUSES:
        return ended_view(audit)
    if audit is not None and status is JobStatus.not_found:
        view.status = "lost" if audit.status in OPEN_STATUSES else audit.status
    return view


class JobFailed(Exception):
    """A job failure whose message is written for the chat (in the job's language)."""


STATUS_WORDS = {
    "queued": N_("queued"),
    "deferred": N_("deferred"),
    "in_progress": N_("in progress"),
    "running": N_("running"),
    "retrying": N_("waiting to retry"),
    "complete": N_("complete"),
    "failed": N_("failed"),
    "aborted": N_("aborted"),
    "not_found": N_("not found"),
    "lost": N_("lost"),
}


def status_word(status: str) -> str:
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status.replace("_", " ")


def title_of(job_name: str | None) -> str:
    """What people call the job (its catalog title), never the function's name."""
    spec = CATALOG.get(job_name or "")
    return _(spec.title) if spec else _("Job")


def failure_of(exc: Any) -> tuple[str, str]:
    """Map a stored arq failure to (status, reason); internals stay in the worker log."""
    if isinstance(exc, asyncio.CancelledError):
        return "aborted", _("aborted")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "failed", _("took longer than the job's time limit")
    if isinstance(exc, (JobFailed, VkError)):
        return "failed", str(exc)
    if isinstance(exc, JobExecutionFailed):
        return "failed", str(exc)
    return "failed", _(
        "internal error ({kind}); the worker log has the details", kind=type(exc).__name__
    )


def describe_result(job_name: str | None, result: dict[str, Any] | None) -> str:
    if result is None:
        return _("no result")
    spec = CATALOG.get(job_name or "")
    return spec.describe(result) if spec else str(result)


def progress_count(unit: str, done: int, total: int) -> str:
    """ "14 of 25 posts": what the numbers count, in the right plural form."""
    if unit == "posts":
        return ngettext("{done} of {n} post", "{done} of {n} posts", total, done=done)
    return ngettext("{done} of {n} part", "{done} of {n} parts", total, done=done)


def format_progress(progress: dict[str, str] | None) -> str:
    if not progress:
        return status_word("in_progress")
    done, total = int(progress.get("done", 0)), int(progress.get("total", 0))
    text = status_word("in_progress")
    if total:
        count = progress_count(progress.get("unit", ""), done, total)
        text += f": {count} ({100 * done // total}%)"
    if "comments" in progress:
        comments = int(progress["comments"])
        text += ", " + ngettext("{n} comment so far", "{n} comments so far", comments)
    started = float(progress.get("started", 0) or 0)
    if started and total and 0 < done < total:
        eta = (time.time() - started) / done * (total - done)
        text += ", " + _("about {seconds} s left", seconds=int(eta) + 1)
    return text


def card_state(view: JobView) -> str:
    """A job's state as its progress message shows it."""
    if view.status == "in_progress":
        return format_progress(view.progress)
    return status_word(view.status)


def format_view(view: JobView) -> str:
    """The /status answer for a job."""
    head = _("{title} {job_id}", title=title_of(view.job_name), job_id=view.job_id)
    if view.status == "not_found":
        return _("Job {job_id} not found.", job_id=view.job_id)
    if view.status == "in_progress":
        return f"{head}: {format_progress(view.progress)}"
    if view.status == "complete":
        result = describe_result(view.job_name, view.result)
        return _("{head}: complete. {result}", head=head, result=result)
    if view.status == "failed":
        return _("{head}: failed: {reason}", head=head, reason=view.error)
    if view.status == "lost":
        return _("{head}: no longer in the queue (its result expired or it was lost)", head=head)
    return f"{head}: {status_word(view.status)}"


def final_text(view: JobView) -> str:
    """The message that closes a job in the chat (cut to fit one Telegram message)."""
    title = title_of(view.job_name)
    if view.status == "complete":
        result = describe_result(view.job_name, view.result)
        text = _(
            "✅ {title} finished ({job_id}): {result}",
            title=title,
            job_id=view.job_id,
            result=result,
        )
    elif view.status == "aborted":
        text = _("⛔ {title} aborted ({job_id}).", title=title, job_id=view.job_id)
    else:
        text = _(
            "❌ {title} failed ({job_id}): {reason}",
            title=title,
            job_id=view.job_id,
            reason=view.error,
        )
    return fit_message(text, f"/result {view.job_id}")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_prefix(text: str, units: int) -> str:
    """The longest start of `text` that is at most `units` UTF-16 code units long."""
    if utf16_length(text) <= units:
        return text
    encoded = text.encode("utf-16-le")[: units * 2]
    # A cut through a surrogate pair leaves half a character: drop it.
    return encoded.decode("utf-16-le", errors="ignore")


def split_message(text: str) -> list[str]:
    """Pieces of at most MESSAGE_LIMIT UTF-16 units, cut at line ends where there are any."""
    pieces: list[str] = []
    while utf16_length(text) > MESSAGE_LIMIT:
        head = _utf16_prefix(text, MESSAGE_LIMIT)
        cut = head.rfind("\n")
        cut = cut if cut > 0 else len(head)
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


def fit_message(text: str, more: str) -> str:
    """Telegram takes 4096 UTF-16 units at most: cut at a line end and say where the rest is."""
    if utf16_length(text) <= MESSAGE_LIMIT:
        return text
    tail = "\n" + _("… (cut; the whole answer: {more})", more=more)
    cut = _utf16_prefix(text, MESSAGE_LIMIT - utf16_length(tail))
    return cut[: cut.rfind("\n")] + tail if "\n" in cut else cut + tail
