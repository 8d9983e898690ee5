"""Queueing a recount of the daily statistics after work that changed comments."""

from __future__ import annotations

from typing import Any

from core.catalog import CATALOG, StatisticsArgs
from core.queue import JobQueue


async def recount_statistics(ctx: dict[str, Any], group_id: int) -> None:
    """Queue `update_statistics` for a community whose comments or analysis just changed.

    One recount per community at a time; a day marked after a running one read the marks
    keeps its mark for the next run, and reports and /stats recount marked days first anyway.
    """
    queue = JobQueue(ctx["redis"], ctx["sessions"], ctx["settings"])
    args = StatisticsArgs(group=str(group_id))
    await queue.submit(
        CATALOG["update_statistics"], args, user_id=None, chat_id=None, language=None
    )
