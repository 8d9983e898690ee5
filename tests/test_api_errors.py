"""What a client that gets it wrong hears from `python -m api`: JSON with a clear message and
the right status, the bad field named; health without a token, 503 while Redis is down."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.redis_server import RedisServer
from tests.apitools import (
    ADMIN_TOKEN,
    OTHER_TOKEN,
    USER_TOKEN,
    api_env,
    api_running,
    bearer,
)
from tests.conftest import ROOT

ENQUEUE = "/api/v1/arq/enqueue"
PARSE = "/api/v1/comments/parse/vk/async"
PROTECTED = [
    ("POST", ENQUEUE),
    ("GET", "/api/v1/arq/status/abc"),
    ("GET", "/api/v1/arq/result/abc"),
    ("DELETE", "/api/v1/arq/abort/abc"),
    ("GET", "/api/v1/arq/queue/info"),
    ("POST", f"{PARSE}?group_id=1"),
    ("POST", "/api/v1/comments/analyze/async?group_id=1"),
    ("POST", "/api/v1/comments/report/async"),
    ("POST", "/api/v1/comments/cleanup/async"),
    ("GET", "/dashboard/data"),
]


async def expect(answer: httpx.Response, status: int, field: str | None = None) -> str:
    """The answer is JSON error `status` naming `field`; its message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False and body["message"], body
    if field is not None:
        assert body["field"] == field, body
        assert field.rsplit(".", 1)[-1] in body["message"], body
    return str(body["message"])


async def test_refusals(app_env: dict[str, str], tmp_path: Path) -> None:
    """401 without or with a wrong token, 403 for admin jobs, 422 naming the field, 404, 413."""
    env = api_env(app_env, API_MAX_BODY_BYTES="4096")
    async with api_running(env, tmp_path, worker=False) as client:
        for method, path in PROTECTED:
            for headers in ({}, bearer("not-a-token-at-all")):
                answer = await client.request(method, path, headers=headers)
                await expect(answer, 401)
                assert answer.headers["www-authenticate"] == "Bearer"
        assert (await client.get("/api/v1/arq/health")).status_code == 200

        for name, kwargs in (
            ("send_notification", {"chat_id": 1, "text": "hello"}),
            ("analyze_comment_chunk", {"owner_id": -1}),
        ):
            body = {"function_name": name, "kwargs": kwargs}
            await expect(await client.post(ENQUEUE, json=body, headers=bearer(USER_TOKEN)), 403)

        user = bearer(USER_TOKEN)
        bad_bodies = [
            ({"args": []}, "function_name"),
            ({"function_name": "no_such_job"}, "function_name"),
            ({"function_name": "parse_vk_comments"}, "kwargs.group"),
            ({"function_name": "parse_vk_comments", "args": ["1", "many"]}, "kwargs.limit"),
            ({"function_name": "parse_vk_comments", "args": ["1", 10**9]}, "kwargs.limit"),
            ({"function_name": "parse_vk_comments", "kwargs": {"group": "1", "x": 1}}, "kwargs.x"),
            ({"function_name": "parse_vk_comments", "args": ["1", 1, 1, 1]}, "args"),
            ({"function_name": "parse_vk_comments", "args": ["a b c"]}, "kwargs.group"),
        ]
        for body, field in bad_bodies:
            await expect(await client.post(ENQUEUE, json=body, headers=user), 422, field)
        garbled = await client.post(ENQUEUE, content=b"{not json", headers=user)
        await expect(garbled, 422, "body")
        bad_queries = [
            ({"limit": 5}, "group_id"),
            ({"group_id": "1", "limit": 0}, "limit"),
            ({"group_id": "1", "limit": "lots"}, "limit"),
            ({"group_id": "1", "days": 99999}, "days"),
            ({"group_id": "1", "notify_chat_id": 555}, "notify_chat_id"),
        ]
        for params, field in bad_queries:
            await expect(await client.post(PARSE, params=params, headers=user), 422, field)
        analyze = "/api/v1/comments/analyze/async"
        for params, field in (
            ({"group_id": "1", "comment_ids": "1,x"}, "comment_ids"),
            ({"group_id": "1", "analysis_type": "astrology"}, "analysis_type"),
            ({"group_id": "1", "analysis_type": "keywords", "comment_ids": "1"}, "comment_ids"),
            ({"group_id": "1", "comment_ids": "5,0"}, "comment_ids"),
            ({"group_id": "1", "comment_ids": ","}, "comment_ids"),
            ({"group_id": "1", "comment_ids": ",".join(map(str, range(1, 1002)))}, "comment_ids"),
        ):
            await expect(await client.post(analyze, params=params, headers=user), 422, field)
        await expect(await client.get("/api/v1/arq/status/a%20b", headers=user), 422, "job_id")

        for method, path in (
            ("GET", "/api/v1/arq/status/0123456789abcdef"),
            ("GET", "/api/v1/arq/result/0123456789abcdef"),
            ("DELETE", "/api/v1/arq/abort/0123456789abcdef"),
            ("GET", "/api/v1/no/such/route"),
        ):
            await expect(await client.request(method, path, headers=user), 404)

        huge = {"function_name": "analyze_text_morphology", "args": ["слово " * 2000]}
        await expect(await client.post(ENQUEUE, json=huge, headers=user), 413)


