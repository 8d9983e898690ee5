"""What chats asked the scheduler for: watched communities (/watch) and the digest (/digest on).

Stored in the database, so they survive restarts and every bot instance sees the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from core.db import upsert
from core.models import DigestSubscription, Watch
from core.storage import Sessions, utcnow


async def watch(sessions: Sessions, chat_id: int, group: str, minutes: int, by: int) -> None:
    """Watch a community from a chat; watching it again changes the interval and resumes a
    paused watch."""
    async with sessions.begin() as session:
        await upsert(
            session,
            Watch.__table__,  # type: ignore[arg-type]
            [
                {
                    "chat_id": chat_id,
                    "group": group,
                    "minutes": minutes,
                    "created_by": by,
                    "created_at": utcnow(),
                    "paused_for": None,
                }
            ],
            keys=["chat_id", "group"],
            update=["minutes", "created_by", "created_at", "paused_for"],
        )


async def pause(sessions: Sessions, chat_id: int, group: str, code: int) -> bool:
    """Pause a running watch for VK error `code`; False if it was paused already or is gone
    (so whoever pauses it first is the one to say so)."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Watch)
            .where(Watch.chat_id == chat_id, Watch.group == group, Watch.paused_for.is_(None))
            .values(paused_for=code)
        )
        return bool(getattr(result, "rowcount", 0))


async def get_watch(sessions: Sessions, chat_id: int, group: str) -> Watch | None:
    async with sessions() as session:
        return await session.get(Watch, (chat_id, group))


async def unwatch(sessions: Sessions, chat_id: int, group: str) -> bool:
    """Stop a chat's watch; False if it had none of that community."""
    async with sessions.begin() as session:
        result = await session.execute(
            delete(Watch).where(Watch.chat_id == chat_id, Watch.group == group)
        )
        return bool(getattr(result, "rowcount", 0))


async def watches(sessions: Sessions, chat_id: int | None = None) -> Sequence[Watch]:
    """Every watch (of one chat, or all), in a stable order."""
    query = select(Watch).order_by(Watch.chat_id, Watch.group)
    if chat_id is not None:
        query = query.where(Watch.chat_id == chat_id)
    async with sessions() as session:
        return (await session.scalars(query)).all()


async def subscribe_digest(sessions: Sessions, chat_id: int, by: int) -> None:
    async with sessions.begin() as session:
        await upsert(
            session,
            DigestSubscription.__table__,  # type: ignore[arg-type]
            [{"chat_id": chat_id, "subscribed_by": by, "subscribed_at": utcnow()}],
            keys=["chat_id"],
            update=[],
        )


async def unsubscribe_digest(sessions: Sessions, chat_id: int) -> bool:
    async with sessions.begin() as session:
        result = await session.execute(
            delete(DigestSubscription).where(DigestSubscription.chat_id == chat_id)
        )
        return bool(getattr(result, "rowcount", 0))


async def digest_chats(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DigestSubscription.chat_id).order_by(DigestSubscription.chat_id)
        )
        return [int(chat) for chat in rows]
