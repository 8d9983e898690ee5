"""WallParser + VkClient against the HTTP fake VK: every comment is stored exactly once.

Each test drives the parser in-process against a FakeVK on 127.0.0.1, a real Redis (the shared
pace and the checkpoint) and a real SQLite file migrated with Alembic, then compares the
(owner_id, post_id, comment_id) keys in vk_comments with the fake's own comments on posts whose
comments are open. The primary key already rules out two rows for one comment, so "exactly once"
is checked on the counting side too: the parser's `comments_parsed` must equal the rows stored.
Scenarios that are not about the pace run the fake and the client at 50 requests/s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from core import storage
from core.models import Comment, Post
from core.vk.client import Call, VkClient
from core.vk.errors import VkError
from core.vk.tokens import PoolToken, TokenPool
from core.vk.wall import Totals, WallParser
from fakevk.api import FakeApiError, FakeGroup, FakeVK, build_synthetic_wall

TOKEN = "parser-test-token-0123456789"
GID = 601
OWNER = -GID
FAST = 50.0
TEXTS = [
    "Отличная новость, спасибо!",
    "А когда будет продолжение?",
    "Не согласен с автором, всё было иначе.",
    "ок",
    "Посмотрел видео до конца — очень понравилось, особенно вторая часть про историю района.",
]

Key = tuple[int, int, int]
Hook = Callable[[str, dict[str, str]], None]


# --- fixtures and helpers -------------------------------------------------------------------


def wall(posts: int = 30, comments: int = 150, *, group_id: int = GID, **kwargs: Any) -> FakeGroup:
    return build_synthetic_wall(group_id, f"wall{group_id}", posts, comments, texts=TEXTS, **kwargs)


async def start_fake(groups: list[FakeGroup], **kwargs: Any) -> FakeVK:
    kwargs.setdefault("rps", FAST)
    kwargs.setdefault("tokens", {TOKEN: "user"})
    fake = FakeVK(groups, **kwargs)
    await fake.start("127.0.0.1")
    return fake


def make_client(fake: FakeVK, redis: aioredis.Redis, rps: float = FAST) -> VkClient:
    assert fake.url is not None
    # A short timeout keeps a lost response from stalling a test; retries are quick too.
    return VkClient(TokenPool(redis, [TOKEN], rps), api_url=fake.url, timeout=10.0)


def make_parser(
    client: VkClient,
    sessions: storage.Sessions,
    redis: aioredis.Redis,
    *,
    job_id: str = "job-1",
    group_id: int = GID,
    on_progress: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> WallParser:
    return WallParser(
        client,
        sessions,
        redis,
        job_id=job_id,
        group_id=group_id,
        limit=10**9,
        on_progress=on_progress,
    )


async def stored_rows(sessions: storage.Sessions, owner_id: int = OWNER) -> dict[Key, Comment]:
    async with sessions() as session:
        rows = (await session.scalars(select(Comment).where(Comment.owner_id == owner_id))).all()
    return {(r.owner_id, r.post_id, r.comment_id): r for r in rows}


def open_keys(fake: FakeVK, group: FakeGroup) -> set[Key]:
    """The fake's comments of `group` on posts whose comments are open."""
    closed = {p.id for p in group.posts if p.comments_closed}
    return {k for k in fake.all_comment_keys() if k[0] == -group.id and k[1] not in closed}


def is_first_page(method: str, params: dict[str, str]) -> bool:
    return (
        method == "wall.getComments"
        and "comment_id" not in params
        and "start_comment_id" not in params
    )


def after_first_page(action: Callable[[int], None]) -> Hook:
    """An on_request hook that runs `action(post_id)` once per post, at the first call the fake
    sees after that post's first top-level page (hooks run before a call is served, so the
    change lands strictly after that page was answered and before any later page of it)."""
    served: set[int] = set()
    done: set[int] = set()

    def hook(method: str, params: dict[str, str]) -> None:
        for post_id in served - done:
            done.add(post_id)
            action(post_id)
        if is_first_page(method, params):
            served.add(int(params["post_id"]))

    return hook


