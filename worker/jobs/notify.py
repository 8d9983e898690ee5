"""send_notification: a job's closing message, delivered at least once and, in practice, once."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from arq import Retry

from core import jobstate, storage
from core.catalog import NotificationArgs
from core.i18n import _, current_language, use_locale
from core.jobstate import JobFailed
from worker.progress import finish_progress_message
from worker.resilience import patiently

log = logging.getLogger(__name__)


async def send_notification(ctx: dict[str, Any], args: NotificationArgs) -> dict[str, Any]:
    """Send the text; 429 waits `retry_after`, other transient errors back off and retry.

    It is recorded as sent only after Telegram took it, so a crash before that sends it again
    rather than never; a rerun after the record sends nothing.
    """
    bot: Bot | None = ctx.get("bot")
    if bot is None:
        raise JobFailed("BOT_TOKEN is not set on the worker, cannot notify")
    sessions: storage.Sessions = ctx["sessions"]
    language = current_language()
    if args.job_id:
        view = await jobstate.job_view(
            ctx["redis"], sessions, args.job_id, ctx["settings"].arq_queue_name
        )
        if view.audit is not None and view.audit.notified_at is not None:
            return {"sent": False, "chat_id": args.chat_id}
        await finish_progress_message(ctx, view.audit, view)
        if view.audit is not None and view.audit.language:
            language = view.audit.language  # the fallback text speaks as the closing text does
    try:
        with use_locale(language):
            message_id = await _send(bot, args)
    except TelegramRetryAfter as error:
        raise Retry(defer=error.retry_after) from None
    except (TelegramServerError, TelegramNetworkError):
        raise Retry(defer=min(60, 2 ** ctx["job_try"])) from None
    except TelegramForbiddenError:
        log.warning("job %s: chat %s blocked the bot; not notified", args.job_id, args.chat_id)
        return {"sent": False, "chat_id": args.chat_id, "refused": True}
    if args.job_id:
        await patiently(
            f"recording the notification of job {args.job_id}",
            lambda: storage.mark_notified(sessions, str(args.job_id)),
        )
    return {"sent": True, "chat_id": args.chat_id, "message_id": message_id}


async def _send(bot: Bot, args: NotificationArgs) -> int:
    """The text as it is; if Telegram refuses it, a short plain version that points to it."""
    try:
        return (await bot.send_message(chat_id=args.chat_id, text=args.text)).message_id
    except TelegramBadRequest as error:
        if not args.job_id:
            raise
        log.warning("job %s: Telegram refused the closing message (%s)", args.job_id, error)
    short = _("Job {job_id} has ended: /status {job_id}", job_id=args.job_id)
    return (await bot.send_message(chat_id=args.chat_id, text=short)).message_id
