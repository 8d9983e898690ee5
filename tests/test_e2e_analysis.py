"""Analysis stories through real processes: /analyze, /keywords, a batch split across workers."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.conftest import ADMIN_ID, FISHING_GROUP, count_comments, fishing_group, running
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import parse_and_wait, start_job


async def bot_polling(tg: FakeTelegram) -> None:
    """Wait for the bot process to poll: on a busy machine it may take half a minute to start,
    more than the helpers give the first answer."""
    await tg.wait_for_call("getUpdates", timeout=180)


STOP_WORDS_SEEN = {"и", "в", "на", "не", "что", "я", "с", "это", "как", "а", "был", "быть"}


async def test_analyze_text_answers_lemmas(services: object, fake_tg: FakeTelegram) -> None:
    """/analyze <text> answers with each word's lemma and its part of speech in words."""
    await bot_polling(fake_tg)
    sent = fake_tg.send_text("/analyze Привееет, щас поймал щуку!", user_id=ADMIN_ID)
    reply = await fake_tg.wait_for_message(ADMIN_ID, "→", after=sent, timeout=120)
    text = reply.text or ""
    assert "Привееет → привет" in text
    assert "щас → сейчас (adverb)" in text
    assert "щуку → щука (noun)" in text
    sent = fake_tg.send_text("/analyze", user_id=ADMIN_ID)
    usage = await fake_tg.wait_for_message(ADMIN_ID, "Usage: /analyze", after=sent)
    assert "missing <text> or <group>" in (usage.text or "")


async def test_keywords_of_a_topical_group(services: object, fake_tg: FakeTelegram) -> None:
    """/keywords on a community about fishing: fishing words on top, no stop words at all."""
    await bot_polling(fake_tg)
    _, final = await parse_and_wait(fake_tg, "/parse fishing_club 100000")
    assert (
        f"{count_comments(FISHING_GROUP, [fishing_group()], readable=True)} new comments" in final
    )
    sent = fake_tg.send_text("/keywords fishing_club 10", user_id=ADMIN_ID)
    reply = await fake_tg.wait_for_message(ADMIN_ID, "keywords of", after=sent, timeout=120)
    lines = re.findall(
        r"^\d+\. (.+) — typicality (\d+), \d+ mentions?$", reply.text or "", flags=re.MULTILINE
    )
    ranked = [term for term, _ in lines]
    assert len(ranked) == 10, reply.text
    # The number shown follows the order: the first is 100, none rises again further down.
    weights = [int(weight) for _, weight in lines]
    assert weights[0] == 100 and weights == sorted(weights, reverse=True), reply.text
    topic = {"рыбалка", "щука", "клёв", "спиннинг", "карась", "удочка", "окунь"}
    # The top five are fishing words, or phrases with one in them.
    assert all(set(term.split()) & topic for term in ranked[:5]), ranked
    assert len(set(ranked[:5]) & topic) >= 3, ranked
    words = {w for term in ranked for w in term.split()}
    assert not words & STOP_WORDS_SEEN, ranked
    sent = fake_tg.send_text("/keywords fishing_club zero", user_id=ADMIN_ID)
    await fake_tg.wait_for_message(ADMIN_ID, "Usage: /keywords <group> [n] [days]", after=sent)


async def test_batch_analysis_split_across_two_workers(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """A big batch runs as parts on two worker processes, with one closing message; a rerun
    analyses nothing twice and says why it had nothing to do."""
    env = {**app_env, "AUTO_ANALYZE": "false", "ANALYSIS_CHUNK_SIZE": "40"}
    async with running(env, tmp_path, workers=2) as processes:
        await bot_polling(fake_tg)
        await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
        job_id = await start_job(fake_tg, "/analyze taiga_demo")
        final = await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=120)
        assert "265 comments analysed in 7 parts" in (final.text or "")
        card = next(m for m in fake_tg.messages(ADMIN_ID) if f"Job {job_id}" in (m.text or ""))
        assert card.edits >= 1
        logs = [p.output() for p in processes[:2]]
        assert all("analyze_comment_chunk" in log for log in logs), "parts ran on one worker"

        again = await start_job(fake_tg, "/analyze taiga_demo")
        final = await fake_tg.wait_for_message(ADMIN_ID, f"finished ({again})", timeout=120)
        assert "all 265 comments were analysed already" in (final.text or "")
        finished = [
            m for m in fake_tg.messages(ADMIN_ID) if f"finished ({job_id})" in (m.text or "")
        ]
        assert len(finished) == 1


def live_comments(data_dir: Path, group_id: int) -> int:
    """Stored comments of a community that still have their text (not deleted on VK)."""
    with sqlite3.connect(data_dir / "vkcomments.sqlite3") as db:
        query = "SELECT count(*) FROM vk_comments WHERE owner_id = ? AND NOT deleted"
        return int(db.execute(query, (-group_id,)).fetchone()[0])


async def test_two_batches_at_once_on_two_slots_do_not_deadlock(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """With ARQ_MAX_JOBS=2 two batches start together and take both slots; their parts still
    run (a batch waits outside its slot), and each batch closes once with its full count."""
    env = {**app_env, "AUTO_ANALYZE": "false", "ANALYSIS_CHUNK_SIZE": "40", "ARQ_MAX_JOBS": "2"}
    async with running(env, tmp_path, workers=1):
        await bot_polling(fake_tg)
        await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
        await parse_and_wait(fake_tg, "/parse fishing_club 100000")
        fishing = live_comments(tmp_path / "data", FISHING_GROUP)
        first = await start_job(fake_tg, "/analyze taiga_demo")
        second = await start_job(fake_tg, "/analyze fishing_club")
        for job_id, expected in ((first, "265 comments analysed in 7 parts"),
                                 (second, f"{fishing} comments analysed in 3 parts")):  # fmt: skip
            final = await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=120)
            assert expected in (final.text or ""), final.text
        closing = [m for m in fake_tg.messages(ADMIN_ID) if "finished (" in (m.text or "")]
        assert sum(first in (m.text or "") for m in closing) == 1
        assert sum(second in (m.text or "") for m in closing) == 1


async def test_long_answer_is_cut_to_one_message_and_whole_in_result(
    services: object, fake_tg: FakeTelegram
) -> None:
    """An answer longer than Telegram's 4096 characters arrives cut, and /result gives it all."""
    await bot_polling(fake_tg)
    text = " ".join(["Котики гуляли по крыше, а щука плавала в озере."] * 60)
    sent = fake_tg.send_text(f"/analyze {text}", user_id=ADMIN_ID)
    reply = await fake_tg.wait_for_message(
        ADMIN_ID, "Text analysis finished", after=sent, timeout=120
    )
    body = reply.text or ""
    assert len(body) <= 4096 and "(cut; the whole answer: /result " in body
    job_id = body.rsplit("/result ", 1)[1].rstrip(")")
    sent = fake_tg.send_text(f"/result {job_id}", user_id=ADMIN_ID)

    def pieces(tg: FakeTelegram) -> list[str]:
        return [m.text or "" for m in tg.messages(ADMIN_ID) if m.message_id > sent]

    # Every token of the text, once, over several messages of at most 4096 characters.
    await fake_tg.wait_for(lambda tg: sum(p.count("→") for p in pieces(tg)) >= 60 * 11, timeout=60)
    assert sum(p.count("→") for p in pieces(fake_tg)) == 60 * 11
    assert len(pieces(fake_tg)) >= 2 and all(len(p) <= 4096 for p in pieces(fake_tg))
