"""Database tables: VK groups, posts, comments, their authors, daily statistics, and the audit
trail of jobs."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy import text as sql_text  # `text` is a column name in the classes below
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Group(Base):
    __tablename__ = "vk_groups"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    screen_name: Mapped[str] = mapped_column(String(255), default="")
    name: Mapped[str] = mapped_column(String(512), default="")
    last_parsed_at: Mapped[datetime | None]


class Post(Base):
    __tablename__ = "vk_posts"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    date: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    comments_count: Mapped[int] = mapped_column(Integer, default=0)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # VK's comment count when this post's comments were last stored in full; NULL = never.
    # An incremental parse refetches a post only when VK's count moved away from it.
    parsed_comments_count: Mapped[int | None] = mapped_column(Integer)


class Comment(Base):
    __tablename__ = "vk_comments"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    comment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    from_id: Mapped[int] = mapped_column(BigInteger, default=0)
    date: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The job that stored this comment first: "how many were new" stays exact when a job reruns.
    first_job_id: Mapped[str | None] = mapped_column(String(64))
    # Content lemmas in text order, "|" where a stop word or punctuation broke the run
    # (see core.text.keywords.document_terms); NULL until analysed.
    terms: Mapped[str | None] = mapped_column(Text)
    analyzed_at: Mapped[datetime | None]
    # VK's like count when last read; NULL for rows stored before likes were asked for.
    likes: Mapped[int | None] = mapped_column(Integer)
    # The comment's day and hour in TIMEZONE, computed at insert (SQLite has no zone rules),
    # so both databases group by the same local day; recomputed when TIMEZONE changes.
    local_day: Mapped[dt.date | None] = mapped_column(Date)  # `date` is a column here
    local_hour: Mapped[int | None] = mapped_column(SmallInteger)
    # When this comment was first stored (the digest counts what came in since the last one);
    # NULL for rows stored before it was recorded.
    stored_at: Mapped[datetime | None]

    # Reports count readable comments of a community's days: this partial index holds all
    # their GROUP BY columns (and `deleted`, or SQLite reads each row to check it), so they are
    # answered from the index alone.
    __table_args__ = (
        Index(
            "ix_vk_comments_readable_day",
            "owner_id",
            "local_day",
            "from_id",
            "post_id",
            "deleted",
            sqlite_where=sql_text("deleted IS 0"),
            postgresql_where=sql_text("deleted IS false"),
        ),
    )


class Author(Base):
    """A comment author as VK's `extended=1` answers name them: a user (positive id) or a
    community (negative id, as in a comment's from_id)."""

    __tablename__ = "vk_authors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(512), default="")
    screen_name: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime]


class DailyStats(Base):
    """One community's comments on one local day, so /stats and reports read a small table."""

    __tablename__ = "stats_daily"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    comments: Mapped[int] = mapped_column(Integer, default=0)  # readable, as the parse counts
    authors: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[list[int]] = mapped_column(JSON, default=list)  # comments per local hour
    top_authors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[from_id, comments]]
    analyzed: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class DailyTerm(Base):
    """How many of a community's analysed comments of one local day mention a term (a word
    or a two-word phrase): the day's commonest terms, which reports rank keywords from."""

    __tablename__ = "stats_daily_terms"
    # The other communities' terms of a period (a report's background), from the index alone.
    __table_args__ = (Index("ix_stats_daily_terms_day", "day", "owner_id", "term", "comments"),)

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    term: Mapped[str] = mapped_column(String(255), primary_key=True)  # at most MAX_TERM
    comments: Mapped[int] = mapped_column(Integer)


class StatsDirtyDay(Base):
    """A community's day whose comments changed since its statistics were computed."""

    __tablename__ = "stats_dirty_days"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    changed_at: Mapped[datetime]


class AppState(Base):
    """Small facts the product must remember about itself, e.g. the zone local days use."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


# A job's audit status while it may still run, and once it has ended.
OPEN_STATUSES = ("queued", "running", "retrying")
ENDED_STATUSES = ("complete", "failed", "aborted")


class JobAudit(Base):
    """One row per job: who asked, where, with what, and how it ended."""

    __tablename__ = "job_audit"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    notified_at: Mapped[datetime | None]
    # The requester's language: the worker writes the job's progress and closing texts in it.
    language: Mapped[str | None] = mapped_column(String(8))


class UserLanguage(Base):
    """A user's own choice of language (/language), over what Telegram says they speak."""

    __tablename__ = "user_languages"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(8))


class AccessGrant(Base):
    """Access given from the chat (/allow): a user anywhere, or everyone in one chat.

    Adds to the ADMIN_IDS / ALLOWED_USER_IDS / ALLOWED_CHAT_IDS settings, never replaces them.
    """

    __tablename__ = "access_grants"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "user" or "chat"
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    granted_by: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime]


class Watch(Base):
    """/watch: a community parsed every `minutes` for the chat that asked, which hears of what
    is new."""

    __tablename__ = "watches"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    group: Mapped[str] = mapped_column(String(255), primary_key=True)  # normal form
    minutes: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    # The VK error code with which VK said the community cannot be read (none such, deleted,
    # private): the watch is paused until /watch is given again. None: it runs.
    paused_for: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DigestSubscription(Base):
    """/digest on: a chat that receives the daily digest besides NOTIFY_CHAT_ID."""

    __tablename__ = "digest_subscriptions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subscribed_by: Mapped[int] = mapped_column(BigInteger)
    subscribed_at: Mapped[datetime]
