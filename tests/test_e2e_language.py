"""Two languages through real processes: a Russian-speaking user gets Russian answers, menu and
job messages, an English one English, for every command and error; nobody ever reads a job's
function name."""

from __future__ import annotations

import re
from pathlib import Path

from fakevk.api import FakeVK
from tests.conftest import (
    ADMIN_ID,
    ALLOWED_ID,
    STRANGER_ID,
    Process,
    function_names_shown,
    running,
)
from tests.fakes import FakeTelegram

JOB_ID = re.compile(r"/status ([0-9a-f]{32})")
# A second admin, so the English side of the story is not slowed by the flood guard.
ENGLISH_ADMIN = 1003

# (command, what the Russian answer says, what the English one says)
EXCHANGES = [
    ("/help", "Я собираю комментарии", "I collect comments"),
    ("/start", "Я собираю комментарии", "I collect comments"),
    ("/parse", "не хватает <сообщество>", "missing <group>"),
    ("/parse taiga_demo много", "лимит: нужно целое число", "limit must be a whole number"),
    ("/parse taiga_demo 0", "лимит: не меньше 1", "limit must be at least 1"),
    ("/parse taiga_demo 99999999999", "лимит: не больше 100000", "limit must be at most 100000"),
    ("/parse taiga_demo 10 0", "дни: не меньше 1", "days must be at least 1"),
    (
        "/parse taiga_demo 10 99999999999999999999999",
        "дни: не больше 3650",
        "days must be at most 3650",
    ),
    ("/parse taiga_demo 10 7 x", "слишком много аргументов", "too many arguments"),
    ("/parse ???", "не сообщество VK", "is not a VK community"),
    ("/keywords", "не хватает <сообщество>", "missing <group>"),
    ("/keywords fishing_club 500", "сколько: не больше 100", "n must be at most 100"),
    ("/report taiga_demo 7 x", "слишком много аргументов", "too many arguments"),
    ("/report taiga_demo 0", "дни: не меньше 1", "days must be at least 1"),
    ("/stats taiga_demo x", "слишком много аргументов", "too many arguments"),
    ("/analyze", "не хватает <текст> или <сообщество>", "missing <text> or <group>"),
    ("/status", "не хватает <номер_задачи>", "missing <job_id>"),
    ("/result a b", "нужен один номер задачи", "expected one job id"),
    ("/result", "не хватает <номер_задачи>", "missing <job_id>"),
    ("/abort", "не хватает <номер_задачи>", "missing <job_id>"),
    ("/abort 0123456789abcdef0123456789abcdef", "не найдена", "not found"),
    ("/jobs", "В этом чате ещё не было задач", "No jobs in this chat yet"),
    ("/queue", "Очередь", "Queue"),
    ("/health", "Redis доступен", "Redis reachable"),
    ("/language", "Я отвечаю вам на языке «русский»", "My answers to you are in English"),
    ("/language de", "неизвестный язык de", "unknown language de"),
    ("/access", "Кто может пользоваться ботом:", "Who may use the bot:"),
    ("/allow", "в личном чате укажите, кому", "in a private chat, name the person"),
    ("/deny x", "нужен один числовой id", "expected one numeric id"),
    ("/frobnicate", "Неизвестная команда /frobnicate", "Unknown command /frobnicate"),
    ("hello", "Я понимаю только команды", "I only understand commands"),
]


# Commands whose answer is a quick job's closing message: (command, Russian, English).
JOB_EXCHANGES = [
    ("/analyze Щас на рыбалку", "на → на (предлог)", "на → на (preposition)"),
    ("/keywords nobody_here", "сначала /parse nobody_here", "/parse nobody_here first"),
    # VK's own refusal reaches the closing message in the person's language.
    ("/parse nobody_here", "VK не нашёл такое сообщество", "VK did not find that community"),
    ("/stats", "Комментариев пока нет", "No comments stored yet"),
]


