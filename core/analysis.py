"""Comment analysis over the database: lemmatise stored comments once, rank keywords from that.

Terms are stored per comment (`vk_comments.terms`), so keywords over a group never re-parse
text and re-running an analysis touches only comments that have none yet.

Nothing here passes one bind parameter per comment or holds a community in memory: comments
are chosen by community, period and key range, read in pages of `PAGE` rows, and keywords
are counted from a stream into a counter whose size is capped.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_, update

from core.models import Comment
from core.storage import Sessions, mark_days_changed, utcnow
from core.text.keywords import Keyword, count_document, document_terms, prune, rank_keywords
from core.text.morphology import MorphologyAnalyzer

BREAK = "|"
# How many other comments the background may read: enough for stable shares, bounded cost.
BACKGROUND_SAMPLE = 50_000
# Rows read and written per round trip: a few hundred kilobytes of text at most.
PAGE = 500
# Distinct terms (words and phrases) a keyword count may hold before its rarest are dropped.
TERM_CAP = 200_000

#: A comment's place within its community: (post_id, comment_id), the order parts split on.
Key = tuple[int, int]

_ANALYZER_LOCK = threading.Lock()


@cache
def _make_analyzer() -> MorphologyAnalyzer:
    return MorphologyAnalyzer()


def analyzer() -> MorphologyAnalyzer:
    """One analyser per process: its cache of parsed word forms is shared by every job.

    Jobs call it from threads; the lock keeps two of them from building it at once.
    """
    with _ANALYZER_LOCK:
        return _make_analyzer()


def encode_terms(terms: Sequence[str | None]) -> str:
    return " ".join(BREAK if term is None else term for term in terms)


def decode_terms(text: str) -> list[str | None]:
    return [None if part == BREAK else part for part in text.split(" ") if part]


def terms_of(text: str) -> str:
    """A comment's stored terms: content lemmas, glued hashtags split into their words."""
    morphology = analyzer()
    return encode_terms(document_terms(morphology.analyze(text), morphology.hashtag_words))


def _terms_of_all(texts: list[str]) -> list[str]:
    return [terms_of(text) for text in texts]


def since_days(days: int | None) -> datetime | None:
    """The start of a "last N days" period, or None for all time."""
    return datetime.now(UTC) - timedelta(days=days) if days else None


@dataclass(frozen=True)
class Scope:
    """Which comments of one community: a period and a key range [start, end)."""

    owner_id: int
    since: datetime | None = None
    start: Key | None = None
    end: Key | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """SQL conditions of the scope: a handful of parameters, however many comments match."""
        key = tuple_(Comment.post_id, Comment.comment_id)
        conditions = [Comment.owner_id == self.owner_id, Comment.deleted.is_(False)]
        if self.since is not None:
            conditions.append(Comment.date >= self.since)
        if self.start is not None:
            conditions.append(key >= tuple_(*self.start))
        if self.end is not None:
            conditions.append(key < tuple_(*self.end))
        return conditions


async def plan_parts(sessions: Sessions, scope: Scope, size: int) -> list[Key]:
    """First keys of consecutive runs of `size` unanalysed comments of the scope.

    Part i covers [starts[i], starts[i + 1]); the last part runs to the end of the scope.
    The database numbers the rows, so only the boundaries leave it.
    """
    number = func.row_number().over(order_by=(Comment.post_id, Comment.comment_id))
    rows = (
        select(Comment.post_id, Comment.comment_id, number.label("n"))
        .where(*scope.where(), Comment.terms.is_(None))
        .subquery()
    )
    query = select(rows.c.post_id, rows.c.comment_id).where((rows.c.n - 1) % size == 0)
    async with sessions() as session:
        result = await session.execute(query.order_by(rows.c.post_id, rows.c.comment_id))
        return [(int(post), int(comment)) for post, comment in result]


async def analyse_scope(sessions: Sessions, scope: Scope, on_page: Any = None) -> dict[str, int]:
    """Lemmatise the scope's comments that still lack terms, a page at a time.

    Each page is committed on its own, so a rerun after a crash continues where this one
    stopped. `on_page(analysed_so_far)` is awaited after every page.
    """
    analysed = tokens = 0
    cursor = scope.start
    while True:
        page = Scope(scope.owner_id, scope.since, cursor, scope.end)
        query = (
            select(Comment.post_id, Comment.comment_id, Comment.text, Comment.local_day)
            .where(*page.where(), Comment.terms.is_(None))
            .order_by(Comment.post_id, Comment.comment_id)
            .limit(PAGE)
        )
        async with sessions() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            return {"comments_analyzed": analysed, "tokens": tokens}
        encoded = await _store_terms(sessions, scope.owner_id, rows)
        analysed += len(rows)
        tokens += sum(len(t.split()) for t in encoded)
        cursor = (rows[-1].post_id, rows[-1].comment_id + 1)
        if on_page is not None:
            await on_page(analysed)


