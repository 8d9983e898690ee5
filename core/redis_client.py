"""Every Redis client of the product comes from here: plain, TLS (`rediss://`) or via Sentinel.

The settings become one arq `RedisSettings` (the worker hands it to arq), and `connect` builds
the clients from that same object, so the queue door, the worker, the bot and the API always
reach the same Redis the same way.
"""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio.sentinel import Sentinel

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
    redis.default_queue_name = settings.arq_queue_name
    redis.auto_close_connection_pool = True  # aclose() closes the connections it made
    return redis