async def ask(
    tg: FakeTelegram,
    user: int,
    language: str | None,
    text: str,
    expect: str,
    bound_s: float = 30,
) -> str:
    sent = tg.send_text(text, user_id=user, language_code=language)
    reply = await tg.wait_for_message(user, expect, after=sent, timeout=bound_s)
    return reply.text or ""


async def test_each_user_gets_their_language(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """Every command and error answers in Russian to a Russian speaker and in English to an
    English one, and a job's card and closing message follow the person who started it."""
    env = {**app_env, "ADMIN_IDS": f"{ADMIN_ID},{ENGLISH_ADMIN}"}
    async with running(env, tmp_path):
        await two_languages_story(fake_tg)


async def two_languages_story(fake_tg: FakeTelegram) -> None:
    await fake_tg.wait_for(lambda tg: ('{"type": "default"}', "ru") in tg.commands, 180)
    menus = {
        language: fake_tg.commands[('{"type": "default"}', language)] for language in ("", "ru")
    }
    assert {"command": "parse", "description": "Сбор комментариев"} in menus["ru"]
    assert {"command": "parse", "description": "Comment collection"} in menus[""]
    for text, russian, english in EXCHANGES:
        await ask(fake_tg, ADMIN_ID, "ru", text, russian)
        await ask(fake_tg, ENGLISH_ADMIN, "en", text, english)
    assert "Как пользоваться: /parse <сообщество> [лимит] [дни]" in await ask(
        fake_tg, ADMIN_ID, "ru", "/parse", "Как пользоваться"
    )
    # Jobs that answer at once: a text's words, a failure's reason, what is stored (nothing).
    for text, russian, english in JOB_EXCHANGES:
        await ask(fake_tg, ADMIN_ID, "ru", text, russian, bound_s=120)
        await ask(fake_tg, ENGLISH_ADMIN, "en", text, english, bound_s=120)

    # A job: card, closing message with the reason it found nothing, /status, /result, /jobs.
    for user, language, done, refresh, stale in [
        (ADMIN_ID, "ru", "Сбор комментариев — готово", "Обновить", "Эта кнопка недействительна"),
        (ENGLISH_ADMIN, "en", "Comment collection finished", "Refresh", "This button is not valid"),
    ]:
        sent = fake_tg.send_text("/parse taiga_demo 10 7", user_id=user, language_code=language)
        card = await fake_tg.wait_for_message(user, "/status", after=sent, timeout=30)
        match = JOB_ID.search(card.text or "")
        assert match, card.text
        job_id = match.group(1)
        final = await fake_tg.wait_for_message(
            user, f"({job_id})", after=card.message_id, timeout=60
        )
        assert done in (final.text or ""), final.text
        # Its buttons were labelled in the person's language; a stale button says so in it.
        sent_card = next(c for c in fake_tg.calls_of("sendMessage") if job_id in c.params["text"])
        assert refresh in str(sent_card.params["reply_markup"])
        pressed = fake_tg.press_button(
            message_id=card.message_id, data="job:nope", user_id=user, strict=False,
            language_code=language,
        )  # fmt: skip
        await fake_tg.wait_for(lambda tg, q=pressed: q in tg.callback_answers, timeout=30)
        assert stale in str(fake_tg.callback_answers[pressed].get("text"))
        await ask(fake_tg, user, language, f"/status {job_id}", job_id)
        await ask(fake_tg, user, language, f"/result {job_id}", job_id)
        await ask(fake_tg, user, language, "/jobs", job_id)
    russian = "\n".join(m.text or "" for m in fake_tg.messages(ADMIN_ID))
    english = "\n".join(m.text or "" for m in fake_tg.messages(ENGLISH_ADMIN))
    assert "Ничего нового: на стене нет постов за последние 7 дней." in russian
    assert "Nothing new: the wall has no posts from the last 7 days." in english
    assert "Сбор комментариев\nЗадача " in russian and "Comment collection\nJob " in english
    assert "Последние задачи:" in russian and "Recent jobs:" in english
    assert not english_words(russian), [line for line in russian.split("\n") if english_words(line)]
    # Someone the bot does not know is refused in their language too.
    for stranger, language, refusal in [
        (STRANGER_ID, "ru", "⛔ Доступ закрыт: вам пока нельзя пользоваться ботом."),
        (STRANGER_ID + 1, "en", "⛔ Access denied: you may not use this bot yet."),
    ]:
        await ask(fake_tg, stranger, language, "/help", refusal)
    # No function names in any of it: the fake_tg fixture checks every text of every test.
    assert not function_names_shown(fake_tg)


# The admins' commands that answer at once. Each language runs the whole table in turn: a row
# changes what the next answers (a watch set, listed, removed; a person let in, then out).
ADMIN_EXCHANGES = [
    ("/schedule", "Регулярные задачи (время по", "Recurring jobs (times in"),
    ("/watch fishing_club", "👀 Слежу за fishing_club", "👀 Watching fishing_club"),
    ("/watches", "Отслеживается здесь:\nfishing_club", "Watched here:\nfishing_club"),
    ("/unwatch fishing_club", "за fishing_club в этом чате остановлено", "no longer watched here"),
    ("/watches", "ни за чем не следят: /watch <сообщество>", "Nothing is watched in this"),
    ("/digest on", "✅ Этот чат получает ежедневную сводку", "✅ This chat receives the daily"),
    ("/digest", "Этот чат получает ежедневную сводку", "This chat receives the daily digest"),
    ("/digest off", "больше не получает ежедневную сводку", "no longer receives the daily"),
    ("/allow 5005", "теперь можно пользоваться ботом", "may use the bot now"),
    ("/deny 5005", "доступ к боту закрыт", "may no longer use the bot"),
]

# Jobs that succeed on a parsed community: (command, Russian closing, English closing).
DONE_EXCHANGES = [
    ("/report report_club 60", "Отчёт по «Клуб отчётов»", "Report for Клуб отчётов"),
    ("/analyze report_club", "уже проанализированы", "were analysed already"),
    ("/backup", "целостность проверена", "integrity checked"),
]

# Latin letters a Russian message may hold besides words: links, commands and paths, names
# (a queue's too), ids and token tails (anything with a digit), settings, files, the time zone.
NOT_WORDS = re.compile(
    r"https?://\S+|/[\w./-]+|\bvk\.com\S*"
    r"|\b\w+(?::\w+)+|\b\w+_\w+\b|\b\w*[0-9]\w*\b|\b[A-Z][A-Z_]+\b"
    r"|\b[\w.-]+\.(?:gz|csv|xlsx)\b|\bEurope/\w+"
)
# Products by their names, and what people type as arguments (/digest on, /language de).
LATIN_WORDS = frozenset({"VK", "Redis", "Excel", "id", "send", "on", "off", "ru", "en", "de"})


def english_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z]{2,}", NOT_WORDS.sub(" ", text))
    return [word for word in words if word not in LATIN_WORDS]


