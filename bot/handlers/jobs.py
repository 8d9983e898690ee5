"""One chat command per catalog entry that has one: arguments in, job id out."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from pydantic import ValidationError

from core import storage
from core.catalog import COMMANDS, JobArgs, JobSpec
from core.queue import JobQueue, explain, validate_args
from core.settings import Settings
from core.ui import job_card, job_keyboard


def positional(spec: JobSpec, raw: str | None) -> dict[str, str]:
    """Map `/cmd a b c` onto the argument model's fields, in their declared order."""
    words = (raw or "").split()
    names = list(spec.args.model_fields)
    if len(words) > len(names):
        raise ValueError(f"too many arguments ({len(words)}, at most {len(names)})")
    return dict(zip(names, words, strict=False))


def usage_reply(reason: str, usage: str) -> str:
    return f"⚠️ {reason}\nUsage: {usage}"


async def parse_or_explain(
    message: Message, spec: JobSpec, data: dict[str, object], settings: Settings, usage: str
) -> JobArgs | None:
    """Validated arguments, or None after telling the user what is wrong."""
    try:
        return validate_args(spec, data, settings)
    except ValidationError as error:
        await message.answer(usage_reply(explain(error), usage))
        return None


async def submit(message: Message, queue: JobQueue, spec: JobSpec, args: JobArgs) -> None:
    """Enqueue and answer: a progress card with the job id, or the running job if one exists."""
    user_id = message.from_user.id if message.from_user else None
    submitted = await queue.submit(spec, args, user_id=user_id, chat_id=message.chat.id)
    if submitted.existing:
        await message.answer(f"Already running: job {submitted.job_id}\n/status {submitted.job_id}")
        return
    if not spec.card:
        return  # a quick job: its answer is the closing message
    card = await message.answer(
        job_card(spec.title, submitted.job_id, "queued"),
        reply_markup=job_keyboard(submitted.job_id),
    )
    await storage.update_job(queue.sessions, submitted.job_id, progress_message_id=card.message_id)


def create_router() -> Router:
    router = Router(name="jobs")

    @router.message(Command(*COMMANDS))
    async def run_job_command(
        message: Message,
        command: CommandObject,
        queue: JobQueue,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Validate the arguments, enqueue the job and answer with its id and /status line."""
        spec = COMMANDS[command.command]
        if spec.admin_only and not is_admin:
            await message.answer(f"⛔ /{command.command} is for admins only.")
            return
        try:
            data: dict[str, object] = dict(positional(spec, command.args))
        except ValueError as error:
            await message.answer(usage_reply(str(error), spec.usage))
            return
        args = await parse_or_explain(message, spec, data, settings, spec.usage)
        if args is not None:
            await submit(message, queue, spec, args)

    return router
