"""A report's numbers for a period: read from the daily statistics and, for what cannot be
added up day by day (distinct authors, top posts and authors, keywords), from the comments with
GROUP BY in the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core.analysis import analyzer, general_background
from core.models import Author, Comment, DailyStats, DailyTerm, Group, Post
from core.reports.statistics import readable
from core.storage import Sessions
from core.text.keywords import rank_keywords


@dataclass(frozen=True)
class Limits:
    """How long the top lists are."""

    posts: int = 5
    authors: int = 10
    keywords: int = 10


# Keywords are ranked against the other communities, so a report of all of them (one
# section each) leaves them to /report <group>.
SECTION_LIMITS = Limits(posts=3, authors=5, keywords=0)


@dataclass(frozen=True)
class TopPost:
    owner_id: int
    post_id: int
    comments: int
    text: str

    @property
    def link(self) -> str:
        return f"https://vk.com/wall{self.owner_id}_{self.post_id}"


@dataclass(frozen=True)
class TopAuthor:
    author_id: int
    name: str
    comments: int

    @property
    def label(self) -> str:
        """The name, or the VK id as people write it when the name was never stored."""
        if self.name:
            return self.name
        return f"id{self.author_id}" if self.author_id > 0 else f"club{-self.author_id}"


@dataclass
class Summary:
    """One community's period (owner_id set), or all of them (owner_id None)."""

    owner_id: int | None
    name: str
    first: date
    last: date
    per_day: dict[date, int] = field(default_factory=dict)
    comments: int = 0
    previous: int = 0
    authors: int = 0
    replies: int = 0
    likes: int = 0
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    top_posts: list[TopPost] = field(default_factory=list)
    top_authors: list[TopAuthor] = field(default_factory=list)
    keywords: list[tuple[str, int]] = field(default_factory=list)
    analyzed: int = 0
    sections: list[Summary] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def growth(self) -> float | None:
        """Per cent against the previous period of the same length (None: it had nothing)."""
        if not self.previous:
            return None
        return (self.comments - self.previous) * 100 / self.previous

    @property
    def busiest_hour(self) -> int | None:
        return max(range(24), key=lambda h: (self.hours[h], -h)) if self.comments else None

    @property
    def busiest_weekday(self) -> int | None:
        """0 = Monday; the weekday with the most comments over the period."""
        totals: Counter[int] = Counter()
        for day, count in self.per_day.items():
            totals[day.weekday()] += count
        return max(range(7), key=lambda w: (totals[w], -w)) if self.comments else None


def _where(owner_id: int | None, first: date, last: date) -> ColumnElement[bool]:
    """The period's readable comments of one community (or all), as the index has them."""
    clause = and_(Comment.local_day >= first, Comment.local_day <= last, readable())
    return and_(Comment.owner_id == owner_id, clause) if owner_id is not None else clause


def _daily(owner_id: int | None, first: date, last: date) -> Select[date, int, int, int]:
    """Comments, replies and likes per day, from the daily statistics."""
    query = select(
        DailyStats.day,
        func.sum(DailyStats.comments),
        func.sum(DailyStats.replies),
        func.sum(DailyStats.likes),
    ).where(DailyStats.day >= first, DailyStats.day <= last)
    if owner_id is not None:
        query = query.where(DailyStats.owner_id == owner_id)
    return query.group_by(DailyStats.day)


async def summarize(
    sessions: Sessions, owner_id: int | None, first: date, last: date, limits: Limits = Limits()
) -> Summary:
    """Every number of the report of one community (or all) over [first, last]."""
    summary = Summary(owner_id, await _name(sessions, owner_id), first, last)
    before = first - timedelta(days=summary.days)
    where = _where(owner_id, first, last)
    async with sessions() as session:
        for day, comments, replies, likes in await session.execute(_daily(owner_id, first, last)):
            summary.per_day[day] = int(comments)
            summary.comments += int(comments)
            summary.replies += int(replies)
            summary.likes += int(likes)
        previous = select(func.coalesce(func.sum(DailyStats.comments), 0)).where(
            DailyStats.day >= before, DailyStats.day < first
        )
        if owner_id is not None:
            previous = previous.where(DailyStats.owner_id == owner_id)
        summary.previous = int(await session.scalar(previous) or 0)
        if not summary.comments:
            return summary
        hours = select(DailyStats.hours).where(DailyStats.day >= first, DailyStats.day <= last)
        if owner_id is not None:
            hours = hours.where(DailyStats.owner_id == owner_id)
        for day_hours in await session.scalars(hours):  # one short list per community and day
            summary.hours = [a + b for a, b in zip(summary.hours, day_hours, strict=True)]
        if owner_id is not None:  # for all communities: from the sections, see summarize_all
            summary.top_posts = await _top_posts(session, where, limits.posts)
        summary.authors, summary.top_authors = await _authors(session, where, limits.authors)
    if owner_id is not None and limits.keywords:
        # Keywords are typical of one community, so only a community's summary has them.
        summary.analyzed, summary.keywords = await period_keywords(
            sessions, owner_id, first, last, limits.keywords
        )
    return summary


