"""A per-user flood guard, so one person cannot fill the queue by holding a key down."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject


class ThrottlingMiddleware(BaseMiddleware):
    """At most `burst` messages per user within `window` seconds; one warning, then silence.

    Admins are exempt: they are trusted, and scripts drive the bot as an admin.
    """

    def __init__(self, burst: int = 8, window: float = 10.0) -> None:
        self.burst = burst
        self.window = window
        self.seen: dict[int, list[float]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None or not isinstance(event, Message) or data.get("is_admin"):
            return await handler(event, data)
        now = time.monotonic()
        recent = [t for t in self.seen.get(user.id, []) if now - t < self.window]
        recent.append(now)
        self.seen[user.id] = recent
        if len(recent) <= self.burst:
            return await handler(event, data)
        if len(recent) == self.burst + 1:
            await event.answer(f"Too many messages: wait {int(self.window)} s and try again.")
        return None
