"""Logging set-up that keeps secrets out of every log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import SecretStr

MASK = "***"


class SecretFilter(logging.Filter):
    """Replaces any known secret in a record's final message with a mask.

    Libraries log URLs (aiogram puts the bot token in the path, requests the VK token in the
    body), so masking at the record level is the one place that covers them all.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = redact(message, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        if masked != message:
            record.msg, record.args = masked, None
        return True


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def setup_logging(level: str, secrets: Iterable[SecretStr | None]) -> None:
    """Configure the root logger once; every handler gets the secret filter."""
    values = [s.get_secret_value() for s in secrets if s is not None]
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(values))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # arq's own loggers are chatty at INFO but useful; aiohttp access logs are noise.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
