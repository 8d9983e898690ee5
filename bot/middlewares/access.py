"""Who may talk to the bot: admins always, others by user or chat allow-list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from core.settings import Settings


class AccessMiddleware(BaseMiddleware):
    """Refuses everyone else once per message, showing the ids an admin needs to allow them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

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
        if self.settings.may_use(user.id, chat_id):
            return await handler(event, data)
        text = (
            f"⛔ Access denied. Your user id: {user.id}, chat id: {chat_id}. "
            "Ask an admin to add you to ALLOWED_USER_IDS or this chat to ALLOWED_CHAT_IDS."
        )
        if isinstance(event, Message):
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        return None
