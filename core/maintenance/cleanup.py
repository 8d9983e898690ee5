"""Deleting what is older than the retention period: comments by their VK publication date
(with their analysis, stored in the same row), then posts left without comments that are old
too. In small transactions, so the bot and the workers keep writing meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, exists, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from core.models import Comment, Post
from core.storage import Sessions, mark_days_changed, utcnow

# Rows per transaction: short enough that a parse waiting for SQLite's write lock hardly
# notices, large enough that a year of comments goes in minutes.
BATCH = 500

Progress = Callable[["Deleted"], Awaitable[None]]


def transactions_for(planned: Deleted, batch: int = BATCH) -> int:
    """How many transactions deleting what `preview` found takes (at least 1)."""
    return max(1, -(-planned.comments // batch) + -(-planned.posts // batch))


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    """The moment before which comments are old: `days` days before now (UTC)."""
    return (now or utcnow()) - timedelta(days=days)


def _old_comment(cutoff: datetime) -> ColumnElement[bool]:
    return Comment.date < cutoff


def _old_post_without_comments(cutoff: datetime) -> ColumnElement[bool]:
    has_comments = exists().where(
        Comment.owner_id == Post.owner_id, Comment.post_id == Post.post_id
    )
    return (Post.date < cutoff) & ~has_comments


def _old_post_without_new_comments(cutoff: datetime) -> ColumnElement[bool]:
    """A post that will have no comments left once the old ones are gone."""
    has_new = exists().where(
        Comment.owner_id == Post.owner_id,
        Comment.post_id == Post.post_id,
        Comment.date >= cutoff,
    )
    return (Post.date < cutoff) & ~has_new


@dataclass
class Deleted:
    """What a cleanup deletes (or would): comments, how many of them were analysed, posts."""

    comments: int = 0
    analysed: int = 0
    posts: int = 0
    days: set[tuple[int, date]] = field(default_factory=set)  # (owner_id, local day) touched
    transactions: int = 0  # that deleted something


async def preview(sessions: Sessions, cutoff: datetime) -> Deleted:
    """What a cleanup with this cut-off would delete now."""
    async with sessions() as session:
        comments, analysed = (
            await session.execute(
                select(func.count(), func.count(Comment.terms)).where(_old_comment(cutoff))
            )
        ).one()
        posts = await session.scalar(
            select(func.count()).select_from(Post).where(_old_post_without_new_comments(cutoff))
        )
    return Deleted(comments=int(comments), analysed=int(analysed), posts=int(posts or 0))


async def delete_old(
    sessions: Sessions, cutoff: datetime, *, batch: int = BATCH, progress: Progress | None = None
) -> Deleted:
    """Delete old comments, then old posts without comments, `batch` rows per transaction.

    Each transaction deletes and marks the local days of what it deleted for the statistics
    recount (`core.reports.statistics.refresh`), so no deletion is left uncounted. Deleting
    returns the rows it deleted, so the counts are exact even while parses and analyses write.
    """
    done = Deleted()
    while await _delete_comments(sessions, cutoff, batch, done):
        if progress is not None:
            await progress(done)
    while await _delete_posts(sessions, cutoff, batch, done):
        if progress is not None:
            await progress(done)
    return done


async def _delete_comments(sessions: Sessions, cutoff: datetime, batch: int, done: Deleted) -> int:
    key = tuple_(Comment.owner_id, Comment.post_id, Comment.comment_id)
    chosen = select(Comment.owner_id, Comment.post_id, Comment.comment_id)
    chosen = chosen.where(_old_comment(cutoff)).limit(batch)
    async with sessions.begin() as session:
        rows = (
            await session.execute(
                delete(Comment)
                .where(key.in_(chosen), _old_comment(cutoff))
                .returning(Comment.owner_id, Comment.local_day, Comment.terms)
            )
        ).all()
        days = {(int(owner), day) for owner, day, _terms in rows if day is not None}
        await mark_days_changed(session, days)
    done.transactions += bool(rows)
    done.comments += len(rows)
    done.analysed += sum(1 for _owner, _day, terms in rows if terms is not None)
    done.days |= days
    return len(rows)


async def _delete_posts(sessions: Sessions, cutoff: datetime, batch: int, done: Deleted) -> int:
    key = tuple_(Post.owner_id, Post.post_id)
    chosen = select(Post.owner_id, Post.post_id)
    chosen = chosen.where(_old_post_without_comments(cutoff)).limit(batch)
    async with sessions.begin() as session:
        rows = (
            await session.execute(
                delete(Post)
                .where(key.in_(chosen), _old_post_without_comments(cutoff))
                .returning(Post.post_id)
            )
        ).all()
    done.transactions += bool(rows)
    done.posts += len(rows)
    return len(rows)
