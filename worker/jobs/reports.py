"""Reports and statistics jobs: generate_report, show_statistics, update_statistics."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from aiogram import Bot

from core import storage
from core.catalog import ReportArgs, StatisticsArgs, StatsArgs
from core.jobstate import split_message
from core.models import Group
from core.reports import overview
from core.reports.export import Exported, export, export_names, prepare_upload
from core.reports.localtime import ensure_zone, period, today
from core.reports.statistics import mark_recent, refresh
from core.reports.summary import Summary, summarize, summarize_all
from core.reports.texts import caption, summary_text
from core.settings import Settings
from worker.jobs.analysis import stored_group
from worker.jobs.delivery import Delivery, upload_note


def chart_png(summary: Summary) -> bytes:
    """The report's chart. matplotlib is imported on the first report, in this thread: it is
    a sixth of a worker's start-up CPU (~0.5 s), and the event loop never waits for it."""
    from core.reports import chart

    return chart.render(summary)


async def _fresh(ctx: dict[str, Any], owner_id: int | None) -> None:
    """Local days in TIMEZONE, and the changed days recounted, before anything is read."""
    settings: Settings = ctx["settings"]
    await ensure_zone(ctx["sessions"], settings.timezone, settings.zone)
    await refresh(ctx["sessions"], owner_id)


async def update_statistics(ctx: dict[str, Any], args: StatisticsArgs) -> dict[str, Any]:
    """Recount the days a parse, an analysis or a cleanup changed (and with `days`, every
    day of that many); safe to run twice, from a parse or from a schedule."""
    settings: Settings = ctx["settings"]
    owner_id = -(await stored_group(ctx, args.group)).id if args.group else None
    await ensure_zone(ctx["sessions"], settings.timezone, settings.zone)
    if args.days:
        first, _last = period(args.days, settings.zone)
        await mark_recent(ctx["sessions"], owner_id, first)
    done = await refresh(ctx["sessions"], owner_id)
    return {"days": done.days, "communities": done.communities}


async def show_statistics(ctx: dict[str, Any], args: StatsArgs) -> dict[str, Any]:
    """/stats: what is stored, for all communities or one."""
    settings: Settings = ctx["settings"]
    sessions: storage.Sessions = ctx["sessions"]
    if args.group is None:
        await _fresh(ctx, None)
        found = await overview.overview(sessions)
        return {
            "comments": found.comments,
            "busiest": [[day.isoformat(), n] for day, n in found.busiest],
            "communities": [
                [c.name, c.comments, c.last_parsed_at.isoformat() if c.last_parsed_at else None]
                for c in found.communities
            ],
        }
    group = await stored_group(ctx, args.group)
    await _fresh(ctx, -group.id)
    one = await overview.community(sessions, group, today(settings.zone))
    return {
        "community": {
            "name": one.name,
            "comments": one.comments,
            "authors": one.authors,
            "replies": one.replies,
            "likes": one.likes,
            "windows": [[w.days, w.comments, w.authors] for w in one.windows],
            "last_parsed_at": one.last_parsed_at.isoformat() if one.last_parsed_at else None,
            "busiest": [[day.isoformat(), n] for day, n in one.busiest],
        }
    }


async def generate_report(ctx: dict[str, Any], args: ReportArgs) -> dict[str, Any]:
    """The chart, the summary, then the comments as CSV and XLSX, sent to the job's chat;
    the closing message follows through the usual path. A rerun skips what was sent."""
    settings: Settings = ctx["settings"]
    sessions: storage.Sessions = ctx["sessions"]
    group = await stored_group(ctx, args.group) if args.group else None
    owner_id = -group.id if group else None
    await _fresh(ctx, owner_id)
    first, last = period(args.days, settings.zone)
    summary = (
        await summarize(sessions, owner_id, first, last)
        if owner_id is not None
        else await summarize_all(sessions, first, last)
    )
    result: dict[str, Any] = {
        "group": args.group,
        "name": summary.name,
        "days": args.days,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "comments": summary.comments,
        "previous": summary.previous,
        "authors": summary.authors,
    }
    if not summary.comments:
        return {**result, "empty": True}
    audit = await storage.get_job(sessions, ctx["job_id"])
    chat_id = audit.chat_id if audit and audit.chat_id else settings.notify_chat_id
    bot: Bot | None = ctx.get("bot")
    if chat_id is None or bot is None:
        return result  # nobody to send it to (a scheduled run without NOTIFY_CHAT_ID)
    delivery = Delivery(ctx, bot, chat_id)
    png = await asyncio.to_thread(chart_png, summary)
    await delivery.photo("chart", png, "report.png", caption(summary))
    for number, piece in enumerate(split_message(summary_text(summary))):
        await delivery.text(f"summary:{number}", piece)
    rows = await _send_exports(ctx, delivery, summary, group)
    return {**result, "rows": rows, "delivered": True}


async def _send_exports(
    ctx: dict[str, Any], delivery: Delivery, summary: Summary, group: Group | None
) -> int:
    """Write the period's comments to files in a private temporary folder and send them;
    returns how many rows each holds."""
    settings: Settings = ctx["settings"]
    label = str(group.screen_name or group.id) if group else "all"
    csv_name, xlsx_name = export_names(label, summary.first, summary.last)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix="report-") as folder:
        target = Exported(Path(folder) / csv_name, Path(folder) / xlsx_name)
        exported = await export(
            ctx["sessions"], summary.owner_id, summary.first, summary.last, settings.zone, target
        )
        for kind, path in (("csv", exported.csv), ("xlsx", exported.xlsx)):
            upload = await asyncio.to_thread(prepare_upload, path, settings.upload_limit_bytes)
            note = upload_note(upload, exported.rows, kind)
            for number, part in enumerate(upload.paths):
                await delivery.document(f"{kind}:{number}", part, note if number == 0 else "")
    return exported.rows
