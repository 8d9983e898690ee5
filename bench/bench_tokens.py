"""Parsing with a pool of VK tokens: does N tokens parse about N times as fast?

Run from the project root::

    .venv/bin/python -m bench.bench_tokens [--posts 2000] [--comments 120] [--pools 1,2,4]

One large synthetic community is parsed once per pool size (1, 2 and 4 tokens by default) into a
fresh SQLite database each time, against the fake VK enforcing ``--rps`` requests per second per
token, with a private redis-server for the shared paces. The fake VK runs in a process of its own
(forked at start), so the parser's CPU time is measured apart from the fake's; the parser, its
database and Redis are this process and the redis-server. The ceiling of a pool is the
fewest requests the wall needs (25 calls per ``execute``) at tokens x ``--rps``. The goal: with
2 tokens, at least 0.85 x 2 x the one-token ceiling. The machine's load average is printed with
the figures, since the fake VK, Redis, SQLite and the parser share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import redis.asyncio as aioredis

from bench.bench_parse import BATCHED_GROUP, Run, WallFacts, parse_once
from core.db import migrate
from core.redis_server import RedisServer
from fakevk.api import FakeGroup, FakeVK, FakeVKStats, build_synthetic_wall, load_demo_groups
from worker.context import freeze_startup_heap

GOAL = 0.85  # of 2 x the one-token ceiling, with 2 tokens


def pool_tokens(size: int) -> tuple[str, ...]:
    return tuple(f"bench-pool-token-{n:02d}-0123456789" for n in range(size))


def bench_wall(posts: int, comments: int) -> FakeGroup:
    """The same wall in both processes (a synthetic wall is a function of its arguments)."""
    texts = [c.text for p in load_demo_groups()[0].posts for c in p.comments if c.text]
    return build_synthetic_wall(BATCHED_GROUP, "bench_pool", posts, comments, texts=texts)


def serve_fake(conn: Connection, posts: int, comments: int, rps: float, tokens: list[str]) -> None:
    """The child process: serve the wall; answer "stats" with the counters and the CPU time
    used so far, until "stop"."""
    fake = FakeVK([bench_wall(posts, comments)], rps=rps, tokens={t: "user" for t in tokens})
    conn.send(fake.start_in_thread())
    while conn.recv() == "stats":
        conn.send((fake.stats, time.process_time()))
    fake.stop_thread()


class RemoteFake:
    """The parent's handle on the fake VK child."""

    def __init__(self, posts: int, comments: int, rps: float, tokens: list[str]) -> None:
        self._conn, child_end = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(
            target=serve_fake, args=(child_end, posts, comments, rps, tokens), daemon=True
        )
        self._process.start()
        self.url: str | None = self._conn.recv()

    @property
    def stats(self) -> FakeVKStats:
        return self.stats_and_cpu()[0]

    def stats_and_cpu(self) -> tuple[FakeVKStats, float]:
        self._conn.send("stats")
        stats, cpu = self._conn.recv()
        return stats, cpu

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)


def table(runs: dict[int, Run], fake_cpu: dict[int, float], stats: FakeVKStats) -> str:
    lines = [
        "| tokens | time | comments/s | ceiling | of ceiling | requests (fewest) | error 6 "
        "| most requests of one token in 1 s | CPU s: parser + db / fake VK |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, run in runs.items():
        ceiling = run.stored / run.ceiling_seconds
        most = max(stats.max_rate_by_token.get(t, 0) for t in pool_tokens(size))
        lines.append(
            f"| {size} | {run.seconds:.1f} s | {run.per_second:,.0f} | {ceiling:,.0f}/s | "
            f"{100 * run.of_ceiling:.0f} % | {run.requests} ({run.min_requests}) | "
            f"{run.error6} | {most} | {run.cpu_seconds:.1f} / {fake_cpu[size]:.1f} |"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.pools.split(",")]
    every_token = sorted({t for size in sizes for t in pool_tokens(size)})
    # Forked first, before this process has threads or an event loop of its own.
    fake = RemoteFake(args.posts, args.comments, args.rps, every_token)
    # Facts, not the wall: the parser's process holds only what a worker would.
    wall = WallFacts.of(bench_wall(args.posts, args.comments))
    freeze_startup_heap()  # as a worker does
    redis_server = RedisServer().start()
    redis = aioredis.from_url(redis_server.url)
    runs: dict[int, Run] = {}
    fake_cpu: dict[int, float] = {}
    loads: list[float] = []
    try:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="vkc-bench-") as tmp:
                db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                await migrate(db_url)
                print(f"{size} token(s): {args.posts} posts x {args.comments} ...", flush=True)
                loads.append(os.getloadavg()[0])
                cpu_before = fake.stats_and_cpu()[1]
                runs[size] = await parse_once(
                    f"pool{size}", fake, wall, redis, db_url,
                    rps=args.rps, batching=True, tokens=pool_tokens(size),
                )  # fmt: skip
                fake_cpu[size] = fake.stats_and_cpu()[1] - cpu_before
                loads.append(os.getloadavg()[0])
                print(f"  {runs[size].seconds:.1f} s, {runs[size].per_second:,.0f}/s", flush=True)
            await asyncio.sleep(1.1)  # let the pace windows drain between the runs
        stats = fake.stats
    finally:
        await redis.aclose()
        fake.stop()
        redis_server.stop()
    print()
    print(f"{wall.open_comments:,} comments at {args.rps:g} requests/s per token; "
          f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(table(runs, fake_cpu, stats))
    problems = [
        f"{size} tokens: stored {run.stored} of {wall.open_comments} comments"
        for size, run in runs.items()
        if run.stored != wall.open_comments or run.totals.comments_saved != run.stored
    ]
    if 1 in runs and 2 in runs:
        one_ceiling = runs[1].stored / runs[1].ceiling_seconds
        reached = runs[2].per_second / (2 * one_ceiling)
        verdict = "met" if reached >= GOAL else "NOT met"
        print(f"2 tokens: {reached:.2f} x 2 x the one-token ceiling (goal {GOAL}): {verdict}")
    for problem in problems:
        print(f"MISMATCH {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_tokens", description=__doc__)
    parser.add_argument("--posts", type=int, default=2000, help="posts on the wall")
    parser.add_argument("--comments", type=int, default=120, help="comments per post")
    parser.add_argument("--pools", default="1,2,4", help="pool sizes to run, comma-separated")
    parser.add_argument("--rps", type=float, default=3.0, help="the fake's pace per token")
    return asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
