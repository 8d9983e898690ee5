"""Who is asking: a bearer token (or the dashboard's cookie), its role, its rate limit."""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass
from typing import Annotated

import limits
from fastapi import Depends, Request
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from api.errors import ApiError
from api.settings import LOOPBACK, ApiSettings, ApiToken
from core.i18n import _

COOKIE = "vkc_api_token"
LOCAL_CLIENT_ID = -1


@dataclass(frozen=True)
class Principal:
    """The caller: admin or user, and the id its jobs are recorded under."""

    role: str
    client_id: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def find_token(tokens: tuple[ApiToken, ...], presented: str) -> ApiToken | None:
    """The configured token equal to `presented`, compared in constant time against all."""
    found = None
    for token in tokens:
        if hmac.compare_digest(token.secret.get_secret_value().encode(), presented.encode()):
            found = token
    return found


def presented_token(request: Request) -> str | None:
    """`Authorization: Bearer <token>`, else the dashboard's cookie."""
    scheme, _sep, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


class RateLimiter:
    """Requests per token in a moving window (the `limits` library, kept in memory)."""

    def __init__(self, rate: str) -> None:
        self.item = limits.parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, key: str) -> None:
        """Count one request; past the limit, 429 with Retry-After in whole seconds."""
        if await self.limiter.hit(self.item, key):
            return
        stats = await self.limiter.get_window_stats(self.item, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            429,
            _("Too many requests; try again in {seconds} s.", seconds=wait),
            headers={"Retry-After": str(wait)},
        )


def identify(request: Request, settings: ApiSettings) -> Principal | None:
    """The caller's principal, or None when the token is missing or unknown."""
    if not settings.api_tokens:  # API_OPEN_LOCAL: only this machine can reach the API
        client = request.client.host if request.client else ""
        return Principal("admin", LOCAL_CLIENT_ID) if client in LOOPBACK else None
    presented = presented_token(request)
    token = find_token(settings.api_tokens, presented) if presented else None
    return Principal(token.role, token.client_id) if token else None


async def count_failed_attempt(request: Request) -> None:
    """Wrong tokens count against the address, so tokens cannot be guessed at full speed."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(f"address:{request.client.host if request.client else ''}")


async def principal(request: Request) -> Principal:
    """Every endpoint but health: a known token, within its rate limit."""
    settings: ApiSettings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    caller = identify(request, settings)
    if caller is None:
        await count_failed_attempt(request)
        raise ApiError(
            401,
            _("A valid API token is required: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    await limiter.check(str(caller.client_id))
    return caller


async def admin(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """Endpoints for admin tokens only."""
    if not caller.is_admin:
        raise ApiError(403, _("This needs an admin token."))
    return caller
