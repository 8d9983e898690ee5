"""The report's chart: big enough for a phone, and its Russian text drawn with real glyphs."""

from __future__ import annotations

import io
import logging
import warnings
from datetime import date, timedelta

import pytest
from matplotlib import font_manager
from PIL import Image

from core.i18n import use_locale
from core.reports import chart
from core.reports.summary import Summary

FIRST = date(2026, 11, 1)
NAMES = ["Клуб «Ёжики» — щука, подъём", "ЭЮЯ съёмка: Ъ, ЫЙ", "Рыбалка зимняя №3"]


def summary_of_all() -> Summary:
    """All communities with Cyrillic names (every letter class: ё, ъ, capitals, №)."""
    last = FIRST + timedelta(days=29)
    sections = []
    for number, name in enumerate(NAMES):
        per_day = {FIRST + timedelta(days=d): (d * (number + 1)) % 7 + 1 for d in range(30)}
        section = Summary(-1 - number, name, FIRST, last, per_day, sum(per_day.values()))
        section.hours = [(h * (number + 3)) % 11 for h in range(24)]
        sections.append(section)
    total = Summary(None, "", FIRST, last, comments=sum(s.comments for s in sections))
    total.per_day = {day: sum(s.per_day[day] for s in sections) for day in sections[0].per_day}
    total.hours = [sum(s.hours[h] for s in sections) for h in range(24)]
    total.sections = sections
    return total


def missing_glyphs(
    caught: list[warnings.WarningMessage], records: list[logging.LogRecord]
) -> list[str]:
    """What matplotlib said about glyphs its font lacks (it warns or logs, by version)."""
    said = [str(w.message) for w in caught] + [r.getMessage() for r in records]
    return [text for text in said if "Glyph" in text and "missing" in text]


def render_recording(summary: Summary, caplog: pytest.LogCaptureFixture) -> tuple[bytes, list[str]]:
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = chart.render(summary)
    return png, missing_glyphs(caught, caplog.records)


def test_chart_is_big_and_draws_every_cyrillic_letter(caplog: pytest.LogCaptureFixture) -> None:
    """In Russian, with Cyrillic community names: at least 1200x800 and no missing glyph; a
    name with a glyph the font lacks does make matplotlib complain, so the check is real."""
    font = font_manager.findfont(chart.STYLE["font.family"], fallback_to_default=False)
    with use_locale("ru"):
        png, missing = render_recording(summary_of_all(), caplog)
        assert missing == []
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.size[0] >= 1200 and image.size[1] >= 800
        broken = summary_of_all()
        broken.sections[0].name = "Клуб \U0001f3a3"  # a fishing-pole emoji: not in the font
        _png, missing = render_recording(broken, caplog)
        assert missing, f"no complaint about a glyph {font} lacks"
