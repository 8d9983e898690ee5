"""The schema's migrations both ways, the pool settings, and the private PostgreSQL server the
suite starts when none answers."""

from __future__ import annotations

import asyncio
import os
import pwd

import asyncpg
import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import alembic_config, engine_for, make_engine, migrate
from core.models import Base
from core.settings import Settings
from tests.postgres import PrivatePostgres, fresh_database


def columns_by_table(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


async def schema(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(columns_by_table)
    finally:
        await engine.dispose()


async def alembic(url: str, verb: str, revision: str) -> None:
    await asyncio.to_thread(getattr(command, verb), alembic_config(url), revision)


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    """`upgrade head`, `downgrade base`, `upgrade head` again: every revision goes both ways and
    the schema ends as the models describe it, on SQLite and on PostgreSQL."""
    models = {table.name: {c.name for c in table.columns} for table in Base.metadata.sorted_tables}
    await alembic(database_url, "upgrade", "head")
    first = await schema(database_url)
    assert {t: c for t, c in first.items() if t != "alembic_version"} == models
    await alembic(database_url, "downgrade", "base")
    assert set(await schema(database_url)) == {"alembic_version"}
    await alembic(database_url, "upgrade", "head")
    assert await schema(database_url) == first


async def test_pool_sizes_reach_the_postgresql_engine(
    postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DB_POOL_SIZE=2 and DB_MAX_OVERFLOW=1: three connections at once, a fourth waits for one
    of them to come back (the server never sees a fourth)."""
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "1")
    async with fresh_database(postgres_admin_url) as url:
        settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
        assert (settings.db_pool_size, settings.db_max_overflow) == (2, 1)
        await migrate(url)
        engine = engine_for(settings)
        database = url.rsplit("/", 1)[-1]
        connections: list[AsyncConnection] = []
        try:
            assert engine.pool.size() == 2  # type: ignore[attr-defined]
            connections = [await engine.connect() for _ in range(3)]
            fourth = asyncio.create_task(engine.connect().start())
            assert await server_connections(postgres_admin_url, database) == 3
            assert not fourth.done()
            await connections.pop().close()
            connections.append(await asyncio.wait_for(fourth, 30))
            assert await server_connections(postgres_admin_url, database) == 3
        finally:
            for connection in connections:
                await connection.close()
            await engine.dispose()


async def server_connections(admin_url: str, database: str) -> int:
    admin = await asyncpg.connect(admin_url)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
        return int(await admin.fetchval(query, database))
    finally:
        await admin.close()


@pytest.mark.slow
async def test_private_server_starts_serves_and_stops() -> None:
    """The path taken when no PostgreSQL answers, taken for real: initdb and pg_ctl (as an
    unprivileged user when run as root), a migrated database on it, then a clean stop."""
    server = await asyncio.to_thread(PrivatePostgres().start)
    try:
        if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as an unprivileged user
            assert server.user and server.data.stat().st_uid == pwd.getpwnam(server.user).pw_uid
            assert server.data.stat().st_uid != 0
        async with fresh_database(server.admin_url) as url:
            await migrate(url)
            assert "vk_comments" in await schema(url)
        admin = await asyncpg.connect(server.admin_url)
        try:
            assert await admin.fetchval("SELECT current_setting('port')") == str(server.port)
        finally:
            await admin.close()
    finally:
        await asyncio.to_thread(server.stop)
    assert not server.running() and not server.root.exists()
    with pytest.raises(OSError):
        await asyncpg.connect(server.admin_url, timeout=5)
