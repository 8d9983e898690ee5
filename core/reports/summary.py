"""A report's numbers for a period: read from the daily statistics and, for what cannot be
added up day by day (distinct authors, top posts and authors, keywords), from the comments with
GROUP BY in the database; the same few queries for one community or for all of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analysis import analyzer, general_background
from core.models import DailyStats, DailyTerm, Group
from core.reports.ranking import (
    EVERY_COMMUNITY,
    Authors,
    TopAuthor,
    TopPost,
    top_authors,
    top_posts,
)
from core.storage import Sessions
from core.text.keywords import rank_keywords


@dataclass(frozen=True)
class Limits:
    """How long the top lists are."""

    posts: int = 5
    authors: int = 10
    keywords: int = 10


# A report of all communities: shorter lists in each section. Its keywords are those of all
# the communities together, in the totals: a community's own are ranked against the others,
# which /report <group> does.
SECTION_LIMITS = Limits(posts=3, authors=5)


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


async def summarize(
    sessions: Sessions, owner_id: int, first: date, last: date, limits: Limits = Limits()
) -> Summary:
    """Every number of one community's report over [first, last]."""
    async with sessions() as session:
        found, _everyone = await _communities(session, owner_id, first, last, limits)
    summary = found[owner_id]
    if summary.analyzed and limits.keywords:
        summary.keywords = await period_keywords(sessions, owner_id, first, last, limits.keywords)
    return summary


async def summarize_all(
    sessions: Sessions, first: date, last: date, limits: Limits = SECTION_LIMITS
) -> Summary:
    """All communities: the totals (with the keywords of all of them), plus one section per
    community with comments in the period, busiest first."""
    async with sessions() as session:
        found, everyone = await _communities(session, None, first, last, limits)
    total = Summary(None, "", first, last, authors=everyone.count, top_authors=everyone.top)
    for section in found.values():  # a few numbers per community: they add up
        total.comments += section.comments
        total.previous += section.previous
        total.replies += section.replies
        total.likes += section.likes
        total.analyzed += section.analyzed
        total.hours = [a + b for a, b in zip(total.hours, section.hours, strict=True)]
        for day, comments in section.per_day.items():
            total.per_day[day] = total.per_day.get(day, 0) + comments
    busiest = sorted(found.values(), key=lambda section: (-section.comments, section.owner_id))
    total.sections = [section for section in busiest if section.comments]
    # A post belongs to one community, so the busiest posts of all are among each one's top.
    posts = [post for section in total.sections for post in section.top_posts]
    posts.sort(key=lambda post: (-post.comments, post.owner_id, post.post_id))
    total.top_posts = posts[: limits.posts]
    if total.analyzed and limits.keywords:
        total.keywords = await period_keywords(sessions, None, first, last, limits.keywords)
    return total


async def _communities(
    session: AsyncSession, owner_id: int | None, first: date, last: date, limits: Limits
) -> tuple[dict[int, Summary], Authors]:
    """Each community's numbers of the period (keywords aside): the one asked, even with
    nothing stored, or every one with comments in the period or the previous one; and, when
    every one was asked, the authors of all of them together. A handful of grouped queries
    whatever the number of communities: the day rows of `update_statistics` (a few dozen per
    community), then the rankings over the comments (see core.reports.ranking)."""
    days = select(
        DailyStats.owner_id,
        DailyStats.day,
        DailyStats.comments,
        DailyStats.replies,
        DailyStats.likes,
        DailyStats.hours,
        DailyStats.analyzed,
    ).where(DailyStats.day >= first, DailyStats.day <= last)
    before = first - timedelta(days=(last - first).days + 1)
    previous = (
        select(DailyStats.owner_id, func.sum(DailyStats.comments))
        .where(DailyStats.day >= before, DailyStats.day < first)
        .group_by(DailyStats.owner_id)
    )
    found: dict[int, Summary] = {}
    if owner_id is not None:
        days = days.where(DailyStats.owner_id == owner_id)
        previous = previous.where(DailyStats.owner_id == owner_id)
        found[owner_id] = Summary(owner_id, "", first, last)
    for owner, day, comments, replies, likes, hours, analyzed in await session.execute(days):
        summary = found.setdefault(int(owner), Summary(int(owner), "", first, last))
        summary.per_day[day] = int(comments)
        summary.comments += int(comments)
        summary.replies += int(replies)
        summary.likes += int(likes)
        summary.analyzed += int(analyzed)
        summary.hours = [a + b for a, b in zip(summary.hours, hours, strict=True)]
    for owner, comments in await session.execute(previous):
        found.setdefault(int(owner), Summary(int(owner), "", first, last)).previous = int(comments)
    await _name(session, found)
    active = [owner for owner, summary in found.items() if summary.comments]
    if not active:
        return found, Authors()
    posts = await top_posts(session, active, first, last, limits.posts)
    authors = await top_authors(
        session, active, first, last, limits.authors, overall=owner_id is None
    )
    for owner in active:
        found[owner].top_posts = posts.get(owner, [])
        found[owner].authors = authors[owner].count
        found[owner].top_authors = authors[owner].top
    return found, authors.get(EVERY_COMMUNITY, Authors())


async def _name(session: AsyncSession, found: dict[int, Summary]) -> None:
    """Each community's name as people know it."""
    if not found:
        return
    groups = await session.execute(
        select(Group.id, Group.name, Group.screen_name).where(Group.id.in_([-o for o in found]))
    )
    names = {-int(group): name or screen_name for group, name, screen_name in groups}
    for owner, summary in found.items():
        summary.name = names.get(owner, str(-owner))


async def period_keywords(
    sessions: Sessions, owner_id: int | None, first: date, last: date, top_n: int
) -> list[tuple[str, int]]:
    """The period's keywords of one community (None: of all of them together), from the daily
    term counts `update_statistics` stores. A community's are ranked as /keywords ranks them,
    against the other communities and a general word list; all communities' against the
    general list alone. Each count is how many analysed comments mention it."""
    days = and_(DailyTerm.day >= first, DailyTerm.day <= last)
    total = func.sum(DailyTerm.comments)
    own = select(DailyTerm.term, total).where(days).group_by(DailyTerm.term)
    background = Counter(general_background())
    async with sessions() as session:
        if owner_id is not None:
            others = own.where(DailyTerm.owner_id != owner_id)
            background.update({term: int(n) for term, n in await session.execute(others)})
            own = own.where(DailyTerm.owner_id == owner_id)
        counts = Counter({term: int(n) for term, n in await session.execute(own)})
    ranked = rank_keywords(counts, background, top_n)
    text = analyzer().phrase_text  # "зимний рыбалка" reads "зимняя рыбалка", as in /keywords
    return [(text(keyword.term), keyword.count) for keyword in ranked]
