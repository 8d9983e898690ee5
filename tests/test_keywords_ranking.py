"""Keyword ranking: a group's topic words come first, stop and function words never appear."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from core.analysis import decode_terms, general_background, terms_of
from core.text.hashtags import split_glued
from core.text.keywords import (
    FUNCTION_POS,
    Keyword,
    count_document,
    document_terms,
    is_stop_word,
    rank_keywords,
    term_counts,
)
from core.text.morphology import MorphologyAnalyzer

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "ru_taiga-ud-dev.conllu"

# Comments under a fishing community's posts.
FISHING = [
    "Вчера ездили на рыбалку, клёв был отличный, поймал щуку на спиннинг!",
    "Какая удочка лучше для зимней рыбалки? Посоветуйте, пожалуйста",
    "Щука в этом году клюёт плохо, весь день просидели без клёва",
    "Купил новую удочку и катушку, в субботу опробую на озере",
    "На зимней рыбалке главное тёплая одежда и хороший бур",
    "Клёв начался только к вечеру, поймали трёх окуней и щуку",
    "Подскажите, на какую приманку сейчас берёт щука?",
    "Удочку забыл дома, пришлось ловить на спиннинг))",
    "Лучший клёв на рассвете, проверено годами рыбалки",
    "Отличная рыбалка была на выходных, щука на четыре кило!",
    "Зимняя рыбалка это отдельный вид удовольствия 🎣",
    "Какой клёв сейчас на водохранилище? Кто был на выходных?",
    "Поменял леску на удочке, теперь не рвётся",
    "Окунь хорошо берёт на блесну, щука на живца",
    "Собираемся на зимнюю рыбалку в следующие выходные, кто с нами?",
    "Мормышка и удочка для зимней рыбалки у меня ещё с прошлого года",
]


def read_texts(path: Path) -> list[str]:
    if not path.is_file():
        pytest.fail(f"corpus not found at {path}: the ranking test builds its background from it")
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# text = ")
    ]


@pytest.fixture(scope="module")
def analyzer() -> MorphologyAnalyzer:
    return MorphologyAnalyzer()


@pytest.fixture(scope="module")
def fishing_keywords(analyzer: MorphologyAnalyzer) -> list[Keyword]:
    texts = read_texts(CORPUS)
    # Three background groups of real comments and prose from the treebank.
    groups = [texts[i::3] for i in range(3)]
    background: Counter[str] = Counter()
    for group in groups:
        background += term_counts(document_terms(analyzer.analyze(text)) for text in group)
    docs = [document_terms(analyzer.analyze(text)) for text in FISHING]
    return rank_keywords(docs, background, top_n=15)


def test_topic_words_rank_first(fishing_keywords: list[Keyword]) -> None:
    top = [k.term for k in fishing_keywords[:6]]
    assert {"рыбалка", "удочка", "щука", "клёв"} <= set(top), top
    assert "рыбалка" in fishing_keywords[0].term.split()


def test_frequent_adjacent_pair_is_a_phrase(fishing_keywords: list[Keyword]) -> None:
    phrases = {k.term: k for k in fishing_keywords if k.is_phrase}
    assert "зимний рыбалка" in phrases, [k.term for k in fishing_keywords]
    assert phrases["зимний рыбалка"].count >= 3


def test_no_stop_or_function_words_anywhere(
    analyzer: MorphologyAnalyzer, fishing_keywords: list[Keyword]
) -> None:
    function_lemmas = {
        tok.lemma for text in FISHING for tok in analyzer.analyze(text) if tok.pos in FUNCTION_POS
    }
    for keyword in fishing_keywords:
        for part in keyword.term.split():
            assert not is_stop_word(part), keyword
            assert part not in function_lemmas, keyword


def test_scores_are_positive_descending_and_counts_are_documents(
    fishing_keywords: list[Keyword],
) -> None:
    scores = [k.score for k in fishing_keywords]
    assert all(score > 0 for score in scores)
    assert scores == sorted(scores, reverse=True)
    by_term = {k.term: k.count for k in fishing_keywords}
    # "щука" occurs in six comments; the two mentions in one comment count once.
    assert by_term["щука"] == sum("щук" in text.lower() for text in FISHING)


def test_group_specific_word_beats_a_word_common_everywhere() -> None:
    group = Counter({"щука": 5, "погода": 5, "улов": 2})
    background = {"погода": 400, "город": 300, "улов": 1}
    ranked = rank_keywords(group, background, top_n=10)
    terms = [k.term for k in ranked]
    assert terms.index("щука") < terms.index("улов")
    # As frequent in the background as in the group: not typical, so not a keyword.
    assert "погода" not in terms


def test_stop_words_are_filtered_even_from_ready_made_counts() -> None:
    group = Counter({"это": 50, "который": 20, "очень": 10, "удочка": 3, "в лес": 5})
    background = {"это": 900, "город": 100}
    assert [k.term for k in rank_keywords(group, background, top_n=10)] == ["удочка"]


def test_empty_background_ranks_by_frequency() -> None:
    group = Counter({"удочка": 3, "щука": 7, "и": 40})
    assert [(k.term, k.count) for k in rank_keywords(group, {})] == [("щука", 7), ("удочка", 3)]


def test_minimum_counts_for_words_and_phrases() -> None:
    docs = [["удочка", "леска"], ["удочка", "леска"], ["удочка", None, "мормышка"]]
    ranked = {k.term: k for k in rank_keywords(docs, {"город": 100}, top_n=10)}
    assert set(ranked) == {"удочка", "леска"}  # "удочка леска" twice < 3; "мормышка" once < 2
    three = [*docs, ["удочка", "леска"]]
    ranked = {k.term: k for k in rank_keywords(three, {"город": 100}, top_n=10)}
    assert ranked["удочка леска"].count == 3
    assert ranked["удочка леска"].is_phrase


def test_terms_separated_by_a_function_word_do_not_form_a_phrase() -> None:
    counts = term_counts([["рыбалка", None, "щука"], ["рыбалка", "щука", "щука"]])
    assert counts == Counter({"рыбалка": 2, "щука": 2, "рыбалка щука": 1})


def test_ranking_is_deterministic_and_respects_top_n() -> None:
    group = Counter({"б": 0, "жерех": 3, "судак": 3, "сазан": 3})
    ranked = rank_keywords(group, {}, top_n=2)
    assert [k.term for k in ranked] == ["жерех", "сазан"]


# A community about winter fishing whose members praise a lot: generic praise is its most
# frequent vocabulary, and its hashtags are glued phrases.
PRAISING_FISHERS = [
    "Отличная рыбалка, щука клюёт на мормышку! #зимняярыбалка",
    "Классное фото, хорошая щука! #зимняярыбалка #рыбалка",
    "Отличный улов окуня, хорошая удочка, классно!",
    "Хорошая рыбалка на озере, отличный клёв #зимняярыбалка",
    "Супер, классная щука, отличная мормышка!",
    "Хороший лёд, отличная зимняя рыбалка, щука на жерлицу",
    "Классно! Хорошая удочка для зимней рыбалки, клёв отличный",
    "Отличное фото, классный окунь, хорошая мормышка #зимняярыбалка",
    "Хорошая погода, отличный клёв, щука и окунь",
    "Классная зимняя рыбалка, хороший улов, отличная удочка",
]
PRAISE = {"хороший", "отличный", "классный", "классно", "супер", "фото"}
TOPIC = {"рыбалка", "щука", "удочка", "мормышка", "окунь", "клёв", "жерлица", "улов"}


@pytest.fixture(scope="module")
def praising_keywords() -> list[Keyword]:
    counts: Counter[str] = Counter()
    for text in PRAISING_FISHERS:
        count_document(counts, decode_terms(terms_of(text)))
    return rank_keywords(counts, general_background(), top_n=20)


def test_topic_words_outrank_generic_praise_against_general_russian(
    praising_keywords: list[Keyword],
) -> None:
    """Praise is the most frequent vocabulary of the community but common everywhere; the
    general-Russian background pushes it below every topic word found."""
    terms = [k.term for k in praising_keywords]
    counts = Counter({k.term: k.count for k in praising_keywords})
    # Praise is what the community says most...
    assert counts["отличный"] == max(counts.values()), counts
    assert "хороший" not in terms, terms
    # ...yet every topic word it repeats (three times or more) ranks above every praise word.
    topic = [i for i, t in enumerate(terms) if t in TOPIC and counts[t] >= 3]
    praise = [i for i, t in enumerate(terms) if t in PRAISE]
    assert len(topic) >= 5, terms
    assert max(topic) < min(praise), terms


def test_glued_hashtags_count_as_their_words_and_phrase(praising_keywords: list[Keyword]) -> None:
    terms = {k.term: k.count for k in praising_keywords}
    assert "зимняярыбалка" not in terms
    # Four tags and three written phrases: seven comments with "зимний рыбалка".
    assert terms.get("зимний рыбалка") == 7, terms


def test_phrases_read_as_people_write_them() -> None:
    text = MorphologyAnalyzer().phrase_text
    assert text("зимний рыбалка") == "зимняя рыбалка"
    assert text("хороший деньги") == "хорошие деньги"
    assert text("рыбалка щука") == "рыбалка щука"


def test_glued_hashtags_split_into_dictionary_words() -> None:
    is_known = MorphologyAnalyzer().morph.word_is_known
    assert split_glued("зимняярыбалка", is_known) == ["зимняя", "рыбалка"]
    assert split_glued("лучшаябазаотдыха", is_known) == ["лучшая", "база", "отдыха"]
    assert split_glued("мамавдекрете", is_known) == ["мама", "в", "декрете"]
    assert split_glued("рыбалка", is_known) is None  # one word is not a glued phrase
    assert split_glued("тмн", is_known) is None
    assert split_glued("ы" * 500, is_known) is None  # too long to search
