"""Database tables: VK groups, posts, comments, and the audit trail of jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text
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
