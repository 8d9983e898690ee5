"""The parse's counters have one meaning each and add up across runs (WallParser in-process,
fake VK over HTTP, real Redis and SQLite).

new: readable comments stored for the first time; edited: stored before, text changed on VK;
deleted on VK: stored before as readable, now deleted. Summed over runs, new minus deleted is
the number of readable comments stored, which is what /keywords counts once they are analysed.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from core import analysis, storage
from core.vk.wall import Totals
from fakevk.api import FakeVK
from tests.test_vk_parser import OWNER, make_client, make_parser, start_fake, wall


async def run(
    fake: FakeVK, sessions: storage.Sessions, redis: aioredis.Redis, job_id: str
) -> Totals:
    parser = make_parser(make_client(fake, redis), sessions, redis, job_id=job_id)
    totals = await parser.run()
    await parser.clear_checkpoint()
    return totals


async def analysed_count(sessions: storage.Sessions) -> int:
    """Analyse what is not analysed yet, then count as /keywords does."""
    await analysis.analyse_scope(sessions, analysis.Scope(OWNER))
    _ranked, comments = await analysis.keywords(sessions, OWNER, 10, None)
    return comments


async def test_counters_add_up_over_three_parses(
    sessions: storage.Sessions,
    redis: aioredis.Redis,
) -> None:
    group = wall(5, 40)  # every 37th comment of the wall is deleted on VK from the start
    fake = await start_fake([group])
    readable = sum(1 for k in fake.all_comment_keys() if k[0] == OWNER) - 5  # 200 // 37 deleted
    news: list[int] = []
    deleted: list[int] = []
    try:
        first = await run(fake, sessions, redis, "job-1")
        news.append(await storage.count_new_comments(sessions, OWNER, "job-1"))
        deleted.append(first.comments_deleted)
        assert news == [readable] and first.comments_updated == 0 and deleted == [0]

        post = fake.add_post(OWNER, "Новый пост")
        kept = fake.add_comment(OWNER, post.id, "Первый!")
        edited = fake.add_comment(OWNER, post.id, "Щука клюёт")
        gone = fake.add_comment(OWNER, post.id, "Удалю потом")
        second = await run(fake, sessions, redis, "job-2")
        news.append(await storage.count_new_comments(sessions, OWNER, "job-2"))
        deleted.append(second.comments_deleted)
        assert news[1] == 3 and second.comments_updated == 0 and deleted[1] == 0
        assert await analysed_count(sessions) == readable + 3

        fake.delete_comment(OWNER, post.id, gone.id)
        edited.text = "Щука клюёт на блесну"
        fake.add_comment(OWNER, post.id, "Ещё один", reply_to=kept.id)
        third = await run(fake, sessions, redis, "job-3")
        news.append(await storage.count_new_comments(sessions, OWNER, "job-3"))
        deleted.append(third.comments_deleted)
    finally:
        await fake.stop()
    assert news[2] == 1 and third.comments_updated == 1 and deleted[2] == 1
    stored = await storage.count_comments(sessions, OWNER)
    assert sum(news) - sum(deleted) == stored == readable + 3
    # The edited comment was analysed again and the deleted one left out: /keywords agrees.
    assert await analysed_count(sessions) == stored
