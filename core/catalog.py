"""The job catalog: every job the product runs, in one place.

The worker registers a function per entry, the bot turns entries with a `command` into chat
commands, and later the scheduler and the REST API read the same entries. Adding a job is: write
the function in `worker.jobs`, add one `JobSpec` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.groups import normalize_group


class JobArgs(BaseModel):
    """Base of every argument model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParseArgs(JobArgs):
    group: str = Field(description="the community")
    limit: int | None = Field(
        None, ge=1, validate_default=True, description="how many comments at most"
    )
    days: int | None = Field(None, ge=1, le=3650, description="only posts of the last N days")

    @field_validator("group")
    @classmethod
    def _group(cls, value: str) -> str:
        return normalize_group(value)

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
    return text


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
    notify: bool = True
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
            timeout=6 * 3600,
        ),
        JobSpec(
            name="send_notification",
            args=NotificationArgs,
            title="Send a message to a chat",
            describe=_describe_notification,
            admin_only=True,
            notify=False,
            max_tries=8,
        ),
    )
}

COMMANDS: dict[str, JobSpec] = {spec.command: spec for spec in CATALOG.values() if spec.command}


def get_spec(name: str) -> JobSpec:
    return CATALOG[name]
