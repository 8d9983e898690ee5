"""docker-compose.yml and .env.example, checked without a Docker engine.

Debian's `docker-compose` validates and resolves the file (`config` needs no engine); then every
service's command and health check must be an entry point of ours that accepts its arguments,
every variable a real setting, every port the one the settings expect.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

import api.__main__ as api_main
import bot.__main__ as bot_main
import worker.__main__ as worker_main
from api.settings import ApiSettings
from core.redis_client import DEFAULT_REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
APP_SERVICES = {"bot", "worker", "api"}
# Read by docker compose only (put into the services' URLs), never by our code.
COMPOSE_ONLY = {"REDIS_PASSWORD", "POSTGRES_PASSWORD"}
SETTINGS = {name.upper() for name in ApiSettings.model_fields}
# Each of our entry points' own command-line parser (raises SystemExit on a wrong argument).
PARSERS: dict[str, Callable[[list[str]], object]] = {
    "bot": bot_main.parse_options,
    "worker": worker_main.parse_command,
    "api": api_main.parse_options,
}
ENV_LINE = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def docker_compose() -> str:
    """Debian's docker-compose; installed with apt-get when missing and we are root."""
    found = shutil.which("docker-compose")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        command = ["apt-get", "install", "-y", "-q", "docker-compose"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(command, env=env, capture_output=True, timeout=900).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=900)
            subprocess.run(command, env=env, capture_output=True, timeout=900)
        found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "docker-compose is not installed and could not be (needs root and apt-get): "
            "install Debian's docker-compose package to validate docker-compose.yml"
        )
    return found


