"""Enqueue, inspect and abort catalog jobs for a caller: the rules the bot applies, over HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from api.errors import ApiError, invalid_arguments
from api.schemas import Accepted, JobLinks, JobResultOut, JobStatusOut, Progress, utc
from api.security import Principal
from core import jobstate, storage
from core.catalog import CATALOG, JobSpec
from core.i18n import _, current_language
from core.models import ENDED_STATUSES
from core.queue import ACTIVE, JobQueue, validate_args
from core.settings import Settings

PREFIX = "/api/v1/arq"
ENDED = (*ENDED_STATUSES, "lost")


def allowed_chats(settings: Settings) -> frozenset[int]:
    """Where an HTTP job may close: an admin's chat, the notification chat, an allowed chat."""
    extra = {settings.notify_chat_id} if settings.notify_chat_id is not None else set()
    return settings.admin_ids | settings.allowed_chat_ids | extra


async def enqueue(
    queue: JobQueue,
    caller: Principal,
    spec: JobSpec,
    data: dict[str, Any],
    notify_chat_id: int | None,
    *,
    field_prefix: str = "",
) -> tuple[int, Accepted]:
    """Check, validate as the bot does, submit with the bot's dedupe; (HTTP status, body)."""
    settings = queue.settings
    if spec.admin_only and not caller.is_admin:
        raise ApiError(403, _("Job {name} needs an admin token.", name=spec.name))
    if notify_chat_id is not None and notify_chat_id not in allowed_chats(settings):
        raise ApiError(
            422,
            _("notify_chat_id: not an admin chat or an allowed chat"),
            field="notify_chat_id",
        )
    try:
        args = validate_args(spec, data, settings)
    except ValidationError as error:
        raise invalid_arguments(error, field_prefix) from None
    # In the language the API answers this caller in (DEFAULT_LANGUAGE unless chosen).
    submitted = await queue.submit(
        spec, args, user_id=caller.client_id, chat_id=notify_chat_id, language=current_language()
    )
    job_id = submitted.job_id
    arguments = args.model_dump(mode="json")
    if submitted.existing:  # the running job's own arguments, not the ones just sent
        audit = await storage.get_job(queue.sessions, job_id)
        arguments = audit.args if audit is not None else arguments
    links = {
        "job_id": job_id,
        "function": spec.name,
        "title": _(spec.title),
        "already_running": submitted.existing,
        "status_url": f"{PREFIX}/status/{job_id}",
        "result_url": f"{PREFIX}/result/{job_id}",
        "arguments": arguments,
    }
    # The module's shape also lists the arguments beside the links, where no name clashes.
    shown = JobLinks.model_validate({**arguments, **links})
    if submitted.existing:
        return 200, Accepted(message=_("Already running: job {job_id}", job_id=job_id), data=shown)
    return 202, Accepted(message=_("Job {job_id} is queued.", job_id=job_id), data=shown)


async def find(queue: JobQueue, job_id: str) -> jobstate.JobView:
    """The job as the bot's /status sees it; 404 when neither arq nor the audit knows it."""
    view = await jobstate.job_view(queue.redis, queue.sessions, job_id, queue.queue_name)
    if view.status == "not_found":
        raise ApiError(404, _("Job {job_id} not found.", job_id=job_id))
    return view


def progress_of(view: jobstate.JobView) -> Progress | None:
    if not view.progress:
        return None
    done, total = int(view.progress.get("done", 0)), int(view.progress.get("total", 0))
    return Progress(done=done, total=total, percent=100 * done // total if total else None)


async def status(queue: JobQueue, job_id: str) -> JobStatusOut:
    view = await find(queue, job_id)
    audit = view.audit
    return JobStatusOut(
        job_id=job_id,
        function=view.job_name,
        title=_(CATALOG[view.job_name].title) if view.job_name in CATALOG else None,
        status=view.status,
        status_text=jobstate.format_view(view),
        progress=progress_of(view),
        result=view.result,
        error=view.error,
        enqueued_at=utc(audit.enqueued_at) if audit else None,
        started_at=utc(audit.started_at) if audit else None,
        finished_at=utc(view.ran[1]) if view.ran else None,  # arq's, before the audit's
    )


async def result(queue: JobQueue, job_id: str) -> JobResultOut:
    """An ended job's result; 409 while it has not ended."""
    view = await find(queue, job_id)
    if view.status not in ENDED:
        raise ApiError(409, _("Job {job_id} has not finished yet.", job_id=job_id))
    return JobResultOut(
        job_id=job_id,
        function=view.job_name,
        status=view.status,
        result=view.result,
        summary=jobstate.describe_result(view.job_name, view.result)
        if view.status == "complete"
        else jobstate.format_view(view),
        error=view.error,
    )


async def abort(queue: JobQueue, caller: Principal, job_id: str) -> str:
    """Abort if allowed (a user token: only its own jobs); the answer's message."""
    audit = await storage.get_job(queue.sessions, job_id)
    if audit is None:
        raise ApiError(404, _("Job {job_id} not found.", job_id=job_id))
    if not caller.is_admin and audit.user_id != caller.client_id:
        raise ApiError(403, _("A user token can abort only the jobs it enqueued."))
    if await queue.status(job_id) not in ACTIVE:
        raise ApiError(409, _("Job {job_id} is not running.", job_id=job_id))
    await queue.abort(job_id)
    return _("Abort requested for job {job_id}.", job_id=job_id)
