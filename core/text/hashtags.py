"""Glued hashtags split into their words: "#зимняярыбалка" is "зимняя рыбалка".

People glue phrases into tags; as one unknown word such a tag hides its words from keywords
(and from a search for "рыбалка"). A tag the dictionary does not know is split into the fewest
dictionary words that spell it, if there are any.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["split_glued"]

# Longer tags are left whole: the search looks at every (start, end) pair of the tag.
MAX_LENGTH = 40
# Parts are words of at least this many letters, or one of the short words tags glue in
# ("#мамавдекрете", "#отдыхнаморе"); short dictionary entries such as "ря" would split anything.
MIN_PART = 3
SHORT_WORDS = frozenset(
    {
        "в",
        "во",
        "с",
        "со",
        "к",
        "у",
        "о",
        "и",
        "а",
        "на",
        "по",
        "за",
        "до",
        "из",
        "от",
        "не",
        "мы",
        "я",
    }
)


def split_glued(word: str, is_known: Callable[[str], bool]) -> list[str] | None:
    """The fewest known words (two or more) that spell ``word``, or None.

    ``is_known`` tells whether the dictionary knows a word form. Among splits with as few
    parts, the one whose first parts are longest wins ("зимняя рыбалка", not "зим няя...").
    """
    size = len(word)
    if size > MAX_LENGTH or size < 2 * MIN_PART or not word.isalpha():
        return None
    # best[i]: the fewest parts spelling word[:i], found so far.
    best: list[list[str] | None] = [None] * (size + 1)
    best[0] = []
    for start in range(size):
        before = best[start]
        if before is None:
            continue
        for end in range(size, start, -1):
            part = word[start:end]
            if (len(part) >= MIN_PART or part in SHORT_WORDS) and is_known(part):
                current = best[end]
                if current is None or len(before) + 1 < len(current):
                    best[end] = [*before, part]
    parts = best[size]
    return parts if parts is not None and len(parts) >= 2 else None
