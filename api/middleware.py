"""ASGI layers under every route: the request body cap and the language of the answer."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from core.i18n import LANGUAGES, _, use_locale

LANGUAGE_COOKIE = "lang"


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over `max_bytes`, by its Content-Length or by counting what arrives.

    Counting too, since a chunked body has no length to check up front.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = _("The request body is too large: {limit} bytes at most.", limit=self.max_bytes)
        await error_response(413, message)(scope, receive, send)


class Language:
    """Texts of the answer in the `lang` cookie's language, else DEFAULT_LANGUAGE."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        chosen = HTTPConnection(scope).cookies.get(LANGUAGE_COOKIE, "")
        with use_locale(chosen if chosen in LANGUAGES else self.default):
            await self.app(scope, receive, send)
