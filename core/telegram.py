"""The one way bot and worker build an aiogram `Bot` (Bot API server from settings)."""

from __future__ import annotations

import sys
from typing import NoReturn

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.token import TokenValidationError

from core.settings import Settings


def make_bot(settings: Settings) -> Bot:
    """Build the Bot; a missing or malformed token stops the process with exit code 2."""
    if settings.bot_token is None:
        _stop("BOT_TOKEN: is required (python -m bot --console runs without it)")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        return Bot(
            settings.bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(link_preview_is_disabled=True),
        )
    except TokenValidationError:
        _stop("BOT_TOKEN: is malformed (expected <digits>:<letters> from @BotFather)")


def _stop(message: str) -> NoReturn:
    print(f"configuration error: {message}", file=sys.stderr)
    raise SystemExit(2)
