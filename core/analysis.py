"""Comment analysis over the database: lemmatise stored comments once, rank keywords from that.

Terms are stored per comment (`vk_comments.terms`), so keywords over a group never re-parse
text and re-running an analysis touches only comments that have none yet.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

from sqlalchemy import and_, select, tuple_, update

from core.models import Comment
from core.storage import Sessions, utcnow
from core.text.keywords import Keyword, document_terms, rank_keywords, term_counts
from core.text.morphology import MorphologyAnalyzer

BREAK = "|"
# How many other comments the background may read: enough for stable shares, bounded cost.
BACKGROUND_SAMPLE = 50_000

CommentKey = tuple[int, int, int]


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
    return encode_terms(document_terms(analyzer().analyze(text)))


async def unanalysed_keys(
    sessions: Sessions, owner_id: int, since: datetime | None = None
) -> list[CommentKey]:
    """Keys of a group's comments that have no terms yet (deleted ones have no text)."""
    query = select(Comment.owner_id, Comment.post_id, Comment.comment_id).where(
        Comment.owner_id == owner_id, Comment.terms.is_(None), Comment.deleted.is_(False)
    )
    if since is not None:
        query = query.where(Comment.date >= since)
    async with sessions() as session:
        rows = await session.execute(query.order_by(Comment.post_id, Comment.comment_id))
        return [(int(o), int(p), int(c)) for o, p, c in rows]


async def analyse_comments(sessions: Sessions, keys: Sequence[CommentKey]) -> dict[str, int]:
    """Lemmatise the given comments that still lack terms; returns counts of what was done."""
    if not keys:
        return {"comments_analyzed": 0, "tokens": 0}
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Comment.owner_id, Comment.post_id, Comment.comment_id, Comment.text).where(
                    tuple_(Comment.owner_id, Comment.post_id, Comment.comment_id).in_(keys),
                    Comment.terms.is_(None),
                )
            )
        ).all()
    # The analyser is CPU-bound: a thread keeps the worker's event loop (heartbeats, other
    # jobs, progress edits) responsive.
    encoded = await asyncio.to_thread(lambda: [terms_of(row.text) for row in rows])
    now = utcnow()
    values = [
        {
            "owner_id": row.owner_id,
            "post_id": row.post_id,
            "comment_id": row.comment_id,
            "terms": terms,
            "analyzed_at": now,
        }
        for row, terms in zip(rows, encoded, strict=True)
    ]
    # Analysis is deterministic, so a comment analysed twice at once gets the same terms twice.
    async with sessions.begin() as session:
        await session.execute(update(Comment), values)
    tokens = sum(len(t.split()) for t in encoded)
    return {"comments_analyzed": len(rows), "tokens": tokens}


async def group_terms(
    sessions: Sessions, owner_id: int, since: datetime | None
) -> list[list[str | None]]:
    query = select(Comment.terms).where(Comment.owner_id == owner_id, Comment.terms.is_not(None))
    if since is not None:
        query = query.where(Comment.date >= since)
    async with sessions() as session:
        # A comment with no content words (only emoji, say) still counts as a comment looked
        # at, so the count agrees with what /parse reports as stored.
        return [decode_terms(text or "") for text in await session.scalars(query)]


async def background_counts(sessions: Sessions, owner_id: int) -> Counter[str]:
    """Document frequencies of the other groups' comments plus a general Russian list."""
    query = (
        select(Comment.terms)
        .where(and_(Comment.owner_id != owner_id, Comment.terms.is_not(None)))
        .limit(BACKGROUND_SAMPLE)
    )
    async with sessions() as session:
        docs = [decode_terms(text) for text in (await session.scalars(query)) if text]
    counts = term_counts(docs)
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
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    docs = await group_terms(sessions, owner_id, since)
    background = await background_counts(sessions, owner_id)
    return rank_keywords(docs, background, top_n), len(docs)
