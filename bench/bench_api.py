"""Enqueue throughput through the REST API against `JobQueue.submit` directly, in the same run.

Run from the project root::

    .venv/bin/python -m bench.bench_api [--jobs 2000] [--concurrency 20] [--rounds 2]

A private redis-server and a SQLite file in a temporary directory; `python -m api` as a real
process (LOG_LEVEL=WARNING, so no access log line per request) on 127.0.0.1. Both sides enqueue
the same job (`analyze_text_morphology`, no dedupe) with `--concurrency` requests in flight, and
no worker runs: this measures the door, not the jobs. Each request of the API side is a full HTTP
round trip (auth, rate limit, validation, audit row, arq enqueue, JSON answer); the direct side
is the same `submit` without HTTP. Rounds alternate direct/API; the best round of each is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from core.catalog import CATALOG
from core.db import make_engine, make_sessionmaker, migrate
from core.queue import JobQueue, validate_args
from core.redis_client import connect
from core.redis_server import RedisServer, free_port
from core.settings import Settings

TOKEN = "bench-token-0123456789"
JOB = "analyze_text_morphology"
TEXT = "Щас на рыбалку"


@dataclass
class Round:
    name: str
    seconds: float
    latencies: list[float]
    cpu_s: float = 0.0  # CPU time of the process doing the enqueueing (the API's, or ours)

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / len(self.latencies) * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def timed(
    name: str,
    jobs: int,
    concurrency: int,
    one: Callable[[], Awaitable[None]],
    server: psutil.Process,
) -> Round:
    """`jobs` calls of `one`, `concurrency` at a time; each call's latency, `server`'s CPU."""
    latencies: list[float] = []

    async def lane(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - started)

    share, extra = divmod(jobs, concurrency)
    cpu, started = cpu_seconds(server), time.perf_counter()
    await asyncio.gather(*(lane(share + (i < extra)) for i in range(concurrency)))
    seconds = time.perf_counter() - started
    return Round(name, seconds, latencies, cpu_seconds(server) - cpu)


def start_api(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


async def wait_up(client: httpx.AsyncClient, api: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if api.poll() is not None:
            raise SystemExit("python -m api exited; see its log")
        try:
            await client.get("/api/v1/arq/health")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise SystemExit("python -m api did not start in 120 s")


async def bench(jobs: int, concurrency: int, rounds: int) -> list[Round]:
    workdir = Path(tempfile.mkdtemp(prefix="vkc-bench-api-"))
    redis_server = RedisServer().start()
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "DATA_DIR": str(workdir),
        "API_PORT": str(port),
        "API_TOKENS": f"{TOKEN}:user",
        "API_RATE_LIMIT": "1000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    settings = Settings(redis_url=redis_server.url, data_dir=workdir)
    engine = make_engine(settings.db_url)
    await migrate(settings.db_url)
    redis = await connect(settings)
    queue = JobQueue(redis, make_sessionmaker(engine), settings)
    spec = CATALOG[JOB]
    args = validate_args(spec, {"text": TEXT}, settings)
    api = start_api(env, workdir / "api.log")
    # Idle connections dropped before uvicorn's 5 s keep-alive ends: at equal limits a request
    # can go out on a connection the server is closing (one run ended in httpx.ReadError).
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"function_name": JOB, "args": [TEXT]}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60, headers=headers
        ) as client:
            await wait_up(client, api)

            async def direct() -> None:
                await queue.submit(spec, args, user_id=None, chat_id=None, language=None)

            async def over_http() -> None:
                answer = await client.post("/api/v1/arq/enqueue", json=body)
                if answer.status_code != 202:
                    raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text}")

            here, server = psutil.Process(), psutil.Process(api.pid)
            await timed("warm-up", 100, concurrency, direct, here)
            await timed("warm-up", 100, concurrency, over_http, server)
            results = []
            for _ in range(rounds):
                results.append(await timed("JobQueue.submit", jobs, concurrency, direct, here))
                results.append(await timed("REST API", jobs, concurrency, over_http, server))
            return results
    finally:
        api.terminate()
        api.wait(timeout=30)
        await redis.aclose()
        await engine.dispose()
        redis_server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per round and side")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side")
    options = parser.parse_args()
    results = asyncio.run(bench(options.jobs, options.concurrency, options.rounds))
    best = {}
    for run in results:
        if run.name not in best or run.rate > best[run.name].rate:
            best[run.name] = run
    print(f"{options.jobs} enqueues per round, {options.concurrency} in flight, best of "
          f"{options.rounds} rounds each")  # fmt: skip
    print(f"{'path':<16} {'enqueues/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/enqueue':>15}")
    for run in best.values():
        print(f"{run.name:<16} {run.rate:>11,.0f} {run.percentile(50):>8.1f} "
              f"{run.percentile(99):>8.1f} {run.cpu_ms:>15.2f}")  # fmt: skip
    print("CPU ms/enqueue: the API process's for the API, this process's for the direct path")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ratio = best["REST API"].rate / best["JobQueue.submit"].rate
    print(f"API / direct: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
