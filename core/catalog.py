"""The job catalog: every job the product runs, in one place.

The worker registers a function per entry, the bot turns entries with a `command` into chat
commands, and later the scheduler and the REST API read the same entries. Adding a job is: write
the function in `worker.jobs`, add one `JobSpec` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.groups import normalize_group

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
        if ceiling is not None and ceiling is not None and value > ceiling:
            raise ValueError(f"must be at most {ceiling}")
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
    parts = [
        f"{result.get('comments_parsed', 0)} comments parsed",
        f"{result.get('comments_saved', 0)} saved",
    ]
    if "comments_new" in result:
        parts.append(f"{result['comments_new']} new")
    parts.append(f"{result.get('posts_scanned', 0)} posts scanned")
    if result.get("posts_unchanged"):
        parts.append(f"{result['posts_unchanged']} posts unchanged since the last parse")
    if result.get("posts_skipped"):
        parts.append(f"posts skipped (comments closed or private): {result['posts_skipped']}")
    text = ", ".join(parts)
    group = result.get("group_name") or result.get("group_id")
    if group:
        text = f"{group}: {text}"
    if "duration_s" in result:
        text += f" in {result['duration_s']:.1f} s"
    if result.get("stopped_reason"):
        text += f". Stopped early: {result['stopped_reason']}"
    if result.get("analysis_job"):
        text += f". Analysis of the new comments: job {result['analysis_job']}"
    return text


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
    return "sent" if result.get("sent") else "already sent earlier"


@dataclass(frozen=True)
class JobSpec:
    """One job: its function's name, argument model, who may run it, how its result reads."""

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


CATALOG: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            name="parse_vk_comments",
            args=ParseArgs,
            title="Parse the comments of a VK community wall",
            describe=_describe_parse,
            command="parse",
            usage="/parse <group> [limit] [days]",
            dedupe=lambda args: f"parse:{args.group}",
            # PARSE_MAX_LIMIT comments take ~10 min alone at 3 rps; parses share the pace.
            timeout=2 * 3600,
        ),
        JobSpec(
            name="analyze_text_morphology",
            args=AnalyzeTextArgs,
            title="Lemmas and parts of speech of a text",
            describe=_describe_tokens,
            card=False,
            timeout=60,
        ),
        JobSpec(
            name="extract_keywords",
            args=KeywordsArgs,
            title="Top keywords of a community",
            describe=_describe_keywords,
            command="keywords",
            usage="/keywords <group> [n] [days]",
            card=False,
            timeout=900,
        ),
        JobSpec(
            name="process_batch_comments",
            args=BatchArgs,
            title="Analyse a community's stored comments",
            describe=_describe_batch,
            dedupe=lambda args: f"analyze:{args.group}",
            timeout=2 * 3600,
        ),
        JobSpec(
            name="analyze_comment_chunk",
            args=ChunkArgs,
            title="Analyse one part of a batch",
            describe=_describe_batch,
            admin_only=True,
            timeout=600,
        ),
        JobSpec(
            name="send_notification",
            args=NotificationArgs,
            title="Send a message to a chat",
            describe=_describe_notification,
            admin_only=True,
            notify=False,
            timeout=60,
            max_tries=8,
        ),
    )
}

COMMANDS: dict[str, JobSpec] = {spec.command: spec for spec in CATALOG.values() if spec.command}
