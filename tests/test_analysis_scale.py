"""Analysis and keywords over 200,000 comments of one community, on SQLite and PostgreSQL.

Before, both passed every comment's key as a bind parameter and failed past ~11,000 comments on
PostgreSQL and ~84,000 on SQLite; and /keywords held every analysed comment in memory.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert

from core import analysis, storage
from core.db import make_engine, make_sessionmaker, migrate
from core.models import Comment
from core.text.keywords import count_document, prune

OWNER = -9
TOTAL = 200_000
ANALYSED_BEFORE = 150_000
POSTS = 400
# Stored terms of comments analysed earlier, and texts of the ones still waiting.
TERMS = ["щука клев | озеро", "спиннинг блесна | щука", "карась | наживка червь", "лодка озеро"]
TEXTS = ["Щука клюёт на блесну", "Поймал карася на червя", "Лодка на озере"]


async def fill(db: storage.Sessions, total: int, analysed: int) -> None:
    """`total` comments over `POSTS` posts; the first `analysed` of them have terms already."""
    date = datetime(2026, 11, 1, tzinfo=UTC)
    per_post = total // POSTS
    rows = [
        {"owner_id": OWNER, "post_id": n // per_post + 1, "comment_id": n + 1, "from_id": 7,
         "date": date, "text": TEXTS[n % len(TEXTS)], "deleted": False,
         "terms": TERMS[n % len(TERMS)] if n < analysed else None,
         "analyzed_at": date if n < analysed else None}
        for n in range(total)
    ]  # fmt: skip
    for start in range(0, total, 20_000):
        async with db.begin() as session:
            await session.execute(insert(Comment), rows[start : start + 20_000])


async def test_parts_and_keywords_over_200k_comments(sessions: storage.Sessions) -> None:
    """Parts are key ranges that cover the unanalysed comments exactly; /keywords' path
    analyses the rest and counts all 200,000."""
    await fill(sessions, TOTAL, ANALYSED_BEFORE)
    waiting = TOTAL - ANALYSED_BEFORE
    started = storage.utcnow()
    whole = analysis.Scope(OWNER)
    starts = await analysis.plan_parts(sessions, whole, 1000)
    assert len(starts) == waiting // 1000
    first = analysis.Scope(OWNER, None, starts[0], starts[1])
    second_to_end = analysis.Scope(OWNER, None, starts[1], None)
    assert await analysis.count_unanalysed(sessions, first) == 1000
    assert await analysis.count_unanalysed(sessions, second_to_end) == waiting - 1000

    done = await analysis.analyse_scope(sessions, first)
    assert done["comments_analyzed"] == 1000
    rest = await analysis.analyse_scope(sessions, whole)
    assert rest["comments_analyzed"] == waiting - 1000
    assert await analysis.count_unanalysed(sessions, whole) == 0
    assert await analysis.count_analysed_since(sessions, whole, started) == waiting

    ranked, comments = await analysis.keywords(sessions, OWNER, 5, None)
    assert comments == TOTAL
    assert {k.term for k in ranked} & {"щука", "озеро", "карась"}, ranked


async def test_memory_does_not_grow_with_the_comments(tmp_path: Path) -> None:
    """Peak memory of /keywords over 200,000 analysed comments stays that of 20,000, and of
    analysing 20,000 comments that of 2,000 (SQLite: the Python side is what is measured, and
    it is the same on both databases)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'memory.sqlite3'}"
    await migrate(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)
    try:
        keywords_small = await peak_after(db, TOTAL // 10, TOTAL // 10, keywords)
        keywords_big = await peak_after(db, TOTAL, TOTAL, keywords)
        analysis_small = await peak_after(db, 2_000, 0, analyse)
        analysis_big = await peak_after(db, 20_000, 0, analyse)
    finally:
        await engine.dispose()
    print(f"\npeak traced memory: /keywords {keywords_small / 2**20:.1f} MiB over 20,000 "
          f"comments, {keywords_big / 2**20:.1f} MiB over 200,000; analysis "
          f"{analysis_small / 2**20:.1f} MiB of 2,000 comments, "
          f"{analysis_big / 2**20:.1f} MiB of 20,000")  # fmt: skip
    assert keywords_big < 1.5 * keywords_small
    assert analysis_big < 1.5 * analysis_small


async def keywords(db: storage.Sessions) -> None:
    await analysis.keywords(db, OWNER, 20, None)


async def analyse(db: storage.Sessions) -> None:
    await analysis.analyse_scope(db, analysis.Scope(OWNER))


async def peak_after(
    db: storage.Sessions,
    total: int,
    analysed: int,
    work: Callable[[storage.Sessions], Awaitable[None]],
) -> int:
    """Peak traced memory of `work` over a community of `total` comments."""
    async with db.begin() as session:
        await session.execute(delete(Comment))
    await fill(db, total, analysed)
    # A first run of a small piece loads what a process loads once (the general background,
    # the analyser and its dictionaries, compiled queries).
    await analysis.keywords(db, OWNER + 1, 20, None)
    analysis.analyzer().analyze(" ".join(TEXTS))
    tracemalloc.start()
    try:
        await work(db)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_term_counter_stays_under_its_cap_on_an_endless_vocabulary() -> None:
    """Terms seen once are forgotten first; frequent ones survive every pruning."""
    counts: Counter[str] = Counter()
    for n in range(50_000):
        count_document(counts, ["щука", f"слово{n}", f"другое{n}"])
        if len(counts) > 1000:
            prune(counts, 1000)
        assert len(counts) <= 1000 + 5
    assert counts["щука"] == 50_000
