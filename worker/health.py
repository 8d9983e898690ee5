"""`python -m worker --check`: whether a worker of this host (in Docker: this container) is alive.

arq's health key is one per queue, so it cannot tell one worker from another; each worker's own
heartbeat key (worker/context.py) starts with its host name, which in Docker is the container's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid

from core.redis_client import connect, redis_target, worker_key
from core.settings import Settings, load_settings

GLOB_SPECIALS = "\\*?[]"


def new_worker_id() -> str:
    """`host:pid:random`: the host first, so a health check finds its own workers' keys."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def this_host_keys() -> str:
    """The pattern of the heartbeat keys of this host's workers."""
    host = "".join(f"\\{c}" if c in GLOB_SPECIALS else c for c in socket.gethostname())
    return worker_key(f"{host}:*")


async def live_workers_here(settings: Settings) -> int:
    """How many workers of this host have a heartbeat key (it expires WORKER_LOST_AFTER after
    the last beat, so an existing key is a fresh one)."""
    redis = await connect(settings)
    try:
        return len([key async for key in redis.scan_iter(match=this_host_keys(), count=500)])
    finally:
        await redis.aclose()


def check() -> int:
    """Exit code for Docker's HEALTHCHECK: 0 when a worker of this host beats, else 1."""
    settings = load_settings()
    try:
        count = asyncio.run(live_workers_here(settings))
    except Exception as error:
        from core.startup import reason  # only when failing: the check stays a light process

        why = reason(error, settings.redis_url or "")
        print(f"{redis_target(settings)} unreachable: {why}", file=sys.stderr)
        return 1
    if count == 0:
        print(f"no live worker on {socket.gethostname()}", file=sys.stderr)
        return 1
    print(f"{count} live worker(s) on {socket.gethostname()}")
    return 0
