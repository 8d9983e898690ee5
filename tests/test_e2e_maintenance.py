"""/cleanup with its confirmation, /backup and `python -m worker restore`, through the real bot
and worker processes, the fake Telegram, a real Redis and a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.handlers.maintenance import pending_key
from core.db import make_engine, make_sessionmaker, migrate
from core.jobstate import worker_key
from core.maintenance.backup import backups
from tests.conftest import ADMIN_ID, ALLOWED_ID, ROOT, running
from tests.fakes import FakeTelegram
from tests.faults import wait_until
from tests.report_fixture import STORED
from tests.test_reports_storage import seed

GROUP_CHAT = -500500
# The report fixture's comments 35, 40 and 45 days old, and their post; the rest is younger.
OLD_COMMENTS, OLD_POSTS = 3, 1
ROWS = STORED + 1  # its comment deleted on VK is stored too


def database_file(env: dict[str, str]) -> Path:
    return Path(env["DATA_DIR"]) / "vkcomments.sqlite3"


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def seed_file(db: Path) -> None:
    """The report fixture in the processes' SQLite file."""
    url = f"sqlite+aiosqlite:///{db}"
    await migrate(url)
    engine = make_engine(url)
    await seed(make_sessionmaker(engine))
    await engine.dispose()


async def answer_of(tg: FakeTelegram, query: str) -> str:
    await tg.wait_for(lambda t: query in t.callback_answers, timeout=60, description="answer")
    return str(tg.callback_answers[query].get("text"))


NUMBER = r"\d[\d,]*(?:\.\d)?"  # as Babel writes it in English: 1,023.5
BACKUP_SAID = re.compile(
    r"(?P<file>vkcomments-\d{8}-\d{6}(?:-\d+)?\.sqlite3\.gz), "
    rf"(?P<size>{NUMBER}) (?P<unit>B|KB|MB), in (?P<seconds>{NUMBER}) s; integrity checked\."
)


def backup_result(db: Path, file: str) -> dict[str, Any] | None:
    """The result stored by the backup job that made `file`, once its audit row is closed."""
    with contextlib.closing(sqlite3.connect(db)) as live:
        query = (
            "SELECT result FROM job_audit WHERE job_name = 'backup_database' AND result IS NOT NULL"
        )
        results = [json.loads(raw) for (raw,) in live.execute(query)]
    return next((result for result in results if result["file"] == file), None)


async def check_backup_said(text: str, db: Path, folder: Path) -> None:
    """The message names the file the job made, its size on disk and the duration measured."""
    said = BACKUP_SAID.search(text)
    assert said is not None, text
    # The closing message goes out before the audit row is closed: wait for the row.
    await wait_until("the backup's audit row", lambda: backup_result(db, said["file"]))
    made = backup_result(db, said["file"])
    assert made is not None
    size = (folder / said["file"]).stat().st_size
    scale = {"B": 1, "KB": 1024, "MB": 1024**2}[said["unit"]]
    shown = float(said["size"].replace(",", "")) * scale
    assert size == made["bytes"] and abs(shown - size) <= 0.05 * scale, (said["size"], size)
    assert float(said["seconds"].replace(",", "")) == round(made["duration_s"], 1)


