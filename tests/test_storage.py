"""Storage on a real SQLite file and, where one answers, a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core import storage
from core.db import make_engine, make_sessionmaker, migrate

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        import asyncio

        backends = ["sqlite"] + (["postgresql"] if asyncio.run(postgres_available()) else [])
        metafunc.parametrize("backend", backends)


@pytest.fixture
async def sessions(backend: str, tmp_path: Path) -> AsyncIterator[storage.Sessions]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        name = None
    else:
        name = f"vkc_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
        url = f"{url}/{name}"
    await migrate(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    await engine.dispose()
    if name is not None:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


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
    await storage.record_enqueued(
        sessions, job_id="j1", job_name="parse_vk_comments", user_id=1, chat_id=2, args={"g": 1}
    )
    await storage.record_enqueued(
        sessions, job_id="j1", job_name="parse_vk_comments", user_id=1, chat_id=2, args={"g": 1}
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
