"""User stories through real processes: `python -m bot` + `python -m worker`, fake Telegram and
VK APIs at the HTTP level, a real Redis and a real SQLite file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

from arq.connections import RedisSettings, create_pool

from core.redis_server import RedisServer
from fakevk.api import FakeVK, load_demo_groups
from tests.conftest import (
    ADMIN_ID,
    ALLOWED_ID,
    STRANGER_ID,
    Process,
    count_comments,
    running,
)
from tests.fakes import FakeTelegram

DEMO_GROUP = 20261127
JOB_ID = re.compile(r"/status ([0-9a-f]{32})")


def stored_comments(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "vkcomments.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM vk_comments").fetchone()[0])


async def start_job(tg: FakeTelegram, text: str, user: int = ADMIN_ID) -> str:
    """Send a job command and return the job id from the bot's answer."""
    # A busy machine can take long to start the bot: wait for it to be up, not a fixed time.
    await tg.wait_for_call("setMyCommands", timeout=180)
    sent = tg.send_text(text, user_id=user)
    ack = await tg.wait_for_message(user, "/status", after=sent, timeout=30)
    match = JOB_ID.search(ack.text or "")
    assert match, ack.text
    return match.group(1)


async def parse_and_wait(tg: FakeTelegram, text: str, user: int = ADMIN_ID) -> tuple[str, str]:
    """Send a /parse, return (job id, final message text)."""
    job_id = await start_job(tg, text, user)
    final = await tg.wait_for_message(user, f"finished ({job_id})", timeout=60)
    return job_id, final.text or ""


