"""Anything no other handler took: unknown commands and plain text."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from core.i18n import _


async def addressed_to_another_bot(message: Message, bot: Bot) -> bool:
    """`/cmd@otherbot`: a command for someone else in the same group."""
    head = (message.text or "").split(maxsplit=1)[0]
    _command, at, username = head.partition("@")
    return bool(at) and username.lower() != ((await bot.me()).username or "").lower()


def create_router() -> Router:
    """Answers only text: service messages (joins, pins, title changes) get no reply."""
    router = Router(name="fallback")

    @router.message(F.text.startswith("/"))
    async def unknown_command(message: Message, bot: Bot) -> None:
        """An unknown command gets pointed at /help (unless it was meant for another bot)."""
        if await addressed_to_another_bot(message, bot):
            return
        name = (message.text or "").split()[0]
        await message.answer(
            _("⚠️ Unknown command {name}. Send /help for the list.", name=name[:64])
        )

    @router.message(F.text, F.chat.type == "private")
    async def not_a_command(message: Message) -> None:
        """Plain text in a private chat is not a command: say so. In a group people talk to
        each other, so the bot keeps quiet."""
        await message.answer(_("⚠️ I only understand commands. Send /help for the list."))

    return router
