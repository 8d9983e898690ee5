"""The databases tests run on: every test that asks for `database_url` (or `sessions`, built on
it) runs twice, on a SQLite file and on a PostgreSQL database, each a fresh one of its own.

PostgreSQL: see tests/postgres.py (the server at `TEST_POSTGRES_URL`, else a private one).
When neither is possible the PostgreSQL runs fail with the reason; they are never skipped.
End-to-end tests choose with `@pytest.mark.parametrize("app_database", BACKENDS,
indirect=True)`; unparametrised, their processes share a SQLite file under `DATA_DIR`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core import storage
from core.db import make_engine, make_sessionmaker, migrate
from core.queue import JobQueue
from core.redis_client import connect
from core.settings import Settings
from tests.postgres import PostgresUnavailable, find_or_start, fresh_database

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An answering PostgreSQL server for the run (started once, stopped at the end)."""
    try:
        url, private = find_or_start()
    except PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL tests cannot run: {error}", pytrace=False)
    yield url
    if private is not None:
        private.stop()


@contextlib.asynccontextmanager
async def _database(
    request: pytest.FixtureRequest, backend: str, sqlite_file: Path
) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{sqlite_file}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    async with fresh_database(admin) as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own (not migrated), on each backend in turn."""
    async with _database(request, request.param, tmp_path / "vk.sqlite3") as url:
        yield url


@pytest.fixture
async def app_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The database of an end-to-end test's processes: SQLite under its `DATA_DIR` unless the
    test is parametrised over `BACKENDS` (indirect)."""
    backend = getattr(request, "param", "sqlite")
    async with _database(request, backend, tmp_path / "data" / "vkcomments.sqlite3") as url:
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[storage.Sessions]:
    """A migrated database of the test's own, on SQLite and on PostgreSQL."""
    await migrate(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def scalar(url: str, query: str) -> Any:
    """One value read from any of the databases (tests that look at what processes wrote)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(query))).scalar()
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def queue_door(settings: Settings) -> AsyncIterator[JobQueue]:
    """The product's own queue door on `settings`' Redis and (migrated) database, closed after."""
    await migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    redis = await connect(settings)
    try:
        yield JobQueue(redis, make_sessionmaker(engine), settings)
    finally:
        await redis.aclose()
        await engine.dispose()
