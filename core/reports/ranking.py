"""A period's busiest posts and authors, for one community or for every one at once.

What cannot be added up day by day is counted from the comments: one GROUP BY over the period
for all the communities asked, and ROW_NUMBER() per community for the top lists (SQLite and
PostgreSQL both have window functions). A report of twenty communities runs the same two
queries as a report of one, rather than a few per community.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core.models import Author, Comment, Post
from core.reports.statistics import readable

EVERY_COMMUNITY = 0  # the key of the all-communities ranking (owner ids are never 0)
# SORT_KEYS: SQLite groups by sorting, and compares sort keys field by field; the post or
# author first decides most comparisons on the first field (the community would decide none
# among one community's rows). The same groups, a fifth less CPU on 320,000 comments.


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
class Authors:
    """How many distinct authors wrote in the period, and the most active of them."""

    count: int = 0
    top: list[TopAuthor] = field(default_factory=list)


def _period(owners: Sequence[int], first: date, last: date) -> ColumnElement[bool]:
    """The period's readable comments of these communities: one range of the report index
    per community."""
    return and_(
        Comment.owner_id.in_(owners),
        Comment.local_day >= first,
        Comment.local_day <= last,
        readable(),
    )


async def top_posts(
    session: AsyncSession, owners: Sequence[int], first: date, last: date, limit: int
) -> dict[int, list[TopPost]]:
    """Each community's posts with the most comments in the period, with their text (read
    for those posts only: counted from the index first, then joined)."""
    count = func.count().label("comments")
    counted = (
        select(Comment.owner_id, Comment.post_id, count)
        .where(_period(owners, first, last))
        .group_by(Comment.post_id, Comment.owner_id)  # see SORT_KEYS
        .subquery()
    )
    place = func.row_number().over(
        partition_by=counted.c.owner_id, order_by=(counted.c.comments.desc(), counted.c.post_id)
    )
    ranked = select(counted, place.label("place")).subquery()
    query = (
        select(ranked.c.owner_id, ranked.c.post_id, ranked.c.comments, Post.text)
        .outerjoin(Post, and_(Post.owner_id == ranked.c.owner_id, Post.post_id == ranked.c.post_id))
        .where(ranked.c.place <= limit)
        .order_by(ranked.c.owner_id, ranked.c.place)
    )
    found: dict[int, list[TopPost]] = defaultdict(list)
    for owner, post, comments, text in await session.execute(query):
        found[int(owner)].append(TopPost(int(owner), int(post), int(comments), str(text or "")))
    return found


async def top_authors(
    session: AsyncSession,
    owners: Sequence[int],
    first: date,
    last: date,
    limit: int,
    *,
    overall: bool = False,
) -> dict[int, Authors]:
    """Each community's distinct authors of the period and its most active ones, named where
    VK told us their names; with `overall`, also those of all the communities together (under
    EVERY_COMMUNITY: someone writing in two counts once). One statement: the comments are
    grouped by community and author once, and both rankings read those groups."""
    count = func.count().label("comments")
    per_author = (
        select(Comment.owner_id, Comment.from_id, count)
        .where(_period(owners, first, last))
        .group_by(Comment.from_id, Comment.owner_id)  # see SORT_KEYS
        .cte("per_author")
    )
    each = select(
        per_author.c.owner_id.label("scope"),
        per_author.c.from_id,
        per_author.c.comments,
        func.row_number()
        .over(
            partition_by=per_author.c.owner_id,
            order_by=(per_author.c.comments.desc(), per_author.c.from_id),
        )
        .label("place"),
        func.count().over(partition_by=per_author.c.owner_id).label("authors"),
    )
    rankings = [each]
    if overall:
        total = func.sum(per_author.c.comments)
        rankings.append(
            select(
                literal(EVERY_COMMUNITY).label("scope"),
                per_author.c.from_id,
                total.label("comments"),
                func.row_number().over(order_by=(total.desc(), per_author.c.from_id)),
                func.count().over(),
            ).group_by(per_author.c.from_id)
        )
    ranked = union_all(*rankings).subquery() if overall else each.subquery()
    query = (
        select(ranked.c.scope, ranked.c.from_id, Author.name, ranked.c.comments, ranked.c.authors)
        .outerjoin(Author, Author.id == ranked.c.from_id)
        .where(ranked.c.place <= limit)
        .order_by(ranked.c.scope, ranked.c.place)
    )
    found: dict[int, Authors] = defaultdict(Authors)
    for scope, author, name, comments, authors in await session.execute(query):
        ranking = found[int(scope)]
        ranking.count = int(authors)
        ranking.top.append(TopAuthor(int(author), str(name or ""), int(comments)))
    return found
