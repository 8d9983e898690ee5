"""Keywords of a group of comments: words and two-word phrases typical for it.

Pure functions over lemmas. A comment becomes a sequence of *terms*: content lemmas in text
order, with ``None`` wherever a stop word, function word, number, link or punctuation mark
stood, so that two terms are adjacent only if they were adjacent in the text.

Ranking follows the informativeness measure of Tomokiyo & Hurst (2003), a pointwise
Kullback-Leibler divergence: a term scores ``p_g * log(p_g / p_b)``, where ``p_g`` is its share
of the group's term mass and ``p_b`` its share of the background's (the other groups, or a
general frequency list), both with additive smoothing. The score grows with frequency in the
group and with over-representation against the background; a word as common everywhere as in
the group scores about zero and a word commoner elsewhere scores below zero (and is dropped).
Counts are document frequencies by default: a comment that repeats a word twenty times still
counts once, which keeps one spammer from defining a group's vocabulary.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise

from stop_words import get_stop_words

from core.text.morphology import AnalyzedToken
from core.text.tokenizer import TokenKind

__all__ = [
    "FUNCTION_POS",
    "Keyword",
    "count_document",
    "document_terms",
    "is_stop_word",
    "prune",
    "rank_keywords",
    "term_counts",
]

#: Universal POS tags of words that never are keywords.
FUNCTION_POS = frozenset(
    {"ADP", "CCONJ", "SCONJ", "PART", "PRON", "DET", "AUX", "INTJ", "NUM", "PUNCT", "SYM"}
)
_WORD_KINDS = frozenset({TokenKind.WORD, TokenKind.HASHTAG})
# Phrases join two terms with a space; a lemma never contains one.
_SEP = " "
# Additive smoothing: a term unseen in the background counts as half an occurrence there.
_ALPHA = 0.5


@dataclass(frozen=True, slots=True)
class Keyword:
    """A ranked term: a lemma or a two-lemma phrase, its score and how often it occurred."""

    term: str
    score: float
    count: int

    @property
    def is_phrase(self) -> bool:
        """Whether the term is a two-word phrase."""
        return _SEP in self.term


@cache
def _stop_words() -> frozenset[str]:
    words = {w.lower() for w in get_stop_words("russian")}
    # The list spells some words with ё and some without; lemmas may come either way.
    return frozenset(words | {w.replace("ё", "е") for w in words})


def is_stop_word(lemma: str) -> bool:
    """Whether ``lemma`` is in the ``stop-words`` package's Russian list (ё and е alike)."""
    stop = _stop_words()
    return lemma in stop or lemma.replace("ё", "е") in stop


def document_terms(
    tokens: Iterable[AnalyzedToken],
    split: Callable[[AnalyzedToken], Sequence[AnalyzedToken] | None] | None = None,
) -> list[str | None]:
    """Content lemmas of one analysed comment, ``None`` where anything else stood.

    A term is a word or hashtag whose POS is not a function-word POS, whose lemma is not a
    stop word and has at least two characters with a letter among them. ``split`` gives the
    words of a glued hashtag (see ``MorphologyAnalyzer.hashtag_words``), which then stand in
    its place: "#зимняярыбалка" adds зимний and рыбалка, next to each other and to nothing else.
    """
    terms: list[str | None] = []
    for tok in tokens:
        words = split(tok) if split is not None else None
        if words:
            # A tag is a label of its own: its words make phrases with each other only.
            terms.extend((None, *document_terms(words), None))
            continue
        lemma = tok.lemma
        keep = (
            tok.kind in _WORD_KINDS
            and tok.pos not in FUNCTION_POS
            and len(lemma) > 1
            and any(ch.isalpha() for ch in lemma)
            and not is_stop_word(lemma)
        )
        terms.append(lemma if keep else None)
    return terms


def term_counts(
    docs: Iterable[Sequence[str | None]], *, phrases: bool = True, per_document: bool = True
) -> Counter[str]:
    """Counts of terms (and adjacent term pairs, joined by a space) over ``docs``.

    With ``per_document`` (the default) a term counts once per document: document frequency.
    Use the result of the other groups as the ``background`` of :func:`rank_keywords`.
    """
    counts: Counter[str] = Counter()
    for doc in docs:
        count_document(counts, doc, phrases=phrases, per_document=per_document)
    return counts


