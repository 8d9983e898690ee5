"""A per-user flood guard, so one person cannot fill the queue by holding a key down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.middlewares.recent import RecentEvents
from core.i18n import _


class ThrottlingMiddleware(BaseMiddleware):
    """At most `burst` messages or button presses per user within `window` seconds; one
    warning, then silence.

    Admins are exempt: they are trusted, and scripts drive the bot as an admin.
    """

    def __init__(self, burst: int = 8, window: float = 10.0) -> None:
        self.burst = burst
        self.window = window
        self.seen = RecentEvents(window, max_events=burst + 2)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None or data.get("is_admin") or not asks_for_an_answer(event):
            return await handler(event, data)
        count = self.seen.add(user.id)
        if count <= self.burst:
            return await handler(event, data)
        warn = count == self.burst + 1
        text = _("Too many messages: wait {seconds} s and try again.", seconds=int(self.window))
        if isinstance(event, Message) and warn:
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            # A press is always answered (else the button spins on the client); quietly after
            # the one warning.
            await event.answer(text if warn else None, show_alert=warn)
        return None


def asks_for_an_answer(event: TelegramObject) -> bool:
    """Button presses, commands and private messages: what the bot answers. People talking to
    each other in a group are not flooding the bot, however chatty they are."""
    if isinstance(event, Message):
        return event.chat.type == "private" or (event.text or "").startswith("/")
    return isinstance(event, CallbackQuery)
