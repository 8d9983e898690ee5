"""A new user's console demo: `python -m bot --demo` as a real process, stdin piped in.

What the user sees (stdout, stderr) is checked for order and tracebacks; what happened when is
read from the run's own SQLite database (the job audit), not from reply wording.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil
import pytest

from core.catalog import CATALOG
from core.crontab import cron_trigger, next_slot
from tests.conftest import ROOT
from tests.test_processes import clean_env, run

DEMO = ["-m", "bot", "--demo"]
LIMIT_S = 180.0  # a bound for a busy machine; the demo parse itself takes seconds
SIGINT_EXIT_S = 2.0  # the promise: Ctrl-C ends the console within 2 s


def english_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The demo's environment: nothing configured, an English terminal."""
    env = clean_env(tmp_path, LANG="en_US.UTF-8", PYTHONUNBUFFERED="1", **extra)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "DATABASE_URL"):
        env.pop(name, None)
    return env


def audit(data_dir: Path) -> list[sqlite3.Row]:
    """The run's job audit rows, oldest first."""
    with sqlite3.connect(data_dir / "vkcomments.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM job_audit ORDER BY enqueued_at").fetchall()


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_piped_parse_then_keywords_answer_both_in_order(tmp_path: Path) -> None:
    """`/keywords` waits for `/parse` and the analysis the parse starts, then answers."""
    data = tmp_path / "demo"
    lines = "/parse taiga_demo\n/keywords taiga_demo\n"
    done = run([*DEMO, "--data-dir", str(data)], english_env(tmp_path), stdin=lines)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "Traceback" not in out + done.stderr
    assert "❌" not in out, out
    assert not [name for name in CATALOG if name in out], "a job function's name in a reply"
    closing = out.index("✅")  # the parse's closing message is the first to say done
    ranked = re.findall(r"^\d+\. \S+", out, flags=re.MULTILINE)
    assert len(ranked) >= 10, out
    assert out.index(ranked[0]) > closing, "the keywords answered before the parse had ended"

    rows = {row["job_name"]: row for row in audit(data)}
    parse, analysis, keywords = (
        rows["parse_vk_comments"],
        rows["process_batch_comments"],
        rows["extract_keywords"],
    )
    assert [parse["status"], analysis["status"], keywords["status"]] == ["complete"] * 3
    # Each command waits for what the one before started, the jobs its jobs started included.
    assert moment(keywords["enqueued_at"]) >= moment(parse["finished_at"])
    assert moment(keywords["enqueued_at"]) >= moment(analysis["finished_at"])


def test_demo_user_error_gets_the_friendly_answer_and_no_traceback(tmp_path: Path) -> None:
    """An unknown community: the chat says why; the traceback goes to the log file only."""
    data = tmp_path / "demo"
    done = run([*DEMO, "--data-dir", str(data)], english_env(tmp_path), stdin="/parse 12345\n")
    assert done.returncode == 0, done.stderr[-2000:]
    failed = [line for line in done.stdout.splitlines() if line.startswith("❌")]
    assert len(failed) == 1, done.stdout
    terminal = done.stdout + done.stderr
    assert "Traceback" not in terminal
    assert "arq.worker" not in terminal
    [parse] = audit(data)
    assert parse["status"] == "failed"
    assert parse["summary"] in failed[0]  # the reason the job stored is the one shown
    assert "Traceback" in (data / "console.log").read_text()


RUSSIAN = ("Попробуйте /parse taiga_demo, затем /keywords taiga_demo.", "Я собираю комментарии")
ENGLISH = ("Try /parse taiga_demo, then /keywords taiga_demo.", "I collect comments")


@pytest.mark.parametrize(
    ("terminal", "default", "texts"),
    [
        ("ru_RU.UTF-8", "en", RUSSIAN),  # the terminal's language wins, as Telegram's does
        ("C.UTF-8", "ru", RUSSIAN),  # none: DEFAULT_LANGUAGE, for the banner and the replies
        ("C.UTF-8", "en", ENGLISH),
    ],
)
def test_the_console_speaks_its_users_language(
    tmp_path: Path, terminal: str, default: str, texts: tuple[str, str]
) -> None:
    """The console's own lines (stderr) and its replies (stdout) are in one language: the
    terminal's (LANG), as the bot's are a Telegram user's, else DEFAULT_LANGUAGE."""
    data = tmp_path / "demo"
    env = {**english_env(tmp_path), "LANG": terminal, "DEFAULT_LANGUAGE": default}
    done = run([*DEMO, "--data-dir", str(data)], env, stdin="/help\n")
    assert done.returncode == 0, done.stderr[-2000:]
    banner, reply = texts
    assert banner in done.stderr
    assert reply in done.stdout
    if texts == RUSSIAN:
        assert f"Данные этого запуска — в {data} (журнал: {data / 'console.log'})." in done.stderr