def restore_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", "restore", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.mark.slow
async def test_cleanup_backup_and_restore_for_admins_only(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, redis: aioredis.Redis
) -> None:
    db = database_file(app_env)
    await seed_file(db)
    assert count(db, "vk_comments") == ROWS

    async with running(app_env, tmp_path):
        await fake_tg.wait_for_call("setMyCommands", timeout=180)

        async def say(user: int, text: str, expect: str, chat: int | None = None) -> str:
            kind = "private" if chat is None else "group"
            sent = fake_tg.send_text(text, user_id=user, chat_id=chat, chat_type=kind)
            reply = await fake_tg.wait_for_message(chat or user, expect, after=sent, timeout=60)
            return reply.text

        # Non-admins are refused.
        for command in ("/cleanup", "/cleanup 30", "/backup", "/backup send"):
            await say(ALLOWED_ID, command, "is for admins only")
        await say(ADMIN_ID, "/cleanup 0", "days must be at least 1\nUsage: /cleanup [days]")
        await say(ADMIN_ID, "/backup now", "Usage: /backup [send]")

        # The question, in a group; a non-admin's Confirm there is refused and does nothing.
        question = await say(ADMIN_ID, "/cleanup 30", "would be deleted", chat=GROUP_CHAT)
        assert "3 comments and 1 post would be deleted" in question, question
        asked = fake_tg.messages(GROUP_CHAT)[-1]
        confirm = asked.button_data("Confirm")
        pressed = fake_tg.press_button(
            message_id=asked.message_id, data=confirm, user_id=ALLOWED_ID, chat_id=GROUP_CHAT
        )
        assert "Only an admin" in await answer_of(fake_tg, pressed)

        # Another question, expired (its 10 minutes over): its Confirm does nothing either.
        await say(ADMIN_ID, "/cleanup 30", "would be deleted")
        stale = fake_tg.messages(ADMIN_ID)[-1]
        stale_confirm = stale.button_data("Confirm")
        pending = pending_key(stale_confirm.rsplit(":", 1)[1])
        # It lives the 10 minutes the question promises (CONFIRM_TTL), less the moments since.
        assert 590 < await redis.ttl(pending) <= 600
        # Gone as Redis drops it at the end of its 10 minutes (an expiry of 1 ms raced the bot).
        assert await redis.delete(pending) == 1
        pressed = fake_tg.press_button(message_id=stale.message_id, data=stale_confirm)
        assert "expired" in await answer_of(fake_tg, pressed)
        # Cancelled: the question says so, and its Confirm is dead.
        await say(ADMIN_ID, "/cleanup 30", "would be deleted")
        cancelled = fake_tg.messages(ADMIN_ID)[-1]
        dead_confirm = cancelled.button_data("Confirm")
        pressed = fake_tg.press_button(
            message_id=cancelled.message_id, data=cancelled.button_data("Cancel")
        )
        assert "Cancelled" in await answer_of(fake_tg, pressed)
        await fake_tg.wait_for_message(ADMIN_ID, "Cancelled: nothing was deleted", 60)
        pressed = fake_tg.press_button(
            message_id=cancelled.message_id, data=dead_confirm, strict=False
        )
        assert "expired" in await answer_of(fake_tg, pressed)
        assert count(db, "vk_comments") == ROWS
        assert count(db, "job_audit") == 0  # nothing was enqueued

        # The admin's Confirm: the question becomes the job's card, the job reports its counts.
        pressed = fake_tg.press_button(
            message_id=asked.message_id, data=confirm, user_id=ADMIN_ID, chat_id=GROUP_CHAT
        )
        assert "Cleanup started" in await answer_of(fake_tg, pressed)
        done = await fake_tg.wait_for_message(GROUP_CHAT, "Old data cleanup finished", 120)
        assert "deleted 3 comments and 1 post older than 30 days" in done.text, done.text
        assert count(db, "vk_comments") == ROWS - OLD_COMMENTS
        assert count(db, "vk_posts") == 3 - OLD_POSTS
        # Pressed again: used up. Asked again: nothing left, and why.
        pressed = fake_tg.press_button(
            message_id=asked.message_id, data=confirm, user_id=ADMIN_ID, chat_id=GROUP_CHAT,
            strict=False,
        )  # fmt: skip
        assert "expired" in await answer_of(fake_tg, pressed)
        nothing = await say(ADMIN_ID, "/cleanup 30", "Nothing to delete")
        assert "no comment is older than 30 days" in nothing and "the oldest stored one" in nothing

        # Backups: in the group without the file, refused with `send`; in private with it.
        await say(ADMIN_ID, "/backup send", "only in a private chat", chat=GROUP_CHAT)
        made = await say(ADMIN_ID, "/backup", "integrity checked", chat=GROUP_CHAT)
        folder = Path(app_env["DATA_DIR"]) / "backups"
        assert "1 backup kept" in made, made
        await check_backup_said(made, db, folder)
        sent = await say(ADMIN_ID, "/backup send", "The file is above")
        assert "2 backups kept" in sent, sent
        await check_backup_said(sent, db, folder)
        files = [m for m in fake_tg.messages(ADMIN_ID) if m.kind == "document"]
        assert len(files) == 1 and files[0].document_name, files
        assert files[0].document_name in sent
        backup = folder / str(files[0].document_name)
        assert gzip.decompress(files[0].document_bytes or b"") == gzip.decompress(
            backup.read_bytes()
        )
        assert not [m for m in fake_tg.messages(GROUP_CHAT) if m.kind == "document"]

        # Restore refuses while a worker runs; --force does it anyway.
        refused = restore_cli(app_env, str(backup))
        assert refused.returncode == 1 and "1 worker(s) running" in refused.stderr, refused
        forced = restore_cli(app_env, str(backup), "--force")
        assert forced.returncode == 0, forced.stderr

    # The processes are gone (their heartbeats with them): restore without --force.
    for _ in range(600):
        if not [key async for key in redis.scan_iter(match=worker_key("*"))]:
            break
        await asyncio.sleep(0.1)
    with sqlite3.connect(db) as live:
        live.execute("DELETE FROM vk_comments")
    restored = restore_cli(app_env, str(backup))
    assert restored.returncode == 0, restored.stderr
    assert count(db, "vk_comments") == ROWS - OLD_COMMENTS
    broken = tmp_path / "broken.sqlite3.gz"
    broken.write_bytes(gzip.compress(b"not a database"))
    failed = restore_cli(app_env, str(broken))
    assert failed.returncode == 1 and "not a sound SQLite database" in failed.stderr, failed
    assert count(db, "vk_comments") == ROWS - OLD_COMMENTS


@pytest.mark.slow
async def test_a_backup_over_the_upload_limit_is_kept_but_not_sent_and_the_admin_told_why(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    """`/backup send` in a private chat, the file above UPLOAD_LIMIT_BYTES: the backup is made
    and kept, nothing is uploaded, and the message says why."""
    limit = 1024  # the least the setting takes; a backup of the seeded database is larger
    env = {**app_env, "UPLOAD_LIMIT_BYTES": str(limit)}
    db, folder = database_file(env), Path(env["DATA_DIR"]) / "backups"
    await seed_file(db)
    async with running(env, tmp_path):
        await fake_tg.wait_for_call("setMyCommands", timeout=180)
        sent = fake_tg.send_text("/backup send", user_id=ADMIN_ID)
        reply = await fake_tg.wait_for_message(ADMIN_ID, "integrity", after=sent, timeout=60)
        await check_backup_said(reply.text, db, folder)
    assert reply.text.endswith(
        "Not sent: the file is larger than Telegram's upload limit; fetch it from the server."
    ), reply.text
    [kept] = backups(folder)
    assert kept.name in reply.text and kept.stat().st_size > limit
    assert not fake_tg.calls_of("sendDocument")
