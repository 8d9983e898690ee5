"""Cleanup and backups on a real SQLite file and a real PostgreSQL database: exactly
the old rows go, the statistics follow; a backup taken during writes is sound and restores
every table row by row."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core import storage
from core.audit import audit_trail
from core.maintenance.backup import BackupError, backups, take_backup
from core.maintenance.cleanup import Deleted, delete_old, preview
from core.maintenance.restore import restore
from core.models import Base, Comment, DailyStats, JobAudit, Post
from core.reports.statistics import mark_recent, refresh
from core.vk.wall_items import comment_row, post_row
from tests.report_fixture import ZONE
from tests.test_reports_storage import seed

OWNER = -888001


def url_of(sessions: storage.Sessions) -> str:
    return str(sessions.kw["bind"].url.render_as_string(hide_password=False))


async def tables(sessions: storage.Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in primary-key order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(row) for row in rows]
    return found


def at(moment: datetime) -> int:
    return int(moment.timestamp())


def comment(post_id: int, comment_id: int, moment: datetime) -> dict[str, Any]:
    vk = {"id": comment_id, "from_id": 3000 + comment_id, "date": at(moment), "text": "старый"}
    return comment_row(OWNER, post_id, vk, None, ZONE)


async def test_cleanup_deletes_exactly_the_old_rows(sessions: storage.Sessions) -> None:
    """Comments before the cut-off go (with their analysis), and posts older than it left with
    no comments; nothing else. The touched days' statistics are recounted; a rerun deletes
    nothing."""
    await seed(sessions)
    cutoff = datetime.combine(datetime.now(ZONE).date() - timedelta(days=30), time(12), ZONE)
    cutoff = cutoff.astimezone(UTC)
    extra_posts = [
        post_row(OWNER, {"id": 100, "date": at(cutoff - timedelta(days=30)), "text": "old"}),
        post_row(OWNER, {"id": 101, "date": at(cutoff - timedelta(days=60)), "text": "empty"}),
        post_row(OWNER, {"id": 102, "date": at(cutoff + timedelta(days=20)), "text": "new"}),
    ]
    await storage.save_posts(sessions, extra_posts)
    await storage.save_comments(
        sessions,
        [
            comment(100, 200, cutoff - timedelta(days=20)),  # old: goes, its post stays
            comment(100, 201, cutoff + timedelta(days=25)),  # new: keeps post 100
            comment(100, 202, cutoff - timedelta(seconds=1)),  # just before: goes
            comment(100, 203, cutoff + timedelta(seconds=1)),  # just after, same day: stays
        ],
    )
    async with sessions.begin() as session:  # some are analysed, old and new
        analysed = Comment.comment_id.in_([2, 200, 203])
        await session.execute(update(Comment).where(analysed).values(terms="щука|клёв"))
    await refresh(sessions)
    before = await tables(sessions)
    stats_before = {(row.owner_id, row.day): row for row in await stats(sessions)}

    async with sessions() as session:
        old_keys = {
            (c.owner_id, c.post_id, c.comment_id, c.local_day)
            for c in await session.scalars(select(Comment).where(Comment.date < cutoff))
        }
    # The report fixture's old post (1) has only old comments; 101 never had any.
    assert {key[2] for key in old_keys} == {2, 3, 4, 200, 202}, old_keys
    expected = Deleted(comments=5, analysed=2, posts=2)
    assert await preview(sessions, cutoff) == expected

    done = await delete_old(sessions, cutoff, batch=2)  # several small transactions
    assert (done.comments, done.analysed, done.posts) == (5, 2, 2)
    assert done.days == {(owner, day) for owner, _post, _id, day in old_keys}
    await refresh(sessions)
    after = await tables(sessions)

    gone = {key[:3] for key in old_keys}
    comment_columns = [column.name for column in Comment.__table__.columns]
    key_of = [comment_columns.index(name) for name in ("owner_id", "post_id", "comment_id")]
    assert after["vk_comments"] == [
        row for row in before["vk_comments"] if tuple(row[i] for i in key_of) not in gone
    ]
    assert after["vk_posts"] == [row for row in before["vk_posts"] if row[1] not in (1, 101)]
    for name in ("vk_groups", "vk_authors", "job_audit", "access_grants", "app_state"):
        assert after[name] == before[name], name

    # Statistics: the touched days are recounted (a day left empty has no row), the others
    # are untouched; and they equal a recount of every day from scratch.
    stats_after = {(row.owner_id, row.day): row for row in await stats(sessions)}
    boundary_day = next(day for _o, _p, cid, day in old_keys if cid == 202)
    assert stats_after[(OWNER, boundary_day)].comments == 1  # 203 stays on it
    for key in done.days - {(OWNER, boundary_day)}:
        assert key not in stats_after, key
    for key, row in stats_after.items():
        if key not in done.days:
            assert row.comments == stats_before[key].comments
    await mark_recent(sessions, None, datetime(2000, 1, 1).date())
    await refresh(sessions)
    recounted = {(row.owner_id, row.day): row.comments for row in await stats(sessions)}
    assert recounted == {key: row.comments for key, row in stats_after.items()}

    settled = await tables(sessions)
    assert await preview(sessions, cutoff) == Deleted()
    again = await delete_old(sessions, cutoff)
    assert (again.comments, again.analysed, again.posts) == (0, 0, 0)
    assert await tables(sessions) == settled


async def stats(sessions: storage.Sessions) -> list[DailyStats]:
    async with sessions() as session:
        return list(await session.scalars(select(DailyStats)))


BATCH = 50
WRITER_POST = 9000


class Writer:
    """Stores comments in transactions of BATCH, as a parse does, until stopped."""

    def __init__(self, sessions: storage.Sessions) -> None:
        self.sessions = sessions
        self.batches: list[list[dict[str, Any]]] = []
        self.stop = asyncio.Event()

    async def run(self) -> None:
        moment = datetime.now(UTC) - timedelta(days=1)
        while not self.stop.is_set():
            first = len(self.batches) * BATCH
            rows = [
                {
                    "owner_id": OWNER,
                    "post_id": WRITER_POST,
                    "comment_id": first + i,
                    "parent_id": None,
                    "from_id": 7,
                    "date": moment,
                    "text": f"комментарий {first + i}",
                    "deleted": False,
                    "first_job_id": "writer",
                }
                for i in range(BATCH)
            ]
            await storage.save_comments(self.sessions, rows)
            self.batches.append(rows)

    async def until(self, batches: int) -> None:
        for _ in range(6000):
            if len(self.batches) >= batches:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the writer wrote {len(self.batches)} batches of {batches}")


async def test_cleanup_lets_a_parse_commit_between_its_transactions(
    sessions: storage.Sessions,
) -> None:
    """In batches, the cleanup leaves the database to others between its transactions: at each
    pause it waits for a commit of a writer storing comments as a parse does (a cleanup holding
    SQLite's write lock through one long transaction would never see it), and it still deletes
    exactly the old rows, none of the writer's."""
    await seed(sessions)
    cutoff = datetime.now(UTC) - timedelta(days=30)
    old = cutoff - timedelta(days=100)
    await storage.save_posts(sessions, [post_row(OWNER, {"id": 100, "date": at(old), "text": ""})])
    await storage.save_comments(
        sessions, [comment(100, 300 + i, old + timedelta(hours=i)) for i in range(20)]
    )
    before = await tables(sessions)
    async with sessions() as session:
        doomed = await session.execute(
            select(Comment.owner_id, Comment.post_id, Comment.comment_id).where(
                Comment.date < cutoff
            )
        )
        old_keys = {tuple(row) for row in doomed}
    planned = await preview(sessions, cutoff)
    assert planned.comments == len(old_keys) > 20 and planned.posts == 2

    writer = Writer(sessions)
    commits_seen: list[int] = []  # the writer's commits at each pause of the cleanup

    async def pause(_done: Deleted) -> None:
        commits_seen.append(len(writer.batches))
        await writer.until(commits_seen[-1] + 1)

    writing = asyncio.create_task(writer.run())
    try:
        await writer.until(1)
        done = await delete_old(sessions, cutoff, batch=5, progress=pause)
    finally:
        writer.stop.set()
        await writing
    transactions = -(-planned.comments // 5) + 1  # the two old posts go in one
    assert done.transactions == len(commits_seen) == transactions, commits_seen
    assert commits_seen == sorted(set(commits_seen))  # the writer committed at every pause
    assert (done.comments, done.posts) == (planned.comments, planned.posts)

    after = await tables(sessions)
    kept = [row for row in before["vk_comments"] if tuple(row[:3]) not in old_keys]
    assert [row for row in after["vk_comments"] if row[1] != WRITER_POST] == kept
    written = {(OWNER, WRITER_POST, r["comment_id"]) for b in writer.batches for r in b}
    assert {tuple(row[:3]) for row in after["vk_comments"] if row[1] == WRITER_POST} == written


async def test_backup_during_writes_is_sound_and_restores_identically(
    sessions: storage.Sessions, tmp_path: Path
) -> None:
    """A backup taken while another task commits comments holds whole transactions only and
    passes the integrity check; restored, every table equals the moment it was taken."""
    await seed(sessions)
    audit_trail(sessions).insert(
        storage.job_row(
            job_id="j1",
            job_name="generate_report",
            user_id=1,
            chat_id=1,
            args={"days": 7},
            language=None,
            enqueued_at=storage.utcnow(),
        )
    )
    await audit_trail(sessions).caught_up()
    url, folder = url_of(sessions), tmp_path / "backups"
    base = await tables(sessions)

    writer = Writer(sessions)
    writing = asyncio.create_task(writer.run())
    try:
        await writer.until(20)
        written_before = len(writer.batches)
        made = await take_backup(url, folder, keep=7)
        written_after = len(writer.batches)
        await writer.until(written_after + 2)
    finally:
        writer.stop.set()
        await writing
    assert written_after > written_before, "no write happened while the backup was taken"
    assert made.path.parent == folder and made.size > 0 and backups(folder) == [made.path]
    if made.engine == "sqlite":
        unpacked = tmp_path / "check.sqlite3"
        unpacked.write_bytes(gzip.decompress(made.path.read_bytes()))
        with sqlite3.connect(unpacked) as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    await restore_into(sessions, made.path)
    restored = await tables(sessions)
    for name, rows in base.items():
        if name != "vk_comments":
            assert restored[name] == rows, name
    writers = [row for row in restored["vk_comments"] if row[1] == WRITER_POST]
    whole, torn = divmod(len(writers), BATCH)
    assert torn == 0 and written_before <= whole <= written_after, (len(writers), whole)
    expected = {(OWNER, WRITER_POST, r["comment_id"]) for b in writer.batches[:whole] for r in b}
    assert {row[:3] for row in writers} == expected
    assert [r for r in restored["vk_comments"] if r[1] != WRITER_POST] == base["vk_comments"]

    # Without writes: back up, change everything, restore: every table as it was.
    await restore_into(sessions, made.path)  # (the same file twice: restoring is repeatable)
    await storage.save_comments(sessions, writer.batches[-1])
    snapshot = await tables(sessions)
    second = await take_backup(url, folder, keep=1)
    assert backups(folder) == [second.path] and not made.path.exists()  # rotated
    await delete_old(sessions, datetime.now(UTC) + timedelta(days=1))
    async with sessions.begin() as session:
        await session.execute(update(JobAudit).values(status="failed"))
        await session.execute(update(Post).values(text="changed"))
    assert await tables(sessions) != snapshot
    await restore_into(sessions, second.path)
    assert await tables(sessions) == snapshot


async def restore_into(sessions: storage.Sessions, backup: Path) -> None:
    """Restore with no pooled connection left open (PostgreSQL's would cache the old tables)."""
    await sessions.kw["bind"].dispose()
    await restore(url_of(sessions), backup)


async def test_postgres_backup_without_its_tools_names_the_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pg_dump on the PATH the backup fails with a line naming it, and no password."""
    monkeypatch.setenv("PATH", str(tmp_path))
    url = "postgresql+asyncpg://vk:db-secret-password@127.0.0.1:5432/vkcomments"
    with pytest.raises(BackupError) as error:
        await take_backup(url, tmp_path / "backups", keep=7)
    assert "pg_dump is not installed" in str(error.value)
    assert "db-secret-password" not in str(error.value)
    assert backups(tmp_path / "backups") == []
