"""Reads and writes of the product's tables, shared by bot and worker."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import audit_trail
from core.db import upsert
from core.models import OPEN_STATUSES, Author, Comment, Group, JobAudit, Post, StatsDirtyDay

Sessions = async_sessionmaker[AsyncSession]


def utcnow() -> datetime:
    return datetime.now(UTC)


def job_row(
    *,
    job_id: str,
    job_name: str,
    user_id: int | None,
    chat_id: int | None,
    args: dict[str, Any],
    language: str | None,
    enqueued_at: datetime,
) -> dict[str, Any]:
    """A job's audit row as enqueued: written by the enqueue, or by its worker if first."""
    return {
        "job_id": job_id,
        "job_name": job_name,
        "user_id": user_id,
        "chat_id": chat_id,
        "args": args,
        "language": language,
        "status": "queued",
        "tries": 0,
        "enqueued_at": enqueued_at,
    }


async def update_job(sessions: Sessions, job_id: str, **values: Any) -> None:
    """Set columns of a job's audit row, committed before it returns, in order with the
    process's batched audit writes (`core.audit`)."""
    await audit_trail(sessions).update_now(job_id, **values)


async def mark_retrying(sessions: Sessions, job_id: str) -> None:
    """Record that a cut-off job waits in the queue to run again, committed before it returns.

    Unlike `update_job` it does not wait for a row another process may not have written yet: a
    closing message has none at all, and waiting ROW_WAIT_S for one held every worker stopped
    mid-message, and the sweeper, 10 s. A started job's row is its worker's own earlier write;
    one a killed worker never wrote stays as its enqueue writes it ("queued")."""
    await audit_trail(sessions).update_committed(job_id, status="retrying")


async def get_job(sessions: Sessions, job_id: str) -> JobAudit | None:
    await audit_trail(sessions).caught_up()
    async with sessions() as session:
        return await session.get(JobAudit, job_id)


async def recent_jobs(
    sessions: Sessions, chat_id: int, limit: int = 10, since: datetime | None = None
) -> Sequence[JobAudit]:
    query = select(JobAudit).where(
        JobAudit.chat_id == chat_id, JobAudit.job_name != "send_notification"
    )
    if since is not None:
        query = query.where(JobAudit.enqueued_at >= since)
    await audit_trail(sessions).caught_up()
    async with sessions() as session:
        rows = await session.scalars(query.order_by(JobAudit.enqueued_at.desc()).limit(limit))
        return rows.all()


async def mark_notified(sessions: Sessions, job_id: str) -> None:
    """Remember that a job's closing message reached its chat (after it did, never before)."""
    await update_job(sessions, job_id, notified_at=utcnow())


async def open_jobs(sessions: Sessions, before: datetime, limit: int) -> list[str]:
    """Jobs enqueued before `before` that are not recorded as ended, oldest first."""
    query = (
        select(JobAudit.job_id)
        .where(JobAudit.status.in_(OPEN_STATUSES))
        .where(JobAudit.enqueued_at < before)
        .order_by(JobAudit.enqueued_at)
        .limit(limit)
    )
    await audit_trail(sessions).caught_up()
    async with sessions() as session:
        return list((await session.scalars(query)).all())


async def save_group(sessions: Sessions, group_id: int, screen_name: str, name: str) -> None:
    async with sessions.begin() as session:
        await upsert(
            session,
            Group.__table__,  # type: ignore[arg-type]
            [{"id": group_id, "screen_name": screen_name, "name": name}],
            keys=["id"],
            update=["screen_name", "name"],
        )


async def mark_group_parsed(sessions: Sessions, group_id: int) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Group).where(Group.id == group_id).values(last_parsed_at=utcnow())
        )


async def save_posts(sessions: Sessions, rows: Sequence[dict[str, Any]]) -> None:
    async with sessions.begin() as session:
        await upsert(
            session,
            Post.__table__,  # type: ignore[arg-type]
            rows,
            keys=["owner_id", "post_id"],
            update=["text", "comments_count", "is_pinned"],
        )


async def parsed_counts(
    sessions: Sessions, owner_id: int, post_ids: Sequence[int]
) -> dict[int, int]:
    """VK's comment count at the last complete read, for those posts that had one."""
    if not post_ids:
        return {}
    async with sessions() as session:
        rows = await session.execute(
            select(Post.post_id, Post.parsed_comments_count).where(
                Post.owner_id == owner_id,
                Post.post_id.in_(post_ids),
                Post.parsed_comments_count.is_not(None),
            )
        )
        return {int(post): int(count or 0) for post, count in rows}


async def mark_posts_parsed(sessions: Sessions, owner_id: int, counts: dict[int, int]) -> None:
    """Remember VK's comment count of posts whose comments are now stored in full."""
    if not counts:
        return
    async with sessions.begin() as session:
        await session.execute(
            update(Post),
            [
                {"owner_id": owner_id, "post_id": post_id, "parsed_comments_count": count}
                for post_id, count in counts.items()
            ],
        )


