"""Maintenance jobs: cleanup_old_data and backup_database (admins, or the scheduler)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiogram import Bot
from sqlalchemy import func, select

from core import storage
from core.jobstate import JobFailed
from core.maintenance.args import BackupArgs, CleanupArgs
from core.maintenance.backup import BackupError, backup_folder, take_backup
from core.maintenance.cleanup import Deleted, cutoff_for, delete_old, preview, transactions_for
from core.models import Comment
from core.reports.localtime import ensure_zone
from core.reports.statistics import refresh
from core.settings import Settings
from worker.jobs.delivery import Delivery
from worker.progress import ProgressReporter


async def cleanup_old_data(ctx: dict[str, Any], args: CleanupArgs) -> dict[str, Any]:
    """Delete comments older than `days` (default RETENTION_DAYS) and old posts left without
    comments, in small transactions; recount the statistics of the days touched.

    A rerun (or a second cleanup) finds nothing left to delete and says so.
    """
    settings: Settings = ctx["settings"]
    sessions: storage.Sessions = ctx["sessions"]
    started = time.monotonic()
    days = args.days or settings.retention_days
    cutoff = cutoff_for(days)
    planned = await preview(sessions, cutoff)
    report = ProgressReporter(ctx, "cleanup_old_data")
    parts = transactions_for(planned)  # a part: one transaction of up to BATCH rows

    async def progress(done: Deleted) -> None:
        # A parse meanwhile may store more old comments: the count stops at 100 %.
        parts_done = min(done.transactions, parts)
        await report({"done": parts_done, "total": parts, "comments": done.comments})

    deleted = await delete_old(sessions, cutoff, progress=progress)
    # The touched days were marked in the same transactions as the deletions; recount them now
    # (local days in TIMEZONE first, as every statistics reader does).
    await ensure_zone(sessions, settings.timezone, settings.zone)
    await refresh(sessions)
    async with sessions() as session:
        oldest = await session.scalar(select(func.min(Comment.date)))
    return {
        "days": days,
        "cutoff": cutoff.isoformat(),
        "comments": deleted.comments,
        "analysed": deleted.analysed,
        "posts": deleted.posts,
        "days_recounted": len(deleted.days),
        "oldest": oldest.isoformat() if oldest is not None else None,
        "duration_s": round(time.monotonic() - started, 3),
    }


async def backup_database(ctx: dict[str, Any], args: BackupArgs) -> dict[str, Any]:
    """A verified backup under DATA_DIR/backups/, rotated to BACKUP_KEEP; with `send`, the file
    also goes to the job's chat when that is a private chat and the file fits Telegram."""
    settings: Settings = ctx["settings"]
    folder = backup_folder(settings.data_dir)
    try:
        made = await take_backup(settings.db_url, folder, settings.backup_keep)
    except BackupError as error:
        raise JobFailed(str(error)) from None
    result: dict[str, Any] = {
        "engine": made.engine,
        "file": made.path.name,
        "folder": str(folder),
        "bytes": made.size,
        "duration_s": round(made.duration_s, 3),
        "kept": made.kept,
        "removed": made.removed,
    }
    if args.send:
        result.update(await _send_file(ctx, made.path, made.size))
    return result


async def _send_file(ctx: dict[str, Any], path: Path, size: int) -> dict[str, Any]:
    """Send the backup to the job's chat: only a private chat (a positive id: a person), never
    a group, and only under Telegram's upload limit."""
    settings: Settings = ctx["settings"]
    audit = await storage.get_job(ctx["sessions"], ctx["job_id"])
    bot: Bot | None = ctx.get("bot")
    chat_id = audit.chat_id if audit is not None else None
    if chat_id is None or bot is None:
        return {"not_sent": "no_chat"}
    if chat_id < 0:
        return {"not_sent": "group"}
    if size > settings.upload_limit_bytes:
        return {"not_sent": "too_big"}
    await Delivery(ctx, bot, chat_id).document("backup", path, path.name)
    return {"sent": True}
