"""Riding out database and Redis blips in the worker's own code paths (hooks, heartbeat, sweeper).

No retry library here: what matters is the log (one line when a thing starts failing, one when it
recovers), and the loop around it is a few lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean "the database or Redis is unavailable right now", not "our code is wrong".
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT)


class Condition:
    """Logs a named activity's health only when it changes: failing, then recovered."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing_since: float | None = None

    def failed(self, error: BaseException) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("%s failing (%s); retrying", self.what, type(error).__name__)

    def recovered(self) -> None:
        if self.failing_since is not None:
            took = time.monotonic() - self.failing_since
            self.failing_since = None
            log.warning("%s recovered after %.1f s", self.what, took)


async def patiently(
    what: str, operation: Callable[[], Awaitable[T]], *, budget: float = 120.0
) -> T | None:
    """Run `operation`, retrying transient errors with backoff for up to `budget` seconds.

    Never raises an Exception: a bug is logged with its traceback, a longer outage is logged
    once and given up (the sweeper reconciles what was left undone). Cancellation passes.
    """
    condition = Condition(what)
    deadline = time.monotonic() + budget
    delay = 0.2
    while True:
        try:
            result = await operation()
        except Exception as error:
            if not is_transient(error):
                log.exception("%s failed; the sweeper will reconcile it", what)
                return None
            condition.failed(error)
            if time.monotonic() + delay > deadline:
                log.error("%s gave up after %.0f s; the sweeper will reconcile it", what, budget)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            condition.recovered()
            return result
