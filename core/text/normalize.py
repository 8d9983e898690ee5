"""Normalisation on both sides of the dictionary: word forms before lookup, tags after it.

Before lookup, two things typical of comments are undone: the ``#``/``@`` markers of hashtags
and mentions, and letters stretched for emphasis ("привееет", "спасиииибо"). Nothing else is
folded: ё/е, Latin look-alikes and typos are left to pymorphy3, which already treats ё and е
alike and guesses unknown words from their endings.

After lookup, pymorphy3's OpenCorpora parses become ranked :class:`Reading` s with Universal
Dependencies POS tags and lemma conventions, and the context rules worth running for the form
are noted (the rules themselves live in :mod:`core.text.morphology`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

__all__ = [
    "CONTENT_POS",
    "DET_PAIRED_PRONOUNS",
    "Reading",
    "Rule",
    "compile_readings",
    "fixed_reading",
    "normalize_word",
    "squeeze_variants",
    "strip_marker",
    "upos",
]

# A letter repeated three or more times. Two in a row is ordinary Russian spelling ("касса",
# "длинный"), so only longer runs are treated as stretching.
_RUN_RE = re.compile(r"([^\W\d_])\1{2,}")
# More runs than this are squeezed all to one letter: 2**n spellings would cost n lookups each.
_MAX_RUNS_TO_COMBINE = 3


def strip_marker(word: str) -> str:
    """Drop the leading ``#`` or ``@`` of a hashtag or mention (the word itself is kept)."""
    if word[:1] in ("#", "@"):
        return word[1:]
    return word


def squeeze_variants(word: str) -> list[str]:
    """Spellings of ``word`` with each run of 3+ equal letters cut to one or two letters.

    The shortest spellings come first: stretching is mostly of vowels and single consonants
    ("оооочень", "дааа"), while doubled letters ("клаааассно" -> "классно") are rarer. Returns
    an empty list when the word has no such run.
    """
    runs = list(_RUN_RE.finditer(word))
    if not runs:
        return []
    if len(runs) > _MAX_RUNS_TO_COMBINE:
        return [_RUN_RE.sub(r"\1", word)]
    variants: list[str] = []
    # Each run becomes one or two letters; sort the combinations by how many runs keep two.
    for widths in sorted(itertools.product((1, 2), repeat=len(runs)), key=sum):
        parts: list[str] = []
        pos = 0
        for run, width in zip(runs, widths, strict=True):
            parts.append(word[pos : run.start()])
            parts.append(run.group(1) * width)
            pos = run.end()
        parts.append(word[pos:])
        variants.append("".join(parts))
    return variants


def normalize_word(word: str, is_known: Callable[[str], bool]) -> str:
    """Lowercased lookup form of ``word``: marker stripped, NFC-composed, stretching squeezed.

    ``is_known`` tells whether the dictionary knows a spelling; it picks which squeezed
    spelling to use, and a word the dictionary already knows ("ааа", "ммм") is left alone.
    When no spelling is known, the one with every run cut to a single letter is used.
    """
    form = strip_marker(word).lower()
    if not form.isascii() and not unicodedata.is_normalized("NFC", form):
        # A decomposed "ё" (е + U+0308) must become one character for the dictionary.
        form = unicodedata.normalize("NFC", form)
    variants = squeeze_variants(form)
    if not variants or is_known(form):
        return form
    for variant in variants:
        if is_known(variant):
            return variant
    return variants[0]


# --------------------------------------------------------------------------------------------
# OpenCorpora parses -> ranked Universal Dependencies readings
# --------------------------------------------------------------------------------------------

#: POS tags of words that carry meaning; the rest are function words, symbols and punctuation.
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "X"})

