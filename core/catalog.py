"""The job catalog: every job the product runs, in one place.

The worker registers a function per entry, the bot turns entries with a `command` into chat
commands, and the scheduler and the REST API read the same entries. Adding a job is: write
the function in `worker.jobs`, add one `JobSpec` here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from core.describe import (
    describe_batch,
    describe_digest,
    describe_keywords,
    describe_notification,
    describe_parse,
    describe_tokens,
    describe_watch,
)
from core.groups import normalize_group
from core.i18n import N_, _
from core.jobargs import JobArgs as JobArgs
from core.maintenance.args import BackupArgs, CleanupArgs
from core.maintenance.texts import describe_backup, describe_cleanup
from core.reports.describe import describe_report, describe_stats, describe_update

# Argument names as the usage lines, error messages and job lists show them (through `_()`):
# every field of every job's arguments, since the API takes them all (a test checks).
ARG_NAMES = {
    "group": N_("group"),
    "limit": N_("limit"),
    "days": N_("days"),
    "n": N_("n"),
    "text": N_("text"),
    "comment_ids": N_("comment_ids"),
    "send": N_("send"),
    "chat_id": N_("chat_id"),
    "job_id": N_("job_id"),
    "owner_id": N_("owner_id"),
    "since": N_("since"),
    "start": N_("start"),
    "end": N_("end"),
}

# A community as people write it, stored in its normal form ("12345" or a screen name).
GroupRef = Annotated[str, AfterValidator(normalize_group)]


class ParseArgs(JobArgs):
    group: GroupRef = Field(description="the community")
    limit: int | None = Field(
        None, ge=1, validate_default=True, description="how many comments at most"
    )
    days: int | None = Field(None, ge=1, le=3650, description="only posts of the last N days")

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: int | None, info: ValidationInfo) -> int | None:
        context = info.context or {}
        if value is None:
            return context.get("default_limit")
        ceiling = context.get("max_limit")
        if ceiling is not None and value > ceiling:
            raise ValueError(
                _("{field} must be at most {limit}", field=_(ARG_NAMES["limit"]), limit=ceiling)
            )
        return value


class AnalyzeTextArgs(JobArgs):
    text: str = Field(min_length=1, max_length=4000, description="the text")


class KeywordsArgs(JobArgs):
    group: GroupRef = Field(description="the community")
    n: int = Field(20, ge=1, le=100, description="how many keywords")
    days: int | None = Field(None, ge=1, le=3650, description="only comments of the last N days")


# How many VK comments one analysis may name: they are analysed in one go, not in parts.
MAX_COMMENT_IDS = 1000
# A VK comment id within its community (a 64-bit column: larger could not be stored anyway).
CommentId = Annotated[int, Field(ge=1, lt=2**63)]


def _distinct_sorted(ids: list[int] | None) -> list[int] | None:
    return sorted(set(ids)) if ids is not None else None


class BatchArgs(JobArgs):
    group: GroupRef = Field(description="the community")
    days: int | None = Field(None, ge=1, le=3650, description="only comments of the last N days")
    comment_ids: Annotated[list[CommentId] | None, AfterValidator(_distinct_sorted)] = Field(
        None,
        min_length=1,
        max_length=MAX_COMMENT_IDS,
        description=f"only these VK comment ids of the community (at most {MAX_COMMENT_IDS})",
    )

    @model_validator(mode="after")
    def _one_selection(self) -> BatchArgs:
        if self.days is not None and self.comment_ids is not None:
            raise ValueError(_("name either days or comment ids, not both"))
        return self


def _batch_dedupe(args: BatchArgs) -> str:
    """One analysis of a whole community at a time; one of the same named comments at a time."""
    if args.comment_ids is None:
        return f"analyze:{args.group}"
    digest = hashlib.sha256(",".join(map(str, args.comment_ids)).encode()).hexdigest()[:16]
    return f"analyze:{args.group}:ids:{digest}"


class ChunkArgs(JobArgs):
    """A part of a batch: one community's comments with keys (post_id, comment_id) in
    [start, end), a few numbers however many comments the part holds."""

    owner_id: int
    since: datetime | None = None
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


class ReportArgs(JobArgs):
    group: GroupRef | None = Field(None, description="the community; none: all of them")
    days: int = Field(30, ge=1, le=3650, description="the last N days")


class StatsArgs(JobArgs):
    group: GroupRef | None = Field(None, description="the community; none: all of them")


class StatisticsArgs(JobArgs):
    """From a chat, a parse or a schedule: by default only days changed since the last run."""

    group: GroupRef | None = Field(None, description="the community; none: all of them")
    days: int | None = Field(
        None, ge=1, le=3650, description="also recount every day of the last N days"
    )


class DigestArgs(JobArgs):
    """The digest has no arguments: it speaks of the last day, to the configured chats."""


class WatchArgs(JobArgs):
    """A watch's parse: the community, and the chat that hears of new comments."""

    group: GroupRef = Field(description="the community")
    chat_id: int = Field(description="the chat that set the watch")