def count_document(
    counts: Counter[str],
    doc: Sequence[str | None],
    *,
    phrases: bool = True,
    per_document: bool = True,
) -> None:
    """Add one document's terms and adjacent term pairs to ``counts`` (see :func:`term_counts`)."""
    found: list[str] = [term for term in doc if term is not None]
    if phrases:
        found.extend(
            first + _SEP + second
            for first, second in pairwise(doc)
            if first is not None and second is not None and first != second
        )
    counts.update(set(found) if per_document else found)


def prune(counts: Counter[str], cap: int) -> None:
    """Drop the rarest terms until at most half of ``cap`` remain (lossy counting).

    A stream of comments has an unbounded vocabulary of typos and phrases seen once; those
    can never be keywords (they need two or three occurrences), so forgetting them keeps
    memory bounded at the price of a term that becomes frequent late counting a few short.
    """
    threshold = 1
    while len(counts) > cap // 2:
        for term in [term for term, n in counts.items() if n <= threshold]:
            del counts[term]
        threshold += 1


def rank_keywords(
    group_docs: Iterable[Sequence[str | None]] | Mapping[str, int],
    background: Mapping[str, float],
    top_n: int = 20,
    *,
    min_count: int = 2,
    min_phrase_count: int = 3,
) -> list[Keyword]:
    """The ``top_n`` terms most typical of a group compared with ``background``.

    ``group_docs`` is either the group's documents as term sequences (see
    :func:`document_terms`), counted with :func:`term_counts`, or ready-made counts such as a
    ``Counter``. ``background`` maps terms to counts of the same kind over the other groups
    (or a general corpus); phrase keys ("a b") are optional — a phrase the background lacks
    gets a share estimated from its words as if they were independent. Stop words and
    terms without letters are never returned (nor counted). Words need ``min_count``
    occurrences, phrases ``min_phrase_count``. An empty background ranks by frequency alone.
    Ties go to the higher count, then the
    alphabetically first term, so results are stable.
    """
    raw = group_docs if isinstance(group_docs, Mapping) else term_counts(group_docs)
    group = _clean(raw)
    back = _clean(background)
    # Phrases are measured against the word mass as well, so that a phrase and a word seen
    # in as many comments get comparable shares.
    group_words = sum(n for term, n in group.items() if _SEP not in term)
    back_words = sum(n for term, n in back.items() if _SEP not in term)
    vocab = len({term for term in (*group, *back) if _SEP not in term}) or 1

    def share(counts: Mapping[str, float], mass: float, term: str) -> float:
        return (counts.get(term, 0.0) + _ALPHA) / (mass + _ALPHA * vocab)

    ranked: list[Keyword] = []
    for term, count in group.items():
        is_phrase = _SEP in term
        if count < (min_phrase_count if is_phrase else min_count):
            continue
        p_group = share(group, group_words, term)
        if is_phrase and term not in back:
            # A general frequency list has no phrases: estimate as if the words were independent.
            first, second = term.split(_SEP)
            p_back = share(back, back_words, first) * share(back, back_words, second)
        else:
            p_back = share(back, back_words, term)
        # Without any background there is nothing to be typical against: rank by frequency.
        score = p_group * math.log(p_group / p_back) if back else p_group
        if score > 0:
            ranked.append(Keyword(term, score, int(count)))
    ranked.sort(key=lambda k: (-k.score, -k.count, k.term))
    return ranked[:top_n]


def _clean(counts: Mapping[str, float]) -> dict[str, float]:
    """Counts of the terms that may be keywords: one or two words, no stop words, letters."""
    return {term: n for term, n in counts.items() if _may_rank(term)}


# Every ranking checks the whole background (the general list alone has ~20,000 terms), so
# the answer is remembered per term: a dict lookup instead of splitting and stop-word checks.
# 65,536 terms hold the general list and the commonest others in a few megabytes.
@lru_cache(maxsize=1 << 16)
def _may_rank(term: str) -> bool:
    parts = term.split(_SEP)
    return len(parts) <= 2 and all(
        any(ch.isalpha() for ch in part) and not is_stop_word(part) for part in parts
    )
