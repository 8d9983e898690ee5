"""Workers die: kill -9 and SIGTERM mid-parse, a job whose workers keep dying, an abort of a dead
worker's job, a database locked under a running job. Real processes, real Redis and SQLite, the
fakes at the HTTP level; each test waits for events, never for "long enough"."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from pathlib import Path

import pytest

from fakevk.api import FakeVK
from tests.conftest import ADMIN_ID, Process
from tests.fakes import FakeTelegram
from tests.faults import (
    BIG_NAME,
    FAST_SWEEP,
    WALL_METHODS,
    audit_row,
    big_group_comments,
    closing_messages,
    database,
    hold_after,
    killed,
    processes,
    stored_comments,
    wait_until,
    wait_until_notified,
)
from tests.test_e2e_bot import start_job


@pytest.fixture
def env(app_env: dict[str, str]) -> dict[str, str]:
    return {**app_env, "AUTO_ANALYZE": "false"}


async def parse_held_halfway(
    tg: FakeTelegram, vk: FakeVK, env: dict[str, str], job_id: str | None = None
) -> str:
    """Start a parse of the big wall (or let `job_id` go on) and hold it with comments stored."""
    held = vk.stats.held
    hold_after(vk, calls=40)
    if job_id is None:
        job_id = await start_job(tg, f"/parse {BIG_NAME} 100000")
    await wait_until(
        "a parse held halfway",
        lambda: vk.stats.held > held and stored_comments(env) > 0,
        timeout=90,
    )
    assert stored_comments(env) < big_group_comments()
    return job_id


async def finished_once(tg: FakeTelegram, env: dict[str, str], job_id: str) -> str:
    """Wait for the job's closing message and check it is the only one."""
    final = await tg.wait_for_message(ADMIN_ID, f"({job_id})", timeout=120)
    await wait_until_notified(env, job_id)
    assert closing_messages(tg, job_id) == [final.text]
    return final.text


@pytest.mark.slow
async def test_killed_worker_job_is_finished_by_a_new_worker(
    env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """kill -9 mid-parse, shipped sweeper settings: a new worker finishes it within about a
    minute, every comment stored once, one closing message, no try spent on the crash."""
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "a.log")
    ) as running:
        job_id = await parse_held_halfway(fake_tg, fake_vk, env)
        assert await killed(running[1]) == -signal.SIGKILL
        fake_vk.resume()
        # The community stays the job's while nobody runs it: it is not parsed twice.
        sent = fake_tg.send_text(f"/parse {BIG_NAME}", user_id=ADMIN_ID)
        again = await fake_tg.wait_for_message(ADMIN_ID, "Already running", after=sent)
        assert job_id in again.text

        loop = asyncio.get_running_loop()
        started = loop.time()
        running.append(Process("worker", env, tmp_path / "b.log"))
        final = await finished_once(fake_tg, env, job_id)
        took = loop.time() - started
        total = big_group_comments()
        readable = big_group_comments(readable=True)
        assert f"finished ({job_id})" in final and f"{readable} new comments" in final, final
        assert stored_comments(env) == total
        row = audit_row(env, job_id)
        assert (row["status"], row["tries"]) == ("complete", 1), row
        assert "re-queued: its worker is gone" in running[2].output()
        print(f"kill -9 mid-parse: finished {took:.1f} s after the new worker started")


async def test_sigterm_mid_job_requeues_without_spending_a_try(
    env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """SIGTERM mid-parse: the worker stops cleanly, the job waits in the queue ("retrying",
    not failed) and the next worker finishes it on the same try."""
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "a.log")
    ) as running:
        job_id = await parse_held_halfway(fake_tg, fake_vk, env)
        running[1].popen.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(running[1].popen.wait, 60) == 0
        assert audit_row(env, job_id)["status"] == "retrying"
        assert not closing_messages(fake_tg, job_id)
        fake_vk.resume()
        running.append(Process("worker", env, tmp_path / "b.log"))
        final = await finished_once(fake_tg, env, job_id)
        assert f"finished ({job_id})" in final
        assert stored_comments(env) == big_group_comments()
        row = audit_row(env, job_id)
        assert (row["status"], row["tries"]) == ("complete", 1), row


async def test_abort_of_a_dead_workers_job(
    env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """/abort of a job whose worker was killed: it ends as aborted once a sweeper sees it, the
    chat is told once, and the community can be parsed again."""
    env = {**env, **FAST_SWEEP}
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "a.log")
    ) as running:
        job_id = await parse_held_halfway(fake_tg, fake_vk, env)
        await killed(running[1])
        fake_vk.resume()
        sent = fake_tg.send_text(f"/abort {job_id}", user_id=ADMIN_ID)
        await fake_tg.wait_for_message(ADMIN_ID, "Abort requested", after=sent)
        running.append(Process("worker", env, tmp_path / "b.log"))
        final = await finished_once(fake_tg, env, job_id)
        assert f"aborted ({job_id})" in final
        assert audit_row(env, job_id)["status"] == "aborted"
        fresh = await start_job(fake_tg, f"/parse {BIG_NAME} 100000")
        assert fresh != job_id
        await finished_once(fake_tg, env, fresh)


async def test_job_whose_workers_keep_dying_fails_as_worker_lost(
    env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """A job that lost its worker more times than it has tries ends as failed, "worker lost"."""
    env = {**env, **FAST_SWEEP, "ARQ_MAX_TRIES": "1"}
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "a.log")
    ) as running:
        job_id = await parse_held_halfway(fake_tg, fake_vk, env)
        await killed(running[1])
        fake_vk.resume()
        # Lost once: put back on the queue, and the next worker is killed mid-parse too.
        fake_vk.pause(*WALL_METHODS)
        held = fake_vk.stats.held
        running.append(Process("worker", env, tmp_path / "b.log"))
        await wait_until("the re-run held", lambda: fake_vk.stats.held > held, timeout=90)
        await killed(running[2])
        fake_vk.resume()
        running.append(Process("worker", env, tmp_path / "c.log"))
        final = await finished_once(fake_tg, env, job_id)
        assert f"failed ({job_id})" in final and "worker lost" in final, final
        assert audit_row(env, job_id)["status"] == "failed"


@pytest.mark.slow
async def test_locked_database_makes_the_job_retry(
    env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """The database locked for longer than SQLite's busy timeout under a running parse: the job
    retries from its checkpoint, the hooks wait it out, the worker stays up, nothing half-written
    stays and the chat gets one closing message."""
    env = {**env, "SQLITE_BUSY_TIMEOUT": "5"}  # the shipped 30 s, waited twice, is a minute
    async with processes(
        Process("bot", env, tmp_path / "bot.log"), Process("worker", env, tmp_path / "a.log")
    ) as running:
        job_id = await parse_held_halfway(fake_tg, fake_vk, env)
        with contextlib.closing(sqlite3.connect(database(env), isolation_level=None)) as db:
            db.execute("BEGIN EXCLUSIVE")
            fake_vk.resume()
            # The job gives up its try on the lock, then its end hook meets the lock too.
            await wait_until(
                "the end hook to meet the locked database",
                lambda: f"closing job {job_id} failing" in running[1].output(),
                timeout=180,
            )
            db.execute("ROLLBACK")
        final = await finished_once(fake_tg, env, job_id)
        assert f"finished ({job_id})" in final
        assert stored_comments(env) == big_group_comments()
        assert audit_row(env, job_id)["status"] == "complete"
        assert running[1].popen.poll() is None, "the worker exited"
        log = running[1].output()
        assert f"job {job_id}: OperationalError, retrying" in log
        assert f"closing job {job_id} recovered" in log
        assert "Traceback" not in log