async def test_admins_commands_and_finished_jobs_in_each_language(
    app_env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """The admins' commands, jobs that succeed (with the closing message), a cleanup asked and
    confirmed, and an abort of a running job: Russian to a Russian speaker, English to an
    English one, and no English word in anything the Russian speaker reads."""
    env = {**app_env, "ADMIN_IDS": f"{ADMIN_ID},{ENGLISH_ADMIN}"}
    async with running(env, tmp_path):
        await fake_tg.wait_for_call("setMyCommands", timeout=180)
        start = fake_tg.send_text("/parse report_club", user_id=ADMIN_ID, language_code="ru")
        # The analysis the parse starts announces its end: /analyze then finds it all done.
        await fake_tg.wait_for_message(ADMIN_ID, "проанализирова", after=start, timeout=120)
        for user, language in [(ADMIN_ID, "ru"), (ENGLISH_ADMIN, "en")]:
            for text, russian, english in ADMIN_EXCHANGES:
                await ask(fake_tg, user, language, text, russian if language == "ru" else english)
        for text, russian, english in DONE_EXCHANGES:
            await ask(fake_tg, ADMIN_ID, "ru", text, russian, bound_s=120)
            await ask(fake_tg, ENGLISH_ADMIN, "en", text, english, bound_s=120)
        await cleanup_in_each_language(fake_tg)
        await abort_in_each_language(fake_tg, fake_vk)
    russian = [m.text or "" for m in fake_tg.messages(ADMIN_ID) if m.message_id > start]
    leaks = [(text, words) for text in russian if (words := english_words(text))]
    assert not leaks, leaks


async def cleanup_in_each_language(tg: FakeTelegram) -> None:
    """The question and the confirmed cleanup's closing message. The Russian speaker deletes
    the comment 45 days old, the English one those 35 and 40 days old (the report fixture)."""
    for user, language, days, question, confirm, started, done in [
        (ADMIN_ID, "ru", 42, "будет удалено", "Подтвердить", "Очистка запущена", "данных — готово"),
        (ENGLISH_ADMIN, "en", 30, "would be deleted", "Confirm", "Cleanup started", "up finished"),
    ]:
        await ask(tg, user, language, f"/cleanup {days}", question)
        asked = tg.messages(user)[-1]
        pressed = tg.press_button(
            message_id=asked.message_id, data=asked.button_data(confirm), user_id=user,
            language_code=language,
        )  # fmt: skip
        await tg.wait_for(lambda _tg, q=pressed: q in _tg.callback_answers, timeout=60)
        assert started in str(tg.callback_answers[pressed].get("text"))
        closing = await tg.wait_for_message(user, done, after=asked.message_id, timeout=120)
        assert str(days) in (closing.text or ""), closing.text


async def abort_in_each_language(tg: FakeTelegram, vk: FakeVK) -> None:
    """/abort of a parse held mid-wall by the fake VK, and the job's closing message."""
    vk.pause("execute", "wall.get", "wall.getComments")
    for user, language, group, requested, aborted in [
        (ADMIN_ID, "ru", "big_wall", "Запрошена отмена задачи", "Сбор комментариев — остановлено"),
        (ENGLISH_ADMIN, "en", "fishing_club", "Abort requested for", "Comment collection aborted"),
    ]:
        held = vk.stats.held
        card = await ask(tg, user, language, f"/parse {group} 1000", "/status")
        match = JOB_ID.search(card)
        assert match, card
        await tg.wait_for(lambda _tg, before=held: vk.stats.held > before, timeout=60)
        await ask(tg, user, language, f"/abort {match.group(1)}", requested)
        await tg.wait_for_message(user, f"{aborted} ({match.group(1)})", timeout=60)
    vk.resume()


async def test_language_command_overrides_telegram(
    services: list[Process], fake_tg: FakeTelegram
) -> None:
    """/language stores a choice that wins over Telegram's language, for answers and jobs."""
    await ask(fake_tg, ALLOWED_ID, "ru", "/language en", "my answers to you are now in English")
    await ask(fake_tg, ALLOWED_ID, "ru", "/help", "I collect comments")
    await ask(fake_tg, ALLOWED_ID, "ru", "/parse taiga_demo 10 7", "Comment collection\nJob ")
    await fake_tg.wait_for_message(ALLOWED_ID, "Comment collection finished", timeout=60)
    await ask(fake_tg, ALLOWED_ID, "en", "/language ru", "теперь я отвечаю вам на языке «русский»")
    await ask(fake_tg, ALLOWED_ID, "en", "/status", "Как пользоваться")
    # Someone who never chose and whose Telegram says nothing gets DEFAULT_LANGUAGE (ru).
    await ask(fake_tg, ADMIN_ID, None, "/help", "Я собираю комментарии")
