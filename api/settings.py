"""The API's own settings, on top of the product's shared ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import limits
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from core.settings import Settings

ROLES = ("admin", "user")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MIN_TOKEN_LENGTH = 8


@dataclass(frozen=True)
class ApiToken:
    """One configured token and what it may do; `repr` never shows the secret."""

    secret: SecretStr
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def client_id(self) -> int:
        """The token's owner id in the job audit: a negative number, apart from Telegram users.

        Derived from a hash, so a user token can be told its own jobs without storing the token.
        """
        digest = hashlib.sha256(b"vkc-api:" + self.secret.get_secret_value().encode()).digest()
        return -int.from_bytes(digest[:6], "big") - 1


class ApiSettings(Settings):
    """API_HOST, API_PORT, API_TOKENS (`token:role,...`), API_OPEN_LOCAL, body and rate caps."""

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    api_tokens: Annotated[tuple[ApiToken, ...], NoDecode] = ()
    api_open_local: bool = False
    api_rate_limit: str = "120/minute"
    api_max_body_bytes: int = Field(64 * 1024, ge=1024)

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        """`s3cret-a:admin,s3cret-u:user`; errors name the pair's position, never the token."""
        if not isinstance(value, str):
            return value
        tokens: list[ApiToken] = []
        seen: set[str] = set()
        for position, pair in enumerate((p.strip() for p in value.split(",") if p.strip()), 1):
            secret, _sep, role = pair.rpartition(":")
            if role not in ROLES:
                raise ValueError(f"pair {position}: expected token:admin or token:user")
            if len(secret) < MIN_TOKEN_LENGTH or any(c.isspace() for c in secret):
                raise ValueError(
                    f"pair {position}: a token needs {MIN_TOKEN_LENGTH}+ characters, no spaces"
                )
            if secret in seen:
                raise ValueError(f"pair {position}: the same token is listed twice")
            seen.add(secret)
            tokens.append(ApiToken(SecretStr(secret), role))
        return tuple(tokens)

    @field_validator("api_rate_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError("expected a rate such as 120/minute or 10/second") from None
        return value

    def secrets(self) -> list[str]:
        """The shared secrets plus the API tokens, for the log masking."""
        return [*super().secrets(), *(t.secret.get_secret_value() for t in self.api_tokens)]

    def startup_problem(self) -> str | None:
        """Why the API must not start with these settings, in one line (None: it may)."""
        if self.api_tokens:
            return None
        if not self.api_open_local:
            return "configuration error: API_TOKENS: no token set (or API_OPEN_LOCAL=true)"
        if self.api_host not in LOOPBACK:
            return "configuration error: API_HOST: API_OPEN_LOCAL serves 127.0.0.1 only"
        return None
