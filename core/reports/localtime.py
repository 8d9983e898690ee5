"""Comments' local day and hour in the configured TIMEZONE.

SQLite has no time-zone rules, so each comment's local day and hour are computed in Python when
it is stored and kept in columns; both databases then group by the same values. When TIMEZONE
changes they are computed again for every comment, and every day a comment left or joined is
recounted.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select, tuple_, update

from core.db import upsert
from core.models import AppState, Comment
from core.storage import Sessions, mark_days_changed

log = logging.getLogger(__name__)

ZONE_KEY = "timezone"
CHUNK = 5000


def local_time(moment: datetime, zone: tzinfo) -> tuple[date, int]:
    """The local day and hour of a moment (naive moments are UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return local.date(), local.hour


def today(zone: tzinfo) -> date:
    """Today's date in the zone, where reports' periods end."""
    return datetime.now(zone).date()


def period(days: int, zone: tzinfo, end: date | None = None) -> tuple[date, date]:
    """The last `days` local days, today included."""
    last = end or today(zone)
    return last - timedelta(days=days - 1), last


async def ensure_zone(sessions: Sessions, zone_name: str, zone: tzinfo) -> int:
    """Make every comment's local day and hour agree with TIMEZONE; returns how many were
    (re)computed. Cheap when nothing changed: one key read and one indexed lookup."""
    async with sessions() as session:
        stored = await session.get(AppState, ZONE_KEY)
        missing = await session.scalar(
            select(Comment.owner_id).where(Comment.local_day.is_(None)).limit(1)
        )
    changed = stored is None or stored.value != zone_name
    if not changed and missing is None:
        return 0
    if changed:
        log.info("TIMEZONE is now %s: recomputing comments' local days", zone_name)
    done = await _recompute(sessions, zone, only_missing=not changed)
    async with sessions.begin() as session:
        await upsert(
            session,
            AppState.__table__,  # type: ignore[arg-type]
            [{"key": ZONE_KEY, "value": zone_name}],
            keys=["key"],
            update=["value"],
        )
    return done


async def _recompute(sessions: Sessions, zone: tzinfo, *, only_missing: bool) -> int:
    """Walk the comments in primary-key order, a chunk at a time, so memory stays flat.

    Both the day a comment leaves and the day it joins are marked for recounting: a day left
    empty is then cleared, its statistics and its keyword counts alike."""
    key = tuple_(Comment.owner_id, Comment.post_id, Comment.comment_id)
    after: tuple[int, int, int] | None = None
    done = 0
    while True:
        query = select(
            Comment.owner_id, Comment.post_id, Comment.comment_id, Comment.date, Comment.local_day
        )
        if only_missing:
            query = query.where(Comment.local_day.is_(None))
        if after is not None:
            query = query.where(key > tuple_(*after))
        async with sessions() as session:
            rows = (await session.execute(query.order_by(*key.clauses).limit(CHUNK))).all()
        if not rows:
            return done
        values: list[dict[str, Any]] = []
        days: set[tuple[int, date]] = set()
        for owner_id, post_id, comment_id, moment, old_day in rows:
            day, hour = local_time(moment, zone)
            values.append(
                {
                    "owner_id": owner_id,
                    "post_id": post_id,
                    "comment_id": comment_id,
                    "local_day": day,
                    "local_hour": hour,
                }
            )
            days.add((owner_id, day))
            if old_day is not None:
                days.add((owner_id, old_day))
        async with sessions.begin() as session:
            await session.execute(update(Comment), values)
            await mark_days_changed(session, days)
        done += len(rows)
        last = rows[-1]
        after = (int(last.owner_id), int(last.post_id), int(last.comment_id))
