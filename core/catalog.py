"""The job catalog: every job the product runs, in one place.

The worker registers a function per entry, the bot turns entries with a `command` into chat
commands, and later the scheduler and the REST API read the same entries. Adding a job is: write
the function in `worker.jobs`, add one `JobSpec` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from babel.numbers import format_decimal
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.groups import normalize_group
from core.i18n import N_, _, current_language, ngettext

# Argument names as the usage lines and error messages show them (through `_()`).
ARG_NAMES = {
    "group": N_("group"),
    "limit": N_("limit"),
    "days": N_("days"),
    "n": N_("n"),
    "text": N_("text"),
}

# A community as people write it, stored in its normal form ("12345" or a screen name).
GroupRef = Annotated[str, AfterValidator(normalize_group)]


class JobArgs(BaseModel):
    """Base of every argument model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


class BatchArgs(JobArgs):
    group: GroupRef = Field(description="the community")
    days: int | None = Field(None, ge=1, le=3650, description="only comments of the last N days")
    comment_ids: list[int] | None = Field(None, description="only these comments")


class ChunkArgs(JobArgs):
    """A slice of a batch: comment keys (post_id, comment_id) of one community."""

    owner_id: int
    keys: list[tuple[int, int]] = Field(min_length=1)


class NotificationArgs(JobArgs):
    chat_id: int
    text: str = Field(min_length=1, max_length=4096)
    job_id: str | None = Field(None, description="the job this notification closes")


def _describe_parse(result: dict[str, Any]) -> str:
    """The parse's counters, each with one meaning that adds up across runs (see `Totals`)."""
    group = result.get("group_name") or result.get("group_id") or ""
    new, edited = int(result.get("comments_new", 0)), int(result.get("comments_updated", 0))
    deleted = int(result.get("comments_deleted", 0))
    lines = [
        ", ".join(
            [
                ngettext("{n} new comment", "{n} new comments", new),
                ngettext("{n} edited", "{n} edited", edited),
                ngettext("{n} deleted on VK", "{n} deleted on VK", deleted),
            ]
        )
    ]
    if "comments_total" in result:
        total = int(result["comments_total"])
        lines.append(
            ngettext(
                "{n} comment of this community is stored in total.",
                "{n} comments of this community are stored in total.",
                total,
            )
        )
    lines.append(_posts_line(result))
    if not (new or edited or deleted):
        lines.append(_why_nothing_new(result))
    if result.get("stopped_reason"):
        lines.append(_("Stopped early: {reason}.", reason=result["stopped_reason"]))
    if result.get("analysis_job"):
        lines.append(
            _("The new comments are being analysed: job {job_id}.", job_id=result["analysis_job"])
        )
    return f"{group}\n" + "\n".join(lines) if group else "\n".join(lines)


def _posts_line(result: dict[str, Any]) -> str:
    read, unchanged = int(result.get("posts_scanned", 0)), int(result.get("posts_unchanged", 0))
    skipped = int(result.get("posts_skipped", 0))
    parts = [ngettext("{n} post read", "{n} posts read", read)]
    if unchanged:
        parts.append(
            ngettext(
                "{n} unchanged since the last parse",
                "{n} unchanged since the last parse",
                unchanged,
            )
        )
    if skipped:
        parts.append(
            ngettext(
                "{n} skipped (comments closed or private)",
                "{n} skipped (comments closed or private)",
                skipped,
            )
        )
    text = ", ".join(parts)
    if "duration_s" in result:
        seconds = format_decimal(round(float(result["duration_s"]), 1), locale=current_language())
        text += _(", in {seconds} s", seconds=seconds)
    return text + "."


def _why_nothing_new(result: dict[str, Any]) -> str:
    """The reason a parse brought nothing: an empty result always says why."""
    read, unchanged = int(result.get("posts_scanned", 0)), int(result.get("posts_unchanged", 0))
    days = result.get("days")
    if not read and not unchanged:
        if days:
            return ngettext(
                "Nothing new: the wall has no posts from the last {n} day.",
                "Nothing new: the wall has no posts from the last {n} days.",
                int(days),
            )
        return _("Nothing new: the wall has no posts.")
    if not read:
        return _("Nothing new: no post has new comments since the last parse.")
    return _("Nothing new: the posts read have no new comments.")


def _describe_tokens(result: dict[str, Any]) -> str:
    lines = [f"{form} → {lemma} ({pos})" for form, lemma, pos in result.get("tokens", [])]
    return "\n" + "\n".join(lines) if lines else "no words found"


def _describe_keywords(result: dict[str, Any]) -> str:
    items = result.get("keywords", [])
    head = f"{result.get('group_name') or result.get('group_id')}: keywords of "
    head += f"{result.get('comments', 0)} comments"
    if not items:
        return head + ": none yet (too few analysed comments)"
    lines = [f"{i}. {term} ({count})" for i, (term, _score, count) in enumerate(items, 1)]
    return head + "\n" + "\n".join(lines)


def _describe_batch(result: dict[str, Any]) -> str:
    return (
        f"{result.get('comments_analyzed', 0)} comments analysed "
        f"({result.get('tokens', 0)} terms) in {result.get('chunks', 1)} part(s), "
        f"{result.get('duration_s', 0):.1f} s"
    )


def _describe_notification(result: dict[str, Any]) -> str:
    return _("sent") if result.get("sent") else _("already sent earlier")


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
    notify: bool = True
    card: bool = True  # a progress message with buttons; quick jobs just answer at the end
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
            describe=_describe_parse,
            command="parse",
            usage=N_("/parse <group> [limit] [days]"),
            dedupe=lambda args: f"parse:{args.group}",
            timeout=6 * 3600,
            progress_unit="posts",
        ),
        JobSpec(
            name="analyze_text_morphology",
            args=AnalyzeTextArgs,
            title=N_("Text analysis"),
            describe=_describe_tokens,
            card=False,
            timeout=60,
        ),
        JobSpec(
            name="extract_keywords",
            args=KeywordsArgs,
            title=N_("Keyword search"),
            describe=_describe_keywords,
            command="keywords",
            usage=N_("/keywords <group> [n] [days]"),
            card=False,
            timeout=1800,
        ),
        JobSpec(
            name="process_batch_comments",
            args=BatchArgs,
            title=N_("Comment analysis"),
            describe=_describe_batch,
            dedupe=lambda args: f"analyze:{args.group}",
            timeout=6 * 3600,
        ),
        JobSpec(
            name="analyze_comment_chunk",
            args=ChunkArgs,
            title=N_("Part of a comment analysis"),
            describe=_describe_batch,
            admin_only=True,
            notify=False,
            timeout=1800,
        ),
        JobSpec(
            name="send_notification",
            args=NotificationArgs,
            title=N_("Chat message"),
            describe=_describe_notification,
            admin_only=True,
            notify=False,
            max_tries=8,
        ),
    )
}

COMMANDS: dict[str, JobSpec] = {spec.command: spec for spec in CATALOG.values() if spec.command}
