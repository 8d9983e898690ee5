"""Lemmas and Universal POS tags for social-media Russian, on top of pymorphy3.

pymorphy3 analyses words one at a time and orders its candidate parses by corpus frequency;
its first parse has the right lemma for about 91.5 % of the treebank's social-media tokens.
This module keeps pymorphy3's candidates and chooses better where that is cheap (95.3 %):

* social-media spelling is undone before lookup ("привееет", "#рыбалку"), and a data file
  overrides slang and abbreviations the dictionary misreads ("норм", "спс", "зп");
* candidates are merged per (lemma, POS) and their scores added, so a lemma owning several
  likely parses beats one lucky parse of another lemma ("рады": рад, not рада); UD
  conventions are applied (prepositions keep their spelling, "зимой" is the noun зима,
  "больше" the adverb), and ties go to the lemma sharing the longest prefix with the word;
* neighbours decide the few ambiguous forms (see ``_resolve``): after a preposition a noun
  reading in an oblique case wins ("из стали"); "этот/тот/весь/его/её/их" are determiners
  before an agreeing noun and pronouns elsewhere; "есть" is "быть" unless a modal asks for
  "eat"; an "-о" word closing a clause is a short adjective ("очень красиво!"); hashtags in
  a run of tags stay verbatim.

Everything about one token text is computed once and kept in a per-analyzer cache: word
frequencies follow Zipf's law, so a few thousand entries serve most tokens, and the per-token
work is a regex match, a dict lookup and, for one token in ten, a context rule.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from typing import NamedTuple

import pymorphy3
import pymorphy3.dawg

from core.text.hashtags import split_glued
from core.text.normalize import (
    CONTENT_POS,
    DET_PAIRED_PRONOUNS,
    Reading,
    Rule,
    compile_readings,
    fixed_reading,
    is_oblique,
    normalize_word,
)
from core.text.tokenizer import KIND_BY_INDEX, TokenKind, classify, token_matches

__all__ = [
    "DAWG_EXTENSION_AVAILABLE",
    "AnalyzedToken",
    "MorphologyAnalyzer",
    "shared_morph",
]

#: True when pymorphy3 runs on the compiled DAWG extension (the ``fast`` extra); the pure
#: Python fallback gives the same answers several times slower.
DAWG_EXTENSION_AVAILABLE: bool = bool(pymorphy3.dawg.EXTENSION_AVAILABLE)

# Token texts kept per analyzer before the oldest half is dropped (~600 bytes each, so about
# 60 MB at the limit); 100k distinct forms cover all but a sliver of the tokens of a stream.
_CACHE_LIMIT = 100_000
# Lemmas after which "есть" means "eat" rather than "there is" ("хочу есть", "можно есть").
_EAT_AFTER = frozenset(
    {"хотеть", "хотеться", "можно", "нельзя", "надо", "нужно", "любить", "мочь", "начать",
     "перестать", "стать", "пора", "дать", "давать", "сесть", "идти", "пойти", "нечего"}
)  # fmt: skip
_NOMINAL = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "DET"})
_WORD_KINDS = frozenset({TokenKind.WORD, TokenKind.HASHTAG})
_BYT_EXISTENTIAL = fixed_reading("быть", "VERB")
# After these (or at the end of the text) an "-о" word closes its clause.
_CLAUSE_END = frozenset({"PUNCT", "SYM"})


class AnalyzedToken(NamedTuple):
    """A token with its lemma and Universal POS tag (lemmas are lowercase)."""

    form: str
    lemma: str
    pos: str
    kind: TokenKind
    start: int


_new_tuple = tuple.__new__


class _Entry(NamedTuple):
    """Everything about one token text: the context-free choice and the alternatives.

    The lemma and POS of the best reading are copied to the top so that the per-token loop
    reads them without a second attribute hop.
    """

    lemma: str
    pos: str
    rules: int
    best: Reading
    readings: tuple[Reading, ...]


def _entry(readings: tuple[Reading, ...], rules: int = Rule.NONE) -> _Entry:
    best = readings[0]
    return _Entry(best.lemma, best.pos, rules, best, readings)


_LOAD_LOCK = threading.Lock()


@cache
def _load_morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


def shared_morph() -> pymorphy3.MorphAnalyzer:
    """The process-wide pymorphy3 analyser (loading the dictionaries takes ~15 MB and ~0.3 s).

    Loading resets pymorphy3's class-level table of known grammemes, so two threads loading at
    once make the other's tag checks fail ("Grammeme is unknown"): one load, under a lock.
    """
    with _LOAD_LOCK:
        return _load_morph()


@cache
def load_overrides() -> dict[str, Reading]:
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
    an instance is cheap to create but meant to be long-lived. An instance may be shared by
    threads (``asyncio.to_thread``): the cache only sees single dict operations, which the GIL
    makes atomic, so the worst case is two threads analysing the same new form at once.
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
        self._overrides = load_overrides()
        self._cache: dict[str, _Entry] = {}
        self._splits: dict[str, list[AnalyzedToken] | None] = {}
        self._cache_limit = cache_limit

    @property
    def extension_available(self) -> bool:
        """Whether pymorphy3's compiled DAWG backend is in use."""
        return DAWG_EXTENSION_AVAILABLE

    @property
    def cache_size(self) -> int:
        """Token texts in the cache (a capitalised text and its lowercase count separately)."""
        return len(self._cache)

    def analyze(self, text: str) -> list[AnalyzedToken]:
        """Tokenise ``text`` and give every token (punctuation included) a lemma and POS."""
        # This loop runs once per token of every comment, so it walks the tokenizer's regex
        # itself instead of building Token objects first, and leaves the rare context rules
        # to a second pass over the few tokens that need them.
        cache_get = self._cache.get
        kinds = KIND_BY_INDEX
        entries: list[_Entry] = []
        result: list[AnalyzedToken] = []
        ambiguous: list[int] = []
        for match in token_matches(text):
            group: int = match.lastindex  # type: ignore[assignment]  # the pattern always has one
            form = match.group(group)
            kind = kinds[group]
            entry = cache_get(form) or self._add(form, kind)
            rules = entry.rules
            # The preposition rule alone (one token in ten) only matters after a preposition.
            if rules and (rules != Rule.AFTER_ADP or (result and result[-1].pos == "ADP")):
                ambiguous.append(len(result))
            # tuple.__new__ skips the Python-level __new__ of the NamedTuple: same object.
            result.append(
                _new_tuple(AnalyzedToken, (form, entry.lemma, entry.pos, kind, match.start(group)))
            )
            entries.append(entry)
        if ambiguous:
            _apply_context(result, entries, ambiguous)
        return result

    def analyze_words(self, words: Iterable[str]) -> list[AnalyzedToken]:
        """Like :meth:`analyze` for text that is already split into tokens (one per item).

        Each item is classified as a whole (see :func:`core.text.tokenizer.classify`); the
        ``start`` offsets are those of the items joined with single spaces.
        """
        entries: list[_Entry] = []
        result: list[AnalyzedToken] = []
        ambiguous: list[int] = []
        start = 0
        for form in words:
            kind = classify(form)
            entry = self._cache.get(form) or self._add(form, kind)
            if entry.rules:
                ambiguous.append(len(result))
            reading = entry.best
            result.append(AnalyzedToken(form, reading.lemma, reading.pos, kind, start))
            entries.append(entry)
            start += len(form) + 1
        if ambiguous:
            _apply_context(result, entries, ambiguous)
        return result

    def hashtag_words(self, token: AnalyzedToken) -> list[AnalyzedToken] | None:
        """The words of a glued hashtag, analysed ("#зимняярыбалка": зимний, рыбалка), or None
        when the token is no such tag (not a hashtag, a known word, or no split found)."""
        if token.kind is not TokenKind.HASHTAG:
            return None
        tag = token.lemma
        if tag in self._splits:
            return self._splits[tag]
        if len(self._splits) >= self._cache_limit:
            self._splits.clear()  # rare: as many distinct tags as the cache has forms
        parts = (
            None if self.morph.word_is_known(tag) else split_glued(tag, self.morph.word_is_known)
        )
        words = self.analyze(" ".join(parts)) if parts else None
        self._splits[tag] = words
        return words

    def phrase_text(self, phrase: str) -> str:
        """A two-lemma phrase as people write it: an adjective agrees with its noun
        ("зимний рыбалка" reads "зимняя рыбалка"); anything else is left as it is."""
        words = phrase.split(" ")
        if len(words) != 2:
            return phrase
        adjective = next(
            (p for p in self.morph.parse(words[0])
             if p.tag.POS == "ADJF" and p.normal_form == words[0] and "Supr" not in p.tag),
            None,
        )  # fmt: skip
        noun = next(
            (p for p in self.morph.parse(words[1]) if p.tag.POS == "NOUN" and "nomn" in p.tag),
            None,
        )
        if adjective is None or noun is None:
            return phrase
        if noun.tag.number == "plur":  # a plural lemma: "деньги", "сани"
            agreed = adjective.inflect({"nomn", "plur"})
        else:
            agreed = adjective.inflect({"nomn", "sing", noun.tag.gender or "masc"})
        return f"{agreed.word} {words[1]}" if agreed is not None else phrase

    def lemmas(self, text: str) -> list[str]:
        """Lemmas of the content words of ``text``, in text order.

        Content words are words and hashtags tagged NOUN, PROPN, VERB, ADJ, ADV or X (unknown);
        links, mentions, numbers, emoji and function words are left out.
        """
        return [
            tok.lemma
            for tok in self.analyze(text)
            if tok.pos in CONTENT_POS and tok.kind in _WORD_KINDS
        ]

    def _add(self, form: str, kind: TokenKind) -> _Entry:
        """Analyse a token text not seen before and cache the result under that text."""
        cache = self._cache
        if len(cache) >= self._cache_limit:
            # Drop the older half: cheap, and the frequent forms come straight back. list()
            # copies the keys in one C call and pop() tolerates a key another thread dropped.
            for key in list(cache)[: len(cache) // 2]:
                cache.pop(key, None)
        lower = form.lower()
        entry = cache.get(lower) if lower != form else None
        if entry is None:
            entry = self._compute(lower, kind)
            cache[lower] = entry
        # The text is cached as written too, so that "Привет" need not be lowercased again.
        cache[form] = entry
        return entry

    def _compute(self, text: str, kind: TokenKind) -> _Entry:
        """Readings of a lowercased token text."""
        if kind is not TokenKind.WORD and kind is not TokenKind.HASHTAG:
            reading = fixed_reading(text, _pos_of_non_word(kind, text))
            return _entry((reading,))
        if text.endswith("."):
            # The tokenizer keeps a dot only on abbreviations (all listed in the overrides)
            # and on initials ("а." of "А. С. Пушкин"), which stand for a name.
            reading = self._overrides.get(text) or fixed_reading(text[:-1], "PROPN")
            return _entry((reading,))
        form = normalize_word(text, self.morph.word_is_known)
        override = self._overrides.get(form)
        if override is not None:
            return _entry((override,))
        verbatim = fixed_reading(form, "X")
        try:
            parses = self.morph.parse(form)
        except ValueError:
            # pymorphy3 asks unicodedata for the name of every letter of a word it does not
            # know, and some letters have none (Tangut ideographs such as "𗀀"): no reading.
            return _entry((verbatim,))
        if kind is TokenKind.HASHTAG and not parses[0].is_known:
            # Tags like "#черноеморе" are compounds the dictionary cannot know; a guessed
            # lemma ("черноемора") would only hide the tag, so the tag itself is the lemma.
            return _entry((verbatim,))
        readings, rules = compile_readings(form, parses)
        if kind is TokenKind.HASHTAG:
            # The verbatim tag goes last; the hashtag rule picks it inside a run of tags.
            return _entry((*readings, verbatim), Rule.HASHTAG)
        return _entry(readings, rules)


def _pos_of_non_word(kind: TokenKind, text: str) -> str:
    """Universal POS of tokens that are not looked up in the dictionary."""
    if kind is TokenKind.NUMBER:
        return "NUM"
    if kind in (TokenKind.MENTION, TokenKind.VK_MENTION):
        return "PROPN"
    if kind is TokenKind.EMOJI:
        return "SYM"
    if kind is TokenKind.URL:
        return "X"
    # Currency, percent and maths signs are symbols in UD; the rest is punctuation.
    return "SYM" if text in _SYMBOLS else "PUNCT"


_SYMBOLS = frozenset("%$€₽£¥№+=<>*&^~|/\\°§©®™")


def _agrees(det: Reading, noun: Reading) -> bool:
    """Whether two readings share a case, number and (in the singular) gender."""
    if not noun.agreement:
        # Overrides carry no grammar: a slang noun may well agree; a number never does.
        return noun.pos != "NUM"
    return not det.agreement.isdisjoint(noun.agreement)


def _apply_context(
    result: list[AnalyzedToken], entries: Sequence[_Entry], ambiguous: Iterable[int]
) -> None:
    """Re-read the ambiguous tokens of ``result`` in the light of their neighbours."""
    for i in ambiguous:
        reading = _resolve(entries, result, i)
        if reading.lemma != result[i].lemma or reading.pos != result[i].pos:
            result[i] = result[i]._replace(lemma=reading.lemma, pos=reading.pos)


def _resolve(entries: Sequence[_Entry], tokens: Sequence[AnalyzedToken], i: int) -> Reading:
    """Pick a reading of the ambiguous form ``entries[i]`` from its neighbours.

    Neighbours are judged by their context-free readings, which keeps this a single pass.
    """
    entry = entries[i]
    rules = entry.rules
    prev = entries[i - 1].best if i else None
    nxt = entries[i + 1].best if i + 1 < len(entries) else None
    if rules & Rule.HASHTAG:
        # In a run of tags ("#море #сочи #отдых") every tag is a label and stays verbatim;
        # a hashtag inside a sentence ("едем на #рыбалку") is an ordinary word.
        prev_kind = tokens[i - 1].kind if i else None
        next_kind = tokens[i + 1].kind if i + 1 < len(tokens) else None
        if TokenKind.HASHTAG in (prev_kind, next_kind):
            return entry.readings[-1]
        return entry.best
    if rules & Rule.EST:
        # "есть" is overwhelmingly "there is / to be" in comments; "eat" needs a modal before.
        if prev is not None and prev.lemma in _EAT_AFTER:
            return next((r for r in entry.readings if r.lemma == "есть"), entry.best)
        # Existential "есть" ("у меня есть кот") is a full verb in UD, not an auxiliary.
        return _BYT_EXISTENTIAL
    if rules & Rule.DET_PRON:
        # A determiner agrees with the noun or adjective after it ("в этом году", "их дом");
        # without one the same form is a pronoun ("об этом", "люблю их").
        det = next(r for r in entry.readings if r.pos == "DET")
        if nxt is not None and nxt.pos in _NOMINAL and _agrees(det, nxt):
            return det
        return next(r for r in entry.readings if r.lemma in DET_PAIRED_PRONOUNS)
    if rules & Rule.PREDICATIVE and (nxt is None or nxt.pos in _CLAUSE_END):
        # "-о" words closing a clause are predicates, short adjectives in UD ("очень красиво!"),
        # while before a verb they are adverbs ("красиво поёт").
        return next(r for r in entry.readings if r.pos == "ADJ")
    if rules & Rule.AFTER_ADP and prev is not None and prev.pos == "ADP":
        # A preposition governs an oblique case: "из стали" is the noun, not "стать".
        return next((r for r in entry.readings if is_oblique(r)), entry.best)
    return entry.best
