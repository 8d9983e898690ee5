"""Who may use the bot: the settings' allow-lists plus the grants admins make from the chat.

The settings (ADMIN_IDS, ALLOWED_USER_IDS, ALLOWED_CHAT_IDS) always stay in force: the chat can
add to them but never lock them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from core.db import upsert
from core.models import AccessGrant
from core.settings import Settings
from core.storage import Sessions, utcnow

USER = "user"
CHAT = "chat"


@dataclass(frozen=True)
class Grants:
    """Users and chats allowed from the chat, on top of the settings."""

    users: frozenset[int]
    chats: frozenset[int]


async def grants(sessions: Sessions) -> Grants:
    async with sessions() as session:
        rows = (await session.execute(select(AccessGrant.kind, AccessGrant.target_id))).all()
    return Grants(
        users=frozenset(int(t) for k, t in rows if k == USER),
        chats=frozenset(int(t) for k, t in rows if k == CHAT),
    )


async def may_use(sessions: Sessions, settings: Settings, user_id: int, chat_id: int) -> bool:
    """Admins and the settings' lists first (no database needed), then the stored grants."""
    if settings.may_use(user_id, chat_id):
        return True
    given = await grants(sessions)
    return user_id in given.users or chat_id in given.chats


async def allow(sessions: Sessions, kind: str, target_id: int, by: int) -> None:
    async with sessions.begin() as session:
        await upsert(
            session,
            AccessGrant.__table__,  # type: ignore[arg-type]
            [{"kind": kind, "target_id": target_id, "granted_by": by, "granted_at": utcnow()}],
            keys=["kind", "target_id"],
            update=[],
        )


async def deny(sessions: Sessions, kind: str, target_id: int) -> bool:
    """Remove a grant; False if there was none."""
    async with sessions.begin() as session:
        result = await session.execute(
            delete(AccessGrant).where(AccessGrant.kind == kind, AccessGrant.target_id == target_id)
        )
        return bool(getattr(result, "rowcount", 0))


async def list_grants(sessions: Sessions) -> Sequence[AccessGrant]:
    async with sessions() as session:
        query = select(AccessGrant).order_by(AccessGrant.kind, AccessGrant.target_id)
        return (await session.scalars(query)).all()


# Telegram's stand-ins shared by many people: anonymous group admins (GroupAnonymousBot) and
# channels posting into their discussion group. Such a sender is one person per chat at most.
SHARED_SENDERS = frozenset({1087968824, 136817688})


def owns(job_user_id: int | None, job_chat_id: int | None, user_id: int, chat_id: int) -> bool:
    """Whether this sender started the job: a shared stand-in only in the chat it spoke in."""
    if user_id in SHARED_SENDERS:
        return job_user_id == user_id and job_chat_id == chat_id
    return job_user_id == user_id
