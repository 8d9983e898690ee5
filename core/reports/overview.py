"""/stats: what is stored, read from the daily statistics (and the comments for distinct
authors, which cannot be added up day by day)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Comment, DailyStats, Group
from core.reports.statistics import readable
from core.storage import Sessions

BUSIEST_DAYS = 3


@dataclass
class Window:
    """The last N days of one community."""

    days: int
    comments: int = 0
    authors: int = 0


@dataclass
class CommunityStats:
    group_id: int
    name: str
    last_parsed_at: datetime | None
    comments: int = 0
    authors: int = 0
    replies: int = 0
    likes: int = 0
    windows: list[Window] = field(default_factory=list)
    busiest: list[tuple[date, int]] = field(default_factory=list)


@dataclass
class Overview:
    communities: list[CommunityStats]
    busiest: list[tuple[date, int]]

    @property
    def comments(self) -> int:
        return sum(c.comments for c in self.communities)


async def _busiest(sessions: Sessions, owner_id: int | None) -> list[tuple[date, int]]:
    """The days with the most comments, of one community or all."""
    total = func.sum(DailyStats.comments).label("n")
    query = select(DailyStats.day, total).group_by(DailyStats.day)
    if owner_id is not None:
        query = query.where(DailyStats.owner_id == owner_id)
    query = query.order_by(total.desc(), DailyStats.day.desc()).limit(BUSIEST_DAYS)
    async with sessions() as session:
        return [(day, int(n)) for day, n in await session.execute(query)]


async def overview(sessions: Sessions) -> Overview:
    """Every community with stored comments: totals and last parse; the busiest days."""
    query = (
        select(
            Group.id,
            Group.name,
            Group.screen_name,
            Group.last_parsed_at,
            func.sum(DailyStats.comments),
            func.sum(DailyStats.replies),
            func.sum(DailyStats.likes),
        )
        .join(DailyStats, DailyStats.owner_id == -Group.id)
        .group_by(Group.id, Group.name, Group.screen_name, Group.last_parsed_at)
        .order_by(func.sum(DailyStats.comments).desc(), Group.id)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    communities = [
        CommunityStats(
            int(gid),
            name or screen or str(gid),
            parsed,
            comments=int(comments or 0),
            replies=int(replies or 0),
            likes=int(likes or 0),
        )
        for gid, name, screen, parsed, comments, replies, likes in rows
    ]
    return Overview(communities, await _busiest(sessions, None))


async def community(sessions: Sessions, group: Group, today: date) -> CommunityStats:
    """One community: totals, the last 7 and 30 days, its busiest days."""
    owner_id = -group.id
    stats = CommunityStats(group.id, group.name or group.screen_name, group.last_parsed_at)
    async with sessions() as session:
        totals = await session.execute(
            select(
                func.coalesce(func.sum(DailyStats.comments), 0),
                func.coalesce(func.sum(DailyStats.replies), 0),
                func.coalesce(func.sum(DailyStats.likes), 0),
            ).where(DailyStats.owner_id == owner_id)
        )
        comments, replies, likes = totals.one()
        stats.comments, stats.replies, stats.likes = int(comments), int(replies), int(likes)
        stats.authors = await _authors(session, owner_id, None)
        for days in (7, 30):
            first = today - timedelta(days=days - 1)
            window = Window(days, authors=await _authors(session, owner_id, first))
            window.comments = int(
                await session.scalar(
                    select(func.coalesce(func.sum(DailyStats.comments), 0)).where(
                        DailyStats.owner_id == owner_id, DailyStats.day >= first
                    )
                )
                or 0
            )
            stats.windows.append(window)
    stats.busiest = await _busiest(sessions, owner_id)
    return stats


async def _authors(session: AsyncSession, owner_id: int, first: date | None) -> int:
    """Distinct authors since a day (or ever): not a sum of days, so counted from comments."""
    where = and_(Comment.owner_id == owner_id, readable())
    if first is not None:
        where = and_(where, Comment.local_day >= first)
    query = select(func.count(func.distinct(Comment.from_id))).where(where)
    return int(await session.scalar(query) or 0)
