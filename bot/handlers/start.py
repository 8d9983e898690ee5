"""/start and /help: what the bot does and how to use every command."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import BotCommand, Message

from core.catalog import COMMANDS

MORE_COMMANDS: list[tuple[str, str, str]] = [
    (
        "analyze",
        "/analyze <text> | /analyze <group> [days]",
        "words of a text, or a group's comments",
    ),
    ("status", "/status <job_id>", "where a job stands"),
    ("result", "/result <job_id>", "what a finished job found"),
    ("abort", "/abort <job_id>", "stop a job (its owner or an admin)"),
    ("jobs", "/jobs", "this chat's recent jobs"),
    ("queue", "/queue", "queued, running and deferred jobs, live workers"),
    ("health", "/health", "Redis, database and workers"),
    ("help", "/help", "this list"),
]


def help_text() -> str:
    lines = [
        "I collect comments from VK community walls and analyse them.",
        "Long work runs as a background job; I post its progress and its result here.",
        "",
    ]
    lines += [f"{spec.usage} — {spec.title}" for spec in COMMANDS.values()]
    lines += [f"{usage} — {what}" for _, usage, what in MORE_COMMANDS]
    lines += [
        "",
        "A group is a numeric id (12345, -12345), club12345/public12345, "
        "a screen name or a vk.com/... link.",
    ]
    return "\n".join(lines)


def menu() -> list[BotCommand]:
    """The command menu set at start-up."""
    items = [
        BotCommand(command=name, description=spec.title[:256]) for name, spec in COMMANDS.items()
    ]
    items += [BotCommand(command=name, description=what) for name, _, what in MORE_COMMANDS]
    return items


def create_router() -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def show_help(message: Message) -> None:
        """Explain the bot and list every command with its usage."""
        await message.answer(help_text())

    return router
