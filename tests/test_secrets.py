"""Secrets stay secret: every process (bot, worker, arq's CLI, console) runs with known tokens,
goes through normal and failing paths, and the tokens are in no log line, chat message, stored
error (audit table, arq results) or traceback."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from arq.jobs import Job, JobResult

from core.audit import audit_trail
from core.catalog import JobArgs, JobSpec
from core.db import make_engine, make_sessionmaker, migrate
from core.jobstate import JobFailed
from core.logs import guard_secrets
from core.queue import Origin
from core.settings import Settings
from core.vk.tokens import fingerprint
from fakevk.api import FakeVK
from tests.conftest import ADMIN_ID, BOT_TOKEN, VK_TOKEN, Process, running
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import start_job
from tests.test_processes import clean_env, run
from worker import jobs
from worker.settings import _bind

# A second VK token of the pool (VK_TOKENS), which VK accepts, and a third, which it rejects.
POOL_TOKENS = ("vk-pool-token-accepted-0123456789", "vk-pool-token-rejected-0123456789")
SECRETS = (BOT_TOKEN, VK_TOKEN, *POOL_TOKENS, quote(BOT_TOKEN, safe=""))
# What a misbehaving server or proxy might put in an error: the request path, token and all.
ECHOED_PATH = f"Bad Request: cannot handle /bot{BOT_TOKEN}/sendMessage"
# Generous bounds for events, as processes start slowly on a busy machine.
STARTED_S = 180.0
FINISHED_S = 180.0
STORIES = (("/parse taiga_demo 50", "finished"), ("/parse secret_club", "failed"))


def leaked(text: str | bytes) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode()
    return [s for s in SECRETS if s.encode() in data]


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "bot"],
        ["-m", "bot", "--console"],
        ["-m", "worker"],
        ["-m", "arq", "worker.settings.WorkerSettings"],
    ],
)
def test_url_without_scheme_stops_with_one_line(tmp_path: Path, command: list[str]) -> None:
    """TELEGRAM_API_URL=localhost:8081 used to fail inside aiohttp with the token in the URL;
    now every entry point refuses it at start: one line naming it, exit code 2."""
    env = clean_env(
        tmp_path, TELEGRAM_API_URL="localhost:8081", BOT_TOKEN=BOT_TOKEN, VK_TOKEN=VK_TOKEN
    )
    done = run(command, env, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [
        "configuration error: TELEGRAM_API_URL: expected an http(s):// URL with a host"
    ]
    assert not leaked(done.stdout + done.stderr)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VK_API_URL", "api.vk.ru/method"),
        ("VK_API_URL", "ftp://api.vk.ru"),
        ("TELEGRAM_API_URL", "http://"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("DATABASE_URL", "postgres://user:db-password@host/db"),
    ],
)
def test_bad_service_url_is_named_without_its_value(tmp_path: Path, name: str, value: str) -> None:
    """A malformed URL is named, and its value (which may hold a password) is not echoed."""
    done = run(["-m", "worker"], clean_env(tmp_path, **{name: value}), timeout=60)
    assert done.returncode == 2
    line = done.stderr.strip()
    assert line.startswith(f"configuration error: {name}: expected "), line
    assert value not in line


def test_uncaught_exceptions_are_masked(tmp_path: Path) -> None:
    """Tracebacks printed by Python itself (main thread, other threads) and log records with
    a traceback or stack_info mask the guarded secrets."""
    code = (
        "import logging, threading\n"
        "from core.logs import setup_logging\n"
        f"setup_logging('INFO', [{BOT_TOKEN!r}])\n"
        f"url = 'http://127.0.0.1/bot{BOT_TOKEN}/getMe'\n"
        "try:\n"
        "    raise ValueError(url)\n"
        "except ValueError:\n"
        "    logging.getLogger('x').exception('failed %s', url, stack_info=True)\n"
        "def fail():\n"
        "    raise RuntimeError(url)\n"
        "thread = threading.Thread(target=fail, name='fetcher')\n"
        "thread.start(); thread.join()\n"
        "raise ConnectionError(url)\n"
    )
    done = run(["-c", code], clean_env(tmp_path), timeout=60)
    assert done.returncode == 1
    out = done.stderr
    assert "ERROR x: failed http://127.0.0.1/bot***/getMe" in out
    assert "ValueError: http://127.0.0.1/bot***/getMe" in out
    assert "Stack (most recent call last)" in out
    assert "Exception in thread fetcher" in out
    assert "RuntimeError: http://127.0.0.1/bot***/getMe" in out
    assert "ConnectionError: http://127.0.0.1/bot***/getMe" in out
    assert not leaked(out)


async def arq_result(redis: ArqRedis, job_id: str, queue: str) -> JobResult:
    """A job's stored arq result, waited for (bounded)."""
    job = Job(job_id, redis, _queue_name=queue)
    for _ in range(int(FINISHED_S * 10)):
        info = await job.result_info()
        if info is not None:
            return info
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} has no result after {FINISHED_S} s")


