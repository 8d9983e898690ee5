"""Command-line view of the analysis: ``python -m worker analyze < comments.txt``.

Every input line is analysed with :meth:`MorphologyAnalyzer.analyze`, the very code path the
worker uses, and printed one token per line as ``form<TAB>lemma<TAB>POS``, with a blank line
after the tokens of each input line (an empty input line gives just the blank line).
"""

from __future__ import annotations

from typing import TextIO

from core.text.morphology import MorphologyAnalyzer

__all__ = ["run_analyze"]


def run_analyze(stdin: TextIO, stdout: TextIO, analyzer: MorphologyAnalyzer | None = None) -> int:
    """Analyse ``stdin`` line by line into ``stdout``; returns the process exit status (0).

    ``analyzer`` defaults to a new :class:`MorphologyAnalyzer`; pass one to reuse its cache.
    """
    analyzer = analyzer if analyzer is not None else MorphologyAnalyzer()
    for line in stdin:
        text = line.rstrip("\r\n")
        out = [f"{tok.form}\t{tok.lemma}\t{tok.pos}\n" for tok in analyzer.analyze(text)]
        out.append("\n")
        stdout.write("".join(out))
    stdout.flush()
    return 0
