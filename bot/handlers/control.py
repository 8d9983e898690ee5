"""Asking about a job and stopping it: /status, /result, /abort and the progress buttons.

A job is shown only in the chat it belongs to (admins may see every job): a job id seen
elsewhere must not reveal another chat's results.
"""

from __future__ import annotations

import contextlib
import re

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from core import jobstate, storage
from core.access import owns
from core.i18n import _
from core.queue import ACTIVE, JobQueue
from core.ui import JobAction, job_card, job_keyboard

JOB_ID = re.compile(r"^[A-Za-z0-9:_-]{1,64}$")


def job_id_of(command: CommandObject) -> str | None:
    words = (command.args or "").split()
    return words[0] if len(words) == 1 and JOB_ID.match(words[0]) else None


async def view_for(queue: JobQueue, job_id: str, chat_id: int, is_admin: bool) -> jobstate.JobView:
    """The job as this chat may see it: another chat's job reads as not found."""
    audit = await storage.get_job(queue.sessions, job_id)
    if audit is None or not (is_admin or audit.chat_id == chat_id):
        return jobstate.JobView(job_id, "not_found")
    return await jobstate.job_view(queue.redis, queue.sessions, job_id, queue.queue_name)


async def abort_job(
    queue: JobQueue, job_id: str, user_id: int, chat_id: int, is_admin: bool
) -> tuple[bool, str]:
    """Abort if allowed; returns (requested, the answer for the chat)."""
    audit = await storage.get_job(queue.sessions, job_id)
    if audit is None or not (is_admin or audit.chat_id == chat_id):
        return False, _("Job {job_id} not found.", job_id=job_id)
    if not is_admin and not owns(audit.user_id, audit.chat_id, user_id, chat_id):
        return False, _("⛔ Only the person who started the job or an admin can stop it.")
    status = await queue.status(job_id)
    if status not in ACTIVE:
        (view,) = await jobstate.listed(queue.redis, queue.queue_name, [audit])
        state = jobstate.status_word(view.status)
        return False, _("Job {job_id} is not running (it is {state}).", job_id=job_id, state=state)
    await queue.abort(job_id)
    return True, _("Abort requested for job {job_id}.", job_id=job_id)


async def is_card_of(queue: JobQueue, query: CallbackQuery, job_id: str) -> bool:
    """Whether the pressed message is this job's progress card. Clients send whatever button
    data they like, so a forged Refresh or Abort could name any job, on any message."""
    message = query.message
    if message is None:
        return False
    audit = await storage.get_job(queue.sessions, job_id)
    return (
        audit is not None
        and audit.chat_id == message.chat.id
        and audit.progress_message_id == message.message_id
    )


async def refuse_button(query: CallbackQuery) -> None:
    await query.answer(_("⚠️ This button is not valid."), show_alert=True)


def create_router() -> Router:
    router = Router(name="control")

    async def need_job_id(message: Message, command: CommandObject) -> str | None:
        job_id = job_id_of(command)
        if job_id is None:
            what = _("expected one job id") if command.args else _("missing <job_id>")
            await message.answer(
                _("⚠️ {reason}\nUsage: /{command} <job_id>", reason=what, command=command.command)
            )
        return job_id

    @router.message(Command("status"))
    async def status(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """Where a job stands: queued, in progress with %, complete, failed, aborted."""
        job_id = await need_job_id(message, command)
        if job_id:
            view = await view_for(queue, job_id, message.chat.id, is_admin)
            await message.answer(jobstate.format_view(view))

    @router.message(Command("result"))
    async def result(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """The stored result of a finished job, in words, in as many messages as it needs."""
        job_id = await need_job_id(message, command)
        if not job_id:
            return
        view = await view_for(queue, job_id, message.chat.id, is_admin)
        if view.status != "complete":
            await message.answer(jobstate.format_view(view))
            return
        text = _(
            "Result of {title} {job_id}: {result}",
            title=jobstate.title_of(view.job_name),
            job_id=job_id,
            result=jobstate.describe_result(view.job_name, view.result),
        )
        for piece in jobstate.split_message(text):
            await message.answer(piece)

    @router.message(Command("abort"))
    async def abort(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """Stop a queued or running job (the person who started it, or an admin)."""
        job_id = await need_job_id(message, command)
        if job_id and message.from_user:
            user = message.from_user.id
            _requested, text = await abort_job(queue, job_id, user, message.chat.id, is_admin)
            await message.answer(text)

    @router.callback_query(JobAction.filter(F.action == "refresh"))
    async def refresh(
        query: CallbackQuery, callback_data: JobAction, queue: JobQueue, is_admin: bool
    ) -> None:
        """Redraw a progress message with the job's current state."""
        if not isinstance(query.message, Message) or not await is_card_of(
            queue, query, callback_data.job_id
        ):
            await refuse_button(query)
            return
        chat_id = query.message.chat.id
        view = await view_for(queue, callback_data.job_id, chat_id, is_admin)
        if view.status == "not_found":
            await query.answer(jobstate.format_view(view), show_alert=True)
            return
        await query.answer()
        active = view.status in ("queued", "deferred", "in_progress")
        card = job_card(jobstate.title_of(view.job_name), view.job_id, jobstate.card_state(view))
        # "message is not modified" just means there is nothing new to show.
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_text(
                card, reply_markup=job_keyboard(view.job_id) if active else None
            )

    @router.callback_query(JobAction.filter(F.action == "abort"))
    async def abort_button(
        query: CallbackQuery, callback_data: JobAction, queue: JobQueue, is_admin: bool
    ) -> None:
        """The Abort button: same rules as /abort."""
        if not await is_card_of(queue, query, callback_data.job_id):
            await refuse_button(query)
            return
        chat_id = query.message.chat.id if query.message else query.from_user.id
        requested, text = await abort_job(
            queue, callback_data.job_id, query.from_user.id, chat_id, is_admin
        )
        await query.answer(text, show_alert=not requested)

    @router.callback_query()
    async def unknown_button(query: CallbackQuery) -> None:
        """Data no button of ours carries (forged, or from an older version): say so."""
        await refuse_button(query)

    return router
