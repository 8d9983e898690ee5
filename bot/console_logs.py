"""Console logging: the whole log in a file under the data directory, a line per problem on screen.

The terminal is the chat in console mode, so operator detail (tracebacks, INFO chatter) would
bury the answers; it goes to the file, where an operator looks for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr

from core.logs import guard_secrets

FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """Level, logger and the first line of the message: never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().splitlines() or [""]
        return f"{record.levelname} {record.name}: {lines[0]}"


def is_reported_job_failure(record: logging.LogRecord) -> bool:
    """arq's record of a failed job: the chat already tells the user why it failed."""
    return record.name == "arq.worker" and bool(record.exc_info or record.exc_text)


def setup_console_logging(
    log_file: Path, level: str, secrets: Iterable[SecretStr | str | None]
) -> None:
    """Everything at `level` to `log_file`; WARNING and above to the terminal as one line."""
    guard_secrets(secrets)  # masks every record where it is born, for both handlers
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(logging.Formatter(FILE_FORMAT))
    to_terminal = logging.StreamHandler()
    to_terminal.setLevel(logging.WARNING)
    to_terminal.setFormatter(OneLineFormatter())
    to_terminal.addFilter(lambda record: not is_reported_job_failure(record))
    root = logging.getLogger()
    root.handlers[:] = [to_file, to_terminal]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
