"""Wall-parsing throughput against the fake VK at its real pace, and how close it is to the ceiling.

Run from the project root::

    .venv/bin/python -m bench.bench_parse [--posts 2000] [--comments 120] [--plain-posts 50]

Everything runs in this process: a private redis-server (for the shared rate limiter and the
checkpoint), the fake VK API in a thread of its own (``FakeVK.start_in_thread``) serving a
synthetic wall at ``--rps`` requests per second, and a SQLite database in a temporary directory.

* batched: ``WallParser`` over the whole wall with ``execute`` batches (the normal mode);
* plain: the same kind of wall, ``--plain-posts`` posts only, with ``client.batching = False``
  (one HTTP request per page), compared per comment.

The ceiling is the least number of requests that wall needs at ``--rps``: wall.get pages and
comment pages (per post ``ceil(top_level / 100)`` pages plus ``ceil(replies / 100)`` for each
thread longer than the 10 replies ``wall.getComments`` previews), each kind packed 25 to an
``execute``.  "of ceiling" is the best possible time divided by ours.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil
import redis.asyncio as aioredis

from core import storage
from core.db import make_engine, make_sessionmaker, migrate
from core.redis_server import RedisServer
from core.vk.client import MAX_EXECUTE_CALLS, VkClient
from core.vk.tokens import TokenPool
from core.vk.wall import PAGE, THREAD_PREVIEW, Totals, WallParser
from fakevk.api import FakeGroup, FakeVK, FakeVKStats, build_synthetic_wall, load_demo_groups

TOKEN = "bench-token-0123456789"
BATCHED_GROUP = 7001
PLAIN_GROUP = 7002


class FakeServer(Protocol):
    """A fake VK serving the wall: in this process (FakeVK) or another (bench_tokens)."""

    @property
    def url(self) -> str | None: ...

    @property
    def stats(self) -> FakeVKStats: ...


@dataclass
class Run:
    name: str
    seconds: float
    totals: Totals
    stored: int
    requests: int
    error6: int
    min_requests: int
    rps: float  # of the whole pool
    cpu_seconds: float  # of this process (parser, database and, when it runs here, the fake)

    @property
    def per_second(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def ceiling_seconds(self) -> float:
        return self.min_requests / self.rps

    @property
    def of_ceiling(self) -> float:
        return self.ceiling_seconds / self.seconds if self.seconds else 0.0


def min_requests(group: FakeGroup) -> int:
    """The fewest requests that read every comment of `group` (25 calls per execute)."""
    wall_pages = math.ceil(len(group.posts) / PAGE)
    comment_pages = 0
    for post in group.posts:
        if post.comments_closed or not post.comments:
            continue
        comment_pages += math.ceil(len(post.comments) / PAGE)
        for comment in post.comments:
            if len(comment.replies) > THREAD_PREVIEW:
                comment_pages += math.ceil(len(comment.replies) / PAGE)
    return math.ceil(wall_pages / MAX_EXECUTE_CALLS) + math.ceil(comment_pages / MAX_EXECUTE_CALLS)


@dataclass(frozen=True)
class WallFacts:
    """What a run is checked against, so that the wall itself need not be kept."""

    group_id: int
    open_comments: int
    min_requests: int

    @classmethod
    def of(cls, group: FakeGroup) -> WallFacts:
        return cls(group.id, open_comments(group), min_requests(group))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / (1024 * 1024)


async def parse_once(
    name: str,
    fake: FakeServer,
    wall: WallFacts,
    redis: aioredis.Redis,
    db_url: str,
    *,
    rps: float,
    batching: bool,
    tokens: tuple[str, ...] = (TOKEN,),
) -> Run:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    assert fake.url is not None
    client = VkClient(TokenPool(redis, tokens, rps), api_url=fake.url)
    client.batching = batching
    parser = WallParser(
        client, sessions, redis, job_id=f"bench-{name}", group_id=wall.group_id, limit=10**9
    )
    before = fake.stats
    requests_before, error6_before = before.requests, before.error6  # it may be the live object
    started, cpu_started = time.perf_counter(), time.process_time()
    totals = await parser.run()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    after = fake.stats
    await parser.clear_checkpoint()
    stored = await storage.count_comments(sessions, -wall.group_id)
    await engine.dispose()
    return Run(
        name=name,
        seconds=seconds,
        totals=totals,
        stored=stored,
        requests=after.requests - requests_before,
        error6=after.error6 - error6_before,
        min_requests=wall.min_requests,
        rps=rps * len(tokens),
        cpu_seconds=cpu_seconds,
    )


def open_comments(group: FakeGroup) -> int:
    """Readable comments on posts whose comments are open: what a parse stores and counts."""
    return sum(
        int(not c.deleted) + sum(int(not r.deleted) for r in c.replies)
        for p in group.posts
        if not p.comments_closed
        for c in p.comments
    )


def posts_label(run: Run) -> str:
    return f"{run.totals.posts_scanned:,}"


def table(batched: Run, plain: Run, rss_start: float, rss_peak: float) -> str:
    ratio = batched.per_second / plain.per_second if plain.per_second else 0.0
    rows = [
        ("wall", f"{posts_label(batched)} posts, {batched.stored:,} comments"),
        ("pace", f"{batched.rps:g} requests/s per token"),
        ("time (batched)", f"{batched.seconds:.1f} s"),
        ("comments/s (batched)", f"{batched.per_second:,.0f}"),
        ("requests sent", f"{batched.requests} (fewest possible: {batched.min_requests})"),
        (
            "error 6 answers",
            f"{batched.error6} ({100 * batched.error6 / max(1, batched.requests):.1f} %)",
        ),
        (
            "ceiling",
            f"{batched.ceiling_seconds:.1f} s -> ours is {100 * batched.of_ceiling:.0f} % of it",
        ),
        (
            f"plain calls ({posts_label(plain)} posts)",
            f"{plain.seconds:.1f} s, {plain.per_second:,.0f} comments/s, "
            f"{plain.requests} requests, {plain.error6} error 6",
        ),
        ("batched vs plain", f"{ratio:.1f}x comments/s"),
        ("memory", f"RSS {rss_start:.0f} MiB with the fake wall built, peak {rss_peak:.0f} MiB"),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    texts = [c.text for p in load_demo_groups()[0].posts for c in p.comments if c.text]
    batched_wall = build_synthetic_wall(
        BATCHED_GROUP, "bench_batched", args.posts, args.comments, texts=texts
    )
    plain_wall = build_synthetic_wall(
        PLAIN_GROUP, "bench_plain", args.plain_posts, args.comments, texts=texts
    )
    redis_server = RedisServer().start()
    fake = FakeVK([batched_wall, plain_wall], rps=args.rps, tokens={TOKEN: "user"})
    fake.start_in_thread()
    redis = aioredis.from_url(redis_server.url)
    rss_start = current_rss_mb()
    try:
        with tempfile.TemporaryDirectory(prefix="vkc-bench-") as tmp:
            db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await migrate(db_url)
            print(
                f"batched: {args.posts} posts x {args.comments} comments at {args.rps:g} rps ...",
                flush=True,
            )
            batched = await parse_once(
                "batched", fake, WallFacts.of(batched_wall), redis, db_url,
                rps=args.rps, batching=True,
            )  # fmt: skip
            print(f"  {batched.seconds:.1f} s, {batched.requests} requests", flush=True)
            await asyncio.sleep(1.1)  # let the pace window drain between the runs
            print(f"plain: {args.plain_posts} posts ...", flush=True)
            plain = await parse_once(
                "plain", fake, WallFacts.of(plain_wall), redis, db_url,
                rps=args.rps, batching=False,
            )  # fmt: skip
            print(f"  {plain.seconds:.1f} s, {plain.requests} requests", flush=True)
    finally:
        await redis.aclose()
        fake.stop_thread()
        redis_server.stop()
    print()
    print(table(batched, plain, rss_start, peak_rss_mb()))
    problems = [
        f"{run.name}: stored {run.stored} of {open_comments(wall)} comments"
        for run, wall in ((batched, batched_wall), (plain, plain_wall))
        if run.stored != open_comments(wall) or run.totals.comments_saved != run.stored
    ]
    for problem in problems:
        print(f"MISMATCH {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_parse", description=__doc__)
    parser.add_argument("--posts", type=int, default=2000, help="posts on the batched wall")
    parser.add_argument("--comments", type=int, default=120, help="comments per post")
    parser.add_argument(
        "--plain-posts", type=int, default=50, help="posts on the wall read with plain calls"
    )
    parser.add_argument("--rps", type=float, default=3.0, help="the fake's and client's pace")
    return asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