def example_values() -> dict[str, str]:
    """Every `NAME=value` of .env.example, commented out (`# NAME=value`) or not."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def compose_config(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` on a copy of the file, beside a .env holding `env`."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS | COMPOSE_ONLY}
    return subprocess.run(
        [docker_compose(), "--project-directory", str(tmp_path), "config"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose file as docker-compose resolves it, with a .env filled from the example."""
    env = {**example_values(), "BOT_TOKEN": "123:abc", "VK_TOKEN": "vk-token"}
    env.update(REDIS_PASSWORD="redispass1", POSTGRES_PASSWORD="pgpass1", ADMIN_IDS="1")
    done = compose_config(tmp_path_factory.mktemp("compose"), env)
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stderr}"
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The file as written (variables not yet substituted, no .env merged in)."""
    config: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return config


def test_compose_file_is_valid_and_has_every_service(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) == {"redis", "postgres", *APP_SERVICES}
    for name in APP_SERVICES:
        assert "build" in services[name], f"{name} is built from our Dockerfile"
        assert services[name]["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
        }, name
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name


def test_passwords_are_required(tmp_path: Path) -> None:
    done = compose_config(tmp_path, {"REDIS_PASSWORD": "", "POSTGRES_PASSWORD": "pg1"})
    assert done.returncode != 0
    assert "set REDIS_PASSWORD in .env" in done.stderr


def mount(volume: str | dict[str, Any]) -> tuple[str, str]:
    """(volume, path in the container), from the short form (`name:/path:rw`) or the long one."""
    if isinstance(volume, str):
        source, target = volume.split(":")[:2]
        return source, target
    return volume["source"], volume["target"]


def published(port: str | dict[str, Any]) -> tuple[str, int, int]:
    """(host address, host port, container port), from `ip:host:container/tcp` or the long form."""
    if isinstance(port, str):
        host_ip, host_port, target = port.split("/")[0].split(":")
        return host_ip, int(host_port), int(target)
    return port["host_ip"], int(port["published"]), int(port["target"])


def test_data_lives_on_volumes(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"
    assert "--requirepass" in redis_command
    mounts = {name: [mount(v) for v in service["volumes"]] for name, service in services.items()}
    assert mounts["redis"] == [("redis-data", "/data")]
    assert mounts["postgres"] == [("pg-data", "/var/lib/postgresql/data")]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    for name in APP_SERVICES:
        assert mounts[name] == [("app-data", "/data")]
        assert services[name]["environment"]["DATA_DIR"] == "/data"
    assert set(resolved["volumes"]) == {"redis-data", "pg-data", "app-data"}


def test_worker_scales(resolved: dict[str, Any]) -> None:
    """`--scale worker=4` needs no fixed container name and no host port on the worker."""
    worker = resolved["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "worker", "--check"]


def our_commands(resolved: dict[str, Any]) -> list[list[str]]:
    """Each app service's command and its health check's command."""
    commands = []
    for name in sorted(APP_SERVICES):
        service = resolved["services"][name]
        commands.append(service["command"])
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", f"{name}: the health check runs without a shell"
        commands.append(test[1:])
    return commands


def test_every_command_is_our_entry_point(resolved: dict[str, Any]) -> None:
    commands = our_commands(resolved)
    assert len(commands) == 2 * len(APP_SERVICES)
    for command in commands:
        assert command[:2] == ["python", "-m"], command
        module, args = command[2], command[3:]
        assert module in PARSERS, f"{command}: not one of our entry points"
        PARSERS[module](args)  # raises SystemExit on an argument it does not take
        with pytest.raises(SystemExit):
            PARSERS[module]([*args, "--no-such-option"])  # the parser is strict


def interpolated(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def test_every_variable_is_a_setting(raw: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        unknown = set(raw["services"][name]["environment"]) - SETTINGS
        assert not unknown, f"{name}: environment names no setting: {unknown}"
    unknown = interpolated(COMPOSE.read_text(encoding="utf-8")) - SETTINGS - COMPOSE_ONLY
    assert not unknown, f"docker-compose.yml uses variables that are no setting: {unknown}"
    readme = README.read_text(encoding="utf-8")
    for name in COMPOSE_ONLY:
        assert re.search(rf"^\| `{name}` \|.*docker compose only", readme, re.M), name


def test_env_example_is_complete_and_valid() -> None:
    values = example_values()
    unknown = set(values) - SETTINGS - COMPOSE_ONLY
    assert not unknown, f".env.example names no setting: {unknown}"
    missing = SETTINGS - set(values)
    assert not missing, f"settings missing from .env.example: {sorted(missing)}"
    assert set(values) >= COMPOSE_ONLY
    # Every example value, the commented-out ones included, is accepted as it stands.
    examples = {k.lower(): v for k, v in values.items() if k in SETTINGS and v}
    examples["api_tokens"] = "example-token-1:admin"
    ApiSettings(_env_file=None, **examples)


def test_ports_match_the_settings(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    api_port = ApiSettings.model_fields["api_port"].default
    api = services["api"]
    assert api["environment"]["API_PORT"] == str(api_port)
    assert api["environment"]["API_HOST"] == "0.0.0.0"  # reachable from the published port
    (port,) = api["ports"]
    assert published(port) == ("127.0.0.1", api_port, api_port)
    redis_port = urlsplit(DEFAULT_REDIS_URL).port
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        redis_url, database_url = (
            urlsplit(environment["REDIS_URL"]),
            urlsplit(environment["DATABASE_URL"]),
        )
        assert (redis_url.hostname, redis_url.port) == ("redis", redis_port)
        assert redis_url.password == "redispass1"
        assert (database_url.hostname, database_url.port) == ("postgres", 5432)
        assert database_url.scheme == "postgresql+asyncpg"
        assert database_url.password == "pgpass1"
    assert "--port" not in services["redis"]["command"]  # Redis on its default port


def test_postgres_matches_the_image_s_backup_tools(resolved: dict[str, Any]) -> None:
    """pg_dump refuses a server of a newer major version: the image's client is the server's."""
    major = resolved["services"]["postgres"]["image"].split(":")[1].split("-")[0]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"postgresql-client-{major} " in dockerfile.replace("\\\n", " ") + " "
