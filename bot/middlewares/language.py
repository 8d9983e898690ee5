"""The language of every answer: the user's /language choice, else their Telegram language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import language_of, set_language
from core.preferences import language_for
from core.storage import Sessions


class LanguageMiddleware(BaseMiddleware):
    """Sets the language for the whole update, so the error handler answers in it too."""

    def __init__(self, sessions: Sessions, default: str) -> None:
        self.sessions = sessions
        self.default = default

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        code = user.language_code if user is not None else None
        try:
            language = await language_for(
                self.sessions, user.id if user else None, code, self.default
            )
        except (SQLAlchemyError, OSError):
            # The database is down: the error handler still answers, in the Telegram language.
            language = language_of(code, self.default)
        set_language(language)
        data["language"] = language
        return await handler(event, data)
