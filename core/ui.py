"""Chat texts and buttons that the bot and the worker both show for a job."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.catalog import ARG_NAMES
from core.i18n import _


class JobAction(CallbackData, prefix="job"):
    action: str  # "refresh" or "abort"
    job_id: str


def button_row(*buttons: tuple[str, CallbackData]) -> InlineKeyboardMarkup:
    """A keyboard of one row: each button's label and the callback data it sends."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in buttons]
        ]
    )


def job_keyboard(job_id: str) -> InlineKeyboardMarkup:
    return button_row(
        (_("🔄 Refresh"), JobAction(action="refresh", job_id=job_id)),
        (_("⛔ Abort"), JobAction(action="abort", job_id=job_id)),
    )


def job_card(title: str, job_id: str, state: str) -> str:
    """The progress message: what the job is, where it stands, how to ask about it."""
    return _(
        "{title}\nJob {job_id}: {state}\n/status {job_id}", title=title, job_id=job_id, state=state
    )


def args_text(args: dict[str, Any]) -> str:
    """A job's arguments as people typed them: "group taiga_demo, limit 100"; a switch by its
    name alone when on ("send", as in `/backup send`), like an argument not given when off."""
    shown = [
        _(ARG_NAMES[name]) if value is True else f"{_(ARG_NAMES[name])} {_shorten(str(value))}"
        for name, value in args.items()
        if name in ARG_NAMES and value is not None and value is not False
    ]
    return ", ".join(shown) or _("no arguments")


def _shorten(value: str, most: int = 40) -> str:
    """An argument as a reminder, not in full: a 4,000-character text would fill a message."""
    return value if len(value) <= most else value[: most - 1] + "…"
