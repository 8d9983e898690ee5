"""/analyze: the words of a text, or a stored community's comments as a batch job."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.handlers.jobs import parse_or_explain, submit, usage_reply
from core import storage
from core.catalog import CATALOG
from core.groups import normalize_group
from core.i18n import N_, _
from core.queue import JobQueue
from core.settings import Settings

USAGE = N_("/analyze <text> | /analyze <group> [days]")


async def stored_group_ref(queue: JobQueue, words: list[str]) -> str | None:
    """The community the words name, if it is one we have comments of; else None (a text)."""
    if not 1 <= len(words) <= 2 or (len(words) == 2 and not words[1].lstrip("-").isdigit()):
        return None
    try:
        ref = normalize_group(words[0])
    except ValueError:
        return None
    return ref if await storage.find_group(queue.sessions, ref) is not None else None


def create_router() -> Router:
    router = Router(name="analysis")

    @router.message(Command("analyze"))
    async def analyze(
        message: Message, command: CommandObject, queue: JobQueue, settings: Settings
    ) -> None:
        """Lemmas and parts of speech of a text, or analysis of a parsed community."""
        if not command.args:
            await message.answer(usage_reply(_("missing <text> or <group>"), USAGE))
            return
        words = command.args.split()
        ref = await stored_group_ref(queue, words)
        if ref is not None:
            spec = CATALOG["process_batch_comments"]
            data: dict[str, object] = {"group": ref}
            if len(words) == 2:
                data["days"] = words[1]
        else:
            spec = CATALOG["analyze_text_morphology"]
            data = {"text": command.args}
        args = await parse_or_explain(message, spec, data, settings, USAGE)
        if args is not None:
            await submit(message, queue, spec, args)

    return router
