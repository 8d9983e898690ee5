"""The end of a long-running process: the bot, the API, the console."""

from __future__ import annotations

import gc


def skip_final_collection() -> None:
    """Called once the process has stopped serving, just before it exits.

    The interpreter's last full garbage collection walks every object left (aiogram's and
    pydantic's hundreds of thousands: about 1 s, more on a busy machine) although nothing left
    needs it; frozen objects are skipped, so a stopped process exits at once (a test's or
    Docker's stop waits for it).
    """
    gc.freeze()
