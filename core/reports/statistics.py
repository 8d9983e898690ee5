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
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core.analysis import decode_terms
from core.models import Comment, DailyStats, DailyTerm, StatsDirtyDay
from core.storage import Sessions, mark_days_changed, utcnow
from core.text.keywords import count_document

TOP_PER_DAY = 10
# Terms kept per community and day. A day with fewer distinct terms (a community with up to
# about a hundred analysed comments a day) is kept whole, so a period's counts are exact;
# above that, a term counts on the days it was among the day's commonest.
TERMS_PER_DAY = 300
MAX_TERM = 100  # characters: longer "words" are glued spam, never a keyword
DAYS_PER_QUERY = 60
TERMS_CHUNK = 1000  # analysed comments held at once while their terms are counted

Key = TypeVar("Key", int, str)


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
    done = Refreshed(communities=len(by_owner))
    for owner, days in by_owner.items():
        for start in range(0, len(days), DAYS_PER_QUERY):
            done.days += await _recount(sessions, owner, days[start : start + DAYS_PER_QUERY])
    return done


async def _recount(sessions: Sessions, owner_id: int, marks: list[tuple[date, datetime]]) -> int:
    """Recount some days of one community; returns how many were written.

    The counts are read outside any transaction, so parses are not held up meanwhile. The
    write then starts by clearing the marks that are still the ones read before counting,
    and writes only their days: a day marked again meanwhile (comments stored while we
    counted) keeps its mark for the next run, and a day another run recounted meanwhile (its
    mark gone) keeps that run's counts, which are at least as new. The clearing is the
    transaction's first statement, so two runs on the same day are serialised by it (a row
    lock on PostgreSQL, the write lock on SQLite): older counts never overwrite newer ones,
    and no day's rows are inserted twice.
    """
    rows, terms = await _aggregate(sessions, owner_id, [day for day, _ in marks])
    async with sessions.begin() as session:
        cleared = await session.execute(
            delete(StatsDirtyDay)
            .where(
                StatsDirtyDay.owner_id == owner_id,
                tuple_(StatsDirtyDay.day, StatsDirtyDay.changed_at).in_(marks),
            )
            .returning(StatsDirtyDay.day)
        )
        days = set(cleared.scalars())
        if not days:
            return 0
        for table in (DailyStats, DailyTerm):
            await session.execute(
                delete(table).where(table.owner_id == owner_id, table.day.in_(days))
            )
        for table, values in ((DailyStats, rows), (DailyTerm, terms)):
            ours = [row for row in values if row["day"] in days]
            if ours:
                await session.execute(insert(table), ours)
    return len(days)


async def _aggregate(
    sessions: Sessions, owner_id: int, days: list[date]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The DailyStats and DailyTerm rows of these days (days without comments get none)."""
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
        per_hour: dict[date | None, list[int]] = defaultdict(lambda: [0] * 24)
        for day, hour, count in hours:
            per_hour[day][int(hour or 0)] = int(count)
        per_author: dict[date | None, Counter[int]] = defaultdict(Counter)
        for day, author, count in authors:
            per_author[day][int(author)] = int(count)
        now = utcnow()
        stats = [
            {
                "owner_id": owner_id,
                "day": day,
                "comments": int(comments),
                "authors": int(distinct_authors),
                "replies": int(replies or 0),
                "likes": int(likes or 0),
                "hours": per_hour[day],
                "top_authors": [list(pair) for pair in commonest(per_author[day], TOP_PER_DAY)],
                "analyzed": int(analyzed),
                "updated_at": now,
            }
            for day, comments, distinct_authors, replies, likes, analyzed in totals
        ]
        per_day = await _term_counts(session, where)
    day_terms = [
        {"owner_id": owner_id, "day": day, "term": term, "comments": count}
        for day, counts in per_day.items()
        for term, count in commonest(_short(counts), TERMS_PER_DAY)
    ]
    return stats, day_terms


async def _term_counts(
    session: AsyncSession, where: ColumnElement[bool]
) -> dict[date | None, Counter[str]]:
    """How many analysed comments of each day mention each term. The comments are streamed
    TERMS_CHUNK at a time, so memory follows the days' vocabulary, not their comments."""
    per_day: dict[date | None, Counter[str]] = defaultdict(Counter)
    analysed = await session.stream(
        select(Comment.local_day, Comment.terms)
        .where(where, Comment.terms.is_not(None))
        .execution_options(yield_per=TERMS_CHUNK)
    )
    async for part in analysed.partitions():
        for day, text in part:
            count_document(per_day[day], decode_terms(text or ""))
    return per_day


def commonest(counts: Counter[Key], limit: int) -> list[tuple[Key, int]]:
    """The `limit` commonest, ties by key: the same rows whatever order the database read."""
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]


def _short(counts: Counter[str]) -> Counter[str]:
    return Counter({term: n for term, n in counts.items() if len(term) <= MAX_TERM})