class NotificationArgs(JobArgs):
    chat_id: int
    text: str = Field(min_length=1, max_length=4096)
    job_id: str | None = Field(None, description="the job this notification closes")


@dataclass(frozen=True)
class JobSpec:
    """One job: its function's name, argument model, who may run it, how its result reads.

    `title` and `usage` are English source texts marked with `N_`: show them through `_()`.
    """

    name: str
    args: type[JobArgs]
    title: str
    describe: Callable[[dict[str, Any]], str]
    admin_only: bool = False
    command: str | None = None
    usage: str = ""
    dedupe: Callable[[Any], str] | None = None
    # A job closes in the chat that started it; without a chat, a failure goes to NOTIFY_CHAT_ID
    # unless this is False (the closing message's own job: it must not report on itself).
    notify: bool = True
    card: bool = True  # a progress message with buttons; quick jobs just answer at the end
    # Seconds per try, matched to the job's work. A dead worker's job does not wait for it:
    # the sweeper re-queues it within WORKER_LOST_AFTER + SWEEP_INTERVAL.
    timeout: int | None = None
    max_tries: int | None = None
    progress_unit: str = "parts"  # what "done of total" counts: "posts" or "parts"


CATALOG: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            name="parse_vk_comments",
            args=ParseArgs,
            title=N_("Comment collection"),
            describe=describe_parse,
            command="parse",
            usage=N_("/parse <group> [limit] [days]"),
            dedupe=lambda args: f"parse:{args.group}",
            # PARSE_MAX_LIMIT comments take ~10 min alone at 3 rps; parses share the pace.
            timeout=2 * 3600,
            progress_unit="posts",
        ),
        JobSpec(
            name="analyze_text_morphology",
            args=AnalyzeTextArgs,
            title=N_("Text analysis"),
            describe=describe_tokens,
            card=False,
            timeout=60,
        ),
        JobSpec(
            name="extract_keywords",
            args=KeywordsArgs,
            title=N_("Keyword search"),
            describe=describe_keywords,
            command="keywords",
            usage=N_("/keywords <group> [n] [days]"),
            card=False,
            timeout=900,
        ),
        JobSpec(
            name="process_batch_comments",
            args=BatchArgs,
            title=N_("Comment analysis"),
            describe=describe_batch,
            dedupe=_batch_dedupe,
            # Each try is short: it queues the parts or looks at them and retries later. Every
            # look spends a try, so there are enough for a day of looks; tries that die are
            # bounded separately (worker.jobs.analysis._count_start).
            timeout=1800,
            max_tries=10_000,
        ),
        JobSpec(
            name="analyze_comment_chunk",
            args=ChunkArgs,
            title=N_("Part of a comment analysis"),
            describe=describe_batch,
            admin_only=True,
            timeout=600,
        ),
        JobSpec(
            name="generate_report",
            args=ReportArgs,
            title=N_("Report"),
            describe=describe_report,
            command="report",
            usage=N_("/report [group] [days]"),
            card=False,
            timeout=3600,
        ),
        JobSpec(
            name="show_statistics",
            args=StatsArgs,
            title=N_("Statistics"),
            describe=describe_stats,
            command="stats",
            usage=N_("/stats [group]"),
            card=False,
            timeout=600,
        ),
        JobSpec(
            name="update_statistics",
            args=StatisticsArgs,
            title=N_("Statistics recount"),
            describe=describe_update,
            admin_only=True,
            dedupe=lambda args: f"statistics:{args.group or '*'}:{args.days or 0}",
            notify=False,
            timeout=3600,
        ),
        JobSpec(
            name="cleanup_old_data",
            args=CleanupArgs,
            title=N_("Old data cleanup"),
            describe=describe_cleanup,
            admin_only=True,
            dedupe=lambda args: "cleanup",
            timeout=2 * 3600,
        ),
        JobSpec(
            name="backup_database",
            args=BackupArgs,
            title=N_("Database backup"),
            describe=describe_backup,
            admin_only=True,
            dedupe=lambda args: "backup",
            timeout=2 * 3600,
        ),
        JobSpec(
            name="send_digest",
            args=DigestArgs,
            title=N_("Daily digest"),
            describe=describe_digest,
            admin_only=True,
            card=False,
            timeout=1800,
        ),
        JobSpec(
            name="watch_vk_comments",
            args=WatchArgs,
            title=N_("Watched community check"),
            describe=describe_watch,
            admin_only=True,
            # A watch's parse and a person's /parse of the community share one dedupe key:
            # one parse of a community at a time, whoever started it.
            dedupe=lambda args: f"parse:{args.group}",
            timeout=2 * 3600,
            progress_unit="posts",
        ),
        JobSpec(
            name="send_notification",
            args=NotificationArgs,
            title=N_("Chat message"),
            describe=describe_notification,
            admin_only=True,
            notify=False,
            timeout=60,
            max_tries=8,
        ),
    )
}

COMMANDS: dict[str, JobSpec] = {spec.command: spec for spec in CATALOG.values() if spec.command}
