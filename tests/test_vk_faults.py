"""VK faults injected at the HTTP level (error-6 storms, captcha, 5xx, timeouts, truncated JSON):
a parse finishes with every comment stored once, or fails cleanly with a clear reason and
resumes exactly; and its checkpoint costs the same per round on a big wall as on a small one."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from core import storage
from core.vk.client import VkClient
from core.vk.errors import VkError
from core.vk.tokens import TokenPool
from fakevk.api import FakeVK
from tests.conftest import Process, count_comments
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import DEMO_GROUP, start_job, stored_comments
from tests.test_vk_parser import (
    FAST,
    TOKEN,
    assert_exactly_once,
    make_parser,
    open_keys,
    start_fake,
    stored_rows,
    wall,
)

CLIENT_TIMEOUT = 1.0


def quick_client(fake: FakeVK, redis: aioredis.Redis, *, max_attempts: int = 6) -> VkClient:
    """A client that gives up on a silent VK after a second (the fake then answers late)."""
    assert fake.url is not None
    fake.faults.timeout_seconds = CLIENT_TIMEOUT * 2
    pool = TokenPool(redis, [TOKEN], FAST)
    return VkClient(pool, api_url=fake.url, timeout=CLIENT_TIMEOUT, max_attempts=max_attempts)


@pytest.mark.parametrize("batching", [True, False], ids=["execute", "plain"])
async def test_parse_rides_out_every_fault(
    sessions: storage.Sessions, redis: aioredis.Redis, batching: bool
) -> None:
    """An error-6 storm, 5xx answers, timeouts and truncated JSON, one after the other: the
    parse finishes and stores every comment once, its totals right."""
    group = wall(150, 110) if batching else wall(20, 150)
    fake = await start_fake([group])
    fake.inject("error6", times=8, after=1)
    fake.inject("http5xx", times=3, after=11)
    fake.inject("timeout", times=2, after=15)
    fake.inject("truncated", times=3, after=18)
    try:
        client = quick_client(fake, redis)
        client.batching = batching
        totals = await make_parser(client, sessions, redis).run()
    finally:
        await fake.stop()
    assert fake.faults.pending() == 0
    assert fake.faults.applied == {"error6": 8, "http5xx": 3, "timeout": 2, "truncated": 3}
    assert fake.stats.error6 == 8
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


async def test_fault_past_the_retries_fails_cleanly_then_resumes(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """VK failing longer than the client retries ends run() with a VkError; whole posts are
    stored by then, and the same job run again finishes the wall with exact totals."""
    group = wall(150, 110)
    fake = await start_fake([group])
    fake.inject("http5xx", times=12, after=8)
    try:
        first = make_parser(quick_client(fake, redis, max_attempts=2), sessions, redis)
        with pytest.raises(VkError, match=r"VK answered HTTP 50[23]"):
            await first.run()
        expected = open_keys(fake, group)
        partial = await stored_rows(sessions)
        assert 0 < len(partial) < len(expected)
        assert first.totals.comments_parsed == len(partial)
        assert {k[1] for k in partial} <= first.done_posts

        fake.faults.clear()
        totals = await make_parser(quick_client(fake, redis), sessions, redis).run()
    finally:
        await fake.stop()
    assert fake.faults.applied["http5xx"] >= 2
    assert_exactly_once(totals, await stored_rows(sessions), expected)
    assert totals.posts_scanned == 150


async def test_captcha_ends_the_parse_with_a_clear_reason(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """Error 14 is not retried (no one can solve the captcha) and says what it is."""
    group = wall(150, 110)
    fake = await start_fake([group])
    fake.inject("captcha", after=3)
    try:
        parser = make_parser(quick_client(fake, redis), sessions, redis)
        with pytest.raises(VkError) as caught:
            await parser.run()
    finally:
        await fake.stop()
    assert caught.value.code == 14 and caught.value.fatal
    assert "captcha (error 14)" in str(caught.value)
    stored = await stored_rows(sessions)
    assert parser.totals.comments_parsed == len(stored)
    assert set(stored) <= open_keys(fake, group)


async def test_captcha_reaches_the_chat_and_the_audit_row(
    services: list[Process], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """Through the real bot and worker: the parse fails with the captcha reason in its closing
    message and audit row; a later parse stores the whole wall, every comment once."""
    await fake_tg.wait_for_call("setMyCommands", timeout=180)  # a busy machine starts slowly
    fake_vk.inject("captcha", after=2)
    job_id = await start_job(fake_tg, "/parse taiga_demo 100000")
    final = await fake_tg.wait_for_message(1001, f"failed ({job_id})", timeout=180)
    assert "VK asks to solve a captcha (error 14)" in (final.text or "")
    with sqlite3.connect(tmp_path / "data" / "vkcomments.sqlite3") as db:
        status, summary = db.execute(
            "SELECT status, summary FROM job_audit WHERE job_id = ?", (job_id,)
        ).fetchone()
    assert status == "failed" and "captcha (error 14)" in summary

    again = await start_job(fake_tg, "/parse taiga_demo 100000")
    await fake_tg.wait_for_message(1001, f"finished ({again})", timeout=180)
    assert stored_comments(tmp_path / "data") == count_comments(DEMO_GROUP)


async def checkpoint_writes(
    redis: aioredis.Redis, job_id: str, parse: Awaitable[object]
) -> list[str]:
    """Every command that touched the job's checkpoint while `parse` ran, as Redis saw it
    (MONITOR), so the count is of the checkpoint alone: the pace's own traffic varies with how
    late a busy machine sends its requests."""
    marker = f"end of {job_id}"
    async with redis.monitor() as monitor:

        async def collect() -> list[str]:
            seen: list[str] = []
            while (command := str((await monitor.next_command())["command"])) != f"ECHO {marker}":
                if f"vkc:ckpt:{job_id}:" in command:
                    seen.append(command)
            return seen

        collecting = asyncio.create_task(collect())
        await parse
        await redis.echo(marker)
        return await asyncio.wait_for(collecting, timeout=60)


async def test_checkpoint_costs_the_same_per_round_on_a_big_wall(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """The checkpoint adds each round's finished posts instead of rewriting them all: each post
    is sent to Redis once, and each round writes a totals hash of fixed size, on a wall 6x as
    long as on a short one (it grew with the wall)."""
    for posts in (300, 1800):
        group = wall(posts, 0, group_id=700 + posts, pinned=False)
        fake = await start_fake([group])
        try:
            parser = make_parser(
                quick_client(fake, redis), sessions, redis, group_id=group.id, job_id=f"j{posts}"
            )
            writes = await checkpoint_writes(redis, f"j{posts}", parser.run())
        finally:
            await fake.stop()
        assert parser.totals.posts_scanned == posts
        adds = [command.split()[2:] for command in writes if command.startswith("SADD ")]
        added = [word for words in adds for word in words]
        assert sorted(map(int, added)) == sorted(p.id for p in group.posts), writes[:5]
        rounds = [command for command in writes if command.startswith("HSET ")]
        assert rounds and all(len(c.split()) == len(rounds[0].split()) for c in rounds)
