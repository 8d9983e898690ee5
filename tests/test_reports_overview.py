"""/stats' busiest days and last parses, and reports of rows stored before names and likes
were, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from core import storage
from core.catalog import StatsArgs
from core.i18n import use_locale
from core.models import Group
from core.reports.describe import describe_stats
from core.reports.localtime import ensure_zone, period
from core.reports.statistics import refresh
from core.reports.summary import summarize
from core.settings import Settings
from core.vk.wall_items import comment_row
from tests.report_fixture import CURRENT, REPORT_GROUP, REPORT_NAME, STORED, ZONE
from tests.test_reports_storage import seed
from worker.jobs.reports import show_statistics

OWNER = -REPORT_GROUP
OTHER = 888002  # a community stored, never parsed to the end


async def test_stats_show_busiest_days_and_last_parses(
    sessions: storage.Sessions, database_url: str, tmp_path: Path
) -> None:
    """The overview names the busiest days of all communities with their counts, and each
    community's last parse (or "never parsed"); one community's /stats its own busiest days."""
    await seed(sessions)
    await storage.mark_group_parsed(sessions, REPORT_GROUP)
    await storage.save_group(sessions, OTHER, "other_club", "Другой клуб")
    today = datetime.now(ZONE).date()
    moment = int(datetime.combine(today - timedelta(days=1), datetime.min.time(), ZONE).timestamp())
    rows = [
        comment_row(
            -OTHER, 1, {"id": i, "from_id": 3001, "date": moment + i, "text": "да"}, None, ZONE
        )
        for i in range(1, 5)
    ]
    await storage.save_comments(sessions, rows)
    async with sessions() as session:
        parsed = (await session.get(Group, REPORT_GROUP)).last_parsed_at  # type: ignore[union-attr]
    settings = Settings(_env_file=None, database_url=database_url, data_dir=tmp_path)  # type: ignore[call-arg]
    ctx = {"settings": settings, "sessions": sessions}

    found = await show_statistics(ctx, StatsArgs())
    # Two days ago the club had 3; yesterday 2 there and 4 in the other: 6.
    days = [(today - timedelta(days=n)).isoformat() for n in (1, 2)]
    assert found["busiest"][:2] == [[days[0], 6], [days[1], 3]]
    assert found["comments"] == STORED + 4
    with use_locale("en"):
        text = describe_stats(found)
    when = parsed.strftime("%d.%m.%Y %H:%M")
    assert f"• {REPORT_NAME}: {STORED} comments, last parse {when}" in text
    assert "• Другой клуб: 4 comments, never parsed" in text
    listed = ", ".join(
        f"{(today - timedelta(days=n)).strftime('%d.%m.%Y')} ({c})" for n, c in ((1, 6), (2, 3))
    )
    assert f"Busiest days: {listed}" in text

    one = await show_statistics(ctx, StatsArgs(group="report_club"))
    assert one["community"]["busiest"][:2] == [[days[1], 3], [days[0], 2]]
    assert one["community"]["last_parsed_at"] == parsed.isoformat()


async def test_rows_from_before_names_and_likes_report_by_id(sessions: storage.Sessions) -> None:
    """Comments stored before authors' names, likes and local days were: the report counts
    them and names their authors by VK id (id123 for a person, club1 for a community)."""
    await seed(sessions)
    moment = int((datetime.now(ZONE) - timedelta(days=4)).timestamp())
    old = []
    for number, author in enumerate([7001, 7001, 7001, 7001, -1, -1, -1, -1], 900):
        row = comment_row(OWNER, 5, {"id": number, "from_id": author, "date": moment}, None, ZONE)
        old.append({k: v for k, v in row.items() if k not in ("likes", "local_day", "local_hour")})
    await storage.save_comments(sessions, old)
    assert await ensure_zone(sessions, "Europe/Moscow", ZONE) == len(old)
    await refresh(sessions)
    summary = await summarize(sessions, OWNER, *period(30, ZONE))
    assert summary.comments == CURRENT + len(old)
    assert summary.likes == 9  # the fixture's; old rows have none
    top = [(a.label, a.comments) for a in summary.top_authors[:2]]
    assert top == [("club1", 4), ("id7001", 4)]
