"""Parsing with a pool of VK tokens: does N tokens parse about N times as fast?

Run from the project root::

    .venv/bin/python -m bench.bench_tokens [--posts 2000] [--comments 120] [--pools 1,2,4]

One large synthetic community is parsed once per pool size (1, 2 and 4 tokens by default) into a
fresh SQLite database each time, against the fake VK enforcing ``--rps`` requests per second per
token, with a private redis-server for the shared paces, all in this process (the fake VK in a
thread of its own), as ``bench.bench_parse`` does for one token. The ceiling of a pool is the
fewest requests the wall needs (25 calls per ``execute``) at tokens x ``--rps``. The goal: with
2 tokens, at least 0.85 x 2 x the one-token ceiling. The machine's load average is printed with
the figures, since the fake VK, Redis, SQLite and the parser share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import redis.asyncio as aioredis

from bench.bench_parse import BATCHED_GROUP, Run, open_comments, parse_once
from core.db import migrate
from core.redis_server import RedisServer
from fakevk.api import FakeVK, build_synthetic_wall, load_demo_groups

GOAL = 0.85  # of 2 x the one-token ceiling, with 2 tokens


def pool_tokens(size: int) -> tuple[str, ...]:
    return tuple(f"bench-pool-token-{n:02d}-0123456789" for n in range(size))


def table(runs: dict[int, Run], fake: FakeVK) -> str:
    lines = [
        "| tokens | time | comments/s | ceiling (comments/s) | of ceiling | requests "
        "(fewest) | error 6 | max requests of one token in 1 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, run in runs.items():
        ceiling = run.stored / run.ceiling_seconds
        most = max(fake.stats.max_rate_by_token.get(t, 0) for t in pool_tokens(size))
        lines.append(
            f"| {size} | {run.seconds:.1f} s | {run.per_second:,.0f} | {ceiling:,.0f} | "
            f"{100 * run.of_ceiling:.0f} % | {run.requests} ({run.min_requests}) | "
            f"{run.error6} | {most} |"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in args.pools.split(",")]
    texts = [c.text for p in load_demo_groups()[0].posts for c in p.comments if c.text]
    wall = build_synthetic_wall(BATCHED_GROUP, "bench_pool", args.posts, args.comments, texts=texts)
    every_token = {t: "user" for size in sizes for t in pool_tokens(size)}
    redis_server = RedisServer().start()
    fake = FakeVK([wall], rps=args.rps, tokens=every_token)
    fake.start_in_thread()
    redis = aioredis.from_url(redis_server.url)
    runs: dict[int, Run] = {}
    loads: list[float] = []
    try:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="vkc-bench-") as tmp:
                db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                await migrate(db_url)
                print(f"{size} token(s): {args.posts} posts x {args.comments} ...", flush=True)
                loads.append(os.getloadavg()[0])
                runs[size] = await parse_once(
                    f"pool{size}", fake, wall, redis, db_url,
                    rps=args.rps, batching=True, tokens=pool_tokens(size),
                )  # fmt: skip
                loads.append(os.getloadavg()[0])
                print(f"  {runs[size].seconds:.1f} s, {runs[size].per_second:,.0f}/s", flush=True)
            await asyncio.sleep(1.1)  # let the pace windows drain between the runs
    finally:
        await redis.aclose()
        fake.stop_thread()
        redis_server.stop()
    print()
    print(f"{open_comments(wall):,} comments at {args.rps:g} requests/s per token; "
          f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(table(runs, fake))
    problems = [
        f"{size} tokens: stored {run.stored} of {open_comments(wall)} comments"
        for size, run in runs.items()
        if run.stored != open_comments(wall) or run.totals.comments_saved != run.stored
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