async def redis_dump(redis: aioredis.Redis) -> bytes:
    """Every key and value in Redis, raw (pickled arq results keep their strings as UTF-8)."""
    parts: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        parts.append(key)
        if kind == "string":
            parts.append(await redis.get(key) or b"")
        elif kind == "hash":
            parts += [k + v for k, v in (await redis.hgetall(key)).items()]  # type: ignore[misc]
        elif kind == "zset":
            parts += await redis.zrange(key, 0, -1)
        elif kind == "set":
            parts += list(await redis.smembers(key))  # type: ignore[misc]
        elif kind == "list":
            parts += await redis.lrange(key, 0, -1)  # type: ignore[misc]
    return b"\n".join(parts)


async def fail_notification_with_echoed_token(
    tg: FakeTelegram, vk: FakeVK, redis: ArqRedis, queue: str, command: str
) -> None:
    """Start a job, then make Telegram answer its closing message (and the short plain
    fallback) and card edits with an error that quotes the token; the job's notification fails
    with a short reason of ours."""
    vk.pause("execute")  # the job must not end before its closing message is set to fail
    try:
        job_id = await start_job(tg, command)
        # Only this job's messages: an earlier job's analysis may still be closing in the chat.
        tg.fail_next(
            "sendMessage", error_code=400, description=ECHOED_PATH, times=2, matching=job_id
        )
        tg.fail_next(
            "editMessageText", error_code=400, description=ECHOED_PATH, times=5, matching=job_id
        )
    finally:
        vk.resume()
    info = await arq_result(redis, f"notify:{job_id}", queue)
    assert not info.success, tg.dump(60)
    # A short reason naming the kind of error (in DEFAULT_LANGUAGE: a notification has no
    # requester), never the raw text that quoted the token.
    assert "(TelegramBadRequest)" in str(info.result) and len(str(info.result)) < 300, info.result


