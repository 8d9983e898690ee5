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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from stop_words import get_stop_words

from core.text.morphology import AnalyzedToken
from core.text.tokenizer import TokenKind

__all__ = [
    "FUNCTION_POS",
    "Keyword",
    "document_terms",
    "is_stop_word",
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


def document_terms(tokens: Iterable[AnalyzedToken]) -> list[str | None]:
    """Content lemmas of one analysed comment, ``None`` where anything else stood.

    A term is a word or hashtag whose POS is not a function-word POS, whose lemma is not a
    stop word and has at least two characters with a letter among them.
    """
    terms: list[str | None] = []
    for tok in tokens:
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
        found: list[str] = [term for term in doc if term is not None]
        if phrases:
            found.extend(
                first + _SEP + second
                for first, second in pairwise(doc)
                if first is not None and second is not None and first != second
            )
        counts.update(set(found) if per_document else found)
    return counts


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
    ``Counter``. ``background`` maps terms to counts of the same kind over other groups (or a
    general corpus); phrase keys ("a b") are optional — without them a phrase's background
    share is estimated from its words as if they were independent. Stop words and terms
    without letters are never returned. Words need ``min_count`` occurrences, phrases
    ``min_phrase_count``. Ties are broken by count, then alphabetically, so results are stable.
    """
    if isinstance(group_docs, Mapping):
        group = Counter({term: int(n) for term, n in group_docs.items()})
    else:
        group = term_counts(group_docs)
    group_mass = _masses(group)
    back_mass = _masses(background)
    # One shared vocabulary size per term order keeps the smoothing of both sides comparable.
    vocab = [len({t for t in (*group, *background) if t.count(_SEP) == n}) for n in (0, 1)]
    has_back_phrases = back_mass[1] > 0

    def share(counts: Mapping[str, float], mass: tuple[float, float], term: str) -> float:
        order = term.count(_SEP)
        return (counts.get(term, 0.0) + _ALPHA) / (mass[order] + _ALPHA * vocab[order])

    ranked: list[Keyword] = []
    for term, count in group.items():
        parts = term.split(_SEP)
        if count < (min_phrase_count if len(parts) > 1 else min_count) or len(parts) > 2:
            continue
        if any(is_stop_word(part) or not any(ch.isalpha() for ch in part) for part in parts):
            continue
        p_group = share(group, group_mass, term)
        if len(parts) == 1 or has_back_phrases:
            p_back = share(background, back_mass, term)
        else:
            p_back = share(background, back_mass, parts[0]) * share(background, back_mass, parts[1])
        score = p_group * math.log(p_group / p_back)
        if score > 0:
            ranked.append(Keyword(term, score, count))
    ranked.sort(key=lambda k: (-k.score, -k.count, k.term))
    return ranked[:top_n]


def _masses(counts: Mapping[str, float]) -> tuple[float, float]:
    """Total count of single terms and of phrases."""
    words = phrases = 0.0
    for term, n in counts.items():
        if _SEP in term:
            phrases += n
        else:
            words += n
    return words, phrases
