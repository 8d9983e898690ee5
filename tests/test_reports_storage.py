"""Report numbers, incremental statistics, time zones and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import event, select

from core import analysis, storage
from core.db import make_engine, make_sessionmaker, migrate
from core.models import Comment
from core.reports.export import Exported, export, prepare_upload
from core.reports.localtime import ensure_zone, period
from core.reports.statistics import refresh
from core.reports.summary import Limits, summarize, summarize_all
from core.text.keywords import count_document, rank_keywords
from core.vk.wall_items import author_rows, comment_row, post_row
from fakevk.people import full_name, profile
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
    STORED,
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
    days are recomputed and the statistics rebuilt, so the day counts move with it. The
    comment at 20:05 Moscow time 8 days ago moves to the next day there, leaving its day
    empty: that day's keyword counts go too, so the keywords are still /keywords' own."""
    await seed(sessions)
    late = datetime.combine(datetime.now(UTC).date() - timedelta(days=3), datetime.min.time())
    late = late.replace(hour=22, minute=30, tzinfo=UTC)
    vk = {"id": 998, "from_id": 2010, "date": int(late.timestamp()), "text": "поздно"}
    await storage.save_comments(sessions, [comment_row(OWNER, 5, vk, None, ZONE)])
    await analysis.analyse_scope(sessions, analysis.Scope(OWNER))
    await refresh(sessions)
    vladivostok = ZoneInfo("Asia/Vladivostok")
    assert await ensure_zone(sessions, "Asia/Vladivostok", vladivostok) == CURRENT + PREVIOUS + 2
    await refresh(sessions)
    first, last = period(30, vladivostok)
    summary = await summarize(sessions, OWNER, first, last)
    assert summary.per_day.get(late.date() + timedelta(days=1), 0) >= 1
    assert sum(summary.hours) == summary.comments
    everything = await summarize(sessions, OWNER, *period(60, vladivostok))
    ranked, comments = await analysis.keywords(sessions, OWNER, 10, 60)
    assert everything.analyzed == comments == STORED + 1
    phrase = analysis.analyzer().phrase_text
    assert everything.keywords == [(phrase(k.term), k.count) for k in ranked]
    assert ("текст", STORED) in everything.keywords
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


VOCABULARY = {
    -777001: "рыбалка щука лёд улов мормышка озеро клёв зимний",
    -777002: "котёнок корм ветеринар прививка лоток шерсть приют пушистый",
    -777003: "ремонт плитка краска потолок обои бригада смета новый",
}
COMMON = "погода сегодня хороший вопрос спасибо фото друг город"


async def seed_random(
    sessions: storage.Sessions, zone: ZoneInfo, now: datetime | None = None
) -> None:
    """Three communities over 80 days: comments at random moments (many near midnight, where
    the local day differs from the UTC one), replies, likes, deletions, named and unnamed
    authors, texts from each community's words and common ones, then the real analysis."""
    rng = random.Random(20261130)
    now = now or datetime.now(UTC)
    for owner, words in VOCABULARY.items():
        await storage.save_group(sessions, -owner, f"club{-owner}", f"Сообщество {-owner}")
        created = int(now.timestamp()) - 86400 * 90
        posts = [{"id": p, "date": created, "text": f"Пост {p}"} for p in range(1, 9)]
        await storage.save_posts(sessions, [post_row(owner, post) for post in posts])
        rows = []
        for number in range(1, 301):
            moment = now - timedelta(days=rng.uniform(0, 80))
            if number % 3 == 0:  # around local midnight
                moment = moment.replace(hour=rng.choice([20, 21, 22]), minute=rng.randrange(60))
            text = " ".join(rng.choices(words.split(), k=3) + rng.choices(COMMON.split(), k=2))
            vk = {
                "id": number,
                "from_id": rng.choice([rng.randrange(3000, 3040), -rng.randrange(1, 4)]),
                "date": int(moment.timestamp()),
                "text": text,
                "deleted": number % 9 == 0,
                "likes": {"count": rng.randrange(5)},
            }
            parent = number - 1 if number % 4 == 0 else None
            rows.append(comment_row(owner, rng.randrange(1, 9), vk, parent, zone))
        await storage.save_comments(sessions, rows)
        await analysis.analyse_scope(sessions, analysis.Scope(owner))
    named = [profile(author) for author in range(3000, 3040, 2)]
    await storage.save_authors(sessions, author_rows({"profiles": named}))
    await ensure_zone(sessions, "Europe/Moscow", zone)
    await refresh(sessions)


