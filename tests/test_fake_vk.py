"""Tests of the fake VK API server itself (fakevk.api) and of the demo wall it serves."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import vk_api
from vk_api.requests_pool import VkRequestsPool

from fakevk.api import (
    FakeComment,
    FakeGroup,
    FakePost,
    FakeVK,
    build_synthetic_wall,
    load_demo_groups,
    parse_execute_code,
)
from fakevk.demo import DEMO_GROUP_ID, DEMO_GROUP_NAME, DEMO_SCREEN_NAME, read_sample_wall

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "ru_taiga-ud-dev.conllu"
GID = 501
OWNER = -GID
TEXTS = ["первый", "второй", "третий", "четвёртый"]


def small_wall() -> list[FakeGroup]:
    """A hand-made wall: pinned old post, a long thread, a deleted root with replies, a closed
    post, plus a private and a deleted community."""
    replies = [
        FakeComment(id=20 + i, from_id=7, date=2_000 + i, text=f"ответ {i}") for i in range(12)
    ]
    posts = [
        FakePost(id=1, date=1_000, text="закреп", comments=[], is_pinned=True),
        FakePost(
            id=2,
            date=3_000,
            text="пост с тредом",
            comments=[
                FakeComment(id=10, from_id=5, date=1_500, text="корень", replies=replies),
                FakeComment(
                    id=11,
                    from_id=6,
                    date=1_600,
                    text="",
                    deleted=True,
                    replies=[FakeComment(id=40, from_id=8, date=2_100, text="под удалённым")],
                ),
                *[
                    FakeComment(id=50 + i, from_id=9, date=2_200 + i, text=f"к{i}")
                    for i in range(5)
                ],
            ],
        ),
        FakePost(id=3, date=4_000, text="закрыт", comments=[], comments_closed=True),
        FakePost(id=4, date=5_000, text="новый", comments=[]),
    ]
    return [
        FakeGroup(id=GID, screen_name="fake_wall", name="Фейк", posts=posts),
        FakeGroup(id=502, screen_name="secret", name="Закрытая", posts=[], private=True),
        FakeGroup(id=503, screen_name="gone", name="Удалённая", posts=[], deleted=True),
    ]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


Call = Callable[..., Any]


def caller(session: aiohttp.ClientSession, url: str, token: str = "user-token") -> Call:
    """POST form params like the real client; returns the decoded JSON body."""

    async def call(method: str, **params: Any) -> Any:
        form = {"access_token": token, "v": "5.199", **{k: str(v) for k, v in params.items()}}
        async with session.post(f"{url}/{method}", data=form) as resp:
            assert resp.status == 200
            return await resp.json()

    return call


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    fake = FakeVK(small_wall(), rps=1000)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def api(vk: FakeVK, session: aiohttp.ClientSession) -> Call:
    assert vk.url is not None
    return caller(session, vk.url)


def execute_code(calls: list[tuple[str, dict[str, Any]]]) -> str:
    """The code vk_api's VkRequestsPool and our client send for mixed-method batches."""
    return "return [" + ",".join(f"API.{m}({json.dumps(p)})" for m, p in calls) + "];"


async def test_resolve_and_group_lookup(api: Call) -> None:
    assert (await api("utils.resolveScreenName", screen_name="fake_wall"))["response"] == {
        "type": "group",
        "object_id": GID,
    }
    assert (await api("utils.resolveScreenName", screen_name="nobody"))["response"] == []
    by_name = (await api("groups.getById", group_id="fake_wall"))["response"]
    by_id = (await api("groups.getById", group_ids=f"{GID},club502"))["response"]
    assert by_name["groups"][0]["id"] == GID and by_name["profiles"] == []
    assert [g["id"] for g in by_id["groups"]] == [GID, 502]
    assert by_id["groups"][1]["is_closed"] == 1
    missing = await api("groups.getById", group_id="nobody")
    assert missing["error"]["error_code"] == 100
    assert "group_ids is undefined" in missing["error"]["error_msg"]
    assert {"key": "method", "value": "groups.getById"} in missing["error"]["request_params"]
    gone = (await api("groups.getById", group_id="gone"))["response"]["groups"][0]
    assert gone["deactivated"] == "deleted"
    assert (await api("wall.get", owner_id=-503))["error"]["error_code"] == 18
    assert (await api("wall.get", owner_id=-502))["error"]["error_code"] == 30
    assert (await api("wall.getComments", owner_id=-502, post_id=1))["error"]["error_code"] == 15
    assert (await api("wall.get", owner_id=-999))["error"]["error_code"] == 100
    assert (await api("wall.nope"))["error"]["error_code"] == 3


