"""The dashboard in a real headless browser (Debian's chromium driven by Selenium): log in with
a token, watch a running job, abort it from the page as an admin; all in DEFAULT_LANGUAGE (ru),
the API's JSON texts too."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.apitools import (
    ADMIN_TOKEN,
    LONG_WALLS,
    USER_TOKEN,
    api_env,
    api_running,
    bearer,
    slow_vk,
    wait_status,
)

WAIT_S = 90  # the page polls every 2 s; a busy machine may take much longer to draw


def browser() -> WebDriver:
    """Headless chromium; a missing browser fails the test with what to do (never skips)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(
            "the dashboard test needs Debian's chromium and chromium-driver: run scripts/test.sh "
            "as root (it installs them with scripts/browser.sh), or apt-get install them"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def log_in(page: WebDriver, base: str, token: str) -> None:
    page.get(f"{base}/dashboard")
    field = WebDriverWait(page, WAIT_S).until(ec.presence_of_element_located((By.ID, "token")))
    field.send_keys(token)
    page.find_element(By.ID, "login").click()


def wait_text(page: WebDriver, element_id: str, text: str) -> None:
    WebDriverWait(page, WAIT_S).until(ec.text_to_be_present_in_element((By.ID, element_id), text))


NEVER_PARSED = "never_parsed_wall"
# A duration as the page writes it in Russian: "3 с", "12,5 с".
SECONDS_RU = re.compile(r"^\d+(,\d)? с$")


def cells(page: WebDriver, row_id: str) -> dict[str, str] | None:
    """The visible text of a table row's cells by their class (None while the row is absent).

    Read in one script: the tables are redrawn every 2 s, so elements found earlier go stale.
    """
    found: dict[str, str] | None = page.execute_script(
        "const row = document.getElementById(arguments[0]);"
        "if (!row) return null;"
        "const texts = {};"
        "for (const td of row.cells)"
        "  if (td.className) texts[td.classList[0]] = td.innerText.trim();"
        "return texts;",
        row_id,
    )
    return found


def wait_cells(page: WebDriver, row_id: str, expected: str) -> dict[str, str]:
    """The row's cells once its status cell reads `expected`."""
    WebDriverWait(page, WAIT_S).until(
        lambda p: (cells(p, row_id) or {}).get("status") == expected,
        message=f"{row_id} never read {expected!r}",
    )
    found = cells(page, row_id)
    assert found is not None
    return found


def browse(base: str, job_id: str, failed_id: str) -> None:
    """The browser's part of the story (Selenium blocks, so it runs in a thread)."""
    page = browser()
    try:
        log_in(page, base, "wrong-token-123456")
        wait_text(page, "login-error", "Неизвестный токен")

        log_in(page, base, USER_TOKEN)
        wait_text(page, f"running-{job_id}", job_id)
        assert page.title == "Очередь задач"  # DEFAULT_LANGUAGE=ru
        wait_text(page, "count-workers", "1")
        assert page.find_element(By.ID, "count-running").text == "1"
        # The running job's progress, in words and numbers, once the wall's size is known.
        WebDriverWait(page, WAIT_S).until(
            lambda p: "%" in (cells(p, f"running-{job_id}") or {}).get("progress", ""),
            message="the running job's progress never showed a percentage",
        )
        progress = (cells(page, f"running-{job_id}") or {})["progress"]
        assert progress.startswith("выполняется: ") and "постов" in progress, progress
        row = page.find_element(By.ID, f"running-{job_id}")
        assert not row.find_elements(By.CSS_SELECTOR, "button.abort")  # a user token: no abort
        # A failed job among the last ones: the bot's word for its status, its reason.
        failed = wait_cells(page, f"job-{failed_id}", "не удалась")
        assert f"у сообщества {NEVER_PARSED} ещё нет" in failed["error"], failed
        assert SECONDS_RU.match(failed["duration"]), failed
        page.find_element(By.CSS_SELECTOR, "form[action='/dashboard/logout'] button").click()
        # The click only starts the logout: until its redirect shows the login form the cookie may
        # still be set, and the next page load would find the user still logged in.
        WebDriverWait(page, WAIT_S).until(ec.presence_of_element_located((By.ID, "token")))

        log_in(page, base, ADMIN_TOKEN)
        button = WebDriverWait(page, WAIT_S).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, f"#running-{job_id} button.abort"))
        )
        button.click()
        aborted = wait_cells(page, f"job-{job_id}", "остановлена")
        assert SECONDS_RU.match(aborted["duration"]), aborted
        assert aborted["error"] == "остановлена", aborted
        wait_text(page, "count-running", "0")
    finally:
        page.quit()


async def test_dashboard_abort_from_the_page(app_env: dict[str, str], tmp_path: Path) -> None:
    """A running job shows on the page with its progress, a failed one with its reason; an
    admin aborts the running one there. The API's own answers speak DEFAULT_LANGUAGE too."""
    async with slow_vk() as (_vk, slow):
        env = api_env(app_env, DEFAULT_LANGUAGE="ru", **slow)
        async with api_running(env, tmp_path) as client:
            answer = await client.post(
                "/api/v1/comments/parse/vk/async",
                params={"group_id": LONG_WALLS[0]},
                headers=bearer(USER_TOKEN),
            )
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["data"]["job_id"]
            assert answer.json()["message"] == f"Задача {job_id} поставлена в очередь."
            running = await wait_status(client, job_id, frozenset({"in_progress"}))
            assert running["status"] == "in_progress", running
            head = f"Сбор комментариев, задача {job_id}: выполняется"
            assert running["status_text"].startswith(head), running

            doomed = await client.post(
                "/api/v1/comments/analyze/async",
                params={"group_id": NEVER_PARSED},
                headers=bearer(USER_TOKEN),
            )
            assert doomed.status_code == 202, doomed.text
            failed_id = doomed.json()["data"]["job_id"]
            failed = await wait_status(client, failed_id)
            assert failed["status"] == "failed", failed
            assert (
                failed["status_text"].startswith(f"Анализ комментариев, задача {failed_id}: ")
                and f"у сообщества {NEVER_PARSED} ещё нет" in failed["status_text"]
            ), failed

            base = str(client.base_url).rstrip("/")
            await asyncio.to_thread(browse, base, job_id, failed_id)
            ended = await wait_status(client, job_id)
            assert ended["status"] == "aborted", ended
