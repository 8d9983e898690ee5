"""Database engine, sessions and schema migrations (Alembic)."""

from __future__ import annotations

import asyncio
import fcntl
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.settings import MAX_OVERFLOW, POOL_SIZE, SQLITE_BUSY_TIMEOUT_S, Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT_S,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout (seconds) so bot and worker can
    share it.

    The pool sizes are PostgreSQL's: each process holds up to `pool_size + max_overflow`
    connections (SQLite keeps SQLAlchemy's own pool of file connections).
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout})
        pragmas = functools.partial(_sqlite_pragmas, busy_ms=round(busy_timeout * 1000))
        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine of a process: `DATABASE_URL` with the pool sizes of the settings."""
    return make_engine(
        settings.db_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout=settings.sqlite_busy_timeout,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(url: str) -> None:
    lock_path = None
    if url.startswith("sqlite"):
        lock_path = Path(url.split(":///", 1)[-1] + ".migrate.lock")
    if lock_path is None:
        command.upgrade(alembic_config(url), "head")
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # Bot and worker may start at once on one SQLite file: a file lock lets one migrate.
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(alembic_config(url), "head")


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision.

    Alembic's env runs its own event loop, so it gets a thread of its own.
    """
    await asyncio.to_thread(_upgrade, url)


Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _UpsertPlan:
    """An upsert compiled once for one dialect and one set of columns: its SQL, and how to turn
    a row (a dict) and the values shared by every row into the driver's parameter tuple."""

    sql: str
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's values, in its key order
    order: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None  # row + shared -> the SQL's order
    row_processors: tuple[tuple[int, Processor], ...]  # by position in the SQL's order
    shared_processors: tuple[Processor | None, ...]  # by position in `shared`


def _upsert_statement(
    table: Table, dialect: str, keys: Sequence[str], update: Sequence[str]
) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    if update:
        return statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in update},
        )
    return statement.on_conflict_do_nothing(index_elements=list(keys))


def _tuple_getter(names: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """itemgetter that returns a tuple for a single key too."""
    if len(names) == 1:
        only = names[0]
        return lambda values: (values[only],)
    return itemgetter(*names)


@functools.lru_cache(maxsize=128)
def _upsert_plan(
    table: Table,
    dialect: Dialect,
    row_names: tuple[str, ...],
    shared_names: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
) -> _UpsertPlan | None:
    """None when the statement needs what only SQLAlchemy's own execution supplies (a column
    default for a column not given, named parameters)."""
    given = (*row_names, *shared_names)
    statement = _upsert_statement(table, dialect.name, keys, update)
    compiled = statement.compile(dialect=dialect, column_keys=list(given))
    names = compiled.positiontup
    if names is None or sorted(names) != sorted(given):
        return None

    def processor(name: str) -> Processor | None:
        converter: Processor | None = (
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        return converter

    row_processors = tuple(
        (i, converter)
        for i, name in enumerate(names)
        if name in row_names and (converter := processor(name)) is not None
    )
    position = {name: i for i, name in enumerate(given)}
    order = None if tuple(names) == given else _tuple_getter([position[n] for n in names])
    return _UpsertPlan(
        sql=compiled.string,
        pick=_tuple_getter(row_names),
        order=order,
        row_processors=row_processors,
        shared_processors=tuple(processor(name) for name in shared_names),
    )


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    *,
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows, or update `update` columns where the `keys` already exist. `shared`: values
    of more columns, the same for every row. Every row has the same columns.

    This is a parse's hot path (one statement per 250 comments): SQLAlchemy's executemany
    spends ~20 us of Python per row building and converting its parameters, so the statement
    is compiled once per dialect and set of columns, and the rows go to the driver as tuples,
    converted only where the column's type has a converter (dates on SQLite).
    """
    if not rows:
        return
    shared = shared or {}
    connection = await session.connection()
    dialect = connection.dialect
    plan = _upsert_plan(table, dialect, tuple(rows[0]), tuple(shared), tuple(keys), tuple(update))
    if plan is None:
        statement = _upsert_statement(table, dialect.name, keys, update)
        await session.execute(statement, [{**row, **shared} for row in rows])
        return
    shared_values = tuple(
        value if convert is None else convert(value)
        for value, convert in zip(shared.values(), plan.shared_processors, strict=True)
    )
    pick, order, processors = plan.pick, plan.order, plan.row_processors
    parameters: list[tuple[Any, ...]] = []
    for row in rows:
        values = pick(row) + shared_values
        if order is not None:
            values = order(values)
        if processors:
            converted = list(values)
            for i, convert in processors:
                converted[i] = convert(converted[i])
            values = tuple(converted)
        parameters.append(values)
    await connection.exec_driver_sql(plan.sql, parameters)