async def test_wall_get_pinned_first_and_paging(api: Call) -> None:
    first = (await api("wall.get", owner_id=OWNER, offset=0, count=2))["response"]
    assert first["count"] == 4
    assert [p["id"] for p in first["items"]] == [1, 4]
    assert first["items"][0]["is_pinned"] == 1 and "is_pinned" not in first["items"][1]
    rest = (await api("wall.get", owner_id=OWNER, offset=2, count=500))["response"]
    assert [p["id"] for p in rest["items"]] == [3, 2]  # pinned not repeated at its date
    post2 = rest["items"][1]
    assert post2["owner_id"] == OWNER and post2["from_id"] == OWNER
    assert post2["comments"] == {"count": 20, "can_post": 1, "groups_can_post": True}
    assert rest["items"][0]["comments"]["can_post"] == 0
    by_domain = (await api("wall.get", domain="fake_wall", count=1))["response"]
    assert by_domain["items"][0]["id"] == 1


async def test_comments_threads_and_deleted(api: Call) -> None:
    page = (await api("wall.getComments", owner_id=OWNER, post_id=2, thread_items_count=3))[
        "response"
    ]
    assert page["count"] == page["current_level_count"] == 7  # top level only
    assert len(page["items"]) == 7
    root = page["items"][0]
    assert root["parents_stack"] == [] and root["thread"]["count"] == 12
    assert [r["id"] for r in root["thread"]["items"]] == [20, 21, 22]
    reply = root["thread"]["items"][0]
    assert reply["parents_stack"] == [10] and reply["reply_to_comment"] == 10
    assert reply["reply_to_user"] == 5 and "thread" not in reply
    deleted = page["items"][1]
    assert deleted["deleted"] is True and deleted["from_id"] == 0 and deleted["text"] == ""
    assert deleted["thread"]["count"] == 1  # keeps its place and its replies
    desc = (await api("wall.getComments", owner_id=OWNER, post_id=2, sort="desc", count=2))[
        "response"
    ]
    assert [c["id"] for c in desc["items"]] == [54, 53]
    assert desc["items"][0]["thread"]["items"] == []  # thread_items_count defaults to 0
    preview = await api("wall.getComments", owner_id=OWNER, post_id=2, preview_length=2)
    assert preview["response"]["items"][0]["text"] == "ко"
    closed = await api("wall.getComments", owner_id=OWNER, post_id=3)
    assert closed["error"]["error_code"] == 212
    assert (await api("wall.getComments", owner_id=OWNER, post_id=99))["error"]["error_code"] == 100


async def test_extended_comments_bring_authors_and_likes(api: Call, vk: FakeVK) -> None:
    """extended=1 adds the authors of the page (thread replies too) and the community;
    need_likes=1 adds each readable comment's likes; without them neither is there."""
    vk.group(GID).posts[2].post.comments[0].likes = 4  # type: ignore[union-attr]
    params = {"owner_id": OWNER, "post_id": 2, "thread_items_count": 3}
    page = (await api("wall.getComments", extended=1, need_likes=1, **params))["response"]
    assert [p["id"] for p in page["profiles"]] == [5, 7, 8, 9]  # 7 and 8 in threads
    assert page["profiles"][0]["first_name"] and page["profiles"][0]["last_name"]
    assert [g["id"] for g in page["groups"]] == [GID]
    assert page["items"][0]["likes"]["count"] == 4
    assert page["items"][0]["thread"]["items"][0]["likes"]["count"] == 0
    assert "likes" not in page["items"][1]  # deleted
    plain = (await api("wall.getComments", **params))["response"]
    assert "profiles" not in plain and "likes" not in plain["items"][0]


async def test_comment_id_lists_replies(api: Call) -> None:
    replies = (await api("wall.getComments", owner_id=OWNER, post_id=2, comment_id=10, count=100))[
        "response"
    ]
    assert replies["count"] == 12
    assert [r["id"] for r in replies["items"]] == list(range(20, 32))
    assert all(r["parents_stack"] == [10] for r in replies["items"])
    under_deleted = await api("wall.getComments", owner_id=OWNER, post_id=2, comment_id=11)
    assert [r["id"] for r in under_deleted["response"]["items"]] == [40]
    bad = await api("wall.getComments", owner_id=OWNER, post_id=2, comment_id=20)
    assert bad["error"]["error_code"] == 100  # a reply has no thread of its own


