"""Every Redis client of the product comes from here: plain, TLS (`rediss://`) or via Sentinel.

The settings become one arq `RedisSettings` (the worker hands it to arq), and `connect` builds
the clients from that same object, so the queue door, the worker, the bot and the API always
reach the same Redis the same way.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio.client import Pipeline
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.settings import Settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_settings(settings: Settings) -> RedisSettings:
    """REDIS_URL (password, database, `rediss://` for TLS), and with REDIS_SENTINELS the
    sentinels to ask for REDIS_SENTINEL_MASTER instead of the URL's host and port."""
    found = RedisSettings.from_dsn(settings.redis_url or DEFAULT_REDIS_URL)
    found.conn_timeout = settings.redis_timeout  # type: ignore[assignment]  # arq types it int
    if settings.redis_sentinels:
        found.host = list(settings.redis_sentinels)
        found.sentinel = True
        found.sentinel_master = settings.redis_sentinel_master
    if settings.redis_tls_ca_file is not None:
        found.ssl_ca_certs = str(settings.redis_tls_ca_file)
    return found


def worker_key(worker_id: str) -> str:
    """A live worker's heartbeat key (here, not in core.jobstate, so that a container's health
    check imports only what it needs)."""
    return f"vkc:worker:{worker_id}"


def redis_target(settings: Settings) -> str:
    """The variable that says where Redis is, for "... unreachable" lines."""
    return "REDIS_SENTINELS" if settings.redis_sentinels else "REDIS_URL"


async def connect(settings: Settings) -> ArqRedis:
    """An arq Redis client whose every connect, command and pipeline is bounded by REDIS_TIMEOUT.

    arq's `create_pool` passes no socket timeout to redis-py: a command to a Redis that stopped
    answering would wait forever, and a chat command would never get its "queue unavailable"
    answer. Connections are made lazily, and remade after an outage (through Sentinel: to
    whichever server is the master by then).
    """
    found = redis_settings(settings)
    server = {
        "db": found.database,
        "username": found.username,
        "password": found.password,
        "ssl": found.ssl,
        "socket_connect_timeout": settings.redis_timeout,
    }
    if found.ssl:
        server.update(ssl_cert_reqs=found.ssl_cert_reqs, ssl_ca_certs=found.ssl_ca_certs)
    redis: BoundedRedis
    if found.sentinel:
        # Asking the sentinels where the master is: rare, redis-py's own bounds will do.
        asking = {"socket_connect_timeout": settings.redis_timeout}
        asking["socket_timeout"] = settings.redis_timeout
        sentinels = Sentinel(found.host, sentinel_kwargs=asking, **server)  # type: ignore[no-untyped-call]
        redis = sentinels.master_for(found.sentinel_master, redis_class=BoundedRedis)
    else:
        redis = BoundedRedis(
            host=str(found.host),
            port=found.port,
            unix_socket_path=found.unix_socket_path,
            **server,  # type: ignore[arg-type]
        )
    redis.bound = settings.redis_timeout
    redis.default_queue_name = settings.arq_queue_name
    redis.auto_close_connection_pool = True  # aclose() closes the connections it made
    return redis


class BoundedRedis(ArqRedis):
    """`ArqRedis` with each command, and each pipeline as a whole, bounded by `bound` seconds.

    Not redis-py's `socket_timeout`: that bounds every write with `asyncio.wait_for` (a task of
    its own) and every reply with a timer of its own, so a pipeline of six commands cost seven
    timers, and at queue speed the timers cost a tenth of a worker's CPU per job (measured with
    `bench.bench_queue`). A command cut off by the bound leaves its connection closed (redis-py
    drops a connection whose reply was not read), and raises redis-py's TimeoutError.
    """

    bound: float | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        async with _bounded(self.bound):
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipeline = BoundedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipeline.bound = self.bound
        return pipeline


class BoundedPipeline(Pipeline):
    """A pipeline whose execution, and each command run at once (while watching), is bounded."""

    bound: float | None = None

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        async with _bounded(self.bound):
            return await super().execute(raise_on_error)

    async def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        async with _bounded(self.bound):
            return await super().immediate_execute_command(*args, **options)  # type: ignore[no-untyped-call]


class _bounded:  # used as `async with _bounded(...)`, like asyncio.timeout
    """`asyncio.timeout` raising redis-py's TimeoutError, which callers handle as a RedisError."""

    __slots__ = ("timeout",)

    def __init__(self, bound: float | None) -> None:
        self.timeout = asyncio.timeout(bound)

    async def __aenter__(self) -> None:
        await self.timeout.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            await self.timeout.__aexit__(exc_type, exc_val, exc_tb)
        except TimeoutError:
            raise RedisTimeoutError("Redis did not answer in time") from None
