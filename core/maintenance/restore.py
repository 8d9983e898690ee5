"""Bringing a backup back (`python -m worker restore <file> [--force]`).

SQLite: the file is unpacked beside the database, checked with `PRAGMA integrity_check`, then
copied over the live database with the online backup API in one write transaction: whoever
reads the database sees it whole before or whole after, never half, and SQLite's own locking
and WAL stay right (replacing the file under a WAL database would mix the old log into the
new file). PostgreSQL: `pg_restore --clean --single-transaction`.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import sqlite3
import tempfile
from pathlib import Path

from arq.connections import ArqRedis

from core.i18n import _
from core.jobstate import worker_key
from core.maintenance.backup import (
    COPY_CHUNK,
    BackupError,
    integrity_problem,
    is_sqlite,
    libpq,
    pg_tool,
    run_tool,
    sqlite_path,
)


async def running_workers(redis: ArqRedis) -> list[str]:
    """Workers whose heartbeat key is alive (see `worker.context.heartbeat`)."""
    prefix = worker_key("")
    return sorted(
        [key.decode().removeprefix(prefix) async for key in redis.scan_iter(match=worker_key("*"))]
    )


async def restore(db_url: str, backup: Path) -> None:
    """Replace the database's content with the backup's; raises BackupError."""
    if not await asyncio.to_thread(backup.is_file):
        raise BackupError(_("no such file: {path}", path=str(backup)))
    if is_sqlite(db_url):
        await asyncio.to_thread(_restore_sqlite, backup, sqlite_path(db_url))
        return
    dsn, env = libpq(db_url)
    command = [pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction"]
    await run_tool(*command, "--no-owner", f"--dbname={dsn}", str(backup), env=env)


def _restore_sqlite(backup: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=database.parent, prefix=".restore-") as work:
        copy = Path(work) / "restore.sqlite3"
        opener = gzip.open if backup.name.endswith(".gz") else open
        try:
            with opener(backup, "rb") as packed, copy.open("wb") as raw:
                shutil.copyfileobj(packed, raw, COPY_CHUNK)
        except (OSError, EOFError) as error:
            reason = _("cannot unpack {path}: {error}", path=str(backup), error=error)
            raise BackupError(reason) from None
        source = sqlite3.connect(copy)
        try:
            try:
                problem = integrity_problem(source)
            except sqlite3.DatabaseError as error:
                problem = str(error)
            if problem is not None:
                raise BackupError(
                    _(
                        "{path} is not a sound SQLite database: {problem}",
                        path=str(backup),
                        problem=problem,
                    )
                )
            live = sqlite3.connect(database, timeout=30)
            try:
                source.backup(live)
            finally:
                live.close()
        finally:
            source.close()
