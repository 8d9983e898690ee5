"""/cleanup (with a confirmation) and /backup: the admins' maintenance commands.

/cleanup first counts what it would delete and asks. The question is kept in Redis for
CONFIRM_TTL seconds under a random token that its buttons carry: only an admin's Confirm, in
the chat that asked, while the token lives, enqueues the job, and only once.
"""

from __future__ import annotations

import contextlib
import json
import uuid

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy import func, select

from bot.handlers.control import refuse_button
from bot.handlers.guards import admins_only
from bot.handlers.jobs import already_running, parse_or_explain, submit, usage_reply
from core import jobstate, storage
from core.catalog import CATALOG
from core.i18n import N_, _, current_language
from core.maintenance.args import BackupArgs, CleanupArgs
from core.maintenance.cleanup import cutoff_for, preview
from core.maintenance.texts import nothing_to_delete, preview_text
from core.models import Comment
from core.queue import JobQueue
from core.settings import Settings
from core.ui import button_row, job_card, job_keyboard

CLEANUP_USAGE = N_("/cleanup [days]")
BACKUP_USAGE = N_("/backup [send]")
CONFIRM_TTL = 600  # seconds a /cleanup question may be answered


class CleanupAction(CallbackData, prefix="cleanup"):
    action: str  # "confirm" or "cancel"
    token: str


def pending_key(token: str) -> str:
    return f"vkc:cleanup:pending:{token}"


def confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    return button_row(
        (_("🗑 Confirm"), CleanupAction(action="confirm", token=token)),
        (_("Cancel"), CleanupAction(action="cancel", token=token)),
    )


async def close_question(message: Message, text: str) -> None:
    """The question's message with a last word and without its buttons."""
    # An old or already edited message may refuse the edit; the answer to the press says it all.
    with contextlib.suppress(TelegramBadRequest):
        await message.edit_text(f"{message.text or ''}\n\n{text}", reply_markup=None)


def create_router() -> Router:
    router = Router(name="maintenance")
    cleanup_spec, backup_spec = CATALOG["cleanup_old_data"], CATALOG["backup_database"]

    @router.message(Command("cleanup"))
    async def cleanup(
        message: Message,
        command: CommandObject,
        queue: JobQueue,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Count what would be deleted and ask for a confirmation."""
        if not await admins_only(message, is_admin, command):
            return
        words = (command.args or "").split()
        if len(words) > 1:
            reason = _("too many arguments ({given}, at most {most})", given=len(words), most=1)
            await message.answer(usage_reply(reason, CLEANUP_USAGE))
            return
        data: dict[str, object] = {"days": words[0]} if words else {}
        args = await parse_or_explain(message, cleanup_spec, data, settings, CLEANUP_USAGE)
        if not isinstance(args, CleanupArgs):
            return
        days = args.days or settings.retention_days
        cutoff = cutoff_for(days)
        found = await preview(queue.sessions, cutoff)
        if not found.comments and not found.posts:
            async with queue.sessions() as session:
                oldest = await session.scalar(select(func.min(Comment.date)))
            await message.answer(nothing_to_delete(days, cutoff, oldest))
            return
        token = uuid.uuid4().hex
        pending = {"days": days, "chat_id": message.chat.id}
        await queue.redis.set(pending_key(token), json.dumps(pending), ex=CONFIRM_TTL)
        text = preview_text(days, cutoff, found.comments, found.analysed, found.posts)
        await message.answer(text, reply_markup=confirm_keyboard(token))

    @router.callback_query(CleanupAction.filter())
    async def answer_question(
        query: CallbackQuery, callback_data: CleanupAction, queue: JobQueue, is_admin: bool
    ) -> None:
        """Confirm enqueues the cleanup (an admin, once, within CONFIRM_TTL); Cancel drops it."""
        message = query.message
        if not isinstance(message, Message):
            await refuse_button(query)
            return
        if not is_admin:
            await query.answer(_("⛔ Only an admin can answer this."), show_alert=True)
            return
        key = pending_key(callback_data.token)
        raw = await queue.redis.get(key)
        if raw is not None and json.loads(raw).get("chat_id") != message.chat.id:
            await refuse_button(query)  # a token copied into another chat's button
            return
        # Taken at most once: of two admins pressing together, one gets it.
        raw = await queue.redis.getdel(key) if raw is not None else None
        if raw is None:
            # The message is left as it is: it may be the job's card by now.
            await query.answer(
                _("⌛ This question has expired (or was answered): send /cleanup again."),
                show_alert=True,
            )
            return
        if callback_data.action != "confirm":
            await query.answer(_("Cancelled."))
            await close_question(message, _("Cancelled: nothing was deleted."))
            return
        args = CleanupArgs(days=int(json.loads(raw)["days"]))
        submitted = await queue.submit(
            cleanup_spec,
            args,
            user_id=query.from_user.id,
            chat_id=message.chat.id,
            language=current_language(),
        )
        if submitted.existing:
            text = await already_running(queue, cleanup_spec, args, submitted.job_id)
            await query.answer()
            await close_question(message, text)
            return
        await query.answer(_("Cleanup started."))
        # The question becomes the job's progress message.
        state = jobstate.status_word("queued")
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(
                job_card(_(cleanup_spec.title), submitted.job_id, state),
                reply_markup=job_keyboard(submitted.job_id),
            )
            await storage.update_job(
                queue.sessions, submitted.job_id, progress_message_id=message.message_id
            )

    @router.message(Command("backup"))
    async def backup(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """Back the database up; `send` also sends the file, in a private chat only."""
        if not await admins_only(message, is_admin, command):
            return
        words = (command.args or "").lower().split()
        if words not in ([], ["send"]):
            reason = _("expected nothing or the word send")
            await message.answer(usage_reply(reason, BACKUP_USAGE))
            return
        send = words == ["send"]
        if send and message.chat.type != "private":
            await message.answer(
                _("⛔ The backup file is sent only in a private chat with me, never in a group.")
            )
            return
        await submit(message, queue, backup_spec, BackupArgs(send=send))

    return router