_POS_BY_OPENCORPORA = {
    "NOUN": "NOUN", "ADJF": "ADJ", "ADJS": "ADJ", "COMP": "ADJ", "VERB": "VERB",
    "INFN": "VERB", "PRTF": "VERB", "PRTS": "VERB", "GRND": "VERB", "NUMR": "NUM",
    "ADVB": "ADV", "NPRO": "PRON", "PRED": "ADV", "PREP": "ADP", "CONJ": "SCONJ",
    "PRCL": "PART", "INTJ": "INTJ",
}  # fmt: skip
# Tags pymorphy3 gives to tokens that are not Russian words.
_POS_BY_CLASS = {"LATN": "X", "NUMB": "NUM", "ROMN": "NUM", "PNCT": "PUNCT", "UNKN": "X"}
_PROPER = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})
_COORDINATING = frozenset({"и", "а", "но", "или", "да", "либо", "зато", "однако", "ни", "то"})
# Particles and adverbs that UD files elsewhere: "всё" ("всё хорошо") is a pronoun and the
# restricting "только" a particle.
_POS_BY_LEMMA = {"всё": "PRON", "только": "PART"}
# The rarer case names folded into the main ones, so that agreement compares like with like.
_CASE_ALIASES = {"gen1": "gent", "gen2": "gent", "acc2": "accs", "loc1": "loct", "loc2": "loct"}
_DIRECT_CASES = frozenset({"nomn", "voct"})
_NOMINAL_OR_PRON = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "DET", "PRON"})
# Times of day and seasons: "зимой", "вечером" are nouns in the instrumental case in UD,
# where OpenCorpora prefers its adverb entries.
_TIME_NOUNS = frozenset({"зима", "весна", "лето", "осень", "утро", "день", "вечер", "ночь"})
# Pronoun lemma of determiner lexemes used on their own: "об этом" -> это, "всего" -> всё.
_PRONOUN_OF_DET = {"этот": "это", "тот": "то", "весь": "всё"}
# Determiner lemma -> the pronoun lemmas the same form has when no noun follows it; other
# DET/PRON homonyms ("те": тот or archaic ты) are left to the scores.
_DET_PRONOUNS = {
    "этот": {"это"}, "тот": {"то"}, "весь": {"всё", "все"}, "его": {"он", "оно"},
    "её": {"она"}, "их": {"они"},
}  # fmt: skip
#: Lemmas that are the pronoun side of a determiner/pronoun pair.
DET_PAIRED_PRONOUNS = frozenset().union(*_DET_PRONOUNS.values())
# A bonus larger than any pymorphy3 score, for readings a convention prefers outright.
_PREFERRED = 1.0
# Proper-noun readings of lowercase comment words are mostly spurious ("аж" as the plural of
# a name "Ажа"), so their score counts half.
_PROPER_WEIGHT = 0.5


class Rule:
    """Bit flags of the context rules that may change the reading of an ambiguous form.

    Plain ints rather than an ``enum.IntFlag``: they are tested once per token, and the enum's
    operators run as Python code.
    """

    NONE: Final = 0
    AFTER_ADP: Final = 1
    DET_PRON: Final = 2
    EST: Final = 4
    PREDICATIVE: Final = 8
    HASHTAG: Final = 16


class Reading(NamedTuple):
    """One candidate analysis of a form: lemma, Universal POS and grammatical cases.

    ``agreement`` holds "case.number.gender" keys (gender only in the singular), used to check
    that a determiner agrees with the noun after it.
    """

    lemma: str
    pos: str
    cases: frozenset[str] = frozenset()
    agreement: frozenset[str] = frozenset()


def fixed_reading(lemma: str, pos: str) -> Reading:
    """A reading that does not come from the dictionary (overrides, numbers, emoji, ...)."""
    return Reading(lemma, pos)


def upos(tag: Any, lemma: str) -> str:
    """Universal POS tag for a pymorphy3 (OpenCorpora) tag of a word with ``lemma``."""
    return _lemma_pos(_tag_info(tag), lemma)


class _TagInfo(NamedTuple):
    """What the readings need from one OpenCorpora tag, computed once per distinct tag."""

    oc_pos: str | None
    pos: str  # Universal POS before the lemma-dependent adjustments of _lemma_pos
    case: str | None
    agreement: str | None


