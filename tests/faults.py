"""Helpers of the fault tests: a wall big enough to be caught mid-parse, worker processes that
are killed for real, and reads of the SQLite file the processes share."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fakevk.api import FakeVK
from tests.conftest import (
    ADMIN_ID,
    BIG_GROUP,
    BOT_TOKEN,
    VK_TOKEN,
    Process,
    big_group,
    count_comments,
)
from tests.fakes import FakeTelegram

BIG_NAME = "big_wall"
# Every request a parse reads the wall with: held by FakeVK.pause, one at a time.
WALL_METHODS = ("execute", "wall.get", "wall.getComments")
# Small sweeper values for the stories that are not about the defaults themselves.
FAST_SWEEP = {"WORKER_LOST_AFTER": "2", "SWEEP_INTERVAL": "0.5"}


def big_group_comments(*, readable: bool = False) -> int:
    """What a full parse of the big wall stores (deleted placeholders included), or with
    `readable` what it counts as new comments (not deleted on VK)."""
    return count_comments(BIG_GROUP, [big_group()], readable=readable)


def hold_after(vk: FakeVK, calls: int) -> None:
    """Let `calls` more API calls through, then hold every wall read until `vk.resume()`."""
    seen = itertools.count(1)

    def hook(method: str, params: dict[str, str]) -> None:
        if next(seen) == calls:
            vk.pause(*WALL_METHODS)

    vk.on_request = hook


def database(env: dict[str, str]) -> Path:
    return Path(env["DATA_DIR"]) / "vkcomments.sqlite3"


def stored_comments(env: dict[str, str], owner_id: int = -BIG_GROUP) -> int:
    if not database(env).exists():
        return 0
    with contextlib.closing(sqlite3.connect(database(env))) as db:
        try:
            row = db.execute("SELECT count(*) FROM vk_comments WHERE owner_id = ?", (owner_id,))
        except sqlite3.OperationalError:  # not migrated yet
            return 0
        return int(row.fetchone()[0])


def audit_row(env: dict[str, str], job_id: str) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(database(env))) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM job_audit WHERE job_id = ?", (job_id,)).fetchone()
        return dict(row) if row else {}


def closing_messages(tg: FakeTelegram, job_id: str, chat_id: int = ADMIN_ID) -> list[str]:
    """Messages that close the job: finished, failed, aborted or the short fallback."""
    return [m.text for m in tg.messages(chat_id) if f"({job_id})" in m.text or
            f"{job_id} has ended" in m.text]  # fmt: skip


async def wait_until(what: str, check: Any, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Poll `check()` (a cheap read of a file or a process) until true, at most `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_until_notified(env: dict[str, str], job_id: str) -> None:
    """The worker records the closing message after Telegram took it: then it is final."""
    await wait_until(
        f"job {job_id} recorded as notified",
        lambda: audit_row(env, job_id).get("notified_at") is not None,
        timeout=60,
    )


async def killed(process: Process) -> int:
    """SIGKILL, as the OOM killer or a power cut would; returns the exit code."""
    process.popen.kill()
    return await asyncio.to_thread(process.popen.wait, 30)


@contextlib.asynccontextmanager
async def processes(*started: Process) -> AsyncIterator[list[Process]]:
    """Stop whatever is still running at the end; no secret in any log, killed ones included."""
    group = list(started)
    try:
        yield group
    finally:
        for process in group:
            await process.stop()
        for process in group:
            text = process.output()
            assert BOT_TOKEN not in text and VK_TOKEN not in text, "a secret leaked into a log"
