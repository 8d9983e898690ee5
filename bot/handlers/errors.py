"""The last line of defence: an unexpected failure still gets a short answer, never a trace."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import _

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def on_error(event: ErrorEvent) -> bool:
        """Tell the user what kind of trouble it is; the details go to the log."""
        error = event.exception
        if isinstance(error, (RedisError, ConnectionError, OSError)):
            text = _("⚠️ The job queue is unavailable right now; try again shortly.")
        elif isinstance(error, SQLAlchemyError):
            text = _("⚠️ The database is unreachable right now. Try again in a minute.")
        else:
            text = _("⚠️ Something went wrong on our side; it is logged. Try again later.")
        log.error("update failed: %s: %s", type(error).__name__, error)
        update = event.update
        if update.message is not None:
            await update.message.answer(text)
        elif update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        return True

    return router
