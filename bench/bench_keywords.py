"""Our keywords next to YAKE's on the same comments, for the README.

    .venv/bin/python -m pip install -e '.[bench]'   # yake, only for this comparison
    .venv/bin/python -m bench.bench_keywords [--top 10]

The comments are the demo wall's (real social-media sentences of UD Russian-Taiga) and a
fishing community whose members praise a lot (the keyword test's fixture). Ours: stored terms
of each comment ranked against the general-Russian background, as `/keywords` does (there are
no other communities here); YAKE (Campos et al., 2020): unsupervised, one text at a time, on
all the comments joined, up to two-word phrases, Russian stop words.
"""

from __future__ import annotations

import argparse
from collections import Counter
from itertools import zip_longest

import yake

from core.analysis import analyzer, decode_terms, general_background, terms_of
from core.text.keywords import count_document, rank_keywords
from fakevk.api import load_demo_groups
from fakevk.wall import FakeComment
from tests.test_keywords_ranking import PRAISING_FISHERS


def ours(texts: list[str], top: int) -> list[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        count_document(counts, decode_terms(terms_of(text)))
    ranked = rank_keywords(counts, general_background(), top)
    return [f"{analyzer().phrase_text(k.term)} ({k.count})" for k in ranked]


def yakes(texts: list[str], top: int) -> list[str]:
    extractor = yake.KeywordExtractor(lan="ru", n=2, top=top)
    return [phrase for phrase, _score in extractor.extract_keywords("\n".join(texts))]


def demo_comments() -> list[str]:
    def walk(comments: list[FakeComment]) -> list[str]:
        return [text for c in comments for text in (c.text, *walk(c.replies)) if text]

    group = next(g for g in load_demo_groups() if g.screen_name == "taiga_demo")
    return [text for post in group.posts for text in walk(post.comments)]


def table(title: str, texts: list[str], top: int) -> str:
    rows = [f"**{title}** ({len(texts)} comments)", "", "| # | ours | YAKE |", "|---|---|---|"]
    pairs = zip_longest(ours(texts, top), yakes(texts, top), fillvalue="")
    rows += [f"| {i} | {a} | {b} |" for i, (a, b) in enumerate(pairs, 1)]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--top", type=int, default=10)
    top = parser.parse_args().top
    print(table("fishing community that praises a lot", PRAISING_FISHERS, top))
    print()
    print(table("demo wall taiga_demo", demo_comments(), top))


if __name__ == "__main__":
    main()