async def test_same_report_on_both_databases(sessions: storage.Sessions, tmp_path: Path) -> None:
    """The same comments stored here and in a reference SQLite file give identical reports,
    every number, list and keyword, for one community and for all (so on PostgreSQL the
    report equals SQLite's)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'reference.sqlite3'}"
    await migrate(url)
    engine = make_engine(url)
    reference = make_sessionmaker(engine)
    now = datetime.now(UTC)  # one moment for both: a comment's hour must not move between them
    for db in (sessions, reference):
        await seed_random(db, ZONE, now)
    for days in (7, 30):
        first, last = period(days, ZONE)
        for owner in VOCABULARY:
            ours = await summarize(sessions, owner, first, last)
            assert ours.comments and ours.keywords and ours.top_authors
            assert ours == await summarize(reference, owner, first, last)
        everything = await summarize_all(sessions, first, last)
        assert len(everything.sections) == len(VOCABULARY)
        assert everything == await summarize_all(reference, first, last)
    await engine.dispose()


def ranked(counts: Counter[Any], top: int) -> list[tuple[Any, int]]:
    """Most first, ties by key: the order the report lists them in."""
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:top]


async def test_report_of_all_is_grouped_and_exact(sessions: storage.Sessions) -> None:
    """Every section and the totals of the report of all communities (their keywords too)
    equal what the stored comments give counted one by one here; and it reads them with as
    many statements as the report of one community, plus one for the keywords of all
    (grouped queries, no loop over the communities)."""
    await seed_random(sessions, ZONE)
    first, last = period(30, ZONE)
    async with sessions() as session:
        stored = (
            await session.execute(
                select(Comment.owner_id, Comment.post_id, Comment.from_id, Comment.terms).where(
                    Comment.local_day >= first,
                    Comment.local_day <= last,
                    Comment.deleted.is_(False),
                )
            )
        ).all()
    engine = sessions.kw["bind"].sync_engine
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    everything = await summarize_all(sessions, first, last)
    all_statements, statements[:] = len(statements), []
    await summarize(sessions, next(iter(VOCABULARY)), first, last, Limits(keywords=0))
    event.remove(engine, "before_cursor_execute", record)
    assert all_statements == len(statements) + 1 == 6

    assert everything.comments == len(stored)
    assert everything.authors == len({author for _, _, author, _ in stored})
    assert [(a.author_id, a.comments) for a in everything.top_authors] == ranked(
        Counter(author for _, _, author, _ in stored), 5
    )
    mentions: Counter[str] = Counter()
    analysed = [terms for *_, terms in stored if terms is not None]
    for terms in analysed:
        count_document(mentions, analysis.decode_terms(terms))
    keywords = rank_keywords(mentions, analysis.general_background(), 10)
    phrase = analysis.analyzer().phrase_text
    assert everything.analyzed == len(analysed) > 0
    assert everything.keywords == [(phrase(k.term), mentions[k.term]) for k in keywords]
    assert len(everything.keywords) == 10
    for section in everything.sections:
        own = [(post, author) for owner, post, author, _ in stored if owner == section.owner_id]
        assert section.comments == len(own)
        assert section.authors == len({author for _, author in own})
        assert [(a.author_id, a.comments) for a in section.top_authors] == ranked(
            Counter(author for _, author in own), 5
        )
        assert [(p.post_id, p.comments) for p in section.top_posts] == ranked(
            Counter(post for post, _ in own), 3
        )
    posts = Counter((owner, post) for owner, post, _, _ in stored)
    assert [((p.owner_id, p.post_id), p.comments) for p in everything.top_posts] == ranked(posts, 3)


async def test_report_keywords_count_as_keywords_does(sessions: storage.Sessions) -> None:
    """Over a period that holds every stored comment, the report's keywords are /keywords' own:
    the same terms in the same order, each mentioned by as many comments."""
    await seed(sessions)
    await analysis.analyse_scope(sessions, analysis.Scope(OWNER))
    await refresh(sessions)
    first, last = period(60, ZONE)  # the oldest comment is 45 days old
    summary = await summarize(sessions, OWNER, first, last)
    ranked, comments = await analysis.keywords(sessions, OWNER, 10, 60)
    assert summary.analyzed == comments == STORED
    phrase = analysis.analyzer().phrase_text
    assert summary.keywords == [(phrase(k.term), k.count) for k in ranked]
    assert ("текст", STORED) in summary.keywords
