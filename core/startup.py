"""Start-up waits: Redis and the database get STARTUP_TIMEOUT to answer, else one line and exit 2.

Only a starting process gives up; a running one rides outages out (worker/resilient.py).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import text

from core.db import make_engine
from core.redis_client import connect, redis_target
from core.settings import Settings

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 5.0
REASON_MAX_CHARS = 300
# A health check's probe of one service; Docker's own check timeout (30 s by default) is above.
CHECK_BOUND_S = 10.0

Probe = Callable[[], Awaitable[None]]


async def require_services(settings: Settings) -> None:
    """Wait for the database, then Redis, within one STARTUP_TIMEOUT shared by both."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.startup_timeout
    await wait_until_reachable(
        "DATABASE_URL", lambda: _probe_database(settings.db_url), deadline, settings.db_url
    )
    await wait_until_reachable(
        redis_target(settings), lambda: _probe_redis(settings), deadline, settings.redis_url or ""
    )


async def services_problem(settings: Settings) -> str | None:
    """One try at the database and Redis, each within CHECK_BOUND_S: None when both answer,
    else `NAME unreachable: why` (a health check's verdict, with no password in it)."""
    probes: list[tuple[str, Probe, str]] = [
        ("DATABASE_URL", partial(_probe_database, settings.db_url), settings.db_url),
        (redis_target(settings), partial(_probe_redis, settings), settings.redis_url or ""),
    ]
    for name, probe, url in probes:
        try:
            async with asyncio.timeout(CHECK_BOUND_S):
                await probe()
        except Exception as error:
            return f"{name} unreachable: {reason(error, url)}"
    return None


async def wait_until_reachable(name: str, probe: Probe, deadline: float, url: str) -> None:
    """Retry `probe` with backoff until `deadline` (loop time); then `NAME unreachable: why`
    on stderr and exit code 2. The URL's password never shows in that line."""
    loop = asyncio.get_running_loop()
    delay = FIRST_DELAY_S
    waiting_logged = False
    while True:
        try:
            async with asyncio.timeout(max(deadline - loop.time(), FIRST_DELAY_S)):
                await probe()
            if waiting_logged:
                log.info("%s answers", name)
            return
        except Exception as error:
            if loop.time() + delay >= deadline:
                print(f"{name} unreachable: {reason(error, url)}", file=sys.stderr, flush=True)
                raise SystemExit(2) from None
            if not waiting_logged:
                log.debug("%s unreachable, retrying: %s", name, reason(error, url))
                waiting_logged = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY_S)


def reason(error: BaseException, url: str) -> str:
    """The first line of the error, short, with the URL's password masked."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    message = f"{type(error).__name__}: {first}" if first else type(error).__name__
    password = urlsplit(url).password if "://" in url else None
    if password:
        message = message.replace(password, "***")
    return message[:REASON_MAX_CHARS]


async def _probe_database(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _probe_redis(settings: Settings) -> None:
    redis = await connect(settings)
    try:
        await redis.ping()
    finally:
        await redis.aclose()
