"""Per-user choices that outlive a conversation: for now, the language of the bot's answers."""

from __future__ import annotations

from core.db import upsert
from core.i18n import LANGUAGES, language_of
from core.models import UserLanguage
from core.storage import Sessions


async def chosen_language(sessions: Sessions, user_id: int) -> str | None:
    """The language the user picked with /language, or None if they never did."""
    async with sessions() as session:
        row = await session.get(UserLanguage, user_id)
        return row.language if row is not None else None


async def choose_language(sessions: Sessions, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    async with sessions.begin() as session:
        await upsert(
            session,
            UserLanguage.__table__,  # type: ignore[arg-type]
            [{"user_id": user_id, "language": language}],
            keys=["user_id"],
            update=["language"],
        )


async def language_for(
    sessions: Sessions, user_id: int | None, telegram_code: str | None, default: str
) -> str:
    """The user's own choice, else what their Telegram language suggests, else `default`."""
    if user_id is not None:
        chosen = await chosen_language(sessions, user_id)
        if chosen is not None:
            return chosen
        return language_of(telegram_code, default)
    return default
