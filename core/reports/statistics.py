"""update_statistics: per community and local day, the counts reports and /stats read.

Only days marked changed (by a parse, an analysis or a cleanup, see
`core.storage.mark_days_changed`) are recounted, each with a few GROUP BY queries over that
day's comments. Comments count as the parse summary and /keywords count them: readable ones,
not deleted on VK.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from core.analysis import decode_terms
from core.db import upsert
from core.models import Comment, DailyStats, StatsDirtyDay
from core.storage import Sessions, mark_days_changed, utcnow
from core.text.keywords import term_counts

TOP_PER_DAY = 10
DAYS_PER_QUERY = 60


def readable() -> ColumnElement[bool]:
    """The comments people read, as the parse summary and /keywords count them."""
    return Comment.deleted.is_(False)


@dataclass
class Refreshed:
    days: int = 0
    communities: int = 0


async def mark_recent(sessions: Sessions, owner_id: int | None, first: date) -> None:
    """Mark every stored day since `first` of a community (or all) for recounting."""
    async with sessions() as session:
        query = select(Comment.owner_id, Comment.local_day).distinct()
        query = query.where(Comment.local_day >= first)
        if owner_id is not None:
            query = query.where(Comment.owner_id == owner_id)
        rows = await session.execute(query)
        days: set[tuple[int, date]] = {(int(o), d) for o, d in rows if d is not None}
    async with sessions.begin() as session:
        await mark_days_changed(session, days)


async def refresh(sessions: Sessions, owner_id: int | None = None) -> Refreshed:
    """Recount the days marked changed (of one community, or all); returns what was done."""
    query = select(StatsDirtyDay.owner_id, StatsDirtyDay.day, StatsDirtyDay.changed_at)
    if owner_id is not None:
        query = query.where(StatsDirtyDay.owner_id == owner_id)
    async with sessions() as session:
        dirty = (await session.execute(query)).all()
    by_owner: dict[int, list[tuple[date, datetime]]] = defaultdict(list)
    for owner, day, changed_at in dirty:
        by_owner[int(owner)].append((day, changed_at))
    for owner, days in by_owner.items():
        for start in range(0, len(days), DAYS_PER_QUERY):
            await _recount(sessions, owner, days[start : start + DAYS_PER_QUERY])
    return Refreshed(days=len(dirty), communities=len(by_owner))


async def _recount(sessions: Sessions, owner_id: int, marks: list[tuple[date, datetime]]) -> None:
    """Recount some days of one community and clear their marks.

    A mark is cleared only if nobody marked the day again meanwhile (its time is unchanged),
    so a parse storing comments while we count is counted by the next run.
    """
    days = [day for day, _ in marks]
    rows = await _aggregate(sessions, owner_id, days)
    async with sessions.begin() as session:
        await session.execute(
            delete(DailyStats).where(DailyStats.owner_id == owner_id, DailyStats.day.in_(days))
        )
        await upsert(
            session,
            DailyStats.__table__,  # type: ignore[arg-type]
            rows,
            keys=["owner_id", "day"],
            update=[],
        )
        await session.execute(
            delete(StatsDirtyDay).where(
                StatsDirtyDay.owner_id == owner_id,
                tuple_(StatsDirtyDay.day, StatsDirtyDay.changed_at).in_(marks),
            )
        )


async def _aggregate(sessions: Sessions, owner_id: int, days: list[date]) -> list[dict[str, Any]]:
    """The DailyStats rows of these days (days without comments get none)."""
    where = and_(Comment.owner_id == owner_id, Comment.local_day.in_(days), readable())
    async with sessions() as session:
        totals = await session.execute(
            select(
                Comment.local_day,
                func.count(),
                func.count(func.distinct(Comment.from_id)),
                func.count(Comment.parent_id),
                func.coalesce(func.sum(Comment.likes), 0),
                func.count(Comment.terms),
            )
            .where(where)
            .group_by(Comment.local_day)
        )
        hours = await session.execute(
            select(Comment.local_day, Comment.local_hour, func.count())
            .where(where)
            .group_by(Comment.local_day, Comment.local_hour)
        )
        authors = await session.execute(
            select(Comment.local_day, Comment.from_id, func.count())
            .where(where)
            .group_by(Comment.local_day, Comment.from_id)
        )
        terms = await session.execute(
            select(Comment.local_day, Comment.terms).where(where, Comment.terms.is_not(None))
        )
        per_hour: dict[date | None, list[int]] = defaultdict(lambda: [0] * 24)
        for day, hour, count in hours:
            per_hour[day][int(hour or 0)] = int(count)
        per_author: dict[date | None, Counter[int]] = defaultdict(Counter)
        for day, author, count in authors:
            per_author[day][int(author)] = int(count)
        docs: dict[date | None, list[list[str | None]]] = defaultdict(list)
        for day, text in terms:
            docs[day].append(decode_terms(text or ""))
        now = utcnow()
        return [
            {
                "owner_id": owner_id,
                "day": day,
                "comments": int(comments),
                "authors": int(distinct_authors),
                "replies": int(replies or 0),
                "likes": int(likes or 0),
                "hours": per_hour[day],
                "top_authors": [list(pair) for pair in per_author[day].most_common(TOP_PER_DAY)],
                "top_terms": [
                    list(pair) for pair in term_counts(docs[day]).most_common(TOP_PER_DAY)
                ],
                "analyzed": int(analyzed),
                "updated_at": now,
            }
            for day, comments, distinct_authors, replies, likes, analyzed in totals
        ]
