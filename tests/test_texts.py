"""Texts people read, without processes: validation in the project's own words in both
languages, message lengths as Telegram counts them, bounded flood-guard memory."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from bot.middlewares.recent import RecentEvents
from core.catalog import ARG_NAMES, CATALOG
from core.i18n import _, use_locale
from core.jobstate import MESSAGE_LIMIT, fit_message, format_progress, split_message, utf16_length
from core.queue import explain, validate_args
from core.settings import Settings

# Bad arguments for every job people name, one per kind of mistake the models can report.
BAD = [
    ("parse_vk_comments", {}),
    ("parse_vk_comments", {"group": "taiga_demo", "limit": "x"}),
    ("parse_vk_comments", {"group": "taiga_demo", "limit": "1.5"}),
    ("parse_vk_comments", {"group": "taiga_demo", "limit": "0"}),
    ("parse_vk_comments", {"group": "taiga_demo", "limit": "100001"}),
    ("parse_vk_comments", {"group": "taiga_demo", "days": "9" * 5000}),
    ("parse_vk_comments", {"group": "taiga_demo", "days": "3651"}),
    ("parse_vk_comments", {"group": "???"}),
    ("parse_vk_comments", {"group": "0"}),
    ("parse_vk_comments", {"group": ""}),
    ("parse_vk_comments", {"group": "taiga_demo", "colour": "red"}),
    ("extract_keywords", {"group": "taiga_demo", "n": "-1"}),
    ("extract_keywords", {"group": "taiga_demo", "n": "101"}),
    # Named comments: only the API names them, so only its clients see these.
    ("process_batch_comments", {"group": "1", "comment_ids": []}),
    ("process_batch_comments", {"group": "1", "comment_ids": "7"}),
    ("process_batch_comments", {"group": "1", "comment_ids": ["x"]}),
    ("process_batch_comments", {"group": "1", "comment_ids": [5, 0]}),
    ("process_batch_comments", {"group": "1", "comment_ids": [2**63]}),
    ("process_batch_comments", {"group": "1", "comment_ids": list(range(1, 1002))}),
]
PYDANTIC_WORDS = ("input should", "unable to parse", "value error", "field required", "extra input")
# Every field of every job's arguments, by its code name.
FIELDS = {field for spec in CATALOG.values() for field in spec.args.model_fields}
# A field's code name as a word of a message (`n` alone is too short to look for).
FIELD_NAMES = re.compile(r"\b(?:" + "|".join(f for f in sorted(FIELDS) if len(f) > 1) + r")\b")


@pytest.mark.parametrize(("job", "data"), BAD)
def test_validation_speaks_our_words_in_both_languages(job: str, data: dict[str, object]) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    answers = {}
    for language in ("en", "ru"):
        with use_locale(language), pytest.raises(ValidationError) as error:
            validate_args(CATALOG[job], data, settings)
        with use_locale(language):
            answers[language] = explain(error.value)
    assert answers["en"] != answers["ru"], answers
    for text in answers.values():
        assert not any(word in text.lower() for word in PYDANTIC_WORDS), text
        assert "9999" not in text  # values are not echoed back
    assert any("а" <= ch <= "я" for ch in answers["ru"].lower()), answers["ru"]
    # The argument's name too is Russian: a field's code name there reads as a leak.
    assert not FIELD_NAMES.search(answers["ru"]), answers["ru"]


def test_every_job_argument_has_a_name_in_both_languages() -> None:
    """Every field of every job's arguments is named in messages, in Russian too: the API
    takes them all, so a new field cannot be left to show its code name."""
    assert ARG_NAMES.keys() >= FIELDS, sorted(FIELDS - ARG_NAMES.keys())
    with use_locale("ru"):
        russian = {field: _(ARG_NAMES[field]) for field in FIELDS}
    latin = {field: name for field, name in russian.items() if re.search("[A-Za-z]", name)}
    assert not latin, latin


def test_text_argument_limits() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    spec = CATALOG["analyze_text_morphology"]
    for data, english in [({"text": ""}, "text must not be empty"), ({"text": "я" * 4001}, "4000")]:
        with pytest.raises(ValidationError) as error:
            validate_args(spec, data, settings)
        with use_locale("en"):
            assert english in explain(error.value)


def test_lengths_are_utf16_units() -> None:
    """An emoji outside the BMP is two units: 3,000 of them do not fit in one message."""
    text = "😀" * 3000
    assert len(text) == 3000 and utf16_length(text) == 6000
    pieces = split_message(text)
    assert "".join(pieces) == text
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in pieces) and len(pieces) == 2
    with use_locale("en"):
        cut = fit_message("\n".join(["😀" * 100] * 30), "/result x")
    assert utf16_length(cut) <= MESSAGE_LIMIT and cut.endswith("/result x)")


def test_flood_memory_is_bounded() -> None:
    """A flood of new senders or of one sender's messages cannot grow the memory."""
    seen = RecentEvents(window=3600, max_events=3, max_keys=100)
    for key in range(10_000):
        seen.add(key)
    assert len(seen) == 100
    counts = [seen.add(5) for _ in range(1000)]
    assert counts[:3] == [1, 2, 3] and set(counts[3:]) == {3}
    assert len(seen) <= 100