def test_each_demo_run_starts_from_a_fresh_data_directory(tmp_path: Path) -> None:
    """The README's example twice gives the same answer (not "0 comments" the second time)."""
    env = english_env(tmp_path)
    answers = []
    for _ in range(2):
        done = run(DEMO, env, stdin="/parse taiga_demo 1000\n")
        assert done.returncode == 0, done.stderr[-2000:]
        closing = "\n".join(line for line in done.stdout.splitlines() if line.startswith("✅"))
        assert closing, done.stdout
        answers.append(re.sub(r"[0-9.]+ s\b", "<t> s", re.sub(r"[0-9a-f]{32}", "<job>", closing)))
    assert answers[0] == answers[1]
    assert re.search(r"\b265\b", answers[0])  # every stored comment of the wall, both times


def test_ctrl_c_during_a_job_stops_within_two_seconds(tmp_path: Path) -> None:
    """SIGINT while a parse runs: exit 0 or 130 within 2 s, no traceback, no Redis left behind."""
    data = tmp_path / "demo"
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    # VK at 0.2 requests/s: the parse runs for many seconds, so the signal lands mid-job.
    env = english_env(tmp_path, VK_RPS="0.2")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        console = subprocess.Popen(
            [sys.executable, *DEMO, "--data-dir", str(data)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
        try:
            assert console.stdin is not None
            console.stdin.write(b"/parse taiga_demo 1000\n")
            console.stdin.flush()  # stdin stays open: the console is still reading
            wait_for_running_job(data, console)
            children = psutil.Process(console.pid).children(recursive=True)
            signalled = time.monotonic()
            os.killpg(console.pid, signal.SIGINT)  # as Ctrl-C: the terminal's whole group
            code = console.wait(timeout=LIMIT_S)
            took = time.monotonic() - signalled
        finally:
            if console.poll() is None:
                console.kill()
                console.wait()
    assert code in (0, 130)
    assert took <= SIGINT_EXIT_S, f"exit took {took:.2f} s after SIGINT"
    terminal = out.read_text() + err.read_text()
    assert "Traceback" not in terminal, terminal
    assert "ERROR" not in terminal, terminal  # e.g. Redis gone before the worker let go of it
    assert "Stopped." in err.read_text()
    assert children, "the demo should run its own redis-server"
    assert not [child for child in children if child.is_running()], "a child outlived the console"


def wait_for_running_job(data: Path, console: subprocess.Popen[bytes]) -> None:
    """Until the audit shows the parse running (bounded; fails if the console died first)."""
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        assert console.poll() is None, "the console ended before the job ran"
        database = data / "vkcomments.sqlite3"
        if database.exists():
            try:
                if any(row["status"] == "running" for row in audit(data)):
                    return
            except sqlite3.OperationalError:  # the migration has not created the table yet
                pass
        time.sleep(0.1)
    raise AssertionError("the parse never started")


def test_worker_help_lists_its_subcommands(tmp_path: Path) -> None:
    """`python -m worker --help` is help, not a usage error; an unknown command is one."""
    done = run(["-m", "worker", "--help"], clean_env(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^ {4}(\w+) ", done.stdout, flags=re.MULTILINE)
    assert listed == ["run", "analyze", "restore"], done.stdout
    wrong = run(["-m", "worker", "parse"], clean_env(tmp_path), timeout=60)
    assert wrong.returncode == 2
    assert "invalid choice: 'parse'" in wrong.stderr


def test_the_console_runs_the_scheduler_too(tmp_path: Path) -> None:
    """Console mode schedules the recurring jobs as the bot does: /schedule shows a rule's next
    run (a console without the scheduler running would say "not planned")."""
    zone = ZoneInfo("Europe/Moscow")
    trigger = cron_trigger("30 4 * * *", zone)
    env = english_env(tmp_path, SCHEDULE_STATISTICS="30 4 * * *", TIMEZONE=zone.key)
    started = datetime.now(UTC)
    done = run([*DEMO, "--data-dir", str(tmp_path / "demo")], env, stdin="/schedule\n")
    ended = datetime.now(UTC)
    assert done.returncode == 0, done.stderr[-2000:]
    # The slot after the moment the console started its scheduler, somewhere in this run.
    slots = [next_slot(trigger, moment) for moment in (started, ended)]
    expected = {slot.astimezone(zone).strftime("%d.%m.%Y %H:%M") for slot in slots if slot}
    line = re.search(r"^• Statistics recount: 30 4 \* \* \*, next run (.+)$", done.stdout, re.M)
    assert line is not None and line[1] in expected, done.stdout
