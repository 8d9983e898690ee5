"""Every error as JSON with a clear `message` (and the bad `field` where there is one)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.catalog import CATALOG
from core.i18n import _
from core.queue import explain

log = logging.getLogger(__name__)

# Where FastAPI says a value came from: not part of the field's name as a client knows it.
SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


class ErrorResponse(BaseModel):
    success: bool = False
    message: str
    field: str | None = None


class ApiError(Exception):
    """An answer other than success: raised anywhere, turned into JSON by the handler below."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_response(
    status: int, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(message=message, field=field).model_dump()
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def field_name(error: Mapping[str, Any]) -> str:
    """`kwargs.limit` from FastAPI's `("body", "parse_vk_comments", "kwargs", "limit")`.

    A missing or unknown job name is reported at the union's tag: name that field.
    """
    discriminator = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
    parts = [str(p) for p in error.get("loc", ()) if str(p) not in CATALOG]
    if discriminator:
        parts.append(discriminator)
    if len(parts) > 1 and parts[0] in SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def invalid_arguments(error: ValidationError, prefix: str = "") -> ApiError:
    """A job's arguments refused by its catalog model: the bot's wording, the field named.

    The argument, not a place inside it (`comment_ids`, not `comment_ids.3`), as the message
    names it: a query string's `comment_ids=1,0` has no item 3 to point at.
    """
    loc = error.errors()[0]["loc"]
    where = str(loc[0]) if loc else ""
    field = f"{prefix}{where}" if where else prefix.rstrip(".") or "arguments"
    return ApiError(422, explain(error), field=field)


def install(app: FastAPI) -> None:
    """Register the JSON error handlers."""

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.field, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming the first bad field; the value itself is never echoed (it may be secret)."""
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": ""}
        field = field_name(first)
        reason = str(first.get("msg", "")).removeprefix("Value error, ")
        return error_response(422, _("{field}: {reason}", field=field, reason=reason), field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            400: _("The request body could not be read (expected JSON in UTF-8)."),
            404: _("Not found."),
            405: _("Method not allowed."),
        }
        message = messages.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, message, headers=exc.headers)

    @app.exception_handler(RedisError)
    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(OSError)
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Redis or the database is out of reach: say so (503), as the bot does, and log it."""
        log.warning("%s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(503, _("The job queue is unavailable right now; try again shortly."))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(500, _("Internal error; the API log has the details."))
