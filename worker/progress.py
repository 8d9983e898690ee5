"""Progress of a running job: saved for /status and shown in one chat message, edited in place."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from core import jobstate, storage
from core.catalog import CATALOG
from core.i18n import _, use_locale
from core.models import JobAudit
from core.settings import Settings
from core.ui import job_card, job_keyboard

log = logging.getLogger(__name__)


class ProgressReporter:
    """Call with a progress dict (done, total, ...) as often as you like; edits are throttled."""

    def __init__(self, ctx: dict[str, Any], job_name: str) -> None:
        self.ctx = ctx
        self.job_id: str = ctx["job_id"]
        self.spec = CATALOG[job_name]
        self.settings: Settings = ctx["settings"]
        self.started = time.time()
        self.last_edit = 0.0
        self.last_text = ""

    async def __call__(self, progress: dict[str, Any]) -> None:
        state = {**progress, "unit": self.spec.progress_unit, "started": self.started}
        await jobstate.set_progress(self.ctx["redis"], self.job_id, state)
        now = time.monotonic()
        if now - self.last_edit < self.settings.progress_interval:
            return
        self.last_edit = now
        progress_text = jobstate.format_progress({k: str(v) for k, v in state.items()})
        text = job_card(_(self.spec.title), self.job_id, progress_text)
        if text != self.last_text:
            self.last_text = text
            audit = await storage.get_job(self.ctx["sessions"], self.job_id)
            await _edit(self.ctx.get("bot"), audit, text, with_buttons=True)


async def finish_progress_message(
    ctx: dict[str, Any], audit: JobAudit | None, view: jobstate.JobView
) -> None:
    """Last edit of the progress message: final state, no buttons, in the job's language (the
    notification job that calls this has no language of its own)."""
    if audit is None:
        return
    with use_locale(audit.language or ctx["settings"].default_language):
        title = jobstate.title_of(audit.job_name)
        card = job_card(title, view.job_id, jobstate.card_state(view))
    await _edit(ctx.get("bot"), audit, card, with_buttons=False)


async def _edit(bot: Bot | None, audit: JobAudit | None, text: str, *, with_buttons: bool) -> None:
    if bot is None or audit is None or not audit.chat_id or not audit.progress_message_id:
        return
    # A progress edit is best effort: the final notification is what must arrive.
    with contextlib.suppress(TelegramAPIError):
        await bot.edit_message_text(
            text=text,
            chat_id=audit.chat_id,
            message_id=audit.progress_message_id,
            reply_markup=job_keyboard(audit.job_id) if with_buttons else None,
        )
