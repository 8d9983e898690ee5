"""What the dashboard shows: queue counts, live workers, running jobs, the last jobs."""

from __future__ import annotations

from typing import Any

from arq.constants import in_progress_key_prefix
from sqlalchemy import select

from api.schemas import utc
from core import jobstate, storage
from core.i18n import N_, _, seconds_text
from core.models import OPEN_STATUSES, JobAudit
from core.queue import JobQueue

RECENT = 20
# Page texts, translated per request (through `_()` in `labels`).
LABELS = {
    "title": N_("Job queue"),
    "queue": N_("Queue"),
    "queued": N_("Queued"),
    "running": N_("Running"),
    "deferred": N_("Deferred"),
    "workers": N_("Live workers"),
    "none": N_("none"),
    "running_jobs": N_("Running jobs"),
    "recent_jobs": N_("Last jobs"),
    "job": N_("Job"),
    "what": N_("What"),
    "status": N_("Status"),
    "progress": N_("Progress"),
    "duration": N_("Duration"),
    "error": N_("Error"),
    "enqueued": N_("Enqueued"),
    "abort": N_("Abort"),
    "aborting": N_("Abort requested"),
    "updated": N_("Updated"),
    "offline": N_("The API cannot be reached; retrying."),
    "logout": N_("Log out"),
    "login": N_("Log in"),
    "token": N_("API token"),
    "bad_token": N_("Unknown token."),
}


def labels() -> dict[str, str]:
    return {key: _(text) for key, text in LABELS.items()}


async def live_workers(queue: JobQueue) -> list[str]:
    """Worker ids (host:pid) whose heartbeat key is alive."""
    prefix = jobstate.worker_key("")
    found = [key.decode() async for key in queue.redis.scan_iter(match=prefix + "*", count=500)]
    return sorted(key.removeprefix(prefix) for key in found)


async def running_jobs(queue: JobQueue) -> list[dict[str, Any]]:
    """Jobs a worker holds right now, with their progress."""
    rows = []
    async for key in queue.redis.scan_iter(match=in_progress_key_prefix + "*", count=500):
        job_id = key.decode().removeprefix(in_progress_key_prefix)
        audit = await storage.get_job(queue.sessions, job_id)
        progress = await jobstate.get_progress(queue.redis, job_id)
        done, total = int(progress.get("done", 0)), int(progress.get("total", 0))
        rows.append(
            {
                "job_id": job_id,
                "what": jobstate.title_of(audit.job_name if audit else None),
                "progress": jobstate.format_progress(progress),
                "percent": 100 * done // total if total else None,
            }
        )
    return sorted(rows, key=lambda row: str(row["job_id"]))


async def recent_jobs(queue: JobQueue) -> list[dict[str, Any]]:
    """The newest jobs people asked for (chat messages themselves left out)."""
    query = (
        select(JobAudit)
        .where(JobAudit.job_name != "send_notification")
        .order_by(JobAudit.enqueued_at.desc())
        .limit(RECENT)
    )
    async with queue.sessions() as session:
        audits = (await session.scalars(query)).all()
    views = await jobstate.listed(queue.redis, queue.queue_name, audits)
    return [recent_row(view) for view in views]


def recent_row(view: jobstate.JobView) -> dict[str, Any]:
    audit = view.audit
    assert audit is not None  # listed views keep their row
    # Both times come from one source (arq's result or the audit row), so they subtract.
    duration = (view.ran[1] - view.ran[0]).total_seconds() if view.ran else None
    enqueued = utc(audit.enqueued_at)
    return {
        "job_id": audit.job_id,
        "what": jobstate.title_of(audit.job_name),
        "status": view.status,
        "status_text": jobstate.status_word(view.status),
        "duration": _("{seconds} s", seconds=seconds_text(duration))
        if duration is not None
        else None,
        "error": view.error,
        "enqueued_at": enqueued.isoformat() if enqueued else None,
        "open": view.status in OPEN_STATUSES,
    }


async def snapshot(queue: JobQueue, is_admin: bool) -> dict[str, Any]:
    """Everything the page draws, in one answer."""
    info = await queue.queue_info()
    return {
        "queue_name": queue.queue_name,
        "counts": {k: info[k] for k in ("queued", "running", "deferred")},
        "workers": await live_workers(queue),
        "running": await running_jobs(queue),
        "recent": await recent_jobs(queue),
        "can_abort": is_admin,
    }
