"""/language: a person picks the language of the bot's answers, whatever Telegram says."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from core.i18n import LANGUAGES, _, set_language
from core.preferences import choose_language
from core.queue import JobQueue

USAGE = "/language [ru|en]"
NAMES = {"ru": "русский", "en": "English"}


def create_router() -> Router:
    router = Router(name="language")

    @router.message(Command("language"))
    async def language(
        message: Message, command: CommandObject, queue: JobQueue, language: str
    ) -> None:
        """Show the current language, or store the user's choice and answer in it."""
        wanted = (command.args or "").strip().lower()
        if not wanted:
            await message.answer(
                _(
                    "My answers to you are in {name}.\nUsage: {usage}",
                    name=NAMES[language],
                    usage=USAGE,
                )
            )
            return
        if wanted not in LANGUAGES or message.from_user is None:
            await message.answer(
                _(
                    "⚠️ unknown language {text}: expected ru or en\nUsage: {usage}",
                    text=wanted[:16],
                    usage=USAGE,
                )
            )
            return
        await choose_language(queue.sessions, message.from_user.id, wanted)
        set_language(wanted)
        await message.answer(_("Done: my answers to you are now in {name}.", name=NAMES[wanted]))

    return router
