"""The scheduler in the real bot process, with a real worker: a short rule fires the digest into
NOTIFY_CHAT_ID; watches are for admins, survive a bot restart, and speak only of new comments."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from fakevk.api import FakeVK
from tests.conftest import (
    ADMIN_ID,
    ALLOWED_ID,
    FISHING_GROUP,
    Process,
    count_comments,
    fishing_group,
    running,
)
from tests.fakes import FakeTelegram
from tests.faults import database, wait_until
from tests.test_e2e_access import ask

pytestmark = pytest.mark.slow
TEAM_CHAT = -100500


def watch_runs(env: dict[str, str]) -> list[dict[str, Any]]:
    """The watch jobs that ended well, oldest first, with their results."""
    with contextlib.closing(sqlite3.connect(database(env))) as db:
        rows = db.execute(
            "SELECT job_id, result FROM job_audit WHERE job_name = 'watch_vk_comments' "
            "AND status = 'complete' ORDER BY finished_at"
        ).fetchall()
    return [{"job_id": job_id, **json.loads(result)} for job_id, result in rows]


def audit_statuses(env: dict[str, str], job_name: str) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(database(env))) as db:
        query = "SELECT job_id, status FROM job_audit WHERE job_name = ?"
        return [(str(i), str(s)) for i, s in db.execute(query, (job_name,))]


async def test_a_short_rule_fires_the_digest_through_bot_and_worker(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    env = {**app_env, "SCHEDULE_DIGEST": "*/5 * * * * *", "NOTIFY_CHAT_ID": str(ADMIN_ID)}
    async with running(env, tmp_path):
        digest = await fake_tg.wait_for_message(ADMIN_ID, "Ежедневная сводка", timeout=120)
        # A chat an admin subscribes receives it too.
        await ask(fake_tg, ADMIN_ID, "/digest on", "receives the daily digest", chat=TEAM_CHAT)
        await fake_tg.wait_for_message(TEAM_CHAT, "Ежедневная сводка", timeout=120)
        status = await ask(fake_tg, ADMIN_ID, "/digest", "daily digest", chat=TEAM_CHAT)
        assert status == "This chat receives the daily digest."
    # DEFAULT_LANGUAGE (ru): nobody asked, so the configured language speaks.
    assert "Пока не собрано ни одного сообщества" in (digest.text or "")
    done = [job_id for job_id, status in audit_statuses(env, "send_digest") if status == "complete"]
    assert done and all(job_id.startswith("digest:") and job_id.endswith("Z") for job_id in done)


async def test_watches_are_for_admins_survive_a_restart_and_speak_only_of_new_comments(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    env = {**app_env, "WATCH_MIN_MINUTES": "1", "PARSE_DEFAULT_LIMIT": "1000"}
    env["SCHEDULE_STATISTICS"] = "30 4 * * *"  # /schedule lists it with its next run
    async with running(env, tmp_path) as processes:
        for command in ("/watch fishing_club", "/schedule", "/digest on", "/watches"):
            refusal = await ask(fake_tg, ALLOWED_ID, command, "is for admins only")
            assert refusal.startswith("⛔")
        usage = await ask(fake_tg, ADMIN_ID, "/watch fishing_club 0", "Usage:")
        assert "minutes must be from 1 to 10080" in usage
        answer = await ask(fake_tg, ADMIN_ID, "/watch fishing_club 1", "Watching fishing_club")
        assert "checking now, then every 1 minute" in answer

        # The first check, at once, finds the whole wall, and says so in the chat that set the
        # watch, in DEFAULT_LANGUAGE (ru).
        stored = count_comments(FISHING_GROUP, [fishing_group()], readable=True)
        news = await fake_tg.wait_for_message(ADMIN_ID, "новых комментари", timeout=180)
        assert news.text == f"👀 {stored} новых комментариев в {fishing_group().name}"

        bot = processes[-1]
        await bot.stop()
        restarted = Process("bot", env, tmp_path / "bot-restarted.log")
        processes[-1] = restarted
        await restarted.wait_until_up()
        listed = await ask(fake_tg, ADMIN_ID, "/watches", "Watched here")
        assert "fishing_club: every 1 minute, next run" in listed
        plan = await ask(fake_tg, ADMIN_ID, "/schedule", "Recurring jobs")
        assert "fishing_club for chat 1001: every 1 minute" in plan
        assert "Daily digest: off (SCHEDULE_DIGEST is empty)" in plan
        assert re.search(
            r"^• Statistics recount: 30 4 \* \* \*, next run \d\d\.\d\d\.\d{4} 04:30$",
            plan,
            flags=re.MULTILINE,
        ), plan

        # The next check finds nothing new and says nothing.
        await wait_until("a second watch check", lambda: len(watch_runs(env)) >= 2, timeout=180)
        runs = watch_runs(env)
        assert runs[0]["comments_new"] == stored and runs[0]["announced_to"] == ADMIN_ID
        assert runs[1]["comments_new"] == 0 and runs[1]["announced_to"] is None
        announced = [m for m in fake_tg.messages(ADMIN_ID) if "новых комментари" in (m.text or "")]
        assert len(announced) == 1

        stopped = await ask(fake_tg, ADMIN_ID, "/unwatch fishing_club", "no longer watched")
        assert stopped.startswith("✅")


async def test_a_watch_vk_cannot_read_is_refused_at_once_or_paused_with_one_message(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_vk: FakeVK
) -> None:
    """/watch of a community VK does not have or keeps private is refused at once with VK's
    reason; a watched community deleted later pauses its watch with one message to the admins
    (not a failure every period), and /watch resumes it once VK serves it again."""
    env = {**app_env, "WATCH_MIN_MINUTES": "1", "PARSE_DEFAULT_LIMIT": "1000"}
    async with running(env, tmp_path):
        for group, reason in [
            ("no_such_group", "VK did not find that community (error 100)"),
            ("secret_club", "the community is private (error 30)"),
        ]:
            refusal = await ask(fake_tg, ADMIN_ID, f"/watch {group} 1", "cannot be watched")
            assert refusal.startswith(f"⚠️ {group} cannot be watched: ") and reason in refusal
        await ask(fake_tg, ADMIN_ID, "/watches", "Nothing is watched in this chat")

        await ask(fake_tg, ADMIN_ID, "/watch fishing_club 1", "checking now")
        # The check at once reads the wall (DEFAULT_LANGUAGE, ru: nobody in particular asked
        # for it); then VK loses the community, and the next check pauses the watch.
        await fake_tg.wait_for_message(ADMIN_ID, "новых комментари", timeout=180)
        fishing = fake_vk.group(FISHING_GROUP)
        assert fishing is not None
        fishing.group.deleted = True
        paused = await fake_tg.wait_for_message(ADMIN_ID, "приостановлено", timeout=180)
        assert "сообщество удалено или заблокировано (ошибка 18)" in (paused.text or "")
        assert "/watch fishing_club" in (paused.text or "")
        listed = await ask(fake_tg, ADMIN_ID, "/watches", "Watched here")
        assert (
            "fishing_club: every 1 minute, paused: the community was deleted or banned "
            "(error 18); /watch fishing_club resumes it"
        ) in listed

        # Back on VK with a post and a comment made meanwhile: /watch resumes, and a check (at
        # once, or the slot's if one is running just then) tells of that one comment.
        fishing.group.deleted = False
        post = fake_vk.add_post(-FISHING_GROUP, "Снова открыты")
        fake_vk.add_comment(-FISHING_GROUP, post.id, "Вернулись, клюёт!")
        sent = fake_tg.send_text("/watch fishing_club 1", user_id=ADMIN_ID)
        await fake_tg.wait_for_message(ADMIN_ID, "Watching fishing_club", after=sent, timeout=30)
        resumed = await fake_tg.wait_for_message(
            ADMIN_ID, "новый комментарий", after=sent, timeout=180
        )
        assert resumed.text == f"👀 1 новый комментарий в {fishing_group().name}"
    notices = [m for m in fake_tg.messages(ADMIN_ID) if "приостановлено" in (m.text or "")]
    assert len(notices) == 1
    statuses = {status for _job, status in audit_statuses(env, "watch_vk_comments")}
    assert statuses == {"complete"}, statuses
    assert any(run.get("paused_for") == 18 for run in watch_runs(env))
