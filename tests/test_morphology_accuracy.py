"""Lemmatisation accuracy on the social-media part of UD Russian-Taiga, plus the analyser's
behaviour on the cases its rules are for, and the CLI that prints it.

The corpus is read from ``tests/data/`` (CC BY-SA 4.0, see its README); a missing corpus fails the
test (it must not pass silently by skipping).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.text.cli import run_analyze
from core.text.morphology import DAWG_EXTENSION_AVAILABLE, MorphologyAnalyzer, shared_morph
from core.text.tokenizer import tokenize

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
CORPUS = CORPUS_DIR / "ru_taiga-ud-dev.conllu"
# Sources whose sentences are social media when a sentence carries no genre comment.
SOCIAL_SOURCES = ("instagram", "vk", "youtube", "social", "twitter", "facebook", "telegram")
TARGET = 0.94


@dataclass(frozen=True)
class Sentence:
    sent_id: str
    genre: str
    text: str
    forms: list[str]
    lemmas: list[str]
    upos: list[str]


def read_conllu(path: Path) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file; multiword-token ranges and empty nodes are left out.

    A sentence without a ``# genre`` comment takes the genre of the previous sentence of the
    same document, or else "social" when its sent_id names a social-media source.
    """
    meta: dict[str, str] = {}
    doc_genre = ""
    rows: list[list[str]] = []

    def flush() -> Sentence | None:
        nonlocal doc_genre
        if not rows:
            return None
        sent_id = meta.get("sent_id", "")
        genre = meta.get("genre") or doc_genre
        if not genre and sent_id.lower().startswith(SOCIAL_SOURCES):
            genre = "social"
        doc_genre = genre
        cols = list(zip(*rows, strict=True))
        return Sentence(sent_id, genre, meta.get("text", ""), *map(list, cols))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition("=")
            if key.strip() in ("newdoc", "newdoc id"):
                doc_genre = ""
            meta[key.strip()] = value.strip()
        elif not line.strip():
            sentence = flush()
            if sentence is not None:
                yield sentence
            meta, rows = {}, []
        else:
            cols = line.split("\t")
            if cols[0].isdigit():  # "3-4" is a multiword range, "3.1" an empty node
                rows.append([cols[1], cols[2], cols[3]])
    sentence = flush()
    if sentence is not None:
        yield sentence


def lemma_key(lemma: str) -> str:
    """Comparison key: lowercase, ё as е, and a hashtag's lemma without its "#".

    The treebank writes "еще" where pymorphy3 writes "ещё"; the analyser gives a hashtag the
    lemma of its word (so that "#рыбалка" and "рыбалка" count together), the treebank keeps
    the "#". Both sides of every comparison get the same key.
    """
    key = lemma.lower().replace("ё", "е")
    return key[1:] if len(key) > 1 and key[0] == "#" else key


@pytest.fixture(scope="module")
def analyzer() -> MorphologyAnalyzer:
    return MorphologyAnalyzer()


@pytest.fixture(scope="module")
def social() -> list[Sentence]:
    if not CORPUS.is_file():
        pytest.fail(
            f"UD Russian-Taiga corpus not found at {CORPUS}: the accuracy test needs "
            "tests/data/ru_taiga-ud-dev.conllu in the checkout"
        )
    sentences = [s for s in read_conllu(CORPUS) if s.genre == "social"]
    assert len(sentences) > 500, "expected the ~589 social-media sentences of the dev split"
    return sentences


def test_lemma_accuracy_on_social_media_beats_pymorphy3_first_guess(
    analyzer: MorphologyAnalyzer, social: list[Sentence], capsys: pytest.CaptureFixture[str]
) -> None:
    parse = shared_morph().parse
    total = ours = baseline = pos_ok = 0
    for sentence in social:
        analysed = analyzer.analyze_words(sentence.forms)
        for tok, gold, gold_pos in zip(analysed, sentence.lemmas, sentence.upos, strict=True):
            if gold_pos == "PUNCT":
                continue
            total += 1
            key = lemma_key(gold)
            ours += lemma_key(tok.lemma) == key
            baseline += lemma_key(parse(tok.form)[0].normal_form) == key
            pos_ok += tok.pos == gold_pos
    ours_acc, base_acc = ours / total, baseline / total
    with capsys.disabled():
        print(
            f"\nlemma accuracy on {total} social-media tokens: ours {ours_acc:.4f}, "
            f"pymorphy3 first parse {base_acc:.4f}; UPOS accuracy {pos_ok / total:.4f}"
        )
    assert ours_acc >= base_acc
    assert ours_acc >= TARGET


