"""Process-level promises: bad configuration stops with one line, console mode works offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.redis_server import RedisServer
from tests.conftest import ROOT


def run(
    args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, input=stdin, text=True,
        capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ARQ_", "VK_", "BOT_", "REDIS"))
    }
    env.update(DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def test_malformed_setting_stops_with_one_line(tmp_path: Path) -> None:
    """A bad value: exit code 2 and one line naming the variable; the token is not echoed."""
    env = clean_env(tmp_path, ARQ_MAX_JOBS="lots", BOT_TOKEN="123:secret-token-value")
    done = run(["-m", "worker"], env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "configuration error: ARQ_MAX_JOBS: Input should be a valid integer, unable to parse "
        "string as an integer"
    ]
    assert "secret-token-value" not in done.stderr + done.stdout


def test_bot_without_token_stops_with_one_line(tmp_path: Path) -> None:
    done = run(["-m", "bot"], clean_env(tmp_path), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("configuration error: BOT_TOKEN")
    assert len(done.stderr.strip().splitlines()) == 1


def test_console_demo_parses_sample_wall(tmp_path: Path) -> None:
    """`python -m bot --console` with no token and no REDIS_URL: private Redis, sample wall."""
    lines = "/help\n/parse taiga_demo 1000\n/parse taiga_demo zero\n/jobs\n"
    done = run(["-m", "bot", "--console"], clean_env(tmp_path), stdin=lines)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    # The console user has no Telegram language: DEFAULT_LANGUAGE, Russian, applies.
    assert "/parse <сообщество> [лимит] [дни]" in out
    assert "⚠️ лимит: нужно целое число" in out
    assert "✅ Сбор комментариев — готово" in out
    assert "265 новых комментариев" in out
    assert "Traceback" not in out


def test_console_uses_given_redis(tmp_path: Path, redis_server: RedisServer) -> None:
    """With REDIS_URL set, the console uses that Redis instead of starting its own (the demo
    always starts its own: it must not take jobs from a configured queue)."""
    env = clean_env(tmp_path, REDIS_URL=redis_server.url, ARQ_QUEUE_NAME="arq:console-test")
    done = run(["-m", "bot", "--console"], env, stdin="/queue\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Очередь arq:console-test:" in done.stdout


def test_worker_analyze_prints_form_lemma_pos(tmp_path: Path) -> None:
    """`python -m worker analyze`: stdin text to one `form<TAB>lemma<TAB>POS` line per token."""
    done = run(["-m", "worker", "analyze"], clean_env(tmp_path), stdin="Щас спс!\nКотики\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "Щас\tсейчас\tADV"
    assert lines[1].startswith("спс\tспасибо\t")
    assert lines[2:] == ["!\t!\tPUNCT", "", "Котики\tкотик\tNOUN", "", ""]


def test_analyser_built_from_many_threads_at_once(tmp_path: Path) -> None:
    """Jobs analyse in threads: the first ones in a fresh process may build the analyser at
    once, which must neither fail nor load pymorphy3 twice."""
    code = (
        "import concurrent.futures as f\n"
        "from core import analysis\n"
        "from core.text import morphology\n"
        "with f.ThreadPoolExecutor(8) as pool:\n"
        "    jobs = [pool.submit(lambda: analysis.terms_of('Щас поймал щуку на спиннинг'))"
        " for _ in range(8)]\n"
        "    print({j.result() for j in jobs})\n"
        "print(morphology._load_morph.cache_info().misses)\n"
    )
    done = run(["-c", code], clean_env(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["{'| поймать щука | спиннинг'}", "1"]
