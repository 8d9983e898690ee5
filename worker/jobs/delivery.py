"""Sending a job's photos, texts and documents to its chat, each once per job.

arq may run a job again (a crash, a retry after Telegram's 429): what was sent is remembered in
Redis under the job id, so the rerun sends only the rest. Only a crash in the instant between
Telegram's answer and that note can send one part twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import BufferedInputFile, FSInputFile
from arq import Retry

from core.i18n import _, ngettext
from core.reports.export import Upload
from core.reports.texts import CAPTION_LIMIT

SENT_TTL = 7 * 24 * 3600


class Delivery:
    """One job's messages to one chat."""

    def __init__(self, ctx: dict[str, Any], bot: Bot, chat_id: int) -> None:
        self.ctx = ctx
        self.bot = bot
        self.chat_id = chat_id
        self.key = f"vkc:sent:{ctx['job_id']}"

    async def _once(self, part: str, send: Callable[[], Awaitable[Any]]) -> None:
        """Send unless an earlier try sent this part; Telegram's pauses become arq retries."""
        redis = self.ctx["redis"]
        if await redis.sismember(self.key, part):
            return
        try:
            await send()
        except TelegramRetryAfter as error:
            raise Retry(defer=error.retry_after) from None
        except (TelegramServerError, TelegramNetworkError):
            raise Retry(defer=min(60, 2 ** self.ctx["job_try"])) from None
        await redis.sadd(self.key, part)
        await redis.expire(self.key, SENT_TTL)

    async def photo(self, part: str, data: bytes, filename: str, caption: str) -> None:
        await self._once(
            part,
            lambda: self.bot.send_photo(
                self.chat_id,
                BufferedInputFile(data, filename),
                caption=caption[: CAPTION_LIMIT - 1],
            ),
        )

    async def text(self, part: str, text: str) -> None:
        await self._once(part, lambda: self.bot.send_message(self.chat_id, text))

    async def document(self, part: str, path: Path, caption: str) -> None:
        await self._once(
            part,
            lambda: self.bot.send_document(
                self.chat_id,
                FSInputFile(path, filename=path.name),
                caption=caption[: CAPTION_LIMIT - 1] or None,
            ),
        )


def upload_note(upload: Upload, rows: int, kind: str) -> str:
    """The document's caption: what it holds and, if it had to be, how it was packed."""
    what = _("CSV (UTF-8)") if kind == "csv" else _("Excel")
    text = ngettext("{what}: {n} comment", "{what}: {n} comments", rows, what=what)
    if upload.split:
        text += "\n" + ngettext(
            "Larger than Telegram's upload limit even zipped, so the zip is cut into {n} part: "
            "join them with 7-Zip or cat.",
            "Larger than Telegram's upload limit even zipped, so the zip is cut into {n} parts: "
            "join them with 7-Zip or cat.",
            len(upload.paths),
        )
    elif upload.zipped:
        text += "\n" + _("Larger than Telegram's upload limit, so it is sent zipped.")
    return text