async def test_parse_story(
    services: list[Process], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """/parse → ack with job id → progress edits → one final message → rows in the database."""
    expected = count_comments(DEMO_GROUP)
    # Deleted on VK: stored (so a rerun knows them), but not counted as comments.
    readable = count_comments(DEMO_GROUP, readable=True)
    assert readable == expected - 9
    job_id, final = await parse_and_wait(fake_tg, "/parse https://vk.com/taiga_demo 100000")
    assert f"{readable} new comments, 0 edited, 0 deleted on VK" in final
    assert f"{readable} comments of this community are stored in total" in final
    assert "1 skipped (comments closed or private)" in final
    assert stored_comments(tmp_path / "data") == expected
    # Its comments are analysed automatically afterwards, as a job of its own.
    analysis = re.search(r"The new comments are being analysed: job (\w+)", final)
    assert analysis, final
    async with asyncio.timeout(180):  # the analysis job ends (a busy machine is slow)
        while True:
            sent = fake_tg.send_text(f"/status {analysis.group(1)}", user_id=ADMIN_ID)
            status = await fake_tg.wait_for_message(ADMIN_ID, analysis.group(1), after=sent)
            if "complete" in (status.text or ""):
                break
            await asyncio.sleep(0.5)
    assert f"{readable} comments analysed" in (status.text or "")
    card = next(m for m in fake_tg.messages(ADMIN_ID) if f"Job {job_id}" in (m.text or ""))
    assert card.edits >= 1 and "complete" in (card.text or "")
    finals = [m for m in fake_tg.messages(ADMIN_ID) if f"finished ({job_id})" in (m.text or "")]
    assert len(finals) == 1
    assert fake_vk.stats.error6 == 0

    sent = fake_tg.send_text(f"/status {job_id}", user_id=ADMIN_ID)
    status = await fake_tg.wait_for_message(ADMIN_ID, job_id, after=sent)
    assert "complete" in (status.text or "")
    sent = fake_tg.send_text(f"/result {job_id}", user_id=ADMIN_ID)
    result = await fake_tg.wait_for_message(ADMIN_ID, "Result of", after=sent)
    assert f"{readable} new comments" in (result.text or "")
    sent = fake_tg.send_text("/jobs", user_id=ADMIN_ID)
    jobs = await fake_tg.wait_for_message(ADMIN_ID, "Recent jobs", after=sent)
    assert f"Comment collection (group taiga_demo, limit 100000) {job_id}: complete" in (
        jobs.text or ""
    )
    assert f"Comment analysis (group {DEMO_GROUP}) {analysis.group(1)}: complete" in (
        jobs.text or ""
    )

    # A rerun reads only what changed: nothing, here; nothing is stored twice.
    _, again = await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
    assert "0 new comments, 0 edited, 0 deleted on VK" in again, again
    assert "24 unchanged since the last parse" in again
    assert "Nothing new: the posts read have no new comments." in again
    assert stored_comments(tmp_path / "data") == expected

    # New comments on a recent post and a new post: the next parse fetches just those.
    newest = max(load_demo_groups()[0].posts, key=lambda p: p.date).id
    recent = fake_vk.add_comment(-DEMO_GROUP, newest, "А щас клёв есть?")
    fake_vk.add_comment(-DEMO_GROUP, newest, "Есть, с утра", reply_to=recent.id)
    post = fake_vk.add_post(-DEMO_GROUP, "Новый пост")
    fake_vk.add_comment(-DEMO_GROUP, post.id, "Первый!")
    _, third = await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
    assert "3 new comments" in third, third
    assert f"{readable + 3} comments of this community are stored in total" in third
    assert stored_comments(tmp_path / "data") == expected + 3
    # /keywords speaks of the same number: the new comments of all three parses.
    sent = fake_tg.send_text("/keywords taiga_demo", user_id=ADMIN_ID)
    keywords = await fake_tg.wait_for_message(ADMIN_ID, "keywords of", after=sent, timeout=120)
    assert f": keywords of {readable + 3} comments," in (keywords.text or ""), keywords.text


async def test_queue_and_health(services: list[Process], fake_tg: FakeTelegram) -> None:
    """/queue and /health report a live worker and reachable Redis and database."""
    await fake_tg.wait_for_call("setMyCommands", timeout=30)
    async with asyncio.timeout(180):  # until the worker's heartbeat counts it
        while True:
            sent = fake_tg.send_text("/queue", user_id=ADMIN_ID)
            queue = await fake_tg.wait_for_message(ADMIN_ID, "Queue", after=sent)
            if "1 worker alive" in (queue.text or ""):
                break
            await asyncio.sleep(0.5)
    sent = fake_tg.send_text("/health", user_id=ALLOWED_ID)
    health = await fake_tg.wait_for_message(ALLOWED_ID, "Redis", after=sent, timeout=30)
    assert "✅ Redis reachable" in (health.text or "")
    assert "✅ Database reachable" in (health.text or "")
    assert "✅ Workers alive: 1" in (health.text or "")
    assert "0 queued, 0 running, 0 deferred; 1 worker alive" in (queue.text or "")


async def test_stranger_is_refused(
    services: list[Process], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """A user on no allow-list gets one refusal naming their ids, and nothing is enqueued."""
    sent = fake_tg.send_text("/parse taiga_demo", user_id=STRANGER_ID)
    refusal = await fake_tg.wait_for_message(STRANGER_ID, "Access denied", after=sent, timeout=30)
    assert f"user id: {STRANGER_ID}" in (refusal.text or "")
    assert len(fake_tg.messages(STRANGER_ID)) == 1
    with sqlite3.connect(tmp_path / "data" / "vkcomments.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM job_audit").fetchone()[0] == 0


BAD_INPUTS = [
    ("/parse", "missing <group>"),
    ("/parse taiga_demo many", "limit must be a whole number"),
    ("/parse taiga_demo 0", "limit must be at least 1"),
    ("/parse taiga_demo -5", "limit must be at least 1"),
    ("/parse taiga_demo 99999999999", "at most 100000"),
    ("/parse taiga_demo 10 7 extra", "too many arguments"),
    ("/parse ???", "is not a VK community"),
    ("/status", "missing <job_id>"),
    ("/status a b", "expected one job id"),
    ("/abort", "missing <job_id>"),
    ("/status 0123456789abcdef0123456789abcdef", "not found"),
    ("/abort 0123456789abcdef0123456789abcdef", "not found"),
    ("hello there", "only understand commands"),
    ("/frobnicate", "Unknown command /frobnicate"),
]


async def test_bad_input_gets_reason_and_usage(
    services: list[Process], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """Each bad input gets one short answer with what was wrong; nothing is stored."""
    for text, reason in BAD_INPUTS:
        sent = fake_tg.send_text(text, user_id=ADMIN_ID)
        reply = await fake_tg.wait_for_message(ADMIN_ID, reason, after=sent, timeout=30)
        body = reply.text or ""
        assert "Traceback" not in body
        if text.startswith("/parse"):
            assert "Usage: /parse <group> [limit] [days]" in body
    with sqlite3.connect(tmp_path / "data" / "vkcomments.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM job_audit").fetchone()[0] == 0


async def test_abort_running_job(
    services: list[Process], fake_tg: FakeTelegram, fake_vk: FakeVK
) -> None:
    """/abort stops a running parse, and the chat gets one "aborted" message."""
    fake_vk.slow_every, fake_vk.slow_seconds = 1, 0.7
    job_id = await start_job(fake_tg, "/parse taiga_demo 100000", ALLOWED_ID)
    await fake_tg.wait_for(lambda tg: fake_vk.stats.requests >= 2, timeout=30)
    sent = fake_tg.send_text(f"/abort {job_id}", user_id=STRANGER_ID)
    await fake_tg.wait_for_message(STRANGER_ID, "Access denied", after=sent)
    sent = fake_tg.send_text(f"/abort {job_id}", user_id=ALLOWED_ID)
    await fake_tg.wait_for_message(ALLOWED_ID, "Abort requested", after=sent)
    await fake_tg.wait_for_message(ALLOWED_ID, f"aborted ({job_id})", timeout=30)
    sent = fake_tg.send_text(f"/status {job_id}", user_id=ALLOWED_ID)
    status = await fake_tg.wait_for_message(ALLOWED_ID, job_id, after=sent)
    assert "aborted" in (status.text or "")


async def test_duplicate_parse_returns_running_job(
    services: list[Process], fake_tg: FakeTelegram, fake_vk: FakeVK
) -> None:
    """The same group asked twice while parsing gets the running job, not a second one."""
    fake_vk.pause("execute", "wall.get", "wall.getComments")  # the parse stays running
    job_id = await start_job(fake_tg, "/parse taiga_demo 100000")
    sent = fake_tg.send_text("/parse https://vk.com/taiga_demo", user_id=ADMIN_ID)
    again = await fake_tg.wait_for_message(ADMIN_ID, "Already running", after=sent)
    # What runs, with which arguments, and that this request (another limit) did not start.
    assert f"Comment collection (job {job_id}) with group taiga_demo, limit 100000." in (
        again.text or ""
    )
    assert "Your request (group taiga_demo, limit 100) was not started" in (again.text or "")
    # Named by its id instead, the community is recognised once the worker resolves it: the
    # first job has claimed it once it reads the wall.
    await fake_tg.wait_for(lambda tg: fake_vk.stats.held > 0, timeout=30)
    other = await start_job(fake_tg, "/parse club20261127 100000")
    refused = await fake_tg.wait_for_message(ADMIN_ID, f"failed ({other})", timeout=30)
    assert f"already being parsed by job {job_id}" in (refused.text or "")
    fake_vk.resume()
    await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=60)


async def test_notification_survives_429_and_is_sent_once(
    services: list[Process], fake_tg: FakeTelegram, app_env: dict[str, str]
) -> None:
    """A 429 on the final message waits and retries; a redelivered notification sends nothing."""
    job_id = await start_job(fake_tg, "/parse taiga_demo 20")
    # This job's closing message: the analysis it starts may close in the chat before it.
    fake_tg.fail_next("sendMessage", error_code=429, retry_after=1, matching=f"({job_id})")
    await fake_tg.wait_for_message(ADMIN_ID, f"finished ({job_id})", timeout=60)
    attempts = [c for c in fake_tg.calls_of("sendMessage") if job_id in str(c.params.get("text"))]
    assert [c.ok for c in attempts][-2:] == [False, True]
    assert attempts[-1].time - attempts[-2].time >= 0.9

    # arq delivers at least once: the same notification delivered again must not repeat itself.
    pool = await create_pool(
        RedisSettings.from_dsn(app_env["REDIS_URL"]),
        default_queue_name=app_env["ARQ_QUEUE_NAME"],
    )
    again = await pool.enqueue_job(
        "send_notification", _job_id=f"redelivery:{job_id}", chat_id=ADMIN_ID,
        text=f"duplicate of {job_id}", job_id=job_id,
    )  # fmt: skip
    assert again is not None
    assert await again.result(timeout=30) == {"sent": False, "chat_id": ADMIN_ID}
    await pool.aclose()
    finals = [m for m in fake_tg.messages(ADMIN_ID) if job_id in (m.text or "")]
    assert len([m for m in finals if "finished" in (m.text or "")]) == 1
    assert not [m for m in finals if "duplicate" in (m.text or "")]


async def test_redis_outage_gets_clear_answer_and_recovers(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """Redis killed under the bot: the user is told; Redis back on its port: commands work."""
    server = RedisServer().start()
    env = {**app_env, "REDIS_URL": server.url}
    try:
        async with running(env, tmp_path):
            await fake_tg.wait_for_call("setMyCommands", timeout=180)  # the bot is up
            sent = fake_tg.send_text("/queue", user_id=ADMIN_ID)
            await fake_tg.wait_for_message(ADMIN_ID, "Queue", after=sent, timeout=30)
            server.kill()
            sent = fake_tg.send_text("/parse taiga_demo", user_id=ADMIN_ID)
            down = await fake_tg.wait_for_message(ADMIN_ID, "unavailable", after=sent, timeout=30)
            assert "queue" in (down.text or "") and "Traceback" not in (down.text or "")
            server.start()
            sent = fake_tg.send_text("/queue", user_id=ADMIN_ID)
            await fake_tg.wait_for_message(ADMIN_ID, "Queue", after=sent, timeout=30)
    finally:
        server.stop()


async def test_vk_refusals_fail_the_job_with_a_clear_reason(
    services: list[Process], fake_tg: FakeTelegram
) -> None:
    """An unknown or private community: the job fails at once and says why, in chat and /status."""
    for text, reason in [
        ("/parse no_such_group", "VK did not find that community (error 100)"),
        ("/parse secret_club", "the community is private (error 30)"),
    ]:
        job_id = await start_job(fake_tg, text)
        final = await fake_tg.wait_for_message(ADMIN_ID, f"failed ({job_id})", timeout=30)
        assert reason in (final.text or "")
        sent = fake_tg.send_text(f"/status {job_id}", user_id=ADMIN_ID)
        status = await fake_tg.wait_for_message(ADMIN_ID, f"{job_id}: failed", after=sent)
        assert reason in (status.text or "")


async def test_progress_buttons_refresh_and_abort(
    services: list[Process], fake_tg: FakeTelegram, fake_vk: FakeVK
) -> None:
    """The progress message's Refresh redraws it; its Abort stops the job (not for strangers)."""
    fake_vk.slow_every, fake_vk.slow_seconds = 1, 0.7
    job_id = await start_job(fake_tg, "/parse taiga_demo 100000")
    card = next(m for m in fake_tg.messages(ADMIN_ID) if f"Job {job_id}" in (m.text or ""))
    await fake_tg.wait_for(lambda tg: fake_vk.stats.requests >= 2, timeout=30)
    edits = card.edits
    query = fake_tg.click("Refresh", chat_id=ADMIN_ID, message_id=card.message_id)
    await fake_tg.wait_for(lambda tg: query in tg.callback_answers, timeout=20)
    await fake_tg.wait_for(lambda tg: card.edits > edits or "in progress" in (card.text or ""))
    assert "in progress" in (card.text or "") or "queued" in (card.text or "")

    stranger = fake_tg.press_button(
        message_id=card.message_id, data=card.button_data("Abort"), user_id=STRANGER_ID,
        chat_id=ADMIN_ID,
    )  # fmt: skip
    await fake_tg.wait_for(lambda tg: stranger in tg.callback_answers, timeout=20)
    assert "Access denied" in str(fake_tg.callback_answers[stranger].get("text"))
    query = fake_tg.click("Abort", chat_id=ADMIN_ID, message_id=card.message_id)
    await fake_tg.wait_for(lambda tg: query in tg.callback_answers, timeout=20)
    assert "Abort requested" in str(fake_tg.callback_answers[query].get("text"))
    await fake_tg.wait_for_message(ADMIN_ID, f"aborted ({job_id})", timeout=30)
    assert "aborted" in (card.text or "") and not card.buttons()
