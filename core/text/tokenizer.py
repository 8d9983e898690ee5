"""Tokenizer for social-media Russian.

One compiled regular expression with named groups does all the work: ``finditer`` walks the
text once and the matched group is the token kind. The first alternative that matches at a
position wins, so the order matters: abbreviations with their dot first ("т.", "млн.",
"А."), then Cyrillic words (most tokens are, and none of them can start a link), then the
specific patterns (links, e-mail addresses, VK mentions) before other words, and a catch-all
comes last so that no non-space character is ever dropped. Each match swallows the whitespace
before its token, which spares the regex engine a failed try of every alternative at every
space.

Comments are written by anyone, so no alternative may scan far ahead and then fail: every
unbounded repetition is one that the match then consumes, and the parts that may fail (a domain
name looking for its zone, an e-mail address looking for its "@", a VK mention looking for its
"]") are bounded in length. Tokenizing is linear in the length of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "ABBREVIATIONS",
    "KIND_BY_INDEX",
    "TOKEN_RE",
    "Token",
    "TokenKind",
    "classify",
    "iter_tokens",
    "token_matches",
    "tokenize",
]


class TokenKind(StrEnum):
    """What a token is; the values are plain strings so they print and compare as such."""

    WORD = "word"
    NUMBER = "number"
    URL = "url"
    VK_MENTION = "vk_mention"
    MENTION = "mention"
    HASHTAG = "hashtag"
    EMOJI = "emoji"
    PUNCT = "punct"


class Token(NamedTuple):
    """A token of the input text; ``start`` is the offset of its first character."""

    text: str
    kind: TokenKind
    start: int

    @property
    def end(self) -> int:
        """Offset just past the token's last character."""
        return self.start + len(self.text)


# A word starts with a letter, or digits then a letter (so "5х", "mp3" and "covid-19" are words
# but "2024" is a number), goes on with letters, digits, underscores and combining marks (so a
# decomposed "ё", е + U+0308, or a stress mark stays inside its word) and may be joined by
# hyphens or apostrophes: "кто-то", "по-моему", "д'Артаньян".
_WORD_TAIL = r"[\w\u0300-\u036f]*(?:[-'’][\w\u0300-\u036f]+)*"
_CYRILLIC_WORD = rf"[а-яё]{_WORD_TAIL}"
_WORD = rf"\d*[^\W\d_]{_WORD_TAIL}"
# Digits with inner separators and an optional ordinal ending: "1,5", "10:30", "14.06.2024",
# "2-й"; "1 000" is two numbers (spaces separate tokens everywhere else too).
_NUMBER = r"\d+(?:[.,:/]\d+)*(?:-[^\W\d_]{1,3}(?![^\W_]))?"
# Abbreviations keep their dot, as the treebank writes them: "т.е." is "т." and "е.", "ч. л." is
# "ч." and "л."; so do initials ("А. С. Пушкин"), a capital letter and a dot before a capital.
#: Abbreviations kept whole with their dot (core/text/data/overrides.txt gives their readings).
ABBREVIATIONS = (
    "т", "е", "д", "к", "п", "ч", "л", "в", "вв", "г", "гг", "р", "ст", "стр", "см", "ср",
    "тыс", "млн", "млрд", "руб", "коп", "тел", "прим", "примеч", "др", "пр", "гр", "ул", "им",
    "обл", "кг", "км", "мин", "сек", "ед", "зам", "проф", "акад", "доц", "напр", "мес", "нед",
    "шт", "p", "s",
)  # fmt: skip
# Longest first, so that "стр." is not read as "ст" and a failed dot.
_ABBREVIATIONS = "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))
# The lookahead fails most words within a few letters, before the list is tried.
_ABBREVIATION = (
    rf"(?=[^\W\d_]{{1,6}}\.)(?<![^\W\d_])"
    rf"(?:(?:{_ABBREVIATIONS})\.|(?-i:[А-ЯЁ]\.(?=\s?[А-ЯЁ])))"
)
# A link ends on a character that is not sentence punctuation, so "см. vk.com/x." keeps its dot
# outside; bare domains are recognised only for the zones Russian users actually paste.
_URL_TAIL = r"[^\s<>\"«»]*[^\s<>\"«».,!?;:)\]…'’]"
# A domain name has at most a few labels of at most 63 characters (a bare "a.a.a.a..." would
# otherwise be rescanned to its end from every "a").
_LABEL = r"[a-z0-9-]{1,63}"
_URL = (
    rf"(?:https?://|www\.){_URL_TAIL}"
    rf"|[a-z0-9][a-z0-9-]{{0,62}}(?:\.{_LABEL}){{0,6}}\.(?:ru|su|com|net|org|рф|me|ly|cc|io|info|by|ua|kz)"
    rf"\b(?:/{_URL_TAIL})?"
)
# ASCII only: addresses are, and a Cyrillic word then fails this branch on its first letter
# instead of being scanned to its end in search of an "@". Bounded as RFC 5321 bounds them.
_EMAIL = rf"[a-z0-9._%+-]{{1,64}}@{_LABEL}(?:\.{_LABEL}){{0,6}}\.[a-z]{{2,24}}"
# VK wiki-markup links written by the reply button: "[id123|Иван]", "[club1|Группа]".
_VK_MENTION = r"\[(?:id|club|public|event)\d{1,12}(?:[:_][\w-]{1,64})?\|[^\]\n]{0,200}\]"
# "@durov", "@screened-18" (dots and hyphens inside a screen name but not at its end).
_MENTION = r"@\w+(?:[.-]\w+)*"
_HASHTAG = r"#[^\W_]\w*(?:-\w+)*"
# Pictographs (emoticons, dingbats, symbols, transport, supplemental), each optionally followed
# by a variation selector, a skin-tone modifier or a keycap, and chained with zero-width joiners;
# a flag is a pair of regional indicators. A run of emoji with no space between ("😂😂😂",
# "😍👍") is one token, as the treebank writes it: one reaction, not three words.
_PICTO = (
    r"[\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    r"\U0001f000-\U0001faff]"
)
_EMOJI_MOD = r"[\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff]*"
_ONE_EMOJI = (
    rf"[\U0001f1e6-\U0001f1ff]{{2}}|{_PICTO}{_EMOJI_MOD}(?:\u200d{_PICTO}{_EMOJI_MOD})*"
    r"|[0-9#*]\ufe0f?\u20e3"
)
_EMOJI = rf"(?:{_ONE_EMOJI})+"
# Text emoticons are emoji too: ":)", ";-P", ":D" and the very Russian ")))" or "((".
_EMOTICON = r"[:;=]-?[)(DPpРрOoОо3*]+(?![^\W\d_])|\){2,}|\({2,}"
# Runs of dots, "?!" clusters, dashes and drawn lines ("~~~~", "____") are single punctuation
# tokens; anything else that is not a space becomes a one-character token.
_PUNCT = r"\.{2,}|[?!]{2,}|-{2,}|~{2,}|_{2,}|={2,}|\*{2,}|\S"