async def save_comments(sessions: Sessions, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert comments; `first_job_id` keeps the job that stored each one first.

    The days they fall on are marked for `update_statistics` in the same transaction, so no
    change is stored without its day being recounted.
    """
    if not rows:
        return
    extra = [name for name in ("likes", "local_day", "local_hour") if name in rows[0]]
    async with sessions.begin() as session:
        await upsert(
            session,
            Comment.__table__,  # type: ignore[arg-type]
            rows,
            keys=["owner_id", "post_id", "comment_id"],
            update=["text", "deleted", "from_id", "parent_id", *extra],
            # Kept by a later upsert: `stored_at` is not among the updated columns.
            shared={"stored_at": utcnow()},
        )
        days = {(row["owner_id"], row["local_day"]) for row in rows if row.get("local_day")}
        await mark_days_changed(session, days)


async def mark_days_changed(session: AsyncSession, days: Iterable[tuple[int, date]]) -> None:
    """Note (owner_id, local day) pairs whose statistics must be recounted."""
    await upsert(
        session,
        StatsDirtyDay.__table__,  # type: ignore[arg-type]
        [{"owner_id": owner, "day": day} for owner, day in sorted(days)],
        keys=["owner_id", "day"],
        update=["changed_at"],
        shared={"changed_at": utcnow()},
    )


async def save_authors(sessions: Sessions, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert comment authors (VK users and communities) with their current names."""
    if not rows:
        return
    async with sessions.begin() as session:
        await upsert(
            session,
            Author.__table__,  # type: ignore[arg-type]
            rows,
            keys=["id"],
            update=["name", "screen_name", "updated_at"],
            shared={"updated_at": utcnow()},
        )


StoredComment = Row[int, int, str, bool, str | None]


def _comments_by_key(owner_id: int, keys: Iterable[tuple[int, int]]) -> ColumnElement[bool]:
    """These (post_id, comment_id) of a community, as primary-key lookups.

    Not `(post_id, comment_id) IN (...)`: SQLite answers a row-value IN by reading every
    comment of the community, so a parse that checks its comments 250 at a time would cost
    O(comments stored) per check.
    """
    by_post: dict[int, list[int]] = {}
    for post_id, comment_id in keys:
        by_post.setdefault(post_id, []).append(comment_id)
    return or_(
        *(
            and_(
                Comment.owner_id == owner_id,
                Comment.post_id == post_id,
                Comment.comment_id.in_(comment_ids),
            )
            for post_id, comment_ids in by_post.items()
        )
    )


async def stored_comments(
    sessions: Sessions, owner_id: int, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], StoredComment]:
    """The stored versions of these (post_id, comment_id) of a community, to compare with VK's:
    rows of post_id, comment_id, text, deleted, first_job_id."""
    if not keys:
        return {}
    query = select(
        Comment.post_id, Comment.comment_id, Comment.text, Comment.deleted, Comment.first_job_id
    ).where(_comments_by_key(owner_id, keys))
    async with sessions() as session:
        rows = await session.execute(query)
        return {(row.post_id, row.comment_id): row for row in rows}


async def forget_terms(sessions: Sessions, owner_id: int, keys: Sequence[tuple[int, int]]) -> None:
    """Drop the analysis of comments whose text changed, so the next analysis redoes them."""
    if not keys:
        return
    async with sessions.begin() as session:
        await session.execute(
            update(Comment)
            .where(_comments_by_key(owner_id, keys))
            .values(terms=None, analyzed_at=None)
        )


async def count_new_comments(sessions: Sessions, owner_id: int, job_id: str) -> int:
    """Readable comments this job stored first (exact when the job ran more than once)."""
    async with sessions() as session:
        query = select(func.count()).select_from(Comment)
        query = query.where(
            Comment.owner_id == owner_id,
            Comment.first_job_id == job_id,
            Comment.deleted.is_(False),
        )
        return int(await session.scalar(query) or 0)


async def count_comments(sessions: Sessions, owner_id: int | None = None) -> int:
    """Readable (not deleted) comments stored, of one community or of all."""
    async with sessions() as session:
        query = select(func.count()).select_from(Comment).where(Comment.deleted.is_(False))
        if owner_id is not None:
            query = query.where(Comment.owner_id == owner_id)
        return int(await session.scalar(query) or 0)


async def find_group(sessions: Sessions, ref: str) -> Group | None:
    """A stored community by its normal form: numeric id or screen name."""
    async with sessions() as session:
        if ref.isdigit():
            return await session.get(Group, int(ref))
        found = await session.scalars(select(Group).where(func.lower(Group.screen_name) == ref))
        return found.first()
