"""Backup and cleanup of a SQLite database of two years of comments.

Run from the project root::

    .venv/bin/python -m bench.bench_maintenance [--comments 200000]

Seeds a SQLite database in a temporary directory (comments spread evenly over the last 730
days, 50 per post, all analysed), builds the daily statistics, then times `backup_database`'s
backup (online backup API, integrity check, gzip) and `cleanup_old_data`'s deletion of what is
older than 365 days (about half), and the recount of the days it touched.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core import storage
from core.db import make_engine, make_sessionmaker, migrate
from core.maintenance.backup import take_backup
from core.maintenance.cleanup import cutoff_for, delete_old
from core.reports.localtime import local_time
from core.reports.statistics import refresh

ZONE = ZoneInfo("Europe/Moscow")
TEXT = "Щука взяла на воблер у самого берега, удочка чуть не сломалась."
SPAN_DAYS, PER_POST, CHUNK = 730, 50, 5000


async def seed(sessions: storage.Sessions, comments: int, now: datetime) -> None:
    def moment(index: int) -> datetime:
        return now - timedelta(days=SPAN_DAYS * index / comments)

    for start in range(0, comments, CHUNK):
        rows = []
        for i in range(start, min(comments, start + CHUNK)):
            day, hour = local_time(moment(i), ZONE)
            rows.append(
                {
                    "owner_id": -1, "post_id": i // PER_POST, "comment_id": i, "parent_id": None,
                    "from_id": i % 997, "date": moment(i), "text": TEXT, "deleted": False,
                    "first_job_id": "bench", "terms": "щука|воблер|берег", "local_day": day,
                    "local_hour": hour,
                }
            )  # fmt: skip
        await storage.save_comments(sessions, rows)
    posts = range(0, comments, PER_POST)
    await storage.save_posts(
        sessions,
        [{"owner_id": -1, "post_id": i // PER_POST, "date": moment(i), "text": ""} for i in posts],
    )
    await refresh(sessions)


async def main(comments: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-maintenance-"))
    database = folder / "vkcomments.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    await migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await seed(sessions, comments, datetime.now(UTC))
    started = time.monotonic()
    made = await take_backup(url, folder / "backups", keep=7)
    print(
        f"backup: {comments:,} comments, database {database.stat().st_size:,} bytes -> "
        f"{made.size:,} bytes gzipped in {time.monotonic() - started:.2f} s"
    )
    started = time.monotonic()
    done = await delete_old(sessions, cutoff_for(365))
    deleting = time.monotonic() - started
    started = time.monotonic()
    recounted = await refresh(sessions)
    print(
        f"cleanup: {done.comments:,} comments and {done.posts:,} posts in {done.transactions} "
        f"transactions, {deleting:.2f} s; recount of {recounted.days} days "
        f"{time.monotonic() - started:.2f} s"
    )
    await engine.dispose()
    print(f"(files in {folder})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().comments))
