"""/report over a million stored comments: summary, chart and export, against plain SQL.

Run from the project root::

    .venv/bin/python -m bench.bench_report [--comments 1000000] [--communities 20] [--days 90]

Seeds a SQLite database in a temporary directory (comments spread evenly over the last
``--days`` local days, 500 posts and 5,000 authors per community, a third of the authors named,
every comment analysed), builds the daily statistics with ``update_statistics``'s code, then
times, for one community over 30 days and for all communities:

* summary queries: what ``summarize`` reads (daily statistics, plus GROUP BY over comments for
  distinct authors, top posts and top authors), without the keyword ranking;
* plain SQL: the same numbers computed straight from ``vk_comments`` with hand-written SQL on
  the same engine, in the same run (best of 3 each);
* summary + chart: the whole summary (keywords, ranked from the stored day counts, included)
  and the PNG;
* export: CSV and XLSX of the period, rows/s, and the process's peak RSS while exporting; then
  the same for every stored comment (the 1,000,000 rows; ``--skip-full-export`` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text

from core.db import make_engine, make_sessionmaker, migrate
from core.reports import chart
from core.reports.export import Exported, export
from core.reports.localtime import ZONE_KEY, local_time, period
from core.reports.statistics import mark_recent, refresh
from core.reports.summary import Limits, Summary, period_keywords, summarize, summarize_all
from core.storage import Sessions
from fakevk.people import full_name

ZONE_NAME = "Europe/Moscow"
POSTS = 500
AUTHORS = 5000
WORDS = [f"слово{i}" for i in range(3000)]
# Word frequencies in comments fall off as 1/rank (Zipf), as in real text.
WEIGHTS = [1 / rank for rank in range(1, len(WORDS) + 1)]
SQL_ONLY = Limits(keywords=0)


def seed(path: Path, comments: int, communities: int, days: int) -> None:
    """Rows written with plain sqlite3: the seeding is not what is measured."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE_NAME)
    rng = random.Random(7)
    now = time.time()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("INSERT INTO app_state VALUES (?, ?)", (ZONE_KEY, ZONE_NAME))
    per_community = comments // communities
    for number in range(communities):
        group_id = 100_000 + number
        owner = -group_id
        db.execute(
            "INSERT INTO vk_groups (id, screen_name, name) VALUES (?, ?, ?)",
            (group_id, f"bench_{number}", f"Сообщество {number}"),
        )
        db.executemany(
            "INSERT INTO vk_posts (owner_id, post_id, date, text, comments_count, is_pinned)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            [(owner, post, _iso(now - days * 86400), f"Пост {post}") for post in range(POSTS)],
        )
        rows = []
        for comment_id in range(per_community):
            moment = now - rng.random() * days * 86400
            day, hour = local_time(datetime.fromtimestamp(moment, UTC), zone)
            terms = " ".join(rng.choices(WORDS, WEIGHTS, k=4))
            rows.append(
                (owner, rng.randrange(POSTS), comment_id,
                 comment_id - 1 if comment_id % 5 == 0 and comment_id else None,
                 10_000 + rng.randrange(AUTHORS), _iso(moment), f"Комментарий {comment_id}",
                 comment_id % 41 == 0, rng.randrange(10), day.isoformat(), hour, terms)
            )  # fmt: skip
        db.executemany(
            "INSERT INTO vk_comments (owner_id, post_id, comment_id, parent_id, from_id, date,"
            " text, deleted, likes, local_day, local_hour, terms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.commit()
    named = [(10_000 + a, " ".join(full_name(a)), "", _iso(now)) for a in range(0, AUTHORS, 3)]
    db.executemany("INSERT INTO vk_authors VALUES (?, ?, ?, ?)", named)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


PLAIN_SQL = {
    "days": "SELECT local_day, count(*), count(parent_id), sum(likes) FROM vk_comments"
    " WHERE {where} GROUP BY local_day",
    "previous": "SELECT count(*) FROM vk_comments WHERE {previous}",
    "hours": "SELECT local_hour, count(*) FROM vk_comments WHERE {where} GROUP BY local_hour",
    "authors": "SELECT count(DISTINCT from_id) FROM vk_comments WHERE {where}",
    "posts": "SELECT c.owner_id, c.post_id, count(*) AS n, p.text FROM vk_comments c"
    " JOIN vk_posts p ON p.owner_id = c.owner_id AND p.post_id = c.post_id WHERE {where}"
    " GROUP BY c.owner_id, c.post_id, p.text ORDER BY n DESC LIMIT {posts}",
    "top_authors": "SELECT t.from_id, a.name, t.n FROM (SELECT from_id, count(*) AS n"
    " FROM vk_comments WHERE {where} GROUP BY from_id ORDER BY n DESC LIMIT {authors}) t"
    " LEFT JOIN vk_authors a ON a.id = t.from_id ORDER BY t.n DESC",
}


async def plain_sql(sessions: Sessions, owner_id: int | None, first: date, last: date) -> int:
    """The summary's numbers straight from the comments; for all communities, the totals and
    then each community's section, as the report has them. Returns the period's comments."""
    owners: list[int | None] = [owner_id]
    if owner_id is None:
        async with sessions() as session:
            owners += [int(o) for o in await session.scalars(text("SELECT -id FROM vk_groups"))]
    every = ", ".join(str(owner) for owner in owners[1:])
    total = 0
    before = first - (last - first) - timedelta(days=1)
    for owner in owners:
        # The totals name the communities as ours do, so both can seek the index by owner.
        own = f"owner_id = {owner} AND " if owner is not None else f"owner_id IN ({every}) AND "
        # `deleted IS 0` is the partial index's own condition: SQLite uses a partial index
        # only for a WHERE that implies it word for word, as a hand-written query would.
        span = "local_day >= '{}' AND local_day <= '{}' AND deleted IS 0"
        where = own + span.format(first, last)
        previous = own + span.format(before, first - timedelta(days=1))
        limits = (5, 10) if owner_id is not None else (3, 5)
        async with sessions() as session:
            for name, sql in PLAIN_SQL.items():
                query = sql.format(
                    where=where.replace("owner_id", "c.owner_id") if name == "posts" else where,
                    previous=previous,
                    posts=limits[0],
                    authors=limits[1],
                )
                rows = (await session.execute(text(query))).all()
                if name == "days" and owner is owner_id:
                    total = sum(int(r[1]) for r in rows)
    return total


async def best_of(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        best = min(best, time.perf_counter() - started)
    return best, result


class PeakRss:
    """Samples this process's resident memory every 10 ms while the block runs."""

    def __enter__(self) -> PeakRss:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.start = self.peak
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


async def measure(
    sessions: Sessions, owner_id: int | None, label: str, folder: Path | None
) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE_NAME)
    first, last = period(30, zone)

    async def ours() -> Summary:
        if owner_id is None:
            return await summarize_all(sessions, first, last)
        return await summarize(sessions, owner_id, first, last, SQL_ONLY)

    ours_s, summary = await best_of(3, ours)
    plain_s, plain_total = await best_of(3, lambda: plain_sql(sessions, owner_id, first, last))
    assert summary.comments == plain_total, (summary.comments, plain_total)

    async def whole() -> bytes:
        full = (
            await summarize_all(sessions, first, last)
            if owner_id is None
            else await summarize(sessions, owner_id, first, last)
        )
        return await asyncio.to_thread(chart.render, full)

    whole_s, png = await best_of(3, whole)
    if owner_id is not None:
        keywords_s, _ = await best_of(
            3, lambda: period_keywords(sessions, owner_id, first, last, Limits().keywords)
        )
    else:
        keywords_s = 0.0
    chart_s, _ = await best_of(3, lambda: asyncio.to_thread(chart.render, summary))
    print(f"\n{label}: {summary.comments:,} comments in the last 30 days", flush=True)
    print(f"  summary queries   {ours_s * 1000:8.1f} ms")
    print(f"  plain SQL         {plain_s * 1000:8.1f} ms   (ours / plain = {ours_s / plain_s:.2f})")
    print(
        f"  summary + chart   {whole_s * 1000:8.1f} ms   (PNG {len(png) // 1024} KiB; of which"
        f" keywords {keywords_s * 1000:.0f} ms, chart {chart_s * 1000:.0f} ms)"
    )
    if folder is not None:
        await measure_export(sessions, owner_id, first, last, folder / label.replace(" ", "_"))


async def measure_export(
    sessions: Sessions, owner_id: int | None, first: date, last: date, stem: Path
) -> None:
    """One export of the period: its rate and this process's resident memory meanwhile."""
    from zoneinfo import ZoneInfo

    target = Exported(stem.with_suffix(".csv"), stem.with_suffix(".xlsx"))
    with PeakRss() as rss:
        started = time.perf_counter()
        await export(sessions, owner_id, first, last, ZoneInfo(ZONE_NAME), target)
        export_s = time.perf_counter() - started
    mib = 1024 * 1024
    print(
        f"  export            {export_s:8.1f} s    {target.rows:,} rows,"
        f" {target.rows / export_s:,.0f} rows/s (CSV {target.csv.stat().st_size // mib} MiB, XLSX"
        f" {target.xlsx.stat().st_size // mib} MiB); RSS {rss.start // mib} MiB before,"
        f" peak {rss.peak // mib} MiB",
        flush=True,
    )
    target.csv.unlink()
    target.xlsx.unlink()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", type=Path, help="seed into this file once, reuse it after")
    parser.add_argument(
        "--skip-full-export", action="store_true", help="no export of every stored comment"
    )
    parser.add_argument(
        "--skip-export", action="store_true", help="no export at all: summaries and chart only"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(tmp)
        path = options.keep or folder / "bench.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        if not path.exists():
            await migrate(url)
            started = time.perf_counter()
            seed(path, options.comments, options.communities, options.days)
            print(f"seeded {options.comments:,} comments in {time.perf_counter() - started:.1f} s")
            await mark_recent(sessions, None, date.min)
            started = time.perf_counter()
            done = await refresh(sessions)
            print(
                f"update_statistics, every day: {done.days} days of {done.communities}"
                f" communities in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        exports = None if options.skip_export else folder
        await measure(sessions, -100_000, "one community", exports)
        await measure(sessions, None, "all communities", exports)
        if not (options.skip_full_export or options.skip_export):
            print("\nevery stored comment (all communities, every day):", flush=True)
            await measure_export(sessions, None, date.min, date.max, folder / "everything")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
