"""The ways people name a VK community."""

from __future__ import annotations

import pytest

from core.groups import normalize_group


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345", "12345"),
        ("-12345", "12345"),
        ("club12345", "12345"),
        ("public777", "777"),
        ("apiclub", "apiclub"),
        ("ApiClub", "apiclub"),
        ("https://vk.com/apiclub", "apiclub"),
        ("vk.com/club42?w=wall-42_1", "42"),
        ("https://m.vk.ru/public9/", "9"),
        ("the.best_group", "the.best_group"),
    ],
)
def test_accepted(raw: str, expected: str) -> None:
    assert normalize_group(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "???", "a", "https://vk.com/", "x" * 70, "club0"])
def test_rejected_with_reason(raw: str) -> None:
    with pytest.raises(ValueError, match=r"VK community|must not be 0|expected"):
        normalize_group(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "ſtaiga",  # Unicode case folding made "ſ" match "s"
        "İnfo",  # ... and "İ" match "i"
        "vk.com/taiga\n?w=1",  # "$" matched before a trailing newline
        "club12\nclub34",
        "１２３",  # fullwidth digits
        "١٢٣",  # Arabic-Indic digits: \d took them and int() read them
    ],
)
def test_non_ascii_and_newlines_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a VK community"):
        normalize_group(raw)