def test_progress_names_its_unit_in_the_right_plural() -> None:
    progress = {"done": "14", "total": "21", "unit": "posts", "comments": "2"}
    with use_locale("ru"):
        assert format_progress(progress) == "выполняется: 14 из 21 поста (66%), пока 2 комментария"
        assert format_progress({**progress, "total": "25", "comments": "5"}).startswith(
            "выполняется: 14 из 25 постов (56%), пока 5 комментариев"
        )
    with use_locale("en"):
        assert format_progress({**progress, "unit": "parts", "total": "1", "done": "1"}) == (
            "in progress: 1 of 1 part (100%), 2 comments so far"
        )


# An empty result of each job and the words that say why it is empty, in English.
EMPTY_RESULTS = [
    ("parse_vk_comments", {"posts_scanned": 0, "days": 7}, "no posts from the last 7 days"),
    ("parse_vk_comments", {"posts_scanned": 0}, "the wall has no posts"),
    ("parse_vk_comments", {"posts_unchanged": 4}, "no post has new comments since the last"),
    ("parse_vk_comments", {"posts_scanned": 3}, "the posts read have no new comments"),
    ("analyze_text_morphology", {"tokens": []}, "no words found"),
    ("extract_keywords", {"comments": 0, "keywords": []}, "no comments with text in that"),
    ("extract_keywords", {"comments": 4, "keywords": []}, "too few comments repeat the same"),
    ("process_batch_comments", {"analysed_before": 0}, "no stored comments with text"),
    ("process_batch_comments", {"analysed_before": 3}, "were analysed already"),
    (
        "process_batch_comments",
        {"analysed_before": 0, "missing_ids": [7, 8]},
        "2 not stored for this community (not parsed yet or deleted on VK): 7, 8",
    ),
    ("generate_report", {"empty": True, "days": 1, "name": "x"}, "Nothing stored for x"),
    ("show_statistics", {"communities": []}, "No comments stored yet"),
]


@pytest.mark.parametrize(("job", "result", "reason"), EMPTY_RESULTS)
def test_an_empty_result_names_its_reason(job: str, result: dict[str, object], reason: str) -> None:
    """Whatever a job found nothing for, its message says why, in both languages."""
    texts = {}
    for language in ("en", "ru"):
        with use_locale(language):
            texts[language] = CATALOG[job].describe(result)
    assert reason in texts["en"], texts["en"]
    assert texts["ru"] != texts["en"] and any("а" <= ch <= "я" for ch in texts["ru"].lower())


def test_named_comments_arguments() -> None:
    """An analysis of named comments: ids distinct and sorted, 1 to 1000 of them, no `days`."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    spec = CATALOG["process_batch_comments"]
    named = validate_args(spec, {"group": "1", "comment_ids": [3, 1, 3]}, settings)
    assert named.comment_ids == [1, 3]  # type: ignore[attr-defined]
    for data, english in [
        ({"comment_ids": []}, "comment_ids must not be empty"),
        ({"comment_ids": list(range(1, 1002))}, "comment_ids: 1000 items at most"),
        ({"comment_ids": [5, 0]}, "comment_ids must be at least 1"),
        ({"comment_ids": [5], "days": 3}, "name either days or comment ids, not both"),
    ]:
        with use_locale("en"), pytest.raises(ValidationError) as error:
            validate_args(spec, {"group": "1", **data}, settings)
        with use_locale("en"):
            assert explain(error.value) == english


def test_durations_are_written_as_the_reader_writes_decimals() -> None:
    parse, batch = CATALOG["parse_vk_comments"], CATALOG["process_batch_comments"]
    with use_locale("ru"):
        assert "за 1,2 с." in parse.describe({"posts_scanned": 1, "duration_s": 1.23})
        assert "2,3 с" in batch.describe({"comments_analyzed": 5, "duration_s": 2.34})
    with use_locale("en"):
        assert "2.3 s" in batch.describe({"comments_analyzed": 5, "duration_s": 2.34})
