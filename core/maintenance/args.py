"""Arguments of the maintenance jobs. Every one is optional: the scheduler enqueues them bare."""

from __future__ import annotations

from pydantic import Field

from core.jobargs import JobArgs

MAX_RETENTION_DAYS = 36500


class CleanupArgs(JobArgs):
    days: int | None = Field(
        None,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="delete comments older than N days; none: RETENTION_DAYS",
    )


class BackupArgs(JobArgs):
    send: bool = Field(
        False,
        description="also send the file to the job's chat, if it is a private chat and the "
        "file is under UPLOAD_LIMIT_BYTES",
    )
