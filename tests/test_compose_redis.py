"""docker compose runs Redis with a password (defect 9: it ran without one, while arq unpickles
whatever it reads from Redis): the compose file's own Redis command, run for real, refuses a
client without the password, and every service connects with it."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import redis
import yaml
from redis.exceptions import AuthenticationError, ResponseError

from core.redis_server import free_port, redis_binary

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
PASSWORD = "composetest0123456789"
VARIABLE = re.compile(r"\$\{REDIS_PASSWORD(:\?[^}]*)?\}")
START_BOUND_S = 30.0


def test_compose_redis_refuses_clients_without_the_password(tmp_path: Path) -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    command = [VARIABLE.sub(PASSWORD, str(part)) for part in services["redis"]["command"]]
    assert command[0] == "redis-server" and "--requirepass" in command, command
    for name in ("bot", "worker"):
        url = VARIABLE.sub(PASSWORD, services[name]["environment"]["REDIS_URL"])
        assert url.startswith(f"redis://:{PASSWORD}@redis:"), (name, url)

    port = free_port()
    args = [*command[1:], "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    server = subprocess.Popen([redis_binary(), *args], stdout=subprocess.DEVNULL)
    try:
        stranger = redis.Redis(port=port, socket_timeout=5)
        deadline = time.monotonic() + START_BOUND_S
        while True:  # until the server answers at all (a refusal is an answer)
            assert server.poll() is None, "redis-server exited"
            try:
                stranger.ping()
            except (AuthenticationError, ResponseError) as refused:
                assert "NOAUTH" in str(refused) or "Authentication" in str(refused)
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
            else:
                raise AssertionError("Redis answered a client without the password")
        with pytest.raises((AuthenticationError, ResponseError)):
            stranger.set("vkc:test", b"pickled payload")
        assert redis.Redis(port=port, password=PASSWORD, socket_timeout=5).ping()
    finally:
        server.terminate()
        server.wait(timeout=30)
