"""What a job looks like from outside: status, progress, result, in words.

The bot's /status and the worker's progress message read the same view, so both say the same.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from arq.worker import JobExecutionFailed

from core import storage
from core.catalog import CATALOG
from core.models import JobAudit
from core.vk.errors import VkError

PROGRESS_TTL = 24 * 3600
MESSAGE_LIMIT = 4096


def progress_key(job_id: str) -> str:
    return f"vkc:progress:{job_id}"


def worker_key(worker_id: str) -> str:
    return f"vkc:worker:{worker_id}"


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


async def job_view(redis: ArqRedis, sessions: storage.Sessions, job_id: str, queue: str) -> JobView:
    """Combine arq's view of a job with our audit row (which outlives arq's result TTL)."""
    job = Job(job_id, redis, _queue_name=queue)
    status, audit = await asyncio.gather(job.status(), storage.get_job(sessions, job_id))
    view = JobView(job_id, status.value, job_name=audit.job_name if audit else None, audit=audit)
    if status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress):
        if status is JobStatus.in_progress:
            view.progress = await get_progress(redis, job_id)
        return view
    if status is JobStatus.complete:
        info = await job.result_info()
        if info is not None:
            view.job_name = info.function
            if info.success:
                view.status = "complete"
                view.result = (
                    info.result if isinstance(info.result, dict) else {"value": info.result}
                )
            else:
                view.status, view.error = failure_of(info.result)
            return view
    if audit is not None and audit.status in ("complete", "failed", "aborted"):
        view.status, view.result, view.error = audit.status, audit.result, None
        if audit.status != "complete":
            view.error = audit.summary
        return view
    if audit is not None and status is JobStatus.not_found:
        view.status = "lost" if audit.status in ("queued", "running", "retrying") else audit.status
    return view


class JobFailed(Exception):
    """A job failure whose message is written for the chat."""


def failure_of(exc: Any) -> tuple[str, str]:
    """Map a stored arq failure to (status, reason); internals stay in the worker log."""
    if isinstance(exc, asyncio.CancelledError):
        return "aborted", "aborted"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "failed", "took longer than the job timeout"
    if isinstance(exc, (JobFailed, VkError)):
        return "failed", str(exc)
    if isinstance(exc, JobExecutionFailed):
        return "failed", str(exc)
    return "failed", f"internal error ({type(exc).__name__}); the worker log has the details"


def describe_result(job_name: str | None, result: dict[str, Any] | None) -> str:
    if result is None:
        return "no result"
    spec = CATALOG.get(job_name or "")
    return spec.describe(result) if spec else str(result)


def format_progress(progress: dict[str, str] | None) -> str:
    if not progress:
        return "in progress"
    done, total = int(progress.get("done", 0)), int(progress.get("total", 0))
    text = f"in progress: {done}/{total}"
    if total:
        text += f" ({100 * done // total}%)"
    if "comments" in progress:
        text += f", {progress['comments']} comments so far"
    started = float(progress.get("started", 0) or 0)
    if started and total and 0 < done < total:
        eta = (time.time() - started) / done * (total - done)
        text += f", about {int(eta) + 1} s left"
    return text


def card_state(view: JobView) -> str:
    """A job's state as its progress message shows it."""
    if view.status == "in_progress":
        return format_progress(view.progress)
    return view.status.replace("_", " ")


def format_view(view: JobView) -> str:
    """The /status answer for a job."""
    name = view.job_name or "job"
    head = f"{name} {view.job_id}"
    if view.status == "not_found":
        return f"Job {view.job_id} not found."
    if view.status == "in_progress":
        return f"{head}: {format_progress(view.progress)}"
    if view.status == "complete":
        return f"{head}: complete. {describe_result(view.job_name, view.result)}"
    if view.status == "failed":
        return f"{head}: failed: {view.error}"
    if view.status == "lost":
        return f"{head}: no longer in the queue (its result expired or it was lost)"
    return f"{head}: {view.status}"


def final_text(view: JobView) -> str:
    """The message that closes a job in the chat (cut to fit one Telegram message)."""
    name = view.job_name or "job"
    if view.status == "complete":
        text = f"✅ {name} finished ({view.job_id}): {describe_result(view.job_name, view.result)}"
    elif view.status == "aborted":
        text = f"⛔ {name} aborted ({view.job_id})."
    else:
        text = f"❌ {name} failed ({view.job_id}): {view.error}"
    return fit_message(text, f"/result {view.job_id}")


def split_message(text: str) -> list[str]:
    """Pieces of at most MESSAGE_LIMIT characters, cut at line ends where there are any."""
    pieces: list[str] = []
    while len(text) > MESSAGE_LIMIT:
        cut = text.rfind("\n", 0, MESSAGE_LIMIT)
        cut = cut if cut > 0 else MESSAGE_LIMIT
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


def fit_message(text: str, more: str) -> str:
    """Telegram takes 4096 characters at most: cut at a line end and say where the rest is."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    tail = f"\n… (cut; the whole answer: {more})"
    cut = text[: MESSAGE_LIMIT - len(tail)]
    return cut[: cut.rfind("\n")] + tail if "\n" in cut else cut + tail