def word_key(form: str) -> str:
    """A word as both sides spell it: a leading "#" or "@" is not part of the comparison."""
    return form[1:] if len(form) > 1 and form[0] in "#@" else form


def end_to_end_score(analyzer: MorphologyAnalyzer, sentence: Sentence) -> tuple[int, int]:
    """(correct, scored) lemmas of a sentence analysed from its raw text, as users get it.

    The treebank's words are found in the text in order; a word is correct when our
    tokenizer produced a token with the same text at the same offset and its lemma matches.
    A treebank word our tokenizer split or glued differently counts as wrong; punctuation is
    not scored.
    """
    ours = {tok.start + (len(tok.form) - len(word_key(tok.form))): tok
            for tok in analyzer.analyze(sentence.text)}  # fmt: skip
    correct = scored = cursor = 0
    for form, gold, gold_pos in zip(sentence.forms, sentence.lemmas, sentence.upos, strict=True):
        found = sentence.text.find(form, cursor)
        if found >= 0:
            cursor = found + len(form)
        if gold_pos == "PUNCT":
            continue
        scored += 1
        key = word_key(form)
        tok = ours.get(found + len(form) - len(key)) if found >= 0 else None
        if tok is not None and word_key(tok.form) == key:
            correct += lemma_key(tok.lemma) == lemma_key(gold)
    return correct, scored


def test_lemma_accuracy_end_to_end_through_the_tokenizer(
    analyzer: MorphologyAnalyzer, social: list[Sentence], capsys: pytest.CaptureFixture[str]
) -> None:
    """What a user gets: raw sentence text in, our tokens aligned to the treebank's words."""
    correct = scored = 0
    for sentence in social:
        ok, n = end_to_end_score(analyzer, sentence)
        correct += ok
        scored += n
    accuracy = correct / scored
    with capsys.disabled():
        print(f"\nend-to-end lemma accuracy on {scored} social-media words: {accuracy:.4f}")
    assert accuracy >= TARGET


def test_analyze_on_text_agrees_with_analyze_words_on_its_tokens(
    analyzer: MorphologyAnalyzer, social: list[Sentence]
) -> None:
    # analyze() has its own fused loop for speed; it must give what the token path gives.
    fresh = MorphologyAnalyzer()
    for sentence in social:
        words = [tok.text for tok in tokenize(sentence.text)]
        from_text = [(t.form, t.lemma, t.pos, t.kind) for t in analyzer.analyze(sentence.text)]
        from_words = [(t.form, t.lemma, t.pos, t.kind) for t in fresh.analyze_words(words)]
        assert from_text == from_words


def test_fast_dawg_backend_is_in_use(analyzer: MorphologyAnalyzer) -> None:
    assert DAWG_EXTENSION_AVAILABLE is True
    assert analyzer.extension_available is True


def lemma_pos(analyzer: MorphologyAnalyzer, text: str) -> list[tuple[str, str]]:
    return [(tok.lemma, tok.pos) for tok in analyzer.analyze(text)]


@pytest.mark.parametrize(
    ("text", "lemma"),
    [
        ("Привееет", "привет"),
        ("спасиииибо", "спасибо"),
        ("ооочень", "очень"),
        ("поздравляяяем", "поздравлять"),
        ("ааа", "ааа"),  # a known interjection is not squeezed
        ("#рыбалку", "рыбалка"),
    ],
)
def test_social_media_normalisation(analyzer: MorphologyAnalyzer, text: str, lemma: str) -> None:
    assert analyzer.analyze(text)[0].lemma == lemma


@pytest.mark.parametrize(
    ("text", "lemma", "pos"),
    [
        ("норм", "норм", "ADJ"),
        ("спс", "спасибо", "PART"),
        ("щас", "сейчас", "ADV"),
        ("лол", "лол", "INTJ"),
        ("чел", "чел", "NOUN"),
        ("инфу", "инфа", "NOUN"),
        ("компа", "комп", "NOUN"),
        ("зп", "зарплата", "NOUN"),
        ("денег", "деньги", "NOUN"),
    ],
)
def test_slang_overrides(analyzer: MorphologyAnalyzer, text: str, lemma: str, pos: str) -> None:
    assert lemma_pos(analyzer, text) == [(lemma, pos)]


