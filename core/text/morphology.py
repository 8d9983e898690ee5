"""Lemmas and Universal POS tags for social-media Russian, on top of pymorphy3.

pymorphy3 analyses words one at a time and orders its candidate parses by corpus frequency;
taking the first one is right for about nine tokens in ten of comment text. This module keeps
pymorphy3's candidates and improves the choice where that is cheap:

* candidates are merged per (lemma, POS) and their scores added, so a lemma that owns several
  likely parses beats one lucky parse of another lemma ("рады": рад, not рада);
* dictionary readings beat guesses, and ties go to the lemma sharing the longest prefix with
  the word ("счастья": счастье, not счастие);
* a few neighbour-dependent choices are made per token (see ``_resolve``): after a preposition
  an oblique-case noun reading is preferred; "его/её/их/этот/тот/весь" are determiners before
  an agreeing noun and pronouns elsewhere; "есть" is "быть" unless a modal asks for "eat";
* a data file overrides chat slang and abbreviations that the dictionary misreads.

Everything about one word form is computed once and kept in a per-analyzer cache keyed by the
lowercased form: word frequencies follow Zipf's law, so a few thousand entries serve most
tokens, and the per-token work is a dict lookup plus, for the few ambiguous forms, a rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from typing import NamedTuple

import pymorphy3
import pymorphy3.dawg

from core.text.normalize import (
    CONTENT_POS,
    Reading,
    Rule,
    compile_readings,
    fixed_reading,
    is_oblique,
    normalize_word,
)
from core.text.tokenizer import Token, TokenKind, classify, tokenize

__all__ = [
    "DAWG_EXTENSION_AVAILABLE",
    "AnalyzedToken",
    "MorphologyAnalyzer",
    "shared_morph",
]

#: True when pymorphy3 runs on the compiled DAWG extension (the ``fast`` extra); the pure
#: Python fallback gives the same answers several times slower.
DAWG_EXTENSION_AVAILABLE: bool = bool(pymorphy3.dawg.EXTENSION_AVAILABLE)

# Entries kept per analyzer before the oldest half is dropped; about 20 MB at the limit.
_CACHE_LIMIT = 200_000
# Lemmas after which "есть" means "eat" rather than "there is" ("хочу есть", "можно есть").
_EAT_AFTER = frozenset(
    {"хотеть", "хотеться", "можно", "нельзя", "надо", "нужно", "любить", "мочь", "начать",
     "перестать", "стать", "пора", "дать", "давать", "сесть", "идти", "пойти", "нечего"}
)  # fmt: skip
_NOMINAL = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "DET"})
# After these (or at the end of the text) an "-о" word closes its clause.
_CLAUSE_END = frozenset({"PUNCT", "SYM"})


class AnalyzedToken(NamedTuple):
    """A token with its lemma and Universal POS tag (lemmas are lowercase)."""

    form: str
    lemma: str
    pos: str
    kind: TokenKind
    start: int


class _Entry(NamedTuple):
    """Everything about one word form: the context-free choice and the alternatives."""

    best: Reading
    readings: tuple[Reading, ...]
    rules: Rule


@cache
def shared_morph() -> pymorphy3.MorphAnalyzer:
    """The process-wide pymorphy3 analyser (loading the dictionaries takes ~15 MB and ~0.3 s)."""
    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def _load_overrides() -> dict[str, Reading]:
    """Slang and convention overrides from ``data/overrides.txt`` (form -> reading)."""
    text = resources.files("core.text.data").joinpath("overrides.txt").read_text("utf-8")
    table: dict[str, Reading] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            form, lemma, pos = line.split("\t")
            table[form] = fixed_reading(lemma, pos)
    return table


class MorphologyAnalyzer:
    """Tokenises text and tags each token with a lemma and a Universal POS tag.

    Instances share one pymorphy3 analyser but each has its own cache of analysed forms;
    an instance is cheap to create but meant to be long-lived. Not thread-safe (the cache is
    a plain dict); use one instance per thread or process.
    """

    def __init__(
        self,
        morph: pymorphy3.MorphAnalyzer | None = None,
        *,
        require_fast_backend: bool = True,
        cache_limit: int = _CACHE_LIMIT,
    ) -> None:
        if require_fast_backend and not DAWG_EXTENSION_AVAILABLE:
            raise RuntimeError(
                "pymorphy3 runs without the compiled DAWG extension (install pymorphy3[fast]); "
                "pass require_fast_backend=False to accept the slow pure-Python backend"
            )
        self.morph = morph if morph is not None else shared_morph()
        self._overrides = _load_overrides()
        self._cache: dict[str, _Entry] = {}
        self._cache_limit = cache_limit

    @property
    def extension_available(self) -> bool:
        """Whether pymorphy3's compiled DAWG backend is in use."""
        return DAWG_EXTENSION_AVAILABLE

    @property
    def cache_size(self) -> int:
        """Number of distinct forms analysed and kept so far."""
        return len(self._cache)

    def analyze(self, text: str) -> list[AnalyzedToken]:
        """Tokenise ``text`` and give every token (punctuation included) a lemma and POS."""
        return self._analyze_tokens(tokenize(text))

    def analyze_words(self, words: Iterable[str]) -> list[AnalyzedToken]:
        """Like :meth:`analyze` for text that is already split into tokens (one per item)."""
        tokens: list[Token] = []
        start = 0
        for word in words:
            tokens.append(Token(word, classify(word), start))
            start += len(word) + 1
        return self._analyze_tokens(tokens)

    def lemmas(self, text: str) -> list[str]:
        """Lemmas of the content words of ``text`` (nouns, verbs, adjectives, ...), in order."""
        return [tok.lemma for tok in self.analyze(text) if tok.pos in CONTENT_POS]

    def _analyze_tokens(self, tokens: Sequence[Token]) -> list[AnalyzedToken]:
        cache_get = self._cache.get
        entries = [cache_get(tok.text.lower()) or self._add(tok) for tok in tokens]
        result: list[AnalyzedToken] = []
        append = result.append
        for i, (tok, entry) in enumerate(zip(tokens, entries, strict=True)):
            reading = _resolve(entries, tokens, i) if entry.rules else entry.best
            append(AnalyzedToken(tok.text, reading.lemma, reading.pos, tok.kind, tok.start))
        return result

    def _add(self, token: Token) -> _Entry:
        """Analyse a form not seen before and cache the result."""
        if len(self._cache) >= self._cache_limit:
            # Drop the older half: cheap, and the frequent forms come straight back.
            for key in list(itertools.islice(self._cache, len(self._cache) // 2)):
                del self._cache[key]
        entry = self._compute(token)
        self._cache[token.text.lower()] = entry
        return entry

    def _compute(self, token: Token) -> _Entry:
        kind = token.kind
        if kind not in (TokenKind.WORD, TokenKind.HASHTAG):
            reading = fixed_reading(token.text.lower(), _pos_of_non_word(token))
            return _Entry(reading, (reading,), Rule.NONE)
        form = normalize_word(token.text, self.morph.word_is_known)
        override = self._overrides.get(form)
        if override is not None:
            return _Entry(override, (override,), Rule.NONE)
        parses = self.morph.parse(form)
        verbatim = fixed_reading(form, "X")
        if kind is TokenKind.HASHTAG and not parses[0].is_known:
            # Tags like "#черноеморе" are compounds the dictionary cannot know; a guessed
            # lemma ("черноемора") would only hide the tag, so the tag itself is the lemma.
            return _Entry(verbatim, (verbatim,), Rule.NONE)
        readings, rules = compile_readings(form, parses)
        if kind is TokenKind.HASHTAG:
            # The verbatim tag goes last; the hashtag rule picks it inside a run of tags.
            return _Entry(readings[0], (*readings, verbatim), Rule.HASHTAG)
        return _Entry(readings[0], readings, rules)


def _pos_of_non_word(token: Token) -> str:
    """Universal POS of tokens that are not looked up in the dictionary."""
    kind = token.kind
    if kind is TokenKind.NUMBER:
        return "NUM"
    if kind in (TokenKind.MENTION, TokenKind.VK_MENTION):
        return "PROPN"
    if kind is TokenKind.EMOJI:
        return "SYM"
    if kind is TokenKind.URL:
        return "X"
    # Currency, percent and maths signs are symbols in UD; the rest is punctuation.
    return "SYM" if token.text in _SYMBOLS else "PUNCT"


_SYMBOLS = frozenset("%$€₽£¥№+=<>*&^~|/\\°§©®™")


def _agrees(det: Reading, noun: Reading) -> bool:
    """Whether two readings share a case, number and (in the singular) gender."""
    if not noun.agreement:
        return bool(noun.pos != "NUM")  # fixed readings (overrides) carry no grammar
    return not det.agreement.isdisjoint(noun.agreement)


def _resolve(entries: Sequence[_Entry], tokens: Sequence[Token], i: int) -> Reading:
    """Pick a reading of the ambiguous form ``entries[i]`` from its neighbours.

    Neighbours are judged by their context-free readings, which keeps this a single pass.
    """
    entry = entries[i]
    rules = entry.rules
    prev = entries[i - 1].best if i else None
    nxt = entries[i + 1].best if i + 1 < len(entries) else None
    if Rule.HASHTAG in rules:
        # In a run of tags ("#море #сочи #отдых") every tag is a label and stays verbatim;
        # a hashtag inside a sentence ("едем на #рыбалку") is an ordinary word.
        prev_kind = tokens[i - 1].kind if i else None
        next_kind = tokens[i + 1].kind if i + 1 < len(tokens) else None
        if TokenKind.HASHTAG in (prev_kind, next_kind):
            return entry.readings[-1]
        return entry.best
    if Rule.EST in rules:
        # "есть" is overwhelmingly "there is / to be" in comments; "eat" needs a modal before.
        wanted = "есть" if prev is not None and prev.lemma in _EAT_AFTER else "быть"
        return next((r for r in entry.readings if r.lemma == wanted), entry.best)
    if Rule.DET_PRON in rules:
        # A determiner agrees with the noun or adjective after it ("в этом году", "их дом");
        # without one the same form is a pronoun ("об этом", "люблю их").
        det = next(r for r in entry.readings if r.pos == "DET")
        if nxt is not None and nxt.pos in _NOMINAL and _agrees(det, nxt):
            return det
        return next(r for r in entry.readings if r.pos == "PRON")
    if Rule.PREDICATIVE in rules and (nxt is None or nxt.pos in _CLAUSE_END):
        # "-о" words closing a clause are predicates, short adjectives in UD ("очень красиво!"),
        # while before a verb they are adverbs ("красиво поёт").
        return next(r for r in entry.readings if r.pos == "ADJ")
    if Rule.AFTER_ADP in rules and prev is not None and prev.pos == "ADP":
        # A preposition governs an oblique case: "из стали" is the noun, not "стать".
        return next((r for r in entry.readings if is_oblique(r)), entry.best)
    return entry.best