# pymorphy3 keeps one tag object per distinct tag, so this stays at a few thousand entries;
# reading grammemes through the tag's descriptors costs more than the whole cache lookup.
_TAG_CACHE: dict[Any, _TagInfo] = {}


def _tag_info(tag: Any) -> _TagInfo:
    info = _TAG_CACHE.get(tag)
    if info is not None:
        return info
    oc_pos = tag.POS
    if oc_pos is None:
        pos = next((pos for cls, pos in _POS_BY_CLASS.items() if cls in tag), "X")
    elif oc_pos == "NOUN":
        pos = "NOUN" if _PROPER.isdisjoint(tag.grammemes) else "PROPN"
    elif oc_pos == "ADJF" and "Apro" in tag:
        pos = "DET"  # pronominal adjectives, "один" and "который" included, as UD Taiga has it
    elif oc_pos == "CONJ" and "Prnt" in tag:
        pos = "ADV"  # parenthetical words: "например", "конечно", "кстати", "значит"
    else:
        pos = _POS_BY_OPENCORPORA.get(oc_pos, "X")
    case = tag.case
    agreement = None
    if case is not None:
        case = _CASE_ALIASES.get(case, case)
        number = tag.number
        agreement = f"{case}.{number}.{tag.gender if number == 'sing' else ''}"
    info = _TAG_CACHE[tag] = _TagInfo(oc_pos, pos, case, agreement)
    return info


_LEMMA_DEPENDENT_POS = frozenset({"SCONJ", "VERB", "PART", "ADV"})


def _lemma_pos(info: _TagInfo, lemma: str) -> str:
    """Universal POS of a parse: the tag's, adjusted for the few lemma-specific conventions."""
    pos = info.pos
    if pos == "SCONJ":
        if lemma in _COORDINATING:
            return "CCONJ"
        return "ADV" if lemma == "так" else pos
    if pos == "VERB" and lemma == "быть" and info.oc_pos in ("VERB", "INFN"):
        return "AUX"
    return _POS_BY_LEMMA.get(lemma, pos) if pos in ("PART", "ADV") else pos


def is_oblique(reading: Reading) -> bool:
    """Whether a reading is a noun-like word in a case that a preposition can govern."""
    return reading.pos in _NOMINAL_OR_PRON and not reading.cases <= _DIRECT_CASES


# Distinct case and agreement sets number in the hundreds while cached readings run to the
# hundred thousand; sharing one frozenset per distinct set (216+ bytes each) keeps a full
# analyser cache several times smaller.
_FROZEN: dict[frozenset[str], frozenset[str]] = {}


def _frozen(items: set[str]) -> frozenset[str]:
    key = frozenset(items)
    return _FROZEN.setdefault(key, key)


class _Slot:
    """The parses of one (lemma, POS) pair while they are being merged."""

    __slots__ = ("agreement", "cases", "oc_pos", "score")

    def __init__(self, oc_pos: str | None) -> None:
        self.score = 0.0
        self.oc_pos = oc_pos
        self.cases: set[str] = set()
        self.agreement: set[str] = set()


