"""The containers' health checks as Docker runs them: `python -m bot|api --check`, exit 0 or 1.

(`python -m worker --check` runs from the image's install in tests/test_image.py, and through
Sentinel and TLS in tests/test_redis_ha.py.)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.redis_server import free_port
from tests.apitools import api_env, api_running
from tests.conftest import ROOT


def service_env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "API_", "REDIS_"))}
    env.pop("DATABASE_URL", None)
    env.update(REDIS_URL=redis_url, DATA_DIR=str(tmp_path / "data"), LANGUAGE="en")
    return env


def check(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, "--check"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip


async def test_bot_check_says_whether_redis_and_the_database_answer(
    tmp_path: Path, redis_url: str
) -> None:
    healthy = await asyncio.to_thread(check, "bot", service_env(tmp_path, redis_url))
    assert healthy.returncode == 0, healthy.stderr
    password_url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    down = await asyncio.to_thread(check, "bot", service_env(tmp_path, password_url))
    assert down.returncode == 1
    assert down.stderr.startswith("REDIS_URL unreachable: ConnectionError"), down.stderr
    assert "hunter2secret" not in down.stderr


@pytest.mark.slow
async def test_api_check_asks_the_running_api(tmp_path: Path, redis_url: str) -> None:
    env = api_env(service_env(tmp_path, redis_url))
    nothing = await asyncio.to_thread(check, "api", env)
    assert nothing.returncode == 1
    assert f"127.0.0.1:{env['API_PORT']}/api/v1/arq/health" in nothing.stderr
    async with api_running(env, tmp_path, worker=False):
        serving = await asyncio.to_thread(check, "api", env)
        assert serving.returncode == 0, serving.stderr
