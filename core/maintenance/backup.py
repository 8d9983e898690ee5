"""Backups of the database: a verified, compressed, timestamped file under DATA_DIR/backups/.

SQLite: the online backup API copies a consistent snapshot while the bot and the workers keep
writing (in WAL mode readers never block writers); the copy must pass `PRAGMA integrity_check`
before it is gzipped and kept. PostgreSQL: `pg_dump -Fc` (a consistent snapshot too), read back
with `pg_restore --list`. The newest BACKUP_KEEP backups are kept, older ones removed.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from core.i18n import _
from core.logs import safe_reason
from core.storage import utcnow

FOLDER = "backups"
PREFIX = "vkcomments-"
SQLITE_SUFFIX = ".sqlite3.gz"
POSTGRES_SUFFIX = ".pgdump"
COPY_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot be done; the text is written for people."""


@dataclass(frozen=True)
class Backup:
    path: Path
    engine: str  # "sqlite" or "postgresql"
    size: int
    duration_s: float
    kept: int
    removed: int


def backup_folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


def is_sqlite(db_url: str) -> bool:
    return make_url(db_url).get_backend_name() == "sqlite"


def sqlite_path(db_url: str) -> Path:
    return Path(make_url(db_url).database or "")


def libpq(db_url: str) -> tuple[str, dict[str, str]]:
    """The URL as PostgreSQL's tools take it, and an environment holding its password (never
    on a command line, where `ps` would show it)."""
    url = make_url(db_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool; a clear error naming it when it is missing."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _(
                "{tool} is not installed here: install PostgreSQL's client tools "
                "(e.g. apt-get install postgresql-client, of the server's version)",
                tool=name,
            )
        )
    return found


async def run_tool(*command: str, env: dict[str, str]) -> None:
    """Run a PostgreSQL tool; its complaint (masked, short) becomes a BackupError."""
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _out, errors = await process.communicate()
    if process.returncode:
        tool = Path(command[0]).name
        reason = safe_reason(errors.decode(errors="replace")) or f"exit code {process.returncode}"
        raise BackupError(_("{tool} failed: {reason}", tool=tool, reason=reason))


def integrity_problem(connection: sqlite3.Connection) -> str | None:
    """None when `PRAGMA integrity_check` says ok, else its first complaint."""
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return None if rows == [("ok",)] else str(rows[0][0] if rows else "no answer")


def backup_name(now: datetime, suffix: str, folder: Path) -> Path:
    """vkcomments-20261130-083000.sqlite3.gz (UTC); a second one in the same second gets -2."""
    stem = PREFIX + now.strftime("%Y%m%d-%H%M%S")
    path, number = folder / f"{stem}{suffix}", 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}{suffix}"
    return path


def backups(folder: Path) -> list[Path]:
    """The backups in the folder, oldest first."""
    if not folder.is_dir():
        return []
    found = [
        path
        for path in folder.iterdir()
        if path.name.startswith(PREFIX) and path.name.endswith((SQLITE_SUFFIX, POSTGRES_SUFFIX))
    ]
    return sorted(found, key=lambda path: (path.stat().st_mtime_ns, path.name))


def rotate(folder: Path, keep: int) -> tuple[int, int]:
    """Remove all but the newest `keep` backups; (kept, removed)."""
    found = backups(folder)
    old = found[: max(0, len(found) - keep)]
    for path in old:
        path.unlink(missing_ok=True)
    return len(found) - len(old), len(old)


async def take_backup(db_url: str, folder: Path, keep: int) -> Backup:
    """Back the database up into `folder`, verified, then rotate; raises BackupError."""
    started = time.monotonic()
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    if is_sqlite(db_url):
        engine, target = "sqlite", backup_name(utcnow(), SQLITE_SUFFIX, folder)
        await asyncio.to_thread(_backup_sqlite, sqlite_path(db_url), target)
    else:
        engine, target = "postgresql", backup_name(utcnow(), POSTGRES_SUFFIX, folder)
        await _backup_postgres(db_url, target)
    kept, removed = await asyncio.to_thread(rotate, folder, keep)
    stat = await asyncio.to_thread(target.stat)
    return Backup(
        path=target,
        engine=engine,
        size=stat.st_size,
        duration_s=time.monotonic() - started,
        kept=kept,
        removed=removed,
    )


def _backup_sqlite(source: Path, target: Path) -> None:
    """Snapshot with the backup API, check the copy, gzip it; the file appears only whole."""
    if not source.is_file():
        raise BackupError(_("the database file {path} does not exist", path=str(source)))
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        copy = Path(work) / "copy.sqlite3"
        live = sqlite3.connect(source, timeout=30)
        snapshot = sqlite3.connect(copy)
        try:
            # All pages in one step: one read transaction, a consistent snapshot. Writers go on
            # meanwhile (WAL); a step-by-step copy would restart on every write it saw.
            live.backup(snapshot)
            problem = integrity_problem(snapshot)
            if problem is not None:
                raise BackupError(
                    _("the copy failed its integrity check: {problem}", problem=problem)
                )
            snapshot.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            snapshot.close()
            live.close()
        part = Path(work) / target.name
        with copy.open("rb") as raw, gzip.open(part, "wb", compresslevel=6) as packed:
            shutil.copyfileobj(raw, packed, COPY_CHUNK)
        os.replace(part, target)


async def _backup_postgres(db_url: str, target: Path) -> None:
    dump, check = pg_tool("pg_dump"), pg_tool("pg_restore")
    dsn, env = libpq(db_url)
    part = target.with_name(f".{target.name}.part")
    try:
        await run_tool(dump, "--format=custom", f"--file={part}", f"--dbname={dsn}", env=env)
        await run_tool(check, "--list", str(part), env=env)  # the archive reads back whole
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