def compile_readings(form: str, parses: Sequence[Any]) -> tuple[tuple[Reading, ...], int]:
    """Merge the pymorphy3 parses of ``form`` into ranked readings; find its context rules.

    Parses with the same lemma and POS are merged and their scores added: the question is
    which lemma, not which cell of the paradigm. Readings are then ranked by the summed score
    (with the UD preferences below), then by the length of the prefix shared by lemma and
    form ("счастья" -> счастье rather than счастие), then by pymorphy3's own order.
    """
    merged: dict[tuple[str, str], _Slot] = {}
    tag_cache = _TAG_CACHE
    for parse in parses:
        tag = parse.tag
        info = tag_cache.get(tag) or _tag_info(tag)
        lemma = parse.normal_form
        pos = info.pos
        if pos in _LEMMA_DEPENDENT_POS:
            pos = _lemma_pos(info, lemma)
        elif pos == "ADP":
            lemma = form  # UD keeps a preposition's own spelling: "во", "со", "обо".
        slot = merged.get((lemma, pos))
        if slot is None:
            slot = merged[(lemma, pos)] = _Slot(info.oc_pos)
        slot.score += parse.score
        if info.agreement is not None:
            slot.cases.add(info.case)  # type: ignore[arg-type]
            slot.agreement.add(info.agreement)

    if len(merged) == 1:
        # Most forms have a single lemma and POS (often over several cases): nothing to rank.
        (((lemma, pos), slot),) = merged.items()
        reading = Reading(lemma, pos, _frozen(slot.cases), _frozen(slot.agreement))
        if pos != "DET" or lemma not in _PRONOUN_OF_DET:
            return (reading,), Rule.NONE

    has_comparative = any(slot.oc_pos == "COMP" for slot in merged.values())
    ranked: list[tuple[tuple[float, int, int], Reading, _Slot]] = []
    for order, ((lemma, pos), slot) in enumerate(merged.items()):
        score = slot.score
        if pos == "PROPN":
            score *= _PROPER_WEIGHT
        elif pos == "NOUN" and lemma in _TIME_NOUNS and "ablt" in slot.cases:
            score += _PREFERRED
        elif slot.oc_pos == "ADVB" and lemma == form and has_comparative:
            # "больше", "дальше": UD reads a comparative with an adverb entry as the adverb.
            score += _PREFERRED
        reading = Reading(lemma, pos, _frozen(slot.cases), _frozen(slot.agreement))
        prefix = _common_prefix(lemma, form) if len(merged) > 1 else 0
        ranked.append(((round(score, 6), prefix, -order), reading, slot))
    ranked.sort(key=lambda item: item[0], reverse=True)

    readings = [reading for _, reading, _ in ranked]
    rules = Rule.EST if form == "есть" else Rule.NONE
    best = readings[0]
    if best.pos == "ADV" and best.lemma == form:
        short_adj = next((r for _, r, slot in ranked if slot.oc_pos == "ADJS"), None)
        if short_adj is not None:
            # The short adjective must be the first ADJ reading for the predicative rule.
            readings.remove(short_adj)
            readings.insert(1, short_adj)
            rules |= Rule.PREDICATIVE
    readings.extend(_pronoun_readings(readings))
    if _has_det_and_its_pronoun(readings):
        rules |= Rule.DET_PRON
    if not is_oblique(best) and any(is_oblique(r) for r in readings[1:]):
        rules |= Rule.AFTER_ADP
    return tuple(readings), rules


def _has_det_and_its_pronoun(readings: Sequence[Reading]) -> bool:
    """Whether a form reads both as a determiner and as the pronoun of the same lexeme."""
    pronouns = {r.lemma for r in readings if r.pos == "PRON"}
    return any(
        r.pos == "DET" and not pronouns.isdisjoint(_DET_PRONOUNS.get(r.lemma, ())) for r in readings
    )


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix of two strings."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _pronoun_readings(readings: Sequence[Reading]) -> list[Reading]:
    """Pronoun readings of determiner lexemes that the dictionary lists only as determiners.

    OpenCorpora has "этом", "того", "всего", "всех" only as forms of этот/тот/весь, while UD
    calls the neuter (and, for весь, the plural) forms pronouns when no noun follows them.
    """
    have = {r.lemma for r in readings if r.pos == "PRON"}
    extra: list[Reading] = []
    for reading in readings:
        pronoun = _PRONOUN_OF_DET.get(reading.lemma) if reading.pos == "DET" else None
        if pronoun is None:
            continue
        keys = {key for key in reading.agreement if key.endswith(".sing.neut")}
        if pronoun == "всё":
            # "всем", "всех", "все" are mostly "everybody" (все); "всего", "всё" "everything".
            plural = {key for key in reading.agreement if ".plur." in key}
            if plural:
                pronoun, keys = "все", keys | plural
        if keys and pronoun not in have:
            have.add(pronoun)
            cases = {key.split(".", 1)[0] for key in keys}
            extra.append(Reading(pronoun, "PRON", _frozen(cases), _frozen(keys)))
    return extra
