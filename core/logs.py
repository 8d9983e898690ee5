"""Logging set-up that keeps secrets out of every line a process writes.

Libraries put secrets where we do not control the text: aiogram puts the bot token in the URL
path, requests and aiohttp print URLs in their exception messages, a Redis or database URL
carries its password. So masking happens where every log record is born (the record factory,
which no later `dictConfig` such as arq's CLI replaces), covering the message, the formatted
traceback and `stack_info`; and the hooks that print uncaught exceptions (main thread, other
threads, "exception ignored" reports) print masked tracebacks too. asyncio's "exception was
never retrieved" reports are log records, so they pass through the factory.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote

from pydantic import SecretStr

MASK = "***"
REASON_LIMIT = 300

_raw_secrets: set[str] = set()
_secrets: list[str] = []  # every form of every guarded secret, longest first
_plain_factory = logging.getLogRecordFactory()


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every known secret (or the given ones) replaced by the mask."""
    for secret in _secrets if secrets is None else _forms(secrets):
        text = text.replace(secret, MASK)
    return text


def safe_reason(text: str, limit: int = REASON_LIMIT) -> str:
    """A reason fit to store and show: secrets masked, one line, at most `limit` characters.

    Exception texts can be huge (an SQL error quotes its whole statement and parameters).
    """
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as written and as percent-encoded in URLs, longest first."""
    forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""))}
    return sorted(forms, key=len, reverse=True)


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call; logging reports it, but without the secret
        message = f"{record.msg!r} {record.args!r}"
    masked = redact(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _masking_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _plain_factory(*args, **kwargs)
    if _secrets:
        _mask_record(record)
    return record


def _print_masked(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread else "?"
    sys.stderr.write(f"Exception in thread {name}:\n")
    _print_masked(args.exc_type, args.exc_value, args.exc_traceback)


def _unraisable_hook(args: sys.UnraisableHookArgs) -> None:
    sys.stderr.write(redact(f"{args.err_msg or 'Exception ignored in'}: {args.object!r}\n"))
    if args.exc_value is not None:
        _print_masked(args.exc_type, args.exc_value, args.exc_traceback)


def guard_secrets(secrets: Iterable[SecretStr | str | None]) -> None:
    """Mask these secrets in every log record and uncaught-exception report of the process.

    Idempotent and cumulative: each entry point calls it as early as it knows its settings.
    """
    values = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets]
    _raw_secrets.update(v for v in values if v)
    _secrets[:] = _forms(_raw_secrets)
    logging.setLogRecordFactory(_masking_factory)
    sys.excepthook = _print_masked
    threading.excepthook = _thread_hook
    sys.unraisablehook = _unraisable_hook


def setup_logging(level: str, secrets: Iterable[SecretStr | str | None]) -> None:
    """Configure the root logger once, with the secrets guarded."""
    guard_secrets(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # arq's own loggers are chatty at INFO but useful; aiohttp access logs are noise.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
