"""Start-up: an unreachable Redis or database ends a starting process with one line and exit 2,
after STARTUP_TIMEOUT of retries; a service that comes up within that window is waited for."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.redis_server import RedisServer, free_port
from tests.conftest import BOT_TOKEN, Process
from tests.test_processes import clean_env, run

ENTRY_POINTS = {
    "python -m bot": ["-m", "bot"],
    "python -m worker": ["-m", "worker"],
    "arq worker.settings.WorkerSettings": ["-m", "arq", "worker.settings.WorkerSettings"],
}
STARTUP_TIMEOUT_S = 2.0


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_unreachable_redis_stops_with_one_line(tmp_path: Path, entry: str) -> None:
    """Each entry point retries for STARTUP_TIMEOUT, then one line naming REDIS_URL, exit 2."""
    env = clean_env(
        tmp_path,
        BOT_TOKEN=BOT_TOKEN,
        REDIS_URL=f"redis://:hunter2@127.0.0.1:{free_port()}/0",
        STARTUP_TIMEOUT=str(STARTUP_TIMEOUT_S),
    )
    started = time.monotonic()
    done = run(ENTRY_POINTS[entry], env, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("REDIS_URL unreachable: ConnectionError: "), lines
    assert "hunter2" not in done.stderr + done.stdout
    assert time.monotonic() - started >= STARTUP_TIMEOUT_S  # it retried for the window


def test_unreachable_database_stops_with_one_line(tmp_path: Path) -> None:
    """DATABASE_URL pointing at a closed port: one line naming DATABASE_URL, exit 2."""
    env = clean_env(
        tmp_path,
        DATABASE_URL=f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/test",
        STARTUP_TIMEOUT=str(STARTUP_TIMEOUT_S),
    )
    done = run(ENTRY_POINTS["python -m worker"], env, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DATABASE_URL unreachable: "), lines
    assert "hunter2" not in done.stderr + done.stdout


async def test_worker_waits_for_redis_that_comes_up(tmp_path: Path) -> None:
    """Redis starting a moment after the worker, within STARTUP_TIMEOUT: the worker comes up."""
    port = free_port()
    env = clean_env(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        STARTUP_TIMEOUT="120",
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
    )
    worker = Process("worker", env, tmp_path / "worker.log")
    server = RedisServer(port)
    try:
        await wait_for_text(worker, "REDIS_URL unreachable, retrying")
        server.start()
        await wait_for_text(worker, "ready")
        assert worker.popen.poll() is None
    finally:
        await worker.stop()
        server.stop()


async def wait_for_text(process: Process, text: str, bound_s: float = 180) -> None:
    """Until `text` shows in the process's output (bounded); fails early if the process ends."""
    async with asyncio.timeout(bound_s):
        while text not in process.output():
            assert process.popen.poll() is None, process.output()[-2000:]
            await asyncio.sleep(0.1)
