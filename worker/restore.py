"""`python -m worker restore <file> [--force]`: the command line around
`core.maintenance.restore`, saying in one line what it did or why it did not."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.logs import guard_secrets, safe_reason
from core.maintenance.backup import BackupError
from core.maintenance.restore import restore, running_workers
from core.redis_client import connect
from core.settings import Settings, load_settings


async def _workers(settings: Settings) -> list[str] | str:
    """The running workers, or why they could not be asked for."""
    redis = await connect(settings)
    try:
        return await running_workers(redis)
    except Exception as error:  # any failure to ask means: we cannot tell
        return safe_reason(f"{type(error).__name__}: {error}")
    finally:
        await redis.aclose()


def run_restore(file: str, *, force: bool) -> int:
    """0 restored; 1 refused or failed (one line on stderr)."""
    settings = load_settings()
    guard_secrets(settings.secrets())
    if not force:
        workers = asyncio.run(_workers(settings))
        if isinstance(workers, str):
            print(
                f"restore refused: cannot tell whether workers are running (REDIS_URL: "
                f"{workers}); stop them and add --force",
                file=sys.stderr,
            )
            return 1
        if workers:
            print(
                f"restore refused: {len(workers)} worker(s) running ({', '.join(workers)}); "
                "stop the workers and the bot first, or add --force",
                file=sys.stderr,
            )
            return 1
    try:
        asyncio.run(restore(settings.db_url, Path(file)))
    except BackupError as error:
        print(f"restore failed: {error}", file=sys.stderr)
        return 1
    print(f"restored {file}; the processes migrate it to this version when they start")
    return 0
