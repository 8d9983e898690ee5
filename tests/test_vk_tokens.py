"""The VK token pool against a fake VK that enforces 3 requests/s per token: each token keeps its
pace, a token VK rejects is set aside (one log line, one admin notice) and one at its daily limit
until VK's day ends (one log line) while the others finish the parse, every comment stored once;
/health shows each token by its fingerprint."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from core import storage
from core.settings import Settings
from core.vk.client import VkClient
from core.vk.errors import VkError
from core.vk.tokens import REJECTED, TokenPool, fingerprint, seconds_until_vk_day_ends
from fakevk.api import FakeVK
from tests.conftest import ADMIN_ID, VK_TOKEN, count_comments, running
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import DEMO_GROUP, parse_and_wait, stored_comments
from tests.test_vk_parser import assert_exactly_once, make_parser, open_keys, stored_rows, wall

TOKENS = ("pool-token-a-0123456789", "pool-token-b-0123456789", "pool-token-c-0123456789")
PACE = 3.0  # VK's own limit per token, which the fake enforces
OTHER_TOKEN = "vk-second-token-9876543210"


async def start_pool_fake(groups: list, tokens: tuple[str, ...]) -> FakeVK:  # type: ignore[type-arg]
    """The fake in a thread of its own: in the test's event loop, the parser's work would hold
    requests that arrived on time and then hand them to the fake together, so the fake would
    measure a burst the client never sent."""
    fake = FakeVK(groups, rps=PACE, tokens={t: "user" for t in tokens})
    await asyncio.to_thread(fake.start_in_thread, "127.0.0.1")
    return fake


def pool_client(
    fake: FakeVK, redis: aioredis.Redis, tokens: tuple[str, ...], **pool: object
) -> VkClient:
    assert fake.url is not None
    return VkClient(TokenPool(redis, tokens, PACE, **pool), api_url=fake.url, timeout=10.0)  # type: ignore[arg-type]


def test_pool_is_vk_token_and_vk_tokens_once_each_and_all_secret() -> None:
    settings = Settings(
        vk_token=TOKENS[0], vk_tokens=f" {TOKENS[1]}, {TOKENS[0]},,{TOKENS[2]} ", _env_file=None
    )
    assert settings.vk_pool == list(TOKENS)
    assert set(TOKENS) <= set(settings.secrets())
    assert Settings(vk_tokens=TOKENS[1], _env_file=None).vk_pool == [TOKENS[1]]
    assert TOKENS[1] not in repr(Settings(vk_tokens=TOKENS[1], _env_file=None))


async def test_two_tokens_parse_a_large_wall_each_at_its_own_pace(
    sessions: storage.Sessions, redis: aioredis.Redis
) -> None:
    """Both tokens carry the parse, each at 3 requests in any 1 s window (the fake counts per
    token; at most one request bunched by a starved process), and every comment is stored once."""
    group = wall(400, 110)
    pair = TOKENS[:2]
    fake = await start_pool_fake([group], pair)
    try:
        client = pool_client(fake, redis, pair)
        totals = await make_parser(client, sessions, redis).run()
    finally:
        await asyncio.to_thread(fake.stop_thread)
    assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))
    stats = fake.stats
    # The parser, its HTTP threads and the fake share this one process: a request starved of
    # the CPU between its slot and the wire can arrive bunched with the next ones (as on a real
    # machine under load). The client pushes the token's later slots back when it sees one sent
    # late; one that went late past that check gets VK's error 6, which the client waits out.
    assert stats.error6 <= 1, stats
    most = {t: stats.max_rate_by_token[t] for t in pair}
    assert all(count <= PACE + stats.error6 for count in most.values()), most
    sent = [stats.requests_by_token[t] for t in pair]
    # 400 posts of 110 comments need 2 wall pages and 800 comment pages: 34 executes at least.
    assert sum(sent) >= 34 and min(sent) >= 0.35 * sum(sent), sent


# How VK refuses a token mid-parse: (error code, the daily limit's method or None).
REFUSALS = {
    "rejected-5": (5, None),
    "rejected-17": (17, None),
    "daily-limit": (29, None),
    # VK's per-method limit: one call inside an `execute` batch fails, the batch does not.
    "daily-limit-of-a-method": (29, "wall.getComments"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
async def test_refused_token_is_set_aside_and_the_others_finish(
    sessions: storage.Sessions,
    redis: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
    refusal: str,
) -> None:
    """VK starts refusing one of three tokens mid-parse: it is set aside once (one log line
    naming its fingerprint and for how long; an admin notice when a person must act), the
    parse completes with every comment stored once, and a later parse (another pool over the
    same Redis, as another worker) never uses it. A rejected token comes back in a day, one at
    its daily limit when VK's day ends."""
    code, limited_method = REFUSALS[refusal]
    group, second = wall(200, 110), wall(30, 20, group_id=602)
    fake = await start_pool_fake([group, second], TOKENS)
    bad = TOKENS[1]
    executes = 0

    def reject_midway(method: str, _params: dict[str, str]) -> None:
        nonlocal executes
        executes += method == "execute"
        if executes == 6 and code == 29:
            fake.limit_daily(bad, method=limited_method)
        elif executes == 6:
            fake.reject(bad, code)

    fake.on_request = reject_midway
    notices: list[tuple[str, int]] = []

    async def notice(fp: str, error_code: int) -> None:
        notices.append((fp, error_code))

    try:
        with caplog.at_level(logging.WARNING, logger="core.vk.tokens"):
            client = pool_client(fake, redis, TOKENS, on_set_aside=notice)
            totals = await make_parser(client, sessions, redis).run()
        assert_exactly_once(totals, await stored_rows(sessions), open_keys(fake, group))
        news = [(fingerprint(bad), code)] if code in REJECTED else []
        assert notices == news
        lines = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
        assert lines == [lines[0]] and f"VK token {fingerprint(bad)} set aside for" in lines[0]
        assert f"(error {code}" in lines[0], lines[0]
        assert not any(t in caplog.text for t in TOKENS)
        refused = fake.stats.requests_by_token[bad]

        later = pool_client(fake, redis, TOKENS, on_set_aside=notice)
        again = await make_parser(later, sessions, redis, job_id="job-2", group_id=602).run()
        assert again.comments_parsed == count_comments(602, [second])
        assert fake.stats.requests_by_token[bad] == refused
        assert notices == news
    finally:
        await asyncio.to_thread(fake.stop_thread)
    # Counted before the read, so the day's end can only be nearer when Redis answers; the
    # expiry itself starts when Redis ran SET, a moment after its seconds were counted: +1.
    back_in = 24 * 3600 if code in REJECTED else seconds_until_vk_day_ends()
    states = {s.fingerprint: s for s in await later.pool.states()}
    assert states[fingerprint(bad)].aside_code == code
    assert back_in - 600 < states[fingerprint(bad)].aside_for_s <= back_in + 1
    assert states[fingerprint(TOKENS[0])].aside_code is None
    assert states[fingerprint(TOKENS[0])].last_minute > 0