async def _store_terms(sessions: Sessions, owner_id: int, rows: Sequence[Any]) -> list[str]:
    """Analyse one page of comments (post_id, comment_id, text, local_day) and store their
    terms in one commit; the terms, in the rows' order."""
    if not rows:
        return []
    # The analyser is CPU-bound: a thread keeps the worker's event loop (heartbeats, other
    # jobs, progress edits) responsive.
    encoded = await asyncio.to_thread(_terms_of_all, [row.text for row in rows])
    now = utcnow()
    values = [
        {"owner_id": owner_id, "post_id": row.post_id,
         "comment_id": row.comment_id, "terms": terms, "analyzed_at": now}
        for row, terms in zip(rows, encoded, strict=True)
    ]  # fmt: skip
    # Analysis is deterministic, so a comment analysed twice at once gets the same terms.
    async with sessions.begin() as session:
        await session.execute(update(Comment), values)
        # Their days' keyword counts changed: update_statistics recounts them.
        days = {(owner_id, row.local_day) for row in rows if row.local_day is not None}
        await mark_days_changed(session, days)
    return encoded


@dataclass(frozen=True)
class NamedAnalysis:
    """The outcome of analysing comments named by their VK ids."""

    analysed: int  # analysed now
    before: int  # had been analysed already
    missing: list[int]  # not stored for the community, or deleted on VK
    lemmas: dict[int, list[str]]  # each found comment's content lemmas, the first LEMMAS_SHOWN


# Lemmas a named comment's result lists at most, so a result stays small however long the text.
LEMMAS_SHOWN = 100


async def analyse_named(sessions: Sessions, owner_id: int, ids: Sequence[int]) -> NamedAnalysis:
    """Lemmatise the community's comments with these VK ids that lack terms, `PAGE` ids per
    query; a comment analysed before keeps its terms."""
    analysed = before = 0
    lemmas: dict[int, list[str]] = {}
    for first in range(0, len(ids), PAGE):
        page = list(ids[first : first + PAGE])
        query = select(
            Comment.post_id, Comment.comment_id, Comment.text, Comment.local_day, Comment.terms
        ).where(
            Comment.owner_id == owner_id,
            Comment.deleted.is_(False),
            Comment.comment_id.in_(page),
        )
        async with sessions() as session:
            rows = (await session.execute(query)).all()
        fresh = [row for row in rows if row.terms is None]
        stored = dict(zip(fresh, await _store_terms(sessions, owner_id, fresh), strict=True))
        for row in rows:
            terms = row.terms if row.terms is not None else stored[row]
            lemmas[row.comment_id] = [t for t in decode_terms(terms) if t][:LEMMAS_SHOWN]
        analysed += len(fresh)
        before += len(rows) - len(fresh)
    missing = [i for i in ids if i not in lemmas]
    return NamedAnalysis(analysed, before, missing, lemmas)


async def count_analysed_since(sessions: Sessions, scope: Scope, started: datetime) -> int:
    """Comments of the scope analysed at or after `started`: a batch's total, exact on reruns."""
    return await _count(sessions, scope, Comment.terms.is_not(None), Comment.analyzed_at >= started)


async def count_unanalysed(sessions: Sessions, scope: Scope) -> int:
    """Comments of the scope that have no terms yet."""
    return await _count(sessions, scope, Comment.terms.is_(None))


async def count_analysed(sessions: Sessions, scope: Scope) -> int:
    """Comments of the scope that have terms: what an empty batch found done already."""
    return await _count(sessions, scope, Comment.terms.is_not(None))


async def _count(sessions: Sessions, scope: Scope, *conditions: ColumnElement[bool]) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Comment).where(*scope.where(), *conditions)
        return int(await session.scalar(query) or 0)


async def _count_terms(sessions: Sessions, query: Select[Any]) -> tuple[Counter[str], int]:
    """Document frequencies over the query's stored terms, read `PAGE` rows at a time, in
    memory bounded by `TERM_CAP`; and how many comments were read (those without a content
    word too, so the count agrees with the other counts of comments)."""
    counts: Counter[str] = Counter()
    docs = 0
    async with sessions() as session:
        stream = await session.stream_scalars(query.execution_options(yield_per=PAGE))
        async for text in stream:
            docs += 1
            count_document(counts, decode_terms(text or ""))
            if len(counts) > TERM_CAP:
                prune(counts, TERM_CAP)
    return counts, docs


async def background_counts(sessions: Sessions, owner_id: int) -> Counter[str]:
    """Document frequencies of the other groups' comments plus a general Russian list."""
    query = (
        select(Comment.terms)
        .where(Comment.owner_id != owner_id, Comment.terms.is_not(None))
        .limit(BACKGROUND_SAMPLE)
    )
    counts, _docs = await _count_terms(sessions, query)
    counts.update(general_background())
    return counts


@cache
def general_background() -> Counter[str]:
    """Document frequencies of words in general social-media Russian (shipped data file)."""
    counts: Counter[str] = Counter()
    text = resources.files("core.text.data").joinpath("background.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            term, _, count = line.partition("\t")
            counts[term] = int(count)
    return counts


async def keywords(
    sessions: Sessions, owner_id: int, top_n: int, days: int | None
) -> tuple[list[Keyword], int]:
    """The group's top keywords over the period, and how many comments they came from."""
    scope = Scope(owner_id, since_days(days))
    query = select(Comment.terms).where(*scope.where(), Comment.terms.is_not(None))
    counts, docs = await _count_terms(sessions, query)
    background = await background_counts(sessions, owner_id)
    return rank_keywords(counts, background, top_n), docs
