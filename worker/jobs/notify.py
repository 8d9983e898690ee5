"""send_notification: one message to a chat, delivered once even if the job runs twice."""

from __future__ import annotations

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

from core import storage
from core.catalog import NotificationArgs


async def send_notification(ctx: dict[str, Any], args: NotificationArgs) -> dict[str, Any]:
    """Send the text; 429 waits `retry_after`, other transient errors back off and retry."""
    bot: Bot | None = ctx.get("bot")
    if bot is None:
        raise RuntimeError("BOT_TOKEN is not set on the worker, cannot notify")
    sessions: storage.Sessions = ctx["sessions"]
    if args.job_id and not await storage.claim_notification(sessions, args.job_id):
        return {"sent": False, "chat_id": args.chat_id}
    try:
        message = await bot.send_message(chat_id=args.chat_id, text=args.text)
    except (TelegramBadRequest, TelegramForbiddenError):
        raise  # the chat is gone or the text is refused: retrying cannot help
    except TelegramRetryAfter as error:
        await _release(sessions, args.job_id)
        raise Retry(defer=error.retry_after) from None
    except (TelegramServerError, TelegramNetworkError):
        await _release(sessions, args.job_id)
        raise Retry(defer=min(60, 2 ** ctx["job_try"])) from None
    return {"sent": True, "chat_id": args.chat_id, "message_id": message.message_id}


async def _release(sessions: storage.Sessions, job_id: str | None) -> None:
    if job_id:
        await storage.release_notification(sessions, job_id)