@pytest.mark.parametrize(
    ("code", "reason"),
    [(5, "every VK token is set aside"), (29, "daily request limit is reached for every VK token")],
)
async def test_every_token_refused_fails_with_a_clear_reason(
    sessions: storage.Sessions, redis: aioredis.Redis, code: int, reason: str
) -> None:
    pair = TOKENS[:2]
    fake = await start_pool_fake([wall(20, 20)], pair)
    for token in pair:
        if code in REJECTED:
            fake.reject(token, code)
        else:
            fake.limit_daily(token)
    try:
        with pytest.raises(VkError) as caught:
            await make_parser(pool_client(fake, redis, pair), sessions, redis).run()
    finally:
        await asyncio.to_thread(fake.stop_thread)
    assert caught.value.fatal and caught.value.code == code
    assert reason in str(caught.value)
    assert "VK_TOKENS" in str(caught.value)


async def test_worker_sets_a_rejected_token_aside_tells_admins_and_health_shows_it(
    app_env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """Real bot and worker with two tokens, one of which VK rejects: the parse completes with the
    other, the admins get one notice naming its fingerprint, /health shows both by fingerprint
    (never the token), and no log holds either token."""
    fake_vk.tokens = {VK_TOKEN: "user", OTHER_TOKEN: "user"}
    fake_vk.reject(OTHER_TOKEN)
    env = {**app_env, "VK_TOKENS": OTHER_TOKEN, "AUTO_ANALYZE": "false", "DEFAULT_LANGUAGE": "en"}
    good, bad = fingerprint(VK_TOKEN), fingerprint(OTHER_TOKEN)
    async with running(env, tmp_path) as processes:
        _job, final = await parse_and_wait(fake_tg, "/parse taiga_demo 100000")
        assert f"{count_comments(DEMO_GROUP, readable=True)} new comments" in final
        notice = await fake_tg.wait_for_message(
            ADMIN_ID, f"VK token {bad} is set aside", timeout=60
        )
        assert "error 5" in (notice.text or "")
        sent = fake_tg.send_text("/health", user_id=ADMIN_ID)
        health = await fake_tg.wait_for_message(ADMIN_ID, "Redis", after=sent, timeout=30)
        text = health.text or ""
        assert f"❌ VK token {bad}: set aside, VK rejected it (error 5" in text, text
        assert f"✅ VK token {good}: ok, " in text, text
        _job, final = await parse_and_wait(fake_tg, "/parse fishing_club 100000")
        worker_log = processes[0].output()
    assert stored_comments(tmp_path / "data") >= count_comments(DEMO_GROUP)
    notices = [m for m in fake_tg.messages(ADMIN_ID) if "is set aside" in (m.text or "")]
    assert len(notices) == 1, [m.text for m in notices]
    assert worker_log.count(f"VK token {bad} set aside") == 1, worker_log[-3000:]
    for process in processes:
        assert OTHER_TOKEN not in process.output()
    chat = " ".join(m.text or "" for m in fake_tg.messages(ADMIN_ID))
    assert OTHER_TOKEN not in chat and VK_TOKEN not in chat
