"""The console's stand-in for Telegram: what the bot sends is printed, and who types is known."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, Chat, FSInputFile, Message, Update, User

CONSOLE_USER_ID = 1
CONSOLE_CHAT = Chat(id=CONSOLE_USER_ID, type="private")


def console_language_code() -> str | None:
    """The terminal's language ("ru" for LANG=ru_RU.UTF-8), as Telegram would report the user's.

    The gettext order of variables is used, so a Russian desktop gets Russian answers as a
    Russian Telegram client would.
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            code = value.split(":")[0].split(".")[0].split("_")[0].lower()
            return None if code in ("c", "posix") else code
    return None


def console_user() -> User:
    return User(
        id=CONSOLE_USER_ID,
        is_bot=False,
        first_name="Console",
        language_code=console_language_code(),
    )


def typed_update(number: int, text: str) -> Update:
    """One typed line as the update Telegram would deliver for it."""
    message = Message(
        message_id=number,
        date=datetime.now(UTC),
        chat=CONSOLE_CHAT,
        from_user=console_user(),
        text=text,
    )
    return Update(update_id=number, message=message)


class ConsoleSession(BaseSession):
    """A Bot API session that prints what the bot sends instead of calling Telegram."""

    def __init__(self, out_dir: Path) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.ids = itertools.count(1)
        self.me = User(id=1_000_000, is_bot=True, first_name="VK comments", username="console")

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - signature fixed by BaseSession
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - signature fixed by BaseSession
    ) -> TelegramType:
        """Print a sent or edited message (a file: where it was saved) and answer like Telegram."""
        result: Any = True
        if isinstance(method, SendMessage):
            print(method.text, flush=True)
            result = self._message(text=method.text)
        elif isinstance(method, EditMessageText):
            print(f"(edited) {method.text}", flush=True)
            result = self._message(text=method.text, message_id=method.message_id)
        elif isinstance(method, EditMessageReplyMarkup):
            result = self._message(message_id=method.message_id)
        elif isinstance(method, (SendDocument, SendPhoto)):
            media = method.document if isinstance(method, SendDocument) else method.photo
            path = self._save(media)
            print(f"[file] {path}", flush=True)
            result = self._message(text=method.caption)
        elif method.__api_method__ == "getMe":
            result = self.me
        return result  # type: ignore[no-any-return]

    def _message(self, text: str | None = None, message_id: int | None = None) -> Message:
        return Message(
            message_id=message_id or next(self.ids),
            date=datetime.now(UTC),
            chat=CONSOLE_CHAT,
            from_user=self.me,
            text=text,
        )

    def _save(self, media: Any) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(media, BufferedInputFile):
            path = self.out_dir / (media.filename or "file.bin")
            path.write_bytes(media.data)
            return path
        if isinstance(media, FSInputFile):
            return Path(media.path)
        return self.out_dir / str(media)
