"""Throughput of the morphology path against plain pymorphy3, on realistic comment text.

Run from the project root::

    .venv/bin/python -m bench.bench_morphology [--tokens 200000] [--repeats 5]

The text is the treebank's ``# text =`` sentences (social-media ones first), repeated until it
holds the requested number of tokens, as a stream of comments would repeat frequent words.
Both contenders run in this process on the same pymorphy3 backend:

* ours: ``MorphologyAnalyzer.analyze`` over every text, with a fresh analyzer per repeat so
  that its form cache starts empty and warms up within the run (tokenisation included);
* baseline: ``MorphAnalyzer.parse(word)[0]`` for each word token of the same texts (the words
  are split beforehand, so the baseline is not charged for tokenisation).

The ratio compares the time to analyse the same words; the best of the repeats is reported,
and the first run of ours separately.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from core.text.morphology import DAWG_EXTENSION_AVAILABLE, MorphologyAnalyzer, shared_morph
from core.text.tokenizer import TokenKind, tokenize

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "ru_taiga-ud-dev.conllu"
_WORD_KINDS = (TokenKind.WORD, TokenKind.HASHTAG)


def load_texts(path: Path) -> list[str]:
    """The ``# text = `` sentences of a CoNLL-U file, social-media sentences first."""
    social: list[str] = []
    other: list[str] = []
    genre = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# genre = "):
            genre = line.split("=", 1)[1].strip()
        elif line.startswith("# text = "):
            (social if genre == "social" else other).append(line.split("=", 1)[1].strip())
            genre = ""
    return social + other


def build_texts(sentences: Sequence[str], min_tokens: int) -> list[str]:
    """Repeat ``sentences`` until together they hold at least ``min_tokens`` tokens."""
    per_round = sum(len(tokenize(s)) for s in sentences)
    rounds = -(-min_tokens // per_round)
    return list(sentences) * rounds


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def time_ours(texts: Sequence[str]) -> tuple[float, int]:
    """Seconds for a fresh analyzer to analyse ``texts``, and the number of tokens produced."""
    analyzer = MorphologyAnalyzer()
    started = time.perf_counter()
    produced = 0
    for text in texts:
        produced += len(analyzer.analyze(text))
    return time.perf_counter() - started, produced


def time_baseline(words: Sequence[str]) -> float:
    """Seconds for pymorphy3 to take the first parse of every word."""
    parse = shared_morph().parse
    started = time.perf_counter()
    for word in words:
        parse(word)[0]
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200_000, help="minimum tokens of text")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each contender")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    shared_morph()  # load the dictionaries before measuring memory and time
    rss_loaded = peak_rss_mb()
    texts = build_texts(load_texts(args.corpus), args.tokens)
    words = [tok.text for text in texts for tok in tokenize(text) if tok.kind in _WORD_KINDS]

    # The contenders take turns, so that a burst of load on the machine hits both. The first
    # run of ours also fills the process-wide tag table, later ones only their own fresh form
    # cache; the ratio uses the best run of each, and the first run is shown as well.
    ours: list[float] = []
    base: list[float] = []
    tokens = 0
    for _ in range(args.repeats):
        seconds, tokens = time_ours(texts)
        ours.append(seconds)
        base.append(time_baseline(words))
    first_s, ours_s, base_s = ours[0], min(ours), min(base)
    rss_end = peak_rss_mb()

    rows = [
        ("backend", "DAWG C extension" if DAWG_EXTENSION_AVAILABLE else "pure Python DAWG"),
        ("texts / tokens / word tokens", f"{len(texts):,} / {tokens:,} / {len(words):,}"),
        ("pymorphy3 parse()[0]", f"{len(words) / base_s:>12,.0f} words/s  ({base_s:.2f} s)"),
        ("MorphologyAnalyzer.analyze", f"{len(words) / ours_s:>12,.0f} words/s  ({ours_s:.2f} s)"),
        ("  (all tokens incl. punct.)", f"{tokens / ours_s:>12,.0f} tokens/s"),
        ("  first run (cold tag table)", f"{len(words) / first_s:>12,.0f} words/s"),
        ("speed-up (same words)", f"{base_s / ours_s:.1f}x (first run {base_s / first_s:.1f}x)"),
        ("peak RSS, analyser loaded", f"{rss_loaded:.0f} MiB"),
        ("peak RSS, end of run", f"{rss_end:.0f} MiB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
