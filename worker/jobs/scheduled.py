"""Jobs the bot's scheduler starts: the daily digest and a watched community's parse."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis

from core import subscriptions
from core.catalog import DigestArgs, ParseArgs, WatchArgs
from core.digest import digest_text, gather, last_digest, remember_digest
from core.i18n import _, ngettext, use_locale
from core.jobstate import split_message
from core.reports import statistics
from core.settings import Settings
from core.storage import Sessions, utcnow
from core.vk.community import notify_admins
from core.vk.errors import VkError
from worker.jobs.parse import CommunityUnreachable, parse_vk_comments


async def send_digest(ctx: dict[str, Any], args: DigestArgs) -> dict[str, Any]:
    """Make the digest and hand it to `send_notification` for NOTIFY_CHAT_ID and every chat
    subscribed with /digest on. A rerun sends nothing twice (the messages' ids are fixed)."""
    sessions: Sessions = ctx["sessions"]
    settings: Settings = ctx["settings"]
    await statistics.refresh(sessions)  # the per-day numbers, up to date
    until = utcnow()
    digest = await gather(sessions, settings.zone, await last_digest(sessions, until), until)
    chats = await subscriptions.digest_chats(sessions)
    if settings.notify_chat_id is not None and settings.notify_chat_id not in chats:
        chats.insert(0, settings.notify_chat_id)
    parts = split_message(digest_text(digest, settings.zone))
    for chat_id in chats:
        for number, part in enumerate(parts):
            await notify(ctx["redis"], f"digest:{ctx['job_id']}:{chat_id}:{number}", chat_id, part)
    await remember_digest(sessions, until)
    return {
        "chats": len(chats),
        "communities": len(digest.communities),
        "comments_new": digest.new,
        "spikes": [c.name for c in digest.communities if c.spike],
        "failed_jobs": len(digest.failed),
        "since": digest.since.isoformat(),
        "day": digest.day.isoformat(),
    }


async def watch_vk_comments(ctx: dict[str, Any], args: WatchArgs) -> dict[str, Any]:
    """Parse a watched community incrementally; tell the watching chat of new comments only.

    When VK says the community cannot be read (none such, deleted, private) the watch is
    paused, with one message to the admins, instead of failing every period; a slot enqueued
    before the pause (or the /unwatch) reached the scheduler does nothing.
    """
    watch = await subscriptions.get_watch(ctx["sessions"], args.chat_id, args.group)
    if watch is None or watch.paused_for is not None:
        return {"skipped": "unwatched" if watch is None else "paused"}
    try:
        result = await parse_vk_comments(ctx, ParseArgs(group=args.group))
    except CommunityUnreachable as error:
        await pause_watch(ctx, args, error)
        return {"paused": str(error), "paused_for": error.code}
    new = int(result.get("comments_new", 0))
    if new:
        name = result.get("group_name") or args.group
        text = ngettext(
            "👀 {n} new comment in {group}", "👀 {n} new comments in {group}", new, group=name
        )
        await notify(ctx["redis"], f"watch:{ctx['job_id']}", args.chat_id, text)
    return {**result, "announced_to": args.chat_id if new else None}


async def pause_watch(ctx: dict[str, Any], args: WatchArgs, error: CommunityUnreachable) -> None:
    """Pause the watch; whoever paused it tells the admins why and how to resume it, once."""
    settings: Settings = ctx["settings"]
    if not await subscriptions.pause(ctx["sessions"], args.chat_id, args.group, error.code):
        return
    with use_locale(settings.default_language):
        text = _(
            "⏸ The watch of {group} for chat {chat} is paused: {reason}. Once the community "
            "can be read again, /watch {group} in that chat resumes it; /unwatch {group} "
            "ends it.",
            group=args.group,
            chat=args.chat_id,
            reason=VkError.from_code(error.code, "").message,
        )
    await notify_admins(ctx["redis"], settings, text, job_id=f"watch-paused:{ctx['job_id']}")


async def notify(redis: ArqRedis, job_id: str, chat_id: int, text: str) -> None:
    """A message of its own (not a job's closing one); the fixed id keeps a rerun from
    sending it twice."""
    await redis.enqueue_job("send_notification", _job_id=job_id, chat_id=chat_id, text=text)
