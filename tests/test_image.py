"""The Dockerfile and requirements.lock, checked without a Docker engine.

The Dockerfile is parsed (its stages, user, health check, what it copies and installs); the
image's install is repeated in a fresh virtualenv with the Dockerfile's own `pip install` lines
and files, and the worker's health check runs from it against a real Redis.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.redis_server import RedisServer
from tests.conftest import Process

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
VENV = "/opt/venv"  # where the Dockerfile makes its virtualenv
DEV_TOOLS = {"pytest", "ruff", "mypy", "hypothesis", "pip-tools", "schemathesis", "selenium"}


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    args: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found, stage = [], -1
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _sep, args = line.partition(" ")
        stage += keyword.upper() == "FROM"
        found.append(Instruction(stage, keyword.upper(), args.strip()))
    return found


def of(keyword: str, stage: int | None = None) -> list[str]:
    return [i.args for i in instructions() if i.keyword == keyword and stage in (None, i.stage)]


def pip_installs() -> list[list[str]]:
    """The build stage's `pip install` commands, as argument lists."""
    return [shlex.split(run) for run in of("RUN", 0) if f"{VENV}/bin/pip install" in run]


def locked() -> dict[str, str]:
    """Package name -> pinned version, from requirements.lock."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LOCK.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def runtime_requirements() -> list[Requirement]:
    """pyproject.toml's [project] dependencies (not the optional ones)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def test_dockerfile_stages_user_and_health_check() -> None:
    bases = of("FROM")
    assert len(bases) >= 2, "multi-stage: a build stage and a runtime stage"
    assert all(base.split()[0].startswith("python:3.11-slim") for base in bases), bases
    final = len(bases) - 1
    (user,) = of("USER", final)
    assert user.split(":")[0] not in {"root", "0"}
    assert of("HEALTHCHECK", final), "the runtime stage has a HEALTHCHECK"
    (health,) = of("HEALTHCHECK", final)
    assert '"python", "-m", "bot", "--check"' in health  # Python, no curl in a slim image
    assert of("CMD", final) == ['["python", "-m", "bot"]']
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"\b(curl|wget|build-essential|gcc|\[dev\])", text), "no dev tools"
    installs = re.findall(r"apt-get install (.*?)(?:&&|$)", text.replace("\\\n", " "), re.M)
    assert [i.split() for i in installs] == [
        ["-y", "--no-install-recommends", "postgresql-client-15"]
    ], "the image adds only PostgreSQL's client (backups), without recommends"


def test_dockerfile_installs_from_the_lock_file() -> None:
    copies = [shlex.split(args) for args in of("COPY", 0)]
    assert ["requirements.lock", "/tmp/requirements.lock"] in copies
    first, project = pip_installs()
    assert "--require-hashes" in first
    assert first[first.index("-r") + 1] == "/tmp/requirements.lock"
    assert "--no-deps" in project, "everything the project needs comes from the lock"
    assert project[-1] == "." and "-e" in project
    for sources in copies:  # what the build stage copies exists
        for source in sources[:-1]:
            if not source.startswith("--"):
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored, "secrets never enter the build context"


def test_lock_is_in_step_with_pyproject() -> None:
    """Every runtime dependency (and every one its extras bring) is pinned, in range."""
    pins = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, pyproject wants {requirement}: "
            "run scripts/lock.sh"
        )
        for extra in requirement.extras:
            brought = [
                Requirement(r)
                for r in requires(requirement.name) or []
                if Requirement(r).marker is not None
                and Requirement(r).marker.evaluate({"extra": extra})  # type: ignore[union-attr]
            ]
            for sub in brought:
                assert canonicalize_name(sub.name) in pins, f"{sub} ({requirement}) not locked"
    assert not DEV_TOOLS & set(pins), "the lock holds runtime dependencies only"
    text = LOCK.read_text()
    hashed = re.findall(r"^[A-Za-z0-9][^\s]*==[^\s]+ \\\n\s+--hash=sha256:", text, re.M)
    assert len(hashed) == len(pins), "every pin carries its hashes"


def replicate_build(app: Path, venv: Path) -> None:
    """The build stage, on this machine: the same files into `app`, the same pip lines into
    `venv` (pip's index settings are this machine's)."""
    shutil.rmtree(app, ignore_errors=True)
    app.mkdir(parents=True)
    for args in of("COPY", 0):
        *sources, target = shlex.split(args)
        for source in sources:
            destination = app / source if target in {".", "./"} else app / target
            if target.startswith("/tmp/"):
                continue  # the lock file: read from the checkout below
            if (ROOT / source).is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
                shutil.copytree(ROOT / source, destination, ignore=ignore)
            else:
                shutil.copy(ROOT / source, destination)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    for command in pip_installs():
        command = [str(venv / "bin/pip"), *command[1:]]
        command = [str(LOCK) if part == "/tmp/requirements.lock" else part for part in command]
        done = subprocess.run(
            command, cwd=app, capture_output=True, text=True, timeout=1200,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )  # fmt: skip
        assert done.returncode == 0, f"{shlex.join(command)} failed:\n{done.stdout[-3000:]}"
        assert done.stderr.count("ERROR") == 0, done.stderr[-3000:]


def worker_check(venv: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin/python"), "-m", "worker", "--check"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a full install of ~70 packages on a busy 2-core machine
async def test_image_install_runs_the_worker_and_its_health_check(
    tmp_path: Path, redis_server: RedisServer, redis_url: str
) -> None:
    app, venv, run = tmp_path / "app", tmp_path / "venv", tmp_path / "run"
    started = time.monotonic()
    await asyncio.to_thread(replicate_build, app, venv)
    print(f"the image's install took {time.monotonic() - started:.0f} s")
    run.mkdir()  # not the checkout: every import comes from the install
    where = await asyncio.to_thread(
        subprocess.run,
        [str(venv / "bin/python"), "-c", "import core.db; print(core.db.MIGRATIONS_DIR)"],
        cwd=run, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == app / "migrations"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "VK_", "BOT_"))}
    env.update(REDIS_URL=redis_url, DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)

    before = await asyncio.to_thread(worker_check, venv, run, env)
    assert before.returncode == 1, before
    assert "no live worker" in before.stderr

    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    python = str(venv / "bin/python")
    worker = Process("worker", env, tmp_path / "worker.log", python=python, cwd=run)
    try:
        await worker.wait_until_up()
        during = await asyncio.to_thread(worker_check, venv, run, env)
        assert during.returncode == 0, during
        assert "1 live worker(s)" in during.stdout
    finally:
        await worker.stop()
    after = await asyncio.to_thread(worker_check, venv, run, env)
    assert after.returncode == 1, after  # a stopped worker takes its heartbeat key with it