async def period_keywords(
    sessions: Sessions, owner_id: int, first: date, last: date, top_n: int
) -> tuple[int, list[tuple[str, int]]]:
    """The period's keywords ranked as /keywords ranks them (against the other communities and
    a general word list), from the daily term counts `update_statistics` stores; and how many
    analysed comments they came from. Each count is how many of those comments mention it."""
    days = and_(DailyTerm.day >= first, DailyTerm.day <= last)
    total = func.sum(DailyTerm.comments)
    async with sessions() as session:
        analyzed = await session.scalar(
            select(func.coalesce(func.sum(DailyStats.analyzed), 0)).where(
                DailyStats.owner_id == owner_id, DailyStats.day >= first, DailyStats.day <= last
            )
        )
        if not analyzed:
            return 0, []
        own = await session.execute(
            select(DailyTerm.term, total)
            .where(DailyTerm.owner_id == owner_id, days)
            .group_by(DailyTerm.term)
        )
        counts = Counter({term: int(n) for term, n in own})
        others = await session.execute(
            select(DailyTerm.term, total)
            .where(DailyTerm.owner_id != owner_id, days)
            .group_by(DailyTerm.term)
        )
        background = Counter({term: int(n) for term, n in others})
    background.update(general_background())
    ranked = rank_keywords(counts, background, top_n)
    text = analyzer().phrase_text  # "зимний рыбалка" reads "зимняя рыбалка", as in /keywords
    return int(analyzed), [(text(keyword.term), keyword.count) for keyword in ranked]


async def _top_posts(
    session: AsyncSession, where: ColumnElement[bool], limit: int
) -> list[TopPost]:
    """The posts with the most comments in the period, with their text (read for those
    posts only: counted from the index first, then joined)."""
    count = func.count().label("comments")
    top = (
        select(Comment.owner_id, Comment.post_id, count)
        .where(where)
        .group_by(Comment.owner_id, Comment.post_id)
        .order_by(count.desc(), Comment.owner_id, Comment.post_id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(top.c.owner_id, top.c.post_id, top.c.comments, Post.text)
        .outerjoin(Post, and_(Post.owner_id == top.c.owner_id, Post.post_id == top.c.post_id))
        .order_by(top.c.comments.desc(), top.c.owner_id, top.c.post_id)
    )
    rows = await session.execute(query)
    return [TopPost(int(o), int(p), int(c), str(t or "")) for o, p, c, t in rows]


async def _authors(
    session: AsyncSession, where: ColumnElement[bool], limit: int
) -> tuple[int, list[TopAuthor]]:
    """How many authors wrote in the period, and the most active of them, named where VK told
    us their names: one pass over the index (the count is the number of author groups)."""
    count = func.count().label("comments")
    per_author = select(Comment.from_id, count).where(where).group_by(Comment.from_id).subquery()
    top = (
        select(per_author.c.from_id, per_author.c.comments, func.count().over().label("authors"))
        .order_by(per_author.c.comments.desc(), per_author.c.from_id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(top.c.from_id, Author.name, top.c.comments, top.c.authors)
        .outerjoin(Author, Author.id == top.c.from_id)
        .order_by(top.c.comments.desc(), top.c.from_id)
    )
    rows = (await session.execute(query)).all()
    authors = int(rows[0][3]) if rows else 0
    return authors, [TopAuthor(int(a), str(n or ""), int(c)) for a, n, c, _ in rows]


async def _name(sessions: Sessions, owner_id: int | None) -> str:
    """The community's name as people know it (all communities: none)."""
    if owner_id is None:
        return ""
    async with sessions() as session:
        group = await session.get(Group, -owner_id)
    return (group.name or group.screen_name) if group else str(-owner_id)


async def summarize_all(
    sessions: Sessions, first: date, last: date, limits: Limits = SECTION_LIMITS
) -> Summary:
    """All communities: the totals, plus one section per community with comments in the
    period, busiest first."""
    total = await summarize(sessions, None, first, last, limits)
    if not total.comments:
        return total
    async with sessions() as session:
        busiest = await session.execute(
            select(DailyStats.owner_id, func.sum(DailyStats.comments).label("n"))
            .where(DailyStats.day >= first, DailyStats.day <= last)
            .group_by(DailyStats.owner_id)
            .order_by(func.sum(DailyStats.comments).desc(), DailyStats.owner_id)
        )
        owners = [int(owner) for owner, _ in busiest]
    total.sections = [await summarize(sessions, owner, first, last, limits) for owner in owners]
    # A post belongs to one community, so the busiest posts of all are among each one's top.
    posts = [post for section in total.sections for post in section.top_posts]
    posts.sort(key=lambda post: (-post.comments, post.owner_id, post.post_id))
    total.top_posts = posts[: limits.posts]
    return total
