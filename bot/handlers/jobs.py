"""One chat command per catalog entry that has one: arguments in, job id out."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from pydantic import ValidationError

from bot.handlers.guards import admins_only
from core import jobstate, storage
from core.catalog import COMMANDS, JobArgs, JobSpec
from core.i18n import _, current_language
from core.queue import JobQueue, explain, validate_args
from core.settings import Settings
from core.ui import args_text, job_card, job_keyboard


def positional(spec: JobSpec, raw: str | None) -> dict[str, str]:
    """Map `/cmd a b c` onto the argument model's fields, in their declared order."""
    words = (raw or "").split()
    names = list(spec.args.model_fields)
    if len(words) > len(names):
        raise ValueError(
            _("too many arguments ({given}, at most {most})", given=len(words), most=len(names))
        )
    return dict(zip(names, words, strict=False))


def usage_reply(reason: str, usage: str) -> str:
    """What was wrong, then how the command is used (usage is an `N_` text)."""
    return _("⚠️ {reason}\nUsage: {usage}", reason=reason, usage=_(usage))


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
    """Enqueue and answer: a progress card with the job id, or what is already running."""
    user_id = message.from_user.id if message.from_user else None
    submitted = await queue.submit(
        spec, args, user_id=user_id, chat_id=message.chat.id, language=current_language()
    )
    if submitted.existing:
        await message.answer(await already_running(queue, spec, args, submitted.job_id))
        return
    if not spec.card:
        return  # a quick job: its answer is the closing message
    card = await message.answer(
        job_card(_(spec.title), submitted.job_id, jobstate.status_word("queued")),
        reply_markup=job_keyboard(submitted.job_id),
    )
    await storage.update_job(queue.sessions, submitted.job_id, progress_message_id=card.message_id)


async def already_running(queue: JobQueue, spec: JobSpec, args: JobArgs, job_id: str) -> str:
    """Which job is running and with which arguments; if the user asked for something else,
    that their request was not started and what they can do."""
    audit = await storage.get_job(queue.sessions, job_id)
    running = audit.args if audit is not None else {}
    text = _(
        "Already running: {title} (job {job_id}) with {args}.",
        title=_(spec.title),
        job_id=job_id,
        args=args_text(running),
    )
    asked = args.model_dump(mode="json")
    if audit is not None and asked != running:
        text += "\n" + _(
            "Your request ({args}) was not started: wait for this job to end, "
            "or stop it with /abort {job_id} and send your command again.",
            args=args_text(asked),
            job_id=job_id,
        )
    return f"{text}\n/status {job_id}"


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
        if spec.admin_only and not await admins_only(message, is_admin, command):
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
