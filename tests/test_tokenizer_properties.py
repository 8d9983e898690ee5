"""The tokenizer and analyser on arbitrary text: comments are written by anyone.

Property-based (hypothesis): any unicode string tokenizes without an exception, every
non-space character lands in exactly one token, and the time grows linearly with the length
(compared between sizes of the same text, never against a clock: the machine may be busy).
"""

from __future__ import annotations

import gc
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.text.morphology import MorphologyAnalyzer
from core.text.tokenizer import tokenize

# Characters the token patterns treat specially, so that generated text hits their edges.
TRICKY = [*"a.@[]|#:/-_'’ \n1йЁ😂\u200d\ufe0f\u0308)(;=", "www", "id1|", "http://", ".ru"]
tricky_texts = st.lists(st.sampled_from(TRICKY)).map("".join)
texts = st.one_of(st.text(), tricky_texts)
SHORT = 1_000
GROWTH = 16
# A linear tokenizer takes ~16x as long on 16x the text, a quadratic one ~256x; timing noise on
# a busy machine (two cores shared by several test runs) is what the 4x margin is for.
MAX_RATIO = 4 * GROWTH
ATTEMPTS = 5
ANALYZER = MorphologyAnalyzer()


@settings(max_examples=3000, deadline=None, database=None)
@given(texts)
def test_any_text_tokenizes_and_analyses_without_losing_a_character(text: str) -> None:
    tokens = tokenize(text)
    rest = list(text)
    position = 0
    for token in tokens:
        assert token.start >= position, "tokens overlap or go backwards"
        assert text[token.start : token.end] == token.text
        rest[token.start : token.end] = " " * len(token.text)
        position = token.end
    assert "".join(rest).strip() == "", "a non-space character fell between tokens"
    analysed = ANALYZER.analyze(text)
    assert [t.form for t in analysed] == [t.text for t in tokens]


def best_time(text: str) -> float:
    """The fastest of five runs, the least disturbed by other processes; without the garbage
    collector, whose passes over the tokens made so far are not the tokenizer's time."""
    times = []
    gc.disable()
    try:
        for _ in range(5):
            started = time.perf_counter()
            tokenize(text)
            times.append(time.perf_counter() - started)
    finally:
        gc.enable()
    return min(times)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(st.text(min_size=1, max_size=8), tricky_texts.filter(bool)))
@example("a.")
@example(" ")
@example("[id1|")
@example("a@")
@example("a.b@")
@example("1")
@example("#")
@example("x" * 70 + ".")
def test_tokenizing_time_grows_linearly(unit: str) -> None:
    repeats = max(1, SHORT // len(unit))
    short, long = unit * repeats, unit * (repeats * GROWTH)
    measured = []
    # Another process may take the CPU during any one measurement, never during all of them;
    # a quadratic tokenizer fails every attempt.
    for _ in range(ATTEMPTS):
        short_time, long_time = best_time(short), best_time(long)
        measured.append((short_time, long_time))
        # The floor keeps sub-millisecond runs, where the clock's noise dominates, from failing.
        if long_time <= MAX_RATIO * short_time + 0.005:
            return
    raise AssertionError(f"{unit!r}: (short, long) seconds per attempt: {measured}")
