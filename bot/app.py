"""Building the dispatcher: routers, middlewares and the shared objects handlers receive."""

from __future__ import annotations

from aiogram import Bot, Dispatcher

from bot.handlers import (
    access,
    analysis,
    control,
    errors,
    fallback,
    info,
    jobs,
    language,
    maintenance,
    schedule,
    start,
)
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.language import LanguageMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.scheduler import BotScheduler
from core.i18n import RUSSIAN_READERS, use_locale
from core.queue import JobQueue
from core.settings import Settings


def build_dispatcher(settings: Settings, queue: JobQueue, scheduler: BotScheduler) -> Dispatcher:
    """A fresh dispatcher with fresh routers (a router can be attached only once)."""
    dp = Dispatcher(settings=settings, queue=queue, scheduler=scheduler)
    # On the whole update, so that even the error handler answers in the user's language.
    dp.update.outer_middleware(LanguageMiddleware(queue.sessions, settings.default_language))
    access_guard = AccessMiddleware(settings, queue.sessions)
    throttling = ThrottlingMiddleware()
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(access_guard)
        observer.outer_middleware(throttling)
    dp.include_routers(
        errors.create_router(),
        start.create_router(),
        language.create_router(),
        access.create_router(),
        maintenance.create_router(),
        schedule.create_router(),
        jobs.create_router(),
        analysis.create_router(),
        info.create_router(),
        control.create_router(),
        fallback.create_router(),
    )
    return dp


async def announce_commands(bot: Bot) -> None:
    """Set the menu Telegram shows by the input field: Russian for the languages whose speakers
    read Russian, English for everyone else (the default list)."""
    with use_locale("en"):
        await bot.set_my_commands(start.menu())
    with use_locale("ru"):
        russian = start.menu()
    for code in sorted(RUSSIAN_READERS):
        await bot.set_my_commands(russian, language_code=code)