async def parse_to_end(fake: FakeVK, sessions: storage.Sessions, redis: aioredis.Redis) -> Totals:
    """One full parse of the fake's wall with default settings; the fake is stopped after."""
    try:
        return await make_parser(make_client(fake, redis), sessions, redis).run()
    finally:
        await fake.stop()


def assert_exactly_once(totals: Totals, stored: dict[Key, Comment], expected: set[Key]) -> None:
    assert set(stored) == expected, (
        f"missing {len(expected - set(stored))}, extra {len(set(stored) - expected)}"
    )
    assert totals.comments_parsed == len(stored) == len(expected)
    assert totals.comments_saved == sum(1 for r in stored.values() if not r.deleted)


# --- scenarios ------------------------------------------------------------------------------


async def test_long_threads_deleted_comments_and_pinned_post(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    group = wall(30, 150)
    # The wall has what the test is about: threads longer than the 10-reply preview, more than
    # one top-level page per post, deleted comments and a pinned post.
    assert any(len(c.replies) > 10 for p in group.posts for c in p.comments)
    assert all(len(p.comments) > 100 for p in group.posts)
    fake = await start_fake([group])
    totals = await parse_to_end(fake, sessions, redis)
    stored = await stored_rows(sessions)
    assert_exactly_once(totals, stored, open_keys(fake, group))
    assert totals.posts_scanned == 30 and totals.posts_skipped == 0

    deleted = parents = 0
    for post in group.posts:
        for comment in post.comments:
            row = stored[(OWNER, post.id, comment.id)]
            assert row.parent_id is None and row.deleted == comment.deleted
            assert row.text == comment.text
            deleted += comment.deleted
            for reply in comment.replies:
                reply_row = stored[(OWNER, post.id, reply.id)]
                assert reply_row.parent_id == comment.id and reply_row.deleted == reply.deleted
                assert reply_row.text == reply.text
                deleted += reply.deleted
                parents += 1
    assert deleted > 0 and parents > 0
    async with sessions() as session:
        pinned = (await session.scalars(select(Post).where(Post.is_pinned))).all()
    assert [p.post_id for p in pinned] == [group.posts[0].id]


async def test_comments_added_while_paging(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """After a post's first top-level page is served, two top-level comments, a reply in its
    long thread and a reply in a short (previewed) thread are added.

    Asserted: every comment that existed at the start is stored; the new top-level comments
    and the new long-thread reply are stored too, because those levels were still being paged
    (a second top-level page and the thread's own page come later); nothing is stored that does
    not exist, and nothing is counted twice. A reply added to a short thread after its preview
    was read is not promised: VK gives no signal that the thread grew, so it may be missed
    until the next run.
    """
    group = wall(12, 150)
    fake = await start_fake([group])
    initial = open_keys(fake, group)
    promised: set[Key] = set()

    def add(post_id: int) -> None:
        post = next(p for p in group.posts if p.id == post_id)
        long_root = next(c for c in post.comments if len(c.replies) > 10)
        short_root = next(c for c in post.comments if 0 < len(c.replies) <= 10)
        for text in ("новый комментарий", "ещё один"):
            promised.add((OWNER, post_id, fake.add_comment(OWNER, post_id, text).id))
        reply = fake.add_comment(OWNER, post_id, "ответ в длинной ветке", reply_to=long_root.id)
        promised.add((OWNER, post_id, reply.id))
        fake.add_comment(OWNER, post_id, "ответ в короткой ветке", reply_to=short_root.id)

    fake.on_request = after_first_page(add)
    totals = await parse_to_end(fake, sessions, redis)
    stored = await stored_rows(sessions)
    assert len(promised) == 12 * 3
    assert initial | promised <= set(stored) <= open_keys(fake, group)
    assert totals.comments_parsed == len(stored)


async def test_comments_deleted_while_paging(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """After a post's first top-level page is served, comments on both pages and in the long
    thread (one inside the preview, one past it) are deleted, including the comment the second
    page starts from. All are stored once; those read after the deletion are stored as deleted
    with no text."""
    group = wall(12, 150)
    fake = await start_fake([group])
    must_be_deleted: set[Key] = set()

    def delete(post_id: int) -> None:
        post = next(p for p in group.posts if p.id == post_id)
        thread = next(c for c in post.comments if len(c.replies) > 10)
        # 5 and 99 were on the first page (99 anchors the second page), 110 is on the second.
        for comment in (post.comments[5], post.comments[99], post.comments[110]):
            fake.delete_comment(OWNER, post_id, comment.id)
        for reply in (thread.replies[2], thread.replies[-1]):
            fake.delete_comment(OWNER, post_id, reply.id)
            must_be_deleted.add((OWNER, post_id, reply.id))  # the thread page reads it again
        must_be_deleted.add((OWNER, post_id, post.comments[110].id))

    fake.on_request = after_first_page(delete)
    totals = await parse_to_end(fake, sessions, redis)
    stored = await stored_rows(sessions)
    assert_exactly_once(totals, stored, open_keys(fake, group))
    assert len(must_be_deleted) == 12 * 3
    for key in must_be_deleted:
        assert stored[key].deleted and stored[key].text == ""


async def test_page_anchor_gone_rereads_the_level(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """VK answers 100 when the comment a page starts from has vanished: the parser reads that
    level again from its start, and nothing is lost or doubled."""
    group = wall(6, 150)
    fake = await start_fake([group])
    refused: set[int] = set()

    def hook(method: str, params: dict[str, str]) -> None:
        if method == "wall.getComments" and "start_comment_id" in params:
            post_id = int(params["post_id"])
            if post_id not in refused:
                refused.add(post_id)
                raise FakeApiError(100, "One of the parameters specified was missing or invalid")

    fake.on_request = hook
    totals = await parse_to_end(fake, sessions, redis)
    assert refused == {p.id for p in group.posts}
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


async def test_closed_comments_are_skipped_and_counted(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    group = wall(30, 150, closed_every=4)
    closed = sum(p.comments_closed for p in group.posts)
    assert closed == 7
    fake = await start_fake([group])
    totals = await parse_to_end(fake, sessions, redis)
    assert fake.stats.errors[212] == closed
    assert totals.posts_skipped == closed and totals.posts_scanned == 30
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


def dated_wall(now: int, posts: int = 30) -> FakeGroup:
    """Newest post an hour old, two hours between posts: 12 posts are younger than a day, and
    the pinned post (the oldest) is not."""
    return wall(posts, 150, start_date=now - (posts - 1) * 7200 - 3600)


async def test_limit_then_a_full_run(sessions: storage.Sessions, redis: aioredis.Redis) -> None:
    """`limit` stores exactly that many comments: whole posts but the last. A later run without
    a limit completes the wall: posts read in full are skipped as unchanged, the one cut by the
    limit is read again."""
    group = dated_wall(int(time.time()))
    fake = await start_fake([group])
    try:
        client = make_client(fake, redis)
        limited = make_parser(client, sessions, redis, job_id="limit")
        limited.limit = 1000
        totals = await limited.run()
        stored = set(await stored_rows(sessions))
        expected = open_keys(fake, group)
        assert totals.comments_parsed == len(stored) == 1000
        assert stored <= expected
        by_post = {k[1] for k in stored}
        whole = {post for post in by_post if {k for k in expected if k[1] == post} <= stored}
        assert len(by_post - whole) <= 1

        full = await make_parser(client, sessions, redis, job_id="full").run()
    finally:
        await fake.stop()
    assert set(await stored_rows(sessions)) == expected
    assert full.posts_unchanged == len(whole)
    assert full.comments_parsed == len(expected) - sum(1 for k in expected if k[1] in whole)


async def test_days_keeps_recent_posts(sessions: storage.Sessions, redis: aioredis.Redis) -> None:
    """`days` reads the newest posts only, and the old pinned post listed first does not end
    the scan."""
    now = int(time.time())
    group = dated_wall(now)
    young = {p.id for p in group.posts if p.date > now - 86400}
    assert len(young) == 12 and group.posts[0].is_pinned and group.posts[0].id not in young
    fake = await start_fake([group])
    try:
        parser = WallParser(
            make_client(fake, redis),
            sessions,
            redis,
            job_id="days",
            group_id=GID,
            limit=10**9,
            days=1,
        )
        totals = await parser.run()
    finally:
        await fake.stop()
    assert totals.posts_scanned == 12
    expected = {k for k in open_keys(fake, group) if k[1] in young}
    assert_exactly_once(totals, await stored_rows(sessions), expected)


async def test_daily_limit_stops_consistently_then_resumes(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """Error 29 ends run() with VkError 29; what was stored by then is whole posts of real
    comments, counted once. The same job run again after the limit resets finishes the wall."""
    # The whole wall takes 9 requests; after 6 some posts are whole and some are not.
    group = wall(60, 150)
    fake = await start_fake([group], daily_limit_after=6)
    try:
        parser = make_parser(make_client(fake, redis), sessions, redis)
        with pytest.raises(VkError) as caught:
            await parser.run()
        assert caught.value.code == 29
        stored = await stored_rows(sessions)
        expected = open_keys(fake, group)
        assert 0 < len(stored) < len(expected)
        assert set(stored) <= expected
        assert parser.totals.comments_parsed == len(stored)
        # Only whole posts are stored, so a resumed job can skip them.
        posts_with_rows = {k[1] for k in stored}
        assert {k for k in expected if k[1] in posts_with_rows} == set(stored)
        assert posts_with_rows <= parser.done_posts

        # VK's day ends: the fake serves again, and the pool takes the token back.
        fake.daily_limit_after = None
        await redis.delete(PoolToken(TOKEN).aside_key)
        totals = await make_parser(make_client(fake, redis), sessions, redis).run()
    finally:
        await fake.stop()
    assert_exactly_once(totals, await stored_rows(sessions), expected)
    assert totals.posts_scanned == 60


@pytest.mark.parametrize("batching", [True, False], ids=["execute", "plain"])
async def test_5xx_and_slow_responses(
    sessions: storage.Sessions, redis: aioredis.Redis, batching: bool
) -> None:
    # Enough requests in either mode for the faults to hit several of them: 150 posts with two
    # pages each (110 comments: one top-level page and a thread of 11 replies) take 14 execute
    # requests; 20 posts of 150 comments take some 60 plain ones.
    group = wall(150, 110) if batching else wall(20, 150)
    fake = await start_fake([group], fail_5xx_every=7, slow_every=5, slow_seconds=0.3)
    try:
        client = make_client(fake, redis)
        client.batching = batching
        totals = await make_parser(client, sessions, redis).run()
    finally:
        await fake.stop()
    assert fake.stats.http_5xx > 0 and fake.stats.slow > 0
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


async def test_service_token_falls_back_to_plain_calls(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    group = wall(10, 150)
    fake = await start_fake([group], tokens={TOKEN: "service"})
    try:
        client = make_client(fake, redis)
        totals = await make_parser(client, sessions, redis).run()
    finally:
        await fake.stop()
    assert not client.batching
    assert fake.stats.errors[15] >= 1
    assert fake.stats.methods["wall.getComments"] >= 10 * 3
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


async def test_execute_response_too_big_is_split(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    group = wall(30, 150)
    fake = await start_fake([group], execute_response_limit=300_000)
    try:
        client = make_client(fake, redis)
        totals = await make_parser(client, sessions, redis).run()
    finally:
        await fake.stop()
    assert fake.stats.errors[13] > 0
    assert client.batching
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))


async def test_a_batch_is_filled_when_its_slot_comes(redis: aioredis.Redis) -> None:
    """Batches waiting for the pace take their calls when their slot comes, so a batch holds
    what was queued while it waited (filled when it began to wait, a batch went out part-empty:
    14 lone wall pages in a 2-token parse of 2,000 posts)."""
    fake = await start_fake([wall(3, 0)])
    queued = [Call("wall.get", {"owner_id": OWNER, "offset": 0, "count": 1})]
    taken: list[list[Call]] = []

    def take() -> list[Call]:
        batch = list(queued)
        # What the answers that came meanwhile queue for the next batch.
        queued[:] = [Call("wall.get", {"owner_id": OWNER, "offset": n, "count": 1}) for n in (1, 2)]
        taken.append(batch)
        return batch

    try:
        client = make_client(fake, redis)
        answers = await asyncio.gather(client.run_taken(take), client.run_taken(take))
    finally:
        await fake.stop()
    assert [len(batch) for batch in taken] == [1, 2]
    assert sorted(len(results) for results in answers) == [1, 2]
    assert all(isinstance(result, dict) for results in answers for result in results)
    assert fake.stats.methods["execute"] == 2


class Stop(Exception):
    """Raised from on_progress to stop a parser midway, as a crash or a cancel would."""


async def test_resume_with_same_job_id_and_rerun_with_another(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    group = wall(30, 150)
    fake = await start_fake([group])
    expected = open_keys(fake, group)
    reports: list[dict[str, Any]] = []

    async def stop_midway(progress: dict[str, Any]) -> None:
        reports.append(progress)
        if progress["done"] > 0:
            raise Stop

    try:
        first = make_parser(make_client(fake, redis), sessions, redis, on_progress=stop_midway)
        with pytest.raises(Stop):
            await first.run()
        partial = await stored_rows(sessions)
        assert 0 < len(partial) < len(expected)
        assert await redis.exists("vkc:ckpt:job-1:done")

        resumed = make_parser(make_client(fake, redis), sessions, redis)
        totals = await resumed.run()
        assert totals.posts_scanned == 30
        stored = await stored_rows(sessions)
        assert_exactly_once(totals, stored, expected)
        # "New" counts readable comments: the ones deleted on VK are stored but not counted.
        readable = sum(1 for row in stored.values() if not row.deleted)
        assert await storage.count_new_comments(sessions, OWNER, "job-1") == readable

        requests_before = fake.stats.requests
        again = await make_parser(make_client(fake, redis), sessions, redis, job_id="job-2").run()
        assert fake.stats.requests > requests_before  # it really read the wall again
    finally:
        await fake.stop()
    # The rerun is incremental: every post was read in full and has not changed since.
    assert again.comments_parsed == 0
    assert again.posts_unchanged + again.posts_skipped == 30
    assert set(await stored_rows(sessions)) == expected
    assert await storage.count_new_comments(sessions, OWNER, "job-2") == 0
    assert await storage.count_new_comments(sessions, OWNER, "job-1") == readable


async def test_two_parsers_share_one_pace(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """Two jobs on two communities, two VkClient instances, one token, one Redis, VK at 3
    requests/s: the shared pace keeps the token under the limit. Plain calls, so each client
    sends one request per page and the pace is really under load. The fake serves from a
    thread of its own, as a real server would: on the test's event loop it would time requests
    late whenever the parsers keep the loop busy (storing rows), and count a burst that was
    never sent."""
    first, second = wall(10, 30, group_id=GID), wall(10, 30, group_id=GID + 1)
    fake = FakeVK([first, second], rps=3.0, tokens={TOKEN: "user"})
    await asyncio.to_thread(fake.start_in_thread, "127.0.0.1")
    clients = [make_client(fake, redis, rps=3.0), make_client(fake, redis, rps=3.0)]
    for client in clients:
        client.batching = False
    parsers = [
        make_parser(clients[0], sessions, redis, job_id="job-a", group_id=first.id),
        make_parser(clients[1], sessions, redis, job_id="job-b", group_id=second.id),
    ]
    try:
        results = await asyncio.wait_for(asyncio.gather(*(p.run() for p in parsers)), 30)
    finally:
        await asyncio.to_thread(fake.stop_thread)
    assert fake.stats.requests >= 20
    assert fake.stats.error6 == 0
    assert fake.stats.max_rate <= 3
    for totals, group in zip(results, (first, second), strict=True):
        stored = await stored_rows(sessions, -group.id)
        assert_exactly_once(totals, stored, open_keys(fake, group))
