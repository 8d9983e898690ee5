"""The FastAPI application: routes, error handlers, the body cap, the language, the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.middleware import BodyLimit, Language
from api.routers import arq, comments, dashboard
from api.security import RateLimiter
from api.settings import ApiSettings
from core.db import engine_for, make_sessionmaker, migrate
from core.queue import JobQueue
from core.redis_client import connect


def create_app(settings: ApiSettings) -> FastAPI:
    """One app per settings; the database and Redis are opened when it starts serving."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_for(settings)
        await migrate(settings.db_url)
        redis = await connect(settings)
        app.state.queue = JobQueue(redis, make_sessionmaker(engine), settings)
        try:
            yield
        finally:
            await app.state.queue.write_audit()
            await redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="VK comments: job queue API",
        version="1.0",
        description="Enqueue and follow the product's catalog jobs; the same queue as the bot.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.api_rate_limit)
    errors.install(app)
    app.include_router(arq.create_router())
    app.include_router(comments.create_router())
    app.include_router(dashboard.create_router())
    app.mount("/dashboard/static", dashboard.static_files(), name="dashboard-static")
    app.add_middleware(Language, default=settings.default_language)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    return app
