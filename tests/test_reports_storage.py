"""Report numbers, incremental statistics, time zones and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from core import storage
from core.reports.export import Exported, export, prepare_upload
from core.reports.localtime import ensure_zone, period
from core.reports.statistics import refresh
from core.reports.summary import summarize
from core.vk.wall_items import comment_row
from fakevk.people import full_name
from tests.report_fixture import (
    AUTHORS,
    BUSIEST_HOUR,
    CURRENT,
    LIKES,
    PREVIOUS,
    REPLIES,
    REPORT_GROUP,
    REPORT_NAME,
    REPORT_SCREEN_NAME,
    TOP_AUTHORS,
    TOP_POSTS,
    ZONE,
    busiest_weekday,
    report_group,
    stored_rows,
)

OWNER = -REPORT_GROUP


async def seed(sessions: storage.Sessions) -> None:
    posts, comments, authors = stored_rows(report_group(ZONE), ZONE)
    await storage.save_group(sessions, REPORT_GROUP, REPORT_SCREEN_NAME, REPORT_NAME)
    await storage.save_posts(sessions, posts)
    await storage.save_authors(sessions, authors)
    await storage.save_comments(sessions, comments)
    await ensure_zone(sessions, "Europe/Moscow", ZONE)
    await refresh(sessions)


async def test_report_numbers_are_exact_on_both_databases(sessions: storage.Sessions) -> None:
    """The fixture's known totals, growth, top lists and busiest times, whichever database."""
    await seed(sessions)
    first, last = period(30, ZONE)
    summary = await summarize(sessions, OWNER, first, last)
    assert (summary.comments, summary.previous) == (CURRENT, PREVIOUS)
    assert summary.growth == 200.0
    assert (summary.authors, summary.replies, summary.likes) == (AUTHORS, REPLIES, LIKES)
    assert summary.busiest_hour == BUSIEST_HOUR
    assert summary.busiest_weekday == busiest_weekday()
    assert [(p.post_id, p.comments) for p in summary.top_posts] == TOP_POSTS
    assert summary.top_posts[0].link == f"https://vk.com/wall{OWNER}_9"
    names = [" ".join(full_name(author)) for author, _ in TOP_AUTHORS]
    assert [(a.label, a.comments) for a in summary.top_authors] == [
        (name, n) for name, (_, n) in zip(names, TOP_AUTHORS, strict=True)
    ]
    assert sum(summary.per_day.values()) == CURRENT


async def test_statistics_recount_only_changed_days(sessions: storage.Sessions) -> None:
    """A new comment marks its day alone; the recount touches that day and the numbers follow."""
    await seed(sessions)
    assert (await refresh(sessions)).days == 0  # nothing changed since the seed's recount
    moment = datetime.now(UTC) - timedelta(days=5)
    vk = {"id": 999, "from_id": 2009, "date": int(moment.timestamp()), "text": "новый"}
    await storage.save_comments(sessions, [comment_row(OWNER, 5, vk, None, ZONE)])
    done = await refresh(sessions)
    assert (done.days, done.communities) == (1, 1)
    first, last = period(30, ZONE)
    summary = await summarize(sessions, OWNER, first, last)
    assert (summary.comments, summary.authors) == (CURRENT + 1, AUTHORS + 1)


async def test_time_zone_change_recomputes_local_days(sessions: storage.Sessions) -> None:
    """A comment at 22:30 UTC falls on the next day in Vladivostok: after TIMEZONE changes the
    days are recomputed and the statistics rebuilt, so the day counts move with it."""
    await seed(sessions)
    late = datetime.combine(datetime.now(UTC).date() - timedelta(days=3), datetime.min.time())
    late = late.replace(hour=22, minute=30, tzinfo=UTC)
    vk = {"id": 998, "from_id": 2010, "date": int(late.timestamp()), "text": "поздно"}
    await storage.save_comments(sessions, [comment_row(OWNER, 5, vk, None, ZONE)])
    await refresh(sessions)
    vladivostok = ZoneInfo("Asia/Vladivostok")
    assert await ensure_zone(sessions, "Asia/Vladivostok", vladivostok) == CURRENT + PREVIOUS + 2
    await refresh(sessions)
    first, last = period(30, vladivostok)
    summary = await summarize(sessions, OWNER, first, last)
    assert summary.per_day.get(late.date() + timedelta(days=1), 0) >= 1
    assert sum(summary.hours) == summary.comments
    assert await ensure_zone(sessions, "Asia/Vladivostok", vladivostok) == 0  # only once


async def test_export_has_every_comment_once(sessions: storage.Sessions, tmp_path: Path) -> None:
    """CSV (UTF-8 with BOM) and XLSX hold the period's readable comments, each exactly once."""
    await seed(sessions)
    first, last = period(30, ZONE)
    files = Exported(tmp_path / "c.csv", tmp_path / "c.xlsx")
    await export(sessions, OWNER, first, last, ZONE, files)
    raw = files.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1:]
    ids = [int(row[3]) for row in rows]
    assert len(ids) == len(set(ids)) == CURRENT == files.rows
    sheet = openpyxl.load_workbook(files.xlsx, read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [int(row[3]) for row in cells] == ids
    assert [row[8] for row in cells] == [row[8] for row in rows]
    assert {row[6] for row in rows} >= {" ".join(full_name(2001))}


def test_big_files_are_zipped_then_split(tmp_path: Path) -> None:
    """Over the limit a file goes zipped; if the zip is still over it, in parts that join back."""
    path = tmp_path / "big.csv"
    rng = random.Random(1)
    path.write_bytes(bytes(rng.choice(b"abcdefghijklmnop") for _ in range(16_384)))  # zips to ~9K
    assert prepare_upload(path, 1 << 20).paths == [path]
    zipped = prepare_upload(path, 16_000)
    assert zipped.zipped and not zipped.split and zipped.paths[0].suffix == ".zip"
    parts = prepare_upload(path, 4096)
    assert parts.split and all(p.stat().st_size <= 4096 for p in parts.paths)
    joined = tmp_path / "joined.zip"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts.paths))
    assert zipfile.ZipFile(joined).read("big.csv") == path.read_bytes()
