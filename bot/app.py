"""Building the dispatcher: routers, middlewares and the shared objects handlers receive."""

from __future__ import annotations

from aiogram import Bot, Dispatcher

from bot.handlers import analysis, control, errors, jobs, start
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from core.queue import JobQueue
from core.settings import Settings


def build_dispatcher(settings: Settings, queue: JobQueue) -> Dispatcher:
    """A fresh dispatcher with fresh routers (a router can be attached only once)."""
    dp = Dispatcher(settings=settings, queue=queue)
    access = AccessMiddleware(settings)
    throttling = ThrottlingMiddleware()
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(access)
        observer.outer_middleware(throttling)
    dp.include_routers(
        errors.create_router(),
        start.create_router(),
        jobs.create_router(),
        analysis.create_router(),
        control.create_router(),
        control.create_fallback_router(),
    )
    return dp


async def announce_commands(bot: Bot) -> None:
    """Set the command menu that Telegram shows next to the input field."""
    await bot.set_my_commands(start.menu())
