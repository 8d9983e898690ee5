"""/start and /help: what the bot does and how to use every command; the command menu."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import BotCommand, Message

from core.catalog import COMMANDS
from core.groups import GROUP_HELP
from core.i18n import N_, _

# (command, usage, what it does, admins only): usage and what are shown through `_()`.
MORE_COMMANDS: list[tuple[str, str, str, bool]] = [
    (
        "analyze",
        N_("/analyze <text> | /analyze <group> [days]"),
        N_("words of a text, or a community's comments"),
        False,
    ),
    ("status", N_("/status <job_id>"), N_("where a job stands"), False),
    ("result", N_("/result <job_id>"), N_("what a finished job found"), False),
    (
        "abort",
        N_("/abort <job_id>"),
        N_("stop a job (the person who started it, or an admin)"),
        False,
    ),
    ("jobs", "/jobs", N_("this chat's recent jobs"), False),
    ("queue", "/queue", N_("queued, running and deferred jobs, live workers"), False),
    ("health", "/health", N_("Redis, database and workers"), False),
    ("language", "/language [ru|en]", N_("the language of my answers to you"), False),
    (
        "allow",
        N_("/allow <user_id> | /allow"),
        N_("let a person, or this whole chat, use the bot"),
        True,
    ),
    ("deny", N_("/deny <user_id> | /deny"), N_("take access back"), True),
    ("access", "/access", N_("who may use the bot"), True),
    (
        "cleanup",
        N_("/cleanup [days]"),
        N_("delete comments older than N days (default RETENTION_DAYS), after a confirmation"),
        True,
    ),
    (
        "backup",
        N_("/backup [send]"),
        N_("back the database up (send: also the file, in a private chat)"),
        True,
    ),
    ("schedule", "/schedule", N_("the recurring jobs and their next runs"), True),
    (
        "watch",
        N_("/watch <group> [minutes]"),
        N_("check a community for new comments every N minutes"),
        True,
    ),
    ("unwatch", N_("/unwatch <group>"), N_("stop watching a community"), True),
    ("watches", "/watches", N_("the communities watched in this chat"), True),
    ("digest", "/digest [on|off]", N_("the daily digest in this chat"), True),
    ("help", "/help", N_("this list"), False),
]


def help_text(is_admin: bool) -> str:
    lines = [
        _("I collect comments from VK community walls and analyse them."),
        _("Long work runs as a background job; I post its progress and its result here."),
        "",
    ]
    lines += [f"{_(spec.usage)} — {_(spec.title)}" for spec in COMMANDS.values()]
    lines += [
        f"{_(usage)} — {_(what)}"
        for _name, usage, what, admins in MORE_COMMANDS
        if is_admin or not admins
    ]
    lines += ["", _("A group is {what}.", what=_(GROUP_HELP))]
    return "\n".join(lines)


def menu() -> list[BotCommand]:
    """The command menu in the current language (admin commands are left out of it)."""
    items = [
        BotCommand(command=name, description=_(spec.title)[:256]) for name, spec in COMMANDS.items()
    ]
    items += [
        BotCommand(command=name, description=_(what))
        for name, _usage, what, admins in MORE_COMMANDS
        if not admins
    ]
    return items


def create_router() -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def show_help(message: Message, is_admin: bool) -> None:
        """Explain the bot and list every command with its usage."""
        await message.answer(help_text(is_admin))

    return router
