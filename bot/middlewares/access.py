"""Who may talk to the bot: admins always, others by the settings' lists or a chat grant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.middlewares.recent import RecentEvents
from core.access import SHARED_SENDERS, may_use
from core.i18n import _
from core.settings import Settings
from core.storage import Sessions

REFUSAL_WINDOW = 3600.0


def refusal_text(user_id: int, chat_id: int) -> str:
    """What a stranger reads: their ids and exactly what to ask an admin for."""
    if user_id in SHARED_SENDERS:
        return _(
            "⛔ Access denied: this chat may not use the bot yet (chat id: {chat_id}).\n"
            "Ask the bot's admin to send /allow in this chat.",
            chat_id=chat_id,
        )
    if chat_id == user_id:
        return _(
            "⛔ Access denied: you may not use this bot yet. Your user id: {user_id}.\n"
            "Ask the bot's admin to send: /allow {user_id}",
            user_id=user_id,
        )
    return _(
        "⛔ Access denied: you may not use this bot here yet. "
        "Your user id: {user_id}, chat id: {chat_id}.\n"
        "Ask the bot's admin to send /allow {user_id} (you) or /allow in this chat (everyone).",
        user_id=user_id,
        chat_id=chat_id,
    )


class AccessMiddleware(BaseMiddleware):
    """Lets allowed people through; a stranger gets one refusal per chat per hour, then silence.

    Silence matters: anyone can add the bot to a group, and answering every message there
    would spend the bot's Telegram rate limit for them.
    """

    def __init__(self, settings: Settings, sessions: Sessions) -> None:
        self.settings = settings
        self.sessions = sessions
        self.refused = RecentEvents(REFUSAL_WINDOW, max_events=2)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None:
            return None
        chat_id = chat.id if chat is not None else user.id
        data["is_admin"] = self.settings.is_admin(user.id)
        if await may_use(self.sessions, self.settings, user.id, chat_id):
            return await handler(event, data)
        if self.refused.add(chat_id) > 1:
            return None
        text = refusal_text(user.id, chat_id)
        if isinstance(event, Message):
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        return None
