"""Tokenizer for social-media Russian: kinds, offsets, and nothing lost."""

from __future__ import annotations

import pytest

from core.text.morphology import load_overrides
from core.text.tokenizer import ABBREVIATIONS, Token, TokenKind, classify, iter_tokens, tokenize


def pairs(text: str) -> list[tuple[str, str]]:
    return [(tok.text, tok.kind.value) for tok in tokenize(text)]


def test_words_with_hyphens_yo_and_apostrophes() -> None:
    assert pairs("Кто-то по-моему ёлку купил, д'Артаньян") == [
        ("Кто-то", "word"),
        ("по-моему", "word"),
        ("ёлку", "word"),
        ("купил", "word"),
        (",", "punct"),
        ("д'Артаньян", "word"),
    ]


def test_latin_and_mixed_words_and_numbers() -> None:
    assert pairs("mp3 covid-19 5х 2024 1,5 10:30 2-й") == [
        ("mp3", "word"),
        ("covid-19", "word"),
        ("5х", "word"),
        ("2024", "number"),
        ("1,5", "number"),
        ("10:30", "number"),
        ("2-й", "number"),
    ]


def test_trailing_hyphen_is_punctuation() -> None:
    assert pairs("воздушно- капельным") == [
        ("воздушно", "word"),
        ("-", "punct"),
        ("капельным", "word"),
    ]


def test_decomposed_yo_stays_inside_the_word() -> None:
    text = "е\u0308ж и мо\u0301локо"
    assert [tok.text for tok in tokenize(text)] == ["е\u0308ж", "и", "мо\u0301локо"]


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("см. https://vk.com/wall-1_2.", "https://vk.com/wall-1_2"),
        ("(www.example.ru/a?b=c)", "www.example.ru/a?b=c"),
        ("пишите на vk.com/club1!", "vk.com/club1"),
        ("почта ivan.petrov@mail.ru, звоните", "ivan.petrov@mail.ru"),
    ],
)
def test_links_and_emails_keep_trailing_punctuation_outside(text: str, url: str) -> None:
    urls = [tok.text for tok in tokenize(text) if tok.kind is TokenKind.URL]
    assert urls == [url]


def test_vk_mentions_mentions_and_hashtags() -> None:
    assert pairs("[id123|Иван], [club1|Группа] @durov #рыбалка #сургут_инста") == [
        ("[id123|Иван]", "vk_mention"),
        (",", "punct"),
        ("[club1|Группа]", "vk_mention"),
        ("@durov", "mention"),
        ("#рыбалка", "hashtag"),
        ("#сургут_инста", "hashtag"),
    ]


def test_hashtag_token_keeps_its_word() -> None:
    (tok,) = tokenize("#Вьетнам")
    assert tok == Token("#Вьетнам", TokenKind.HASHTAG, 0)


def test_a_run_of_emoji_is_one_token() -> None:
    # skin tone + zero-width joiner + sign + variation selector; a flag; a heart with VS16:
    # one reaction, as the treebank writes it; a space separates two.
    assert pairs("🏄🏾\u200d♀️❤️😂😂🇷🇺 😂") == [
        ("🏄🏾\u200d♀️❤️😂😂🇷🇺", "emoji"),
        ("😂", "emoji"),
    ]


def test_text_emoticons_are_emoji_but_a_lone_bracket_is_punctuation() -> None:
    assert pairs("класс))) ну :) (да)") == [
        ("класс", "word"),
        (")))", "emoji"),
        ("ну", "word"),
        (":)", "emoji"),
        ("(", "punct"),
        ("да", "word"),
        (")", "punct"),
    ]


def test_punctuation_runs() -> None:
    assert pairs("Что?! Ну... -- да") == [
        ("Что", "word"),
        ("?!", "punct"),
        ("Ну", "word"),
        ("...", "punct"),
        ("--", "punct"),
        ("да", "word"),
    ]


def test_offsets_point_into_the_text_and_nothing_but_spaces_is_dropped() -> None:
    text = "  Привееет,всем!!! 😂 [id1|Ann] #тег\thttp://a.ru/x_y ¯\\_(ツ)_/¯ ²\n"
    tokens = tokenize(text)
    for tok in tokens:
        assert text[tok.start : tok.end] == tok.text
    assert "".join(tok.text for tok in tokens) == "".join(text.split())


def test_iter_tokens_matches_tokenize() -> None:
    text = "Привет, @user! Смотри vk.com/x #тег 😂"
    assert list(iter_tokens(text)) == tokenize(text)


def test_empty_and_blank_text() -> None:
    assert tokenize("") == []
    assert tokenize(" \n\t ") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("привет", TokenKind.WORD),
        ("#сочи", TokenKind.HASHTAG),
        ("@screened-18", TokenKind.MENTION),
        ("https://chn.ge/2JRea20", TokenKind.URL),
        ("😍😍😍", TokenKind.EMOJI),
        ("))))", TokenKind.EMOJI),
        ("воздушно-", TokenKind.WORD),
        ("14100", TokenKind.NUMBER),
        ("₽", TokenKind.PUNCT),
        ("", TokenKind.PUNCT),
    ],
)
def test_classify_whole_tokens(text: str, kind: TokenKind) -> None:
    assert classify(text) is kind


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("т.е. так", ["т.", "е.", "так"]),
        ("и т. д.", ["и", "т.", "д."]),
        (
            "1 ч. л. соли, 2 ст. л. сахара",
            ["1", "ч.", "л.", "соли", ",", "2", "ст.", "л.", "сахара"],
        ),
        ("P.S. привет", ["P.", "S.", "привет"]),
        ("5 млн. рублей", ["5", "млн.", "рублей"]),
        ("А. С. Пушкин", ["А.", "С.", "Пушкин"]),
        ("это был я.", ["это", "был", "я", "."]),
        ("пост.ру", ["пост", ".", "ру"]),
    ],
)
def test_abbreviations_keep_their_dot_as_the_treebank_writes_them(
    text: str, tokens: list[str]
) -> None:
    assert [tok.text for tok in tokenize(text)] == tokens


def test_every_abbreviation_the_tokenizer_keeps_has_a_reading() -> None:
    """The tokenizer's list and the analyser's overrides name the same abbreviations."""
    listed = {form for form in load_overrides() if form.endswith(".")}
    assert listed
    for form in listed:
        assert [tok.text for tok in tokenize(form + " x")] == [form, "x"], form
    keep = {tok.text.lower() for tok in tokenize(" ".join(f"{a}." for a in ABBREVIATIONS))}
    assert keep == listed
