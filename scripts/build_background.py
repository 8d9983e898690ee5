"""Write core/text/data/background.tsv: how common each lemma is in general Russian.

    .venv/bin/python -m pip install -e '.[bench]'   # wordfreq, only for this script
    .venv/bin/python scripts/build_background.py

Keywords are the words a community uses more than people in general do. "General" comes from
wordfreq's Russian word frequencies (Wikipedia, subtitles, news, books, Twitter, Reddit...; data
CC BY-SA 4.0): the most frequent word forms are lemmatised with the product's own analyser and
their frequencies added up per lemma, so that a community's "отличная" and "отличный" meet the
same general frequency. Praise and everyday words (хороший, отличный, день, фото) are common
everywhere and so rank low; a community's topic words are not.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from wordfreq import top_n_list, word_frequency

from core.text.keywords import document_terms
from core.text.morphology import MorphologyAnalyzer

OUTPUT = Path(__file__).resolve().parents[1] / "core" / "text" / "data" / "background.tsv"
FORMS = 60_000
# Counts are occurrences per this many words; lemmas rarer than one in the output are left out.
SCALE = 10_000_000
HEADER = f"""\
# How common content lemmas are in general Russian, for keyword backgrounds.
# Format: lemma<TAB>count, the count being occurrences per {SCALE:,} words.
# Built by scripts/build_background.py from the {FORMS:,} most frequent Russian word forms of
# wordfreq (Robyn Speer, https://github.com/rspeer/wordfreq; data CC BY-SA 4.0, from
# Wikipedia, OpenSubtitles, news, Google Books, Twitter, Reddit and other sources),
# lemmatised with core.text; this file is under CC BY-SA 4.0 as well.
"""


def build() -> Counter[str]:
    analyzer = MorphologyAnalyzer()
    counts: Counter[str] = Counter()
    for form in top_n_list("ru", FORMS):
        terms = document_terms(analyzer.analyze(form))
        if len(terms) == 1 and terms[0] is not None:
            counts[terms[0]] += word_frequency(form, "ru") * SCALE
    return Counter({lemma: round(n) for lemma, n in counts.items() if round(n) >= 1})


def main() -> None:
    counts = build()
    lines = [f"{lemma}\t{n}" for lemma, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
    OUTPUT.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lemmas written to {OUTPUT}")


if __name__ == "__main__":
    main()