async def test_tokens_never_leave_any_process(
    app_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_vk: FakeVK, redis_url: str
) -> None:
    fake_vk.tokens = {VK_TOKEN: "user", POOL_TOKENS[0]: "user", POOL_TOKENS[1]: "user"}
    fake_vk.reject(POOL_TOKENS[1])  # set aside: a log line and a notice, by fingerprint
    app_env["VK_TOKENS"] = ",".join(POOL_TOKENS)
    queue = app_env["ARQ_QUEUE_NAME"]
    redis = ArqRedis.from_url(redis_url)
    outputs: list[str] = []
    try:
        # `python -m bot` and `python -m worker`: a parse, a failing parse, a failing notification,
        # and a Bot API error quoting the token on getUpdates.
        async with running(app_env, tmp_path) as processes:
            await fake_tg.wait_for_call("setMyCommands", timeout=STARTED_S)
            for command, ending in STORIES:
                job_id = await start_job(fake_tg, command)
                await fake_tg.wait_for_message(ADMIN_ID, f"{ending} ({job_id})", timeout=FINISHED_S)
            # The rejected pool token was set aside: the admins were told, by its fingerprint.
            await fake_tg.wait_for_message(
                ADMIN_ID, fingerprint(POOL_TOKENS[1]), timeout=FINISHED_S
            )
            await fail_notification_with_echoed_token(
                fake_tg, fake_vk, redis, queue, "/parse fishing_club 30"
            )
            fake_tg.fail_next("getUpdates", error_code=500, description=ECHOED_PATH)
            await fake_tg.wait_for_call("getUpdates", lambda call: call.status == 500)
            sent = fake_tg.send_text("/jobs", user_id=ADMIN_ID)
            await fake_tg.wait_for_message(ADMIN_ID, "Recent jobs", after=sent, timeout=FINISHED_S)
        outputs += [p.output() for p in processes]

        # arq's own CLI (it configures logging itself, after importing the settings).
        logs = tmp_path / "arq-cli"
        logs.mkdir()
        calls = len(fake_tg.calls)
        arq_worker = Process("arq", app_env, logs / "arq.log", ("worker.settings.WorkerSettings",))
        try:
            async with running(app_env, logs, workers=0) as processes:
                await fake_tg.wait_for_call("setMyCommands", timeout=STARTED_S, after=calls)
                await fail_notification_with_echoed_token(
                    fake_tg, fake_vk, redis, queue, "/parse fishing_club 60"
                )
        finally:
            await arq_worker.stop()
        outputs += [p.output() for p in processes]
        arq_log = arq_worker.output()
        assert "TelegramBadRequest" in arq_log and "***" in arq_log, arq_log[-3000:]
        outputs.append(arq_log)

        # A bot whose start fails with an error quoting the token: Python prints the traceback.
        fake_tg.fail_next("setMyCommands", error_code=401, description=ECHOED_PATH)
        bot = Process("bot", app_env, tmp_path / "bot-start.log")
        for _ in range(int(STARTED_S * 10)):
            if bot.popen.poll() is not None:
                break
            await asyncio.sleep(0.1)
        await bot.stop()
        crashed = bot.output()
        assert bot.popen.returncode == 1 and "Traceback" in crashed, crashed[-3000:]
        assert "TelegramUnauthorizedError" in crashed and "bot***" in crashed
        outputs.append(crashed)

        # Console mode, with the same tokens configured.
        console_env = {**app_env, "ARQ_QUEUE_NAME": f"{queue}:console", "LANGUAGE": "en"}
        lines = "/parse taiga_demo 20\n/parse secret_club\n/status nope\n"
        done = await asyncio.to_thread(run, ["-m", "bot", "--console"], console_env, lines)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "failed" in done.stdout and "finished" in done.stdout, done.stdout[-2000:]
        outputs += [done.stdout, done.stderr]

        for text in outputs:
            assert not leaked(text), text[-3000:]
        chat = [
            json.dumps([m.history, m.text, m.raw_text], ensure_ascii=False)
            for m in fake_tg.messages(ADMIN_ID, include_deleted=True)
        ]
        sent_params = [json.dumps(c.params, ensure_ascii=False, default=str) for c in fake_tg.calls]
        assert not leaked("\n".join(chat + sent_params))
        with sqlite3.connect(tmp_path / "data" / "vkcomments.sqlite3") as db:
            audit = db.execute("SELECT * FROM job_audit").fetchall()
        assert len(audit) >= 6 and not leaked(repr(audit))
        assert not leaked(await redis_dump(redis))
    finally:
        await redis.aclose()


class NoArgs(JobArgs):
    """The failing jobs below take nothing."""


# A failed part once stored its exception's text: a 924,799-character SQL error with its data.
HUGE_ERROR = "INSERT INTO vk_comments VALUES " + "(?, ?), " * 115_000 + f"url=/bot{BOT_TOKEN}/"


async def fail_with_sql_error(_ctx: dict[str, Any], _args: NoArgs) -> None:
    raise RuntimeError(HUGE_ERROR)


async def fail_with_long_reason(_ctx: dict[str, Any], _args: NoArgs) -> None:
    raise JobFailed(HUGE_ERROR)


@pytest.mark.parametrize("name", ["fail_with_sql_error", "fail_with_long_reason"])
async def test_failure_text_is_short_and_masked(name: str, tmp_path: Path) -> None:
    """What a failed job leaves for arq's result, the audit table and the chat: a short, masked
    reason (a bug: its kind only), never the exception's raw text."""
    guard_secrets([BOT_TOKEN])
    setattr(jobs, name, globals()[name])  # a job of worker.jobs, run by the real job wrapper
    spec = JobSpec(name=name, args=NoArgs, title="Fail", describe=lambda _: "", card=False)
    function = _bind(spec)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'audit.sqlite3'}"
    await migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)  # the wrapper records the start in the audit trail
    settings = Settings(_env_file=None, data_dir=tmp_path)
    ctx = {"settings": settings, "sessions": sessions, "job_id": "j1", "job_try": 1}
    try:
        with pytest.raises(JobFailed) as failed:
            await function.coroutine(ctx, **Origin(chat_id=None, language="en").carried())
    finally:
        delattr(jobs, name)
        await audit_trail(sessions).flush()
        await engine.dispose()
    reason = str(failed.value)
    assert len(reason) <= 300 and not leaked(reason), reason
    if name == "fail_with_sql_error":
        assert reason.startswith("internal error (RuntimeError)"), reason
