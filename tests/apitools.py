"""Helpers for the API tests: `python -m api` as a real process, its tokens, waiting on jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from core.redis_server import free_port
from fakevk.api import FakeVK
from fakevk.wall import build_synthetic_wall
from tests.conftest import BOT_TOKEN, FISHING_TEXTS, VK_TOKEN, Process

ADMIN_TOKEN = "admin-token-0123456789"
USER_TOKEN = "user-token-0123456789"
OTHER_TOKEN = "other-user-token-0123456789"
TOKENS = f"{ADMIN_TOKEN}:admin,{USER_TOKEN}:user,{OTHER_TOKEN}:user"
SECRETS = (ADMIN_TOKEN, USER_TOKEN, OTHER_TOKEN, BOT_TOKEN, VK_TOKEN)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The services' environment plus the API's settings on a free port.

    The API speaks DEFAULT_LANGUAGE; these tests read its English (a test of its own checks the
    Russian default).
    """
    return {
        **env,
        "DEFAULT_LANGUAGE": "en",
        "API_PORT": str(free_port()),
        "API_TOKENS": TOKENS,
        "API_RATE_LIMIT": "100000/minute",
        **extra,
    }


async def wait_ready(process: Process, url: str, bound_s: float = 180.0) -> None:
    """Until the API answers its health check (any answer: 503 is an answer too)."""
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(int(bound_s / 0.25)):
            if process.popen.poll() is not None:
                raise AssertionError(f"python -m api exited:\n{process.output()}")
            with contextlib.suppress(httpx.TransportError):
                await client.get(f"{url}/api/v1/arq/health")
                return
            await asyncio.sleep(0.25)
    raise AssertionError(f"python -m api did not answer in {bound_s} s:\n{process.output()}")


@contextlib.asynccontextmanager
async def api_running(
    env: dict[str, str], tmp_path: Path, *, worker: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """`python -m api` (and `python -m worker`) as processes; a client at the API's address."""
    url = f"http://127.0.0.1:{env['API_PORT']}"
    processes = [Process("api", env, tmp_path / "api.log")]
    if worker:
        processes.append(Process("worker", env, tmp_path / "worker.log"))
    try:
        await wait_ready(processes[0], url)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    finally:
        for process in processes:
            await process.stop()
        for process in processes:
            text = process.output()
            assert not any(secret in text for secret in SECRETS), "a secret leaked into a log"


ENDED = frozenset({"complete", "failed", "aborted", "lost"})


async def wait_status(
    client: httpx.AsyncClient, job_id: str, wanted: frozenset[str] = ENDED, bound_s: float = 120.0
) -> dict[str, Any]:
    """Poll the job's status until it is one of `wanted` or has ended; the last answer."""
    body: dict[str, Any] = {}
    for _ in range(int(bound_s / 0.25)):
        answer = await client.get(f"/api/v1/arq/status/{job_id}", headers=bearer(ADMIN_TOKEN))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] in wanted | ENDED:
            return body
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {job_id} never reached {wanted}: {body}")


LONG_WALLS = ("long_wall", "long_wall_two")


@contextlib.asynccontextmanager
async def slow_vk() -> AsyncIterator[tuple[FakeVK, dict[str, str]]]:
    """A fake VK with two long walls and the settings that make their parse slow (VK_RPS=0.5):
    a parse then runs for minutes, so a test can abort it while it runs without racing it."""
    groups = [
        build_synthetic_wall(
            880001 + i, name, posts=2000, comments_per_post=2, texts=FISHING_TEXTS, pinned=False
        )
        for i, name in enumerate(LONG_WALLS)
    ]
    async with FakeVK(groups, rps=3.0, tokens={VK_TOKEN: "user"}) as server:
        yield server, {"VK_API_URL": str(server.url), "VK_RPS": "0.5"}