@pytest.mark.parametrize(
    ("text", "index", "lemma", "pos"),
    [
        ("в этом году", 1, "этот", "DET"),
        ("думаю об этом", 2, "это", "PRON"),
        ("их дом", 0, "их", "DET"),
        ("люблю их", 1, "они", "PRON"),
        ("нож из стали", 2, "сталь", "NOUN"),
        ("они стали", 1, "стать", "VERB"),
        ("у меня есть кот", 2, "быть", "VERB"),
        ("хочу есть", 1, "есть", "VERB"),
        ("Очень красиво!", 1, "красивый", "ADJ"),
        ("красиво поёт", 0, "красиво", "ADV"),
        ("зимой холодно", 0, "зима", "NOUN"),
        ("больше не буду", 0, "больше", "ADV"),
        ("во дворе", 0, "во", "ADP"),
    ],
)
def test_context_rules(
    analyzer: MorphologyAnalyzer, text: str, index: int, lemma: str, pos: str
) -> None:
    assert lemma_pos(analyzer, text)[index] == (lemma, pos)


def test_hashtags_in_a_tag_list_stay_verbatim_and_unknown_compounds_too(
    analyzer: MorphologyAnalyzer,
) -> None:
    assert lemma_pos(analyzer, "#море #облака") == [("море", "X"), ("облака", "X")]
    assert lemma_pos(analyzer, "едем на #черноеморе")[-1] == ("черноеморе", "X")


def test_non_words_keep_their_text(analyzer: MorphologyAnalyzer) -> None:
    assert lemma_pos(analyzer, "@Durov [id1|Иван] 100 % 😂 ))) https://vk.com/x !") == [
        ("@durov", "PROPN"),
        ("[id1|иван]", "PROPN"),
        ("100", "NUM"),
        ("%", "SYM"),
        ("😂", "SYM"),
        (")))", "SYM"),
        ("https://vk.com/x", "X"),
        ("!", "PUNCT"),
    ]


def test_tokens_keep_form_kind_and_offset(analyzer: MorphologyAnalyzer) -> None:
    text = "Привет, #мир"
    tokens = analyzer.analyze(text)
    assert [(t.form, t.kind.value, t.start) for t in tokens] == [
        ("Привет", "word", 0),
        (",", "punct", 6),
        ("#мир", "hashtag", 8),
    ]


def test_lemmas_returns_content_words_only(analyzer: MorphologyAnalyzer) -> None:
    assert analyzer.lemmas("Я вчера купил новую удочку и поймал щуку! vk.com/x 😂 @ivan") == [
        "вчера",
        "купить",
        "новый",
        "удочка",
        "поймать",
        "щука",
    ]


def test_case_variants_share_a_cache_entry_and_the_cache_is_bounded() -> None:
    small = MorphologyAnalyzer(cache_limit=8)
    assert small.analyze("Рыбалка")[0].lemma == small.analyze("рыбалка")[0].lemma == "рыбалка"
    small.analyze("раз два три четыре пять шесть семь восемь девять десять")
    assert small.cache_size <= 8 + 1
    assert small.analyze("десять")[0].lemma == "десять"


def test_cli_prints_one_token_per_line_with_blank_lines_between_input_lines(
    analyzer: MorphologyAnalyzer,
) -> None:
    out = io.StringIO()
    status = run_analyze(io.StringIO("Привееет всем!\n\nспс, норм\n"), out, analyzer)
    assert status == 0
    assert out.getvalue() == (
        "Привееет\tпривет\tNOUN\n"
        "всем\tвсе\tPRON\n"
        "!\t!\tPUNCT\n"
        "\n"
        "\n"
        "спс\tспасибо\tPART\n"
        ",\t,\tPUNCT\n"
        "норм\tнорм\tADJ\n"
        "\n"
    )


def test_cli_output_is_the_analyze_code_path(analyzer: MorphologyAnalyzer) -> None:
    text = "В этом году на #рыбалку ездили зимой, клёв был отличный))"
    out = io.StringIO()
    run_analyze(io.StringIO(text + "\n"), out, analyzer)
    expected = "".join(f"{t.form}\t{t.lemma}\t{t.pos}\n" for t in analyzer.analyze(text))
    assert out.getvalue() == expected + "\n"