async def test_start_comment_id_paging(api: Call) -> None:
    # The real client's continuation: start at the last seen id, skip it with offset=1.
    seen: list[int] = []
    after: int | None = None
    while True:
        params: dict[str, Any] = {"comment_id": 10, "count": 5}
        if after is not None:
            params.update(start_comment_id=after, offset=1)
        items = (await api("wall.getComments", owner_id=OWNER, post_id=2, **params))["response"][
            "items"
        ]
        if not items:
            break
        seen += [c["id"] for c in items]
        after = seen[-1]
    assert seen == list(range(20, 32))
    at = (await api("wall.getComments", owner_id=OWNER, post_id=2, start_comment_id=52, count=2))[
        "response"
    ]
    assert [c["id"] for c in at["items"]] == [52, 53] and at["real_offset"] == 4
    back = await api(
        "wall.getComments", owner_id=OWNER, post_id=2, start_comment_id=52, sort="desc", count=9
    )
    assert [c["id"] for c in back["response"]["items"]] == [52, 51, 50, 11, 10]
    missing = await api("wall.getComments", owner_id=OWNER, post_id=2, start_comment_id=12)
    assert missing["error"]["error_code"] == 100


async def test_execute_limits_and_errors(api: Call, vk: FakeVK) -> None:
    call = ("wall.getComments", {"owner_id": OWNER, "post_id": 2, "count": 1})
    ok = await api("execute", code=execute_code([call] * 25))
    assert len(ok["response"]) == 25 and "execute_errors" not in ok
    too_many = await api("execute", code=execute_code([call] * 26))
    assert too_many["error"]["error_code"] == 13
    assert "Too many API calls" in too_many["error"]["error_msg"]
    mixed = await api(
        "execute",
        code=execute_code(
            [
                call,
                ("wall.getComments", {"owner_id": OWNER, "post_id": 3}),
                ("wall.get", {"owner_id": OWNER, "count": "1"}),
            ]
        ),
    )
    assert mixed["response"][1] is False and mixed["response"][2]["items"][0]["id"] == 1
    assert mixed["execute_errors"] == [
        {
            "method": "wall.getComments",
            "error_code": 212,
            "error_msg": "Access to post comments denied",
        }
    ]
    assert (await api("execute", code="while(true){}"))["error"]["error_code"] == 12
    # Inner calls count as API calls but the execute request only once against the limits.
    assert vk.stats.methods["execute"] == 4
    assert vk.stats.methods["wall.getComments"] == 27 and vk.stats.errors[212] == 1


async def test_execute_response_size_limit(session: aiohttp.ClientSession) -> None:
    async with FakeVK(small_wall(), rps=100, execute_response_limit=2_000) as vk:
        assert vk.url is not None
        api = caller(session, vk.url)
        call = ("wall.getComments", {"owner_id": OWNER, "post_id": 2, "count": 100})
        assert "response" in await api("execute", code=execute_code([call]))
        big = await api("execute", code=execute_code([call] * 5))
        assert big["error"]["error_code"] == 13
        assert "response size is too big" in big["error"]["error_msg"]


async def test_rate_limit_per_token(session: aiohttp.ClientSession) -> None:
    async with FakeVK(small_wall(), rps=3) as vk:
        assert vk.url is not None
        api = caller(session, vk.url, "a")
        codes = [
            (await api("wall.get", owner_id=OWNER)).get("error", {}).get("error_code")
            for _ in range(4)
        ]
        assert codes == [None, None, None, 6]
        # Another token has its own window.
        assert "response" in await caller(session, vk.url, "b")("wall.get", owner_id=OWNER)
        assert vk.stats.error6 == 1 and vk.stats.errors[6] == 1
        assert vk.stats.requests == 5 and vk.stats.max_rate == 4  # rejected ones are measured
        assert vk.stats.max_rate_by_token == {"a": 4, "b": 1}


