"""Asking about jobs and stopping them: /status, /result, /abort, /jobs, /queue, /health."""

from __future__ import annotations

import contextlib
import re

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from core import jobstate, storage
from core.i18n import _
from core.queue import ACTIVE, JobQueue
from core.ui import JobAction, job_card, job_keyboard

JOB_ID = re.compile(r"^[A-Za-z0-9:_-]{1,64}$")


def job_id_of(command: CommandObject) -> str | None:
    words = (command.args or "").split()
    return words[0] if len(words) == 1 and JOB_ID.match(words[0]) else None


async def view_of(queue: JobQueue, job_id: str) -> jobstate.JobView:
    return await jobstate.job_view(queue.redis, queue.sessions, job_id, queue.queue_name)


async def abort_job(queue: JobQueue, job_id: str, user_id: int, is_admin: bool) -> str:
    """Abort if allowed; returns the answer for the chat."""
    audit = await storage.get_job(queue.sessions, job_id)
    if audit is None:
        return f"Job {job_id} not found."
    if not is_admin and audit.user_id != user_id:
        return "⛔ Only the job's owner or an admin can abort it."
    status = await queue.status(job_id)
    if status not in ACTIVE:
        return f"Job {job_id} is not running (it is {audit.status})."
    await queue.abort(job_id)
    return f"Abort requested for job {job_id}."


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
            what = "expected one job id" if command.args else "missing <job_id>"
            await message.answer(f"⚠️ {what}\nUsage: /{command.command} <job_id>")
        return job_id

    @router.message(Command("status"))
    async def status(message: Message, command: CommandObject, queue: JobQueue) -> None:
        """Where a job stands: queued, in progress with %, complete, failed, aborted."""
        job_id = await need_job_id(message, command)
        if job_id:
            await message.answer(jobstate.format_view(await view_of(queue, job_id)))

    @router.message(Command("result"))
    async def result(message: Message, command: CommandObject, queue: JobQueue) -> None:
        """The stored result of a finished job, in words."""
        job_id = await need_job_id(message, command)
        if not job_id:
            return
        view = await view_of(queue, job_id)
        if view.status == "complete":
            text = jobstate.describe_result(view.job_name, view.result)
            for piece in jobstate.split_message(f"Result of {view.job_name} {job_id}: {text}"):
                await message.answer(piece)
        else:
            await message.answer(jobstate.format_view(view))

    @router.message(Command("abort"))
    async def abort(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """Stop a queued or running job (its owner or an admin)."""
        job_id = await need_job_id(message, command)
        if job_id and message.from_user:
            await message.answer(await abort_job(queue, job_id, message.from_user.id, is_admin))

    @router.message(Command("jobs"))
    async def jobs(message: Message, queue: JobQueue) -> None:
        """This chat's recent jobs, newest first."""
        rows = await storage.recent_jobs(queue.sessions, message.chat.id)
        if not rows:
            await message.answer("No jobs in this chat yet. Try /help.")
            return
        lines = ["Recent jobs:"]
        for row in rows:
            when = row.enqueued_at.strftime("%Y-%m-%d %H:%M")
            lines.append(f"{when} {row.job_name} {row.job_id}: {row.status}")
        await message.answer("\n".join(lines))

    @router.message(Command("queue"))
    async def queue_info(message: Message, queue: JobQueue) -> None:
        """Queued, running and deferred jobs, and live workers."""
        info = await queue.queue_info()
        await message.answer(
            f"Queue {queue.queue_name}: {info['queued']} queued, {info['running']} running, "
            f"{info['deferred']} deferred; {info['workers']} worker(s) alive."
        )

    @router.message(Command("health"))
    async def health(message: Message, queue: JobQueue) -> None:
        """Redis, database and workers: reachable or not."""
        report = await queue.health()

        def mark(ok: object) -> str:
            return "✅" if ok else "❌"

        await message.answer(
            "\n".join(
                [
                    f"{mark(report['redis'])} Redis reachable",
                    f"{mark(report['database'])} Database reachable",
                    f"{mark(report['workers'])} Workers alive: {report['workers']}",
                    f"Queue length: {report['queue']}",
                ]
            )
        )

    @router.callback_query(JobAction.filter(F.action == "refresh"))
    async def refresh(query: CallbackQuery, callback_data: JobAction, queue: JobQueue) -> None:
        """Redraw a progress message with the job's current state."""
        if not await is_card_of(queue, query, callback_data.job_id):
            await refuse_button(query)
            return
        view = await view_of(queue, callback_data.job_id)
        await query.answer()
        if isinstance(query.message, Message):
            state = jobstate.card_state(view)
            title = query.message.text.split("\n", 1)[0] if query.message.text else view.job_name
            active = view.status in ("queued", "deferred", "in_progress")
            # "message is not modified" just means there is nothing new to show.
            with contextlib.suppress(TelegramBadRequest):
                await query.message.edit_text(
                    job_card(title or "job", view.job_id, state),
                    reply_markup=job_keyboard(view.job_id) if active else None,
                )

    @router.callback_query(JobAction.filter(F.action == "abort"))
    async def abort_button(
        query: CallbackQuery, callback_data: JobAction, queue: JobQueue, is_admin: bool
    ) -> None:
        """The Abort button: same rules as /abort."""
        if not await is_card_of(queue, query, callback_data.job_id):
            await refuse_button(query)
            return
        text = await abort_job(queue, callback_data.job_id, query.from_user.id, is_admin)
        await query.answer(text, show_alert=not text.startswith("Abort requested"))

    return router


def create_fallback_router() -> Router:
    """Anything no other handler took: unknown commands and plain text."""
    router = Router(name="fallback")

    @router.message(F.text.startswith("/"))
    async def unknown_command(message: Message) -> None:
        """An unknown command gets pointed at /help."""
        name = (message.text or "").split()[0]
        await message.answer(f"⚠️ Unknown command {name[:64]}. Send /help for the list.")

    @router.message()
    async def not_a_command(message: Message) -> None:
        """Plain text is not a command: say so."""
        await message.answer("⚠️ I only understand commands. Send /help for the list.")

    @router.callback_query()
    async def unknown_button(query: CallbackQuery) -> None:
        """Data no button of ours carries (forged, or cut short): refuse it, never leave the
        client waiting."""
        await refuse_button(query)

    return router
