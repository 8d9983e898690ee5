"""The two-button keyboards (a job's Refresh/Abort, /cleanup's Confirm/Cancel) are one row each,
labelled in the reader's language, each button sending its own callback data."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.handlers.maintenance import CleanupAction, confirm_keyboard
from core.i18n import use_locale
from core.ui import JobAction, button_row, job_keyboard


def labels_and_data(keyboard: InlineKeyboardMarkup) -> list[tuple[str, str | None]]:
    rows = keyboard.inline_keyboard
    assert len(rows) == 1
    return [(button.text, button.callback_data) for button in rows[0]]


def test_job_and_cleanup_keyboards_are_one_row_of_two_in_the_readers_language() -> None:
    with use_locale("ru"):
        job = labels_and_data(job_keyboard("abc"))
        cleanup = labels_and_data(confirm_keyboard("t1"))
    assert job == [("🔄 Обновить", "job:refresh:abc"), ("⛔ Остановить", "job:abort:abc")]
    assert [data for _text, data in cleanup] == ["cleanup:confirm:t1", "cleanup:cancel:t1"]
    with use_locale("en"):
        assert labels_and_data(confirm_keyboard("t1"))[1][0] == "Cancel"
    single = button_row(("x", JobAction(action="refresh", job_id="j")))
    assert labels_and_data(single) == [("x", "job:refresh:j")]
    assert CleanupAction.unpack("cleanup:cancel:t1").token == "t1"
