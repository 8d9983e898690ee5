"""A PostgreSQL server for tests and benchmarks: the one at `TEST_POSTGRES_URL` when it
answers, else a private one started with Debian's `initdb`/`pg_ctl` on a free port.

PostgreSQL refuses to run as root, so as root the private server runs as an unprivileged user
(`postgres` when it exists, else `nobody`) through `runuser`; as root the `postgresql`
package is installed with apt-get when its binaries are missing. When neither a server nor a
way to start one is there, `PostgresUnavailable` says why, in one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.redis_server import free_port

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_BOUND_S = 120
INSTALL_BOUND_S = 900
# Users the private server may run as when the tests run as root, in order of preference.
SERVER_USERS = ("postgres", "nobody")

T = TypeVar("T")


class PostgresUnavailable(RuntimeError):
    """No server answers and none could be started; the message says what to do."""


def configured_url() -> str:
    """The server to try first, as a plain libpq URL (an SQLAlchemy form is accepted too)."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL)
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even inside a running event loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


async def answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def with_database(url: str, name: str, *, driver: str = "postgresql") -> str:
    """`url` pointing at database `name`, with the scheme `driver` (e.g. postgresql+asyncpg)."""
    parts = urlsplit(url)
    return urlunsplit((driver, parts.netloc, f"/{name}", parts.query, ""))


@contextlib.asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """A new empty database on the server (an SQLAlchemy URL), dropped afterwards, with
    whatever is still connected to it."""
    name = f"vkc_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name, driver="postgresql+asyncpg")
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def binaries_dir() -> Path | None:
    """The newest Debian PostgreSQL's bin directory, else the directory of `initdb` on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def install_binaries() -> Path:
    """apt-get install postgresql (root only); its bin directory."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresUnavailable(
            "no PostgreSQL answers at TEST_POSTGRES_URL and no initdb/pg_ctl is installed "
            "to start a private one: install Debian's postgresql package (apt-get install "
            "postgresql), run the tests as root so they install it, or set TEST_POSTGRES_URL "
            "to a server that answers"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    done = subprocess.run(command, env=env, capture_output=True, timeout=INSTALL_BOUND_S)
    if done.returncode != 0:  # an empty package list: update once, then try again
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=300)
        done = subprocess.run(command, env=env, capture_output=True, timeout=INSTALL_BOUND_S)
    found = binaries_dir()
    if done.returncode != 0 or found is None:
        tail = (done.stderr or done.stdout).decode(errors="replace")[-500:]
        raise PostgresUnavailable(f"apt-get install postgresql failed: {tail}")
    return found


def server_user() -> str | None:
    """Who the server runs as: this user, or as root an unprivileged one (None: this user)."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailable(
        f"running as root and none of the users {', '.join(SERVER_USERS)} exists to run "
        "a private PostgreSQL as (it refuses root): create one, or set TEST_POSTGRES_URL"
    )


class PrivatePostgres:
    """A throw-away cluster in a temporary directory: `start()`, `admin_url`, `stop()`.

    Durability is off (fsync): nothing in it outlives the run.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="vkc-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.user: str | None = None
        self.bin: Path | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = START_BOUND_S) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        done = subprocess.run(
            [*prefix, *command], cwd=self.root, capture_output=True, timeout=timeout
        )
        if done.returncode != 0:
            output = (done.stderr + done.stdout).decode(errors="replace")[-1500:]
            raise PostgresUnavailable(f"{Path(command[0]).name} failed: {output}")

    def start(self) -> PrivatePostgres:
        self.bin = binaries_dir() or install_binaries()
        self.user = server_user()
        self.sockets.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", str(START_BOUND_S), "start",
        )  # fmt: skip
        return self

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def stop(self) -> None:
        if self.bin is not None and self.running():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def find_or_start() -> tuple[str, PrivatePostgres | None]:
    """The admin URL of a server that answers, and the private server to stop (if started)."""
    url = configured_url()
    if run_sync(answers(url)):
        return url, None
    server = PrivatePostgres()
    try:
        server.start()
    except PostgresUnavailable:
        server.stop()
        raise
    except (OSError, subprocess.TimeoutExpired) as error:
        server.stop()
        raise PostgresUnavailable(f"a private PostgreSQL did not start: {error}") from None
    return server.admin_url, server
