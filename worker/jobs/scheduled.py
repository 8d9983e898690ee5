"""Jobs the bot's scheduler starts: the daily digest and a watched community's parse."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis

from core import subscriptions
from core.catalog import DigestArgs, ParseArgs, WatchArgs
from core.digest import digest_text, gather, last_digest, remember_digest
from core.i18n import ngettext
from core.jobstate import split_message
from core.reports import statistics
from core.settings import Settings
from core.storage import Sessions, utcnow
from worker.jobs.parse import parse_vk_comments


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
    """Parse a watched community incrementally; tell the watching chat of new comments only."""
    result = await parse_vk_comments(ctx, ParseArgs(group=args.group))
    new = int(result.get("comments_new", 0))
    if new:
        name = result.get("group_name") or args.group
        text = ngettext(
            "👀 {n} new comment in {group}", "👀 {n} new comments in {group}", new, group=name
        )
        await notify(ctx["redis"], f"watch:{ctx['job_id']}", args.chat_id, text)
    return {**result, "announced_to": args.chat_id if new else None}


async def notify(redis: ArqRedis, job_id: str, chat_id: int, text: str) -> None:
    """A message of its own (not a job's closing one); the fixed id keeps a rerun from
    sending it twice."""
    await redis.enqueue_job("send_notification", _job_id=job_id, chat_id=chat_id, text=text)