_GROUPS = (
    ("abbreviation", _ABBREVIATION),
    ("word", _CYRILLIC_WORD),
    ("url", _URL),
    ("email", _EMAIL),
    ("vk_mention", _VK_MENTION),
    ("mention", _MENTION),
    ("hashtag", _HASHTAG),
    ("latin_word", _WORD),
    ("number", _NUMBER),
    ("emoji", _EMOJI),
    ("emoticon", _EMOTICON),
    ("punct", _PUNCT),
)
#: The tokenizer's pattern: leading whitespace, then one token in a capturing group whose
#: number (``match.lastindex``) indexes KIND_BY_INDEX.
TOKEN_RE = re.compile(
    r"\s*(?:" + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _GROUPS) + ")",
    re.IGNORECASE,
)
# Group name -> kind: e-mail addresses count as links, text emoticons as emoji.
_KIND_BY_NAME = {kind.value: kind for kind in TokenKind} | {
    "latin_word": TokenKind.WORD,
    "abbreviation": TokenKind.WORD,
    "email": TokenKind.URL,
    "emoticon": TokenKind.EMOJI,
}
#: Group number -> kind (index 0, the whole match, is unused).
KIND_BY_INDEX: tuple[TokenKind, ...] = (
    TokenKind.PUNCT,
    *(_KIND_BY_NAME[name] for name, _ in _GROUPS),
)


def token_matches(text: str) -> Iterator[re.Match[str]]:
    r"""Matches of TOKEN_RE over ``text``, one per token.

    Trailing whitespace is cut off first: there the leading ``\s*`` of the pattern would
    swallow all of it, find no token, and fail again from each following position.
    """
    return TOKEN_RE.finditer(text, 0, len(text.rstrip()))


def iter_tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text`` lazily, in order; spaces are never tokens."""
    kinds = KIND_BY_INDEX
    for match in token_matches(text):
        group = match.lastindex or 0
        yield Token(match.group(group), kinds[group], match.start(group))


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens: words, numbers, links, mentions, hashtags, emoji, punctuation."""
    return list(iter_tokens(text))


def classify(token_text: str) -> TokenKind:
    """Kind of an already separated token (e.g. from a treebank or another tokenizer).

    The kind of the first match is taken when that match spans the whole string; a string that
    the tokenizer would split (a run of emoji, "воздушно-") gets the kind of its first part
    unless it contains a letter, in which case it is a word.
    """
    match = TOKEN_RE.match(token_text)
    if match is None or not match.lastindex:
        return TokenKind.PUNCT
    kind = KIND_BY_INDEX[match.lastindex]
    if match.end() == len(token_text) or kind is TokenKind.WORD:
        return kind
    if any(ch.isalpha() for ch in token_text):
        return TokenKind.WORD
    return kind