async def test_rate_limit_per_token(app_env: dict[str, str], tmp_path: Path) -> None:
    """Past the limit a token gets 429 with Retry-After; other tokens are not affected."""
    env = api_env(app_env, API_RATE_LIMIT="5/minute")
    async with api_running(env, tmp_path, worker=False) as client:
        for _ in range(5):
            answer = await client.get("/api/v1/arq/queue/info", headers=bearer(USER_TOKEN))
            assert answer.status_code == 200, answer.text
        limited = await client.get("/api/v1/arq/queue/info", headers=bearer(USER_TOKEN))
        await expect(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        other = await client.get("/api/v1/arq/queue/info", headers=bearer(OTHER_TOKEN))
        assert other.status_code == 200
        assert (await client.get("/api/v1/arq/health")).status_code == 200
        # Wrong tokens count against the caller's address: no guessing at full speed.
        for _ in range(5):
            guess = await client.get("/api/v1/arq/queue/info", headers=bearer("guess-0123456"))
            await expect(guess, 401)
        await expect(await client.get("/api/v1/arq/queue/info", headers=bearer("guess-6")), 429)


async def test_health_follows_redis(app_env: dict[str, str], tmp_path: Path) -> None:
    """Redis stops: health says 503 and what is down; Redis returns: 200 again, no restart."""
    redis = RedisServer().start()
    env = api_env(app_env, REDIS_URL=redis.url)
    try:
        async with api_running(env, tmp_path, worker=False) as client:
            healthy = await client.get("/api/v1/arq/health")
            assert healthy.status_code == 200, healthy.text
            body = healthy.json()
            assert body["service"] == "ARQ" and body["healthy"] is True
            assert body["timestamp"].endswith("Z")
            assert body["details"]["redis_connected"] is True
            assert body["details"]["queue_info"] == {
                "queue_name": env["ARQ_QUEUE_NAME"],
                "queued_jobs_count": 0,
            }
            redis.kill()
            down = await client.get("/api/v1/arq/health")
            assert down.status_code == 503, down.text
            assert down.json()["healthy"] is False
            assert down.json()["details"]["redis_connected"] is False
            failing = await client.get("/api/v1/arq/queue/info", headers=bearer(ADMIN_TOKEN))
            await expect(failing, 503)

            redis = RedisServer(port=redis.port).start()
            for _ in range(120):
                back = await client.get("/api/v1/arq/health")
                if back.status_code == 200:
                    break
                await asyncio.sleep(0.25)
            assert back.status_code == 200, back.text
            assert back.json()["details"]["redis_connected"] is True
    finally:
        redis.stop()


def start_api(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"API_TOKENS": ""}, "API_TOKENS"),
        ({"API_TOKENS": "", "API_OPEN_LOCAL": "true", "API_HOST": "0.0.0.0"}, "API_HOST"),
        ({"API_TOKENS": "short:admin"}, "API_TOKENS"),
        ({"API_TOKENS": "long-enough-token:root"}, "API_TOKENS"),
    ],
)
def test_refuses_to_start(app_env: dict[str, str], settings: dict[str, str], says: str) -> None:
    """No token and not API_OPEN_LOCAL, or a bad setting: one line naming it, exit code 2."""
    finished = start_api({**api_env(app_env), **settings})
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().startswith(f"configuration error: {says}")
    assert "long-enough-token" not in finished.stderr and "short" not in finished.stderr


async def test_open_local_needs_no_token(app_env: dict[str, str], tmp_path: Path) -> None:
    """API_OPEN_LOCAL=true without tokens: this machine's requests are served as an admin's."""
    env = api_env(app_env, API_TOKENS="", API_OPEN_LOCAL="true")
    async with api_running(env, tmp_path, worker=False) as client:
        answer = await client.get("/api/v1/arq/queue/info")
        assert answer.status_code == 200, answer.text
        admin_job = {"function_name": "send_notification", "kwargs": {"chat_id": 1, "text": "x"}}
        assert (await client.post(ENQUEUE, json=admin_job)).status_code == 202
