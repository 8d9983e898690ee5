"""update_statistics under concurrency and at scale, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.util import await_only

from core import analysis, storage
from core.models import DailyStats, DailyTerm
from core.reports.statistics import TERMS_CHUNK, mark_recent, refresh
from core.vk.wall_items import comment_row
from tests.report_fixture import REPORT_GROUP, ZONE
from tests.test_reports_storage import seed

OWNER = -REPORT_GROUP
BOUND_S = 60  # what any step here may take on a loaded machine; never reached when it works


async def store(sessions: storage.Sessions, ids: range, day: date, text: str) -> None:
    """Comments on `day` (local noon), analysed, as a parse followed by its analysis."""
    moment = int(datetime.combine(day, time(12), ZONE).timestamp())
    rows = [
        comment_row(
            OWNER, 5, {"id": i, "from_id": 2001 + i % 3, "date": moment, "text": text}, None, ZONE
        )
        for i in ids
    ]
    await storage.save_comments(sessions, rows)
    await analysis.analyse_scope(sessions, analysis.Scope(OWNER))


async def stored_statistics(sessions: storage.Sessions) -> tuple[list[Any], list[Any]]:
    columns = [c for c in DailyStats.__table__.columns if c.name != "updated_at"]
    async with sessions() as session:
        days = (await session.execute(select(*columns).order_by(DailyStats.day))).all()
        terms = (
            await session.execute(
                select(DailyTerm.day, DailyTerm.term, DailyTerm.comments).order_by(
                    DailyTerm.day, DailyTerm.term
                )
            )
        ).all()
    return [tuple(row) for row in days], [tuple(row) for row in terms]


async def test_concurrent_recounts_keep_the_newest_counts(sessions: storage.Sessions) -> None:
    """Recount A has counted a changed day and is about to write when comments arrive on that
    day and recount B counts and writes them; A then goes on. The stored statistics must be
    B's, equal to a full recount, with no error on either database."""
    await seed(sessions)
    await analysis.analyse_scope(sessions, analysis.Scope(OWNER))
    await refresh(sessions)
    day = datetime.now(ZONE).date() - timedelta(days=2)
    await store(sessions, range(500, 503), day, "ранний лёд")
    engine = sessions.kw["bind"].sync_engine
    paused, release = asyncio.Event(), asyncio.Event()
    first: asyncio.Task[Any] | None = None

    def hold(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        # Runs in A's greenlet: A waits here, its counts read, before its first write.
        is_write = statement.lstrip().upper().startswith(("DELETE", "INSERT", "UPDATE"))
        if asyncio.current_task() is first and is_write and not paused.is_set():
            paused.set()
            await_only(release.wait())

    event.listen(engine, "before_cursor_execute", hold)
    try:
        first = asyncio.create_task(refresh(sessions, OWNER))
        await asyncio.wait_for(paused.wait(), BOUND_S)
        await store(sessions, range(600, 605), day, "тонкий лёд")
        second = await refresh(sessions, OWNER)
        release.set()
        late = await asyncio.wait_for(first, BOUND_S)
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", hold)
    concurrent = await stored_statistics(sessions)
    # The fixture's 3 comments of that day, the 3 A counted and the 5 only B saw.
    assert next(row for row in concurrent[0] if row[1] == day)[2] == 3 + 3 + 5
    await mark_recent(sessions, None, date(2000, 1, 1))
    await refresh(sessions)
    assert concurrent == await stored_statistics(sessions)
    assert (second.days, late.days) == (1, 0)  # A found B had recounted the day, and left it


async def test_keyword_counting_memory_follows_the_vocabulary(sessions: storage.Sessions) -> None:
    """A day's keyword counts are built from its analysed comments a chunk at a time: four
    times the comments (same words) take about the same memory to recount."""
    day = datetime.now(ZONE).date() - timedelta(days=1)
    await storage.save_group(sessions, REPORT_GROUP, "report_club", "Клуб")
    text = "зимняя рыбалка на озере и крепкий лёд у берега"
    peaks = []
    for ids in (range(1, TERMS_CHUNK + 1), range(TERMS_CHUNK + 1, 4 * TERMS_CHUNK + 1)):
        await store(sessions, ids, day, text)
        tracemalloc.start()
        try:
            done = await refresh(sessions, OWNER)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert done.days == 1
    async with sessions() as session:
        counted = await session.scalar(
            select(DailyTerm.comments).where(DailyTerm.term == "рыбалка", DailyTerm.day == day)
        )
    assert counted == 4 * TERMS_CHUNK
    assert peaks[1] < 1.5 * peaks[0], peaks
