"""Every Redis client of the product comes from here: plain, TLS (`rediss://`) or via Sentinel.

The settings become one arq `RedisSettings` (the worker hands it to arq), and `connect` builds
the clients from that same object, so the queue door, the worker, the bot and the API always
reach the same Redis the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio.connection import AbstractConnection
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
    """An arq Redis client whose every connect and command is bounded by REDIS_TIMEOUT.

    arq's `create_pool` passes no socket timeout to redis-py: a command to a Redis that stopped
    answering would wait forever, and a chat command would never get its "queue unavailable"
    answer. Connections are made lazily, and remade after an outage (through Sentinel: to
    whichever server is the master by then).
    """
    found = redis_settings(settings)
    timeouts = {
        "socket_connect_timeout": settings.redis_timeout,
        "socket_timeout": settings.redis_timeout,
    }
    server = {
        "db": found.database,
        "username": found.username,
        "password": found.password,
        "ssl": found.ssl,
        **timeouts,
    }
    if found.ssl:
        server.update(ssl_cert_reqs=found.ssl_cert_reqs, ssl_ca_certs=found.ssl_ca_certs)
    if found.sentinel:
        sentinels = Sentinel(found.host, sentinel_kwargs=timeouts, **server)  # type: ignore[no-untyped-call]
        redis: ArqRedis = sentinels.master_for(found.sentinel_master, redis_class=ArqRedis)
    else:
        redis = ArqRedis(
            host=str(found.host),
            port=found.port,
            unix_socket_path=found.unix_socket_path,
            **server,  # type: ignore[arg-type]
        )
    pool = redis.connection_pool
    pool.connection_class = _cheaply_bounded(pool.connection_class)
    redis.default_queue_name = settings.arq_queue_name
    redis.auto_close_connection_pool = True  # aclose() closes the connections it made
    return redis


def _cheaply_bounded(kind: type[AbstractConnection]) -> type[AbstractConnection]:
    """`kind` (plain, TLS, Unix socket or Sentinel-managed) with its writes bounded cheaply.

    With `socket_timeout` set, redis-py bounds every write with `asyncio.wait_for`, which runs
    the write as a task of its own: a task per Redis command, about a third of a worker's CPU
    per job at queue speed (measured with `bench.bench_queue`). Reads keep redis-py's bound,
    which is already a plain `asyncio.timeout`; writes get the same here.
    """
    if kind in _BOUNDED:
        return _BOUNDED[kind]

    class CheaplyBounded(kind):  # type: ignore[valid-type,misc]
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            bound: float | None = self.socket_timeout  # type: ignore[has-type]
            self.socket_timeout = None  # redis-py's own write bound off; ours on
            try:
                async with asyncio.timeout(bound):
                    await super().send_packed_command(command, check_health)
            except TimeoutError:
                raise RedisTimeoutError("Timeout writing to socket") from None
            finally:
                self.socket_timeout = bound

    CheaplyBounded.__name__ = f"CheaplyBounded{kind.__name__}"
    _BOUNDED[kind] = CheaplyBounded
    return CheaplyBounded


_BOUNDED: dict[type[AbstractConnection], type[AbstractConnection]] = {}
