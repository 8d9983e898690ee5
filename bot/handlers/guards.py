"""Checks handlers share."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import Message

from core.i18n import _


async def admins_only(message: Message, is_admin: bool, command: CommandObject) -> bool:
    """True for an admin; anyone else is told the command is not theirs."""
    if not is_admin:
        await message.answer(_("⛔ /{command} is for admins only.", command=command.command))
    return is_admin