async def test_a_rejected_token_gets_its_error_and_the_others_are_served(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeVK(small_wall(), rps=3) as vk:
        assert vk.url is not None
        assert "response" in await caller(session, vk.url, "a")("wall.get", owner_id=OWNER)
        vk.reject("a")
        vk.reject("v", 17)
        for token, code in (("a", 5), ("v", 17)):
            for _ in range(4):  # before the rate limit: no error 6 however often it is asked
                answer = await caller(session, vk.url, token)("wall.get", owner_id=OWNER)
                assert answer["error"]["error_code"] == code
        assert "response" in await caller(session, vk.url, "b")("wall.get", owner_id=OWNER)
        assert vk.stats.requests_by_token == {"a": 5, "v": 4, "b": 1}
        assert vk.stats.error6 == 0 and vk.stats.errors[5] == 4 and vk.stats.errors[17] == 4
        with pytest.raises(ValueError, match="rejected with one of"):
            vk.reject("b", 6)


async def test_tokens_and_service_execute(session: aiohttp.ClientSession) -> None:
    tokens = {"u": "user", "s": "service"}
    async with FakeVK(small_wall(), rps=100, tokens=tokens) as vk:
        assert vk.url is not None
        code = execute_code([("wall.get", {"owner_id": OWNER})])
        refused = await caller(session, vk.url, "s")("execute", code=code)
        assert refused["error"]["error_code"] == 15
        assert "response" in await caller(session, vk.url, "s")("wall.get", owner_id=OWNER)
        assert "response" in await caller(session, vk.url, "u")("execute", code=code)
        unknown = await caller(session, vk.url, "x")("wall.get", owner_id=OWNER)
        assert unknown["error"]["error_code"] == 5
        async with session.post(f"{vk.url}/wall.get", data={"v": "5.199"}) as resp:
            assert (await resp.json())["error"]["error_code"] == 5
        no_version = await session.post(f"{vk.url}/wall.get", data={"access_token": "u"})
        assert (await no_version.json())["error"]["error_code"] == 8


async def test_5xx_and_slow_modes(session: aiohttp.ClientSession) -> None:
    async with FakeVK(
        small_wall(), rps=100, fail_5xx_every=2, slow_every=3, slow_seconds=0.2
    ) as vk:
        assert vk.url is not None
        form = {"access_token": "t", "v": "5.199", "owner_id": str(OWNER)}
        statuses = []
        started = time.monotonic()
        for _ in range(4):
            async with session.post(f"{vk.url}/wall.get", data=form) as resp:
                statuses.append(resp.status)
                if resp.status != 200:
                    assert resp.content_type == "text/html"
                    assert "Bad Gateway" in await resp.text() or resp.status == 503
        assert statuses == [200, 502, 200, 503]
        assert time.monotonic() - started >= 0.2
        assert vk.stats.requests == 4 and vk.stats.http_5xx == 2 and vk.stats.slow == 1


async def test_daily_limit(session: aiohttp.ClientSession) -> None:
    async with FakeVK(small_wall(), rps=100, daily_limit_after=2) as vk:
        assert vk.url is not None
        api = caller(session, vk.url)
        results = [await api("utils.resolveScreenName", screen_name="fake_wall") for _ in range(4)]
        assert ["error" in r for r in results] == [False, False, True, True]
        assert results[2]["error"] == {
            "error_code": 29,
            "error_msg": "Rate limit reached",
            "request_params": [
                {"key": "method", "value": "utils.resolveScreenName"},
                {"key": "oauth", "value": "1"},
                {"key": "v", "value": "5.199"},
                {"key": "screen_name", "value": "fake_wall"},
            ],
        }


async def test_on_request_hook_and_mutations(api: Call, vk: FakeVK) -> None:
    calls: list[str] = []

    def hook(method: str, params: dict[str, str]) -> None:
        calls.append(method)
        if method == "wall.getComments" and params.get("offset") == "2":
            vk.add_comment(OWNER, 4, "появился во время чтения")

    before = vk.all_comment_keys()
    assert len(before) == 20 and (OWNER, 2, 40) in before and (OWNER, 2, 11) in before
    vk.on_request = hook
    first = (await api("wall.getComments", owner_id=OWNER, post_id=4, count=2))["response"]
    assert first["count"] == 0
    second = await api("wall.getComments", owner_id=OWNER, post_id=4, offset=2, count=2)
    assert second["response"]["count"] == 1  # the hook ran before the call was served
    new = vk.add_comment(OWNER, 2, "ответ на ответ", reply_to=25)
    assert new.id == 56 and new.reply_to == 25  # ids continue the wall's shared counter
    thread = await api("wall.getComments", owner_id=OWNER, post_id=2, comment_id=10, count=100)
    last = thread["response"]["items"][-1]
    assert last["id"] == 56 and last["reply_to_comment"] == 25 and last["reply_to_user"] == 7
    vk.delete_comment(OWNER, 2, 56)
    post = vk.add_post(OWNER, "свежий пост")
    ids = [p["id"] for p in (await api("wall.get", owner_id=OWNER))["response"]["items"]]
    assert ids == [1, post.id, 4, 3, 2]
    assert vk.all_comment_keys() - before == {(OWNER, 4, 55), (OWNER, 2, 56)}
    assert calls == ["wall.getComments", "wall.getComments", "wall.getComments", "wall.get"]
    assert vk.stats.api_calls == 4


def test_parse_execute_code_forms() -> None:
    plain = (
        'return [API.wall.get({"owner_id": -1, "text": "a), b"}), API.utils.resolveScreenName()];'
    )
    assert parse_execute_code(plain) == (
        [("wall.get", {"owner_id": -1, "text": "a), b"}), ("utils.resolveScreenName", {})],
        True,
    )
    assert parse_execute_code('return API.wall.get({"count":1});') == (
        [("wall.get", {"count": 1})],
        False,
    )
    assert parse_execute_code("return [];") == ([], True)
    for bad in ("return [API.wall.get({)];", "var x = 1; return x;", "return [API.a.b({})"):
        assert parse_execute_code(bad) is None


async def test_real_vk_api_library_against_fake() -> None:
    """vk_api's own method() and VkRequestsPool (both of its execute templates) work."""

    async with FakeVK(small_wall(), rps=100) as vk:
        assert vk.url is not None
        base = vk.url

        class Redirect(requests.Session):
            def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
                url = str(url).replace("https://api.vk.ru/method", base)
                return super().request(method, url, *args, **kwargs)

        def run() -> tuple[Any, ...]:
            session = vk_api.VkApi(token="t", session=Redirect())
            session.RPS_DELAY = 0  # the fake's rate limit is generous here
            group = session.method("groups.getById", {"group_id": "fake_wall"})
            with VkRequestsPool(session) as pool:  # same method -> the loop template
                same = [
                    pool.method("wall.getComments", {"owner_id": OWNER, "post_id": p})
                    for p in (2, 3)
                ]
            with VkRequestsPool(session) as pool:  # mixed methods -> return [API...]
                mixed = [
                    pool.method("wall.get", {"owner_id": OWNER, "count": 1}),
                    pool.method("utils.resolveScreenName", {"screen_name": "fake_wall"}),
                ]
            by_post, errors = vk_api.requests_pool.vk_request_one_param_pool(
                session,
                "wall.getComments",
                key="post_id",
                values=[2, 3],
                default_values={"owner_id": OWNER, "count": 1},
            )
            with pytest.raises(vk_api.ApiError) as closed:
                session.method("wall.getComments", {"owner_id": OWNER, "post_id": 3})
            return group, same, mixed, by_post, errors, closed.value.code

        group, same, mixed, by_post, errors, closed_code = await asyncio.to_thread(run)
        assert group["groups"][0]["id"] == GID
        assert same[0].result["count"] == 7 and not same[1].ok
        assert same[1].error["error_code"] == 212
        assert mixed[0].result["items"][0]["is_pinned"] == 1
        assert mixed[1].result["object_id"] == GID
        assert list(by_post) == [2] and errors[3]["error_code"] == 212
        assert closed_code == 212


def test_synthetic_wall_is_deterministic() -> None:
    a = build_synthetic_wall(7, "syn", 20, 30, texts=TEXTS, seed=3, closed_every=10)
    b = build_synthetic_wall(7, "syn", 20, 30, texts=TEXTS, seed=3, closed_every=10)
    assert a == b
    assert a != build_synthetic_wall(7, "syn", 20, 30, texts=TEXTS, seed=4, closed_every=10)
    comments = [c for p in a.posts for c in p.comments]
    replies = [r for c in comments for r in c.replies]
    assert len(comments) + len(replies) == 600 and len(replies) == 120
    assert sum(c.deleted for c in [*comments, *replies]) == 600 // 37
    assert [p.is_pinned for p in a.posts].count(True) == 1 and a.posts[0].is_pinned
    assert [p.id for p in a.posts if p.comments_closed] == [a.posts[9].id, a.posts[19].id]
    all_ids = [p.id for p in a.posts] + [c.id for c in [*comments, *replies]]
    assert len(set(all_ids)) == len(all_ids)
    for comment in comments:  # replies come after their root, in id order
        assert [r.id for r in comment.replies] == sorted(r.id for r in comment.replies)
        assert all(r.id > comment.id for r in comment.replies)


async def test_big_synthetic_wall_pages_fast(session: aiohttp.ClientSession) -> None:
    """Per-request work is O(page): deep pages of a 100x larger wall cost about the same.

    Compared with a small wall in the same run (best of 3 each), not against a clock, so a busy
    machine slows both sides alike.
    """

    async def deep_reads(posts: int) -> float:
        group = build_synthetic_wall(9, "big", posts, 120, texts=TEXTS)
        async with FakeVK([group], rps=1000) as vk:
            assert vk.url is not None
            api = caller(session, vk.url)
            post, best = group.posts[-1], float("inf")
            hot = post.comments[0]
            assert len(hot.replies) > 10
            calls = [
                ("wall.getComments", {"owner_id": -9, "post_id": post.id, "count": 100}),
                ("wall.getComments", {"owner_id": -9, "post_id": post.id, "comment_id": hot.id}),
            ] * 12
            for _ in range(3):
                started = time.perf_counter()
                last = await api("wall.get", owner_id=-9, offset=posts - 1, count=100)
                assert [p["id"] for p in last["response"]["items"]] == [group.posts[1].id]
                result = await api("execute", code=execute_code(calls))
                assert len(result["response"]) == 24
                best = min(best, time.perf_counter() - started)
            assert len(vk.all_comment_keys()) == posts * 120
            return best

    small, big = await deep_reads(4), await deep_reads(400)
    assert big < 5 * small + 0.05, (small, big)


def test_demo_wall_shape() -> None:
    data = read_sample_wall()
    assert "CC BY-SA 4.0" in data["attribution"] and "Taiga" in data["attribution"]
    assert (ROOT / "fakevk" / "sample_wall.json").stat().st_size < 300_000
    (group,) = load_demo_groups()
    assert (group.id, group.screen_name, group.name) == (
        DEMO_GROUP_ID,
        DEMO_SCREEN_NAME,
        DEMO_GROUP_NAME,
    )
    assert 20 <= len(group.posts) <= 30
    pinned = [p for p in group.posts if p.is_pinned]
    assert len(pinned) == 1 and pinned[0].date == min(p.date for p in group.posts)
    assert sum(p.comments_closed for p in group.posts) == 1
    for post in group.posts:
        total = len(post.comments) + sum(len(c.replies) for c in post.comments)
        assert 3 <= total <= 30
    top = [c for p in group.posts for c in p.comments]
    assert any(len(c.replies) > 10 for c in top)
    assert any(c.deleted and c.replies for c in top)
    assert sum(c.deleted for c in top) + sum(r.deleted for c in top for r in c.replies) >= 3
    fresh = load_demo_groups(now=2_000_000_000)
    newest = max(c.date for p in fresh[0].posts for c in [*p.comments, *p.comments[0].replies])
    assert newest <= 2_000_000_000


def test_demo_wall_is_up_to_date() -> None:
    assert CORPUS.exists(), f"the corpus is missing: {CORPUS}"
    spec = importlib.util.spec_from_file_location(
        "build_demo_wall", ROOT / "scripts" / "build_demo_wall.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve annotations through sys.modules, so register while loading.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    shipped = (ROOT / "fakevk" / "sample_wall.json").read_text(encoding="utf-8")
    assert module.render(module.build_payload(CORPUS)) == shipped


def test_start_in_thread_serves_blocking_clients() -> None:
    vk = FakeVK(small_wall(), rps=100)
    url = vk.start_in_thread()
    try:
        form = {"access_token": "t", "v": "5.199", "screen_name": "fake_wall"}
        body = requests.post(f"{url}/utils.resolveScreenName", data=form, timeout=5).json()
        assert body == {"response": {"type": "group", "object_id": GID}}
    finally:
        vk.stop_thread()
    assert vk.stats.requests == 1
