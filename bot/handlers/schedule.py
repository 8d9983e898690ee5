"""/schedule, /watch, /unwatch, /watches, /digest: what the scheduler does, for admins."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.handlers.guards import admins_only
from bot.handlers.jobs import usage_reply
from bot.scheduler import BotScheduler
from core import subscriptions
from core.catalog import CATALOG
from core.groups import normalize_group
from core.i18n import N_, _, ngettext
from core.models import Watch
from core.settings import Settings
from core.vk.community import unreachable_reason
from core.vk.errors import VkError

WATCH_USAGE = N_("/watch <group> [minutes]")
UNWATCH_USAGE = N_("/unwatch <group>")
DIGEST_USAGE = "/digest [on|off]"
MAX_WATCH_MINUTES = 7 * 24 * 60


def when(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return _("not planned")
    return moment.astimezone(settings.zone).strftime("%d.%m.%Y %H:%M")


def watch_request(raw: str | None, settings: Settings) -> tuple[str, int]:
    """(group, minutes) of `/watch <group> [minutes]`; ValueError with the reason."""
    words = (raw or "").split()
    if not words:
        raise ValueError(_("missing <{field}>", field=_("group")))
    if len(words) > 2:
        raise ValueError(
            _("too many arguments ({given}, at most {most})", given=len(words), most=2)
        )
    group = normalize_group(words[0])
    minutes = settings.watch_min_minutes
    if len(words) == 2:
        if not words[1].isascii() or not words[1].isdigit():
            raise ValueError(_("{field} must be a whole number", field=_("minutes")))
        minutes = int(words[1])
        if not settings.watch_min_minutes <= minutes <= MAX_WATCH_MINUTES:
            raise ValueError(
                _(
                    "{field} must be from {least} to {most}",
                    field=_("minutes"),
                    least=settings.watch_min_minutes,
                    most=MAX_WATCH_MINUTES,
                )
            )
    return group, minutes


def next_check(row: Watch, scheduler: BotScheduler, settings: Settings) -> str:
    """When a watch checks next, or why it is paused and how to resume it."""
    if row.paused_for is not None:
        return _(
            "paused: {reason}; /watch {group} resumes it",
            reason=VkError.from_code(row.paused_for, "").message,
            group=row.group,
        )
    return _(
        "next run {next}", next=when(scheduler.watch_next_run(row.chat_id, row.group), settings)
    )


def create_router() -> Router:
    router = Router(name="schedule")

    @router.message(Command("schedule"))
    async def show_schedule(
        message: Message,
        command: CommandObject,
        scheduler: BotScheduler,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Each recurring job with its rule and next run; the watches."""
        if not await admins_only(message, is_admin, command):
            return
        lines = [_("Recurring jobs (times in {zone}):", zone=settings.timezone)]
        for entry in scheduler.plan():
            rule = entry.recurring
            if not rule.rule:
                state = _("off ({setting} is empty)", setting=rule.setting)
            elif rule.job not in CATALOG:
                state = _("{rule}: not in this version", rule=rule.rule)
            else:
                state = _(
                    "{rule}, next run {next}", rule=rule.rule, next=when(entry.next_run, settings)
                )
            lines.append(f"• {_(rule.title)}: {state}")
        watches = await subscriptions.watches(scheduler.queue.sessions)
        lines.append(_("Watched communities:") if watches else _("Watched communities: none."))
        for row in watches:
            lines.append(
                "• "
                + _(
                    "{group} for chat {chat}: every {minutes}, {next}",
                    group=row.group,
                    chat=row.chat_id,
                    minutes=ngettext("{n} minute", "{n} minutes", row.minutes),
                    next=next_check(row, scheduler, settings),
                )
            )
        await message.answer("\n".join(lines))

    @router.message(Command("watch"))
    async def watch(
        message: Message,
        command: CommandObject,
        scheduler: BotScheduler,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """Parse a community every N minutes; this chat hears of its new comments."""
        if not await admins_only(message, is_admin, command) or message.from_user is None:
            return
        try:
            group, minutes = watch_request(command.args, settings)
        except ValueError as error:
            await message.answer(usage_reply(str(error), WATCH_USAGE))
            return
        # As /parse would be told: a community VK cannot read is refused now, not every period.
        refusal = await unreachable_reason(scheduler.queue.redis, settings, group)
        if refusal is not None:
            await message.answer(
                _("⚠️ {group} cannot be watched: {reason}", group=group, reason=refusal)
            )
            return
        chat_id = message.chat.id
        await subscriptions.watch(
            scheduler.queue.sessions, chat_id, group, minutes, message.from_user.id
        )
        await scheduler.sync_watches()
        every = ngettext("{n} minute", "{n} minutes", minutes)
        next_run = when(scheduler.watch_next_run(chat_id, group), settings)
        if await scheduler.check_watch_now(chat_id, group):
            text = _(
                "👀 Watching {group}: checking now, then every {minutes} (the next at {next}). "
                "New comments will be announced here; /unwatch {group} stops it.",
                group=group,
                minutes=every,
                next=next_run,
            )
        else:
            text = _(
                "👀 Watching {group}: a check every {minutes}, the next at {next}. "
                "New comments will be announced here; /unwatch {group} stops it.",
                group=group,
                minutes=every,
                next=next_run,
            )
        await message.answer(text)

    @router.message(Command("unwatch"))
    async def unwatch(
        message: Message, command: CommandObject, scheduler: BotScheduler, is_admin: bool
    ) -> None:
        """Stop watching a community from this chat."""
        if not await admins_only(message, is_admin, command):
            return
        try:
            group = normalize_group(command.args or "")
        except ValueError as error:
            await message.answer(usage_reply(str(error), UNWATCH_USAGE))
            return
        removed = await subscriptions.unwatch(scheduler.queue.sessions, message.chat.id, group)
        await scheduler.sync_watches()
        if removed:
            await message.answer(_("✅ {group} is no longer watched here.", group=group))
        else:
            await message.answer(_("{group} is not watched in this chat.", group=group))

    @router.message(Command("watches"))
    async def list_watches(
        message: Message,
        command: CommandObject,
        scheduler: BotScheduler,
        settings: Settings,
        is_admin: bool,
    ) -> None:
        """This chat's watched communities."""
        if not await admins_only(message, is_admin, command):
            return
        rows = await subscriptions.watches(scheduler.queue.sessions, message.chat.id)
        if not rows:
            await message.answer(_("Nothing is watched in this chat: /watch <group> [minutes]"))
            return
        lines = [_("Watched here:")]
        for row in rows:
            lines.append(
                _(
                    "{group}: every {minutes}, {next}",
                    group=row.group,
                    minutes=ngettext("{n} minute", "{n} minutes", row.minutes),
                    next=next_check(row, scheduler, settings),
                )
            )
        await message.answer("\n".join(lines))

    @router.message(Command("digest"))
    async def digest(
        message: Message, command: CommandObject, scheduler: BotScheduler, is_admin: bool
    ) -> None:
        """Subscribe this chat to the daily digest, or not; without an argument, say which."""
        if not await admins_only(message, is_admin, command) or message.from_user is None:
            return
        choice = (command.args or "").strip().lower()
        sessions, chat_id = scheduler.queue.sessions, message.chat.id
        if choice == "on":
            await subscriptions.subscribe_digest(sessions, chat_id, message.from_user.id)
            text = _("✅ This chat receives the daily digest.")
        elif choice == "off":
            await subscriptions.unsubscribe_digest(sessions, chat_id)
            text = _("This chat no longer receives the daily digest.")
        elif not choice:
            subscribed = chat_id in await subscriptions.digest_chats(sessions)
            text = (
                _("This chat receives the daily digest.")
                if subscribed
                else _("This chat does not receive the daily digest.")
            )
        else:
            text = usage_reply(_("expected on or off"), DIGEST_USAGE)
        await message.answer(text)

    return router
