"""/allow, /deny, /access: admins manage who may use the bot without a restart.

Grants add to the settings' lists; an id in the settings stays allowed whatever the chat says,
so the chat can never lock the configured admins out.
"""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.handlers.guards import admins_only
from core import access
from core.i18n import _
from core.queue import JobQueue
from core.settings import Settings

# Telegram ids fit in 52 bits; ASCII digits only (int() would also take "٣").
TELEGRAM_ID = re.compile(r"-?[0-9]{1,16}")
ALLOW_USAGE = "/allow <user_id> | /allow"
DENY_USAGE = "/deny <user_id> | /deny"


def target_of(message: Message, command: CommandObject) -> tuple[str, int] | str:
    """(kind, id) the command names, or the reason it names none.

    A number names a person (a negative one, a group: Telegram's group ids are negative);
    no argument names the chat the command was sent in, which must then be a group.
    """
    words = (command.args or "").split()
    if not words:
        if message.chat.type == "private":
            return _("in a private chat, name the person: their user id")
        return access.CHAT, message.chat.id
    if len(words) > 1 or not TELEGRAM_ID.fullmatch(words[0]):
        return _("expected one numeric id")
    target = int(words[0])
    if target in access.SHARED_SENDERS:
        return _(
            "{target} is shared by all anonymous group admins: send /allow in their group instead",
            target=target,
        )
    return (access.CHAT if target < 0 else access.USER), target


def configured(settings: Settings, kind: str, target: int) -> str | None:
    """The setting that allows this id, if one does."""
    if kind == access.USER and target in settings.admin_ids:
        return "ADMIN_IDS"
    if kind == access.USER and target in settings.allowed_user_ids:
        return "ALLOWED_USER_IDS"
    if kind == access.CHAT and target in settings.allowed_chat_ids:
        return "ALLOWED_CHAT_IDS"
    return None


def who(kind: str, target: int) -> str:
    if kind == access.CHAT:
        return _("chat {id}", id=target)
    return _("user {id}", id=target)


def create_router() -> Router:
    router = Router(name="access")

    @router.message(Command("allow"))
    async def allow(
        message: Message, command: CommandObject, queue: JobQueue, is_admin: bool
    ) -> None:
        """Let a person (anywhere) or every member of this group use the bot."""
        if not await admins_only(message, is_admin, command) or message.from_user is None:
            return
        target = target_of(message, command)
        if isinstance(target, str):
            await message.answer(_("⚠️ {reason}\nUsage: {usage}", reason=target, usage=ALLOW_USAGE))
            return
        kind, target_id = target
        await access.allow(queue.sessions, kind, target_id, message.from_user.id)
        await message.answer(_("✅ {who} may use the bot now.", who=who(kind, target_id)))

    @router.message(Command("deny"))
    async def deny(
        message: Message,
        command: CommandObject,
        queue: JobQueue,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Take a grant back; an id allowed by the settings is said to stay allowed."""
        if not await admins_only(message, is_admin, command):
            return
        target = target_of(message, command)
        if isinstance(target, str):
            await message.answer(_("⚠️ {reason}\nUsage: {usage}", reason=target, usage=DENY_USAGE))
            return
        kind, target_id = target
        removed = await access.deny(queue.sessions, kind, target_id)
        setting = configured(settings, kind, target_id)
        if setting is not None:
            text = _(
                "{who} is allowed by the setting {setting}, which the chat cannot change: "
                "remove it there and restart the bot.",
                who=who(kind, target_id),
                setting=setting,
            )
        elif removed:
            text = _("✅ {who} may no longer use the bot.", who=who(kind, target_id))
        else:
            text = _("{who} had no access given from the chat.", who=who(kind, target_id))
        await message.answer(text)

    @router.message(Command("access"))
    async def list_access(
        message: Message,
        command: CommandObject,
        queue: JobQueue,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Everyone who may use the bot, and where each permission comes from."""
        if not await admins_only(message, is_admin, command):
            return

        def ids(values: frozenset[int]) -> str:
            return ", ".join(str(v) for v in sorted(values)) or "—"

        lines = [
            _("Who may use the bot:"),
            _("admins (ADMIN_IDS): {ids}", ids=ids(settings.admin_ids)),
            _("users (ALLOWED_USER_IDS): {ids}", ids=ids(settings.allowed_user_ids)),
            _("chats (ALLOWED_CHAT_IDS): {ids}", ids=ids(settings.allowed_chat_ids)),
        ]
        grants = await access.list_grants(queue.sessions)
        lines.append(_("given from the chat:") if grants else _("given from the chat: —"))
        for grant in grants:
            lines.append(
                _(
                    "{who}, by {admin} on {date}",
                    who=who(grant.kind, grant.target_id),
                    admin=grant.granted_by,
                    date=grant.granted_at.strftime("%Y-%m-%d"),
                )
            )
        await message.answer("\n".join(lines))

    return router
