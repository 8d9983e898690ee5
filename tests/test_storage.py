"""Storage on a real SQLite file and a real PostgreSQL database (tests/databases.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core import access, preferences, storage
from core.audit import audit_trail
from core.models import Comment
from core.settings import Settings


def comment(comment_id: int, text: str, job: str, post_id: int = 1) -> dict[str, object]:
    return {
        "owner_id": -5,
        "post_id": post_id,
        "comment_id": comment_id,
        "parent_id": None,
        "from_id": 7,
        "date": datetime(2026, 11, 1, tzinfo=UTC),
        "text": text,
        "deleted": False,
        "first_job_id": job,
    }


async def test_comment_upsert_is_idempotent(sessions: storage.Sessions) -> None:
    """Saving the same comments again updates them in place and keeps who stored them first."""
    await storage.save_posts(
        sessions,
        [{"owner_id": -5, "post_id": 1, "date": datetime(2026, 11, 1, tzinfo=UTC), "text": "p",
          "comments_count": 3, "is_pinned": False}],
    )  # fmt: skip
    await storage.save_comments(sessions, [comment(1, "привет", "a"), comment(2, "ок", "a")])
    await storage.save_comments(
        sessions, [comment(1, "привет!", "b"), comment(2, "ок", "b"), comment(3, "норм", "b")]
    )
    assert await storage.count_comments(sessions, -5) == 3
    assert await storage.count_new_comments(sessions, -5, "a") == 2
    assert await storage.count_new_comments(sessions, -5, "b") == 1


async def test_audit_open_jobs_and_notification(sessions: storage.Sessions) -> None:
    """A job's audit row records its story; the sweeper finds it while it is open."""
    for _twice in range(2):  # a second insert of the row keeps the first
        audit_trail(sessions).insert(
            storage.job_row(
                job_id="j1",
                job_name="parse_vk_comments",
                user_id=1,
                chat_id=2,
                args={"g": 1},
                language=None,
                enqueued_at=storage.utcnow(),
            )
        )
    later = storage.utcnow() + timedelta(seconds=1)
    assert await storage.open_jobs(sessions, before=later, limit=10) == ["j1"]
    assert await storage.open_jobs(sessions, before=later - timedelta(hours=1), limit=10) == []
    await storage.update_job(sessions, "j1", status="complete", summary="done")
    rows = await storage.recent_jobs(sessions, chat_id=2)
    assert [(r.job_id, r.status, r.summary) for r in rows] == [("j1", "complete", "done")]
    assert await storage.open_jobs(sessions, before=later, limit=10) == []
    await storage.mark_notified(sessions, "j1")
    audit = await storage.get_job(sessions, "j1")
    assert audit is not None and audit.notified_at is not None


async def test_grants_languages_and_comment_changes(sessions: storage.Sessions) -> None:
    """The tables behind /allow, /language and the parse's edited/deleted counters."""
    settings = Settings(_env_file=None, admin_ids="1", allowed_user_ids="2")  # type: ignore[call-arg]
    assert not await access.may_use(sessions, settings, 3, 3)
    await access.allow(sessions, access.USER, 3, by=1)
    await access.allow(sessions, access.USER, 3, by=1)  # twice is once
    await access.allow(sessions, access.CHAT, -100, by=1)
    assert await access.may_use(sessions, settings, 3, 3)
    assert await access.may_use(sessions, settings, 9, -100)
    assert [(g.kind, g.target_id) for g in await access.list_grants(sessions)] == [
        ("chat", -100),
        ("user", 3),
    ]
    assert await access.deny(sessions, access.USER, 3)
    assert not await access.deny(sessions, access.USER, 3)
    assert not await access.may_use(sessions, settings, 3, 3)

    assert await preferences.chosen_language(sessions, 3) is None
    assert await preferences.language_for(sessions, 3, "uk", "en") == "ru"
    await preferences.choose_language(sessions, 3, "en")
    await preferences.choose_language(sessions, 3, "ru")
    assert await preferences.language_for(sessions, 3, "en", "en") == "ru"

    await storage.save_comments(sessions, [comment(1, "a", "j1"), comment(2, "b", "j1")])
    stored = await storage.stored_comments(sessions, -5, [(1, 1), (1, 2), (1, 3)])
    assert sorted(stored) == [(1, 1), (1, 2)] and stored[(1, 2)].text == "b"
    async with sessions.begin() as session:
        await session.execute(update(Comment).values(terms="x"))
    await storage.forget_terms(sessions, -5, [(1, 2)])
    async with sessions() as session:
        terms = dict((await session.execute(select(Comment.comment_id, Comment.terms))).all())
    assert terms == {1: "x", 2: None}
    await storage.save_comments(sessions, [{**comment(2, "", "j2"), "deleted": True}])
    assert await storage.count_comments(sessions, -5) == 1
    assert await storage.count_new_comments(sessions, -5, "j1") == 1
